//! [`SystemSocketTable`]: the live socket → program table.
//!
//! # How it answers
//! A lookup is a hash-map read in a cached table keyed by (protocol, local address, local port),
//! with fallbacks to wildcard listeners (`0.0.0.0`, `::`, IPv4-mapped IPv6) and, for UDP, to the
//! port alone. The table is rebuilt from the OS (`netstat2`; the socket → pid link comes from
//! `/proc/<pid>/fd` on Linux):
//! * on a **miss**, at most every [`MISS_REFRESH_INTERVAL`] (50 ms): a miss within 50 ms of the
//!   last rebuild does not rebuild;
//! * from a background ticker, with [`SystemSocketTable::refresh_if_older`] (e.g. every second).
//!
//! # Short-lived programs
//! A program that connects, sends and exits within a few tens of ms can be gone by the next
//! rebuild, and a socket whose program has exited has no pid any more. So on Linux a miss inside
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
//! # Connections traced by the kernel (Linux)
//! With [`SystemSocketTable::start_connect_tracer`], every outgoing TCP connection is attributed
//! by the kernel as `connect()` runs ([`super::connect_trace`]): exact even for a program that
//! exits a millisecond later. Those answers come first; they are kept for [`TRACED_TTL`] after the
//! connection was opened (packets of a flow can reach the engine well after the program is gone).
//!
//! # Processes
//! Name, executable and start time are read once per process and cached by pid, and re-validated
//! by start time at each rebuild so a reused pid is never given the old program's name. Pids are
//! `u32` (no 5-digit limit, legacy B12). Entries for sockets that still exist but lost their owner
//! (the program just exited) keep their last known owner until the socket disappears.

use super::ProcessInfo;
use super::SocketTable;
use crate::packet::Proto;
use ahash::AHashMap;
#[cfg(any(target_os = "linux", target_os = "android"))]
use ahash::AHashSet;
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
#[cfg(any(target_os = "linux", target_os = "android"))]
const PROBE_SHARE: f64 = 0.10;
#[cfg(any(target_os = "linux", target_os = "android"))]
const PROBE_BURST: Duration = Duration::from_millis(50);
/// A probe scans at most this many new processes.
#[cfg(any(target_os = "linux", target_os = "android"))]
const PROBE_MAX_PIDS: usize = 2_048;

type Key = (Proto, IpAddr, u16);

/// The live socket table. See the module documentation.
pub struct SystemSocketTable {
    sockets: AHashMap<Key, Arc<ProcessInfo>>,
    /// Raw sockets: (bound address, IP protocol number) → owner (Linux).
    raw: AHashMap<(IpAddr, u8), Arc<ProcessInfo>>,
    udp_ports: AHashMap<u16, Arc<ProcessInfo>>,
    /// pid → (start time, process).
    processes: AHashMap<u32, (u64, Arc<ProcessInfo>)>,
    /// Every pid that existed at the last full rebuild (the probe scans the others).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    known_pids: AHashSet<u32>,
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    system: Option<sysinfo::System>,
    last_refresh: Option<Instant>,
    last_refresh_took: Duration,
    last_error: Option<String>,
    refreshes: u64,
    probes: u64,
    misses: u64,
    probe_enabled: bool,
    #[cfg(any(target_os = "linux", target_os = "android"))]
    probe_budget: Duration,
    #[cfg(any(target_os = "linux", target_os = "android"))]
    probe_budget_at: Instant,
    /// Owners of connections told by the kernel, with when they were told.
    traced: AHashMap<Key, (Instant, Arc<ProcessInfo>)>,
    #[cfg(target_os = "linux")]
    tracer: Option<super::connect_trace::ConnectTracer>,
}

impl Default for SystemSocketTable {
    fn default() -> Self {
        Self::new()
    }
}

impl SystemSocketTable {
    /// An empty table; the first lookup (or [`refresh`](Self::refresh)) fills it.
    pub fn new() -> Self {
        SystemSocketTable {
            sockets: AHashMap::new(),
            raw: AHashMap::new(),
            udp_ports: AHashMap::new(),
            processes: AHashMap::new(),
            #[cfg(any(target_os = "linux", target_os = "android"))]
            known_pids: AHashSet::new(),
            #[cfg(not(any(target_os = "linux", target_os = "android")))]
            system: sysinfo::System::new().ok(),
            last_refresh: None,
            last_refresh_took: Duration::ZERO,
            last_error: None,
            refreshes: 0,
            probes: 0,
            misses: 0,
            probe_enabled: true,
            #[cfg(any(target_os = "linux", target_os = "android"))]
            probe_budget: PROBE_BURST,
            #[cfg(any(target_os = "linux", target_os = "android"))]
            probe_budget_at: Instant::now(),
            traced: AHashMap::new(),
            #[cfg(target_os = "linux")]
            tracer: None,
        }
    }

    /// Starts kernel tracing of new TCP connections (see the module documentation). The error
    /// says why it is unavailable and how to fix it; the table then works without it.
    pub fn start_connect_tracer(&mut self) -> Result<(), String> {
        #[cfg(target_os = "linux")]
        {
            if self.tracer.is_none() {
                self.tracer = Some(super::connect_trace::ConnectTracer::start().map_err(|e| e.to_string())?);
            }
            Ok(())
        }
        #[cfg(not(target_os = "linux"))]
        {
            Err("connection tracing is only available on Linux".into())
        }
    }

    /// Whether the kernel tells the owners of new TCP connections.
    pub fn is_tracing(&self) -> bool {
        #[cfg(target_os = "linux")]
        {
            self.tracer.is_some()
        }
        #[cfg(not(target_os = "linux"))]
        {
            false
        }
    }

    /// Connections attributed by the kernel so far, and state changes it lost.
    pub fn traced_counts(&self) -> (u64, u64) {
        #[cfg(target_os = "linux")]
        if let Some(t) = &self.tracer {
            use std::sync::atomic::Ordering::Relaxed;
            return (t.stats().attributed.load(Relaxed), t.stats().lost.load(Relaxed));
        }
        (0, 0)
    }

    /// Takes in what the tracer has told since the last call.
    fn drain_traced(&mut self) {
        #[cfg(target_os = "linux")]
        if let Some(t) = &self.tracer {
            let now = Instant::now();
            let traced = &mut self.traced;
            t.drain(|c| {
                if traced.len() >= MAX_SOCKETS {
                    traced.retain(|_, (t, _)| now.duration_since(*t) < TRACED_TTL / 8);
                    if traced.len() >= MAX_SOCKETS {
                        // A connection flood: keep the newest answers rather than grow.
                        traced.clear();
                    }
                }
                traced.insert((c.proto, c.local.to_canonical(), c.port), (now, c.owner));
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

    /// Turns the Linux miss probe on or off (on by default; no effect elsewhere). For tests and
    /// measurements.
    pub fn set_miss_probe(&mut self, on: bool) {
        self.probe_enabled = on;
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

    /// The program with this pid (cached; validated by start time on Linux).
    pub fn owner_of_pid(&mut self, pid: u32) -> Option<Arc<ProcessInfo>> {
        self.process(pid)
    }

    /// How many full rebuilds were made.
    pub fn refresh_count(&self) -> u64 {
        self.refreshes
    }

    /// How many miss probes were made (Linux).
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
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn rebuild(&mut self) -> anyhow::Result<()> {
        use super::procfs;
        // Sockets first, then owners: a socket in the dump whose process is still alive is found.
        let socks = dump(
            netstat2::AddressFamilyFlags::IPV4 | netstat2::AddressFamilyFlags::IPV6,
            netstat2::ProtocolFlags::TCP | netstat2::ProtocolFlags::UDP,
        )?;
        let all = procfs::pids();
        let mut owners = AHashMap::with_capacity(socks.len());
        procfs::socket_inodes(all.iter().copied(), &mut owners);
        self.known_pids = all.into_iter().collect();
        let mut entries: Vec<(Key, Option<u32>)> =
            socks.into_iter().map(|(key, inode)| (key, owners.get(&inode).copied())).collect();
        for (path, proto) in [("/proc/net/icmp", Proto::Icmp), ("/proc/net/icmp6", Proto::Icmpv6)] {
            for (ip, port, inode) in procfs::ip_sockets(path) {
                entries.push(((proto, ip, port), owners.get(&inode).copied()));
            }
        }
        let mut raw = AHashMap::new();
        for path in ["/proc/net/raw", "/proc/net/raw6"] {
            for (ip, port, inode) in procfs::ip_sockets(path) {
                let Some(info) = owners.get(&inode).and_then(|pid| self.process(*pid)) else { continue };
                let slot = raw.entry((ip, port as u8)).or_insert_with(|| info.clone());
                if info.pid < slot.pid {
                    *slot = info;
                }
            }
        }
        self.raw = raw;
        self.install(entries);
        let known = &self.known_pids;
        self.processes.retain(|pid, _| known.contains(pid));
        Ok(())
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    fn rebuild(&mut self) -> anyhow::Result<()> {
        let entries: Vec<(Key, Option<u32>)> = crate::os::socket_owners()?;
        if let Some(sys) = self.system.as_mut() {
            let pids: Vec<sysinfo::Pid> = entries.iter().filter_map(|(_, p)| p.map(sysinfo::Pid::from_u32)).collect();
            sys.refresh_processes_specifics(
                sysinfo::ProcessesToUpdate::Some(&pids),
                true,
                sysinfo::ProcessRefreshKind::nothing().with_exe(sysinfo::UpdateKind::OnlyIfNotSet),
            );
        }
        let live: ahash::AHashSet<u32> = entries.iter().filter_map(|(_, p)| *p).collect();
        self.install(entries);
        self.processes.retain(|pid, _| live.contains(pid));
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
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn process(&mut self, pid: u32) -> Option<Arc<ProcessInfo>> {
        use super::procfs;
        let Some(start) = procfs::start_time(pid) else {
            // Gone since it was seen holding the socket: the cached entry is that process.
            return self.processes.get(&pid).map(|(_, p)| p.clone());
        };
        if let Some((s, p)) = self.processes.get(&pid)
            && *s == start
        {
            return Some(p.clone());
        }
        let (start, info) = procfs::read(pid)?;
        let info = Arc::new(info);
        self.remember(pid, start, info.clone());
        Some(info)
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    fn process(&mut self, pid: u32) -> Option<Arc<ProcessInfo>> {
        let sys = self.system.as_mut()?;
        let spid = sysinfo::Pid::from_u32(pid);
        if sys.process(spid).is_none() {
            sys.refresh_processes_specifics(
                sysinfo::ProcessesToUpdate::Some(&[spid]),
                true,
                sysinfo::ProcessRefreshKind::nothing().with_exe(sysinfo::UpdateKind::OnlyIfNotSet),
            );
        }
        let Some(p) = sys.process(spid) else {
            return self.processes.get(&pid).map(|(_, p)| p.clone());
        };
        let start = p.start_time();
        if let Some((s, cached)) = self.processes.get(&pid)
            && *s == start
        {
            return Some(cached.clone());
        }
        let info = Arc::new(ProcessInfo::observed(
            pid,
            p.name().to_string_lossy().into_owned(),
            p.exe().map(|e| e.to_string_lossy().into_owned()),
        ));
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
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn probe_allowed(&mut self) -> bool {
        let now = Instant::now();
        let refill = now.duration_since(self.probe_budget_at).mul_f64(PROBE_SHARE);
        self.probe_budget = (self.probe_budget + refill).min(PROBE_BURST);
        self.probe_budget_at = now;
        self.probe_enabled && !self.probe_budget.is_zero()
    }

    /// The miss probe: sockets of `proto` not in the table, owned by processes started since the
    /// last full rebuild, are added. Returns whether anything was added.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn probe(&mut self, proto: Proto, ip: IpAddr) -> bool {
        use super::procfs;
        use netstat2::AddressFamilyFlags as Af;
        let t0 = Instant::now();
        self.probes += 1;
        let flags = match proto {
            Proto::Tcp => netstat2::ProtocolFlags::TCP,
            Proto::Udp => netstat2::ProtocolFlags::UDP,
            // ICMP and raw sockets are read from /proc/net by the full rebuild only.
            _ => return false,
        };
        // Owners first, and their names read at once: the process may be gone a moment later.
        let mut new = procfs::new_pids(&procfs::pids(), &self.known_pids);
        // The newest processes are the likeliest owners.
        new.sort_unstable_by(|a, b| b.cmp(a));
        new.truncate(PROBE_MAX_PIDS);
        let mut owners = AHashMap::new();
        procfs::socket_inodes(new, &mut owners);
        let mut pids: Vec<u32> = owners.values().copied().collect();
        pids.sort_unstable();
        pids.dedup();
        for pid in pids {
            self.process(pid);
        }
        // The address family of the packet first; the other one for dual-stack sockets.
        let (first, second) = if ip.is_ipv4() { (Af::IPV4, Af::IPV6) } else { (Af::IPV6, Af::IPV4) };
        let mut added = false;
        for af in [first, second] {
            if owners.is_empty() {
                break;
            }
            let Ok(socks) = dump(af, flags) else { continue };
            for (key, inode) in socks {
                if self.sockets.len() >= MAX_SOCKETS || self.sockets.contains_key(&key) {
                    continue;
                }
                let Some(info) = owners.remove(&inode).and_then(|pid| self.process(pid)) else { continue };
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

impl SocketTable for SystemSocketTable {
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
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if self.last_refresh.is_some()
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
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        super::procfs::read(pid).map(|(_, info)| info)
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        SystemSocketTable::new().process(pid).map(|p| (*p).clone())
    }
}

/// Every socket of `protocols` (IPv4 and IPv6) with its inode, without owners.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn dump(af: netstat2::AddressFamilyFlags, protocols: netstat2::ProtocolFlags) -> anyhow::Result<Vec<(Key, u64)>> {
    let mut out = Vec::new();
    for s in netstat2::iterate_sockets_info_without_pids(af, protocols)? {
        let s = s?;
        out.push((key_of(&s), u64::from(s.inode)));
    }
    Ok(out)
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn key_of(s: &netstat2::SocketInfo) -> Key {
    match &s.protocol_socket_info {
        netstat2::ProtocolSocketInfo::Tcp(t) => (Proto::Tcp, t.local_addr, t.local_port),
        netstat2::ProtocolSocketInfo::Udp(u) => (Proto::Udp, u.local_addr, u.local_port),
    }
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
    #[cfg(any(target_os = "linux", target_os = "android"))]
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
}
