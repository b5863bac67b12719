//! The JSON shapes the UI sees (`docs/ui-contract.md`): alert views, the engine status, ignores,
//! per-second statistics, and the book of the last alerts kept in memory.

use leakwatch::alert::{Alert, AlertEvent, AlertPhase};
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
pub const EV_SHOW_PROGRAM: &str = "show-program";
pub const EV_FIRST_SENDER: &str = "first-sender";

/// An alert's content: the engine's (embedded; texts made in the app's language) or the
/// service's JSON (`Alert::to_json` in the service's language).
#[derive(Clone, Debug, PartialEq)]
pub enum AlertBody {
    Engine(Alert),
    Service(Value),
}

/// One alert as the UI shows it: `Alert::to_json` plus `id`, `phase` and `ignored`.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertEntry {
    pub id: u64,
    pub phase: AlertPhase,
    pub ignored: bool,
    pub body: AlertBody,
}

impl AlertEntry {
    pub fn view(&self, msgs: &Messages) -> Value {
        let mut v = match &self.body {
            AlertBody::Engine(a) => a.to_json(msgs),
            AlertBody::Service(j) if j.is_object() => j.clone(),
            AlertBody::Service(_) => Value::Object(Default::default()),
        };
        v["id"] = self.id.into();
        v["phase"] = serde_json::to_value(self.phase).unwrap_or(Value::Null);
        v["ignored"] = self.ignored.into();
        v
    }

    pub fn callback_filter(&self) -> &str {
        match &self.body {
            AlertBody::Engine(a) => &a.callback_filter,
            AlertBody::Service(j) => j["callback_filter"].as_str().unwrap_or_default(),
        }
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
        self.record_body(e.alert.id, e.phase, AlertBody::Engine(e.alert), false)
    }

    /// Records alert `id` in `phase`. A known alert is updated (when `phase` is not `New`, or
    /// always with `update_known`: the service resends an alert whose ignored state changed).
    pub fn record_body(&mut self, id: u64, phase: AlertPhase, body: AlertBody, update_known: bool) -> Change {
        if (phase != AlertPhase::New || update_known)
            && let Some(entry) = self.entries.iter_mut().find(|x| x.id == id)
        {
            entry.phase = phase;
            entry.body = body;
            return Change::Updated(id);
        }
        // A re-notification after the cool-down reuses nothing: it is a new row (or the same
        // id coming back as New, which replaces the old row).
        self.entries.retain(|x| x.id != id);
        self.entries.push_front(AlertEntry { id, phase, ignored: false, body });
        self.entries.truncate(MAX_ALERTS);
        Change::New(id)
    }

    pub fn get(&self, id: u64) -> Option<&AlertEntry> {
        self.entries.iter().find(|x| x.id == id)
    }

    pub fn get_mut(&mut self, id: u64) -> Option<&mut AlertEntry> {
        self.entries.iter_mut().find(|x| x.id == id)
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

    /// Marks every alert whose callback filter is `filter` (compared as JSON) (un)ignored;
    /// returns the ids changed.
    pub fn set_ignored(&mut self, filter: &str, ignored: bool) -> Vec<u64> {
        let mut changed = Vec::new();
        for e in self.entries.iter_mut() {
            if e.ignored != ignored && same_filter(e.callback_filter(), filter) {
                e.ignored = ignored;
                changed.push(e.id);
            }
        }
        changed
    }
}

/// Two filter texts are the same filter (compared as JSON, so spacing does not matter).
pub fn same_filter(a: &str, b: &str) -> bool {
    a == b || matches!((serde_json::from_str::<Value>(a), serde_json::from_str::<Value>(b)), (Ok(x), Ok(y)) if x == y)
}

/// The status the UI and the tray show.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EngineStatus {
    /// `watching`, `paused`, `no_permission` or `error`.
    pub state: &'static str,
    pub paused_until: Option<String>,
    pub interfaces: Vec<String>,
    pub packets_per_s: f64,
    /// Packets the kernel dropped (the capture buffer was full).
    pub dropped_packets: u64,
    /// Batches of packets Leakwatch dropped (detection fell behind).
    pub dropped_batches: u64,
    pub attributed_share: Option<f64>,
    pub legacy_port: Option<u16>,
    pub message: Option<String>,
    pub version: &'static str,
    /// Where the figures come from: `service`, `embedded` (an engine in the app, live) or
    /// `replay` (a capture file).
    pub source: &'static str,
    /// Whether the kernel's connection tracepoint names short-lived programs (`None`: unknown
    /// or not applicable, e.g. a replay).
    pub connection_tracing: Option<bool>,
    /// Bytes uploaded in the last minute (packet time), and the share of them whose program is
    /// known.
    pub uploaded_last_minute: u64,
    pub attributed_last_minute: Option<f64>,
    /// What keeps Leakwatch from seeing everything, each with its fix (the Health page).
    pub problems: Vec<crate::health::Problem>,
    /// One line for the tray's tooltip: interfaces, attributed share, tracing.
    pub health: String,
}

impl Default for EngineStatus {
    fn default() -> Self {
        EngineStatus {
            state: "watching",
            paused_until: None,
            interfaces: Vec::new(),
            packets_per_s: 0.0,
            dropped_packets: 0,
            dropped_batches: 0,
            attributed_share: None,
            legacy_port: None,
            message: None,
            version: env!("CARGO_PKG_VERSION"),
            source: "service",
            connection_tracing: None,
            uploaded_last_minute: 0,
            attributed_last_minute: None,
            problems: Vec::new(),
            health: String::new(),
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
    /// When it was added (RFC 3339), if known.
    pub created_at: Option<String>,
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
            created_at: i.added.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
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
    use leakwatch::alert::LeakKind;
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
                proto: leakwatch::packet::Proto::Tcp,
                destinations: 1,
                top: Vec::new(),
                hostname: Some("upload.example".into()),
                orgname: None,
                asn: None,
                country: None,
                name_trust: None,
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
        let e = AlertEntry {
            id: 7,
            phase: AlertPhase::New,
            ignored: false,
            body: AlertBody::Engine(event(7, AlertPhase::New, "{}").alert),
        };
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

    #[test]
    fn service_alerts_update_when_known_and_filters_compare_as_json() {
        let mut b = AlertBook::default();
        let body = |f: &str| AlertBody::Service(serde_json::json!({"callback_filter": f, "bytes": 1}));
        assert_eq!(b.record_body(3, AlertPhase::New, body(r#"{"a": 1}"#), true), Change::New(3));
        assert_eq!(b.record_body(3, AlertPhase::New, body(r#"{"a": 1}"#), true), Change::Updated(3));
        assert_eq!(b.set_ignored(r#"{"a":1}"#, true), vec![3]);
        let v = b.get(3).unwrap().view(&Messages::new(Locale::En));
        assert_eq!((v["id"].as_u64(), v["ignored"].as_bool(), v["bytes"].as_u64()), (Some(3), Some(true), Some(1)));
        assert!(same_filter(r#"{"a": 1}"#, r#"{"a":1}"#));
        assert!(!same_filter(r#"{"a":1}"#, r#"{"a":2}"#));
    }
}
