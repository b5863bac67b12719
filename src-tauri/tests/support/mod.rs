//! Helpers shared by the app's integration tests: a recording sink, paths to the samples, and
//! re-running one test inside a private D-Bus session (and Xvfb).
#![allow(dead_code)]

#[path = "../../../tests/skip/mod.rs"]
pub mod skip;

use leakwatch_app::core::Sink;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Records every event the core emits.
#[derive(Default)]
pub struct RecordingSink {
    pub events: Mutex<Vec<(String, Value)>>,
    pub shown: Mutex<Vec<u64>>,
}

impl Sink for RecordingSink {
    fn emit(&self, event: &str, payload: Value) {
        self.events.lock().unwrap().push((event.to_string(), payload));
    }

    fn show_alert(&self, id: u64) {
        self.shown.lock().unwrap().push(id);
    }
}

impl RecordingSink {
    pub fn named(&self, name: &str) -> Vec<Value> {
        self.events.lock().unwrap().iter().filter(|(n, _)| n == name).map(|(_, v)| v.clone()).collect()
    }

    /// Waits up to `timeout` for an event `name` matching `pred`.
    pub fn wait_for(&self, name: &str, timeout: Duration, pred: impl Fn(&Value) -> bool) -> Option<Value> {
        poll(timeout, || self.named(name).into_iter().find(|v| pred(v)))
    }
}

/// Asks `f` every 50 ms until it gives something, for at most `limit`.
pub fn poll<T>(limit: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if start.elapsed() >= limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn sink() -> Arc<RecordingSink> {
    Arc::new(RecordingSink::default())
}

pub fn sample(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../samples").join(name)
}

/// Env var set in the child that runs inside the private session.
pub const INSIDE: &str = "LEAKWATCH_TEST_INSIDE_SESSION";

/// Whether a program is on PATH.
pub fn have(program: &str) -> bool {
    std::process::Command::new("sh")
        .args(["-c", &format!("command -v {program} >/dev/null 2>&1")])
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs test `name` of this test binary again inside `wrapper` (e.g. `dbus-run-session --`)
/// and returns true if this call is the outer one (the caller returns after it). Skips (with
/// a printed reason, returning true) when a wrapper program is missing.
pub fn rerun_inside(name: &str, wrapper: &[&str]) -> bool {
    if std::env::var_os(INSIDE).is_some() {
        return false;
    }
    for w in wrapper.iter().filter(|w| !w.starts_with('-') && !w.contains('=')).take(1) {
        if !have(w) {
            skip::skip(&format!("{w} is not installed (scripts/install-deps installs it)"));
            return true;
        }
    }
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(wrapper[0])
        .args(&wrapper[1..])
        .arg(&exe)
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(INSIDE, "1")
        .output()
        .expect("running the test inside its session");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("--- inner run of {name} ---\n{stdout}\n{stderr}");
    assert!(out.status.success(), "{name} failed inside {wrapper:?}");
    assert!(stdout.contains("1 passed"), "{name} did not run inside {wrapper:?}");
    true
}

/// Absolute geometry `(x, y, width, height)` of the first X window titled exactly `title`
/// (from `xwininfo -root -tree`), waiting up to `limit` for it to appear and then to settle:
/// the same geometry on reads at least 400 ms apart. A popup is mapped first and resized to
/// fit its text afterwards (notification-daemon does), so a click placed from the first read
/// can land on the text instead of a button.
#[allow(dead_code)] // not every test binary uses it
pub fn window_geometry(title: &str, limit: Duration) -> Option<(i64, i64, i64, i64)> {
    let quoted = format!("\"{title}\":");
    let read = || {
        let out = std::process::Command::new("xwininfo").args(["-root", "-tree"]).output().ok()?;
        let text = String::from_utf8_lossy(&out.stdout);
        // e.g. `0x20000c "Notification": ("notification-daemon" "Notification-daemon")  400x145+874+6  +874+6`
        let line = text.lines().find(|l| l.contains(&quoted))?;
        let abs = line.split_whitespace().last()?; // +874+6
        let size = line.split_whitespace().rev().nth(1)?; // 400x145+874+6
        let (w, rest) = size.split_once('x')?;
        let h = rest.split(['+', '-']).next()?;
        let mut xy = abs.trim_start_matches('+').split('+');
        let (x, y) = (xy.next()?.parse().ok()?, xy.next()?.parse().ok()?);
        Some((x, y, w.parse().ok()?, h.parse().ok()?))
    };
    let mut last: Option<((i64, i64, i64, i64), Instant)> = None;
    poll(limit, || {
        let now = read()?;
        match last {
            Some((seen, since)) if seen == now => (since.elapsed() >= Duration::from_millis(400)).then_some(now),
            _ => {
                last = Some((now, Instant::now()));
                None
            }
        }
    })
}
