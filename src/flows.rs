//! Per-flow accounting: one entry per 5-tuple (IP protocol, both addresses and ports; ports are
//! 0 or an ICMP echo identifier for protocols without them), packets and bytes in each direction.
//!
//! The table is bounded ([`BoundedMap`]): flows idle longer than the timeout are closed on the
//! periodic sweep, and when it is full a least recently active flow is closed to make room
//! (CLOCK eviction, amortised O(1), no allocation). Closed flows are handed back to the caller
//! as [`FlowRecord`]s so reports stay complete; evictions are counted.

use crate::bounded::BoundedMap;
use crate::direction::{LocalNets, is_multicast_or_broadcast};
use crate::packet::{Packet, Proto, tcp_flags};
use crate::process::ProcessInfo;
use crate::time::Ts;
use ahash::RandomState;
use serde_json::json;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// Canonical flow key: the two endpoints in sorted order, so both directions share it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FlowKey {
    pub proto: Proto,
    pub a: (IpAddr, u16),
    pub b: (IpAddr, u16),
}

impl FlowKey {
    /// The key of the flow a packet belongs to, and whether the packet goes from `a` to `b`.
    pub fn of(p: &Packet) -> (FlowKey, bool) {
        FlowKey::between(p.proto, (p.src, p.sport), (p.dst, p.dport))
    }

    /// The key of the flow between `s` and `d`, and whether `s` is its endpoint `a`.
    pub fn between(proto: Proto, s: (IpAddr, u16), d: (IpAddr, u16)) -> (FlowKey, bool) {
        if s <= d { (FlowKey { proto, a: s, b: d }, true) } else { (FlowKey { proto, a: d, b: s }, false) }
    }
}

/// Packets, frame bytes and transport payload bytes in one direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub packets: u64,
    /// Original frame lengths on the wire.
    pub bytes: u64,
    pub payload: u64,
}

impl Counters {
    fn add(&mut self, p: &Packet) {
        self.packets += 1;
        self.bytes += u64::from(p.frame_len);
        self.payload += u64::from(p.payload_len);
    }
}

/// One flow's state.
#[derive(Clone, Debug)]
pub struct Flow {
    /// Whether endpoint `a` of the key is the local side.
    pub local_is_a: bool,
    /// Whether outgoing payload of this flow counts toward leak detection (the remote side is
    /// a foreign unicast address).
    pub counted: bool,
    pub out: Counters,
    pub inc: Counters,
    pub first: Ts,
    pub last: Ts,
    pub process: Option<Arc<ProcessInfo>>,
    /// When the socket table was last asked for the owner.
    pub last_try: Ts,
    /// The host name this flow itself sent (TLS SNI, HTTP Host), when it did.
    pub name: Option<Arc<str>>,
}

/// A flow as reported by `replay --flows`.
#[derive(Clone, Debug, PartialEq)]
pub struct FlowRecord {
    pub proto: Proto,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub out: Counters,
    pub inc: Counters,
    pub first: Ts,
    pub last: Ts,
    pub process: Option<Arc<ProcessInfo>>,
    pub hostname: Option<String>,
    pub orgname: Option<String>,
    pub country: Option<String>,
    /// The remote side is a foreign unicast address (the flow's uploads count toward
    /// detection and history; LAN and multicast traffic does not).
    pub counted: bool,
}

impl FlowRecord {
    fn new(key: &FlowKey, f: &Flow) -> FlowRecord {
        let (l, r) = if f.local_is_a { (key.a, key.b) } else { (key.b, key.a) };
        FlowRecord {
            proto: key.proto,
            local: SocketAddr::new(l.0, l.1),
            remote: SocketAddr::new(r.0, r.1),
            out: f.out,
            inc: f.inc,
            first: f.first,
            last: f.last,
            process: f.process.clone(),
            hostname: f.name.as_deref().map(str::to_string),
            orgname: None,
            country: None,
            counted: f.counted,
        }
    }

    /// [`FlowRecord::to_json`] with the program (`{pid, name, exe}` or null): what the local API's
    /// `flows.now` and the app's Connections view carry.
    pub fn to_live_json(&self) -> serde_json::Value {
        let mut v = self.to_json();
        v["process"] = json!(self.process.as_deref());
        v
    }

    /// The JSON object printed by `leakwatch replay --flows --json`.
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "proto": self.proto.name(),
            "local": self.local.to_string(),
            "remote": self.remote.to_string(),
            "packets_out": self.out.packets,
            "bytes_out": self.out.bytes,
            "payload_out": self.out.payload,
            "packets_in": self.inc.packets,
            "bytes_in": self.inc.bytes,
            "payload_in": self.inc.payload,
            "first": self.first.rfc3339(),
            "last": self.last.rfc3339(),
            "hostname": self.hostname,
            "orgname": self.orgname,
            "country": self.country,
        })
    }
}

/// The open flows a live view shows, as of the engine's packet time `now`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FlowsNow {
    /// Packet time of the engine when asked (rates are measured in it, so a replay played
    /// faster than real time shows the capture's own rates).
    pub now: Option<Ts>,
    /// Open flows, most recently active first, with host name, organisation and country.
    pub flows: Vec<FlowRecord>,
    /// Open flows in all (the list may be cut at the limit asked for).
    pub open: u64,
}

impl FlowsNow {
    /// `{now, now_us, open, flows: [FlowRecord::to_live_json]}`: the local API's `flows.now`
    /// and the app's `connections_now`.
    pub fn to_json(&self) -> serde_json::Value {
        let flows: Vec<serde_json::Value> = self.flows.iter().map(FlowRecord::to_live_json).collect();
        json!({
            "now": self.now.map(|t| t.rfc3339()),
            "now_us": self.now.map(|t| t.0),
            "open": self.open,
            "flows": flows,
        })
    }
}

/// What accounting one packet told the caller.
#[derive(Clone, Copy, Debug)]
pub struct Accounted {
    /// The packet goes from the local side to the remote side.
    pub outgoing: bool,
    /// It counts toward leak detection (outgoing to a foreign unicast address).
    pub counted: bool,
    /// The flow's program was found with this packet, after earlier lookups missed: what it
    /// sent before should be credited to it.
    pub attributed_now: bool,
}

/// How often an unattributed flow asks the socket table again (µs of packet time).
pub const OWNER_RETRY: i64 = 50_000;
/// Unattributed flows asked again by [`FlowTable::retry_pending`] even without new packets, for
/// this long after they began (µs of packet time): a short flow may send all its packets before
/// the socket table knows its program, and never send another.
pub const PENDING_FOR: i64 = 30_000_000;
/// Most flows waiting in that list.
const MAX_PENDING: usize = 4_096;
/// Most names waiting for their flow's first packet (one batch's worth of names at most).
const MAX_UNCLAIMED_NAMES: usize = 4_096;

/// The bounded flow table.
pub struct FlowTable {
    flows: BoundedMap<FlowKey, Flow>,
    idle_timeout: i64,
    /// Counted flows whose program was not found at their first packet.
    pending: Vec<FlowKey>,
    /// Names for flows whose first packet has not been seen yet.
    unclaimed_names: HashMap<FlowKey, Arc<str>, RandomState>,
}

impl FlowTable {
    pub fn new(max: usize, idle_timeout: i64) -> FlowTable {
        FlowTable {
            flows: BoundedMap::new(max.max(8)),
            idle_timeout,
            pending: Vec::new(),
            unclaimed_names: HashMap::with_hasher(RandomState::new()),
        }
    }

    pub fn len(&self) -> usize {
        self.flows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }

    /// Most flows held at once.
    pub fn capacity(&self) -> usize {
        self.flows.capacity()
    }

    /// Most flows held at once so far.
    pub fn peak(&self) -> usize {
        self.flows.peak()
    }

    /// Flows closed early to make room for new ones (the table was full).
    pub fn evicted(&self) -> u64 {
        self.flows.evicted()
    }

    /// Bytes a full table of `max` flows takes (slots and index; names and programs are shared).
    pub fn bytes_when_full(max: usize) -> usize {
        BoundedMap::<FlowKey, Flow>::bytes_when_full(max)
    }

    /// Accounts one packet. A new flow decides its local side with `nets` and asks `owner`
    /// for the process; flows evicted to make room are passed to `closed`. Returns, for a
    /// counted packet, the flow's program and the name the flow itself sent (SNI, HTTP Host;
    /// shared, not copied).
    pub fn account(
        &mut self,
        p: &Packet,
        nets: &LocalNets,
        owner: impl FnOnce(Proto, IpAddr, u16) -> Option<Arc<ProcessInfo>>,
        closed: &mut impl FnMut(FlowRecord),
    ) -> (Accounted, Option<Arc<ProcessInfo>>, Option<Arc<str>>) {
        let (key, a_to_b) = FlowKey::of(p);
        let mut owner = Some(owner);
        let (flow, fresh) = {
            let owner = &mut owner;
            let (_, f, fresh) = self.flows.get_or_insert_with(
                key,
                |_, _| true,
                |k, f| closed(FlowRecord::new(k, f)),
                |_| new_flow(p, a_to_b, nets, owner.take().expect("unused")),
            );
            (f, fresh)
        };
        if fresh {
            if !self.unclaimed_names.is_empty() {
                flow.name = self.unclaimed_names.remove(&key);
            }
            if flow.counted && flow.process.is_none() && self.pending.len() < MAX_PENDING {
                self.pending.push(key);
            }
        }
        // Not attributed yet (the socket table missed it): ask again, at most every 50 ms.
        let mut attributed_now = false;
        if flow.counted
            && flow.process.is_none()
            && p.ts.micros_since(flow.last_try) >= OWNER_RETRY
            && let Some(owner) = owner.take()
        {
            flow.last_try = p.ts;
            let (ip, port) = if flow.local_is_a { key.a } else { key.b };
            flow.process = owner(key.proto, ip, port);
            attributed_now = flow.process.is_some();
        }
        let outgoing = flow.local_is_a == a_to_b;
        if outgoing {
            flow.out.add(p);
        } else {
            flow.inc.add(p);
        }
        if p.ts > flow.last {
            flow.last = p.ts;
        }
        if p.ts < flow.first {
            flow.first = p.ts;
        }
        let acc = Accounted { outgoing, counted: outgoing && flow.counted, attributed_now };
        if acc.counted { (acc, flow.process.clone(), flow.name.clone()) } else { (acc, None, None) }
    }

    /// The `limit` most recently active open flows, most recent first: a front end's live view of
    /// the connections, asked for about once a second (never per packet).
    pub fn recent(&self, limit: usize) -> Vec<FlowRecord> {
        let mut all: Vec<(&FlowKey, &Flow)> = self.flows.iter().collect();
        let newest_first = |a: &(&FlowKey, &Flow), b: &(&FlowKey, &Flow)| b.1.last.cmp(&a.1.last);
        if all.len() > limit && limit > 0 {
            all.select_nth_unstable_by(limit - 1, newest_first);
        }
        all.truncate(limit);
        all.sort_by(newest_first);
        all.into_iter().map(|(k, f)| FlowRecord::new(k, f)).collect()
    }

    /// The program of the flow between `client` and `server` (either protocol), if known: who
    /// asked a DNS question.
    pub fn process_of(&self, client: SocketAddr, server: SocketAddr) -> Option<Arc<ProcessInfo>> {
        [Proto::Udp, Proto::Tcp].into_iter().find_map(|proto| {
            let (key, _) = FlowKey::between(proto, (client.ip(), client.port()), (server.ip(), server.port()));
            self.flows.get(&key).and_then(|f| f.process.clone())
        })
    }

    /// Gives the flow of `p` its program when it has none yet (found by
    /// [`crate::process::SocketTable::quick_lookup`]); `false` when it had one or is unknown.
    pub fn attribute(&mut self, p: &Packet, process: &Arc<ProcessInfo>) -> bool {
        let (key, _) = FlowKey::of(p);
        match self.flows.get_mut(&key) {
            Some(flow) if flow.process.is_none() => {
                flow.process = Some(process.clone());
                true
            }
            _ => false,
        }
    }

    /// Asks `owner` again for the flows still without a program that began less than
    /// [`PENDING_FOR`] before `now`; `found(remote, local socket, program)` is called for each one
    /// found, so what it sent so far can be credited. Meant for a periodic tick (about once a
    /// second).
    pub fn retry_pending(
        &mut self,
        now: Ts,
        mut owner: impl FnMut(Proto, IpAddr, u16) -> Option<Arc<ProcessInfo>>,
        mut found: impl FnMut(IpAddr, (Proto, IpAddr, u16), &Arc<ProcessInfo>),
    ) {
        let flows = &mut self.flows;
        self.pending.retain(|key| {
            let Some(flow) = flows.get_mut(key) else { return false };
            if flow.process.is_some() || now.micros_since(flow.first) > PENDING_FOR {
                return false;
            }
            let ((ip, port), remote) = if flow.local_is_a { (key.a, key.b.0) } else { (key.b, key.a.0) };
            flow.last_try = now;
            flow.process = owner(key.proto, ip, port);
            match &flow.process {
                Some(p) => {
                    found(remote, (key.proto, ip, port), p);
                    false
                }
                None => true,
            }
        });
    }

    /// Records the host name the TCP connection `client` → `server` sent (its SNI or HTTP Host);
    /// the first one stays (a kept-alive HTTP connection may ask several hosts; nDPI also keeps
    /// the first). A flow not seen yet gets it when its first packet comes, if that is before
    /// [`forget_unclaimed_names`](Self::forget_unclaimed_names) (names are handed over a batch
    /// ahead of its packets).
    pub fn name_flow(&mut self, client: SocketAddr, server: SocketAddr, name: &str) {
        let (key, _) = FlowKey::between(Proto::Tcp, (client.ip(), client.port()), (server.ip(), server.port()));
        match self.flows.get_mut(&key) {
            Some(f) => {
                if f.name.is_none() {
                    f.name = Some(Arc::from(name));
                }
            }
            None => {
                if self.unclaimed_names.len() < MAX_UNCLAIMED_NAMES {
                    self.unclaimed_names.entry(key).or_insert_with(|| Arc::from(name));
                }
            }
        }
    }

    /// Drops the names given by [`name_flow`](Self::name_flow) to flows that did not begin since
    /// (call after each batch of packets).
    pub fn forget_unclaimed_names(&mut self) {
        self.unclaimed_names.clear();
    }

    /// Closes flows idle for longer than the timeout at `now`.
    pub fn sweep(&mut self, now: Ts, closed: &mut impl FnMut(FlowRecord)) {
        let timeout = self.idle_timeout;
        self.flows.retain(|k, f| {
            let keep = now.micros_since(f.last) <= timeout;
            if !keep {
                closed(FlowRecord::new(k, f));
            }
            keep
        });
    }

    /// Closes every flow (end of input), oldest first. Sorts slot numbers, not records, so a
    /// full table costs 4 bytes per flow here, not a copy of itself.
    pub fn drain(&mut self, closed: &mut impl FnMut(FlowRecord)) {
        let mut order: Vec<_> = self.flows.slots().collect();
        let flows = &self.flows;
        let sort_key = |slot| {
            flows.peek_at(slot).map(|(k, f)| {
                let (l, r) = if f.local_is_a { (k.a, k.b) } else { (k.b, k.a) };
                (f.first, SocketAddr::new(l.0, l.1), SocketAddr::new(r.0, r.1), k.proto.as_str())
            })
        };
        order.sort_unstable_by_key(|&slot| sort_key(slot));
        for slot in order {
            if let Some((k, f)) = flows.peek_at(slot) {
                closed(FlowRecord::new(k, f));
            }
        }
        self.flows.clear();
    }
}

fn new_flow(
    p: &Packet,
    a_to_b: bool,
    nets: &LocalNets,
    owner: impl FnOnce(Proto, IpAddr, u16) -> Option<Arc<ProcessInfo>>,
) -> Flow {
    let src_local = nets.is_local(p.src);
    let dst_local = nets.is_local(p.dst);
    let src_is_local = match (src_local, dst_local) {
        (true, false) => true,
        (false, true) => false,
        // Both or neither: the side that opened the connection is ours.
        _ => {
            let syn = p.proto == Proto::Tcp && p.tcp_flags & tcp_flags::SYN != 0;
            let ack = p.tcp_flags & tcp_flags::ACK != 0;
            !(syn && ack)
        }
    };
    let (local, remote) = if src_is_local { ((p.src, p.sport), p.dst) } else { ((p.dst, p.dport), p.src) };
    let internal = nets.is_explicit() && src_local == dst_local;
    let counted = !internal && !is_multicast_or_broadcast(remote);
    Flow {
        local_is_a: src_is_local == a_to_b,
        counted,
        out: Counters::default(),
        inc: Counters::default(),
        first: p.ts,
        last: p.ts,
        process: if counted { owner(p.proto, local.0, local.1) } else { None },
        last_try: p.ts,
        name: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkt(src: &str, sport: u16, dst: &str, dport: u16, flags: u8, t: i64) -> Packet {
        Packet { frame_len: 100, tcp_flags: flags, ..Packet::tcp_for_test(src, sport, dst, dport, 46, t) }
    }

    fn account(t: &mut FlowTable, p: &Packet, nets: &LocalNets) -> Accounted {
        t.account(p, nets, |_, _, _| None, &mut |_| panic!("no eviction expected")).0
    }

    #[test]
    fn private_side_is_local_whatever_sends_first() {
        let mut t = FlowTable::new(64, 1_000_000);
        let nets = LocalNets::default();
        let a = account(&mut t, &pkt("46.44.253.187", 8080, "192.168.1.7", 51215, tcp_flags::ACK, 0), &nets);
        assert!(!a.outgoing && !a.counted);
        let b = account(&mut t, &pkt("192.168.1.7", 51215, "46.44.253.187", 8080, tcp_flags::ACK, 1), &nets);
        assert!(b.outgoing && b.counted);
    }

    #[test]
    fn both_public_first_syn_sender_is_local_and_syn_ack_receiver_too() {
        let nets = LocalNets::default();
        let mut t = FlowTable::new(64, 1_000_000);
        assert!(account(&mut t, &pkt("194.247.5.6", 39005, "194.247.5.14", 53, tcp_flags::SYN, 0), &nets).outgoing);
        let mut t = FlowTable::new(64, 1_000_000);
        let synack = pkt("194.247.5.14", 53, "194.247.5.6", 39005, tcp_flags::SYN | tcp_flags::ACK, 0);
        assert!(!account(&mut t, &synack, &nets).outgoing);
    }

    #[test]
    fn explicit_local_nets_keep_lan_traffic_out_of_detection() {
        let nets = LocalNets::new(vec!["192.168.1.0/24".parse().unwrap()]);
        let mut t = FlowTable::new(64, 1_000_000);
        let lan = account(&mut t, &pkt("192.168.1.7", 5000, "192.168.1.9", 445, tcp_flags::ACK, 0), &nets);
        assert!(lan.outgoing && !lan.counted);
        let out = account(&mut t, &pkt("192.168.1.7", 5001, "10.0.0.1", 443, tcp_flags::ACK, 0), &nets);
        assert!(out.outgoing && out.counted, "10.0.0.1 is foreign when local nets are explicit");
    }

    #[test]
    fn recent_lists_the_most_recently_active_flows_first_with_their_program() {
        let nets = LocalNets::default();
        let mut t = FlowTable::new(64, 60_000_000);
        let curl =
            Arc::new(ProcessInfo { pid: 42, name: "curl".into(), exe: Some("/usr/bin/curl".into()), installed: true });
        for (i, port) in [5000u16, 5001, 5002].into_iter().enumerate() {
            let p = pkt("192.168.1.7", port, "46.44.253.187", 443, tcp_flags::ACK, i as i64 * 1000);
            t.account(&p, &nets, |_, _, _| Some(curl.clone()), &mut |_| panic!("no eviction"));
        }
        let r = t.recent(2);
        assert_eq!(r.iter().map(|f| f.local.port()).collect::<Vec<_>>(), vec![5002, 5001]);
        assert_eq!((r[0].out.payload, r[0].inc.payload), (46, 0));
        let v = r[0].to_live_json();
        assert_eq!((v["process"]["exe"].as_str(), v["payload_out"].as_u64()), (Some("/usr/bin/curl"), Some(46)));
        assert_eq!(t.recent(10).len(), 3);
        assert!(t.recent(0).is_empty());
    }

    #[test]
    fn multicast_is_never_counted() {
        let nets = LocalNets::default();
        let mut t = FlowTable::new(64, 1_000_000);
        let m = account(&mut t, &pkt("192.168.1.7", 5353, "224.0.0.251", 5353, 0, 0), &nets);
        assert!(m.outgoing && !m.counted);
    }

    #[test]
    fn unattributed_flows_are_asked_again_without_new_packets() {
        let nets = LocalNets::default();
        let mut t = FlowTable::new(64, 60_000_000);
        let p = pkt("192.168.1.2", 40_000, "8.8.8.8", 443, tcp_flags::SYN, 0);
        t.account(&p, &nets, |_, _, _| None, &mut |_| {});
        let prog = Arc::new(ProcessInfo { pid: 7, name: "curl".into(), exe: None, installed: false });
        let mut asked = Vec::new();
        let mut credited = Vec::new();
        t.retry_pending(Ts(1_000_000), |_, _, _| None, |_, _, _| panic!("nothing found yet"));
        t.retry_pending(
            Ts(2_000_000),
            |proto, ip, port| {
                asked.push((proto, ip, port));
                Some(prog.clone())
            },
            |remote, local, p| credited.push((remote, local, p.pid)),
        );
        assert_eq!(asked, vec![(Proto::Tcp, "192.168.1.2".parse().unwrap(), 40_000)]);
        assert_eq!(
            credited,
            vec![("8.8.8.8".parse().unwrap(), (Proto::Tcp, "192.168.1.2".parse().unwrap(), 40_000), 7)]
        );
        // Found: not asked again; and the flow reports its program.
        t.retry_pending(Ts(3_000_000), |_, _, _| panic!("asked again"), |_, _, _| {});
        let mut closed = Vec::new();
        t.drain(&mut |r| closed.push(r));
        assert_eq!(closed[0].process.as_ref().map(|p| p.pid), Some(7));
    }

    #[test]
    fn a_flow_is_named_by_its_own_connection_first_name_wins() {
        let nets = LocalNets::default();
        let mut t = FlowTable::new(64, 600_000_000);
        let (client, server) = ("192.168.1.2:40000".parse().unwrap(), "151.139.128.14:80".parse().unwrap());
        let other: SocketAddr = "192.168.1.2:40001".parse().unwrap();
        // Named before its first packet (names come a batch ahead of packets).
        t.name_flow(client, server, "geant.ocsp.sectigo.com");
        t.name_flow(other, server, "never.claimed.test");
        t.account(
            &pkt("192.168.1.2", 40000, "151.139.128.14", 80, tcp_flags::SYN, 0),
            &nets,
            |_, _, _| None,
            &mut |_| {},
        );
        t.forget_unclaimed_names();
        t.account(
            &pkt("192.168.1.2", 40001, "151.139.128.14", 80, tcp_flags::SYN, 1),
            &nets,
            |_, _, _| None,
            &mut |_| {},
        );
        // A second request on the kept-alive connection does not rename it.
        t.name_flow(client, server, "ocsp.usertrust.com");
        t.name_flow(other, server, "ocsp.usertrust.com");
        let mut closed = Vec::new();
        t.drain(&mut |r| closed.push((r.local.port(), r.hostname)));
        closed.sort();
        assert_eq!(
            closed,
            vec![(40000, Some("geant.ocsp.sectigo.com".into())), (40001, Some("ocsp.usertrust.com".into()))]
        );
    }

    #[test]
    fn pending_flows_give_up_after_a_while() {
        let nets = LocalNets::default();
        let mut t = FlowTable::new(64, 600_000_000);
        t.account(&pkt("192.168.1.2", 40_000, "8.8.8.8", 443, tcp_flags::SYN, 0), &nets, |_, _, _| None, &mut |_| {});
        t.retry_pending(Ts(PENDING_FOR + 1), |_, _, _| panic!("too old to ask"), |_, _, _| {});
        assert!(t.pending.is_empty());
    }

    #[test]
    fn full_table_evicts_the_longest_idle_and_reports_them() {
        let nets = LocalNets::default();
        let mut t = FlowTable::new(16, i64::MAX);
        let mut closed = Vec::new();
        for i in 0..40u16 {
            let p = pkt("192.168.1.7", 10_000 + i, "8.8.8.8", 443, tcp_flags::ACK, i64::from(i));
            t.account(&p, &nets, |_, _, _| None, &mut |r| closed.push(r));
            assert!(t.len() <= 16);
        }
        assert_eq!(closed.len() + t.len(), 40);
        // The evicted flows are the oldest ones.
        assert!(closed.iter().all(|r| r.local.port() < 10_000 + 40 - 16));
        t.drain(&mut |r| closed.push(r));
        assert_eq!(closed.len(), 40);
        assert_eq!(closed.iter().map(|r| r.out.bytes).sum::<u64>(), 40 * 100);
    }
}
