//! The app as a client of the Leakwatch service (`leakwatch service`) over its local API: the
//! normal way to run it, with no capture rights in the app.
//!
//! Two connections: one, owned by the reader thread, is subscribed to the service's events
//! (alerts, changes, status) and turns them into [`Feed`] items; the other carries the app's
//! calls (ignores, pause, settings, history). When the service is not there, or this user may
//! not use it, the reader says so ([`Feed::Disconnected`]) and tries again every few seconds,
//! so the app comes alive as soon as the service starts.

use super::{AlertFeed, Backend, Feed, Figures, HistorySource, LegacyChange, Unreachable};
use crate::settings::Settings;
use crate::views::IgnoreView;
use crossbeam_channel::Sender;
use leakwatch::alert::AlertPhase;
use leakwatch::api::client::{Client, ClientError};
use leakwatch::history::UploadsView;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Who the service names for changes made over its legacy TCP socket.
const LEGACY_SOCKET: &str = "legacy-socket";
/// Time between two connection attempts while the service is away.
pub const RETRY_EVERY: Duration = Duration::from_secs(3);
/// Longest wait for the service's reply to one of the app's calls.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(15);
/// Most alerts and history rows asked for at once.
const RECENT: u64 = 500;
const HISTORY_ALERTS: u64 = 1000;

/// A client of the service.
pub struct Remote {
    socket: PathBuf,
    /// The connection for calls (made on first use, dropped when it breaks).
    calls: Mutex<Option<Client>>,
    stop: Arc<AtomicBool>,
}

/// What a failed connection means for the user.
pub fn unreachable(e: &ClientError) -> Unreachable {
    match e {
        ClientError::NotRunning(path) => Unreachable::NotRunning { socket: path.display().to_string() },
        ClientError::PermissionDenied { user, .. } => {
            Unreachable::NoAccess { user: user.clone(), detail: e.to_string() }
        }
        ClientError::Refused(msg) => Unreachable::NoAccess { user: current_user(), detail: msg.clone() },
        other => Unreachable::Failed(other.to_string()),
    }
}

fn current_user() -> String {
    std::env::var("USER").ok().filter(|u| !u.is_empty()).unwrap_or_else(|| "$USER".into())
}

/// An error of a call, as the contract's commands report it.
fn call_error(e: ClientError) -> String {
    e.to_string()
}

fn phase(s: &str) -> AlertPhase {
    match s {
        "update" => AlertPhase::Update,
        "end" => AlertPhase::End,
        _ => AlertPhase::New,
    }
}

/// A filter as compact JSON text (the API sends it as an object).
fn filter_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// An `alert` event's data (or an `alerts.recent` entry) as a feed item.
fn alert_feed(data: &Value, backlog: bool) -> Option<Feed> {
    Some(Feed::Alert(AlertFeed {
        id: data.get("id")?.as_u64()?,
        phase: phase(data["phase"].as_str().unwrap_or("new")),
        alert: None,
        json: Some(data.get("alert")?.clone()),
        ignored: Some(!data["ignored"].is_null()),
        backlog,
    }))
}

/// What a `change` event means for the app.
fn change_feed(data: &Value) -> Vec<Feed> {
    let ignore = |i: &Value| Some(Feed::IgnoreAdded { id: i.get("id")?.as_u64()?, filter: filter_text(&i["filter"]) });
    let legacy = data["by"] == LEGACY_SOCKET;
    match data["kind"].as_str().unwrap_or_default() {
        "ignore_added" => {
            let i = &data["ignore"];
            let told = legacy.then(|| {
                Feed::LegacySocket(LegacyChange::Added {
                    filter: filter_text(&i["filter"]),
                    permanent: i["permanent"].as_bool().unwrap_or(false),
                })
            });
            ignore(i).into_iter().chain(told).collect()
        }
        "ignore_removed" => {
            let id = data["id"].as_u64();
            let told = id.filter(|_| legacy).map(|id| {
                Feed::LegacySocket(LegacyChange::Removed { id, name: data["name"].as_str().map(str::to_string) })
            });
            id.map(|id| Feed::IgnoreRemoved { id }).into_iter().chain(told).collect()
        }
        "ignores_reloaded" => {
            let removed = data["removed"].as_array().cloned().unwrap_or_default();
            let added = data["added"].as_array().cloned().unwrap_or_default();
            removed
                .iter()
                .filter_map(|v| v.as_u64().map(|id| Feed::IgnoreRemoved { id }))
                .chain(added.iter().filter_map(ignore))
                .collect()
        }
        "paused" => vec![Feed::Paused(true)],
        "resumed" => vec![Feed::Paused(false)],
        "mode" | "thresholds" | "realert_after" => {
            let mut s = serde_json::Map::new();
            for k in ["mode", "max_traffic_during_10_sec", "min_leak_size", "realert_after_s"] {
                if let Some(v) = data.get(k) {
                    s.insert(k.into(), v.clone());
                }
            }
            vec![Feed::ServiceSettings(Value::Object(s))]
        }
        _ => Vec::new(),
    }
}

/// A `stats` event as the engine's per-second figures (the live chart's input).
fn stats_feed(data: &Value) -> Option<leakwatch::detect::Stats> {
    let second = chrono::DateTime::parse_from_rfc3339(data["second"].as_str()?).ok()?.timestamp_micros();
    let rates = data["rates"]
        .as_array()?
        .iter()
        .filter_map(|r| {
            let p = &r["process"];
            let process = p["pid"].as_u64().map(|pid| {
                std::sync::Arc::new(leakwatch::process::ProcessInfo {
                    pid: pid as u32,
                    name: p["name"].as_str().unwrap_or_default().to_string(),
                    exe: p["exe"].as_str().map(str::to_string),
                    installed: p["installed"].as_bool().unwrap_or(false),
                })
            });
            Some(leakwatch::detect::Rate {
                process,
                remote: r["remote"].as_str()?.parse().ok()?,
                bytes: r["bytes"].as_u64()?,
                orgname: r["orgname"].as_str().map(str::to_string),
                country: r["country"].as_str().map(str::to_string),
            })
        })
        .collect();
    Some(leakwatch::detect::Stats { second: leakwatch::time::Ts(second), rates })
}

/// One connected session: reads the state, then forwards events until the connection breaks
/// (an error) or `stop` is set (`Ok`).
fn session(socket: &Path, feed: &Sender<Feed>, stop: &AtomicBool) -> Result<(), ClientError> {
    let mut c = Client::connect(socket)?;
    c.subscribe(&["alert", "change", "status", "stats"])?;
    let send = |f: Feed| feed.send(f).map_err(|_| ClientError::Protocol("the app is stopping".into()));
    send(Feed::Connected { user: c.user.clone(), server: c.server.clone() })?;
    send(Feed::ServiceSettings(c.call("settings.get", json!({}))?))?;
    send(Feed::Status(c.call("status", json!({}))?))?;
    for i in c.call("ignore.list", json!({}))?.as_array().into_iter().flatten() {
        if let Some(id) = i["id"].as_u64() {
            send(Feed::IgnoreAdded { id, filter: filter_text(&i["filter"]) })?;
        }
    }
    // Newest first: listed oldest first so the book ends newest first.
    let recent = c.call("alerts.recent", json!({"limit": RECENT}))?;
    for a in recent.as_array().into_iter().flatten().rev() {
        if let Some(f) = alert_feed(a, true) {
            send(f)?;
        }
    }
    while !stop.load(Ordering::Relaxed) {
        let Some(ev) = c.next_event(Some(Duration::from_millis(500)))? else { continue };
        let data = &ev["data"];
        match ev["event"].as_str().unwrap_or_default() {
            "alert" => {
                if let Some(f) = alert_feed(data, false) {
                    send(f)?;
                }
            }
            "change" => {
                for f in change_feed(data) {
                    send(f)?;
                }
            }
            "status" => send(Feed::Status(data.clone()))?,
            "stats" => {
                if let Some(s) = stats_feed(data) {
                    send(Feed::Stats(s))?;
                }
            }
            "lost" => {
                tracing::info!("the service dropped {} events for this app (it was too slow)", data["events"])
            }
            _ => {}
        }
    }
    Ok(())
}

impl Remote {
    /// Starts the reader thread on `socket`; it keeps (re)connecting until [`Backend::shutdown`].
    pub fn start(socket: PathBuf, feed: Sender<Feed>) -> Arc<Remote> {
        let stop = Arc::new(AtomicBool::new(false));
        let me = Arc::new(Remote { socket: socket.clone(), calls: Mutex::new(None), stop: stop.clone() });
        let spawned = std::thread::Builder::new().name("leakwatch-service-events".into()).spawn(move || {
            let mut last: Option<Unreachable> = None;
            while !stop.load(Ordering::Relaxed) {
                match session(&socket, &feed, &stop) {
                    Ok(()) => break,
                    Err(e) => {
                        let why = unreachable(&e);
                        if last.as_ref() != Some(&why) {
                            tracing::info!("{e}");
                        }
                        last = Some(why.clone());
                        if feed.send(Feed::Disconnected(why)).is_err() {
                            break;
                        }
                    }
                }
                let mut waited = Duration::ZERO;
                while waited < RETRY_EVERY && !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(100));
                    waited += Duration::from_millis(100);
                }
            }
        });
        if let Err(e) = spawned {
            tracing::info!("cannot start the service reader: {e}");
        }
        me
    }

    /// Calls `method`; a broken connection is made again once.
    fn call(&self, method: &str, params: Value) -> Result<Value, ClientError> {
        let mut guard = self.calls.lock().unwrap_or_else(|p| p.into_inner());
        let mut tried = false;
        loop {
            if guard.is_none() {
                let mut c = Client::connect(&self.socket)?;
                // The window waits for these: a stuck service must not freeze it.
                c.set_call_timeout(Some(CALL_TIMEOUT));
                *guard = Some(c);
            }
            let client = guard.as_mut().expect("just connected");
            match client.call(method, params.clone()) {
                Ok(v) => return Ok(v),
                Err(e @ ClientError::Remote { .. }) => return Err(e),
                Err(ClientError::Io(e)) if e.kind() == std::io::ErrorKind::TimedOut => {
                    // A late reply would answer the next call: start afresh next time.
                    *guard = None;
                    return Err(ClientError::Io(e));
                }
                Err(e) => {
                    *guard = None;
                    if tried {
                        return Err(e);
                    }
                    tried = true;
                }
            }
        }
    }
}

impl Backend for Remote {
    fn ignore_alert(&self, alert_id: u64, filter: &str, scope: &str) -> Result<u64, String> {
        let how = super::api_scope(scope)?;
        let reply = match self.call("ignore.alert", json!({"alert": alert_id, "for": how})) {
            // The service no longer keeps that alert: ignore its filter instead.
            Err(ClientError::Remote { code, .. }) if code == "not_found" && !filter.is_empty() => {
                self.call("ignore.add", json!({"filter": filter, "for": how}))
            }
            other => other,
        }
        .map_err(|e| format!("id: {e}"))?;
        reply["id"].as_u64().ok_or_else(|| format!("id: the service answered {reply}"))
    }

    fn remove_ignore(&self, id: u64) -> Result<bool, String> {
        match self.call("ignore.remove", json!({"id": id})) {
            Ok(_) => Ok(true),
            Err(ClientError::Remote { code, .. }) if code == "not_found" => Ok(false),
            Err(e) => Err(format!("id: {e}")),
        }
    }

    fn list_ignores(&self) -> Result<Vec<IgnoreView>, String> {
        let list = self.call("ignore.list", json!({})).map_err(call_error)?;
        Ok(list
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| {
                let text = |k: &str| i[k].as_str().map(str::to_string);
                Some(IgnoreView {
                    id: i["id"].as_u64()?,
                    name: text("name"),
                    filter: filter_text(&i["filter"]),
                    permanent: i["permanent"].as_bool().unwrap_or(false),
                    until: text("until"),
                    // Who made it, as the service recorded it (a user name, or legacy-socket).
                    source: text("by").or_else(|| text("source")),
                    created_at: text("added"),
                })
            })
            .collect())
    }

    fn apply_settings(&self, old: &Settings, new: &Settings) -> Result<(), String> {
        if new.interfaces != old.interfaces {
            return Err("interfaces: the service captures on the interfaces of its configuration file \
                        (/etc/leakwatch/leakwatch.toml, key `interfaces`); edit it there, then run \
                        `sudo systemctl reload leakwatch`"
                .into());
        }
        if new.legacy_enabled != old.legacy_enabled {
            return Err("legacy_enabled: the service serves old GUIs as its configuration file says \
                        (/etc/leakwatch/leakwatch.toml, key `legacy`); edit it there, then run \
                        `sudo systemctl reload leakwatch`"
                .into());
        }
        let mut change = serde_json::Map::new();
        if new.mode != old.mode {
            change.insert("mode".into(), json!(new.mode));
        }
        if new.max_traffic_during_10_sec != old.max_traffic_during_10_sec {
            change.insert("max_traffic_during_10_sec".into(), json!(new.max_traffic_during_10_sec));
        }
        if new.min_leak_size != old.min_leak_size {
            change.insert("min_leak_size".into(), json!(new.min_leak_size));
        }
        if new.realert_after_s != old.realert_after_s {
            change.insert("realert_after".into(), json!(format!("{}s", new.realert_after_s)));
        }
        if change.is_empty() {
            return Ok(());
        }
        self.call("settings.set", Value::Object(change)).map(|_| ()).map_err(call_error)
    }

    fn pause(&self) -> Result<(), String> {
        self.call("pause", json!({})).map(|_| ()).map_err(call_error)
    }

    fn resume(&self) -> Result<(), String> {
        self.call("resume", json!({})).map(|_| ()).map_err(call_error)
    }

    fn figures(&self) -> Option<Figures> {
        None
    }

    fn shutdown(&self) {
        self.stop.store(true, Ordering::Relaxed);
        *self.calls.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

impl HistorySource for Remote {
    /// The service's `history.view`: the same series and totals the embedded store gives.
    fn uploads(&self, range: &str, by: &str, program: Option<&str>, until: Option<i64>) -> Result<UploadsView, String> {
        leakwatch::history::range_spec(range)?;
        leakwatch::history::GroupBy::parse(by).map_err(|e| format!("by: {e}"))?;
        let mut params = json!({"range": range, "by": by});
        if let Some(p) = program.filter(|p| !p.is_empty()) {
            params["program"] = json!(p);
        }
        if let Some(u) = until {
            params["until"] = json!(u);
        }
        let view = self.call("history.view", params).map_err(call_error)?;
        serde_json::from_value(view).map_err(|e| format!("the service's history view: {e}"))
    }

    fn alerts(
        &self,
        since: &str,
        program: Option<String>,
        query: Option<String>,
        until: Option<i64>,
    ) -> Result<Vec<Value>, String> {
        leakwatch::history::parse_since(since).map_err(|e| format!("since: {e}"))?;
        let mut params = json!({"limit": HISTORY_ALERTS});
        if since != "all" {
            params["since"] = json!(since);
        }
        if let Some(p) = program.filter(|p| !p.is_empty()) {
            params["program"] = json!(p);
        }
        if let Some(q) = query.filter(|q| !q.trim().is_empty()) {
            params["search"] = json!(q);
        }
        let list = self.call("history.alerts", params).map_err(call_error)?;
        let mut out: Vec<Value> = list.as_array().cloned().unwrap_or_default();
        if let Some(until) = until {
            // The API lists up to now: drop what is at or after `until`.
            out.retain(|a| {
                a["at"]
                    .as_str()
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                    .is_none_or(|t| t.timestamp() < until)
            });
        }
        Ok(out)
    }

    fn export(&self, format: &str, path: Option<String>) -> Result<Option<String>, String> {
        let target = super::export_target(format, path)?;
        let alerts = self.call("history.alerts", json!({"limit": 0})).map_err(call_error)?;
        let alerts: Vec<Value> = alerts.as_array().cloned().unwrap_or_default();
        let text = if format == "json" {
            let uploads = self.call("history.uploads", json!({"by": "program"})).map_err(call_error)?;
            serde_json::to_string_pretty(&json!({"alerts": alerts, "uploads": uploads})).map_err(|e| e.to_string())?
        } else {
            let records: Vec<_> = alerts.into_iter().map(|json| leakwatch::history::AlertRecord { json }).collect();
            leakwatch::history::alerts_csv(&records)
        };
        leakwatch::files::write_atomically(&target, text.as_bytes())
            .map_err(|e| format!("path: {}: {e}", target.display()))?;
        Ok(Some(target.display().to_string()))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn stats_events_become_the_charts_figures() {
        let data = serde_json::json!({"second": "2026-12-02T22:00:01.000Z", "rates": [
            {"process": {"pid": 42, "name": "curl", "exe": "/usr/bin/curl"}, "remote": "10.200.0.2", "bytes": 1500,
             "orgname": null, "country": null},
            {"process": null, "remote": "fd00:200::2", "bytes": 7, "orgname": "X", "country": "IT"},
            {"process": null, "remote": "not an address", "bytes": 1}
        ]});
        let s = super::stats_feed(&data).expect("parsed");
        assert_eq!(s.second.rfc3339(), "2026-12-02T22:00:01.000Z");
        assert_eq!(s.rates.len(), 2, "a rate that does not parse is left out");
        assert_eq!(s.rates[0].process.as_ref().map(|p| (p.pid, p.name.as_str())), Some((42, "curl")));
        assert_eq!((s.rates[1].bytes, s.rates[1].country.as_deref()), (7, Some("IT")));
        assert!(super::stats_feed(&serde_json::json!({"second": "yesterday", "rates": []})).is_none());
    }

    use super::*;

    #[test]
    fn change_events_become_feed_items() {
        let added = json!({"kind": "ignore_added", "by": "alice", "ignore": {"id": 4, "filter": {"dstip": "1.2.3.4"}}});
        let f = change_feed(&added);
        assert!(matches!(&f[..], [Feed::IgnoreAdded { id: 4, filter }] if filter == r#"{"dstip":"1.2.3.4"}"#));
        assert!(matches!(
            &change_feed(&json!({"kind": "ignore_removed", "id": 4}))[..],
            [Feed::IgnoreRemoved { id: 4 }]
        ));
        assert!(matches!(&change_feed(&json!({"kind": "paused"}))[..], [Feed::Paused(true)]));
        // A local program over the service's legacy socket: the user is told.
        let by_socket = json!({"kind": "ignore_added", "by": "legacy-socket",
            "ignore": {"id": 5, "filter": {"dstip": "1.2.3.4"}, "permanent": true}});
        let f = change_feed(&by_socket);
        assert!(matches!(
            &f[..],
            [Feed::IgnoreAdded { id: 5, .. }, Feed::LegacySocket(LegacyChange::Added { permanent: true, .. })]
        ));
        let removed = change_feed(&json!({"kind": "ignore_removed", "by": "legacy-socket", "id": 5, "name": null}));
        assert!(matches!(
            &removed[..],
            [Feed::IgnoreRemoved { id: 5 }, Feed::LegacySocket(LegacyChange::Removed { id: 5, name: None })]
        ));
        let mode = change_feed(&json!({"kind": "mode", "mode": "chill", "by": "bob"}));
        assert!(matches!(&mode[..], [Feed::ServiceSettings(v)] if v == &json!({"mode": "chill"})));
    }

    #[test]
    fn alert_events_carry_the_ignored_state() {
        let data = json!({"id": 9, "phase": "update", "alert": {"bytes": 1}, "ignored": {"how": "always"}});
        let Some(Feed::Alert(a)) = alert_feed(&data, false) else { panic!() };
        assert_eq!((a.id, a.phase, a.ignored), (9, AlertPhase::Update, Some(true)));
    }

    /// A service that greets and then never answers: the call gives up in time.
    #[test]
    fn a_stuck_service_does_not_hold_a_call_for_ever() {
        use std::io::{BufRead, Write};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("api.sock");
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            s.write_all(b"{\"hello\":{\"api\":1,\"server\":\"stuck\",\"user\":\"u\",\"uid\":1}}\n").unwrap();
            let mut line = String::new();
            let _ = std::io::BufReader::new(s.try_clone().unwrap()).read_line(&mut line);
            std::thread::sleep(Duration::from_millis(1500));
        });
        let mut c = Client::connect(&path).unwrap();
        c.set_call_timeout(Some(Duration::from_millis(300)));
        let t = std::time::Instant::now();
        let e = c.call("status", json!({})).expect_err("no reply");
        assert!(matches!(&e, ClientError::Io(io) if io.kind() == std::io::ErrorKind::TimedOut), "{e}");
        assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
        server.join().unwrap();
    }

    #[test]
    fn a_user_outside_the_group_is_told_how_to_join_it() {
        let denied = ClientError::PermissionDenied { path: "/run/leakwatch/api.sock".into(), user: "alice".into() };
        assert!(matches!(unreachable(&denied), Unreachable::NoAccess { user, .. } if user == "alice"));
        let refused = ClientError::Refused("user bob (uid 1001) may not use the Leakwatch service".into());
        assert!(matches!(unreachable(&refused), Unreachable::NoAccess { .. }));
        assert!(matches!(unreachable(&ClientError::Version(9)), Unreachable::Failed(_)));
    }

    #[test]
    fn a_missing_socket_says_the_service_is_not_running() {
        let dir = tempfile::tempdir().unwrap();
        let e = Client::connect(&dir.path().join("api.sock")).err().unwrap();
        assert!(matches!(unreachable(&e), Unreachable::NotRunning { .. }));
    }
}
