//! Linux: peer credentials with groups (`SO_PEERCRED`, `SO_PEERGROUPS`), waking a blocked
//! `accept`, the capture-rights hint (file capabilities or the service), and the socket → program
//! source ([`Sockets`]: netlink, `/proc` and the kernel connect tracer, [`connect_trace`]).

pub mod connect_trace;
mod procfs;
mod sockets;

pub use sockets::LinuxSockets as Sockets;

use super::Peer;
use std::io;
use std::net::TcpListener;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;

/// The credentials of the process at the other end of `stream`, taken when it connected.
pub fn peer_of(stream: &UnixStream) -> io::Result<Peer> {
    let fd = stream.as_raw_fd();
    let mut cred = libc::ucred { pid: 0, uid: u32::MAX, gid: u32::MAX };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: `cred` is a valid ucred and `len` its size, as SO_PEERCRED requires.
    let rc = unsafe { libc::getsockopt(fd, libc::SOL_SOCKET, libc::SO_PEERCRED, (&raw mut cred).cast(), &raw mut len) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    let mut groups = vec![0u32; 256];
    let mut glen = (groups.len() * std::mem::size_of::<libc::gid_t>()) as libc::socklen_t;
    // SAFETY: `groups` has room for `glen` bytes of gid_t.
    let rc = unsafe {
        libc::getsockopt(fd, libc::SOL_SOCKET, libc::SO_PEERGROUPS, groups.as_mut_ptr().cast(), &raw mut glen)
    };
    if rc == 0 {
        groups.truncate(glen as usize / std::mem::size_of::<libc::gid_t>());
    } else {
        groups.clear();
    }
    Ok(Peer { pid: cred.pid, uid: cred.uid, gid: cred.gid, groups })
}

/// Makes a blocked `accept` on `listener` (or a clone of it) return.
pub fn wake_listener(listener: &TcpListener) {
    // SAFETY: shutdown(2) on a descriptor we own; no memory is involved.
    unsafe {
        libc::shutdown(listener.as_raw_fd(), libc::SHUT_RDWR);
    }
}

/// What to tell a user whose live capture was refused for lack of rights.
pub fn capture_rights_hint() -> &'static str {
    "run it as root (sudo), or use the Leakwatch service (sudo systemctl start leakwatch), which captures for \
     members of group leakwatch"
}

/// Whether process `pid` exists (`/proc/PID`).
pub fn process_alive(pid: u32) -> Option<bool> {
    Some(std::path::Path::new("/proc").join(pid.to_string()).exists())
}
