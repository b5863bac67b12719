//! Short-lived UDP senders (root only; a failure instead of a skip when
//! `LEAKWATCH_REQUIRE_LIVE=1`): `leakwatch run --flows` watches namespace A's veth while 50 fresh
//! python3 processes in A each send 20 datagrams of 1400 bytes with `sendto` from a new,
//! unconnected UDP socket to a sink in namespace B and exit at once. The test measures the share
//! of their payload attributed to the right pid (UDP has no connect to trace: see
//! `docs/detection.md` §2, "Short-lived UDP senders"). No traffic leaves the two namespaces.

mod netns;

use netns::{KillOnDrop, NetPair, Run, python};
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
const WANTED: f64 = 90.0;

/// A UDP sink in B that discards what it receives.
fn udp_sink(pair: &NetPair) -> KillOnDrop {
    let code = format!(
        "import socket\n\
         s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n\
         s.bind(('0.0.0.0',{PORT}))\n\
         while True: s.recvfrom(65536)\n"
    );
    KillOnDrop(pair.in_b(python()).args(["-c", &code]).stdin(Stdio::null()).spawn().unwrap())
}

/// One sender: sends, prints "<pid> <local port>" and exits.
fn start_sender(pair: &NetPair, dst: &str) -> KillOnDrop {
    let code = format!(
        "import socket,os\n\
         s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n\
         for _ in range({DATAGRAMS}): s.sendto(b'x'*{SIZE},('{dst}',{PORT}))\n\
         print(os.getpid(),s.getsockname()[1],flush=True)\n"
    );
    KillOnDrop(pair.in_a(python()).args(["-c", &code]).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().unwrap())
}

fn finish_sender(mut child: KillOnDrop) -> (u32, u16) {
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.0.stdout.take().unwrap(), &mut out).unwrap();
    let end = Instant::now() + WAIT;
    while child.0.try_wait().unwrap().is_none() {
        assert!(Instant::now() < end, "a sender did not finish within {WAIT:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut it = out.split_whitespace().map(|w| w.parse::<u32>().ok());
    match (it.next().flatten(), it.next().flatten()) {
        (Some(pid), Some(port)) => (pid, port as u16),
        _ => panic!("sender output: {out:?}"),
    }
}

/// A measurement, not a guarantee (so not run by default): the share is far below 90 % here
/// (18 and 20 % in two runs on 2026-12-03), for the reasons in `docs/detection.md` §2.
#[test]
#[ignore = "measurement of a known limit (docs/detection.md §2, short-lived UDP senders): cargo test --test live_short_lived_udp -- --ignored --nocapture"]
fn short_lived_udp_senders_are_attributed() {
    let Some(pair) = NetPair::new() else { return };
    let _sink = udp_sink(&pair);
    let run = Run::start(&pair, &["--flows"]);
    let dst = pair.v4_b();
    let started = Instant::now();
    let mut expected: HashMap<u16, u32> = HashMap::new();
    for _ in 0..PROGRAMS / AT_ONCE {
        let batch: Vec<KillOnDrop> = (0..AT_ONCE).map(|_| start_sender(&pair, &dst)).collect();
        for c in batch {
            let (pid, port) = finish_sender(c);
            expected.insert(port, pid);
        }
    }
    println!("{PROGRAMS} senders in {:.2} s", started.elapsed().as_secs_f64());
    std::thread::sleep(Duration::from_millis(500));
    let flows = run.stdout_after_interrupt();
    let remote = format!("{dst}:{PORT}");
    let (mut right, mut seen, mut unknown) = (0u64, 0usize, 0usize);
    for l in &flows {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(l) else { continue };
        if v["remote"] != remote.as_str() {
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
    println!(
        "short-lived UDP attribution: {share:.2} % of {total} bytes to the right pid ({seen} of {PROGRAMS} flows seen, {unknown} unattributed)"
    );
    assert!(share >= WANTED, "only {share:.2} % of the payload attributed to the right pid");
}
