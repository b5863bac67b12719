//! `--embedded`: an engine in the app capturing live on loopback with the rights of whoever runs
//! it (no service). As root it watches, and its status says what an engine without the service
//! cannot see; without capture rights it says to start the service (never to give the app
//! capabilities).

mod support;

use leakwatch_app::core::{Core, Options, Source};
use std::time::Duration;

#[test]
fn embedded_live_capture_says_what_it_cannot_see_or_how_to_get_the_service() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("settings.json"), {
        let s = leakwatch_app::settings::Settings { interfaces: vec!["lo".into()], ..Default::default() };
        serde_json::to_string(&s).unwrap()
    })
    .unwrap();
    let sink = support::sink();
    let (tx, rx) = crossbeam_channel::unbounded();
    let opts = Options {
        source: Source::Live,
        config_dir: dir.path().to_path_buf(),
        reverse_dns: false,
        asn: false,
        legacy_ports: 45330..=45340,
        history: None,
    };
    let core = Core::start(opts, sink.clone(), None, rx);
    let root = std::fs::read_to_string("/proc/self/status")
        .is_ok_and(|s| s.lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0")));
    let status = support::poll(Duration::from_secs(15), || {
        let s = core.engine_status();
        let settled = if root { s.interfaces == ["lo"] } else { s.state != "watching" };
        (settled && s.message.is_some()).then_some(s)
    });
    drop(tx);
    core.shutdown();
    let status = status.expect("a settled status with a message");
    let msg = status.message.clone().unwrap();
    if root {
        assert_eq!(status.state, "watching", "{status:?}");
        assert!(msg.contains("other users' programs") && msg.contains("sudo systemctl start leakwatch"), "{msg}");
    } else {
        assert_eq!(status.state, "no_permission", "{status:?}");
        assert!(msg.contains("sudo systemctl start leakwatch") && !msg.contains("setcap"), "{msg}");
    }
}
