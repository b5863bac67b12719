//! Packed upload totals: one BLOB holds every (key id, bytes) pair of one minute (table
//! `minutes`) or one day (table `day_totals`), so a minute of 200 programs is one row to write
//! instead of 200. Layout: pairs sorted by key id, each as two LEB128 varints (key id as the
//! difference from the previous key id, then bytes). About 4 bytes per pair.
//!
//! Decoding never panics: a damaged blob (a file edited by hand, a torn disk) yields the pairs
//! before the damage.

use std::collections::BTreeMap;

/// Totals keyed by `upload_keys.id`.
pub type Totals = BTreeMap<i64, u64>;

/// Encodes `totals` (key ids must be ≥ 0; others are skipped).
pub fn encode(totals: &Totals) -> Vec<u8> {
    let mut out = Vec::with_capacity(totals.len() * 5);
    let mut prev = 0u64;
    for (&key, &bytes) in totals {
        let Ok(key) = u64::try_from(key) else { continue };
        put(&mut out, key - prev);
        put(&mut out, bytes);
        prev = key;
    }
    out
}

/// The (key, bytes) pairs summed by key (saturating).
pub fn summed(mut pairs: Vec<(i64, u64)>) -> Totals {
    pairs.sort_unstable_by_key(|p| p.0);
    pairs.dedup_by(|later, kept| {
        let same = later.0 == kept.0;
        if same {
            kept.1 = kept.1.saturating_add(later.1);
        }
        same
    });
    // Sorted and unique: built in one pass.
    pairs.into_iter().collect()
}

/// Adds the pairs of `blob` to `into` (saturating).
pub fn add_into(blob: &[u8], into: &mut Totals) {
    for (key, bytes) in pairs(blob) {
        let slot = into.entry(key).or_default();
        *slot = slot.saturating_add(bytes);
    }
}

/// The pairs of `blob`, in key order, up to the first damaged byte.
pub fn pairs(blob: &[u8]) -> impl Iterator<Item = (i64, u64)> + '_ {
    let mut at = 0usize;
    let mut key = 0u64;
    std::iter::from_fn(move || {
        let delta = get(blob, &mut at)?;
        let bytes = get(blob, &mut at)?;
        key = key.checked_add(delta)?;
        Some((i64::try_from(key).ok()?, bytes))
    })
}

fn put(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get(blob: &[u8], at: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *blob.get(*at)?;
        *at += 1;
        v |= u64::from(b & 0x7f).checked_shl(shift)?;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn empty_and_small() {
        assert!(encode(&Totals::new()).is_empty());
        let t: Totals = [(0, 0), (3, 127), (4, 128), (1000, u64::MAX)].into_iter().collect();
        let blob = encode(&t);
        assert_eq!(pairs(&blob).collect::<Totals>(), t);
    }

    #[test]
    fn damaged_blobs_give_what_precedes_the_damage() {
        let t: Totals = [(1, 10), (2, 20)].into_iter().collect();
        let mut blob = encode(&t);
        blob.push(0x80); // a varint that never ends
        assert_eq!(pairs(&blob).collect::<Totals>(), t);
        assert_eq!(pairs(&[0xff; 20]).count(), 0);
    }

    #[test]
    fn summing_pairs_adds_equal_keys() {
        let t = summed(vec![(3, 1), (1, 2), (3, u64::MAX), (2, 0)]);
        assert_eq!(t, [(1, 2), (2, 0), (3, u64::MAX)].into_iter().collect());
    }

    #[test]
    fn adding_sums_and_saturates() {
        let mut into: Totals = [(1, 5), (2, u64::MAX - 1)].into_iter().collect();
        add_into(&encode(&[(2, 10), (3, 7)].into_iter().collect()), &mut into);
        assert_eq!(into, [(1, 5), (2, u64::MAX), (3, 7)].into_iter().collect());
    }

    proptest! {
        #[test]
        fn round_trips(t in proptest::collection::btree_map(0i64..i64::MAX, any::<u64>(), 0..300)) {
            prop_assert_eq!(pairs(&encode(&t)).collect::<Totals>(), t);
        }

        #[test]
        fn any_bytes_decode_without_panic(blob in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut prev = -1;
            for (k, _) in pairs(&blob) {
                prop_assert!(k >= prev);
                prev = k;
            }
        }
    }
}
