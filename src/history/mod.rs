//! History: every alert (with its updates and what the user did about it) and each program's
//! uploads, kept on this machine in SQLite, plus forwarding of alerts to log pipelines.
//!
//! The engine knows nothing of it: a [`Recorder`] subscribes through the `EngineHandle` like any
//! front end and writes in batches on its own thread, so packet processing never waits for the
//! disk. Time is packet time: roll-ups (minutes → hours after 7 days, hours → days after 90
//! days), retention and the size cap follow the newest time recorded, so a replay or a test can
//! write a synthetic year in seconds.

mod migrate;
mod packed;
mod programs;
mod query;
mod recorder;
mod store;

pub mod forward;

pub use migrate::LATEST as SCHEMA_VERSION;
pub use programs::{ProgramRow, ProgramsView};
pub use query::{AlertQuery, AlertRecord, GroupBy, SeriesPoint, UploadRow, UploadsView, range_spec};
pub use query::{alerts_csv, csv_field};
pub use recorder::{Recorder, RecorderReport};
#[doc(hidden)]
pub use store::create_at_version;
pub use store::{
    AlertRow, HistoryError, HistoryStore, IgnoreAction, Limits, MaintainReport, ReceivedTotal, UploadTotal, WriteBatch,
};

use std::ffi::OsString;
use std::path::PathBuf;

/// File name of the history database in the data directory.
pub const FILE_NAME: &str = "history.sqlite";
/// Environment variable that overrides the directory of [`FILE_NAME`] (tests, portable setups).
/// (`LEAKWATCH_DATA_DIR` already names the organisation/country data directory.)
pub const DIR_ENV: &str = "LEAKWATCH_HISTORY_DIR";

/// `$LEAKWATCH_HISTORY_DIR/history.sqlite` if that variable is set and not empty, else
/// `history.sqlite` in the user's data directory (e.g. `~/.local/share/leakwatch`).
pub fn default_path() -> Option<PathBuf> {
    default_path_with(std::env::var_os(DIR_ENV))
}

fn default_path_with(override_dir: Option<OsString>) -> Option<PathBuf> {
    if let Some(dir) = override_dir.filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join(FILE_NAME));
    }
    directories::ProjectDirs::from("", "", "leakwatch").map(|d| d.data_dir().join(FILE_NAME))
}

/// A look-back in seconds; `None`: everything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span(pub Option<i64>);

/// Parses a look-back like `90s`, `30m`, `24h`, `7d`, `2w` into seconds; `all` is `None`.
pub fn parse_since(s: &str) -> Result<Span, String> {
    parse_span(s).map(Span)
}

fn parse_span(s: &str) -> Result<Option<i64>, String> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("all") {
        return Ok(None);
    }
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: i64 = num.parse().map_err(|_| format!("`{s}` is not a time span: write e.g. 24h, 7d or all"))?;
    let mult = match unit {
        "s" => 1,
        "m" | "min" => 60,
        "" | "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(format!("unknown unit `{unit}` in `{s}`: use s, m, h, d or w (or all)")),
    };
    n.checked_mul(mult).map(Some).ok_or_else(|| format!("`{s}` is out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn override_dir_wins() {
        assert_eq!(default_path_with(Some("/tmp/x".into())), Some(PathBuf::from("/tmp/x/history.sqlite")));
    }

    #[test]
    fn since_parses_units() {
        assert_eq!(parse_since("7d"), Ok(Span(Some(7 * 86_400))));
        assert_eq!(parse_since("24h"), Ok(Span(Some(86_400))));
        assert_eq!(parse_since("all"), Ok(Span(None)));
        assert!(parse_since("7y").is_err());
        assert!(parse_since("").is_err());
        assert!(parse_since("99999999999999999999d").is_err());
    }
}
