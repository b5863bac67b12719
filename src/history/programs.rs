//! Per-program totals of a period for the app's Programs view: bytes uploaded, how many
//! destinations (organisations) and which countries, when first and last seen, how many alerts.
//!
//! Read from the same rows as [`HistoryStore::uploads_between`] (per-minute packed rows, hourly and
//! daily roll-ups), so a program's bytes here equal `leakwatch history uploads` over the period.
//! Whole days are not read from `day_totals` as that query does: first and last seen need the
//! finer rows.

use super::packed;
use super::store::{HistoryError, HistoryStore, TIER_DAY, TIER_HOUR};
use rusqlite::params;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

/// One program's figures over a period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgramRow {
    /// The program as history keys it: its executable path, else its name, else `unknown`.
    pub program: String,
    /// Bytes uploaded to destinations outside the local networks.
    pub bytes: u64,
    /// Distinct destination organisations (an unknown owner counts once).
    pub destinations: u64,
    /// Countries of those destinations (ISO 3166 alpha-2), sorted; unknown ones left out.
    pub countries: Vec<String>,
    /// Start of the first bucket with an upload in the period (seconds since the epoch).
    pub first: i64,
    /// End of the last bucket with an upload in the period (seconds since the epoch).
    pub last: i64,
    /// Alerts about this program whose last event lies in the period.
    pub alerts: u64,
    /// When the history first saw it send (start of that minute, hour or day): a program first
    /// seen within the period is new.
    pub first_ever: i64,
    /// Bytes it received from foreign addresses in flows that ended within the period (to the
    /// hour: the hour the period starts in counts whole). `None` from a service older than this
    /// field, which does not record them (shown as unknown, not as 0).
    #[serde(default)]
    pub received: Option<u64>,
}

/// The Programs view of one period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgramsView {
    pub since: i64,
    /// End of the period (excluded).
    pub until: i64,
    /// The newest time anything was recorded (see [`super::UploadsView::newest`]).
    pub newest: Option<i64>,
    /// Largest upload first.
    pub programs: Vec<ProgramRow>,
}

#[derive(Default)]
struct Acc {
    bytes: u64,
    orgs: BTreeSet<String>,
    countries: BTreeSet<String>,
    first: i64,
    last: i64,
    alerts: u64,
}

impl Acc {
    fn add(&mut self, org: &str, country: &str, bytes: u64, start: i64, end: i64) {
        if self.orgs.is_empty() && self.bytes == 0 {
            (self.first, self.last) = (start, end);
        }
        self.bytes = self.bytes.saturating_add(bytes);
        self.orgs.insert(org.to_string());
        if !country.is_empty() {
            self.countries.insert(country.to_string());
        }
        self.first = self.first.min(start);
        self.last = self.last.max(end);
    }
}

impl HistoryStore {
    /// Every program that uploaded from `since_s` up to `until_s` (excluded), largest first.
    pub fn programs_between(&self, since_s: i64, until_s: i64) -> Result<ProgramsView, HistoryError> {
        let mut per: HashMap<String, Acc> = HashMap::new();
        let names = self.key_names()?;
        self.packed_rows(
            "SELECT start, totals FROM minutes WHERE start >= ?1 AND start < ?2",
            since_s,
            until_s,
            |t, b| {
                for (key, bytes) in packed::pairs(b) {
                    if let Some((p, org, country)) = names.get(&key) {
                        per.entry(p.clone()).or_default().add(org, country, bytes, t, t + 60);
                    }
                }
            },
        )?;
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT tier, start, program, org, country, bytes FROM uploads WHERE tier IN (?3, ?4) \
                 AND start >= ?1 AND start < ?2",
            )
            .map_err(|e| self.sql_err(e))?;
        let mut rows = stmt.query(params![since_s, until_s, TIER_HOUR, TIER_DAY]).map_err(|e| self.sql_err(e))?;
        while let Some(r) = rows.next().map_err(|e| self.sql_err(e))? {
            let get = |i| r.get::<_, String>(i);
            let (tier, start): (i64, i64) =
                (r.get(0).map_err(|e| self.sql_err(e))?, r.get(1).map_err(|e| self.sql_err(e))?);
            let (p, org, country) = (
                get(2).map_err(|e| self.sql_err(e))?,
                get(3).map_err(|e| self.sql_err(e))?,
                get(4).map_err(|e| self.sql_err(e))?,
            );
            let bytes = u64::try_from(r.get::<_, i64>(5).map_err(|e| self.sql_err(e))?).unwrap_or(0);
            let width = if tier == TIER_HOUR { 3600 } else { 86_400 };
            per.entry(p).or_default().add(&org, &country, bytes, start, start + width);
        }
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT COALESCE(exe, program, 'unknown'), COUNT(*) FROM alerts WHERE at_us >= ?1 AND at_us < ?2 \
                 GROUP BY 1",
            )
            .map_err(|e| self.sql_err(e))?;
        let us = |s: i64| s.saturating_mul(1_000_000);
        let mut rows = stmt.query(params![us(since_s), us(until_s)]).map_err(|e| self.sql_err(e))?;
        while let Some(r) = rows.next().map_err(|e| self.sql_err(e))? {
            let p: String = r.get(0).map_err(|e| self.sql_err(e))?;
            let n: i64 = r.get(1).map_err(|e| self.sql_err(e))?;
            // A program with alerts but no upload rows (its totals were dropped) still lists.
            per.entry(p).or_default().alerts = u64::try_from(n).unwrap_or(0);
        }
        let first_ever = if per.is_empty() { HashMap::new() } else { self.first_seen(&names)? };
        let received = if per.is_empty() { HashMap::new() } else { self.received_between(since_s, until_s)? };
        let mut programs: Vec<ProgramRow> = per
            .into_iter()
            .map(|(program, a)| ProgramRow {
                first_ever: first_ever.get(&program).copied().unwrap_or(a.first),
                received: Some(received.get(&program).copied().unwrap_or(0)),
                program,
                bytes: a.bytes,
                destinations: a.orgs.len() as u64,
                countries: a.countries.into_iter().collect(),
                first: a.first,
                last: a.last,
                alerts: a.alerts,
            })
            .collect();
        programs.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.program.cmp(&b.program)));
        let newest = self.newest_s()?;
        Ok(ProgramsView { since: since_s, until: until_s, newest, programs })
    }
}

impl HistoryStore {
    /// Bytes each program received in the hours from the one `since_s` falls in up to `until_s`.
    fn received_between(&self, since_s: i64, until_s: i64) -> Result<HashMap<String, u64>, HistoryError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT program, SUM(bytes) FROM received_hours WHERE hour >= ?1 AND hour < ?2 GROUP BY program",
            )
            .map_err(|e| self.sql_err(e))?;
        let mut rows = stmt.query(params![since_s - since_s.rem_euclid(3600), until_s]).map_err(|e| self.sql_err(e))?;
        let mut out = HashMap::new();
        while let Some(r) = rows.next().map_err(|e| self.sql_err(e))? {
            let bytes = u64::try_from(r.get::<_, i64>(1).map_err(|e| self.sql_err(e))?).unwrap_or(0);
            out.insert(r.get::<_, String>(0).map_err(|e| self.sql_err(e))?, bytes);
        }
        Ok(out)
    }

    /// When each program was first recorded sending (the oldest minute, hour or day row).
    fn first_seen(&self, names: &super::query::KeyNames) -> Result<HashMap<String, i64>, HistoryError> {
        let mut first: HashMap<String, i64> = HashMap::new();
        let mut note = |p: &str, t: i64| {
            let slot = first.entry(p.to_string()).or_insert(t);
            *slot = (*slot).min(t);
        };
        let mut seen_keys = std::collections::HashSet::new();
        self.packed_rows(
            "SELECT start, totals FROM minutes WHERE start >= ?1 AND start < ?2 ORDER BY start",
            i64::MIN,
            i64::MAX,
            |t, b| {
                for (key, _) in packed::pairs(b) {
                    if seen_keys.insert(key)
                        && let Some((p, ..)) = names.get(&key)
                    {
                        note(p, t);
                    }
                }
            },
        )?;
        let mut stmt = self
            .conn
            .prepare_cached("SELECT program, MIN(start) FROM uploads WHERE tier IN (?1, ?2) GROUP BY program")
            .map_err(|e| self.sql_err(e))?;
        let mut rows = stmt.query(params![TIER_HOUR, TIER_DAY]).map_err(|e| self.sql_err(e))?;
        while let Some(r) = rows.next().map_err(|e| self.sql_err(e))? {
            let p: String = r.get(0).map_err(|e| self.sql_err(e))?;
            note(&p, r.get(1).map_err(|e| self.sql_err(e))?);
        }
        Ok(first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{GroupBy, Limits, UploadTotal, WriteBatch};

    fn up(minute: i64, program: &str, org: &str, country: &str, bytes: u64) -> UploadTotal {
        UploadTotal { minute, program: program.into(), org: org.into(), country: country.into(), bytes }
    }

    #[test]
    fn programs_total_as_history_uploads_does() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, _) = HistoryStore::open(&dir.path().join("h.sqlite"), Limits::default()).unwrap();
        let base = 1_700_000_000 - 1_700_000_000 % 86_400;
        let batch = WriteBatch {
            uploads: vec![
                up(base, "/usr/bin/curl", "Example Org", "NL", 1000),
                up(base + 120, "/usr/bin/curl", "Other Net", "DE", 500),
                up(base + 120, "/usr/bin/curl", "", "", 7),
                up(base + 60, "unknown", "Example Org", "NL", 40),
                up(base + 86_400 * 2, "/usr/bin/curl", "Example Org", "NL", 3),
            ],
            ..WriteBatch::default()
        };
        store.write(&batch).unwrap();
        let v = store.programs_between(base, base + 86_400).unwrap();
        assert_eq!(v.programs.len(), 2);
        let curl = &v.programs[0];
        assert_eq!((curl.program.as_str(), curl.bytes, curl.destinations), ("/usr/bin/curl", 1507, 3));
        assert_eq!(curl.countries, vec!["DE".to_string(), "NL".to_string()]);
        assert_eq!((curl.first, curl.last), (base, base + 180));
        assert_eq!(curl.first_ever, base);
        // Seen on the day before the period: not new in it.
        store
            .write(&WriteBatch { uploads: vec![up(base - 600, "unknown", "X", "", 1)], ..WriteBatch::default() })
            .unwrap();
        let v2 = store.programs_between(base, base + 86_400).unwrap();
        let unknown = v2.programs.iter().find(|p| p.program == "unknown").unwrap();
        assert_eq!(unknown.first_ever, base - 600);
        assert_eq!(v.newest, Some(base + 86_400 * 2));
        // The same totals as `leakwatch history uploads` over the period, and over all of it.
        let by_program = store.uploads_between(Some(base), Some(base + 86_400), GroupBy::Program, None, 0).unwrap();
        for row in &by_program {
            let p = v.programs.iter().find(|p| p.program == row.key).expect("listed");
            assert_eq!(p.bytes, row.bytes, "{}", row.key);
        }
        let all = store.programs_between(0, i64::MAX / 2).unwrap();
        assert_eq!(all.programs[0].bytes, 1510);
    }

    #[test]
    fn received_bytes_add_up_per_hour_and_follow_the_period() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.sqlite");
        let (mut store, _) = HistoryStore::open(&path, Limits::default()).unwrap();
        let base = 1_700_000_000 - 1_700_000_000 % 86_400;
        let got = |program: &str, hour: i64, bytes: u64| crate::history::ReceivedTotal {
            hour,
            program: program.into(),
            bytes,
        };
        let batch = WriteBatch {
            uploads: vec![up(base, "/usr/bin/curl", "Example Org", "NL", 1000)],
            // Two batches of the same hour add up; an hour is floored; the next day is outside.
            received: vec![got("/usr/bin/curl", base + 30, 70_000), got("/usr/bin/curl", base + 86_400, 9)],
            ..WriteBatch::default()
        };
        store.write(&batch).unwrap();
        store.write(&WriteBatch { received: vec![got("/usr/bin/curl", base, 5)], ..WriteBatch::default() }).unwrap();
        // A program that only received lists nowhere (the view is of programs that sent).
        store.write(&WriteBatch { received: vec![got("/usr/bin/wget", base, 5)], ..WriteBatch::default() }).unwrap();
        let v = store.programs_between(base, base + 86_400).unwrap();
        assert_eq!(v.programs.len(), 1);
        assert_eq!((v.programs[0].bytes, v.programs[0].received), (1000, Some(70_005)));
        // A period starting within the hour counts that hour whole.
        assert_eq!(store.programs_between(base + 1800, base + 86_400).unwrap().programs.len(), 0);
        let all = store.programs_between(base - 3600, i64::MAX / 2).unwrap();
        assert_eq!(all.programs[0].received, Some(70_014));
        // An older service's answer has no such field: unknown, not 0.
        let old: ProgramRow = serde_json::from_value(serde_json::json!({"program": "x", "bytes": 1,
            "destinations": 1, "countries": [], "first": 0, "last": 0, "alerts": 0, "first_ever": 0}))
        .unwrap();
        assert_eq!(old.received, None);
        // Kept across a reopen, and dropped with the rest past retention.
        drop(store);
        let (store, _) = HistoryStore::open(&path, Limits::default()).unwrap();
        assert_eq!(store.received_between(base, base + 3600).unwrap().get("/usr/bin/curl"), Some(&70_005));
        // Retention of a day, maintained two days on.
        drop(store);
        let (mut store, _) = HistoryStore::open(&path, Limits { retention_s: 86_400, ..Limits::default() }).unwrap();
        store.maintain(base + 2 * 86_400 + 60).unwrap();
        assert!(store.received_between(base, base + 3600).unwrap().is_empty());
    }
}
