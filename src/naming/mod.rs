//! Naming destinations: host names seen on the wire (DNS answers, TLS SNI, HTTP Host),
//! reverse DNS as a last resort, and organisation / ASN / country from an offline database.
//!
//! (Being built for issue 4; the types below are the contract other modules code against.)

use std::net::IpAddr;

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
}
