//! The socket → program table's view of the system, the same on every OS: the [`SocketSource`]
//! trait (one implementation per system, [`super::Sockets`]), what one read of the system gives
//! ([`Snapshot`]), and the change feed through which a kernel tracer tells the owners of new
//! connections as they are opened ([`feed`], [`Traced`]): the Linux connect and route tracer and
//! the Windows ETW session feed the same one.
//!
//! The table itself ([`crate::process::SystemSocketTable`]) is written once on top of these: its
//! caches, wildcard fallbacks, miss probe budget and traced-answer lifetime are not per OS.

use super::SocketOwners;
use crate::packet::Proto;
use crate::process::ProcessInfo;
use ahash::AHashMap;
use crossbeam_channel::{Receiver, Sender, TrySendError};
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A table key: (protocol, local address, local port or ICMP identifier).
pub type Key = (Proto, IpAddr, u16);

/// What one full read of the system's sockets gives.
#[derive(Default, Debug)]
pub struct Snapshot {
    /// Every TCP, UDP (and on Linux ICMP) socket with the lowest pid holding it (`None`: no
    /// owner seen, e.g. the program just exited).
    pub sockets: SocketOwners,
    /// Raw sockets: (bound address, IP protocol number) and the pid holding it (Linux).
    pub raw: Vec<((IpAddr, u8), u32)>,
}

/// Where the socket → program table reads the system: one implementation per OS.
///
/// Only the table's rebuilds, misses and probes call the reading methods (at most every 50 ms,
/// within a time budget); per packet it only calls [`SocketSource::drain_traced`], which must not
/// block, lock or allocate.
pub trait SocketSource: Send + Sized {
    /// Whether [`SocketSource::new_socket_owners`] and [`SocketSource::sockets_of`] can find the
    /// sockets of programs started since the last snapshot (the table's cheap miss probe).
    const PROBES: bool;

    /// A source that has read nothing yet.
    fn new() -> Self;

    /// Every socket and its owner, read now.
    fn snapshot(&mut self) -> anyhow::Result<Snapshot>;

    /// Whether `pid` existed at the last snapshot: the table's process cache keeps only those.
    fn alive(&self, pid: u32) -> bool;

    /// When process `pid` started (any unit: only compared for equality, so that a reused pid
    /// is told from the process that had it before). `None` when it is gone.
    fn start_time(&mut self, pid: u32) -> Option<u64>;

    /// The program `pid` runs, with its start time; `None` when it is gone.
    fn read(&mut self, pid: u32) -> Option<(u64, ProcessInfo)>;

    /// For the miss probe: the sockets held by processes started since the last snapshot (the
    /// newest first, at most `max_pids` of them), as socket id → lowest pid holding it.
    fn new_socket_owners(&mut self, _max_pids: usize) -> AHashMap<u64, u32> {
        AHashMap::new()
    }

    /// For the miss probe: every socket of `proto` of one address family, with its socket id and
    /// without owners.
    fn sockets_of(&mut self, _proto: Proto, _ipv4: bool) -> anyhow::Result<Vec<(Key, u64)>> {
        Ok(Vec::new())
    }

    /// Starts the kernel tracer of new connections; the error says why it is unavailable and how
    /// to fix it (the table then works without it).
    fn start_tracer(&mut self) -> Result<(), String>;

    /// The running tracer's feed, if any.
    fn feed(&self) -> Option<&Feed>;
}

/// A local TCP endpoint and the program that opened it, or a local UDP endpoint and the program
/// that sent from it, told by a kernel tracer.
#[derive(Clone, Debug)]
pub struct Traced {
    pub proto: Proto,
    pub local: IpAddr,
    pub port: u16,
    pub owner: Arc<ProcessInfo>,
}

/// Counters of a tracer.
#[derive(Default, Debug)]
pub struct TraceStats {
    /// Endpoints attributed to a program.
    pub attributed: AtomicU64,
    /// Changes the kernel lost (buffers full) plus attributions the feed dropped.
    pub lost: AtomicU64,
}

/// Attributions waiting for the socket table; beyond this they are dropped (and counted).
const FEED_CAPACITY: usize = 65_536;

/// The receiving end of a tracer's attributions, read by the socket table.
pub struct Feed {
    rx: Receiver<Traced>,
    stats: Arc<TraceStats>,
}

/// The sending end, held by the tracer's thread.
#[derive(Clone)]
pub struct FeedTx {
    tx: Sender<Traced>,
    stats: Arc<TraceStats>,
}

/// A bounded feed: the tracer never waits for the table, and the table never waits for it.
pub fn feed() -> (FeedTx, Feed) {
    let (tx, rx) = crossbeam_channel::bounded(FEED_CAPACITY);
    let stats = Arc::new(TraceStats::default());
    (FeedTx { tx, stats: stats.clone() }, Feed { rx, stats })
}

impl FeedTx {
    /// Tells one attribution; counted as lost when the table is that far behind.
    pub fn send(&self, traced: Traced) {
        self.stats.attributed.fetch_add(1, Ordering::Relaxed);
        if let Err(TrySendError::Full(_)) = self.tx.try_send(traced) {
            self.stats.lost.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts changes the kernel lost.
    pub fn lost(&self, n: u64) {
        if n > 0 {
            self.stats.lost.fetch_add(n, Ordering::Relaxed);
        }
    }
}

impl Feed {
    /// Hands every attribution made since the last call to `f`. Never blocks.
    pub fn drain(&self, mut f: impl FnMut(Traced)) {
        for t in self.rx.try_iter() {
            f(t);
        }
    }

    /// (attributed, lost) so far.
    pub fn counts(&self) -> (u64, u64) {
        (self.stats.attributed.load(Ordering::Relaxed), self.stats.lost.load(Ordering::Relaxed))
    }
}

/// A tracer's cache of programs by pid, checked by start time so that a reused pid is read
/// again; bounded (cleared when full).
pub struct Programs<S> {
    src: S,
    cache: AHashMap<u32, (u64, Arc<ProcessInfo>)>,
    cap: usize,
}

impl<S: SocketSource> Programs<S> {
    pub fn new(src: S, cap: usize) -> Self {
        Programs { src, cache: AHashMap::new(), cap }
    }

    /// The program `pid` runs now; `None` when it is gone.
    pub fn get(&mut self, pid: u32) -> Option<Arc<ProcessInfo>> {
        let start = self.src.start_time(pid)?;
        if let Some((s, p)) = self.cache.get(&pid)
            && *s == start
        {
            return Some(p.clone());
        }
        let (start, info) = self.src.read(pid)?;
        let info = Arc::new(info);
        if self.cache.len() >= self.cap {
            self.cache.clear();
        }
        self.cache.insert(pid, (start, info.clone()));
        Some(info)
    }

    /// Forgets `pid` (it was given to a new program).
    pub fn forget(&mut self, pid: u32) {
        self.cache.remove(&pid);
    }
}

/// Endpoints told recently, so that a program sending many packets from one socket is told once
/// a second, not once a packet.
pub struct Recent {
    told: AHashMap<Key, (u32, Instant)>,
    cap: usize,
}

impl Recent {
    /// How long an endpoint told is not told again by the same process.
    pub const QUIET: Duration = Duration::from_secs(1);

    pub fn new(cap: usize) -> Self {
        Recent { told: AHashMap::new(), cap }
    }

    /// Whether `key` sent by `pid` is worth telling at `now` (then remembered).
    pub fn tell(&mut self, key: Key, pid: u32, now: Instant) -> bool {
        if let Some(&(p, at)) = self.told.get(&key)
            && p == pid
            && now.duration_since(at) < Self::QUIET
        {
            return false;
        }
        if self.told.len() >= self.cap {
            self.told.clear();
        }
        self.told.insert(key, (pid, now));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_feed_delivers_in_order_and_counts() {
        let (tx, rx) = feed();
        let owner = Arc::new(ProcessInfo { pid: 7, name: "curl".into(), exe: None, installed: false });
        for port in [1000, 1001] {
            tx.send(Traced { proto: Proto::Tcp, local: "10.200.0.1".parse().unwrap(), port, owner: owner.clone() });
        }
        tx.lost(3);
        let mut got = Vec::new();
        rx.drain(|t| got.push(t.port));
        assert_eq!(got, vec![1000, 1001]);
        assert_eq!(rx.counts(), (2, 3));
        rx.drain(|_| panic!("drained twice"));
    }

    #[test]
    fn an_endpoint_is_told_again_only_after_a_quiet_second_or_by_another_process() {
        let mut r = Recent::new(2);
        let key = (Proto::Udp, "10.200.0.1".parse().unwrap(), 5353);
        let t0 = Instant::now();
        assert!(r.tell(key, 1, t0));
        assert!(!r.tell(key, 1, t0 + Duration::from_millis(999)));
        assert!(r.tell(key, 2, t0 + Duration::from_millis(999)), "another process, told at once");
        assert!(r.tell(key, 2, t0 + Duration::from_millis(2000)));
        // Bounded: a third endpoint clears the table rather than grow it.
        let other = |port| (Proto::Tcp, "10.200.0.1".parse().unwrap(), port);
        assert!(r.tell(other(1), 1, t0) && r.tell(other(2), 1, t0));
        assert!(r.told.len() <= 2);
    }

    #[test]
    fn a_full_feed_counts_what_it_drops() {
        let (tx, rx) = feed();
        let owner = Arc::new(ProcessInfo { pid: 7, name: "flood".into(), exe: None, installed: false });
        let any: IpAddr = "0.0.0.0".parse().unwrap();
        for _ in 0..FEED_CAPACITY + 5 {
            tx.send(Traced { proto: Proto::Udp, local: any, port: 1, owner: owner.clone() });
        }
        assert_eq!(rx.counts(), (FEED_CAPACITY as u64 + 5, 5));
        let mut n = 0;
        rx.drain(|_| n += 1);
        assert_eq!(n, FEED_CAPACITY);
    }
}
