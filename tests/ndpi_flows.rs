//! Flow accounting checked against nDPI 4.2's ground truth.
//!
//! For every capture in `$SHARED/testdata/captures/ndpi-4.2` that has an `expected/<file>.out`
//! (what nDPI 4.2's `ndpiReader` printed), `leakwatch replay --flows --json FILE` must list every
//! TCP/UDP flow nDPI lists, with the same packets and frame bytes in each direction.
//!
//! The one documented difference is IP fragments: nDPI's reader drops non-first IPv4/IPv6
//! fragments before flow lookup (they carry no ports), whereas our spec (docs/detection.md §1)
//! counts every fragment toward its datagram's flow. For every flow, the packets and bytes of
//! the non-first fragments are computed here, independently of the product, by walking the
//! capture's IP headers by hand; our figures must equal nDPI's plus exactly those.

mod support;

use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::ffi::OsStr;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use support::ndpi::{Count, parse_ndpi_file, parse_ndpi_line, parse_ndpi_line_of};
use support::{leakwatch, ndpi_dir};

/// One line of `replay --flows --json`.
#[derive(Clone, Debug)]
struct OurFlow {
    proto: String,
    local: SocketAddr,
    remote: SocketAddr,
    out: Count,
    inc: Count,
}

/// Flow identity regardless of direction: protocol and the two endpoints in sorted order.
type FlowKey = (String, SocketAddr, SocketAddr);

fn key(proto: &str, x: SocketAddr, y: SocketAddr) -> FlowKey {
    let proto = proto.to_ascii_lowercase();
    if x <= y { (proto, x, y) } else { (proto, y, x) }
}

fn addr(v: &Value, field: &str, line: &Value) -> SocketAddr {
    v[field]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("flow JSON field `{field}` is not ip:port / [ip]:port: {line}"))
}

fn num(v: &Value, field: &str) -> u64 {
    v[field].as_u64().unwrap_or_else(|| panic!("flow JSON field `{field}` is not an unsigned integer: {v}"))
}

/// The flow JSON keys (plus `file`, added by `replay`).
const FLOW_KEYS: [&str; 15] = [
    "proto",
    "local",
    "remote",
    "packets_out",
    "bytes_out",
    "payload_out",
    "packets_in",
    "bytes_in",
    "payload_in",
    "first",
    "last",
    "hostname",
    "orgname",
    "country",
    "file",
];

/// Runs `replay --flows --json` on a capture and parses its lines.
fn our_flows(capture: &Path) -> Vec<OurFlow> {
    let args = [
        OsStr::new("replay"),
        OsStr::new("--no-progress"),
        OsStr::new("--flows"),
        OsStr::new("--json"),
        capture.as_os_str(),
    ];
    let run = leakwatch(&args, None);
    run.assert_code(0);
    run.json_lines()
        .into_iter()
        .map(|v| {
            let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
            keys.sort_unstable();
            let mut want = FLOW_KEYS.to_vec();
            want.sort_unstable();
            assert_eq!(keys, want, "flow JSON keys of {}: {v}", capture.display());
            let proto = v["proto"].as_str().unwrap_or_else(|| panic!("flow JSON `proto` is not a string: {v}"));
            assert!(
                ["tcp", "udp", "sctp", "icmp", "icmpv6", "igmp", "gre", "esp"].contains(&proto)
                    || proto.starts_with("ip-"),
                "flow JSON `proto` is {proto:?}: {v}"
            );
            assert!(num(&v, "payload_out") <= num(&v, "bytes_out"), "payload larger than frames: {v}");
            assert!(num(&v, "payload_in") <= num(&v, "bytes_in"), "payload larger than frames: {v}");
            OurFlow {
                proto: proto.to_string(),
                local: addr(&v, "local", &v),
                remote: addr(&v, "remote", &v),
                out: Count { packets: num(&v, "packets_out"), bytes: num(&v, "bytes_out") },
                inc: Count { packets: num(&v, "packets_in"), bytes: num(&v, "bytes_in") },
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Independent fragment accounting, by hand from the capture's bytes.

fn be16(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(d.get(at..at + 2)?.try_into().ok()?))
}

fn be32(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(d.get(at..at + 4)?.try_into().ok()?))
}

/// A fragmented datagram's identity: source, destination, IP identification, protocol.
type FragIdent = (IpAddr, IpAddr, u32, u8);

/// What the IP layer of one Ethernet frame says about fragmentation.
enum IpFrag {
    /// Not a fragment, or not IP: irrelevant here.
    None,
    /// The first fragment of a fragmented datagram: its identity and its ports.
    First { ident: FragIdent, proto: &'static str, sport: u16, dport: u16 },
    /// A later fragment: its identity and direction.
    Later { ident: FragIdent, src: IpAddr, dst: IpAddr },
}

fn ports(transport: &[u8], ip_proto: u8) -> Option<(&'static str, u16, u16)> {
    let name = match ip_proto {
        6 => "tcp",
        17 => "udp",
        _ => return None,
    };
    Some((name, be16(transport, 0)?, be16(transport, 2)?))
}

/// Reads the IP header of an Ethernet frame (any 802.1Q/802.1ad tags skipped).
fn ip_frag(frame: &[u8]) -> Option<IpFrag> {
    let mut at = 12;
    let mut ethertype = be16(frame, at)?;
    while matches!(ethertype, 0x8100 | 0x88a8 | 0x9100) {
        at += 4;
        ethertype = be16(frame, at)?;
    }
    let ip = frame.get(at + 2..)?;
    match ethertype {
        0x0800 => {
            let ihl = usize::from(ip.first()? & 0x0f) * 4;
            let flags_off = be16(ip, 6)?;
            let more = flags_off & 0x2000 != 0;
            let offset = flags_off & 0x1fff;
            let proto = *ip.get(9)?;
            let src = IpAddr::from(<[u8; 4]>::try_from(ip.get(12..16)?).ok()?);
            let dst = IpAddr::from(<[u8; 4]>::try_from(ip.get(16..20)?).ok()?);
            let ident = (src, dst, u32::from(be16(ip, 4)?), proto);
            if offset > 0 {
                Some(IpFrag::Later { ident, src, dst })
            } else if more {
                let (proto, sport, dport) = ports(ip.get(ihl..)?, proto)?;
                Some(IpFrag::First { ident, proto, sport, dport })
            } else {
                Some(IpFrag::None)
            }
        }
        0x86dd => {
            let src = IpAddr::from(<[u8; 16]>::try_from(ip.get(8..24)?).ok()?);
            let dst = IpAddr::from(<[u8; 16]>::try_from(ip.get(24..40)?).ok()?);
            let mut next = *ip.get(6)?;
            let mut pos = 40;
            let mut frag: Option<(u32, u16, bool)> = None;
            let mut frag_next = 0;
            loop {
                match next {
                    // Hop-by-hop, routing, destination options: (len + 1) * 8 bytes.
                    0 | 43 | 60 => {
                        let len = (usize::from(*ip.get(pos + 1)?) + 1) * 8;
                        next = *ip.get(pos)?;
                        pos += len;
                    }
                    // Fragment header: next, reserved, offset(13) + res(2) + M(1), ident(32).
                    44 => {
                        let off_m = be16(ip, pos + 2)?;
                        frag = Some((be32(ip, pos + 4)?, off_m >> 3, off_m & 1 != 0));
                        next = *ip.get(pos)?;
                        frag_next = next;
                        pos += 8;
                        if off_m >> 3 != 0 {
                            break;
                        }
                    }
                    _ => break,
                }
            }
            let Some((id, offset, more)) = frag else { return Some(IpFrag::None) };
            let ident = (src, dst, id, frag_next);
            if offset > 0 {
                Some(IpFrag::Later { ident, src, dst })
            } else if more {
                let (proto, sport, dport) = ports(ip.get(pos..)?, next)?;
                Some(IpFrag::First { ident, proto, sport, dport })
            } else {
                Some(IpFrag::None)
            }
        }
        _ => Some(IpFrag::None),
    }
}

/// Per flow direction (proto, source endpoint, destination endpoint): the non-first IP fragments
/// of that direction's datagrams (packets and original frame lengths). A later fragment is
/// attributed only when its first fragment came earlier in the file (as docs/detection.md says:
/// the first fragment carries the ports).
fn later_fragments(capture: &Path) -> HashMap<(String, SocketAddr, SocketAddr), Count> {
    let mut cap = pcap::Capture::from_file(capture).unwrap_or_else(|e| panic!("{}: {e}", capture.display()));
    assert_eq!(cap.get_datalink().0, 1, "{}: the nDPI captures are all Ethernet", capture.display());
    let mut firsts: HashMap<FragIdent, (&'static str, u16, u16)> = HashMap::new();
    let mut extra: HashMap<(String, SocketAddr, SocketAddr), Count> = HashMap::new();
    loop {
        let pkt = match cap.next_packet() {
            Ok(p) => p,
            Err(pcap::Error::NoMorePackets) => break,
            Err(e) => panic!("{}: {e}", capture.display()),
        };
        match ip_frag(pkt.data) {
            Some(IpFrag::First { ident, proto, sport, dport }) => {
                firsts.insert(ident, (proto, sport, dport));
            }
            Some(IpFrag::Later { ident, src, dst }) => {
                if let Some(&(proto, sport, dport)) = firsts.get(&ident) {
                    let c = extra
                        .entry((proto.to_string(), SocketAddr::new(src, sport), SocketAddr::new(dst, dport)))
                        .or_default();
                    c.packets += 1;
                    c.bytes += u64::from(pkt.header.len);
                }
            }
            Some(IpFrag::None) | None => {}
        }
    }
    extra
}

// ---------------------------------------------------------------------------------------------

/// Every capture in ndpi-4.2 that has an expected `.out` file, with that file.
fn captures_with_ground_truth() -> Vec<(PathBuf, PathBuf)> {
    let dir = ndpi_dir();
    let mut out: Vec<(PathBuf, PathBuf)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e} (set LEAKWATCH_SHARED?)", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
        .filter_map(|p| {
            let expected = dir.join("expected").join(format!("{}.out", p.file_name()?.to_string_lossy()));
            expected.is_file().then_some((p, expected))
        })
        .collect();
    out.sort();
    assert!(out.len() >= 9, "expected the 9 nDPI captures with ground truth in {}, found {out:?}", dir.display());
    out
}

#[test]
fn ndpi_out_lines_parse() {
    let f = parse_ndpi_line(
        "\t1\tTCP 192.168.1.7:51215 <-> 46.44.253.187:8080 [proto: 191/Ookla][ClearText][2202 pkts/1032520 bytes <-> 2864 pkts/3652905 bytes][Goodput ratio: 86/95]",
    )
    .unwrap();
    assert_eq!(f.proto, "tcp");
    assert_eq!(f.a, "192.168.1.7:51215".parse().unwrap());
    assert_eq!(f.b, "46.44.253.187:8080".parse().unwrap());
    assert_eq!(f.c2s, Count { packets: 2202, bytes: 1032520 });
    assert_eq!(f.s2c, Count { packets: 2864, bytes: 3652905 });
    let f = parse_ndpi_line(
        "\t3\tUDP [2001:470:1f0b:16b0:20c:29ff:fe7c:a4cb]:55729 -> [2001:470:765b::a25:53]:53 [proto: 5/DNS][2 pkts/228 bytes -> 0 pkts/0 bytes]",
    )
    .unwrap();
    assert_eq!(f.proto, "udp");
    assert_eq!(f.b, "[2001:470:765b::a25:53]:53".parse().unwrap());
    assert_eq!(f.c2s, Count { packets: 2, bytes: 228 });
    assert_eq!(f.s2c, Count::default());
    assert!(
        parse_ndpi_line("\t61\tIGMP 192.168.1.7:0 -> 239.255.255.250:0 [1 pkts/60 bytes -> 0 pkts/0 bytes]").is_none()
    );
    assert!(parse_ndpi_line("\t1\t 192.168.1.13             \t 1      ").is_none());
    assert!(parse_ndpi_line("DNS\t53\t16888\t18").is_none());
}

/// The independent fragment walk finds the fragments tcpdump shows in dns_fragmented.pcap:
/// e.g. `193.24.227.238.53 > 172.217.40.76.56680` answered with a 1514-byte first fragment and
/// a second fragment (`id 53502, offset 1480, length 250`: 250 + 14 = 264 bytes on the wire),
/// and `2001:470:765b::a25:53 > …:55729` with `frag (0x0000069a:1432|306)` (payload length
/// 314 + 40 + 14 = 368 bytes).
#[test]
fn fragment_walk_finds_dns_fragmented_later_fragments() {
    let extra = later_fragments(&support::ndpi_capture("dns_fragmented.pcap"));
    let get = |s: &str, d: &str| extra.get(&("udp".to_string(), s.parse().unwrap(), d.parse().unwrap())).copied();
    assert_eq!(get("193.24.227.238:53", "172.217.40.76:56680"), Some(Count { packets: 1, bytes: 264 }));
    assert_eq!(
        get("[2001:470:765b::a25:53]:53", "[2001:470:1f0b:16b0:20c:29ff:fe7c:a4cb]:55729"),
        Some(Count { packets: 1, bytes: 368 })
    );
    assert_eq!(
        get("[2001:470:765b::a25:53]:53", "[2a00:1450:4013:c03::10a]:46433"),
        Some(Count { packets: 1, bytes: 123 })
    );
    assert!(extra.keys().all(|k| k.0 == "udp"), "{extra:?}");
}

#[test]
fn every_ndpi_flow_matches_ours() {
    let mut problems: Vec<String> = Vec::new();
    let mut checked = 0usize;
    let mut total = 0usize;
    let mut adjusted = Vec::new();
    for (capture, expected) in captures_with_ground_truth() {
        let name = capture.file_name().unwrap().to_string_lossy().into_owned();
        let ndpi = parse_ndpi_file(&expected);
        assert!(!ndpi.is_empty(), "{}: no TCP/UDP flow lines", expected.display());
        total += ndpi.len();
        let ours = our_flows(&capture);
        let frags = later_fragments(&capture);
        let frag_of = |proto: &str, s: SocketAddr, d: SocketAddr| {
            frags.get(&(proto.to_string(), s, d)).copied().unwrap_or_default()
        };

        let mut by_key: BTreeMap<FlowKey, Vec<&OurFlow>> = BTreeMap::new();
        for f in &ours {
            by_key.entry(key(&f.proto, f.local, f.remote)).or_default().push(f);
        }
        for (k, v) in &by_key {
            if v.len() > 1 {
                problems.push(format!("{name}: {} flow lines for {} {} <-> {}: {v:?}", v.len(), k.0, k.1, k.2));
            }
        }
        let mut ndpi_keys: BTreeMap<FlowKey, usize> = BTreeMap::new();
        for f in &ndpi {
            *ndpi_keys.entry(key(&f.proto, f.a, f.b)).or_default() += 1;
        }
        for (k, n) in &ndpi_keys {
            if *n > 1 {
                problems.push(format!("{name}: nDPI lists {} {} <-> {} {n} times", k.0, k.1, k.2));
            }
        }

        for n in &ndpi {
            let Some(found) = by_key.get(&key(&n.proto, n.a, n.b)).and_then(|v| v.first()) else {
                problems.push(format!("{name}: no flow of ours for nDPI's\n    {}", n.line));
                continue;
            };
            // nDPI's first endpoint is its client; c2s is our `out` when that is our local side.
            let (ours_c2s, ours_s2c) = if found.local == n.a { (found.out, found.inc) } else { (found.inc, found.out) };
            // nDPI drops non-first IP fragments; we count them (see the module doc).
            let frag_c2s = frag_of(&n.proto, n.a, n.b);
            let frag_s2c = frag_of(&n.proto, n.b, n.a);
            let want_c2s = n.c2s + frag_c2s;
            let want_s2c = n.s2c + frag_s2c;
            if frag_c2s != Count::default() || frag_s2c != Count::default() {
                adjusted.push(format!(
                    "{name}: {} {} -> {}: + later fragments c2s {frag_c2s}, s2c {frag_s2c}",
                    n.proto, n.a, n.b
                ));
            }
            if ours_c2s != want_c2s || ours_s2c != want_s2c {
                problems.push(format!(
                    "{name}: {} {} -> {} (our local {}):\n    ours  c2s {ours_c2s} | s2c {ours_s2c}\n    nDPI  c2s {} | s2c {}  + later fragments c2s {frag_c2s} | s2c {frag_s2c}\n    line: {}",
                    n.proto,
                    n.a,
                    n.b,
                    found.local,
                    n.c2s,
                    n.s2c,
                    truncate_line(&n.line)
                ));
            } else {
                checked += 1;
            }
        }
    }
    eprintln!("{checked}/{total} nDPI flows match; fragment adjustments:\n  {}", adjusted.join("\n  "));
    assert!(problems.is_empty(), "{} problem(s) against nDPI 4.2:\n{}", problems.len(), problems.join("\n"));
    assert_eq!(checked, total, "every nDPI TCP/UDP flow is found and matches");
    assert!(!adjusted.is_empty(), "dns_fragmented.pcap has fragments: the adjustment must have been exercised");
}

/// The flows of other IP protocols nDPI lists (teams.pcap has an ICMP flow, netflix.pcap an IGMP one; ports
/// written as 0) are ours too, with the same packets and frame bytes each way: every IP protocol
/// is counted (docs/detection.md §1).
#[test]
fn ndpi_icmp_and_igmp_flows_match_ours() {
    let mut checked = Vec::new();
    for (capture, expected) in captures_with_ground_truth() {
        let text = std::fs::read_to_string(&expected).unwrap();
        let ndpi: Vec<_> = text.lines().filter_map(|l| parse_ndpi_line_of(l, &["ICMP", "ICMPV6", "IGMP"])).collect();
        if ndpi.is_empty() {
            continue;
        }
        let ours = our_flows(&capture);
        for n in &ndpi {
            let found = ours
                .iter()
                .find(|f| key(&f.proto, f.local, f.remote) == key(&n.proto, n.a, n.b))
                .unwrap_or_else(|| panic!("{}: no flow of ours for nDPI's {}", capture.display(), n.line));
            let (c2s, s2c) = if found.local == n.a { (found.out, found.inc) } else { (found.inc, found.out) };
            assert_eq!((c2s, s2c), (n.c2s, n.s2c), "{}: {}", capture.display(), n.line);
            checked.push(format!("{} {} -> {}", n.proto, n.a, n.b));
        }
    }
    eprintln!("non-TCP/UDP flows checked: {checked:?}");
    assert!(checked.iter().any(|c| c.starts_with("icmp ")), "teams.pcap's ICMP flow: {checked:?}");
    assert!(checked.iter().any(|c| c.starts_with("igmp ")), "netflix.pcap's IGMP flow: {checked:?}");
}

fn truncate_line(s: &str) -> &str {
    match s.char_indices().nth(220) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}
