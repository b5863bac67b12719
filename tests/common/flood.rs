//! A flow-flood capture: `n` tiny packets to `n` distinct (destination address, port) pairs from
//! one local machine — a SYN scan over IPv4 (40 %) and IPv6 (30 %) and the replies of a DNS
//! server abused for amplification (30 %, UDP from port 53, each answer naming a new address) —
//! with ONE real upload running through it: a DNS query and its answer naming the upload's server, a TCP
//! handshake, then `upload_bytes` in 1448-byte segments to that server, acknowledged, over
//! `upload_secs` of packet time. Written as a classic Ethernet pcap, in time order.
#![allow(dead_code)] // each user (test, example) takes part of it
//!
//! Used by `tests/flow_flood.rs` (small) and `examples/flood_capture.rs` (`bench/flood.sh`, 2
//! million destinations). Generated where it is needed, never committed.

use etherparse::PacketBuilder;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

/// The capture's first second (2023-11-14T22:13:20Z).
pub const START_S: i64 = 1_700_000_000;
/// The machine that scans, serves DNS and uploads.
pub const LOCAL_V4: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 50);
pub const LOCAL_V6: Ipv6Addr = Ipv6Addr::new(0xfd12, 0x3456, 0, 0, 0, 0, 0, 0x50);
/// Its resolver (answers the upload's DNS query).
pub const RESOLVER: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 1);
/// The upload's destination and its name.
pub const UPLOAD_DST: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 77);
pub const UPLOAD_PORT: u16 = 443;
pub const UPLOAD_SPORT: u16 = 45_000;
pub const UPLOAD_HOST: &str = "upload.flood.test";
/// TCP payload per upload segment.
pub const SEGMENT: usize = 1448;

const MAC_LOCAL: [u8; 6] = [0x02, 0, 0, 0, 0, 0x50];
const MAC_GW: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];

/// What to write.
#[derive(Clone, Copy, Debug)]
pub struct FloodSpec {
    /// Distinct (destination, port) pairs of the flood: one packet each.
    pub destinations: u64,
    /// Packet time the flood is spread over.
    pub flood_secs: u64,
    /// Payload bytes of the upload.
    pub upload_bytes: u64,
    /// When the upload starts, after the flood began.
    pub upload_start_secs: u64,
    /// How long the upload lasts.
    pub upload_secs: u64,
}

impl FloodSpec {
    /// `destinations` over 200 s of packet time, with a 4 MiB upload over two minutes from
    /// t = 30 s (the upload alone raises a sudden alert).
    pub const fn standard(destinations: u64) -> FloodSpec {
        FloodSpec { destinations, flood_secs: 200, upload_bytes: 4 << 20, upload_start_secs: 30, upload_secs: 120 }
    }

    /// The upload alone, made as long as the flood in frames (a segment and its ACK per two
    /// destinations) over the same time: the baseline of `bench/flood.sh`.
    pub fn upload_alone(self) -> FloodSpec {
        FloodSpec { destinations: 0, upload_bytes: (self.destinations / 2).max(1) * SEGMENT as u64, ..self }
    }
}

/// What was written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Written {
    pub frames: u64,
    pub flood_frames: u64,
    pub upload_frames: u64,
    /// Payload bytes of the upload's segments.
    pub upload_payload: u64,
}

/// The `i`-th flood destination: its shape, address and port (all distinct pairs).
fn flood_target(i: u64) -> (Shape, IpAddr, u16) {
    let port = (1 + (i.wrapping_mul(7919) % 65_535)) as u16;
    let n = i / 10; // distinct per shape
    match i % 10 {
        0..=3 => (Shape::SynV4, IpAddr::V4(Ipv4Addr::from(0x1700_0000 + (n as u32 * 4 + (i % 10) as u32))), port),
        4..=6 => {
            let low = n * 3 + (i % 10 - 4);
            (
                Shape::SynV6,
                IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0xf100, 0, 0, 0, (low >> 16) as u16, low as u16)),
                port,
            )
        }
        _ => (Shape::DnsReply, IpAddr::V4(Ipv4Addr::from(0x2d00_0000 + (n as u32 * 3 + (i % 10 - 7) as u32))), port),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    SynV4,
    SynV6,
    DnsReply,
}

/// A DNS response naming `addr` as `h<i>.amp.flood.test` (A record), padded with a TXT record
/// the way amplification answers are (about 200 bytes).
fn dns_reply(id: u16, name: &str, addr: Ipv4Addr, pad: usize) -> Vec<u8> {
    let mut m = Vec::with_capacity(64 + name.len() + pad);
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&[0x81, 0x80, 0, 1, 0, if pad > 0 { 2 } else { 1 }, 0, 0, 0, 0]);
    for label in name.split('.') {
        m.push(label.len() as u8);
        m.extend_from_slice(label.as_bytes());
    }
    m.extend_from_slice(&[0, 0, 1, 0, 1]); // root, type A, class IN
    m.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4]);
    m.extend_from_slice(&addr.octets());
    if pad > 0 {
        m.extend_from_slice(&[0xc0, 0x0c, 0, 16, 0, 1, 0, 0, 0x0e, 0x10]);
        m.extend_from_slice(&((pad + 1) as u16).to_be_bytes());
        m.push(pad as u8);
        m.extend(std::iter::repeat_n(b'x', pad));
    }
    m
}

/// The upload's packets after its start: (offset µs, frame).
struct Upload {
    spec: FloodSpec,
    step: usize,
    sent: u64,
    segments: u64,
    interval_us: i64,
}

impl Upload {
    fn new(spec: FloodSpec) -> Upload {
        let segments = spec.upload_bytes.div_ceil(SEGMENT as u64);
        let interval_us = (spec.upload_secs as i64 * 1_000_000) / segments.max(1) as i64;
        Upload { spec, step: 0, sent: 0, segments, interval_us }
    }

    /// Time (µs after the capture's start) of the next upload frame, if any.
    fn next_at(&self) -> Option<i64> {
        let start = self.spec.upload_start_secs as i64 * 1_000_000;
        match self.step {
            0 => Some(start - 25_000), // DNS query
            1 => Some(start - 20_000), // its answer
            2 => Some(start),          // SYN
            3 => Some(start + 15_000), // SYN-ACK
            4 => Some(start + 15_100), // ACK
            _ => {
                let k = (self.step - 5) as u64;
                // Segment j at start + 20 ms + j·interval, its ACK 15 ms later (every other one).
                let j = k / 2;
                if j >= self.segments {
                    return None;
                }
                let t = start + 20_000 + j as i64 * self.interval_us;
                Some(if k.is_multiple_of(2) { t } else { t + 15_000 })
            }
        }
    }

    /// Builds the next frame into `out`; returns its payload bytes if it is an upload segment.
    fn build(&mut self, out: &mut Vec<u8>, payload: &mut Vec<u8>) -> Option<u64> {
        let step = self.step;
        self.step += 1;
        let eth_out = PacketBuilder::ethernet2(MAC_LOCAL, MAC_GW);
        let eth_in = PacketBuilder::ethernet2(MAC_GW, MAC_LOCAL);
        let (l, d) = (LOCAL_V4.octets(), UPLOAD_DST.octets());
        let isn: u32 = 1_000;
        let ack_base: u32 = 5_000;
        out.clear();
        match step {
            0 => {
                let mut query = dns_reply(0x5151, UPLOAD_HOST, UPLOAD_DST, 0);
                // The same message as a query: QR and RA off, no answer record.
                query[2..4].copy_from_slice(&[0x01, 0x00]);
                query[7] = 0;
                query.truncate(query.len() - 16);
                eth_out.ipv4(l, RESOLVER.octets(), 64).udp(53_000, 53).write(out, &query).ok()?;
                None
            }
            1 => {
                let reply = dns_reply(0x5151, UPLOAD_HOST, UPLOAD_DST, 0);
                eth_in.ipv4(RESOLVER.octets(), l, 64).udp(53, 53_000).write(out, &reply).ok()?;
                None
            }
            2 => {
                eth_out.ipv4(l, d, 64).tcp(UPLOAD_SPORT, UPLOAD_PORT, isn, 64_240).syn().write(out, &[]).ok()?;
                None
            }
            3 => {
                let b = eth_in.ipv4(d, l, 56).tcp(UPLOAD_PORT, UPLOAD_SPORT, ack_base, 65_535).syn().ack(isn + 1);
                b.write(out, &[]).ok()?;
                None
            }
            4 => {
                eth_out
                    .ipv4(l, d, 64)
                    .tcp(UPLOAD_SPORT, UPLOAD_PORT, isn + 1, 64_240)
                    .ack(ack_base + 1)
                    .write(out, &[])
                    .ok()?;
                None
            }
            _ => {
                let k = (step - 5) as u64;
                let j = k / 2;
                let seq = isn + 1 + (j * SEGMENT as u64) as u32;
                let len = (self.spec.upload_bytes - j * SEGMENT as u64).min(SEGMENT as u64) as usize;
                if k.is_multiple_of(2) {
                    payload.clear();
                    payload.extend((0..len).map(|x| (x as u8).wrapping_mul(31) ^ (j as u8)));
                    let b = eth_out.ipv4(l, d, 64).tcp(UPLOAD_SPORT, UPLOAD_PORT, seq, 64_240).psh().ack(ack_base + 1);
                    b.write(out, payload).ok()?;
                    self.sent += len as u64;
                    Some(len as u64)
                } else {
                    let b = eth_in.ipv4(d, l, 56).tcp(UPLOAD_PORT, UPLOAD_SPORT, ack_base + 1, 65_535);
                    b.ack(seq.wrapping_add(len as u32)).write(out, &[]).ok()?;
                    None
                }
            }
        }
    }
}

/// Builds the `i`-th flood frame into `out`.
fn flood_frame(i: u64, out: &mut Vec<u8>) {
    out.clear();
    let (shape, dst, dport) = flood_target(i);
    let sport = 1024 + (i % 60_000) as u16;
    let eth = PacketBuilder::ethernet2(MAC_LOCAL, MAC_GW);
    let res = match (shape, dst) {
        (Shape::SynV4, IpAddr::V4(d)) => {
            eth.ipv4(LOCAL_V4.octets(), d.octets(), 64).tcp(sport, dport, i as u32, 1024).syn().write(out, &[])
        }
        (Shape::SynV6, IpAddr::V6(d)) => {
            eth.ipv6(LOCAL_V6.octets(), d.octets(), 64).tcp(sport, dport, i as u32, 1024).syn().write(out, &[])
        }
        (_, IpAddr::V4(victim)) => {
            // The answer names a new address each time; no query was seen for it, so it teaches
            // no name (it would flood the learned-name table if answers were believed unasked).
            let named = Ipv4Addr::from(0x3400_0000 + ((i / 10) * 3 + i % 10 - 7) as u32);
            let reply = dns_reply(i as u16, &format!("h{i}.amp.flood.test"), named, 120);
            eth.ipv4(LOCAL_V4.octets(), victim.octets(), 64).udp(53, dport).write(out, &reply)
        }
        _ => unreachable!("shapes and address families match"),
    };
    res.expect("writing a frame into a vector");
}

/// Writes the flood capture to `path`.
pub fn write(path: &Path, spec: FloodSpec) -> Written {
    let dead = pcap::Capture::dead(pcap::Linktype::ETHERNET).expect("pcap_open_dead");
    let mut save = dead.savefile(path).expect("opening the capture for writing");
    let mut frame = Vec::with_capacity(2048);
    let mut payload = Vec::with_capacity(SEGMENT);
    let mut upload = Upload::new(spec);
    let mut w = Written::default();
    let n = spec.destinations;
    let span_us = spec.flood_secs.max(1) as i64 * 1_000_000;
    let mut i = 0u64;
    let mut put = |t_us: i64, data: &[u8], w: &mut Written| {
        let t = START_S * 1_000_000 + t_us;
        let header = pcap::PacketHeader {
            ts: libc::timeval { tv_sec: t.div_euclid(1_000_000) as _, tv_usec: t.rem_euclid(1_000_000) as _ },
            caplen: data.len() as u32,
            len: data.len() as u32,
        };
        save.write(&pcap::Packet { header: &header, data });
        w.frames += 1;
    };
    loop {
        let flood_at = (i < n).then(|| (i as i128 * span_us as i128 / n as i128) as i64);
        let upload_at = upload.next_at();
        match (flood_at, upload_at) {
            (None, None) => break,
            (Some(f), u) if u.is_none_or(|u| f < u) => {
                flood_frame(i, &mut frame);
                put(f, &frame, &mut w);
                w.flood_frames += 1;
                i += 1;
            }
            (_, Some(u)) => {
                if let Some(bytes) = upload.build(&mut frame, &mut payload) {
                    w.upload_payload += bytes;
                }
                put(u, &frame, &mut w);
                w.upload_frames += 1;
            }
            (Some(_), None) => unreachable!("handled above"),
        }
    }
    save.flush().expect("flushing the capture");
    w
}

/// The upload's destination, as an address.
pub fn upload_dst() -> IpAddr {
    IpAddr::V4(UPLOAD_DST)
}
