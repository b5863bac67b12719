//! Everything that differs between operating systems, in one place: one module per system
//! (`linux`, `macos`, `windows`, with what Linux and macOS share in `unix`, and what Windows and
//! macOS share in `netstat`), each offering the same names, so the rest of the engine is written
//! once: outside `os/` no code is compiled per system.
//!
//! What each offers:
//! * the local API's transport: [`LocalListener`] / [`LocalStream`] (Unix sockets; AF_UNIX on
//!   Windows 10+), [`peer_of`] (who connected, as the kernel says) and [`Peer`];
//! * users and groups: [`group_id`], [`user_name`], [`current_user_name`];
//! * file modes: [`set_group_and_mode`], [`private_file`], [`nonblocking_open`],
//!   [`special_file_kind`], [`create_private_dir`], [`sync_dir`];
//! * daemon control: [`Signals`] (stop and reload requests);
//! * capture: [`capture_library`] (is libpcap / Npcap there?), [`Readiness`] (waiting for a
//!   capture handle to be readable), [`capture_rights_hint`];
//! * [`host_name`], [`process_alive`], [`wake_listener`], [`stderr_file_id`];
//! * [`installed`]: whether a program's executable is an installed one;
//! * the socket → program source, `Sockets`, behind the [`attrib::SocketSource`] trait: which
//!   program holds which socket, and the change feed of a kernel tracer that tells the owners of
//!   new connections as they open (Linux: `linux/sockets.rs` with procfs, netlink and the connect
//!   tracer `linux/connect_trace/`; Windows and macOS: `netstat.rs` with `netstat2` and
//!   `sysinfo`, and on Windows the ETW session `windows/etw.rs`). The table on top of it,
//!   [`crate::process::SystemSocketTable`], is written once;
//! * [`etw_event`]: the Windows kernel network events decoded (plain byte parsing, built and
//!   tested everywhere).
//! * [`paths`]: where the service keeps its files on each system; [`service`]: registering it
//!   with the system's service manager (Windows's SCM in `winservice.rs`, launchd in
//!   [`launchd`], systemd's unit on Linux) and running under it.

pub mod attrib;
pub mod etw_event;
pub mod installed;
pub mod launchd;
pub mod paths;
pub mod service;
#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub use unix::*;

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
pub use linux::*;

#[cfg(target_os = "macos")]
mod macos;
#[cfg(target_os = "macos")]
pub use macos::*;

#[cfg(any(windows, target_os = "macos"))]
mod netstat;
#[cfg(any(windows, target_os = "macos"))]
pub use netstat::NetstatSockets as Sockets;
#[cfg(any(windows, all(target_os = "macos", feature = "macos-sockets")))]
pub use netstat::socket_owners;

#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub use windows::*;
#[cfg(windows)]
mod winservice;

/// Who connected to the local API, as the kernel says (the caller cannot choose it). On Windows,
/// which has no user ids, `uid` is 0 for an elevated caller and another number for the rest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peer {
    pub pid: i32,
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups of the connecting process, when the kernel tells them.
    pub groups: Vec<u32>,
}

impl Peer {
    /// Whether the peer is root (elevated, on Windows) or in group `gid` (primary or
    /// supplementary).
    pub fn is_root_or_in(&self, gid: Option<u32>) -> bool {
        self.uid == 0 || gid.is_some_and(|g| self.gid == g || self.groups.contains(&g))
    }
}

/// Sockets and their owners: (protocol, local address, local port) → the lowest pid holding it.
pub type SocketOwners = Vec<((crate::packet::Proto, std::net::IpAddr, u16), Option<u32>)>;

/// What waiting for a capture handle found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// Packets (or an end) are there to read.
    Ready,
    /// Nothing came within the time given (or the wait was interrupted): look again.
    Timeout,
    /// The handle is broken: the capture should be reopened.
    Error,
}
