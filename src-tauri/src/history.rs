//! The History tab over `leakwatch::history`: a recorder fed by the engine handle (lossy: the
//! engine never waits for the disk) and one read connection for the three commands
//! (`history_uploads`, `history_alerts`, `export_history` in docs/ui-contract.md).

use leakwatch::engine::{Delivery, EngineHandle};
use leakwatch::history::{AlertQuery, GroupBy, HistoryStore, Limits, Recorder, UploadsView, parse_since};
use leakwatch::i18n::Locale;
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
    recorder: Mutex<Option<Recorder>>,
    /// Why there is no history, for the commands' errors.
    problem: Option<String>,
}

impl History {
    /// Opens `path` (moving a bad file aside, as `leakwatch run` does) and starts recording from
    /// `handle`. Problems are returned as notices for the status line; the app runs on without.
    pub fn start(handle: &EngineHandle, path: Option<PathBuf>, locale: Locale) -> (History, Option<String>) {
        let Some(path) = path else {
            return (History { problem: Some("history is off in this run".into()), ..History::default() }, None);
        };
        let (store, note) = match HistoryStore::open(&path, Limits::default()) {
            Ok(x) => x,
            Err(e) => {
                let msg = e.to_string();
                return (History { problem: Some(msg.clone()), ..History::default() }, Some(msg));
            }
        };
        let recorder = Recorder::start(handle, store, Delivery::Lossy, locale);
        let reader = HistoryStore::open_existing(&path).ok();
        let history = History {
            path: Some(path),
            reader: Mutex::new(reader),
            recorder: Mutex::new(Some(recorder)),
            problem: None,
        };
        (history, note)
    }

    fn with<T>(&self, f: impl FnOnce(&HistoryStore) -> Result<T, String>) -> Result<T, String> {
        let guard = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        match guard.as_ref() {
            Some(store) => f(store),
            None => Err(self.problem.clone().unwrap_or_else(|| "the history database is not open".into())),
        }
    }

    /// `history_uploads`: the range ends now, or at `until` (Unix seconds, excluded).
    pub fn uploads(
        &self,
        range: &str,
        by: &str,
        program: Option<&str>,
        until: Option<i64>,
    ) -> Result<UploadsView, String> {
        let by = GroupBy::parse(by).map_err(|e| format!("by: {e}"))?;
        let end = until.unwrap_or_else(|| chrono::Utc::now().timestamp());
        self.with(|s| s.uploads_view(range, by, program.filter(|p| !p.is_empty()), end))
    }

    /// `history_alerts`: alerts of the look-back `since` ending now, or at `until`.
    pub fn alerts(
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

    /// `export_history` once a path is known (the command asks with the save dialog): writes to
    /// `path`, or without one to [`default_export_dir`] as [`default_file_name`]; returns the
    /// path written.
    pub fn export(&self, format: &str, path: Option<String>) -> Result<Option<String>, String> {
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

    /// The database in use, if any.
    pub fn path(&self) -> Option<&PathBuf> {
        self.path.as_ref()
    }

    /// Waits for the recorder's last write (after the engine finished).
    pub fn finish(&self) {
        if let Some(r) = self.recorder.lock().unwrap_or_else(|p| p.into_inner()).take() {
            r.finish();
        }
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
