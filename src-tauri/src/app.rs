//! The Tauri app: plugins (single instance, the save dialog), the window, and the [`Sink`] that
//! turns core events into Tauri events. Two ways to run:
//! - the window process (`--window`, Linux, started by the tray process of `crate::os::resident`):
//!   the window only, as another client of the service; no tray, no notifications; it exits
//!   when its window closes;
//! - the single process of `--replay`, `--embedded` and of Windows and macOS: window (created
//!   on open, destroyed on close), tray and notifications in one process that stays in the tray.

use crate::args::Args;
use crate::core::{Core, Options, Sink, Source};
use crate::views::EV_SHOW_ALERT;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tauri::webview::PageLoadEvent;
use tauri::{AppHandle, Emitter, Manager, RunEvent, WebviewUrl, WebviewWindowBuilder, Wry};

/// Label of the one window.
pub const WINDOW: &str = "main";

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

    fn show_program(&self, program: &str) {
        open_window(&self.app);
        let _ = self.app.emit(crate::views::EV_SHOW_PROGRAM, json!({ "program": program }));
    }

    fn set_autostart(&self, on: bool) -> Result<(), String> {
        crate::autostart::set(on)
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
        tracing::info!("cannot open the window: {e}");
    }
}

/// The alert a new window should show once loaded (shared with the sink).
struct PendingShow(Arc<Mutex<Option<u64>>>);

/// Parses the flags, checks for a display and runs the app (on Linux as a client of the service:
/// the tray process, or with `--window` the window process); returns the exit code.
pub fn main() -> i32 {
    let (args, config_dir) = match crate::args::start() {
        Ok(a) => a,
        Err(code) => return code,
    };
    // As a client of the service, the resident tray process is the small `leakwatch-tray`:
    // mapping this binary's GTK and WebKit alone would cost it tens of MiB (bench/README.md).
    if let Some(code) = crate::os::run_resident(&args, &config_dir) {
        return code;
    }
    match run(args, config_dir) {
        Ok(()) => 0,
        Err(e) => {
            tracing::error!("{e}");
            1
        }
    }
}

/// `--show-alert ID` among a second start's arguments (handed over by the single-instance plugin).
fn show_alert_arg(argv: &[String]) -> Option<u64> {
    let i = argv.iter().position(|a| a == "--show-alert")?;
    argv.get(i + 1)?.parse().ok()
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
    let window_only = args.window;
    let minimized = args.minimized && !window_only;
    let no_notifications = args.no_notifications || window_only;
    let first_alert = args.show_alert;
    let no_tray = args.no_tray;
    let app = tauri::Builder::default()
        // Single instance first: a second launch only opens the first one's window (on the
        // alert it names).
        .plugin(tauri_plugin_single_instance::init(|app, argv, _cwd| match show_alert_arg(&argv) {
            Some(id) => match app.try_state::<Arc<TauriSink>>() {
                Some(sink) => sink.show_alert(id),
                None => open_window(app),
            },
            None => open_window(app),
        }))
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
            crate::commands::connections_now,
            crate::commands::programs,
            crate::commands::ignore_program,
            crate::commands::first_senders,
        ])
        .setup(move |app| {
            let pending = Arc::new(Mutex::new(first_alert));
            app.manage(PendingShow(pending.clone()));
            let sink = Arc::new(TauriSink { app: app.handle().clone(), pending });
            app.manage(sink.clone());
            let (tx, rx) = crossbeam_channel::unbounded();
            let notifier = crate::notify::for_app(no_notifications, tx);
            let core = Core::start(opts, sink, notifier, rx);
            // Start-at-login follows the system's state when it differs from the settings.
            core.adopt_autostart(crate::autostart::is_enabled().ok());
            app.manage(core.clone());
            if no_tray {
                core.set_no_tray();
            }
            // The window process has no tray: the tray process it belongs to has it.
            if !window_only && let Err(e) = crate::tray::create(app.handle(), &core) {
                tracing::info!("no tray icon: {e}");
            }
            if !minimized {
                open_window(app.handle());
            }
            Ok(())
        })
        .build(tauri::generate_context!())?;
    app.run(move |app, event| match event {
        // Closing the window destroys it (and its webview); the app stays in the tray. The
        // window process ends instead: its tray process stays.
        RunEvent::ExitRequested { code: None, api, .. } if !window_only => api.prevent_exit(),
        RunEvent::Exit => {
            if let Some(core) = app.try_state::<Arc<Core>>() {
                core.shutdown();
            }
        }
        _ => {}
    });
    Ok(())
}
