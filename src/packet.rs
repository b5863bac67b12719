//! Frame → [`Packet`]: link layers, IPv4/IPv6 (with extension headers and fragments), and every IP
//! protocol on top: TCP, UDP and SCTP with their ports, ICMP/ICMPv6 (echo identifier as the local
//! "port"), and any other protocol (GRE, ESP, …) without ports.
//!
//! This runs on the capture thread. It never allocates per packet and never panics: a frame
//! that does not parse is reported as [`Parsed::Malformed`] and counted by the caller.
//!
//! - Link layers: Ethernet II with any stack of 802.1Q / 802.1ad / 0x9100 tags, Linux SLL and
//!   SLL2, raw IP, BSD null (either byte order) and loop. SLL, SLL2, null and loop are read by
//!   hand; the rest by etherparse's header slices.
//! - Lengths come from the IP header fields, not the captured bytes: a short snaplen does not
//!   shrink `payload_len`, Ethernet padding does not grow it. Only the transport header must
//!   have been captured.
//! - Fragments: the first fragment gives the ports, which a bounded [`FRAG_MAP_CAPACITY`]-entry
//!   table remembers for 30 s of packet time; later fragments are attributed from it, or are
//!   [`Parsed::Other`] when their first fragment was not seen.

use crate::time::{SECOND, Ts};
use etherparse::{
    EtherType, Ethernet2HeaderSlice, IpAuthHeaderSlice, IpNumber, Ipv4HeaderSlice, Ipv6FragmentHeaderSlice,
    Ipv6HeaderSlice, Ipv6RawExtHeaderSlice, SingleVlanHeaderSlice, TcpHeaderSlice, UdpHeader, UdpHeaderSlice,
    ip_number,
};
use std::net::{IpAddr, Ipv4Addr};

/// IP protocol of a flow. Every IP protocol is one: those with ports (TCP, UDP, SCTP), ICMP and
/// ICMPv6 (echo messages carry an identifier that plays the local port), and the rest by number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Proto {
    Tcp,
    Udp,
    Icmp,
    Icmpv6,
    Sctp,
    /// Any other IP protocol, by its number (never 1, 6, 17, 58 or 132: see [`Proto::from_number`]).
    Ip(u8),
}

impl Proto {
    /// The protocol with IP protocol number `n`.
    pub fn from_number(n: u8) -> Proto {
        match n {
            6 => Proto::Tcp,
            17 => Proto::Udp,
            1 => Proto::Icmp,
            58 => Proto::Icmpv6,
            132 => Proto::Sctp,
            n => Proto::Ip(n),
        }
    }

    /// The IP protocol number.
    pub fn number(self) -> u8 {
        match self {
            Proto::Tcp => 6,
            Proto::Udp => 17,
            Proto::Icmp => 1,
            Proto::Icmpv6 => 58,
            Proto::Sctp => 132,
            Proto::Ip(n) => n,
        }
    }

    /// Short lower-case name, as printed in reports (`tcp`, `icmp`, `gre`, `esp`, …); `ip` for a
    /// protocol without a well-known name (see [`Proto::name`] for one that gives its number).
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Icmp => "icmp",
            Proto::Icmpv6 => "icmpv6",
            Proto::Sctp => "sctp",
            Proto::Ip(2) => "igmp",
            Proto::Ip(4) => "ipip",
            Proto::Ip(33) => "dccp",
            Proto::Ip(41) => "ipv6",
            Proto::Ip(47) => "gre",
            Proto::Ip(50) => "esp",
            Proto::Ip(51) => "ah",
            Proto::Ip(89) => "ospf",
            Proto::Ip(103) => "pim",
            Proto::Ip(112) => "vrrp",
            Proto::Ip(115) => "l2tp",
            Proto::Ip(136) => "udplite",
            Proto::Ip(_) => "ip",
        }
    }

    /// The name shown to people and in JSON: [`Proto::as_str`], or `ip-<number>` for a protocol
    /// without a well-known name.
    pub fn name(self) -> std::borrow::Cow<'static, str> {
        match self.as_str() {
            "ip" => std::borrow::Cow::Owned(format!("ip-{}", self.number())),
            s => std::borrow::Cow::Borrowed(s),
        }
    }

    /// Whether its flows have real ports (TCP, UDP, SCTP). ICMP's echo identifier is not one for
    /// the remote side; other protocols have none (their ports are 0).
    pub fn has_ports(self) -> bool {
        matches!(self, Proto::Tcp | Proto::Udp | Proto::Sctp)
    }
}

impl std::fmt::Display for Proto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

/// TCP flag bits we care about (as in the TCP header).
pub mod tcp_flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
    pub const ECE: u8 = 0x40;
    pub const CWR: u8 = 0x80;
}

/// One IP packet (or IP fragment of one), reduced to what accounting needs.
///
/// For a non-first IP fragment the ports are those of its datagram (looked up in the
/// parser's fragment map) and `payload_len` is the fragment's share of the transport payload.
///
/// Ports by protocol: TCP, UDP and SCTP have their own. An ICMP/ICMPv6 echo request or reply
/// carries its identifier as the port of the side that sent the request (`sport` of a request,
/// `dport` of a reply; the other port is 0), so a ping's two directions are one flow whose local
/// port is what the kernel's ICMP socket table lists. Other ICMP messages and every other
/// protocol have both ports 0.
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
    /// TCP sequence number of the first payload byte (0 for UDP and later IP fragments): lets
    /// naming put a ClientHello or DNS answer split over segments back together.
    pub seq: u32,
}

#[cfg(test)]
impl Packet {
    /// A TCP packet for unit tests: `payload_len` bytes of payload behind 54 bytes of headers,
    /// flags PSH|ACK, sequence number 0, at `t` µs.
    pub(crate) fn tcp_for_test(src: &str, sport: u16, dst: &str, dport: u16, payload_len: u32, t: i64) -> Packet {
        Packet {
            ts: Ts(t),
            proto: Proto::Tcp,
            src: src.parse().expect("test address"),
            dst: dst.parse().expect("test address"),
            sport,
            dport,
            frame_len: 54 + payload_len,
            payload_len,
            tcp_flags: tcp_flags::PSH | tcp_flags::ACK,
            seq: 0,
        }
    }
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
    /// An IP packet, or a fragment attributed to one.
    Packet(Packet),
    /// A well-formed frame that carries no IP (ARP, …), or a non-first fragment whose first
    /// fragment was never seen.
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
    frags: FragMap,
}

impl Parser {
    /// A parser for frames of the given link type.
    pub fn new(link: LinkType) -> Parser {
        Parser { link, frags: FragMap::new() }
    }

    /// The link type this parser reads.
    pub fn link(&self) -> LinkType {
        self.link
    }

    /// Parses one frame captured at `ts` whose original wire length was `orig_len` and whose
    /// captured bytes are `data` (possibly shorter than `orig_len`).
    pub fn parse(&mut self, ts: Ts, orig_len: u32, data: &[u8]) -> Parsed {
        self.parse_with_payload(ts, orig_len, data).0
    }

    /// Like [`Parser::parse`], also returning the *captured* transport payload of the frame:
    /// the bytes after the TCP/UDP header, cut at the IP length, possibly shorter than
    /// `payload_len` when the snaplen cut the frame. Empty for non-first IP fragments and for
    /// anything that is not a packet. Never allocates.
    pub fn parse_with_payload<'d>(&mut self, ts: Ts, orig_len: u32, data: &'d [u8]) -> (Parsed, &'d [u8]) {
        let net = match link_payload(self.link, data) {
            L3::V4(bytes) => ipv4(bytes),
            L3::V6(bytes) => ipv6(bytes),
            L3::Other => return (Parsed::Other, &[]),
            L3::Malformed => return (Parsed::Malformed, &[]),
        };
        let net = match net {
            Ok(net) => net,
            Err(parsed) => return (parsed, &[]),
        };

        if let Frag::Later(id) = net.frag {
            // All of this fragment is transport payload; its header went with the first one.
            let key = FragKey { src: net.src, dst: net.dst, id, ip_proto: net.frag_proto };
            let parsed = match self.frags.get(&key, ts) {
                Some(ports) => Parsed::Packet(Packet {
                    ts,
                    proto: ports.proto,
                    src: net.src,
                    dst: net.dst,
                    sport: ports.sport,
                    dport: ports.dport,
                    frame_len: orig_len,
                    payload_len: clamp_u32(net.payload_len),
                    tcp_flags: 0,
                    seq: 0,
                }),
                None => Parsed::Other,
            };
            return (parsed, &[]);
        }

        let Some((proto, sport, dport, header_len, flags, seq)) = transport(net.proto, net.transport) else {
            return (Parsed::Malformed, &[]);
        };

        if let Frag::First(id) = net.frag {
            let key = FragKey { src: net.src, dst: net.dst, id, ip_proto: net.frag_proto };
            self.frags.insert(key, ts, Ports { proto, sport, dport });
        }

        let packet = Parsed::Packet(Packet {
            ts,
            proto,
            src: net.src,
            dst: net.dst,
            sport,
            dport,
            frame_len: orig_len,
            payload_len: clamp_u32(net.payload_len.saturating_sub(header_len)),
            tcp_flags: flags,
            seq,
        });
        (packet, net.transport.get(header_len..).unwrap_or_default())
    }
}

/// ICMP header length (type, code, checksum, and the 4 bytes of identifier/sequence or unused).
const ICMP_HEADER_LEN: usize = 8;
/// SCTP common header length (ports, verification tag, checksum).
const SCTP_HEADER_LEN: usize = 12;

/// The transport identity of a packet of IP protocol `ip_proto` whose transport bytes start with
/// `t`: protocol, source and destination port, header length (what is not payload), TCP flags
/// and sequence number. `None` when the header the protocol needs was not captured whole.
fn transport(ip_proto: IpNumber, t: &[u8]) -> Option<(Proto, u16, u16, usize, u8, u32)> {
    Some(match ip_proto {
        ip_number::TCP => {
            let tcp = TcpHeaderSlice::from_slice(t).ok()?;
            let flags = tcp.slice().get(13).copied().unwrap_or(0);
            let header = usize::from(tcp.data_offset()) * 4;
            (Proto::Tcp, tcp.source_port(), tcp.destination_port(), header, flags, tcp.sequence_number())
        }
        ip_number::UDP => {
            let udp = UdpHeaderSlice::from_slice(t).ok()?;
            (Proto::Udp, udp.source_port(), udp.destination_port(), UdpHeader::LEN, 0, 0)
        }
        ip_number::SCTP => {
            let h = t.first_chunk::<SCTP_HEADER_LEN>()?;
            let (sport, dport) = (u16::from_be_bytes([h[0], h[1]]), u16::from_be_bytes([h[2], h[3]]));
            (Proto::Sctp, sport, dport, SCTP_HEADER_LEN, 0, 0)
        }
        ip_number::ICMP | ip_number::IPV6_ICMP => {
            let h = t.first_chunk::<ICMP_HEADER_LEN>()?;
            let v6 = ip_proto == ip_number::IPV6_ICMP;
            let proto = if v6 { Proto::Icmpv6 } else { Proto::Icmp };
            let id = u16::from_be_bytes([h[4], h[5]]);
            // Echo request / reply: v4 types 8 / 0, v6 types 128 / 129.
            let (sport, dport) = match (v6, h[0]) {
                (false, 8) | (true, 128) => (id, 0),
                (false, 0) | (true, 129) => (0, id),
                _ => (0, 0),
            };
            (proto, sport, dport, ICMP_HEADER_LEN, 0, 0)
        }
        other => (Proto::from_number(other.0), 0, 0, 0, 0, 0),
    })
}

fn clamp_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

// ---------------------------------------------------------------------------------------------
// Link layer

/// The network-layer bytes of a frame, as far as the link layer tells.
enum L3<'a> {
    V4(&'a [u8]),
    V6(&'a [u8]),
    /// A well-formed link header carrying something other than IP.
    Other,
    Malformed,
}

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;

/// Linux SLL header length.
const SLL_LEN: usize = 16;
/// Linux SLL2 header length.
const SLL2_LEN: usize = 20;
/// BSD null / loop header length.
const NULL_LEN: usize = 4;

fn link_payload(link: LinkType, data: &[u8]) -> L3<'_> {
    match link {
        LinkType::Ethernet => ethernet(data),
        LinkType::RawIp => match data.first().map(|b| b >> 4) {
            Some(4) => L3::V4(data),
            Some(6) => L3::V6(data),
            _ => L3::Malformed,
        },
        // Hand-parsed: etherparse's `LinuxSllHeaderSlice` rejects ARPHRD types it does not
        // know (loopback, PPP, tun's ARPHRD_NONE, …), which `-i any` captures are full of.
        LinkType::LinuxSll => match be16(data, 14) {
            Some(et) if data.len() >= SLL_LEN => by_ether_type(et, tail(data, SLL_LEN)),
            _ => L3::Malformed,
        },
        LinkType::LinuxSll2 => match be16(data, 0) {
            Some(et) if data.len() >= SLL2_LEN => by_ether_type(et, tail(data, SLL2_LEN)),
            _ => L3::Malformed,
        },
        LinkType::Null => match data.first_chunk::<NULL_LEN>() {
            Some(af) => {
                let le = u32::from_le_bytes(*af);
                let be = u32::from_be_bytes(*af);
                by_address_family(le)
                    .or_else(|| by_address_family(be))
                    .map_or(L3::Other, |v6| ip_by_family(v6, tail(data, NULL_LEN)))
            }
            None => L3::Malformed,
        },
        LinkType::Loop => match data.first_chunk::<NULL_LEN>() {
            Some(af) => by_address_family(u32::from_be_bytes(*af))
                .map_or(L3::Other, |v6| ip_by_family(v6, tail(data, NULL_LEN))),
            None => L3::Malformed,
        },
    }
}

fn ethernet(data: &[u8]) -> L3<'_> {
    let Ok(eth) = Ethernet2HeaderSlice::from_slice(data) else {
        return L3::Malformed;
    };
    let mut ether_type = eth.ether_type();
    let mut rest = tail(data, eth.slice().len());
    // Each tag consumes 4 bytes, so this ends with the data.
    loop {
        match ether_type {
            EtherType::VLAN_TAGGED_FRAME | EtherType::PROVIDER_BRIDGING | EtherType::VLAN_DOUBLE_TAGGED_FRAME => {
                let Ok(vlan) = SingleVlanHeaderSlice::from_slice(rest) else {
                    return L3::Malformed;
                };
                ether_type = vlan.ether_type();
                rest = tail(rest, vlan.slice().len());
            }
            EtherType(et) => return by_ether_type(et, rest),
        }
    }
}

fn by_ether_type(ether_type: u16, payload: &[u8]) -> L3<'_> {
    match ether_type {
        ETHERTYPE_IPV4 => L3::V4(payload),
        ETHERTYPE_IPV6 => L3::V6(payload),
        _ => L3::Other,
    }
}

/// BSD address family → `Some(is_ipv6)`; `None` for non-IP families.
fn by_address_family(af: u32) -> Option<bool> {
    match af {
        2 => Some(false),
        // Linux, NetBSD/OpenBSD/BSD/OS, FreeBSD, Darwin.
        10 | 24 | 28 | 30 => Some(true),
        _ => None,
    }
}

fn ip_by_family(v6: bool, payload: &[u8]) -> L3<'_> {
    if v6 { L3::V6(payload) } else { L3::V4(payload) }
}

/// `data[from..]`, empty if `from` is past the end.
fn tail(data: &[u8], from: usize) -> &[u8] {
    data.get(from..).unwrap_or_default()
}

fn be16(data: &[u8], at: usize) -> Option<u16> {
    let bytes = data.get(at..)?.first_chunk::<2>()?;
    Some(u16::from_be_bytes(*bytes))
}

// ---------------------------------------------------------------------------------------------
// Network layer

/// Fragmentation state of an IP packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Frag {
    /// Not fragmented (or an atomic fragment: offset 0, no more fragments).
    None,
    /// First fragment (offset 0, more fragments) with this identification.
    First(u32),
    /// A later fragment (offset > 0): its payload is raw transport payload.
    Later(u32),
}

/// What the IP layer says about a packet.
struct Net<'a> {
    src: IpAddr,
    dst: IpAddr,
    /// Protocol of the transport header (after IPv4 AH / IPv6 extension headers).
    proto: IpNumber,
    /// Protocol number as the fragments carry it (IPv4 `protocol`, IPv6 fragment header
    /// `next_header`): the same in every fragment of a datagram, so part of the fragment key.
    frag_proto: IpNumber,
    /// Captured bytes from the transport header on, cut at the IP length.
    transport: &'a [u8],
    /// Length of the transport layer (header + payload) according to the IP length fields;
    /// for a later fragment, the length of its fragment data.
    payload_len: usize,
    frag: Frag,
}

fn ipv4(data: &[u8]) -> Result<Net<'_>, Parsed> {
    let header = Ipv4HeaderSlice::from_slice(data).map_err(|_| Parsed::Malformed)?;
    let header_len = header.slice().len();
    let total_len = match usize::from(header.total_len()) {
        // Segmentation offload: the length was not filled in when the packet was captured.
        0 => data.len(),
        n if n < header_len => return Err(Parsed::Malformed),
        n => n,
    };
    // `total_len >= header_len` and `data.len() >= header_len` here.
    let mut payload_len = total_len.saturating_sub(header_len);
    let mut rest = data.get(header_len..total_len.min(data.len())).unwrap_or_default();

    let id = u32::from(header.identification());
    let frag = if header.fragments_offset().value() != 0 {
        Frag::Later(id)
    } else if header.more_fragments() {
        Frag::First(id)
    } else {
        Frag::None
    };

    let frag_proto = header.protocol();
    let mut proto = frag_proto;
    // AH sits at the start of the datagram, so only the first fragment carries it.
    if proto == ip_number::AUTH && !matches!(frag, Frag::Later(_)) {
        let auth = IpAuthHeaderSlice::from_slice(rest).map_err(|_| Parsed::Malformed)?;
        let n = auth.slice().len();
        rest = tail(rest, n);
        payload_len = payload_len.saturating_sub(n);
        proto = auth.next_header();
    }

    Ok(Net {
        src: IpAddr::V4(header.source_addr()),
        dst: IpAddr::V4(header.destination_addr()),
        proto,
        frag_proto,
        transport: rest,
        payload_len,
        frag,
    })
}

fn ipv6(data: &[u8]) -> Result<Net<'_>, Parsed> {
    let header = Ipv6HeaderSlice::from_slice(data).map_err(|_| Parsed::Malformed)?;
    let body = tail(data, header.slice().len());
    let declared = match usize::from(header.payload_length()) {
        // Jumbogram or segmentation offload: fall back to what was captured.
        0 => body.len(),
        n => n,
    };
    let mut rest = body.get(..declared.min(body.len())).unwrap_or_default();
    let mut payload_len = declared;
    let mut next = header.next_header();
    let mut frag_proto = next;
    let mut frag = Frag::None;
    let mut first = true;

    // Every extension header is at least 8 bytes long, so this loop ends with the data.
    loop {
        let consumed = match next {
            ip_number::IPV6_HOP_BY_HOP if !first => return Err(Parsed::Malformed),
            ip_number::IPV6_FRAG => {
                let fh = Ipv6FragmentHeaderSlice::from_slice(rest).map_err(|_| Parsed::Malformed)?;
                next = fh.next_header();
                let n = fh.slice().len();
                if fh.is_fragmenting_payload() {
                    frag_proto = next;
                    let id = fh.identification();
                    if fh.fragment_offset().value() != 0 {
                        // What follows is fragment data, not headers.
                        rest = tail(rest, n);
                        payload_len = payload_len.saturating_sub(n);
                        frag = Frag::Later(id);
                        break;
                    }
                    frag = Frag::First(id);
                }
                n
            }
            ip_number::AUTH => {
                let auth = IpAuthHeaderSlice::from_slice(rest).map_err(|_| Parsed::Malformed)?;
                next = auth.next_header();
                auth.slice().len()
            }
            n if Ipv6RawExtHeaderSlice::header_type_supported(n) => {
                let ext = Ipv6RawExtHeaderSlice::from_slice(rest).map_err(|_| Parsed::Malformed)?;
                next = ext.next_header();
                ext.slice().len()
            }
            _ => break,
        };
        rest = tail(rest, consumed);
        payload_len = payload_len.saturating_sub(consumed);
        first = false;
    }

    Ok(Net {
        src: IpAddr::V6(header.source_addr()),
        dst: IpAddr::V6(header.destination_addr()),
        proto: next,
        frag_proto,
        transport: rest,
        payload_len,
        frag,
    })
}

// ---------------------------------------------------------------------------------------------
// Fragment map

/// Number of fragment identities remembered.
pub const FRAG_MAP_CAPACITY: usize = FRAG_SETS * FRAG_WAYS;
/// Slots per set: a new identity may replace any free or stale slot of its set.
const FRAG_WAYS: usize = 4;
const FRAG_SETS: usize = 256;
const _: () = assert!(FRAG_SETS.is_power_of_two());
/// How long (packet time) a first fragment's ports stay attributable.
const FRAG_TTL: i64 = 30 * SECOND;

/// Identity of a fragmented datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FragKey {
    src: IpAddr,
    dst: IpAddr,
    id: u32,
    ip_proto: IpNumber,
}

/// Transport identity of a fragmented datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Ports {
    proto: Proto,
    sport: u16,
    dport: u16,
}

#[derive(Clone, Copy, Debug)]
struct FragEntry {
    used: bool,
    /// Packet time of the first fragment.
    ts: Ts,
    key: FragKey,
    ports: Ports,
}

const EMPTY_ENTRY: FragEntry = FragEntry {
    used: false,
    ts: Ts(0),
    key: FragKey {
        src: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        dst: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        id: 0,
        ip_proto: IpNumber(0),
    },
    ports: Ports { proto: Proto::Udp, sport: 0, dport: 0 },
};

/// Set-associative table (fixed size, allocated once) from fragment identity to ports.
///
/// The hash is fixed (not seeded), so a replay evicts the same entries every run.
struct FragMap {
    slots: Box<[FragEntry]>,
}

impl FragMap {
    fn new() -> FragMap {
        FragMap { slots: vec![EMPTY_ENTRY; FRAG_MAP_CAPACITY].into_boxed_slice() }
    }

    fn set(&self, key: &FragKey) -> &[FragEntry] {
        let start = set_index(key) * FRAG_WAYS;
        self.slots.get(start..start + FRAG_WAYS).unwrap_or_default()
    }

    fn set_mut(&mut self, key: &FragKey) -> &mut [FragEntry] {
        let start = set_index(key) * FRAG_WAYS;
        self.slots.get_mut(start..start + FRAG_WAYS).unwrap_or_default()
    }

    fn get(&self, key: &FragKey, now: Ts) -> Option<Ports> {
        self.set(key).iter().find(|e| e.used && e.key == *key && fresh(e.ts, now)).map(|e| e.ports)
    }

    fn insert(&mut self, key: FragKey, now: Ts, ports: Ports) {
        let set = self.set_mut(&key);
        // Same identity (a retransmitted first fragment), else a free or stale slot, else the
        // oldest one.
        let slot = set
            .iter()
            .position(|e| e.used && e.key == key)
            .or_else(|| set.iter().position(|e| !e.used || !fresh(e.ts, now)))
            .or_else(|| set.iter().enumerate().min_by_key(|(_, e)| e.ts).map(|(i, _)| i));
        if let Some(entry) = slot.and_then(|i| set.get_mut(i)) {
            *entry = FragEntry { used: true, ts: now, key, ports };
        }
    }
}

/// Whether an entry made at `then` may still be used at `now` (either order: captures from
/// several interfaces are not strictly sorted).
fn fresh(then: Ts, now: Ts) -> bool {
    now.micros_since(then).unsigned_abs() <= FRAG_TTL.unsigned_abs()
}

fn set_index(key: &FragKey) -> usize {
    fn fold(addr: IpAddr) -> u64 {
        let bits = match addr {
            IpAddr::V4(a) => u128::from(u32::from(a)),
            IpAddr::V6(a) => u128::from(a),
        };
        (bits as u64) ^ ((bits >> 64) as u64)
    }
    fn mix(h: u64, v: u64) -> u64 {
        (h.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95)
    }
    let h = mix(mix(mix(0, fold(key.src)), fold(key.dst)), (u64::from(key.id) << 8) | u64::from(key.ip_proto.0));
    // The high bits are the well-mixed ones.
    (h >> (64 - FRAG_SETS.trailing_zeros())) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::{
        IpAuthHeader, IpFragOffset, Ipv4Header, Ipv6FragmentHeader, Ipv6Header, Ipv6RawExtHeader, PacketBuilder, VlanId,
    };
    use proptest::prelude::*;
    use std::net::Ipv6Addr;
    use std::sync::OnceLock;

    const MAC_A: [u8; 6] = [2, 0, 0, 0, 0, 1];
    const MAC_B: [u8; 6] = [2, 0, 0, 0, 0, 2];
    const V4_A: [u8; 4] = [10, 0, 0, 1];
    const V4_B: [u8; 4] = [93, 184, 216, 34];
    const V6_A: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    const V6_B: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

    const ALL_LINKS: [LinkType; 6] =
        [LinkType::Ethernet, LinkType::Null, LinkType::Loop, LinkType::RawIp, LinkType::LinuxSll, LinkType::LinuxSll2];

    /// Serializes a `PacketBuilder` chain with the given transport payload.
    macro_rules! build {
        ($builder:expr, $payload:expr) => {{
            let builder = $builder;
            let payload: &[u8] = $payload;
            let mut out = Vec::with_capacity(builder.size(payload.len()));
            builder.write(&mut out, payload).unwrap();
            out
        }};
    }

    fn t(secs: f64) -> Ts {
        Ts::from_secs_f64(secs)
    }

    fn parse(link: LinkType, data: &[u8]) -> Parsed {
        Parser::new(link).parse(t(1.0), data.len() as u32, data)
    }

    #[track_caller]
    fn packet(parsed: Parsed) -> Packet {
        match parsed {
            Parsed::Packet(p) => p,
            other => panic!("expected a packet, got {other:?}"),
        }
    }

    fn v4(a: [u8; 4]) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(a))
    }

    fn v6(a: [u8; 16]) -> IpAddr {
        IpAddr::V6(Ipv6Addr::from(a))
    }

    fn payload(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i % 251) as u8).collect()
    }

    /// Ethernet II frame around `payload`.
    fn eth(ether_type: u16, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&MAC_B);
        out.extend_from_slice(&MAC_A);
        out.extend_from_slice(&ether_type.to_be_bytes());
        out.extend_from_slice(payload);
        out
    }

    fn sll(arphrd: u16, protocol: u16, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![0, 4]; // outgoing
        out.extend_from_slice(&arphrd.to_be_bytes());
        out.extend_from_slice(&6u16.to_be_bytes());
        out.extend_from_slice(&[2, 0, 0, 0, 0, 1, 0, 0]);
        out.extend_from_slice(&protocol.to_be_bytes());
        out.extend_from_slice(payload);
        assert_eq!(out.len(), SLL_LEN + payload.len());
        out
    }

    fn sll2(arphrd: u16, protocol: u16, payload: &[u8]) -> Vec<u8> {
        let mut out = protocol.to_be_bytes().to_vec();
        out.extend_from_slice(&[0, 0]); // reserved
        out.extend_from_slice(&3u32.to_be_bytes()); // interface index
        out.extend_from_slice(&arphrd.to_be_bytes());
        out.extend_from_slice(&[4, 6]); // packet type, address length
        out.extend_from_slice(&[2, 0, 0, 0, 0, 1, 0, 0]);
        out.extend_from_slice(payload);
        assert_eq!(out.len(), SLL2_LEN + payload.len());
        out
    }

    fn with_prefix(prefix: [u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut out = prefix.to_vec();
        out.extend_from_slice(payload);
        out
    }

    /// Raw IPv4 UDP packet.
    fn ipv4_udp(sport: u16, dport: u16, len: usize) -> Vec<u8> {
        build!(PacketBuilder::ipv4(V4_A, V4_B, 64).udp(sport, dport), &payload(len))
    }

    /// Raw IPv6 TCP packet.
    fn ipv6_tcp(sport: u16, dport: u16, len: usize) -> Vec<u8> {
        build!(PacketBuilder::ipv6(V6_A, V6_B, 64).tcp(sport, dport, 1000, 4096).psh().ack(5), &payload(len))
    }

    fn ipv6_header(next_header: IpNumber, payload_len: usize) -> [u8; 40] {
        Ipv6Header {
            payload_length: payload_len as u16,
            next_header,
            hop_limit: 64,
            source: V6_A,
            destination: V6_B,
            ..Default::default()
        }
        .to_bytes()
    }

    fn udp_header(sport: u16, dport: u16, payload_len: usize) -> [u8; 8] {
        etherparse::UdpHeader {
            source_port: sport,
            destination_port: dport,
            length: (payload_len + 8) as u16,
            checksum: 0,
        }
        .to_bytes()
    }

    /// Raw IPv6 packet with the given header chain bytes (extension headers + transport).
    fn ipv6_raw(next_header: IpNumber, rest: &[u8]) -> Vec<u8> {
        let mut out = ipv6_header(next_header, rest.len()).to_vec();
        out.extend_from_slice(rest);
        out
    }

    fn ext(next_header: IpNumber, len: usize) -> Vec<u8> {
        Ipv6RawExtHeader::new_raw(next_header, &vec![0; len - 2]).unwrap().to_bytes().to_vec()
    }

    /// Splits `datagram` (transport header + payload) into raw IPv4 fragments of at most
    /// `size` payload bytes (a multiple of 8).
    /// An unfragmented IPv4 packet from A to B carrying `rest` as protocol `proto`.
    fn ipv4_raw(proto: IpNumber, rest: &[u8]) -> Vec<u8> {
        let h = Ipv4Header::new(rest.len() as u16, 64, proto, V4_A, V4_B).unwrap();
        let mut out = h.to_bytes().to_vec();
        out.extend_from_slice(rest);
        out
    }

    fn ipv4_fragments(proto: IpNumber, id: u16, datagram: &[u8], size: usize) -> Vec<Vec<u8>> {
        let chunks: Vec<&[u8]> = datagram.chunks(size).collect();
        let last = chunks.len() - 1;
        chunks
            .iter()
            .enumerate()
            .map(|(i, chunk)| {
                let mut h = Ipv4Header::new(chunk.len() as u16, 64, proto, V4_A, V4_B).unwrap();
                h.identification = id;
                h.dont_fragment = false;
                h.more_fragments = i != last;
                h.fragment_offset = IpFragOffset::try_new((i * size / 8) as u16).unwrap();
                h.header_checksum = h.calc_header_checksum();
                let mut out = h.to_bytes().to_vec();
                out.extend_from_slice(chunk);
                out
            })
            .collect()
    }

    /// Splits the fragmentable part `datagram` into raw IPv6 fragments, with `unfrag`
    /// (hop-by-hop header bytes, next header = fragment) before each fragment header.
    fn ipv6_fragments(first_next: IpNumber, id: u32, unfrag: &[u8], datagram: &[u8], size: usize) -> Vec<Vec<u8>> {
        let chunks: Vec<&[u8]> = datagram.chunks(size).collect();
        let last = chunks.len() - 1;
        chunks
            .iter()
            .enumerate()
            .map(|(i, chunk)| {
                let fh = Ipv6FragmentHeader::new(
                    first_next,
                    IpFragOffset::try_new((i * size / 8) as u16).unwrap(),
                    i != last,
                    id,
                );
                let mut rest = unfrag.to_vec();
                rest.extend_from_slice(&fh.to_bytes());
                rest.extend_from_slice(chunk);
                let next = if unfrag.is_empty() { ip_number::IPV6_FRAG } else { ip_number::IPV6_HOP_BY_HOP };
                ipv6_raw(next, &rest)
            })
            .collect()
    }

    // --- link layers, lengths, flags ---------------------------------------------------

    #[test]
    fn ethernet_ipv4_tcp_with_options_and_payload() {
        let frame = build!(
            PacketBuilder::ethernet2(MAC_A, MAC_B)
                .ipv4(V4_A, V4_B, 64)
                .tcp(51000, 443, 1, 65535)
                .syn()
                .ack(7)
                .options_raw(&[2, 4, 5, 0xb4, 1, 3, 3, 7, 4, 2, 1, 1])
                .unwrap(),
            &payload(123)
        );
        assert_eq!(frame.len(), 14 + 20 + 32 + 123);
        let p = packet(Parser::new(LinkType::Ethernet).parse(t(5.0), 999, &frame));
        assert_eq!(
            p,
            Packet {
                ts: t(5.0),
                proto: Proto::Tcp,
                src: v4(V4_A),
                dst: v4(V4_B),
                sport: 51000,
                dport: 443,
                frame_len: 999,
                payload_len: 123,
                tcp_flags: tcp_flags::SYN | tcp_flags::ACK,
                seq: 1, // the sequence number of the first payload byte, from the header
            }
        );
    }

    #[test]
    fn tcp_flags_byte_is_reported_whole() {
        let frame = build!(
            PacketBuilder::ethernet2(MAC_A, MAC_B)
                .ipv4(V4_A, V4_B, 64)
                .tcp(1, 2, 0, 100)
                .fin()
                .psh()
                .urg(1)
                .ece()
                .cwr()
                .rst(),
            &[]
        );
        let p = packet(parse(LinkType::Ethernet, &frame));
        assert_eq!(
            p.tcp_flags,
            tcp_flags::FIN | tcp_flags::RST | tcp_flags::PSH | tcp_flags::URG | tcp_flags::ECE | tcp_flags::CWR
        );
        assert_eq!(p.payload_len, 0);
    }

    #[test]
    fn parse_with_payload_returns_the_captured_payload() {
        let mut parser = Parser::new(LinkType::Ethernet);
        let mut frame = build!(PacketBuilder::ethernet2(MAC_A, MAC_B).ipv4(V4_A, V4_B, 64).udp(53, 5000), b"abc");
        frame.resize(60, 0xee); // Ethernet padding is not payload
        let (parsed, data) = parser.parse_with_payload(Ts(0), 60, &frame);
        assert_eq!((packet(parsed).payload_len, data), (3, &b"abc"[..]));

        let frame = build!(
            PacketBuilder::ethernet2(MAC_A, MAC_B).ipv6(V6_A, V6_B, 64).tcp(1, 443, 7, 512).psh().ack(1),
            b"\x16\x03\x01hello"
        );
        let (parsed, data) = parser.parse_with_payload(Ts(0), frame.len() as u32, &frame);
        assert_eq!((packet(parsed).payload_len, data), (8, &b"\x16\x03\x01hello"[..]));
        // Cut by the snaplen: the packet keeps its length, the payload is what was captured.
        let cut = &frame[..frame.len() - 3];
        let (parsed, data) = parser.parse_with_payload(Ts(0), frame.len() as u32, cut);
        assert_eq!((packet(parsed).payload_len, data), (8, &b"\x16\x03\x01he"[..]));
        // Cut inside the TCP header: no payload.
        assert_eq!(parser.parse_with_payload(Ts(0), 100, &frame[..14 + 40 + 10]).1, &[] as &[u8]);
        assert_eq!(parser.parse_with_payload(Ts(0), 100, &[0u8; 5]), (Parsed::Malformed, &[] as &[u8]));
    }

    #[test]
    fn ethernet_padding_is_not_payload() {
        let mut frame = build!(PacketBuilder::ethernet2(MAC_A, MAC_B).ipv4(V4_A, V4_B, 64).udp(5000, 53,), &[1, 2]);
        assert_eq!(frame.len(), 44);
        frame.resize(60, 0);
        let p = packet(parse(LinkType::Ethernet, &frame));
        assert_eq!((p.proto, p.payload_len, p.frame_len), (Proto::Udp, 2, 60));

        let mut ack =
            build!(PacketBuilder::ethernet2(MAC_A, MAC_B).ipv4(V4_A, V4_B, 64).tcp(40000, 80, 9, 512).ack(1), &[]);
        ack.resize(60, 0xee);
        let p = packet(parse(LinkType::Ethernet, &ack));
        assert_eq!((p.payload_len, p.tcp_flags), (0, tcp_flags::ACK));

        // IPv6 too: payload length, not the frame, bounds the payload.
        let mut frame = eth(ETHERTYPE_IPV6, &ipv6_tcp(1, 2, 3));
        frame.resize(100, 0);
        assert_eq!(packet(parse(LinkType::Ethernet, &frame)).payload_len, 3);
    }

    #[test]
    fn snaplen_truncated_frame_uses_header_lengths() {
        let frame = build!(
            PacketBuilder::ethernet2(MAC_A, MAC_B).ipv4(V4_A, V4_B, 64).tcp(443, 51000, 1, 65535).ack(1),
            &payload(1400)
        );
        let orig = frame.len() as u32;
        let mut parser = Parser::new(LinkType::Ethernet);
        for snap in [14 + 20 + 20, 14 + 20 + 20 + 10, 96] {
            let p = packet(parser.parse(t(1.0), orig, &frame[..snap]));
            assert_eq!((p.sport, p.dport), (443, 51000));
            assert_eq!((p.payload_len, p.frame_len), (1400, orig));
        }
        // The TCP header itself must have been captured.
        assert_eq!(parser.parse(t(1.0), orig, &frame[..14 + 20 + 19]), Parsed::Malformed);
        assert_eq!(parser.parse(t(1.0), orig, &frame[..14 + 19]), Parsed::Malformed);

        // Same for IPv6 / UDP.
        let frame = eth(
            ETHERTYPE_IPV6,
            &ipv6_raw(ip_number::UDP, &{
                let mut d = udp_header(53, 5353, 900).to_vec();
                d.extend_from_slice(&payload(900));
                d
            }),
        );
        let p = packet(parser.parse(t(1.0), frame.len() as u32, &frame[..14 + 40 + 8]));
        assert_eq!((p.proto, p.payload_len), (Proto::Udp, 900));
        assert_eq!(parser.parse(t(1.0), frame.len() as u32, &frame[..14 + 40 + 7]), Parsed::Malformed);
    }

    #[test]
    fn vlan_and_qinq() {
        let frame = build!(
            PacketBuilder::ethernet2(MAC_A, MAC_B)
                .single_vlan(VlanId::try_new(42).unwrap())
                .ipv4(V4_A, V4_B, 64)
                .udp(1111, 2222),
            &payload(10)
        );
        let p = packet(parse(LinkType::Ethernet, &frame));
        assert_eq!((p.sport, p.dport, p.payload_len), (1111, 2222, 10));

        let frame = build!(
            PacketBuilder::ethernet2(MAC_A, MAC_B)
                .double_vlan(VlanId::try_new(100).unwrap(), VlanId::try_new(42).unwrap())
                .ipv6(V6_A, V6_B, 64)
                .udp(3333, 4444),
            &payload(20)
        );
        let p = packet(parse(LinkType::Ethernet, &frame));
        assert_eq!((p.src, p.sport, p.dport, p.payload_len), (v6(V6_A), 3333, 4444, 20));

        // By hand: every outer tag type, then 802.1Q, then IP.
        let ip = ipv4_udp(7, 8, 30);
        for outer in [0x88a8u16, 0x9100, 0x8100] {
            let mut inner = vec![0x00, 0x64, 0x81, 0x00, 0x00, 0x2a, 0x08, 0x00];
            inner.extend_from_slice(&ip);
            let frame = eth(outer, &inner);
            let p = packet(parse(LinkType::Ethernet, &frame));
            assert_eq!((p.sport, p.dport, p.payload_len), (7, 8, 30), "outer {outer:#x}");
            // A cut tag is malformed.
            assert_eq!(parse(LinkType::Ethernet, &frame[..14 + 6]), Parsed::Malformed);
        }
    }

    #[test]
    fn linux_sll() {
        let frame = sll(1, ETHERTYPE_IPV4, &ipv4_udp(53, 40000, 77));
        let p = packet(parse(LinkType::LinuxSll, &frame));
        assert_eq!((p.src, p.sport, p.dport, p.payload_len), (v4(V4_A), 53, 40000, 77));

        // ARPHRD_NONE (tun), ARPHRD_LOOPBACK, ARPHRD_PPP: etherparse's SLL slice refuses these.
        for arphrd in [0xfffe, 772, 512] {
            let frame = sll(arphrd, ETHERTYPE_IPV6, &ipv6_tcp(1234, 22, 48));
            let p = packet(parse(LinkType::LinuxSll, &frame));
            assert_eq!((p.proto, p.sport, p.dport, p.payload_len), (Proto::Tcp, 1234, 22, 48));
        }
        assert_eq!(parse(LinkType::LinuxSll, &sll(1, 0x0806, &[0; 28])), Parsed::Other);
        assert_eq!(parse(LinkType::LinuxSll, &frame[..15]), Parsed::Malformed);
    }

    #[test]
    fn linux_sll2() {
        let frame = sll2(1, ETHERTYPE_IPV4, &ipv4_udp(53, 40000, 77));
        let p = packet(parse(LinkType::LinuxSll2, &frame));
        assert_eq!((p.sport, p.dport, p.payload_len), (53, 40000, 77));
        let frame = sll2(0xfffe, ETHERTYPE_IPV6, &ipv6_tcp(1234, 22, 48));
        let p = packet(parse(LinkType::LinuxSll2, &frame));
        assert_eq!((p.proto, p.sport, p.dport, p.payload_len), (Proto::Tcp, 1234, 22, 48));
        assert_eq!(parse(LinkType::LinuxSll2, &sll2(1, 0x0806, &[0; 28])), Parsed::Other);
        assert_eq!(parse(LinkType::LinuxSll2, &frame[..19]), Parsed::Malformed);
    }

    #[test]
    fn raw_ip() {
        let p = packet(parse(LinkType::RawIp, &ipv4_udp(1, 2, 3)));
        assert_eq!((p.src, p.dst, p.sport, p.dport, p.payload_len), (v4(V4_A), v4(V4_B), 1, 2, 3));
        let p = packet(parse(LinkType::RawIp, &ipv6_tcp(4, 5, 6)));
        assert_eq!((p.src, p.dst, p.sport, p.dport, p.payload_len), (v6(V6_A), v6(V6_B), 4, 5, 6));
        assert_eq!(p.tcp_flags, tcp_flags::PSH | tcp_flags::ACK);

        let mut bad = ipv4_udp(1, 2, 3);
        bad[0] = 0x55;
        assert_eq!(parse(LinkType::RawIp, &bad), Parsed::Malformed);
        assert_eq!(parse(LinkType::RawIp, &[]), Parsed::Malformed);
    }

    #[test]
    fn null_loopback_both_byte_orders() {
        let ip4 = ipv4_udp(1000, 2000, 64);
        let ip6 = ipv6_tcp(3000, 4000, 65);
        for prefix in [[2, 0, 0, 0], [0, 0, 0, 2]] {
            let p = packet(parse(LinkType::Null, &with_prefix(prefix, &ip4)));
            assert_eq!((p.sport, p.dport, p.payload_len), (1000, 2000, 64));
        }
        for af in [10u32, 24, 28, 30] {
            for prefix in [af.to_le_bytes(), af.to_be_bytes()] {
                let p = packet(parse(LinkType::Null, &with_prefix(prefix, &ip6)));
                assert_eq!((p.sport, p.dport, p.payload_len), (3000, 4000, 65));
            }
        }
        // AF_UNIX-ish and other families carry no IP.
        assert_eq!(parse(LinkType::Null, &with_prefix([7, 0, 0, 0], &ip4)), Parsed::Other);
        assert_eq!(parse(LinkType::Null, &[2, 0, 0]), Parsed::Malformed);
        // The family must match the header.
        assert_eq!(parse(LinkType::Null, &with_prefix([30, 0, 0, 0], &ip4)), Parsed::Malformed);
    }

    #[test]
    fn loop_is_network_byte_order() {
        let ip4 = ipv4_udp(1000, 2000, 64);
        let p = packet(parse(LinkType::Loop, &with_prefix([0, 0, 0, 2], &ip4)));
        assert_eq!((p.sport, p.dport, p.payload_len), (1000, 2000, 64));
        let p = packet(parse(LinkType::Loop, &with_prefix([0, 0, 0, 24], &ipv6_tcp(1, 2, 3))));
        assert_eq!(p.payload_len, 3);
        assert_eq!(parse(LinkType::Loop, &with_prefix([2, 0, 0, 0], &ip4)), Parsed::Other);
        assert_eq!(parse(LinkType::Loop, &[]), Parsed::Malformed);
    }

    #[test]
    fn ipv6_extension_headers_before_udp() {
        let mut chain = ext(ip_number::IPV6_DEST_OPTIONS, 8); // hop-by-hop
        chain.extend(ext(ip_number::IPV6_ROUTE, 16)); // destination options
        chain.extend(ext(ip_number::UDP, 24)); // routing
        chain.extend_from_slice(&udp_header(5353, 53, 50));
        chain.extend_from_slice(&payload(50));
        let ip = ipv6_raw(ip_number::IPV6_HOP_BY_HOP, &chain);
        for (link, frame) in [(LinkType::RawIp, ip.clone()), (LinkType::Ethernet, eth(ETHERTYPE_IPV6, &ip))] {
            let p = packet(parse(link, &frame));
            assert_eq!((p.proto, p.sport, p.dport, p.payload_len), (Proto::Udp, 5353, 53, 50));
        }

        // Hop-by-hop anywhere but first is an error (as in etherparse).
        let mut chain = ext(ip_number::IPV6_HOP_BY_HOP, 8);
        chain.extend(ext(ip_number::UDP, 8));
        chain.extend_from_slice(&udp_header(1, 2, 0));
        let ip = ipv6_raw(ip_number::IPV6_DEST_OPTIONS, &chain);
        assert_eq!(parse(LinkType::RawIp, &ip), Parsed::Malformed);

        // An extension header cut short is malformed.
        let mut chain = ext(ip_number::UDP, 24);
        chain.extend_from_slice(&udp_header(1, 2, 0));
        let ip = ipv6_raw(ip_number::IPV6_DEST_OPTIONS, &chain);
        assert_eq!(packet(parse(LinkType::RawIp, &ip)).payload_len, 0);
        assert_eq!(parse(LinkType::RawIp, &ip[..40 + 20]), Parsed::Malformed);
    }

    #[test]
    fn authentication_header_is_skipped() {
        let auth = IpAuthHeader::new(ip_number::UDP, 0x100, 1, &[0; 12]).unwrap();
        let auth_bytes = auth.to_bytes().to_vec();
        let mut rest = auth_bytes.clone();
        rest.extend_from_slice(&udp_header(500, 4500, 40));
        rest.extend_from_slice(&payload(40));

        let mut h = Ipv4Header::new(rest.len() as u16, 64, ip_number::AUTH, V4_A, V4_B).unwrap();
        h.header_checksum = h.calc_header_checksum();
        let mut ip = h.to_bytes().to_vec();
        ip.extend_from_slice(&rest);
        let p = packet(parse(LinkType::RawIp, &ip));
        assert_eq!((p.sport, p.dport, p.payload_len), (500, 4500, 40));

        let p = packet(parse(LinkType::RawIp, &ipv6_raw(ip_number::AUTH, &rest)));
        assert_eq!((p.sport, p.dport, p.payload_len), (500, 4500, 40));
    }

    #[test]
    fn ipv4_total_len_zero_falls_back_to_captured_length() {
        // Segmentation offload on the capturing host leaves total_len 0.
        let mut ip = ipv4_udp(9, 10, 3000 - 28);
        ip[2] = 0;
        ip[3] = 0;
        assert_eq!(packet(parse(LinkType::RawIp, &ip)).payload_len, 3000 - 28);
    }

    // --- fragments ---------------------------------------------------------------------

    #[test]
    fn ipv4_udp_fragments_are_attributed() {
        let udp_payload = payload(2000);
        let mut datagram = udp_header(4000, 5000, udp_payload.len()).to_vec();
        datagram.extend_from_slice(&udp_payload);
        let frags = ipv4_fragments(ip_number::UDP, 0x1234, &datagram, 800);
        assert_eq!(frags.len(), 3);

        let mut parser = Parser::new(LinkType::Ethernet);
        let got: Vec<Packet> = frags
            .iter()
            .enumerate()
            .map(|(i, ip)| {
                let frame = eth(ETHERTYPE_IPV4, ip);
                packet(parser.parse(t(10.0 + i as f64 / 1000.0), frame.len() as u32, &frame))
            })
            .collect();
        for p in &got {
            assert_eq!((p.proto, p.sport, p.dport, p.tcp_flags), (Proto::Udp, 4000, 5000, 0));
            assert_eq!((p.src, p.dst), (v4(V4_A), v4(V4_B)));
        }
        let lens: Vec<u32> = got.iter().map(|p| p.payload_len).collect();
        assert_eq!(lens, [792, 800, 408]);
        assert_eq!(lens.iter().sum::<u32>(), 2000);

        // Again, also when later fragments are snaplen-truncated.
        let mut parser = Parser::new(LinkType::RawIp);
        let sum: u32 =
            frags.iter().map(|ip| packet(parser.parse(t(1.0), ip.len() as u32, &ip[..60])).payload_len).sum();
        assert_eq!(sum, 2000);
    }

    #[test]
    fn ipv4_tcp_fragments_are_attributed() {
        let tcp = etherparse::TcpHeader::new(8080, 50000, 77, 1000);
        let mut datagram = tcp.to_bytes().to_vec();
        datagram[13] = tcp_flags::PSH | tcp_flags::ACK;
        datagram.extend_from_slice(&payload(1500));
        let frags = ipv4_fragments(ip_number::TCP, 7, &datagram, 1000);
        let mut parser = Parser::new(LinkType::RawIp);
        let got: Vec<Packet> = frags.iter().map(|ip| packet(parser.parse(t(1.0), ip.len() as u32, ip))).collect();
        assert_eq!(got[0].tcp_flags, tcp_flags::PSH | tcp_flags::ACK);
        assert_eq!(got[1].tcp_flags, 0);
        assert!(got.iter().all(|p| (p.proto, p.sport, p.dport) == (Proto::Tcp, 8080, 50000)));
        assert_eq!((got[0].payload_len, got[1].payload_len), (980, 520));
    }

    #[test]
    fn ipv6_udp_fragments_are_attributed() {
        let udp_payload = payload(3000);
        let mut datagram = udp_header(6000, 443, udp_payload.len()).to_vec();
        datagram.extend_from_slice(&udp_payload);

        for unfrag in [Vec::new(), ext(ip_number::IPV6_FRAG, 8)] {
            let frags = ipv6_fragments(ip_number::UDP, 0xdead_beef, &unfrag, &datagram, 1232);
            assert_eq!(frags.len(), 3);
            let mut parser = Parser::new(LinkType::Ethernet);
            let got: Vec<Packet> = frags
                .iter()
                .map(|ip| {
                    let frame = eth(ETHERTYPE_IPV6, ip);
                    packet(parser.parse(t(1.0), frame.len() as u32, &frame))
                })
                .collect();
            for p in &got {
                assert_eq!((p.proto, p.sport, p.dport, p.tcp_flags), (Proto::Udp, 6000, 443, 0));
                assert_eq!((p.src, p.dst), (v6(V6_A), v6(V6_B)));
            }
            let lens: Vec<u32> = got.iter().map(|p| p.payload_len).collect();
            assert_eq!(lens, [1224, 1232, 544]);
            assert_eq!(lens.iter().sum::<u32>(), 3000);
        }
    }

    #[test]
    fn ipv6_fragmentable_part_headers_stay_in_first_fragment() {
        // Destination options after the fragment header belong to the fragmentable part: the
        // first fragment carries them, later fragments are raw data even if it looks like one.
        let mut datagram = ext(ip_number::UDP, 16);
        datagram.extend_from_slice(&udp_header(1, 2, 2000));
        let mut data = payload(2000);
        data[1000 - 24] = ip_number::IPV6_DEST_OPTIONS.0; // junk that would parse as headers
        data[1000 - 23] = 200;
        datagram.extend_from_slice(&data);
        let frags = ipv6_fragments(ip_number::IPV6_DEST_OPTIONS, 5, &[], &datagram, 1000);
        let mut parser = Parser::new(LinkType::RawIp);
        let lens: Vec<u32> =
            frags.iter().map(|ip| packet(parser.parse(t(1.0), ip.len() as u32, ip)).payload_len).collect();
        assert_eq!(lens, [1000 - 24, 1000, 24]);
        assert_eq!(lens.iter().sum::<u32>(), 2000);
    }

    #[test]
    fn later_fragment_without_first_is_other() {
        let mut datagram = udp_header(1, 2, 1600).to_vec();
        datagram.extend_from_slice(&payload(1600));
        let frags = ipv4_fragments(ip_number::UDP, 99, &datagram, 800);
        let mut parser = Parser::new(LinkType::RawIp);
        assert_eq!(parser.parse(t(1.0), 0, &frags[1]), Parsed::Other);
        assert_eq!(parser.parse(t(1.0), 0, &frags[2]), Parsed::Other);

        // Another identification, source or protocol is another datagram.
        assert!(matches!(parser.parse(t(1.0), 0, &frags[0]), Parsed::Packet(_)));
        let other_id = ipv4_fragments(ip_number::UDP, 100, &datagram, 800);
        assert_eq!(parser.parse(t(1.0), 0, &other_id[1]), Parsed::Other);
        let mut other_src = frags[1].clone();
        other_src[15] ^= 1;
        assert_eq!(parser.parse(t(1.0), 0, &other_src), Parsed::Other);
        let other_proto = ipv4_fragments(ip_number::TCP, 99, &datagram, 800);
        assert_eq!(parser.parse(t(1.0), 0, &other_proto[1]), Parsed::Other);
        assert!(matches!(parser.parse(t(1.0), 0, &frags[1]), Parsed::Packet(_)));

        // IPv6 as well.
        let frags = ipv6_fragments(ip_number::UDP, 99, &[], &datagram, 800);
        assert_eq!(parser.parse(t(1.0), 0, &frags[1]), Parsed::Other);

        // A first fragment of another protocol (ICMP) attributes its own later fragments.
        let icmp = ipv4_fragments(ip_number::ICMP, 5, &payload(1600), 800);
        assert_eq!(packet(parser.parse(t(1.0), 0, &icmp[0])).proto, Proto::Icmp);
        assert_eq!(packet(parser.parse(t(1.0), 0, &icmp[1])).proto, Proto::Icmp);
    }

    #[test]
    fn fragment_entries_expire_after_30s() {
        let mut datagram = udp_header(1, 2, 1600).to_vec();
        datagram.extend_from_slice(&payload(1600));
        let frags = ipv4_fragments(ip_number::UDP, 1, &datagram, 800);
        let mut parser = Parser::new(LinkType::RawIp);
        assert!(matches!(parser.parse(t(100.0), 0, &frags[0]), Parsed::Packet(_)));
        assert!(matches!(parser.parse(t(129.0), 0, &frags[1]), Parsed::Packet(_)));
        assert_eq!(parser.parse(t(131.0), 0, &frags[2]), Parsed::Other);
    }

    #[test]
    fn unfragmented_and_atomic_fragments_leave_the_map_alone() {
        let mut parser = Parser::new(LinkType::RawIp);
        // Unfragmented IPv4 with the same identification as a later fragment.
        let mut datagram = udp_header(1, 2, 1600).to_vec();
        datagram.extend_from_slice(&payload(1600));
        let frags = ipv4_fragments(ip_number::UDP, 0, &datagram, 800);
        assert!(matches!(parser.parse(t(1.0), 0, &ipv4_udp(1, 2, 3)), Parsed::Packet(_)));
        assert_eq!(parser.parse(t(1.0), 0, &frags[1]), Parsed::Other);

        // IPv6 atomic fragment (offset 0, no more fragments) is a plain packet.
        let atomic = ipv6_fragments(ip_number::UDP, 42, &[], &datagram, 4000);
        assert_eq!(atomic.len(), 1);
        let p = packet(parser.parse(t(1.0), 0, &atomic[0]));
        assert_eq!((p.sport, p.dport, p.payload_len), (1, 2, 1600));
        let later = ipv6_fragments(ip_number::UDP, 42, &[], &datagram, 800);
        assert_eq!(parser.parse(t(1.0), 0, &later[1]), Parsed::Other);
        assert!(parser.frags.slots.iter().all(|e| !e.used));
    }

    #[test]
    fn fragment_map_is_bounded_and_keeps_recent_entries() {
        let mut parser = Parser::new(LinkType::RawIp);
        let mut datagram = udp_header(1, 2, 1600).to_vec();
        datagram.extend_from_slice(&payload(1600));
        for id in 0..5000u16 {
            let frags = ipv4_fragments(ip_number::UDP, id, &datagram, 800);
            assert!(matches!(parser.parse(t(1.0), 0, &frags[0]), Parsed::Packet(_)));
            assert!(matches!(parser.parse(t(1.0), 0, &frags[1]), Parsed::Packet(_)));
        }
        assert_eq!(parser.frags.slots.len(), FRAG_MAP_CAPACITY);
        let used = parser.frags.slots.iter().filter(|e| e.used).count();
        assert!(used > FRAG_MAP_CAPACITY * 9 / 10, "used {used}");
    }

    // --- other and malformed -----------------------------------------------------------

    #[test]
    fn non_ip_is_other() {
        let arp = eth(0x0806, &[0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2]);
        assert_eq!(parse(LinkType::Ethernet, &arp), Parsed::Other);
        // 802.3 length field (LLC, e.g. STP), LLDP.
        assert_eq!(parse(LinkType::Ethernet, &eth(0x0026, &[0x42; 46])), Parsed::Other);
        assert_eq!(parse(LinkType::Ethernet, &eth(0x88cc, &[0; 46])), Parsed::Other);
    }

    #[test]
    fn icmp_echo_is_a_packet_with_its_identifier_as_the_requesters_port() {
        let req = build!(
            PacketBuilder::ethernet2(MAC_A, MAC_B).ipv4(V4_A, V4_B, 64).icmpv4_echo_request(77, 1),
            &payload(1400)
        );
        let p = packet(parse(LinkType::Ethernet, &req));
        assert_eq!((p.proto, p.src, p.dst, p.sport, p.dport), (Proto::Icmp, v4(V4_A), v4(V4_B), 77, 0));
        assert_eq!((p.payload_len, p.frame_len), (1400, req.len() as u32));
        let reply = build!(
            PacketBuilder::ethernet2(MAC_B, MAC_A).ipv4(V4_B, V4_A, 64).icmpv4_echo_reply(77, 1),
            &payload(1400)
        );
        let r = packet(parse(LinkType::Ethernet, &reply));
        assert_eq!((r.proto, r.sport, r.dport, r.payload_len), (Proto::Icmp, 0, 77, 1400));
        // Both directions are one flow.
        assert_eq!(crate::flows::FlowKey::of(&p).0, crate::flows::FlowKey::of(&r).0);

        let req6 = build!(PacketBuilder::ipv6(V6_A, V6_B, 64).icmpv6_echo_request(9, 2), &payload(56));
        let p6 = packet(parse(LinkType::RawIp, &req6));
        assert_eq!((p6.proto, p6.sport, p6.dport, p6.payload_len), (Proto::Icmpv6, 9, 0, 56));
        let reply6 = build!(PacketBuilder::ipv6(V6_B, V6_A, 64).icmpv6_echo_reply(9, 2), &payload(56));
        assert_eq!(packet(parse(LinkType::RawIp, &reply6)).dport, 9);
        // Other ICMP messages (destination unreachable carrying a datagram) have no ports.
        let unreachable = build!(
            PacketBuilder::ipv4(V4_A, V4_B, 64).icmpv4(etherparse::Icmpv4Type::DestinationUnreachable(
                etherparse::icmpv4::DestUnreachableHeader::Port
            )),
            &payload(28)
        );
        let u = packet(parse(LinkType::RawIp, &unreachable));
        assert_eq!((u.proto, u.sport, u.dport, u.payload_len), (Proto::Icmp, 0, 0, 28));
    }

    #[test]
    fn sctp_gre_esp_and_other_protocols_are_counted() {
        // SCTP: ports from its common header, payload after it.
        let mut sctp = vec![0u8; 12 + 300];
        sctp[..4].copy_from_slice(&[0x0b, 0xb8, 0x0e, 0x74]); // 3000 -> 3700
        let frame = ipv4_raw(IpNumber(132), &sctp);
        let p = packet(parse(LinkType::RawIp, &frame));
        assert_eq!((p.proto, p.sport, p.dport, p.payload_len), (Proto::Sctp, 3000, 3700, 300));
        // GRE (IPv4) and ESP (IPv6): no ports; everything after the IP header is payload.
        let gre = ipv4_raw(IpNumber(47), &payload(500));
        let g = packet(parse(LinkType::RawIp, &gre));
        assert_eq!((g.proto, g.sport, g.dport, g.payload_len), (Proto::Ip(47), 0, 0, 500));
        assert_eq!(g.proto.name(), "gre");
        let esp = ipv6_raw(IpNumber(50), &[7; 200]);
        let e = packet(parse(LinkType::RawIp, &esp));
        assert_eq!((e.proto, e.payload_len), (Proto::Ip(50), 200));
        assert_eq!(e.proto.name(), "esp");
        // A protocol without a name, and IPv6 "no next header".
        let odd = ipv4_raw(IpNumber(253), &payload(10));
        assert_eq!(packet(parse(LinkType::RawIp, &odd)).proto.name(), "ip-253");
        assert_eq!(packet(parse(LinkType::RawIp, &ipv6_raw(IpNumber(59), &[]))).payload_len, 0);
        for n in 0..=255u8 {
            assert_eq!(Proto::from_number(n).number(), n);
        }
    }

    #[test]
    fn truncated_icmp_and_sctp_headers_are_malformed() {
        let icmp = build!(PacketBuilder::ipv4(V4_A, V4_B, 64).icmpv4_echo_request(1, 1), &payload(10));
        assert_eq!(parse(LinkType::RawIp, &icmp[..20 + 7]), Parsed::Malformed);
        let sctp = ipv4_raw(IpNumber(132), &[0; 11]);
        assert_eq!(parse(LinkType::RawIp, &sctp), Parsed::Malformed);
    }

    #[test]
    fn icmp_fragments_are_attributed() {
        let icmp = build!(PacketBuilder::ipv4(V4_A, V4_B, 64).icmpv4_echo_request(5, 1), &payload(3000));
        // The ICMP message without its IPv4 header, cut into fragments.
        let frags = ipv4_fragments(IpNumber(1), 0x4242, &icmp[20..], 1480);
        assert!(frags.len() > 1);
        let mut parser = Parser::new(LinkType::RawIp);
        let total: u32 = frags
            .iter()
            .map(|f| match parser.parse(t(1.0), f.len() as u32, f) {
                Parsed::Packet(p) => {
                    assert_eq!((p.proto, p.sport), (Proto::Icmp, 5));
                    p.payload_len
                }
                other => panic!("{other:?}"),
            })
            .sum();
        assert_eq!(total, 3000);
    }

    #[test]
    fn broken_frames_are_malformed() {
        for link in ALL_LINKS {
            assert_eq!(parse(link, &[]), Parsed::Malformed, "{link:?}");
        }
        assert_eq!(parse(LinkType::Ethernet, &[0; 13]), Parsed::Malformed);
        // Garbage where IP should be.
        assert_eq!(parse(LinkType::Ethernet, &eth(ETHERTYPE_IPV4, &[0xff; 50])), Parsed::Malformed);
        assert_eq!(parse(LinkType::Ethernet, &eth(ETHERTYPE_IPV6, &[0xff; 50])), Parsed::Malformed);
        assert_eq!(parse(LinkType::RawIp, &[0xff; 50]), Parsed::Malformed);

        let good = ipv4_udp(1, 2, 20);
        let with = |f: &dyn Fn(&mut Vec<u8>)| {
            let mut ip = good.clone();
            f(&mut ip);
            parse(LinkType::RawIp, &ip)
        };
        assert_eq!(with(&|ip| ip[0] = 0x44), Parsed::Malformed); // IHL 4
        assert_eq!(with(&|ip| ip[0] = 0x4f), Parsed::Malformed); // options past the data
        assert_eq!(with(&|ip| ip[3] = 19), Parsed::Malformed); // total length < header
        assert_eq!(with(&|ip| ip.truncate(19)), Parsed::Malformed);
        assert_eq!(with(&|ip| ip[3] = 27), Parsed::Malformed); // UDP header past total length
        assert_eq!(with(&|ip| ip.truncate(27)), Parsed::Malformed);

        let good = ipv6_tcp(1, 2, 0);
        let mut bad = good.clone();
        bad[40 + 12] = 0x40; // data offset 4
        assert_eq!(parse(LinkType::RawIp, &bad), Parsed::Malformed);
        let mut bad = good.clone();
        bad[40 + 12] = 0xf0; // data offset 15, header past the data
        assert_eq!(parse(LinkType::RawIp, &bad), Parsed::Malformed);
        assert_eq!(parse(LinkType::RawIp, &good[..39]), Parsed::Malformed);
    }

    // --- properties --------------------------------------------------------------------

    /// Valid frames of every kind (including fragments), for the mutation test.
    fn corpus() -> &'static [(LinkType, Vec<u8>)] {
        static CORPUS: OnceLock<Vec<(LinkType, Vec<u8>)>> = OnceLock::new();
        CORPUS.get_or_init(|| {
            let mut c = Vec::new();
            let tcp4 = build!(
                PacketBuilder::ipv4(V4_A, V4_B, 64).tcp(1, 2, 3, 4).syn().options_raw(&[2, 4, 5, 0xb4]).unwrap(),
                &payload(30)
            );
            let udp4 = ipv4_udp(53, 5353, 40);
            let tcp6 = ipv6_tcp(443, 50000, 100);
            let mut chain = ext(ip_number::IPV6_DEST_OPTIONS, 8);
            chain.extend(ext(ip_number::UDP, 16));
            chain.extend_from_slice(&udp_header(1, 2, 10));
            chain.extend_from_slice(&payload(10));
            let ext6 = ipv6_raw(ip_number::IPV6_HOP_BY_HOP, &chain);
            let mut datagram = udp_header(9, 10, 1000).to_vec();
            datagram.extend_from_slice(&payload(1000));
            let mut ips = vec![tcp4, udp4, tcp6, ext6];
            ips.extend(ipv4_fragments(ip_number::UDP, 3, &datagram, 400));
            ips.extend(ipv6_fragments(ip_number::UDP, 3, &ext(ip_number::IPV6_FRAG, 8), &datagram, 400));
            for ip in &ips {
                let v6 = ip[0] >> 4 == 6;
                let et = if v6 { ETHERTYPE_IPV6 } else { ETHERTYPE_IPV4 };
                let af: u32 = if v6 { 30 } else { 2 };
                c.push((LinkType::RawIp, ip.clone()));
                c.push((LinkType::Ethernet, eth(et, ip)));
                let mut tagged = vec![0x00, 0x64, 0x81, 0x00, 0x00, 0x2a];
                tagged.extend_from_slice(&et.to_be_bytes());
                tagged.extend_from_slice(ip);
                c.push((LinkType::Ethernet, eth(0x88a8, &tagged)));
                c.push((LinkType::LinuxSll, sll(1, et, ip)));
                c.push((LinkType::LinuxSll2, sll2(1, et, ip)));
                c.push((LinkType::Null, with_prefix(af.to_le_bytes(), ip)));
                c.push((LinkType::Loop, with_prefix(af.to_be_bytes(), ip)));
            }
            c
        })
    }

    fn check_invariants(parsed: Parsed, orig_len: u32) -> Result<(), TestCaseError> {
        if let Parsed::Packet(p) = parsed {
            prop_assert!(p.payload_len <= 65535, "{p:?}");
            prop_assert_eq!(p.frame_len, orig_len);
            if p.proto == Proto::Udp {
                prop_assert_eq!(p.tcp_flags, 0);
            }
        }
        Ok(())
    }

    #[test]
    fn corpus_parses() {
        for link in ALL_LINKS {
            // One parser per link type, fed in order: fragments follow their first fragment.
            let mut parser = Parser::new(link);
            for (_, frame) in corpus().iter().filter(|(l, _)| *l == link) {
                assert!(matches!(parser.parse(t(1.0), 0, frame), Parsed::Packet(_)), "{link:?} {frame:02x?}");
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn arbitrary_bytes_never_panic(
            data in prop::collection::vec(any::<u8>(), 0..2000),
            orig_len in any::<u32>(),
        ) {
            for link in ALL_LINKS {
                let parsed = Parser::new(link).parse(t(1.0), orig_len, &data);
                check_invariants(parsed, orig_len)?;
            }
        }

        /// Random bytes behind a valid-looking link header and IP version, to get deeper.
        #[test]
        fn random_ip_never_panics(
            first in prop::sample::select(vec![0x45u8, 0x46, 0x4f, 0x60, 0x61]),
            proto in prop::sample::select(vec![0u8, 6, 17, 43, 44, 51, 60, 1, 255]),
            mut ip in prop::collection::vec(any::<u8>(), 0..200),
            orig_len in any::<u32>(),
        ) {
            ip.insert(0, first);
            if ip.len() > 9 && first >> 4 == 4 {
                ip[9] = proto;
            }
            if ip.len() > 6 && first >> 4 == 6 {
                ip[6] = proto;
            }
            let et = if first >> 4 == 6 { ETHERTYPE_IPV6 } else { ETHERTYPE_IPV4 };
            let mut parser = Parser::new(LinkType::Ethernet);
            for _ in 0..2 {
                let parsed = parser.parse(t(1.0), orig_len, &eth(et, &ip));
                check_invariants(parsed, orig_len)?;
            }
            check_invariants(Parser::new(LinkType::RawIp).parse(t(1.0), orig_len, &ip), orig_len)?;
        }

        #[test]
        fn mutated_frames_never_panic(
            pick in any::<usize>(),
            flips in prop::collection::vec((any::<usize>(), any::<u8>()), 0..8),
            cut in any::<usize>(),
            warm in any::<bool>(),
        ) {
            let corpus = corpus();
            let (link, frame) = &corpus[pick % corpus.len()];
            let mut parser = Parser::new(*link);
            if warm {
                // Learn the first fragments, so mutated later ones hit the map.
                for (l, f) in corpus {
                    if l == link {
                        let _ = parser.parse(t(1.0), f.len() as u32, f);
                    }
                }
            }
            let mut data = frame.clone();
            for (at, x) in flips {
                let i = at % data.len();
                data[i] ^= x;
            }
            data.truncate(cut % (data.len() + 1));
            let parsed = parser.parse(t(2.0), frame.len() as u32, &data);
            check_invariants(parsed, frame.len() as u32)?;
        }

        #[test]
        fn random_udp_tcp_round_trip(
            sport in any::<u16>(),
            dport in any::<u16>(),
            len in 0usize..1500,
            tcp in any::<bool>(),
            ipv6 in any::<bool>(),
            snap in 0usize..100,
        ) {
            let b = PacketBuilder::ethernet2(MAC_A, MAC_B);
            let ip_step = |b: etherparse::PacketBuilderStep<etherparse::Ethernet2Header>| {
                if ipv6 { b.ipv6(V6_A, V6_B, 1) } else { b.ipv4(V4_A, V4_B, 1) }
            };
            let frame = if tcp {
                build!(ip_step(b).tcp(sport, dport, 0, 0).ack(1), &payload(len))
            } else {
                build!(ip_step(b).udp(sport, dport), &payload(len))
            };
            let hdrs = 14 + if ipv6 { 40 } else { 20 } + if tcp { 20 } else { 8 };
            let captured = &frame[..(hdrs + snap).min(frame.len())];
            let p = packet(Parser::new(LinkType::Ethernet).parse(t(1.0), frame.len() as u32, captured));
            prop_assert_eq!((p.sport, p.dport, p.payload_len as usize), (sport, dport, len));
            prop_assert_eq!(p.proto, if tcp { Proto::Tcp } else { Proto::Udp });
        }
    }
}
