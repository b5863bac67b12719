//! Naming destinations: host names seen on the wire (DNS answers, TLS SNI, HTTP Host),
//! reverse DNS as a last resort, and organisation / ASN / country from an offline database.

use std::net::{IpAddr, SocketAddr};

/// Where a host name was learned. Earlier variants are more trustworthy for naming what a
/// program meant to reach.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NameSource {
    /// TLS ClientHello server name sent by the program itself.
    Sni,
    /// HTTP `Host` header sent by the program itself.
    HttpHost,
    /// A DNS answer seen on the wire (the name that was asked for).
    Dns,
    /// Reverse DNS (PTR) lookup.
    ReverseDns,
}

/// A name learned for an address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameFact {
    pub ip: IpAddr,
    pub name: String,
    pub source: NameSource,
    /// The connection (client, server) that carried the name. For SNI and HTTP Host: the
    /// connection it names, and only that one (see [`NameScope`]). For a DNS answer: the
    /// querying socket (client) and the resolver that answered (server), which decide whom the
    /// answer names. `None` for reverse DNS.
    pub conn: Option<(SocketAddr, SocketAddr)>,
}

impl NameFact {
    /// This fact, as carried by packet `p`'s connection.
    pub fn on(mut self, p: &crate::packet::Packet) -> NameFact {
        self.conn = Some((SocketAddr::new(p.src, p.sport), SocketAddr::new(p.dst, p.dport)));
        self
    }
}

/// Whom a name learned from a DNS answer names an address for.
///
/// A name is a claim, and a claim is worth what its author is: a program that asks its own
/// resolver (a server it chose) can be told any name for any address, so that answer names the
/// address for that program only, like the TLS SNI and HTTP Host it sends itself (those are not
/// kept here at all: they name their own connection, see `flows::Flow::name`, and the threat of
/// that program to that address). Only an answer the system's resolver received or gave names
/// the address for every program (see [`is_system_resolver`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NameScope {
    /// Every program: the system's resolver asked or answered (and reverse DNS).
    Everyone,
    /// The program with this PID only: it asked a resolver of its own.
    Program(u32),
    /// Threats whose program is unknown only: the querying socket's owner was not found (a
    /// capture from elsewhere, a socket already closed).
    Unattributed,
}

impl NameScope {
    /// The scope a threat or flow of the program `pid` (None: unknown) reads names in, beside
    /// [`NameScope::Everyone`].
    pub fn of(pid: Option<u32>) -> NameScope {
        pid.map_or(NameScope::Unattributed, NameScope::Program)
    }
}

/// Executables of the system resolvers whose own upstream queries name addresses for everyone
/// (the querying socket is theirs: they asked on behalf of every program).
pub const SYSTEM_RESOLVER_EXES: [&str; 8] = [
    "/usr/lib/systemd/systemd-resolved",
    "/lib/systemd/systemd-resolved",
    "/usr/sbin/dnsmasq",
    "/usr/sbin/unbound",
    "/usr/sbin/named",
    "/usr/bin/dnsmasq",
    "/usr/sbin/pdns_recursor",
    "/usr/sbin/kresd",
];

/// Whether a DNS answer from `server` went through the system's resolver, on Linux:
/// - `server` is a loopback address on port 53 (systemd-resolved's stubs 127.0.0.53 and
///   127.0.0.54, dnsmasq or unbound on 127.0.0.1 / ::1): only a privileged process can listen
///   on port 53 (below `net.ipv4.ip_unprivileged_port_start`, 1024 by default);
/// - or `server` is one of `configured` (the `nameserver` lines of `/etc/resolv.conf` and of
///   `/run/systemd/resolve/resolv.conf`, read when live capture starts: see
///   [`system_resolvers_from`]).
///
/// The third case, the querying socket belonging to a system resolver process (by executable,
/// [`SYSTEM_RESOLVER_EXES`]), is decided by the engine, which knows the socket's owner.
pub fn is_system_resolver(server: SocketAddr, configured: &[IpAddr]) -> bool {
    (server.ip().is_loopback() && server.port() == 53) || configured.contains(&server.ip())
}

/// The `nameserver` addresses of resolv.conf-style `text`.
pub fn system_resolvers_from(text: &str) -> Vec<IpAddr> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("nameserver"))
        .filter_map(|rest| rest.split_whitespace().next())
        // A scoped IPv6 address (fe80::1%eth0) loses its zone: addresses are compared bare.
        .filter_map(|a| a.split('%').next().and_then(|a| a.parse().ok()))
        .collect()
}

/// The system's configured resolvers on this machine (see [`is_system_resolver`]); empty when
/// the files cannot be read.
pub fn system_resolvers() -> Vec<IpAddr> {
    let mut out = Vec::new();
    for path in ["/etc/resolv.conf", "/run/systemd/resolve/resolv.conf"] {
        if let Ok(text) = std::fs::read_to_string(path) {
            for ip in system_resolvers_from(&text) {
                if !out.contains(&ip) {
                    out.push(ip);
                }
            }
        }
    }
    out
}

pub mod asn;
pub mod asn_cache;
pub mod dns;
pub mod extract;
pub mod http;
pub mod owner;
pub mod reverse;
pub mod sni;
pub mod table;

/// Lower-cases a host name, strips one trailing dot and checks it looks like a DNS name
/// (letters, digits, `-`, `_`, `.`; 1–253 bytes; not an IP literal). `None` otherwise.
pub(crate) fn clean_host(raw: &[u8]) -> Option<String> {
    let raw = raw.strip_suffix(b".").unwrap_or(raw);
    if raw.is_empty() || raw.len() > 253 || raw.starts_with(b".") {
        return None;
    }
    if !raw.iter().all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')) {
        return None;
    }
    // ASCII only from here on.
    let s = std::str::from_utf8(raw).ok()?;
    if s.parse::<IpAddr>().is_ok() {
        return None;
    }
    Some(s.to_ascii_lowercase())
}

/// Everything the engine knows to name a destination: host names seen on the wire and the
/// offline organisation / ASN / country database (absent until loaded, or when missing), and
/// the reverse DNS resolver (live capture only: a capture file's addresses are never looked up).
#[derive(Default)]
pub struct Naming {
    pub names: table::NameTable,
    pub asn: Option<std::sync::Arc<asn::AsnDb>>,
    pub reverse: Option<reverse::ReverseDns>,
}

/// What is known of one destination address.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Destination {
    pub hostname: Option<String>,
    /// Where the host name was learned and whom it names.
    pub source: Option<(NameSource, NameScope)>,
    pub orgname: Option<String>,
    pub asn: Option<u32>,
    pub country: Option<String>,
}

impl Naming {
    /// [`describe`](Self::describe) for an alert: an address without a host name is also given to
    /// reverse DNS, whose answer names it from then on (its later updates, its flows).
    pub fn describe_for_alert(&self, ip: IpAddr, scope: NameScope) -> Destination {
        let d = self.describe_for(ip, scope);
        if d.hostname.is_none()
            && let Some(r) = &self.reverse
        {
            r.request(ip);
        }
        d
    }

    /// Files the reverse DNS answers received so far (least trusted: a name seen on the wire
    /// wins), at packet time `now`.
    pub fn absorb_reverse(&mut self, now: crate::time::Ts) {
        let Some(r) = &self.reverse else { return };
        let names = &mut self.names;
        r.drain(|ip, name| {
            names.insert(NameFact { ip, name, source: NameSource::ReverseDns, conn: None }, NameScope::Everyone, now)
        });
    }

    /// The host name learned for `ip` for every program, if any.
    pub fn lookup(&self, ip: IpAddr) -> Option<&str> {
        self.names.lookup(ip, NameScope::Everyone).map(|(n, _, _)| n)
    }

    /// Host name, organisation, ASN and country of `ip` as every program sees it (allocates:
    /// call per alert or per reported flow, never per packet). Unknown stays unknown.
    pub fn describe(&self, ip: IpAddr) -> Destination {
        self.describe_for(ip, NameScope::Everyone)
    }

    /// [`describe`](Self::describe) for a threat or flow of a program in `scope`: a name the
    /// program's own resolver gave counts for it (and only for it).
    pub fn describe_for(&self, ip: IpAddr, scope: NameScope) -> Destination {
        let info = self.asn.as_ref().and_then(|db| db.lookup(ip));
        let named = self.names.lookup(ip, scope);
        Destination {
            hostname: named.map(|(n, _, _)| n.to_string()),
            source: named.map(|(_, s, sc)| (s, sc)),
            orgname: info.as_ref().map(|i| i.org.to_string()),
            asn: info.map(|i| i.asn),
            country: self.asn.as_ref().and_then(|db| db.country_str(ip)).map(str::to_string),
        }
    }
}
