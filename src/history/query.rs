//! Reading the history: alerts with what the user did, upload totals grouped by program,
//! destination or country, time series for charts, and CSV/JSON export.

use super::store::{HistoryError, HistoryStore, floor};
use rusqlite::params;
use serde::Serialize;
use serde_json::Value;
use std::path::Path;

/// Which alerts to list.
#[derive(Clone, Debug, Default)]
pub struct AlertQuery {
    /// Only alerts whose last event is at or after this (µs since the epoch).
    pub since_us: Option<i64>,
    /// Only this program: its name, its executable path, or the file name of that path.
    pub program: Option<String>,
    /// Only alerts whose JSON contains this text (case-insensitive for ASCII).
    pub text: Option<String>,
    /// At most this many, newest first (0: no limit).
    pub limit: usize,
}

/// One stored alert with its history.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlertRecord {
    /// The alert as `replay --json` prints it, plus `id`, `phase`, `ignored`, `ignored_scope`,
    /// `ignored_at` and `updates` (how many updates were recorded).
    pub json: Value,
}

/// How upload totals are grouped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupBy {
    Program,
    /// Organisation and country of the destination.
    Destination,
    Country,
}

impl GroupBy {
    pub fn parse(s: &str) -> Result<GroupBy, String> {
        match s {
            "program" => Ok(GroupBy::Program),
            "destination" => Ok(GroupBy::Destination),
            "country" => Ok(GroupBy::Country),
            _ => Err(format!("`{s}`: group by program, destination or country")),
        }
    }
}

/// A total of uploaded bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UploadRow {
    /// The program, the organisation or the country, as grouped (empty: unknown).
    pub key: String,
    /// With [`GroupBy::Destination`]: the country of that organisation's addresses.
    pub country: Option<String>,
    pub bytes: u64,
}

/// Bytes of one program in one bucket of a time series.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SeriesPoint {
    /// Start of the bucket, seconds since the epoch.
    pub start: i64,
    pub program: String,
    pub bytes: u64,
}

/// Every tier, spelled out so SQLite ranges over the primary key `(tier, start, …)` instead of
/// scanning the table.
pub(super) const TIERS: &str = "tier IN (0, 1, 2)";
const DAY: i64 = 86_400;

impl HistoryStore {
    /// Stored alerts, newest first.
    pub fn alerts(&self, q: &AlertQuery) -> Result<Vec<AlertRecord>, HistoryError> {
        let limit = if q.limit == 0 { i64::MAX } else { i64::try_from(q.limit).unwrap_or(i64::MAX) };
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT a.alert_id, a.phase, a.json, \
                 (SELECT COUNT(*) FROM alert_updates u WHERE u.alert_row = a.row), \
                 (SELECT scope FROM actions x WHERE x.filter = json_extract(a.json, '$.callback_filter') \
                  ORDER BY x.at_us DESC LIMIT 1), \
                 (SELECT MAX(at_us) FROM actions x WHERE x.filter = json_extract(a.json, '$.callback_filter')) \
                 FROM alerts a WHERE a.at_us >= ?1 \
                 AND (?2 IS NULL OR a.program = ?2 OR a.exe = ?2 OR a.exe LIKE '%/' || ?2) \
                 AND (?3 IS NULL OR instr(lower(a.json), lower(?3)) > 0) \
                 ORDER BY a.at_us DESC, a.row DESC LIMIT ?4",
            )
            .map_err(|e| self.sql_err(e))?;
        let rows = stmt
            .query_map(params![q.since_us.unwrap_or(i64::MIN), q.program, q.text, limit], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<i64>>(5)?,
                ))
            })
            .map_err(|e| self.sql_err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, phase, json, updates, scope, at) = row.map_err(|e| self.sql_err(e))?;
            // A row edited by hand into something that is not an object still lists.
            let mut v: Value = serde_json::from_str(&json).unwrap_or_else(|_| Value::Object(Default::default()));
            if let Value::Object(m) = &mut v {
                m.insert("id".into(), id.into());
                m.insert("phase".into(), phase.into());
                m.insert("ignored".into(), scope.is_some().into());
                m.insert("ignored_scope".into(), scope.into());
                m.insert("ignored_at".into(), at.map(|t| crate::time::Ts(t).rfc3339()).into());
                m.insert("updates".into(), updates.into());
            }
            out.push(AlertRecord { json: v });
        }
        Ok(out)
    }

    /// Upload totals since `since_s` (seconds), largest first, optionally for one program.
    pub fn uploads(
        &self,
        since_s: Option<i64>,
        by: GroupBy,
        program: Option<&str>,
        limit: usize,
    ) -> Result<Vec<UploadRow>, HistoryError> {
        let limit = if limit == 0 { i64::MAX } else { i64::try_from(limit).unwrap_or(i64::MAX) };
        if by == GroupBy::Program {
            return self.program_totals(since_s, program, limit);
        }
        let (key, extra) = if by == GroupBy::Destination { ("org", "country") } else { ("country", "NULL") };
        let group = if by == GroupBy::Destination { "1, 2" } else { "1" };
        let sql = format!(
            "SELECT {key}, {extra}, SUM(bytes) AS b FROM uploads WHERE {TIERS} AND start >= ?1 AND (?2 IS NULL OR program = ?2) \
             GROUP BY {group} ORDER BY b DESC, 1 LIMIT ?3"
        );
        self.upload_rows(&sql, params![since_s.unwrap_or(i64::MIN), program, limit])
    }

    /// Totals per program: whole days from `program_days`, the part of the first day after
    /// `since_s` from `uploads`.
    fn program_totals(
        &self,
        since_s: Option<i64>,
        program: Option<&str>,
        limit: i64,
    ) -> Result<Vec<UploadRow>, HistoryError> {
        let since = since_s.unwrap_or(i64::MIN);
        let first_day =
            if since == i64::MIN { i64::MIN } else { floor(since, DAY) + if since % DAY == 0 { 0 } else { DAY } };
        let sql = format!(
            "SELECT program, NULL, SUM(b) AS total FROM ( \
               SELECT program, bytes AS b FROM program_days WHERE day >= ?2 AND (?3 IS NULL OR program = ?3) \
               UNION ALL SELECT program, bytes FROM uploads WHERE {TIERS} AND start >= ?1 AND start < ?2 \
               AND (?3 IS NULL OR program = ?3)) \
             GROUP BY 1 ORDER BY total DESC, 1 LIMIT ?4"
        );
        self.upload_rows(&sql, params![since, first_day, program, limit])
    }

    fn upload_rows(&self, sql: &str, params: impl rusqlite::Params) -> Result<Vec<UploadRow>, HistoryError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.sql_err(e))?;
        let rows = stmt
            .query_map(params, |r| {
                Ok(UploadRow {
                    key: r.get(0)?,
                    country: r.get(1)?,
                    bytes: u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
                })
            })
            .map_err(|e| self.sql_err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.sql_err(e))
    }

    /// Uploads per program in buckets of `bucket_s` seconds since `since_s`, oldest first.
    pub fn series(&self, since_s: i64, bucket_s: i64) -> Result<Vec<SeriesPoint>, HistoryError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT start - (start % ?2) AS t, program, SUM(bytes) FROM uploads WHERE tier IN (0, 1, 2) AND start >= ?1 \
                 GROUP BY t, program ORDER BY t, program",
            )
            .map_err(|e| self.sql_err(e))?;
        let rows = stmt
            .query_map(params![since_s, bucket_s.max(1)], |r| {
                Ok(SeriesPoint {
                    start: r.get(0)?,
                    program: r.get(1)?,
                    bytes: u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
                })
            })
            .map_err(|e| self.sql_err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.sql_err(e))
    }

    /// The newest time anything was recorded (seconds), to measure look-backs in packet time.
    pub fn newest_s(&self) -> Result<Option<i64>, HistoryError> {
        self.conn
            .query_row(
                "SELECT MAX(t) FROM (SELECT MAX(start) AS t FROM uploads WHERE tier = 0 UNION ALL \
                 SELECT MAX(start) FROM uploads WHERE tier = 1 UNION ALL SELECT MAX(start) FROM uploads WHERE tier = 2 \
                 UNION ALL SELECT MAX(at_us) / 1000000 FROM alerts)",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.sql_err(e))
    }

    /// Writes every alert and the per-program totals to `path` (atomically) as JSON
    /// (`{"alerts": [..], "uploads": [..]}`) or as CSV (the alerts, one per line).
    pub fn export(&self, format: &str, path: &Path) -> Result<usize, String> {
        let alerts = self.alerts(&AlertQuery::default()).map_err(|e| e.to_string())?;
        let text = match format {
            "json" => {
                let uploads = self.uploads(None, GroupBy::Program, None, 0).map_err(|e| e.to_string())?;
                let all: Vec<&Value> = alerts.iter().map(|a| &a.json).collect();
                serde_json::to_string_pretty(&serde_json::json!({ "alerts": all, "uploads": uploads }))
                    .map_err(|e| e.to_string())?
            }
            "csv" => alerts_csv(&alerts),
            _ => return Err(format!("`{format}`: export as csv or json")),
        };
        crate::ignores::write_atomically(path, text.as_bytes()).map_err(|e| e.to_string())?;
        Ok(alerts.len())
    }
}

/// Columns of the alerts CSV.
pub const ALERT_COLUMNS: [&str; 13] = [
    "id", "at", "started", "phase", "kind", "program", "exe", "dstip", "dstport", "hostname", "orgname", "country",
    "bytes",
];

/// The alerts as CSV (RFC 4180 quoting), a header line first.
pub fn alerts_csv(alerts: &[AlertRecord]) -> String {
    let mut out = ALERT_COLUMNS.join(",");
    out.push('\n');
    for a in alerts {
        let j = &a.json;
        let cell = |k: &str| -> String {
            let v = match k {
                "program" => &j["process"]["name"],
                "exe" => &j["process"]["exe"],
                _ => &j[k],
            };
            match v {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            }
        };
        let line: Vec<String> = ALERT_COLUMNS.iter().map(|k| csv_field(&cell(k))).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

/// One CSV field, quoted when it holds a comma, quote or line break.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

/// What the History tab's chart and table show for one range (the `history_uploads` command).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UploadsView {
    /// Width of each chart bucket in seconds.
    pub bucket_s: i64,
    /// Start of the range, seconds since the epoch.
    pub since: i64,
    pub series: Vec<SeriesPoint>,
    /// Totals over the range grouped as asked, largest first (at most 50).
    pub top: Vec<UploadRow>,
}

/// Look-back and bucket width, in seconds, of the History tab's ranges.
pub fn range_spec(range: &str) -> Result<(i64, i64), String> {
    match range {
        "1h" => Ok((3600, 60)),
        "24h" => Ok((86_400, 900)),
        "7d" => Ok((7 * 86_400, 3600)),
        "30d" => Ok((30 * 86_400, 6 * 3600)),
        _ => Err(format!("range: `{range}` is not one of 1h, 24h, 7d, 30d")),
    }
}

impl HistoryStore {
    /// The `history_uploads` view: per-program series and grouped totals for `range` up to `now_s`.
    pub fn uploads_view(
        &self,
        range: &str,
        by: GroupBy,
        program: Option<&str>,
        now_s: i64,
    ) -> Result<UploadsView, String> {
        let (span, bucket_s) = range_spec(range)?;
        let since = now_s - span;
        let series = self.series(since, bucket_s).map_err(|e| e.to_string())?;
        let top = self.uploads(Some(since), by, program, 50).map_err(|e| e.to_string())?;
        Ok(UploadsView { bucket_s, since, series, top })
    }
}
