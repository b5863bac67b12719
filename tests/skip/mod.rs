//! Honest skips, shared by every test binary of both crates (`mod skip;`, or
//! `#[path = "../../tests/skip/mod.rs"] mod skip;` from src-tauri/tests).
//!
//! A test that cannot run here (not root, a tool missing, no display) calls [`skip`] and returns.
//! Cargo still reports it as passed, so [`skip`] also appends one line to the file named by
//! `LEAKWATCH_SKIP_LOG` (the Makefile sets it): `make test` moves those tests from "passed" to
//! "skipped" in its total and lists them with their reasons. With `LEAKWATCH_REQUIRE_LIVE=1`
//! (CI, which runs as root with every tool) a skip is a failure instead.

#![allow(dead_code)]

use std::io::Write;

/// Whether every live, root-only and display test must run (a missing prerequisite fails).
pub fn required() -> bool {
    std::env::var("LEAKWATCH_REQUIRE_LIVE").is_ok_and(|v| v == "1")
}

/// The running test's name (cargo's test harness names each test's thread after it).
pub fn current_test() -> String {
    std::thread::current().name().unwrap_or("?").to_string()
}

/// Records that the running test is skipped because of `why` (say what is missing and how to
/// get it); panics instead when [`required`].
pub fn skip(why: &str) {
    let test = current_test();
    assert!(!required(), "{test}: cannot run here ({why}) and LEAKWATCH_REQUIRE_LIVE=1 forbids skipping");
    let crate_name = env!("CARGO_PKG_NAME");
    println!("skipped: {test}: {why}");
    eprintln!("skipped: {test}: {why}");
    if let Some(path) = std::env::var_os("LEAKWATCH_SKIP_LOG") {
        let line = format!("{crate_name} {test}: {why}\n");
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(line.as_bytes()));
        if let Err(e) = written {
            panic!("cannot record the skip in {}: {e}", std::path::Path::new(&path).display());
        }
    }
}

/// Whether this process runs as root (user id 0).
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false)
}

/// Whether `tool` is on PATH.
pub fn have(tool: &str) -> bool {
    std::process::Command::new("sh")
        .args(["-c", &format!("command -v '{tool}'")])
        .stdout(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Skips (see [`skip`]) unless root; returns whether the test may go on.
pub fn need_root(what: &str) -> bool {
    if is_root() {
        return true;
    }
    skip(&format!("needs root ({what}); run the tests as root, e.g. sudo make test"));
    false
}
