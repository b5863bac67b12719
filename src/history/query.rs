//! Reading the history: alerts with what the user did, upload totals grouped by program,
//! destination or country, time series for charts, and CSV/JSON export.

use super::packed::{self, Totals};
use super::store::{HistoryError, HistoryStore, floor};
use rusqlite::params;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// Which alerts to list.
#[derive(Clone, Debug, Default)]
pub struct AlertQuery {
    /// Only alerts whose last event is at or after this (µs since the epoch).
    pub since_us: Option<i64>,
    /// Only alerts whose last event is before this (µs since the epoch).
    pub until_us: Option<i64>,
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadRow {
    /// The program, the organisation or the country, as grouped (empty: unknown).
    pub key: String,
    /// With [`GroupBy::Destination`]: the country of that organisation's addresses.
    pub country: Option<String>,
    pub bytes: u64,
}

/// Bytes of one program in one bucket of a time series.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeriesPoint {
    /// Start of the bucket, seconds since the epoch.
    pub start: i64,
    pub program: String,
    pub bytes: u64,
}

const DAY: i64 = 86_400;

/// Program, organisation and country of an `upload_keys` id.
pub(super) type KeyNames = HashMap<i64, (String, String, String)>;

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
                 FROM alerts a WHERE a.at_us >= ?1 AND a.at_us < ?5 \
                 AND (?2 IS NULL OR a.program = ?2 OR a.exe = ?2 OR a.exe LIKE '%/' || ?2) \
                 AND (?3 IS NULL OR instr(lower(a.json), lower(?3)) > 0) \
                 ORDER BY a.at_us DESC, a.row DESC LIMIT ?4",
            )
            .map_err(|e| self.sql_err(e))?;
        let rows = stmt
            .query_map(
                params![q.since_us.unwrap_or(i64::MIN), q.program, q.text, limit, q.until_us.unwrap_or(i64::MAX)],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        r.get::<_, Option<i64>>(5)?,
                    ))
                },
            )
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
        self.uploads_between(since_s, None, by, program, limit)
    }

    /// Upload totals from `since_s` up to `until_s` (excluded; `None`: no end), largest first.
    ///
    /// Whole days come from `day_totals`; the parts of the first and last day from the
    /// per-minute rows and the hourly and daily rows of `uploads`.
    pub fn uploads_between(
        &self,
        since_s: Option<i64>,
        until_s: Option<i64>,
        by: GroupBy,
        program: Option<&str>,
        limit: usize,
    ) -> Result<Vec<UploadRow>, HistoryError> {
        let since = since_s.unwrap_or(i64::MIN);
        let until = until_s.unwrap_or(i64::MAX);
        let first_day =
            if since == i64::MIN { i64::MIN } else { floor(since, DAY) + if since % DAY == 0 { 0 } else { DAY } };
        let last_day = if until == i64::MAX { i64::MAX } else { floor(until, DAY) };
        // Partial days: [since, first_day) and [last_day, until); or all of it within one day.
        let parts =
            if first_day < last_day { [(since, first_day), (last_day, until)] } else { [(since, until), (0, 0)] };
        let mut per_key = Totals::new();
        if first_day < last_day {
            self.packed_rows(
                "SELECT day, totals FROM day_totals WHERE day >= ?1 AND day < ?2",
                first_day,
                last_day,
                |_, b| packed::add_into(b, &mut per_key),
            )?;
        }
        for &(lo, hi) in parts.iter().filter(|(lo, hi)| lo < hi) {
            self.packed_rows("SELECT start, totals FROM minutes WHERE start >= ?1 AND start < ?2", lo, hi, |_, b| {
                packed::add_into(b, &mut per_key)
            })?;
        }
        let mut groups: HashMap<(String, Option<String>), u64> = HashMap::new();
        let mut add = |p: &str, org: &str, country: &str, bytes: u64| {
            if program.is_some_and(|want| want != p) {
                return;
            }
            let key = match by {
                GroupBy::Program => (p.to_string(), None),
                GroupBy::Destination => (org.to_string(), Some(country.to_string())),
                GroupBy::Country => (country.to_string(), None),
            };
            let slot = groups.entry(key).or_default();
            *slot = slot.saturating_add(bytes);
        };
        let names = self.key_names()?;
        for (key, bytes) in per_key {
            if let Some((p, org, country)) = names.get(&key) {
                add(p, org, country, bytes);
            }
        }
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT program, org, country, SUM(bytes) FROM uploads WHERE tier IN (1, 2) AND start >= ?1 \
                 AND start < ?2 AND (?3 IS NULL OR program = ?3) GROUP BY 1, 2, 3",
            )
            .map_err(|e| self.sql_err(e))?;
        for &(lo, hi) in parts.iter().filter(|(lo, hi)| lo < hi) {
            let mut rows = stmt.query(params![lo, hi, program]).map_err(|e| self.sql_err(e))?;
            while let Some(r) = rows.next().map_err(|e| self.sql_err(e))? {
                let text = |i| r.get::<_, String>(i);
                let (p, org, country) = (text(0), text(1), text(2));
                let bytes = u64::try_from(r.get::<_, i64>(3).map_err(|e| self.sql_err(e))?).unwrap_or(0);
                match (p, org, country) {
                    (Ok(p), Ok(org), Ok(country)) => add(&p, &org, &country, bytes),
                    (Err(e), ..) | (_, Err(e), _) | (.., Err(e)) => return Err(self.sql_err(e)),
                }
            }
        }
        let mut out: Vec<UploadRow> =
            groups.into_iter().map(|((key, country), bytes)| UploadRow { key, country, bytes }).collect();
        out.sort_by(|a, b| {
            b.bytes.cmp(&a.bytes).then_with(|| a.key.cmp(&b.key)).then_with(|| a.country.cmp(&b.country))
        });
        if limit > 0 {
            out.truncate(limit);
        }
        Ok(out)
    }

    /// Calls `each(time, blob)` for the packed rows `sql` selects with the bounds `lo`, `hi`.
    pub(super) fn packed_rows(
        &self,
        sql: &str,
        lo: i64,
        hi: i64,
        mut each: impl FnMut(i64, &[u8]),
    ) -> Result<(), HistoryError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.sql_err(e))?;
        let mut rows = stmt.query(params![lo, hi]).map_err(|e| self.sql_err(e))?;
        while let Some(r) = rows.next().map_err(|e| self.sql_err(e))? {
            let t: i64 = r.get(0).map_err(|e| self.sql_err(e))?;
            // A value that is not a blob (edited by hand) counts as empty.
            each(t, r.get_ref(1).map_err(|e| self.sql_err(e))?.as_blob().unwrap_or_default());
        }
        Ok(())
    }

    /// Every `upload_keys` row.
    pub(super) fn key_names(&self) -> Result<KeyNames, HistoryError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, program, org, country FROM upload_keys")
            .map_err(|e| self.sql_err(e))?;
        let rows =
            stmt.query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?)))).map_err(|e| self.sql_err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.sql_err(e))
    }

    /// Uploads per program in buckets of `bucket_s` seconds since `since_s`, oldest first.
    pub fn series(&self, since_s: i64, bucket_s: i64) -> Result<Vec<SeriesPoint>, HistoryError> {
        self.series_between(since_s, i64::MAX, bucket_s)
    }

    /// [`HistoryStore::series`] up to `until_s` (excluded).
    pub fn series_between(&self, since_s: i64, until_s: i64, bucket_s: i64) -> Result<Vec<SeriesPoint>, HistoryError> {
        let bucket_s = bucket_s.max(1);
        let mut out: BTreeMap<(i64, String), u64> = BTreeMap::new();
        let mut add = |t: i64, program: &str, bytes: u64| {
            let slot = out.entry((t, program.to_string())).or_default();
            *slot = slot.saturating_add(bytes);
        };
        // Minutes: summed per bucket by key first, then named.
        let names = self.key_names()?;
        let mut per_bucket: BTreeMap<i64, Totals> = BTreeMap::new();
        self.packed_rows(
            "SELECT start, totals FROM minutes WHERE start >= ?1 AND start < ?2",
            since_s,
            until_s,
            |start, blob| packed::add_into(blob, per_bucket.entry(floor(start, bucket_s)).or_default()),
        )?;
        for (t, m) in per_bucket {
            for (key, bytes) in m {
                if let Some((p, ..)) = names.get(&key) {
                    add(t, p, bytes);
                }
            }
        }
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT start - (start % ?2) AS t, program, SUM(bytes) FROM uploads WHERE tier IN (1, 2) AND start >= ?1 \
                 AND start < ?3 GROUP BY t, program",
            )
            .map_err(|e| self.sql_err(e))?;
        let mut rows = stmt.query(params![since_s, bucket_s, until_s]).map_err(|e| self.sql_err(e))?;
        while let Some(r) = rows.next().map_err(|e| self.sql_err(e))? {
            let t: i64 = r.get(0).map_err(|e| self.sql_err(e))?;
            let p: String = r.get(1).map_err(|e| self.sql_err(e))?;
            add(t, &p, u64::try_from(r.get::<_, i64>(2).map_err(|e| self.sql_err(e))?).unwrap_or(0));
        }
        Ok(out.into_iter().map(|((start, program), bytes)| SeriesPoint { start, program, bytes }).collect())
    }

    /// The newest time anything was recorded (seconds), to measure look-backs in packet time.
    pub fn newest_s(&self) -> Result<Option<i64>, HistoryError> {
        self.conn
            .query_row(
                "SELECT MAX(t) FROM (SELECT MAX(start) AS t FROM minutes UNION ALL \
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
        crate::files::write_atomically(path, text.as_bytes()).map_err(|e| e.to_string())?;
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadsView {
    /// Width of each chart bucket in seconds.
    pub bucket_s: i64,
    /// Start of the range, seconds since the epoch.
    pub since: i64,
    /// End of the range (excluded): now, or the end the caller asked for.
    pub until: i64,
    /// The newest time anything was recorded, so a view of an empty range can offer to show
    /// the period that has data (a replayed capture from last year).
    pub newest: Option<i64>,
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
    /// The `history_uploads` view: per-program series and grouped totals for `range` up to
    /// `until_s` (the caller's now, or an end the user picked).
    pub fn uploads_view(
        &self,
        range: &str,
        by: GroupBy,
        program: Option<&str>,
        until_s: i64,
    ) -> Result<UploadsView, String> {
        let (span, bucket_s) = range_spec(range)?;
        let since = until_s - span;
        let series = self.series_between(since, until_s, bucket_s).map_err(|e| e.to_string())?;
        let top = self.uploads_between(Some(since), Some(until_s), by, program, 50).map_err(|e| e.to_string())?;
        let newest = self.newest_s().map_err(|e| e.to_string())?;
        Ok(UploadsView { bucket_s, since, until: until_s, series, top, newest })
    }
}
