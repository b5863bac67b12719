//! The engine with patterns, modes and ignores: an ignored threat goes silent and an unrelated
//! one does not, ignores made permanent survive a restart, modes switch at run time.

mod common;

use common::synth::*;
use leakwatch::alert::{AlertEvent, AlertPhase};
use leakwatch::engine::{Batch, Delivery, Engine, EngineHandle, IgnoreFor};
use leakwatch::ignores::IgnoreStore;
use leakwatch::judge::{Mode, Rules};
use leakwatch::packet::{Packet, Proto};
use leakwatch::process::FakeSocketTable;
use leakwatch::settings::EngineConfig;
use leakwatch::time::SECOND;
use std::path::Path;

const KIB: u64 = 1024;

fn table() -> FakeSocketTable {
    FakeSocketTable::default()
        .with(Proto::Tcp, 40000, process(1234, "curl"))
        .with(Proto::Tcp, 40001, process(99, "wget"))
        .with(Proto::Tcp, 40002, installed(5, "firefox"))
        .with(Proto::Tcp, 40003, process(6, "firefox"))
        .with(Proto::Tcp, 40004, renamed(7, "firefox"))
}

fn config(mode: Mode) -> EngineConfig {
    EngineConfig { rules: Rules::shipped(mode), realert_after: 60 * SECOND, ..EngineConfig::default() }
}

fn start(mode: Mode, store: Option<IgnoreStore>) -> (Engine, EngineHandle, crossbeam_channel::Receiver<AlertEvent>) {
    let engine = Engine::start_full(config(mode), Box::new(table()), store);
    let h = engine.handle();
    let rx = h.subscribe_alerts(Delivery::Lossless);
    (engine, h, rx)
}

fn send(h: &EngineHandle, packets: Vec<Packet>) {
    for chunk in packets.chunks(1024) {
        assert!(h.send_batch(Batch { packets: chunk.to_vec(), other: 0, malformed: 0, names: Vec::new() }));
    }
}

/// 5 s at 40 KiB/s from `start_s` (a sudden alert 2.5 s in).
fn upload(s: Stream, start_s: f64) -> Vec<Packet> {
    s.steady_from(us(start_s), 40 * KIB, us(5.0))
}

fn news(events: &[AlertEvent]) -> Vec<&AlertEvent> {
    events.iter().filter(|e| e.phase == AlertPhase::New).collect()
}

fn store_at(dir: &Path) -> IgnoreStore {
    let (store, problem) = IgnoreStore::open(dir.join("ignores.user.json")).expect("open the store");
    assert!(problem.is_none(), "{problem:?}");
    store
}

#[test]
fn ignoring_an_alert_silences_that_threat_and_not_an_unrelated_one() {
    let (engine, h, rx) = start(Mode::Paranoid, None);
    send(&h, upload(Stream::curl(), 0.0));
    let first = rx.recv().expect("curl alerts");
    assert_eq!(first.phase, AlertPhase::New);
    assert_eq!(first.alert.pattern.as_deref(), Some("Pattern.Process"));
    assert!(first.alert.callback_filter.contains(r"^\\Qcurl\\E$"), "{}", first.alert.callback_filter);
    h.ignore(&first.alert.callback_filter, IgnoreFor::Now).expect("the callback filter is accepted");

    // Two minutes later (past the cool-down): curl again, to the same and to another address,
    // and wget, which nobody ignored. The callback filter pins the destination as well as the
    // program (issue 18): curl to another address is another threat and alerts.
    send(
        &h,
        merge(vec![
            upload(Stream::curl(), 120.0),
            upload(Stream::curl().sport(40000).dst("198.51.100.9"), 200.0),
            upload(Stream::curl().sport(40001).dst("198.51.100.20"), 300.0),
        ]),
    );
    engine.finish();
    let events: Vec<AlertEvent> = rx.iter().collect();
    let new: Vec<_> = news(&events);
    assert_eq!(new.len(), 2, "curl elsewhere and wget alert: {new:#?}");
    assert_eq!(new[0].alert.process.as_ref().unwrap().name, "curl");
    assert_eq!(new[0].alert.dstip.to_string(), "198.51.100.9");
    assert_eq!(new[1].alert.process.as_ref().unwrap().name, "wget");
    assert!(events.iter().all(|e| e.alert.process.as_ref().unwrap().name != "curl"
        || e.alert.id == first.alert.id
        || e.alert.dstip.to_string() == "198.51.100.9"));
}

#[test]
fn an_ignore_silences_an_alert_that_is_still_going() {
    let (engine, h, rx) = start(Mode::Paranoid, None);
    let packets = Stream::curl().steady(40 * KIB, us(30.0));
    let (before, after) = packets.split_at(50); // 5 s in: the alert is open
    send(&h, before.to_vec());
    let new = rx.recv().unwrap();
    assert_eq!(new.phase, AlertPhase::New);
    h.ignore(&new.alert.callback_filter, IgnoreFor::Now).unwrap();
    let seen_before: Vec<AlertEvent> = rx.try_iter().collect();
    send(&h, after.to_vec());
    engine.finish();
    let later: Vec<AlertEvent> = rx.iter().collect();
    assert!(later.is_empty(), "no update or end after the ignore: {later:#?} (before: {})", seen_before.len());
}

#[test]
fn permanent_ignores_survive_a_restart_and_can_be_listed_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, h, rx) = start(Mode::Paranoid, Some(store_at(dir.path())));
    send(&h, upload(Stream::curl(), 0.0));
    let alert = rx.recv().unwrap().alert;
    let id = h.ignore(&alert.callback_filter, IgnoreFor::Always).unwrap();
    let listed = h.list_ignores();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].permanent && listed[0].id == id);
    engine.finish();
    let text = std::fs::read_to_string(dir.path().join("ignores.user.json")).unwrap();
    assert!(text.contains("Ignore.Custom.Pattern.Process") && text.contains("curl"), "{text}");

    // "Restart": a new engine on the same file.
    let (engine, h, rx) = start(Mode::Paranoid, Some(store_at(dir.path())));
    send(&h, upload(Stream::curl(), 0.0));
    let id = h.list_ignores()[0].id;
    assert_eq!(h.remove_ignore(id), Ok(true));
    assert_eq!(h.remove_ignore(id), Ok(false));
    send(&h, upload(Stream::curl().dst("198.51.100.9"), 120.0));
    engine.finish();
    let events: Vec<AlertEvent> = rx.iter().collect();
    let new = news(&events);
    assert_eq!(new.len(), 1, "silenced before the removal, alerting after it: {new:#?}");
    assert_eq!(new[0].alert.dstip.to_string(), "198.51.100.9");
    let text = std::fs::read_to_string(dir.path().join("ignores.user.json")).unwrap();
    assert!(!text.contains("curl"), "removed from the file too: {text}");
}

#[test]
fn modes_switch_at_run_time() {
    let (engine, h, rx) = start(Mode::Paranoid, None);
    let firefox = Stream::curl().sport(40002);
    send(&h, upload(firefox.dst("198.51.100.1"), 0.0));
    h.set_mode(Mode::Adequate);
    send(&h, merge(vec![upload(firefox.dst("198.51.100.2"), 100.0), upload(Stream::curl(), 200.0)]));
    h.set_mode(Mode::Paranoid);
    send(&h, upload(firefox.dst("198.51.100.3"), 300.0));
    engine.finish();
    let events: Vec<AlertEvent> = rx.iter().collect();
    let got: Vec<(String, String)> = news(&events)
        .iter()
        .map(|e| (e.alert.process.as_ref().unwrap().name.clone(), e.alert.dstip.to_string()))
        .collect();
    let want = [("firefox", "198.51.100.1"), ("curl", "93.184.216.34"), ("firefox", "198.51.100.3")];
    assert_eq!(got, want.map(|(a, b)| (a.to_string(), b.to_string())));
    assert_eq!(news(&events)[0].alert.pattern.as_deref(), Some("Pattern.StdApp.Browser"));
}

/// Issue 18: programs are matched by their installed executable, not the name they give
/// themselves. A program named `firefox` whose executable is unknown, or is a copy in a home
/// folder, alerts in every mode, and the copy is not even named a browser; the installed browser
/// is silent in adequate and chill.
#[test]
fn a_program_that_calls_itself_firefox_alerts_in_every_mode() {
    for mode in Mode::ALL {
        let (engine, h, rx) = start(mode, None);
        let streams = [40002, 40003, 40004].map(|port| Stream::curl().sport(port).dst("198.51.100.1"));
        send(&h, merge(streams.iter().enumerate().map(|(i, s)| upload(*s, i as f64 * 100.0)).collect()));
        engine.finish();
        let events: Vec<AlertEvent> = rx.iter().collect();
        let by_pid = |pid: u32| news(&events).into_iter().find(|e| e.alert.process.as_ref().unwrap().pid == pid);
        assert_eq!(by_pid(5).is_some(), mode == Mode::Paranoid, "{mode}: the installed browser");
        let nameless = by_pid(6).unwrap_or_else(|| panic!("{mode}: 'firefox' with no executable alerts"));
        let copy = by_pid(7).unwrap_or_else(|| panic!("{mode}: a copy named firefox alerts"));
        assert_ne!(copy.alert.pattern.as_deref(), Some("Pattern.StdApp.Browser"), "{mode}");
        assert!(nameless.alert.process.as_ref().unwrap().believed_name().is_none());
        // "Always ignore" on the copy pins its executable (and the destination), not the name.
        let cb = &copy.alert.callback_filter;
        assert!(cb.contains("/home/user/firefox") && cb.contains("dstip\""), "{cb}");
    }
}

#[test]
fn a_bad_filter_is_refused_with_a_reason() {
    let (engine, h, _rx) = start(Mode::Paranoid, None);
    let err = h.ignore(r#"{"name":"x","pattern":{"processname":"(?=a)"}}"#, IgnoreFor::Now).unwrap_err();
    assert!(err.contains("processname") && err.contains("look"), "{err}");
    assert!(h.ignore("not json", IgnoreFor::Now).is_err());
    let err = h.ignore(r#"{"name":"x"}"#, IgnoreFor::Always).unwrap_err();
    assert!(err.contains("ignores file"), "no ignores file in this engine: {err}");
    assert!(h.list_ignores().is_empty());
    engine.finish();
}

#[test]
fn new_rules_apply_at_once_and_a_bad_file_leaves_the_last_good_set() {
    use leakwatch::patterns::PatternSet;
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.json");
    std::fs::write(
        &good,
        r#"{"patterns":[{"name":"Mine.Curl","pattern":{"processname":"curl","differ-by":"dstip"},"priority":5}]}"#,
    )
    .unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"patterns":[{"name":"Broken","pattern":{"dstip":"("},"priority":5}]}"#).unwrap();

    let (engine, h, rx) = start(Mode::Paranoid, None);
    send(&h, upload(Stream::curl(), 0.0));
    let err = PatternSet::load(&bad).unwrap_err().to_string();
    assert!(err.contains("bad.json") && err.contains("Broken") && err.contains("dstip"), "{err}");
    // Nothing reached the engine: it still names threats with the shipped set.
    send(&h, upload(Stream::curl().dst("198.51.100.1"), 100.0));
    let rules = Rules::with_threats(Arc::new(PatternSet::load(&good).unwrap()), Mode::Paranoid).unwrap();
    h.set_rules(rules);
    send(&h, upload(Stream::curl().dst("198.51.100.2"), 200.0));
    engine.finish();
    let events: Vec<AlertEvent> = rx.iter().collect();
    let names: Vec<Option<&str>> = news(&events).iter().map(|e| e.alert.pattern.as_deref()).collect();
    assert_eq!(names, [Some("Pattern.Process"), Some("Pattern.Process"), Some("Mine.Curl")]);
    let last = news(&events)[2];
    assert!(last.alert.callback_filter.contains(r"198.51.100.2"), "differ-by dstip: {}", last.alert.callback_filter);
}

#[test]
fn an_ignore_for_a_while_expires() {
    let (engine, h, rx) = start(Mode::Paranoid, None);
    send(&h, upload(Stream::curl(), 0.0));
    let alert = rx.recv().unwrap().alert;
    h.ignore(&alert.callback_filter, IgnoreFor::Duration(std::time::Duration::from_millis(300))).unwrap();
    // The same threat (the callback filter pins the destination too).
    send(&h, upload(Stream::curl(), 100.0));
    // A command round trip: the engine has handled everything sent before it.
    assert_eq!(h.list_ignores().len(), 1);
    let during: Vec<AlertEvent> = rx.try_iter().collect();
    std::thread::sleep(std::time::Duration::from_millis(400));
    send(&h, upload(Stream::curl().dst("198.51.100.2"), 200.0));
    assert!(h.list_ignores().is_empty(), "expired ignores are not listed");
    engine.finish();
    let after: Vec<AlertEvent> = rx.iter().collect();
    assert!(news(&during).is_empty(), "ignored while it lasts: {during:#?}");
    let new = news(&after);
    assert_eq!(new.len(), 1, "alerts again once it expired: {after:#?}");
    assert_eq!(new[0].alert.dstip.to_string(), "198.51.100.2");
}
