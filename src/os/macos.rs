//! macOS: peer credentials (`getpeereid`: user and group, no pid or supplementary groups), and
//! the capture-rights hint (BPF devices belong to root unless a helper such as Wireshark's
//! ChmodBPF opened them up).

use super::Peer;
use std::io;
use std::net::TcpListener;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;

/// The credentials of the process at the other end of `stream`.
pub fn peer_of(stream: &UnixStream) -> io::Result<Peer> {
    let (mut uid, mut gid) = (0, 0);
    // SAFETY: two valid out-pointers.
    let rc = unsafe { libc::getpeereid(stream.as_raw_fd(), &mut uid, &mut gid) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(Peer { pid: 0, uid, gid, groups: Vec::new() })
}

/// A blocked `accept` cannot be woken from outside here: the acceptor polls its stop flag.
pub fn wake_listener(listener: &TcpListener) {
    let _ = listener;
}

/// What to tell a user whose live capture was refused for lack of rights.
pub fn capture_rights_hint() -> &'static str {
    "run it as root (sudo), or use the Leakwatch service (a launchd daemon), which captures for members of group \
     leakwatch; the BPF devices /dev/bpf* belong to root"
}

/// Whether process `pid` exists (`kill(pid, 0)`: EPERM means it exists under another user).
pub fn process_alive(pid: u32) -> Option<bool> {
    let pid = libc::pid_t::try_from(pid).ok()?;
    // SAFETY: signal 0 only checks that the process exists.
    if unsafe { libc::kill(pid, 0) } == 0 {
        return Some(true);
    }
    Some(io::Error::last_os_error().raw_os_error() == Some(libc::EPERM))
}

/// macOS has no kernel tracer of new connections here yet: programs that exit between two table
/// reads are missed (Linux has its connect tracer, Windows its ETW session).
pub enum EventTracer {}

impl EventTracer {
    /// Always refused, saying so.
    pub fn start() -> Result<EventTracer, String> {
        Err("connection tracing is only available on Linux and Windows".into())
    }

    /// Never called: there is no tracer.
    pub fn feed(&self) -> &super::attrib::Feed {
        match *self {}
    }
}

/// Built without the `macos-sockets` feature (a check from Linux, which lacks Apple's SDK headers
/// for netstat2's libproc bindings): no socket table, programs stay unknown.
#[cfg(not(feature = "macos-sockets"))]
pub fn socket_owners() -> anyhow::Result<super::SocketOwners> {
    anyhow::bail!("this build has no socket table: build it on a Mac with the default feature macos-sockets")
}
