//! The tray menu as plain data: which items exist, the mode radio, the pause state, the recent
//! alerts and the icon to show. Built from [`TrayState`] and tested without a display; `tray.rs`
//! turns it into Tauri menu items, `resident/sni.rs` into dbusmenu items.

use chrono::{DateTime, Utc};
use leakwatch::i18n::Messages;
use leakwatch::judge::Mode;
use std::time::Duration;

/// Recent alerts listed in the menu.
pub const RECENT: usize = 5;

/// Whether detection is paused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pause {
    Running,
    Until(DateTime<Utc>),
    UntilResumed,
}

/// Everything the tray shows.
#[derive(Clone, Debug, PartialEq)]
pub struct TrayState {
    pub mode: Mode,
    pub pause: Pause,
    pub autostart: bool,
    /// (alert id, one-line label), newest first, at most [`RECENT`].
    pub recent: Vec<(u64, String)>,
    /// A new alert arrived since the window was last opened.
    pub unseen: bool,
    /// Capture is not permitted (or failed), or the service cannot be reached: nothing is
    /// being watched.
    pub not_watching: bool,
    /// Why, with the command that fixes it (shown first in the menu and as the tooltip).
    pub problem: Option<String>,
    /// The health line under the tooltip: interfaces, attributed share, tracing, problems.
    pub health: String,
}

/// The three tray icons.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrayIcon {
    Watching,
    Alert,
    /// Paused, or capture not permitted.
    Paused,
}

/// One menu entry.
#[derive(Clone, Debug, PartialEq)]
pub enum Entry {
    Item { id: String, label: String, enabled: bool },
    Check { id: String, label: String, checked: bool },
    Separator,
    Submenu { label: String, entries: Vec<Entry> },
}

/// What a click on a menu item asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MenuAction {
    Open,
    ShowAlert(u64),
    SetMode(Mode),
    /// Pause for this long, or until resumed (`None`).
    Pause(Option<Duration>),
    Resume,
    ToggleAutostart,
    Quit,
}

pub const PAUSE_15M: Duration = Duration::from_secs(15 * 60);
pub const PAUSE_1H: Duration = Duration::from_secs(3600);

impl TrayState {
    pub fn icon(&self) -> TrayIcon {
        if self.not_watching || self.pause != Pause::Running {
            TrayIcon::Paused
        } else if self.unseen {
            TrayIcon::Alert
        } else {
            TrayIcon::Watching
        }
    }

    /// The tooltip: what is wrong (with the fix) when something is, else the icon's meaning.
    pub fn tooltip(&self, msgs: &Messages) -> String {
        if let Some(p) = &self.problem {
            return format!("Leakwatch: {p}");
        }
        let base = msgs.text(
            match self.icon() {
                TrayIcon::Paused if self.not_watching => "app-tooltip-no-permission",
                TrayIcon::Paused => "app-tooltip-paused",
                TrayIcon::Alert => "app-tooltip-alert",
                TrayIcon::Watching => "app-tooltip-watching",
            },
            None,
        );
        if self.health.is_empty() { base } else { format!("{base}\n{}", self.health) }
    }

    /// The menu, with labels from `msgs`.
    pub fn menu(&self, msgs: &Messages) -> Vec<Entry> {
        let t = |id: &str| msgs.text(id, None);
        let item = |id: &str, label: String| Entry::Item { id: id.into(), label, enabled: true };
        let mut recent: Vec<Entry> = self
            .recent
            .iter()
            .take(RECENT)
            .map(|(id, label)| Entry::Item { id: format!("alert:{id}"), label: label.clone(), enabled: true })
            .collect();
        if recent.is_empty() {
            recent.push(Entry::Item { id: "no-alerts".into(), label: t("app-tray-no-alerts"), enabled: false });
        }
        let modes = Mode::ALL
            .iter()
            .map(|m| Entry::Check {
                id: format!("mode:{}", m.as_str()),
                label: t(&format!("app-mode-{}", m.as_str())),
                checked: *m == self.mode,
            })
            .collect();
        let mut pause = vec![
            item("pause:15m", t("app-pause-15m")),
            item("pause:1h", t("app-pause-1h")),
            item("pause:forever", t("app-pause-until-resumed")),
        ];
        if self.pause != Pause::Running {
            pause.insert(0, item("resume", t("app-tray-resume")));
            pause.insert(1, Entry::Separator);
        }
        let mut top = Vec::new();
        if let Some(p) = &self.problem {
            top.push(Entry::Item { id: "problem".into(), label: p.clone(), enabled: false });
            top.push(Entry::Separator);
        }
        top.extend([
            item("open", t("app-tray-open")),
            Entry::Separator,
            Entry::Submenu { label: t("app-tray-recent"), entries: recent },
            Entry::Submenu { label: t("app-tray-mode"), entries: modes },
            Entry::Submenu { label: t("app-tray-pause"), entries: pause },
            Entry::Check { id: "autostart".into(), label: t("app-tray-autostart"), checked: self.autostart },
            Entry::Separator,
            item("quit", t("app-tray-quit")),
        ]);
        top
    }
}

/// The action of a menu item id.
pub fn action_for(id: &str) -> Option<MenuAction> {
    Some(match id {
        "open" => MenuAction::Open,
        "pause:15m" => MenuAction::Pause(Some(PAUSE_15M)),
        "pause:1h" => MenuAction::Pause(Some(PAUSE_1H)),
        "pause:forever" => MenuAction::Pause(None),
        "resume" => MenuAction::Resume,
        "autostart" => MenuAction::ToggleAutostart,
        "quit" => MenuAction::Quit,
        _ => {
            if let Some(m) = id.strip_prefix("mode:") {
                MenuAction::SetMode(Mode::parse(m).ok()?)
            } else if let Some(a) = id.strip_prefix("alert:") {
                MenuAction::ShowAlert(a.parse().ok()?)
            } else {
                return None;
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use leakwatch::i18n::Locale;

    fn state() -> TrayState {
        TrayState {
            mode: Mode::Adequate,
            pause: Pause::Running,
            autostart: false,
            recent: (1..=7).rev().map(|i| (i, format!("alert {i}"))).collect(),
            unseen: false,
            not_watching: false,
            problem: None,
            health: String::new(),
        }
    }

    fn ids(entries: &[Entry], out: &mut Vec<String>) {
        for e in entries {
            match e {
                Entry::Item { id, .. } | Entry::Check { id, .. } => out.push(id.clone()),
                Entry::Submenu { entries, .. } => ids(entries, out),
                Entry::Separator => {}
            }
        }
    }

    #[test]
    fn menu_has_every_item_and_only_five_recent_alerts() {
        let msgs = Messages::new(Locale::En);
        let menu = state().menu(&msgs);
        let mut all = Vec::new();
        ids(&menu, &mut all);
        assert_eq!(
            all,
            [
                "open",
                "alert:7",
                "alert:6",
                "alert:5",
                "alert:4",
                "alert:3",
                "mode:paranoid",
                "mode:adequate",
                "mode:chill",
                "pause:15m",
                "pause:1h",
                "pause:forever",
                "autostart",
                "quit"
            ]
        );
        for id in &all {
            assert!(action_for(id).is_some(), "{id} has no action");
        }
        // Labels come from the Fluent files (no raw ids).
        let Entry::Item { label, .. } = &menu[0] else { panic!() };
        assert_eq!(label, "Open Leakwatch");
        let ru = state().menu(&Messages::new(Locale::Ru));
        let Entry::Item { label, .. } = &ru[0] else { panic!() };
        assert_ne!(label, "Open Leakwatch");
        assert!(!label.starts_with("app-"));
    }

    #[test]
    fn mode_radio_has_exactly_the_current_mode_checked() {
        let msgs = Messages::new(Locale::En);
        for mode in Mode::ALL {
            let menu = TrayState { mode, ..state() }.menu(&msgs);
            let Entry::Submenu { entries, .. } = &menu[3] else { panic!("{menu:?}") };
            let checked: Vec<_> = entries
                .iter()
                .filter_map(|e| match e {
                    Entry::Check { id, checked: true, .. } => Some(id.clone()),
                    _ => None,
                })
                .collect();
            assert_eq!(checked, vec![format!("mode:{}", mode.as_str())]);
        }
    }

    #[test]
    fn pause_state_shows_resume_and_the_paused_icon() {
        let msgs = Messages::new(Locale::En);
        let running = state();
        assert_eq!(running.icon(), TrayIcon::Watching);
        assert_eq!(TrayState { unseen: true, ..state() }.icon(), TrayIcon::Alert);
        assert_eq!(TrayState { not_watching: true, unseen: true, ..state() }.icon(), TrayIcon::Paused);
        let paused = TrayState { pause: Pause::UntilResumed, unseen: true, ..state() };
        assert_eq!(paused.icon(), TrayIcon::Paused);
        let Entry::Submenu { entries, .. } = &paused.menu(&msgs)[4] else { panic!() };
        assert!(matches!(&entries[0], Entry::Item { id, .. } if id == "resume"));
        let Entry::Submenu { entries, .. } = &running.menu(&msgs)[4] else { panic!() };
        assert!(!entries.iter().any(|e| matches!(e, Entry::Item { id, .. } if id == "resume")));
    }

    #[test]
    fn actions_parse_and_refuse_garbage() {
        assert_eq!(action_for("mode:chill"), Some(MenuAction::SetMode(Mode::Chill)));
        assert_eq!(action_for("alert:42"), Some(MenuAction::ShowAlert(42)));
        assert_eq!(action_for("pause:1h"), Some(MenuAction::Pause(Some(PAUSE_1H))));
        assert_eq!(action_for("pause:forever"), Some(MenuAction::Pause(None)));
        assert_eq!(action_for("mode:loud"), None);
        assert_eq!(action_for("alert:x"), None);
        assert_eq!(action_for("no-alerts"), None);
    }

    #[test]
    fn a_problem_comes_first_and_does_nothing() {
        let msgs = Messages::new(Locale::En);
        let fix = "Service not running: sudo systemctl start leakwatch".to_string();
        let menu = TrayState { problem: Some(fix.clone()), not_watching: true, ..state() }.menu(&msgs);
        assert_eq!(menu[0], Entry::Item { id: "problem".into(), label: fix, enabled: false });
        assert_eq!(menu[1], Entry::Separator);
        assert_eq!(action_for("problem"), None);
    }

    #[test]
    fn an_empty_recent_list_says_so() {
        let msgs = Messages::new(Locale::En);
        let menu = TrayState { recent: vec![], ..state() }.menu(&msgs);
        let Entry::Submenu { entries, .. } = &menu[2] else { panic!() };
        assert!(matches!(&entries[0], Entry::Item { enabled: false, .. }));
    }
}
