//! A real notification server (Debian's `notification-daemon`) under Xvfb on a private session
//! bus: the ookla replay raises a notification with both actions; clicking "Always ignore" on
//! it (with xdotool) creates the permanent ignore in a temporary config dir's
//! `ignores.user.json`.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const DAEMON: &str = "/usr/lib/notification-daemon/notification-daemon";

#[cfg(target_os = "linux")]
#[test]
fn real_server_shows_both_actions_and_always_ignore_persists() {
    use leakwatch_app::core::{Core, Options, Source};
    if std::env::var_os(support::INSIDE).is_none() {
        for p in ["xdotool", "xwininfo", "dbus-monitor"] {
            if !support::have(p) {
                support::skip::skip(&format!("{p} is not installed (scripts/install-deps installs it)"));
                return;
            }
        }
        if !std::path::Path::new(DAEMON).exists() {
            support::skip::skip(&format!("{DAEMON} is missing (apt-get install notification-daemon)"));
            return;
        }
    }
    if support::rerun_inside(
        "real_server_shows_both_actions_and_always_ignore_persists",
        &["xvfb-run", "-a", "-s", "-screen 0 1280x800x24", "dbus-run-session", "--"],
    ) {
        return;
    }
    let mut daemon = Command::new(DAEMON).env("NO_AT_BRIDGE", "1").stderr(Stdio::null()).spawn().unwrap();
    let owner = || {
        Command::new("gdbus")
            .args(["call", "--session", "--dest", "org.freedesktop.DBus", "--object-path", "/org/freedesktop/DBus"])
            .args(["--method", "org.freedesktop.DBus.GetNameOwner", "org.freedesktop.Notifications"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let t = Instant::now();
    while !owner() && t.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(owner(), "notification-daemon did not start");
    let monitor_log = tempfile::NamedTempFile::new().unwrap();
    let mut monitor = Command::new("dbus-monitor")
        .args(["--session", "interface='org.freedesktop.Notifications',member='Notify'"])
        .stdout(monitor_log.reopen().unwrap())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));

    let dir = tempfile::tempdir().unwrap();
    let sink = support::sink();
    let (tx, rx) = crossbeam_channel::unbounded();
    let notifier = leakwatch_app::notify::system_notifier(tx).expect("the real server answers");
    assert!(notifier.supports_actions());
    let opts = Options {
        source: Source::Replay { path: support::sample("ookla.pcap"), speed: 50.0 },
        config_dir: dir.path().to_path_buf(),
        reverse_dns: false,
        asn: false,
        legacy_ports: 45311..=45320,
        history: None,
    };
    let core = Core::start(opts, sink.clone(), Some(notifier), rx);
    let alert = sink.wait_for("alert", Duration::from_secs(20), |_| true).expect("an alert");
    let id = alert["id"].as_u64().unwrap();

    // The Notify call carried both actions with their labels.
    let t = Instant::now();
    let mut seen = String::new();
    while t.elapsed() < Duration::from_secs(5) {
        seen = std::fs::read_to_string(monitor_log.path()).unwrap_or_default();
        if seen.contains("always_ignore") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    for want in ["\"ignore_now\"", "\"Ignore for now\"", "\"always_ignore\"", "\"Always ignore\""] {
        assert!(seen.contains(want), "{want} not in the Notify call:\n{seen}");
    }

    // Click "Always ignore": the last button, at the bottom right of the popup.
    let (x, y, w, h) =
        support::window_geometry("Notification", Duration::from_secs(5)).expect("the notification popup is on screen");
    shot("notification");
    let status = Command::new("xdotool")
        .args(["mousemove", &(x + w - 105).to_string(), &(y + h - 40).to_string(), "click", "1"])
        .status()
        .unwrap();
    assert!(status.success());
    let updated = sink
        .wait_for("alert-updated", Duration::from_secs(10), |v| v["id"] == id && v["ignored"] == true)
        .expect("the click ignored the alert");
    let file = std::fs::read_to_string(dir.path().join("ignores.user.json")).expect("ignores.user.json written");
    let stored: serde_json::Value = serde_json::from_str(&file).unwrap();
    let want: serde_json::Value = serde_json::from_str(updated["callback_filter"].as_str().unwrap()).unwrap();
    assert!(stored["filters"].as_array().unwrap().contains(&want), "{file}");
    assert!(core.list_ignores().iter().any(|i| i.permanent && i.source.as_deref() == Some("tray")));
    core.shutdown();
    let _ = monitor.kill();
    let _ = daemon.kill();
    let _ = monitor.wait();
    let _ = daemon.wait();
}

/// Saves a screenshot of the screen to `$CARGO_TARGET_DIR/ui-shots/<name>.png` (best effort).
fn shot(name: &str) {
    let dir = std::path::PathBuf::from(std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into()))
        .join("ui-shots");
    let _ = std::fs::create_dir_all(&dir);
    let _ = Command::new("import").args(["-window", "root"]).arg(dir.join(format!("{name}.png"))).status();
}
