//! Short-lived UDP senders are attributed (root only; a failure instead of a skip when
//! `LEAKWATCH_REQUIRE_LIVE=1`): `leakwatch run --flows` watches namespace A's veth while 50 fresh
//! python3 processes in A each send 20 datagrams of 1400 bytes from a new UDP socket (unconnected,
//! with `sendto`, or connected first) to a sink in namespace B and exit at once, over IPv4 and
//! IPv6. At least 99 % of their payload must be attributed to the right pid: the kernel's route
//! look-up tracepoints name the sending process (`src/process/connect_trace/route.rs`). No traffic
//! leaves the two namespaces.

mod netns;

use netns::{KillOnDrop, NetPair, Run, python, wait_success};
use std::collections::HashMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Bound on every wait in this file.
const WAIT: Duration = Duration::from_secs(20);
const PROGRAMS: usize = 50;
const AT_ONCE: usize = 5;
const DATAGRAMS: u64 = 20;
const SIZE: u64 = 1400;
const PORT: u16 = 9100;
/// The share of the bytes that must reach the right pid (%).
const WANTED: f64 = 99.0;

/// A UDP sink in B (IPv4 and IPv6) that discards what it receives.
fn udp_sink(pair: &NetPair) -> KillOnDrop {
    let code = format!(
        "import socket\n\
         s=socket.socket(socket.AF_INET6,socket.SOCK_DGRAM)\n\
         s.setsockopt(socket.IPPROTO_IPV6,socket.IPV6_V6ONLY,0)\n\
         s.bind(('::',{PORT}))\n\
         while True: s.recvfrom(65536)\n"
    );
    KillOnDrop(pair.in_b(python()).args(["-c", &code]).stdin(Stdio::null()).spawn().unwrap())
}

/// One sender: sends, prints "<pid> <local port>" and exits.
fn start_sender(pair: &NetPair, dst: &str, connected: bool) -> KillOnDrop {
    let family = if dst.contains(':') { "AF_INET6" } else { "AF_INET" };
    let send = if connected {
        format!("s.connect(('{dst}',{PORT}))\nfor _ in range({DATAGRAMS}): s.send(b'x'*{SIZE})\n")
    } else {
        format!("for _ in range({DATAGRAMS}): s.sendto(b'x'*{SIZE},('{dst}',{PORT}))\n")
    };
    let code = format!(
        "import socket,os\n\
         s=socket.socket(socket.{family},socket.SOCK_DGRAM)\n\
         {send}\
         print(os.getpid(),s.getsockname()[1],flush=True)\n"
    );
    KillOnDrop(pair.in_a(python()).args(["-c", &code]).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().unwrap())
}

fn finish_sender(mut child: KillOnDrop) -> (u32, u16) {
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.0.stdout.take().unwrap(), &mut out).unwrap();
    wait_success(&mut child, "a sender", WAIT);
    let mut it = out.split_whitespace().map(|w| w.parse::<u32>().ok());
    match (it.next().flatten(), it.next().flatten()) {
        (Some(pid), Some(port)) => (pid, port as u16),
        _ => panic!("sender output: {out:?}"),
    }
}

#[test]
fn short_lived_udp_senders_are_attributed_over_ipv4() {
    let Some(pair) = NetPair::new() else { return };
    let dst = pair.v4_b();
    attributed(&pair, &dst, &format!("{dst}:{PORT}"), false);
    attributed(&pair, &dst, &format!("{dst}:{PORT}"), true);
}

#[test]
fn short_lived_udp_senders_are_attributed_over_ipv6() {
    let Some(pair) = NetPair::new() else { return };
    let dst = pair.v6_b();
    attributed(&pair, &dst, &format!("[{dst}]:{PORT}"), false);
    attributed(&pair, &dst, &format!("[{dst}]:{PORT}"), true);
}

/// Waits (bounded) until A knows B's link-layer address for `dst`: datagrams sent while neighbour
/// discovery is under way are queued only up to a limit and the rest dropped before they reach the
/// wire (TCP sends them again; UDP does not), so the senders start after it.
fn resolve_neighbour(pair: &NetPair, dst: &str) {
    let end = Instant::now() + WAIT;
    loop {
        let ping = format!(
            "import socket\ns=socket.socket(socket.AF_INET6 if ':' in '{dst}' else socket.AF_INET,socket.SOCK_DGRAM)\ns.sendto(b'.',('{dst}',{PORT}))\n"
        );
        let mut c = KillOnDrop(pair.in_a(python()).args(["-c", &ping]).spawn().unwrap());
        wait_success(&mut c, "the neighbour probe", WAIT);
        std::thread::sleep(Duration::from_millis(100));
        let out = netns::sh(&["ip", "-n", &pair.ns_a, "neigh", "show", dst]);
        let text = String::from_utf8_lossy(&out.stdout);
        if text.contains("lladdr") {
            return;
        }
        assert!(Instant::now() < end, "A never learnt B's link-layer address for {dst}: {text:?}");
    }
}

/// Runs the senders (unconnected or connected sockets) and checks the share attributed.
fn attributed(pair: &NetPair, dst: &str, remote: &str, connected: bool) {
    let _sink = udp_sink(pair);
    resolve_neighbour(pair, dst);
    let run = Run::start(pair, &["--flows"]);
    let started = Instant::now();
    let mut expected: HashMap<u16, u32> = HashMap::new();
    for _ in 0..PROGRAMS / AT_ONCE {
        let batch: Vec<KillOnDrop> = (0..AT_ONCE).map(|_| start_sender(pair, dst, connected)).collect();
        for c in batch {
            let (pid, port) = finish_sender(c);
            expected.insert(port, pid);
        }
    }
    println!("{PROGRAMS} senders in {:.2} s", started.elapsed().as_secs_f64());
    std::thread::sleep(Duration::from_millis(500));
    let flows = run.stdout_after_interrupt();
    let (mut right, mut seen, mut unknown) = (0u64, 0usize, 0usize);
    for l in &flows {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(l) else { continue };
        if v["remote"] != remote {
            continue;
        }
        let Some(port) = v["local"].as_str().and_then(|l| l.rsplit_once(':')).and_then(|(_, p)| p.parse().ok()) else {
            continue;
        };
        let Some(&pid) = expected.get(&port) else { continue };
        seen += 1;
        if v["process"]["pid"].as_u64() == Some(u64::from(pid)) {
            right += v["payload_out"].as_u64().unwrap_or(0).min(DATAGRAMS * SIZE);
        } else if v["process"].is_null() {
            unknown += 1;
        }
    }
    let total = PROGRAMS as u64 * DATAGRAMS * SIZE;
    let share = right as f64 / total as f64 * 100.0;
    let how = if connected { "connected" } else { "sendto" };
    println!(
        "short-lived UDP attribution ({remote}, {how}): {share:.2} % of {total} bytes to the right pid ({seen} of {PROGRAMS} flows seen, {unknown} unattributed)"
    );
    assert_eq!(seen, PROGRAMS, "{how}: every sender's flow is on the wire");
    assert!(share >= WANTED, "{how}: only {share:.2} % of the payload attributed to the right pid");
}
