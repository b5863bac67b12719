//! The resident tray process (Linux, `leakwatch-app` as a client of the service): it runs
//! without WebKit or GTK (checked in `/proc/PID/maps`), registers its tray with a
//! StatusNotifierWatcher, shows the service's alert as a notification with both buttons and
//! sends "Always ignore" back to the service; the tray menu's "Open Leakwatch" starts the window
//! as a process of its own (`--window`), closing that window ends it and leaves the tray; a
//! second launch opens the window through the first; with no tray host the window opens and
//! stderr says why.
//!
//! Each test runs itself again inside `xvfb-run … dbus-run-session`, with a fake notification
//! server and (unless the test is about its absence) a fake StatusNotifierWatcher on that
//! private bus, and a stand-in for the service: the real API server on a temporary socket with
//! a scripted backend (`support/stand_in.rs`; the real service is `service_client.rs`'s).
//! Skipped (with the reason) when xvfb-run, dbus-run-session, xdotool or python3 is missing.

mod support;

#[allow(dead_code)]
#[path = "support/fake_server.rs"]
mod fake_server;
#[allow(dead_code)]
#[path = "support/fake_watcher.rs"]
mod fake_watcher;
#[allow(dead_code)]
#[path = "support/stand_in.rs"]
mod stand_in;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SESSION: &[&str] = &["xvfb-run", "-a", "-s", "-screen 0 1280x800x24", "dbus-run-session", "--"];

/// Skips (true, recorded as a skip by `support::skip`) when a tool the test needs is missing.
fn missing_tools(_name: &str) -> bool {
    for t in ["xvfb-run", "dbus-run-session", "xdotool", "python3"] {
        if !support::have(t) {
            support::skip::skip(&format!("{t} is not installed (scripts/install-deps installs it)"));
            return true;
        }
    }
    false
}

/// The tray process, in its own process group (its window processes go with it).
struct App {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", self.child.id())]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl App {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for a stderr line containing `needle`.
    fn said(&self, needle: &str, limit: Duration) -> Option<String> {
        support::poll(limit, || self.log.lock().unwrap().iter().find(|l| l.contains(needle)).cloned())
    }

    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

/// Starts `leakwatch-app ARGS` against the service at `socket`, with its own home and config.
fn start_app(socket: &Path, args: &[&str]) -> App {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Command::new(env!("CARGO_BIN_EXE_leakwatch-app"));
    c.args(args)
        .env("LEAKWATCH_SOCKET", socket)
        .env("LEAKWATCH_CONFIG_DIR", dir.path().join("config"))
        .env("HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path().join("xdg"))
        .env("NO_AT_BRIDGE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    std::os::unix::process::CommandExt::process_group(&mut c, 0);
    let mut child = c.spawn().expect("starting leakwatch-app");
    let log = Arc::new(Mutex::new(Vec::new()));
    let stderr = child.stderr.take().unwrap();
    let l = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            println!("  [app] {line}");
            l.lock().unwrap().push(line);
        }
    });
    App { child, log, _dir: dir }
}

/// Every process below `pid`, with its command line.
fn descendants(pid: u32) -> Vec<(u32, String)> {
    let mut parent = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(p) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else { continue };
        let Some(ppid) = stat.rsplit(')').next().and_then(|r| r.split_whitespace().nth(1)?.parse::<u32>().ok()) else {
            continue;
        };
        parent.push((p, ppid));
    }
    let mut out = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        for (c, pp) in &parent {
            if *pp == p {
                let cmd = std::fs::read(format!("/proc/{c}/cmdline")).unwrap_or_default();
                out.push((*c, String::from_utf8_lossy(&cmd).replace('\0', " ")));
                todo.push(*c);
            }
        }
    }
    out
}

/// The window process below the tray, once it runs.
fn window_process(tray: u32, limit: Duration) -> Option<u32> {
    support::poll(limit, || descendants(tray).into_iter().find(|(_, cmd)| cmd.contains("--window")).map(|(p, _)| p))
}

fn alive(pid: u32) -> bool {
    // A zombie has no maps: it ended.
    std::fs::read_to_string(format!("/proc/{pid}/maps")).is_ok_and(|m| !m.is_empty())
}

/// Sends WM_DELETE_WINDOW to the window titled `Leakwatch` (as a window manager's close button
/// does), with the bench's helper.
fn close_window() -> bool {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    Command::new("python3")
        .args([
            "-c",
            "import sys; sys.path.insert(0, 'bench'); import app_memory; sys.exit(0 if app_memory.close_window('Leakwatch') else 1)",
        ])
        .current_dir(repo)
        .status()
        .is_ok_and(|s| s.success())
}

fn x_window_shown(limit: Duration) -> bool {
    support::poll(limit, || {
        let out = Command::new("xdotool").args(["search", "--name", "^Leakwatch$"]).output().ok()?;
        (!String::from_utf8_lossy(&out.stdout).trim().is_empty()).then_some(())
    })
    .is_some()
}

/// The session-bus name of the tray item the app registered with the fake watcher.
fn tray_owner(items: &Mutex<Vec<(String, String)>>) -> Option<String> {
    support::poll(Duration::from_secs(30), || items.lock().unwrap().first().map(|(_, sender)| sender.clone()))
}

/// A session with a notification server, a tray host and the service, and the tray process
/// started `--minimized` in it, connected and registered.
struct Desk {
    notifications: zbus::blocking::Connection,
    shown: Arc<Mutex<Vec<fake_server::Notified>>>,
    watcher: zbus::blocking::Connection,
    service: stand_in::StandIn,
    app: App,
    /// The bus name of the app's tray item.
    owner: String,
    _sock_dir: tempfile::TempDir,
}

fn desk() -> Desk {
    desk_knowing(&[])
}

/// [`desk`] with a service whose history has seen `known` programs send.
fn desk_knowing(known: &[&str]) -> Desk {
    let (notifications, shown) = fake_server::start(true);
    let (watcher, items) = fake_watcher::start();
    let sock_dir = tempfile::tempdir().unwrap();
    let service = stand_in::start(&sock_dir.path().join("api.sock"));
    service.backend.known.lock().unwrap().extend(known.iter().map(|k| k.to_string()));
    let app = start_app(service.server.path(), &["--minimized"]);
    app.said("connected to", Duration::from_secs(30)).expect("the tray process connects to the service");
    let owner = tray_owner(&items).expect("the tray registered with the StatusNotifierWatcher");
    println!("tray item {owner}");
    Desk { notifications, shown, watcher, service, app, owner, _sock_dir: sock_dir }
}

#[test]
fn the_tray_process_maps_no_webkit_and_notifies_a_service_alert_with_both_buttons() {
    const NAME: &str = "the_tray_process_maps_no_webkit_and_notifies_a_service_alert_with_both_buttons";
    if missing_tools(NAME) || support::rerun_inside(NAME, SESSION) {
        return;
    }
    let d = desk();

    // No WebKit, GTK or GL in the resident process, and no window process while minimized.
    let maps = std::fs::read_to_string(format!("/proc/{}/maps", d.app.pid())).unwrap();
    for lib in ["libwebkit2gtk", "libjavascriptcoregtk", "libgtk-3", "libLLVM", "swrast_dri"] {
        assert!(!maps.contains(lib), "the tray process maps {lib}");
    }
    assert!(window_process(d.app.pid(), Duration::from_millis(500)).is_none(), "{:?}", descendants(d.app.pid()));

    // The service's alert becomes a notification with both buttons.
    d.service.raise(7);
    let n = support::poll(Duration::from_secs(15), || {
        d.shown.lock().unwrap().iter().find(|n| n.actions.iter().any(|a| a == "always_ignore")).cloned()
    })
    .expect("the alert was shown as a notification");
    println!("notification {}: {:?} / {:?} {:?}", n.id, n.summary, n.body, n.actions);
    assert!(n.actions.iter().any(|a| a == "ignore_now"), "{n:?}");
    assert!(n.body.contains("203.0.113.7"), "{n:?}");

    // "Always ignore" goes to the service.
    fake_server::invoke(&d.notifications, n.id, "always_ignore");
    let call = support::poll(Duration::from_secs(15), || d.service.calls("ignore.alert").into_iter().next())
        .expect("Always ignore reached the service");
    assert_eq!((call["alert"].as_u64(), call["for"].as_str()), (Some(7), Some("always")), "{call}");
}

/// A program the history never saw sending raises exactly one "new program" notification, with
/// both buttons, however long it goes on sending; a program the history knows, and bytes no
/// program was found for, raise none. The tray's tooltip (read over D-Bus as a panel reads it)
/// says connection tracing is off while the service says so, and on again when it is back.
#[test]
fn a_first_time_sender_is_notified_once_and_the_tooltip_tells_tracing_off() {
    const NAME: &str = "a_first_time_sender_is_notified_once_and_the_tooltip_tells_tracing_off";
    if missing_tools(NAME) || support::rerun_inside(NAME, SESSION) {
        return;
    }
    const NEW: &str = "/opt/newapp/bin/newapp";
    const KNOWN: &str = "/usr/bin/ssh";
    let d = desk_knowing(&[KNOWN]);
    // The app has asked the history which programs sent before (first-time senders wait for it).
    support::poll(Duration::from_secs(15), || d.service.calls("history.programs").into_iter().next())
        .expect("the app asks the service's history for the programs it knows");
    std::thread::sleep(Duration::from_millis(500));
    let first_sender_notes = || -> Vec<fake_server::Notified> {
        d.shown.lock().unwrap().iter().filter(|n| n.summary.contains("New program")).cloned().collect()
    };
    // 3 KB a second from the new program crosses the 8 KiB threshold in its third second; it goes
    // on for 12 s; the known one sends 1 MB a second throughout.
    let start = 1_800_000_000;
    for t in 0..12 {
        d.service.stats(start + t, &[(4242, Some(NEW), 3000), (77, Some(KNOWN), 1_000_000), (0, None, 50_000)]);
        std::thread::sleep(Duration::from_millis(250));
    }
    let first = support::poll(Duration::from_secs(10), || first_sender_notes().into_iter().next())
        .expect("the new program was announced");
    println!("first-time sender: {:?} / {:?} {:?}", first.summary, first.body, first.actions);
    assert!(first.summary.contains("newapp") && first.body.contains(NEW), "{first:?}");
    assert!(first.body.contains("Example Org"), "{first:?}");
    assert!(first.actions.iter().any(|a| a == "ignore_now") && first.actions.iter().any(|a| a == "always_ignore"));
    // Later seconds of the same program, and time to show anything else, add nothing.
    for t in 12..16 {
        d.service.stats(start + t, &[(4242, Some(NEW), 50_000)]);
        std::thread::sleep(Duration::from_millis(250));
    }
    std::thread::sleep(Duration::from_secs(2));
    let notes = first_sender_notes();
    assert_eq!(notes.len(), 1, "exactly one first-time-sender notification: {notes:#?}");
    assert!(!d.shown.lock().unwrap().iter().any(|n| n.body.contains(KNOWN)), "the known program was announced");

    // The tooltip follows the service's tracing state.
    let tip = || fake_watcher::tooltip(&d.watcher, &d.owner).map(|(_, text)| text).unwrap_or_default();
    support::poll(Duration::from_secs(10), || tip().contains("connection tracing on").then_some(()))
        .unwrap_or_else(|| panic!("the tooltip does not say tracing is on: {:?}", tip()));
    d.service.set_status(
        serde_json::json!({"connection_tracing": false, "connection_tracing_error": "tracefs is not mounted"}),
    );
    support::poll(Duration::from_secs(10), || tip().contains("connection tracing OFF").then_some(()))
        .unwrap_or_else(|| panic!("the tooltip does not say tracing is off: {:?}", tip()));
    d.service.set_status(serde_json::json!({"connection_tracing": true, "connection_tracing_error": null}));
    support::poll(Duration::from_secs(10), || tip().contains("connection tracing on").then_some(()))
        .unwrap_or_else(|| panic!("the tooltip still says tracing is off: {:?}", tip()));
    println!("tooltip: {:?}", tip());
}

#[test]
fn the_tray_menus_open_starts_the_window_process_and_closing_it_leaves_the_tray() {
    const NAME: &str = "the_tray_menus_open_starts_the_window_process_and_closing_it_leaves_the_tray";
    if missing_tools(NAME) || support::rerun_inside(NAME, SESSION) {
        return;
    }
    let mut d = desk();

    // The menu as a panel reads it; "Open Leakwatch" clicked.
    let menu = fake_watcher::menu(&d.watcher, &d.owner).expect("the tray's dbusmenu answers");
    for label in ["Open Leakwatch", "Quit"] {
        assert!(fake_watcher::find(&menu, label).is_some(), "no {label:?} in {menu:#?}");
    }
    let open = fake_watcher::find(&menu, "Open Leakwatch").unwrap().id;
    fake_watcher::click(&d.watcher, &d.owner, open).expect("clicking Open");
    let window = window_process(d.app.pid(), Duration::from_secs(10)).expect("Open started the window process");
    assert!(x_window_shown(Duration::from_secs(60)), "the window process showed no window titled Leakwatch");
    let maps = std::fs::read_to_string(format!("/proc/{window}/maps")).unwrap_or_default();
    assert!(maps.contains("libwebkit2gtk"), "the window process is the one with WebKit");

    // Closing the window ends its process; the tray stays, its menu still answers.
    assert!(close_window(), "no window to close");
    assert!(
        support::poll(Duration::from_secs(20), || (!alive(window)).then_some(())).is_some(),
        "the window process did not end when its window closed"
    );
    std::thread::sleep(Duration::from_secs(1));
    assert!(d.app.alive(), "the tray process ended with the window");
    fake_watcher::menu(&d.watcher, &d.owner).expect("the tray still answers after the window closed");

    // A second launch opens the window through the first, and ends.
    let mut second = start_app(d.service.server.path(), &[]);
    assert!(
        support::poll(Duration::from_secs(15), || (!second.alive()).then_some(())).is_some(),
        "a second leakwatch-app did not end"
    );
    assert!(second.said("already running", Duration::from_secs(1)).is_some());
    let again = window_process(d.app.pid(), Duration::from_secs(10)).expect("the second launch opened the window");
    assert!(x_window_shown(Duration::from_secs(60)));

    // Quit ends the tray and its window.
    let quit = fake_watcher::find(&menu, "Quit").unwrap().id;
    fake_watcher::click(&d.watcher, &d.owner, quit).expect("clicking Quit");
    assert!(
        support::poll(Duration::from_secs(15), || (!d.app.alive()).then_some(())).is_some(),
        "Quit did not end the tray process"
    );
    assert!(
        support::poll(Duration::from_secs(5), || (!alive(again)).then_some(())).is_some(),
        "the window outlived Quit"
    );
}

#[test]
fn without_a_tray_host_the_window_opens_and_stderr_says_why() {
    const NAME: &str = "without_a_tray_host_the_window_opens_and_stderr_says_why";
    if missing_tools(NAME) || support::rerun_inside(NAME, SESSION) {
        return;
    }
    let (_notifications, _shown) = fake_server::start(true);
    let sock_dir = tempfile::tempdir().unwrap();
    let service = stand_in::start(&sock_dir.path().join("api.sock"));
    let mut app = start_app(service.server.path(), &["--minimized"]);
    let why = app.said("no tray icon", Duration::from_secs(30)).expect("stderr says there is no tray");
    assert!(why.contains("StatusNotifierWatcher") || why.contains("StatusNotifierItem"), "{why}");
    window_process(app.pid(), Duration::from_secs(10)).expect("the window opened instead of an invisible app");
    assert!(app.alive());
}
