//! The SQLite file: opening (WAL, moved aside when it cannot be opened), batched writes,
//! and maintenance (roll-ups, retention, size cap).
//!
//! Per-minute and per-day totals are packed (`packed.rs`): writing a minute of any number of
//! programs changes two rows. Hourly and daily roll-ups are plain rows of `uploads`.

use super::migrate;
use super::packed::{self, Totals};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Seconds in the roll-up buckets.
const MINUTE: i64 = 60;
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;
/// Upload tiers of the `uploads` table: hourly and daily totals (minutes are in `minutes`).
pub(super) const TIER_HOUR: i64 = 1;
pub(super) const TIER_DAY: i64 = 2;

/// How much history is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Everything older than this (packet time, seconds) is dropped. Default: one year.
    pub retention_s: i64,
    /// The database file never grows past this many bytes for long: the oldest detail is rolled
    /// up, then dropped. Default: 200 MB.
    pub max_bytes: u64,
    /// Per-minute totals older than this become hourly totals. Default: 7 days.
    pub minutes_for_s: i64,
    /// Hourly totals older than this become daily totals. Default: 90 days.
    pub hours_for_s: i64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { retention_s: 365 * DAY, max_bytes: 200 * 1_000_000, minutes_for_s: 7 * DAY, hours_for_s: 90 * DAY }
    }
}

/// What can go wrong with the history file. Each names the file.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("cannot create the directory {}: {source}", path.display())]
    CreateDir { path: PathBuf, source: std::io::Error },
    #[error("cannot open the history database {}: {message}", path.display())]
    Open { path: PathBuf, message: String },
    #[error("the history database {} could not be opened ({message}) and could not be moved aside: {source}", path.display())]
    MoveAside { path: PathBuf, message: String, source: std::io::Error },
    #[error("history database {}: {source}", path.display())]
    Sql { path: PathBuf, source: rusqlite::Error },
}

/// One alert event as stored: the searchable fields and the full JSON object.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertRow {
    /// Distinguishes alert ids of different runs (ids restart at every start).
    pub session: i64,
    pub alert_id: u64,
    /// `new`, `update` or `end`.
    pub phase: String,
    pub kind: String,
    pub program: Option<String>,
    pub exe: Option<String>,
    pub dstip: String,
    pub hostname: Option<String>,
    pub orgname: Option<String>,
    pub country: Option<String>,
    pub bytes: u64,
    pub started_us: i64,
    pub at_us: i64,
    /// The alert as `replay --json` prints it.
    pub json: String,
}

/// Bytes one program sent to one organisation in one country during one minute.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UploadTotal {
    /// Start of the minute, seconds since the epoch (packet time).
    pub minute: i64,
    /// The program's executable path, else its name, else `unknown`.
    pub program: String,
    /// Organisation owning the destination, or empty when unknown.
    pub org: String,
    /// ISO 3166 alpha-2 code, or empty when unknown.
    pub country: String,
    pub bytes: u64,
}

/// An ignore the user (or a local program) added.
#[derive(Clone, Debug, PartialEq)]
pub struct IgnoreAction {
    pub at_us: i64,
    pub ignore_id: u64,
    /// `for_now`, `for_<N>s` or `always`.
    pub scope: String,
    /// `user` or `legacy-socket`.
    pub source: String,
    /// The filter text (an alert's `callback_filter` when ignored from an alert).
    pub filter: String,
}

/// Everything written in one transaction.
#[derive(Clone, Debug, Default)]
pub struct WriteBatch {
    pub alerts: Vec<AlertRow>,
    pub uploads: Vec<UploadTotal>,
    pub actions: Vec<IgnoreAction>,
    /// Bytes received per program and hour (added to what is stored).
    pub received: Vec<ReceivedTotal>,
}

/// Bytes a program received from foreign addresses in one hour (flows that ended in it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedTotal {
    /// Start of the hour (seconds since the epoch).
    pub hour: i64,
    /// The program as history keys it: executable path, else name, else `unknown`.
    pub program: String,
    pub bytes: u64,
}

impl WriteBatch {
    pub fn is_empty(&self) -> bool {
        self.alerts.is_empty() && self.uploads.is_empty() && self.actions.is_empty() && self.received.is_empty()
    }

    pub fn len(&self) -> usize {
        self.alerts.len() + self.uploads.len() + self.actions.len() + self.received.len()
    }
}

/// What one maintenance pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MaintainReport {
    /// Rows rolled into coarser tiers or dropped.
    pub rolled: u64,
    pub dropped: u64,
    /// Bytes in use afterwards.
    pub used_bytes: u64,
}

/// An open history database.
pub struct HistoryStore {
    pub(super) conn: Connection,
    path: PathBuf,
    limits: Limits,
    /// `upload_keys` ids already looked up, by (program, organisation, country).
    keys: KeyCache,
}

impl HistoryStore {
    fn new(conn: Connection, path: &Path, limits: Limits) -> HistoryStore {
        HistoryStore { conn, path: path.to_owned(), limits, keys: KeyCache::default() }
    }

    /// Opens (or creates) the database at `path`. A file that cannot be opened (not a database,
    /// damaged, from a newer version) is moved aside as `<path>.bad-<time>` and a fresh one is
    /// created; the message saying so is returned with the store.
    pub fn open(path: &Path, limits: Limits) -> Result<(HistoryStore, Option<String>), HistoryError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::files::create_private_dir(dir)
                .map_err(|source| HistoryError::CreateDir { path: dir.to_owned(), source })?;
        }
        // Private like every file of ours: SQLite gives its -wal and -shm the database's mode.
        create_private_file(path).map_err(|e| HistoryError::Open { path: path.to_owned(), message: e.to_string() })?;
        match try_open(path, migrate::LATEST) {
            Ok(conn) => Ok((HistoryStore::new(conn, path, limits), None)),
            // Busy, locked, read-only, disk full, no permission: the file may be fine; keep it
            // where it is and say why it cannot be used now.
            Err(OpenFailure { message, damaged: false }) => Err(HistoryError::Open { path: path.to_owned(), message }),
            Err(OpenFailure { message, damaged: true }) => {
                let moved = move_aside(path).map_err(|source| HistoryError::MoveAside {
                    path: path.to_owned(),
                    message: message.clone(),
                    source,
                })?;
                create_private_file(path)
                    .map_err(|e| HistoryError::Open { path: path.to_owned(), message: e.to_string() })?;
                let conn = try_open(path, migrate::LATEST)
                    .map_err(|f| HistoryError::Open { path: path.to_owned(), message: f.message })?;
                let note = format!(
                    "the history database {} could not be opened ({message}); it was kept as {} and a new one was started",
                    path.display(),
                    moved.display()
                );
                Ok((HistoryStore::new(conn, path, limits), Some(note)))
            }
        }
    }

    /// Opens an existing database for reading (the CLI): never creates or moves a file.
    pub fn open_existing(path: &Path) -> Result<HistoryStore, HistoryError> {
        if !path.exists() {
            return Err(HistoryError::Open {
                path: path.to_owned(),
                message: "no such file: nothing was recorded yet (leakwatch run records history)".into(),
            });
        }
        let conn = try_open(path, migrate::LATEST)
            .map_err(|f| HistoryError::Open { path: path.to_owned(), message: f.message })?;
        Ok(HistoryStore::new(conn, path, Limits::default()))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(super) fn sql_err(&self, source: rusqlite::Error) -> HistoryError {
        HistoryError::Sql { path: self.path.clone(), source }
    }

    /// Writes a batch in one transaction: all of it is committed or none.
    pub fn write(&mut self, batch: &WriteBatch) -> Result<(), HistoryError> {
        let done = self.write_tx(batch);
        if done.is_err() {
            // Ids looked up in a transaction that did not commit may not exist.
            self.keys.clear();
        }
        done
    }

    fn write_tx(&mut self, batch: &WriteBatch) -> Result<(), HistoryError> {
        let path = self.path.clone();
        let err = |source| HistoryError::Sql { path: path.clone(), source };
        let tx = self.conn.transaction().map_err(err)?;
        {
            let mut upsert = tx
                .prepare_cached(
                    "INSERT INTO alerts(session, alert_id, phase, kind, program, exe, dstip, hostname, orgname, country, \
                     bytes, started_us, at_us, json) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) \
                     ON CONFLICT(session, alert_id) DO UPDATE SET phase = excluded.phase, kind = excluded.kind, \
                     hostname = excluded.hostname, orgname = excluded.orgname, country = excluded.country, \
                     bytes = excluded.bytes, at_us = excluded.at_us, json = excluded.json RETURNING row",
                )
                .map_err(err)?;
            let mut update = tx
                .prepare_cached("INSERT INTO alert_updates(alert_row, phase, at_us, bytes) VALUES(?1, ?2, ?3, ?4)")
                .map_err(err)?;
            for a in &batch.alerts {
                let row: i64 = upsert
                    .query_row(
                        params![
                            a.session,
                            to_i64(a.alert_id),
                            a.phase,
                            a.kind,
                            a.program,
                            a.exe,
                            a.dstip,
                            a.hostname,
                            a.orgname,
                            a.country,
                            to_i64(a.bytes),
                            a.started_us,
                            a.at_us,
                            a.json
                        ],
                        |r| r.get(0),
                    )
                    .map_err(err)?;
                if a.phase != "new" {
                    update.execute(params![row, a.phase, a.at_us, to_i64(a.bytes)]).map_err(err)?;
                }
            }
            // Per minute and per day: the batch's totals by key, then one row each.
            let mut minutes: BTreeMap<i64, Vec<(i64, u64)>> = BTreeMap::new();
            let mut days: BTreeMap<i64, hashbrown::HashMap<i64, u64>> = BTreeMap::new();
            for u in &batch.uploads {
                let key = match self.keys.get(&KeyRef(&u.program, &u.org, &u.country)) {
                    Some(&id) => id,
                    None => {
                        let id = key_id(&tx, u).map_err(err)?;
                        self.keys.insert((u.program.clone(), u.org.clone(), u.country.clone()), id);
                        id
                    }
                };
                let start = floor(u.minute, MINUTE);
                minutes.entry(start).or_default().push((key, u.bytes));
                let slot = days.entry(floor(start, DAY)).or_default().entry(key).or_default();
                *slot = slot.saturating_add(u.bytes);
            }
            let minutes = minutes.into_iter().map(|(t, pairs)| (t, packed::summed(pairs))).collect();
            let days = days.into_iter().map(|(t, per_key)| (t, per_key.into_iter().collect())).collect();
            merge_packed(&tx, "minutes", "start", minutes).map_err(err)?;
            merge_packed(&tx, "day_totals", "day", days).map_err(err)?;
            let mut act = tx
                .prepare_cached(
                    "INSERT INTO actions(at_us, ignore_id, scope, source, filter) VALUES(?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(err)?;
            for a in &batch.actions {
                act.execute(params![a.at_us, to_i64(a.ignore_id), a.scope, a.source, a.filter]).map_err(err)?;
            }
            let mut recv = tx
                .prepare_cached(
                    "INSERT INTO received_hours(hour, program, bytes) VALUES(?1, ?2, ?3) \
                     ON CONFLICT(hour, program) DO UPDATE SET bytes = bytes + excluded.bytes",
                )
                .map_err(err)?;
            for r in &batch.received {
                recv.execute(params![floor(r.hour, HOUR), r.program, to_i64(r.bytes)]).map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    /// Bytes of the database in use (free pages not counted).
    pub fn used_bytes(&self) -> Result<u64, HistoryError> {
        let q = |p: &str| self.conn.query_row(&format!("PRAGMA {p}"), [], |r| r.get::<_, i64>(0));
        let pages = q("page_count").map_err(|e| self.sql_err(e))?;
        let free = q("freelist_count").map_err(|e| self.sql_err(e))?;
        let size = q("page_size").map_err(|e| self.sql_err(e))?;
        Ok(u64::try_from((pages - free).max(0) * size).unwrap_or(0))
    }

    /// Rolls old minutes into hours and old hours into days, drops what is past retention, and
    /// keeps the file under the size cap (oldest detail first). `now_s`: the newest packet time.
    pub fn maintain(&mut self, now_s: i64) -> Result<MaintainReport, HistoryError> {
        let mut report = MaintainReport::default();
        let l = self.limits;
        report.rolled += self.roll_minutes(floor(now_s - l.minutes_for_s, HOUR))?;
        report.rolled += self.roll(TIER_HOUR, TIER_DAY, DAY, floor(now_s - l.hours_for_s, DAY))?;
        report.dropped += self.drop_before(floor(now_s.saturating_sub(l.retention_s), DAY))?;
        // The size cap: roll up the oldest day of minutes, then the oldest month of hours, then
        // drop the oldest day of everything, until the data fits (bounded number of steps).
        for _ in 0..100_000 {
            if self.used_bytes()? <= l.max_bytes {
                break;
            }
            let oldest = |sql: &str| -> Result<Option<i64>, HistoryError> {
                self.conn.query_row(sql, [], |r| r.get(0)).map_err(|e| self.sql_err(e))
            };
            if let Some(t) = oldest("SELECT MIN(start) FROM minutes")? {
                report.rolled += self.roll_minutes(floor(t, DAY) + DAY)?;
            } else if let Some(t) = oldest("SELECT MIN(start) FROM uploads WHERE tier = 1")? {
                report.rolled += self.roll(TIER_HOUR, TIER_DAY, DAY, floor(t, DAY) + 30 * DAY)?;
            } else if let Some(t) = self.oldest_any()? {
                let n = self.drop_before(floor(t, DAY) + DAY)?;
                report.dropped += n;
                if n == 0 {
                    break;
                }
            } else {
                break;
            }
            self.compact()?;
        }
        self.compact()?;
        report.used_bytes = self.used_bytes()?;
        Ok(report)
    }

    /// Gives freed pages back to the file system and folds the WAL into the database.
    fn compact(&self) -> Result<(), HistoryError> {
        // Each step of this pragma frees pages: step it to the end.
        let vacuum = || -> rusqlite::Result<()> {
            let mut stmt = self.conn.prepare("PRAGMA incremental_vacuum")?;
            let mut rows = stmt.query([])?;
            while rows.next()?.is_some() {}
            Ok(())
        };
        vacuum().map_err(|e| self.sql_err(e))?;
        self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).map_err(|e| self.sql_err(e))
    }

    /// Moves the per-minute totals older than `cutoff` into hourly rows; returns how many
    /// (minute, key) totals were moved.
    fn roll_minutes(&mut self, cutoff: i64) -> Result<u64, HistoryError> {
        let path = self.path.clone();
        let err = |source| HistoryError::Sql { path: path.clone(), source };
        let tx = self.conn.transaction().map_err(err)?;
        let mut hours: BTreeMap<(i64, i64), u64> = BTreeMap::new();
        let mut n = 0u64;
        {
            let mut stmt = tx.prepare("SELECT start, totals FROM minutes WHERE start < ?1").map_err(err)?;
            let mut rows = stmt.query([cutoff]).map_err(err)?;
            while let Some(r) = rows.next().map_err(err)? {
                let start: i64 = r.get(0).map_err(err)?;
                let blob = r.get_ref(1).map_err(err)?.as_blob().unwrap_or_default();
                for (key, bytes) in packed::pairs(blob) {
                    let slot = hours.entry((floor(start, HOUR), key)).or_default();
                    *slot = slot.saturating_add(bytes);
                    n += 1;
                }
            }
            let mut ins = tx
                .prepare(
                    "INSERT INTO uploads(tier, start, program, org, country, bytes) \
                     SELECT 1, ?1, program, org, country, ?3 FROM upload_keys WHERE id = ?2 \
                     ON CONFLICT DO UPDATE SET bytes = bytes + excluded.bytes",
                )
                .map_err(err)?;
            for ((hour, key), bytes) in hours {
                ins.execute(params![hour, key, to_i64(bytes)]).map_err(err)?;
            }
        }
        tx.execute("DELETE FROM minutes WHERE start < ?1", [cutoff]).map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(n)
    }

    /// Moves rows of `from` older than `cutoff` into `to` buckets of `bucket` seconds.
    fn roll(&mut self, from: i64, to: i64, bucket: i64, cutoff: i64) -> Result<u64, HistoryError> {
        let path = self.path.clone();
        let err = |source| HistoryError::Sql { path: path.clone(), source };
        let tx = self.conn.transaction().map_err(err)?;
        tx.execute(
            "INSERT INTO uploads(tier, start, program, org, country, bytes) \
             SELECT ?2, start - (start % ?3), program, org, country, SUM(bytes) FROM uploads \
             WHERE tier = ?1 AND start < ?4 GROUP BY 2, 3, 4, 5 \
             ON CONFLICT DO UPDATE SET bytes = bytes + excluded.bytes",
            params![from, to, bucket, cutoff],
        )
        .map_err(err)?;
        let n = tx.execute("DELETE FROM uploads WHERE tier = ?1 AND start < ?2", params![from, cutoff]).map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(n as u64)
    }

    /// Deletes everything older than `cutoff_s` (a day boundary: `day_totals` keeps whole days).
    fn drop_before(&mut self, cutoff_s: i64) -> Result<u64, HistoryError> {
        let path = self.path.clone();
        let err = |source| HistoryError::Sql { path: path.clone(), source };
        let cutoff_us = cutoff_s.saturating_mul(1_000_000);
        let tx = self.conn.transaction().map_err(err)?;
        let mut n = tx.execute("DELETE FROM uploads WHERE tier IN (1, 2) AND start < ?1", [cutoff_s]).map_err(err)?;
        n += tx.execute("DELETE FROM minutes WHERE start < ?1", [cutoff_s]).map_err(err)?;
        n += tx.execute("DELETE FROM alerts WHERE at_us < ?1", [cutoff_us]).map_err(err)?;
        n +=
            tx.execute("DELETE FROM alert_updates WHERE alert_row NOT IN (SELECT row FROM alerts)", []).map_err(err)?;
        n += tx.execute("DELETE FROM actions WHERE at_us < ?1", [cutoff_us]).map_err(err)?;
        n += tx.execute("DELETE FROM day_totals WHERE day < ?1", [cutoff_s]).map_err(err)?;
        n += tx.execute("DELETE FROM received_hours WHERE hour < ?1", [cutoff_s]).map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(n as u64)
    }

    /// The oldest time (seconds) anything is kept for.
    fn oldest_any(&self) -> Result<Option<i64>, HistoryError> {
        self.conn
            .query_row(
                "SELECT MIN(t) FROM (SELECT MIN(start) AS t FROM minutes UNION ALL SELECT MIN(day) FROM day_totals UNION ALL \
                 SELECT MIN(start) FROM uploads WHERE tier = 1 UNION ALL SELECT MIN(start) FROM uploads WHERE tier = 2 UNION ALL \
                 SELECT MIN(at_us) / 1000000 FROM alerts UNION ALL SELECT MIN(at_us) / 1000000 FROM actions)",
                [],
                |r| r.get(0),
            )
            .optional()
            .map(Option::flatten)
            .map_err(|e| self.sql_err(e))
    }
}

/// `upload_keys` ids by (program, organisation, country), looked up with borrowed strings.
type KeyCache = hashbrown::HashMap<(String, String, String), i64>;

/// A borrowed (program, organisation, country): hashes like the owned tuple (fields in order).
#[derive(Hash)]
struct KeyRef<'a>(&'a str, &'a str, &'a str);

impl hashbrown::Equivalent<(String, String, String)> for KeyRef<'_> {
    fn equivalent(&self, k: &(String, String, String)) -> bool {
        self.0 == k.0 && self.1 == k.1 && self.2 == k.2
    }
}

/// The `upload_keys` id of a total's program, organisation and country (created when new).
fn key_id(tx: &Transaction<'_>, u: &UploadTotal) -> rusqlite::Result<i64> {
    let found = tx
        .prepare_cached("SELECT id FROM upload_keys WHERE program = ?1 AND org = ?2 AND country = ?3")?
        .query_row(params![u.program, u.org, u.country], |r| r.get(0))
        .optional()?;
    match found {
        Some(id) => Ok(id),
        None => tx
            .prepare_cached("INSERT INTO upload_keys(program, org, country) VALUES(?1, ?2, ?3) RETURNING id")?
            .query_row(params![u.program, u.org, u.country], |r| r.get(0)),
    }
}

/// Adds `rows` (time → totals) to the packed rows of `table` (`column` is its time key).
fn merge_packed(tx: &Transaction<'_>, table: &str, column: &str, rows: BTreeMap<i64, Totals>) -> rusqlite::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut get = tx.prepare_cached(&format!("SELECT totals FROM {table} WHERE {column} = ?1"))?;
    let mut put = tx.prepare_cached(&format!("INSERT OR REPLACE INTO {table}({column}, totals) VALUES(?1, ?2)"))?;
    for (t, mut totals) in rows {
        let old: Option<Vec<u8>> = get.query_row([t], |r| r.get(0)).optional()?;
        if let Some(old) = old {
            packed::add_into(&old, &mut totals);
        }
        put.execute(params![t, packed::encode(&totals)])?;
    }
    Ok(())
}

pub(super) fn floor(t: i64, bucket: i64) -> i64 {
    t - t.rem_euclid(bucket)
}

pub(super) fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Creates `path` empty with mode 0600 when it does not exist (SQLite would use the umask).
fn create_private_file(path: &Path) -> std::io::Result<()> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    crate::os::private_file(&mut o);
    match o.open(path) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(e),
        _ => Ok(()),
    }
}

/// Why a database could not be opened, and whether the file itself is at fault (not a
/// database, damaged, from a newer version: moved aside) or only this moment (busy, read-only,
/// disk full, no permission: left alone).
#[derive(Debug)]
struct OpenFailure {
    message: String,
    damaged: bool,
}

impl From<rusqlite::Error> for OpenFailure {
    fn from(e: rusqlite::Error) -> OpenFailure {
        use rusqlite::ErrorCode::{DatabaseCorrupt, NotADatabase};
        let damaged = matches!(e.sqlite_error_code(), Some(NotADatabase | DatabaseCorrupt));
        OpenFailure { message: e.to_string(), damaged }
    }
}

/// Opens, sets WAL mode, checks and migrates; any failure is a message for the user.
fn try_open(path: &Path, target: i64) -> Result<Connection, OpenFailure> {
    // A FIFO or device in the database's place: refused, neither opened nor backed up.
    if let Err(e) = crate::files::check_regular(path) {
        return Err(OpenFailure { message: e.to_string(), damaged: false });
    }
    let mut conn = Connection::open(path)?;
    let setup = || -> rusqlite::Result<()> {
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // Only takes effect on a new, empty file: lets the size cap give pages back.
        conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")?;
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(rusqlite::Error::InvalidQuery);
        }
        // WAL + NORMAL: a committed transaction survives the process being killed.
        conn.pragma_update(None, "synchronous", "NORMAL")
    };
    setup()?;
    let check: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
    if check != "ok" {
        return Err(OpenFailure { message: format!("integrity check failed: {check}"), damaged: true });
    }
    // A newer schema, or an old one that does not migrate: this file cannot be used by us.
    migrate::migrate_to(&mut conn, target).map_err(|message| OpenFailure { message, damaged: true })?;
    Ok(conn)
}

/// Opens a database migrated only up to `version` (tests of migrations build old files).
#[doc(hidden)]
pub fn create_at_version(path: &Path, version: i64) -> Result<Connection, String> {
    try_open(path, version).map_err(|f| f.message)
}

/// Moves the database and its WAL aside as `<path>.bad-<time>` (never deleting anything).
fn move_aside(path: &Path) -> std::io::Result<PathBuf> {
    let moved = if path.exists() { crate::files::backup_file(path, chrono::Utc::now())? } else { path.to_owned() };
    for suffix in ["-wal", "-shm"] {
        let side = PathBuf::from(format!("{}{suffix}", path.display()));
        if side.exists() {
            let _ = std::fs::rename(&side, format!("{}{suffix}", moved.display()));
        }
    }
    Ok(moved)
}
