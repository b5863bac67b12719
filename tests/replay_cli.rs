//! `leakwatch replay` end to end: alerts and flows from real captures (nDPI 4.2 and tcpdump test
//! captures), JSON shape, colours, snapshots of the human output, exit codes and messages for
//! bad, truncated and corrupt files. Every run has a deadline and must never panic (see
//! `support::leakwatch`).

mod support;

use serde_json::Value;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use support::{Run, dns_udp_capture, leakwatch, ndpi_capture, ndpi_dir};

const EXIT_OK: i32 = 0;
const EXIT_USAGE: i32 = 2;
const EXIT_BAD_FILE: i32 = 3;

/// `leakwatch replay --no-progress ARGS…` from the current directory.
fn replay<S: AsRef<OsStr>>(args: &[S]) -> Run {
    replay_in(args, None)
}

/// `leakwatch replay --no-progress ARGS…` run in `cwd`.
fn replay_in<S: AsRef<OsStr>>(args: &[S], cwd: Option<&Path>) -> Run {
    let mut all: Vec<&OsStr> = vec![OsStr::new("replay"), OsStr::new("--no-progress")];
    all.extend(args.iter().map(AsRef::as_ref));
    leakwatch(&all, cwd)
}

/// The alert JSON keys, plus `file` added by `replay`.
const ALERT_KEYS: [&str; 22] = [
    "kind",
    "pattern",
    "process",
    "dstip",
    "dstport",
    "srcport",
    "proto",
    "destinations",
    "top_destinations",
    "hostname",
    "orgname",
    "asn",
    "country",
    "name_trust",
    "bytes",
    "duration_s",
    "started",
    "at",
    "message",
    "exciter",
    "callback_filter",
    "file",
];

fn rfc3339(v: &Value, field: &str) -> chrono::DateTime<chrono::FixedOffset> {
    let s = v[field].as_str().unwrap_or_else(|| panic!("`{field}` is not a string: {v}"));
    chrono::DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("`{field}` = {s:?} is not RFC 3339 ({e}): {v}"))
}

/// Checks the shape of one alert JSON object.
fn check_alert_json(v: &Value) {
    let mut keys: Vec<&str> = v.as_object().expect("an object").keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut want = ALERT_KEYS.to_vec();
    want.sort_unstable();
    assert_eq!(keys, want, "alert JSON keys: {v}");
    let kind = v["kind"].as_str().unwrap_or_else(|| panic!("`kind` is not a string: {v}"));
    assert!(["sudden", "active", "passive", "spread"].contains(&kind), "kind {kind:?}: {v}");
    let cf = v["callback_filter"].as_str().unwrap_or_else(|| panic!("`callback_filter` is not a string: {v}"));
    let parsed: Value =
        serde_json::from_str(cf).unwrap_or_else(|e| panic!("`callback_filter` is not JSON text ({e}): {cf}"));
    assert!(parsed.is_object(), "`callback_filter` is not a JSON object: {cf}");
    let started = rfc3339(v, "started");
    let at = rfc3339(v, "at");
    assert!(started <= at, "started {started} after at {at}: {v}");
    assert!(v["bytes"].as_u64().is_some_and(|b| b > 0), "`bytes`: {v}");
    assert!(v["dstport"].as_u64().is_some_and(|p| p <= 65535), "`dstport`: {v}");
    assert!(v["srcport"].as_u64().is_some_and(|p| p <= 65535), "`srcport`: {v}");
    assert!(v["duration_s"].as_f64().is_some_and(|d| d >= 0.0), "`duration_s`: {v}");
    assert!(v["dstip"].as_str().is_some_and(|s| s.parse::<std::net::IpAddr>().is_ok()), "`dstip`: {v}");
    assert!(v["message"].as_str().is_some_and(|s| !s.is_empty()), "`message`: {v}");
    assert!(v["exciter"].as_str().is_some_and(|s| !s.is_empty()), "`exciter`: {v}");
    assert!(v["file"].as_str().is_some_and(|s| !s.is_empty()), "`file`: {v}");
}

fn alerts_to<'a>(alerts: &'a [Value], dstip: &str) -> Vec<&'a Value> {
    alerts.iter().filter(|a| a["dstip"] == dstip).collect()
}

/// Whether `haystack` contains `n` as a whole number (not part of a longer number).
fn has_number(haystack: &str, n: u64) -> bool {
    haystack.split(|c: char| !c.is_ascii_digit()).any(|w| w == n.to_string())
}

// ---------------------------------------------------------------------------------------------
// Alerts from real captures

#[test]
fn ookla_upload_alerts_with_the_full_json_shape() {
    let cap = ndpi_capture("ookla.pcap");
    let run = replay(&[OsStr::new("--json"), cap.as_os_str()]);
    run.assert_code(EXIT_OK);
    let alerts = run.json_lines();
    assert!(!alerts.is_empty(), "no alert\n{}", run.dump());
    alerts.iter().for_each(check_alert_json);
    let to_ookla = alerts_to(&alerts, "46.44.253.187");
    assert!(
        to_ookla.iter().any(|a| a["dstport"] == 8080 && (a["kind"] == "sudden" || a["kind"] == "active")),
        "no sudden/active alert to 46.44.253.187:8080\n{}",
        run.dump()
    );
    for a in &alerts {
        assert_eq!(a["file"].as_str(), Some(cap.to_str().unwrap()), "`file` names the capture as given: {a}");
    }
}

#[test]
fn whatsapp_tls_upload_is_detected() {
    // 178,544 bytes of TLS payload up to 185.60.216.53:443 (README of the captures).
    let cap = ndpi_capture("whatsappfiles.pcap");
    let run = replay(&[OsStr::new("--json"), cap.as_os_str()]);
    run.assert_code(EXIT_OK);
    let alerts = run.json_lines();
    alerts.iter().for_each(check_alert_json);
    let hits = alerts_to(&alerts, "185.60.216.53");
    assert!(!hits.is_empty(), "no alert to 185.60.216.53\n{}", run.dump());
    assert!(hits.iter().any(|a| a["dstport"] == 443), "alert not on port 443\n{}", run.dump());
}

#[test]
fn small_dns_exchange_raises_no_alert() {
    let cap = dns_udp_capture();
    let run = replay(&[OsStr::new("--json"), cap.as_os_str()]);
    run.assert_code(EXIT_OK);
    assert!(run.lines().is_empty(), "a 56-byte DNS query is no leak\n{}", run.dump());
}

// ---------------------------------------------------------------------------------------------
// Flows

#[test]
fn dns_udp_is_one_flow_each_way() {
    let cap = dns_udp_capture();
    let run = replay(&[OsStr::new("--flows"), OsStr::new("--json"), cap.as_os_str()]);
    run.assert_code(EXIT_OK);
    let flows = run.json_lines();
    assert_eq!(flows.len(), 1, "{}", run.dump());
    let f = &flows[0];
    // tcpdump: 192.168.1.11.43966 > 209.87.249.18.53 (frame 98 bytes, DNS 56 bytes), and the
    // 266-byte reply (224 bytes of DNS).
    assert_eq!(f["proto"], "udp", "{f}");
    assert_eq!(f["local"], "192.168.1.11:43966", "{f}");
    assert_eq!(f["remote"], "209.87.249.18:53", "{f}");
    assert_eq!((&f["packets_out"], &f["bytes_out"], &f["payload_out"]), (&1.into(), &98.into(), &56.into()), "{f}");
    assert_eq!((&f["packets_in"], &f["bytes_in"], &f["payload_in"]), (&1.into(), &266.into(), &224.into()), "{f}");
    assert!(rfc3339(f, "first") <= rfc3339(f, "last"), "{f}");
}

/// `--flows` prints one text line per flow, `--flows --json` one object per flow, and they
/// agree; no alert lines are mixed in.
#[test]
fn flows_text_and_json_list_the_same_flows() {
    for name in ["ookla.pcap", "whatsappfiles.pcap", "teams.pcap", "dns_fragmented.pcap", "http_ipv6.pcap"] {
        let cap = ndpi_capture(name);
        let text = replay(&[OsStr::new("--flows"), OsStr::new("--color"), OsStr::new("never"), cap.as_os_str()]);
        text.assert_code(EXIT_OK);
        let json = replay(&[OsStr::new("--flows"), OsStr::new("--json"), cap.as_os_str()]);
        json.assert_code(EXIT_OK);
        let objs = json.json_lines();
        let lines = text.lines();
        assert!(!objs.is_empty(), "{name}: no flows\n{}", json.dump());
        assert_eq!(
            lines.len(),
            objs.len(),
            "{name}: text and JSON flow counts differ\n{}\n{}",
            text.dump(),
            json.dump()
        );
        for l in &lines {
            assert!(
                ["tcp ", "udp ", "icmp ", "icmpv6 ", "igmp "].iter().any(|p| l.starts_with(p)),
                "{name}: not a flow line: {l}"
            );
        }
        for o in &objs {
            assert!(["tcp", "udp", "icmp", "icmpv6", "igmp"].iter().any(|p| o["proto"] == *p), "{name}: {o}");
            let needle = format!(
                "{} {} -> {} ",
                o["proto"].as_str().unwrap(),
                o["local"].as_str().unwrap(),
                o["remote"].as_str().unwrap()
            );
            let matching: Vec<_> = lines.iter().filter(|l| l.starts_with(&needle)).collect();
            assert_eq!(matching.len(), 1, "{name}: text lines for `{needle}`: {matching:?}");
            let l = matching[0];
            assert!(
                l.contains(&format!("out {} pkts {} B", o["packets_out"], o["bytes_out"]))
                    && l.contains(&format!("in {} pkts {} B", o["packets_in"], o["bytes_in"])),
                "{name}: text and JSON disagree:\n  {l}\n  {o}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Human output: colours and snapshots

#[test]
fn color_always_uses_ansi_escapes_and_never_does_not() {
    let cap = ndpi_capture("whatsappfiles.pcap");
    let always = replay(&[OsStr::new("--color"), OsStr::new("always"), cap.as_os_str()]);
    always.assert_code(EXIT_OK);
    assert!(always.stdout.contains("\x1b["), "no ANSI escape with --color always\n{}", always.dump());
    let never = replay(&[OsStr::new("--color"), OsStr::new("never"), cap.as_os_str()]);
    never.assert_code(EXIT_OK);
    assert!(!never.stdout.is_empty(), "{}", never.dump());
    assert!(!never.stdout.contains('\x1b'), "ANSI escape with --color never\n{}", never.dump());
    // Piped stdout is not a terminal: auto means no colour.
    let auto = replay(&[cap.as_os_str()]);
    auto.assert_code(EXIT_OK);
    assert!(!auto.stdout.contains('\x1b'), "ANSI escape with --color auto on a pipe\n{}", auto.dump());
    // Same text apart from the escapes.
    let stripped = strip_ansi(&always.stdout);
    assert_eq!(stripped, never.stdout, "--color always minus escapes differs from --color never");
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // CSI: ESC [ params… final byte in @..~
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Runs from the captures' folder with relative names, so `file` and `== name ==` headers hold
/// no machine-specific path.
fn replay_rel(args: &[&str]) -> Run {
    replay_in(args, Some(&ndpi_dir()))
}

#[test]
fn snapshot_ookla_text() {
    let run = replay_rel(&["--color", "never", "ookla.pcap"]);
    run.assert_code(EXIT_OK);
    insta::assert_snapshot!("ookla_text", run.stdout);
}

#[test]
fn snapshot_whatsappfiles_text() {
    let run = replay_rel(&["--color", "never", "whatsappfiles.pcap"]);
    run.assert_code(EXIT_OK);
    insta::assert_snapshot!("whatsappfiles_text", run.stdout);
}

#[test]
fn snapshot_two_files_text() {
    let run = replay_rel(&["--color", "never", "ookla.pcap", "whatsappfiles.pcap"]);
    run.assert_code(EXIT_OK);
    insta::assert_snapshot!("ookla_and_whatsappfiles_text", run.stdout);
}

#[test]
fn snapshot_json() {
    let run = replay_rel(&["--json", "ookla.pcap", "whatsappfiles.pcap"]);
    run.assert_code(EXIT_OK);
    run.json_lines().iter().for_each(check_alert_json);
    insta::assert_snapshot!("ookla_and_whatsappfiles_json", run.stdout);
}

#[test]
fn snapshot_whatsappfiles_flows_text() {
    let run = replay_rel(&["--flows", "--color", "never", "whatsappfiles.pcap"]);
    run.assert_code(EXIT_OK);
    insta::assert_snapshot!("whatsappfiles_flows_text", run.stdout);
}

// ---------------------------------------------------------------------------------------------
// Exit codes and messages

fn assert_bad_file(run: &Run, path: &Path, words: &[&str]) {
    run.assert_code(EXIT_BAD_FILE);
    let shown = path.display().to_string();
    assert!(run.stderr.contains(&shown), "stderr does not name {shown}\n{}", run.dump());
    let lower = run.stderr.to_lowercase();
    for w in words {
        assert!(lower.contains(w), "stderr does not say {w:?}\n{}", run.dump());
    }
}

#[test]
fn empty_file_is_exit_3_and_says_empty() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("empty.pcap");
    std::fs::write(&p, b"").unwrap();
    let run = replay(&[&p]);
    assert_bad_file(&run, &p, &["empty"]);
    assert!(run.stdout.trim().is_empty(), "{}", run.dump());
}

#[test]
fn text_and_random_files_are_not_captures() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "these are not packets\nat all\n").unwrap();
    // Deterministic "random" bytes (xorshift), avoiding the pcap/pcapng magic numbers.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let bytes: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    assert!(
        ![[0xd4, 0xc3, 0xb2, 0xa1], [0xa1, 0xb2, 0xc3, 0xd4], [0x0a, 0x0d, 0x0d, 0x0a]]
            .contains(&[bytes[0], bytes[1], bytes[2], bytes[3]])
    );
    let random = dir.path().join("random.pcap");
    std::fs::write(&random, &bytes).unwrap();
    for p in [&text, &random] {
        let run = replay(&[p]);
        assert_bad_file(&run, p, &["not a capture"]);
    }
}

#[test]
fn missing_path_and_directory_are_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-capture.pcap");
    let run = replay(&[&missing]);
    assert_bad_file(&run, &missing, &[]);
    let run = replay(&[dir.path()]);
    assert_bad_file(&run, dir.path(), &[]);
}

#[test]
fn usage_errors_are_exit_2() {
    let cap = ndpi_capture("whatsappfiles.pcap");
    let cap = cap.to_str().unwrap();
    let cases: [&[&str]; 6] = [
        &[],
        &["replay"],
        &["replay", "--no-progress"],
        &["replay", "--no-progress", "--no-such-flag", cap],
        &["replay", "--no-progress", "-b", "abc", cap],
        &["replay", "--no-progress", "--color", "sometimes", cap],
    ];
    for args in cases {
        let run = leakwatch(args, None);
        run.assert_code(EXIT_USAGE);
        assert!(run.stdout.trim().is_empty() || args.is_empty(), "usage error printed results\n{}", run.dump());
        assert!(!run.stderr.trim().is_empty(), "usage error without a message\n{}", run.dump());
    }
}

#[test]
fn global_header_without_packets_is_exit_3_no_packets() {
    let dir = tempfile::tempdir().unwrap();
    let src = std::fs::read(ndpi_capture("whatsappfiles.pcap")).unwrap();
    let p = dir.path().join("header-only.pcap");
    std::fs::write(&p, &src[..24]).unwrap();
    let run = replay(&[&p]);
    assert_bad_file(&run, &p, &["no packets"]);
}

// ---------------------------------------------------------------------------------------------
// Damaged files

/// One record of a classic pcap file.
#[derive(Clone, Copy, Debug)]
struct Record {
    /// Offset of its 16-byte record header.
    offset: usize,
    caplen: usize,
    ts_sec: u32,
}

/// Walks a classic little-endian microsecond pcap: 24-byte global header, then 16-byte record
/// headers (ts_sec, ts_usec, caplen, len) each followed by `caplen` bytes. Only complete records
/// are returned.
fn classic_records(bytes: &[u8]) -> Vec<Record> {
    assert_eq!(bytes[..4], [0xd4, 0xc3, 0xb2, 0xa1], "not a little-endian microsecond classic pcap");
    let le32 = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= bytes.len() {
        let caplen = le32(at + 8) as usize;
        if at + 16 + caplen > bytes.len() {
            break;
        }
        out.push(Record { offset: at, caplen, ts_sec: le32(at) });
        at += 16 + caplen;
    }
    out
}

/// A copy of whatsappfiles.pcap cut in the middle of a record's data at about 60 % of the file,
/// and the number of complete packets before the cut.
fn truncated_whatsapp(dir: &Path) -> (PathBuf, u64, u32) {
    let src = std::fs::read(ndpi_capture("whatsappfiles.pcap")).unwrap();
    let records = classic_records(&src);
    assert_eq!(records.len(), 620, "whatsappfiles.pcap has 620 packets");
    let target = src.len() * 6 / 10;
    // The record holding the 60 % mark; cut half-way through its data.
    let idx = records.iter().rposition(|r| r.offset <= target).unwrap();
    let r = records[idx];
    assert!(r.caplen >= 2, "need a record with data to cut into");
    let cut = r.offset + 16 + r.caplen / 2;
    let p = dir.join("whatsappfiles-truncated.pcap");
    std::fs::write(&p, &src[..cut]).unwrap();
    // Independently: the complete records left in the cut file.
    let complete = classic_records(&src[..cut]);
    assert_eq!(complete.len(), idx);
    let last_ts = complete.last().unwrap().ts_sec;
    (p, idx as u64, last_ts)
}

/// The warning line for a damaged file: names the file and the packet number.
fn assert_damage_warning(run: &Run, path: &Path, packet: u64) {
    run.assert_code(EXIT_BAD_FILE);
    let shown = path.display().to_string();
    let line = run
        .stderr
        .lines()
        .find(|l| l.contains(&shown) && l.to_lowercase().contains("warning"))
        .unwrap_or_else(|| panic!("no warning naming {shown}\n{}", run.dump()));
    assert!(has_number(line, packet), "the warning does not give the packet number {packet}: {line}\n{}", run.dump());
}

#[test]
fn truncated_capture_reports_and_keeps_earlier_results() {
    let dir = tempfile::tempdir().unwrap();
    let (p, complete, last_ts) = truncated_whatsapp(dir.path());
    assert!(complete > 0);

    let flows = replay(&[OsStr::new("--flows"), OsStr::new("--json"), p.as_os_str()]);
    assert_damage_warning(&flows, &p, complete);
    let objs = flows.json_lines();
    assert!(!objs.is_empty(), "no flow printed before the damage\n{}", flows.dump());
    let counted: u64 =
        objs.iter().map(|o| o["packets_out"].as_u64().unwrap() + o["packets_in"].as_u64().unwrap()).sum();
    assert_eq!(counted, complete, "every complete packet before the cut is in a flow (all 620 are TCP)");

    let alerts = replay(&[OsStr::new("--json"), p.as_os_str()]);
    assert_damage_warning(&alerts, &p, complete);
    // The full file's alert to 185.60.216.53 is at 17:08:29.411 (epoch 1519924109); the cut
    // comes later, so that alert must still be printed.
    assert!(last_ts > 1_519_924_110, "the cut is before the alert: test setup");
    let a = alerts.json_lines();
    a.iter().for_each(check_alert_json);
    assert!(!alerts_to(&a, "185.60.216.53").is_empty(), "alert before the damage lost\n{}", alerts.dump());

    let text = replay(&[OsStr::new("--color"), OsStr::new("never"), p.as_os_str()]);
    assert_damage_warning(&text, &p, complete);
    assert!(text.stdout.contains("185.60.216.53"), "{}", text.dump());
}

#[test]
fn capture_cut_inside_a_record_header_reports_the_packet_number() {
    let dir = tempfile::tempdir().unwrap();
    let src = std::fs::read(ndpi_capture("whatsappfiles.pcap")).unwrap();
    let records = classic_records(&src);
    let idx = records.len() * 2 / 3;
    // 7 of the record header's 16 bytes survive.
    let cut = records[idx].offset + 7;
    let p = dir.path().join("whatsappfiles-cut-in-header.pcap");
    std::fs::write(&p, &src[..cut]).unwrap();
    assert_eq!(classic_records(&src[..cut]).len(), idx);
    let run = replay(&[OsStr::new("--flows"), OsStr::new("--json"), p.as_os_str()]);
    assert_damage_warning(&run, &p, idx as u64);
    let counted: u64 =
        run.json_lines().iter().map(|o| o["packets_out"].as_u64().unwrap() + o["packets_in"].as_u64().unwrap()).sum();
    assert_eq!(counted, idx as u64, "{}", run.dump());
}

/// Counts the complete packet blocks (EPB 6, SPB 3, obsolete PB 2) of a little-endian pcapng
/// file: blocks are (type u32, total length u32, body, total length u32).
fn pcapng_complete_packets(bytes: &[u8]) -> u64 {
    assert_eq!(bytes[..4], [0x0a, 0x0d, 0x0d, 0x0a], "not pcapng");
    assert_eq!(bytes[8..12], [0x4d, 0x3c, 0x2b, 0x1a], "not a little-endian pcapng section");
    let le32 = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    let (mut at, mut packets) = (0usize, 0u64);
    while at + 12 <= bytes.len() {
        let (kind, len) = (le32(at), le32(at + 4) as usize);
        assert!(len >= 12 && len % 4 == 0, "bad block length {len} at {at}");
        if at + len > bytes.len() {
            break;
        }
        if matches!(kind, 2 | 3 | 6) {
            packets += 1;
        }
        at += len;
    }
    packets
}

#[test]
fn truncated_pcapng_reports_and_keeps_earlier_results() {
    // ookla.pcap is pcapng despite its name.
    let dir = tempfile::tempdir().unwrap();
    let src = std::fs::read(ndpi_capture("ookla.pcap")).unwrap();
    assert_eq!(pcapng_complete_packets(&src), 5086, "ookla.pcap has 5086 packets");
    let cut = src.len() * 6 / 10;
    let complete = pcapng_complete_packets(&src[..cut]);
    let p = dir.path().join("ookla-truncated.pcapng");
    std::fs::write(&p, &src[..cut]).unwrap();
    let run = replay(&[OsStr::new("--flows"), OsStr::new("--json"), p.as_os_str()]);
    assert_damage_warning(&run, &p, complete);
    let counted: u64 =
        run.json_lines().iter().map(|o| o["packets_out"].as_u64().unwrap() + o["packets_in"].as_u64().unwrap()).sum();
    assert_eq!(counted, complete, "every complete packet before the cut is in a flow (all are TCP)\n{}", run.dump());
}

#[test]
fn corrupt_record_length_reports_and_keeps_earlier_results() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = std::fs::read(ndpi_capture("whatsappfiles.pcap")).unwrap();
    let records = classic_records(&bytes);
    let idx = records.len() / 2;
    let at = records[idx].offset + 8;
    bytes[at..at + 4].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    let p = dir.path().join("whatsappfiles-corrupt.pcap");
    std::fs::write(&p, &bytes).unwrap();
    // Independently: the walk now stops at the corrupt record (its caplen runs past the end).
    assert_eq!(classic_records(&bytes).len(), idx);

    let flows = replay(&[OsStr::new("--flows"), OsStr::new("--json"), p.as_os_str()]);
    assert_damage_warning(&flows, &p, idx as u64);
    let objs = flows.json_lines();
    assert!(!objs.is_empty(), "no flow printed before the damage\n{}", flows.dump());
    let counted: u64 =
        objs.iter().map(|o| o["packets_out"].as_u64().unwrap() + o["packets_in"].as_u64().unwrap()).sum();
    assert_eq!(counted, idx as u64, "the packets before the corrupt record are all counted");

    let alerts = replay(&[OsStr::new("--json"), p.as_os_str()]);
    assert_damage_warning(&alerts, &p, idx as u64);
    assert!(records[idx - 1].ts_sec > 1_519_924_110, "the corruption is after the alert: test setup");
    assert!(!alerts_to(&alerts.json_lines(), "185.60.216.53").is_empty(), "{}", alerts.dump());
}

// ---------------------------------------------------------------------------------------------
// Several files

#[test]
fn several_files_are_all_analysed() {
    let ookla = ndpi_capture("ookla.pcap");
    let whatsapp = ndpi_capture("whatsappfiles.pcap");
    let run = replay(&[OsStr::new("--json"), ookla.as_os_str(), whatsapp.as_os_str()]);
    run.assert_code(EXIT_OK);
    let alerts = run.json_lines();
    alerts.iter().for_each(check_alert_json);
    let a = alerts_to(&alerts, "46.44.253.187");
    let b = alerts_to(&alerts, "185.60.216.53");
    assert!(!a.is_empty() && !b.is_empty(), "{}", run.dump());
    assert!(a.iter().all(|x| x["file"] == ookla.to_str().unwrap()), "{}", run.dump());
    assert!(b.iter().all(|x| x["file"] == whatsapp.to_str().unwrap()), "{}", run.dump());

    let run = replay(&[OsStr::new("--color"), OsStr::new("never"), ookla.as_os_str(), whatsapp.as_os_str()]);
    run.assert_code(EXIT_OK);
    for (p, ip) in [(&ookla, "46.44.253.187"), (&whatsapp, "185.60.216.53")] {
        assert!(run.stdout.contains(&p.display().to_string()), "no heading for {}\n{}", p.display(), run.dump());
        assert!(run.stdout.contains(ip), "no alert for {ip}\n{}", run.dump());
    }

    let run = replay(&[OsStr::new("--flows"), OsStr::new("--json"), ookla.as_os_str(), whatsapp.as_os_str()]);
    run.assert_code(EXIT_OK);
    let flows = run.json_lines();
    assert_eq!(flows.iter().filter(|f| f["file"] == ookla.to_str().unwrap()).count(), 2, "{}", run.dump());
    assert_eq!(flows.iter().filter(|f| f["file"] == whatsapp.to_str().unwrap()).count(), 2, "{}", run.dump());
}

#[test]
fn a_bad_file_does_not_stop_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let whatsapp = ndpi_capture("whatsappfiles.pcap");
    let empty = dir.path().join("empty.pcap");
    std::fs::write(&empty, b"").unwrap();
    let missing = dir.path().join("missing.pcap");
    let (truncated, complete, _) = truncated_whatsapp(dir.path());

    // Bad file first, then last: the good one is analysed either way.
    for args in [[empty.as_os_str(), whatsapp.as_os_str()], [whatsapp.as_os_str(), missing.as_os_str()]] {
        let mut all = vec![OsStr::new("--json")];
        all.extend(args);
        let run = replay(&all);
        run.assert_code(EXIT_BAD_FILE);
        let alerts = run.json_lines();
        alerts.iter().for_each(check_alert_json);
        assert!(!alerts_to(&alerts, "185.60.216.53").is_empty(), "good file not analysed\n{}", run.dump());
        let bad = if args[0] == empty.as_os_str() { &empty } else { &missing };
        assert!(run.stderr.contains(&bad.display().to_string()), "{}", run.dump());
    }

    // A damaged file between two good ones (text mode).
    let ookla = ndpi_capture("ookla.pcap");
    let run = replay(&[
        OsStr::new("--color"),
        OsStr::new("never"),
        ookla.as_os_str(),
        truncated.as_os_str(),
        whatsapp.as_os_str(),
    ]);
    assert_damage_warning(&run, &truncated, complete);
    assert!(run.stdout.contains("46.44.253.187"), "{}", run.dump());
    assert!(run.stdout.matches("185.60.216.53").count() >= 2, "both whatsapp copies alert\n{}", run.dump());
}

/// teams.pcap holds one ICMP flow (two destination-unreachable messages 93.71.110.205 →
/// 192.168.1.6, 140 bytes, as nDPI lists it): `--flows` shows it with its protocol, in text and
/// JSON, and the status line counts it as a packet, not as "other".
#[test]
fn the_icmp_flow_of_teams_is_listed_with_its_protocol() {
    let cap = ndpi_capture("teams.pcap");
    let json = replay(&[OsStr::new("--flows"), OsStr::new("--json"), cap.as_os_str()]);
    json.assert_code(EXIT_OK);
    let icmp: Vec<Value> = json.json_lines().into_iter().filter(|f| f["proto"] == "icmp").collect();
    assert_eq!(icmp.len(), 1, "{}", json.dump());
    let f = &icmp[0];
    assert_eq!((f["local"].as_str(), f["remote"].as_str()), (Some("192.168.1.6:0"), Some("93.71.110.205:0")), "{f}");
    assert_eq!(
        (f["packets_in"].as_u64(), f["bytes_in"].as_u64(), f["packets_out"].as_u64()),
        (Some(2), Some(140), Some(0)),
        "{f}"
    );
    let text = replay(&[OsStr::new("--flows"), OsStr::new("--color"), OsStr::new("never"), cap.as_os_str()]);
    assert!(text.lines().iter().any(|l| l.starts_with("icmp 192.168.1.6:0 -> 93.71.110.205:0 ")), "{}", text.dump());
}
