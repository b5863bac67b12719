//! The engine: one owner thread for all state, and [`EngineHandle`], the one seam every front
//! end (CLI, legacy TCP server, tray app) uses.
//!
//! Capture threads parse frames and send [`Batch`]es over a bounded channel; the engine
//! accounts flows, runs the detectors and publishes alert events, per-second statistics and
//! closed flows to subscribers. Messages are handled strictly in order, so a subscription made
//! before a batch is sent sees everything that batch causes.

use crate::alert::AlertEvent;
use crate::detect::{Counted, Detector, Stats};
use crate::direction::LocalNets;
pub use crate::flows::FlowsNow;
use crate::flows::{FlowRecord, FlowTable};
use crate::ignores::{IgnoreSource, IgnoreStore};
use crate::judge::{Mode, Rules};
use crate::naming::asn::AsnDb;
use crate::naming::table::NameTable;
use crate::naming::{NameFact, NameScope, NameSource, Naming, SYSTEM_RESOLVER_EXES, is_system_resolver};
use crate::packet::Packet;
use crate::process::{NoSocketTable, SocketTable};
use crate::settings::{EngineConfig, Thresholds};
use crate::time::{SECOND, Ts};
use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;

/// Packets parsed by a capture source, with what it could not turn into packets.
#[derive(Debug, Default)]
pub struct Batch {
    pub packets: Vec<Packet>,
    /// Well-formed frames that carry no IP packet (ARP, LLDP, …), and later IP fragments whose
    /// first fragment was not seen.
    pub other: u64,
    /// Frames that did not parse.
    pub malformed: u64,
    /// Host names learned from these packets (DNS answers, TLS SNI, HTTP Host), in order.
    pub names: Vec<NameFact>,
}

/// How a subscriber wants to be fed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// The engine waits for the subscriber (replay: nothing may be lost).
    Lossless,
    /// Events that do not fit in the subscriber's queue are dropped and counted (live UIs).
    Lossy,
}

/// How long an ignore lasts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IgnoreFor {
    /// Until the engine stops.
    Now,
    /// For this long (wall-clock time).
    Duration(std::time::Duration),
    /// For ever: written to `ignores.user.json`.
    Always,
}

/// An ignore as listed to front ends.
#[derive(Clone, Debug, PartialEq)]
pub struct IgnoreInfo {
    pub id: u64,
    pub name: Option<String>,
    /// The filter, as compact JSON text.
    pub filter: String,
    pub permanent: bool,
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    /// Who added it (the user, or a local program over the legacy socket).
    pub source: IgnoreSource,
    /// When it was added, if known (see [`crate::ignores::Ignore::added`]).
    pub added: Option<chrono::DateTime<chrono::Utc>>,
    /// The name of whoever added it, when known (see [`crate::ignores::Ignore::by`]).
    pub by: Option<String>,
}

impl IgnoreInfo {
    fn of(i: &crate::ignores::Ignore) -> IgnoreInfo {
        IgnoreInfo {
            id: i.id,
            name: i.name().map(str::to_string),
            filter: i.filter.to_string(),
            permanent: i.is_permanent(),
            until: i.until(),
            source: i.source,
            added: i.added,
            by: i.by.clone(),
        }
    }
}

/// An ignore added by a front end (or a local program), as published to
/// [`EngineHandle::subscribe_ignores`] subscribers (e.g. the history store records it).
#[derive(Clone, Debug, PartialEq)]
pub struct IgnoreEvent {
    pub id: u64,
    /// The filter, as compact JSON text (an alert's `callback_filter` when ignored from an alert).
    pub filter: String,
    pub how: IgnoreFor,
    pub source: IgnoreSource,
    /// Wall-clock time the ignore was added.
    pub at: chrono::DateTime<chrono::Utc>,
}

/// A change of the engine's state (ignores, mode, pause, thresholds, rules), published to
/// every [`EngineHandle::subscribe_changes`] subscriber with who made it, so every front end
/// shows the same state whoever changed it.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    /// Who made it: a user name (local API), `legacy-socket`, `ignores.user.json` (the file
    /// was edited), or `leakwatch` (this process's own front end).
    pub by: String,
    /// Wall-clock time of the change.
    pub at: chrono::DateTime<chrono::Utc>,
    pub what: ChangeKind,
}

/// What changed.
#[derive(Clone, Debug, PartialEq)]
pub enum ChangeKind {
    IgnoreAdded(IgnoreInfo),
    IgnoreRemoved {
        id: u64,
        name: Option<String>,
    },
    /// `ignores.user.json` was changed by someone else and taken as it is now (or could not be
    /// loaded: `problem`, and the ignores in force stay).
    IgnoresReloaded {
        added: Vec<IgnoreInfo>,
        removed: Vec<u64>,
        problem: Option<String>,
    },
    Mode(Mode),
    Paused,
    Resumed,
    Thresholds(Thresholds),
    /// The re-alert cool-down, in µs.
    RealertAfter(i64),
    /// Patterns and filters were replaced.
    Rules,
}

impl ChangeKind {
    /// Short machine name (`ignore_added`, `mode`, …), as the local API's events carry it.
    pub fn name(&self) -> &'static str {
        match self {
            ChangeKind::IgnoreAdded(_) => "ignore_added",
            ChangeKind::IgnoreRemoved { .. } => "ignore_removed",
            ChangeKind::IgnoresReloaded { .. } => "ignores_reloaded",
            ChangeKind::Mode(_) => "mode",
            ChangeKind::Paused => "paused",
            ChangeKind::Resumed => "resumed",
            ChangeKind::Thresholds(_) => "thresholds",
            ChangeKind::RealertAfter(_) => "realert_after",
            ChangeKind::Rules => "rules",
        }
    }
}

/// Who a change is recorded as when its sender gave no name.
pub const BY_LOCAL: &str = "leakwatch";

/// Commands from front ends.
#[derive(Debug)]
pub enum Command {
    SetThresholds(Thresholds),
    /// Changes the re-alert cool-down (µs of packet time) from now on.
    SetRealertAfter(i64),
    /// Switches paranoid / adequate / chill at once.
    SetMode(Mode),
    /// Supplies the organisation / ASN / country database once it has loaded (it loads in the
    /// background, so the engine starts at once). Alerts from then on carry the names.
    SetAsnDb(Arc<AsnDb>),
    /// Reverse DNS for destinations without a host name (live capture only).
    SetReverseDns(Box<crate::naming::reverse::ReverseDns>),
    /// Replaces the local networks (live capture: the interfaces' own addresses changed).
    /// Flows already seen keep their direction.
    SetLocalNets(LocalNets),
    /// Replaces patterns and filters (already loaded and checked: a file that fails to load
    /// never reaches the engine, which keeps its last good set). The user's ignores and the
    /// current mode carry over.
    SetRules(Box<Rules>),
    /// Stop counting packets (they are still accepted and dropped).
    Pause,
    Resume,
    /// Ignores what a filter (e.g. an alert's callback filter) matches; replies with its id.
    /// A filter from [`IgnoreSource::LegacySocket`] must also not be over-broad
    /// ([`Rules::check_not_over_broad`]).
    Ignore {
        filter: String,
        how: IgnoreFor,
        source: IgnoreSource,
        reply: Sender<Result<u64, String>>,
    },
    /// Removes an ignore by id; replies whether it existed.
    RemoveIgnore {
        id: u64,
        reply: Sender<Result<bool, String>>,
    },
    ListIgnores {
        reply: Sender<Vec<IgnoreInfo>>,
    },
    /// The most recently active open flows, named (see [`FlowsNow`]).
    RecentFlows {
        limit: usize,
        reply: Sender<FlowsNow>,
    },
}

/// Counters reported at the end of input (and on request).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub packets: u64,
    pub other: u64,
    pub malformed: u64,
    /// Batches a capture source could not hand over because the engine was behind.
    pub dropped_batches: u64,
    /// Events not delivered to lossy subscribers whose queues were full.
    pub dropped_events: u64,
    pub flows: u64,
    pub alerts: u64,
    /// How full the bounded tables got and what they evicted (see [`Tables`]).
    pub tables: Tables,
}

/// One bounded table's figures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TableUsage {
    /// Entries now.
    pub len: u64,
    /// Most entries ever held at once.
    pub peak: u64,
    /// Most entries it may hold.
    pub capacity: u64,
    /// Entries evicted to make room for new ones (the least recently active ones).
    pub evicted: u64,
}

/// The engine's bounded tables, fed by network input: a port scan or a flood of destinations
/// fills them, and then the least recently active entries are evicted (none that belongs to an
/// upload still going on). Updated once a second of packet time (and at the end), readable at
/// any time through [`EngineHandle::tables`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tables {
    /// 5-tuple flows (an evicted flow is closed and reported early).
    pub flows: TableUsage,
    /// Detection tracks (program × destination).
    pub tracks: TableUsage,
    /// Host names learned from DNS answers, TLS SNI and HTTP Host.
    pub names: TableUsage,
}

impl Tables {
    /// Whether any table evicted anything.
    pub fn evicted_any(&self) -> bool {
        self.flows.evicted + self.tracks.evicted + self.names.evicted > 0
    }
}

/// The engine's [`Tables`], shared lock-free with every handle (4 figures per table).
#[derive(Debug, Default)]
struct TableCounters([AtomicU64; 12]);

impl TableCounters {
    fn load(&self) -> Tables {
        let v: Vec<u64> = self.0.iter().map(|a| a.load(Ordering::Relaxed)).collect();
        let t = |i: usize| TableUsage { len: v[i], peak: v[i + 1], capacity: v[i + 2], evicted: v[i + 3] };
        Tables { flows: t(0), tracks: t(4), names: t(8) }
    }

    fn store(&self, t: &Tables) {
        let figures = [t.flows, t.tracks, t.names].into_iter().flat_map(|u| [u.len, u.peak, u.capacity, u.evicted]);
        for (a, v) in self.0.iter().zip(figures) {
            a.store(v, Ordering::Relaxed);
        }
    }
}

enum Msg {
    Batch(Batch),
    Tick(Ts),
    /// A command, and who sent it (`None`: this process's own front end).
    Command(Command, Option<String>),
    SubscribeChanges(Sender<Change>),
    SubscribeAlerts(Sender<AlertEvent>, Delivery),
    /// Ended flows: named (host name, organisation, country) or as they are (`false`).
    SubscribeFlows(Sender<FlowRecord>, Delivery, bool),
    SubscribeStatsWith(Sender<Stats>, Delivery),
    SubscribeIgnores(Sender<IgnoreEvent>),
    Finish(Sender<Summary>),
}

struct Sub<T> {
    tx: Sender<T>,
    delivery: Delivery,
}

/// Publishes to every live subscriber of one kind.
struct Subs<T>(Vec<Sub<T>>);

impl<T: Clone> Subs<T> {
    fn publish(&mut self, v: T, dropped: &mut u64) {
        self.0.retain(|s| match s.delivery {
            Delivery::Lossless => s.tx.send(v.clone()).is_ok(),
            Delivery::Lossy => match s.tx.try_send(v.clone()) {
                Ok(()) => true,
                Err(TrySendError::Full(_)) => {
                    *dropped += 1;
                    true
                }
                Err(TrySendError::Disconnected(_)) => false,
            },
        });
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Size of the input queue, in batches (the default of [`EngineConfig::input_queue`]). Live capture flushes small batches whenever the kernel
/// buffer is empty, so the queue must absorb bursts of many small batches (bounded: batch
/// vectors are recycled, at most this many are in flight).
pub const INPUT_QUEUE: usize = 512;
/// Most ignores in force that local programs may add over the legacy socket (each one costs
/// memory and matching time; a flood must not grow them without bound).
pub const MAX_SOCKET_IGNORES: usize = 500;
/// Longest filter text accepted from the legacy socket (callback filters are a few hundred
/// bytes).
pub const MAX_SOCKET_FILTER_BYTES: usize = 4096;

/// Size of a lossy subscriber's queue.
pub const SUBSCRIBER_QUEUE: usize = 1024;

/// The front ends' handle on a running engine. Cheap to clone.
#[derive(Clone)]
pub struct EngineHandle {
    tx: Sender<Msg>,
    recycle: Receiver<Vec<Packet>>,
    /// Batches refused by `try_send_batch`, shared by every clone (lock-free).
    dropped: Arc<AtomicU64>,
    /// How full the bounded tables are, updated by the engine once a second.
    tables: Arc<TableCounters>,
    /// Set when the engine thread has stopped: a reply awaited then never comes.
    stopped: Arc<AtomicBool>,
}

/// The running engine thread.
pub struct Engine {
    handle: EngineHandle,
    thread: Option<JoinHandle<()>>,
}

impl Engine {
    /// Starts an engine that knows no processes (replay).
    pub fn start(config: EngineConfig) -> Engine {
        Engine::start_with(config, Box::new(NoSocketTable))
    }

    /// Starts an engine with a socket table for process attribution.
    pub fn start_with(config: EngineConfig, sockets: Box<dyn SocketTable>) -> Engine {
        Engine::start_full(config, sockets, None)
    }

    /// Starts an engine with a socket table and the user's ignores (already opened, so the
    /// caller reports any load problem).
    pub fn start_full(config: EngineConfig, sockets: Box<dyn SocketTable>, ignores: Option<IgnoreStore>) -> Engine {
        let queue = config.input_queue.max(1);
        let (tx, rx) = bounded(queue);
        let (recycle_tx, recycle_rx) = bounded(queue + 8);
        let dropped = Arc::new(AtomicU64::new(0));
        let tables = Arc::new(TableCounters::default());
        let stopped = Arc::new(AtomicBool::new(false));
        let shared = Shared { dropped: dropped.clone(), tables: tables.clone(), stopped: stopped.clone() };
        let thread = std::thread::Builder::new()
            .name("leakwatch-engine".into())
            .spawn(move || {
                // Marks the engine stopped however the thread ends (even by a panic).
                let _stopped = StoppedOnDrop(shared.stopped.clone());
                State::new(config, sockets, ignores, recycle_tx, shared).run(rx)
            })
            .expect("spawning the engine thread");
        Engine { handle: EngineHandle { tx, recycle: recycle_rx, dropped, tables, stopped }, thread: Some(thread) }
    }

    pub fn handle(&self) -> EngineHandle {
        self.handle.clone()
    }

    /// Ends input, closes open alerts and flows, waits for the thread and returns the counters.
    pub fn finish(mut self) -> Summary {
        let summary = self.handle.finish();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        summary
    }
}

impl EngineHandle {
    /// Waits for the reply to a command. `None` when the engine stopped without replying: a
    /// command sent after it stopped stays in its queue, so waiting on the reply alone could
    /// last for ever.
    fn reply<T>(&self, rx: &Receiver<T>) -> Option<T> {
        loop {
            match rx.recv_timeout(std::time::Duration::from_millis(50)) {
                Ok(v) => return Some(v),
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => return None,
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                    if self.stopped.load(Ordering::SeqCst) {
                        return rx.try_recv().ok();
                    }
                }
            }
        }
    }

    /// Whether the engine thread has stopped (its input ended).
    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    /// Alert events from now on.
    pub fn subscribe_alerts(&self, delivery: Delivery) -> Receiver<AlertEvent> {
        let (tx, rx) =
            if delivery == Delivery::Lossless { crossbeam_channel::unbounded() } else { bounded(SUBSCRIBER_QUEUE) };
        let _ = self.tx.send(Msg::SubscribeAlerts(tx, delivery));
        rx
    }

    /// Per-second upload rates per program and destination (lossy).
    pub fn subscribe_stats(&self) -> Receiver<Stats> {
        self.subscribe_stats_with(Delivery::Lossy)
    }

    /// Per-second upload rates, lossless (replay into the history store) or lossy (live).
    pub fn subscribe_stats_with(&self, delivery: Delivery) -> Receiver<Stats> {
        let (tx, rx) =
            if delivery == Delivery::Lossless { crossbeam_channel::unbounded() } else { bounded(SUBSCRIBER_QUEUE) };
        let _ = self.tx.send(Msg::SubscribeStatsWith(tx, delivery));
        rx
    }

    /// Ignores as they are added (lossy; rare events).
    pub fn subscribe_ignores(&self) -> Receiver<IgnoreEvent> {
        let (tx, rx) = bounded(SUBSCRIBER_QUEUE);
        let _ = self.tx.send(Msg::SubscribeIgnores(tx));
        rx
    }

    /// Flows as they close (idle, evicted, or at the end of input), their destinations named.
    /// Lossless.
    pub fn subscribe_flows(&self) -> Receiver<FlowRecord> {
        let (tx, rx) = crossbeam_channel::unbounded();
        let _ = self.tx.send(Msg::SubscribeFlows(tx, Delivery::Lossless, true));
        rx
    }

    /// Flows as they close, as the table has them (no host name, organisation or country: the
    /// engine does not look them up for this subscriber). Lossy ones are bounded and what does
    /// not fit is counted in [`Summary::dropped_events`].
    pub fn subscribe_flow_ends(&self, delivery: Delivery) -> Receiver<FlowRecord> {
        let (tx, rx) =
            if delivery == Delivery::Lossless { crossbeam_channel::unbounded() } else { bounded(SUBSCRIBER_QUEUE) };
        let _ = self.tx.send(Msg::SubscribeFlows(tx, delivery, false));
        rx
    }

    /// An empty packet vector to fill, reused from earlier batches when possible.
    pub fn packet_buffer(&self) -> Vec<Packet> {
        self.recycle.try_recv().unwrap_or_else(|_| Vec::with_capacity(1024))
    }

    /// Sends a batch, waiting while the engine is behind (replay).
    pub fn send_batch(&self, batch: Batch) -> bool {
        self.tx.send(Msg::Batch(batch)).is_ok()
    }

    /// Sends a batch without waiting; returns false (and the caller counts a drop) if the
    /// engine's queue is full (live capture).
    pub fn try_send_batch(&self, batch: Batch) -> bool {
        let sent = self.tx.try_send(Msg::Batch(batch)).is_ok();
        if !sent {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        sent
    }

    /// Batches dropped so far because the engine was behind.
    pub fn dropped_batches(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// How full the bounded tables are and what they evicted (as of the last second of packet
    /// time).
    pub fn tables(&self) -> Tables {
        self.tables.load()
    }

    /// Advances packet time without packets (live mode's ticker).
    pub fn tick(&self, now: Ts) {
        let _ = self.tx.send(Msg::Tick(now));
    }

    pub fn command(&self, c: Command) {
        let _ = self.tx.send(Msg::Command(c, None));
    }

    /// [`EngineHandle::command`] on behalf of `by` (a user name), recorded in the change it makes.
    pub fn command_by(&self, c: Command, by: &str) {
        let _ = self.tx.send(Msg::Command(c, Some(by.to_string())));
    }

    /// Changes of state (ignores, mode, pause, thresholds, rules) from now on, with who made
    /// them (lossy; rare events).
    pub fn subscribe_changes(&self) -> Receiver<Change> {
        let (tx, rx) = bounded(SUBSCRIBER_QUEUE);
        let _ = self.tx.send(Msg::SubscribeChanges(tx));
        rx
    }

    /// [`EngineHandle::ignore_from`] on behalf of `by` (a user name).
    pub fn ignore_by(&self, filter: &str, how: IgnoreFor, by: &str) -> Result<u64, String> {
        let (reply, rx) = bounded(1);
        let c = Command::Ignore { filter: filter.to_string(), how, source: IgnoreSource::User, reply };
        self.command_by(c, by);
        self.reply(&rx).unwrap_or_else(|| Err("the engine has stopped".into()))
    }

    /// [`EngineHandle::remove_ignore`] on behalf of `by` (a user name).
    pub fn remove_ignore_by(&self, id: u64, by: &str) -> Result<bool, String> {
        let (reply, rx) = bounded(1);
        self.command_by(Command::RemoveIgnore { id, reply }, by);
        self.reply(&rx).unwrap_or_else(|| Err("the engine has stopped".into()))
    }

    /// Switches the mode; alerts already open are judged again.
    pub fn set_mode(&self, mode: Mode) {
        self.command(Command::SetMode(mode));
    }

    /// Replaces patterns and filters; the mode and the user's ignores carry over.
    pub fn set_rules(&self, rules: Rules) {
        self.command(Command::SetRules(Box::new(rules)));
    }

    /// Ignores what `filter` (e.g. an alert's `callback_filter`) matches, for now, for a
    /// while or for ever; open alerts it matches go silent. Returns the ignore's id.
    pub fn ignore(&self, filter: &str, how: IgnoreFor) -> Result<u64, String> {
        self.ignore_from(filter, how, IgnoreSource::User)
    }

    /// [`EngineHandle::ignore`], recording who asked. A filter from a local program
    /// ([`IgnoreSource::LegacySocket`]) is refused when it is over-broad.
    pub fn ignore_from(&self, filter: &str, how: IgnoreFor, source: IgnoreSource) -> Result<u64, String> {
        let (reply, rx) = bounded(1);
        self.command(Command::Ignore { filter: filter.to_string(), how, source, reply });
        self.reply(&rx).unwrap_or_else(|| Err("the engine has stopped".into()))
    }

    /// Removes an ignore by id; `Ok(false)` when there is none.
    pub fn remove_ignore(&self, id: u64) -> Result<bool, String> {
        let (reply, rx) = bounded(1);
        self.command(Command::RemoveIgnore { id, reply });
        self.reply(&rx).unwrap_or_else(|| Err("the engine has stopped".into()))
    }

    /// The `limit` most recently active open flows, named, and the engine's packet time: the
    /// live Connections view (asked about once a second). Empty once the engine stopped.
    pub fn recent_flows(&self, limit: usize) -> FlowsNow {
        let (reply, rx) = bounded(1);
        self.command(Command::RecentFlows { limit, reply });
        self.reply(&rx).unwrap_or_default()
    }

    /// Every ignore in force, temporary and permanent.
    pub fn list_ignores(&self) -> Vec<IgnoreInfo> {
        let (reply, rx) = bounded(1);
        self.command(Command::ListIgnores { reply });
        self.reply(&rx).unwrap_or_default()
    }

    /// Ends input: open alerts end, all flows close, subscribers are released.
    pub fn finish(&self) -> Summary {
        let (tx, rx) = bounded(1);
        if self.tx.send(Msg::Finish(tx)).is_err() {
            return Summary::default();
        }
        self.reply(&rx).unwrap_or_default()
    }
}

/// Sets the flag when dropped.
struct StoppedOnDrop(Arc<AtomicBool>);

impl Drop for StoppedOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Counters the engine thread shares with its handles.
struct Shared {
    dropped: Arc<AtomicU64>,
    tables: Arc<TableCounters>,
    stopped: Arc<AtomicBool>,
}

/// Everything the engine thread owns.
struct State {
    config: EngineConfig,
    sockets: Box<dyn SocketTable>,
    flows: FlowTable,
    detector: Detector,
    alerts: Subs<AlertEvent>,
    stats: Subs<Stats>,
    flow_subs: FlowSubs,
    ignore_subs: Subs<IgnoreEvent>,
    change_subs: Subs<Change>,
    recycle: Sender<Vec<Packet>>,
    summary: Summary,
    paused: bool,
    now: Ts,
    last_flow_sweep: Ts,
    shared: Shared,
    /// Which tables were reported full already (flows, tracks, names): said once each.
    said_full: [bool; 3],
    /// The user's ignores: permanent ones (in `ignores.user.json`) and temporary ones.
    ignores: IgnoreStore,
    /// The store generation the compiled user filters were built from.
    ignores_generation: u64,
    /// Host names learned on the wire, and the organisation / country database.
    names: Naming,
}

impl State {
    fn new(
        config: EngineConfig,
        sockets: Box<dyn SocketTable>,
        ignores: Option<IgnoreStore>,
        recycle: Sender<Vec<Packet>>,
        shared: Shared,
    ) -> State {
        let asn_db = config.asn.clone();
        let max_names = config.max_names;
        let mut state = State {
            flows: FlowTable::new(config.max_flows, config.flow_idle_timeout),
            detector: Detector::with_programs(
                config.thresholds,
                config.realert_after,
                config.max_tracks,
                config.max_programs,
            ),
            config,
            sockets,
            alerts: Subs(Vec::new()),
            stats: Subs(Vec::new()),
            flow_subs: FlowSubs { named: Subs(Vec::new()), raw: Subs(Vec::new()) },
            ignore_subs: Subs(Vec::new()),
            change_subs: Subs(Vec::new()),
            recycle,
            summary: Summary::default(),
            paused: false,
            now: Ts(i64::MIN),
            last_flow_sweep: Ts(i64::MIN),
            shared,
            said_full: [false; 3],
            ignores: ignores.unwrap_or_else(IgnoreStore::in_memory),
            ignores_generation: u64::MAX,
            names: Naming { asn: asn_db, names: NameTable::new(max_names), reverse: None },
        };
        state.refresh_user_ignores();
        state
    }

    /// Recompiles the user's ignores when they changed (or temporary ones expired).
    fn refresh_user_ignores(&mut self) {
        let now = chrono::Utc::now();
        self.ignores.purge_expired(now);
        if self.ignores.generation() == self.ignores_generation {
            return;
        }
        self.ignores_generation = self.ignores.generation();
        // A stored filter that no longer compiles (e.g. edited by hand) is skipped.
        let _ = self.config.rules.set_user_ignores(self.ignores.active_filters(now));
        self.detector.rejudge(&self.config.rules, &self.names);
    }

    /// Publishes a change made by `by` (none: this process's front end; a socket ignore: the
    /// legacy socket).
    fn changed(&mut self, by: Option<&str>, what: ChangeKind) {
        if self.change_subs.is_empty() {
            return;
        }
        let by = by.unwrap_or(BY_LOCAL).to_string();
        let change = Change { by, at: chrono::Utc::now(), what };
        self.change_subs.publish(change, &mut self.summary.dropped_events);
    }

    /// Takes edits made to `ignores.user.json` by others (when the store has a file), and says so.
    fn reload_ignores(&mut self) {
        let Some(reload) = self.ignores.reload_if_changed() else { return };
        if reload.added.is_empty() && reload.removed.is_empty() && reload.problem.is_none() {
            return;
        }
        if let Some(p) = &reload.problem {
            tracing::warn!("{p}");
        }
        let added: Vec<IgnoreInfo> =
            reload.added.iter().filter_map(|id| self.ignores.get(*id)).map(IgnoreInfo::of).collect();
        // Written into the file by hand or by another program: kept (the file is the user's),
        // but an ignore that singles nothing out is said out loud.
        for i in &added {
            if let Err(e) = self.config.rules.check_not_over_broad(&i.filter) {
                tracing::warn!(
                    "{}: ignore {} ({}): {e}",
                    crate::ignores::FILE_NAME,
                    i.id,
                    crate::text::safe(i.name.as_deref().unwrap_or("no name"))
                );
            }
        }
        self.refresh_user_ignores();
        let what = ChangeKind::IgnoresReloaded { added, removed: reload.removed, problem: reload.problem };
        self.changed(Some(crate::ignores::FILE_NAME), what);
    }

    fn ignore(&mut self, filter: &str, how: IgnoreFor, source: IgnoreSource, by: Option<&str>) -> Result<u64, String> {
        self.reload_ignores();
        if source == IgnoreSource::LegacySocket && filter.len() > MAX_SOCKET_FILTER_BYTES {
            return Err(format!(
                "the filter is {} bytes long, more than the {MAX_SOCKET_FILTER_BYTES} bytes accepted over the legacy socket",
                filter.len()
            ));
        }
        self.config.rules.check_filter(filter).map_err(|e| e.to_string())?;
        if source == IgnoreSource::LegacySocket {
            self.config.rules.check_not_over_broad(filter).map_err(|e| e.to_string())?;
            self.ignores.purge_expired(chrono::Utc::now());
            if self.ignores.count_from(source) >= MAX_SOCKET_IGNORES {
                return Err(format!(
                    "{MAX_SOCKET_IGNORES} ignores from the legacy socket are in force already; remove some first \
                     (delete_user_ignore, or leakwatch ignores remove)"
                ));
            }
        }
        let value: serde_json::Value = serde_json::from_str(filter).map_err(|e| e.to_string())?;
        let now = chrono::Utc::now();
        let who = by.map(str::to_string);
        let id = match how {
            IgnoreFor::Always => self.ignores.add_permanent_from(value, source, who),
            IgnoreFor::Now => self.ignores.add_temporary_from(value, None, now, source, who),
            IgnoreFor::Duration(d) => self.ignores.add_temporary_from(value, Some(d), now, source, who),
        }
        .map_err(|e| e.to_string())?;
        self.refresh_user_ignores();
        if let Some(info) = self.ignores.get(id).map(IgnoreInfo::of) {
            let by = if source == IgnoreSource::LegacySocket { Some(source.as_str()) } else { by };
            self.changed(by, ChangeKind::IgnoreAdded(info));
        }
        if !self.ignore_subs.is_empty() {
            let event = IgnoreEvent { id, filter: filter.to_string(), how, source, at: now };
            self.ignore_subs.publish(event, &mut self.summary.dropped_events);
        }
        Ok(id)
    }

    fn remove_ignore(&mut self, id: u64, by: Option<&str>) -> Result<bool, String> {
        self.reload_ignores();
        let name = self.ignores.get(id).and_then(|i| i.name().map(str::to_string));
        let removed = self.ignores.remove(id).map_err(|e| e.to_string())?;
        self.refresh_user_ignores();
        if removed {
            self.changed(by, ChangeKind::IgnoreRemoved { id, name });
        }
        Ok(removed)
    }

    fn list_ignores(&mut self) -> Vec<IgnoreInfo> {
        self.ignores.list(chrono::Utc::now()).into_iter().map(IgnoreInfo::of).collect()
    }

    fn command(&mut self, c: Command, by: Option<&str>) {
        match c {
            Command::SetThresholds(t) => {
                self.detector.set_thresholds(t);
                self.changed(by, ChangeKind::Thresholds(t));
            }
            Command::SetRealertAfter(us) => {
                self.detector.set_realert_after(us);
                self.changed(by, ChangeKind::RealertAfter(us));
            }
            Command::SetMode(m) => {
                self.config.rules.set_mode(m);
                self.detector.rejudge(&self.config.rules, &self.names);
                self.changed(by, ChangeKind::Mode(m));
            }
            Command::SetLocalNets(nets) => self.config.local_nets = nets,
            Command::SetAsnDb(db) => self.names.asn = Some(db),
            Command::SetReverseDns(r) => self.names.reverse = Some(*r),
            Command::SetRules(rules) => {
                let mode = self.config.rules.mode();
                self.config.rules = *rules;
                self.config.rules.set_mode(mode);
                self.ignores_generation = u64::MAX;
                self.refresh_user_ignores();
                self.changed(by, ChangeKind::Rules);
            }
            Command::Pause => {
                self.paused = true;
                self.changed(by, ChangeKind::Paused);
            }
            Command::Resume => {
                self.paused = false;
                self.changed(by, ChangeKind::Resumed);
            }
            Command::Ignore { filter, how, source, reply } => {
                let _ = reply.send(self.ignore(&filter, how, source, by));
            }
            Command::RemoveIgnore { id, reply } => {
                let _ = reply.send(self.remove_ignore(id, by));
            }
            Command::ListIgnores { reply } => {
                let _ = reply.send(self.list_ignores());
            }
            Command::RecentFlows { limit, reply } => {
                let names = &self.names;
                let flows = self.flows.recent(limit).into_iter().map(|r| named(names, r)).collect();
                let now = (self.now.0 != i64::MIN).then_some(self.now);
                let _ = reply.send(FlowsNow { now, flows, open: self.flows.len() as u64 });
            }
        }
    }

    fn run(mut self, rx: Receiver<Msg>) {
        while let Ok(msg) = rx.recv() {
            match msg {
                Msg::Batch(mut b) => {
                    self.summary.other += b.other;
                    self.summary.malformed += b.malformed;
                    // Names first, so the packets of this batch (and their alerts) see them.
                    let learned = b.packets.last().map_or(self.now, |p| p.ts);
                    for fact in b.names.drain(..) {
                        self.learn(fact, learned);
                    }
                    if !self.paused {
                        for p in &b.packets {
                            self.packet(p);
                        }
                    }
                    self.flows.forget_unclaimed_names();
                    b.packets.clear();
                    let _ = self.recycle.try_send(b.packets);
                }
                Msg::Tick(t) => self.advance(t),
                Msg::Command(c, by) => self.command(c, by.as_deref()),
                Msg::SubscribeChanges(tx) => self.change_subs.0.push(Sub { tx, delivery: Delivery::Lossy }),
                Msg::SubscribeAlerts(tx, delivery) => self.alerts.0.push(Sub { tx, delivery }),
                Msg::SubscribeStatsWith(tx, delivery) => self.stats.0.push(Sub { tx, delivery }),
                Msg::SubscribeIgnores(tx) => self.ignore_subs.0.push(Sub { tx, delivery: Delivery::Lossy }),
                Msg::SubscribeFlows(tx, delivery, named) => {
                    let subs = if named { &mut self.flow_subs.named } else { &mut self.flow_subs.raw };
                    subs.0.push(Sub { tx, delivery });
                }
                Msg::Finish(reply) => {
                    self.finish();
                    self.summary.dropped_batches = self.shared.dropped.load(Ordering::Relaxed);
                    self.shared.stopped.store(true, Ordering::SeqCst);
                    let _ = reply.send(self.summary.clone());
                    return;
                }
            }
        }
    }

    /// Files one name seen on the wire. A TLS SNI or HTTP Host names its own connection only
    /// (and so the threat of that connection's program to that address), never the address. A
    /// DNS answer names the address for everyone when the system's resolver asked or answered
    /// (`naming::is_system_resolver`, or the querying socket belongs to a system resolver
    /// executable), else for the program that asked only.
    fn learn(&mut self, fact: NameFact, learned: Ts) {
        match (fact.source, fact.conn) {
            (NameSource::Sni | NameSource::HttpHost, Some((client, server))) => {
                self.flows.name_flow(client, server, &fact.name);
            }
            (NameSource::Sni | NameSource::HttpHost, None) => {}
            (NameSource::Dns, Some((client, server))) => {
                let scope = if is_system_resolver(server, &self.config.system_resolvers) {
                    NameScope::Everyone
                } else {
                    match self.flows.process_of(client, server) {
                        Some(p) if p.exe.as_deref().is_some_and(|e| SYSTEM_RESOLVER_EXES.contains(&e)) => {
                            NameScope::Everyone
                        }
                        Some(p) => NameScope::Program(p.pid),
                        None => NameScope::Unattributed,
                    }
                };
                self.names.names.insert(fact, scope, learned);
            }
            (NameSource::Dns | NameSource::ReverseDns, _) => {
                self.names.names.insert(fact, NameScope::Everyone, learned)
            }
        }
    }

    fn advance(&mut self, t: Ts) {
        if t <= self.now {
            return;
        }
        if t.0.div_euclid(SECOND) != self.now.0.div_euclid(SECOND) {
            self.sockets.tick();
            self.names.absorb_reverse(t);
            self.retry_unattributed(t);
            self.publish_tables();
            if self.config.watch_ignores {
                self.reload_ignores();
            }
        }
        self.now = t;
        let (alerts, stats, summary, names) = (&mut self.alerts, &mut self.stats, &mut self.summary, &self.names);
        let mut n_alerts = 0;
        let mut dropped_alerts = 0;
        let mut publish = |e: AlertEvent| {
            n_alerts += u64::from(e.notify());
            alerts.publish(e, &mut dropped_alerts);
        };
        if stats.is_empty() {
            self.detector.advance(t, names, &mut publish, None);
        } else {
            let dropped = &mut summary.dropped_events;
            let mut on_stats = |s: Stats| stats.publish(s, dropped);
            self.detector.advance(t, names, &mut publish, Some(&mut on_stats));
        }
        summary.alerts += n_alerts;
        summary.dropped_events += dropped_alerts;
        if self.last_flow_sweep.0 == i64::MIN || t.micros_since(self.last_flow_sweep) >= 10 * SECOND {
            self.last_flow_sweep = t;
            self.refresh_user_ignores();
            let (subs, names, sum) = (&mut self.flow_subs, &self.names, &mut self.summary);
            self.flows.sweep(t, &mut |r| subs.report(names, sum, r));
        }
    }

    fn packet(&mut self, p: &Packet) {
        self.summary.packets += 1;
        self.advance(p.ts);
        let sockets = &mut self.sockets;
        let (subs, names, sum) = (&mut self.flow_subs, &self.names, &mut self.summary);
        let (mut acc, mut process, name) = self.flows.account(
            p,
            &self.config.local_nets,
            |proto, ip, port| sockets.lookup(proto, ip, port),
            &mut |r| subs.report(names, sum, r),
        );
        // Between the table's retries, what the kernel told since (a connection's owner arrives
        // a moment after its first packet): cheap, so asked for every packet still unattributed.
        if acc.counted && process.is_none() {
            let (ip, port) = if acc.outgoing { (p.src, p.sport) } else { (p.dst, p.dport) };
            if let Some(found) = self.sockets.quick_lookup(p.proto, ip, port)
                && self.flows.attribute(p, &found)
            {
                acc.attributed_now = true;
                process = Some(found);
            }
        }
        if acc.attributed_now
            && let Some(proc_) = &process
        {
            let (remote, local) =
                if acc.outgoing { (p.dst, (p.proto, p.src, p.sport)) } else { (p.src, (p.proto, p.dst, p.dport)) };
            self.detector.credit(remote, proc_);
            self.detector.credit_socket(local, proc_);
        }
        if !acc.counted || p.payload_len == 0 {
            return;
        }
        let (local, remote, dport, sport) =
            if acc.outgoing { (p.src, p.dst, p.dport, p.sport) } else { (p.dst, p.src, p.sport, p.dport) };
        let counted = Counted {
            ts: p.ts,
            proto: p.proto,
            local,
            remote,
            dport,
            sport,
            payload: p.payload_len,
            process: process.as_ref(),
            name: name.as_ref(),
        };
        let (alerts, summary) = (&mut self.alerts, &mut self.summary);
        self.detector.on_packet(counted, &self.config.rules, &self.names, &mut |e| {
            summary.alerts += u64::from(e.notify());
            alerts.publish(e, &mut summary.dropped_events)
        });
    }

    /// Publishes how full the tables are (once a second: never per packet), and says once per
    /// table, on stderr, when it first filled up.
    fn publish_tables(&mut self) {
        let names = &self.names.names;
        let usage = |len: usize, peak: usize, capacity: usize, evicted: u64| TableUsage {
            len: len as u64,
            peak: peak as u64,
            capacity: capacity as u64,
            evicted,
        };
        let d = &self.detector;
        let t = Tables {
            flows: usage(self.flows.len(), self.flows.peak(), self.flows.capacity(), self.flows.evicted()),
            tracks: usage(d.tracks(), d.tracks_peak(), d.track_capacity(), d.tracks_evicted()),
            names: usage(names.len(), names.peak(), names.capacity(), names.evicted()),
        };
        if t == self.summary.tables {
            return;
        }
        self.summary.tables = t;
        self.shared.tables.store(&t);
        let tables = [
            (t.flows, "flow table", "flows"),
            (t.tracks, "detection table", "program × destination tracks"),
            (t.names, "host name table", "names"),
        ];
        for ((u, table, what), said) in tables.into_iter().zip(&mut self.said_full) {
            if u.evicted > 0 && !*said {
                *said = true;
                tracing::info!(
                    "note: the {table} is full ({} {what}, packet time {}): the least recently \
                     active are evicted from now on (a port scan or a flood of destinations?)",
                    u.capacity,
                    self.now.rfc3339()
                );
            }
        }
    }

    /// Asks the socket table again for recent flows that still have no program, and credits what
    /// they sent to the program found.
    fn retry_unattributed(&mut self, now: Ts) {
        if !self.sockets.can_attribute() {
            return;
        }
        let (sockets, detector) = (&mut self.sockets, &mut self.detector);
        self.flows.retry_pending(
            now,
            |proto, ip, port| sockets.lookup(proto, ip, port),
            |remote, local, p| {
                detector.credit(remote, p);
                detector.credit_socket(local, p);
            },
        );
    }

    fn finish(&mut self) {
        self.names.absorb_reverse(self.now);
        // Flows still without a program get a last chance before they are reported.
        self.retry_unattributed(self.now);
        let (alerts, total) = (&mut self.alerts, &mut self.summary.alerts);
        self.detector.finish(&self.names, &mut |e| {
            *total += u64::from(e.notify());
            alerts.publish(e, &mut 0)
        });
        self.publish_tables();
        let (subs, names, sum) = (&mut self.flow_subs, &self.names, &mut self.summary);
        self.flows.drain(&mut |r| subs.report(names, sum, r));
        self.alerts.0.clear();
        self.stats.0.clear();
        self.flow_subs.named.0.clear();
        self.flow_subs.raw.0.clear();
        self.ignore_subs.0.clear();
        self.change_subs.0.clear();
    }
}

/// Counts a closed flow and, when someone subscribed to flows, hands it over with its destination
/// named (host name, organisation, country): nobody listening, no lookups.
/// Subscribers of ended flows: those that want destinations named, and those that do not (the
/// history's received totals), so naming is paid only when someone reads it.
struct FlowSubs {
    named: Subs<FlowRecord>,
    raw: Subs<FlowRecord>,
}

impl FlowSubs {
    /// Counts an ended flow and hands it to the subscribers.
    fn report(&mut self, names: &Naming, summary: &mut Summary, r: FlowRecord) {
        summary.flows += 1;
        match (self.raw.is_empty(), self.named.is_empty()) {
            (true, true) => {}
            (false, true) => self.raw.publish(r, &mut summary.dropped_events),
            (true, false) => self.named.publish(named(names, r), &mut 0),
            (false, false) => {
                self.raw.publish(r.clone(), &mut summary.dropped_events);
                self.named.publish(named(names, r), &mut 0);
            }
        }
    }
}

/// A flow with its destination named (host name, organisation, country) as its program may see it.
fn named(names: &Naming, mut r: FlowRecord) -> FlowRecord {
    let dest = names.describe_for(r.remote.ip(), NameScope::of(r.process.as_ref().map(|p| p.pid)));
    r.hostname = r.hostname.or(dest.hostname);
    r.orgname = r.orgname.or(dest.orgname);
    r.country = r.country.or(dest.country);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A command sent after the engine stopped stays in its queue (crossbeam keeps queued
    /// messages while any sender lives), so a reply must not be awaited for ever: replay's second
    /// finish hung this way now and then.
    #[test]
    fn commands_after_the_engine_stopped_return_at_once() {
        let engine = Engine::start(EngineConfig::default());
        let handle = engine.handle();
        let _ = handle.finish();
        let started = std::time::Instant::now();
        for _ in 0..20 {
            assert_eq!(handle.finish(), Summary::default());
            assert!(handle.ignore(r#"{"pattern":{"pid":"^1$"}}"#, IgnoreFor::Now).is_err());
            assert!(handle.list_ignores().is_empty());
        }
        let _ = engine.finish();
        assert!(handle.is_stopped());
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "took {:?}", started.elapsed());
    }

    /// The race itself, made certain: a reply sender that outlives the engine (as one queued in
    /// the engine's input does) must not keep a caller waiting.
    #[test]
    fn a_reply_that_never_comes_is_given_up_once_the_engine_stopped() {
        let engine = Engine::start(EngineConfig::default());
        let handle = engine.handle();
        let _ = engine.finish();
        let (queued_reply, rx) = bounded::<Summary>(1);
        let started = std::time::Instant::now();
        assert_eq!(handle.reply(&rx), None);
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "took {:?}", started.elapsed());
        drop(queued_reply);
    }
}
