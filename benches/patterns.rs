//! Pattern matching cost per alert candidate: `PatternSet::resolve` + `FilterSet::matches`,
//! measured against one trivial `Regex::is_match` on a short string in the same run.
//!
//! Threat patterns: `patterns/threats.json` when it exists and loads, else the legacy
//! `$LEAKWATCH_SHARED/reference/legacy-data/patterns.json` (default `../shared`). Filters: the
//! matching `patterns/adequate.json`, else the legacy `ignores.adequate.json` + `ignores.user.json`.
//! The candidates are ~20 varied [`Facts`] (browsers, cloud hosts, unknown processes, bare IPs,
//! ports, nothing known).
//!
//! With `--bench` (`cargo bench --bench patterns`): criterion measures both functions (group
//! `patterns`), then the bench times them again and prints ns per candidate, ns per baseline
//! `is_match` and the ratio. Without `--bench` (`cargo test --all-targets`) every candidate runs
//! once, as a smoke test, and the bench exits.

use criterion::Criterion;
use leakwatch::alert::LeakKind;
use leakwatch::patterns::{Facts, FilterSet, PatternSet};
use regex::Regex;
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

fn legacy_dir() -> PathBuf {
    let shared = match std::env::var_os("LEAKWATCH_SHARED") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared")),
    };
    shared.join("reference/legacy-data")
}

/// The threat patterns and filters to measure, and a label saying which files they came from.
fn load() -> (Arc<PatternSet>, FilterSet, String) {
    let shipped = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/patterns"));
    if let Ok(t) = PatternSet::load(shipped.join("threats.json")) {
        let t = Arc::new(t);
        if let Ok(f) = FilterSet::load(shipped.join("adequate.json"), t.clone()) {
            return (t, f, "patterns/threats.json + patterns/adequate.json".into());
        }
    }
    let dir = legacy_dir();
    let t = Arc::new(PatternSet::load(dir.join("patterns.json")).expect("legacy patterns.json"));
    let mut f = FilterSet::load(dir.join("ignores.adequate.json"), t.clone()).expect("legacy ignores.adequate.json");
    f.append_file(dir.join("ignores.user.json")).expect("legacy ignores.user.json");
    (t, f, "legacy patterns.json + ignores.adequate.json + ignores.user.json".into())
}

fn candidates() -> Vec<Facts<'static>> {
    let ip = |s: &str| Some(s.parse().unwrap());
    let base = Facts { kind: Some(LeakKind::Active), srcport: Some(40000), dstport: Some(443), ..Facts::default() };
    let p = |pid: u32, name: &'static str, exe: &'static str| Facts {
        pid: Some(pid),
        processname: Some(name),
        exe: Some(exe),
        ..base
    };
    let org =
        |f: Facts<'static>, dst: &str, host: Option<&'static str>, org: &'static str, asn: u32, c: &'static str| {
            Facts { dstip: ip(dst), hostname: host, orgname: Some(org), asn: Some(asn), country: Some(c), ..f }
        };
    let firefox = p(2001, "firefox", "/usr/lib/firefox/firefox");
    let chrome = p(2002, "chrome", "/opt/google/chrome/chrome");
    let curl = p(3001, "curl", "/usr/bin/curl");
    vec![
        org(firefox, "142.250.74.46", Some("fra16s48-in-f14.1e100.net"), "Google LLC", 15169, "US"),
        org(firefox, "87.250.251.119", Some("mc.yandex.ru"), "YANDEX LLC", 13238, "RU"),
        org(firefox, "52.95.110.1", Some("s3.eu-west-1.amazonaws.com"), "Amazon.com, Inc.", 16509, "IE"),
        org(chrome, "87.240.190.72", Some("vk.com"), "VKontakte Ltd", 47541, "RU"),
        org(chrome, "217.69.139.200", Some("top-fwz1.mail.ru"), "LLC VK", 47764, "RU"),
        org(chrome, "93.184.216.34", None, "Edgecast Inc.", 15133, "US"),
        org(curl, "52.95.110.1", Some("s3.amazonaws.com"), "Amazon.com, Inc.", 16509, "US"),
        org(curl, "93.184.216.34", None, "Edgecast Inc.", 15133, "US"),
        org(
            p(880, "svchost.exe", "C:\\Windows\\System32\\svchost.exe"),
            "13.107.4.50",
            None,
            "Microsoft Corporation",
            8075,
            "US",
        ),
        org(p(4100, "steam", "/usr/bin/steam"), "208.64.200.1", None, "Valve Corporation", 32590, "US"),
        org(p(4200, "dropbox", "/usr/bin/dropbox"), "162.125.1.1", None, "Dropbox, Inc.", 19679, "US"),
        org(p(4300, "qbittorrent", "/usr/bin/qbittorrent"), "185.21.216.1", None, "Some ISP", 1, "NL"),
        org(
            p(4400, "skypeforlinux", "/usr/bin/skypeforlinux"),
            "52.114.1.1",
            None,
            "Microsoft Corporation",
            8075,
            "US",
        ),
        org(
            p(5000, "backupd", "/usr/local/bin/backupd"),
            "203.0.113.9",
            Some("backup.example"),
            "Example Net",
            64500,
            "DE",
        ),
        Facts { pid: Some(6000), processname: Some("python3"), dstip: ip("198.51.100.7"), ..base },
        Facts { pid: Some(6001), dstip: ip("2001:db8::7"), ..base },
        Facts { dstip: ip("198.51.100.8"), ..base },
        Facts { dstip: ip("2001:db8::8"), kind: Some(LeakKind::Passive), ..base },
        Facts { kind: Some(LeakKind::Sudden), srcport: Some(51515), ..Facts::default() },
        Facts::default(),
    ]
}

/// One alert candidate's matching work: the reported pattern and whether it is ignored.
#[inline(never)]
fn check(threats: &PatternSet, filters: &FilterSet, facts: &Facts<'_>) -> (usize, bool) {
    let p = threats.resolve(facts).map_or(0, |p| p.name().len());
    (p, filters.matches(facts).is_some())
}

/// Best-of-`rounds` mean ns per call of `f`, each round `iters` calls.
fn time_ns(rounds: usize, iters: usize, mut f: impl FnMut()) -> f64 {
    (0..rounds)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..iters {
                f();
            }
            t.elapsed().as_nanos() as f64 / iters as f64
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let (threats, filters, label) = load();
    let cands = candidates();
    let baseline = Regex::new("^(?:[0-9]{1,5})$").unwrap();
    let short = "40000";
    let bench_mode = std::env::args().any(|a| a == "--bench");
    if !bench_mode {
        for f in &cands {
            black_box(check(&threats, &filters, f));
        }
        assert!(baseline.is_match(black_box(short)));
        println!(
            "patterns bench: smoke run ok ({} candidates, {label}); use `cargo bench --bench patterns`",
            cands.len()
        );
        return;
    }

    let mut c = Criterion::default().configure_from_args();
    let mut g = c.benchmark_group("patterns");
    g.bench_function("resolve_and_filter_all_candidates", |b| {
        b.iter(|| {
            for f in &cands {
                black_box(check(&threats, &filters, black_box(f)));
            }
        })
    });
    g.bench_function("baseline_trivial_is_match", |b| b.iter(|| black_box(baseline.is_match(black_box(short)))));
    g.finish();
    c.final_summary();

    let per_candidate = time_ns(7, 20_000, || {
        for f in &cands {
            black_box(check(&threats, &filters, black_box(f)));
        }
    }) / cands.len() as f64;
    let per_regex = time_ns(7, 2_000_000, || {
        black_box(baseline.is_match(black_box(short)));
    });
    println!("patterns: {label}");
    println!("  {} threat patterns, {} filters, {} candidates", threats.len(), filters.len(), cands.len());
    println!("  resolve + filter check: {per_candidate:.0} ns per candidate");
    println!("  baseline is_match(\"{short}\"): {per_regex:.1} ns");
    println!("  ratio: {:.1} baseline regex matches per candidate", per_candidate / per_regex);
}
