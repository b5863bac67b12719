//! The app's state, owned by one thread (`crate::core` runs it): the book of recent alerts and
//! their ignored state, the settings in force, the pause, the status the window and tray show,
//! and the notifier. It turns what the backend reports ([`Feed`]) into the contract's events,
//! notifications and tray changes. Nothing here locks: the core hands it one job at a time.

use crate::backend::{Backend, Feed, LegacyChange, Unreachable};
use crate::core::Sink;
use crate::menu::{Pause, TrayState};
use crate::notify::{Note, Notifier};
use crate::settings::Settings;
use crate::views::{
    AlertBody, AlertBook, Change, EV_ALERT, EV_ALERT_UPDATED, EV_STATS, EV_STATUS, EngineStatus, StatsView, same_filter,
};
use chrono::Utc;
use fluent_bundle::FluentArgs;
use leakwatch::alert::AlertPhase;
use leakwatch::capture::live::LiveStatus;
use leakwatch::i18n::Messages;
use leakwatch::legacy::LegacyEvent;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Least time between two replacements of one alert's notification.
const RENOTIFY_EVERY: Duration = Duration::from_secs(5);

/// The connection to the service (remote mode).
#[derive(Clone, Debug, PartialEq)]
pub enum Link {
    /// Embedded engine: no service involved.
    Embedded,
    /// Not yet known.
    Connecting,
    Up {
        user: String,
    },
    Down(Unreachable),
}

/// Everything the owner thread keeps.
pub struct State {
    pub backend: Arc<dyn Backend>,
    pub sink: Arc<dyn Sink>,
    pub notifier: Option<Box<dyn Notifier>>,
    pub book: AlertBook,
    pub settings: Settings,
    pub msgs: Arc<Messages>,
    pub status: EngineStatus,
    /// Who created ignores in this run (by ignore id), as the contract names them: "user" (the
    /// window), "tray" (a notification button or the tray). Others come from the backend.
    pub sources: HashMap<u64, String>,
    /// The ignores in force: id → filter (to un-ignore rows when one is removed).
    pub ignores: HashMap<u64, String>,
    pub pause: Pause,
    pub unseen: bool,
    pub link: Link,
    /// The service's last `status`.
    pub service_status: Option<Value>,
    /// When the service we know of started (its alert ids are per run).
    pub service_started: Option<String>,
    /// Embedded live capture: not permitted before any interface started, or the last error.
    pub no_permission: bool,
    pub started_any: bool,
    pub last_error: Option<String>,
    /// Problems met at start (a bad settings or ignores file), shown in the status message.
    pub notices: Vec<String>,
    /// When each alert's notification was last shown (updates replace it at most every few s).
    pub notified_at: HashMap<u64, Instant>,
    /// Uploaded bytes seen in `stats`, and the part attributed to a program (embedded).
    pub counted: u64,
    pub attributed: u64,
    /// Packets at the last rate computation, and when.
    last_packets: Option<(u64, Instant)>,
    pps: f64,
    /// Uploaded and attributed bytes of the last minute, from `stats` (the Health page).
    pub last_minute: crate::health::LastMinute,
    /// The window opened because the desktop shows no tray (`--no-tray`).
    pub no_tray: bool,
    /// First-time senders (programs never seen sending before).
    pub first: crate::first_senders::FirstSenders,
    /// Set by the shutdown job: the owner thread ends.
    pub stopped: bool,
}

impl State {
    pub fn new(
        backend: Arc<dyn Backend>,
        sink: Arc<dyn Sink>,
        notifier: Option<Box<dyn Notifier>>,
        settings: Settings,
        notices: Vec<String>,
        remote: bool,
    ) -> State {
        let msgs = Arc::new(Messages::new(settings.locale()));
        let status = EngineStatus { message: notices.first().cloned(), ..EngineStatus::default() };
        State {
            backend,
            sink,
            notifier,
            book: AlertBook::default(),
            settings,
            msgs,
            status,
            sources: HashMap::new(),
            ignores: HashMap::new(),
            pause: Pause::Running,
            unseen: false,
            link: if remote { Link::Connecting } else { Link::Embedded },
            service_status: None,
            service_started: None,
            no_permission: false,
            started_any: false,
            last_error: None,
            notices,
            notified_at: HashMap::new(),
            counted: 0,
            attributed: 0,
            last_packets: None,
            pps: 0.0,
            last_minute: crate::health::LastMinute::default(),
            no_tray: false,
            first: crate::first_senders::FirstSenders::default(),
            stopped: false,
        }
    }

    /// Handles one report of the backend.
    pub fn on_feed(&mut self, f: Feed) {
        match f {
            Feed::Alert(a) => self.on_alert(a),
            Feed::Stats(s) => {
                let view = StatsView::from_stats(&s, &self.msgs.unknown());
                let (all, known) = view.totals();
                self.counted += all;
                self.attributed += known;
                self.last_minute.add(s.second.0.div_euclid(leakwatch::time::SECOND), all, known);
                for sender in self.first.observe(&s) {
                    self.on_first_sender(&sender);
                }
                self.sink.emit(EV_STATS, serde_json::to_value(view).unwrap_or(Value::Null));
            }
            Feed::IgnoreAdded { id, filter } => self.on_ignore_added(id, filter),
            Feed::IgnoreRemoved { id } => self.on_ignore_removed(id),
            Feed::Paused(p) => {
                let before = self.pause;
                if !p {
                    self.pause = Pause::Running;
                } else if self.pause == Pause::Running {
                    self.pause = Pause::UntilResumed;
                }
                if before != self.pause {
                    self.refresh_status();
                    self.sink.tray_changed();
                }
            }
            Feed::ServiceSettings(v) => self.on_service_settings(&v),
            Feed::Live(s) => self.on_live_status(s),
            Feed::Legacy(e) => self.on_legacy_event(&e),
            Feed::LegacySocket(c) => {
                // The service does not say which local program it was, only that it used the socket.
                let mut args = FluentArgs::new();
                args.set("peer", "legacy-socket");
                let key = match c {
                    LegacyChange::Added { filter, permanent } => {
                        args.set("filter", filter);
                        if permanent { "app-legacy-ignore-always" } else { "app-legacy-ignore-now" }
                    }
                    LegacyChange::Removed { id, name } => {
                        args.set("id", id);
                        args.set("name", name.unwrap_or_else(|| "-".into()));
                        "app-legacy-ignore-removed"
                    }
                };
                self.inform(key, &args);
            }
            Feed::Status(v) => {
                let started = v["started"].as_str().map(str::to_string);
                if self.service_started.is_some() && started.is_some() && started != self.service_started {
                    // Another run of the service: its alert ids start again, so ours mean nothing.
                    self.book = AlertBook::default();
                    self.notified_at.clear();
                    self.sink.tray_changed();
                }
                if started.is_some() {
                    self.service_started = started;
                }
                let packets = v["packets"].as_u64().unwrap_or(0);
                self.rate(packets);
                let paused = v["paused"].as_bool().unwrap_or(false);
                self.service_status = Some(v);
                self.on_feed(Feed::Paused(paused));
                self.refresh_status();
            }
            Feed::Connected { user, server } => {
                tracing::info!("connected to {server} as {user}");
                // The ignores in force follow.
                self.ignores.clear();
                self.link = Link::Up { user };
                self.refresh_status();
                self.sink.tray_changed();
            }
            Feed::Disconnected(why) => {
                let changed = self.link != Link::Down(why.clone());
                self.link = Link::Down(why);
                self.service_status = None;
                self.last_packets = None;
                if changed {
                    self.refresh_status();
                    self.sink.tray_changed();
                }
            }
        }
    }

    fn on_alert(&mut self, a: crate::backend::AlertFeed) {
        let remote = a.json.is_some();
        let body = match (a.alert, a.json) {
            (Some(alert), _) => AlertBody::Engine(alert),
            (None, Some(json)) => AlertBody::Service(json),
            (None, None) => return,
        };
        let change = self.book.record_body(a.id, a.phase, body, remote);
        let id = a.id;
        if let Some(ignored) = a.ignored
            && let Some(e) = self.book.get_mut(id)
        {
            e.ignored = ignored;
        }
        let Some(entry) = self.book.get(id) else { return };
        let view = entry.view(&self.msgs);
        let ignored = entry.ignored;
        let fresh = matches!(change, Change::New(_)) && !a.backlog;
        if fresh && !ignored {
            self.unseen = true;
        }
        // New alerts notify; an update replaces the notification now and then.
        let renotify = !a.backlog
            && !ignored
            && match (a.phase, &change) {
                (AlertPhase::New, Change::New(_)) => true,
                (AlertPhase::New, Change::Updated(_)) => false,
                (AlertPhase::Update, _) => self.notified_at.get(&id).is_some_and(|t| t.elapsed() >= RENOTIFY_EVERY),
                (AlertPhase::End, _) => false,
            };
        let note = renotify.then(|| {
            self.notified_at.insert(id, Instant::now());
            Note {
                alert_id: id,
                title: view["exciter"].as_str().unwrap_or("Leakwatch").to_string(),
                body: view["message"].as_str().unwrap_or_default().to_string(),
                ignore_now_label: self.msgs.text("app-action-ignore-now", None),
                always_ignore_label: self.msgs.text("app-action-always-ignore", None),
                open_to_ignore: self.msgs.text("app-open-to-ignore", None),
            }
        });
        if self.notified_at.len() > crate::views::MAX_ALERTS * 2 {
            let keep: Vec<u64> = self.book.iter().map(|e| e.id).collect();
            self.notified_at.retain(|k, _| keep.contains(k));
        }
        match change {
            Change::New(_) => {
                self.sink.emit(EV_ALERT, view);
                self.sink.tray_changed();
            }
            Change::Updated(_) => self.sink.emit(EV_ALERT_UPDATED, view),
        }
        if let Some(note) = note
            && let Some(n) = self.notifier.as_mut()
            && let Err(e) = n.show(&note)
        {
            tracing::info!("notification not shown: {e}");
        }
    }

    /// A program never seen sending before sent more than a few KB: the window marks it, and
    /// (when the setting is on) one notification says so, with the ignore buttons.
    fn on_first_sender(&mut self, s: &crate::first_senders::NewSender) {
        self.sink.emit(crate::views::EV_FIRST_SENDER, json!({"program": s.program, "name": s.name, "pid": s.pid}));
        if !self.settings.first_senders_on() {
            return;
        }
        let mut args = FluentArgs::new();
        args.set("program", s.name.clone());
        args.set("path", s.exe.clone().unwrap_or_else(|| self.msgs.unknown()));
        args.set("size", self.msgs.size(s.bytes));
        let dest = match (&s.orgname, &s.country) {
            (Some(o), Some(c)) => format!("{} ({o}, {c})", s.remote),
            (Some(o), None) => format!("{} ({o})", s.remote),
            _ => s.remote.clone(),
        };
        args.set("destination", dest);
        let note = crate::notify::Note {
            alert_id: s.note_id,
            title: self.msgs.text("app-first-sender-title", Some(&args)),
            body: self.msgs.text("app-first-sender-body", Some(&args)),
            ignore_now_label: self.msgs.text("app-action-ignore-now", None),
            always_ignore_label: self.msgs.text("app-action-always-ignore", None),
            open_to_ignore: self.msgs.text("app-open-to-ignore", None),
        };
        if let Some(n) = self.notifier.as_mut()
            && let Err(e) = n.show(&note)
        {
            tracing::info!("notification not shown: {e}");
        }
    }

    /// An ignore is in force: the rows it silences are shown ignored.
    pub fn on_ignore_added(&mut self, id: u64, filter: String) {
        let changed = self.book.set_ignored(&filter, true);
        self.ignores.insert(id, filter);
        self.emit_rows(&changed);
    }

    /// An ignore was removed: its rows are shown un-ignored unless another ignore has that filter.
    pub fn on_ignore_removed(&mut self, id: u64) {
        self.sources.remove(&id);
        let Some(filter) = self.ignores.remove(&id) else { return };
        if self.ignores.values().any(|f| same_filter(f, &filter)) {
            return;
        }
        let changed = self.book.set_ignored(&filter, false);
        self.emit_rows(&changed);
    }

    fn emit_rows(&self, ids: &[u64]) {
        for id in ids {
            if let Some(e) = self.book.get(*id) {
                self.sink.emit(EV_ALERT_UPDATED, e.view(&self.msgs));
            }
        }
    }

    /// The service's detection settings (all of `settings.get`, or the keys a change names).
    fn on_service_settings(&mut self, v: &Value) {
        let before = self.settings.clone();
        let s = &mut self.settings;
        if let Some(m) = v["mode"].as_str() {
            s.mode = m.to_string();
        }
        if let Some(n) = v["max_traffic_during_10_sec"].as_u64() {
            s.max_traffic_during_10_sec = n;
        }
        if let Some(n) = v["min_leak_size"].as_u64() {
            s.min_leak_size = n;
        }
        if let Some(n) = v["realert_after_s"].as_u64() {
            s.realert_after_s = n;
        }
        if let Some(list) = v["interfaces"].as_array() {
            s.interfaces = list.iter().filter_map(|i| i.as_str().map(str::to_string)).collect();
        }
        if let Some(b) = v["legacy"].as_bool() {
            s.legacy_enabled = b;
        }
        if before.mode != self.settings.mode {
            self.sink.tray_changed();
        }
    }

    fn on_live_status(&mut self, s: LiveStatus) {
        match &s {
            LiveStatus::Started { .. } => {
                self.started_any = true;
                self.no_permission = false;
                self.last_error = None;
            }
            LiveStatus::Error { permission: true, .. } if !self.started_any => self.no_permission = true,
            LiveStatus::Error { iface, message, .. } => self.last_error = Some(format!("{iface}: {message}")),
            _ => {}
        }
        self.refresh_status();
    }

    /// A local program changed the ignores over the legacy socket (or was refused): the user
    /// must see it, since any local program can connect.
    fn on_legacy_event(&mut self, e: &LegacyEvent) {
        tracing::info!("{e}");
        let mut args = FluentArgs::new();
        let key = match e {
            LegacyEvent::IgnoreAdded { filter, permanent, peer, .. } => {
                args.set("peer", peer.to_string());
                args.set("filter", filter.clone());
                if *permanent { "app-legacy-ignore-always" } else { "app-legacy-ignore-now" }
            }
            LegacyEvent::IgnoreRemoved { id, name, peer } => {
                args.set("peer", peer.to_string());
                args.set("id", *id);
                args.set("name", name.clone().unwrap_or_else(|| "-".into()));
                "app-legacy-ignore-removed"
            }
            LegacyEvent::IgnoreRefused { filter, reason, peer } => {
                args.set("peer", peer.to_string());
                args.set("filter", filter.clone());
                args.set("reason", reason.clone());
                "app-legacy-ignore-refused"
            }
            // Logged only: a flood of connections must not become a flood of notifications.
            LegacyEvent::ConnectionRefused { .. } => return,
        };
        self.inform(key, &args);
    }

    /// A notification without buttons about a change another program made.
    fn inform(&mut self, key: &str, args: &FluentArgs<'_>) {
        let (title, body) = (self.msgs.text("app-legacy-title", None), self.msgs.text(key, Some(args)));
        if let Some(n) = self.notifier.as_mut()
            && let Err(e) = n.inform(&title, &body)
        {
            tracing::info!("notification not shown: {e}");
        }
    }

    /// Packets per second from a running count.
    fn rate(&mut self, packets: u64) {
        let now = Instant::now();
        if let Some((p, t)) = self.last_packets {
            let secs = now.duration_since(t).as_secs_f64();
            if secs >= 0.5 {
                self.pps = (packets.saturating_sub(p) as f64 / secs * 10.0).round() / 10.0;
                self.last_packets = Some((packets, now));
            }
        } else {
            self.last_packets = Some((packets, now));
        }
    }

    /// Once a second: rates, the end of a timed pause, the status.
    pub fn tick(&mut self) {
        if let Some(f) = self.backend.figures() {
            self.rate(f.packets);
        }
        if matches!(self.pause, Pause::Until(t) if t <= Utc::now()) {
            match self.backend.resume() {
                Ok(()) => {
                    self.pause = Pause::Running;
                    self.sink.tray_changed();
                }
                Err(e) => tracing::info!("resume: {e}"),
            }
        }
        self.refresh_status();
    }

    /// The state and message while the service cannot be used (`None`: it can, or embedded).
    fn link_problem(&self) -> Option<(&'static str, String)> {
        let mut args = FluentArgs::new();
        match &self.link {
            Link::Embedded | Link::Up { .. } => None,
            Link::Connecting => Some(("error", self.msgs.text("app-service-connecting", None))),
            Link::Down(Unreachable::NotRunning { socket }) => {
                args.set("socket", socket.clone());
                Some(("error", self.msgs.text("app-service-not-running", Some(&args))))
            }
            Link::Down(Unreachable::NoAccess { user, .. }) => {
                args.set("user", user.clone());
                Some(("no_permission", self.msgs.text("app-service-no-access", Some(&args))))
            }
            Link::Down(Unreachable::Failed(e)) => {
                args.set("error", e.clone());
                Some(("error", self.msgs.text("app-service-failed", Some(&args))))
            }
        }
    }

    /// Builds the status; emits it (and redraws the tray) when it changed.
    pub fn refresh_status(&mut self) {
        let status = self.compute_status();
        let changed = status != self.status;
        let ids = |s: &EngineStatus| s.problems.iter().map(|p| p.id).collect::<Vec<_>>();
        let state_changed = status.state != self.status.state || ids(&status) != ids(&self.status);
        self.status = status;
        if changed {
            self.sink.emit(EV_STATUS, serde_json::to_value(&self.status).unwrap_or(Value::Null));
        }
        if state_changed {
            self.sink.tray_changed();
        }
    }

    fn compute_status(&self) -> EngineStatus {
        let mut s = self.compute_state();
        let (uploaded, share) = self.last_minute.share();
        s.uploaded_last_minute = uploaded;
        s.attributed_last_minute = share;
        let service = self.link != Link::Embedded;
        let replay = self.backend.replay();
        s.source = if service {
            "service"
        } else if replay {
            "replay"
        } else {
            "embedded"
        };
        let (tracing, tracing_error) = match (&self.service_status, self.backend.tracing()) {
            (Some(v), _) if service => {
                (v["connection_tracing"].as_bool(), v["connection_tracing_error"].as_str().map(str::to_string))
            }
            (_, Some(Ok(()))) => (Some(true), None),
            (_, Some(Err(e))) => (Some(false), Some(e)),
            _ => (None, None),
        };
        s.connection_tracing = tracing;
        let facts = crate::health::Facts {
            service,
            replay,
            state: s.state.to_string(),
            message: s.message.clone(),
            interfaces: s.interfaces.len(),
            tracing,
            tracing_error,
            dropped_packets: s.dropped_packets,
            dropped_batches: s.dropped_batches,
            last_minute: (uploaded, share),
            no_tray: self.no_tray,
        };
        s.problems = crate::health::problems(&facts, &self.msgs);
        s.health = crate::health::summary(&facts, &self.msgs);
        s
    }

    fn compute_state(&self) -> EngineStatus {
        let paused = self.pause != Pause::Running;
        let paused_until = match self.pause {
            Pause::Until(t) => Some(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            _ => None,
        };
        let base = EngineStatus { paused_until, packets_per_s: self.pps, ..EngineStatus::default() };
        if let Some((state, message)) = self.link_problem() {
            return EngineStatus { state, message: Some(message), paused_until: None, packets_per_s: 0.0, ..base };
        }
        if let Some(s) = &self.service_status {
            let n = |k: &str| s[k].as_u64().unwrap_or(0);
            let share = (n("uploaded_bytes") > 0).then(|| n("attributed_bytes") as f64 / n("uploaded_bytes") as f64);
            let warning = self
                .notices
                .first()
                .cloned()
                .or_else(|| {
                    s["notices"].as_array().and_then(|a| a.first()).and_then(|v| v.as_str()).map(str::to_string)
                })
                .or_else(|| {
                    (n("foreign_frames") > 0).then(|| self.msgs.count("app-foreign-frames", n("foreign_frames")))
                });
            return EngineStatus {
                state: if paused { "paused" } else { "watching" },
                interfaces: s["interfaces"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|i| i.as_str().map(str::to_string)).collect())
                    .unwrap_or_default(),
                dropped_packets: n("kernel_dropped"),
                dropped_batches: n("dropped_batches"),
                attributed_share: share,
                legacy_port: s["legacy_port"].as_u64().and_then(|p| u16::try_from(p).ok()),
                message: warning,
                ..base
            };
        }
        let f = self.backend.figures().unwrap_or_default();
        let share = (self.counted > 0).then(|| self.attributed as f64 / self.counted as f64);
        let (state, message) = if self.no_permission {
            let mut args = FluentArgs::new();
            let exe =
                std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_else(|_| "leakwatch-app".into());
            args.set("exe", exe);
            ("no_permission", Some(self.msgs.text("app-no-permission", Some(&args))))
        } else if let Some(e) = self.last_error.clone().filter(|_| f.interfaces.is_empty() || !self.started_any) {
            ("error", Some(e))
        } else {
            // Warnings while capturing: start-up problems, then frames another host sent with
            // our address (dropped by the capture; see LiveCounters::foreign_frames), then the
            // legacy server's, then what an embedded engine cannot see.
            let warning = self
                .notices
                .first()
                .cloned()
                .or_else(|| (f.foreign_frames > 0).then(|| self.msgs.count("app-foreign-frames", f.foreign_frames)))
                .or_else(|| f.legacy_error.clone())
                .or_else(|| self.backend.note().map(|id| self.msgs.text(&id, None)));
            (if paused { "paused" } else { "watching" }, warning)
        };
        EngineStatus {
            state,
            interfaces: f.interfaces,
            dropped_packets: f.dropped_packets,
            dropped_batches: f.dropped_batches,
            attributed_share: share,
            legacy_port: f.legacy_port,
            message,
            ..base
        }
    }

    /// `list_alerts`: newest first.
    pub fn list_alerts(&self) -> Vec<Value> {
        self.book.iter().map(|e| e.view(&self.msgs)).collect()
    }

    /// What the tray shows now.
    pub fn tray_state(&self) -> TrayState {
        let problem = match &self.link {
            Link::Down(Unreachable::NotRunning { .. }) => Some(self.msgs.text("app-tray-no-service", None)),
            Link::Down(Unreachable::NoAccess { user, .. }) => {
                let mut args = FluentArgs::new();
                args.set("user", user.clone());
                Some(self.msgs.text("app-tray-no-access", Some(&args)))
            }
            Link::Down(Unreachable::Failed(e)) => Some(format!("Leakwatch: {e}")),
            _ => None,
        };
        TrayState {
            mode: self.settings.mode(),
            pause: self.pause,
            autostart: self.settings.start_at_login,
            recent: self
                .book
                .iter()
                .take(crate::menu::RECENT)
                .map(|e| {
                    let v = e.view(&self.msgs);
                    let who = v["process"]["name"].as_str().map(str::to_string).unwrap_or_else(|| self.msgs.unknown());
                    let dest = v["hostname"].as_str().or(v["dstip"].as_str()).unwrap_or("?").to_string();
                    (e.id, format!("{who} → {dest} ({})", self.msgs.size(v["bytes"].as_u64().unwrap_or(0))))
                })
                .collect(),
            unseen: self.unseen,
            not_watching: self.no_permission || self.status.state == "error" || problem.is_some(),
            problem,
            health: {
                let first = self.status.problems.first().map(|p| p.text.clone());
                [Some(self.status.health.clone()).filter(|h| !h.is_empty()), first]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join("\n")
            },
        }
    }

    /// The alert's callback filter, if the book has it.
    pub fn filter_of(&self, id: u64) -> Option<String> {
        self.book.get(id).map(|e| e.callback_filter().to_string())
    }

    /// A JSON `{ ignore_id }` reply for `ignore_alert`.
    pub fn ignore_reply(ignore_id: u64) -> Value {
        json!({ "ignore_id": ignore_id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::Figures;
    use crate::views::IgnoreView;
    use std::sync::Mutex;

    /// A backend with fixed figures that records nothing.
    struct Fixed(Mutex<Option<Figures>>);
    impl Backend for Fixed {
        fn ignore_alert(&self, _: u64, _: &str, _: &str) -> Result<u64, String> {
            Ok(1)
        }
        fn remove_ignore(&self, _: u64) -> Result<bool, String> {
            Ok(true)
        }
        fn ignore_filter(&self, _: &str, _: &str) -> Result<u64, String> {
            Ok(2)
        }
        fn flows_now(&self, _: usize) -> Result<Value, String> {
            Ok(Value::Null)
        }
        fn list_ignores(&self) -> Result<Vec<IgnoreView>, String> {
            Ok(Vec::new())
        }
        fn apply_settings(&self, _: &Settings, _: &Settings) -> Result<(), String> {
            Ok(())
        }
        fn pause(&self) -> Result<(), String> {
            Ok(())
        }
        fn resume(&self) -> Result<(), String> {
            Ok(())
        }
        fn figures(&self) -> Option<Figures> {
            self.0.lock().unwrap().clone()
        }
        fn shutdown(&self) {}
    }

    #[derive(Default)]
    struct Events(Mutex<Vec<(String, Value)>>);
    impl Sink for Events {
        fn emit(&self, event: &str, payload: Value) {
            self.0.lock().unwrap().push((event.to_string(), payload));
        }
    }

    fn state(remote: bool, figures: Option<Figures>) -> (State, Arc<Events>, Arc<Fixed>) {
        let sink = Arc::new(Events::default());
        let backend = Arc::new(Fixed(Mutex::new(figures)));
        let settings = Settings { locale: "en".into(), ..Settings::default() };
        (State::new(backend.clone(), sink.clone(), None, settings, Vec::new(), remote), sink, backend)
    }

    #[test]
    fn ignores_a_program_adds_over_the_services_legacy_socket_are_announced() {
        let (mut st, ..) = state(true, None);
        let fake = crate::notify::FakeNotifier::default();
        st.notifier = Some(Box::new(fake.clone()));
        st.on_feed(Feed::LegacySocket(LegacyChange::Added { filter: "{\"a\":1}".into(), permanent: true }));
        let shown = fake.shown.lock().unwrap().clone();
        assert_eq!(shown.len(), 1);
        assert!(shown[0].1.contains("another program"), "{shown:?}");
        assert!(shown[0].2.contains("legacy-socket") && shown[0].2.contains("for ever"), "{shown:?}");
    }

    #[test]
    fn no_capture_rights_point_to_the_service_never_to_setcap_or_root() {
        let (mut st, ..) = state(false, Some(Figures::default()));
        st.on_feed(Feed::Live(LiveStatus::Error {
            iface: "eth0".into(),
            message: "socket: Operation not permitted".into(),
            permission: true,
        }));
        assert_eq!(st.status.state, "no_permission");
        let msg = st.status.message.clone().unwrap();
        assert!(msg.contains("sudo systemctl start leakwatch"), "{msg}");
        assert!(!msg.contains("setcap") && !msg.contains("as root"), "never capabilities on the app: {msg}");
        assert!(st.tray_state().not_watching);
        assert_eq!(st.tray_state().icon(), crate::menu::TrayIcon::Paused);
    }

    #[test]
    fn frames_another_host_sent_with_our_address_are_shown_in_the_status() {
        let (mut st, _, backend) = state(false, Some(Figures::default()));
        st.refresh_status();
        assert_eq!(st.status.message, None, "nothing to say before any such frame");
        *backend.0.lock().unwrap() = Some(Figures { foreign_frames: 3, ..Figures::default() });
        st.refresh_status();
        assert_eq!(st.status.state, "watching", "the warning does not stop watching");
        let msg = st.status.message.clone().expect("a warning in the status");
        assert!(msg.contains("3 frames") && msg.contains("same address"), "{msg}");
    }

    #[test]
    fn without_the_service_window_and_tray_give_the_command_that_starts_it_and_come_alive() {
        let (mut st, sink, _) = state(true, None);
        st.on_feed(Feed::Disconnected(Unreachable::NotRunning { socket: "/run/leakwatch/api.sock".into() }));
        assert_eq!(st.status.state, "error");
        let msg = st.status.message.clone().unwrap();
        assert!(msg.contains("sudo systemctl start leakwatch") && msg.contains("/run/leakwatch/api.sock"), "{msg}");
        let tray = st.tray_state();
        assert!(tray.not_watching && tray.problem.as_deref().unwrap().contains("sudo systemctl start leakwatch"));
        st.on_feed(Feed::Disconnected(Unreachable::NoAccess { user: "alice".into(), detail: String::new() }));
        assert_eq!(st.status.state, "no_permission");
        assert!(st.status.message.clone().unwrap().contains("sudo usermod -aG leakwatch alice"));
        // The service comes: its state is shown, and its alerts with their ignored state.
        st.on_feed(Feed::Connected { user: "alice".into(), server: "leakwatch 0.1.0".into() });
        st.on_feed(Feed::Status(json!({"paused": false, "interfaces": ["eth0"], "packets": 10,
            "uploaded_bytes": 4, "attributed_bytes": 3, "kernel_dropped": 3, "dropped_batches": 1})));
        assert_eq!(st.status.state, "watching");
        let s = &st.status;
        assert_eq!((s.interfaces.clone(), s.dropped_packets, s.dropped_batches), (vec!["eth0".to_string()], 3, 1));
        assert_eq!(st.status.attributed_share, Some(0.75));
        assert!(st.tray_state().problem.is_none() && !st.tray_state().not_watching);
        let alert = json!({"exciter": "curl uploads", "message": "200 KiB", "callback_filter": "{\"a\":1}",
            "bytes": 200000, "dstip": "127.0.0.1", "process": {"name": "curl"}});
        st.on_feed(Feed::Alert(crate::backend::AlertFeed {
            id: 5,
            phase: AlertPhase::New,
            alert: None,
            json: Some(alert.clone()),
            ignored: Some(false),
            backlog: false,
        }));
        assert_eq!(st.list_alerts()[0]["id"], 5);
        assert!(st.unseen);
        st.on_feed(Feed::IgnoreAdded { id: 2, filter: "{\"a\": 1}".into() });
        assert_eq!(st.list_alerts()[0]["ignored"], true);
        st.on_feed(Feed::IgnoreRemoved { id: 2 });
        assert_eq!(st.list_alerts()[0]["ignored"], false);
        st.on_feed(Feed::Paused(true));
        assert_eq!(st.status.state, "paused");
        // The same service again (a reconnect) keeps the alerts; another run of it does not:
        // its alert 5 is another alert.
        st.on_feed(Feed::Status(json!({"started": "2026-12-02T10:00:00Z", "paused": true})));
        st.on_feed(Feed::Status(json!({"started": "2026-12-02T10:00:00Z", "paused": true})));
        assert_eq!(st.list_alerts().len(), 1);
        st.on_feed(Feed::Status(json!({"started": "2026-12-02T11:00:00Z", "paused": false})));
        assert!(st.list_alerts().is_empty());
        st.on_feed(Feed::Alert(crate::backend::AlertFeed {
            id: 5,
            phase: AlertPhase::New,
            alert: None,
            json: Some(alert),
            ignored: Some(false),
            backlog: false,
        }));
        assert_eq!(sink.0.lock().unwrap().iter().filter(|(n, _)| n == "alert").count(), 2, "a new alert again");
        let names: Vec<String> = sink.0.lock().unwrap().iter().map(|(n, _)| n.clone()).collect();
        assert!(names.contains(&"alert".to_string()) && names.contains(&"alert-updated".to_string()), "{names:?}");
        assert_eq!(st.tray_state().recent[0].1, "curl → 127.0.0.1 (195.3 KiB)");
    }

    fn upload(t: i64, exe: &str, bytes: u64) -> Feed {
        Feed::Stats(leakwatch::detect::Stats {
            second: leakwatch::time::Ts::from_secs_f64(t as f64),
            rates: vec![leakwatch::detect::Rate {
                process: Some(Arc::new(leakwatch::process::ProcessInfo {
                    pid: 77,
                    name: exe.rsplit('/').next().unwrap_or(exe).into(),
                    exe: Some(exe.into()),
                    installed: false,
                })),
                remote: "203.0.113.7".parse().unwrap(),
                bytes,
                orgname: Some("Example Org".into()),
                country: Some("NL".into()),
            }],
        })
    }

    #[test]
    fn a_first_time_sender_raises_exactly_one_notification_and_chill_keeps_quiet() {
        let (mut st, sink, _) = state(false, None);
        let fake = crate::notify::FakeNotifier::default();
        st.notifier = Some(Box::new(fake.clone()));
        st.first.set_known(["/usr/bin/ssh".to_string()]);
        for t in 0..5 {
            st.on_feed(upload(t, "/opt/newapp/bin/newapp", 5000));
            st.on_feed(upload(t, "/usr/bin/ssh", 1_000_000));
        }
        let shown = fake.shown.lock().unwrap().clone();
        assert_eq!(shown.len(), 1, "{shown:?}");
        assert!(shown[0].1.contains("newapp") && shown[0].2.contains("/opt/newapp/bin/newapp"), "{shown:?}");
        assert!(shown[0].2.contains("Example Org"), "{shown:?}");
        assert!(
            sink.0.lock().unwrap().iter().any(|(n, v)| n == "first-sender" && v["program"] == "/opt/newapp/bin/newapp")
        );
        assert_eq!(st.first.programs(), vec!["/opt/newapp/bin/newapp".to_string()]);
        // Chill: marked new, not notified.
        st.settings.mode = "chill".into();
        st.on_feed(upload(9, "/opt/other", 100_000));
        assert_eq!(fake.shown.lock().unwrap().len(), 1);
        assert_eq!(st.first.programs().len(), 2);
        // Its name is escaped in the notification (names come from outside).
        st.settings.first_senders = Some(true);
        st.on_feed(upload(10, "/tmp/evil\u{1b}[31m", 100_000));
        let shown = fake.shown.lock().unwrap().clone();
        assert_eq!(shown.len(), 2);
        assert!(!shown[1].1.contains('\u{1b}') && !shown[1].2.contains('\u{1b}'), "{shown:?}");
    }

    #[test]
    fn the_status_says_what_keeps_leakwatch_from_seeing_everything() {
        let figures = Figures { interfaces: vec!["eth0".into()], dropped_packets: 4, ..Figures::default() };
        let (mut st, ..) = state(false, Some(figures));
        st.on_feed(upload(1, "/usr/bin/curl", 10_000));
        st.on_feed(Feed::Stats(leakwatch::detect::Stats {
            second: leakwatch::time::Ts::from_secs_f64(2.0),
            rates: vec![leakwatch::detect::Rate {
                process: None,
                remote: "203.0.113.7".parse().unwrap(),
                bytes: 90_000,
                orgname: None,
                country: None,
            }],
        }));
        st.refresh_status();
        let s = &st.status;
        assert_eq!((s.source, s.uploaded_last_minute), ("embedded", 100_000));
        assert_eq!(s.attributed_last_minute, Some(0.1));
        let ids: Vec<_> = s.problems.iter().map(|p| p.id).collect();
        assert_eq!(ids, ["drops", "low-share"]);
        assert!(s.problems[0].text.starts_with("The system dropped 4 packets"), "{}", s.problems[0].text);
        assert!(s.health.contains("1 interface") && s.health.contains("10 %"), "{}", s.health);
        assert!(st.tray_state().tooltip(&st.msgs).contains("10 %"));
        st.no_tray = true;
        st.refresh_status();
        assert_eq!(st.status.problems.last().map(|p| p.id), Some("no-tray"));
    }
}
