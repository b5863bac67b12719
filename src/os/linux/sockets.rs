//! The Linux [`SocketSource`]: sockets from netlink (`netstat2`, without owners), their owners
//! from `/proc/<pid>/fd`, ICMP and raw sockets from `/proc/net/{icmp,icmp6,raw,raw6}`, programs
//! from `/proc/<pid>/{stat,comm,exe}`, and the kernel connect and route tracer
//! ([`super::connect_trace`]).

use super::connect_trace::ConnectTracer;
use super::procfs;
use crate::os::attrib::{Feed, Key, Snapshot, SocketSource};
use crate::packet::Proto;
use crate::process::ProcessInfo;
use ahash::{AHashMap, AHashSet};

/// Reads `/proc` and netlink; see the module documentation.
#[derive(Default)]
pub struct LinuxSockets {
    /// Every pid that existed at the last snapshot (the probe scans the others).
    known_pids: AHashSet<u32>,
    tracer: Option<ConnectTracer>,
}

impl SocketSource for LinuxSockets {
    const PROBES: bool = true;

    fn new() -> Self {
        Self::default()
    }

    fn snapshot(&mut self) -> anyhow::Result<Snapshot> {
        // Sockets first, then owners: a socket in the dump whose process is still alive is found.
        let socks = dump(
            netstat2::AddressFamilyFlags::IPV4 | netstat2::AddressFamilyFlags::IPV6,
            netstat2::ProtocolFlags::TCP | netstat2::ProtocolFlags::UDP,
        )?;
        let all = procfs::pids();
        let mut owners = AHashMap::with_capacity(socks.len());
        procfs::socket_inodes(all.iter().copied(), &mut owners);
        self.known_pids = all.into_iter().collect();
        let mut sockets: Vec<(Key, Option<u32>)> =
            socks.into_iter().map(|(key, inode)| (key, owners.get(&inode).copied())).collect();
        for (path, proto) in [("/proc/net/icmp", Proto::Icmp), ("/proc/net/icmp6", Proto::Icmpv6)] {
            for (ip, port, inode) in procfs::ip_sockets(path) {
                sockets.push(((proto, ip, port), owners.get(&inode).copied()));
            }
        }
        let mut raw = Vec::new();
        for path in ["/proc/net/raw", "/proc/net/raw6"] {
            for (ip, port, inode) in procfs::ip_sockets(path) {
                if let Some(pid) = owners.get(&inode) {
                    raw.push(((ip, port as u8), *pid));
                }
            }
        }
        Ok(Snapshot { sockets, raw })
    }

    fn alive(&self, pid: u32) -> bool {
        self.known_pids.contains(&pid)
    }

    fn start_time(&mut self, pid: u32) -> Option<u64> {
        procfs::start_time(pid)
    }

    fn read(&mut self, pid: u32) -> Option<(u64, ProcessInfo)> {
        procfs::read(pid)
    }

    fn new_socket_owners(&mut self, max_pids: usize) -> AHashMap<u64, u32> {
        let mut new = procfs::new_pids(&procfs::pids(), &self.known_pids);
        // The newest processes are the likeliest owners.
        new.sort_unstable_by(|a, b| b.cmp(a));
        new.truncate(max_pids);
        let mut owners = AHashMap::new();
        procfs::socket_inodes(new, &mut owners);
        owners
    }

    fn sockets_of(&mut self, proto: Proto, ipv4: bool) -> anyhow::Result<Vec<(Key, u64)>> {
        let flags = match proto {
            Proto::Tcp => netstat2::ProtocolFlags::TCP,
            Proto::Udp => netstat2::ProtocolFlags::UDP,
            // ICMP and raw sockets are read from /proc/net by the full snapshot only.
            _ => return Ok(Vec::new()),
        };
        let af = if ipv4 { netstat2::AddressFamilyFlags::IPV4 } else { netstat2::AddressFamilyFlags::IPV6 };
        dump(af, flags)
    }

    fn start_tracer(&mut self) -> Result<(), String> {
        if self.tracer.is_none() {
            self.tracer = Some(ConnectTracer::start().map_err(|e| e.to_string())?);
        }
        Ok(())
    }

    fn feed(&self) -> Option<&Feed> {
        self.tracer.as_ref().map(ConnectTracer::feed)
    }
}

/// Every socket of `protocols` and address families `af` with its inode, without owners.
fn dump(af: netstat2::AddressFamilyFlags, protocols: netstat2::ProtocolFlags) -> anyhow::Result<Vec<(Key, u64)>> {
    let mut out = Vec::new();
    for s in netstat2::iterate_sockets_info_without_pids(af, protocols)? {
        let s = s?;
        out.push((key_of(&s), u64::from(s.inode)));
    }
    Ok(out)
}

fn key_of(s: &netstat2::SocketInfo) -> Key {
    match &s.protocol_socket_info {
        netstat2::ProtocolSocketInfo::Tcp(t) => (Proto::Tcp, t.local_addr, t.local_port),
        netstat2::ProtocolSocketInfo::Udp(u) => (Proto::Udp, u.local_addr, u.local_port),
    }
}
