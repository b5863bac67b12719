//! The tray icon and its menu in Tauri, drawn from the plain [`crate::menu`] model: the tray of
//! the single-process modes (`--replay`, `--embedded`, and Windows and macOS). On Linux the app
//! as a client of the service has its tray in `crate::resident::sni` instead.

use crate::core::Core;
use crate::menu::{Entry, TrayIcon, TrayState, action_for};
use std::sync::Arc;
use tauri::image::Image;
use tauri::menu::{CheckMenuItem, IsMenuItem, Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Runtime};

pub const TRAY_ID: &str = "leakwatch";

const WATCHING: &[u8] = include_bytes!("../../icons/tray-watching.png");
const ALERT: &[u8] = include_bytes!("../../icons/tray-alert.png");
const PAUSED: &[u8] = include_bytes!("../../icons/tray-paused.png");

fn icon(i: TrayIcon) -> tauri::Result<Image<'static>> {
    Image::from_bytes(match i {
        TrayIcon::Watching => WATCHING,
        TrayIcon::Alert => ALERT,
        TrayIcon::Paused => PAUSED,
    })
}

fn build_entries<R: Runtime>(app: &AppHandle<R>, entries: &[Entry]) -> tauri::Result<Vec<Box<dyn IsMenuItem<R>>>> {
    let mut out: Vec<Box<dyn IsMenuItem<R>>> = Vec::new();
    for e in entries {
        match e {
            Entry::Item { id, label, enabled } => {
                out.push(Box::new(MenuItem::with_id(app, id.as_str(), label, *enabled, None::<&str>)?))
            }
            Entry::Check { id, label, checked } => {
                out.push(Box::new(CheckMenuItem::with_id(app, id.as_str(), label, true, *checked, None::<&str>)?))
            }
            Entry::Separator => out.push(Box::new(PredefinedMenuItem::separator(app)?)),
            Entry::Submenu { label, entries } => {
                let items = build_entries(app, entries)?;
                let refs: Vec<&dyn IsMenuItem<R>> = items.iter().map(|b| b.as_ref()).collect();
                out.push(Box::new(Submenu::with_items(app, label, true, &refs)?));
            }
        }
    }
    Ok(out)
}

fn build_menu<R: Runtime>(
    app: &AppHandle<R>,
    state: &TrayState,
    msgs: &leakwatch::i18n::Messages,
) -> tauri::Result<Menu<R>> {
    let entries = state.menu(msgs);
    let items = build_entries(app, &entries)?;
    let refs: Vec<&dyn IsMenuItem<R>> = items.iter().map(|b| b.as_ref()).collect();
    Menu::with_items(app, &refs)
}

/// Creates the tray icon (call once, from setup).
pub fn create<R: Runtime>(app: &AppHandle<R>, core: &Arc<Core>) -> tauri::Result<()> {
    let state = core.tray_state();
    let msgs = core.messages();
    let menu = build_menu(app, &state, &msgs)?;
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon(state.icon())?)
        .tooltip(state.tooltip(&msgs))
        .menu(&menu)
        .show_menu_on_left_click(true)
        .on_menu_event(|app, event| {
            let id = event.id().as_ref().to_string();
            let Some(action) = action_for(&id) else { return };
            if action == crate::menu::MenuAction::Open {
                crate::app::open_window(app);
            }
            if let Some(core) = app.try_state::<Arc<Core>>() {
                let core = core.inner().clone();
                // Off the UI thread: commands talk to the engine.
                std::thread::spawn(move || core.menu_action(action));
            }
        })
        .build(app)?;
    Ok(())
}

/// Redraws the icon, tooltip and menu from the core's state.
pub fn refresh<R: Runtime>(app: &AppHandle<R>) {
    let Some(core) = app.try_state::<Arc<Core>>() else { return };
    let core = core.inner().clone();
    let handle = app.clone();
    // Asked here, off the main thread; drawn there.
    std::thread::spawn(move || {
        let (state, msgs) = (core.tray_state(), core.messages());
        let app = handle.clone();
        let _ = app.run_on_main_thread(move || redraw(&handle, &state, &msgs));
    });
}

fn redraw<R: Runtime>(handle: &AppHandle<R>, state: &TrayState, msgs: &leakwatch::i18n::Messages) {
    {
        let Some(tray) = handle.tray_by_id(TRAY_ID) else { return };
        if let Ok(img) = icon(state.icon()) {
            let _ = tray.set_icon(Some(img));
        }
        let _ = tray.set_tooltip(Some(state.tooltip(msgs)));
        match build_menu(handle, state, msgs) {
            Ok(menu) => {
                let _ = tray.set_menu(Some(menu));
            }
            Err(e) => tracing::info!("tray menu: {e}"),
        }
    }
}
