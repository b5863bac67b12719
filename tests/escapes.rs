//! One escaping rule for every output (src/text.rs): text from outside that carries ESC, CR,
//! NUL, a bidi override, a line separator or bytes that are not UTF-8 reaches no terminal or
//! log raw. Each output that prints such text is fed it here: `ignores list`, `ignores
//! export-legacy`, `patterns check`, the diagnostics on stderr. (History output, socket replies
//! and service events have their own tests: history_store.rs, legacy_protocol.rs,
//! service_netns.rs.)

use std::process::Command;

/// Every hostile character at once; `\u{1b}[2K\u{1b}[1A` erases the line above on a terminal.
const EVIL: &str = "x\u{1b}[2K\u{1b}[1A\r\0\u{202e}gpj.exe\u{2066}\u{2028}\u{feff}\u{9b}1m";

/// No raw control (but the line breaks of the output itself), bidi or separator character.
fn assert_clean(what: &str, text: &str) {
    let bad: Vec<char> = text.chars().filter(|&c| c != '\n' && leakwatch::text::is_unsafe(c)).collect();
    assert!(bad.is_empty(), "{what} printed raw {bad:?}: {text:?}");
    assert!(
        text.contains("\\u{1b}[2K\\u{1b}[1A\\u{d}\\u{0}\\u{202e}gpj.exe"),
        "{what} lost the escaped text: {text:?}"
    );
}

fn leakwatch(args: &[&str], env: &[(&str, &std::path::Path)]) -> (bool, String, String) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_leakwatch"));
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn ignores_list_and_export_escape_names_and_filters() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ignores.user.json");
    let filter = serde_json::json!({"pattern": {"processname": format!("^\\Q{EVIL}\\E$"), "exe": "/x"}, "name": EVIL});
    std::fs::write(&file, serde_json::json!({"filters": [filter]}).to_string()).unwrap();
    let f = file.to_str().unwrap();
    let (ok, out, err) = leakwatch(&["ignores", "list", "--file", f], &[]);
    assert!(ok, "{err}");
    assert_clean("ignores list", &out);
    let target = dir.path().join("old.json");
    let (ok, out, err) = leakwatch(&["ignores", "export-legacy", target.to_str().unwrap(), "--file", f], &[]);
    assert!(ok, "{err}");
    assert_clean("ignores export-legacy", &out);
}

#[test]
fn patterns_check_escapes_pattern_names_in_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("p.json");
    let p =
        serde_json::json!({"patterns": [{"name": EVIL, "priority": 1, "related-patterns": "^Nothing$", "msg": "m"}]});
    std::fs::write(&file, p.to_string()).unwrap();
    let (_, out, err) = leakwatch(&["patterns", "check", "--patterns", file.to_str().unwrap()], &[]);
    assert_clean("patterns check", &format!("{out}{err}"));
}

/// A diagnostic that quotes a file's bad content (here the config directory's ignores file,
/// which is not JSON and whose name a user may not have chosen) is escaped too: on stderr,
/// through the logger.
#[test]
fn diagnostics_on_stderr_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ignores.user.json"), format!("{{\"filters\": [{EVIL}").as_bytes()).unwrap();
    let (_, _, err) = leakwatch(&["ignores", "list"], &[("LEAKWATCH_CONFIG_DIR", dir.path())]);
    let bad: Vec<char> = err.chars().filter(|&c| c != '\n' && leakwatch::text::is_unsafe(c)).collect();
    assert!(bad.is_empty(), "stderr carried raw {bad:?}: {err:?}");
    assert!(err.contains("leakwatch: "), "{err}");
}
