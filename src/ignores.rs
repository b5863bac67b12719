//! User ignores ("do not alert me about this again"), temporary or permanent.
//!
//! An ignore is a legacy filter object (§5 and §6.5 of the legacy behaviour notes) kept as a
//! [`serde_json::Value`]: `{"pattern": {..}, "name": "..", "related-patterns": "..",
//! "relation-mode": ".."}`. This module does **not** compile filters; it only checks their
//! shape ([`validate_filter`]) and keeps every other key verbatim, so files written by the old
//! daemon load unchanged and round-trip.
//!
//! * **Temporary** ignores live in memory only, either until a deadline or until restart.
//! * **Permanent** ignores are persisted in `ignores.user.json` (legacy shape `{"filters": [..]}`,
//!   pretty-printed the way the old daemon's Jackson did it, so the old daemon can read it too).
//!   Every change is written atomically (temp file, fsync, rename, fsync of the directory) and
//!   the in-memory state changes only after the write succeeded.
//!
//! A file that cannot be loaded (not JSON, wrong shape, bad entry, too large) is never
//! overwritten: it is renamed to `ignores.user.json.bad-<YYYYmmddTHHMMSSZ>` and the store starts
//! empty; [`IgnoreStore::open`] reports a [`LoadProblem`].
//!
//! Ids are unique within the process (across stores, temporary and permanent ignores), assigned
//! in file order on load, then in order of addition. [`IgnoreStore::generation`] changes on every
//! change, so the engine only recompiles its filters when needed.
//!
//! **Sources.** Every ignore records who added it ([`IgnoreSource`]): the user (CLI, UI) or a
//! local program over the legacy TCP socket. The legacy daemon refuses unknown keys in a filter
//! object, so the source of a permanent ignore is not written into `ignores.user.json` but into
//! a sidecar file next to it, `ignores.user.sources.json` ([`sources_path`]), which lists, for
//! each permanent ignore, who added it and when. It is written before the main file when adding
//! and after it when removing, so a failed write can only leave a stale entry (an ignore shown
//! as socket-made), never hide one. An unreadable sidecar is ignored (every ignore then counts as
//! the user's, added at an unknown time) and rewritten on the next change.
//!
//! Limitations (by design): top-level keys other than `"filters"` are kept and written back
//! after `"filters"`; numbers are rewritten in `serde_json`'s canonical form; lines end with
//! `\n` on every platform.
//!
//! **Edits by others.** [`IgnoreStore::reload_if_changed`] notices that the file changed on disk
//! since the store last read or wrote it (an editor, another `leakwatch ignores` process) and
//! takes the file's permanent ignores as they now are; a long-running owner (the service) calls
//! it once a second and before each change it makes, so an edit made while it runs is applied and
//! never overwritten by the owner's next write.

use std::ffi::OsString;
use std::fmt;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// File name of the permanent ignores, as the legacy daemon called it.
pub const FILE_NAME: &str = "ignores.user.json";
/// Environment variable that overrides the directory of [`FILE_NAME`] (used by tests).
pub const CONFIG_DIR_ENV: &str = "LEAKWATCH_CONFIG_DIR";
/// Largest file [`IgnoreStore::open`] loads, and largest file the store writes.
pub const MAX_FILE_SIZE: u64 = 8 * 1024 * 1024;
/// Deepest nesting accepted inside one filter object.
pub const MAX_FILTER_DEPTH: usize = 64;

/// Temporary ignore for 15 minutes.
pub const FIFTEEN_MINUTES: Duration = Duration::from_secs(15 * 60);
/// Temporary ignore for one hour.
pub const ONE_HOUR: Duration = Duration::from_secs(60 * 60);
/// Temporary ignore for 24 hours.
pub const ONE_DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// The legacy filter keys, in the order the old daemon wrote them.
const KNOWN_KEYS: [&str; 4] = ["pattern", "name", "related-patterns", "relation-mode"];

static NEXT_ID: AtomicU64 = AtomicU64::new(1);
static NEXT_GENERATION: AtomicU64 = AtomicU64::new(1);

fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

fn next_generation() -> u64 {
    NEXT_GENERATION.fetch_add(1, Ordering::Relaxed)
}

/// Who added an ignore.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum IgnoreSource {
    /// The user, through the command line or the UI.
    #[default]
    User,
    /// A local program, over the legacy TCP protocol (`ignore_tmp` / `ignore_permanent`).
    LegacySocket,
}

impl IgnoreSource {
    /// The name shown in `ignores list`, the UI and the sidecar file.
    pub fn as_str(self) -> &'static str {
        match self {
            IgnoreSource::User => "user",
            IgnoreSource::LegacySocket => "legacy-socket",
        }
    }

    /// Parses [`IgnoreSource::as_str`]'s names.
    pub fn parse(s: &str) -> Option<IgnoreSource> {
        [IgnoreSource::User, IgnoreSource::LegacySocket].into_iter().find(|x| x.as_str() == s)
    }
}

impl fmt::Display for IgnoreSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How long an ignore lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IgnoreKind {
    /// In memory only. `until: None` lasts until the process ends.
    Temporary { until: Option<DateTime<Utc>> },
    /// Stored in `ignores.user.json`.
    Permanent,
}

/// One ignore: a legacy filter object plus bookkeeping.
#[derive(Debug, Clone, PartialEq)]
pub struct Ignore {
    /// Unique within the process, stable while the store lives.
    pub id: u64,
    /// The legacy filter object, verbatim.
    pub filter: Value,
    pub kind: IgnoreKind,
    /// When it was added; `None` for a permanent ignore loaded from a file that the sidecar
    /// file has no record of (e.g. written by the legacy daemon or by hand).
    pub added: Option<DateTime<Utc>>,
    /// Who added it.
    pub source: IgnoreSource,
    /// The name of whoever added it, when known (a user name from the local API, or
    /// `ignores.user.json` for an ignore that appeared in the file while the service ran).
    pub by: Option<String>,
}

impl Ignore {
    /// The deadline of a temporary ignore; `None` for permanent and until-restart ignores.
    pub fn until(&self) -> Option<DateTime<Utc>> {
        match self.kind {
            IgnoreKind::Temporary { until } => until,
            IgnoreKind::Permanent => None,
        }
    }

    pub fn is_permanent(&self) -> bool {
        self.kind == IgnoreKind::Permanent
    }

    /// A temporary ignore is expired once `now >= until`.
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.until().is_some_and(|until| now >= until)
    }

    /// The filter's `name`, if it has one (it always has, once validated).
    pub fn name(&self) -> Option<&str> {
        self.filter.get("name").and_then(Value::as_str)
    }
}

/// Errors of the ignore store. Each says what failed, where, and what to do.
#[derive(Debug, thiserror::Error)]
pub enum IgnoreError {
    #[error(
        "invalid ignore filter: {reason}; a filter must be a JSON object with a string \"name\", an optional object \"pattern\" and optional strings \"related-patterns\" and \"relation-mode\""
    )]
    InvalidFilter { reason: String },

    #[error("ignore duration {duration:?} is too long; use a shorter duration or no duration (until restart)")]
    InvalidDuration { duration: Duration },

    #[error("cannot read the ignores file {path}: {source}; check that it is readable by this user, or move it away")]
    Read { path: PathBuf, source: io::Error },

    #[error("{path} is not a regular file; move it away so leakwatch can store its ignores there")]
    NotAFile { path: PathBuf },

    #[error(
        "cannot create the configuration directory {path}: {source}; check that the parent directory exists, is a directory and is writable"
    )]
    CreateDir { path: PathBuf, source: io::Error },

    #[error(
        "cannot save the ignores to {path}: {source}; the change was not made. Check that the directory is writable and the disk is not full"
    )]
    Write { path: PathBuf, source: io::Error },

    #[error(
        "cannot save the ignores to {path}: the file would be {size} bytes, more than the limit of {limit} bytes; remove some permanent ignores first"
    )]
    TooLarge { path: PathBuf, size: u64, limit: u64 },

    #[error(
        "permanent ignores are disabled for this run: {path} could not be loaded and could not be moved aside ({reason}); fix or move that file and restart"
    )]
    PersistenceBlocked { path: PathBuf, reason: String },
    #[error("permanent ignores need an ignores file, and this run has none: use an ignore for now or for a while")]
    NoFile,
}

/// What was wrong with a file that could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadProblemKind {
    /// Not JSON, or JSON of the wrong shape; `line` and `column` are 1-based as reported by
    /// `serde_json` (column 0 means "before the first character of the line").
    Invalid { line: usize, column: usize, message: String },
    /// Larger than [`MAX_FILE_SIZE`].
    TooLarge { size: u64, limit: u64 },
}

/// Where the unloadable file went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackupOutcome {
    /// Renamed to this path.
    MovedTo(PathBuf),
    /// The rename failed; the file is still in place and permanent ignores are disabled
    /// ([`IgnoreError::PersistenceBlocked`]) so it is never overwritten.
    Failed(String),
}

/// A file that existed but could not be loaded. The store starts empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadProblem {
    pub path: PathBuf,
    pub kind: LoadProblemKind,
    pub backup: BackupOutcome,
}

impl fmt::Display for LoadProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            LoadProblemKind::Invalid { line, column, message } => {
                write!(f, "the ignores file {}:{line}:{column} could not be loaded: {message}", self.path.display())?
            }
            LoadProblemKind::TooLarge { size, limit } => write!(
                f,
                "the ignores file {} is {size} bytes, more than the limit of {limit} bytes; it was not loaded",
                self.path.display()
            )?,
        }
        match &self.backup {
            BackupOutcome::MovedTo(backup) => write!(
                f,
                ". It was moved to {}; leakwatch starts with no permanent ignores. Fix that file and move it back, or add the ignores again",
                backup.display()
            ),
            BackupOutcome::Failed(reason) => write!(
                f,
                ". It could not be moved aside ({reason}), so permanent ignores are disabled until it is fixed or moved"
            ),
        }
    }
}

/// Temporary and permanent ignores, the permanent ones backed by a file.
#[derive(Debug)]
pub struct IgnoreStore {
    path: PathBuf,
    /// In order: loaded permanents (file order), then additions in order. Ids ascend.
    ignores: Vec<Ignore>,
    /// Top-level keys of the loaded file other than `"filters"`, written back verbatim.
    extra: Map<String, Value>,
    generation: u64,
    /// Set when an unloadable file could not be moved aside: never overwrite it.
    blocked: Option<String>,
    /// No file at all: temporary ignores only.
    in_memory: bool,
    /// The file as this store last read or wrote it (`None`: missing), to notice edits by others.
    stamp: Option<FileStamp>,
}

/// Length and modification time of a file: changes when anyone rewrites it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileStamp {
    len: u64,
    modified: Option<std::time::SystemTime>,
}

fn stamp_of(path: &Path) -> Option<FileStamp> {
    let meta = fs::metadata(path).ok()?;
    Some(FileStamp { len: meta.len(), modified: meta.modified().ok() })
}

/// What [`IgnoreStore::reload_if_changed`] found in the file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reload {
    /// Ids of the permanent ignores that appeared in the file.
    pub added: Vec<u64>,
    /// Ids of the permanent ignores no longer in the file.
    pub removed: Vec<u64>,
    /// The file could not be loaded: what was wrong and where it was moved (the ignores in force
    /// were written back in its place).
    pub problem: Option<String>,
}

impl IgnoreStore {
    /// `$LEAKWATCH_CONFIG_DIR/ignores.user.json` if that variable is set and not empty,
    /// otherwise `ignores.user.json` in the platform configuration directory of leakwatch
    /// (e.g. `~/.config/leakwatch` on Linux). `None` if there is no home directory.
    pub fn default_path() -> Option<PathBuf> {
        default_path_with(std::env::var_os(CONFIG_DIR_ENV))
    }

    /// A store without a file: temporary ignores work, permanent ones are refused with
    /// [`IgnoreError::NoFile`] (replay with `--no-user-ignores`, tests).
    pub fn in_memory() -> IgnoreStore {
        IgnoreStore {
            path: PathBuf::new(),
            ignores: Vec::new(),
            extra: Map::new(),
            generation: next_generation(),
            blocked: None,
            in_memory: true,
            stamp: None,
        }
    }

    /// Opens the store backed by `path`.
    ///
    /// A missing file is an empty store. A file that cannot be loaded is moved aside to
    /// `<name>.bad-<YYYYmmddTHHMMSSZ>[-N]`, the store starts empty and the problem is returned.
    /// Errors only when the file exists but cannot be read at all (permissions, not a file).
    pub fn open(path: PathBuf) -> Result<(IgnoreStore, Option<LoadProblem>), IgnoreError> {
        let mut store = IgnoreStore {
            path,
            ignores: Vec::new(),
            extra: Map::new(),
            generation: next_generation(),
            blocked: None,
            in_memory: false,
            stamp: None,
        };
        crate::files::remove_stale_temp_files(&store.path);
        crate::files::remove_stale_temp_files(&sources_path(&store.path));
        store.stamp = stamp_of(&store.path);
        let bytes = match read_limited(&store.path)? {
            ReadOutcome::Missing => return Ok((store, None)),
            ReadOutcome::TooLarge(size) => {
                let kind = LoadProblemKind::TooLarge { size, limit: MAX_FILE_SIZE };
                let problem = store.move_aside(kind);
                return Ok((store, Some(problem)));
            }
            ReadOutcome::Bytes(bytes) => bytes,
        };
        match parse_file(&bytes) {
            Ok(parsed) => {
                let mut sources = read_sources(&sources_path(&store.path));
                store.ignores = parsed
                    .filters
                    .into_iter()
                    .map(|filter| {
                        let known = sources.iter().position(|s| s.filter == filter).map(|i| sources.swap_remove(i));
                        let (source, added, by) =
                            known.map_or((IgnoreSource::User, None, None), |s| (s.source, s.added, s.by));
                        Ignore { id: next_id(), filter, kind: IgnoreKind::Permanent, added, source, by }
                    })
                    .collect();
                store.extra = parsed.extra;
                Ok((store, None))
            }
            Err(err) => {
                let kind = LoadProblemKind::Invalid {
                    line: err.line(),
                    column: err.column(),
                    message: strip_position(&err.to_string()),
                };
                let problem = store.move_aside(kind);
                Ok((store, Some(problem)))
            }
        }
    }

    /// The file backing the permanent ignores.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Changes on every change of the set of ignores (add, remove, purge of expired ones).
    /// Values are unique within the process, so a reopened store never repeats one.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Adds a temporary ignore lasting `duration` from now (`None`: until restart).
    /// See [`IgnoreStore::add_temporary_at`].
    pub fn add_temporary(&mut self, filter: Value, duration: Option<Duration>) -> Result<u64, IgnoreError> {
        self.add_temporary_at(filter, duration, Utc::now())
    }

    /// Adds a temporary ignore lasting `duration` from `now` (`None`: until restart).
    ///
    /// If an identical permanent ignore exists, nothing is added and its id is returned. If an
    /// identical temporary ignore exists, it is extended to the later deadline and its id is
    /// returned.
    pub fn add_temporary_at(
        &mut self,
        filter: Value,
        duration: Option<Duration>,
        now: DateTime<Utc>,
    ) -> Result<u64, IgnoreError> {
        self.add_temporary_from(filter, duration, now, IgnoreSource::User, None)
    }

    /// [`IgnoreStore::add_temporary_at`], recording who added it. An identical ignore that
    /// exists keeps its source.
    pub fn add_temporary_from(
        &mut self,
        filter: Value,
        duration: Option<Duration>,
        now: DateTime<Utc>,
        source: IgnoreSource,
        by: Option<String>,
    ) -> Result<u64, IgnoreError> {
        validate_filter(&filter)?;
        let until = match duration {
            None => None,
            Some(duration) => Some(
                TimeDelta::from_std(duration)
                    .ok()
                    .and_then(|delta| now.checked_add_signed(delta))
                    .ok_or(IgnoreError::InvalidDuration { duration })?,
            ),
        };
        self.purge_expired(now);
        if let Some(existing) = self.ignores.iter_mut().find(|i| i.filter == filter) {
            let id = existing.id;
            if let IgnoreKind::Temporary { until: old } = existing.kind {
                let later = match (old, until) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    _ => None,
                };
                if later != old {
                    existing.kind = IgnoreKind::Temporary { until: later };
                    self.generation = next_generation();
                }
            }
            return Ok(id);
        }
        let id = next_id();
        self.ignores.push(Ignore { id, filter, kind: IgnoreKind::Temporary { until }, added: Some(now), source, by });
        self.generation = next_generation();
        Ok(id)
    }

    /// Adds a permanent ignore and saves the file before returning. On error nothing changes.
    ///
    /// If an identical permanent ignore exists, nothing is written and its id is returned.
    /// An identical temporary ignore is left as it is (it expires on its own).
    pub fn add_permanent(&mut self, filter: Value) -> Result<u64, IgnoreError> {
        self.add_permanent_from(filter, IgnoreSource::User, None)
    }

    /// [`IgnoreStore::add_permanent`], recording who added it (a source other than the user is
    /// written to the sidecar file first). An identical permanent ignore keeps its source.
    pub fn add_permanent_from(
        &mut self,
        filter: Value,
        source: IgnoreSource,
        by: Option<String>,
    ) -> Result<u64, IgnoreError> {
        validate_filter(&filter)?;
        if let Some(existing) = self.ignores.iter().find(|i| i.is_permanent() && i.filter == filter) {
            return Ok(existing.id);
        }
        let added = Some(Utc::now());
        let new = Ignore { id: next_id(), filter, kind: IgnoreKind::Permanent, added, source, by };
        let mut all: Vec<&Ignore> = self.ignores.iter().filter(|i| i.is_permanent()).collect();
        all.push(&new);
        if !self.in_memory && self.blocked.is_none() {
            self.save_sources(&all)?;
        }
        let filters: Vec<&Value> = all.iter().map(|i| &i.filter).collect();
        self.save(&filters)?;
        self.saved();
        let id = new.id;
        self.ignores.push(new);
        self.generation = next_generation();
        Ok(id)
    }

    /// Removes the ignore `id`; saves the file first if it is permanent (on error nothing
    /// changes). `Ok(false)` if there is no such ignore.
    pub fn remove(&mut self, id: u64) -> Result<bool, IgnoreError> {
        let Some(index) = self.ignores.iter().position(|i| i.id == id) else {
            return Ok(false);
        };
        if self.ignores[index].is_permanent() {
            let kept: Vec<&Ignore> = self.ignores.iter().filter(|i| i.is_permanent() && i.id != id).collect();
            let filters: Vec<&Value> = kept.iter().map(|i| &i.filter).collect();
            self.save(&filters)?;
            // After the main file: a failure leaves a stale entry, which only over-reports.
            let _ = self.save_sources(&kept);
            self.saved();
        }
        self.ignores.remove(index);
        self.generation = next_generation();
        Ok(true)
    }

    /// Drops expired temporary ignores; returns how many.
    pub fn purge_expired(&mut self, now: DateTime<Utc>) -> usize {
        let before = self.ignores.len();
        self.ignores.retain(|i| !i.is_expired(now));
        let purged = before - self.ignores.len();
        if purged > 0 {
            self.generation = next_generation();
        }
        purged
    }

    /// All live ignores in order (permanent ones from the file first, then additions), after
    /// purging expired temporary ones.
    pub fn list(&mut self, now: DateTime<Utc>) -> Vec<&Ignore> {
        self.purge_expired(now);
        self.ignores.iter().collect()
    }

    /// `(id, filter)` of every live ignore, in [`IgnoreStore::list`] order, after purging
    /// expired temporary ones.
    pub fn active_filters(&mut self, now: DateTime<Utc>) -> impl Iterator<Item = (u64, &Value)> + '_ {
        self.purge_expired(now);
        self.ignores.iter().map(|i| (i.id, &i.filter))
    }

    /// The ignore `id`, even if expired but not yet purged.
    pub fn get(&self, id: u64) -> Option<&Ignore> {
        self.ignores.iter().find(|i| i.id == id)
    }

    /// The earliest deadline of a temporary ignore, so a caller can purge (and recompile) then.
    pub fn next_expiry(&self) -> Option<DateTime<Utc>> {
        self.ignores.iter().filter_map(Ignore::until).min()
    }

    /// Number of ignores from `source` held, including expired ones not yet purged.
    pub fn count_from(&self, source: IgnoreSource) -> usize {
        self.ignores.iter().filter(|i| i.source == source).count()
    }

    /// Number of ignores held, including expired ones not yet purged.
    pub fn len(&self) -> usize {
        self.ignores.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ignores.is_empty()
    }

    /// Writes the sidecar file: who added each permanent ignore of `all`, and when (an unknown
    /// time is left out). Not written at all while there never was an entry.
    fn save_sources(&self, all: &[&Ignore]) -> Result<(), IgnoreError> {
        let path = sources_path(&self.path);
        let entries: Vec<Value> = all
            .iter()
            .map(|i| {
                let mut e = serde_json::json!({"source": i.source.as_str(), "filter": i.filter});
                if let Some(added) = i.added {
                    e["added"] = Value::from(added.to_rfc3339());
                }
                if let Some(by) = &i.by {
                    e["by"] = Value::from(by.as_str());
                }
                e
            })
            .collect();
        if entries.is_empty() && !path.exists() {
            return Ok(());
        }
        let doc = serde_json::json!({
            "comment": "Who added each ignore of ignores.user.json, and when (written by leakwatch).",
            "sources": entries,
        });
        let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
        write_atomically(&path, text.as_bytes())
    }

    /// Writes the permanent `filters`; the caller then records the file's new stamp
    /// ([`IgnoreStore::saved`]).
    fn save(&self, filters: &[&Value]) -> Result<(), IgnoreError> {
        if self.in_memory {
            return Err(IgnoreError::NoFile);
        }
        if let Some(reason) = &self.blocked {
            return Err(IgnoreError::PersistenceBlocked { path: self.path.clone(), reason: reason.clone() });
        }
        let text = to_legacy_json(filters, &self.extra);
        let size = text.len() as u64;
        if size > MAX_FILE_SIZE {
            return Err(IgnoreError::TooLarge { path: self.path.clone(), size, limit: MAX_FILE_SIZE });
        }
        write_atomically(&self.path, text.as_bytes())
    }

    /// Records the file as this store just wrote it, so its own writes are not taken for edits.
    fn saved(&mut self) {
        self.stamp = stamp_of(&self.path);
    }

    /// Takes the file's permanent ignores as they are now when someone else changed the file
    /// since this store last read or wrote it (`None`: unchanged, or no file backs this store).
    ///
    /// Ignores still in the file keep their ids; new ones are the user's, added `by`
    /// `ignores.user.json` unless the sidecar file says otherwise. A file that no longer loads is
    /// moved aside as `*.bad-<time>` (the edit is kept there) and the ignores in force are written
    /// back in its place; a file that was deleted means no permanent ignores.
    pub fn reload_if_changed(&mut self) -> Option<Reload> {
        if self.in_memory || self.blocked.is_some() {
            return None;
        }
        let now_stamp = stamp_of(&self.path);
        if now_stamp == self.stamp {
            return None;
        }
        let parsed = match read_limited(&self.path) {
            Ok(ReadOutcome::Missing) => Ok(ParsedFile { filters: Vec::new(), extra: Map::new() }),
            Ok(ReadOutcome::TooLarge(size)) => Err(LoadProblemKind::TooLarge { size, limit: MAX_FILE_SIZE }),
            Ok(ReadOutcome::Bytes(bytes)) => parse_file(&bytes).map_err(|err| LoadProblemKind::Invalid {
                line: err.line(),
                column: err.column(),
                message: strip_position(&err.to_string()),
            }),
            Err(e) => {
                // Unreadable now (permissions, not a file): keep what is in force, say so once.
                self.stamp = now_stamp;
                return Some(Reload { problem: Some(e.to_string()), ..Reload::default() });
            }
        };
        let parsed = match parsed {
            Ok(p) => p,
            Err(kind) => {
                let problem = self.move_aside(kind);
                let kept: Vec<Value> =
                    self.ignores.iter().filter(|i| i.is_permanent()).map(|i| i.filter.clone()).collect();
                let refs: Vec<&Value> = kept.iter().collect();
                let rewrite = self.save(&refs);
                let mut text = problem.to_string();
                if let Err(e) = rewrite {
                    text.push_str(&format!(" (the ignores in force could not be written back: {e})"));
                }
                self.saved();
                return Some(Reload { problem: Some(text), ..Reload::default() });
            }
        };
        self.stamp = now_stamp;
        let mut sources = read_sources(&sources_path(&self.path));
        let mut old: Vec<Ignore> = Vec::new();
        let mut temporary: Vec<Ignore> = Vec::new();
        for i in self.ignores.drain(..) {
            if i.is_permanent() { old.push(i) } else { temporary.push(i) }
        }
        let mut report = Reload::default();
        let mut permanent = Vec::with_capacity(parsed.filters.len());
        for filter in parsed.filters {
            if permanent.iter().any(|p: &Ignore| p.filter == filter) {
                continue;
            }
            if let Some(pos) = old.iter().position(|o| o.filter == filter) {
                permanent.push(old.swap_remove(pos));
                continue;
            }
            let known = sources.iter().position(|s| s.filter == filter).map(|i| sources.swap_remove(i));
            let (source, added, by) = known
                .map_or((IgnoreSource::User, Some(Utc::now()), Some(FILE_NAME.to_string())), |s| {
                    (s.source, s.added, s.by)
                });
            let id = next_id();
            report.added.push(id);
            permanent.push(Ignore { id, filter, kind: IgnoreKind::Permanent, added, source, by });
        }
        report.removed = old.iter().map(|o| o.id).collect();
        self.ignores = permanent;
        self.ignores.extend(temporary);
        self.extra = parsed.extra;
        if !report.added.is_empty() || !report.removed.is_empty() {
            self.generation = next_generation();
        }
        Some(report)
    }

    fn move_aside(&mut self, kind: LoadProblemKind) -> LoadProblem {
        let backup = match crate::files::backup_file(&self.path, Utc::now()) {
            Ok(backup) => BackupOutcome::MovedTo(backup),
            Err(err) => {
                let reason = err.to_string();
                self.blocked = Some(reason.clone());
                BackupOutcome::Failed(reason)
            }
        };
        LoadProblem { path: self.path.clone(), kind, backup }
    }
}

/// The sidecar file recording the sources of the permanent ignores in `path`:
/// `ignores.user.json` → `ignores.user.sources.json` in the same directory.
pub fn sources_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| FILE_NAME.to_owned());
    let stem = name.strip_suffix(".json").unwrap_or(&name);
    path.with_file_name(format!("{stem}.sources.json"))
}

/// One entry of the sidecar file.
struct SourceEntry {
    filter: Value,
    source: IgnoreSource,
    added: Option<DateTime<Utc>>,
    by: Option<String>,
}

/// The sidecar entries; an absent, oversized or unreadable file gives none.
fn read_sources(path: &Path) -> Vec<SourceEntry> {
    let Ok(ReadOutcome::Bytes(bytes)) = read_limited(path) else { return Vec::new() };
    let Ok(doc) = serde_json::from_slice::<Value>(&bytes) else { return Vec::new() };
    let Some(list) = doc.get("sources").and_then(Value::as_array) else { return Vec::new() };
    list.iter()
        .filter_map(|e| {
            let source = IgnoreSource::parse(e.get("source")?.as_str()?)?;
            let added = e
                .get("added")
                .and_then(Value::as_str)
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&Utc));
            let by = e.get("by").and_then(Value::as_str).map(str::to_string);
            Some(SourceEntry { filter: e.get("filter")?.clone(), source, added, by })
        })
        .collect()
}

fn default_path_with(override_dir: Option<OsString>) -> Option<PathBuf> {
    match override_dir {
        Some(dir) if !dir.is_empty() => Some(PathBuf::from(dir).join(FILE_NAME)),
        _ => directories::ProjectDirs::from("", "", "leakwatch").map(|dirs| dirs.config_dir().join(FILE_NAME)),
    }
}

/// Checks the shape of a legacy filter object: an object with a string `name`, an optional
/// object `pattern` and optional strings `related-patterns` / `relation-mode` (`null` counts as
/// absent). Other keys are allowed and kept. Nesting deeper than [`MAX_FILTER_DEPTH`] is refused.
pub fn validate_filter(filter: &Value) -> Result<(), IgnoreError> {
    check_filter(filter).map_err(|reason| IgnoreError::InvalidFilter { reason })
}

fn check_filter(filter: &Value) -> Result<(), String> {
    let Some(object) = filter.as_object() else {
        return Err(format!("expected an object, found {}", type_name(filter)));
    };
    match object.get("name") {
        Some(Value::String(_)) => {}
        None => return Err("\"name\" is missing".to_owned()),
        Some(other) => {
            return Err(format!("\"name\" must be a string, found {}", type_name(other)));
        }
    }
    match object.get("pattern") {
        None | Some(Value::Null) | Some(Value::Object(_)) => {}
        Some(other) => {
            return Err(format!("\"pattern\" must be an object, found {}", type_name(other)));
        }
    }
    for key in ["related-patterns", "relation-mode"] {
        match object.get(key) {
            None | Some(Value::Null) | Some(Value::String(_)) => {}
            Some(other) => {
                return Err(format!("\"{key}\" must be a string, found {}", type_name(other)));
            }
        }
    }
    if too_deep(filter, MAX_FILTER_DEPTH) {
        return Err(format!("nested deeper than {MAX_FILTER_DEPTH} levels"));
    }
    Ok(())
}

fn too_deep(value: &Value, budget: usize) -> bool {
    let children: Box<dyn Iterator<Item = &Value>> = match value {
        Value::Array(items) => Box::new(items.iter()),
        Value::Object(map) => Box::new(map.values()),
        _ => return false,
    };
    if budget == 0 {
        return true;
    }
    children.into_iter().any(|child| too_deep(child, budget - 1))
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `serde_json` appends " at line L column C"; the problem carries those separately.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// Loading

enum ReadOutcome {
    Missing,
    TooLarge(u64),
    Bytes(Vec<u8>),
}

fn read_limited(path: &Path) -> Result<ReadOutcome, IgnoreError> {
    let read_err = |source| IgnoreError::Read { path: path.to_owned(), source };
    let file = match crate::files::open_regular(path) {
        Ok(file) => file,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(ReadOutcome::Missing),
        Err(err) if err.kind() == io::ErrorKind::NotADirectory => {
            return Ok(ReadOutcome::Missing);
        }
        Err(err) if err.kind() == io::ErrorKind::InvalidInput => {
            return Err(IgnoreError::NotAFile { path: path.to_owned() });
        }
        Err(err) => return Err(read_err(err)),
    };
    let meta = file.metadata().map_err(read_err)?;
    if meta.len() > MAX_FILE_SIZE {
        return Ok(ReadOutcome::TooLarge(meta.len()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_FILE_SIZE + 1).read_to_end(&mut bytes).map_err(read_err)?;
    if bytes.len() as u64 > MAX_FILE_SIZE {
        return Ok(ReadOutcome::TooLarge(bytes.len() as u64));
    }
    Ok(ReadOutcome::Bytes(bytes))
}

#[derive(Debug)]
struct ParsedFile {
    filters: Vec<Value>,
    extra: Map<String, Value>,
}

fn parse_file(bytes: &[u8]) -> Result<ParsedFile, serde_json::Error> {
    // Tolerate a UTF-8 byte order mark (Windows editors add one).
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let parsed = deserializer.deserialize_any(FileVisitor)?;
    deserializer.end()?;
    Ok(parsed)
}

struct FileVisitor;

impl<'de> Visitor<'de> for FileVisitor {
    type Value = ParsedFile;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object {\"filters\": [ ... ]}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ParsedFile, A::Error> {
        let mut filters = None;
        let mut extra = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if key == "filters" {
                if filters.is_some() {
                    return Err(de::Error::custom("duplicate key \"filters\""));
                }
                filters = Some(map.next_value_seed(FiltersSeed)?);
            } else if extra.contains_key(&key) {
                map.next_value::<IgnoredAny>()?;
                return Err(de::Error::custom(format!("duplicate key \"{key}\"")));
            } else {
                let value = map.next_value::<Value>()?;
                extra.insert(key, value);
            }
        }
        let filters = filters.ok_or_else(|| de::Error::custom("missing key \"filters\" (a list of filters)"))?;
        Ok(ParsedFile { filters, extra })
    }
}

struct FiltersSeed;

impl<'de> de::DeserializeSeed<'de> for FiltersSeed {
    type Value = Vec<Value>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Vec<Value>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FiltersSeed {
    type Value = Vec<Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"filters\" to be a list of filter objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Value>, A::Error> {
        let mut filters = Vec::new();
        while let Some(filter) = seq.next_element::<Value>()? {
            if let Err(reason) = check_filter(&filter) {
                return Err(de::Error::custom(format!("filter #{} (counting from 1): {reason}", filters.len() + 1)));
            }
            filters.push(filter);
        }
        Ok(filters)
    }
}

// ---------------------------------------------------------------------------------------------
// Writing

/// `{"filters": [..]}` in the layout of Jackson's default pretty printer, which the old daemon
/// used: 2-space indentation, `" : "`, arrays inline as `[ {`..`}, {`..`} ]`, empty containers
/// `{ }` / `[ ]`, no trailing newline. Known filter keys come first, in legacy order.
/// Top-level keys of a filter that the old daemon accepts (legacy notes §4.2); any other key
/// makes it refuse the whole file.
pub const LEGACY_FILTER_KEYS: &[&str] =
    &["name", "pattern", "priority", "related-patterns", "relation-mode", "msg", "msg_exciter", "comment"];
/// Keys inside `"pattern"` that the old daemon accepts.
pub const LEGACY_PATTERN_KEYS: &[&str] =
    &["pid", "dstip", "srcport", "processname", "orgname", "hostname", "differ-by"];

/// Why the old daemon would refuse `filter` (a key it does not know, such as Leakwatch's `exe`,
/// `dstport`, `asn`, `country` or `kind`), or `None` when it reads it.
pub fn legacy_incompatibility(filter: &Value) -> Option<String> {
    let Some(obj) = filter.as_object() else { return Some("it is not a JSON object".into()) };
    let mut unknown: Vec<String> =
        obj.keys().filter(|k| !LEGACY_FILTER_KEYS.contains(&k.as_str())).map(|k| format!("\"{k}\"")).collect();
    match obj.get("pattern") {
        Some(Value::Object(p)) => unknown.extend(
            p.keys().filter(|k| !LEGACY_PATTERN_KEYS.contains(&k.as_str())).map(|k| format!("\"pattern\".\"{k}\"")),
        ),
        Some(_) => return Some("its \"pattern\" is not an object".into()),
        None => {}
    }
    if unknown.is_empty() {
        return None;
    }
    Some(format!("the old daemon does not know {}", crate::text::safe(&unknown.join(", "))))
}

/// The text of an ignores file the old daemon can read, from `filters`: those it accepts, in its
/// layout; and, for each one left out, its index in `filters` and why.
pub fn legacy_only_json(filters: &[&Value]) -> (String, Vec<(usize, String)>) {
    let mut kept = Vec::with_capacity(filters.len());
    let mut left_out = Vec::new();
    for (i, f) in filters.iter().enumerate() {
        match legacy_incompatibility(f) {
            None => kept.push(*f),
            Some(why) => left_out.push((i, why)),
        }
    }
    (to_legacy_json(&kept, &Map::new()), left_out)
}

fn to_legacy_json(filters: &[&Value], extra: &Map<String, Value>) -> String {
    let mut out = String::new();
    out.push('{');
    out.push('\n');
    out.push_str("  \"filters\" : ");
    if filters.is_empty() {
        out.push_str("[ ]");
    } else {
        out.push_str("[ ");
        for (index, filter) in filters.iter().enumerate() {
            if index > 0 {
                out.push_str(", ");
            }
            write_value(&mut out, filter, 1, true);
        }
        out.push_str(" ]");
    }
    for (key, value) in extra {
        out.push_str(",\n  ");
        write_string(&mut out, key);
        out.push_str(" : ");
        write_value(&mut out, value, 1, false);
    }
    out.push_str("\n}");
    out
}

fn write_value(out: &mut String, value: &Value, nesting: usize, legacy_order: bool) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_string(out, s),
        Value::Array(items) if items.is_empty() => out.push_str("[ ]"),
        Value::Array(items) => {
            out.push_str("[ ");
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                write_value(out, item, nesting, false);
            }
            out.push_str(" ]");
        }
        Value::Object(map) if map.is_empty() => out.push_str("{ }"),
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = Vec::with_capacity(map.len());
            if legacy_order {
                for key in KNOWN_KEYS {
                    if let Some((k, v)) = map.get_key_value(key) {
                        entries.push((k, v));
                    }
                }
                entries.extend(map.iter().filter(|(k, _)| !KNOWN_KEYS.contains(&k.as_str())));
            } else {
                entries.extend(map.iter());
            }
            out.push('{');
            for (index, (key, value)) in entries.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                newline_indent(out, nesting + 1);
                write_string(out, key);
                out.push_str(" : ");
                write_value(out, value, nesting + 1, false);
            }
            newline_indent(out, nesting);
            out.push('}');
        }
    }
}

fn newline_indent(out: &mut String, nesting: usize) {
    out.push('\n');
    for _ in 0..nesting {
        out.push_str("  ");
    }
}

fn write_string(out: &mut String, s: &str) {
    // Serialising a &str cannot fail.
    out.push_str(&serde_json::to_string(s).unwrap_or_default());
}

/// Writes `bytes` to `path` atomically and privately (see [`crate::files::write_atomically`]).
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), IgnoreError> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    };
    crate::files::create_private_dir(&dir).map_err(|source| IgnoreError::CreateDir { path: dir.clone(), source })?;
    crate::files::write_atomically(path, bytes).map_err(|source| IgnoreError::Write { path: path.to_owned(), source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn filter(ip: &str) -> Value {
        json!({
            "pattern": {"dstip": format!("^\\Q{ip}\\E$")},
            "name": "Ignore.Custom.Pattern.IP",
            "related-patterns": "^\\QPattern.IP\\E$",
            "relation-mode": "all"
        })
    }

    #[test]
    fn default_path_uses_override_dir() {
        let path = default_path_with(Some(OsString::from("/tmp/lw-conf"))).unwrap();
        assert_eq!(path, PathBuf::from("/tmp/lw-conf/ignores.user.json"));
        if let Some(path) = default_path_with(Some(OsString::new())) {
            assert!(path.ends_with("leakwatch/ignores.user.json") || path.ends_with(FILE_NAME));
        }
    }

    #[test]
    fn legacy_layout_matches_jackson() {
        let a = json!({"pattern": {"processname": "^\\Qcurl\\E$"}, "name": "Ignore.Custom.Pattern.Process",
            "related-patterns": "^\\QPattern.Process\\E$", "relation-mode": "all"});
        let b = json!({"name": "Ignore.Custom.Pattern.Port", "relation-mode": "all",
            "related-patterns": "^\\QPattern.Port\\E$", "pattern": {}});
        let text = to_legacy_json(&[&a, &b], &Map::new());
        let expected = r#"{
  "filters" : [ {
    "pattern" : {
      "processname" : "^\\Qcurl\\E$"
    },
    "name" : "Ignore.Custom.Pattern.Process",
    "related-patterns" : "^\\QPattern.Process\\E$",
    "relation-mode" : "all"
  }, {
    "pattern" : { },
    "name" : "Ignore.Custom.Pattern.Port",
    "related-patterns" : "^\\QPattern.Port\\E$",
    "relation-mode" : "all"
  } ]
}"#;
        assert_eq!(text, expected);
        assert_eq!(to_legacy_json(&[], &Map::new()), "{\n  \"filters\" : [ ]\n}");
    }

    #[test]
    fn written_text_parses_back_to_the_same_values() {
        let odd = json!({"name": "x\u{1}\"\\ü", "pattern": {"a": [1, 2.5, null, true, [], {}],
            "b": {"c": {"d": "e"}}}, "comment": "kept", "related-patterns": null});
        let mut extra = Map::new();
        extra.insert("version".into(), json!([1, {"k": "v"}]));
        let text = to_legacy_json(&[&odd, &filter("1.2.3.4")], &extra);
        let parsed = parse_file(text.as_bytes()).unwrap();
        assert_eq!(parsed.filters, vec![odd, filter("1.2.3.4")]);
        assert_eq!(parsed.extra, extra);
    }

    #[test]
    fn validation_rejects_bad_shapes() {
        for bad in [
            json!([]),
            json!("x"),
            json!({}),
            json!({"name": 1}),
            json!({"name": "n", "pattern": "p"}),
            json!({"name": "n", "relation-mode": 3}),
            json!({"name": "n", "related-patterns": []}),
        ] {
            assert!(validate_filter(&bad).is_err(), "{bad}");
        }
        assert!(validate_filter(&json!({"name": "n"})).is_ok());
        let mut deep = json!("leaf");
        for _ in 0..(MAX_FILTER_DEPTH + 2) {
            deep = json!([deep]);
        }
        assert!(validate_filter(&json!({"name": "n", "pattern": {"x": deep}})).is_err());
    }

    #[test]
    fn parse_errors_have_positions() {
        let err = parse_file(b"{\n  \"filters\" : [ {\"name\": 5} ]\n}").unwrap_err();
        assert_eq!(err.line(), 2);
        assert!(err.to_string().contains("filter #1"), "{err}");
        assert!(parse_file(b"{}").is_err());
        assert!(parse_file(b"[]").is_err());
        assert!(parse_file(b"{\"filters\": []} x").is_err());
        assert!(parse_file(b"{\"filters\": [], \"filters\": []}").is_err());
        assert!(parse_file(b"\xEF\xBB\xBF{\"filters\": []}").is_ok());
        assert!(parse_file(b"").is_err());
        assert!(parse_file(b"{\"filters\": [\xff]}").is_err());
    }

    #[test]
    fn temporary_dedup_extends_deadline() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, problem) = IgnoreStore::open(dir.path().join(FILE_NAME)).unwrap();
        assert!(problem.is_none());
        let now = Utc::now();
        let id = store.add_temporary_at(filter("1.1.1.1"), Some(FIFTEEN_MINUTES), now).unwrap();
        let g = store.generation();
        let again = store.add_temporary_at(filter("1.1.1.1"), Some(ONE_HOUR), now).unwrap();
        assert_eq!(id, again);
        assert_ne!(g, store.generation());
        assert_eq!(store.len(), 1);
        assert_eq!(store.get(id).unwrap().until(), Some(now + TimeDelta::hours(1)));
        assert_eq!(store.next_expiry(), Some(now + TimeDelta::hours(1)));
        assert!(matches!(
            store.add_temporary_at(filter("1.1.1.2"), Some(Duration::MAX), now),
            Err(IgnoreError::InvalidDuration { .. })
        ));
        // Temporaries are never written.
        assert!(!dir.path().join(FILE_NAME).exists());
    }

    #[test]
    fn message_without_position_suffix() {
        assert_eq!(strip_position("bad thing at line 3 column 4"), "bad thing");
        assert_eq!(strip_position("bad"), "bad");
    }
}
