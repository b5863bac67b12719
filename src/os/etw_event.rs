//! The Windows kernel network events (provider `Microsoft-Windows-Kernel-Network`), decoded: the
//! user data of one event → the connection it tells about. Plain byte parsing with every read
//! bounds-checked (a short or malformed payload is refused, never a panic), compiled and tested on
//! every system; only the ETW session that delivers the events is Windows code
//! (`windows/etw.rs`).
//!
//! # Layout
//! From the provider's instrumentation manifest (`wevtutil gp Microsoft-Windows-Kernel-Network
//! /ge /gm:true`; the field tables are reproduced per event in OTRF/OSSEM,
//! `data_dictionaries/windows/etw/Microsoft-Windows-Kernel-Network/events/event-{10,12,26,28,42,58}.md`).
//! Every event read here is version 0 and starts with the same six fields, packed:
//!
//! | field | IPv4 events (10, 12, 42) | IPv6 events (26, 28, 58) |
//! |---|---|---|
//! | `PID` (`win:UInt32`, the process that owns the socket) | 0, 4 bytes | 0, 4 bytes |
//! | `size` (`win:UInt32`) | 4, 4 | 4, 4 |
//! | `daddr` (`win:UInt32` shown as `win:IPv4` / 16-byte `win:Binary` shown as `win:IPv6`) | 8, 4 | 8, 16 |
//! | `saddr` | 12, 4 | 24, 16 |
//! | `dport` (`win:UInt16` shown as `win:Port`: network byte order) | 16, 2 | 40, 2 |
//! | `sport` | 18, 2 | 42, 2 |
//!
//! and then fields this module does not read (TCP send: `startime`, `endtime`, `seqnum`,
//! `connid`; TCP connect: `mss`, `sackopt`, … `connid`; UDP send: `seqnum`, `connid`). Addresses are
//! stored as on the wire (network order); the integers in the machine's order, little-endian on
//! every Windows Leakwatch builds for. For these send and connect events the source `saddr:sport`
//! is the local end ("TCPv4: %2 bytes transmitted from %4:%6 to %3:%5", "Connection attempted
//! between %4:%6 and %3:%5"). The process is the `PID` field, not the event header's process id
//! (the context the kernel ran in, often System).
//!
//! Programs that exit before their network events are read are named from the process provider
//! (`Microsoft-Windows-Kernel-Process`, event 1 `ProcessStart`, keyword
//! `WINEVENT_KEYWORD_PROCESS`), as the Linux tracer names them from `execve`: [`decode_start`].
//! Its manifest has four versions (OSSEM, `…/Microsoft-Windows-Kernel-Process/events/event-1*.md`):
//!
//! | version | fields before `ImageName` (NUL-terminated UTF-16) | `ImageName` at |
//! |---|---|---|
//! | 0 | `ProcessID` u32, `CreateTime` FILETIME, `ParentProcessID` u32, `SessionID` u32 | 20 |
//! | 1, 2 | the same and `Flags` u32 | 24 |
//! | 3 | `ProcessID` u32, `ProcessSequenceNumber` u64, `CreateTime`, `ParentProcessID`, `ParentProcessSequenceNumber` u64, `SessionID`, `Flags`, `ProcessTokenElevationType` u32, `ProcessTokenIsElevated` u32, `MandatoryLabel` SID (8 bytes and 4 per sub-authority) | 48 + SID |
//!
//! Untested against a real Windows machine's events: the layouts are the manifests'.

use crate::packet::Proto;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The provider's GUID, `{7dd42a49-5329-4832-8dfd-43d979153a88}`.
pub const PROVIDER: u128 = 0x7dd4_2a49_5329_4832_8dfd_43d9_7915_3a88;
/// Manifest keywords: `KERNEL_NETWORK_KEYWORD_IPV4` and `KERNEL_NETWORK_KEYWORD_IPV6`.
pub const KEYWORD_IPV4: u64 = 0x10;
pub const KEYWORD_IPV6: u64 = 0x20;

/// Event ids read (manifest `value=`): TCP data sent and connection attempted, UDP data sent.
pub const TCP_SEND_V4: u16 = 10;
pub const TCP_CONNECT_V4: u16 = 12;
pub const TCP_SEND_V6: u16 = 26;
pub const TCP_CONNECT_V6: u16 = 28;
pub const UDP_SEND_V4: u16 = 42;
pub const UDP_SEND_V6: u16 = 58;

/// The only event version whose layout is known (every one of these events so far).
pub const VERSION: u8 = 0;

/// The process provider, `{22fb2cd6-0e7b-422b-a0c7-2fad1fd0e716}`, its keyword
/// `WINEVENT_KEYWORD_PROCESS` and its `ProcessStart` event.
pub const PROCESS_PROVIDER: u128 = 0x22fb_2cd6_0e7b_422b_a0c7_2fad_1fd0_e716;
pub const KEYWORD_PROCESS: u64 = 0x10;
pub const PROCESS_START: u16 = 1;
/// Longest image name read, in UTF-16 units (a longer one is cut).
const MAX_IMAGE_UNITS: usize = 1024;

/// One connection told by the kernel: which process sent or connected, from where to where.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetEvent {
    pub pid: u32,
    pub proto: Proto,
    pub local: IpAddr,
    pub local_port: u16,
    pub remote: IpAddr,
    pub remote_port: u16,
}

/// Decodes the user data of event `id` (version `version`). `None` for an event not read here
/// (receives, accepts, disconnects, another version), a payload too short for its fields, or one
/// without a process or a local port.
pub fn decode(id: u16, version: u8, data: &[u8]) -> Option<NetEvent> {
    if version != VERSION {
        return None;
    }
    let (proto, v6) = match id {
        TCP_SEND_V4 | TCP_CONNECT_V4 => (Proto::Tcp, false),
        TCP_SEND_V6 | TCP_CONNECT_V6 => (Proto::Tcp, true),
        UDP_SEND_V4 => (Proto::Udp, false),
        UDP_SEND_V6 => (Proto::Udp, true),
        _ => return None,
    };
    let pid = u32::from_le_bytes(data.get(0..4)?.try_into().ok()?);
    let alen = if v6 { 16 } else { 4 };
    let addr = |at: usize| -> Option<IpAddr> {
        let b = data.get(at..at + alen)?;
        Some(if v6 {
            IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(b).ok()?))
        } else {
            IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(b).ok()?))
        })
    };
    let port = |at: usize| -> Option<u16> { Some(u16::from_be_bytes(data.get(at..at + 2)?.try_into().ok()?)) };
    let daddr = addr(8)?;
    let saddr = addr(8 + alen)?;
    let dport = port(8 + 2 * alen)?;
    let sport = port(10 + 2 * alen)?;
    if pid == 0 || sport == 0 {
        return None;
    }
    Some(NetEvent { pid, proto, local: saddr, local_port: sport, remote: daddr, remote_port: dport })
}

/// A program started: its pid and the file name of its image (`ImageName` is a kernel path,
/// `\Device\HarddiskVolume3\Windows\System32\curl.exe`: only its last part is kept).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Started {
    pub pid: u32,
    pub name: String,
}

/// Decodes the user data of a `ProcessStart` event (versions 0 to 3). `None` for a payload too
/// short for its fields, another version, or an image name that is empty.
pub fn decode_start(version: u8, data: &[u8]) -> Option<Started> {
    let u32_at = |at: usize| -> Option<u32> { Some(u32::from_le_bytes(data.get(at..at + 4)?.try_into().ok()?)) };
    let pid = u32_at(0)?;
    let name_at = match version {
        0 => 20,
        1 | 2 => 24,
        3 => {
            // MandatoryLabel: a SID, revision(1) sub-authority count(1) authority(6) then the
            // sub-authorities (4 bytes each).
            let count = usize::from(*data.get(49)?);
            48 + 8 + 4 * count
        }
        _ => return None,
    };
    let units = data.get(name_at..)?.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]]));
    let image: String = char::decode_utf16(units.take_while(|&u| u != 0).take(MAX_IMAGE_UNITS))
        .map(|c| c.unwrap_or('\u{fffd}'))
        .collect();
    let name = image.rsplit(['\\', '/']).next().unwrap_or("");
    if pid == 0 || name.is_empty() {
        return None;
    }
    Some(Started { pid, name: name.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The user data of an event as the manifest lays it out, with `tail` bytes of the fields that
    /// follow `sport`.
    fn payload(pid: u32, local: IpAddr, sport: u16, remote: IpAddr, dport: u16, tail: usize) -> Vec<u8> {
        let mut d = Vec::new();
        d.extend_from_slice(&pid.to_le_bytes());
        d.extend_from_slice(&1234u32.to_le_bytes()); // size
        let octets = |a: IpAddr| match a {
            IpAddr::V4(a) => a.octets().to_vec(),
            IpAddr::V6(a) => a.octets().to_vec(),
        };
        d.extend_from_slice(&octets(remote));
        d.extend_from_slice(&octets(local));
        d.extend_from_slice(&dport.to_be_bytes());
        d.extend_from_slice(&sport.to_be_bytes());
        d.extend(std::iter::repeat_n(0xa5, tail));
        d
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_tcp_connect_over_ipv4_names_the_local_endpoint_and_its_process() {
        // Event 12's template: the six fields, then mss … connid (28 more bytes).
        let d = payload(4242, ip("10.200.0.1"), 50_123, ip("10.200.0.2"), 443, 28);
        assert_eq!(d.len(), 48);
        let e = decode(TCP_CONNECT_V4, 0, &d).unwrap();
        assert_eq!(
            e,
            NetEvent {
                pid: 4242,
                proto: Proto::Tcp,
                local: ip("10.200.0.1"),
                local_port: 50_123,
                remote: ip("10.200.0.2"),
                remote_port: 443
            }
        );
        // Ports are in network order: 50123 is c3 cb on the wire.
        assert_eq!(&d[16..20], &[0x01, 0xbb, 0xc3, 0xcb]);
        assert_eq!(decode(TCP_SEND_V4, 0, &d).unwrap().local_port, 50_123);
    }

    #[test]
    fn ipv6_and_udp_events_read_sixteen_byte_addresses() {
        let d = payload(7, ip("fd00:200::1"), 40_000, ip("fd00:200::2"), 53, 8);
        let e = decode(UDP_SEND_V6, 0, &d).unwrap();
        assert_eq!(
            (e.proto, e.local, e.local_port, e.remote, e.remote_port),
            (Proto::Udp, ip("fd00:200::1"), 40_000, ip("fd00:200::2"), 53)
        );
        assert_eq!(decode(TCP_CONNECT_V6, 0, &d).unwrap().proto, Proto::Tcp);
        assert_eq!(decode(TCP_SEND_V6, 0, &d).unwrap().pid, 7);
        // An unbound UDP socket's datagram: the source the route picked is in the event.
        let d = payload(7, ip("10.200.0.1"), 40_001, ip("10.200.0.2"), 53, 8);
        assert_eq!(decode(UDP_SEND_V4, 0, &d).unwrap().local, ip("10.200.0.1"));
    }

    #[test]
    fn short_payloads_other_events_versions_and_empty_fields_are_refused() {
        let v4 = payload(1, ip("10.200.0.1"), 1000, ip("10.200.0.2"), 80, 0);
        assert_eq!(v4.len(), 20);
        assert!(decode(TCP_SEND_V4, 0, &v4).is_some(), "the six fields are enough");
        for n in 0..v4.len() {
            assert_eq!(decode(TCP_SEND_V4, 0, &v4[..n]), None, "cut at {n}");
        }
        let v6 = payload(1, ip("fd00:200::1"), 1000, ip("fd00:200::2"), 80, 0);
        assert_eq!(v6.len(), 44);
        for n in 0..v6.len() {
            assert_eq!(decode(TCP_SEND_V6, 0, &v6[..n]), None, "cut at {n}");
        }
        // An IPv6 event id on an IPv4 payload is too short, never read as IPv4.
        assert_eq!(decode(TCP_SEND_V6, 0, &v4), None);
        for id in [11, 13, 15, 27, 43, 59, 0, u16::MAX] {
            assert_eq!(decode(id, 0, &v6), None, "event {id} is not read");
        }
        assert_eq!(decode(TCP_SEND_V4, 1, &v4), None, "a version whose layout is unknown");
        assert_eq!(decode(TCP_SEND_V4, 0, &payload(0, ip("10.0.0.1"), 1, ip("10.0.0.2"), 2, 0)), None, "no process");
        assert_eq!(decode(UDP_SEND_V4, 0, &payload(9, ip("10.0.0.1"), 0, ip("10.0.0.2"), 2, 0)), None, "no port");
    }

    /// A `ProcessStart` payload of `version` for `pid` running `image`.
    fn start(version: u8, pid: u32, image: &str) -> Vec<u8> {
        let mut d = pid.to_le_bytes().to_vec();
        if version == 3 {
            d.extend_from_slice(&77u64.to_le_bytes()); // ProcessSequenceNumber
        }
        d.extend_from_slice(&0x01d9_0000_0000_0000u64.to_le_bytes()); // CreateTime
        d.extend_from_slice(&1000u32.to_le_bytes()); // ParentProcessID
        if version == 3 {
            d.extend_from_slice(&76u64.to_le_bytes()); // ParentProcessSequenceNumber
        }
        d.extend_from_slice(&1u32.to_le_bytes()); // SessionID
        if version >= 1 {
            d.extend_from_slice(&0u32.to_le_bytes()); // Flags
        }
        if version == 3 {
            d.extend_from_slice(&1u32.to_le_bytes()); // ProcessTokenElevationType
            d.extend_from_slice(&0u32.to_le_bytes()); // ProcessTokenIsElevated
            // S-1-16-8192 (medium integrity): revision 1, one sub-authority, authority 16.
            d.extend_from_slice(&[1, 1, 0, 0, 0, 0, 0, 16]);
            d.extend_from_slice(&8192u32.to_le_bytes());
        }
        for u in image.encode_utf16().chain([0]) {
            d.extend_from_slice(&u.to_le_bytes());
        }
        d.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]); // ImageChecksum and what follows
        d
    }

    #[test]
    fn a_process_start_of_every_version_names_the_image_file() {
        let image = "\\Device\\HarddiskVolume3\\Windows\\System32\\curl.exe";
        for version in 0..=3 {
            let got = decode_start(version, &start(version, 4242, image));
            assert_eq!(got, Some(Started { pid: 4242, name: "curl.exe".into() }), "version {version}");
        }
        // Read with another version's layout, the name is wrong or missing: versions are not mixed.
        assert_ne!(decode_start(0, &start(1, 4242, image)).map(|s| s.name), Some("curl.exe".into()));
        assert_eq!(decode_start(4, &start(3, 4242, image)), None, "a version whose layout is unknown");
        assert_eq!(decode_start(0, &start(0, 0, image)), None, "no process");
        assert_eq!(decode_start(0, &start(0, 9, "")), None, "no image");
        let full = start(3, 9, image);
        for n in 0..56 {
            assert_eq!(decode_start(3, &full[..n]), None, "cut at {n}");
        }
        // A name cut short by the end of the payload (no NUL) keeps what is there.
        assert_eq!(decode_start(0, &start(0, 9, "a\\b.exe")[..20 + 2 * 4]).unwrap().name, "b.");
    }

    proptest! {
        #[test]
        fn arbitrary_start_payloads_never_panic(version in 0u8..5, data in proptest::collection::vec(any::<u8>(), 0..160)) {
            if let Some(s) = decode_start(version, &data) {
                prop_assert!(s.pid != 0 && !s.name.is_empty() && !s.name.contains('\\'));
                prop_assert!(s.name.chars().count() <= MAX_IMAGE_UNITS);
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(id in 0u16..80, version in 0u8..3, data in proptest::collection::vec(any::<u8>(), 0..96)) {
            if let Some(e) = decode(id, version, &data) {
                prop_assert!(e.pid != 0 && e.local_port != 0);
                prop_assert_eq!(e.local.is_ipv6(), matches!(id, TCP_SEND_V6 | TCP_CONNECT_V6 | UDP_SEND_V6));
            }
        }

        #[test]
        fn every_well_formed_event_decodes_to_what_was_written(
            pid in 1u32.., sport in 1u16.., dport: u16, tail in 0usize..40,
            l4: [u8; 4], r4: [u8; 4], l6: [u8; 16], r6: [u8; 16],
            id in proptest::sample::select(vec![TCP_SEND_V4, TCP_CONNECT_V4, UDP_SEND_V4, TCP_SEND_V6, TCP_CONNECT_V6, UDP_SEND_V6]),
        ) {
            let v6 = matches!(id, TCP_SEND_V6 | TCP_CONNECT_V6 | UDP_SEND_V6);
            let (local, remote) = if v6 {
                (IpAddr::from(l6), IpAddr::from(r6))
            } else {
                (IpAddr::from(l4), IpAddr::from(r4))
            };
            let e = decode(id, 0, &payload(pid, local, sport, remote, dport, tail)).unwrap();
            prop_assert_eq!((e.pid, e.local, e.local_port, e.remote, e.remote_port), (pid, local, sport, remote, dport));
            prop_assert_eq!(e.proto, if matches!(id, UDP_SEND_V4 | UDP_SEND_V6) { Proto::Udp } else { Proto::Tcp });
        }
    }
}
