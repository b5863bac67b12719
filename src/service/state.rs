//! The service's shared state and its API methods: the recent alerts with their ignored state
//! (the one truth every client sees), live figures, the configuration in force; the pump thread
//! that turns the engine's alerts and changes into API events; and [`Backend`], which answers
//! each request on behalf of the caller it names in every change.

use super::config::{ServiceConfig, SettingsChange};
use crate::alert::{AlertEvent, AlertPhase};
use crate::api::server::Hub;
use crate::api::{ApiError, Caller};
use crate::detect::Stats;
use crate::engine::{Change, ChangeKind, Command, EngineHandle, IgnoreFor, IgnoreInfo};
use crate::history::{AlertQuery, GroupBy, HistoryStore};
use crate::i18n::Messages;
use crate::judge::BadIgnore;
use crossbeam_channel::{Receiver, select};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// Recent alerts kept for `alerts.recent` and for ignoring by alert id.
const BOOK_SIZE: usize = 500;

/// Live figures, refreshed once a second by the main loop.
#[derive(Clone, Debug, Default)]
pub struct Figures {
    pub interfaces: Vec<String>,
    pub packets: u64,
    pub kernel_dropped: u64,
    pub foreign_frames: u64,
    pub dropped_batches: u64,
    pub legacy_port: Option<u16>,
    pub legacy_clients: usize,
    pub api_clients: usize,
}

/// One recent alert.
struct Entry {
    id: u64,
    phase: AlertPhase,
    callback_filter: String,
    alert: Value,
    /// `{"how", "by", "at", "ignore_id"}` once ignored.
    ignored: Option<Value>,
}

impl Entry {
    fn to_json(&self) -> Value {
        json!({"id": self.id, "phase": self.phase, "alert": self.alert, "ignored": self.ignored})
    }

    /// The event for this entry, stamped with when the service sent it (µs since the epoch):
    /// `bench/service.sh` measures the delay to a client with it.
    fn event(&self) -> Value {
        let mut v = self.to_json();
        v["sent_us"] = json!(chrono::Utc::now().timestamp_micros());
        v
    }
}

/// State shared by the main loop, the pump and the API's client threads.
pub struct Shared {
    config: Mutex<ServiceConfig>,
    pub config_path: PathBuf,
    started: chrono::DateTime<chrono::Utc>,
    notices: Vec<String>,
    tracing_error: Option<String>,
    figures: Mutex<Figures>,
    book: Mutex<VecDeque<Entry>>,
    paused: AtomicBool,
    alerts: AtomicU64,
    /// Uploaded bytes counted, and the part attributed to a program.
    counted: AtomicU64,
    attributed: AtomicU64,
    msgs: Messages,
    pub reload_requested: AtomicBool,
    pub reload_result: Mutex<Option<Result<String, String>>>,
    pub reload_done: Condvar,
}

impl Shared {
    pub fn new(
        config: ServiceConfig,
        config_path: PathBuf,
        notices: Vec<String>,
        tracing_error: Option<String>,
    ) -> Shared {
        let msgs = Messages::new(config.locale);
        Shared {
            config: Mutex::new(config),
            config_path,
            started: chrono::Utc::now(),
            notices,
            tracing_error,
            figures: Mutex::new(Figures::default()),
            book: Mutex::new(VecDeque::new()),
            paused: AtomicBool::new(false),
            alerts: AtomicU64::new(0),
            counted: AtomicU64::new(0),
            attributed: AtomicU64::new(0),
            msgs,
            reload_requested: AtomicBool::new(false),
            reload_result: Mutex::new(None),
            reload_done: Condvar::new(),
        }
    }

    pub fn config(&self) -> ServiceConfig {
        self.config.lock().map(|c| c.clone()).unwrap_or_default()
    }

    pub fn set_config(&self, c: ServiceConfig) {
        if let Ok(mut g) = self.config.lock() {
            *g = c;
        }
    }

    pub fn set_figures(&self, f: Figures) {
        if let Ok(mut g) = self.figures.lock() {
            *g = f;
        }
    }

    /// What `status` answers and the `status` event carries.
    pub fn status_json(&self) -> Value {
        let c = self.config();
        let f = self.figures.lock().map(|f| f.clone()).unwrap_or_default();
        let (counted, attributed) = (self.counted.load(Ordering::Relaxed), self.attributed.load(Ordering::Relaxed));
        json!({
            "server": concat!("leakwatch ", env!("CARGO_PKG_VERSION")),
            "pid": std::process::id(),
            "started": self.started.to_rfc3339(),
            "mode": c.mode.as_str(),
            "paused": self.paused.load(Ordering::Relaxed),
            "interfaces": f.interfaces,
            "connection_tracing": self.tracing_error.is_none(),
            "connection_tracing_error": self.tracing_error,
            "packets": f.packets,
            "kernel_dropped": f.kernel_dropped,
            "dropped_batches": f.dropped_batches,
            "foreign_frames": f.foreign_frames,
            "alerts": self.alerts.load(Ordering::Relaxed),
            "uploaded_bytes": counted,
            "attributed_bytes": attributed,
            "legacy_port": f.legacy_port,
            "legacy_clients": f.legacy_clients,
            "api_clients": f.api_clients,
            "config": self.config_path.display().to_string(),
            "ignores": c.ignores.display().to_string(),
            "history": c.history.as_ref().map(|h| h.display().to_string()),
            "notices": self.notices,
        })
    }

    fn on_alert(&self, e: &AlertEvent, hub: &Hub) {
        if e.phase == AlertPhase::New {
            self.alerts.fetch_add(1, Ordering::Relaxed);
        }
        let alert = e.alert.to_json(&self.msgs);
        let data = {
            let Ok(mut book) = self.book.lock() else { return };
            let entry = match book.iter_mut().position(|x| x.id == e.alert.id) {
                Some(i) => {
                    let x = &mut book[i];
                    x.phase = e.phase;
                    x.alert = alert;
                    x
                }
                None => {
                    if book.len() >= BOOK_SIZE {
                        book.pop_front();
                    }
                    book.push_back(Entry {
                        id: e.alert.id,
                        phase: e.phase,
                        callback_filter: e.alert.callback_filter.clone(),
                        alert,
                        ignored: None,
                    });
                    book.back_mut().expect("just pushed")
                }
            };
            entry.event()
        };
        hub.publish("alert", data);
    }

    /// Marks the recent alerts an added ignore silences (same filter as their callback filter)
    /// and tells every client.
    fn on_ignore_added(&self, info: &IgnoreInfo, by: &str, at: &str, hub: &Hub) {
        let Ok(filter) = serde_json::from_str::<Value>(&info.filter) else { return };
        let how = if info.permanent {
            "always".to_string()
        } else {
            info.until.map_or_else(|| "now".to_string(), |u| format!("until {}", u.to_rfc3339()))
        };
        let mut updated = Vec::new();
        if let Ok(mut book) = self.book.lock() {
            for x in book.iter_mut().filter(|x| x.ignored.is_none()) {
                if serde_json::from_str::<Value>(&x.callback_filter).is_ok_and(|f| f == filter) {
                    x.ignored = Some(json!({"how": how, "by": by, "at": at, "ignore_id": info.id}));
                    updated.push(x.event());
                }
            }
        }
        for u in updated {
            hub.publish("alert", u);
        }
    }

    fn on_change(&self, c: &Change, hub: &Hub) {
        let at = c.at.to_rfc3339();
        let mut data = json!({"kind": c.what.name(), "by": c.by, "at": at});
        match &c.what {
            ChangeKind::IgnoreAdded(info) => {
                data["ignore"] = ignore_json(info);
                self.on_ignore_added(info, &c.by, &at, hub);
            }
            ChangeKind::IgnoreRemoved { id, name } => {
                data["id"] = json!(id);
                data["name"] = json!(name);
            }
            ChangeKind::IgnoresReloaded { added, removed, problem } => {
                data["added"] = added.iter().map(ignore_json).collect();
                data["removed"] = json!(removed);
                data["problem"] = json!(problem);
                for info in added {
                    self.on_ignore_added(info, &c.by, &at, hub);
                }
            }
            ChangeKind::Mode(m) => {
                data["mode"] = json!(m.as_str());
                if let Ok(mut g) = self.config.lock() {
                    g.mode = *m;
                }
            }
            ChangeKind::Paused => self.paused.store(true, Ordering::Relaxed),
            ChangeKind::Resumed => self.paused.store(false, Ordering::Relaxed),
            ChangeKind::Thresholds(t) => {
                data["max_traffic_during_10_sec"] = json!(t.max_traffic_during_10_sec);
                data["min_leak_size"] = json!(t.min_leak_size);
                data["max_spread_during_10_sec"] = json!(t.max_spread_during_10_sec);
                data["min_spread_destinations"] = json!(t.min_spread_destinations);
                if let Ok(mut g) = self.config.lock() {
                    g.thresholds = *t;
                }
            }
            ChangeKind::RealertAfter(us) => {
                data["realert_after_s"] = json!(us / crate::time::SECOND);
                if let Ok(mut g) = self.config.lock() {
                    g.realert_after = *us;
                }
            }
            ChangeKind::Rules => {}
        }
        tracing::info!("change by {}: {}", crate::text::clip(&c.by, 80), change_line(&data));
        hub.publish("change", data);
    }

    fn on_stats(&self, s: &Stats, hub: &Hub) {
        for r in &s.rates {
            self.counted.fetch_add(r.bytes, Ordering::Relaxed);
            if r.process.is_some() {
                self.attributed.fetch_add(r.bytes, Ordering::Relaxed);
            }
        }
        if !s.rates.is_empty() && hub.wanted("stats") {
            let rates: Vec<Value> = s
                .rates
                .iter()
                .map(|r| {
                    json!({
                        "process": r.process.as_deref(),
                        "remote": r.remote.to_string(),
                        "bytes": r.bytes,
                        "orgname": r.orgname,
                        "country": r.country,
                    })
                })
                .collect();
            hub.publish("stats", json!({"second": s.second.rfc3339(), "rates": rates}));
        }
    }

    fn recent(&self, limit: usize) -> Value {
        let book = self.book.lock();
        let Ok(book) = book else { return json!([]) };
        book.iter().rev().take(limit).map(Entry::to_json).collect()
    }

    fn callback_filter(&self, id: u64) -> Option<String> {
        self.book.lock().ok()?.iter().find(|x| x.id == id).map(|x| x.callback_filter.clone())
    }
}

/// A change, in a line for the journal (escaped: names come from outside).
fn change_line(data: &Value) -> String {
    let text = data.to_string();
    crate::text::clip(&text, 400).escape_debug().to_string()
}

fn ignore_json(i: &IgnoreInfo) -> Value {
    json!({
        "id": i.id,
        "name": i.name,
        "filter": serde_json::from_str::<Value>(&i.filter).unwrap_or(Value::String(i.filter.clone())),
        "permanent": i.permanent,
        "until": i.until.map(|u| u.to_rfc3339()),
        "source": i.source.as_str(),
        "by": i.by,
        "added": i.added.map(|a| a.to_rfc3339()),
    })
}

/// Turns the engine's alerts and changes into API events and journal lines, until the engine
/// stops.
pub fn start_pump(
    shared: Arc<Shared>,
    hub: Arc<Hub>,
    alerts: Receiver<AlertEvent>,
    changes: Receiver<Change>,
    stats: Receiver<Stats>,
) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new()
        .name("leakwatch-pump".into())
        .spawn(move || {
            loop {
                select! {
                    recv(alerts) -> e => match e {
                        Ok(e) => shared.on_alert(&e, &hub),
                        Err(_) => break,
                    },
                    recv(changes) -> c => match c {
                        Ok(c) => shared.on_change(&c, &hub),
                        Err(_) => break,
                    },
                    recv(stats) -> s => match s {
                        Ok(s) => shared.on_stats(&s, &hub),
                        Err(_) => break,
                    },
                }
            }
        })
        .expect("spawning the service's pump thread")
}

/// Reads an ignore's duration: `now` (until the service stops), `always`, or a duration (`15m`,
/// `1h`, `24h`, or seconds).
fn ignore_for(v: Option<&Value>) -> Result<IgnoreFor, ApiError> {
    let bad = || ApiError::invalid("for: expected \"now\", \"always\" or a duration such as \"15m\", \"1h\", \"24h\"");
    match v {
        None | Some(Value::Null) => Ok(IgnoreFor::Now),
        Some(Value::String(s)) if s == "now" => Ok(IgnoreFor::Now),
        Some(Value::String(s)) if s == "always" => Ok(IgnoreFor::Always),
        Some(Value::String(s)) => {
            let us = crate::parse::parse_duration_us(s).map_err(|_| bad())?;
            if us <= 0 {
                return Err(bad());
            }
            Ok(IgnoreFor::Duration(Duration::from_micros(us as u64)))
        }
        Some(Value::Number(n)) => {
            n.as_u64().filter(|s| *s > 0).map(|s| IgnoreFor::Duration(Duration::from_secs(s))).ok_or_else(bad)
        }
        Some(_) => Err(bad()),
    }
}

fn u64_param(params: &Value, key: &str) -> Result<u64, ApiError> {
    params.get(key).and_then(Value::as_u64).ok_or_else(|| ApiError::invalid(format!("{key}: expected a whole number")))
}

fn str_param<'a>(params: &'a Value, key: &str) -> Result<Option<&'a str>, ApiError> {
    match params.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::invalid(format!("{key}: expected a string"))),
    }
}

/// The service's answers to API requests.
pub struct Backend {
    pub handle: EngineHandle,
    pub shared: Arc<Shared>,
}

impl Backend {
    fn settings_set(&self, caller: &Caller, params: &Value) -> Result<Value, ApiError> {
        let change = SettingsChange::from_json(params).map_err(ApiError::invalid)?;
        let _guard = super::RELOAD_LOCK.lock();
        change.write_to(&self.shared.config_path).map_err(|e| ApiError::new("failed", e.to_string()))?;
        let by = caller.name.as_str();
        let mut thresholds = self.shared.config().thresholds;
        if let Some(m) = change.mode {
            self.handle.command_by(Command::SetMode(m), by);
        }
        if change.max_traffic_during_10_sec.is_some()
            || change.min_leak_size.is_some()
            || change.max_spread_during_10_sec.is_some()
            || change.min_spread_destinations.is_some()
        {
            thresholds.max_traffic_during_10_sec =
                change.max_traffic_during_10_sec.unwrap_or(thresholds.max_traffic_during_10_sec);
            thresholds.min_leak_size = change.min_leak_size.unwrap_or(thresholds.min_leak_size);
            thresholds.max_spread_during_10_sec =
                change.max_spread_during_10_sec.unwrap_or(thresholds.max_spread_during_10_sec);
            thresholds.min_spread_destinations =
                change.min_spread_destinations.unwrap_or(thresholds.min_spread_destinations);
            self.handle.command_by(Command::SetThresholds(thresholds), by);
        }
        if let Some((us, _)) = change.realert_after {
            self.handle.command_by(Command::SetRealertAfter(us), by);
        }
        // The change events update the shared configuration; answer with the file's new values.
        let mut c = self.shared.config();
        c.mode = change.mode.unwrap_or(c.mode);
        c.thresholds = thresholds;
        c.realert_after = change.realert_after.map_or(c.realert_after, |(us, _)| us);
        Ok(settings_json(&c))
    }

    fn history(&self, method: &str, params: &Value) -> Result<Value, ApiError> {
        let c = self.shared.config();
        let path = c.history.ok_or_else(|| {
            ApiError::new(
                "not_found",
                format!("this service records no history (history = \"\" in {})", self.shared.config_path.display()),
            )
        })?;
        let store = HistoryStore::open_existing(&path).map_err(|e| ApiError::new("failed", e.to_string()))?;
        let since = match str_param(params, "since")? {
            None => None,
            Some(s) => crate::history::parse_since(s).map_err(|e| ApiError::invalid(format!("since: {e}")))?.0,
        };
        let from_newest = params.get("from_newest").and_then(Value::as_bool).unwrap_or(false);
        let end = if from_newest {
            store.newest_s().map_err(|e| ApiError::new("failed", e.to_string()))?.unwrap_or(0)
        } else {
            chrono::Utc::now().timestamp()
        };
        let since_s = since.map(|span| end.saturating_sub(span));
        let program = str_param(params, "program")?.map(str::to_string);
        let failed = |e: crate::history::HistoryError| ApiError::new("failed", e.to_string());
        if method == "history.view" {
            let range = str_param(params, "range")?.unwrap_or("24h");
            let by = GroupBy::parse(str_param(params, "by")?.unwrap_or("program")).map_err(ApiError::invalid)?;
            let until = match params.get("until") {
                None | Some(Value::Null) => chrono::Utc::now().timestamp(),
                Some(v) => v.as_i64().ok_or_else(|| ApiError::invalid("until: expected seconds since the epoch"))?,
            };
            let view = store.uploads_view(range, by, program.as_deref(), until).map_err(ApiError::invalid)?;
            return Ok(serde_json::to_value(view).unwrap_or(Value::Null));
        }
        if method == "history.alerts" {
            let q = AlertQuery {
                since_us: since_s.map(|s| s.saturating_mul(1_000_000)),
                until_us: None,
                program,
                text: str_param(params, "search")?.map(str::to_string),
                limit: params.get("limit").and_then(Value::as_u64).unwrap_or(0) as usize,
            };
            Ok(store.alerts(&q).map_err(failed)?.into_iter().map(|a| a.json).collect())
        } else {
            let by = match str_param(params, "by")? {
                None => GroupBy::Program,
                Some(b) => GroupBy::parse(b).map_err(|e| ApiError::invalid(format!("by: {e}")))?,
            };
            let rows = store.uploads(since_s, by, program.as_deref(), 0).map_err(failed)?;
            Ok(serde_json::to_value(rows).unwrap_or(Value::Null))
        }
    }
}

fn settings_json(c: &ServiceConfig) -> Value {
    json!({
        "mode": c.mode.as_str(),
        "max_traffic_during_10_sec": c.thresholds.max_traffic_during_10_sec,
        "min_leak_size": c.thresholds.min_leak_size,
        "max_spread_during_10_sec": c.thresholds.max_spread_during_10_sec,
        "min_spread_destinations": c.thresholds.min_spread_destinations,
        "realert_after_s": c.realert_after / crate::time::SECOND,
        "locale": c.locale.as_str(),
        "interfaces": c.interfaces,
        "loopback": c.loopback,
        "reverse_dns": c.reverse_dns,
        "legacy": c.legacy,
        "legacy_ports": format!("{}-{}", c.legacy_ports.start(), c.legacy_ports.end()),
        "ignores": c.ignores.display().to_string(),
        "history": c.history.as_ref().map(|h| h.display().to_string()),
        "socket": c.socket.display().to_string(),
        "group": c.group,
    })
}

impl crate::api::Backend for Backend {
    fn call(&self, caller: &Caller, method: &str, params: &Value) -> Result<Value, ApiError> {
        let by = caller.name.as_str();
        let failed = |e: String| ApiError::new("failed", e);
        match method {
            "status" => Ok(self.shared.status_json()),
            "alerts.recent" => {
                let limit = params.get("limit").and_then(Value::as_u64).unwrap_or(100).min(BOOK_SIZE as u64);
                Ok(self.shared.recent(limit as usize))
            }
            "ignore.list" => Ok(self.handle.list_ignores().iter().map(ignore_json).collect()),
            "ignore.add" => {
                let filter = match params.get("filter") {
                    Some(Value::String(s)) => s.clone(),
                    Some(v @ Value::Object(_)) => v.to_string(),
                    _ => {
                        return Err(ApiError::invalid(
                            "filter: expected a filter object (e.g. an alert's callback_filter)",
                        ));
                    }
                };
                let how = ignore_for(params.get("for"))?;
                // Judged by what it matches (crate::judge): refused unless "force": true, and
                // then added with a warning in the reply.
                let force = params.get("force").and_then(Value::as_bool).unwrap_or(false);
                let rules = crate::judge::Rules::shipped(crate::judge::Mode::Paranoid);
                rules.check_filter(&filter).map_err(|e| ApiError::invalid(e.to_string()))?;
                let warning = match rules.check_not_over_broad(&filter) {
                    Ok(()) => None,
                    Err(BadIgnore::OverBroad(e)) if force => Some(e.to_string()),
                    Err(BadIgnore::OverBroad(e)) => {
                        return Err(ApiError::new("over_broad", format!("{e}; send \"force\": true to add it anyway")));
                    }
                    Err(e @ BadIgnore::Invalid(_)) => return Err(ApiError::invalid(e.to_string())),
                };
                let id = self.handle.ignore_by(&filter, how, by).map_err(ApiError::invalid)?;
                match warning {
                    Some(w) => Ok(json!({"id": id, "warning": w})),
                    None => Ok(json!({"id": id})),
                }
            }
            "ignore.alert" => {
                let alert = u64_param(params, "alert")?;
                let filter = self.shared.callback_filter(alert).ok_or_else(|| {
                    ApiError::new("not_found", format!("no recent alert {alert} (alerts.recent lists them)"))
                })?;
                let how = ignore_for(params.get("for"))?;
                let id = self.handle.ignore_by(&filter, how, by).map_err(failed)?;
                Ok(json!({"id": id}))
            }
            "ignore.remove" => {
                let id = u64_param(params, "id")?;
                match self.handle.remove_ignore_by(id, by).map_err(failed)? {
                    true => Ok(json!({"removed": id})),
                    false => Err(ApiError::new("not_found", format!("no ignore {id} (ignore.list lists them)"))),
                }
            }
            "mode.set" => {
                let mode = params
                    .get("mode")
                    .cloned()
                    .ok_or_else(|| ApiError::invalid("mode: expected paranoid, adequate or chill"))?;
                self.settings_set(caller, &json!({"mode": mode}))
            }
            "pause" => {
                self.handle.command_by(Command::Pause, by);
                Ok(json!({"paused": true}))
            }
            "resume" => {
                self.handle.command_by(Command::Resume, by);
                Ok(json!({"paused": false}))
            }
            "settings.get" => Ok(settings_json(&self.shared.config())),
            "settings.set" => self.settings_set(caller, params),
            "reload" => {
                let _guard = super::RELOAD_LOCK.lock();
                let text = super::request_reload(&self.shared, Duration::from_secs(30)).map_err(failed)?;
                Ok(json!({"message": text}))
            }
            "history.alerts" | "history.uploads" | "history.view" => self.history(method, params),
            other => Err(ApiError::new(
                "unknown_method",
                format!("no method `{}` (docs/api.md lists them)", crate::text::clip(other, 60).escape_debug()),
            )),
        }
    }
}
