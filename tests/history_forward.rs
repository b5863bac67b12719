//! Forwarding alerts: `leakwatch replay --forward …` against real syslog listeners on
//! 127.0.0.1 (UDP and octet-counted TCP) and a JSON-lines file; every message must be a
//! well-formed RFC 5424 line carrying the alert as JSON.

mod support;

use regex::Regex;
use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, UdpSocket};
use std::time::Duration;

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/ookla.pcap");

/// Checks one RFC 5424 message and returns its JSON payload.
fn check_rfc5424(msg: &str) -> serde_json::Value {
    // PRI VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP SD SP MSG
    let re = Regex::new(
        r#"^<(\d{1,3})>1 (\S+) ([!-~]{1,255}) ([!-~]{1,48}) ([!-~]{1,128}) ([!-~]{1,32}) (\[[!-~&&[^= \]"]]{1,32}(?: [!-~&&[^= \]"]]{1,32}="(?:[^"\\\]]|\\["\\\]])*")*\]|-) (.+)$"#,
    )
    .unwrap();
    let c = re.captures(msg).unwrap_or_else(|| panic!("not RFC 5424: {msg}"));
    let pri: u32 = c[1].parse().unwrap();
    assert!(pri == 12 || pri == 13, "facility user, severity warning/notice: {msg}");
    chrono::DateTime::parse_from_rfc3339(&c[2]).unwrap_or_else(|e| panic!("timestamp {}: {e}", &c[2]));
    assert_eq!(&c[4], "leakwatch");
    assert!(c[5].parse::<u32>().is_ok(), "PROCID is the pid");
    assert!(c[6] == *"alert-new" || c[6] == *"alert-end", "MSGID {}", &c[6]);
    assert!(c[7].starts_with("[leakwatch@32473 id=\""), "{}", &c[7]);
    serde_json::from_str(&c[8]).unwrap_or_else(|e| panic!("MSG is not JSON ({e}): {}", &c[8]))
}

#[test]
fn syslog_udp_tcp_and_jsonl_receive_every_new_and_ended_alert() {
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
    let tcp_port = tcp.local_addr().unwrap().port();
    let tcp_thread = std::thread::spawn(move || {
        let (mut conn, _) = tcp.accept().unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut all = Vec::new();
        let _ = conn.read_to_end(&mut all);
        all
    });
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("alerts.jsonl");
    let args = [
        "replay".to_string(),
        "--no-progress".into(),
        "--json".into(),
        "--forward".into(),
        format!("syslog://127.0.0.1:{}", udp.local_addr().unwrap().port()),
        "--forward".into(),
        format!("syslog+tcp://127.0.0.1:{tcp_port}"),
        "--forward".into(),
        format!("jsonl:{}", jsonl.display()),
        SAMPLE.into(),
    ];
    let run = support::leakwatch(&args, None);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let printed = run.json_lines();
    assert!(!printed.is_empty());
    let expected = printed.len() * 2; // each alert: new, then end

    // UDP: one message per datagram.
    let mut buf = vec![0u8; 65536];
    let mut udp_msgs = Vec::new();
    for _ in 0..expected {
        let n = udp.recv(&mut buf).expect("a syslog datagram");
        udp_msgs.push(check_rfc5424(std::str::from_utf8(&buf[..n]).unwrap()));
    }
    // TCP: octet counting, `LEN SP MSG`, back to back; the connection closes when leakwatch exits.
    let stream = tcp_thread.join().unwrap();
    let mut tcp_msgs = Vec::new();
    let mut rest = &stream[..];
    while !rest.is_empty() {
        let sp = rest.iter().position(|&b| b == b' ').expect("a length, then a space");
        let len: usize = std::str::from_utf8(&rest[..sp]).unwrap().parse().expect("an octet count");
        let msg = &rest[sp + 1..sp + 1 + len];
        tcp_msgs.push(check_rfc5424(std::str::from_utf8(msg).unwrap()));
        rest = &rest[sp + 1 + len..];
    }
    // The file: one JSON object per line.
    let lines: Vec<serde_json::Value> = BufReader::new(std::fs::File::open(&jsonl).unwrap())
        .lines()
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect();
    for got in [&udp_msgs, &tcp_msgs, &lines] {
        assert_eq!(got.len(), expected);
        assert_eq!(got[0]["phase"], "new");
        assert_eq!(got[0]["dstip"], printed[0]["dstip"]);
        assert_eq!(got[0]["message"], printed[0]["message"]);
        assert!(got.iter().any(|m| m["phase"] == "end"));
        assert!(got.iter().all(|m| m["host"].is_string() && m["id"].is_u64()));
    }
}

#[test]
fn bad_forward_targets_are_usage_errors() {
    let run = support::leakwatch(&["replay", "--forward", "http://example.org", SAMPLE], None);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("syslog://HOST:PORT"), "{}", run.stderr);
    let run = support::leakwatch(&["replay", "--forward", "jsonl:/nonexistent-dir/x.jsonl", SAMPLE], None);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("/nonexistent-dir/x.jsonl"), "{}", run.stderr);
}
