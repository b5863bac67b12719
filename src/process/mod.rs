//! Which program owns a socket: the `SocketTable` trait, and the table used when none is known.
//!
//! Live capture uses [`SystemSocketTable`] (`netstat2`, plus `/proc` on Linux and `sysinfo`
//! elsewhere); replay of a capture file has no way to know, so it uses [`NoSocketTable`]; tests use
//! [`FakeSocketTable`].

#[cfg(target_os = "linux")]
pub mod connect_trace;
#[cfg(any(target_os = "linux", target_os = "android"))]
mod procfs;
mod system;

pub use system::{MISS_REFRESH_INTERVAL, SystemSocketTable, read_process_info};

use crate::packet::Proto;
use serde::Serialize;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

/// A program, as shown to the user.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct ProcessInfo {
    pub pid: u32,
    pub name: String,
    /// Full path of the executable, when known.
    pub exe: Option<String>,
}

/// Looks up the process that owns a local socket.
pub trait SocketTable: Send {
    /// The owner of the local endpoint `(proto, ip, port)`, if known.
    fn lookup(&mut self, proto: Proto, local_ip: IpAddr, local_port: u16) -> Option<Arc<ProcessInfo>>;

    /// Called about once a second (the engine's clock): a chance for a slow background refresh.
    fn tick(&mut self) {}

    /// The owner of `(proto, ip, port)` if it is known without any work (the kernel already
    /// told it): asked for every packet of a flow still without a program, where
    /// [`SocketTable::lookup`] is asked only now and then.
    fn quick_lookup(&mut self, _proto: Proto, _local_ip: IpAddr, _local_port: u16) -> Option<Arc<ProcessInfo>> {
        None
    }

    /// Whether asking again can ever find a program (not for [`NoSocketTable`]): the engine then
    /// skips its periodic second chance for unattributed flows.
    fn can_attribute(&self) -> bool {
        true
    }
}

/// Knows no process: replay of capture files.
#[derive(Default)]
pub struct NoSocketTable;

impl SocketTable for NoSocketTable {
    fn lookup(&mut self, _: Proto, _: IpAddr, _: u16) -> Option<Arc<ProcessInfo>> {
        None
    }

    fn can_attribute(&self) -> bool {
        false
    }
}

/// A fixed table for tests: local port (and protocol) → process; the address is ignored
/// unless given.
#[derive(Default, Clone)]
pub struct FakeSocketTable {
    by_port: HashMap<(Proto, u16), Arc<ProcessInfo>>,
    /// Raw sockets: any packet of the protocol that no port entry claims.
    raw: HashMap<Proto, Arc<ProcessInfo>>,
}

impl FakeSocketTable {
    /// Declares that `process` owns local `port` for `proto`.
    pub fn with(mut self, proto: Proto, port: u16, process: ProcessInfo) -> Self {
        self.by_port.insert((proto, port), Arc::new(process));
        self
    }

    /// Declares that `process` holds a raw socket of `proto` (as `/proc/net/raw` tells): it owns
    /// the packets of that protocol that no [`FakeSocketTable::with`] entry claims.
    pub fn with_raw(mut self, proto: Proto, process: ProcessInfo) -> Self {
        self.raw.insert(proto, Arc::new(process));
        self
    }
}

impl SocketTable for FakeSocketTable {
    fn lookup(&mut self, proto: Proto, _: IpAddr, port: u16) -> Option<Arc<ProcessInfo>> {
        self.by_port.get(&(proto, port)).or_else(|| self.raw.get(&proto)).cloned()
    }
}

/// Whether a program is one of the "standard" apps the passive detector leaves alone
/// (browsers, Skype, Steam, torrent clients, Dropbox). Unknown programs are unusual.
///
/// This is the name part of the legacy `Pattern.StdApps`; the pattern engine (issue 3)
/// replaces it with the shipped patterns.
pub fn is_standard_app(process: Option<&ProcessInfo>) -> bool {
    let Some(p) = process else { return false };
    let name = p.name.to_ascii_lowercase();
    [
        "chrome",
        "firefox",
        "mozilla",
        "iexplore",
        "opera",
        "safari",
        "browser",
        "iceweasel",
        "amigo",
        "skype",
        "steam",
        "torrent",
        "dropbox",
    ]
    .iter()
    .any(|k| name.contains(k))
}
