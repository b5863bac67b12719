//! Properties of the engine over random packet streams: it never panics, it never loses bytes
//! in the flow report, and the alert events it publishes are consistent (doc §4).

mod common;

use common::synth::{Stream, T0_US, process, run, run_with, us};
use leakwatch::alert::AlertPhase;
use leakwatch::engine::Summary;
use leakwatch::flows::FlowRecord;
use leakwatch::packet::{Packet, Proto};
use leakwatch::process::FakeSocketTable;
use leakwatch::settings::{EngineConfig, Thresholds};
use leakwatch::time::{SECOND, Ts};
use proptest::prelude::*;
use proptest::test_runner::Config;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

/// Small address pools, so that flows and threats repeat: private, public, multicast and
/// broadcast addresses of both families.
const V4: [&str; 7] =
    ["192.168.1.10", "10.0.0.5", "93.184.216.34", "8.8.8.8", "100.64.0.1", "224.0.0.251", "255.255.255.255"];
const V6: [&str; 5] = ["fd00::10", "2001:db8::1", "fe80::1", "2a00:1450::1", "ff02::1"];
const PORTS: [u16; 8] = [40000, 40001, 443, 53, 80, 50000, 0, 65535];

/// One random packet, before its timestamp is fixed.
#[derive(Clone, Debug)]
struct Spec {
    v6: bool,
    src: usize,
    dst: usize,
    sport: usize,
    dport: usize,
    udp: bool,
    payload: u32,
    /// Frame bytes beyond the payload (headers).
    extra: u32,
    flags: u8,
    /// Time since the previous packet, µs (negative: the clock jumps back).
    gap_us: i64,
}

fn spec(backwards: bool) -> impl Strategy<Value = Spec> {
    let gap = if backwards {
        prop_oneof![
            8 => 0..200_000i64,
            3 => 0..2_500_000i64,
            1 => 0..30 * SECOND,
            1 => -120 * SECOND..0,
        ]
        .boxed()
    } else {
        prop_oneof![8 => 0..200_000i64, 3 => 0..2_500_000i64, 1 => 0..30 * SECOND].boxed()
    };
    let payload = prop_oneof![2 => Just(0u32), 6 => 0..3000u32, 2 => 0..65536u32];
    let extra = prop_oneof![Just(0u32), 0..100u32, 0..70_000u32];
    (
        (any::<bool>(), 0..V4.len(), 0..V4.len(), 0..PORTS.len(), 0..PORTS.len(), any::<bool>()),
        (payload, extra, any::<u8>(), gap),
    )
        .prop_map(|((v6, src, dst, sport, dport, udp), (payload, extra, flags, gap_us))| Spec {
            v6,
            src,
            dst,
            sport,
            dport,
            udp,
            payload,
            extra,
            flags,
            gap_us,
        })
}

fn packets(specs: &[Spec]) -> Vec<Packet> {
    let mut t = T0_US;
    specs
        .iter()
        .map(|s| {
            t += s.gap_us;
            let addr = |i: usize| -> IpAddr {
                if s.v6 { V6[i % V6.len()].parse().unwrap() } else { V4[i % V4.len()].parse().unwrap() }
            };
            let udp = s.udp;
            Packet {
                ts: Ts(t),
                proto: if udp { Proto::Udp } else { Proto::Tcp },
                src: addr(s.src),
                dst: addr(s.dst),
                sport: PORTS[s.sport],
                dport: PORTS[s.dport],
                frame_len: s.payload + s.extra,
                payload_len: s.payload,
                tcp_flags: if udp { 0 } else { s.flags },
                seq: 0,
            }
        })
        .collect()
}

fn stream(backwards: bool) -> impl Strategy<Value = Vec<Packet>> {
    prop::collection::vec(spec(backwards), 0..3000).prop_map(|s| packets(&s))
}

fn threshold() -> impl Strategy<Value = u64> {
    prop_oneof![
        1 => Just(0u64),
        1 => Just(u64::MAX),
        1 => any::<u64>(),
        3 => Just(Thresholds::default().min_leak_size),
        3 => Just(Thresholds::default().max_traffic_during_10_sec),
        4 => 0..200_000u64,
    ]
}

fn config() -> impl Strategy<Value = EngineConfig> {
    (
        threshold(),
        threshold(),
        prop::sample::select(vec![0, 10 * SECOND, 60 * SECOND, 600 * SECOND]),
        prop::sample::select(vec![8usize, 262_144]),
        prop::sample::select(vec![8usize, 65_536]),
        prop::sample::select(vec![30 * SECOND, 600 * SECOND]),
        (threshold(), prop::sample::select(vec![0u32, 1, 4]), prop::sample::select(vec![8usize, 3_584])),
    )
        .prop_map(
            |(n10, min, realert_after, max_flows, max_tracks, flow_idle_timeout, (s10, dests, max_programs))| {
                EngineConfig {
                    thresholds: Thresholds {
                        max_traffic_during_10_sec: n10,
                        min_leak_size: min,
                        max_spread_during_10_sec: s10,
                        min_spread_destinations: dests,
                    },
                    realert_after,
                    max_flows,
                    max_tracks,
                    max_programs,
                    flow_idle_timeout,
                    ..Default::default()
                }
            },
        )
}

/// Some local ports owned by known programs (one of them a standard app), both protocols.
fn table() -> FakeSocketTable {
    FakeSocketTable::default()
        .with(Proto::Tcp, 40000, process(1234, "curl"))
        .with(Proto::Udp, 40000, process(1234, "curl"))
        .with(Proto::Tcp, 40001, process(5678, "firefox"))
        .with(Proto::Udp, 53, process(99, "resolved"))
}

fn cfg() -> Config {
    // No regression files: these tests must not write into the source tree. `CASES=n` runs more.
    Config {
        cases: std::env::var("CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(64),
        failure_persistence: None,
        ..Config::default()
    }
}

/// The engine took every batch and counted every packet (a panic in the engine thread would
/// make it refuse batches and answer `finish` with an empty summary).
fn check_alive(all_sent: bool, summary: &Summary, sent: &[Packet]) -> Result<(), TestCaseError> {
    prop_assert!(all_sent, "the engine refused a batch (did its thread panic?)");
    prop_assert_eq!(summary.packets, sent.len() as u64, "summary: {:?}", summary);
    Ok(())
}

/// Every packet shows up in exactly one closed flow: packets, frame bytes and payload add up.
fn check_conservation(flows: &[FlowRecord], summary: &Summary, sent: &[Packet]) -> Result<(), TestCaseError> {
    let sum = |f: fn(&Packet) -> u64| sent.iter().map(f).sum::<u64>();
    let (packets, frames, payload) =
        (sent.len() as u64, sum(|p| u64::from(p.frame_len)), sum(|p| u64::from(p.payload_len)));
    let got_packets: u64 = flows.iter().map(|r| r.out.packets + r.inc.packets).sum();
    let got_frames: u64 = flows.iter().map(|r| r.out.bytes + r.inc.bytes).sum();
    let got_payload: u64 = flows.iter().map(|r| r.out.payload + r.inc.payload).sum();
    prop_assert_eq!(got_packets, packets, "packets over {} flow records", flows.len());
    prop_assert_eq!(got_frames, frames, "frame bytes over {} flow records", flows.len());
    prop_assert_eq!(got_payload, payload, "payload bytes over {} flow records", flows.len());
    prop_assert_eq!(summary.packets, packets);
    Ok(())
}

/// Doc §4: `Update`/`End` only for an id first raised by a `New` (re-openings within the
/// cool-down reuse an earlier `New`'s id), positive bytes, `started <= at`, a kind that never
/// changes, and every alert ended at the end of input (its last event is an `End`).
fn check_alerts(events: &[leakwatch::alert::AlertEvent]) -> Result<(), TestCaseError> {
    let mut kinds = HashMap::new();
    let mut last_phase = HashMap::new();
    for e in events {
        let a = &e.alert;
        match e.phase {
            AlertPhase::New => {
                prop_assert!(kinds.insert(a.id, a.kind).is_none(), "a second New for id {}: {:?}", a.id, e);
            }
            AlertPhase::Update | AlertPhase::End => {
                prop_assert!(kinds.contains_key(&a.id), "{:?} for id {} before any New: {:?}", e.phase, a.id, e);
                prop_assert_eq!(kinds[&a.id], a.kind, "the kind changed: {:?}", e);
            }
        }
        prop_assert!(a.bytes > 0, "no bytes: {:?}", e);
        prop_assert!(a.started <= a.at, "started after at: {:?}", e);
        last_phase.insert(a.id, e.phase);
    }
    let open: HashSet<_> = last_phase.iter().filter(|(_, p)| **p != AlertPhase::End).map(|(id, _)| *id).collect();
    prop_assert!(open.is_empty(), "alerts never ended: {:?}", open);
    Ok(())
}

proptest! {
    #![proptest_config(cfg())]

    #[test]
    fn random_streams_never_panic(config in config(), sent in stream(false)) {
        let run = run_with(config, table(), &sent);
        check_alive(run.all_sent, &run.summary, &sent)?;
    }

    #[test]
    fn random_streams_with_backward_jumps_never_panic(config in config(), sent in stream(true)) {
        let run = run_with(config, table(), &sent);
        check_alive(run.all_sent, &run.summary, &sent)?;
    }

    #[test]
    fn flows_never_lose_bytes(config in config(), sent in stream(false), backwards in stream(true)) {
        for sent in [&sent, &backwards] {
            for max_flows in [EngineConfig::default().max_flows, 8] {
                let run = run_with(EngineConfig { max_flows, ..config.clone() }, table(), sent);
                check_alive(run.all_sent, &run.summary, sent)?;
                check_conservation(&run.flows, &run.summary, sent)?;
            }
        }
    }

    #[test]
    fn alerts_are_consistent(config in config(), sent in stream(false)) {
        let run = run_with(config, table(), &sent);
        check_alive(run.all_sent, &run.summary, &sent)?;
        check_alerts(&run.events)?;
    }

    #[test]
    fn alerts_are_consistent_with_backward_jumps(config in config(), sent in stream(true)) {
        let run = run_with(config, table(), &sent);
        check_alive(run.all_sent, &run.summary, &sent)?;
        check_alerts(&run.events)?;
    }
}

/// Property 3 on a fixed out-of-order input (captures merged from several interfaces can step
/// back in time): 2 KiB every 5 s for 200 s keeps a passive session open with 28 KiB in any 70 s
/// (just below MIN), then a packet stamped 100 s with 8 KiB takes the window past MIN. The alert
/// it raises must not start after its own time.
#[test]
fn started_is_not_after_at_when_time_steps_back() {
    let s = Stream::curl();
    let mut sent = s.every(0, us(5.0), 2048, us(201.0));
    sent.push(s.packet(us(100.0), 8192));
    let run = run(&sent);
    check_alive(run.all_sent, &run.summary, &sent).unwrap();
    assert_eq!(run.news().len(), 1, "{:#?}", run.events);
    check_alerts(&run.events).unwrap();
}
