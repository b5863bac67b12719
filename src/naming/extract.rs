//! The one entry point capture sources call per packet: cheap checks first, so an ordinary
//! packet costs a few comparisons and no allocation.
//!
//! [`extract`] looks at one packet alone. [`Extractor`] adds a small reassembly for the two
//! cases where one segment is often not enough: a TLS ClientHello longer than a segment (browsers'
//! post-quantum key shares make it ~1.8 KB, and the server name extension may come last), and a
//! DNS answer over TCP (TCP is used precisely for answers too large for one datagram). It keeps
//! the first bytes of such a message per connection until the message is whole or names its
//! server, in sequence order (retransmissions are skipped, a gap abandons it), bounded in number,
//! size and time.
//!
//! A DNS answer over UDP names addresses only when it answers a query seen on the same capture
//! (same client address and port, same server, same message id, within 30 s): an answer
//! nobody asked for (spoofed from afar, or a capture that started after the query) teaches
//! nothing. Over TCP, the connection itself shows the answer was asked for.

use super::{NameFact, dns, http, sni};
use crate::bounded::BoundedMap;
use crate::packet::{Packet, Proto};
use crate::time::{SECOND, Ts};
use ahash::AHashMap;
use std::net::IpAddr;

/// Appends the names `p` teaches (DNS answers, TLS SNI, HTTP Host) to `out`. `payload` is the
/// packet's captured transport payload (see `Parser::parse_with_payload`).
pub fn extract(p: &Packet, payload: &[u8], out: &mut Vec<NameFact>) {
    if payload.is_empty() {
        return;
    }
    match p.proto {
        Proto::Udp if p.sport == 53 => {
            let from = out.len();
            dns::extract_udp(payload, out);
            answered_by(&mut out[from..], p);
        }
        Proto::Tcp => {
            if p.sport == 53 {
                let from = out.len();
                dns::extract_tcp(payload, out);
                answered_by(&mut out[from..], p);
            } else if is_tls_handshake(payload) {
                out.extend(sni::extract(p.dst, payload).map(|f| f.on(p)));
            } else if payload[0].is_ascii_uppercase() && http::looks_like_request(payload) {
                out.extend(http::extract(p.dst, payload).map(|f| f.on(p)));
            }
        }
        _ => {}
    }
}

/// Marks DNS facts with the answer's connection (querying socket, resolver): the engine decides
/// from it whom they name (see `NameScope`).
fn answered_by(facts: &mut [NameFact], p: &Packet) {
    let conn = Some((std::net::SocketAddr::new(p.dst, p.dport), std::net::SocketAddr::new(p.src, p.sport)));
    for f in facts {
        f.conn = conn;
    }
}

fn is_tls_handshake(payload: &[u8]) -> bool {
    payload.len() > 5 && payload[0] == 0x16 && payload[1] == 0x03
}

/// Messages being put back together at once, per capture thread.
const MAX_PENDING: usize = 256;
/// Longest ClientHello kept (a TLS record is at most 16 KiB + header).
const MAX_HELLO: usize = 16 * 1024 + 5;
/// Longest DNS message over TCP (2-byte length prefix).
const MAX_DNS: usize = 65_535 + 2;
/// A message not complete within this much packet time is dropped.
const PENDING_FOR: i64 = 5 * SECOND;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Hello,
    Dns,
}

/// One connection's message being reassembled.
struct Pending {
    kind: Kind,
    buf: Vec<u8>,
    /// Whole length of the message.
    need: usize,
    next_seq: u32,
    started: Ts,
    dst: IpAddr,
}

type ConnKey = (IpAddr, u16, IpAddr, u16);

/// UDP DNS queries awaiting an answer, per capture thread (the oldest unused make room).
const MAX_QUERIES: usize = 4096;
/// An answer later than this after its query is not believed.
const ANSWER_WITHIN: i64 = 30 * SECOND;

/// A UDP DNS query: client address and port, server address, message id.
type QueryKey = (IpAddr, u16, IpAddr, u16);

/// [`extract`] with reassembly of split ClientHellos and DNS-over-TCP answers. One per capture
/// thread (a connection is always seen by the same thread).
pub struct Extractor {
    pending: AHashMap<ConnKey, Pending>,
    /// Queries sent, with their packet time, until answered.
    queries: BoundedMap<QueryKey, Ts>,
    /// UDP DNS answers dropped because no query matched them.
    unsolicited: u64,
    /// Messages completed by reassembly (for tests and statistics).
    reassembled: u64,
    /// Messages dropped unfinished to make room for a newer one (the table was full).
    evicted: u64,
}

impl Default for Extractor {
    fn default() -> Extractor {
        Extractor {
            pending: AHashMap::default(),
            queries: BoundedMap::new(MAX_QUERIES),
            unsolicited: 0,
            reassembled: 0,
            evicted: 0,
        }
    }
}

impl Extractor {
    pub fn new() -> Extractor {
        Extractor::default()
    }

    /// UDP DNS answers that matched no query seen (not believed).
    pub fn unsolicited(&self) -> u64 {
        self.unsolicited
    }

    /// Remembers a UDP DNS query; for an answer, whether it matches one (which it uses up).
    fn dns_over_udp_asked(&mut self, p: &Packet, payload: &[u8]) -> bool {
        let Some(h) = payload.first_chunk::<3>() else { return false };
        let id = u16::from_be_bytes([h[0], h[1]]);
        let is_response = h[2] & 0x80 != 0;
        if p.dport == 53 && !is_response {
            let ts = p.ts;
            let (_, t, _) =
                self.queries.get_or_insert_with((p.src, p.sport, p.dst, id), |_, _| true, |_, _| {}, |_| ts);
            *t = ts;
            return false;
        }
        if p.sport != 53 || !is_response {
            return false;
        }
        let key = (p.dst, p.dport, p.src, id);
        let asked = self.queries.get(&key).is_some_and(|&t| p.ts.0.saturating_sub(t.0) <= ANSWER_WITHIN);
        if self.queries.remove(&key) && asked {
            return true;
        }
        self.unsolicited += 1;
        false
    }

    /// Messages that needed more than one segment and were put back together.
    pub fn reassembled(&self) -> u64 {
        self.reassembled
    }

    /// Messages dropped unfinished because 256 others were being put together.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// Like [`extract`], remembering the start of messages that continue in later segments.
    pub fn extract(&mut self, p: &Packet, payload: &[u8], out: &mut Vec<NameFact>) {
        if p.proto == Proto::Udp && (p.sport == 53 || p.dport == 53) {
            if self.dns_over_udp_asked(p, payload) {
                extract(p, payload, out);
            }
            return;
        }
        if p.proto != Proto::Tcp || payload.is_empty() {
            extract(p, payload, out);
            return;
        }
        if !self.pending.is_empty() {
            let key = (p.src, p.sport, p.dst, p.dport);
            if self.pending.contains_key(&key) {
                self.continue_message(key, p, payload, out);
                return;
            }
        }
        let before = out.len();
        extract(p, payload, out);
        if out.len() > before {
            return;
        }
        // Nothing found in this segment: does a longer message start here?
        let (kind, need) = if p.sport == 53 {
            let Some(len) = payload.first_chunk::<2>() else { return };
            (Kind::Dns, (usize::from(u16::from_be_bytes(*len)) + 2).min(MAX_DNS))
        } else if is_tls_handshake(payload) && payload.get(5) == Some(&0x01) {
            (Kind::Hello, (usize::from(u16::from_be_bytes([payload[3], payload[4]])) + 5).min(MAX_HELLO))
        } else {
            return;
        };
        // Only when the whole segment was captured (a snaplen cut leaves a hole) and more follows.
        if payload.len() != p.payload_len as usize || need <= payload.len() {
            return;
        }
        self.make_room(p.ts);
        let mut buf = Vec::with_capacity(need.min(4096));
        buf.extend_from_slice(payload);
        let pending =
            Pending { kind, buf, need, next_seq: p.seq.wrapping_add(p.payload_len), started: p.ts, dst: p.dst };
        self.pending.insert((p.src, p.sport, p.dst, p.dport), pending);
    }

    fn continue_message(&mut self, key: ConnKey, p: &Packet, payload: &[u8], out: &mut Vec<NameFact>) {
        let Some(m) = self.pending.get_mut(&key) else { return };
        let offset = p.seq.wrapping_sub(m.next_seq) as i32;
        if offset < 0 {
            return; // a retransmission of what we have
        }
        if offset > 0 || payload.len() != p.payload_len as usize || p.ts.micros_since(m.started) > PENDING_FOR {
            self.pending.remove(&key); // a gap: give up on this message
            return;
        }
        let take = payload.len().min(m.need - m.buf.len());
        m.buf.extend_from_slice(&payload[..take]);
        m.next_seq = m.next_seq.wrapping_add(p.payload_len);
        let before = out.len();
        match m.kind {
            Kind::Hello => out.extend(sni::extract(m.dst, &m.buf).map(|f| f.on(p))),
            Kind::Dns if m.buf.len() >= m.need => {
                dns::extract_tcp(&m.buf, out);
                answered_by(&mut out[before..], p);
            }
            Kind::Dns => {}
        }
        if out.len() > before || m.buf.len() >= m.need {
            self.reassembled += u64::from(out.len() > before);
            self.pending.remove(&key);
        }
    }

    /// Drops expired messages, and the oldest when full.
    fn make_room(&mut self, now: Ts) {
        if self.pending.len() < MAX_PENDING {
            return;
        }
        self.pending.retain(|_, m| now.micros_since(m.started) <= PENDING_FOR);
        if self.pending.len() >= MAX_PENDING
            && let Some(oldest) = self.pending.iter().min_by_key(|(_, m)| m.started).map(|(k, _)| *k)
        {
            self.pending.remove(&oldest);
            self.evicted += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::naming::NameSource;

    fn tcp(src: &str, sport: u16, dst: &str, dport: u16, seq: u32, payload: &[u8], t: i64) -> Packet {
        Packet { seq, ..Packet::tcp_for_test(src, sport, dst, dport, payload.len() as u32, t) }
    }

    fn udp(src: &str, sport: u16, dst: &str, dport: u16, payload: &[u8], t: i64) -> Packet {
        Packet {
            proto: Proto::Udp,
            tcp_flags: 0,
            frame_len: 42 + payload.len() as u32,
            ..Packet::tcp_for_test(src, sport, dst, dport, payload.len() as u32, t)
        }
    }

    /// A query for `name` (type A) with message id `id`, and its answer naming `addr`.
    fn dns_pair(id: u16, name: &str, addr: [u8; 4]) -> (Vec<u8>, Vec<u8>) {
        let mut q = id.to_be_bytes().to_vec();
        q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
        for label in name.split('.') {
            q.push(label.len() as u8);
            q.extend_from_slice(label.as_bytes());
        }
        q.extend_from_slice(&[0, 0, 1, 0, 1]);
        let mut a = q.clone();
        a[2..4].copy_from_slice(&[0x81, 0x80]);
        a[7] = 1;
        a.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
        a.extend_from_slice(&addr);
        (q, a)
    }

    #[test]
    fn a_udp_dns_answer_names_only_when_it_answers_a_query_seen() {
        let (q, a) = dns_pair(0x1234, "asked.example.test", [203, 0, 113, 9]);
        let names = |out: &[NameFact]| out.iter().map(|f| f.name.clone()).collect::<Vec<_>>();
        // Unasked: nothing learned, counted.
        let mut x = Extractor::new();
        let mut out = Vec::new();
        x.extract(&udp("10.0.0.53", 53, "10.0.0.2", 5555, &a, 0), &a, &mut out);
        assert!(out.is_empty());
        assert_eq!(x.unsolicited(), 1);
        // Asked: learned once; the same answer again (a replay or a spoofed copy) is not.
        x.extract(&udp("10.0.0.2", 5555, "10.0.0.53", 53, &q, 1_000), &q, &mut out);
        x.extract(&udp("10.0.0.53", 53, "10.0.0.2", 5555, &a, 2_000), &a, &mut out);
        assert_eq!(names(&out), ["asked.example.test"]);
        x.extract(&udp("10.0.0.53", 53, "10.0.0.2", 5555, &a, 3_000), &a, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(x.unsolicited(), 2);
        // Another server, another client port, another id, or too late: not believed.
        let (q2, a2) = dns_pair(0x4321, "asked.example.test", [203, 0, 113, 9]);
        for (server, port, answer, at) in [
            ("10.0.0.54", 5555, &a2, 10_000),
            ("10.0.0.53", 5556, &a2, 10_000),
            ("10.0.0.53", 5555, &a, 10_000),
            ("10.0.0.53", 5555, &a2, 31 * SECOND),
        ] {
            let mut x = Extractor::new();
            let mut out = Vec::new();
            x.extract(&udp("10.0.0.2", 5555, "10.0.0.53", 53, &q2, 0), &q2, &mut out);
            x.extract(&udp(server, 53, "10.0.0.2", port, answer, at), answer, &mut out);
            assert!(out.is_empty(), "{server} {port} {at}");
            assert_eq!(x.unsolicited(), 1);
        }
    }

    #[test]
    fn queries_awaiting_answers_are_bounded() {
        let mut x = Extractor::new();
        let mut out = Vec::new();
        for i in 0..3 * MAX_QUERIES as u32 {
            let (q, _) = dns_pair(i as u16, "many.example.test", [203, 0, 113, 9]);
            x.extract(&udp("10.0.0.2", 1024 + (i / 60_000) as u16, "10.0.0.53", 53, &q, i64::from(i)), &q, &mut out);
            assert!(x.queries.len() <= MAX_QUERIES);
        }
        // The newest query is still there to be answered.
        let last = 3 * MAX_QUERIES as u32 - 1;
        let (_, a) = dns_pair(last as u16, "many.example.test", [203, 0, 113, 9]);
        x.extract(&udp("10.0.0.53", 53, "10.0.0.2", 1024, &a, i64::from(last) + 1), &a, &mut out);
        assert_eq!(out.len(), 1);
    }

    /// A ClientHello of about 2 KB whose server name extension comes after a big key share.
    fn big_hello(host: &str) -> Vec<u8> {
        let mut exts = Vec::new();
        exts.extend_from_slice(&[0x00, 0x33]); // key_share
        exts.extend_from_slice(&1800u16.to_be_bytes());
        exts.extend_from_slice(&[0xab; 1800]);
        let name = host.as_bytes();
        exts.extend_from_slice(&[0x00, 0x00]);
        exts.extend_from_slice(&((name.len() + 5) as u16).to_be_bytes());
        exts.extend_from_slice(&((name.len() + 3) as u16).to_be_bytes());
        exts.push(0);
        exts.extend_from_slice(&(name.len() as u16).to_be_bytes());
        exts.extend_from_slice(name);
        crate::naming::sni::tests::client_hello(&exts)
    }

    fn feed(x: &mut Extractor, segments: &[(u32, &[u8])]) -> Vec<NameFact> {
        let mut out = Vec::new();
        for (i, (seq, data)) in segments.iter().enumerate() {
            x.extract(&tcp("10.0.0.2", 40000, "140.82.114.4", 443, *seq, data, i as i64 * 1000), data, &mut out);
        }
        out
    }

    #[test]
    fn a_client_hello_split_in_segments_names_its_server() {
        let hello = big_hello("split.example.test");
        assert!(hello.len() > 1448 && hello.len() < 2 * 1448);
        let (a, b) = hello.split_at(1448);
        let mut plain = Vec::new();
        extract(&tcp("10.0.0.2", 40000, "140.82.114.4", 443, 1, a, 0), a, &mut plain);
        assert!(plain.is_empty(), "the first segment alone does not reach the name");
        let mut x = Extractor::new();
        let out = feed(&mut x, &[(1, a), (1 + 1448, b)]);
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].name.as_str(), out[0].source), ("split.example.test", NameSource::Sni));
        assert_eq!(out[0].ip, "140.82.114.4".parse::<IpAddr>().unwrap());
        assert!(x.pending.is_empty());
        // Three segments, with the first one retransmitted in between; sequence numbers wrap.
        let (a, rest) = hello.split_at(700);
        let (b, c) = rest.split_at(700);
        let s0 = u32::MAX - 100;
        let mut x = Extractor::new();
        let out = feed(&mut x, &[(s0, a), (s0, a), (s0.wrapping_add(700), b), (s0.wrapping_add(1400), c)]);
        assert_eq!(out.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["split.example.test"]);
        assert_eq!(x.reassembled(), 1);
    }

    #[test]
    fn a_gap_or_a_timeout_abandons_the_message() {
        let hello = big_hello("gap.example.test");
        let (a, b) = hello.split_at(1000);
        let mut x = Extractor::new();
        assert!(feed(&mut x, &[(1, a), (1 + 1001, &b[1..])]).is_empty(), "one byte missing");
        assert!(x.pending.is_empty());
        let mut out = Vec::new();
        x.extract(&tcp("10.0.0.2", 40000, "140.82.114.4", 443, 1, a, 0), a, &mut out);
        x.extract(&tcp("10.0.0.2", 40000, "140.82.114.4", 443, 1001, b, PENDING_FOR + 1), b, &mut out);
        assert!(out.is_empty(), "too late");
    }

    #[test]
    fn a_dns_answer_over_tcp_in_two_segments() {
        // A response naming 20 addresses: the whole message, split.
        let mut msg = vec![0x12, 0x34, 0x81, 0x80, 0, 1, 0, 20, 0, 0, 0, 0];
        let qname = b"\x03big\x07example\x04test\x00";
        msg.extend_from_slice(qname);
        msg.extend_from_slice(&[0, 1, 0, 1]);
        for i in 0..20u8 {
            msg.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 200, 0, i]);
        }
        let mut framed = (msg.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&msg);
        let (a, b) = framed.split_at(100);
        let mut x = Extractor::new();
        let mut out = Vec::new();
        x.extract(&tcp("10.0.0.53", 53, "10.0.0.2", 5555, 7, a, 0), a, &mut out);
        assert!(out.is_empty());
        x.extract(&tcp("10.0.0.53", 53, "10.0.0.2", 5555, 107, b, 1), b, &mut out);
        assert_eq!(out.len(), 20);
        assert!(out.iter().all(|f| f.name == "big.example.test" && f.source == NameSource::Dns));
    }

    #[test]
    fn pending_messages_are_bounded() {
        let hello = big_hello("many.example.test");
        let a = &hello[..1000];
        let mut x = Extractor::new();
        let mut out = Vec::new();
        for port in 0..2000u16 {
            x.extract(&tcp("10.0.0.2", port, "140.82.114.4", 443, 1, a, i64::from(port)), a, &mut out);
            assert!(x.pending.len() <= MAX_PENDING);
        }
        assert!(out.is_empty());
        assert_eq!(x.evicted(), 2000 - MAX_PENDING as u64);
    }

    #[test]
    fn a_cut_segment_is_not_kept() {
        let hello = big_hello("cut.example.test");
        let a = &hello[..1000];
        let mut p = tcp("10.0.0.2", 40000, "140.82.114.4", 443, 1, a, 0);
        p.payload_len = 1448; // captured with a short snaplen
        let mut x = Extractor::new();
        x.extract(&p, a, &mut Vec::new());
        assert!(x.pending.is_empty());
    }
}
