//! Replay throughput, measured against a bare libpcap read loop in the same run.
//!
//! Setup concatenates the shared test captures (`$LEAKWATCH_SHARED/testdata/captures`,
//! `ndpi-4.2/` and `tcpdump-4.99.3/`) into one temporary classic-pcap file of more than
//! 200,000 frames, repeating the whole set as often as needed and shifting timestamps so that
//! packet time never goes backwards. Two variants read that file:
//!
//! - `bare_libpcap_read`: `pcap::Capture::from_file` + `next_packet()` until the end, summing
//!   `header.len`. This is the floor: what reading the file costs at all.
//! - `leakwatch_replay`: the `leakwatch replay` pipeline: a fresh engine, a lossless alert
//!   subscription, `capture::file::read_file` (read + parse on this thread; accounting and
//!   detection on the engine thread), `Engine::finish`, draining the alerts.
//!
//! Criterion measures both (group `replay`); afterwards the bench times each variant again,
//! interleaved, and prints the ratio of the medians (target: leakwatch/bare <= 1.5). The
//! figures also go to `$CARGO_TARGET_DIR/leakwatch-bench.txt`. See `bench/README.md`.
//!
//! Without `--bench` on the command line (`cargo test --all-targets`, `cargo test --bench
//! replay`) criterion runs in test mode; then the capture is one round of the set only and each
//! variant runs once or twice, so the check takes a few seconds.

use criterion::{Criterion, SamplingMode, Throughput};
use leakwatch::capture::file::read_file;
use leakwatch::engine::{Delivery, Engine, Summary};
use leakwatch::settings::EngineConfig;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The benchmark capture has more frames than this.
const MIN_FRAMES: u64 = 200_000;
/// Folders of the shared captures that go into the benchmark capture.
const SOURCE_DIRS: [&str; 2] = ["ndpi-4.2", "tcpdump-4.99.3"];
/// Timed runs of each variant for the ratio (interleaved).
const RATIO_RUNS: usize = 5;
/// The ratio leakwatch/bare should not exceed this.
const TARGET_RATIO: f64 = 1.5;
const SECOND: i64 = 1_000_000;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `cargo bench`: full-size capture, criterion measurements, then the ratio.
    Bench,
    /// `cargo test` (no `--bench`): one round, each variant checked once.
    Test,
    /// `--list`: criterion only prints the benchmark names; nothing is read.
    List,
}

fn mode() -> Mode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let has = |flag: &str| args.iter().any(|a| a == flag);
    if has("--list") {
        Mode::List
    } else if has("--bench") && !has("--test") {
        Mode::Bench
    } else {
        Mode::Test
    }
}

/// One frame of a source capture.
struct Frame {
    header: pcap::PacketHeader,
    data: Vec<u8>,
}

/// One source capture, in memory.
struct Source {
    frames: Vec<Frame>,
    /// Earliest timestamp, µs (frames are not guaranteed to be in time order).
    first: i64,
    /// Latest timestamp, µs.
    last: i64,
}

/// The header's timestamp in µs.
// `time_t` / `suseconds_t` are `i64` on 64-bit Linux but narrower elsewhere.
#[allow(clippy::useless_conversion)]
fn micros(h: &pcap::PacketHeader) -> i64 {
    i64::from(h.ts.tv_sec) * SECOND + i64::from(h.ts.tv_usec)
}

fn captures_dir() -> PathBuf {
    let shared = std::env::var_os("LEAKWATCH_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared")));
    shared.join("testdata").join("captures")
}

/// Every `*.pcap` / `*.pcapng` below `dir`, recursively.
fn capture_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            capture_files(&p, out);
        } else if matches!(p.extension().and_then(|x| x.to_str()), Some("pcap" | "pcapng")) {
            out.push(p);
        }
    }
}

/// Reads a source capture into memory (libpcap detects pcap vs pcapng by the magic number).
fn load_source(path: &Path) -> Source {
    let mut cap = pcap::Capture::from_file(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let dlt = cap.get_datalink();
    assert_eq!(dlt, pcap::Linktype::ETHERNET, "{}: only Ethernet captures are expected", path.display());
    let mut frames = Vec::new();
    loop {
        match cap.next_packet() {
            Ok(p) => frames.push(Frame { header: *p.header, data: p.data.to_vec() }),
            Err(pcap::Error::NoMorePackets) => break,
            Err(e) => panic!("{}: {e}", path.display()),
        }
    }
    let first = frames.iter().map(|f| micros(&f.header)).min().unwrap_or(0);
    let last = frames.iter().map(|f| micros(&f.header)).max().unwrap_or(0);
    Source { frames, first, last }
}

/// The benchmark capture (the file is deleted on drop).
struct BenchCapture {
    file: tempfile::NamedTempFile,
    frames: u64,
    rounds: u64,
}

/// Writes whole rounds of all sources, as many as needed for more than `min_frames` frames
/// (at least one), into a temporary classic pcap file. In every round each source starts 1 s
/// after the latest timestamp written so far and keeps its frames' relative offsets, so packet
/// time never goes backwards from one file or round to the next.
fn build_capture(sources: &[Source], min_frames: u64) -> BenchCapture {
    let per_round: u64 = sources.iter().map(|s| s.frames.len() as u64).sum();
    assert!(per_round > 0, "the shared captures hold no frames");
    let rounds = min_frames / per_round + 1;
    let file = tempfile::Builder::new()
        .prefix("leakwatch-replay-bench-")
        .suffix(".pcap")
        .tempfile()
        .expect("creating the temporary capture file");
    let dead = pcap::Capture::dead(pcap::Linktype::ETHERNET).expect("pcap_open_dead");
    let mut save = dead.savefile(file.path()).expect("opening the temporary capture for writing");
    let mut cursor = sources.iter().map(|s| s.first).min().unwrap_or(0);
    let mut frames = 0;
    for _ in 0..rounds {
        for s in sources.iter().filter(|s| !s.frames.is_empty()) {
            let shift = cursor - s.first;
            for f in &s.frames {
                let ts = micros(&f.header) + shift;
                let mut header = f.header;
                header.ts.tv_sec = ts.div_euclid(SECOND) as _;
                header.ts.tv_usec = ts.rem_euclid(SECOND) as _;
                save.write(&pcap::Packet { header: &header, data: &f.data });
                frames += 1;
            }
            cursor = s.last + shift + SECOND;
        }
    }
    save.flush().expect("flushing the temporary capture");
    drop(save);
    BenchCapture { file, frames, rounds }
}

/// What one bare read loop saw.
struct BareOutcome {
    frames: u64,
    wire_bytes: u64,
}

/// The baseline: libpcap reads every record, nothing else.
fn bare_read(path: &Path) -> BareOutcome {
    let mut cap = pcap::Capture::from_file(path).expect("opening the benchmark capture");
    let (mut frames, mut wire_bytes) = (0u64, 0u64);
    loop {
        match cap.next_packet() {
            Ok(p) => {
                frames += 1;
                wire_bytes += u64::from(black_box(p.header).len);
            }
            Err(pcap::Error::NoMorePackets) => break,
            Err(e) => panic!("reading the benchmark capture: {e}"),
        }
    }
    black_box(BareOutcome { frames, wire_bytes })
}

/// What one leakwatch replay produced.
struct ReplayOutcome {
    frames: u64,
    summary: Summary,
    alert_events: u64,
}

/// The `leakwatch replay` pipeline on one file: read + parse on this thread, accounting and
/// detection on the engine thread, every alert event delivered.
fn leakwatch_replay(path: &Path) -> ReplayOutcome {
    let engine = Engine::start(EngineConfig::default());
    let h = engine.handle();
    let rx = h.subscribe_alerts(Delivery::Lossless);
    let stats = read_file(path, &h, None).expect("replaying the benchmark capture");
    let summary = engine.finish();
    let alert_events = rx.iter().map(black_box).count() as u64;
    black_box(ReplayOutcome { frames: stats.frames, summary, alert_events })
}

/// Checks that both variants saw the whole capture, so the bench cannot measure nothing.
fn check(cap: &BenchCapture) -> ReplayOutcome {
    let bare = bare_read(cap.file.path());
    assert_eq!(bare.frames, cap.frames, "the bare read loop missed frames");
    assert!(bare.wire_bytes > 0);
    let lw = leakwatch_replay(cap.file.path());
    let s = &lw.summary;
    assert_eq!(lw.frames, cap.frames, "read_file missed frames");
    assert_eq!(
        s.packets + s.malformed + s.other,
        cap.frames,
        "the engine did not account every frame (packets + malformed + other != frames)"
    );
    println!(
        "leakwatch replay: {} frames -> {} TCP/UDP packets, {} other, {} malformed; {} flows, {} alerts ({} alert events)",
        lw.frames, s.packets, s.other, s.malformed, s.flows, s.alerts, lw.alert_events
    );
    if s.packets == 0 {
        println!(
            "note: 0 TCP/UDP packets: the frame parser (src/packet.rs) rejects every frame, so \
             leakwatch_replay measures reading + a failing parse, not accounting and detection"
        );
    }
    lw
}

fn criterion_group(c: &mut Criterion, path: &Path, frames: u64) {
    let mut g = c.benchmark_group("replay");
    g.throughput(Throughput::Elements(frames))
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    g.bench_function("bare_libpcap_read", |b| b.iter(|| bare_read(path)));
    g.bench_function("leakwatch_replay", |b| b.iter(|| leakwatch_replay(path)));
    g.finish();
}

/// CPU time this process has used so far, every thread, user and system (`getrusage`).
fn cpu_time() -> Duration {
    // SAFETY: `getrusage` fills the zeroed struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a valid pointer to a rusage.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &raw mut u) };
    let tv = |t: libc::timeval| Duration::from_micros(t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64);
    tv(u.ru_utime) + tv(u.ru_stime)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Where the figures are written: `$CARGO_TARGET_DIR`, else the target directory this bench
/// binary was built in (`<target>/<profile>/deps/replay-…`), else `./target`.
fn target_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("CARGO_TARGET_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target")))
}

/// Times both variants `RATIO_RUNS` times, interleaved, and reports the ratio of the medians.
fn ratio(cap: &BenchCapture, checked: &ReplayOutcome) {
    let path = cap.file.path();
    let (mut bare, mut lw) = (Vec::new(), Vec::new());
    let (mut bare_cpu, mut lw_cpu) = (Vec::new(), Vec::new());
    for _ in 0..RATIO_RUNS {
        let (t, c) = (Instant::now(), cpu_time());
        black_box(bare_read(path));
        bare.push(t.elapsed());
        bare_cpu.push(cpu_time() - c);
        let (t, c) = (Instant::now(), cpu_time());
        black_box(leakwatch_replay(path));
        lw.push(t.elapsed());
        lw_cpu.push(cpu_time() - c);
    }
    let (bare, lw) = (median(bare), median(lw));
    let (bare_cpu, lw_cpu) = (median(bare_cpu), median(lw_cpu));
    let line = |name: &str, d: Duration| {
        format!(
            "replay/{name}: {} pkts in {:.1} ms ({:.2} Mpkt/s)",
            cap.frames,
            d.as_secs_f64() * 1e3,
            cap.frames as f64 / d.as_secs_f64() / 1e6
        )
    };
    let r = lw.as_secs_f64() / bare.as_secs_f64();
    let s = &checked.summary;
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let report = [
        format!(
            "leakwatch replay benchmark, {} (median of {RATIO_RUNS} interleaved runs each, {} CPUs)",
            chrono::Local::now().format("%Y-%m-%d %H:%M:%S %z"),
            std::thread::available_parallelism().map_or(0, |n| n.get())
        ),
        format!(
            "capture: {} frames ({} rounds of the shared captures, {:.1} MB); leakwatch saw {} TCP/UDP packets, {} other, {} malformed",
            cap.frames,
            cap.rounds,
            size as f64 / 1e6,
            s.packets,
            s.other,
            s.malformed
        ),
        line("bare_libpcap_read", bare),
        line("leakwatch_replay", lw),
        format!("ratio leakwatch/bare = {r:.2} (target <= {TARGET_RATIO})"),
        format!(
            "CPU time (both threads, user + system): bare {:.1} ms, leakwatch {:.1} ms, ratio {:.2} (less sensitive to a busy machine than the wall-clock ratio; no target)",
            bare_cpu.as_secs_f64() * 1e3,
            lw_cpu.as_secs_f64() * 1e3,
            lw_cpu.as_secs_f64() / bare_cpu.as_secs_f64()
        ),
    ]
    .join("\n")
        + "\n";
    print!("\n{report}");
    if r > TARGET_RATIO {
        println!("warning: the ratio is above the target");
    }
    let out = target_dir().join("leakwatch-bench.txt");
    match std::fs::write(&out, &report) {
        Ok(()) => println!("figures written to {}", out.display()),
        Err(e) => eprintln!("warning: cannot write {}: {e}", out.display()),
    }
}

fn main() {
    let mode = mode();
    let mut c = Criterion::default().configure_from_args();
    if mode == Mode::List {
        // Criterion only prints the names; the closures never run.
        criterion_group(&mut c, Path::new(""), 0);
        return;
    }
    let dir = captures_dir();
    let mut files = Vec::new();
    for sub in SOURCE_DIRS {
        capture_files(&dir.join(sub), &mut files);
    }
    files.sort();
    if !dir.is_dir() || files.is_empty() {
        eprintln!(
            "replay bench: skipped: no shared captures in {} (set LEAKWATCH_SHARED to the folder holding \
             testdata/captures/{{{}}})",
            dir.display(),
            SOURCE_DIRS.join(",")
        );
        return;
    }
    let t = Instant::now();
    let sources: Vec<Source> = files.iter().map(|f| load_source(f)).collect();
    let cap = build_capture(&sources, if mode == Mode::Bench { MIN_FRAMES } else { 0 });
    drop(sources);
    println!(
        "replay bench: {} frames ({} round(s) of {} files from {}) written to {} in {:.1} s",
        cap.frames,
        cap.rounds,
        files.len(),
        dir.display(),
        cap.file.path().display(),
        t.elapsed().as_secs_f64()
    );
    let checked = check(&cap);
    criterion_group(&mut c, cap.file.path(), cap.frames);
    c.final_summary();
    if mode == Mode::Bench {
        ratio(&cap, &checked);
    }
}
