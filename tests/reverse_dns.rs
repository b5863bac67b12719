//! The reverse DNS resolver against name servers on loopback (real UDP sockets): answers are
//! taken, silence times out after the bounded tries, the next server is asked, an address is
//! asked once, forged answers are dropped, and a flood of requests stays bounded.

use leakwatch::naming::reverse::{ATTEMPT_TIMEOUT, ATTEMPTS, MAX_IN_FLIGHT, ReverseDns};
use simple_dns::rdata::{PTR, RData};
use simple_dns::{CLASS, Name, Packet, ResourceRecord};
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// How a test server behaves.
#[derive(Clone, Copy)]
enum Behaviour {
    /// Answers every PTR question with `host-<last octet>.example.test`.
    Answer,
    /// Never answers.
    Silent,
    /// Answers from another socket (another port): a forgery.
    AnswerFromElsewhere,
}

/// A name server on 127.0.0.1 for at most `life`; counts the queries it received.
fn server(b: Behaviour, life: Duration) -> (SocketAddr, Arc<AtomicUsize>) {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    let addr = sock.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    thread::spawn(move || {
        let other = UdpSocket::bind("127.0.0.1:0").unwrap();
        let end = Instant::now() + life;
        let mut buf = [0u8; 1500];
        while Instant::now() < end {
            let Ok((n, from)) = sock.recv_from(&mut buf) else { continue };
            c.fetch_add(1, Ordering::SeqCst);
            let Ok(q) = Packet::parse(&buf[..n]) else { continue };
            let qname = q.questions[0].qname.to_string();
            let last = qname.split('.').next().unwrap_or("0").to_string();
            let host = format!("host-{last}.example.test");
            let mut r = q.clone().into_reply();
            let owner = r.questions[0].qname.clone();
            r.answers.push(ResourceRecord::new(owner, CLASS::IN, 60, RData::PTR(PTR(Name::new_unchecked(&host)))));
            let bytes = r.build_bytes_vec().unwrap();
            match b {
                Behaviour::Answer => {
                    sock.send_to(&bytes, from).unwrap();
                }
                Behaviour::Silent => {}
                Behaviour::AnswerFromElsewhere => {
                    other.send_to(&bytes, from).unwrap();
                }
            }
        }
    });
    (addr, count)
}

/// Every answer within `within` (stops early once `n` arrived).
fn answers(r: &ReverseDns, n: usize, within: Duration) -> Vec<(IpAddr, String)> {
    let end = Instant::now() + within;
    let mut got = Vec::new();
    while Instant::now() < end && got.len() < n {
        r.drain(|ip, name| got.push((ip, name)));
        thread::sleep(Duration::from_millis(10));
    }
    got
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn an_answer_names_the_address_and_it_is_asked_once() {
    let (addr, count) = server(Behaviour::Answer, Duration::from_secs(10));
    let r = ReverseDns::start(vec![addr]).unwrap();
    r.request(ip("10.200.0.7"));
    r.request(ip("fd00:200::9"));
    let mut got = answers(&r, 2, Duration::from_secs(5));
    got.sort();
    assert_eq!(
        got,
        vec![
            (ip("10.200.0.7"), "host-7.example.test".to_string()),
            (ip("fd00:200::9"), "host-9.example.test".to_string())
        ]
    );
    // Asked again: answered from memory, no new query.
    r.request(ip("10.200.0.7"));
    thread::sleep(Duration::from_millis(300));
    assert_eq!(count.load(Ordering::SeqCst), 2);
    assert_eq!(r.stats().answered.load(Ordering::SeqCst), 2);
}

#[test]
fn loopback_and_link_local_are_never_asked() {
    let (addr, count) = server(Behaviour::Answer, Duration::from_secs(3));
    let r = ReverseDns::start(vec![addr]).unwrap();
    for a in ["127.0.0.1", "::1", "169.254.3.4", "fe80::1", "224.0.0.251"] {
        r.request(ip(a));
    }
    thread::sleep(Duration::from_millis(500));
    assert_eq!(count.load(Ordering::SeqCst), 0);
}

#[test]
fn a_silent_server_gives_up_after_the_bounded_tries() {
    let (addr, count) = server(Behaviour::Silent, Duration::from_secs(10));
    let r = ReverseDns::start(vec![addr]).unwrap();
    r.request(ip("10.200.0.8"));
    let limit = ATTEMPT_TIMEOUT * ATTEMPTS + Duration::from_secs(1);
    let end = Instant::now() + limit;
    while r.stats().unanswered.load(Ordering::SeqCst) == 0 && Instant::now() < end {
        thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(r.stats().unanswered.load(Ordering::SeqCst), 1, "given up within {limit:?}");
    assert_eq!(count.load(Ordering::SeqCst), ATTEMPTS as usize, "one query per try");
    assert!(answers(&r, 1, Duration::from_millis(100)).is_empty());
}

#[test]
fn the_next_server_is_asked_when_the_first_is_silent() {
    let (silent, silent_count) = server(Behaviour::Silent, Duration::from_secs(10));
    let (good, _) = server(Behaviour::Answer, Duration::from_secs(10));
    let r = ReverseDns::start(vec![silent, good]).unwrap();
    r.request(ip("10.200.0.5"));
    let got = answers(&r, 1, ATTEMPT_TIMEOUT * 2 + Duration::from_secs(1));
    assert_eq!(got, vec![(ip("10.200.0.5"), "host-5.example.test".to_string())]);
    assert_eq!(silent_count.load(Ordering::SeqCst), 1);
}

#[test]
fn an_answer_from_another_address_is_dropped() {
    let (addr, count) = server(Behaviour::AnswerFromElsewhere, Duration::from_secs(10));
    let r = ReverseDns::start(vec![addr]).unwrap();
    r.request(ip("10.200.0.6"));
    assert!(answers(&r, 1, ATTEMPT_TIMEOUT * ATTEMPTS + Duration::from_millis(500)).is_empty());
    assert!(count.load(Ordering::SeqCst) >= 1);
}

#[test]
fn a_flood_of_requests_stays_bounded() {
    let (addr, count) = server(Behaviour::Silent, Duration::from_secs(10));
    let r = ReverseDns::start(vec![addr]).unwrap();
    // 20,000 distinct addresses at once: the caller never waits, queries go out at most
    // MAX_IN_FLIGHT at a time.
    let (tx, rx) = mpsc::channel();
    let t = thread::spawn(move || {
        for i in 0..20_000u32 {
            r.request(IpAddr::V4((0x0AC8_0000 + i).into()));
        }
        tx.send(()).unwrap();
        r
    });
    rx.recv_timeout(Duration::from_secs(10)).expect("requests never block");
    let r = t.join().unwrap();
    thread::sleep(Duration::from_millis(500));
    let sent = count.load(Ordering::SeqCst);
    assert!(sent > 0 && sent <= MAX_IN_FLIGHT, "{sent} queries outstanding");
    let dropped = r.stats().dropped.load(Ordering::SeqCst);
    assert!(dropped > 0, "beyond the bounded queue requests are dropped and counted");
}
