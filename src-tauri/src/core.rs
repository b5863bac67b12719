//! The app's core, free of Tauri: starts the engine (live capture or a paced replay), forwards
//! alerts, statistics and status to a [`Sink`] as the contract's events, raises notifications,
//! serves the legacy TCP protocol for old GUIs (its ignores are announced as notifications), and
//! implements the contract's commands. The Tauri layer only wires a sink and the commands.

use crate::menu::{MenuAction, Pause, TrayState};
use crate::notify::{Note, NoteAction, NoteEvent, Notifier};
use crate::settings::{Settings, SettingsFile};
use crate::views::{
    AlertBook, Change, EV_ALERT, EV_ALERT_UPDATED, EV_STATS, EV_STATUS, EngineStatus, IgnoreView, StatsView,
};
use chrono::{DateTime, Utc};
use crossbeam_channel::Receiver;
use leakwatch::alert::AlertPhase;
use leakwatch::capture::live::{LiveCapture, LiveCounters, LiveOptions, LiveStatus};
use leakwatch::engine::{Command, Delivery, Engine, EngineHandle, IgnoreFor};
use leakwatch::i18n::Messages;
use leakwatch::ignores::{FIFTEEN_MINUTES, IgnoreStore, ONE_DAY, ONE_HOUR};
use leakwatch::judge::{Mode, Rules};
use leakwatch::legacy::{LegacyEvent, LegacyOptions, LegacyServer};
use leakwatch::process::{NoSocketTable, SocketTable};
use leakwatch::settings::EngineConfig;
use leakwatch::time::{SECOND, Ts};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Where the events go (the Tauri app, or a recorder in tests).
pub trait Sink: Send + Sync + 'static {
    /// Emits `event` with `payload` to the window (if any).
    fn emit(&self, event: &str, payload: Value);
    /// The tray's state changed (icon, menu).
    fn tray_changed(&self) {}
    /// Opens the window on alert `id` (notification body or tray menu clicked).
    fn show_alert(&self, _id: u64) {}
    /// Turns start-at-login on or off.
    fn set_autostart(&self, _on: bool) -> Result<(), String> {
        Ok(())
    }
    /// Quits the app.
    fn quit(&self) {}
}

/// What feeds the engine.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// Live capture on the interfaces of the settings (every up one by default).
    Live,
    /// A capture file played in packet time scaled to real time, `speed` times faster.
    Replay { path: PathBuf, speed: f64 },
}

/// How to start.
#[derive(Clone, Debug)]
pub struct Options {
    pub source: Source,
    /// Settings and `ignores.user.json` live here.
    pub config_dir: PathBuf,
    /// Ask DNS servers for names of unnamed destinations (live only).
    pub reverse_dns: bool,
    /// Load the organisation / country data.
    pub asn: bool,
    /// Ports tried, in order, for the legacy TCP protocol when the settings turn it on.
    pub legacy_ports: RangeInclusive<u16>,
    /// The history database to record into (`None`: no history, e.g. a developer's replay).
    pub history: Option<PathBuf>,
}

/// Mutable state behind one lock (never held while calling the engine or the sink).
struct State {
    book: AlertBook,
    settings: Settings,
    msgs: Arc<Messages>,
    status: EngineStatus,
    /// Who created ignores in this run (by ignore id), as the contract names them: "user" (the
    /// window), "tray" (a notification button or the tray). Others come from the engine.
    sources: HashMap<u64, String>,
    pause: Pause,
    unseen: bool,
    /// Set when live capture failed for lack of rights before any interface started.
    no_permission: bool,
    started_any: bool,
    last_error: Option<String>,
    /// Problems met at start (a bad settings or ignores file), shown in the status message.
    notices: Vec<String>,
    /// Why the legacy server is not running although the settings turn it on.
    legacy_error: Option<String>,
    /// When each alert's notification was last shown (updates replace it at most every few s).
    notified_at: HashMap<u64, Instant>,
    /// Uploaded bytes seen in `stats`, and the part attributed to a program.
    counted: u64,
    attributed: u64,
}

/// The running core. Shared as `Arc<Core>`.
pub struct Core {
    handle: EngineHandle,
    engine: Mutex<Option<Engine>>,
    live: Mutex<Option<LiveCapture>>,
    counters: Mutex<Option<Arc<LiveCounters>>>,
    /// Packets handed over by the replay reader.
    replay_packets: Arc<AtomicU64>,
    source: Source,
    state: Mutex<State>,
    settings_file: SettingsFile,
    sink: Arc<dyn Sink>,
    notifier: Mutex<Option<Box<dyn Notifier>>>,
    /// The legacy TCP server while `legacy_enabled` is on (and a port was free).
    legacy: Mutex<Option<LegacyServer>>,
    legacy_ports: RangeInclusive<u16>,
    stop: Arc<AtomicBool>,
    /// The History tab's store and recorder.
    pub history: crate::history::History,
}

/// Least time between two replacements of one alert's notification.
const RENOTIFY_EVERY: Duration = Duration::from_secs(5);

fn err(field: &str, reason: impl std::fmt::Display) -> String {
    format!("{field}: {reason}")
}

impl Core {
    /// Loads settings and ignores from `opts.config_dir`, starts the engine and its feeders,
    /// and the threads that forward events to `sink`. Notifier actions arrive on `note_events`.
    pub fn start(
        opts: Options,
        sink: Arc<dyn Sink>,
        notifier: Option<Box<dyn Notifier>>,
        note_events: Receiver<NoteEvent>,
    ) -> Arc<Core> {
        let settings_file = SettingsFile::new(opts.config_dir.join(crate::settings::FILE_NAME));
        let (settings, settings_problem) = settings_file.load();
        let mut notices: Vec<String> = settings_problem.into_iter().collect();
        let ignores_path = opts.config_dir.join(leakwatch::ignores::FILE_NAME);
        let ignores = match IgnoreStore::open(ignores_path) {
            Ok((store, problem)) => {
                notices.extend(problem.map(|p| p.to_string()));
                Some(store)
            }
            Err(e) => {
                notices.push(e.to_string());
                None
            }
        };
        for n in &notices {
            eprintln!("leakwatch-app: warning: {n}");
        }
        let mut config = EngineConfig {
            thresholds: settings.thresholds(),
            realert_after: settings.realert_after_s as i64 * SECOND,
            rules: Rules::shipped(settings.mode()),
            ..EngineConfig::default()
        };
        let live = opts.source == Source::Live;
        if !live && opts.asn {
            // A replay names destinations from its first packet, as `leakwatch replay` does.
            config.asn = load_asn();
        }
        if live && let Ok(all) = leakwatch::capture::interfaces::list() {
            config.local_nets = leakwatch::capture::interfaces::own_nets(&all, false);
        }
        let sockets: Box<dyn SocketTable> = if live {
            let mut table = leakwatch::process::SystemSocketTable::new();
            if let Err(e) = table.start_connect_tracer() {
                eprintln!("leakwatch-app: note: connection tracing is off: {e}");
            }
            Box::new(table)
        } else {
            Box::new(NoSocketTable)
        };
        let engine = Engine::start_full(config, sockets, ignores);
        let handle = engine.handle();
        // Subscribed before any packet flows, like the threads below.
        let (history, history_problem) =
            crate::history::History::start(&handle, opts.history.clone(), settings.locale());
        if let Some(p) = history_problem {
            eprintln!("leakwatch-app: warning: {p}");
            notices.push(p);
        }
        let msgs = Arc::new(Messages::new(settings.locale()));
        let pause = Pause::Running;
        let status = EngineStatus { message: notices.first().cloned(), ..EngineStatus::default() };
        let core = Arc::new(Core {
            handle: handle.clone(),
            engine: Mutex::new(Some(engine)),
            live: Mutex::new(None),
            counters: Mutex::new(None),
            replay_packets: Arc::new(AtomicU64::new(0)),
            source: opts.source.clone(),
            state: Mutex::new(State {
                book: AlertBook::default(),
                settings,
                msgs,
                status,
                sources: HashMap::new(),
                pause,
                unseen: false,
                no_permission: false,
                started_any: false,
                last_error: None,
                notices,
                legacy_error: None,
                notified_at: HashMap::new(),
                counted: 0,
                attributed: 0,
            }),
            settings_file,
            sink,
            notifier: Mutex::new(notifier),
            legacy: Mutex::new(None),
            legacy_ports: opts.legacy_ports.clone(),
            stop: Arc::new(AtomicBool::new(false)),
            history,
        });
        // Subscribe before any packet flows, so nothing is missed.
        let alerts = handle.subscribe_alerts(Delivery::Lossy);
        let stats = handle.subscribe_stats();
        spawn("leakwatch-alerts", {
            let core = core.clone();
            move || {
                for e in alerts.iter() {
                    core.on_alert(e);
                }
            }
        });
        spawn("leakwatch-stats", {
            let core = core.clone();
            move || {
                for s in stats.iter() {
                    core.on_stats(&s);
                }
            }
        });
        spawn("leakwatch-actions", {
            let core = core.clone();
            move || {
                for e in note_events.iter() {
                    core.on_note_event(e);
                }
            }
        });
        if core.get_settings().legacy_enabled {
            core.start_legacy();
        }
        match &opts.source {
            Source::Live => {
                if opts.reverse_dns {
                    match leakwatch::naming::reverse::ReverseDns::from_system() {
                        Ok(r) => handle.command(Command::SetReverseDns(Box::new(r))),
                        Err(e) => eprintln!("leakwatch-app: note: no reverse DNS for unnamed destinations: {e}"),
                    }
                }
                if opts.asn {
                    let h = handle.clone();
                    spawn("leakwatch-asn", move || {
                        if let Some(db) = load_asn() {
                            h.command(Command::SetAsnDb(db));
                        }
                    });
                }
                core.start_live();
            }
            Source::Replay { path, speed } => core.start_replay(path.clone(), *speed),
        }
        spawn("leakwatch-status", {
            let core = core.clone();
            move || core.status_loop()
        });
        core
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn start_live(self: &Arc<Self>) {
        let interfaces = self.lock().settings.interfaces.clone();
        let live = LiveCapture::start(
            self.handle.clone(),
            LiveOptions { interfaces, include_loopback: false, follow_local_nets: true },
        );
        let status = live.status();
        *self.counters.lock().unwrap_or_else(|p| p.into_inner()) = Some(live.counters());
        *self.live.lock().unwrap_or_else(|p| p.into_inner()) = Some(live);
        let core = self.clone();
        spawn("leakwatch-live-status", move || {
            for s in status.iter() {
                core.on_live_status(s);
            }
        });
    }

    fn start_replay(self: &Arc<Self>, path: PathBuf, speed: f64) {
        let handle = self.handle.clone();
        let packets = self.replay_packets.clone();
        let stop = self.stop.clone();
        let core = self.clone();
        spawn("leakwatch-replay", move || {
            let mut pacer = Pacer::new(speed);
            let mut pace = |ts: Ts| {
                packets.fetch_add(1, Ordering::Relaxed);
                pacer.wait(ts)
            };
            let result = leakwatch::capture::file::read_file_paced(&path, &handle, None, Some(&mut pace));
            let last = match result {
                Ok(stats) => stats.last,
                Err(e) => {
                    eprintln!("leakwatch-app: {e}");
                    core.lock().last_error = Some(e.to_string());
                    None
                }
            };
            // Packet time goes on after the file ends, so open alerts end as they would live.
            if let Some(last) = last {
                let ended = Instant::now();
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(500));
                    let us = (ended.elapsed().as_secs_f64() * speed * SECOND as f64) as i64;
                    handle.tick(Ts(last.0.saturating_add(us)));
                }
            }
        });
    }

    /// Starts the legacy server (if none runs) and the thread that announces what local programs
    /// do over it. No free port is a status message, not a failure of the app.
    fn start_legacy(self: &Arc<Self>) {
        let mut slot = self.legacy.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_some() {
            return;
        }
        let locale = self.lock().settings.locale();
        let opts = LegacyOptions { ports: self.legacy_ports.clone(), locale, ..LegacyOptions::default() };
        match LegacyServer::start(self.handle.clone(), opts) {
            Ok(server) => {
                let events = server.events();
                *slot = Some(server);
                self.lock().legacy_error = None;
                let core = self.clone();
                spawn("leakwatch-legacy-events", move || {
                    // Ends when the server stops (its sender is dropped).
                    for e in events.iter() {
                        core.on_legacy_event(&e);
                    }
                });
            }
            Err(e) => {
                eprintln!("leakwatch-app: warning: {e}");
                self.lock().legacy_error = Some(e.to_string());
            }
        }
    }

    fn stop_legacy(&self) {
        let server = self.legacy.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(s) = server {
            s.stop();
        }
        self.lock().legacy_error = None;
    }

    /// A local program changed the ignores over the legacy socket (or was refused): the user
    /// must see it, since any local program can connect.
    fn on_legacy_event(&self, e: &LegacyEvent) {
        eprintln!("leakwatch-app: {e}");
        let mut args = fluent_bundle::FluentArgs::new();
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
        let msgs = self.messages();
        let (title, body) = (msgs.text("app-legacy-title", None), msgs.text(key, Some(&args)));
        if let Some(n) = self.notifier.lock().unwrap_or_else(|p| p.into_inner()).as_mut()
            && let Err(e) = n.inform(&title, &body)
        {
            eprintln!("leakwatch-app: notification not shown: {e}");
        }
    }

    fn on_live_status(&self, s: LiveStatus) {
        let mut st = self.lock();
        match &s {
            LiveStatus::Started { .. } => {
                st.started_any = true;
                st.no_permission = false;
                st.last_error = None;
            }
            LiveStatus::Error { permission: true, .. } if !st.started_any => st.no_permission = true,
            LiveStatus::Error { iface, message, .. } => st.last_error = Some(format!("{iface}: {message}")),
            _ => {}
        }
        drop(st);
        self.refresh_status();
    }

    fn on_alert(&self, e: leakwatch::alert::AlertEvent) {
        let phase = e.phase;
        let (change, view, note) = {
            let mut st = self.lock();
            let change = st.book.record(e);
            let id = match change {
                Change::New(id) | Change::Updated(id) => id,
            };
            let Some(entry) = st.book.get(id) else { return };
            let view = entry.view(&st.msgs);
            let alert = entry.event.alert.clone();
            let ignored = entry.ignored;
            if matches!(change, Change::New(_)) {
                st.unseen = true;
            }
            // New alerts notify; an update replaces the notification now and then.
            let renotify = match phase {
                AlertPhase::New => true,
                AlertPhase::Update => {
                    st.notified_at.get(&id).is_some_and(|t| t.elapsed() >= RENOTIFY_EVERY) && !ignored
                }
                AlertPhase::End => false,
            };
            let note = renotify.then(|| {
                st.notified_at.insert(id, Instant::now());
                Note {
                    alert_id: id,
                    title: st.msgs.alert_exciter(&alert),
                    body: st.msgs.alert_message(&alert),
                    ignore_now_label: st.msgs.text("app-action-ignore-now", None),
                    always_ignore_label: st.msgs.text("app-action-always-ignore", None),
                    open_to_ignore: st.msgs.text("app-open-to-ignore", None),
                }
            });
            if st.notified_at.len() > crate::views::MAX_ALERTS * 2 {
                let keep: Vec<u64> = st.book.iter().map(|e| e.id).collect();
                st.notified_at.retain(|k, _| keep.contains(k));
            }
            (change, view, note)
        };
        match change {
            Change::New(_) => {
                self.sink.emit(EV_ALERT, view);
                self.sink.tray_changed();
            }
            Change::Updated(_) => self.sink.emit(EV_ALERT_UPDATED, view),
        }
        if let Some(note) = note
            && let Some(n) = self.notifier.lock().unwrap_or_else(|p| p.into_inner()).as_mut()
            && let Err(e) = n.show(&note)
        {
            eprintln!("leakwatch-app: notification not shown: {e}");
        }
    }

    fn on_stats(&self, s: &leakwatch::detect::Stats) {
        let view = {
            let mut st = self.lock();
            let view = StatsView::from_stats(s, &st.msgs.unknown());
            let (all, known) = view.totals();
            st.counted += all;
            st.attributed += known;
            view
        };
        self.sink.emit(EV_STATS, serde_json::to_value(view).unwrap_or(Value::Null));
    }

    fn on_note_event(&self, e: NoteEvent) {
        let result = match e.action {
            NoteAction::IgnoreForNow => self.ignore_alert(e.alert_id, "for_now", "tray").map(|_| ()),
            NoteAction::AlwaysIgnore => self.ignore_alert(e.alert_id, "always", "tray").map(|_| ()),
            NoteAction::Open => {
                self.mark_seen();
                self.sink.show_alert(e.alert_id);
                Ok(())
            }
        };
        if let Err(e) = result {
            eprintln!("leakwatch-app: notification action failed: {e}");
        }
    }

    /// Recomputes the status every second (rates, pause expiry) and emits it when it changed.
    fn status_loop(&self) {
        let mut last_packets = 0u64;
        let mut last = Instant::now();
        while !self.stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_secs(1));
            let packets = match &*self.counters.lock().unwrap_or_else(|p| p.into_inner()) {
                Some(c) => c.packets.load(Ordering::Relaxed),
                None => self.replay_packets.load(Ordering::Relaxed),
            };
            let secs = last.elapsed().as_secs_f64().max(0.001);
            last = Instant::now();
            let pps = (packets.saturating_sub(last_packets)) as f64 / secs;
            last_packets = packets;
            let expired = matches!(self.lock().pause, Pause::Until(t) if t <= Utc::now());
            if expired {
                self.resume();
            }
            self.refresh_status_with(Some((pps * 10.0).round() / 10.0));
        }
    }

    fn refresh_status(&self) {
        self.refresh_status_with(None);
    }

    /// Builds the status and emits it (and redraws the tray) when it changed.
    fn refresh_status_with(&self, pps: Option<f64>) {
        let (interfaces, kernel, foreign) = match &*self.counters.lock().unwrap_or_else(|p| p.into_inner()) {
            Some(c) => (
                c.active_interfaces(),
                c.kernel_dropped.load(Ordering::Relaxed),
                c.foreign_frames.load(Ordering::Relaxed),
            ),
            None => (Vec::new(), 0, 0),
        };
        let drops = self.handle.dropped_batches() + kernel;
        let legacy_port = self.legacy.lock().unwrap_or_else(|p| p.into_inner()).as_ref().map(LegacyServer::port);
        let (status, changed, state_changed) = {
            let mut st = self.lock();
            let exe =
                std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_else(|_| "leakwatch-app".into());
            let interfaces = match &self.source {
                Source::Live => interfaces,
                Source::Replay { path, .. } => vec![format!("replay:{}", path.display())],
            };
            let (state, message) = if st.no_permission {
                let mut args = fluent_bundle::FluentArgs::new();
                args.set("exe", exe);
                ("no_permission", Some(st.msgs.text("app-no-permission", Some(&args))))
            } else if let Some(e) = st.last_error.clone().filter(|_| interfaces.is_empty()) {
                ("error", Some(e))
            } else {
                // Warnings while capturing: start-up problems, then frames another host sent with
                // our address (dropped by the capture; see LiveCounters::foreign_frames), then
                // the legacy server's.
                let warning = st
                    .notices
                    .first()
                    .cloned()
                    .or_else(|| (foreign > 0).then(|| st.msgs.count("app-foreign-frames", foreign)))
                    .or_else(|| st.legacy_error.clone());
                (if st.pause != Pause::Running { "paused" } else { "watching" }, warning)
            };
            let paused_until = match st.pause {
                Pause::Until(t) => Some(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                _ => None,
            };
            let share = (st.counted > 0).then(|| st.attributed as f64 / st.counted as f64);
            let status = EngineStatus {
                state,
                paused_until,
                interfaces,
                packets_per_s: pps.unwrap_or(st.status.packets_per_s),
                drops,
                attributed_share: share,
                legacy_port,
                message,
                version: env!("CARGO_PKG_VERSION"),
            };
            let changed = status != st.status;
            let state_changed = status.state != st.status.state;
            st.status = status.clone();
            (status, changed, state_changed)
        };
        if changed {
            self.sink.emit(EV_STATUS, serde_json::to_value(status).unwrap_or(Value::Null));
        }
        if state_changed {
            self.sink.tray_changed();
        }
    }

    // --- Commands (docs/ui-contract.md) ---------------------------------------------------

    /// `list_alerts`: newest first.
    pub fn list_alerts(&self) -> Vec<Value> {
        let st = self.lock();
        st.book.iter().map(|e| e.view(&st.msgs)).collect()
    }

    /// `ignore_alert`: ignores what the alert's callback filter matches, for `scope`.
    pub fn ignore_alert(&self, id: u64, scope: &str, source: &str) -> Result<u64, String> {
        let how = match scope {
            "for_now" => IgnoreFor::Now,
            "for_15m" => IgnoreFor::Duration(FIFTEEN_MINUTES),
            "for_1h" => IgnoreFor::Duration(ONE_HOUR),
            "for_24h" => IgnoreFor::Duration(ONE_DAY),
            "always" => IgnoreFor::Always,
            other => {
                return Err(err("scope", format!("{other:?} is not one of for_now, for_15m, for_1h, for_24h, always")));
            }
        };
        let filter = self
            .lock()
            .book
            .get(id)
            .map(|e| e.callback_filter().to_string())
            .ok_or_else(|| err("id", format!("no alert {id} (only the last 500 are kept)")))?;
        let ignore_id = self.handle.ignore(&filter, how).map_err(|e| err("id", e))?;
        let views = {
            let mut st = self.lock();
            st.sources.insert(ignore_id, source.to_string());
            let changed = st.book.set_ignored(&filter, true);
            changed.iter().filter_map(|id| st.book.get(*id).map(|e| e.view(&st.msgs))).collect::<Vec<_>>()
        };
        for v in views {
            self.sink.emit(EV_ALERT_UPDATED, v);
        }
        Ok(ignore_id)
    }

    /// `list_ignores`.
    pub fn list_ignores(&self) -> Vec<IgnoreView> {
        let list = self.handle.list_ignores();
        let st = self.lock();
        list.into_iter()
            .map(|i| {
                let source = st.sources.get(&i.id).cloned().unwrap_or_else(|| i.source.as_str().to_string());
                IgnoreView::new(i, Some(source))
            })
            .collect()
    }

    /// `remove_ignore`: false when there is no such ignore.
    pub fn remove_ignore(&self, id: u64) -> Result<bool, String> {
        let before = self.handle.list_ignores();
        let removed = self.handle.remove_ignore(id).map_err(|e| err("id", e))?;
        if !removed {
            return Ok(false);
        }
        let Some(filter) = before.iter().find(|i| i.id == id).map(|i| i.filter.clone()) else { return Ok(true) };
        let still = before.iter().any(|i| i.id != id && same_filter(&i.filter, &filter));
        let views = {
            let mut st = self.lock();
            st.sources.remove(&id);
            if still {
                Vec::new()
            } else {
                let ids: Vec<u64> = st
                    .book
                    .iter()
                    .filter(|e| e.ignored && same_filter(e.callback_filter(), &filter))
                    .map(|e| e.id)
                    .collect();
                let mut out = Vec::new();
                for i in ids {
                    let f = st.book.get(i).map(|e| e.callback_filter().to_string()).unwrap_or_default();
                    st.book.set_ignored(&f, false);
                    if let Some(e) = st.book.get(i) {
                        out.push(e.view(&st.msgs));
                    }
                }
                out
            }
        };
        for v in views {
            self.sink.emit(EV_ALERT_UPDATED, v);
        }
        Ok(true)
    }

    /// `get_settings`.
    pub fn get_settings(&self) -> Settings {
        self.lock().settings.clone()
    }

    /// `set_settings`: validates, persists, then applies at once what changed.
    pub fn set_settings(self: &Arc<Self>, new: Settings) -> Result<Settings, String> {
        new.validate().map_err(|e| e.to_string())?;
        let old = self.get_settings();
        if new.start_at_login != old.start_at_login {
            self.sink.set_autostart(new.start_at_login).map_err(|e| err("start_at_login", e))?;
        }
        self.settings_file.save(&new).map_err(|e| e.to_string())?;
        {
            let mut st = self.lock();
            st.settings = new.clone();
            if new.locale != old.locale {
                st.msgs = Arc::new(Messages::new(new.locale()));
            }
        }
        if new.mode != old.mode {
            self.handle.set_mode(new.mode());
        }
        if new.thresholds() != old.thresholds() {
            self.handle.command(Command::SetThresholds(new.thresholds()));
        }
        if new.realert_after_s != old.realert_after_s {
            self.handle.command(Command::SetRealertAfter(new.realert_after_s as i64 * SECOND));
        }
        if new.legacy_enabled != old.legacy_enabled || (new.legacy_enabled && new.locale != old.locale) {
            // The server's alert texts are in the language it was started with.
            self.stop_legacy();
            if new.legacy_enabled {
                self.start_legacy();
            }
        }
        if new.interfaces != old.interfaces && self.source == Source::Live {
            let old_live = self.live.lock().unwrap_or_else(|p| p.into_inner()).take();
            if let Some(l) = old_live {
                l.stop();
            }
            self.start_live();
        }
        if new.mode != old.mode || new.locale != old.locale || new.start_at_login != old.start_at_login {
            self.sink.tray_changed();
        }
        self.refresh_status();
        Ok(new)
    }

    /// `engine_status`.
    pub fn engine_status(&self) -> EngineStatus {
        self.lock().status.clone()
    }

    // --- Tray ---------------------------------------------------------------------------

    /// What the tray shows now.
    pub fn tray_state(&self) -> TrayState {
        let st = self.lock();
        TrayState {
            mode: st.settings.mode(),
            pause: st.pause,
            autostart: st.settings.start_at_login,
            recent: st
                .book
                .iter()
                .take(crate::menu::RECENT)
                .map(|e| {
                    let a = &e.event.alert;
                    let who = a.process.as_ref().map(|p| p.name.clone()).unwrap_or_else(|| st.msgs.unknown());
                    let dest = a.hostname.clone().unwrap_or_else(|| a.dstip.to_string());
                    (e.id, format!("{who} → {dest} ({})", st.msgs.size(a.bytes)))
                })
                .collect(),
            unseen: st.unseen,
            not_watching: st.no_permission || st.status.state == "error",
        }
    }

    /// The messages of the current language.
    pub fn messages(&self) -> Arc<Messages> {
        self.lock().msgs.clone()
    }

    /// The window was opened: alerts are seen.
    pub fn mark_seen(&self) {
        let was = std::mem::replace(&mut self.lock().unseen, false);
        if was {
            self.sink.tray_changed();
        }
    }

    /// Carries out a tray menu action.
    pub fn menu_action(self: &Arc<Self>, a: MenuAction) {
        match a {
            MenuAction::Open => self.mark_seen(),
            MenuAction::ShowAlert(id) => {
                self.mark_seen();
                self.sink.show_alert(id);
            }
            MenuAction::SetMode(m) => self.set_mode(m),
            MenuAction::Pause(d) => self.pause(d),
            MenuAction::Resume => self.resume(),
            MenuAction::ToggleAutostart => {
                let s = self.get_settings();
                let next = Settings { start_at_login: !s.start_at_login, ..s };
                if let Err(e) = self.set_settings(next) {
                    eprintln!("leakwatch-app: start at login: {e}");
                }
            }
            MenuAction::Quit => self.sink.quit(),
        }
    }

    /// Switches the mode at once and persists it.
    pub fn set_mode(self: &Arc<Self>, m: Mode) {
        let s = self.get_settings();
        let next = Settings { mode: m.as_str().to_string(), ..s };
        if let Err(e) = self.set_settings(next) {
            eprintln!("leakwatch-app: mode: {e}");
        }
    }

    /// Pauses detection for `d`, or until resumed.
    pub fn pause(&self, d: Option<Duration>) {
        let pause = match d {
            Some(d) => Pause::Until(Utc::now() + chrono::TimeDelta::from_std(d).unwrap_or(chrono::TimeDelta::MAX)),
            None => Pause::UntilResumed,
        };
        self.handle.command(Command::Pause);
        self.lock().pause = pause;
        self.refresh_status();
        self.sink.tray_changed();
    }

    pub fn resume(&self) {
        self.handle.command(Command::Resume);
        self.lock().pause = Pause::Running;
        self.refresh_status();
        self.sink.tray_changed();
    }

    /// When the pause ends, if it has an end.
    pub fn paused_until(&self) -> Option<DateTime<Utc>> {
        match self.lock().pause {
            Pause::Until(t) => Some(t),
            _ => None,
        }
    }

    /// Stops capture and the engine (on quit).
    pub fn shutdown(&self) {
        self.stop.store(true, Ordering::Relaxed);
        self.stop_legacy();
        if let Some(l) = self.live.lock().unwrap_or_else(|p| p.into_inner()).take() {
            l.stop();
        }
        if let Some(e) = self.engine.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = e.finish();
        }
        self.history.finish();
    }

    /// A JSON `{ ignore_id }` reply for `ignore_alert`.
    pub fn ignore_reply(ignore_id: u64) -> Value {
        json!({ "ignore_id": ignore_id })
    }
}

/// Two filter texts are the same filter (compared as JSON, so spacing does not matter).
fn same_filter(a: &str, b: &str) -> bool {
    a == b || matches!((serde_json::from_str::<Value>(a), serde_json::from_str::<Value>(b)), (Ok(x), Ok(y)) if x == y)
}

fn load_asn() -> Option<Arc<leakwatch::naming::asn::AsnDb>> {
    match leakwatch::naming::asn::AsnDb::load_default() {
        Ok(db) => Some(Arc::new(db)),
        Err(e) => {
            eprintln!("leakwatch-app: warning: organisations and countries will be unknown: {e}");
            None
        }
    }
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) {
    if let Err(e) = std::thread::Builder::new().name(name.into()).spawn(f) {
        eprintln!("leakwatch-app: cannot start thread {name}: {e}");
    }
}

/// Maps packet time to wall time for a paced replay.
pub struct Pacer {
    speed: f64,
    start: Option<(Ts, Instant)>,
}

impl Pacer {
    /// `speed` 1.0 is real time; non-positive or non-finite values mean as fast as possible.
    pub fn new(speed: f64) -> Pacer {
        Pacer { speed, start: None }
    }

    /// How long to wait before handing over a packet of time `ts`.
    pub fn wait(&mut self, ts: Ts) -> Duration {
        if !(self.speed.is_finite() && self.speed > 0.0) {
            return Duration::ZERO;
        }
        let (t0, w0) = *self.start.get_or_insert((ts, Instant::now()));
        let due = ts.micros_since(t0).max(0) as f64 / self.speed / 1e6;
        let elapsed = w0.elapsed().as_secs_f64();
        // Sleep in steps of at least 5 ms (fewer, larger batches).
        if due - elapsed > 0.005 { Duration::from_secs_f64(due - elapsed) } else { Duration::ZERO }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacer_scales_packet_time() {
        let mut p = Pacer::new(10.0);
        assert_eq!(p.wait(Ts::from_secs_f64(100.0)), Duration::ZERO);
        let w = p.wait(Ts::from_secs_f64(101.0));
        assert!(w > Duration::from_millis(80) && w <= Duration::from_millis(100), "{w:?}");
        let mut fast = Pacer::new(0.0);
        fast.wait(Ts::from_secs_f64(0.0));
        assert_eq!(fast.wait(Ts::from_secs_f64(1000.0)), Duration::ZERO);
    }

    struct NullSink;
    impl Sink for NullSink {
        fn emit(&self, _: &str, _: Value) {}
    }

    /// A core replaying the bundled capture fast, with its config in `dir`, and the sender of
    /// its notification-action channel (dropping it closes the channel).
    fn replay_core(dir: &std::path::Path) -> (Arc<Core>, crossbeam_channel::Sender<NoteEvent>) {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../samples/ookla.pcap");
        let opts = Options {
            source: Source::Replay { path, speed: 1000.0 },
            config_dir: dir.to_path_buf(),
            reverse_dns: false,
            asn: false,
            legacy_ports: leakwatch::legacy::DEFAULT_PORTS,
            history: None,
        };
        let (tx, rx) = crossbeam_channel::unbounded();
        (Core::start(opts, Arc::new(NullSink), None, rx), tx)
    }

    #[test]
    fn no_capture_rights_show_the_setcap_fix_not_root() {
        let dir = tempfile::tempdir().unwrap();
        let (core, _tx) = replay_core(dir.path());
        core.on_live_status(LiveStatus::Error {
            iface: "eth0".into(),
            message: "socket: Operation not permitted".into(),
            permission: true,
        });
        let s = core.engine_status();
        assert_eq!(s.state, "no_permission");
        let msg = s.message.unwrap();
        assert!(msg.contains("sudo setcap cap_net_raw,cap_net_admin,cap_perfmon+eip /"), "{msg}");
        assert!(!msg.contains("as root"), "never suggest running the UI as root: {msg}");
        assert!(core.tray_state().not_watching);
        assert_eq!(core.tray_state().icon(), crate::menu::TrayIcon::Paused);
        core.shutdown();
    }

    #[test]
    fn frames_another_host_sent_with_our_address_are_shown_in_the_status() {
        let dir = tempfile::tempdir().unwrap();
        let (core, _tx) = replay_core(dir.path());
        let counters = Arc::new(LiveCounters::default());
        *core.counters.lock().unwrap() = Some(counters.clone());
        core.refresh_status();
        assert_eq!(core.engine_status().message, None, "nothing to say before any such frame");
        counters.foreign_frames.store(3, Ordering::Relaxed);
        core.refresh_status();
        let s = core.engine_status();
        assert_eq!(s.state, "watching", "the warning does not stop watching");
        let msg = s.message.expect("a warning in the status");
        assert!(msg.contains("3 frames") && msg.contains("same address"), "{msg}");
        core.shutdown();
    }

    #[test]
    fn filters_compare_as_json() {
        assert!(same_filter(r#"{"a": 1}"#, r#"{"a":1}"#));
        assert!(!same_filter(r#"{"a":1}"#, r#"{"a":2}"#));
    }
}
