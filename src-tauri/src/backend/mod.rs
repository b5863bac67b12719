//! Where the app's alerts come from and where its commands go: the [`Backend`] trait and its two
//! implementations. [`remote::Remote`] is the normal one: a client of the Leakwatch service's
//! local API (the app holds no capture rights). [`embedded::Embedded`] runs an engine in the
//! app's own process, for `--replay FILE` and for `--embedded` on a machine without the service.
//!
//! A backend reports what happens as [`Feed`] items on a channel; the core's owner thread turns
//! them into the contract's events, notifications and the tray's state (`crate::state`).

pub mod embedded;
pub mod remote;

use crate::settings::Settings;
use crate::views::IgnoreView;
use leakwatch::alert::{Alert, AlertPhase};
use leakwatch::capture::live::LiveStatus;
use leakwatch::detect::Stats;
use leakwatch::history::{ProgramsView, UploadsView};
use leakwatch::legacy::LegacyEvent;
use serde_json::Value;

/// Something a backend saw, for the owner thread.
pub enum Feed {
    /// An alert began, continued, ended, or its ignored state changed.
    Alert(AlertFeed),
    /// Bytes uploaded per program in one second (the engine's, or the service's `stats` events).
    Stats(Stats),
    /// An ignore was added (its filter as compact JSON text).
    IgnoreAdded {
        id: u64,
        filter: String,
    },
    IgnoreRemoved {
        id: u64,
    },
    /// Detection was paused or resumed (by this app or another client).
    Paused(bool),
    /// The detection mode, thresholds or cool-down in force changed (service values as
    /// `settings.get` gives them; embedded: never, the app set them itself).
    ServiceSettings(Value),
    /// Live capture news (embedded live mode).
    Live(LiveStatus),
    /// What a local program did over the legacy TCP protocol (embedded: the app serves it).
    Legacy(LegacyEvent),
    /// A local program changed the service's ignores over its legacy TCP socket (remote): the
    /// user is told, as when the app serves that socket itself.
    LegacySocket(LegacyChange),
    /// The service's `status` (remote), about once a second.
    Status(Value),
    /// The connection to the service came up (`user` as the service knows us).
    Connected {
        user: String,
        server: String,
    },
    /// No connection to the service, and why.
    Disconnected(Unreachable),
}

/// One alert as a backend reports it.
pub struct AlertFeed {
    pub id: u64,
    pub phase: AlertPhase,
    /// The engine's alert (embedded): texts are made in the app's language.
    pub alert: Option<Alert>,
    /// The alert as the service sent it (`Alert::to_json`, in the service's language).
    pub json: Option<Value>,
    /// Remote: whether the service marks it ignored (`None`: embedded, decided by the ignores).
    pub ignored: Option<bool>,
    /// Part of the backlog read at connect time: listed, never notified.
    pub backlog: bool,
}

/// What a program did over the service's legacy socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LegacyChange {
    Added { filter: String, permanent: bool },
    Removed { id: u64, name: Option<String> },
}

/// Why the service cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unreachable {
    /// Nothing answers on the socket.
    NotRunning { socket: String },
    /// The socket's permissions, or the service, keep this user out (not in group leakwatch).
    NoAccess { user: String, detail: String },
    /// Something else (a protocol or version mismatch, an I/O error).
    Failed(String),
}

/// Live figures of an embedded engine, read once a second for the status.
#[derive(Clone, Debug, Default)]
pub struct Figures {
    pub interfaces: Vec<String>,
    pub packets: u64,
    /// Packets the kernel dropped because the capture buffer was full.
    pub dropped_packets: u64,
    /// Batches of packets the engine dropped because detection fell behind.
    pub dropped_batches: u64,
    pub foreign_frames: u64,
    pub legacy_port: Option<u16>,
    /// Why the legacy server is not running although the settings turn it on.
    pub legacy_error: Option<String>,
}

/// What the app asks of its source of alerts. Errors are human messages naming the field.
pub trait Backend: Send + Sync + 'static {
    /// Ignores what alert `alert_id` (whose callback filter is `filter`) is about; `scope` is
    /// the contract's (`for_now`, `for_15m`, `for_1h`, `for_24h`, `always`). Returns the
    /// ignore's id.
    fn ignore_alert(&self, alert_id: u64, filter: &str, scope: &str) -> Result<u64, String>;
    /// `false`: no such ignore.
    fn remove_ignore(&self, id: u64) -> Result<bool, String>;
    /// The ignores in force (`source` as the backend knows it).
    fn list_ignores(&self) -> Result<Vec<IgnoreView>, String>;
    /// Applies the detection part of a settings change (mode, thresholds, cool-down, and for
    /// an embedded engine the interfaces and the legacy server).
    fn apply_settings(&self, old: &Settings, new: &Settings) -> Result<(), String>;
    fn pause(&self) -> Result<(), String>;
    fn resume(&self) -> Result<(), String>;
    /// Ignores what `filter` matches (e.g. one program by its executable path) for `scope`
    /// (as in [`Backend::ignore_alert`]). Returns the ignore's id.
    fn ignore_filter(&self, filter: &str, scope: &str) -> Result<u64, String>;
    /// The most recently active open flows (`leakwatch::flows::FlowsNow::to_json`), for the
    /// Connections view.
    fn flows_now(&self, limit: usize) -> Result<Value, String>;
    /// Live figures (embedded); `None` for the service, whose status arrives as [`Feed::Status`].
    fn figures(&self) -> Option<Figures>;
    /// Embedded live: whether connection tracing started (`Err`: why not); `None` when it
    /// does not apply (the service reports its own, a replay has none).
    fn tracing(&self) -> Option<Result<(), String>> {
        None
    }
    /// Whether a capture file is replayed (`--replay`).
    fn replay(&self) -> bool {
        false
    }
    /// A note for the status line while watching (embedded live: what it cannot see).
    fn note(&self) -> Option<String> {
        None
    }
    /// Stops everything the backend started (idempotent).
    fn shutdown(&self);
}

/// The History tab's commands (`history_uploads`, `history_alerts`, `export_history`): the
/// embedded engine's database (`crate::history::History`) or the service's API.
pub trait HistorySource: Send + Sync + 'static {
    /// Uploads of `range` ending now, or at `until` (Unix seconds, excluded).
    fn uploads(&self, range: &str, by: &str, program: Option<&str>, until: Option<i64>) -> Result<UploadsView, String>;
    /// Alerts of the look-back `since` ending now, or at `until`.
    fn alerts(
        &self,
        since: &str,
        program: Option<String>,
        query: Option<String>,
        until: Option<i64>,
    ) -> Result<Vec<Value>, String>;
    /// Per-program totals from `from` up to `until` (Unix seconds, excluded; `None`: now).
    fn programs(&self, from: i64, until: Option<i64>) -> Result<ProgramsView, String>;
    /// Writes the export to `path` (or the default file); returns the path written.
    fn export(&self, format: &str, path: Option<String>) -> Result<Option<String>, String>;
}

/// The ignore filter for one program, by its executable path (a name the program chose for
/// itself never silences alone: without a path there is no program ignore).
pub fn program_filter(exe: &str) -> Result<String, String> {
    if !exe.starts_with('/') && !exe.contains('\\') {
        return Err(format!("exe: {exe:?} is not an executable's full path"));
    }
    let pattern = format!("^{}$", leakwatch::alert::quote_literal(exe));
    Ok(serde_json::json!({"pattern": {"exe": pattern}, "name": "Ignore.Custom.Program"}).to_string())
}

/// The contract's ignore scopes, as the API's `for`.
pub fn api_scope(scope: &str) -> Result<&'static str, String> {
    Ok(match scope {
        "for_now" => "now",
        "for_15m" => "15m",
        "for_1h" => "1h",
        "for_24h" => "24h",
        "always" => "always",
        other => {
            return Err(format!("scope: {other:?} is not one of for_now, for_15m, for_1h, for_24h, always"));
        }
    })
}

/// Where an exported history goes: `path`, or the default file in the user's download folder.
pub fn export_target(format: &str, path: Option<String>) -> Result<std::path::PathBuf, String> {
    crate::history::check_format(format)?;
    match path.filter(|p| !p.is_empty()) {
        Some(p) => Ok(std::path::PathBuf::from(p)),
        None => Ok(crate::history::default_export_dir()
            .ok_or_else(|| "path: no download or home directory is known for this user".to_string())?
            .join(crate::history::default_file_name(format))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A program's ignore pins its executable path exactly, is a filter the engine takes, and is
    /// not over-broad; a bare name (its own choice) is refused.
    #[test]
    fn a_program_filter_pins_the_executable_path() {
        let f = program_filter("/usr/bin/curl (deleted)").unwrap();
        assert_eq!(f, r#"{"name":"Ignore.Custom.Program","pattern":{"exe":"^\\Q/usr/bin/curl (deleted)\\E$"}}"#);
        let rules = leakwatch::judge::Rules::shipped(leakwatch::judge::Mode::Paranoid);
        rules.check_filter(&f).unwrap();
        rules.check_not_over_broad(&f).unwrap();
        assert!(program_filter("curl").unwrap_err().starts_with("exe:"));
    }
}
