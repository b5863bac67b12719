//! A hash map with a fixed capacity that makes room by evicting a least recently used entry,
//! chosen with the CLOCK (second chance) algorithm: the bound on every per-key table fed by the
//! network (flows, detection tracks, learned names), so that a port scan or a flood of tiny
//! flows cannot exhaust memory.
//!
//! Entries live in a slab of at most `capacity` slots; a hash index maps keys to slots. Each
//! use of an entry sets its *referenced* bit. When the map is full, a hand sweeps the slots in a
//! circle: a referenced entry loses its bit and is passed over, the first unreferenced one (that
//! the caller agrees to give up) is evicted and its slot reused for the new key. Each bit set is
//! cleared at most once, so an insertion costs amortised O(1), with no scan of the table, no
//! allocation once the slab is full (an evicted value can be recycled in place, keeping its
//! buffers) and no timestamps to compare.
//!
//! Memory is reserved up front (virtual: pages are touched only as entries arrive), so the map
//! never grows by reallocation: a table that fills costs `capacity` slots plus an index of the
//! next power of two ≥ 16/7 × `capacity` buckets, and not a byte more. The index is kept at most
//! half full: at a higher load, the tombstones that removals leave make the hash table double
//! itself sooner or later anyway (measured: a full 7/8 index resized under a flood), with the
//! old and the new table both alive while it does.
//!
//! The index holds slot numbers only (4 bytes a bucket; the key is compared in its slot). New
//! keys land in random buckets and removals leave tombstones, so with a steady churn of
//! short-lived keys every page of the index becomes resident sooner or later, however few
//! entries are live: an index of (key, slot) pairs made a live capture's memory creep up by
//! 12 MiB over an hour of short connections (`bench/soak.sh`, 2026-11-28) until all its pages
//! were touched; slot numbers alone keep that under 1.3 MiB for the default flow table.

use ahash::RandomState;
use hashbrown::HashTable;
use std::cell::Cell;
use std::hash::Hash;

struct Slot<K, V> {
    key: K,
    /// `Some` in every live slot; a free slot keeps its last value for recycling.
    value: Option<V>,
    live: bool,
    referenced: Cell<bool>,
}

/// A hash map of at most `capacity` entries with CLOCK eviction (see the module doc).
pub struct BoundedMap<K, V> {
    /// Slot numbers, hashed by their slot's key.
    index: HashTable<u32>,
    hasher: RandomState,
    slots: Vec<Slot<K, V>>,
    /// Slots freed by [`remove`](Self::remove) or [`retain`](Self::retain).
    free: Vec<u32>,
    hand: usize,
    capacity: usize,
    evicted: u64,
    peak: usize,
}

/// A slot's position, stable while its entry lives (see [`BoundedMap::at_mut`]).
pub type SlotId = u32;

impl<K: Copy + Eq + Hash, V> BoundedMap<K, V> {
    /// An empty map that holds at most `capacity` entries (at least 1).
    pub fn new(capacity: usize) -> BoundedMap<K, V> {
        let capacity = capacity.clamp(1, u32::MAX as usize);
        BoundedMap {
            index: HashTable::with_capacity(capacity * 2),
            hasher: RandomState::new(),
            slots: Vec::with_capacity(capacity),
            free: Vec::new(),
            hand: 0,
            capacity,
            evicted: 0,
            peak: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Most entries held at once so far.
    pub fn peak(&self) -> usize {
        self.peak
    }

    /// Entries evicted so far to make room for new ones (not those removed by the caller).
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// Bytes reserved for a full map: slots, index buckets and control bytes (the values' own
    /// heap buffers not included).
    pub fn bytes_when_full(capacity: usize) -> usize {
        let buckets = (capacity.max(1) * 16).div_ceil(7).next_power_of_two();
        capacity * size_of::<Slot<K, V>>() + buckets * (size_of::<u32>() + 1)
    }

    /// The slot of `key`, if present (not marked as used).
    fn find(&self, key: &K) -> Option<u32> {
        let slots = &self.slots;
        self.index.find(self.hasher.hash_one(key), |&i| slots[i as usize].key == *key).copied()
    }

    /// Takes `key`'s entry out of the index; its slot, if it was there.
    fn unindex(&mut self, key: &K) -> Option<u32> {
        let slots = &self.slots;
        let entry = self.index.find_entry(self.hasher.hash_one(key), |&i| slots[i as usize].key == *key).ok()?;
        Some(entry.remove().0)
    }

    /// Indexes slot `i` under the key it holds (which must not be indexed yet).
    fn index_slot(&mut self, i: u32) {
        let (slots, hasher) = (&self.slots, &self.hasher);
        let hash = hasher.hash_one(slots[i as usize].key);
        self.index.insert_unique(hash, i, |&j| hasher.hash_one(slots[j as usize].key));
    }

    /// The entry for `key`, marked as used.
    pub fn get(&self, key: &K) -> Option<&V> {
        let s = &self.slots[self.find(key)? as usize];
        s.referenced.set(true);
        s.value.as_ref()
    }

    /// The entry for `key`, mutable, marked as used.
    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        let i = self.find(key)?;
        self.at_mut(i).map(|(_, v)| v)
    }

    /// The slot of `key`, marked as used.
    pub fn slot_of(&self, key: &K) -> Option<SlotId> {
        let i = self.find(key)?;
        self.slots[i as usize].referenced.set(true);
        Some(i)
    }

    /// The live entry in slot `i`, marked as used.
    pub fn at_mut(&mut self, i: SlotId) -> Option<(K, &mut V)> {
        let s = self.slots.get_mut(i as usize).filter(|s| s.live)?;
        s.referenced.set(true);
        let key = s.key;
        s.value.as_mut().map(|v| (key, v))
    }

    /// The value in slot `i`, live or freed (not marked as used): for state that belongs to the
    /// slot rather than to its entry. `None` for a slot never used.
    pub fn slot_value_mut(&mut self, i: SlotId) -> Option<(bool, K, &mut V)> {
        let s = self.slots.get_mut(i as usize)?;
        let (live, key) = (s.live, s.key);
        s.value.as_mut().map(|v| (live, key, v))
    }

    /// Two distinct live entries at once.
    pub fn pair_mut(&mut self, a: SlotId, b: SlotId) -> Option<(&mut V, &mut V)> {
        let (a, b) = (a as usize, b as usize);
        if a == b || !self.slots.get(a)?.live || !self.slots.get(b)?.live {
            return None;
        }
        let (lo, hi) = (a.min(b), a.max(b));
        let (left, right) = self.slots.split_at_mut(hi);
        let (x, y) = (left[lo].value.as_mut()?, right[0].value.as_mut()?);
        Some(if a < b { (x, y) } else { (y, x) })
    }

    /// The entry for `key` (marked as used), or a new one. When the map is full a victim is
    /// evicted first: the CLOCK hand passes over entries used since its last visit and over
    /// those `evictable` refuses (after two full turns it takes the one under the hand anyway);
    /// `evicted` sees the victim before its slot is reused. `make` builds the new value, given
    /// the previous value of a reused slot to recycle. Returns the slot, the value and whether
    /// it is new.
    pub fn get_or_insert_with(
        &mut self,
        key: K,
        evictable: impl FnMut(&K, &V) -> bool,
        evicted: impl FnOnce(&K, &V),
        make: impl FnOnce(Option<V>) -> V,
    ) -> (SlotId, &mut V, bool) {
        if let Some(i) = self.find(&key) {
            let s = &mut self.slots[i as usize];
            s.referenced.set(true);
            return (i, s.value.as_mut().expect("a live slot has a value"), false);
        }
        let i = if let Some(i) = self.free.pop() {
            i as usize
        } else if self.slots.len() < self.capacity {
            self.slots.push(Slot { key, value: None, live: false, referenced: Cell::new(false) });
            self.slots.len() - 1
        } else {
            let i = self.victim(evictable);
            let old = self.slots[i].key;
            self.unindex(&old);
            let s = &mut self.slots[i];
            if let Some(v) = &s.value {
                evicted(&s.key, v);
            }
            s.live = false;
            self.evicted += 1;
            i
        };
        let s = &mut self.slots[i];
        s.key = key;
        s.value = Some(make(s.value.take()));
        s.live = true;
        // A new entry starts unreferenced: under a flood of one-packet keys, the entries
        // that are used again are the ones that stay.
        s.referenced.set(false);
        self.index_slot(i as u32);
        self.peak = self.peak.max(self.index.len());
        (i as u32, self.slots[i].value.as_mut().expect("just set"), true)
    }

    /// The slot the CLOCK hand gives up (the map is full, so every slot is live).
    fn victim(&mut self, mut evictable: impl FnMut(&K, &V) -> bool) -> usize {
        let n = self.slots.len();
        for _ in 0..2 * n {
            let i = self.hand;
            self.hand = (i + 1) % n;
            let s = &self.slots[i];
            if !s.live || s.referenced.replace(false) {
                continue;
            }
            if s.value.as_ref().is_some_and(|v| evictable(&s.key, v)) {
                return i;
            }
        }
        let i = self.hand;
        self.hand = (i + 1) % n;
        i
    }

    /// Moves the entry of `from` to the key `to` (which must be absent); false if `from` is
    /// absent or `to` present.
    pub fn rekey(&mut self, from: &K, to: K) -> bool {
        if self.find(&to).is_some() {
            return false;
        }
        let Some(i) = self.unindex(from) else { return false };
        self.slots[i as usize].key = to;
        self.index_slot(i);
        true
    }

    /// Removes `key`'s entry (its value stays in the slot, to be recycled); whether it was there.
    pub fn remove(&mut self, key: &K) -> bool {
        let Some(i) = self.unindex(key) else { return false };
        self.slots[i as usize].live = false;
        self.free.push(i);
        true
    }

    /// Keeps the entries for which `keep` is true (in slot order).
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        for (i, s) in self.slots.iter_mut().enumerate() {
            if s.live
                && let Some(v) = s.value.as_mut()
                && !keep(&s.key, v)
            {
                s.live = false;
                let hash = self.hasher.hash_one(s.key);
                if let Ok(e) = self.index.find_entry(hash, |&j| j == i as u32) {
                    e.remove();
                }
                self.free.push(i as u32);
            }
        }
    }

    /// The slots of every live entry, in slot order.
    pub fn slots(&self) -> impl Iterator<Item = SlotId> + '_ {
        self.slots.iter().enumerate().filter(|(_, s)| s.live).map(|(i, _)| i as SlotId)
    }

    /// The live entry in slot `i` (not marked as used).
    pub fn peek_at(&self, i: SlotId) -> Option<(&K, &V)> {
        let s = self.slots.get(i as usize).filter(|s| s.live)?;
        s.value.as_ref().map(|v| (&s.key, v))
    }

    /// Every live entry, in slot order (not marked as used).
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.slots.iter().filter(|s| s.live).filter_map(|s| s.value.as_ref().map(|v| (&s.key, v)))
    }

    /// Removes every entry and frees the slots (memory stays reserved).
    pub fn clear(&mut self) {
        self.index.clear();
        self.slots.clear();
        self.free.clear();
        self.hand = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn put(m: &mut BoundedMap<u32, u32>, k: u32) -> bool {
        m.get_or_insert_with(k, |_, _| true, |_, _| {}, |_| k).2
    }

    #[test]
    fn full_map_evicts_an_unused_entry_and_keeps_the_used_ones() {
        let mut m = BoundedMap::new(4);
        for k in 0..4 {
            assert!(put(&mut m, k));
        }
        assert!(m.get(&2).is_some());
        let mut gone = Vec::new();
        for k in 10..13 {
            m.get_or_insert_with(k, |_, _| true, |k, _| gone.push(*k), |_| k);
            assert!(m.get(&2).is_some(), "used since the hand's last visit: kept");
        }
        assert_eq!(gone, [0, 1, 3]);
        assert_eq!((m.len(), m.evicted(), m.peak()), (4, 3, 4));
        assert!(!put(&mut m, 2), "an existing key is not inserted again");
    }

    #[test]
    fn refused_entries_are_kept_until_nothing_else_is_left() {
        let mut m = BoundedMap::new(3);
        for k in 0..3 {
            put(&mut m, k);
        }
        let mut gone = None;
        m.get_or_insert_with(9, |k, _| *k != 0, |k, _| gone = Some(*k), |_| 9);
        assert_eq!(gone, Some(1));
        m.get_or_insert_with(8, |_, _| false, |k, _| gone = Some(*k), |_| 8);
        assert!(gone.is_some(), "nothing evictable: one is taken anyway");
        assert_eq!(m.len(), 3);
    }

    #[test]
    fn removed_and_evicted_values_are_recycled() {
        let mut m: BoundedMap<u32, Vec<u8>> = BoundedMap::new(2);
        m.get_or_insert_with(1, |_, _| true, |_, _| {}, |_| vec![1; 64]);
        m.remove(&1);
        let (_, v, new) = m.get_or_insert_with(2, |_, _| true, |_, _| {}, |old| old.expect("recycled"));
        assert!(new && v.capacity() >= 64);
        assert!(m.rekey(&2, 3) && m.get(&2).is_none() && m.get(&3).is_some());
        m.retain(|_, _| false);
        assert!(m.is_empty() && m.iter().next().is_none());
    }

    proptest! {
        #[test]
        fn stays_bounded_and_consistent(ops in proptest::collection::vec((0u8..4, 0u32..40), 0..500)) {
            let mut m: BoundedMap<u32, u32> = BoundedMap::new(8);
            for (op, k) in ops {
                match op {
                    0 | 1 => { m.get_or_insert_with(k, |_, _| true, |_, _| {}, |_| k); }
                    2 => { m.remove(&k); }
                    _ => m.retain(|key, _| key % 3 != k % 3),
                }
                prop_assert!(m.len() <= 8 && m.peak() <= 8);
                prop_assert_eq!(m.iter().count(), m.len());
                for (key, v) in m.iter() {
                    prop_assert_eq!(key, v);
                    prop_assert_eq!(m.get(key), Some(v));
                }
            }
        }
    }
}
