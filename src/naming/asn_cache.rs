//! A binary snapshot of the parsed organisation tables, so that start-up does not parse 500,000
//! CSV lines each time: written after the first parse into the user's cache directory, keyed by
//! the CSV files' sizes and modification times and the crate version, read back with a checksum
//! and every field checked (a snapshot that is cut, corrupt or of another version is ignored and
//! rebuilt).

use super::asn::{RangeTable, Tables};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const MAGIC: &[u8; 8] = b"LWASN\x001\x00";
/// Environment variable naming the cache directory (tests, packagers).
pub const CACHE_DIR_ENV: &str = "LEAKWATCH_CACHE_DIR";

/// The user's cache directory for Leakwatch (`$LEAKWATCH_CACHE_DIR`, else the platform's).
pub fn default_cache_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os(CACHE_DIR_ENV).filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    directories::ProjectDirs::from("", "", "leakwatch").map(|p| p.cache_dir().to_path_buf())
}

/// The snapshot file for these CSV files, named by what identifies their content.
pub fn snapshot_path(cache_dir: &Path, csvs: &[&Path]) -> Option<PathBuf> {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    env!("CARGO_PKG_VERSION").hash(&mut h);
    for p in csvs {
        let m = std::fs::metadata(p).ok()?;
        p.hash(&mut h);
        m.len().hash(&mut h);
        m.modified().ok()?.hash(&mut h);
    }
    Some(cache_dir.join(format!("asn-{:016x}.bin", h.finish())))
}

/// Writes `t` to `path` atomically (a temporary file renamed over it).
pub(super) fn write(path: &Path, t: &Tables) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut out = Vec::with_capacity(16 * t.v4.starts.len() + 40 * t.v6.starts.len() + 32 * t.orgs.len() + 64);
    out.extend_from_slice(MAGIC);
    for n in [t.v4.starts.len(), t.v6.starts.len(), t.orgs.len()] {
        out.extend_from_slice(&(n as u64).to_le_bytes());
    }
    t.v4.starts.iter().for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
    t.v4.ends.iter().for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
    t.v6.starts.iter().for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
    t.v6.ends.iter().for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
    for (a, o) in t.v4.meta.iter().chain(&t.v6.meta) {
        out.extend_from_slice(&a.to_le_bytes());
        out.extend_from_slice(&o.to_le_bytes());
    }
    for o in &t.orgs {
        out.extend_from_slice(&(o.len() as u32).to_le_bytes());
        out.extend_from_slice(o.as_bytes());
    }
    out.extend_from_slice(&checksum(&out).to_le_bytes());
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(&out)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// Reads a snapshot; `None` when it is missing or anything in it is wrong.
pub(super) fn read(path: &Path) -> Option<Tables> {
    let data = crate::files::read_regular(path, 1 << 30).ok()?;
    parse(&data)
}

struct Cursor<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let s = self.data.get(self.at..end)?;
        self.at = end;
        Some(s)
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4).map(|b| u32::from_le_bytes(b.try_into().unwrap_or_default()))
    }
    fn u64(&mut self) -> Option<u64> {
        self.take(8).map(|b| u64::from_le_bytes(b.try_into().unwrap_or_default()))
    }
    fn u128(&mut self) -> Option<u128> {
        self.take(16).map(|b| u128::from_le_bytes(b.try_into().unwrap_or_default()))
    }
    fn vec<T>(&mut self, n: usize, f: impl Fn(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(f(self)?);
        }
        Some(v)
    }
}

/// Parses and checks a snapshot: sorted, non-overlapping ranges, organisation indices in bounds,
/// UTF-8 names, nothing left over.
pub(super) fn parse(data: &[u8]) -> Option<Tables> {
    let (data, sum) = data.split_at_checked(data.len().checked_sub(8)?)?;
    if checksum(data).to_le_bytes() != sum {
        return None;
    }
    let mut c = Cursor { data, at: 0 };
    if c.take(8)? != MAGIC {
        return None;
    }
    let (n4, n6, norgs) = (c.u64()? as usize, c.u64()? as usize, c.u64()? as usize);
    // Each count must fit in what is left (no huge allocation from a corrupt header).
    let left = data.len();
    if n4.checked_mul(16)? > left || n6.checked_mul(40)? > left || norgs.checked_mul(4)? > left {
        return None;
    }
    let starts4 = c.vec(n4, Cursor::u32)?;
    let ends4 = c.vec(n4, Cursor::u32)?;
    let starts6 = c.vec(n6, Cursor::u128)?;
    let ends6 = c.vec(n6, Cursor::u128)?;
    let meta = c.vec(n4 + n6, |c| Some((c.u32()?, c.u32()?)))?;
    let mut orgs = Vec::with_capacity(norgs);
    for _ in 0..norgs {
        let n = c.u32()? as usize;
        orgs.push(Arc::<str>::from(std::str::from_utf8(c.take(n)?).ok()?));
    }
    if c.at != data.len() || meta.iter().any(|(_, o)| *o as usize >= norgs) {
        return None;
    }
    let (meta4, meta6) = meta.split_at(n4);
    let v4 = RangeTable { starts: starts4, ends: ends4, meta: meta4.to_vec() };
    let v6 = RangeTable { starts: starts6, ends: ends6, meta: meta6.to_vec() };
    (well_formed(&v4) && well_formed(&v6)).then_some(Tables { v4, v6, orgs })
}

/// A checksum of the snapshot's content (SipHash with fixed keys), against bit rot and torn writes.
fn checksum(data: &[u8]) -> u64 {
    use std::hash::Hasher;
    let mut h = std::hash::DefaultHasher::new();
    h.write(data);
    h.finish()
}

fn well_formed<T: Copy + Ord>(t: &RangeTable<T>) -> bool {
    t.starts.iter().zip(&t.ends).all(|(s, e)| s <= e)
        && t.starts.windows(2).zip(&t.ends).all(|(w, e)| w[0] < w[1] && *e < w[1])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn small() -> Tables {
        Tables {
            v4: RangeTable { starts: vec![10, 20], ends: vec![15, 30], meta: vec![(1, 0), (2, 1)] },
            v6: RangeTable { starts: vec![1 << 100], ends: vec![(1 << 100) + 5], meta: vec![(3, 1)] },
            orgs: vec![Arc::from("Ä Org"), Arc::from("B, Inc.")],
        }
    }

    fn bytes(t: &Tables) -> Vec<u8> {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("s.bin");
        write(&p, t).unwrap();
        std::fs::read(p).unwrap()
    }

    #[test]
    fn round_trip() {
        let t = parse(&bytes(&small())).expect("own snapshot parses");
        assert_eq!((t.v4.starts, t.v4.ends, t.v4.meta), (vec![10, 20], vec![15, 30], vec![(1, 0), (2, 1)]));
        assert_eq!(t.v6.meta, vec![(3, 1)]);
        assert_eq!(&*t.orgs[0], "Ä Org");
    }

    #[test]
    fn overlapping_or_out_of_bounds_tables_are_refused() {
        let mut t = small();
        t.v4.ends[0] = 25; // overlaps the next range
        assert!(parse(&bytes(&t)).is_none());
        let mut t = small();
        t.v4.meta[1].1 = 7; // no such organisation
        assert!(parse(&bytes(&t)).is_none());
    }

    proptest! {
        #[test]
        fn damaged_snapshots_never_panic(cut in 0usize..200, flip in 0usize..200, junk in proptest::collection::vec(any::<u8>(), 0..300)) {
            let good = bytes(&small());
            let _ = parse(&good[..cut.min(good.len())]);
            let mut f = good.clone();
            let i = flip % f.len();
            f[i] ^= 0x5a;
            prop_assert!(parse(&f).is_none());
            let _ = parse(&junk);
        }
    }
}
