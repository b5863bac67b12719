//! The [`SocketSource`] of Windows and macOS: every TCP and UDP socket with its owning process
//! through `netstat2` (Windows: `GetExtendedTcpTable` / `GetExtendedUdpTable` with owning pids;
//! macOS: libproc's `proc_pidfdinfo` socket info), and names, paths and start times of processes
//! from `sysinfo`. Linux reads netlink and `/proc` itself (`linux/sockets.rs`).
//!
//! No miss probe here (a full table read is the only read there is). The kernel tracer is the
//! system's [`super::EventTracer`]: the ETW session on Windows, none on macOS.

use super::EventTracer;
use super::attrib::{Feed, Snapshot, SocketSource};
use crate::process::ProcessInfo;
use ahash::AHashSet;

/// Reads `netstat2` and `sysinfo`; see the module documentation.
pub struct NetstatSockets {
    system: Option<sysinfo::System>,
    /// The pids holding a socket at the last snapshot.
    live: AHashSet<u32>,
    tracer: Option<EventTracer>,
}

impl NetstatSockets {
    /// The process `pid` as `sysinfo` knows it, asked for when not known yet.
    fn process(&mut self, pid: u32) -> Option<&sysinfo::Process> {
        let sys = self.system.as_mut()?;
        let spid = sysinfo::Pid::from_u32(pid);
        if sys.process(spid).is_none() {
            sys.refresh_processes_specifics(sysinfo::ProcessesToUpdate::Some(&[spid]), true, refresh_kind());
        }
        sys.process(spid)
    }
}

fn refresh_kind() -> sysinfo::ProcessRefreshKind {
    sysinfo::ProcessRefreshKind::nothing().with_exe(sysinfo::UpdateKind::OnlyIfNotSet)
}

impl SocketSource for NetstatSockets {
    const PROBES: bool = false;

    fn new() -> Self {
        NetstatSockets { system: sysinfo::System::new().ok(), live: AHashSet::new(), tracer: None }
    }

    fn snapshot(&mut self) -> anyhow::Result<Snapshot> {
        let sockets = super::socket_owners()?;
        if let Some(sys) = self.system.as_mut() {
            let pids: Vec<sysinfo::Pid> = sockets.iter().filter_map(|(_, p)| p.map(sysinfo::Pid::from_u32)).collect();
            sys.refresh_processes_specifics(sysinfo::ProcessesToUpdate::Some(&pids), true, refresh_kind());
        }
        self.live = sockets.iter().filter_map(|(_, p)| *p).collect();
        Ok(Snapshot { sockets, raw: Vec::new() })
    }

    fn alive(&self, pid: u32) -> bool {
        self.live.contains(&pid)
    }

    /// Asks sysinfo again unless the last snapshot just did: a cached entry cannot tell a reused
    /// pid (the ETW reader, which takes no snapshots, would name a new program as the old one),
    /// and a refresh also drops a process that is gone.
    fn start_time(&mut self, pid: u32) -> Option<u64> {
        if !self.live.contains(&pid)
            && let Some(sys) = self.system.as_mut()
        {
            let spid = [sysinfo::Pid::from_u32(pid)];
            // The path too: a reused pid runs another executable.
            let kind = sysinfo::ProcessRefreshKind::nothing().with_exe(sysinfo::UpdateKind::Always);
            sys.refresh_processes_specifics(sysinfo::ProcessesToUpdate::Some(&spid), true, kind);
        }
        self.process(pid).map(sysinfo::Process::start_time)
    }

    fn read(&mut self, pid: u32) -> Option<(u64, ProcessInfo)> {
        let p = self.process(pid)?;
        let (start, name, exe) = (
            p.start_time(),
            p.name().to_string_lossy().into_owned(),
            p.exe().map(|e| e.to_string_lossy().into_owned()),
        );
        Some((start, ProcessInfo::observed(pid, name, exe)))
    }

    fn start_tracer(&mut self) -> Result<(), String> {
        if self.tracer.is_none() {
            self.tracer = Some(EventTracer::start()?);
        }
        Ok(())
    }

    fn feed(&self) -> Option<&Feed> {
        self.tracer.as_ref().map(EventTracer::feed)
    }
}

/// (protocol, local address, local port) → the lowest pid that holds the socket, if any.
#[cfg(any(windows, feature = "macos-sockets"))]
pub fn socket_owners() -> anyhow::Result<super::SocketOwners> {
    use crate::packet::Proto;
    let socks = netstat2::get_sockets_info(
        netstat2::AddressFamilyFlags::IPV4 | netstat2::AddressFamilyFlags::IPV6,
        netstat2::ProtocolFlags::TCP | netstat2::ProtocolFlags::UDP,
    )?;
    Ok(socks
        .iter()
        .map(|s| {
            let key = match &s.protocol_socket_info {
                netstat2::ProtocolSocketInfo::Tcp(t) => (Proto::Tcp, t.local_addr, t.local_port),
                netstat2::ProtocolSocketInfo::Udp(u) => (Proto::Udp, u.local_addr, u.local_port),
            };
            (key, s.associated_pids.iter().copied().min())
        })
        .collect())
}
