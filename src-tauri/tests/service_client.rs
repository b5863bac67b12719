//! The tray app as an ordinary user against the real service (issue 16). The test writes a
//! temporary service configuration (socket, ignores and history in a temporary directory;
//! loopback capture with only 127.0.0.1 local; a low sudden-upload threshold) and runs itself
//! again as user 65534 in group `leakwatch` inside its own Xvfb and D-Bus session with a fake
//! notification server. There it starts the app (debug binary, no flags: the service is its
//! backend) before the service and checks that the app says the service is not running, with
//! the command that starts it; the test then starts `leakwatch service` as root and the app
//! connects by itself. The app is the resident tray process (a fake StatusNotifierWatcher is
//! its tray host; it maps no WebKit). The app's process has no capabilities (`CapEff` and `CapPrm` 0); a
//! 200 KB upload on loopback raises the service's alert, which the app shows as a notification
//! with both buttons; and "Always ignore" on it reaches the service as an ignore by that user.
//!
//! Needs root, `setpriv`, `xvfb-run`, `dbus-run-session`, `getent`, `groupadd` and the service
//! binary (`$CARGO_TARGET_DIR/debug/leakwatch`, built when missing); without them it prints
//! `skipped: <reason>` (and fails when `LEAKWATCH_REQUIRE_LIVE=1`).

mod support;

#[allow(dead_code)] // not every helper is used here
#[path = "support/fake_server.rs"]
mod fake_server;
#[allow(dead_code)]
#[path = "support/fake_watcher.rs"]
mod fake_watcher;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

const NAME: &str = "an_unprivileged_app_shows_an_alert_the_service_raised";
/// The ordinary user (nobody).
const USER: u32 = 65534;
/// Set for the run as that user.
const AS_USER: &str = "LEAKWATCH_TEST_APP_AS_USER";
/// A file the run as the user creates in its home when the service should start.
const START_THE_SERVICE: &str = "start-the-service";

/// Kills (the process group of) a child when dropped, in every path.
struct Reaper(Child, bool);

impl Drop for Reaper {
    fn drop(&mut self) {
        if self.1 {
            // Its own process group: xvfb-run, Xvfb, dbus-daemon and the app go with it.
            let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", self.0.id())]).status();
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn lines(r: impl Read + Send + 'static, tag: &'static str) -> Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(r).lines().map_while(Result::ok) {
            println!("  [{tag}] {l}");
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    rx
}

fn wait_line(rx: &Receiver<String>, needle: &str, within: Duration) -> Result<String, String> {
    let end = Instant::now() + within;
    while Instant::now() < end {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(l) if l.contains(needle) => return Ok(l),
            Ok(_) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return Err(format!("ended without saying `{needle}`")),
        }
    }
    Err(format!("did not say `{needle}` within {within:?}"))
}

fn skip(reason: &str) {
    support::skip::skip(reason);
}

use support::skip::is_root;

/// The service binary next to this test's build (`…/debug/deps/<test>` → `…/debug/leakwatch`),
/// built when missing.
fn service_binary() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let debug = exe.parent().and_then(Path::parent).ok_or("no build directory")?.to_path_buf();
    let bin = debug.join("leakwatch");
    if !bin.is_file() {
        eprintln!("{NAME}: {} is missing: cargo build --bin leakwatch", bin.display());
        let target = debug.parent().ok_or("no target directory")?;
        let ok = Command::new(env!("CARGO"))
            .args(["build", "--bin", "leakwatch"])
            .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
            .env("CARGO_TARGET_DIR", target)
            .status()
            .map_err(|e| format!("cargo: {e}"))?;
        if !ok.success() || !bin.is_file() {
            return Err(format!("cargo build --bin leakwatch did not give {}", bin.display()));
        }
    }
    Ok(bin)
}

/// Whether another user can run `bin` (it and every folder above it are open to others).
fn others_can_run(bin: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    for p in bin.ancestors() {
        let mode = std::fs::metadata(p).map_err(|e| format!("{}: {e}", p.display()))?.permissions().mode();
        if mode & 0o001 == 0 {
            return Err(format!(
                "{} is closed to other users (mode {:o}), so the app cannot run as an ordinary user: \
                 build into a directory others can enter (CARGO_TARGET_DIR=/var/cache/leakwatch-target)",
                p.display(),
                mode & 0o777
            ));
        }
    }
    Ok(())
}

fn leakwatch_gid() -> Result<u32, String> {
    let find = || -> Option<u32> {
        let out = Command::new("getent").args(["group", "leakwatch"]).output().ok()?;
        String::from_utf8_lossy(&out.stdout).split(':').nth(2)?.trim().parse().ok()
    };
    if let Some(g) = find() {
        return Ok(g);
    }
    let _ = Command::new("groupadd").args(["--system", "leakwatch"]).status();
    find().ok_or_else(|| "no group leakwatch, and groupadd --system leakwatch failed".into())
}

#[test]
fn an_unprivileged_app_shows_an_alert_the_service_raised() {
    if std::env::var_os(AS_USER).is_some() {
        as_user();
        return;
    }
    if !cfg!(target_os = "linux") {
        return skip("Linux only");
    }
    if !is_root() {
        return skip("needs root (starts the service and runs the app as another user)");
    }
    if let Some(t) = ["setpriv", "xvfb-run", "dbus-run-session", "getent", "groupadd", "kill"]
        .into_iter()
        .find(|t| !support::have(t))
    {
        return skip(&format!("{t} is not installed (scripts/install-deps installs it)"));
    }
    let service = match service_binary() {
        Ok(b) => b,
        Err(e) => return skip(&e),
    };
    for bin in [std::env::current_exe().unwrap(), PathBuf::from(env!("CARGO_BIN_EXE_leakwatch-app"))] {
        if let Err(e) = others_can_run(&bin) {
            return skip(&e);
        }
    }
    let gid = match leakwatch_gid() {
        Ok(g) => g,
        Err(e) => return skip(&e),
    };

    // The service's files; the user must reach the socket inside (it is 0660 root:leakwatch).
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let p = dir.path().display().to_string();
    let config = format!(
        "mode = \"paranoid\"\ninterfaces = [\"lo\"]\nloopback = true\nreverse_dns = false\nlegacy = false\n\
         group = \"leakwatch\"\nmax_traffic_during_10_sec = 20000\nlocal_nets = [\"127.0.0.1/32\"]\n\
         ignores = \"{p}/ignores.user.json\"\nhistory = \"{p}/history.sqlite\"\nsocket = \"{p}/api.sock\"\n"
    );
    std::fs::write(dir.path().join("leakwatch.toml"), config).unwrap();

    // The user's home and config directory.
    let home = tempfile::tempdir().unwrap();
    std::os::unix::fs::chown(home.path(), Some(USER), Some(USER)).unwrap();
    let socket = dir.path().join("api.sock");
    let exe = std::env::current_exe().unwrap();
    let mut c = Command::new("setpriv");
    c.args([format!("--reuid={USER}"), format!("--regid={USER}"), format!("--groups={gid}")])
        .args(["--", "env", "-i"])
        .arg("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        .arg(format!("HOME={}", home.path().display()))
        .arg(format!("LEAKWATCH_CONFIG_DIR={}/config", home.path().display()))
        .arg(format!("LEAKWATCH_SOCKET={}", socket.display()))
        .arg(format!("{AS_USER}=1"))
        .args(["LC_ALL=C.UTF-8", "NO_AT_BRIDGE=1", "RUST_BACKTRACE=1"])
        .args(["xvfb-run", "-a", "-s", "-screen 0 1280x800x24", "dbus-run-session", "--"])
        .arg(&exe)
        .args([NAME, "--exact", "--nocapture", "--test-threads=1"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    std::os::unix::process::CommandExt::process_group(&mut c, 0);
    let mut inner = c.spawn().expect("running the test again as the user");
    let out = lines(inner.stdout.take().unwrap(), "as user");
    let _err = lines(inner.stderr.take().unwrap(), "as user, stderr");
    let mut inner = Reaper(inner, true);
    // The app starts first; the service when the run as the user asks for it.
    let ready = home.path().join(START_THE_SERVICE);
    let mut service_run: Option<(Reaper, Receiver<String>)> = None;
    let mut said = Vec::new();
    let end = Instant::now() + Duration::from_secs(180);
    let status = loop {
        said.extend(out.try_iter());
        if service_run.is_none() && ready.exists() {
            service_run = Some(start_service(&service, dir.path()));
        }
        if let Some(st) = inner.0.try_wait().unwrap() {
            break st;
        }
        assert!(Instant::now() < end, "the run as the user did not end within 180 s");
        std::thread::sleep(Duration::from_millis(100));
    };
    while let Ok(l) = out.recv_timeout(Duration::from_secs(2)) {
        said.push(l);
    }
    assert!(status.success(), "the run as the user failed ({status})");
    assert!(service_run.is_some(), "the run as the user never asked for the service");
    assert!(said.iter().any(|l| l.contains("1 passed")), "the run as the user did not run the test: {said:?}");
    assert!(said.iter().any(|l| l.contains("CapEff 0000000000000000")), "no CapEff line: {said:?}");
}

/// Starts the service with the configuration in `dir`; returns it and its stderr once it captures.
fn start_service(service: &Path, dir: &Path) -> (Reaper, Receiver<String>) {
    let mut child = Command::new(service)
        .args(["service", "--config"])
        .arg(dir.join("leakwatch.toml"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting leakwatch service");
    let log = lines(child.stderr.take().unwrap(), "service");
    let reaper = Reaper(child, false);
    wait_line(&log, "service started", Duration::from_secs(30)).expect("the service starts");
    wait_line(&log, "capturing on lo", Duration::from_secs(30)).expect("the service captures on lo");
    (reaper, log)
}

/// The part run as the ordinary user, inside Xvfb and a private D-Bus session.
fn as_user() {
    use leakwatch::api::client::Client;

    let socket = leakwatch::api::socket_path();
    let (server, log) = fake_server::start(true);
    // A tray host, so the app stays in the tray (without one it would open its window).
    let (_watcher, tray_items) = fake_watcher::start();
    let app = env!("CARGO_BIN_EXE_leakwatch-app");
    // A desktop session has a runtime directory (the tray icon is written there).
    let runtime = Path::new(&std::env::var("HOME").unwrap()).join("run");
    std::fs::create_dir_all(&runtime).unwrap();
    std::fs::set_permissions(&runtime, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let mut child = Command::new(app)
        .env("XDG_RUNTIME_DIR", &runtime)
        .arg("--minimized")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let app_log = lines(child.stderr.take().unwrap(), "app");
    let pid = child.id();
    let _app = Reaper(child, false);
    // No service yet: the app says so, with the command that starts it.
    let said = wait_line(&app_log, "is not running", Duration::from_secs(60)).expect("the app finds no service");
    assert!(said.contains("sudo systemctl start leakwatch"), "{said}");
    let home = std::env::var("HOME").unwrap();
    std::fs::write(Path::new(&home).join(START_THE_SERVICE), "").unwrap();
    // It keeps trying, and connects once the service runs.
    wait_line(&app_log, "connected to leakwatch", Duration::from_secs(60)).expect("the app connects to the service");

    // The app is the resident tray process: its icon is registered, and it maps no WebKit.
    support::poll(Duration::from_secs(15), || tray_items.lock().unwrap().first().cloned())
        .expect("the app registered its tray icon");
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
    assert!(!maps.contains("libwebkit2gtk"), "the tray process maps WebKit");

    // No capabilities at all in the app's process.
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |k: &str| {
        status.lines().find(|l| l.starts_with(k)).and_then(|l| l.split_whitespace().nth(1)).unwrap_or("?").to_string()
    };
    let (eff, prm, uid) = (field("CapEff:"), field("CapPrm:"), field("Uid:"));
    println!("app {pid}: CapEff {eff} CapPrm {prm} uid {uid}");
    assert_eq!(eff, "0000000000000000", "{status}");
    assert_eq!(prm, "0000000000000000", "{status}");
    assert_eq!(uid, USER.to_string(), "{status}");

    // An upload of 200 KB on loopback, to a sink of our own on 127.0.0.2 (outside the local
    // networks of the service's configuration: loopback traffic never leaves the machine, so
    // it counts only to an address the configuration does not call local).
    let sink = std::net::TcpListener::bind("127.0.0.2:0").unwrap();
    let port = sink.local_addr().unwrap().port();
    let drain = std::thread::spawn(move || {
        if let Ok((mut s, _)) = sink.accept() {
            let _ = std::io::copy(&mut s, &mut std::io::sink());
        }
    });
    let mut up = std::net::TcpStream::connect(("127.0.0.2", port)).unwrap();
    for _ in 0..50 {
        up.write_all(&[0x5a; 4096]).unwrap();
        std::thread::sleep(Duration::from_millis(10));
    }
    drop(up);
    let _ = drain.join();

    // The service's alert reaches the app, which shows it with both buttons.
    let shown = support::poll(Duration::from_secs(40), || {
        log.lock().unwrap().iter().find(|n| n.actions.iter().any(|a| a == "always_ignore")).cloned()
    })
    .expect("the app showed the service's alert as a notification");
    println!("notification {}: {:?} / {:?}", shown.id, shown.summary, shown.body);
    assert!(!shown.summary.is_empty() && shown.body.contains("127.0.0.2"), "{shown:?}");
    assert!(shown.actions.iter().any(|a| a == "ignore_now"), "{shown:?}");

    // "Always ignore" on it: the service records the ignore, made by this user.
    fake_server::invoke(&server, shown.id, "always_ignore");
    let mut api = Client::connect(&socket).expect("the user, in group leakwatch, may use the API");
    let ignore = support::poll(Duration::from_secs(15), || {
        let list = api.call("ignore.list", serde_json::json!({})).ok()?;
        list.as_array()?.iter().find(|i| i["permanent"] == true).cloned()
    })
    .expect("the notification's Always ignore became a permanent ignore in the service");
    println!("ignore in the service: {ignore}");
    assert_eq!(ignore["by"], api.user.as_str(), "the change is recorded as this user's: {ignore}");
}
