//! The core without a display: `--replay` of the ookla capture raises the alert (event and
//! fake notification), the contract's commands ignore it for now and for ever (written to
//! `ignores.user.json`), remove ignores, and settings persist across a restart. The legacy TCP
//! server runs inside the app: an old client reads the alert and ignores it, and the user is told.

mod support;

use leakwatch_app::core::{Core, Options, Source};
use leakwatch_app::notify::{FakeNotifier, NoteAction, NoteEvent};
use leakwatch_app::settings::Settings;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

/// Ports of the legacy server in these tests (not the default range, which a running
/// Leakwatch may hold).
const LEGACY_PORTS: std::ops::RangeInclusive<u16> = 45300..=45310;

fn start(
    dir: &std::path::Path,
    sink: Arc<support::RecordingSink>,
    fake: FakeNotifier,
) -> (Arc<Core>, crossbeam_channel::Sender<NoteEvent>) {
    start_with_history(dir, sink, fake, None)
}

fn start_with_history(
    dir: &std::path::Path,
    sink: Arc<support::RecordingSink>,
    fake: FakeNotifier,
    history: Option<std::path::PathBuf>,
) -> (Arc<Core>, crossbeam_channel::Sender<NoteEvent>) {
    let legacy_ports = LEGACY_PORTS;
    let (tx, rx) = crossbeam_channel::unbounded();
    let opts = Options {
        source: Source::Replay { path: support::sample("ookla.pcap"), speed: 50.0 },
        config_dir: dir.to_path_buf(),
        reverse_dns: false,
        asn: true,
        legacy_ports,
        history,
    };
    (Core::start(opts, sink, Some(Box::new(fake)), rx), tx)
}

#[test]
fn replay_alert_notify_ignore_and_settings() {
    let dir = tempfile::tempdir().unwrap();
    let sink = support::sink();
    let fake = FakeNotifier { actions: true, ..FakeNotifier::default() };
    let (core, actions) = start(dir.path(), sink.clone(), fake.clone());

    // The upload starts ~32 s into the capture: under a second at 50×.
    let alert = sink.wait_for("alert", Duration::from_secs(20), |_| true).expect("an alert event");
    assert_eq!(alert["kind"], "sudden");
    assert_eq!(alert["dstip"], "46.44.253.187");
    assert_eq!(alert["phase"], "new");
    assert_eq!(alert["ignored"], false);
    assert_eq!(alert["country"], "IT");
    let id = alert["id"].as_u64().unwrap();
    let shown = fake.shown.lock().unwrap().clone();
    assert_eq!(shown[0].0, id);
    assert!(shown[0].1.contains("unfamiliar"), "title is the exciter: {shown:?}");
    assert_eq!(core.list_alerts()[0]["id"], id);
    assert!(sink.wait_for("engine-status", Duration::from_secs(5), |s| s["state"] == "watching").is_some());
    let stats = sink.wait_for("stats", Duration::from_secs(5), |s| !s["programs"].as_array().unwrap().is_empty());
    assert_eq!(stats.unwrap()["programs"][0]["key"], "unknown");

    // Bad arguments are refused with the field named.
    assert!(core.ignore_alert(id, "forever", "ui").unwrap_err().starts_with("scope:"));
    assert!(core.ignore_alert(999_999, "always", "ui").unwrap_err().starts_with("id:"));

    // "Always ignore" from the notification: permanent, in ignores.user.json, the row ignored.
    actions.send(NoteEvent { alert_id: id, action: NoteAction::AlwaysIgnore }).unwrap();
    let updated = sink
        .wait_for("alert-updated", Duration::from_secs(5), |v| v["id"] == id && v["ignored"] == true)
        .expect("the alert is shown ignored");
    let filter = updated["callback_filter"].as_str().unwrap().to_string();
    let file = std::fs::read_to_string(dir.path().join("ignores.user.json")).unwrap();
    let stored: serde_json::Value = serde_json::from_str(&file).unwrap();
    let want: serde_json::Value = serde_json::from_str(&filter).unwrap();
    assert!(stored["filters"].as_array().unwrap().contains(&want), "{file}");
    let ignores = core.list_ignores();
    let permanent = ignores.iter().find(|i| i.permanent).expect("a permanent ignore");
    assert_eq!(permanent.source.as_deref(), Some("tray"));
    assert!(permanent.created_at.as_deref().is_some_and(|t| t.starts_with("20")), "{permanent:?}");

    // Removing it un-ignores the row; a temporary ignore from the UI works too.
    assert!(core.remove_ignore(permanent.id).unwrap());
    assert!(!core.remove_ignore(permanent.id).unwrap());
    assert!(
        sink.wait_for("alert-updated", Duration::from_secs(5), |v| v["id"] == id && v["ignored"] == false).is_some()
    );
    let tmp = core.ignore_alert(id, "for_15m", "ui").unwrap();
    let i = core.list_ignores().into_iter().find(|i| i.id == tmp).unwrap();
    assert!(!i.permanent && i.until.is_some());

    // Clicking the body opens the window on the alert.
    actions.send(NoteEvent { alert_id: id, action: NoteAction::Open }).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(sink.shown.lock().unwrap().clone(), vec![id]);

    // Settings: invalid refused with the field; valid ones persist and apply.
    let bad = Settings { min_leak_size: 1, ..core.get_settings() };
    assert!(core.set_settings(bad).unwrap_err().starts_with("min_leak_size:"));
    let next = Settings { mode: "chill".into(), locale: "ru".into(), ..core.get_settings() };
    core.set_settings(next.clone()).unwrap();
    assert_ne!(core.list_alerts()[0]["message"], alert["message"], "messages follow the language");
    core.pause(Some(Duration::from_secs(60)));
    assert_eq!(core.engine_status().state, "paused");
    assert!(core.engine_status().paused_until.is_some());
    core.resume();
    assert_eq!(core.engine_status().state, "watching");
    core.shutdown();

    let sink2 = support::sink();
    let (core2, _a) = start(dir.path(), sink2, FakeNotifier::default());
    assert_eq!(core2.get_settings(), next);
    core2.shutdown();
}

#[test]
fn a_bad_settings_file_is_kept_aside_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("settings.json"), "{oops").unwrap();
    let (core, _a) = start(dir.path(), support::sink(), FakeNotifier::default());
    assert_eq!(core.get_settings(), Settings::default());
    let msg = core.engine_status().message.unwrap_or_default();
    assert!(msg.contains("settings.json.bad-"), "{msg}");
    core.shutdown();
}

#[test]
fn legacy_clients_get_alerts_and_their_ignores_are_announced() {
    let dir = tempfile::tempdir().unwrap();
    let sink = support::sink();
    let fake = FakeNotifier { actions: true, ..FakeNotifier::default() };
    let (core, _actions) = start(dir.path(), sink.clone(), fake.clone());
    sink.wait_for("alert", Duration::from_secs(20), |_| true).expect("an alert event");
    let port =
        support::poll(Duration::from_secs(5), || core.engine_status().legacy_port).expect("the status names the port");
    assert!(LEGACY_PORTS.contains(&port));

    // An old GUI: get_alert gives the alert with its ready-made filter; it ignores it for ever.
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut w = stream;
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert_eq!(line, ":::daemon_protocol_start:::\n");
    w.write_all(b"get_alert\n").unwrap();
    line.clear();
    reader.read_line(&mut line).unwrap();
    let alert: serde_json::Value = serde_json::from_str(line.trim_end()).unwrap_or_else(|e| panic!("{e}: {line:?}"));
    let filter = alert["callback_filter"].as_str().expect("callback_filter").to_string();
    w.write_all(format!("ignore_permanent\n{filter}\n").as_bytes()).unwrap();

    let ignore = support::poll(Duration::from_secs(5), || core.list_ignores().into_iter().find(|i| i.permanent))
        .expect("the ignore from the socket is listed");
    assert_eq!(ignore.source.as_deref(), Some("legacy-socket"));
    let file = std::fs::read_to_string(dir.path().join("ignores.user.json")).unwrap();
    let stored: serde_json::Value = serde_json::from_str(&file).unwrap();
    let want: serde_json::Value = serde_json::from_str(&filter).unwrap();
    assert!(stored["filters"].as_array().unwrap().contains(&want), "{file}");
    let told = support::poll(Duration::from_secs(5), || fake.shown.lock().unwrap().iter().find(|s| s.0 == 0).cloned())
        .expect("the user is told that another program added an ignore");
    assert!(told.1.contains("another program"), "{told:?}");
    assert!(told.2.contains("127.0.0.1") && told.2.contains("for ever"), "{told:?}");

    // Turned off in Settings: the port closes and the status says so.
    let off = Settings { legacy_enabled: false, ..core.get_settings() };
    core.set_settings(off).unwrap();
    assert_eq!(core.engine_status().legacy_port, None);
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err(), "nothing listens on {port} any more");
    let on = Settings { legacy_enabled: true, ..core.get_settings() };
    core.set_settings(on).unwrap();
    assert!(core.engine_status().legacy_port.is_some());
    core.shutdown();
}

#[test]
fn history_records_alerts_and_ignores_and_the_commands_read_and_export_them() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("history.sqlite");
    let sink = support::sink();
    let (core, _actions) = start_with_history(dir.path(), sink.clone(), FakeNotifier::default(), Some(db.clone()));
    let alert = sink.wait_for("alert", Duration::from_secs(20), |_| true).expect("an alert event");
    let id = alert["id"].as_u64().unwrap();
    core.ignore_alert(id, "always", "user").expect("ignored");
    core.shutdown();
    let stored = core.history.alerts("all", None, None, None).expect("history_alerts");
    assert_eq!(stored[0]["dstip"], "46.44.253.187");
    assert_eq!(stored[0]["ignored_scope"], "always");
    assert!(core.history.alerts("all", None, Some("no such text".into()), None).unwrap().is_empty());
    assert!(core.history.alerts("3y", None, None, None).unwrap_err().starts_with("since:"));
    // The capture is from 2017: nothing in the last 30 days of wall-clock time, but a valid view
    // that says when the newest record is, and the period ending then has the upload and alert.
    let view = core.history.uploads("30d", "program", None, None).expect("history_uploads");
    assert_eq!(view.bucket_s, 6 * 3600);
    assert!(view.series.is_empty() && view.top.is_empty(), "{view:?}");
    assert!(core.history.alerts("30d", None, None, None).unwrap().is_empty());
    let newest = view.newest.expect("the view says when the newest record is");
    assert!(newest < view.since, "{view:?}");
    let then = core.history.uploads("24h", "program", None, Some(newest + 60)).expect("history_uploads until");
    assert_eq!(then.until, newest + 60);
    assert!(!then.series.is_empty() && then.top[0].bytes > 100_000, "{then:?}");
    let alerts_then = core.history.alerts("24h", None, None, Some(newest + 60)).unwrap();
    assert_eq!(alerts_then[0]["dstip"], "46.44.253.187");
    assert!(core.history.alerts("24h", None, None, Some(newest - 2 * 86_400)).unwrap().is_empty());
    assert!(core.history.uploads("2h", "program", None, None).unwrap_err().starts_with("range:"));
    assert!(core.history.uploads("1h", "planet", None, None).unwrap_err().starts_with("by:"));
    let out = dir.path().join("export.json");
    let saved = core.history.export("json", Some(out.display().to_string())).expect("export_history");
    assert_eq!(saved.as_deref(), Some(out.to_str().unwrap()));
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(v["alerts"][0]["dstip"], "46.44.253.187");
    assert!(core.history.export("xml", None).unwrap_err().starts_with("format:"));
}
