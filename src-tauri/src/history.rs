//! The History tab of an embedded engine over `leakwatch::history`: one read connection to the
//! database the composed system records into, for the three commands (`history_uploads`,
//! `history_alerts`, `export_history` in docs/ui-contract.md). With the service, the same
//! commands go through its API (`crate::backend::remote`).

use leakwatch::history::{AlertQuery, GroupBy, HistoryStore, ProgramsView, UploadsView, parse_since};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Mutex;

/// Most alerts `history_alerts` returns.
const MAX_ALERTS: usize = 1000;

/// The history of a running app (or none, when it is off or could not be opened).
#[derive(Default)]
pub struct History {
    path: Option<PathBuf>,
    reader: Mutex<Option<HistoryStore>>,
    /// Why there is no history, for the commands' errors.
    problem: Option<String>,
}

impl History {
    /// Opens `path` for reading (the recorder, started by the composed system, created it).
    pub fn open(path: Option<PathBuf>) -> History {
        let Some(path) = path else {
            return History { problem: Some("history is off in this run".into()), ..History::default() };
        };
        match HistoryStore::open_existing(&path) {
            Ok(store) => History { path: Some(path), reader: Mutex::new(Some(store)), problem: None },
            Err(e) => History { problem: Some(e.to_string()), ..History::default() },
        }
    }

    fn with<T>(&self, f: impl FnOnce(&HistoryStore) -> Result<T, String>) -> Result<T, String> {
        let guard = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        match guard.as_ref() {
            Some(store) => f(store),
            None => Err(self.problem.clone().unwrap_or_else(|| "the history database is not open".into())),
        }
    }

    /// The database in use, if any.
    pub fn path(&self) -> Option<&PathBuf> {
        self.path.as_ref()
    }
}

impl crate::backend::HistorySource for History {
    /// `history_uploads`: the range ends now, or at `until` (Unix seconds, excluded).
    fn uploads(&self, range: &str, by: &str, program: Option<&str>, until: Option<i64>) -> Result<UploadsView, String> {
        let by = GroupBy::parse(by).map_err(|e| format!("by: {e}"))?;
        let end = until.unwrap_or_else(|| chrono::Utc::now().timestamp());
        self.with(|s| s.uploads_view(range, by, program.filter(|p| !p.is_empty()), end))
    }

    /// `history_alerts`: alerts of the look-back `since` ending now, or at `until`.
    fn alerts(
        &self,
        since: &str,
        program: Option<String>,
        query: Option<String>,
        until: Option<i64>,
    ) -> Result<Vec<Value>, String> {
        let span = parse_since(since).map_err(|e| format!("since: {e}"))?;
        let end = until.unwrap_or_else(|| chrono::Utc::now().timestamp());
        let since_us = span.0.map(|s| (end - s).saturating_mul(1_000_000));
        let q = AlertQuery {
            since_us,
            until_us: until.map(|u| u.saturating_mul(1_000_000)),
            program: program.filter(|p| !p.is_empty()),
            text: query.filter(|t| !t.trim().is_empty()),
            limit: MAX_ALERTS,
        };
        self.with(|s| s.alerts(&q).map(|l| l.into_iter().map(|a| a.json).collect()).map_err(|e| e.to_string()))
    }

    /// `programs`: per-program totals from `from` up to `until` (Unix seconds; `None`: now).
    fn programs(&self, from: i64, until: Option<i64>) -> Result<ProgramsView, String> {
        let until = until.unwrap_or_else(|| chrono::Utc::now().timestamp());
        self.with(|s| s.programs_between(from, until).map_err(|e| e.to_string()))
    }

    /// `export_history` once a path is known (the command asks with the save dialog): writes to
    /// `path`, or without one to [`default_export_dir`] as [`default_file_name`]; returns the
    /// path written.
    fn export(&self, format: &str, path: Option<String>) -> Result<Option<String>, String> {
        check_format(format)?;
        let target = match path.filter(|p| !p.is_empty()) {
            Some(p) => PathBuf::from(p),
            None => default_export_dir()
                .ok_or_else(|| "path: no download or home directory is known for this user".to_string())?
                .join(default_file_name(format)),
        };
        self.with(|s| s.export(format, &target).map_err(|e| format!("path: {}: {e}", target.display())))?;
        Ok(Some(target.display().to_string()))
    }
}

/// `csv` or `json`, else an error naming the field.
pub fn check_format(format: &str) -> Result<(), String> {
    match format {
        "csv" | "json" => Ok(()),
        _ => Err(format!("format: `{format}` is not csv or json")),
    }
}

/// `leakwatch-history-<UTC time>.<format>`: what the save dialog proposes.
pub fn default_file_name(format: &str) -> String {
    format!("leakwatch-history-{}.{format}", chrono::Utc::now().format("%Y%m%dT%H%M%SZ"))
}

/// The user's download directory, else their home directory.
pub fn default_export_dir() -> Option<PathBuf> {
    let dirs = directories::UserDirs::new()?;
    Some(dirs.download_dir().unwrap_or(dirs.home_dir()).to_path_buf())
}
