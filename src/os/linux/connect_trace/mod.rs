//! Who opens each outgoing TCP connection, told by the kernel as it happens (Linux).
//!
//! A program that connects, sends and exits within a few milliseconds is gone before any socket
//! table can be read. The kernel's `sock:inet_sock_set_state` tracepoint fires inside `connect()`
//! itself, in the connecting process, so one perf event per CPU on it (no eBPF, no compiler)
//! gives the pid of every new connection; its name and executable are read at that moment, while
//! the process certainly lives. The thread that reads the rings sends
//! "local endpoint → program" to the socket table over its feed ([`crate::os::attrib::feed`]);
//! the engine never waits for it.
//!
//! Needs the tracing file system (`/sys/kernel/tracing`) to find the tracepoint, and root or
//! `CAP_PERFMON` to open it. When it cannot start, [`TraceError`] says why and how to fix it, and
//! the socket table works as before (less exact for short-lived programs).

mod event;
mod ring;
mod route;

pub use event::{Correlator, Layout, StateChange};
pub use route::{RouteLayout, UdpSend};

use crate::os::attrib::{Feed, FeedTx, Programs, Recent, Traced, feed};
use crate::packet::Proto;
use crate::process::ProcessInfo;
use ahash::AHashMap;
use ring::{Record, Ring};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

/// Where the tracing file system is usually mounted.
const TRACEFS: [&str; 2] = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"];
const EVENT: &str = "events/sock/inet_sock_set_state";
/// Only changes into or out of SYN_SENT are needed (the kernel filters the rest out).
const FILTER: &str = "oldstate == 2 || newstate == 2";
/// Connections being opened at once that are remembered (far more than any machine opens in the
/// few milliseconds a handshake takes).
const MAX_PENDING: usize = 16_384;
/// Programs remembered by pid, and names of programs started (by `execve`) remembered by pid.
const MAX_PROGRAMS: usize = 16_384;
/// How long the reader sleeps when nothing happens (it also checks for stop this often).
const POLL_MS: i32 = 200;

/// Why connection tracing is off. Each message says how to turn it on.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error(
        "the kernel's tracing file system is not mounted; mount it with `sudo mount -t tracefs nodev /sys/kernel/tracing` (leakwatch does this itself when run as root)"
    )]
    NoTracefs,
    #[error("this kernel has no sock:inet_sock_set_state tracepoint (Linux 4.16 or later has it)")]
    NoTracepoint,
    #[error(
        "cannot read {path}: {source}; run as root, or use the Leakwatch service, which has the rights (cap_perfmon and the tracing file system): sudo systemctl start leakwatch"
    )]
    Read { path: PathBuf, source: io::Error },
    #[error("the tracepoint's format in {path} is not understood: {reason}")]
    Format { path: PathBuf, reason: String },
    #[error(
        "not permitted to trace connections ({source}): it needs cap_perfmon; run as root, or use the Leakwatch service, which has it: sudo systemctl start leakwatch (capabilities on a binary that users run would give them to every user)"
    )]
    Permission { source: io::Error },
    #[error("cannot open the connection tracepoint on CPU {cpu}: {source}")]
    Open { cpu: i32, source: io::Error },
}

/// The running tracer; stops when dropped.
pub struct ConnectTracer {
    feed: Feed,
    stop: Arc<AtomicBool>,
    cpus: usize,
    thread: Option<JoinHandle<()>>,
}

impl ConnectTracer {
    /// Opens the tracepoint on every online CPU and starts the reader thread.
    pub fn start() -> Result<ConnectTracer, TraceError> {
        let dir = event_dir()?;
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read_to_string(&path).map_err(|source| TraceError::Read { path, source })
        };
        let id: u64 = read("id")?
            .trim()
            .parse()
            .map_err(|_| TraceError::Format { path: dir.join("id"), reason: "not a number".into() })?;
        let layout = Layout::parse(&read("format")?)
            .map_err(|reason| TraceError::Format { path: dir.join("format"), reason })?;
        let mut rings = Vec::new();
        let online = ring::online_cpus();
        for &cpu in &online {
            match Ring::open(id, cpu, true) {
                Ok(r) => rings.push(r),
                Err(e) if matches!(e.raw_os_error(), Some(libc::EACCES | libc::EPERM)) => {
                    return Err(TraceError::Permission { source: e });
                }
                // A CPU that went offline meanwhile.
                Err(e) if e.raw_os_error() == Some(libc::ENODEV) => {}
                Err(source) => return Err(TraceError::Open { cpu, source }),
            }
        }
        if rings.is_empty() {
            return Err(TraceError::Open { cpu: 0, source: io::Error::from(io::ErrorKind::NotFound) });
        }
        for r in &rings {
            // Without the filter every state change comes through: more work, same answers.
            let _ = r.set_filter(FILTER);
            r.enable().map_err(|source| TraceError::Open { cpu: -1, source })?;
        }
        // CPUs traced (counted before the route rings join the list).
        let cpus = rings.len();
        // UDP senders, through the route look-ups: best effort, TCP tracing works without them.
        let routes = match route_rings(&dir, &online) {
            Ok((layouts, more)) => {
                rings.extend(more);
                layouts
            }
            Err(e) => {
                tracing::info!("UDP senders are not traced ({e}); short-lived UDP senders may go unattributed");
                Vec::new()
            }
        };
        let (tx, feed) = feed();
        let stop = Arc::new(AtomicBool::new(false));
        let reader = Reader {
            sock_id: u16::try_from(id).unwrap_or(u16::MAX),
            layout,
            routes,
            correlator: Correlator::new(MAX_PENDING),
            programs: Programs::new(super::Sockets::default(), MAX_PROGRAMS),
            execs: AHashMap::with_capacity(MAX_PROGRAMS),
            udp_told: Recent::new(MAX_PROGRAMS),
        };
        let thread = {
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("leakwatch-connect-trace".into())
                .spawn(move || reader.run(rings, &tx, &stop))
                .map_err(|source| TraceError::Open { cpu: -1, source })?
        };
        Ok(ConnectTracer { feed, stop, cpus, thread: Some(thread) })
    }

    /// What the tracer has told, for the socket table.
    pub fn feed(&self) -> &Feed {
        &self.feed
    }

    /// Number of CPUs traced.
    pub fn cpus(&self) -> usize {
        self.cpus
    }
}

impl Drop for ConnectTracer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The two route look-up tracepoints (IPv4, IPv6) opened on every CPU of `cpus`, filtered to UDP
/// output look-ups, enabled; the error says which step failed.
fn route_rings(dir: &Path, cpus: &[i32]) -> Result<(Vec<RouteLayout>, Vec<Ring>), String> {
    // `dir` is `<tracefs>/events/sock/inet_sock_set_state`, found once by `event_dir`.
    let root = dir.ancestors().nth(3).ok_or("no tracing file system")?.to_path_buf();
    let (mut layouts, mut rings) = (Vec::new(), Vec::new());
    for event in route::EVENTS {
        let read = |name: &str| {
            let path = root.join(event).join(name);
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))
        };
        let id: u16 = read("id")?.trim().parse().map_err(|_| format!("{event}/id: not a number"))?;
        layouts.push(RouteLayout::parse(id, &read("format")?)?);
        for &cpu in cpus {
            let r = Ring::open(u64::from(id), cpu, false).map_err(|e| format!("{event} on CPU {cpu}: {e}"))?;
            r.set_filter(route::FILTER).map_err(|e| format!("{event}: filter: {e}"))?;
            r.enable().map_err(|e| format!("{event}: {e}"))?;
            rings.push(r);
        }
    }
    Ok((layouts, rings))
}

/// The directory of the tracepoint in the first tracing file system that has it. When none is
/// mounted and this process may mount one (root, or inside `ip netns exec`, whose fresh `/sys`
/// has none), it mounts tracefs at `/sys/kernel/tracing` as `perf` does.
fn event_dir() -> Result<PathBuf, TraceError> {
    match find_event_dir() {
        Err(TraceError::NoTracefs) if mount_tracefs() => find_event_dir(),
        r => r,
    }
}

fn mount_tracefs() -> bool {
    let (src, target, fstype) = (c"nodev", c"/sys/kernel/tracing", c"tracefs");
    // SAFETY: plain NUL-terminated strings; no data argument.
    unsafe { libc::mount(src.as_ptr(), target.as_ptr(), fstype.as_ptr(), 0, std::ptr::null()) == 0 }
}

fn find_event_dir() -> Result<PathBuf, TraceError> {
    let mut mounted = false;
    for root in TRACEFS {
        let root = Path::new(root);
        let dir = root.join(EVENT);
        if dir.join("id").exists() {
            return Ok(dir);
        }
        // An unreadable tracefs (mode 700 for root) looks empty to others: say so.
        match std::fs::read_dir(root) {
            Ok(d) => mounted |= d.count() > 0,
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                return Err(TraceError::Read { path: root.to_path_buf(), source: e });
            }
            _ => {}
        }
    }
    Err(if mounted { TraceError::NoTracepoint } else { TraceError::NoTracefs })
}

/// The reader thread's state.
struct Reader {
    /// The id of `sock:inet_sock_set_state` (a record's `common_type`).
    sock_id: u16,
    layout: Layout,
    /// The route look-up tracepoints opened (none when they could not be).
    routes: Vec<RouteLayout>,
    /// UDP endpoints told in the last second: a program sending many datagrams from one socket
    /// is told once a second, not once a datagram.
    udp_told: Recent,
    correlator: Correlator<Arc<ProcessInfo>>,
    /// Programs by pid and start time.
    programs: Programs<super::Sockets>,
    /// pid → name given by its last `execve`: the name of a program that exited before its
    /// `/proc` entry could be read. Every program started on the machine passes through here, so
    /// the name is kept inline (no allocation per `execve`) and the table is sized once.
    execs: AHashMap<u32, Comm>,
}

/// The kernel's name of a program (`comm`), at most `TASK_COMM_LEN - 1` bytes, kept inline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Comm {
    len: u8,
    bytes: [u8; Comm::MAX],
}

impl Comm {
    /// The kernel never gives more than 15 bytes (`TASK_COMM_LEN` is 16 with the NUL).
    const MAX: usize = 15;

    /// The first [`Comm::MAX`] bytes of `raw` (a longer name from a future kernel is cut).
    fn new(raw: &[u8]) -> Comm {
        let len = raw.len().min(Comm::MAX);
        let mut bytes = [0; Comm::MAX];
        bytes[..len].copy_from_slice(&raw[..len]);
        Comm { len: len as u8, bytes }
    }

    /// The name as text (bytes that are not UTF-8 become U+FFFD).
    fn name(&self) -> String {
        String::from_utf8_lossy(&self.bytes[..self.len as usize]).into_owned()
    }
}

impl Reader {
    fn run(mut self, mut rings: Vec<Ring>, tx: &FeedTx, stop: &AtomicBool) {
        let mut fds: Vec<libc::pollfd> =
            rings.iter().map(|r| libc::pollfd { fd: r.raw_fd(), events: libc::POLLIN, revents: 0 }).collect();
        // Samples of one round, copied out of the rings (reused buffers): they are handled once
        // every ring's `execve` records are in, because a program's `execve` and its connect can
        // sit in the rings of two CPUs, and a program that has already exited is known only by
        // the name its `execve` gave. Handled ring by ring, its connect was read first now and
        // then and the program went unattributed (1 or 2 of 30 short-lived programs in
        // tests/service_netns.rs).
        let mut samples: Vec<(u32, std::ops::Range<usize>)> = Vec::new();
        let mut raw_bytes: Vec<u8> = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            // SAFETY: `fds` is a valid array of pollfd for the duration of the call.
            let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, POLL_MS) };
            if n < 0 && io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
                std::thread::sleep(std::time::Duration::from_millis(POLL_MS as u64));
            }
            samples.clear();
            raw_bytes.clear();
            for r in &mut rings {
                let lost = r.drain(|rec| match rec {
                    Record::Sample { pid, raw } => {
                        let start = raw_bytes.len();
                        raw_bytes.extend_from_slice(raw);
                        samples.push((pid, start..raw_bytes.len()));
                    }
                    Record::Exec { pid, comm } => self.on_exec(pid, comm),
                });
                tx.lost(lost);
            }
            for (pid, range) in samples.drain(..) {
                self.on_sample(pid, &raw_bytes[range], tx);
            }
        }
    }

    fn on_sample(&mut self, pid: u32, raw: &[u8], tx: &FeedTx) {
        let kind = raw.get(..2).map(|b| u16::from_ne_bytes([b[0], b[1]]));
        if kind != Some(self.sock_id) {
            if let Some(send) = self.routes.iter().find(|l| Some(l.id) == kind).and_then(|l| l.decode(raw)) {
                self.on_udp_send(pid, send, tx);
            }
            return;
        }
        let Some(change) = self.layout.decode(raw) else { return };
        let owner = if change.is_connect() { self.program(pid) } else { None };
        let Some((local, port, owner)) = self.correlator.on_change(&change, owner) else { return };
        tx.send(Traced { proto: Proto::Tcp, local, port, owner });
    }

    /// A datagram's route looked up by process `pid`: its local endpoint is that program's.
    fn on_udp_send(&mut self, pid: u32, send: UdpSend, tx: &FeedTx) {
        if !self.udp_told.tell((Proto::Udp, send.local, send.local_port), pid, std::time::Instant::now()) {
            return;
        }
        let Some(owner) = self.program(pid) else { return };
        tx.send(Traced { proto: Proto::Udp, local: send.local, port: send.local_port, owner });
    }

    fn on_exec(&mut self, pid: u32, comm: &[u8]) {
        if self.execs.len() >= MAX_PROGRAMS {
            self.execs.clear();
        }
        self.execs.insert(pid, Comm::new(comm));
        // A reused pid: what was cached for it is another program.
        self.programs.forget(pid);
    }

    /// The program with this pid, read now (cached by pid and start time); when it is already
    /// gone, the name its `execve` gave, without the executable's path.
    fn program(&mut self, pid: u32) -> Option<Arc<ProcessInfo>> {
        match self.programs.get(pid) {
            Some(p) => Some(p),
            None => {
                let name = self.execs.get(&pid)?.name();
                Some(Arc::new(ProcessInfo { pid, name, exe: None, installed: false }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Comm;

    #[test]
    fn a_program_name_is_kept_whole_up_to_fifteen_bytes_and_cut_after() {
        assert_eq!(Comm::new(b"curl").name(), "curl");
        assert_eq!(Comm::new(b"").name(), "");
        assert_eq!(Comm::new(b"exactly-15-byte").name(), "exactly-15-byte");
        assert_eq!(Comm::new(b"a-name-longer-than-the-kernel-gives").name(), "a-name-longer-t");
        assert_eq!(Comm::new(b"bad\xffname").name(), "bad\u{fffd}name");
    }
}
