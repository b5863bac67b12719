//! The kernel's `fib:fib_table_lookup` and `fib6:fib6_table_lookup` tracepoints, decoded: who
//! sends UDP, told as it happens.
//!
//! UDP has no connect to trace, but every datagram a program sends from an unconnected socket, and
//! every `connect()` of a UDP socket, looks up a route, in the sending process itself. An output
//! lookup (the kernel sets its input interface to loopback, 1) made in process context (not in an
//! interrupt: the record's `common_flags`) names the local endpoint `(source, source port)` and so
//! its program, even when the program exits a millisecond later. The source address is
//! 0.0.0.0 / `::` when the socket is not bound to one (the route picks it): the socket table then
//! matches by port. Pure code: every read is bounds-checked, so a malformed record is skipped.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The kernel's filter: UDP output lookups only (`LOOPBACK_IFINDEX` as input interface).
pub const FILTER: &str = "proto == 17 && iif == 1";
/// Where the two tracepoints live under the tracing file system.
pub const EVENTS: [&str; 2] = ["events/fib/fib_table_lookup", "events/fib6/fib6_table_lookup"];

const IPPROTO_UDP: u8 = 17;
const LOOPBACK_IFINDEX: i32 = 1;
/// `common_flags` bits of a record made in an interrupt (hard, soft, NMI): no process sent it.
const IN_INTERRUPT: u8 = 0x08 | 0x10 | 0x40;

/// Where each field sits in a raw record of one of the two tracepoints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteLayout {
    /// The tracepoint's id (the record's `common_type`).
    pub id: u16,
    flags: Field,
    iif: Field,
    proto: Field,
    src: Field,
    dst: Field,
    sport: Field,
    dport: Field,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Field {
    offset: usize,
    size: usize,
}

/// One UDP datagram's route looked up by the process that sends it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UdpSend {
    pub local: IpAddr,
    pub local_port: u16,
    pub remote: IpAddr,
    pub remote_port: u16,
}

impl RouteLayout {
    /// Reads the offsets from the text of the tracepoint's `format` file and its `id`.
    pub fn parse(id: u16, format: &str) -> Result<RouteLayout, String> {
        let field = |name: &str| -> Result<Field, String> {
            for line in format.lines() {
                let Some(rest) = line.trim().strip_prefix("field:") else { continue };
                let mut parts = rest.split(';').map(str::trim);
                let decl = parts.next().unwrap_or("");
                let last = decl.rsplit([' ', '*']).next().unwrap_or("");
                if last.split('[').next() != Some(name) {
                    continue;
                }
                let num = |key: &str| rest.split(';').find_map(|p| p.trim().strip_prefix(key)?.trim().parse().ok());
                if let (Some(offset), Some(size)) = (num("offset:"), num("size:")) {
                    return Ok(Field { offset, size });
                }
            }
            Err(format!("the route tracepoint has no field `{name}`"))
        };
        let sized = |name: &str, sizes: &[usize]| -> Result<Field, String> {
            let f = field(name)?;
            if sizes.contains(&f.size) {
                Ok(f)
            } else {
                Err(format!("the route tracepoint's field `{name}` has size {}, expected {sizes:?}", f.size))
            }
        };
        Ok(RouteLayout {
            id,
            flags: sized("common_flags", &[1])?,
            iif: sized("iif", &[4])?,
            proto: sized("proto", &[1])?,
            src: sized("src", &[4, 16])?,
            dst: sized("dst", &[4, 16])?,
            sport: sized("sport", &[2])?,
            dport: sized("dport", &[2])?,
        })
    }

    /// Decodes one raw record: `None` unless it is a UDP output lookup made in process context,
    /// with both ports known.
    pub fn decode(&self, raw: &[u8]) -> Option<UdpSend> {
        let bytes = |f: Field| raw.get(f.offset..f.offset + f.size);
        let u16_at = |f: Field| bytes(f).map(|b| u16::from_ne_bytes([b[0], b[1]]));
        if u16::from_ne_bytes([*raw.first()?, *raw.get(1)?]) != self.id {
            return None;
        }
        if bytes(self.flags)?[0] & IN_INTERRUPT != 0 || bytes(self.proto)?[0] != IPPROTO_UDP {
            return None;
        }
        let iif = bytes(self.iif).map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))?;
        if iif != LOOPBACK_IFINDEX {
            return None;
        }
        let addr = |f: Field| -> Option<IpAddr> {
            let b = bytes(f)?;
            Some(match b.len() {
                4 => IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(b).ok()?)),
                _ => IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(b).ok()?)),
            })
        };
        // The tracepoints store ports in host order.
        let (local_port, remote_port) = (u16_at(self.sport)?, u16_at(self.dport)?);
        if local_port == 0 || remote_port == 0 {
            return None;
        }
        Some(UdpSend { local: addr(self.src)?, local_port, remote: addr(self.dst)?, remote_port })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `format` files of a 6.18 kernel.
    const FIB4: &str = "name: fib_table_lookup\nID: 2264\nformat:\n\
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n\
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n\
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n\
\tfield:u32 tb_id;\toffset:8;\tsize:4;\tsigned:0;\n\
\tfield:int err;\toffset:12;\tsize:4;\tsigned:1;\n\
\tfield:int oif;\toffset:16;\tsize:4;\tsigned:1;\n\
\tfield:int iif;\toffset:20;\tsize:4;\tsigned:1;\n\
\tfield:u8 proto;\toffset:24;\tsize:1;\tsigned:0;\n\
\tfield:__u8 tos;\toffset:25;\tsize:1;\tsigned:0;\n\
\tfield:__u8 scope;\toffset:26;\tsize:1;\tsigned:0;\n\
\tfield:__u8 flags;\toffset:27;\tsize:1;\tsigned:0;\n\
\tfield:__u8 src[4];\toffset:28;\tsize:4;\tsigned:0;\n\
\tfield:__u8 dst[4];\toffset:32;\tsize:4;\tsigned:0;\n\
\tfield:__u8 gw4[4];\toffset:36;\tsize:4;\tsigned:0;\n\
\tfield:__u8 gw6[16];\toffset:40;\tsize:16;\tsigned:0;\n\
\tfield:u16 sport;\toffset:56;\tsize:2;\tsigned:0;\n\
\tfield:u16 dport;\toffset:58;\tsize:2;\tsigned:0;\n\
\tfield:char name[16];\toffset:60;\tsize:16;\tsigned:0;\n";

    const FIB6: &str = "name: fib6_table_lookup\nID: 2265\nformat:\n\
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n\
\tfield:int iif;\toffset:20;\tsize:4;\tsigned:1;\n\
\tfield:__u8 src[16];\toffset:31;\tsize:16;\tsigned:0;\n\
\tfield:__u8 dst[16];\toffset:47;\tsize:16;\tsigned:0;\n\
\tfield:u16 sport;\toffset:64;\tsize:2;\tsigned:0;\n\
\tfield:u16 dport;\toffset:66;\tsize:2;\tsigned:0;\n\
\tfield:u8 proto;\toffset:68;\tsize:1;\tsigned:0;\n";

    fn fib4(flags: u8, iif: i32, proto: u8, sport: u16) -> Vec<u8> {
        let mut r = vec![0u8; 76];
        r[0..2].copy_from_slice(&2264u16.to_ne_bytes());
        r[2] = flags;
        r[20..24].copy_from_slice(&iif.to_ne_bytes());
        r[24] = proto;
        r[28..32].copy_from_slice(&[10, 200, 1, 1]);
        r[32..36].copy_from_slice(&[10, 200, 1, 2]);
        r[56..58].copy_from_slice(&sport.to_ne_bytes());
        r[58..60].copy_from_slice(&53u16.to_ne_bytes());
        r
    }

    #[test]
    fn a_udp_output_lookup_in_process_context_names_the_endpoint() {
        let l = RouteLayout::parse(2264, FIB4).unwrap();
        let got = l.decode(&fib4(0, 1, 17, 40_000)).unwrap();
        assert_eq!(
            got,
            UdpSend {
                local: "10.200.1.1".parse().unwrap(),
                local_port: 40_000,
                remote: "10.200.1.2".parse().unwrap(),
                remote_port: 53
            }
        );
        // Bottom halves off is still process context.
        assert!(l.decode(&fib4(0x80 | 0x01, 1, 17, 40_000)).is_some());
    }

    #[test]
    fn interrupts_input_lookups_other_protocols_and_odd_records_are_skipped() {
        let l = RouteLayout::parse(2264, FIB4).unwrap();
        assert_eq!(l.decode(&fib4(0x10, 1, 17, 40_000)), None, "softirq");
        assert_eq!(l.decode(&fib4(0x08, 1, 17, 40_000)), None, "hardirq");
        assert_eq!(l.decode(&fib4(0, 3, 17, 40_000)), None, "an input lookup (forwarded or received)");
        assert_eq!(l.decode(&fib4(0, 1, 6, 40_000)), None, "TCP");
        assert_eq!(l.decode(&fib4(0, 1, 17, 0)), None, "no source port yet");
        let mut other = fib4(0, 1, 17, 40_000);
        other[0..2].copy_from_slice(&7u16.to_ne_bytes());
        assert_eq!(l.decode(&other), None, "another tracepoint's record");
        for n in 0..60 {
            assert_eq!(l.decode(&fib4(0, 1, 17, 40_000)[..n]), None, "cut at {n}");
        }
    }

    #[test]
    fn the_ipv6_layout_reads_sixteen_byte_addresses() {
        let l = RouteLayout::parse(2265, FIB6).unwrap();
        let mut r = vec![0u8; 86];
        r[0..2].copy_from_slice(&2265u16.to_ne_bytes());
        r[20..24].copy_from_slice(&1i32.to_ne_bytes());
        r[68] = 17;
        r[64..66].copy_from_slice(&50_000u16.to_ne_bytes());
        r[66..68].copy_from_slice(&443u16.to_ne_bytes());
        r[47..63].copy_from_slice(&"fd00:200::1:2".parse::<Ipv6Addr>().unwrap().octets());
        let got = l.decode(&r).unwrap();
        assert_eq!(got.local, IpAddr::V6(Ipv6Addr::UNSPECIFIED), "an unbound socket: the route picks the source");
        assert_eq!((got.local_port, got.remote_port), (50_000, 443));
        assert_eq!(got.remote, "fd00:200::1:2".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn a_format_without_a_field_is_refused_naming_it() {
        let e = RouteLayout::parse(1, &FIB4.replace("sport", "xport")).unwrap_err();
        assert!(e.contains("`sport`"), "{e}");
    }
}
