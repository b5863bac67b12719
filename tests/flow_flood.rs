//! Flow flood (issue 8): a capture of 200,000 distinct destinations and ports (a SYN scan over
//! IPv4 and IPv6, and DNS amplification replies that each name a new address, unasked) with one real
//! upload running through it. Replayed through the engine as `leakwatch replay` does, the upload
//! must still raise its alert (right destination, name and bytes), while the bounded tables fill,
//! evict their least recently active entries and never hold more than their bounds.
//!
//! The 2-million version, with peak memory and replay speed, is `bench/flood.sh` (`make
//! test-all`; figures in `docs/reliability.md`).

#[path = "common/flood.rs"]
mod flood;
mod support;

use flood::FloodSpec;
use leakwatch::alert::{AlertEvent, AlertPhase, LeakKind};
use leakwatch::capture::file::read_file;
use leakwatch::engine::{Delivery, Engine, Summary, TableUsage};
use leakwatch::judge::{Mode, Rules};
use leakwatch::process::NoSocketTable;
use leakwatch::settings::EngineConfig;
use std::path::Path;

/// The CI-sized flood: 200k destinations over 200 s of packet time, with a 4 MiB upload over
/// two minutes from t = 30 s.
const SPEC: FloodSpec = FloodSpec::standard(200_000);

fn capture(dir: &Path) -> (std::path::PathBuf, flood::Written) {
    let path = dir.join("flood.pcap");
    let written = flood::write(&path, SPEC);
    assert_eq!(written.flood_frames, SPEC.destinations);
    assert_eq!(written.upload_payload, SPEC.upload_bytes);
    (path, written)
}

/// Replays `path` as `leakwatch replay` does (adequate mode, no socket table), with `config`'s
/// table bounds; returns the alert events and the summary.
fn replay(path: &Path, config: EngineConfig) -> (Vec<AlertEvent>, Summary) {
    let config = EngineConfig { rules: Rules::shipped(Mode::Adequate), ..config };
    let engine = Engine::start_full(config, Box::new(NoSocketTable), None);
    let handle = engine.handle();
    let alerts = handle.subscribe_alerts(Delivery::Lossless);
    let stats = read_file(path, &handle, None).expect("the generated capture reads cleanly");
    let summary = engine.finish();
    assert_eq!(summary.packets, stats.frames, "every frame reached the engine (no panic): {summary:?}");
    (alerts.iter().collect(), summary)
}

fn check_table(what: &str, t: &TableUsage) {
    assert!(t.peak <= t.capacity, "{what}: held {} entries, more than its bound {}", t.peak, t.capacity);
    assert!(t.len <= t.capacity, "{what}: {t:?}");
    assert!(t.evicted > 0, "{what}: the flood should have filled it: {t:?}");
}

/// Small tables (an eighth of the defaults or less), so 200k destinations churn through each
/// many times over, as 2 million do through the default bounds.
#[test]
fn an_upload_through_a_flow_flood_is_still_detected() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (path, written) = capture(dir.path());
    let config = EngineConfig { max_flows: 14_336, max_tracks: 3_584, max_names: 7_168, ..EngineConfig::default() };
    let (events, summary) = replay(&path, config);

    let new: Vec<_> = events.iter().filter(|e| e.phase == AlertPhase::New).collect();
    let (amplifier, new): (Vec<_>, Vec<_>) = new.into_iter().partition(|e| e.alert.kind == LeakKind::Spread);
    assert_eq!(new.len(), 1, "one alert per destination, the upload's: {new:#?}");
    check_amplifier(&amplifier.iter().map(|e| &e.alert).collect::<Vec<_>>());
    let a = &new[0].alert;
    assert_eq!((a.dstip, a.dstport), (flood::upload_dst(), flood::UPLOAD_PORT), "{a:#?}");
    assert_eq!(a.hostname.as_deref(), Some(flood::UPLOAD_HOST), "its name survived the flood: {a:#?}");
    let end = events
        .iter()
        .rfind(|e| e.phase == AlertPhase::End && e.alert.id == a.id)
        .expect("the upload's alert ends at the end of input");
    let (got, sent) = (end.alert.bytes, written.upload_payload);
    assert!(got >= sent * 95 / 100 && got <= sent, "the alert counts {got} bytes of the {sent} uploaded");

    let t = &summary.tables;
    check_table("flows", &t.flows);
    check_table("tracks", &t.tracks);
    // The amplification answers were never asked for: they teach no name, and the name table
    // holds just the upload's.
    assert_eq!((t.names.len, t.names.evicted), (1, 0), "{t:?}");
    assert_eq!((t.flows.capacity, t.tracks.capacity, t.names.capacity), (14_336, 3_584, 7_168));
    // Every flow is reported once, evicted or not: the scan's, the amplification's, the
    // upload's and the resolver's.
    assert_eq!(summary.flows, SPEC.destinations + 2, "{summary:?}");
    assert!(t.flows.evicted >= SPEC.destinations - 14_336, "{t:?}");
}

/// The DNS answers the machine sends from port 53 to thousands of victims (it is the amplifier)
/// are one spread upload of that unattributed socket, whose 256 KiB within 10 s pass the spread
/// threshold: one alert, not one per victim, and it names the socket's port.
fn check_amplifier(spread: &[&leakwatch::alert::Alert]) {
    assert_eq!(spread.len(), 1, "{spread:#?}");
    let a = spread[0];
    assert_eq!((a.process.is_none(), a.srcport, a.proto), (true, 53, leakwatch::packet::Proto::Udp), "{a:#?}");
    assert!(a.destinations > 1000, "{a:#?}");
}

/// The `leakwatch replay` command itself, default bounds: the alert is printed, each table that
/// filled is named once on stderr, the evictions are summed up at the end.
#[test]
fn leakwatch_replay_reports_the_upload_and_the_full_tables() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (path, _) = capture(dir.path());
    let run = support::leakwatch(
        &[std::ffi::OsStr::new("replay"), "--no-progress".as_ref(), "--json".as_ref(), path.as_os_str()],
        None,
    );
    run.assert_code(0);
    let (spread, alerts): (Vec<_>, Vec<_>) = run.json_lines().into_iter().partition(|a| a["kind"] == "spread");
    assert_eq!(alerts.len(), 1, "{}", run.dump());
    assert_eq!(spread.len(), 1, "the amplifier: {}", run.dump());
    assert_eq!((spread[0]["srcport"].as_u64(), spread[0]["proto"].as_str()), (Some(53), Some("udp")), "{}", run.dump());
    assert_eq!(alerts[0]["dstip"], flood::UPLOAD_DST.to_string(), "{}", run.dump());
    assert_eq!(alerts[0]["hostname"], flood::UPLOAD_HOST, "{}", run.dump());
    // 200,000 flows and 60,000 amplification victims (about 21,000 at once within the 70 s a
    // track is kept): more than each default bound. Their answers, never asked for, name nothing.
    for (table, times) in [("flow table", 1), ("detection table", 1), ("host name table", 0)] {
        let said = run.stderr.matches(&format!("note: the {table} is full")).count();
        assert_eq!(said, times, "{table}\n{}", run.dump());
    }
    assert!(run.stderr.contains("tables full: evicted 85314 flows (capacity 114688)"), "{}", run.dump());
}

/// The default bounds, at their worst (every table full), fit the engine's budget: 150 MiB for the
/// whole `leakwatch replay` process, of which the rest (organisation/country database, capture
/// reader, input queue) takes about 50 MiB (the upload alone in `bench/flood.sh`). Per-entry
/// sizes are in `docs/reliability.md`.
#[test]
fn default_bounds_fit_the_memory_budget() {
    use leakwatch::detect::Detector;
    use leakwatch::flows::FlowTable;
    use leakwatch::naming::table::NameTable;
    let c = EngineConfig::default();
    let flows = FlowTable::bytes_when_full(c.max_flows);
    let tracks = Detector::bytes_when_full(c.max_tracks);
    let programs = Detector::spread_bytes_when_full(c.max_programs);
    // A name costs its length (about 20 bytes) plus the allocator's 16 bytes of overhead.
    let names = NameTable::bytes_when_full(c.max_names, 48);
    let mib = |b: usize| b as f64 / (1 << 20) as f64;
    println!(
        "full tables: flows {} × {:.0} B = {:.1} MiB, tracks {} × {:.0} B = {:.1} MiB, names {} × {:.0} B = {:.1} MiB",
        c.max_flows,
        flows as f64 / c.max_flows as f64,
        mib(flows),
        c.max_tracks,
        tracks as f64 / c.max_tracks as f64,
        mib(tracks),
        c.max_names,
        names as f64 / c.max_names as f64,
        mib(names)
    );
    println!(
        "spread tracks {} × {:.0} B = {:.1} MiB",
        c.max_programs,
        programs as f64 / c.max_programs as f64,
        mib(programs)
    );
    let all = flows + tracks + programs + names;
    assert!(all <= 64 << 20, "{:.1} MiB", mib(all));
}

/// A capture source handing over batches faster than the engine works through them (live
/// capture under a flood): with a queue of one batch, those that do not fit are dropped and
/// counted at once, never queued without bound nor waited for, and the engine goes on with what
/// it got.
#[test]
fn batches_the_engine_cannot_take_are_dropped_and_counted() {
    use leakwatch::engine::Batch;
    use leakwatch::packet::{Packet, Proto};
    use leakwatch::time::Ts;
    let packet = |i: u32| Packet {
        ts: Ts(1_700_000_000_000_000 + i64::from(i)),
        proto: Proto::Udp,
        src: "192.168.1.50".parse().unwrap(),
        dst: std::net::IpAddr::V4(std::net::Ipv4Addr::from(0x3400_0000 + i)),
        sport: 40_000,
        dport: 9,
        frame_len: 60,
        payload_len: 18,
        tcp_flags: 0,
        seq: 0,
    };
    let batch = |first: u32, n: u32| Batch { packets: (first..first + n).map(packet).collect(), ..Batch::default() };
    let config = EngineConfig { input_queue: 1, ..EngineConfig::default() };
    let engine = Engine::start_full(config, Box::new(NoSocketTable), None);
    let h = engine.handle();
    // One large batch keeps the engine busy while ten small ones are offered at once.
    assert!(h.try_send_batch(batch(0, 300_000)));
    let sent = (0..10u32).filter(|k| h.try_send_batch(batch(1_000_000 + k * 10, 10))).count() as u64;
    // Had offering waited for room, all ten would have gone in.
    assert!(sent <= 1, "one queue slot at most: {sent} accepted");
    assert_eq!(h.dropped_batches(), 10 - sent);
    let s = engine.finish();
    assert_eq!(s.dropped_batches, 10 - sent, "{s:?}");
    assert_eq!(s.packets, 300_000 + 10 * sent, "{s:?}");
}
