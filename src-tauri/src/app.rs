//! The Tauri app: plugins (single instance, autostart, the save dialog), the window (created on open, destroyed
//! on close so the resident app stays small), the tray, and the [`Sink`] that turns core events
//! into Tauri events.

use crate::args::Args;
use crate::core::{Core, Options, Sink, Source};
use crate::views::EV_SHOW_ALERT;
use clap::Parser;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tauri::webview::PageLoadEvent;
use tauri::{AppHandle, Emitter, Manager, RunEvent, WebviewUrl, WebviewWindowBuilder, Wry};
use tauri_plugin_autostart::{MacosLauncher, ManagerExt};

/// Label of the one window.
pub const WINDOW: &str = "main";

/// Exit code when there is no display (the tray app needs one; `leakwatch run` does not).
pub const EXIT_NO_DISPLAY: i32 = 2;

/// Whether a graphical session is there (GTK would panic without one).
pub fn has_display() -> bool {
    if cfg!(target_os = "linux") {
        ["DISPLAY", "WAYLAND_DISPLAY"].iter().any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()))
    } else {
        true
    }
}

/// Events to the window, and the tray, through the app handle.
struct TauriSink {
    app: AppHandle<Wry>,
    /// An alert to show once a newly created window has loaded.
    pending: Arc<Mutex<Option<u64>>>,
}

impl Sink for TauriSink {
    fn emit(&self, event: &str, payload: Value) {
        let _ = self.app.emit(event, payload);
    }

    fn tray_changed(&self) {
        crate::tray::refresh(&self.app);
    }

    fn show_alert(&self, id: u64) {
        let existed = self.app.get_webview_window(WINDOW).is_some();
        if existed {
            open_window(&self.app);
            let _ = self.app.emit(EV_SHOW_ALERT, json!({ "id": id }));
        } else {
            *self.pending.lock().unwrap_or_else(|p| p.into_inner()) = Some(id);
            open_window(&self.app);
        }
    }

    fn set_autostart(&self, on: bool) -> Result<(), String> {
        let l = self.app.autolaunch();
        if on { l.enable() } else { l.disable() }.map_err(|e| e.to_string())
    }

    fn quit(&self) {
        if let Some(core) = self.app.try_state::<Arc<Core>>() {
            core.shutdown();
        }
        self.app.exit(0);
    }
}

/// Shows the window, creating it (and its webview) if it was closed.
pub fn open_window<R: tauri::Runtime>(app: &AppHandle<R>) {
    if let Some(core) = app.try_state::<Arc<Core>>() {
        let core = core.inner().clone();
        std::thread::spawn(move || core.mark_seen());
    }
    if let Some(w) = app.get_webview_window(WINDOW) {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
        return;
    }
    let pending = app.try_state::<PendingShow>().map(|p| p.0.clone());
    let result = WebviewWindowBuilder::new(app, WINDOW, WebviewUrl::App("index.html".into()))
        .title("Leakwatch")
        .inner_size(1100.0, 760.0)
        .min_inner_size(640.0, 480.0)
        .on_page_load(move |w, payload| {
            if payload.event() != PageLoadEvent::Finished {
                return;
            }
            let Some(id) = pending.as_ref().and_then(|p| p.lock().ok()?.take()) else { return };
            let w = w.clone();
            // Give the page's scripts a moment to subscribe.
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(800));
                let _ = w.emit(EV_SHOW_ALERT, json!({ "id": id }));
            });
        })
        .build();
    if let Err(e) = result {
        eprintln!("leakwatch-app: cannot open the window: {e}");
    }
}

/// The alert a new window should show once loaded (shared with the sink).
struct PendingShow(Arc<Mutex<Option<u64>>>);

/// Parses the flags, checks for a display and runs the app; returns the exit code.
pub fn main() -> i32 {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    if !has_display() {
        eprintln!(
            "leakwatch-app: no display ($DISPLAY and $WAYLAND_DISPLAY are unset): the tray app needs a desktop session. \
             On a headless machine use the command line instead: leakwatch run"
        );
        return EXIT_NO_DISPLAY;
    }
    let Some(config_dir) = crate::settings::config_dir() else {
        eprintln!("leakwatch-app: no config directory is known for this user: set LEAKWATCH_CONFIG_DIR");
        return 2;
    };
    match run(args, config_dir) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("leakwatch-app: error: {e}");
            1
        }
    }
}

fn run(args: Args, config_dir: std::path::PathBuf) -> tauri::Result<()> {
    let source = match (&args.replay, args.embedded) {
        (Some(path), _) => Source::Replay { path: path.clone(), speed: args.speed },
        (None, true) => Source::Live,
        (None, false) => Source::Service { socket: leakwatch::api::socket_path() },
    };
    let opts = Options {
        source,
        config_dir,
        reverse_dns: !args.no_reverse_dns,
        asn: true,
        legacy_ports: args.legacy_ports.clone(),
        // A developer's --replay does not go into the user's history unless --history says where;
        // with the service, the service keeps the history.
        history: match (&args.history, &args.replay, args.embedded) {
            (Some(path), _, _) => Some(path.clone()),
            (None, None, true) => leakwatch::history::default_path(),
            _ => None,
        },
    };
    let minimized = args.minimized;
    let no_notifications = args.no_notifications;
    let app = tauri::Builder::default()
        // Single instance first: a second launch only opens the first one's window.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| open_window(app)))
        .plugin(tauri_plugin_autostart::init(MacosLauncher::LaunchAgent, Some(vec!["--minimized"])))
        .plugin(tauri_plugin_dialog::init())
        .invoke_handler(tauri::generate_handler![
            crate::commands::list_alerts,
            crate::commands::ignore_alert,
            crate::commands::list_ignores,
            crate::commands::remove_ignore,
            crate::commands::get_settings,
            crate::commands::set_settings,
            crate::commands::engine_status,
            crate::commands::history_uploads,
            crate::commands::history_alerts,
            crate::commands::export_history,
        ])
        .setup(move |app| {
            let pending = Arc::new(Mutex::new(None));
            app.manage(PendingShow(pending.clone()));
            let sink = Arc::new(TauriSink { app: app.handle().clone(), pending });
            let (tx, rx) = crossbeam_channel::unbounded();
            let notifier = if no_notifications {
                None
            } else {
                match crate::notify::system_notifier(tx) {
                    Ok(n) => Some(n),
                    Err(e) => {
                        eprintln!("leakwatch-app: note: no desktop notifications: {e}");
                        None
                    }
                }
            };
            let core = Core::start(opts, sink, notifier, rx);
            // Start-at-login follows the system's state when it differs from the settings.
            if let Ok(on) = app.autolaunch().is_enabled() {
                let s = core.get_settings();
                if s.start_at_login != on {
                    let _ = core.set_settings(crate::settings::Settings { start_at_login: on, ..s });
                }
            }
            app.manage(core.clone());
            if let Err(e) = crate::tray::create(app.handle(), &core) {
                eprintln!("leakwatch-app: no tray icon: {e}");
            }
            if !minimized {
                open_window(app.handle());
            }
            Ok(())
        })
        .build(tauri::generate_context!())?;
    app.run(|app, event| match event {
        // Closing the window destroys it (and its webview); the app stays in the tray.
        RunEvent::ExitRequested { code: None, api, .. } => api.prevent_exit(),
        RunEvent::Exit => {
            if let Some(core) = app.try_state::<Arc<Core>>() {
                core.shutdown();
            }
        }
        _ => {}
    });
    Ok(())
}
