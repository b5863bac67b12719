//! The legacy TCP protocol server for old and third-party GUIs (the C# Windows GUI of the
//! legacy daemon): byte-compatible replies, hardened. See `docs/protocol.md`.
//!
//! [`LegacyServer::start`] binds 127.0.0.1 and ::1 on the first free port of 5000..=5010,
//! feeds a shared bounded alert queue from one lossless engine subscription and serves many
//! clients at once. Ignores added over the socket are recorded with the source
//! [`IgnoreSource::LegacySocket`] and announced through [`LegacyServer::events`], because any
//! local program can connect.
//!
//! * `codec.rs`: lines, commands, reply strings and framing (pure);
//! * `session.rs`: one client's state machine over a [`Backend`];
//! * `queue.rs`: the shared alert FIFO;
//! * `listener.rs`: sockets, limits and timeouts;
//! * `rate.rs`: how fast ignores may be changed over the socket;
//! * `gui.rs`: the `--gui PATH` launcher.

pub mod codec;
pub mod gui;
pub mod listener;
pub mod queue;
pub mod rate;
pub mod session;

pub use gui::{GuiLauncher, Launch};
pub use listener::Limits;
pub use queue::AlertQueue;
pub use rate::{ChangeLimiter, ChangeRate};
pub use session::{Backend, Session};

use crate::engine::{Delivery, EngineHandle, IgnoreFor, IgnoreInfo};
use crate::i18n::{Locale, Messages};
use crate::ignores::IgnoreSource;
use crossbeam_channel::{Receiver, Sender, bounded};
use listener::{Acceptor, Counters};
use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The legacy port range.
pub const DEFAULT_PORTS: RangeInclusive<u16> = 5000..=5010;
/// Events kept for a front end that does not read them (older ones are dropped).
const EVENT_QUEUE: usize = 256;
/// Longest filter text quoted in an event.
const QUOTE_MAX: usize = 300;

/// How to run the server.
#[derive(Clone, Debug)]
pub struct LegacyOptions {
    /// Ports tried in order; the first free one is used.
    pub ports: RangeInclusive<u16>,
    pub limits: Limits,
    /// Alerts held for `get_alert`.
    pub queue_capacity: usize,
    /// Language of the alert texts.
    pub locale: Locale,
}

impl Default for LegacyOptions {
    fn default() -> Self {
        LegacyOptions {
            ports: DEFAULT_PORTS,
            limits: Limits::default(),
            queue_capacity: queue::QUEUE_CAPACITY,
            locale: Locale::En,
        }
    }
}

/// Why the server did not start.
#[derive(Debug, thiserror::Error)]
pub enum LegacyError {
    #[error(
        "no free port for the legacy protocol in {first}-{last} on 127.0.0.1: another program uses them all; \
         choose others with --legacy-ports (or turn it off with --no-legacy)"
    )]
    NoFreePort { first: u16, last: u16 },
    #[error("cannot start the legacy protocol server: {0}")]
    Thread(#[from] std::io::Error),
}

/// What happened on the socket that the user should know about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LegacyEvent {
    /// A local program added an ignore.
    IgnoreAdded { id: u64, name: Option<String>, filter: String, permanent: bool, peer: SocketAddr },
    /// A local program sent a filter that was refused (invalid or over-broad).
    IgnoreRefused { filter: String, reason: String, peer: SocketAddr },
    /// A local program removed an ignore.
    IgnoreRemoved { id: u64, name: Option<String>, peer: SocketAddr },
    /// The connection limit was reached and a connection was turned away (reported at most
    /// once a minute).
    ConnectionRefused { peer: SocketAddr },
}

impl std::fmt::Display for LegacyEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Filters, reasons and names come from a local client: escaped (crate::text).
        use crate::text::safe;
        match self {
            LegacyEvent::IgnoreAdded { filter, permanent: true, peer, .. } => write!(
                f,
                "a local program ({peer}) added a permanent ignore over the legacy socket: {} \
                 (if you did not ask for it: `leakwatch ignores list`, then `leakwatch ignores remove ID`)",
                safe(filter)
            ),
            LegacyEvent::IgnoreAdded { id, filter, permanent: false, peer, .. } => write!(
                f,
                "a local program ({peer}) added ignore {id} over the legacy socket, until leakwatch stops: {}",
                safe(filter)
            ),
            LegacyEvent::IgnoreRefused { filter, reason, peer } => {
                write!(
                    f,
                    "refused an ignore from a local program ({peer}) over the legacy socket: {}: {}",
                    safe(reason),
                    safe(filter)
                )
            }
            LegacyEvent::IgnoreRemoved { id, name, peer } => write!(
                f,
                "a local program ({peer}) removed ignore {id} ({}) over the legacy socket",
                safe(name.as_deref().unwrap_or("no name"))
            ),
            LegacyEvent::ConnectionRefused { peer } => {
                write!(f, "legacy socket: too many connections, turned {peer} away")
            }
        }
    }
}

/// Figures for status lines and the About page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LegacyStatus {
    pub port: u16,
    pub addrs: Vec<SocketAddr>,
    pub connections: usize,
    pub accepted: u64,
    pub refused: u64,
    pub queued_now: usize,
    pub alerts_queued: u64,
    pub alerts_dropped: u64,
}

/// A running legacy server.
pub struct LegacyServer {
    port: u16,
    addrs: Vec<SocketAddr>,
    stop: Arc<AtomicBool>,
    counters: Arc<Counters>,
    queue: Arc<AlertQueue>,
    events: Receiver<LegacyEvent>,
    threads: Vec<JoinHandle<()>>,
    /// Handles on the listening sockets, to wake the accept loops on stop.
    listeners: Vec<std::net::TcpListener>,
}

impl LegacyServer {
    /// Binds, subscribes to the engine's alerts and starts serving.
    pub fn start(handle: EngineHandle, opts: LegacyOptions) -> Result<LegacyServer, LegacyError> {
        let (first, last) = (*opts.ports.start(), *opts.ports.end());
        let bound = listener::bind_loopback(opts.ports.clone()).ok_or(LegacyError::NoFreePort { first, last })?;
        let addrs: Vec<SocketAddr> = bound.listeners.iter().filter_map(|l| l.local_addr().ok()).collect();
        let stop = Arc::new(AtomicBool::new(false));
        let queue = Arc::new(AlertQueue::new(opts.queue_capacity));
        let counters = Arc::new(Counters::default());
        let (events_tx, events) = bounded(EVENT_QUEUE);
        let mut threads = Vec::new();

        let alerts = handle.subscribe_alerts(Delivery::Lossless);
        let changes = handle.subscribe_changes();
        let (q, s, locale) = (queue.clone(), stop.clone(), opts.locale);
        threads.push(
            std::thread::Builder::new()
                .name("leakwatch-legacy-queue".into())
                .spawn(move || queue::feed(alerts, changes, q, Messages::new(locale), s))?,
        );

        let refused_tx = events_tx.clone();
        let last_refused = std::sync::Mutex::new(None);
        let (q, h) = (queue.clone(), handle);
        let limiter = Arc::new(ChangeLimiter::new(opts.limits.changes));
        let acceptor = Arc::new(Acceptor {
            limits: opts.limits.clone(),
            counters: counters.clone(),
            slots: Arc::new(listener::Slots::default()),
            stop: stop.clone(),
            backend: Arc::new(move |peer| {
                Box::new(EngineBackend {
                    handle: h.clone(),
                    queue: q.clone(),
                    events: events_tx.clone(),
                    limiter: limiter.clone(),
                    peer,
                })
            }),
            on_refused: Arc::new(move |peer| {
                // At most one report a minute: a flood must not flood the log too.
                let mut last = last_refused.lock().unwrap_or_else(|p| p.into_inner());
                if last.is_none_or(|t: Instant| t.elapsed() >= Duration::from_secs(60)) {
                    *last = Some(Instant::now());
                    emit(&refused_tx, LegacyEvent::ConnectionRefused { peer });
                }
            }),
        });
        let listeners: Vec<std::net::TcpListener> = bound.listeners.iter().filter_map(|l| l.try_clone().ok()).collect();
        for l in bound.listeners {
            let a = acceptor.clone();
            let spawned = std::thread::Builder::new()
                .name("leakwatch-legacy-accept".into())
                .spawn(move || listener::accept_loop(l, a));
            match spawned {
                Ok(t) => threads.push(t),
                Err(e) => {
                    let partial =
                        LegacyServer { port: bound.port, addrs, stop, counters, queue, events, threads, listeners };
                    partial.stop();
                    return Err(e.into());
                }
            }
        }
        Ok(LegacyServer { port: bound.port, addrs, stop, counters, queue, events, threads, listeners })
    }

    /// The port in use.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The addresses listened on (127.0.0.1 and, with IPv6, ::1).
    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// Ignores added or refused, removals, refused connections: for a CLI line or a desktop
    /// notification.
    pub fn events(&self) -> Receiver<LegacyEvent> {
        self.events.clone()
    }

    pub fn status(&self) -> LegacyStatus {
        LegacyStatus {
            port: self.port,
            addrs: self.addrs.clone(),
            connections: self.counters.active.load(Ordering::SeqCst),
            accepted: self.counters.accepted.load(Ordering::Relaxed),
            refused: self.counters.refused.load(Ordering::Relaxed),
            queued_now: self.queue.len(),
            alerts_queued: self.queue.queued(),
            alerts_dropped: self.queue.dropped(),
        }
    }

    /// Stops accepting, ends every session (with the finish string) and waits for the threads
    /// (sessions: at most about a second).
    pub fn stop(self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loops, which then see the flag: shutting a listening socket down
        // makes a blocked accept return on Linux; elsewhere (or if that fails) a connection does.
        for l in &self.listeners {
            listener::wake(l);
        }
        for a in &self.addrs {
            let _ = std::net::TcpStream::connect_timeout(a, Duration::from_millis(200));
        }
        for t in self.threads {
            let _ = t.join();
        }
        let deadline = Instant::now() + Duration::from_secs(2);
        while self.counters.active.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn emit(tx: &Sender<LegacyEvent>, e: LegacyEvent) {
    let _ = tx.try_send(e);
}

/// Shortens a client-supplied text for a log line.
fn quote(s: &str) -> String {
    crate::text::clip(s, QUOTE_MAX)
}

/// The `get_info` reply.
pub fn info_reply() -> String {
    format!("Version={}; Release=Leakwatch", env!("CARGO_PKG_VERSION"))
}

/// The `grab_all_user_ignores` reply: `{"filters":[…]}`, each filter object with `id`,
/// `permanent` and `source` added, compact and ASCII.
pub fn ignores_reply(list: &[IgnoreInfo]) -> String {
    let filters: Vec<serde_json::Value> = list
        .iter()
        .map(|i| {
            let mut v = serde_json::from_str::<serde_json::Value>(&i.filter).unwrap_or(serde_json::Value::Null);
            if let Some(o) = v.as_object_mut() {
                o.insert("id".into(), i.id.into());
                o.insert("permanent".into(), i.permanent.into());
                o.insert("source".into(), i.source.as_str().into());
            }
            v
        })
        .collect();
    queue::ascii_escape(&serde_json::json!({ "filters": filters }).to_string())
}

/// Which ignore `key` (an id: ASCII digits only, so `+1` or ` 1` is a name; else a name)
/// designates.
pub fn find_ignore<'a>(list: &'a [IgnoreInfo], key: &str) -> Result<&'a IgnoreInfo, String> {
    if !key.is_empty()
        && key.bytes().all(|b| b.is_ascii_digit())
        && let Ok(id) = key.parse::<u64>()
        && let Some(i) = list.iter().find(|i| i.id == id)
    {
        return Ok(i);
    }
    let named: Vec<&IgnoreInfo> = list.iter().filter(|i| i.name.as_deref() == Some(key)).collect();
    match named.as_slice() {
        [one] => Ok(one),
        [] => Err(format!("there is no ignore with the id or name {}", quote(key))),
        many => {
            Err(format!("{} ignores are named {}: give the id (see grab_all_user_ignores)", many.len(), quote(key)))
        }
    }
}

/// The engine behind one session.
struct EngineBackend {
    handle: EngineHandle,
    queue: Arc<AlertQueue>,
    events: Sender<LegacyEvent>,
    limiter: Arc<ChangeLimiter>,
    peer: SocketAddr,
}

impl EngineBackend {
    /// Takes one change from the shared rate, or refuses it (announced as the refusal of
    /// `filter`, or of the removal of `key`, with this client's address: at most one line a
    /// second, counting the refusals it stands for).
    fn allow_change(&self, what: &str) -> Result<(), String> {
        let now = Instant::now();
        let Err(wait) = self.limiter.take(now) else { return Ok(()) };
        let rate = self.limiter.rate();
        let reason = format!(
            "too many ignore changes over the legacy socket (at most {} at once, then {} a second): try again in {} ms",
            rate.burst,
            rate.per_second,
            wait.as_millis().max(1)
        );
        if let Some(n) = self.limiter.announce_refusal(now) {
            let reason =
                if n > 1 { format!("{reason} ({n} changes refused in the last second)") } else { reason.clone() };
            emit(&self.events, LegacyEvent::IgnoreRefused { filter: quote(what), reason, peer: self.peer });
        }
        Err(reason)
    }
}

impl Backend for EngineBackend {
    fn next_alert(&mut self) -> Option<String> {
        self.queue.pop()
    }

    fn info(&self) -> String {
        info_reply()
    }

    fn ignore(&mut self, filter: &str, permanent: bool) -> Result<u64, String> {
        self.allow_change(filter)?;
        let how = if permanent { IgnoreFor::Always } else { IgnoreFor::Now };
        let result = self.handle.ignore_from(filter, how, IgnoreSource::LegacySocket);
        let event = match &result {
            Ok(id) => {
                let name = serde_json::from_str::<serde_json::Value>(filter)
                    .ok()
                    .and_then(|v| v.get("name").and_then(|n| n.as_str()).map(str::to_string));
                LegacyEvent::IgnoreAdded { id: *id, name, filter: quote(filter), permanent, peer: self.peer }
            }
            Err(reason) => {
                LegacyEvent::IgnoreRefused { filter: quote(filter), reason: reason.clone(), peer: self.peer }
            }
        };
        emit(&self.events, event);
        result
    }

    fn list_ignores(&mut self) -> String {
        ignores_reply(&self.handle.list_ignores())
    }

    fn delete_ignore(&mut self, key: &str) -> Result<(), String> {
        let list = self.handle.list_ignores();
        let found = find_ignore(&list, key)?;
        self.allow_change(&format!("delete_user_ignore {key}"))?;
        let (id, name) = (found.id, found.name.clone());
        match self.handle.remove_ignore_by(id, IgnoreSource::LegacySocket.as_str())? {
            true => {
                emit(&self.events, LegacyEvent::IgnoreRemoved { id, name, peer: self.peer });
                Ok(())
            }
            false => Err(format!("ignore {id} is already gone")),
        }
    }
}
