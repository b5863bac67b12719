//! Desktop notifications behind the [`Notifier`] trait: one notification per threat (replaced
//! while it continues) with the actions "Ignore for now" and "Always ignore"; a click on the body
//! opens the window on that alert. Per-OS implementations live in the submodules; [`FakeNotifier`]
//! records what would be shown, for tests.

#[cfg(target_os = "linux")]
pub mod freedesktop;
#[cfg(target_os = "macos")]
pub mod native;
#[cfg(target_os = "windows")]
pub mod windows;

use crossbeam_channel::Sender;
use std::sync::{Arc, Mutex};

/// Action key of "Ignore for now" (freedesktop action id).
pub const ACTION_IGNORE_NOW: &str = "ignore_now";
/// Action key of "Always ignore".
pub const ACTION_ALWAYS_IGNORE: &str = "always_ignore";
/// Action key of a click on the body (freedesktop's "default").
pub const ACTION_DEFAULT: &str = "default";

/// What to show for one alert.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// The alert (threat) this notification is about; an update replaces the same notification.
    pub alert_id: u64,
    /// The exciter, in the user's language.
    pub title: String,
    /// The message.
    pub body: String,
    /// "Ignore for now", "Always ignore" in the user's language.
    pub ignore_now_label: String,
    pub always_ignore_label: String,
    /// Appended to the body when the server cannot show buttons ("Open Leakwatch to ignore").
    pub open_to_ignore: String,
}

/// What the user did with a notification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoteAction {
    IgnoreForNow,
    AlwaysIgnore,
    /// Clicked the body: open the window on the alert.
    Open,
}

impl NoteAction {
    /// The action for a freedesktop action key; unknown keys are refused.
    pub fn from_key(key: &str) -> Option<NoteAction> {
        match key {
            ACTION_IGNORE_NOW => Some(NoteAction::IgnoreForNow),
            ACTION_ALWAYS_IGNORE => Some(NoteAction::AlwaysIgnore),
            ACTION_DEFAULT => Some(NoteAction::Open),
            _ => None,
        }
    }
}

/// A user action on the notification of `alert_id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoteEvent {
    pub alert_id: u64,
    pub action: NoteAction,
}

/// Why a notification could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("no notification service: {0}")]
    Unavailable(String),
    #[error("the notification service refused the notification: {0}")]
    Refused(String),
}

/// Shows desktop notifications; user actions arrive on the channel given to the constructor.
pub trait Notifier: Send {
    /// Shows the notification of `note.alert_id`, or replaces it if one was shown already.
    fn show(&mut self, note: &Note) -> Result<(), NotifyError>;
    /// Whether the server can show action buttons (else the body says to open Leakwatch).
    fn supports_actions(&self) -> bool;
    /// Shows a notification that is not about an alert and has no buttons (e.g. a local
    /// program added an ignore over the legacy socket).
    fn inform(&mut self, title: &str, body: &str) -> Result<(), NotifyError>;
}

/// The body text for a server with or without action buttons.
/// Program and host names in it came from outside: control and bidi characters are escaped
/// (`leakwatch::text::safe`), so a process named with ESC or U+202E cannot garble or disguise it.
pub fn body_for(note: &Note, actions: bool) -> String {
    let body = leakwatch::text::safe(&note.body);
    if actions { body.into_owned() } else { format!("{body}\n{}", leakwatch::text::safe(&note.open_to_ignore)) }
}

/// The title, escaped like [`body_for`].
pub fn title_for(note: &Note) -> String {
    leakwatch::text::safe(&note.title).into_owned()
}

/// The notifier of this platform, or `None` (with the reason) when there is none.
pub fn system_notifier(events: Sender<NoteEvent>) -> Result<Box<dyn Notifier>, NotifyError> {
    #[cfg(target_os = "linux")]
    {
        Ok(Box::new(freedesktop::FreedesktopNotifier::connect(events)?))
    }
    #[cfg(target_os = "macos")]
    {
        Ok(Box::new(native::NativeNotifier::new(events)))
    }
    #[cfg(target_os = "windows")]
    {
        Ok(Box::new(windows::ToastNotifier::new(events)))
    }
    #[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
    {
        let _ = events;
        Err(NotifyError::Unavailable("no notifications on this platform".into()))
    }
}

/// The app's notifier: none when `off` (`--no-notifications`) or when the platform has none
/// (said on stderr; the app goes on without).
pub fn for_app(off: bool, events: Sender<NoteEvent>) -> Option<Box<dyn Notifier>> {
    if off {
        return None;
    }
    system_notifier(events).map_err(|e| tracing::warn!("no desktop notifications: {e}")).ok()
}

/// One recorded `show`: alert id, title, body, and whether it replaced an earlier one
/// (`inform` is recorded with alert id 0).
pub type Shown = (u64, String, String, bool);

/// A notifier that records what it was asked to show (tests).
#[derive(Clone, Default)]
pub struct FakeNotifier {
    pub actions: bool,
    /// Every `show`, in order: (alert id, title, body, replaced an earlier one).
    pub shown: Arc<Mutex<Vec<Shown>>>,
}

impl Notifier for FakeNotifier {
    fn show(&mut self, note: &Note) -> Result<(), NotifyError> {
        let mut shown = self.shown.lock().map_err(|_| NotifyError::Refused("poisoned".into()))?;
        let replaced = shown.iter().any(|(id, ..)| *id == note.alert_id);
        shown.push((note.alert_id, title_for(note), body_for(note, self.actions), replaced));
        Ok(())
    }

    fn supports_actions(&self) -> bool {
        self.actions
    }

    fn inform(&mut self, title: &str, body: &str) -> Result<(), NotifyError> {
        let mut shown = self.shown.lock().map_err(|_| NotifyError::Refused("poisoned".into()))?;
        shown.push((0, title.to_string(), body.to_string(), false));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(id: u64) -> Note {
        Note {
            alert_id: id,
            title: "curl sends".into(),
            body: "200 KiB".into(),
            ignore_now_label: "Ignore for now".into(),
            always_ignore_label: "Always ignore".into(),
            open_to_ignore: "Open Leakwatch to ignore.".into(),
        }
    }

    /// A process name with ESC, CR, NUL or a bidi override reaches no notification raw.
    #[test]
    fn titles_and_bodies_escape_what_came_from_outside() {
        let mut n = note(1);
        n.title = "x\u{1b}[2Jgpj\u{202e}.exe sends".into();
        n.body = "to a\rb\0".into();
        assert_eq!(title_for(&n), "x\\u{1b}[2Jgpj\\u{202e}.exe sends");
        assert_eq!(body_for(&n, true), "to a\\u{d}b\\u{0}");
        assert!(body_for(&n, false).ends_with("\nOpen Leakwatch to ignore."));
    }

    #[test]
    fn fake_records_and_replaces() {
        let mut f = FakeNotifier { actions: false, ..FakeNotifier::default() };
        f.show(&note(1)).unwrap();
        f.show(&note(1)).unwrap();
        f.show(&note(2)).unwrap();
        let shown = f.shown.lock().unwrap().clone();
        assert_eq!(shown.iter().map(|s| (s.0, s.3)).collect::<Vec<_>>(), vec![(1, false), (1, true), (2, false)]);
        assert!(shown[0].2.ends_with("Open Leakwatch to ignore."));
    }

    #[test]
    fn only_known_action_keys_map() {
        assert_eq!(NoteAction::from_key("always_ignore"), Some(NoteAction::AlwaysIgnore));
        assert_eq!(NoteAction::from_key("ignore_now"), Some(NoteAction::IgnoreForNow));
        assert_eq!(NoteAction::from_key("default"), Some(NoteAction::Open));
        assert_eq!(NoteAction::from_key("rm -rf"), None);
    }
}
