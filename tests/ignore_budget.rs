//! Ignores that cannot blow up memory (issue 18): the compiled regexes of all the user's
//! ignores together stay within `patterns::USER_BUDGET`, each one within `USER_LIMITS`, and a
//! pattern or filter file within `FILE_BUDGET`, with the file or source named when refused.
//! Measured before: 500 ignores like `{"processname":"[a-z]{1,3000}x<i>"}` (70 bytes each)
//! grew memory by 608 MB; a 136 KB filter file aborted at 1.5 GB.

use leakwatch::engine::{Engine, IgnoreFor};
use leakwatch::ignores::IgnoreSource;
use leakwatch::judge::{Mode, Rules};
use leakwatch::process::NoSocketTable;
use leakwatch::settings::EngineConfig;
use std::time::{Duration, Instant};

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// 500 huge-regex ignores from the legacy socket and 500 from the user (CLI, app, API) are
/// refused or stopped at the budget; memory grows by a few MB, not hundreds.
#[test]
fn five_hundred_huge_ignores_grow_memory_by_a_few_mb_at_most() {
    let config = EngineConfig { rules: Rules::shipped(Mode::Paranoid), ..EngineConfig::default() };
    let engine = Engine::start_full(config, Box::new(NoSocketTable), None);
    let h = engine.handle();
    // Warm up: the engine's own tables and one ordinary ignore.
    h.ignore(r#"{"name":"warm","pattern":{"processname":"^\\Qcurl\\E$"}}"#, IgnoreFor::Now).unwrap();
    let before = rss_kib();
    let start = Instant::now();
    let (mut added, mut refused_size, mut refused_budget) = (0, 0, 0);
    for i in 0..500 {
        for (source, body) in [
            (
                IgnoreSource::LegacySocket,
                format!(r#"{{"name":"s{i}","pattern":{{"processname":"[a-z]{{1,3000}}x{i}"}}}}"#),
            ),
            (IgnoreSource::User, format!(r#"{{"name":"u{i}","pattern":{{"processname":"[a-z]{{1,150}}y{i}"}}}}"#)),
        ] {
            match h.ignore_from(&body, IgnoreFor::Now, source) {
                Ok(_) => added += 1,
                Err(e) if e.contains("size limit") => refused_size += 1,
                Err(e) if e.contains("the compiled regexes would take more than") => refused_budget += 1,
                Err(e) => panic!("{body}: {e}"),
            }
        }
    }
    let grown_mib = rss_kib().saturating_sub(before) as f64 / 1024.0;
    eprintln!(
        "1000 huge ignores: {added} added, {refused_size} over the per-regex limit, {refused_budget} over the budget; \
         memory grew by {grown_mib:.1} MiB in {:?}",
        start.elapsed()
    );
    assert_eq!(refused_size, 500, "every [a-z]{{1,3000}} is over the per-regex limit of an ignore");
    assert!(refused_budget > 0, "the budget stopped the [a-z]{{1,150}} ones ({added} added)");
    assert!(grown_mib < 40.0, "memory grew by {grown_mib:.1} MiB");
    // Ordinary ignores still go in (each costs little) until the budget, and matching works.
    assert!(h.list_ignores().len() >= 2);
    engine.finish();
}

/// A filter file of hundreds of huge regexes is refused before it takes much memory, naming
/// the file and the pattern where the budget ran out.
#[test]
fn a_filter_file_of_huge_regexes_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("filters.json");
    let filters: Vec<serde_json::Value> = (0..1900)
        .map(|i| serde_json::json!({"name": format!("f{i}"), "pattern": {"processname": format!("[a-z]{{1,3000}}x{i}")}}))
        .collect();
    let text = serde_json::json!({ "filters": filters }).to_string();
    assert!(text.len() > 100_000, "{}", text.len());
    std::fs::write(&file, &text).unwrap();
    let start = Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_leakwatch"))
        .args(["patterns", "check", "--filters", file.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains(&file.display().to_string()) && err.contains("would take more than"), "{err}");
    assert!(start.elapsed() < Duration::from_secs(60), "{:?}", start.elapsed());
}
