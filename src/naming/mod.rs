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
    /// The connection (client, server) that carried the name, for SNI and HTTP Host: it names
    /// that flow exactly, even when other names share the address (CDNs). `None` for DNS and
    /// reverse DNS.
    pub conn: Option<(SocketAddr, SocketAddr)>,
}

impl NameFact {
    /// This fact, as carried by packet `p`'s connection.
    pub fn on(mut self, p: &crate::packet::Packet) -> NameFact {
        self.conn = Some((SocketAddr::new(p.src, p.sport), SocketAddr::new(p.dst, p.dport)));
        self
    }
}

pub mod asn;
pub mod asn_cache;
pub mod dns;
pub mod extract;
pub mod http;
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
    pub orgname: Option<String>,
    pub asn: Option<u32>,
    pub country: Option<String>,
}

impl Naming {
    /// [`describe`](Self::describe) for an alert: an address without a host name is also given to
    /// reverse DNS, whose answer names it from then on (its later updates, its flows).
    pub fn describe_for_alert(&self, ip: IpAddr) -> Destination {
        let d = self.describe(ip);
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
        r.drain(|ip, name| names.insert(NameFact { ip, name, source: NameSource::ReverseDns, conn: None }, now));
    }

    /// The host name learned for `ip`, if any.
    pub fn lookup(&self, ip: IpAddr) -> Option<&str> {
        self.names.lookup(ip)
    }

    /// Host name, organisation, ASN and country of `ip` (allocates: call per alert or per
    /// reported flow, never per packet). Unknown stays unknown.
    pub fn describe(&self, ip: IpAddr) -> Destination {
        let info = self.asn.as_ref().and_then(|db| db.lookup(ip));
        Destination {
            hostname: self.names.lookup(ip).map(str::to_string),
            orgname: info.as_ref().map(|i| i.org.to_string()),
            asn: info.map(|i| i.asn),
            country: self.asn.as_ref().and_then(|db| db.country_str(ip)).map(str::to_string),
        }
    }
}
