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

// ---- Part 2: a name the address's owner contradicts, and unverified names ----

use leakwatch::alert::Alert;
use leakwatch::i18n::{Locale, Messages};
use leakwatch::naming::asn::AsnDb;
use leakwatch::naming::owner::NameTrust;
use std::sync::{Arc, LazyLock};

static ASN: LazyLock<Arc<AsnDb>> = LazyLock::new(|| {
    Arc::new(AsnDb::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data")).expect("load data/"))
});

/// GitHub, Inc. (AS36459) in the bundled data.
const GITHUB_SERVER: &str = "140.82.112.3";

fn config_asn(mode: Mode) -> EngineConfig {
    EngineConfig { asn: Some(ASN.clone()), ..config(mode) }
}

/// The uploader says `name` in its own ClientHello to `server`, then uploads 400 KB there.
fn claimed_upload(name: &str, server: &str) -> Vec<(Vec<NameFact>, Vec<Packet>)> {
    let s = uploader().dst(server);
    let hello = fact(name, server, NameSource::Sni, (sa(ME, 40001), sa(server, 443)));
    vec![(vec![hello], vec![s.packet(0, 500)]), (vec![], upload(s, us(1.0)))]
}

fn the_new_alert(out: &Out, pid: u32, mode: Mode) -> Alert {
    let news = out.news_of(pid);
    assert_eq!(news.len(), 1, "{mode}: {:#?}", out.events);
    news[0].alert.clone()
}

#[test]
fn a_tls_name_the_owner_contradicts_alerts_in_every_mode_and_says_so() {
    for name in ["github.com", "rr3---sn-abc.googlevideo.com"] {
        for mode in Mode::ALL {
            let out = run(config_asn(mode), claimed_upload(name, UNKNOWN_SERVER));
            let a = the_new_alert(&out, 99, mode);
            assert_eq!(a.hostname.as_deref(), Some(name));
            assert_eq!(a.orgname.as_deref(), Some("Gtelecom Pty Ltd"));
            assert_eq!(a.name_trust, Some(NameTrust::Contradicted), "{mode}");
            let en = Messages::new(Locale::En).alert_message(&a);
            assert!(en.contains(&format!("claims to be {name}; the address belongs to Gtelecom Pty Ltd")), "{en}");
            let ru = Messages::new(Locale::Ru).alert_message(&a);
            assert!(ru.contains(&format!("называет себя {name}; адрес принадлежит Gtelecom Pty Ltd")), "{ru}");
        }
    }
}

#[test]
fn an_upload_with_tls_name_github_to_a_non_github_address_alerts_in_chill() {
    let out = run(config_asn(Mode::Chill), claimed_upload("github.com", UNKNOWN_SERVER));
    let a = the_new_alert(&out, 99, Mode::Chill);
    // Threat patterns may still use the name for naming the alert.
    assert_eq!(a.pattern.as_deref(), Some("Pattern.GitHub"));
}

#[test]
fn the_same_name_on_githubs_own_address_is_verified_and_chill_still_ignores_it() {
    let out = run(config_asn(Mode::Chill), claimed_upload("github.com", GITHUB_SERVER));
    assert!(out.news_of(99).is_empty(), "{:#?}", out.events);
    let out = run(config_asn(Mode::Paranoid), claimed_upload("github.com", GITHUB_SERVER));
    assert_eq!(the_new_alert(&out, 99, Mode::Paranoid).name_trust, Some(NameTrust::Verified));
}

#[test]
fn its_own_resolvers_answer_www_github_com_alerts_in_every_mode() {
    for mode in Mode::ALL {
        let out = run(config_asn(mode), vec![own_query(), (vec![own_answer()], upload(uploader(), us(1.0)))]);
        let a = the_new_alert(&out, 99, mode);
        assert_eq!(a.hostname.as_deref(), Some("www.github.com"));
        assert_eq!(a.name_trust, Some(NameTrust::Contradicted));
    }
}

#[test]
fn another_programs_tls_name_does_not_silence_the_uploader_in_chill() {
    let hello = fact("slack.com", UNKNOWN_SERVER, NameSource::Sni, (sa(ME, 40000), sa(UNKNOWN_SERVER, 443)));
    let out = run(
        config_asn(Mode::Chill),
        vec![(vec![hello], vec![curl().packet(0, 500)]), (vec![], upload(uploader(), us(1.0)))],
    );
    assert_eq!(the_new_alert(&out, 99, Mode::Chill).hostname, None);
}

/// An alert of the uploader to 1.0.4.1 named `host` with `trust`.
fn named_alert(host: &str, trust: NameTrust) -> Alert {
    Alert {
        id: 1,
        kind: leakwatch::alert::LeakKind::Sudden,
        pattern: None,
        process: Some(Arc::new(process(99, "uploader"))),
        dstip: ip(UNKNOWN_SERVER),
        dstport: 443,
        srcport: 40001,
        proto: Proto::Tcp,
        destinations: 1,
        top: Vec::new(),
        hostname: Some(host.into()),
        orgname: Some("Gtelecom Pty Ltd".into()),
        asn: Some(38803),
        country: Some("AU".into()),
        name_trust: Some(trust),
        bytes: 400_000,
        started: leakwatch::time::Ts(0),
        at: leakwatch::time::Ts(SECOND),
        callback_filter: String::new(),
    }
}

fn rules_with(filter: &str) -> Rules {
    let mut r = Rules::shipped(Mode::Paranoid);
    let v: serde_json::Value = serde_json::from_str(filter).unwrap();
    assert!(r.set_user_ignores([(1, &v)]).is_empty());
    r
}

#[test]
fn an_unverified_name_silences_only_filters_that_also_pin_the_destination() {
    let by_name = rules_with(r#"{"name":"Ignore.Mine","pattern":{"hostname":"^upload\\.example$"}}"#);
    let by_name_and_owner =
        rules_with(r#"{"name":"Ignore.Mine","pattern":{"hostname":"^upload\\.example$","orgname":"^Gtelecom.*"}}"#);
    let by_name_and_program =
        rules_with(r#"{"name":"Ignore.Mine","pattern":{"hostname":"^upload\\.example$","processname":"^uploader$"}}"#);
    let unverified = named_alert("upload.example", NameTrust::Unverified);
    assert_eq!(by_name.judge(&unverified).ignored_by, None, "a host name alone decides nothing");
    assert_eq!(by_name_and_program.judge(&unverified).ignored_by, None, "nor with a process name");
    assert_eq!(by_name_and_owner.judge(&unverified).ignored_by.as_deref(), Some("Ignore.Mine"));
    // The system resolver's name (trusted) is seen by every filter.
    let trusted = named_alert("upload.example", NameTrust::Trusted);
    assert_eq!(by_name.judge(&trusted).ignored_by.as_deref(), Some("Ignore.Mine"));
    // A contradicted name is seen by none, not even one pinning the owner.
    let contradicted = named_alert("upload.example", NameTrust::Contradicted);
    assert_eq!(by_name_and_owner.judge(&contradicted).ignored_by, None);
}

// ---- Part 3: "Always ignore" pins the destination's owner as well as the program ----

#[test]
fn always_ignore_on_a_host_named_alert_pins_the_owner_too() {
    let out = run(config_asn(Mode::Paranoid), claimed_upload("github.com", GITHUB_SERVER));
    let a = the_new_alert(&out, 99, Mode::Paranoid);
    assert_eq!(a.pattern.as_deref(), Some("Pattern.GitHub"));
    let filter: serde_json::Value = serde_json::from_str(&a.callback_filter).unwrap();
    assert_eq!(filter["pattern"]["orgname"], r"^\QGitHub, Inc.\E$", "{}", a.callback_filter);
    assert_eq!(filter["pattern"]["processname"], r"^\Quploader\E$", "{}", a.callback_filter);
    // "Always ignore" it: from then on the same program to GitHub is silent, and to anywhere
    // else that says "github.com" it is not.
    let engine = Engine::start_with(config_asn(Mode::Paranoid), Box::new(table()));
    let h = engine.handle();
    let alerts = h.subscribe_alerts(Delivery::Lossless);
    h.ignore(&a.callback_filter, leakwatch::engine::IgnoreFor::Now).expect("the callback filter is accepted");
    let later = |server: &str, sport: u16, start_s: f64| {
        let s = uploader().dst(server).sport(sport);
        let hello = fact("github.com", server, NameSource::Sni, (sa(ME, sport), sa(server, 443)));
        vec![(vec![hello], vec![s.packet(us(start_s), 500)]), (vec![], upload(s, us(start_s + 1.0)))]
    };
    for (names, packets) in later(GITHUB_SERVER, 40001, 0.0).into_iter().chain(later(UNKNOWN_SERVER, 40001, 120.0)) {
        assert!(h.send_batch(Batch { packets, other: 0, malformed: 0, names }));
    }
    engine.finish();
    let events: Vec<AlertEvent> = alerts.iter().collect();
    let news: Vec<_> = events.iter().filter(|e| e.phase == AlertPhase::New).collect();
    assert_eq!(news.len(), 1, "{events:#?}");
    assert_eq!(news[0].alert.dstip, ip(UNKNOWN_SERVER));
}
