//! Which program owns a socket: the `SocketTable` trait, and the table used when none is known.
//!
//! Live capture uses [`SystemSocketTable`], which reads the system through `crate::os::Sockets`
//! (netlink, `/proc` and the kernel connect tracer on Linux; `netstat2`, `sysinfo` and ETW on
//! Windows; `netstat2` and `sysinfo` on macOS); replay of a capture file has no way to know, so it
//! uses [`NoSocketTable`]; tests use [`FakeSocketTable`].

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
    /// Whether the executable is an installed program ([`crate::os::installed`]): the file and
    /// every folder above it belong to the system and no one else may write them. Only then does
    /// a filter believe the program's name ([`ProcessInfo::believed_name`]): any program can call
    /// itself `firefox`, only an administrator can put one in `/usr/lib/firefox`.
    pub installed: bool,
}

impl ProcessInfo {
    /// A program as the OS describes it: `installed` is checked on the file system now.
    pub fn observed(pid: u32, name: String, exe: Option<String>) -> ProcessInfo {
        let installed = exe.as_deref().is_some_and(|e| crate::os::installed::is_installed(Some(pid), e));
        ProcessInfo { pid, name, exe, installed }
    }

    /// The name filters may believe: the file name of the installed executable, not the name the
    /// process gives itself (`comm`, `argv[0]`); `None` for a program that is not installed or
    /// whose executable is unknown. The process's own name is kept when it is that file name, cut
    /// at the kernel's 15 bytes, or without a version suffix (`python3` running `python3.11`, the
    /// name the user sees and legacy ignores use): a name a process can give itself only by being
    /// that program.
    pub fn believed_name(&self) -> Option<&str> {
        if !self.installed {
            return None;
        }
        let file = file_name(self.exe.as_deref()?)?;
        let own = self.name.as_str();
        let same = match file.strip_prefix(own) {
            _ if own.is_empty() => false,
            Some(rest) => own.len() == 15 || rest.chars().all(|c| c.is_ascii_digit() || c == '.' || c == '-'),
            None => false,
        };
        Some(if same { own } else { file })
    }

    /// The name threat patterns name a leak by: the believed name when the executable is known
    /// (a renamed `firefox` in a home folder is not named a browser), else the process's own name
    /// (the only one there is: a process already gone, a kernel thread).
    pub fn naming_name(&self) -> Option<&str> {
        if self.exe.is_some() { self.believed_name() } else { Some(&self.name) }
    }
}

/// The last component of a path, with `/` or `\\` as separator (a Windows path read on any OS).
fn file_name(path: &str) -> Option<&str> {
    path.rsplit(['/', '\\']).next().filter(|s| !s.is_empty())
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
/// replaces it with the shipped patterns. Only the believed name counts
/// ([`ProcessInfo::believed_name`]).
pub fn is_standard_app(process: Option<&ProcessInfo>) -> bool {
    let Some(name) = process.and_then(ProcessInfo::believed_name) else { return false };
    let name = name.to_ascii_lowercase();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn p(name: &str, exe: Option<&str>, installed: bool) -> ProcessInfo {
        ProcessInfo { pid: 1, name: name.into(), exe: exe.map(str::to_string), installed }
    }

    #[test]
    fn the_believed_name_is_the_installed_executables() {
        let cases = [
            (p("firefox", Some("/usr/lib/firefox/firefox"), true), Some("firefox")),
            (p("Socket Process", Some("/usr/lib/firefox-esr/firefox-esr"), true), Some("firefox-esr")),
            (p("python3", Some("/usr/bin/python3.11"), true), Some("python3")),
            (p("firefox", Some("/usr/bin/python3.11"), true), Some("python3.11")),
            (p("chrome", Some("/usr/bin/chromedriver"), true), Some("chromedriver")),
            (p("gnome-shell-cal", Some("/usr/libexec/gnome-shell-calendar-server"), true), Some("gnome-shell-cal")),
            (p("firefox.exe", Some("C:\\Program Files\\Mozilla Firefox\\firefox.exe"), true), Some("firefox.exe")),
            (p("firefox", Some("/home/u/firefox"), false), None),
            (p("firefox", None, false), None),
        ];
        for (proc_, want) in cases {
            assert_eq!(proc_.believed_name(), want, "{proc_:?}");
        }
        assert_eq!(p("firefox", None, false).naming_name(), Some("firefox"), "no executable: its own name");
        assert_eq!(p("firefox", Some("/home/u/firefox"), false).naming_name(), None);
    }
}
