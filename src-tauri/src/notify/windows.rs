//! Windows toasts with the buttons "Ignore for now" and "Always ignore" (compiled on Windows
//! only, through tauri-winrt-notification).
//!
//! A button or a click on the toast calls back with the button's action key, which maps to a
//! [`NoteEvent`] for the toast's own alert: the callback belongs to the toast object we created,
//! so no other program can forge it (unlike a D-Bus signal). Toasts cannot be replaced through
//! this crate, so each threat gets one toast; its updates show in the window.

use super::{
    ACTION_ALWAYS_IGNORE, ACTION_DEFAULT, ACTION_IGNORE_NOW, Note, NoteAction, NoteEvent, Notifier, NotifyError,
};
use crossbeam_channel::Sender;
use std::collections::VecDeque;
use tauri_winrt_notification::{Duration, Toast};

/// The app's AppUserModelID (the bundle identifier in `tauri.conf.json`, registered by the
/// installer's Start-menu shortcut).
const APP_ID: &str = "org.leakwatch.app";
/// Alerts remembered as already toasted (oldest forgotten first).
const REMEMBERED: usize = 1024;

/// Windows toasts with actions.
pub struct ToastNotifier {
    events: Sender<NoteEvent>,
    toasted: VecDeque<u64>,
}

impl ToastNotifier {
    pub fn new(events: Sender<NoteEvent>) -> ToastNotifier {
        ToastNotifier { events, toasted: VecDeque::new() }
    }

    /// Shows the toast `make` builds for our app id; when that id is not registered (the app
    /// was not installed), as PowerShell's, so the user still sees it.
    fn show_toast(make: impl Fn(&str) -> Toast) -> Result<(), NotifyError> {
        match make(APP_ID).show() {
            Ok(()) => Ok(()),
            Err(_) => make(Toast::POWERSHELL_APP_ID).show().map_err(|e| NotifyError::Refused(e.to_string())),
        }
    }
}

impl Notifier for ToastNotifier {
    fn show(&mut self, note: &Note) -> Result<(), NotifyError> {
        if self.toasted.contains(&note.alert_id) {
            return Ok(());
        }
        let make = |app_id: &str| {
            let (tx, alert_id) = (self.events.clone(), note.alert_id);
            Toast::new(app_id)
                .title(&super::title_for(note))
                .text1(&note.body)
                .duration(Duration::Long)
                .add_button(&note.ignore_now_label, ACTION_IGNORE_NOW)
                .add_button(&note.always_ignore_label, ACTION_ALWAYS_IGNORE)
                .on_activated(move |key| {
                    let key = key.as_deref().unwrap_or(ACTION_DEFAULT);
                    if let Some(action) = NoteAction::from_key(key) {
                        let _ = tx.send(NoteEvent { alert_id, action });
                    }
                    Ok(())
                })
        };
        ToastNotifier::show_toast(make)?;
        if self.toasted.len() >= REMEMBERED {
            self.toasted.pop_front();
        }
        self.toasted.push_back(note.alert_id);
        Ok(())
    }

    fn supports_actions(&self) -> bool {
        true
    }

    fn inform(&mut self, title: &str, body: &str) -> Result<(), NotifyError> {
        ToastNotifier::show_toast(|app_id| Toast::new(app_id).title(title).text1(body).duration(Duration::Long))
    }
}
