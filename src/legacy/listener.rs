//! Sockets of the legacy server: binding 127.0.0.1 and ::1 on the first free port of a range,
//! accepting with a connection limit (per peer address too) that evicts the longest-idle
//! connection rather than turn a fresh client away, and running one session per connection on
//! its own thread with `TCP_NODELAY`, an idle timeout, a deadline for unfinished lines and a
//! write timeout for clients that never read.

use super::codec::{Event, LineSplitter};
use super::rate::ChangeRate;
use super::session::{Backend, Session, Step};
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Limits of one server.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Connections served at once. When full, the connection idle longest (at least
    /// `evict_after` since its last line) is closed to make room; when none is, the new one
    /// gets the finish string and is closed.
    pub max_connections: usize,
    /// Connections from one peer address at once (the same rule applies among them).
    pub max_per_peer: usize,
    /// How long a connection must have been without a line before a new one may evict it.
    pub evict_after: Duration,
    /// A client that completes no line for this long is dropped.
    pub idle_timeout: Duration,
    /// A line must be complete this long after its first byte arrived (slow-drip input).
    pub line_timeout: Duration,
    /// A reply that cannot be written within this time (a client that never reads) closes the
    /// connection.
    pub write_timeout: Duration,
    /// Ignore changes (added or removed, by all clients together) allowed at once, then per
    /// second; more are refused with a protocol error saying when to try again.
    pub changes: ChangeRate,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 128,
            max_per_peer: 96,
            evict_after: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(10 * 60),
            line_timeout: Duration::from_secs(60),
            write_timeout: Duration::from_secs(10),
            changes: ChangeRate::default(),
        }
    }
}

/// How often a session wakes up without input to check its timeouts and the stop flag.
const POLL: Duration = Duration::from_millis(200);
/// Bytes read at once.
const READ_CHUNK: usize = 4096;
/// Stack of a session thread (sessions are shallow).
const SESSION_STACK: usize = 256 * 1024;

/// Listeners bound to one port on 127.0.0.1 and, when the host has IPv6, on ::1.
pub struct Bound {
    pub port: u16,
    pub listeners: Vec<TcpListener>,
}

/// Binds the first port of `ports` that is free on 127.0.0.1 (and on ::1, when IPv6 loopback
/// exists). Never binds any other address. `None` when no port of the range is free.
pub fn bind_loopback(ports: RangeInclusive<u16>) -> Option<Bound> {
    for port in ports {
        let Ok(v4) = TcpListener::bind((Ipv4Addr::LOCALHOST, port)) else { continue };
        match TcpListener::bind((Ipv6Addr::LOCALHOST, port)) {
            Ok(v6) => return Some(Bound { port, listeners: vec![v4, v6] }),
            // Port taken on ::1 only: try the next port, so both addresses share one.
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => continue,
            // No IPv6 loopback on this host: 127.0.0.1 alone.
            Err(_) => return Some(Bound { port, listeners: vec![v4] }),
        }
    }
    None
}

/// One connection's place: who, when it last sent a line, and whether it must make room.
struct Slot {
    peer: std::net::IpAddr,
    /// Milliseconds since the registry's start at the last complete line (or the connect).
    last_line_ms: Arc<AtomicU64>,
    evict: Arc<AtomicBool>,
}

/// The connections being served, for the limits and eviction.
pub struct Slots {
    start: Instant,
    slots: Mutex<Vec<(u64, Slot)>>,
    next: AtomicU64,
}

/// What a session holds of its slot.
pub struct SlotHandle {
    id: u64,
    slots: Arc<Slots>,
    last_line_ms: Arc<AtomicU64>,
    evict: Arc<AtomicBool>,
}

impl SlotHandle {
    fn touch(&self) {
        self.last_line_ms.store(self.slots.now_ms(), Ordering::Relaxed);
    }

    fn evicted(&self) -> bool {
        self.evict.load(Ordering::Relaxed)
    }
}

impl Drop for SlotHandle {
    fn drop(&mut self) {
        self.slots.slots.lock().unwrap_or_else(|p| p.into_inner()).retain(|(id, _)| *id != self.id);
    }
}

impl Default for Slots {
    fn default() -> Self {
        Slots { start: Instant::now(), slots: Mutex::new(Vec::new()), next: AtomicU64::new(0) }
    }
}

impl Slots {
    fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// A place for a connection from `peer`, evicting the longest-idle connection (of that peer
    /// when it is at its own limit) when full; `None` when every candidate is busy.
    pub fn admit(self: &Arc<Self>, peer: std::net::IpAddr, limits: &Limits) -> Option<SlotHandle> {
        let now = self.now_ms();
        let idle_enough = limits.evict_after.as_millis() as u64;
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        // Places being vacated (evicted, not yet gone) do not count.
        let live = |s: &Slot| !s.evict.load(Ordering::Relaxed);
        let total = slots.iter().filter(|(_, s)| live(s)).count();
        let of_peer = slots.iter().filter(|(_, s)| live(s) && s.peer == peer).count();
        let full_for_peer = of_peer >= limits.max_per_peer;
        if full_for_peer || total >= limits.max_connections {
            let victim = slots
                .iter()
                .filter(|(_, s)| live(s) && (!full_for_peer || s.peer == peer))
                .map(|(_, s)| s)
                .filter(|s| now.saturating_sub(s.last_line_ms.load(Ordering::Relaxed)) >= idle_enough)
                .min_by_key(|s| s.last_line_ms.load(Ordering::Relaxed))?;
            victim.evict.store(true, Ordering::Relaxed);
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let last_line_ms = Arc::new(AtomicU64::new(now));
        let evict = Arc::new(AtomicBool::new(false));
        slots.push((id, Slot { peer, last_line_ms: last_line_ms.clone(), evict: evict.clone() }));
        Some(SlotHandle { id, slots: self.clone(), last_line_ms, evict })
    }
}

/// Counters shared by the accept loops and sessions.
#[derive(Debug, Default)]
pub struct Counters {
    pub active: AtomicUsize,
    pub accepted: AtomicU64,
    /// Connections turned away because the limit was reached.
    pub refused: AtomicU64,
    /// Connections closed for a line over the limit.
    pub too_long: AtomicU64,
    /// Connections dropped for idleness, a slow line or a client that does not read.
    pub timed_out: AtomicU64,
    /// Idle connections closed to make room for a new one.
    pub evicted: AtomicU64,
}

/// What the accept loop needs to start sessions.
pub struct Acceptor {
    pub limits: Limits,
    pub counters: Arc<Counters>,
    pub slots: Arc<Slots>,
    pub stop: Arc<AtomicBool>,
    /// Makes the backend of a new session, given the peer address.
    pub backend: Arc<dyn Fn(SocketAddr) -> Box<dyn Backend + Send> + Send + Sync>,
    /// Called when a connection is turned away.
    pub on_refused: Arc<dyn Fn(SocketAddr) + Send + Sync>,
}

/// Decrements the active count when a session ends, however it ends.
struct ActiveGuard(Arc<Counters>);

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Accepts connections until `stop` is set (the caller then connects once to wake it).
pub fn accept_loop(listener: TcpListener, acceptor: Arc<Acceptor>) {
    for conn in listener.incoming() {
        if acceptor.stop.load(Ordering::SeqCst) {
            return;
        }
        let stream = match conn {
            Ok(s) => s,
            // Out of descriptors and the like: wait a little instead of spinning.
            Err(_) => {
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        let peer = stream.peer_addr().unwrap_or_else(|_| SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)));
        acceptor.counters.accepted.fetch_add(1, Ordering::Relaxed);
        let c = &acceptor.counters;
        let Some(slot) = acceptor.slots.admit(peer.ip(), &acceptor.limits) else {
            c.refused.fetch_add(1, Ordering::Relaxed);
            turn_away(stream);
            (acceptor.on_refused)(peer);
            continue;
        };
        c.active.fetch_add(1, Ordering::SeqCst);
        let guard = ActiveGuard(acceptor.counters.clone());
        let backend = (acceptor.backend)(peer);
        let a = acceptor.clone();
        let spawned = std::thread::Builder::new()
            .name("leakwatch-legacy-session".into())
            .stack_size(SESSION_STACK)
            .spawn(move || {
                let _guard = guard;
                serve(stream, backend, &a, &slot);
            });
        if spawned.is_err() {
            // The guard went with the closure and was dropped; the stream too (closed).
            acceptor.counters.refused.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Makes a blocked `accept` on `listener` (or a clone of it) return, where the OS allows it.
pub fn wake(listener: &TcpListener) {
    crate::os::wake_listener(listener);
}

/// The finish string, then close, without waiting for the client.
fn turn_away(stream: TcpStream) {
    let _ = stream.set_nonblocking(true);
    let _ = (&stream).write(&super::codec::frame(super::codec::FINISH));
    let _ = stream.shutdown(Shutdown::Both);
}

/// Why a session loop ended.
enum End {
    /// Say goodbye (the finish string has been or is to be sent).
    Finish,
    /// The connection is gone or misbehaving: just close.
    Drop,
}

/// Runs one session to its end.
fn serve(stream: TcpStream, mut backend: Box<dyn Backend + Send>, acceptor: &Acceptor, slot: &SlotHandle) {
    let limits = &acceptor.limits;
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(POLL));
    let _ = stream.set_write_timeout(Some(limits.write_timeout));
    let mut stream = stream;
    if send(&mut stream, &Session::greeting()).is_err() {
        return;
    }
    let mut session = Session::new();
    let mut splitter = LineSplitter::new();
    let mut buf = [0u8; READ_CHUNK];
    let mut last_line = Instant::now();
    let mut partial_since: Option<Instant> = None;
    let end = loop {
        if acceptor.stop.load(Ordering::Relaxed) {
            break End::Finish;
        }
        if slot.evicted() {
            acceptor.counters.evicted.fetch_add(1, Ordering::Relaxed);
            break End::Finish;
        }
        // Checked on every wake-up, input or not: a slow drip never lets the read time out.
        let now = Instant::now();
        let idle = now.duration_since(last_line) >= limits.idle_timeout;
        let slow = partial_since.is_some_and(|t| now.duration_since(t) >= limits.line_timeout);
        if idle || slow {
            acceptor.counters.timed_out.fetch_add(1, Ordering::Relaxed);
            break End::Finish;
        }
        let n = match stream.read(&mut buf) {
            Ok(0) => break End::Finish,
            Ok(n) => n,
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => continue,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break End::Drop,
        };
        splitter.push(&buf[..n]);
        let mut outcome = None;
        while let Some(event) = splitter.next_event() {
            let step: Step = match event {
                Event::Line(line) => {
                    last_line = Instant::now();
                    slot.touch();
                    session.on_line(line, backend.as_mut())
                }
                Event::TooLong => {
                    acceptor.counters.too_long.fetch_add(1, Ordering::Relaxed);
                    session.on_too_long()
                }
            };
            if let Some(reply) = &step.reply
                && send(&mut stream, reply).is_err()
            {
                acceptor.counters.timed_out.fetch_add(1, Ordering::Relaxed);
                outcome = Some(End::Drop);
                break;
            }
            if step.close {
                outcome = Some(End::Drop);
                break;
            }
        }
        if let Some(end) = outcome {
            break end;
        }
        partial_since = if splitter.has_partial() { partial_since.or(Some(Instant::now())) } else { None };
    };
    if let End::Finish = end
        && let Some(reply) = session.on_eof().reply
    {
        let _ = send(&mut stream, &reply);
    }
    let _ = stream.shutdown(Shutdown::Both);
}

/// One reply in one write (`write_all` on a blocking socket is a single `send` unless the
/// kernel buffer is full, when the write timeout ends the session).
fn send(stream: &mut TcpStream, bytes: &[u8]) -> io::Result<()> {
    stream.write_all(bytes)
}
