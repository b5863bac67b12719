//! Issue 18, part 3: names the sender can forge decide nothing alone. Each test drives the
//! engine with synthetic packets and the name facts the capture side would hand over with
//! them (names a batch ahead of their packets, as the capture threads do).

mod common;

use common::synth::{Stream, ip, process, us};
use leakwatch::alert::{AlertEvent, AlertPhase};
use leakwatch::engine::{Batch, Delivery, Engine};
use leakwatch::flows::FlowRecord;
use leakwatch::judge::{Mode, Rules};
use leakwatch::naming::{NameFact, NameSource};
use leakwatch::packet::{Packet, Proto};
use leakwatch::process::FakeSocketTable;
use leakwatch::settings::EngineConfig;
use leakwatch::time::SECOND;
use std::net::SocketAddr;

/// The uploader's destination: an address of Gtelecom Pty Ltd (AS38803) in the bundled data,
/// an organisation no mode ignores.
const UNKNOWN_SERVER: &str = "1.0.4.1";
const ME: &str = "192.168.1.10";

/// `curl` (pid 1234) on TCP 40000; `uploader` (pid 99) on TCP 40001 and UDP 5353.
fn table() -> FakeSocketTable {
    FakeSocketTable::default()
        .with(Proto::Tcp, 40000, process(1234, "curl"))
        .with(Proto::Tcp, 40001, process(99, "uploader"))
        .with(Proto::Udp, 5353, process(99, "uploader"))
}

fn config(mode: Mode) -> EngineConfig {
    EngineConfig { rules: Rules::shipped(mode), realert_after: 60 * SECOND, ..EngineConfig::default() }
}

fn sa(ip: &str, port: u16) -> SocketAddr {
    SocketAddr::new(common::synth::ip(ip), port)
}

fn fact(name: &str, ip: &str, source: NameSource, conn: (SocketAddr, SocketAddr)) -> NameFact {
    NameFact { ip: common::synth::ip(ip), name: name.into(), source, conn: Some(conn) }
}

struct Out {
    events: Vec<AlertEvent>,
    flows: Vec<FlowRecord>,
}

impl Out {
    /// The new alerts of program `pid`.
    fn news_of(&self, pid: u32) -> Vec<&AlertEvent> {
        self.events
            .iter()
            .filter(|e| e.phase == AlertPhase::New && e.alert.process.as_ref().is_some_and(|p| p.pid == pid))
            .collect()
    }

    fn flow_from(&self, port: u16) -> &FlowRecord {
        self.flows.iter().find(|f| f.local.port() == port).unwrap_or_else(|| panic!("no flow from port {port}"))
    }
}

/// Runs batches of (names, packets) through a fresh engine.
fn run(config: EngineConfig, batches: Vec<(Vec<NameFact>, Vec<Packet>)>) -> Out {
    let engine = Engine::start_with(config, Box::new(table()));
    let h = engine.handle();
    let alerts = h.subscribe_alerts(Delivery::Lossless);
    let flows = h.subscribe_flows();
    for (names, packets) in batches {
        assert!(h.send_batch(Batch { packets, other: 0, malformed: 0, names }));
    }
    engine.finish();
    Out { events: alerts.iter().collect(), flows: flows.iter().collect() }
}

/// 400 KB in one second from `s`, starting at `start_us`.
fn upload(s: Stream, start_us: i64) -> Vec<Packet> {
    s.burst(start_us, start_us + 399 * 2_500, 400_000, 400)
}

fn curl() -> Stream {
    Stream::curl().dst(UNKNOWN_SERVER)
}

fn uploader() -> Stream {
    Stream::curl().dst(UNKNOWN_SERVER).sport(40001)
}

#[test]
fn sni_on_one_flow_does_not_name_another_programs_flow_to_the_same_address() {
    // curl says "slack.com" on its connection; the uploader, to the same address, says nothing.
    let hello = fact("slack.com", UNKNOWN_SERVER, NameSource::Sni, (sa(ME, 40000), sa(UNKNOWN_SERVER, 443)));
    for mode in Mode::ALL {
        let out = run(
            config(mode),
            vec![(vec![hello.clone()], vec![curl().packet(0, 500)]), (vec![], upload(uploader(), us(1.0)))],
        );
        let news = out.news_of(99);
        assert_eq!(news.len(), 1, "{mode}: {:#?}", out.events);
        assert_eq!(news[0].alert.hostname, None, "{mode}: named after another program's connection");
        assert_eq!(out.flow_from(40001).hostname, None);
        assert_eq!(out.flow_from(40000).hostname.as_deref(), Some("slack.com"));
    }
}

#[test]
fn sni_on_one_flow_does_not_name_the_same_programs_udp_or_dns_flows() {
    let hello = fact("www.google.com", UNKNOWN_SERVER, NameSource::Sni, (sa(ME, 40000), sa(UNKNOWN_SERVER, 443)));
    let udp = Stream { proto: Proto::Udp, ..Stream::curl().dst(UNKNOWN_SERVER).sport(5353) };
    let dns = Stream { dport: 53, ..udp };
    let out = run(
        config(Mode::Paranoid),
        vec![
            (vec![hello], vec![curl().packet(0, 500)]),
            (vec![], vec![Stream { dport: 443, ..curl() }.sport(40000).packet(SECOND, 10), udp.packet(SECOND, 10)]),
            (vec![], vec![dns.packet(2 * SECOND, 40)]),
        ],
    );
    assert_eq!(out.flow_from(40000).hostname.as_deref(), Some("www.google.com"));
    for f in out.flows.iter().filter(|f| f.local.port() == 5353) {
        assert_eq!(f.hostname, None, "{f:?}");
    }
}

/// The uploader's query to its own resolver (1.0.4.53, not the system's): its flow tells the
/// engine who asked.
fn own_query() -> (Vec<NameFact>, Vec<Packet>) {
    let query = Stream { proto: Proto::Udp, dport: 53, ..Stream::curl().dst("1.0.4.53").sport(5353) };
    (vec![], vec![query.packet(0, 40)])
}

/// Its answer: www.github.com is the uploader's server.
fn own_answer() -> NameFact {
    fact("www.github.com", UNKNOWN_SERVER, NameSource::Dns, (sa(ME, 5353), sa("1.0.4.53", 53)))
}

#[test]
fn a_dns_answer_to_one_programs_own_resolver_names_the_address_for_it_only() {
    for mode in Mode::ALL {
        let out = run(
            config(mode),
            vec![own_query(), (vec![own_answer()], upload(curl(), us(1.0))), (vec![], upload(uploader(), us(3.0)))],
        );
        let curl = out.news_of(1234);
        assert_eq!(curl.len(), 1, "{mode}: {:#?}", out.events);
        assert_eq!(curl[0].alert.hostname, None, "{mode}: curl did not ask");
        if mode == Mode::Paranoid {
            let up = out.news_of(99);
            assert_eq!(up.len(), 1, "{mode}: {:#?}", out.events);
            assert_eq!(up[0].alert.hostname.as_deref(), Some("www.github.com"), "{mode}: the asker's own name");
        }
    }
}

#[test]
fn the_system_resolvers_answer_names_the_address_for_everyone() {
    let query = Stream { proto: Proto::Udp, dport: 53, ..Stream::curl().dst("127.0.0.53").sport(5353) };
    let answer = fact("upload.example", UNKNOWN_SERVER, NameSource::Dns, (sa(ME, 5353), sa("127.0.0.53", 53)));
    let out =
        run(config(Mode::Paranoid), vec![(vec![], vec![query.packet(0, 40)]), (vec![answer], upload(curl(), us(1.0)))]);
    let curl = out.news_of(1234);
    assert_eq!(curl.len(), 1, "{:#?}", out.events);
    assert_eq!(curl[0].alert.hostname.as_deref(), Some("upload.example"));
}

#[test]
fn system_resolver_rule() {
    use leakwatch::naming::{is_system_resolver, system_resolvers_from};
    let conf = "# generated\nnameserver 192.168.1.1\nnameserver fe80::1%eth0\noptions edns0\nsearch lan\n";
    let listed = system_resolvers_from(conf);
    assert_eq!(listed, vec![ip("192.168.1.1"), ip("fe80::1")]);
    assert!(is_system_resolver(sa("127.0.0.53", 53), &[]));
    assert!(is_system_resolver(sa("127.0.0.54", 53), &[]));
    assert!(is_system_resolver(SocketAddr::new(ip("::1"), 53), &[]));
    assert!(!is_system_resolver(sa("127.0.0.1", 5353), &[]), "an unprivileged port on loopback");
    assert!(is_system_resolver(sa("192.168.1.1", 53), &listed));
    assert!(!is_system_resolver(sa("1.0.4.53", 53), &listed));
}
