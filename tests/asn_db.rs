//! The offline ASN / country database (`src/naming/asn.rs`) against the shipped `data/` and the
//! shared test copy (`$LEAKWATCH_SHARED/testdata/asn`, else `../shared/testdata/asn`).

use std::io::{Read, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use leakwatch::naming::asn::{AsnDb, AsnError, COUNTRY_MMDB, IPV4_CSV, IPV6_CSV};
use proptest::prelude::*;

fn repo_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data")
}

fn shared_data() -> PathBuf {
    let shared = match std::env::var_os("LEAKWATCH_SHARED") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"),
    };
    shared.join("testdata/asn")
}

static DB: LazyLock<AsnDb> = LazyLock::new(|| AsnDb::load(&repo_data()).expect("load data/"));
static SHARED_DB: LazyLock<AsnDb> =
    LazyLock::new(|| AsnDb::load(&shared_data()).unwrap_or_else(|e| panic!("{e} (set LEAKWATCH_SHARED?)")));

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn asn(db: &AsnDb, s: &str) -> Option<(u32, String)> {
    db.lookup(ip(s)).map(|i| (i.asn, i.org.to_string()))
}

/// An address, its expected ASN + organisation, and its expected country.
type Known = (&'static str, Option<(u32, &'static str)>, Option<&'static str>);

const KNOWN: &[Known] = &[
    ("140.82.114.4", Some((36459, "GitHub, Inc.")), Some("US")),
    ("185.60.216.53", Some((32934, "Facebook, Inc.")), None),
    ("8.8.8.8", Some((15169, "Google LLC")), Some("US")),
    ("46.44.253.187", Some((21056, "Vianova S.p.A")), Some("IT")),
    ("2a03:b0c0:3:d0::70:1001", Some((14061, "DigitalOcean, LLC")), None),
    ("64:ff9b::8c52:7204", Some((36459, "GitHub, Inc.")), Some("US")),
    ("::ffff:8.8.8.8", Some((15169, "Google LLC")), Some("US")),
    // Edgecast: the data has no AS for it (see the data README), but the country data does.
    ("93.184.220.29", None, Some("US")),
];

fn check_known(db: &AsnDb) {
    for &(addr, want, country) in KNOWN {
        let got = asn(db, addr);
        assert_eq!(got.as_ref().map(|(a, o)| (*a, o.as_str())), want, "{addr}");
        if let Some(c) = country {
            assert_eq!(db.country_str(ip(addr)), Some(c), "{addr}");
            assert_eq!(db.country(ip(addr)).map(|c| c.to_string()).as_deref(), Some(c), "{addr}");
        }
    }
}

#[test]
fn known_addresses_repo_data() {
    check_known(&DB);
}

#[test]
fn known_addresses_shared_data() {
    check_known(&SHARED_DB);
}

#[test]
fn countries_of_other_known_addresses() {
    // Not pinned to a value (registry country data moves), only that one is given.
    for a in ["185.60.216.53", "2a03:b0c0:3:d0::70:1001"] {
        let c = DB.country(ip(a)).unwrap_or_else(|| panic!("{a}: no country"));
        assert!(c.as_str().bytes().all(|b| b.is_ascii_uppercase()), "{a}: {c}");
    }
}

#[test]
fn private_and_reserved_are_unknown() {
    for a in [
        "192.168.1.1",
        "10.200.0.1",
        "fd00:200::1",
        "127.0.0.1",
        "::1",
        "::",
        "0.0.0.0",
        "169.254.1.1",
        "100.64.1.1",
        "172.16.0.1",
        "224.0.0.251",
        "255.255.255.255",
        "fe80::1",
        "ff02::fb",
        "2001:db8::1",
        "64:ff9b::c0a8:101", // NAT64 of 192.168.1.1
        "::ffff:10.0.0.1",
    ] {
        assert_eq!(DB.lookup(ip(a)), None, "{a}");
        assert_eq!(DB.country(ip(a)), None, "{a}");
        assert_eq!(DB.country_str(ip(a)), None, "{a}");
    }
}

#[test]
fn organisations_are_interned() {
    let a = DB.lookup(ip("8.8.8.8")).unwrap();
    let b = DB.lookup(ip("8.8.4.4")).unwrap();
    assert!(std::sync::Arc::ptr_eq(&a.org, &b.org));
    // Across address families too.
    let v6 = DB.lookup(ip("2001:4860:4860::8888")).unwrap();
    assert_eq!(v6.asn, 15169);
    assert!(std::sync::Arc::ptr_eq(&a.org, &v6.org));
}

#[test]
fn repo_data_matches_shared_copy() {
    for f in [IPV4_CSV, IPV6_CSV, COUNTRY_MMDB] {
        let a = std::fs::read(repo_data().join(f)).unwrap();
        let b = std::fs::read(shared_data().join(f)).unwrap();
        assert!(a == b, "data/{f} differs from the shared copy");
    }
    assert_eq!(DB.stats(), SHARED_DB.stats());
}

#[test]
fn default_dir_honours_env() {
    // Only checks the fallback when the variable is unset (tests run in parallel: do not set it).
    if std::env::var_os("LEAKWATCH_DATA_DIR").is_none() {
        let d = AsnDb::default_dir().expect("a data dir (the source tree's data/ at least)");
        assert!(d.join(IPV4_CSV).is_file(), "{}", d.display());
    }
}

#[test]
fn overrides_take_precedence_when_they_answer() {
    // No GeoLite2 file can ship here; the bundled country mmdb stands in as a country override.
    let db = AsnDb::load(&repo_data()).unwrap().with_overrides(None, Some(&repo_data().join(COUNTRY_MMDB))).unwrap();
    check_known(&db);
    let err =
        AsnDb::load(&repo_data()).unwrap().with_overrides(Some(Path::new("/nonexistent/GeoLite2-ASN.mmdb")), None);
    let msg = err.unwrap_err().to_string();
    assert!(msg.contains("GeoLite2-ASN.mmdb") && msg.contains("missing"), "{msg}");
}

// --- errors -------------------------------------------------------------------------------

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A temp data dir with the real mmdb and the given CSV contents (already gzipped).
fn temp_dir_with(v4_gz: &[u8], v6_gz: &[u8]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join(IPV4_CSV), v4_gz).unwrap();
    std::fs::write(d.path().join(IPV6_CSV), v6_gz).unwrap();
    std::fs::copy(repo_data().join(COUNTRY_MMDB), d.path().join(COUNTRY_MMDB)).unwrap();
    d
}

const SMALL_V4: &str = "1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n8.8.8.0,8.8.8.255,15169,Google LLC\n";
const SMALL_V6: &str = "2001:4860::,2001:4860:ffff:ffff:ffff:ffff:ffff:ffff,15169,Google LLC\n";

#[test]
fn small_valid_dir_loads() {
    let d = temp_dir_with(&gz(SMALL_V4.as_bytes()), &gz(SMALL_V6.as_bytes()));
    let db = AsnDb::load(d.path()).unwrap();
    assert_eq!(db.stats(), (2, 1, 2));
    assert_eq!(&*db.lookup(ip("1.0.0.1")).unwrap().org, "Cloudflare, Inc.");
    assert_eq!(db.lookup(ip("2001:4860:4860::8888")).unwrap().asn, 15169);
    assert_eq!(db.lookup(ip("1.0.1.0")), None);
}

#[test]
fn bad_dir_names_the_file() {
    let err = AsnDb::load(Path::new("/nonexistent/leakwatch-data")).unwrap_err();
    assert!(matches!(err, AsnError::Missing { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("/nonexistent/leakwatch-data/asn-ipv4.csv.gz") && msg.contains("missing"), "{msg}");

    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join(IPV4_CSV), gz(SMALL_V4.as_bytes())).unwrap();
    let msg = AsnDb::load(d.path()).unwrap_err().to_string();
    assert!(msg.contains(IPV6_CSV), "{msg}");
}

#[test]
fn truncated_gzip_is_an_error() {
    let mut full = Vec::new();
    std::fs::File::open(repo_data().join(IPV6_CSV)).unwrap().read_to_end(&mut full).unwrap();
    let d = temp_dir_with(&gz(SMALL_V4.as_bytes()), &full[..full.len() / 2]);
    let err = AsnDb::load(d.path()).unwrap_err();
    assert!(matches!(err, AsnError::Gzip { .. }), "{err:?}");
    assert!(err.to_string().contains(IPV6_CSV), "{err}");

    // Not gzip at all.
    let d = temp_dir_with(b"1.0.0.0,1.0.0.255,1,x\n", &gz(SMALL_V6.as_bytes()));
    let err = AsnDb::load(d.path()).unwrap_err();
    assert!(matches!(err, AsnError::Gzip { .. }), "{err:?}");
    assert!(err.to_string().contains(IPV4_CSV), "{err}");
}

#[test]
fn bad_csv_line_is_named() {
    for (bad, reason) in [
        ("1.2.3,1.2.3.255,5,Org", "start"),
        ("1.2.3.0,1.2.3.255,AS5,Org", "AS number"),
        ("1.2.3.0,1.2.3.255,5", "4 fields"),
        ("1.2.3.9,1.2.3.0,5,Org", "before its start"),
        ("1.2.3.0,1.2.3.255,5,\"Org, unterminated", "unterminated"),
    ] {
        let csv = format!("{SMALL_V4}{bad}\n9.9.9.0,9.9.9.255,19281,Quad9\n");
        let d = temp_dir_with(&gz(csv.as_bytes()), &gz(SMALL_V6.as_bytes()));
        let err = AsnDb::load(d.path()).unwrap_err();
        match &err {
            AsnError::BadLine { line, text, .. } => {
                assert_eq!(*line, 3, "{err}");
                assert_eq!(text, bad);
            }
            other => panic!("{bad}: {other:?}"),
        }
        let msg = err.to_string();
        assert!(msg.contains(IPV4_CSV) && msg.contains("line 3") && msg.contains(reason), "{msg}");
    }
}

#[test]
fn bad_mmdb_is_an_error() {
    let d = temp_dir_with(&gz(SMALL_V4.as_bytes()), &gz(SMALL_V6.as_bytes()));
    std::fs::write(d.path().join(COUNTRY_MMDB), b"not a maxmind db").unwrap();
    let err = AsnDb::load(d.path()).unwrap_err();
    assert!(matches!(err, AsnError::Mmdb { .. }), "{err:?}");
    assert!(err.to_string().contains(COUNTRY_MMDB), "{err}");
}

// --- property tests -----------------------------------------------------------------------

/// Every row of both CSVs, parsed independently of the library: (start, end, asn), as u128 in
/// the IPv4-mapped space for IPv4 rows. Rows that overlap a neighbour are left out.
static ROWS: LazyLock<Vec<(IpAddr, IpAddr, u32)>> = LazyLock::new(|| {
    let mut rows = Vec::new();
    for f in [IPV4_CSV, IPV6_CSV] {
        let mut text = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(repo_data().join(f)).unwrap())
            .read_to_string(&mut text)
            .unwrap();
        let parsed: Vec<(IpAddr, IpAddr, u32)> = text
            .lines()
            .map(|l| {
                let mut it = l.splitn(4, ',');
                let a: IpAddr = it.next().unwrap().parse().unwrap();
                let b: IpAddr = it.next().unwrap().parse().unwrap();
                (a, b, it.next().unwrap().parse().unwrap())
            })
            .collect();
        for (i, r) in parsed.iter().enumerate() {
            let overlaps_prev = i > 0 && parsed[i - 1].1 >= r.0;
            let overlaps_next = parsed.get(i + 1).is_some_and(|n| n.0 <= r.1);
            if !overlaps_prev && !overlaps_next {
                rows.push(*r);
            }
        }
    }
    rows
});

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn range_ends_give_the_range_asn(i in 0usize..1_000_000) {
        let rows = &*ROWS;
        let (start, end, want) = rows[i % rows.len()];
        for addr in [start, end] {
            let public = leakwatch::naming::asn::public_ip(addr).is_some();
            let got = DB.lookup(addr).map(|x| x.asn);
            if public {
                prop_assert_eq!(got, Some(want), "{} in {}-{}", addr, start, end);
            } else {
                prop_assert_eq!(got, None, "{} (reserved)", addr);
            }
        }
    }

    #[test]
    fn random_ipv4_never_panics(n in any::<u32>()) {
        let a = IpAddr::from(std::net::Ipv4Addr::from(n));
        let x = DB.lookup(a);
        let c = DB.country(a);
        // Both copies of the data agree.
        prop_assert_eq!(&x, &SHARED_DB.lookup(a));
        prop_assert_eq!(c, SHARED_DB.country(a));
        // NAT64 and IPv4-mapped forms give the same answers.
        for v6 in [(0x0064_ff9b_u128 << 96) | u128::from(n), (0xffff_u128 << 32) | u128::from(n)] {
            let m = IpAddr::from(std::net::Ipv6Addr::from(v6));
            prop_assert_eq!(&DB.lookup(m), &x);
            prop_assert_eq!(DB.country(m), c);
        }
    }

    #[test]
    fn random_ipv6_never_panics(n in any::<u128>(), global in any::<bool>()) {
        // Half of the cases in 2000::/3 so that some hit data.
        let n = if global { (n & (u128::MAX >> 3)) | (1 << 125) } else { n };
        let a = IpAddr::from(std::net::Ipv6Addr::from(n));
        prop_assert_eq!(DB.lookup(a), SHARED_DB.lookup(a));
        prop_assert_eq!(DB.country_str(a), SHARED_DB.country_str(a));
    }
}

/// The parsed tables are kept as a snapshot: the second load reads it and answers exactly as
/// the CSV files do; a cut or corrupt snapshot is ignored and written anew.
#[test]
fn snapshot_round_trip_and_corruption() {
    let cache = tempfile::tempdir().unwrap();
    let first = AsnDb::load_with_cache(&repo_data(), Some(cache.path())).unwrap();
    assert!(!first.from_snapshot());
    let files: Vec<PathBuf> = std::fs::read_dir(cache.path()).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1, "one snapshot written: {files:?}");
    let snap = &files[0];
    let second = AsnDb::load_with_cache(&repo_data(), Some(cache.path())).unwrap();
    assert!(second.from_snapshot());
    assert_eq!(second.stats(), first.stats());
    let probes = ["140.82.114.4", "185.60.216.53", "8.8.8.8", "1.1.1.1", "2001:4860:4860::8888", "2a03:2880:f003::1"];
    for a in probes {
        assert_eq!(second.lookup(ip(a)), first.lookup(ip(a)), "{a}");
        assert_eq!(second.country_str(ip(a)), first.country_str(ip(a)), "{a}");
    }
    assert_eq!(second.lookup(ip("140.82.114.4")).unwrap().asn, 36459, "GitHub");
    // Cut in half, then bytes flipped in the middle: each time the CSV files are parsed again.
    let good = std::fs::read(snap).unwrap();
    let mut flipped = good.clone();
    let mid = flipped.len() / 2;
    flipped[mid..mid + 64].iter_mut().for_each(|b| *b = !*b);
    for bad in [good[..good.len() / 2].to_vec(), flipped, b"LWASN".to_vec(), Vec::new()] {
        std::fs::write(snap, &bad).unwrap();
        let db = AsnDb::load_with_cache(&repo_data(), Some(cache.path())).unwrap();
        assert!(!db.from_snapshot(), "a damaged snapshot ({} bytes) is not used", bad.len());
        assert_eq!(db.stats(), first.stats());
        assert_eq!(db.lookup(ip("140.82.114.4")), first.lookup(ip("140.82.114.4")));
    }
    assert!(AsnDb::load_with_cache(&repo_data(), Some(cache.path())).unwrap().from_snapshot(), "written anew");
    // No cache directory at all: still loads.
    assert!(!AsnDb::load_with_cache(&repo_data(), None).unwrap().from_snapshot());
}
