//! macOS notifications through notify-rust (compiled on macOS only).
//!
//! These backends show the message without action buttons, so the body says to open Leakwatch,
//! whose window offers the same ignores. Clicks are not reported back.

use super::{Note, NoteEvent, Notifier, NotifyError};
use crossbeam_channel::Sender;

/// Notifications of the operating system, without actions.
pub struct NativeNotifier {
    _events: Sender<NoteEvent>,
}

impl NativeNotifier {
    pub fn new(events: Sender<NoteEvent>) -> NativeNotifier {
        NativeNotifier { _events: events }
    }
}

impl Notifier for NativeNotifier {
    fn show(&mut self, note: &Note) -> Result<(), NotifyError> {
        notify_rust::Notification::new()
            .appname("Leakwatch")
            .summary(&super::title_for(note))
            .body(&super::body_for(note, false))
            .show()
            .map(|_| ())
            .map_err(|e| NotifyError::Refused(e.to_string()))
    }

    fn supports_actions(&self) -> bool {
        false
    }

    fn inform(&mut self, title: &str, body: &str) -> Result<(), NotifyError> {
        notify_rust::Notification::new()
            .appname("Leakwatch")
            .summary(title)
            .body(body)
            .show()
            .map(|_| ())
            .map_err(|e| NotifyError::Refused(e.to_string()))
    }
}
