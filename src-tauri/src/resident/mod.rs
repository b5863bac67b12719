//! The resident tray process on Linux: what `leakwatch-app` is by default, a client of the
//! service that stays in the tray. `leakwatch-app` hands such a start to the `leakwatch-tray`
//! binary (`exec`, same pid and flags), which runs [`main`] without linking GTK or WebKit. It shows the tray icon and menu over the
//! StatusNotifierItem/dbusmenu D-Bus protocols (`sni`, the pure-Rust `ksni`), desktop
//! notifications (`crate::notify`), runs the Tauri-free [`Core`] against the service, keeps a
//! single instance through a D-Bus name (`instance`), and starts the window as a process of its
//! own on demand (`window`: `leakwatch-app --window`, which exits when its window closes).
//!
//! Nothing in this process initialises GTK, WebKit or GL (issue 16: the app with its window
//! closed stays under 100 MiB PSS; bench/README.md has the figures). When no tray can be shown
//! (no StatusNotifierWatcher on the session bus, e.g. stock GNOME) it opens the window instead
//! of running invisibly, and says why on stderr.
//!
//! `--replay` and `--embedded` (an engine inside the app) keep the single Tauri process of
//! `crate::app`, tray included; so do Windows and macOS.

pub mod instance;
pub mod sni;
pub mod window;

use crate::args::Args;
use crate::core::{Core, Options, Sink, Source};
use crate::menu::MenuAction;
use crossbeam_channel::{Sender, select};
use serde_json::Value;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// What the main loop is told.
#[derive(Debug)]
pub enum Event {
    /// The tray's state changed (icon, tooltip, menu).
    TrayChanged,
    /// A tray menu item was clicked (or the icon, for "open").
    Menu(MenuAction),
    /// Open the window, on an alert when given (a second launch; a notification's body).
    Open(Option<u64>),
    /// No tray can be shown, and why.
    NoTray(String),
    /// A tray host (StatusNotifierWatcher) appeared.
    TrayShown,
    /// Quit (the tray's Quit).
    Quit,
}

/// The core's events, for this process: no window here, so only the tray and the window
/// process's start are served.
struct ResidentSink(Sender<Event>);

impl Sink for ResidentSink {
    fn emit(&self, _event: &str, _payload: Value) {}

    fn tray_changed(&self) {
        let _ = self.0.send(Event::TrayChanged);
    }

    fn show_alert(&self, id: u64) {
        let _ = self.0.send(Event::Open(Some(id)));
    }

    fn show_program(&self, _program: &str) {
        let _ = self.0.send(Event::Open(None));
    }

    fn set_autostart(&self, on: bool) -> Result<(), String> {
        crate::autostart::set(on)
    }

    fn quit(&self) {
        let _ = self.0.send(Event::Quit);
    }
}

/// `leakwatch-tray`'s entry: parses the flags and runs the tray process; what only the Tauri
/// binary does (`--window`, `--replay`, `--embedded`) is handed to `leakwatch-app`. Returns the
/// exit code.
pub fn main() -> i32 {
    match crate::args::start() {
        Ok((args, _)) if args.window || args.replay.is_some() || args.embedded => {
            let why = crate::os::exec(crate::paths::app_exe());
            tracing::error!("cannot start {why}");
            1
        }
        Ok((args, config_dir)) => run(&args, config_dir),
        Err(code) => code,
    }
}

/// Runs off the caller's thread (commands may wait on the service).
fn background(name: &str, f: impl FnOnce() + Send + 'static) {
    if let Err(e) = std::thread::Builder::new().name(name.into()).spawn(f) {
        tracing::info!("cannot start thread {name}: {e}");
    }
}

/// The tray process, as a client of the service: returns the exit code.
pub fn run(args: &Args, config_dir: PathBuf) -> i32 {
    let (tx, rx) = crossbeam_channel::unbounded();
    // Single instance first: a second launch asks the first to open its window, and ends.
    let _instance = match instance::claim(tx.clone()) {
        Ok(instance::Claim::First(conn)) => Some(conn),
        Ok(instance::Claim::Second) => {
            tracing::info!("Leakwatch is already running: its window opens");
            return 0;
        }
        Err(e) => {
            tracing::warn!("{e}: a second start will not find this one");
            None
        }
    };
    let opts = Options {
        source: Source::Service { socket: leakwatch::api::socket_path() },
        config_dir,
        reverse_dns: false,
        asn: false,
        legacy_ports: args.legacy_ports.clone(),
        history: None,
    };
    let (note_tx, note_rx) = crossbeam_channel::unbounded();
    let notifier = crate::notify::for_app(args.no_notifications, note_tx);
    let core = Core::start(opts, Arc::new(ResidentSink(tx.clone())), notifier, note_rx);
    // Start-at-login follows the system's state when it differs from the settings.
    core.adopt_autostart(crate::autostart::is_enabled().ok());
    let mut windows = window::Windows::new();
    let tray = match sni::spawn(&core, tx.clone()) {
        Ok(t) => Some(t),
        Err(e) => {
            let _ = tx.send(Event::NoTray(e));
            None
        }
    };
    if !args.minimized {
        windows.open(None);
        background("leakwatch-seen", {
            let core = core.clone();
            move || core.mark_seen()
        });
    }
    // The window opened because there was no tray (once: not again on every panel restart).
    let mut opened_for_no_tray = false;
    let reap = crossbeam_channel::tick(Duration::from_millis(500));
    // Events taken from the channel while coalescing tray redraws, handled next.
    let mut backlog: VecDeque<Event> = VecDeque::new();
    loop {
        let event = match backlog.pop_front() {
            Some(e) => Ok(e),
            None => select! {
                recv(rx) -> ev => ev,
                recv(reap) -> _ => {
                    if windows.reap() {
                        // The window may have changed the language or start-at-login.
                        let core = core.clone();
                        background("leakwatch-reload", move || {
                            core.reload_local_settings();
                            core.adopt_autostart(crate::autostart::is_enabled().ok());
                        });
                    }
                    continue;
                }
            },
        };
        match event {
            Ok(Event::TrayChanged) => {
                // One redraw for a burst of changes.
                backlog.extend(rx.try_iter().filter(|e| !matches!(e, Event::TrayChanged)));
                if let Some(t) = &tray {
                    t.refresh(&core);
                }
            }
            Ok(Event::Menu(MenuAction::Open)) | Ok(Event::Open(None)) => {
                windows.open(None);
                let core = core.clone();
                background("leakwatch-seen", move || core.mark_seen());
            }
            Ok(Event::Open(Some(id))) => windows.open(Some(id)),
            Ok(Event::Menu(MenuAction::Quit)) | Ok(Event::Quit) | Err(_) => break,
            Ok(Event::Menu(action)) => {
                let core = core.clone();
                background("leakwatch-menu", move || core.menu_action(action));
            }
            Ok(Event::NoTray(why)) => {
                tracing::info!(
                    "no tray icon: {why}. The desktop shows no StatusNotifierItem tray \
                     (on GNOME, the AppIndicator extension adds one); the window opens instead, and \
                     starting leakwatch-app again opens it again"
                );
                if !opened_for_no_tray {
                    opened_for_no_tray = true;
                    if !windows.is_open() {
                        windows.open_no_tray();
                    }
                }
            }
            Ok(Event::TrayShown) => tracing::info!("the tray icon is shown"),
        }
    }
    windows.close();
    if let Some(t) = tray {
        t.shutdown();
    }
    core.shutdown();
    0
}
