//! Versioned schema migrations (`PRAGMA user_version`). Each step runs in the transaction that
//! also bumps the version, so a crash mid-migration leaves the previous version intact.
//!
//! Version 1 kept only alerts (one row each, final figures) and per-minute totals. Version 2
//! added alert updates, user actions (ignores), the host name and phase of each alert, and one
//! `uploads` table with a tier (minute / hour / day) so old detail can be rolled up. Version 3
//! added `program_days`, each program's total per day, kept with every write, so "top programs
//! of the last 30 days" reads a few thousand rows instead of every minute. Version 4 packs the
//! per-minute totals: one row per minute (`minutes`) and one per day (`day_totals`, replacing
//! `program_days`, per program, organisation and country), each a blob of (key, bytes) pairs
//! over `upload_keys` (see `packed.rs`); hours and days stay in `uploads`. Version 5 adds
//! `received_hours`: bytes each program received from foreign addresses, per hour, counted
//! when each flow ends (the Programs view's "received" over stored periods).

use super::packed::{self, Totals};
use rusqlite::{Connection, Transaction};
use std::collections::BTreeMap;

/// The schema this build writes.
pub const LATEST: i64 = 5;

/// SQL of each version, index 0 = version 1.
pub(super) const STEPS: [&str; 5] = [
    r"
CREATE TABLE alerts(
    row INTEGER PRIMARY KEY,
    session INTEGER NOT NULL,
    alert_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    program TEXT,
    exe TEXT,
    dstip TEXT NOT NULL,
    orgname TEXT,
    country TEXT,
    bytes INTEGER NOT NULL,
    started_us INTEGER NOT NULL,
    at_us INTEGER NOT NULL,
    json TEXT NOT NULL,
    UNIQUE(session, alert_id));
CREATE TABLE uploads_minute(
    minute INTEGER NOT NULL,
    program TEXT NOT NULL,
    org TEXT NOT NULL,
    country TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    PRIMARY KEY(minute, program, org, country)) WITHOUT ROWID;
",
    r"
ALTER TABLE alerts ADD COLUMN phase TEXT NOT NULL DEFAULT 'end';
ALTER TABLE alerts ADD COLUMN hostname TEXT;
CREATE INDEX alerts_at ON alerts(at_us);
CREATE TABLE alert_updates(
    alert_row INTEGER NOT NULL,
    phase TEXT NOT NULL,
    at_us INTEGER NOT NULL,
    bytes INTEGER NOT NULL);
CREATE INDEX alert_updates_row ON alert_updates(alert_row);
CREATE TABLE actions(
    row INTEGER PRIMARY KEY,
    at_us INTEGER NOT NULL,
    ignore_id INTEGER NOT NULL,
    scope TEXT NOT NULL,
    source TEXT NOT NULL,
    filter TEXT NOT NULL);
CREATE INDEX actions_filter ON actions(filter);
CREATE TABLE uploads(
    tier INTEGER NOT NULL,
    start INTEGER NOT NULL,
    program TEXT NOT NULL,
    org TEXT NOT NULL,
    country TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    PRIMARY KEY(tier, start, program, org, country)) WITHOUT ROWID;
INSERT INTO uploads(tier, start, program, org, country, bytes)
    SELECT 0, minute * 60, program, org, country, bytes FROM uploads_minute;
DROP TABLE uploads_minute;
",
    r"
CREATE TABLE program_days(
    day INTEGER NOT NULL,
    program TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    PRIMARY KEY(day, program)) WITHOUT ROWID;
INSERT INTO program_days(day, program, bytes)
    SELECT start - (start % 86400), program, SUM(bytes) FROM uploads GROUP BY 1, 2;
",
    r"
CREATE TABLE upload_keys(
    id INTEGER PRIMARY KEY,
    program TEXT NOT NULL,
    org TEXT NOT NULL,
    country TEXT NOT NULL,
    UNIQUE(program, org, country));
CREATE TABLE minutes(start INTEGER PRIMARY KEY, totals BLOB NOT NULL);
CREATE TABLE day_totals(day INTEGER PRIMARY KEY, totals BLOB NOT NULL);
INSERT INTO upload_keys(program, org, country) SELECT DISTINCT program, org, country FROM uploads;
",
    r"
CREATE TABLE received_hours(
    hour INTEGER NOT NULL,
    program TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    PRIMARY KEY(hour, program)) WITHOUT ROWID;
",
];

/// The schema version of an open database.
pub fn version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// Brings the database from its version up to `target` (tests stop at earlier versions).
pub fn migrate_to(conn: &mut Connection, target: i64) -> Result<(), String> {
    let current = version(conn).map_err(|e| e.to_string())?;
    if current > LATEST {
        return Err(format!(
            "it was written by a newer Leakwatch (schema version {current}, this one knows up to {LATEST})"
        ));
    }
    for v in current + 1..=target.min(LATEST) {
        let tx = conn.transaction().map_err(|e| e.to_string())?;
        step(&tx, v).map_err(|e| format!("migrating the schema to version {v} failed: {e}"))?;
        tx.commit().map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn step(tx: &Transaction<'_>, v: i64) -> rusqlite::Result<()> {
    let sql = usize::try_from(v - 1).ok().and_then(|i| STEPS.get(i)).copied().unwrap_or("");
    tx.execute_batch(sql)?;
    if v == 4 {
        pack_totals(tx)?;
    }
    tx.pragma_update(None, "user_version", v)
}

/// Version 4: per-minute rows become one packed row per minute, `program_days` becomes
/// `day_totals` (computed from every tier, so it is per organisation and country too).
fn pack_totals(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    let grouped = |sql: &str| -> rusqlite::Result<BTreeMap<i64, Totals>> {
        let mut out: BTreeMap<i64, Totals> = BTreeMap::new();
        let mut stmt = tx.prepare(sql)?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let bytes = u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0);
            *out.entry(r.get(0)?).or_default().entry(r.get(1)?).or_default() += bytes;
        }
        Ok(out)
    };
    let join = "FROM uploads u JOIN upload_keys k ON k.program = u.program AND k.org = u.org AND k.country = u.country";
    let minutes = grouped(&format!("SELECT u.start, k.id, u.bytes {join} WHERE u.tier = 0"))?;
    let days = grouped(&format!("SELECT u.start - (u.start % 86400), k.id, SUM(u.bytes) {join} GROUP BY 1, 2"))?;
    for (table, rows) in [("minutes(start", minutes), ("day_totals(day", days)] {
        let mut ins = tx.prepare(&format!("INSERT INTO {table}, totals) VALUES(?1, ?2)"))?;
        for (t, totals) in rows {
            ins.execute(rusqlite::params![t, packed::encode(&totals)])?;
        }
    }
    tx.execute_batch("DELETE FROM uploads WHERE tier = 0; DROP TABLE program_days;")
}
