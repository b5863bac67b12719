//! An engine inside the app's own process, built through `leakwatch::compose` (the same module
//! the service and `leakwatch run` use): for `--replay FILE` (a capture file played in packet
//! time scaled to real time) and for `--embedded` (live capture with the rights of the user,
//! which sees neither other users' programs nor short-lived ones: the status says so).
//!
//! The legacy TCP server is managed here rather than by the composed system because the
//! Settings page turns it on and off while the app runs.

use super::{Backend, Feed, Figures};
use crate::core::{Options, Source};
use crate::settings::Settings;
use crate::views::IgnoreView;
use crossbeam_channel::{Sender, select};
use leakwatch::capture::live::{LiveCounters, LiveOptions, LiveStatus};
use leakwatch::compose::{AsnSpec, RecordSpec, Spec, System};
use leakwatch::engine::{ChangeKind, Command, Delivery, EngineHandle, IgnoreFor};
use leakwatch::ignores::{FIFTEEN_MINUTES, ONE_DAY, ONE_HOUR};
use leakwatch::judge::Rules;
use leakwatch::legacy::{LegacyOptions, LegacyServer};
use leakwatch::settings::EngineConfig;
use leakwatch::time::{SECOND, Ts};
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The legacy server and why it is not running.
#[derive(Default)]
struct Legacy {
    server: Option<LegacyServer>,
    error: Option<String>,
}

/// The in-process engine and its feeders.
pub struct Embedded {
    handle: EngineHandle,
    /// Taken at shutdown.
    system: Mutex<Option<System>>,
    source: Source,
    feed: Sender<Feed>,
    legacy: Mutex<Legacy>,
    legacy_ports: RangeInclusive<u16>,
    counters: Mutex<Option<Arc<LiveCounters>>>,
    replay_packets: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    history: Arc<crate::history::History>,
    /// Live: whether connection tracing started, or why not.
    tracing: Option<Result<(), String>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn ignore_for(scope: &str) -> Result<IgnoreFor, String> {
    Ok(match scope {
        "for_now" => IgnoreFor::Now,
        "for_15m" => IgnoreFor::Duration(FIFTEEN_MINUTES),
        "for_1h" => IgnoreFor::Duration(ONE_HOUR),
        "for_24h" => IgnoreFor::Duration(ONE_DAY),
        "always" => IgnoreFor::Always,
        other => {
            return Err(format!("scope: {other:?} is not one of for_now, for_15m, for_1h, for_24h, always"));
        }
    })
}

impl Embedded {
    /// Builds and starts the engine for `opts.source` (a replay or live capture) with the
    /// user's `settings`; what happens goes to `feed`. Problems met on the way are returned as
    /// notices for the status line.
    pub fn start(opts: &Options, settings: &Settings, feed: Sender<Feed>) -> (Arc<Embedded>, Vec<String>) {
        let live = opts.source == Source::Live;
        let mut config = EngineConfig {
            thresholds: settings.thresholds(),
            realert_after: settings.realert_after_s as i64 * SECOND,
            rules: Rules::shipped(settings.mode()),
            ..EngineConfig::default()
        };
        if live && let Ok(all) = leakwatch::capture::interfaces::list() {
            config.local_nets = leakwatch::capture::interfaces::own_nets(&all, false);
        }
        let spec = Spec {
            config,
            attribute: live,
            ignores: Some(opts.config_dir.join(leakwatch::ignores::FILE_NAME)),
            // A replay names destinations from its first packet, as `leakwatch replay` does.
            asn: AsnSpec { load: opts.asn, before_start: !live, ..AsnSpec::default() },
            reverse_dns: live && opts.reverse_dns,
            legacy: None,
            record: RecordSpec { history: opts.history.clone(), history_required: false, forward: Vec::new() },
            live,
            locale: settings.locale(),
        };
        let mut notices = Vec::new();
        let system = match System::start(spec) {
            Ok(s) => s,
            Err(e) => {
                // Only forwarding and a required history fail a start; neither is asked here.
                notices.push(e.to_string());
                System::start(Spec {
                    config: EngineConfig::default(),
                    attribute: false,
                    ignores: None,
                    asn: AsnSpec::default(),
                    reverse_dns: false,
                    legacy: None,
                    record: RecordSpec::default(),
                    live: false,
                    locale: settings.locale(),
                })
                .expect("a system without history or forwarding starts")
            }
        };
        notices.extend(system.notices.iter().cloned());
        let tracing_state = live.then(|| system.tracing().clone());
        if let Some(Err(e)) = &tracing_state {
            tracing::warn!("connection tracing is off: {e}");
        }
        let handle = system.handle().clone();
        // Subscribed before any packet flows.
        let alerts = handle.subscribe_alerts(Delivery::Lossy);
        let stats = handle.subscribe_stats();
        let changes = handle.subscribe_changes();
        let history = Arc::new(crate::history::History::open(opts.history.clone()));
        let me = Arc::new(Embedded {
            handle: handle.clone(),
            system: Mutex::new(Some(system)),
            source: opts.source.clone(),
            feed: feed.clone(),
            legacy: Mutex::new(Legacy::default()),
            legacy_ports: opts.legacy_ports.clone(),
            counters: Mutex::new(None),
            replay_packets: Arc::new(AtomicU64::new(0)),
            stop: Arc::new(AtomicBool::new(false)),
            history,
            tracing: tracing_state,
        });
        spawn("leakwatch-pump", move || pump(alerts, stats, changes, feed));
        if settings.legacy_enabled {
            me.start_legacy(settings.locale());
        }
        match &opts.source {
            Source::Replay { path, speed } => me.start_replay(path.clone(), *speed),
            _ => me.start_live(settings.interfaces.clone()),
        }
        (me, notices)
    }

    /// The History tab's database.
    pub fn history(&self) -> Arc<crate::history::History> {
        self.history.clone()
    }

    fn start_live(&self, interfaces: Vec<String>) {
        let mut guard = lock(&self.system);
        let Some(system) = guard.as_mut() else { return };
        let live = system.start_live(LiveOptions { interfaces, include_loopback: false, follow_local_nets: true });
        let status = live.status();
        *lock(&self.counters) = Some(live.counters());
        let feed = self.feed.clone();
        spawn("leakwatch-live-status", move || {
            for s in status.iter() {
                if feed.send(Feed::Live(s)).is_err() {
                    break;
                }
            }
        });
    }

    fn start_replay(&self, path: PathBuf, speed: f64) {
        let handle = self.handle.clone();
        let packets = self.replay_packets.clone();
        let stop = self.stop.clone();
        let feed = self.feed.clone();
        spawn("leakwatch-replay", move || {
            let mut pacer = Pacer::new(speed);
            let mut pace = |ts: Ts| {
                packets.fetch_add(1, Ordering::Relaxed);
                if stop.load(Ordering::Relaxed) { Duration::ZERO } else { pacer.wait(ts) }
            };
            let result = leakwatch::capture::file::read_file_paced(&path, &handle, None, Some(&mut pace));
            let last = match result {
                Ok(stats) => stats.last,
                Err(e) => {
                    tracing::info!("{e}");
                    let _ = feed.send(Feed::Live(LiveStatus::Error {
                        iface: format!("replay:{}", path.display()),
                        message: e.to_string(),
                        permission: false,
                    }));
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

    /// Starts the legacy server (if none runs) and the thread that reports what local programs
    /// do over it. No free port is a status message, not a failure of the app.
    fn start_legacy(&self, locale: leakwatch::i18n::Locale) {
        let mut slot = lock(&self.legacy);
        if slot.server.is_some() {
            return;
        }
        let opts = LegacyOptions { ports: self.legacy_ports.clone(), locale, ..LegacyOptions::default() };
        match LegacyServer::start(self.handle.clone(), opts) {
            Ok(server) => {
                let events = server.events();
                slot.server = Some(server);
                slot.error = None;
                let feed = self.feed.clone();
                // Ends when the server stops (its sender is dropped).
                spawn("leakwatch-legacy-events", move || {
                    for e in events.iter() {
                        if feed.send(Feed::Legacy(e)).is_err() {
                            break;
                        }
                    }
                });
            }
            Err(e) => {
                tracing::warn!("{e}");
                slot.error = Some(e.to_string());
            }
        }
    }

    fn stop_legacy(&self) {
        let server = {
            let mut slot = lock(&self.legacy);
            slot.error = None;
            slot.server.take()
        };
        if let Some(s) = server {
            s.stop();
        }
    }
}

/// Turns the engine's alerts, statistics and changes into [`Feed`] items until the engine stops.
fn pump(
    alerts: crossbeam_channel::Receiver<leakwatch::alert::AlertEvent>,
    stats: crossbeam_channel::Receiver<leakwatch::detect::Stats>,
    changes: crossbeam_channel::Receiver<leakwatch::engine::Change>,
    feed: Sender<Feed>,
) {
    // The three channels close together, when the engine stops.
    loop {
        let sent = select! {
            recv(alerts) -> e => match e {
                Ok(e) => feed.send(Feed::Alert(super::AlertFeed {
                    id: e.alert.id,
                    phase: e.phase,
                    alert: Some(e.alert),
                    json: None,
                    ignored: None,
                    backlog: false,
                })),
                Err(_) => break,
            },
            recv(stats) -> s => match s {
                Ok(s) => feed.send(Feed::Stats(s)),
                Err(_) => break,
            },
            recv(changes) -> c => match c {
                Ok(c) => {
                    let mut sent = Ok(());
                    for f in change_feed(c.what) {
                        sent = feed.send(f);
                        if sent.is_err() {
                            break;
                        }
                    }
                    sent
                }
                Err(_) => break,
            },
        };
        if sent.is_err() {
            break;
        }
    }
}

/// What an engine change means for the app (mode and thresholds were set by the app itself).
fn change_feed(what: ChangeKind) -> Vec<Feed> {
    match what {
        ChangeKind::IgnoreAdded(i) => vec![Feed::IgnoreAdded { id: i.id, filter: i.filter }],
        ChangeKind::IgnoreRemoved { id, .. } => vec![Feed::IgnoreRemoved { id }],
        ChangeKind::IgnoresReloaded { added, removed, .. } => removed
            .into_iter()
            .map(|id| Feed::IgnoreRemoved { id })
            .chain(added.into_iter().map(|i| Feed::IgnoreAdded { id: i.id, filter: i.filter }))
            .collect(),
        ChangeKind::Paused => vec![Feed::Paused(true)],
        ChangeKind::Resumed => vec![Feed::Paused(false)],
        _ => Vec::new(),
    }
}

impl Backend for Embedded {
    fn ignore_alert(&self, _alert_id: u64, filter: &str, scope: &str) -> Result<u64, String> {
        let how = ignore_for(scope)?;
        self.handle.ignore(filter, how).map_err(|e| format!("id: {e}"))
    }

    fn remove_ignore(&self, id: u64) -> Result<bool, String> {
        self.handle.remove_ignore(id).map_err(|e| format!("id: {e}"))
    }

    fn ignore_filter(&self, filter: &str, scope: &str) -> Result<u64, String> {
        let how = ignore_for(scope)?;
        self.handle.ignore(filter, how).map_err(|e| format!("filter: {e}"))
    }

    fn flows_now(&self, limit: usize) -> Result<serde_json::Value, String> {
        Ok(self.handle.recent_flows(limit).to_json())
    }

    fn list_ignores(&self) -> Result<Vec<IgnoreView>, String> {
        Ok(self
            .handle
            .list_ignores()
            .into_iter()
            .map(|i| {
                let source = i.source.as_str().to_string();
                IgnoreView::new(i, Some(source))
            })
            .collect())
    }

    fn apply_settings(&self, old: &Settings, new: &Settings) -> Result<(), String> {
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
                self.start_legacy(new.locale());
            }
        }
        if new.interfaces != old.interfaces && self.source == Source::Live {
            // Starting anew replaces (and stops) the old capture.
            self.start_live(new.interfaces.clone());
        }
        Ok(())
    }

    fn pause(&self) -> Result<(), String> {
        self.handle.command(Command::Pause);
        Ok(())
    }

    fn resume(&self) -> Result<(), String> {
        self.handle.command(Command::Resume);
        Ok(())
    }

    fn figures(&self) -> Option<Figures> {
        let counters = lock(&self.counters).clone();
        let (interfaces, packets, kernel, foreign) = match (&counters, &self.source) {
            (_, Source::Replay { path, .. }) => {
                (vec![format!("replay:{}", path.display())], self.replay_packets.load(Ordering::Relaxed), 0, 0)
            }
            (Some(c), _) => (
                c.active_interfaces(),
                c.packets.load(Ordering::Relaxed),
                c.kernel_dropped.load(Ordering::Relaxed),
                c.foreign_frames.load(Ordering::Relaxed),
            ),
            (None, _) => (Vec::new(), 0, 0, 0),
        };
        let legacy = lock(&self.legacy);
        Some(Figures {
            interfaces,
            packets,
            dropped_packets: kernel,
            dropped_batches: self.handle.dropped_batches(),
            foreign_frames: foreign,
            legacy_port: legacy.server.as_ref().map(LegacyServer::port),
            legacy_error: legacy.error.clone(),
        })
    }

    fn tracing(&self) -> Option<Result<(), String>> {
        self.tracing.clone()
    }

    fn replay(&self) -> bool {
        matches!(self.source, Source::Replay { .. })
    }

    fn note(&self) -> Option<String> {
        (self.source == Source::Live).then(|| "app-embedded-blind".to_string())
    }

    fn shutdown(&self) {
        self.stop.store(true, Ordering::Relaxed);
        self.stop_legacy();
        if let Some(system) = lock(&self.system).take() {
            system.stop(true);
        }
    }
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) {
    if let Err(e) = std::thread::Builder::new().name(name.into()).spawn(f) {
        tracing::info!("cannot start thread {name}: {e}");
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

    #[test]
    fn scopes_map_and_refuse_garbage() {
        assert!(matches!(ignore_for("always"), Ok(IgnoreFor::Always)));
        assert!(ignore_for("forever").unwrap_err().starts_with("scope:"));
    }
}
