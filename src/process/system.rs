//! [`SystemSocketTable`]: the live socket → program table.
//!
//! # How it answers
//! A lookup is a hash-map read in a cached table keyed by (protocol, local address, local port),
//! with fallbacks to wildcard listeners (`0.0.0.0`, `::`, IPv4-mapped IPv6) and, for UDP, to the
//! port alone. The table is rebuilt from the OS through its [`SocketSource`] (`crate::os::Sockets`:
//! netlink and `/proc/<pid>/fd` on Linux, `netstat2` and `sysinfo` on Windows and macOS):
//! * on a **miss**, at most every [`MISS_REFRESH_INTERVAL`] (50 ms): a miss within 50 ms of the
//!   last rebuild does not rebuild;
//! * from a background ticker, with [`SystemSocketTable::refresh_if_older`] (e.g. every second).
//!
//! # Short-lived programs
//! A program that connects, sends and exits within a few tens of ms can be gone by the next
//! rebuild, and a socket whose program has exited has no pid any more. So where the source can
//! ([`SocketSource::PROBES`]: Linux) a miss inside
//! the 50 ms window does a cheap **probe** instead: one netlink dump of the sockets of that
//! protocol, and a scan of the fd tables of only the processes started since the last full
//! rebuild (a new socket nobody knows is almost always a new process's). One probe attributes
//! every new socket of every new process at once, so a burst of misses is served by few probes.
//! Probes are limited by a time budget (at most ~10 % of one core over time, bursts of 50 ms).
//!
//! Callers should still **look up unattributed flows again** (the flow table does, on later packets
//! at most every 50 ms and once a second without packets): an old program that opens a new socket
//! is only seen by the next full rebuild.
//!
//! # ICMP and raw sockets (Linux)
//! Every rebuild also reads `/proc/net/{icmp,icmp6,raw,raw6}` (`netstat2` reads only TCP and
//! UDP): an ICMP socket (unprivileged `ping`) is listed with its echo identifier as its port, so
//! an echo flow is found by (protocol, address, identifier) like a UDP one; a raw socket is listed
//! with its IP protocol number, so a packet of any protocol without a socket of its own is given
//! to the raw socket of that protocol (or of `IPPROTO_RAW`, 255) bound to its address or to any.
//! Other systems have no such table here: those packets stay unattributed.
//!
//! # Connections traced by the kernel (Linux, Windows)
//! With [`SystemSocketTable::start_connect_tracer`], every outgoing TCP connection (and UDP
//! sender) is attributed by the kernel as it happens (Linux: the connect and route tracepoints,
//! `crate::os::connect_trace`; Windows: the ETW kernel network provider): exact even for a
//! program that exits a millisecond later. Those answers come first; they are kept for [`TRACED_TTL`] after the
//! connection was opened (packets of a flow can reach the engine well after the program is gone).
//!
//! # Processes
//! Name, executable and start time are read once per process and cached by pid, and re-validated
//! by start time at each rebuild so a reused pid is never given the old program's name. Pids are
//! `u32` (no 5-digit limit, legacy B12). Entries for sockets that still exist but lost their owner
//! (the program just exited) keep their last known owner until the socket disappears.

use super::ProcessInfo;
use super::SocketTable;
use crate::os::attrib::{Key, SocketSource};
use crate::packet::Proto;
use ahash::AHashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A miss rebuilds the table at most this often.
pub const MISS_REFRESH_INTERVAL: Duration = Duration::from_millis(50);

/// How long a traced connection's owner is kept.
pub const TRACED_TTL: Duration = Duration::from_secs(120);

/// Most sockets kept in the table.
const MAX_SOCKETS: usize = 65_536;
/// Most processes kept in the pid cache.
const MAX_PROCESSES: usize = 65_536;
/// Probe budget: share of wall time, and the largest burst.
const PROBE_SHARE: f64 = 0.10;
const PROBE_BURST: Duration = Duration::from_millis(50);
/// A probe scans at most this many new processes.
const PROBE_MAX_PIDS: usize = 2_048;

/// The live socket table, reading the system through `S` (this OS's source unless a test gives
/// another). See the module documentation.
pub struct SystemSocketTable<S: SocketSource = crate::os::Sockets> {
    src: S,
    sockets: AHashMap<Key, Arc<ProcessInfo>>,
    /// Raw sockets: (bound address, IP protocol number) → owner (Linux).
    raw: AHashMap<(IpAddr, u8), Arc<ProcessInfo>>,
    udp_ports: AHashMap<u16, Arc<ProcessInfo>>,
    /// pid → (start time, process).
    processes: AHashMap<u32, (u64, Arc<ProcessInfo>)>,
    last_refresh: Option<Instant>,
    last_refresh_took: Duration,
    last_error: Option<String>,
    refreshes: u64,
    probes: u64,
    misses: u64,
    probe_enabled: bool,
    probe_budget: Duration,
    probe_budget_at: Instant,
    /// Owners of connections told by the kernel, with when they were told.
    traced: AHashMap<Key, (Instant, Arc<ProcessInfo>)>,
}

impl Default for SystemSocketTable {
    fn default() -> Self {
        Self::new()
    }
}

impl SystemSocketTable {
    /// An empty table on this system; the first lookup (or [`refresh`](Self::refresh)) fills it.
    pub fn new() -> Self {
        Self::with_source(crate::os::Sockets::new())
    }
}

impl<S: SocketSource> SystemSocketTable<S> {
    /// An empty table reading the system through `src`.
    pub fn with_source(src: S) -> Self {
        SystemSocketTable {
            src,
            sockets: AHashMap::new(),
            raw: AHashMap::new(),
            udp_ports: AHashMap::new(),
            processes: AHashMap::new(),
            last_refresh: None,
            last_refresh_took: Duration::ZERO,
            last_error: None,
            refreshes: 0,
            probes: 0,
            misses: 0,
            probe_enabled: S::PROBES,
            probe_budget: PROBE_BURST,
            probe_budget_at: Instant::now(),
            traced: AHashMap::new(),
        }
    }

    /// Starts kernel tracing of new connections (see the module documentation). The error says
    /// why it is unavailable and how to fix it; the table then works without it.
    pub fn start_connect_tracer(&mut self) -> Result<(), String> {
        self.src.start_tracer()
    }

    /// Whether the kernel tells the owners of new connections.
    pub fn is_tracing(&self) -> bool {
        self.src.feed().is_some()
    }

    /// Connections attributed by the kernel so far, and state changes it lost.
    pub fn traced_counts(&self) -> (u64, u64) {
        self.src.feed().map_or((0, 0), |f| f.counts())
    }

    /// Takes in what the tracer has told since the last call.
    fn drain_traced(&mut self) {
        if let Some(feed) = self.src.feed() {
            let now = Instant::now();
            let traced = &mut self.traced;
            feed.drain(|c| {
                let key = (c.proto, c.local.to_canonical(), c.port);
                if traced.len() >= MAX_SOCKETS && !traced.contains_key(&key) {
                    traced.retain(|_, (t, _)| now.duration_since(*t) < TRACED_TTL / 8);
                    // A connection flood: keep the newest answers rather than grow, and free
                    // enough room that the next answers do not scan the table again.
                    if traced.len() >= MAX_SOCKETS / 4 * 3 {
                        traced.clear();
                    }
                }
                traced.insert(key, (now, c.owner));
            });
        }
    }

    /// The traced owner of a local TCP or UDP endpoint. A UDP socket not bound to an address is
    /// traced with 0.0.0.0 or `::` (its route picked the source): matched by port then.
    fn find_traced(&self, proto: Proto, ip: IpAddr, port: u16) -> Option<Arc<ProcessInfo>> {
        if !matches!(proto, Proto::Tcp | Proto::Udp) || self.traced.is_empty() {
            return None;
        }
        let ip = ip.to_canonical();
        let found = self.traced.get(&(proto, ip, port)).or_else(|| {
            let any = if ip.is_ipv4() { IpAddr::V4(Ipv4Addr::UNSPECIFIED) } else { IpAddr::V6(Ipv6Addr::UNSPECIFIED) };
            (proto == Proto::Udp).then(|| self.traced.get(&(proto, any, port))).flatten()
        });
        found.map(|(_, p)| p.clone())
    }

    /// Turns the miss probe on or off (on by default where the source has one: Linux; no effect
    /// elsewhere). For tests and measurements.
    pub fn set_miss_probe(&mut self, on: bool) {
        self.probe_enabled = on && S::PROBES;
    }

    /// Rebuilds the table if the last rebuild is older than `max_age` (or there was none); for a
    /// background ticker. Returns whether it rebuilt.
    pub fn refresh_if_older(&mut self, max_age: Duration) -> bool {
        if self.last_refresh.is_some_and(|t| t.elapsed() < max_age) {
            return false;
        }
        let _ = self.refresh();
        true
    }

    /// Rebuilds the table now. On error the previous table is kept (and the error remembered in
    /// [`last_error`](Self::last_error)); the throttle still counts it as a rebuild.
    pub fn refresh(&mut self) -> anyhow::Result<()> {
        let t0 = Instant::now();
        self.refreshes += 1;
        let r = self.rebuild();
        self.last_refresh = Some(Instant::now());
        self.last_refresh_took = t0.elapsed();
        self.last_error = r.as_ref().err().map(|e| e.to_string());
        r
    }

    /// The program with this pid (cached; validated by start time).
    pub fn owner_of_pid(&mut self, pid: u32) -> Option<Arc<ProcessInfo>> {
        self.process(pid)
    }

    /// How many full rebuilds were made.
    pub fn refresh_count(&self) -> u64 {
        self.refreshes
    }

    /// How many miss probes were made (Linux: elsewhere there is no probe).
    pub fn probe_count(&self) -> u64 {
        self.probes
    }

    /// How many lookups missed the cached table.
    pub fn miss_count(&self) -> u64 {
        self.misses
    }

    /// How long the last full rebuild took.
    pub fn last_refresh_took(&self) -> Duration {
        self.last_refresh_took
    }

    /// The error of the last rebuild, if it failed.
    pub fn last_error(&self) -> Option<&str> {
        self.last_error.as_deref()
    }

    /// Number of sockets in the table.
    pub fn len(&self) -> usize {
        self.sockets.len()
    }

    /// Whether the table holds no socket.
    pub fn is_empty(&self) -> bool {
        self.sockets.is_empty()
    }

    /// The cached answer, with wildcard fallbacks.
    fn find(&self, proto: Proto, ip: IpAddr, port: u16) -> Option<Arc<ProcessInfo>> {
        let v4_any = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        let v6_any = IpAddr::V6(Ipv6Addr::UNSPECIFIED);
        let candidates: [Option<IpAddr>; 4] = match ip {
            IpAddr::V4(v4) => [Some(ip), Some(IpAddr::V6(v4.to_ipv6_mapped())), Some(v4_any), Some(v6_any)],
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => [Some(ip), Some(IpAddr::V4(v4)), Some(v6_any), Some(v4_any)],
                None => [Some(ip), Some(v6_any), None, None],
            },
        };
        candidates
            .into_iter()
            .flatten()
            .find_map(|a| self.sockets.get(&(proto, a, port)))
            .or_else(|| if proto == Proto::Udp { self.udp_ports.get(&port) } else { None })
            .or_else(|| {
                if matches!(proto, Proto::Tcp | Proto::Udp) || self.raw.is_empty() {
                    return None;
                }
                // A raw socket of the protocol, or of IPPROTO_RAW (sends any protocol).
                [proto.number(), 255]
                    .into_iter()
                    .find_map(|n| candidates.into_iter().flatten().find_map(|a| self.raw.get(&(a, n))))
            })
            .cloned()
    }

    /// Rebuilds from the OS: every socket, and its lowest owning pid.
    fn rebuild(&mut self) -> anyhow::Result<()> {
        let snap = self.src.snapshot()?;
        let mut raw = AHashMap::new();
        for (key, pid) in snap.raw {
            let Some(info) = self.process(pid) else { continue };
            let slot = raw.entry(key).or_insert_with(|| info.clone());
            if info.pid < slot.pid {
                *slot = info;
            }
        }
        self.raw = raw;
        self.install(snap.sockets);
        let src = &self.src;
        self.processes.retain(|pid, _| src.alive(*pid));
        Ok(())
    }

    /// Replaces the table with `entries`; sockets without an owner keep their previous owner.
    fn install(&mut self, entries: Vec<(Key, Option<u32>)>) {
        let old = std::mem::take(&mut self.sockets);
        let mut sockets: AHashMap<Key, Arc<ProcessInfo>> = AHashMap::with_capacity(entries.len().min(MAX_SOCKETS));
        let mut orphans = Vec::new();
        for (key, pid) in entries {
            match pid.and_then(|p| self.process(p)) {
                Some(info) => {
                    if sockets.len() >= MAX_SOCKETS && !sockets.contains_key(&key) {
                        continue;
                    }
                    sockets
                        .entry(key)
                        .and_modify(|e| {
                            if info.pid < e.pid {
                                *e = info.clone()
                            }
                        })
                        .or_insert(info);
                }
                None => orphans.push(key),
            }
        }
        for key in orphans {
            if sockets.len() >= MAX_SOCKETS {
                break;
            }
            if let Some(prev) = old.get(&key) {
                sockets.entry(key).or_insert_with(|| prev.clone());
            }
        }
        let mut udp_ports: AHashMap<u16, Arc<ProcessInfo>> = AHashMap::new();
        for ((proto, _, port), info) in &sockets {
            if *proto == Proto::Udp {
                udp_ports
                    .entry(*port)
                    .and_modify(|e| {
                        if info.pid < e.pid {
                            *e = info.clone()
                        }
                    })
                    .or_insert_with(|| info.clone());
            }
        }
        self.sockets = sockets;
        self.udp_ports = udp_ports;
    }

    /// The program with this pid, from the cache when it is the same process.
    fn process(&mut self, pid: u32) -> Option<Arc<ProcessInfo>> {
        let Some(start) = self.src.start_time(pid) else {
            // Gone since it was seen holding the socket: the cached entry is that process.
            return self.processes.get(&pid).map(|(_, p)| p.clone());
        };
        if let Some((s, p)) = self.processes.get(&pid)
            && *s == start
        {
            return Some(p.clone());
        }
        let (start, info) = self.src.read(pid)?;
        let info = Arc::new(info);
        self.remember(pid, start, info.clone());
        Some(info)
    }

    fn remember(&mut self, pid: u32, start: u64, info: Arc<ProcessInfo>) {
        if self.processes.len() >= MAX_PROCESSES && !self.processes.contains_key(&pid) {
            self.processes.clear();
        }
        self.processes.insert(pid, (start, info));
    }

    /// Whether the probe budget allows a probe now (refilled at [`PROBE_SHARE`] of wall time).
    fn probe_allowed(&mut self) -> bool {
        let now = Instant::now();
        let refill = now.duration_since(self.probe_budget_at).mul_f64(PROBE_SHARE);
        self.probe_budget = (self.probe_budget + refill).min(PROBE_BURST);
        self.probe_budget_at = now;
        self.probe_enabled && !self.probe_budget.is_zero()
    }

    /// The miss probe: sockets of `proto` not in the table, owned by processes started since the
    /// last full rebuild, are added. Returns whether anything was added.
    fn probe(&mut self, proto: Proto, ip: IpAddr) -> bool {
        let t0 = Instant::now();
        self.probes += 1;
        if !matches!(proto, Proto::Tcp | Proto::Udp) {
            // ICMP and raw sockets are read by the full rebuild only.
            return false;
        }
        // Owners first, and their names read at once: the process may be gone a moment later.
        let mut owners = self.src.new_socket_owners(PROBE_MAX_PIDS);
        let mut pids: Vec<u32> = owners.values().copied().collect();
        pids.sort_unstable();
        pids.dedup();
        for pid in pids {
            self.process(pid);
        }
        // The address family of the packet first; the other one for dual-stack sockets.
        let mut added = false;
        for ipv4 in [ip.is_ipv4(), !ip.is_ipv4()] {
            if owners.is_empty() {
                break;
            }
            let Ok(socks) = self.src.sockets_of(proto, ipv4) else { continue };
            for (key, id) in socks {
                if self.sockets.len() >= MAX_SOCKETS || self.sockets.contains_key(&key) {
                    continue;
                }
                let Some(info) = owners.remove(&id).and_then(|pid| self.process(pid)) else { continue };
                if key.0 == Proto::Udp {
                    self.udp_ports.entry(key.2).or_insert_with(|| info.clone());
                }
                self.sockets.insert(key, info);
                added = true;
            }
            if added {
                break;
            }
        }
        self.probe_budget = self.probe_budget.saturating_sub(t0.elapsed());
        added
    }
}

impl<S: SocketSource> SocketTable for SystemSocketTable<S> {
    fn lookup(&mut self, proto: Proto, local_ip: IpAddr, local_port: u16) -> Option<Arc<ProcessInfo>> {
        self.drain_traced();
        if let Some(p) = self.find_traced(proto, local_ip, local_port) {
            return Some(p);
        }
        if let Some(p) = self.find(proto, local_ip, local_port) {
            return Some(p);
        }
        self.misses += 1;
        // The cheap probe first (new processes, one protocol and family): it is fast enough to catch
        // a program that exits right after sending.
        if S::PROBES
            && self.last_refresh.is_some()
            && self.probe_allowed()
            && self.probe(proto, local_ip)
            && let Some(p) = self.find(proto, local_ip, local_port)
        {
            return Some(p);
        }
        if self.last_refresh.is_none_or(|t| t.elapsed() >= MISS_REFRESH_INTERVAL) {
            let _ = self.refresh();
            return self.find(proto, local_ip, local_port);
        }
        None
    }

    fn quick_lookup(&mut self, proto: Proto, local_ip: IpAddr, local_port: u16) -> Option<Arc<ProcessInfo>> {
        self.drain_traced();
        self.find_traced(proto, local_ip, local_port)
    }

    fn tick(&mut self) {
        self.drain_traced();
        let now = Instant::now();
        self.traced.retain(|_, (t, _)| now.duration_since(*t) < TRACED_TTL);
        self.refresh_if_older(Duration::from_secs(1));
    }
}

/// The program with this pid, read now without any cache (`None` when it is gone).
pub fn read_process_info(pid: u32) -> Option<ProcessInfo> {
    crate::os::Sockets::new().read(pid).map(|(_, info)| info)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(pid: u32, name: &str) -> Arc<ProcessInfo> {
        Arc::new(ProcessInfo { pid, name: name.into(), exe: None, installed: false })
    }

    #[test]
    fn wildcards_and_udp_port_fallback() {
        let mut t = SystemSocketTable::new();
        t.sockets.insert((Proto::Tcp, IpAddr::V4(Ipv4Addr::UNSPECIFIED), 80), info(1, "web"));
        t.sockets.insert((Proto::Tcp, IpAddr::V6(Ipv6Addr::UNSPECIFIED), 22), info(2, "sshd"));
        t.sockets.insert((Proto::Udp, "10.0.0.5".parse().unwrap(), 53), info(3, "dns"));
        t.udp_ports.insert(53, info(3, "dns"));
        let v4: IpAddr = "192.168.1.2".parse().unwrap();
        assert_eq!(t.find(Proto::Tcp, v4, 80).unwrap().pid, 1);
        assert_eq!(t.find(Proto::Tcp, v4, 22).unwrap().pid, 2, "dual-stack listener");
        assert_eq!(t.find(Proto::Tcp, "::ffff:192.168.1.2".parse().unwrap(), 80).unwrap().pid, 1);
        assert_eq!(t.find(Proto::Udp, v4, 53).unwrap().pid, 3, "port-only UDP fallback");
        assert!(t.find(Proto::Tcp, v4, 53).is_none(), "no port-only fallback for TCP");
        assert!(t.find(Proto::Udp, v4, 80).is_none(), "protocol is part of the key");
    }

    #[test]
    fn icmp_sockets_by_identifier_and_raw_sockets_by_protocol() {
        let mut t = SystemSocketTable::new();
        let any4 = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        t.sockets.insert((Proto::Icmp, any4, 4242), info(5, "ping"));
        t.raw.insert((any4, 1), info(6, "rawping"));
        t.raw.insert((IpAddr::V6(Ipv6Addr::UNSPECIFIED), 47), info(7, "gre-tool"));
        t.raw.insert(("10.0.0.9".parse().unwrap(), 255), info(8, "sender"));
        let v4: IpAddr = "10.0.0.9".parse().unwrap();
        assert_eq!(t.find(Proto::Icmp, v4, 4242).unwrap().pid, 5, "ping socket: the identifier is its port");
        assert_eq!(t.find(Proto::Icmp, v4, 7).unwrap().pid, 6, "any other echo: the raw ICMP socket");
        assert_eq!(t.find(Proto::Ip(47), v4, 0).unwrap().pid, 7, "dual-stack wildcard raw socket");
        assert_eq!(t.find(Proto::Ip(50), v4, 0).unwrap().pid, 8, "IPPROTO_RAW bound to the address");
        assert!(t.find(Proto::Ip(50), "10.0.0.10".parse().unwrap(), 0).is_none());
        assert!(t.find(Proto::Udp, v4, 1).is_none(), "raw sockets never claim UDP or TCP");
    }

    #[test]
    fn orphaned_sockets_keep_their_last_owner() {
        let mut t = SystemSocketTable::new();
        let key = (Proto::Tcp, IpAddr::V4(Ipv4Addr::LOCALHOST), 40_000);
        let gone = (Proto::Tcp, IpAddr::V4(Ipv4Addr::LOCALHOST), 40_001);
        t.sockets.insert(key, info(u32::MAX - 1, "short"));
        t.sockets.insert(gone, info(u32::MAX - 2, "closed"));
        t.install(vec![(key, None)]);
        assert_eq!(t.find(key.0, key.1, key.2).unwrap().name, "short");
        assert!(t.find(gone.0, gone.1, gone.2).is_none());
    }

    #[test]
    fn reused_pid_is_read_again() {
        let mut t = SystemSocketTable::new();
        let me = std::process::id();
        // A cached entry for this pid with another start time: an earlier process with this pid.
        t.processes.insert(me, (1, info(me, "stale")));
        let now = t.owner_of_pid(me).unwrap();
        assert_ne!(now.name, "stale");
        assert_eq!(now.exe.as_deref().map(std::path::PathBuf::from), std::env::current_exe().ok());
    }

    #[test]
    fn own_pid_is_known() {
        let mut t = SystemSocketTable::new();
        let me = t.owner_of_pid(std::process::id()).expect("own process");
        assert_eq!(me.pid, std::process::id());
        assert!(read_process_info(std::process::id()).is_some());
    }

    /// A system made up by the test: sockets, processes (pid → start time, name), the probe's
    /// answers, and a tracer's feed.
    #[derive(Default)]
    struct FakeSource {
        sockets: crate::os::SocketOwners,
        processes: AHashMap<u32, (u64, &'static str)>,
        /// Probe: socket id → pid, and the sockets with ids (IPv4 only).
        new_owners: AHashMap<u64, u32>,
        new_sockets: Vec<(Key, u64)>,
        feed: Option<(crate::os::attrib::FeedTx, crate::os::attrib::Feed)>,
        snapshots: u32,
    }

    impl SocketSource for FakeSource {
        const PROBES: bool = true;

        fn new() -> Self {
            Self::default()
        }

        fn snapshot(&mut self) -> anyhow::Result<crate::os::attrib::Snapshot> {
            self.snapshots += 1;
            Ok(crate::os::attrib::Snapshot { sockets: self.sockets.clone(), raw: Vec::new() })
        }

        fn alive(&self, pid: u32) -> bool {
            self.processes.contains_key(&pid)
        }

        fn start_time(&mut self, pid: u32) -> Option<u64> {
            self.processes.get(&pid).map(|p| p.0)
        }

        fn read(&mut self, pid: u32) -> Option<(u64, ProcessInfo)> {
            let (start, name) = *self.processes.get(&pid)?;
            Some((start, ProcessInfo { pid, name: name.into(), exe: None, installed: false }))
        }

        fn new_socket_owners(&mut self, _max: usize) -> AHashMap<u64, u32> {
            std::mem::take(&mut self.new_owners)
        }

        fn sockets_of(&mut self, proto: Proto, ipv4: bool) -> anyhow::Result<Vec<(Key, u64)>> {
            Ok(self.new_sockets.iter().filter(|(k, _)| k.0 == proto && k.1.is_ipv4() == ipv4).copied().collect())
        }

        fn start_tracer(&mut self) -> Result<(), String> {
            self.feed = Some(crate::os::attrib::feed());
            Ok(())
        }

        fn feed(&self) -> Option<&crate::os::attrib::Feed> {
            self.feed.as_ref().map(|f| &f.1)
        }
    }

    const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 200, 0, 1));

    #[test]
    fn a_rebuild_names_sockets_by_their_lowest_owner_and_forgets_exited_programs() {
        let mut src = FakeSource::default();
        src.processes.insert(10, (100, "server"));
        src.processes.insert(11, (100, "worker"));
        src.sockets = vec![((Proto::Tcp, LOCAL, 80), Some(11)), ((Proto::Tcp, LOCAL, 80), Some(10))];
        let mut t = SystemSocketTable::with_source(src);
        assert_eq!(t.lookup(Proto::Tcp, LOCAL, 80).unwrap().name, "server");
        assert_eq!((t.refresh_count(), t.len()), (1, 1));
        // The server exits (its socket with it); the worker's pid is reused by another program.
        t.src.processes.remove(&10);
        t.src.processes.insert(11, (200, "other"));
        t.src.sockets = vec![((Proto::Tcp, LOCAL, 80), Some(11))];
        t.refresh().unwrap();
        assert_eq!(t.lookup(Proto::Tcp, LOCAL, 80).unwrap().name, "other", "a reused pid is read again");
        assert!(!t.processes.contains_key(&10), "programs gone at the rebuild are forgotten");
    }

    #[test]
    fn a_miss_right_after_a_rebuild_probes_new_programs_instead_of_rebuilding() {
        let mut src = FakeSource::default();
        src.processes.insert(7, (1, "curl"));
        let mut t = SystemSocketTable::with_source(src);
        t.refresh().unwrap();
        let key = (Proto::Udp, LOCAL, 40_000);
        t.src.new_owners.insert(99, 7);
        t.src.new_sockets = vec![(key, 99), ((Proto::Udp, "fd00:200::1".parse().unwrap(), 40_001), 98)];
        let got = t.lookup(key.0, key.1, key.2).expect("found by the probe");
        assert_eq!(got.name, "curl");
        assert_eq!((t.probe_count(), t.refresh_count(), t.src.snapshots), (1, 1, 1), "no rebuild within 50 ms");
        assert_eq!(t.find(Proto::Udp, "10.9.9.9".parse().unwrap(), 40_000).unwrap().pid, 7, "UDP port fallback");
        // With the probe off, the same miss finds nothing until the next rebuild.
        t.set_miss_probe(false);
        assert!(t.lookup(Proto::Tcp, LOCAL, 1).is_none());
        assert_eq!(t.probe_count(), 1);
    }

    #[test]
    fn traced_owners_come_first_and_unbound_udp_senders_match_by_port() {
        let mut src = FakeSource::default();
        src.processes.insert(5, (1, "listener"));
        src.sockets = vec![((Proto::Tcp, LOCAL, 5000), Some(5))];
        let mut t = SystemSocketTable::with_source(src);
        assert!(!t.is_tracing());
        t.start_connect_tracer().unwrap();
        assert!(t.is_tracing());
        let tx = t.src.feed.as_ref().unwrap().0.clone();
        let owner = info(6, "short-lived");
        tx.send(crate::os::attrib::Traced { proto: Proto::Tcp, local: LOCAL, port: 5000, owner: owner.clone() });
        let any = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        tx.send(crate::os::attrib::Traced { proto: Proto::Udp, local: any, port: 53_000, owner });
        assert_eq!(t.quick_lookup(Proto::Tcp, LOCAL, 5000).unwrap().name, "short-lived");
        assert_eq!(t.quick_lookup(Proto::Udp, LOCAL, 53_000).unwrap().pid, 6, "sent from an unbound socket");
        assert!(t.quick_lookup(Proto::Tcp, LOCAL, 53_000).is_none(), "TCP is never matched by port alone");
        assert_eq!(t.lookup(Proto::Tcp, "::ffff:10.200.0.1".parse().unwrap(), 5000).unwrap().pid, 6);
        assert_eq!(t.traced_counts(), (2, 0));
        assert_eq!(t.refresh_count(), 0, "answered without reading the system");
    }
}
