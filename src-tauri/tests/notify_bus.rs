//! Freedesktop notifications against a fake server on a private `dbus-run-session` bus: both
//! actions are offered with their labels, updates replace the notification, and an
//! `ActionInvoked` is accepted only from the server and only for an id we sent (a signal
//! emitted by another bus connection is ignored); the server going away and another one coming
//! (a desktop shell restarting) neither crashes nor confuses the ids of one with the other.

mod support;

#[cfg(target_os = "linux")]
#[path = "support/fake_server.rs"]
mod fake_server;

#[cfg(target_os = "linux")]
fn note(alert_id: u64, title: &str, body: &str) -> leakwatch_app::notify::Note {
    leakwatch_app::notify::Note {
        alert_id,
        title: title.into(),
        body: body.into(),
        ignore_now_label: "Ignore for now".into(),
        always_ignore_label: "Always ignore".into(),
        open_to_ignore: "Open Leakwatch to ignore it.".into(),
    }
}

#[cfg(target_os = "linux")]
#[test]
fn action_invoked_only_from_the_server_and_for_our_ids() {
    use leakwatch_app::notify::freedesktop::FreedesktopNotifier;
    use leakwatch_app::notify::{NoteAction, NoteEvent, Notifier};
    use std::time::Duration;

    if support::rerun_inside("action_invoked_only_from_the_server_and_for_our_ids", &["dbus-run-session", "--"]) {
        return;
    }
    let (server, log) = fake_server::start(true);
    let (tx, rx) = crossbeam_channel::unbounded();
    let mut n = FreedesktopNotifier::connect(tx).expect("connects to the fake server");
    assert!(n.supports_actions());
    let note = note(42, "Upload to an unfamiliar address", "In 4.9 s, 101.3 KiB went to …");
    n.show(&note).unwrap();
    let first = log.lock().unwrap()[0].clone();
    assert_eq!(first.replaces_id, 0);
    assert_eq!(first.summary, note.title);
    assert_eq!(first.body, note.body);
    for want in ["ignore_now", "Ignore for now", "always_ignore", "Always ignore", "default"] {
        assert!(first.actions.iter().any(|a| a == want), "{want} missing in {:?}", first.actions);
    }

    // An impostor on the same bus: ignored.
    let impostor = zbus::blocking::Connection::session().unwrap();
    fake_server::invoke(&impostor, first.id, "always_ignore");
    // The server itself, but for an id we never sent: ignored.
    fake_server::invoke(&server, first.id + 100, "always_ignore");
    assert_eq!(rx.recv_timeout(Duration::from_millis(700)), Err(crossbeam_channel::RecvTimeoutError::Timeout));

    // The server, for our id: accepted.
    fake_server::invoke(&server, first.id, "always_ignore");
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(3)).unwrap(),
        NoteEvent { alert_id: 42, action: NoteAction::AlwaysIgnore }
    );
    fake_server::invoke(&server, first.id, "default");
    assert_eq!(rx.recv_timeout(Duration::from_secs(3)).unwrap().action, NoteAction::Open);
    assert!(rx.recv_timeout(Duration::from_millis(300)).is_err(), "nothing else arrived");

    // An update replaces the notification.
    n.show(&note).unwrap();
    assert_eq!(log.lock().unwrap()[1].replaces_id, first.id);
}

#[cfg(target_os = "linux")]
#[test]
fn without_action_support_the_body_says_to_open_leakwatch() {
    use leakwatch_app::notify::Notifier;
    use leakwatch_app::notify::freedesktop::FreedesktopNotifier;

    if support::rerun_inside("without_action_support_the_body_says_to_open_leakwatch", &["dbus-run-session", "--"]) {
        return;
    }
    let (_server, log) = fake_server::start(false);
    let (tx, _rx) = crossbeam_channel::unbounded();
    let mut n = FreedesktopNotifier::connect(tx).unwrap();
    assert!(!n.supports_actions());
    let note = note(1, "t", "b");
    n.show(&note).unwrap();
    let got = log.lock().unwrap()[0].clone();
    assert!(got.actions.is_empty());
    assert_eq!(got.body, "b\nOpen Leakwatch to ignore it.");
}

#[cfg(target_os = "linux")]
#[test]
fn the_notification_server_going_away_and_a_new_one_coming() {
    use leakwatch_app::notify::freedesktop::FreedesktopNotifier;
    use leakwatch_app::notify::{NoteAction, NoteEvent, Notifier, NotifyError};
    use std::time::Duration;

    if support::rerun_inside("the_notification_server_going_away_and_a_new_one_coming", &["dbus-run-session", "--"]) {
        return;
    }
    let (first, first_log) = fake_server::start(true);
    let (tx, rx) = crossbeam_channel::unbounded();
    let mut n = FreedesktopNotifier::connect(tx).expect("connects to the fake server");
    n.show(&note(1, "first", "…")).unwrap();
    let old_id = first_log.lock().unwrap()[0].id;

    // The server goes away: a clear error at once, no panic, no hang.
    drop(first);
    let t = std::time::Instant::now();
    let err = support::poll(Duration::from_secs(5), || n.show(&note(2, "second", "…")).err()).expect("an error");
    assert!(matches!(err, NotifyError::Unavailable(_)), "{err:?}");
    assert!(err.to_string().contains("org.freedesktop.Notifications"), "{err}");
    assert!(n.inform("legacy", "…").is_err());
    assert!(t.elapsed() < Duration::from_secs(5), "waited {:?}", t.elapsed());

    // A new server (without buttons, this time): its ids are its own.
    let (second, second_log) = fake_server::start(false);
    // Someone clicks another program's notification there, with the number our old one had.
    fake_server::invoke(&second, old_id, "always_ignore");
    assert!(rx.recv_timeout(Duration::from_millis(700)).is_err(), "an old id was taken for one of ours");
    n.show(&note(2, "second", "body")).unwrap();
    n.show(&note(1, "first again", "body")).unwrap();
    let log = second_log.lock().unwrap().clone();
    assert_eq!(log.len(), 2);
    assert_eq!(log[1].replaces_id, 0, "the old server's id is not replaced on the new one");
    assert!(!n.supports_actions(), "capabilities asked again");
    assert!(log[0].actions.is_empty());
    // And its own ids work.
    drop(second);
    let (third, third_log) = fake_server::start(true);
    n.show(&note(3, "third", "…")).unwrap();
    assert!(n.supports_actions());
    let id = third_log.lock().unwrap()[0].id;
    fake_server::invoke(&third, id, "ignore_now");
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(3)).unwrap(),
        NoteEvent { alert_id: 3, action: NoteAction::IgnoreForNow }
    );
}

#[cfg(target_os = "linux")]
#[test]
fn markup_in_names_is_shown_as_text_on_servers_that_read_markup() {
    use leakwatch_app::notify::Notifier;
    use leakwatch_app::notify::freedesktop::FreedesktopNotifier;

    if support::rerun_inside(
        "markup_in_names_is_shown_as_text_on_servers_that_read_markup",
        &["dbus-run-session", "--"],
    ) {
        return;
    }
    // A program named to inject a link, and a host name from the wire.
    let body = "<a href=\"https://evil.example\">update</a> sent 1 MiB to a&b.example";
    let (_server, log) = fake_server::start_with(true, true);
    let (tx, _rx) = crossbeam_channel::unbounded();
    let mut n = FreedesktopNotifier::connect(tx).unwrap();
    n.show(&note(1, "Upload", body)).unwrap();
    n.inform("Legacy", body).unwrap();
    let want = "&lt;a href=\"https://evil.example\"&gt;update&lt;/a&gt; sent 1 MiB to a&amp;b.example";
    for sent in log.lock().unwrap().iter() {
        assert_eq!(sent.body, want);
    }
    // A server without markup shows text as it is: nothing to escape.
    drop(_server);
    let (_plain, plain_log) = fake_server::start_with(true, false);
    n.show(&note(2, "Upload", body)).unwrap();
    assert_eq!(plain_log.lock().unwrap()[0].body, body);
}
