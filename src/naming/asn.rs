//! IP → autonomous system (number + organisation) and IP → country, from an offline database.
//!
//! The shipped data (see `data/README.md`) is
//! - `asn-ipv4.csv.gz`, `asn-ipv6.csv.gz`: `@ip-location-db/asn` CSVs
//!   (`start,end,asn,org`, inclusive, sorted; org quoted when it holds a comma, `""` escapes),
//! - `geo-whois-asn-country.mmdb`: `@ip-location-db/geo-whois-asn-country-mmdb`
//!   (MaxMind DB, record `{"country_code": "US"}`).
//!
//! The CSVs are loaded into sorted range tables (binary search, no allocation per lookup);
//! organisation names are interned. The mmdb is read into memory once.
//!
//! Addresses that are private, loopback, link-local, multicast, documentation or otherwise
//! reserved give `None` ("unknown stays unknown"). NAT64 addresses (`64:ff9b::/96`) and
//! IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) are looked up as the IPv4 address inside them.
//!
//! Optional user-supplied MaxMind GeoLite2 ASN / Country databases
//! ([`AsnDb::with_overrides`]) take precedence whenever they have an answer.

use std::borrow::Cow;
use std::fmt;
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ahash::AHashMap;
use maxminddb::{PathElement, Reader};

/// File names inside a data directory.
pub const IPV4_CSV: &str = "asn-ipv4.csv.gz";
pub const IPV6_CSV: &str = "asn-ipv6.csv.gz";
pub const COUNTRY_MMDB: &str = "geo-whois-asn-country.mmdb";

/// Environment variable that names the data directory (takes precedence over the defaults).
pub const DATA_DIR_ENV: &str = "LEAKWATCH_DATA_DIR";

/// Longest line text kept in a [`AsnError::BadLine`] error.
const MAX_ERROR_LINE: usize = 200;

/// The network that announces an address.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AsnInfo {
    /// Autonomous system number (e.g. 15169).
    pub asn: u32,
    /// Organisation name (e.g. "Google LLC"); shared between all ranges of the same organisation.
    pub org: Arc<str>,
}

/// An ISO 3166-1 alpha-2 country code, e.g. `US`. Always two ASCII upper-case letters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    /// Parses a two-letter code (either case); anything else gives `None`.
    pub fn new(code: &str) -> Option<CountryCode> {
        match code.as_bytes() {
            [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
                Some(CountryCode([a.to_ascii_uppercase(), b.to_ascii_uppercase()]))
            }
            _ => None,
        }
    }

    /// The two bytes, e.g. `*b"US"`.
    pub fn bytes(self) -> [u8; 2] {
        self.0
    }

    /// The code as text, e.g. `"US"`.
    pub fn as_str(&self) -> &str {
        // Invariant: two ASCII letters.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why the database could not be loaded. Every variant names the file concerned.
#[derive(Debug, thiserror::Error)]
pub enum AsnError {
    #[error("no ASN data directory found (set {DATA_DIR_ENV}, or install the data to <prefix>/share/leakwatch)")]
    NoDataDir,
    #[error("{}: file is missing", path.display())]
    Missing { path: PathBuf },
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not a valid or complete gzip file: {source}", path.display())]
    Gzip {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: line {line}: {reason}: {text:?}", path.display())]
    BadLine { path: PathBuf, line: usize, reason: &'static str, text: String },
    #[error("{}: not a usable MaxMind DB file: {source}", path.display())]
    Mmdb {
        path: PathBuf,
        #[source]
        source: maxminddb::MaxMindDbError,
    },
}

/// Sorted, non-overlapping inclusive ranges with their (asn, org index).
pub(super) struct RangeTable<T> {
    pub(super) starts: Vec<T>,
    pub(super) ends: Vec<T>,
    /// (asn, index into `AsnDb::orgs`)
    pub(super) meta: Vec<(u32, u32)>,
}

/// The parsed organisation tables (what the CSV files hold, and what a snapshot stores).
pub(super) struct Tables {
    pub(super) v4: RangeTable<u32>,
    pub(super) v6: RangeTable<u128>,
    pub(super) orgs: Vec<Arc<str>>,
}

impl<T: Copy + Ord> RangeTable<T> {
    #[inline]
    fn find(&self, ip: T) -> Option<(u32, u32)> {
        let i = self.starts.partition_point(|&s| s <= ip).checked_sub(1)?;
        (ip <= self.ends[i]).then(|| self.meta[i])
    }
}

/// Address → ASN / organisation / country.
pub struct AsnDb {
    v4: RangeTable<u32>,
    v6: RangeTable<u128>,
    orgs: Vec<Arc<str>>,
    country: Option<Reader<Vec<u8>>>,
    asn_override: Option<Reader<Vec<u8>>>,
    country_override: Option<Reader<Vec<u8>>>,
    /// Interned organisation names from the ASN override database (allocates once per name).
    override_orgs: Mutex<AHashMap<Arc<str>, ()>>,
    from_snapshot: bool,
}

impl fmt::Debug for AsnDb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsnDb")
            .field("v4_ranges", &self.v4.starts.len())
            .field("v6_ranges", &self.v6.starts.len())
            .field("orgs", &self.orgs.len())
            .field("country_db", &self.country.is_some())
            .field("asn_override", &self.asn_override.is_some())
            .field("country_override", &self.country_override.is_some())
            .finish()
    }
}

impl AsnDb {
    /// The data directory to use: `$LEAKWATCH_DATA_DIR` if set; else `<exe dir>/../share/leakwatch`;
    /// else `<exe dir>/data`; else the source tree's `data/` (compile-time path) — each of the
    /// last three only if it holds `asn-ipv4.csv.gz`.
    pub fn default_dir() -> Option<PathBuf> {
        if let Some(dir) = std::env::var_os(DATA_DIR_ENV).filter(|d| !d.is_empty()) {
            return Some(PathBuf::from(dir));
        }
        let has_data = |d: &Path| d.join(IPV4_CSV).is_file();
        if let Some(exe_dir) = std::env::current_exe().ok().and_then(|e| e.parent().map(Path::to_path_buf)) {
            for cand in [exe_dir.join("../share/leakwatch"), exe_dir.join("data")] {
                if has_data(&cand) {
                    return Some(cand);
                }
            }
        }
        let built_in = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/data"));
        has_data(&built_in).then_some(built_in)
    }

    /// Loads from [`AsnDb::default_dir`].
    pub fn load_default() -> Result<AsnDb, AsnError> {
        AsnDb::load(&AsnDb::default_dir().ok_or(AsnError::NoDataDir)?)
    }

    /// Loads `asn-ipv4.csv.gz`, `asn-ipv6.csv.gz` and `geo-whois-asn-country.mmdb` from `dir`.
    /// All three files are required. The parsed tables are kept as a snapshot in the user's cache
    /// directory ([`asn_cache::default_cache_dir`](super::asn_cache::default_cache_dir)), so later
    /// starts skip the CSV parsing.
    pub fn load(dir: &Path) -> Result<AsnDb, AsnError> {
        AsnDb::load_with_cache(dir, super::asn_cache::default_cache_dir().as_deref())
    }

    /// Whether the tables came from a snapshot rather than from the CSV files.
    pub fn from_snapshot(&self) -> bool {
        self.from_snapshot
    }

    /// [`load`](Self::load) with the snapshot in `cache_dir` (`None`: no snapshot).
    pub fn load_with_cache(dir: &Path, cache_dir: Option<&Path>) -> Result<AsnDb, AsnError> {
        let p4 = dir.join(IPV4_CSV);
        let p6 = dir.join(IPV6_CSV);
        let pc = dir.join(COUNTRY_MMDB);
        // Fail fast (and name the file) before spawning work.
        for p in [&p4, &p6, &pc] {
            if !p.is_file() {
                return Err(AsnError::Missing { path: p.clone() });
            }
        }
        let snapshot = cache_dir.and_then(|d| super::asn_cache::snapshot_path(d, &[&p4, &p6]));
        let (tables, rc) = std::thread::scope(|s| {
            let hc = s.spawn(|| open_mmdb(&pc));
            let tables = match snapshot.as_deref().and_then(super::asn_cache::read) {
                Some(t) => Ok((t, true)),
                None => parse_csvs(&p4, &p6).map(|t| (t, false)),
            };
            let rc = hc.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
            (tables, rc)
        });
        let (tables, from_snapshot) = tables?;
        let country = rc?;
        if !from_snapshot && let Some(path) = &snapshot {
            // Best effort: without a writable cache every start parses the CSV files.
            let _ = super::asn_cache::write(path, &tables);
        }
        Ok(AsnDb::from_tables(tables, country, from_snapshot))
    }

    fn from_tables(t: Tables, country: Reader<Vec<u8>>, from_snapshot: bool) -> AsnDb {
        AsnDb {
            v4: t.v4,
            v6: t.v6,
            orgs: t.orgs,
            country: Some(country),
            asn_override: None,
            country_override: None,
            override_orgs: Mutex::new(AHashMap::new()),
            from_snapshot,
        }
    }
}

/// Parses both CSV files (in parallel) into one set of tables with one organisation list.
fn parse_csvs(p4: &Path, p6: &Path) -> Result<Tables, AsnError> {
    let (r4, r6) = std::thread::scope(|s| {
        let h6 = s.spawn(|| load_csv::<u128>(p6));
        let r4 = load_csv::<u32>(p4);
        let r6 = h6.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
        (r4, r6)
    });
    let (v4, mut orgs4) = r4?;
    let (mut v6, orgs6) = r6?;

    // Merge the v6 organisation table into the v4 one so each name has one Arc.
    let mut index: AHashMap<Arc<str>, u32> = AHashMap::with_capacity(orgs4.len() + orgs6.len() / 4);
    for (i, o) in orgs4.iter().enumerate() {
        index.insert(o.clone(), i as u32);
    }
    let remap: Vec<u32> = orgs6
        .into_iter()
        .map(|o| {
            *index.entry(o.clone()).or_insert_with(|| {
                orgs4.push(o);
                (orgs4.len() - 1) as u32
            })
        })
        .collect();
    for m in &mut v6.meta {
        m.1 = remap[m.1 as usize];
    }
    Ok(Tables { v4, v6, orgs: orgs4 })
}

impl AsnDb {
    /// Adds a user-supplied MaxMind GeoLite2-ASN (or compatible) database and/or a GeoLite2-Country
    /// (or compatible) database. Where they have an answer, it takes precedence over the shipped data.
    pub fn with_overrides(mut self, asn_mmdb: Option<&Path>, country_mmdb: Option<&Path>) -> Result<AsnDb, AsnError> {
        if let Some(p) = asn_mmdb {
            self.asn_override = Some(open_mmdb(p)?);
        }
        if let Some(p) = country_mmdb {
            self.country_override = Some(open_mmdb(p)?);
        }
        Ok(self)
    }

    /// Number of IPv4 and IPv6 ranges, and of distinct organisation names.
    pub fn stats(&self) -> (usize, usize, usize) {
        (self.v4.starts.len(), self.v6.starts.len(), self.orgs.len())
    }

    /// The AS announcing `ip`, or `None` when unknown (including private and reserved addresses).
    pub fn lookup(&self, ip: IpAddr) -> Option<AsnInfo> {
        let ip = public_ip(ip)?;
        if let Some(info) = self.lookup_override(ip) {
            return Some(info);
        }
        let (asn, org) = match ip {
            IpAddr::V4(v4) => self.v4.find(u32::from(v4)),
            IpAddr::V6(v6) => self.v6.find(u128::from(v6)),
        }?;
        Some(AsnInfo { asn, org: self.orgs[org as usize].clone() })
    }

    fn lookup_override(&self, ip: IpAddr) -> Option<AsnInfo> {
        let reader = self.asn_override.as_ref()?;
        let res = reader.lookup(ip).ok()?;
        let rec = res.decode::<maxminddb::geoip2::Asn>().ok()??;
        let asn = rec.autonomous_system_number?;
        let name = rec.autonomous_system_organization.unwrap_or("");
        let mut interned = self.override_orgs.lock().unwrap_or_else(|e| e.into_inner());
        let org = match interned.get_key_value(name) {
            Some((k, _)) => k.clone(),
            None => {
                let k: Arc<str> = Arc::from(name);
                interned.insert(k.clone(), ());
                k
            }
        };
        Some(AsnInfo { asn, org })
    }

    /// ISO 3166-1 alpha-2 country of `ip`, or `None` when unknown (including private and
    /// reserved addresses).
    pub fn country(&self, ip: IpAddr) -> Option<CountryCode> {
        self.country_str(ip).and_then(CountryCode::new)
    }

    /// Like [`AsnDb::country`], as text borrowed from the database (e.g. `"US"`).
    pub fn country_str(&self, ip: IpAddr) -> Option<&str> {
        let ip = public_ip(ip)?;
        [self.country_override.as_ref(), self.country.as_ref()]
            .into_iter()
            .flatten()
            .find_map(|r| mmdb_country(r, ip).filter(|c| CountryCode::new(c).is_some()))
    }
}

/// Reads a country code from a record: GeoIP2 `country.iso_code`, then `registered_country.iso_code`,
/// then ip-location-db's flat `country_code`.
fn mmdb_country(reader: &Reader<Vec<u8>>, ip: IpAddr) -> Option<&str> {
    let res = reader.lookup(ip).ok()?;
    if !res.has_data() {
        return None;
    }
    const PATHS: [&[PathElement<'static>]; 3] = [
        &[PathElement::Key("country"), PathElement::Key("iso_code")],
        &[PathElement::Key("registered_country"), PathElement::Key("iso_code")],
        &[PathElement::Key("country_code")],
    ];
    PATHS.iter().find_map(|p| res.decode_path::<&str>(p).ok().flatten())
}

fn open_mmdb(path: &Path) -> Result<Reader<Vec<u8>>, AsnError> {
    let bytes = read_file(path)?;
    Reader::from_source(bytes).map_err(|source| AsnError::Mmdb { path: path.to_path_buf(), source })
}

fn read_file(path: &Path) -> Result<Vec<u8>, AsnError> {
    // The largest bundled file is a few MB; a gigabyte is no ASN table.
    crate::files::read_regular(path, 1 << 30).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            AsnError::Missing { path: path.to_path_buf() }
        } else {
            AsnError::Io { path: path.to_path_buf(), source }
        }
    })
}

/// Strips the mapping from NAT64 (`64:ff9b::/96`) and IPv4-mapped addresses, then returns the
/// address only if it is globally routable unicast.
pub fn public_ip(ip: IpAddr) -> Option<IpAddr> {
    let ip = unmap(ip);
    let public = match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    };
    public.then_some(ip)
}

/// NAT64 well-known prefix and IPv4-mapped IPv6 → the IPv4 address inside; others unchanged.
pub fn unmap(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => {
            let n = u128::from(v6);
            if n >> 32 == 0x0064_ff9b_0000_0000_0000_0000 || n >> 32 == 0xffff {
                IpAddr::V4(Ipv4Addr::from(n as u32))
            } else {
                ip
            }
        }
        v4 => v4,
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let n = u32::from(ip);
    let in_net = |net: u32, len: u32| n >> (32 - len) == net >> (32 - len);
    !(in_net(0x0000_0000, 8)          // "this network"
        || in_net(0x0a00_0000, 8)     // 10/8
        || in_net(0x6440_0000, 10)    // 100.64/10 CGNAT
        || in_net(0x7f00_0000, 8)     // loopback
        || in_net(0xa9fe_0000, 16)    // link-local
        || in_net(0xac10_0000, 12)    // 172.16/12
        || in_net(0xc000_0000, 24)    // 192.0.0/24 IETF protocol assignments
        || in_net(0xc000_0200, 24)    // TEST-NET-1
        || in_net(0xc0a8_0000, 16)    // 192.168/16
        || in_net(0xc612_0000, 15)    // 198.18/15 benchmarking
        || in_net(0xc633_6400, 24)    // TEST-NET-2
        || in_net(0xcb00_7100, 24)    // TEST-NET-3
        || in_net(0xe000_0000, 4)     // multicast
        || in_net(0xf000_0000, 4)) // reserved + broadcast
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let n = u128::from(ip);
    let in_net = |net: u128, len: u32| n >> (128 - len) == net >> (128 - len);
    !(n <= 1                                                      // :: and ::1
        || in_net(0, 96)                                          // IPv4-compatible (deprecated)
        || in_net(0x0064_ff9b_0001 << 80, 48)                     // 64:ff9b:1::/48 local NAT64
        || in_net(0x0100 << 112, 64)                              // discard-only
        || in_net(0x2001_0db8 << 96, 32)                          // documentation
        || (in_net(0x2001_0000 << 96, 23) && !in_net(0x2001_0000 << 96, 32)) // IETF special (not Teredo)
        || in_net(0x3fff << 112, 20)                              // documentation (RFC 9637)
        || in_net(0xfc00 << 112, 7)                               // unique local
        || in_net(0xfe80 << 112, 10)                              // link-local
        || in_net(0xfec0 << 112, 10)                              // site-local (deprecated)
        || in_net(0xff00 << 112, 8)) // multicast
}

/// An address family as stored in a CSV.
trait Addr: Copy + Ord + Send + 'static {
    fn parse(s: &str) -> Option<Self>;
    fn pred(self) -> Option<Self>;
    fn succ(self) -> Option<Self>;
}

impl Addr for u32 {
    #[inline]
    fn parse(s: &str) -> Option<u32> {
        parse_v4(s.as_bytes())
    }
    fn pred(self) -> Option<u32> {
        self.checked_sub(1)
    }
    fn succ(self) -> Option<u32> {
        self.checked_add(1)
    }
}

impl Addr for u128 {
    #[inline]
    fn parse(s: &str) -> Option<u128> {
        s.parse::<Ipv6Addr>().ok().map(u128::from)
    }
    fn pred(self) -> Option<u128> {
        self.checked_sub(1)
    }
    fn succ(self) -> Option<u128> {
        self.checked_add(1)
    }
}

/// Fast dotted-quad parser (strict: four decimal octets, no leading `+`, at most 3 digits each).
#[inline]
fn parse_v4(s: &[u8]) -> Option<u32> {
    let mut out = 0u32;
    let mut parts = 0;
    let mut cur = 0u32;
    let mut digits = 0;
    for &b in s {
        match b {
            b'0'..=b'9' => {
                cur = cur * 10 + u32::from(b - b'0');
                digits += 1;
                if digits > 3 || cur > 255 {
                    return None;
                }
            }
            b'.' => {
                if digits == 0 || parts == 3 {
                    return None;
                }
                out = out << 8 | cur;
                parts += 1;
                cur = 0;
                digits = 0;
            }
            _ => return None,
        }
    }
    (parts == 3 && digits > 0).then_some(out << 8 | cur)
}

struct Row<T> {
    start: T,
    end: T,
    asn: u32,
    org: u32,
}

type Parsed<T> = (RangeTable<T>, Vec<Arc<str>>);

fn gunzip(path: &Path) -> Result<String, AsnError> {
    let gz = read_file(path)?;
    // ISIZE trailer: uncompressed size mod 2^32 (a hint only).
    let hint = gz.len().checked_sub(4).map_or(0, |i| u32::from_le_bytes(gz[i..].try_into().unwrap_or([0; 4])));
    let mut out = Vec::with_capacity((hint as usize).min(512 << 20));
    flate2::read::MultiGzDecoder::new(&gz[..])
        .read_to_end(&mut out)
        .map_err(|source| AsnError::Gzip { path: path.to_path_buf(), source })?;
    String::from_utf8(out).map_err(|e| {
        let pos = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let line = bytes[..pos].iter().filter(|&&b| b == b'\n').count() + 1;
        let start = bytes[..pos].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let end = bytes[pos..].iter().position(|&b| b == b'\n').map_or(bytes.len(), |i| pos + i);
        AsnError::BadLine {
            path: path.to_path_buf(),
            line,
            reason: "not UTF-8",
            text: truncate(&String::from_utf8_lossy(&bytes[start..end])),
        }
    })
}

fn truncate(s: &str) -> String {
    match s.char_indices().nth(MAX_ERROR_LINE) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// Splits `start,end,asn,org` (org possibly quoted with `""` escapes).
#[inline]
fn split_line(line: &str) -> Result<(&str, &str, &str, Cow<'_, str>), &'static str> {
    let mut it = line.splitn(4, ',');
    let (Some(a), Some(b), Some(n), Some(org)) = (it.next(), it.next(), it.next(), it.next()) else {
        return Err("expected 4 fields: start,end,asn,organisation");
    };
    let org = if let Some(q) = org.strip_prefix('"') {
        let inner = q.strip_suffix('"').ok_or("unterminated quoted organisation")?;
        if inner.contains('"') {
            let mut s = String::with_capacity(inner.len());
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                if c == '"' && chars.next() != Some('"') {
                    return Err("stray quote in quoted organisation");
                }
                s.push(c);
            }
            Cow::Owned(s)
        } else {
            Cow::Borrowed(inner)
        }
    } else if org.contains('"') {
        return Err("quote in unquoted organisation");
    } else {
        Cow::Borrowed(org)
    };
    Ok((a, b, n, org))
}

fn load_csv<T: Addr>(path: &Path) -> Result<Parsed<T>, AsnError> {
    let text = gunzip(path)?;
    let bad = |line: usize, reason: &'static str, text: &str| AsnError::BadLine {
        path: path.to_path_buf(),
        line,
        reason,
        text: truncate(text),
    };

    let approx_rows = text.len() / 50;
    let mut rows: Vec<Row<T>> = Vec::with_capacity(approx_rows);
    let mut interner: AHashMap<Arc<str>, u32> = AHashMap::with_capacity(approx_rows / 4);
    let mut orgs: Vec<Arc<str>> = Vec::with_capacity(approx_rows / 4);
    let mut sorted = true;

    for (i, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.is_empty() {
            continue;
        }
        let n = i + 1;
        let (a, b, asn, org) = split_line(line).map_err(|r| bad(n, r, line))?;
        let start = T::parse(a).ok_or_else(|| bad(n, "bad range start address", line))?;
        let end = T::parse(b).ok_or_else(|| bad(n, "bad range end address", line))?;
        if end < start {
            return Err(bad(n, "range end is before its start", line));
        }
        let asn: u32 = asn.parse().map_err(|_| bad(n, "bad AS number", line))?;
        let org_idx = match interner.get(org.as_ref()) {
            Some(&idx) => idx,
            None => {
                let k: Arc<str> = Arc::from(org.as_ref());
                let idx = orgs.len() as u32;
                orgs.push(k.clone());
                interner.insert(k, idx);
                idx
            }
        };
        if let Some(last) = rows.last() {
            sorted &= last.start <= start;
        }
        rows.push(Row { start, end, asn, org: org_idx });
    }
    if !sorted {
        rows.sort_by_key(|r| r.start);
    }
    Ok((normalise(rows), orgs))
}

/// Makes sorted ranges non-overlapping: where two overlap, the one that starts later (the more
/// specific one in practice) wins the overlap; the earlier range keeps its part before, and its
/// part after up to the next range.
fn normalise<T: Addr>(rows: Vec<Row<T>>) -> RangeTable<T> {
    let mut out: Vec<Row<T>> = Vec::with_capacity(rows.len());
    let mut tails: Vec<Row<T>> = Vec::new();
    for r in rows {
        while let Some(last) = out.last_mut() {
            if last.end < r.start {
                break;
            }
            // Overlap.
            if last.end > r.end
                && let Some(s) = r.end.succ()
            {
                tails.push(Row { start: s, end: last.end, asn: last.asn, org: last.org });
            }
            match r.start.pred() {
                Some(e) if last.start <= e => {
                    last.end = e;
                    break;
                }
                _ => {
                    out.pop();
                }
            }
        }
        out.push(r);
    }
    for t in tails {
        // Fill only the gap right after the range that split it.
        let i = out.partition_point(|r| r.start <= t.start);
        let mut t = t;
        if i > 0 && out[i - 1].end >= t.start {
            match out[i - 1].end.succ() {
                Some(s) if s <= t.end => t.start = s,
                _ => continue,
            }
        }
        if let Some(next) = out.get(i)
            && next.start <= t.end
        {
            match next.start.pred() {
                Some(e) if e >= t.start => t.end = e,
                _ => continue,
            }
        }
        out.insert(i, t);
    }
    let mut table = RangeTable {
        starts: Vec::with_capacity(out.len()),
        ends: Vec::with_capacity(out.len()),
        meta: Vec::with_capacity(out.len()),
    };
    for r in out {
        table.starts.push(r.start);
        table.ends.push(r.end);
        table.meta.push((r.asn, r.org));
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_v4() {
        assert_eq!(parse_v4(b"1.2.3.4"), Some(0x01020304));
        assert_eq!(parse_v4(b"255.255.255.255"), Some(u32::MAX));
        for bad in ["1.2.3", "1.2.3.4.5", "256.1.1.1", "1..2.3", "1.2.3.", "", "a.b.c.d", "1.2.3.0004"] {
            assert_eq!(parse_v4(bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn splits_quoted() {
        let (_, _, _, o) = split_line(r#"1.0.0.0,1.0.0.255,1,"LLC ""X"", Y""#).unwrap();
        assert_eq!(o, r#"LLC "X", Y"#);
        let (_, _, _, o) = split_line("1.0.0.0,1.0.0.255,1,Plain, name").unwrap();
        assert_eq!(o, "Plain, name");
        assert!(split_line(r#"1,2,3,"open"#).is_err());
        assert!(split_line("1,2,3").is_err());
    }

    #[test]
    fn overlaps_are_resolved() {
        let rows = vec![
            Row { start: 10u32, end: 100, asn: 1, org: 0 },
            Row { start: 50, end: 60, asn: 2, org: 0 },
            Row { start: 90, end: 200, asn: 3, org: 0 },
        ];
        let t = normalise(rows);
        assert_eq!(t.find(10).unwrap().0, 1);
        assert_eq!(t.find(49).unwrap().0, 1);
        assert_eq!(t.find(55).unwrap().0, 2);
        assert_eq!(t.find(61).unwrap().0, 1);
        assert_eq!(t.find(89).unwrap().0, 1);
        assert_eq!(t.find(95).unwrap().0, 3);
        assert_eq!(t.find(200).unwrap().0, 3);
        assert_eq!(t.find(201), None);
        assert_eq!(t.find(9), None);
        assert!(t.starts.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn special_addresses() {
        for s in [
            "10.0.0.1",
            "192.168.1.1",
            "127.0.0.1",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
        ] {
            assert_eq!(public_ip(s.parse().unwrap()), None, "{s}");
        }
        assert_eq!(public_ip("64:ff9b::808:808".parse().unwrap()), Some("8.8.8.8".parse().unwrap()));
        assert_eq!(public_ip("::ffff:8.8.8.8".parse().unwrap()), Some("8.8.8.8".parse().unwrap()));
        assert_eq!(public_ip("64:ff9b::a00:1".parse().unwrap()), None);
        assert!(public_ip("2a03:b0c0:3:d0::70:1001".parse().unwrap()).is_some());
    }
}
