//! The tray icon and menu of the resident process, over the StatusNotifierItem and dbusmenu
//! D-Bus protocols (`ksni`, pure Rust on zbus: no GTK). Drawn from the plain
//! [`crate::menu`] model like the Tauri tray; clicks go to the main loop as [`Event`]s.

use super::Event;
use crate::core::Core;
use crate::menu::{Entry, MenuAction, TrayIcon, TrayState, action_for};
use crossbeam_channel::Sender;
use ksni::blocking::TrayMethods;
use ksni::menu::{CheckmarkItem, StandardItem, SubMenu};
use ksni::{MenuItem, OfflineReason};
use leakwatch::i18n::Messages;
use std::sync::Arc;

const WATCHING: &[u8] = include_bytes!("../../../icons/tray-watching.png");
const ALERT: &[u8] = include_bytes!("../../../icons/tray-alert.png");
const PAUSED: &[u8] = include_bytes!("../../../icons/tray-paused.png");

/// An icon as StatusNotifierItem wants it: ARGB32, network byte order. `None` when the PNG
/// cannot be read (the tray then shows the theme's icon named by [`LeakwatchTray::icon_name`]).
pub fn argb_icon(png_bytes: &[u8]) -> Option<ksni::Icon> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    decoder.set_transformations(
        png::Transformations::EXPAND | png::Transformations::STRIP_16 | png::Transformations::ALPHA,
    );
    let mut reader = decoder.read_info().ok()?;
    let mut buf = vec![0; reader.output_buffer_size()?];
    let info = reader.next_frame(&mut buf).ok()?;
    let rgba: &[u8] = buf.get(..info.buffer_size())?;
    let data = match info.color_type {
        png::ColorType::Rgba => rgba.chunks_exact(4).flat_map(|p| [p[3], p[0], p[1], p[2]]).collect(),
        png::ColorType::GrayscaleAlpha => rgba.chunks_exact(2).flat_map(|p| [p[1], p[0], p[0], p[0]]).collect(),
        _ => return None,
    };
    Some(ksni::Icon { width: i32::try_from(info.width).ok()?, height: i32::try_from(info.height).ok()?, data })
}

/// What the tray shows, and where its clicks go.
pub struct LeakwatchTray {
    state: TrayState,
    msgs: Arc<Messages>,
    icons: [Option<ksni::Icon>; 3],
    events: Sender<Event>,
}

impl LeakwatchTray {
    fn click(&self, id: &str) {
        if let Some(a) = action_for(id) {
            let _ = self.events.send(Event::Menu(a));
        }
    }

    fn items(entries: &[Entry]) -> Vec<MenuItem<Self>> {
        entries
            .iter()
            .map(|e| match e {
                Entry::Item { id, label, enabled } => {
                    let id = id.clone();
                    StandardItem {
                        label: mnemonic_free(label),
                        enabled: *enabled,
                        activate: Box::new(move |t: &mut Self| t.click(&id)),
                        ..Default::default()
                    }
                    .into()
                }
                Entry::Check { id, label, checked } => {
                    let id = id.clone();
                    CheckmarkItem {
                        label: mnemonic_free(label),
                        checked: *checked,
                        activate: Box::new(move |t: &mut Self| t.click(&id)),
                        ..Default::default()
                    }
                    .into()
                }
                Entry::Separator => MenuItem::Separator,
                Entry::Submenu { label, entries } => {
                    SubMenu { label: mnemonic_free(label), submenu: Self::items(entries), ..Default::default() }.into()
                }
            })
            .collect()
    }
}

/// dbusmenu reads `_` as a mnemonic mark; a program name such as `my_app` must show as written.
fn mnemonic_free(label: &str) -> String {
    label.replace('_', "__")
}

impl ksni::Tray for LeakwatchTray {
    const MENU_ON_ACTIVATE: bool = true;

    fn id(&self) -> String {
        "leakwatch".into()
    }

    fn title(&self) -> String {
        "Leakwatch".into()
    }

    fn category(&self) -> ksni::Category {
        ksni::Category::SystemServices
    }

    fn status(&self) -> ksni::Status {
        match self.state.icon() {
            TrayIcon::Alert => ksni::Status::NeedsAttention,
            _ => ksni::Status::Active,
        }
    }

    fn icon_name(&self) -> String {
        "leakwatch-app".into()
    }

    fn icon_pixmap(&self) -> Vec<ksni::Icon> {
        let i = match self.state.icon() {
            TrayIcon::Watching => 0,
            TrayIcon::Alert => 1,
            TrayIcon::Paused => 2,
        };
        self.icons[i].clone().into_iter().collect()
    }

    fn attention_icon_pixmap(&self) -> Vec<ksni::Icon> {
        self.icons[1].clone().into_iter().collect()
    }

    fn tool_tip(&self) -> ksni::ToolTip {
        ksni::ToolTip { title: "Leakwatch".into(), description: self.state.tooltip(&self.msgs), ..Default::default() }
    }

    fn activate(&mut self, _x: i32, _y: i32) {
        let _ = self.events.send(Event::Menu(MenuAction::Open));
    }

    fn menu(&self) -> Vec<MenuItem<Self>> {
        Self::items(&self.state.menu(&self.msgs))
    }

    fn watcher_online(&self) {
        let _ = self.events.send(Event::TrayShown);
    }

    fn watcher_offline(&self, reason: OfflineReason) -> bool {
        let why = match reason {
            OfflineReason::Error(e) => e.to_string(),
            _ => "the StatusNotifierWatcher left the session bus".to_string(),
        };
        let _ = self.events.send(Event::NoTray(why));
        // Keep serving: a tray host that appears later shows the icon.
        true
    }
}

/// The running tray.
pub struct Tray(ksni::blocking::Handle<LeakwatchTray>);

impl Tray {
    /// Redraws from the core's state (not from the core's owner thread).
    pub fn refresh(&self, core: &Core) {
        let (state, msgs) = (core.tray_state(), core.messages());
        self.0.update(move |t| {
            t.state = state;
            t.msgs = msgs;
        });
    }

    pub fn shutdown(self) {
        self.0.shutdown().wait();
    }
}

/// Registers the tray on the session bus. A missing StatusNotifierWatcher is reported as
/// [`Event::NoTray`] (the tray still appears if one comes later); other failures (no session
/// bus) are errors.
pub fn spawn(core: &Core, events: Sender<Event>) -> Result<Tray, String> {
    let tray = LeakwatchTray {
        state: core.tray_state(),
        msgs: core.messages(),
        icons: [argb_icon(WATCHING), argb_icon(ALERT), argb_icon(PAUSED)],
        events,
    };
    tray.assume_sni_available(true).spawn().map(Tray).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tray_icons_decode_to_argb() {
        for png in [WATCHING, ALERT, PAUSED] {
            let i = argb_icon(png).expect("the shipped icon decodes");
            assert_eq!((i.width, i.height), (64, 64));
            assert_eq!(i.data.len(), 64 * 64 * 4);
        }
        assert!(argb_icon(b"not a png").is_none());
    }

    #[test]
    fn underscores_are_not_mnemonics() {
        assert_eq!(mnemonic_free("my_app → x"), "my__app → x");
    }
}
