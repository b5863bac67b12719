//! Host names learned on the wire (DNS answers, TLS SNI, HTTP Host), checked on real captures
//! from `$LEAKWATCH_SHARED/testdata/captures` against their known contents and nDPI 4.2's
//! `[Hostname/SNI: …]` ground truth.

mod support;

use leakwatch::naming::extract::Extractor;
use leakwatch::naming::table::NameTable;
use leakwatch::naming::{NameFact, NameScope, NameSource};
use leakwatch::packet::{LinkType, Parsed, Parser};
use leakwatch::time::Ts;
use serde_json::Value;
use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use support::ndpi::{NdpiFlow, parse_ndpi_file};
use support::{dns_udp_capture, leakwatch, ndpi_capture, ndpi_dir};

/// Every name fact of a capture, in packet order, through the product's own parser and
/// extractors (what the file reader puts into each batch).
fn facts(path: &Path) -> Vec<NameFact> {
    let mut cap = pcap::Capture::from_file(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let link = LinkType::from_dlt(cap.get_datalink().0).expect("supported link type");
    let mut parser = Parser::new(link);
    let mut names = Extractor::new();
    let mut out = Vec::new();
    while let Ok(pkt) = cap.next_packet() {
        #[allow(clippy::unnecessary_cast)]
        let ts = Ts::from_timeval(pkt.header.ts.tv_sec as i64, pkt.header.ts.tv_usec as i64);
        if let (Parsed::Packet(p), payload) = parser.parse_with_payload(ts, pkt.header.len, pkt.data) {
            names.extract(&p, payload, &mut out);
        }
    }
    out
}

fn table(facts: &[NameFact]) -> NameTable {
    let mut t = NameTable::default();
    for f in facts {
        t.insert(f.clone(), NameScope::Everyone, Ts(0));
    }
    t
}

/// The name everyone knows `ip` by in `t`.
fn named(t: &NameTable, ip: IpAddr) -> Option<&str> {
    t.lookup(ip, NameScope::Everyone).map(|l| l.0)
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// `(ip, name)` pairs of facts of one source.
fn pairs(facts: &[NameFact], source: NameSource) -> Vec<(IpAddr, String)> {
    facts.iter().filter(|f| f.source == source).map(|f| (f.ip, f.name.clone())).collect()
}

#[test]
fn dns_udp_names_both_addresses() {
    let facts = facts(&dns_udp_capture());
    assert_eq!(
        pairs(&facts, NameSource::Dns),
        vec![(ip("192.139.46.66"), "www.tcpdump.org".into()), (ip("198.199.88.104"), "www.tcpdump.org".into())]
    );
    let t = table(&facts);
    assert_eq!(named(&t, ip("192.139.46.66")), Some("www.tcpdump.org"));
    assert_eq!(named(&t, ip("198.199.88.104")), Some("www.tcpdump.org"));
}

/// Query names of nDPI's DNS flows (its `Hostname/SNI` of a flow to port 53).
fn ndpi_dns_queries(file: &str) -> Vec<String> {
    ndpi_lines(file).into_iter().filter(|l| l.b.port() == 53).filter_map(|l| l.host).collect()
}

#[test]
fn dns_cname_chains_name_addresses_with_the_question() {
    let facts = facts(&ndpi_capture("dns_ambiguous_names.pcap"));
    let dns = pairs(&facts, NameSource::Dns);
    // The capture's replies hold 32 A records, all reached from the question via CNAMEs.
    assert_eq!(dns.len(), 32, "{dns:?}");
    let asked = ndpi_dns_queries("dns_ambiguous_names.pcap");
    for (addr, name) in &dns {
        assert!(asked.contains(name), "{addr} named {name}, which no client asked for ({asked:?})");
    }
    let t = table(&facts);
    // 41-courier.push.apple.com CNAME courier-push-apple.com.akadns.net CNAME … A 17.57.146.x
    for last in 132..=139 {
        assert_eq!(named(&t, ip(&format!("17.57.146.{last}"))), Some("41-courier.push.apple.com"));
    }
    assert_eq!(named(&t, ip("52.113.194.131")), Some("api.teams.skype.com"));
    assert_eq!(named(&t, ip("41.220.158.96")), Some("instagram.faae1-1.fna.fbcdn.net"));
    // Every CNAME target stays unnamed: only the asked name is a name.
    assert!(dns.iter().all(|(_, n)| !n.contains("akadns")));
}

#[test]
fn dns_aaaa_over_ipv6_and_fragments() {
    let facts = facts(&ndpi_capture("dns_fragmented.pcap"));
    let want: Vec<(IpAddr, String)> = [
        // In the first IP fragment of a fragmented IPv6 reply: the answers are still readable.
        ("2001:470:1f0b:1024::2", "pa.weberlab.de"),
        ("194.247.4.10", "fg2.weberlab.de"),
        ("194.247.4.10", "fg2.weberlab.de"),
        ("2001:470:1f0b:16b0::1", "fg2-mgmt.weberlab.de"),
        ("2001:470:1f0b:16b0::1", "fg2-mgmt.weberlab.de"),
        ("2001:470:1f0b:16b0::1", "fg2-mgmt.weberlab.de"),
        ("2001:470:1f0b:16b0::1", "fg2-mgmt.weberlab.de"),
        ("134.91.78.139", "sigok.verteiltesysteme.net"),
        ("85.25.234.253", "formel1.de"),
        ("2606:4700:30::6818:6291", "erfpop.de"),
        ("2606:4700:30::6818:6391", "erfpop.de"),
        ("2001:470:1f0b:16b0::a26:53", "ns2.weberdns.de"),
        ("194.247.5.14", "ns2.weberdns.de"),
    ]
    .iter()
    .map(|(a, n)| (ip(a), n.to_string()))
    .collect();
    assert_eq!(pairs(&facts, NameSource::Dns), want);
}

#[test]
fn dns_over_tcp() {
    // The capture's DNS-over-TCP replies carry DNSKEY records only: they parse, name nothing.
    let path = ndpi_capture("dns_fragmented.pcap");
    let mut cap = pcap::Capture::from_file(&path).unwrap();
    let mut parser = Parser::new(LinkType::Ethernet);
    let mut tcp_replies = 0;
    while let Ok(pkt) = cap.next_packet() {
        if let (Parsed::Packet(p), payload) = parser.parse_with_payload(Ts(0), pkt.header.len, pkt.data)
            && p.proto == leakwatch::packet::Proto::Tcp
            && p.sport == 53
            && !payload.is_empty()
        {
            tcp_replies += 1;
            let mut out = Vec::new();
            leakwatch::naming::dns::extract_tcp(payload, &mut out);
            assert!(out.is_empty(), "{out:?}");
        }
    }
    assert_eq!(tcp_replies, 2);
    // tcpdump's real reply, framed as DNS over TCP, names the same addresses.
    let mut cap = pcap::Capture::from_file(dns_udp_capture()).unwrap();
    let mut parser = Parser::new(LinkType::Ethernet);
    let mut named = Vec::new();
    while let Ok(pkt) = cap.next_packet() {
        if let (Parsed::Packet(p), payload) = parser.parse_with_payload(Ts(0), pkt.header.len, pkt.data)
            && p.sport == 53
        {
            let mut framed = (payload.len() as u16).to_be_bytes().to_vec();
            framed.extend_from_slice(payload);
            leakwatch::naming::dns::extract_tcp(&framed, &mut named);
        }
    }
    let named: Vec<_> = named.into_iter().map(|f| (f.ip, f.name)).collect();
    assert_eq!(
        named,
        vec![(ip("192.139.46.66"), "www.tcpdump.org".into()), (ip("198.199.88.104"), "www.tcpdump.org".into())]
    );
}

#[test]
fn sni_and_host_facts() {
    let git = facts(&ndpi_capture("443-git.pcap"));
    assert_eq!(pairs(&git, NameSource::Sni), vec![(ip("140.82.114.4"), "github.com".into())]);
    let v6 = table(&facts(&ndpi_capture("http_ipv6.pcap")));
    assert_eq!(named(&v6, ip("2a03:b0c0:3:d0::70:1001")), Some("www.ntop.org"));
    assert_eq!(named(&v6, ip("2a02:26f0:ad:197::236")), Some("s-static.ak.facebook.com"));
    let ocsp = facts(&ndpi_capture("ocsp.pcapng"));
    let hosts = pairs(&ocsp, NameSource::HttpHost);
    assert!(hosts.contains(&(ip("142.250.184.99"), "ocsp.pki.goog".into())), "{hosts:?}");
    assert!(hosts.contains(&(ip("93.184.220.29"), "ocsp.digicert.com".into())), "{hosts:?}");
    assert!(hosts.contains(&(ip("92.122.95.235"), "r3.o.lencr.org".into())), "{hosts:?}");
}

/// nDPI's flow lines for a capture.
fn ndpi_lines(file: &str) -> Vec<NdpiFlow> {
    parse_ndpi_file(&ndpi_dir().join("expected").join(format!("{file}.out")))
}

/// `replay --flows --json` of a capture: (local, remote) → hostname.
fn our_hostnames(capture: &Path) -> BTreeMap<(SocketAddr, SocketAddr), Option<String>> {
    let args = [
        OsStr::new("replay"),
        OsStr::new("--no-progress"),
        OsStr::new("--flows"),
        OsStr::new("--json"),
        OsStr::new("--no-user-ignores"),
        capture.as_os_str(),
    ];
    let run = leakwatch(&args, None);
    run.assert_code(0);
    run.json_lines()
        .into_iter()
        .filter(|v| v["proto"] == "tcp")
        .map(|v| {
            let addr = |k: &str| v[k].as_str().unwrap().parse::<SocketAddr>().unwrap();
            (
                (addr("local"), addr("remote")),
                match &v["hostname"] {
                    Value::String(s) => Some(s.clone()),
                    Value::Null => None,
                    other => panic!("hostname is {other}"),
                },
            )
        })
        .collect()
}

/// Agreement of one capture's flow host names with nDPI on TLS/HTTP flows that nDPI named.
#[derive(Debug, Default)]
struct Agreement {
    compared: usize,
    agree: usize,
    /// nDPI's name is an IP literal (`Host: 1.2.3.4`): a literal names nothing, so we skip it.
    ip_literal: usize,
    /// The server address was named differently by several flows (virtual hosting, CDNs):
    /// our table names the *address*, with the name learned last, so flows that sent another
    /// of its names disagree with nDPI's per-flow name. Counted only when nDPI's name was
    /// learned for that address too (so the extractor saw it).
    shared_address: usize,
    disagreements: Vec<String>,
}

fn compare(file: &str) -> Agreement {
    let ours = our_hostnames(&ndpi_capture(file));
    let mut learned: BTreeMap<IpAddr, Vec<String>> = BTreeMap::new();
    for f in facts(&ndpi_capture(file)) {
        let names = learned.entry(f.ip).or_default();
        if !names.contains(&f.name) {
            names.push(f.name);
        }
    }
    let mut agreement = Agreement::default();
    for l in ndpi_lines(file) {
        let Some(want) = &l.host else { continue };
        let label = l.label.as_deref().unwrap_or("");
        if l.proto != "tcp"
            || !(label.contains("TLS") || label.contains("HTTP"))
            || l.b.port() == 53
            || l.a.port() == 53
        {
            continue;
        }
        if want.parse::<IpAddr>().is_ok()
            || want.trim_start_matches('[').split(']').next().unwrap().parse::<IpAddr>().is_ok()
        {
            agreement.ip_literal += 1;
            continue;
        }
        let got = ours.get(&(l.a, l.b)).or_else(|| ours.get(&(l.b, l.a)));
        let Some(got) = got else { panic!("{file}: nDPI flow not in our flows: {}", l.line) };
        agreement.compared += 1;
        // nDPI keeps a Host header's port; ours is the bare name.
        let want_bare =
            want.rsplit_once(':').filter(|(_, p)| p.parse::<u16>().is_ok()).map_or(want.as_str(), |(h, _)| h);
        if got.as_deref() == Some(&want_bare.to_ascii_lowercase()) {
            agreement.agree += 1;
        } else if learned.get(&l.b.ip()).is_some_and(|n| n.len() > 1 && n.contains(&want_bare.to_ascii_lowercase())) {
            agreement.shared_address += 1;
        } else {
            agreement.disagreements.push(format!("{} -> {}: nDPI {want:?}, ours {got:?}", l.a, l.b));
        }
    }
    eprintln!("{file}: {agreement:?}");
    agreement
}

#[test]
fn flow_hostnames_agree_with_ndpi() {
    let mut total = Agreement::default();
    for file in ["443-git.pcap", "http_ipv6.pcap", "ocsp.pcapng", "whatsappfiles.pcap", "teams.pcap", "netflix.pcap"] {
        let a = compare(file);
        total.compared += a.compared;
        total.agree += a.agree;
        total.ip_literal += a.ip_literal;
        total.shared_address += a.shared_address;
        total.disagreements.extend(a.disagreements.into_iter().map(|d| format!("{file}: {d}")));
    }
    eprintln!(
        "flow host names vs nDPI: {}/{} agree, {} on shared addresses, {} IP-literal hosts skipped",
        total.agree, total.compared, total.shared_address, total.ip_literal
    );
    assert!(total.compared > 0);
    // A flow is named by its own SNI / Host first, so addresses shared by several names
    // (ocsp.pcapng's 151.139.128.14, teams.pcap's 52.113.194.132) still name each flow right.
    assert_eq!(total.shared_address, 0, "flows named after another flow to the same address");
    assert_eq!(total.agree, total.compared);
    assert!(total.disagreements.is_empty(), "{:#?}", total.disagreements);
}

#[test]
fn alert_names_the_whatsapp_upload() {
    let capture = ndpi_capture("whatsappfiles.pcap");
    let args = [
        OsStr::new("replay"),
        OsStr::new("--no-progress"),
        OsStr::new("--json"),
        OsStr::new("--no-user-ignores"),
        capture.as_os_str(),
    ];
    let run = leakwatch(&args, None);
    let alerts: Vec<Value> = run.json_lines().into_iter().filter(|v| v["dstip"] == "185.60.216.53").collect();
    assert!(!alerts.is_empty(), "no alert for 185.60.216.53\n{}", run.dump());
    for a in &alerts {
        assert_eq!(a["hostname"], "mmg-fna.whatsapp.net", "{a}");
    }
}
