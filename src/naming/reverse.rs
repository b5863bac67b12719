//! Reverse DNS (PTR) as the last resort for naming a destination: asynchronous, cached and
//! time-limited, never blocking the engine.
//!
//! [`ReverseDns::request`] only puts the address on a bounded channel. One resolver thread sends
//! PTR queries over UDP to the system's name servers (`/etc/resolv.conf`), with at most
//! [`MAX_IN_FLIGHT`] outstanding, [`ATTEMPT_TIMEOUT`] per try and [`ATTEMPTS`] tries (each on the
//! next server), and remembers what it asked, answered or not, for [`ASKED_TTL`], so an address is
//! asked at most once an hour. Answers come back on another channel for the engine to drain
//! ([`ReverseDns::drain`]); the engine files them as [`NameSource::ReverseDns`], the least trusted
//! source, which any name seen on the wire replaces.
//!
//! Only answers that match an outstanding query (id, server, question) are taken, and a name must
//! look like a host name; anything else is dropped. Loopback, link-local, multicast and
//! unspecified addresses are never asked about.

use super::clean_host;
use crossbeam_channel::{Receiver, Sender, TrySendError};
use simple_dns::rdata::RData;
use simple_dns::{CLASS, Name, Packet, PacketFlag, Question, TYPE};
use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Queries outstanding at once.
pub const MAX_IN_FLIGHT: usize = 32;
/// Wait for one answer.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(1500);
/// Tries per address (each on the next server).
pub const ATTEMPTS: u32 = 2;
/// How long an address, once asked, is not asked again.
pub const ASKED_TTL: Duration = Duration::from_secs(3600);
/// Addresses remembered as asked.
const MAX_ASKED: usize = 65_536;
/// Requests waiting for a free slot; beyond this they are dropped (asked again later).
const MAX_WAITING: usize = 1_024;
/// Request channel size.
const CHANNEL: usize = 4_096;
/// Name servers used, at most (as glibc).
const MAX_SERVERS: usize = 3;

/// Counters of the resolver.
#[derive(Default, Debug)]
pub struct ReverseStats {
    pub queries: AtomicU64,
    pub answered: AtomicU64,
    pub unanswered: AtomicU64,
    /// Requests dropped because the resolver was busy.
    pub dropped: AtomicU64,
}

/// The running resolver; stops when dropped.
pub struct ReverseDns {
    requests: Sender<IpAddr>,
    answers: Receiver<(IpAddr, String)>,
    stop: Arc<AtomicBool>,
    stats: Arc<ReverseStats>,
    servers: Vec<SocketAddr>,
    thread: Option<JoinHandle<()>>,
}

impl ReverseDns {
    /// A resolver asking the name servers of `/etc/resolv.conf` (the error names the file and
    /// what is wrong with it).
    pub fn from_system() -> Result<ReverseDns, String> {
        let path = "/etc/resolv.conf";
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
        let servers = parse_resolv_conf(&text);
        if servers.is_empty() {
            return Err(format!("{path} names no name server (no `nameserver` line)"));
        }
        ReverseDns::start(servers).map_err(|e| format!("cannot open a UDP socket for reverse DNS: {e}"))
    }

    /// A resolver asking `servers` in turn.
    pub fn start(servers: Vec<SocketAddr>) -> std::io::Result<ReverseDns> {
        let servers: Vec<SocketAddr> = servers.into_iter().take(MAX_SERVERS).collect();
        let v4 =
            if servers.iter().any(SocketAddr::is_ipv4) { Some(bind(IpAddr::V4(Ipv4Addr::UNSPECIFIED))?) } else { None };
        let v6 =
            if servers.iter().any(SocketAddr::is_ipv6) { Some(bind(IpAddr::V6(Ipv6Addr::UNSPECIFIED))?) } else { None };
        let (req_tx, req_rx) = crossbeam_channel::bounded(CHANNEL);
        let (ans_tx, ans_rx) = crossbeam_channel::bounded(CHANNEL);
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(ReverseStats::default());
        let worker = Worker {
            servers: servers.clone(),
            v4,
            v6,
            asked: HashMap::new(),
            in_flight: HashMap::new(),
            waiting: VecDeque::new(),
            ids: std::collections::hash_map::RandomState::new(),
            next: 0,
        };
        let thread = {
            let (stop, stats) = (stop.clone(), stats.clone());
            std::thread::Builder::new()
                .name("leakwatch-reverse-dns".into())
                .spawn(move || worker.run(&req_rx, &ans_tx, &stop, &stats))?
        };
        Ok(ReverseDns { requests: req_tx, answers: ans_rx, stop, stats, servers, thread: Some(thread) })
    }

    /// Asks for the name of `ip` in the background. Never blocks; cheap to call again.
    pub fn request(&self, ip: IpAddr) {
        if !worth_asking(ip) {
            return;
        }
        if let Err(TrySendError::Full(_)) = self.requests.try_send(ip) {
            self.stats.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Hands every answer received since the last call to `f`.
    pub fn drain(&self, mut f: impl FnMut(IpAddr, String)) {
        for (ip, name) in self.answers.try_iter() {
            f(ip, name);
        }
    }

    pub fn stats(&self) -> &ReverseStats {
        &self.stats
    }

    /// The name servers asked.
    pub fn servers(&self) -> &[SocketAddr] {
        &self.servers
    }
}

impl std::fmt::Debug for ReverseDns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReverseDns").field("servers", &self.servers).finish_non_exhaustive()
    }
}

impl Drop for ReverseDns {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn bind(any: IpAddr) -> std::io::Result<UdpSocket> {
    let s = UdpSocket::bind(SocketAddr::new(any, 0))?;
    s.set_nonblocking(true)?;
    Ok(s)
}

/// Whether an address can have a meaningful PTR record worth a query.
fn worth_asking(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => {
            !(a.is_loopback() || a.is_link_local() || a.is_multicast() || a.is_unspecified() || a.is_broadcast())
        }
        IpAddr::V6(a) => !(a.is_loopback() || a.is_multicast() || a.is_unspecified() || a.is_unicast_link_local()),
    }
}

/// `nameserver` addresses of a resolv.conf text, on port 53 (IPv6 zone suffixes are dropped).
pub fn parse_resolv_conf(text: &str) -> Vec<SocketAddr> {
    text.lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            (words.next()? == "nameserver").then_some(())?;
            let addr = words.next()?;
            let addr = addr.split('%').next()?;
            addr.parse::<IpAddr>().ok().map(|ip| SocketAddr::new(ip, 53))
        })
        .collect()
}

/// The PTR name of an address: `4.3.2.1.in-addr.arpa` or the nibbles under `ip6.arpa`.
pub fn ptr_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            format!("{}.{}.{}.{}.in-addr.arpa", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(a) => {
            let mut s = String::with_capacity(72);
            for b in a.octets().iter().rev() {
                for nibble in [b & 0x0f, b >> 4] {
                    s.push(char::from_digit(u32::from(nibble), 16).unwrap_or('0'));
                    s.push('.');
                }
            }
            s.push_str("ip6.arpa");
            s
        }
    }
}

/// A PTR query for `ip` with `id`, recursion desired.
pub fn build_query(id: u16, ip: IpAddr) -> Option<Vec<u8>> {
    let name = ptr_name(ip);
    let mut p = Packet::new_query(id);
    p.set_flags(PacketFlag::RECURSION_DESIRED);
    p.questions.push(Question::new(Name::new(&name).ok()?, TYPE::PTR.into(), CLASS::IN.into(), false));
    p.build_bytes_vec().ok()
}

/// The host name in an answer to the PTR query (`id`, `ip`): `None` for another query's answer,
/// an error, no PTR record, or a name that is not a host name.
pub fn parse_answer(msg: &[u8], id: u16, ip: IpAddr) -> Option<Option<String>> {
    let p = Packet::parse(msg).ok()?;
    if p.id() != id || !p.has_flags(PacketFlag::RESPONSE) {
        return None;
    }
    let q = p.questions.first()?;
    let asked = ptr_name(ip);
    if !q.qname.to_string().trim_end_matches('.').eq_ignore_ascii_case(&asked) {
        return None;
    }
    // It is our answer; a name only from a PTR record.
    Some(p.answers.iter().find_map(|rr| match &rr.rdata {
        RData::PTR(name) => clean_host(name.0.to_string().as_bytes()),
        _ => None,
    }))
}

/// The resolver thread's state.
struct Worker {
    servers: Vec<SocketAddr>,
    v4: Option<UdpSocket>,
    v6: Option<UdpSocket>,
    /// Address → when it was asked (answered or not).
    asked: HashMap<IpAddr, Instant>,
    /// Query id → (address, server index, attempt, sent at).
    in_flight: HashMap<u16, (IpAddr, usize, u32, Instant)>,
    waiting: VecDeque<IpAddr>,
    ids: std::collections::hash_map::RandomState,
    next: u64,
}

impl Worker {
    fn run(
        mut self,
        requests: &Receiver<IpAddr>,
        answers: &Sender<(IpAddr, String)>,
        stop: &AtomicBool,
        stats: &ReverseStats,
    ) {
        let mut buf = [0u8; 1500];
        while !stop.load(Ordering::Relaxed) {
            // Wait for a request, but no longer than the next timeout or a poll of the sockets.
            let wait = if self.in_flight.is_empty() { Duration::from_millis(200) } else { Duration::from_millis(10) };
            if let Ok(ip) = requests.recv_timeout(wait) {
                self.take(ip, stats);
                for ip in requests.try_iter().take(CHANNEL) {
                    self.take(ip, stats);
                }
            }
            self.receive(&mut buf, answers, stats);
            self.expire(stats);
            self.send_waiting(stats);
        }
    }

    fn take(&mut self, ip: IpAddr, stats: &ReverseStats) {
        let now = Instant::now();
        if self.asked.get(&ip).is_some_and(|t| now.duration_since(*t) < ASKED_TTL) {
            return;
        }
        if self.waiting.len() >= MAX_WAITING {
            stats.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if self.asked.len() >= MAX_ASKED {
            self.asked.retain(|_, t| now.duration_since(*t) < ASKED_TTL);
            if self.asked.len() >= MAX_ASKED {
                self.asked.clear();
            }
        }
        self.asked.insert(ip, now);
        self.waiting.push_back(ip);
    }

    fn send_waiting(&mut self, stats: &ReverseStats) {
        while self.in_flight.len() < MAX_IN_FLIGHT {
            let Some(ip) = self.waiting.pop_front() else { break };
            self.send(ip, 0, 0, stats);
        }
    }

    fn send(&mut self, ip: IpAddr, server: usize, attempt: u32, stats: &ReverseStats) {
        let Some(&to) = self.servers.get(server % self.servers.len().max(1)) else { return };
        let id = loop {
            self.next += 1;
            let id = self.ids.hash_one(self.next) as u16;
            if !self.in_flight.contains_key(&id) {
                break id;
            }
        };
        let Some(query) = build_query(id, ip) else { return };
        let sock = if to.is_ipv4() { self.v4.as_ref() } else { self.v6.as_ref() };
        if let Some(s) = sock
            && s.send_to(&query, to).is_ok()
        {
            stats.queries.fetch_add(1, Ordering::Relaxed);
        }
        // Sent or not (no route), the slot is held until the timeout: a dead server is not hammered.
        self.in_flight.insert(id, (ip, server, attempt, Instant::now()));
    }

    fn receive(&mut self, buf: &mut [u8], answers: &Sender<(IpAddr, String)>, stats: &ReverseStats) {
        for sock in [self.v4.as_ref(), self.v6.as_ref()].into_iter().flatten() {
            // Bounded: at most as many datagrams as queries can be outstanding, twice.
            for _ in 0..MAX_IN_FLIGHT * 2 {
                let Ok((n, from)) = sock.recv_from(buf) else { break };
                let msg = &buf[..n];
                let Some(id) = msg.first_chunk::<2>().map(|b| u16::from_be_bytes(*b)) else { continue };
                let Some(&(ip, server, _, _)) = self.in_flight.get(&id) else { continue };
                if self.servers.get(server % self.servers.len()) != Some(&from) {
                    continue;
                }
                let Some(name) = parse_answer(msg, id, ip) else { continue };
                self.in_flight.remove(&id);
                match name {
                    Some(name) => {
                        stats.answered.fetch_add(1, Ordering::Relaxed);
                        let _ = answers.try_send((ip, name));
                    }
                    None => {
                        stats.unanswered.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
    }

    fn expire(&mut self, stats: &ReverseStats) {
        let now = Instant::now();
        let late: Vec<u16> = self
            .in_flight
            .iter()
            .filter(|(_, (_, _, _, sent))| now.duration_since(*sent) >= ATTEMPT_TIMEOUT)
            .map(|(id, _)| *id)
            .collect();
        for id in late {
            let Some((ip, server, attempt, _)) = self.in_flight.remove(&id) else { continue };
            if attempt + 1 < ATTEMPTS {
                self.send(ip, server + 1, attempt + 1, stats);
            } else {
                stats.unanswered.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ptr_names() {
        assert_eq!(ptr_name("140.82.114.4".parse().unwrap()), "4.114.82.140.in-addr.arpa");
        assert_eq!(
            ptr_name("2001:db8::567:89ab".parse().unwrap()),
            "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"
        );
    }

    #[test]
    fn resolv_conf() {
        let text = "# comment\nsearch lan\nnameserver 10.200.0.2\nnameserver fe80::1%eth0\nnameserver bogus\noptions ndots:1\n nameserver 1.1.1.1 \n";
        let got = parse_resolv_conf(text);
        assert_eq!(
            got,
            vec![
                "10.200.0.2:53".parse::<SocketAddr>().unwrap(),
                "[fe80::1]:53".parse().unwrap(),
                "1.1.1.1:53".parse().unwrap()
            ]
        );
    }

    #[test]
    fn not_worth_asking() {
        for ip in ["127.0.0.1", "::1", "169.254.1.1", "fe80::1", "224.0.0.1", "ff02::1", "0.0.0.0", "::"] {
            assert!(!worth_asking(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["10.200.0.2", "140.82.114.4", "2a03:2880::1"] {
            assert!(worth_asking(ip.parse().unwrap()), "{ip}");
        }
    }

    /// A response to `query` with the given PTR target (or none), and rcode NOERROR.
    pub(super) fn respond(query: &[u8], target: Option<&str>) -> Vec<u8> {
        let q = Packet::parse(query).unwrap();
        let mut r = q.into_reply();
        if let Some(t) = target {
            let owner = r.questions[0].qname.clone();
            r.answers.push(simple_dns::ResourceRecord::new(
                owner,
                CLASS::IN,
                60,
                RData::PTR(simple_dns::rdata::PTR(Name::new_unchecked(t))),
            ));
        }
        r.build_bytes_vec().unwrap()
    }

    #[test]
    fn answers_are_matched_to_their_query() {
        let ip: IpAddr = "10.200.0.2".parse().unwrap();
        let q = build_query(0x4242, ip).unwrap();
        let good = respond(&q, Some("Upload.Example.Test."));
        assert_eq!(parse_answer(&good, 0x4242, ip), Some(Some("upload.example.test".into())));
        assert_eq!(parse_answer(&good, 0x4243, ip), None, "another id");
        assert_eq!(parse_answer(&good, 0x4242, "10.200.0.3".parse().unwrap()), None, "another question");
        assert_eq!(parse_answer(&q, 0x4242, ip), None, "a query is no answer");
        assert_eq!(parse_answer(&respond(&q, None), 0x4242, ip), Some(None), "no PTR: answered, unknown");
        assert_eq!(parse_answer(&respond(&q, Some("bad name!")), 0x4242, ip), Some(None), "not a host name");
        for n in 0..good.len() {
            let _ = parse_answer(&good[..n], 0x4242, ip);
        }
    }
}
