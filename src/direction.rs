//! Which side of a flow is "us": the rule that makes a packet outgoing.
//!
//! With `--local-net CIDR` (repeatable) a side is local exactly when its address is in one of
//! the networks. Without it, private, loopback, link-local, CGNAT (100.64/10) and ULA (fc00::/7)
//! addresses count as local. When both sides or neither side is local, the side that sent the
//! flow's first TCP SYN (else its first packet) is local.
//!
//! Only traffic from a local side to a non-local, unicast destination is *counted* toward
//! leaks; traffic that stays inside the local networks (or goes to multicast/broadcast) is
//! still accounted per flow but never alerts.

use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Decides which addresses are local.
#[derive(Clone, Debug, Default)]
pub struct LocalNets {
    nets: Vec<IpNet>,
}

impl LocalNets {
    /// Explicit local networks; an empty list means "the private ranges".
    pub fn new(nets: Vec<IpNet>) -> LocalNets {
        LocalNets { nets }
    }

    /// Whether explicit networks were given.
    pub fn is_explicit(&self) -> bool {
        !self.nets.is_empty()
    }

    /// Whether `ip` counts as local.
    pub fn is_local(&self, ip: IpAddr) -> bool {
        if self.nets.is_empty() { is_private(ip) } else { self.nets.iter().any(|n| n.contains(&ip)) }
    }
}

/// Private, loopback, link-local, CGNAT, ULA (and unspecified) addresses.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_private_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_private_v4(v4),
            None => {
                let s = v6.segments()[0];
                v6.is_loopback() || v6.is_unspecified() || (s & 0xfe00) == 0xfc00 || (s & 0xffc0) == 0xfe80
            }
        },
    }
}

fn is_private_v4(v4: Ipv4Addr) -> bool {
    let o = v4.octets();
    v4.is_private()
        || v4.is_loopback()
        || v4.is_link_local()
        || v4.is_unspecified()
        || (o[0] == 100 && (o[1] & 0xc0) == 64)
}

/// Multicast or broadcast: traffic that never leaves the local link as a "leak".
pub fn is_multicast_or_broadcast(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_multicast() || v4.is_broadcast(),
        IpAddr::V6(v6) => v6.is_multicast() || v6 == Ipv6Addr::UNSPECIFIED,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn default_private_ranges() {
        let n = LocalNets::default();
        for a in [
            "10.1.2.3",
            "192.168.1.7",
            "172.16.0.1",
            "127.0.0.1",
            "169.254.1.1",
            "100.64.0.1",
            "fd00::1",
            "fe80::1",
            "::1",
        ] {
            assert!(n.is_local(ip(a)), "{a} should be local");
        }
        for a in ["8.8.8.8", "46.44.253.187", "100.128.0.1", "2a00:1450::1", "172.32.0.1"] {
            assert!(!n.is_local(ip(a)), "{a} should not be local");
        }
    }

    #[test]
    fn explicit_nets_replace_the_defaults() {
        let n = LocalNets::new(vec!["194.247.5.0/24".parse().unwrap()]);
        assert!(n.is_local(ip("194.247.5.6")));
        assert!(!n.is_local(ip("192.168.1.1")));
    }
}
