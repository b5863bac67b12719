//! Start-up cost of the organisation / country data, measured against the bare baseline of the
//! same run — reading and gunzipping the two CSV files without parsing them (what any loader of
//! the CSV data must at least do): `AsnDb` loaded by parsing the CSV files (first start), and from
//! the snapshot in the cache directory (every later start).
//!
//! With `--bench` (`cargo bench --bench asn_load`): criterion measures the three (group
//! `asn_load`), then both ratios to the baseline are printed with the times. Without `--bench`
//! (`cargo test --all-targets`) the data loads once each way, as a smoke test, and the bench exits.

use criterion::Criterion;
use flate2::read::GzDecoder;
use leakwatch::naming::asn::AsnDb;
use std::hint::black_box;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data")
}

/// Reads and decompresses both CSV files; returns the bytes (so nothing is optimised away).
fn gunzip_only(dir: &Path) -> usize {
    ["asn-ipv4.csv.gz", "asn-ipv6.csv.gz"]
        .iter()
        .map(|f| {
            let mut out = Vec::new();
            let file = std::fs::File::open(dir.join(f)).expect("data file");
            GzDecoder::new(file).read_to_end(&mut out).expect("gzip");
            out.len()
        })
        .sum()
}

fn median(mut f: impl FnMut(), n: usize) -> Duration {
    let mut t: Vec<Duration> = (0..n)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed()
        })
        .collect();
    t.sort();
    t[n / 2]
}

fn main() {
    let dir = data();
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let cache = tempfile::tempdir().expect("temporary cache directory");
    let csv = || AsnDb::load_with_cache(&dir, None).expect("data/ loads");
    let snapshot = || AsnDb::load_with_cache(&dir, Some(cache.path())).expect("data/ loads");
    let first = snapshot();
    assert!(!first.from_snapshot() && snapshot().from_snapshot());
    if !bench_mode {
        assert!(csv().stats().0 > 100_000, "the IPv4 table is nearly empty");
        assert!(gunzip_only(&dir) > 10_000_000);
        return;
    }
    let mut c = Criterion::default().sample_size(10).measurement_time(Duration::from_secs(10)).configure_from_args();
    let mut g = c.benchmark_group("asn_load");
    g.bench_function("gunzip_csv_baseline", |b| b.iter(|| black_box(gunzip_only(&dir))));
    g.bench_function("load_parsing_csv", |b| b.iter(|| black_box(csv())));
    g.bench_function("load_from_snapshot", |b| b.iter(|| black_box(snapshot())));
    g.finish();
    c.final_summary();
    let base = median(
        || {
            black_box(gunzip_only(&dir));
        },
        7,
    );
    let parse = median(|| drop(black_box(csv())), 7);
    let snap = median(|| drop(black_box(snapshot())), 7);
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "asn_load: gunzip-only baseline {:.1} ms; parsing the CSV {:.1} ms (ratio {:.2}); from the snapshot {:.1} ms (ratio {:.2})",
        ms(base),
        ms(parse),
        parse.as_secs_f64() / base.as_secs_f64(),
        ms(snap),
        snap.as_secs_f64() / base.as_secs_f64()
    );
}
