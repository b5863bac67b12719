//! Uploads that dodge the per-destination detectors, live (root only; a failure instead of a skip
//! when `LEAKWATCH_REQUIRE_LIVE=1`): `leakwatch run` in its default mode (adequate) watches
//! namespace A's veth while a python3 process in A sends 20 KB to each of 50 addresses of
//! namespace B (a spread upload), or 300 KB in ICMP echo requests to B (from a raw socket, and
//! from an unprivileged ICMP "ping" socket). No traffic leaves the two namespaces; every loop is
//! bounded in count and time.

mod netns;

use netns::{KillOnDrop, NetPair, Run, lines, python, sh, wait_success};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Bound on every wait in this file.
const WAIT: Duration = Duration::from_secs(20);
const DESTINATIONS: u32 = 50;
const EACH: usize = 20_000;
const PORT: u16 = 9000;

/// Runs `code` with python3 in A; returns the child and its pid (the code prints it first).
fn start_python(pair: &NetPair, code: &str) -> (KillOnDrop, u32) {
    let mut child = KillOnDrop(
        pair.in_a(python()).args(["-c", code]).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().unwrap(),
    );
    let out = lines(child.0.stdout.take().unwrap());
    let pid: u32 = out.recv_timeout(WAIT).expect("the sender's pid").trim().parse().unwrap();
    (child, pid)
}

/// Waits (bounded) for the sender to end successfully.
fn finish(mut child: KillOnDrop) {
    wait_success(&mut child, "the sender", WAIT);
}

/// The address of B's `i`-th extra address (10.200.N.10 …).
fn extra_addr(pair: &NetPair, i: u32) -> String {
    format!("10.200.{}.{}", pair.n, 10 + i)
}

#[test]
fn twenty_kb_to_each_of_fifty_addresses_is_one_spread_alert_naming_the_program() {
    let Some(pair) = NetPair::new() else { return };
    for i in 0..DESTINATIONS {
        pair.add_addr_b(&format!("{}/24", extra_addr(&pair, i)));
    }
    let _sink = pair.sink_in_b(PORT);
    let mut run = Run::start_in_mode(&pair, "adequate", &[]);
    let targets: Vec<String> = (0..DESTINATIONS).map(|i| format!("'{}'", extra_addr(&pair, i))).collect();
    // One connection per address, 20 KB each, about 0.1 s apart: 1 MB in about 5 s.
    let code = format!(
        "import socket,os,time\n\
         print(os.getpid(),flush=True)\n\
         for a in [{}]:\n\
         \x20s=socket.create_connection((a,{PORT}),timeout=5)\n\
         \x20s.sendall(b'x'*{EACH})\n\
         \x20s.close()\n\
         \x20time.sleep(0.1)\n",
        targets.join(",")
    );
    let started = Instant::now();
    let (child, pid) = start_python(&pair, &code);
    finish(child);
    println!(
        "sent {} KB to {DESTINATIONS} addresses in {:.2} s",
        EACH as u32 * DESTINATIONS / 1000,
        started.elapsed().as_secs_f64()
    );
    run.read_alerts_for(Duration::from_secs(2));
    let spread: Vec<&serde_json::Value> = run.alerts.iter().filter(|a| a["kind"] == "spread").collect();
    assert_eq!(spread.len(), 1, "exactly one spread alert: {:#?}", run.alerts);
    let a = spread[0];
    assert_eq!(
        (a["process"]["name"].as_str(), a["process"]["pid"].as_u64()),
        (Some("python3"), Some(u64::from(pid))),
        "{a}"
    );
    let n = a["destinations"].as_u64().expect("a destination count");
    assert!((4..=u64::from(DESTINATIONS)).contains(&n), "{a}");
    assert!(a["bytes"].as_u64().unwrap() > 262_144, "{a}");
    assert_eq!(a["top_destinations"].as_array().map(Vec::len), Some(5), "{a}");
    assert_eq!(a["proto"], "tcp", "{a}");
    assert!(a["message"].as_str().unwrap().contains(&format!("to {n} addresses")), "{a}");
    println!("spread alert after {n} destinations, {} bytes: {}", a["bytes"], a["message"]);
    assert!(run.alerts.iter().all(|x| x["kind"] == "spread"), "no per-address alert: {:#?}", run.alerts);
    assert_eq!(run.interrupt(), 0);
}

/// Python that sends `count` echo requests of 1400 bytes to `dst`, 10 ms apart, from a raw socket
/// (`raw`) or an ICMP datagram socket (the kernel fills in the identifier and checksum).
fn pinger(dst: &str, count: u32, raw: bool) -> String {
    let kind = if raw { "socket.SOCK_RAW" } else { "socket.SOCK_DGRAM" };
    format!(
        "import socket,os,struct,time\n\
         print(os.getpid(),flush=True)\n\
         s=socket.socket(socket.AF_INET,{kind},socket.IPPROTO_ICMP)\n\
         def csum(b):\n\
         \x20t=sum(struct.unpack('!%dH'%(len(b)//2),b))\n\
         \x20t=(t>>16)+(t&0xffff)\n\
         \x20t+=t>>16\n\
         \x20return ~t&0xffff\n\
         body=b'x'*1400\n\
         for i in range({count}):\n\
         \x20h=struct.pack('!BBHHH',8,0,0,0x4c57,i)\n\
         \x20h=struct.pack('!BBHHH',8,0,csum(h+body),0x4c57,i)\n\
         \x20s.sendto(h+body,('{dst}',0))\n\
         \x20time.sleep(0.01)\n"
    )
}

fn icmp_upload_alerts(raw: bool) {
    let Some(pair) = NetPair::new() else { return };
    if !raw {
        // Unprivileged ping sockets are off unless the group range allows them (per namespace).
        sh(&["ip", "netns", "exec", &pair.ns_a, "sysctl", "-qw", "net.ipv4.ping_group_range=0 2147483647"]);
    }
    let mut run = Run::start_in_mode(&pair, "adequate", &[]);
    let dst = pair.v4_b();
    // 215 × 1400 B = 301 KB in about 2.5 s.
    let (child, pid) = start_python(&pair, &pinger(&dst, 215, raw));
    let (alert, _) = run.wait_alert(&dst, WAIT);
    finish(child);
    println!("ICMP ({}) alert: {alert}", if raw { "raw socket" } else { "ping socket" });
    assert_eq!(alert["proto"], "icmp", "{alert}");
    assert_eq!(alert["kind"], "sudden", "{alert}");
    assert_eq!(
        (alert["process"]["name"].as_str(), alert["process"]["pid"].as_u64()),
        (Some("python3"), Some(u64::from(pid))),
        "{alert}"
    );
    assert!(alert["message"].as_str().unwrap().contains("over ICMP"), "{alert}");
    assert_eq!(run.interrupt(), 0);
}

#[test]
fn icmp_echo_requests_from_a_raw_socket_alert_naming_the_program_and_the_protocol() {
    icmp_upload_alerts(true);
}

#[test]
fn icmp_echo_requests_from_a_ping_socket_alert_naming_the_program_and_the_protocol() {
    icmp_upload_alerts(false);
}

#[test]
fn flows_show_the_icmp_protocol() {
    let Some(pair) = NetPair::new() else { return };
    let run = Run::start(&pair, &["--flows"]);
    let dst = pair.v4_b();
    let (child, _) = start_python(&pair, &pinger(&dst, 20, true));
    finish(child);
    std::thread::sleep(Duration::from_millis(500));
    let out = run.stdout_after_interrupt();
    let icmp: Vec<serde_json::Value> = out
        .iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["proto"] == "icmp")
        .collect();
    assert_eq!(icmp.len(), 1, "one ICMP echo flow: {out:#?}");
    let f = &icmp[0];
    assert_eq!(f["remote"], format!("{dst}:0"), "{f}");
    assert_eq!((f["packets_out"].as_u64(), f["payload_out"].as_u64()), (Some(20), Some(20 * 1400)), "{f}");
    assert_eq!(f["process"]["name"], "python3", "{f}");
}
