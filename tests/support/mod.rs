//! Helpers shared by the capture-replay integration tests (`tests/replay_cli.rs`,
//! `tests/ndpi_flows.rs`): where the shared captures are, and running the binary with a
//! deadline so a hang fails the test instead of blocking the suite.

// Each test crate uses a different subset of these helpers.
#![allow(dead_code)]

pub mod ndpi;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one run of the binary may take before it counts as a hang.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// The shared folder: `$LEAKWATCH_SHARED`, else `../shared` next to the crate.
pub fn shared_dir() -> PathBuf {
    match std::env::var_os("LEAKWATCH_SHARED") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared")),
    }
}

/// `$SHARED/testdata/captures/ndpi-4.2`.
pub fn ndpi_dir() -> PathBuf {
    shared_dir().join("testdata/captures/ndpi-4.2")
}

/// A capture in `ndpi-4.2/`, which must exist.
pub fn ndpi_capture(name: &str) -> PathBuf {
    let p = ndpi_dir().join(name);
    assert!(p.is_file(), "missing test capture {} (set LEAKWATCH_SHARED?)", p.display());
    p
}

/// `$SHARED/testdata/captures/tcpdump-4.99.3/dns_udp.pcap`.
pub fn dns_udp_capture() -> PathBuf {
    let p = shared_dir().join("testdata/captures/tcpdump-4.99.3/dns_udp.pcap");
    assert!(p.is_file(), "missing test capture {}", p.display());
    p
}

/// What one run of the binary produced.
#[derive(Debug)]
pub struct Run {
    /// Exit code; `None` when killed by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// The command line, for failure messages.
    pub cmdline: String,
}

impl Run {
    /// Stdout's non-empty lines.
    pub fn lines(&self) -> Vec<&str> {
        self.stdout.lines().filter(|l| !l.trim().is_empty()).collect()
    }

    /// Every non-empty stdout line parsed as a JSON object (fails the test on anything else).
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.lines()
            .into_iter()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("{}: stdout line is not JSON ({e}): {l}", self.cmdline));
                assert!(v.is_object(), "{}: stdout line is not a JSON object: {l}", self.cmdline);
                v
            })
            .collect()
    }

    /// Asserts the exit code, showing everything on failure.
    pub fn assert_code(&self, code: i32) -> &Run {
        assert_eq!(self.code, Some(code), "{}: wrong exit code\n{}", self.cmdline, self.dump());
        self
    }

    /// The run, for failure messages.
    pub fn dump(&self) -> String {
        format!(
            "command: {}\nexit: {:?}\n--- stdout ({} bytes) ---\n{}\n--- stderr ---\n{}",
            self.cmdline,
            self.code,
            self.stdout.len(),
            truncate(&self.stdout, 4000),
            truncate(&self.stderr, 4000)
        )
    }
}

fn truncate(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Runs `leakwatch ARGS…` (in `cwd` if given) with a [`DEADLINE`]; kills it and fails the test
/// with "hang" when it takes longer. Also fails when stderr reports a panic.
pub fn leakwatch<S: AsRef<std::ffi::OsStr>>(args: &[S], cwd: Option<&Path>) -> Run {
    leakwatch_env(args, cwd, &[])
}

/// [`leakwatch`] with extra environment variables (set after the defaults, so they win).
pub fn leakwatch_env<S: AsRef<std::ffi::OsStr>>(args: &[S], cwd: Option<&Path>, env: &[(&str, &str)]) -> Run {
    let exe = env!("CARGO_BIN_EXE_leakwatch");
    let mut cmd = Command::new(exe);
    cmd.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    // Deterministic colour decisions and no stray environment influence.
    cmd.env_remove("NO_COLOR").env_remove("RUST_BACKTRACE");
    // English messages whatever the machine's locale, and no user ignores from the real
    // config directory (an empty private one instead).
    cmd.env("LC_ALL", "C.UTF-8").env_remove("LC_MESSAGES").env_remove("LANG");
    cmd.env("LEAKWATCH_CONFIG_DIR", empty_config_dir());
    // Nor the user's history (`run` records by default).
    cmd.env("LEAKWATCH_HISTORY_DIR", empty_config_dir());
    cmd.envs(env.iter().copied());
    if let Some(dir) = cwd {
        cmd.current_dir(dir);
    }
    let cmdline = std::iter::once("leakwatch".to_string())
        .chain(args.iter().map(|a| a.as_ref().to_string_lossy().into_owned()))
        .collect::<Vec<_>>()
        .join(" ");
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot run {exe}: {e}"));
    // Drain both pipes on threads so a chatty child never blocks on a full pipe.
    let mut out_pipe = child.stdout.take().expect("stdout pipe");
    let mut err_pipe = child.stderr.take().expect("stderr pipe");
    let out_thread = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out_pipe.read_to_end(&mut buf);
        buf
    });
    let err_thread = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err_pipe.read_to_end(&mut buf);
        buf
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() > DEADLINE => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("hang: `{cmdline}` did not finish within {DEADLINE:?}; killed it");
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => panic!("waiting for `{cmdline}`: {e}"),
        }
    };
    let stdout = String::from_utf8_lossy(&out_thread.join().expect("stdout reader")).into_owned();
    let stderr = String::from_utf8_lossy(&err_thread.join().expect("stderr reader")).into_owned();
    let run = Run { code: status.code(), stdout, stderr, cmdline };
    assert!(!run.stderr.contains("panicked"), "the binary panicked\n{}", run.dump());
    assert!(run.code.is_some(), "the binary was killed by a signal ({status})\n{}", run.dump());
    run
}

/// An empty config directory shared by the CLI runs of this test binary.
pub fn empty_config_dir() -> &'static std::path::Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("a temporary config directory")).path()
}

/// A permanent-ignore filter for the destination 10.200.0.`n`, in the legacy layout the GUIs send.
pub fn ip_filter(n: u64) -> serde_json::Value {
    serde_json::json!({
        "pattern": {"dstip": format!("^\\Q10.200.0.{n}\\E$")},
        "name": "Ignore.Custom.Pattern.IP",
        "related-patterns": "^\\QPattern.IP\\E$",
        "relation-mode": "all"
    })
}
