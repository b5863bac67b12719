//! nDPI 4.2 `ndpiReader` output (`expected/*.out`): its per-flow lines, parsed once for every
//! test that compares with it.

use std::fmt;
use std::net::SocketAddr;
use std::path::Path;

/// Packets and bytes one way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Count {
    pub packets: u64,
    pub bytes: u64,
}

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} pkts/{} bytes", self.packets, self.bytes)
    }
}

impl std::ops::Add for Count {
    type Output = Count;
    fn add(self, o: Count) -> Count {
        Count { packets: self.packets + o.packets, bytes: self.bytes + o.bytes }
    }
}

/// One TCP/UDP flow line of an nDPI `.out` file.
#[derive(Clone, Debug)]
pub struct NdpiFlow {
    /// The line as printed (trimmed), for failure messages.
    pub line: String,
    /// `tcp` or `udp`.
    pub proto: String,
    /// nDPI's first endpoint (its "client") and second.
    pub a: SocketAddr,
    pub b: SocketAddr,
    /// a → b ("c2s") and b → a ("s2c").
    pub c2s: Count,
    pub s2c: Count,
    /// nDPI's protocol label (`[proto: 91.203/TLS.Github]` → `91.203/TLS.Github`).
    pub label: Option<String>,
    /// nDPI's `[Hostname/SNI: …]`.
    pub host: Option<String>,
}

/// Parses `N pkts/M bytes`.
pub fn parse_count(s: &str) -> Option<Count> {
    let (p, rest) = s.trim().split_once(" pkts/")?;
    let b = rest.trim().strip_suffix(" bytes")?;
    Some(Count { packets: p.trim().parse().ok()?, bytes: b.trim().parse().ok()? })
}

/// Parses one `.out` line if it is a TCP or UDP flow line:
/// `\t1\tTCP 192.168.1.7:51215 <-> 46.44.253.187:8080 [proto: …]…[2202 pkts/1032520 bytes <-> 2864 pkts/3652905 bytes]…`
/// (IPv6 endpoints as `[addr]:port`; the arrow may be `->`).
pub fn parse_ndpi_line(line: &str) -> Option<NdpiFlow> {
    parse_ndpi_line_of(line, &["TCP", "UDP"])
}

/// [`parse_ndpi_line`] for flow lines of the protocols `protos` (nDPI's upper-case names, e.g.
/// `ICMP`, `IGMP`; their ports are written as 0).
pub fn parse_ndpi_line_of(line: &str, protos: &[&str]) -> Option<NdpiFlow> {
    let rest = line.strip_prefix('\t')?;
    let (num, rest) = rest.split_once('\t')?;
    if num.is_empty() || !num.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut words = rest.split_whitespace();
    let proto = words.next()?;
    if !protos.contains(&proto) {
        return None;
    }
    let a: SocketAddr = words.next()?.parse().ok()?;
    let arrow = words.next()?;
    if arrow != "<->" && arrow != "->" {
        return None;
    }
    let b: SocketAddr = words.next()?.parse().ok()?;
    // The bracket with the counters: `[X pkts/Y bytes <-> Z pkts/W bytes]` (or `->`).
    let (c2s, s2c) = rest.split('[').find_map(|seg| {
        let inner = seg.split(']').next()?;
        if !inner.contains(" pkts/") {
            return None;
        }
        let (l, r) = inner.split_once(" <-> ").or_else(|| inner.split_once(" -> "))?;
        Some((parse_count(l)?, parse_count(r)?))
    })?;
    let field = |name: &str| {
        let start = rest.find(&format!("[{name}: "))? + name.len() + 3;
        Some(rest[start..].split(']').next()?.to_string())
    };
    Some(NdpiFlow {
        line: line.trim().to_string(),
        proto: proto.to_ascii_lowercase(),
        a,
        b,
        c2s,
        s2c,
        label: field("proto"),
        host: field("Hostname/SNI"),
    })
}

/// Every TCP/UDP flow of an nDPI `.out` file; also checks that no TCP/UDP flow line was missed
/// by the parser.
pub fn parse_ndpi_file(path: &Path) -> Vec<NdpiFlow> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut flows = Vec::new();
    for line in text.lines() {
        match parse_ndpi_line(line) {
            Some(f) => flows.push(f),
            None => {
                let looks_like_flow =
                    line.starts_with('\t') && line.split_whitespace().nth(1).is_some_and(|w| w == "TCP" || w == "UDP");
                assert!(!looks_like_flow, "{}: could not parse the nDPI flow line {line:?}", path.display());
            }
        }
    }
    flows
}
