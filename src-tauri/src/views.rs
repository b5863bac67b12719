//! The JSON shapes the UI sees (`docs/ui-contract.md`): alert views, the engine status, ignores,
//! per-second statistics, and the book of the last alerts kept in memory.

use leakwatch::alert::{AlertEvent, AlertPhase};
use leakwatch::detect::Stats;
use leakwatch::engine::IgnoreInfo;
use leakwatch::i18n::Messages;
use serde::Serialize;
use serde_json::Value;
use std::collections::VecDeque;

/// Alerts kept in memory for `list_alerts`.
pub const MAX_ALERTS: usize = 500;

/// Event names (backend → UI).
pub const EV_ALERT: &str = "alert";
pub const EV_ALERT_UPDATED: &str = "alert-updated";
pub const EV_STATS: &str = "stats";
pub const EV_STATUS: &str = "engine-status";
pub const EV_SHOW_ALERT: &str = "show-alert";

/// One alert as the UI shows it: `Alert::to_json` plus `id`, `phase` and `ignored`.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertEntry {
    pub id: u64,
    pub phase: AlertPhase,
    pub ignored: bool,
    pub event: AlertEvent,
}

impl AlertEntry {
    pub fn view(&self, msgs: &Messages) -> Value {
        let mut v = self.event.alert.to_json(msgs);
        v["id"] = self.id.into();
        v["phase"] = serde_json::to_value(self.phase).unwrap_or(Value::Null);
        v["ignored"] = self.ignored.into();
        v
    }

    pub fn callback_filter(&self) -> &str {
        &self.event.alert.callback_filter
    }
}

/// The last [`MAX_ALERTS`] alerts, newest first.
#[derive(Debug, Default)]
pub struct AlertBook {
    entries: VecDeque<AlertEntry>,
}

/// What an engine event did to the book.
#[derive(Debug, PartialEq, Eq)]
pub enum Change {
    /// A new alert (event `alert`).
    New(u64),
    /// A known alert continued or ended (event `alert-updated`).
    Updated(u64),
}

impl AlertBook {
    /// Records an engine event. An update of an alert that fell out of the book is kept as new.
    pub fn record(&mut self, e: AlertEvent) -> Change {
        let id = e.alert.id;
        if e.phase != AlertPhase::New
            && let Some(entry) = self.entries.iter_mut().find(|x| x.id == id)
        {
            entry.phase = e.phase;
            entry.event = e;
            return Change::Updated(id);
        }
        // A re-notification after the cool-down reuses nothing: it is a new row (or the same
        // id coming back as New, which replaces the old row).
        self.entries.retain(|x| x.id != id);
        self.entries.push_front(AlertEntry { id, phase: e.phase, ignored: false, event: e });
        self.entries.truncate(MAX_ALERTS);
        Change::New(id)
    }

    pub fn get(&self, id: u64) -> Option<&AlertEntry> {
        self.entries.iter().find(|x| x.id == id)
    }

    /// Newest first.
    pub fn iter(&self) -> impl Iterator<Item = &AlertEntry> {
        self.entries.iter()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Marks every alert whose callback filter is `filter` (un)ignored; returns the ids changed.
    pub fn set_ignored(&mut self, filter: &str, ignored: bool) -> Vec<u64> {
        let mut changed = Vec::new();
        for e in self.entries.iter_mut() {
            if e.callback_filter() == filter && e.ignored != ignored {
                e.ignored = ignored;
                changed.push(e.id);
            }
        }
        changed
    }
}

/// The status the UI and the tray show.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EngineStatus {
    /// `watching`, `paused`, `no_permission` or `error`.
    pub state: &'static str,
    pub paused_until: Option<String>,
    pub interfaces: Vec<String>,
    pub packets_per_s: f64,
    pub drops: u64,
    pub attributed_share: Option<f64>,
    pub legacy_port: Option<u16>,
    pub message: Option<String>,
    pub version: &'static str,
}

impl Default for EngineStatus {
    fn default() -> Self {
        EngineStatus {
            state: "watching",
            paused_until: None,
            interfaces: Vec::new(),
            packets_per_s: 0.0,
            drops: 0,
            attributed_share: None,
            legacy_port: None,
            message: None,
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

/// An ignore as the UI lists it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IgnoreView {
    pub id: u64,
    pub name: Option<String>,
    pub filter: String,
    pub permanent: bool,
    pub until: Option<String>,
    pub source: Option<String>,
}

impl IgnoreView {
    pub fn new(i: IgnoreInfo, source: Option<String>) -> IgnoreView {
        IgnoreView {
            id: i.id,
            name: i.name,
            filter: i.filter,
            permanent: i.permanent,
            until: i.until.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            source,
        }
    }
}

/// One program's upload during one second.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProgramRate {
    pub key: String,
    pub name: String,
    pub pid: Option<u32>,
    pub bytes: u64,
}

/// The `stats` event: bytes uploaded in one second per program.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StatsView {
    pub at: String,
    pub programs: Vec<ProgramRate>,
}

impl StatsView {
    /// Sums the engine's per-threat rates per program (`"<pid>:<name>"`, or `"unknown"`).
    pub fn from_stats(s: &Stats, unknown: &str) -> StatsView {
        let mut programs: Vec<ProgramRate> = Vec::new();
        for r in &s.rates {
            let (key, name, pid) = match &r.process {
                Some(p) => (format!("{}:{}", p.pid, p.name), p.name.clone(), Some(p.pid)),
                None => ("unknown".to_string(), unknown.to_string(), None),
            };
            match programs.iter_mut().find(|p| p.key == key) {
                Some(p) => p.bytes += r.bytes,
                None => programs.push(ProgramRate { key, name, pid, bytes: r.bytes }),
            }
        }
        programs.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.key.cmp(&b.key)));
        StatsView { at: s.second.rfc3339(), programs }
    }

    /// Bytes in this second, and the part attributed to a program.
    pub fn totals(&self) -> (u64, u64) {
        let all = self.programs.iter().map(|p| p.bytes).sum();
        let known = self.programs.iter().filter(|p| p.pid.is_some()).map(|p| p.bytes).sum();
        (all, known)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use leakwatch::alert::{Alert, LeakKind};
    use leakwatch::i18n::Locale;
    use leakwatch::time::Ts;

    pub(crate) fn event(id: u64, phase: AlertPhase, filter: &str) -> AlertEvent {
        AlertEvent {
            phase,
            alert: Alert {
                id,
                kind: LeakKind::Sudden,
                pattern: None,
                process: None,
                dstip: "198.51.100.7".parse().unwrap(),
                dstport: 443,
                srcport: 40000,
                hostname: Some("upload.example".into()),
                orgname: None,
                asn: None,
                country: None,
                bytes: 200_000,
                started: Ts::from_secs_f64(1.0),
                at: Ts::from_secs_f64(3.0),
                callback_filter: filter.into(),
            },
        }
    }

    #[test]
    fn view_has_the_contract_fields() {
        let msgs = Messages::new(Locale::En);
        let e = AlertEntry { id: 7, phase: AlertPhase::New, ignored: false, event: event(7, AlertPhase::New, "{}") };
        let v = e.view(&msgs);
        // The contract's AlertView fields (docs/ui-contract.md).
        let fields = "id phase kind exciter message process dstip dstport srcport hostname orgname asn country \
                      bytes started at duration_s pattern callback_filter ignored";
        for k in fields.split_whitespace() {
            assert!(v.get(k).is_some(), "missing {k} in {v}");
        }
        assert_eq!(v["phase"], "new");
        assert_eq!(v["kind"], "sudden");
        assert_eq!(v["id"], 7);
    }

    #[test]
    fn book_keeps_newest_first_and_bounded() {
        let mut b = AlertBook::default();
        for id in 1..=(MAX_ALERTS as u64 + 10) {
            assert_eq!(b.record(event(id, AlertPhase::New, "f")), Change::New(id));
        }
        assert_eq!(b.len(), MAX_ALERTS);
        assert_eq!(b.iter().next().unwrap().id, MAX_ALERTS as u64 + 10);
        assert_eq!(b.record(event(MAX_ALERTS as u64 + 10, AlertPhase::Update, "f")), Change::Updated(510));
        assert_eq!(b.get(510).unwrap().phase, AlertPhase::Update);
        assert_eq!(b.len(), MAX_ALERTS);
        assert_eq!(b.set_ignored("f", true).len(), MAX_ALERTS);
        assert!(b.set_ignored("f", true).is_empty());
    }
}
