//! Synthetic traffic and a one-call engine driver for the scenario and property tests.
//!
//! Times are integer microseconds relative to a fixed base [`T0_US`] (1 700 000 000 s, a whole
//! second, so 0.1 s and 1 s detector slots line up with t = 0), which keeps every expected time
//! exact: `Ts(T0_US + t_us)` is what `Ts::from_secs_f64(t0 + t)` gives, without float rounding.
//!
//! "Steady R for D s" is R/10 payload bytes per packet at t = 0.0, 0.1, … < D. When R/10 is not
//! an integer, packet `i` carries `floor((i+1)·R/10) − floor(i·R/10)` bytes (e.g. 3 KiB/s gives
//! 307, 307, 307, 307, 308, …): after `k` packets exactly `floor(k·R/10)` bytes have been sent,
//! so every whole second carries exactly R bytes.

use leakwatch::alert::{AlertEvent, AlertPhase};
use leakwatch::detect::Stats;
use leakwatch::engine::{Batch, Delivery, Engine, Summary};
use leakwatch::flows::FlowRecord;
use leakwatch::packet::{Packet, Proto, tcp_flags};
use leakwatch::process::{FakeSocketTable, ProcessInfo, SocketTable};
use leakwatch::settings::EngineConfig;
use leakwatch::time::{SECOND, Ts};
use std::net::IpAddr;

/// The fixed time base (t = 0 of every scenario), in µs since the epoch.
pub const T0_US: i64 = 1_700_000_000 * SECOND;
/// Packets per second of a "steady" stream.
pub const PPS: u64 = 10;
/// One packet period of a steady stream, in µs.
pub const TICK_US: i64 = SECOND / PPS as i64;
/// Ethernet + IPv4 + TCP header bytes added to the payload to get `frame_len`.
pub const HEADERS: u32 = 54;

/// Seconds → µs (exact for the decimal literals the scenarios use).
pub fn us(secs: f64) -> i64 {
    (secs * SECOND as f64).round() as i64
}

/// A scenario time (µs after t = 0) as a packet timestamp.
pub fn ts(t_us: i64) -> Ts {
    Ts(T0_US + t_us)
}

/// A packet timestamp as seconds after t = 0.
pub fn rel(t: Ts) -> f64 {
    (t.0 - T0_US) as f64 / SECOND as f64
}

pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A program known by the name it gives itself only (no executable path): filters do not believe
/// its name.
pub fn process(pid: u32, name: &str) -> ProcessInfo {
    ProcessInfo { pid, name: name.into(), exe: None, installed: false }
}

/// A program copied to a home folder under `name`: not installed, so filters do not believe it.
pub fn renamed(pid: u32, name: &str) -> ProcessInfo {
    ProcessInfo { pid, name: name.into(), exe: Some(format!("/home/user/{name}")), installed: false }
}

/// An installed program, `/usr/lib/NAME/NAME`: filters believe its name.
pub fn installed(pid: u32, name: &str) -> ProcessInfo {
    ProcessInfo { pid, name: name.into(), exe: Some(format!("/usr/lib/{name}/{name}")), installed: true }
}

/// `curl` (pid 1234) owning TCP port 40000, as in the legacy table.
pub fn curl_table() -> FakeSocketTable {
    FakeSocketTable::default().with(Proto::Tcp, 40000, process(1234, "curl"))
}

/// One direction of one flow: local endpoint → remote endpoint.
#[derive(Clone, Copy, Debug)]
pub struct Stream {
    pub proto: Proto,
    pub src: IpAddr,
    pub sport: u16,
    pub dst: IpAddr,
    pub dport: u16,
}

impl Stream {
    /// 192.168.1.10:40000 → 93.184.216.34:443 over TCP (the legacy table's socket).
    pub fn curl() -> Stream {
        Stream { proto: Proto::Tcp, src: ip("192.168.1.10"), sport: 40000, dst: ip("93.184.216.34"), dport: 443 }
    }

    pub fn sport(self, sport: u16) -> Stream {
        Stream { sport, ..self }
    }

    pub fn dst(self, dst: &str) -> Stream {
        Stream { dst: ip(dst), ..self }
    }

    pub fn src(self, src: &str) -> Stream {
        Stream { src: ip(src), ..self }
    }

    /// The opposite direction (server → us).
    pub fn reverse(self) -> Stream {
        Stream { proto: self.proto, src: self.dst, sport: self.dport, dst: self.src, dport: self.sport }
    }

    /// One data packet (ACK|PSH for TCP) at `t_us` with `payload` bytes.
    pub fn packet(&self, t_us: i64, payload: u32) -> Packet {
        let tcp_flags = match self.proto {
            Proto::Tcp if payload > 0 => tcp_flags::ACK | tcp_flags::PSH,
            Proto::Tcp => tcp_flags::ACK,
            _ => 0,
        };
        Packet {
            ts: ts(t_us),
            proto: self.proto,
            src: self.src,
            dst: self.dst,
            sport: self.sport,
            dport: self.dport,
            frame_len: payload + HEADERS,
            payload_len: payload,
            tcp_flags,
            seq: 0,
        }
    }

    /// Steady `rate` B/s from `start_us` for `dur_us`: 10 packets a second (see the module doc
    /// for how a rate that is not a multiple of 10 is split).
    pub fn steady_from(&self, start_us: i64, rate: u64, dur_us: i64) -> Vec<Packet> {
        let n = (dur_us + TICK_US - 1) / TICK_US;
        (0..n as u64)
            .map(|i| {
                let size = (i + 1) * rate / PPS - i * rate / PPS;
                self.packet(start_us + i as i64 * TICK_US, size as u32)
            })
            .collect()
    }

    /// Steady `rate` B/s from t = 0 for `dur_us`.
    pub fn steady(&self, rate: u64, dur_us: i64) -> Vec<Packet> {
        self.steady_from(0, rate, dur_us)
    }

    /// `n ≥ 2` packets evenly spaced from `start_us` to `end_us` (both included) carrying
    /// `total` bytes: after `j` packets exactly `floor(j·total/n)` bytes have been sent.
    pub fn burst(&self, start_us: i64, end_us: i64, total: u64, n: u64) -> Vec<Packet> {
        assert!(n >= 2 && (end_us - start_us) % (n as i64 - 1) == 0, "uneven burst");
        let step = (end_us - start_us) / (n as i64 - 1);
        (0..n)
            .map(|j| {
                let size = (j + 1) * total / n - j * total / n;
                self.packet(start_us + j as i64 * step, size as u32)
            })
            .collect()
    }

    /// `size` bytes every `period_us`, at t = `start_us`, `start_us + period_us`, … `< until_us`.
    pub fn every(&self, start_us: i64, period_us: i64, size: u32, until_us: i64) -> Vec<Packet> {
        (0..).map(|i| start_us + i * period_us).take_while(|&t| t < until_us).map(|t| self.packet(t, size)).collect()
    }
}

/// Merges per-stream packet lists into one time-ordered list (stable: ties keep list order).
pub fn merge(lists: Vec<Vec<Packet>>) -> Vec<Packet> {
    let mut all: Vec<Packet> = lists.into_iter().flatten().collect();
    all.sort_by_key(|p| p.ts);
    all
}

/// Payload bytes of `packets` sent at or after `from` (and at or before `to`).
pub fn payload_between(packets: &[Packet], from: Ts, to: Ts) -> u64 {
    packets.iter().filter(|p| p.ts >= from && p.ts <= to).map(|p| u64::from(p.payload_len)).sum()
}

/// Total payload bytes of `packets`.
pub fn payload(packets: &[Packet]) -> u64 {
    packets.iter().map(|p| u64::from(p.payload_len)).sum()
}

/// Number of packets of a steady `rate` stream (10 per second, from t = 0) after which more than
/// `threshold` bytes have been sent: the smallest `k` with `floor(k·rate/10) > threshold`.
pub fn packets_to_exceed(threshold: u64, rate: u64) -> u64 {
    packets_to_exceed_split(threshold, rate, PPS)
}

/// For `total` bytes split over `n` packets as [`Stream::burst`] and [`Stream::steady`] do
/// (`floor(j·total/n)` after `j` packets): the smallest `j` that takes the sum past `threshold`.
pub fn packets_to_exceed_split(threshold: u64, total: u64, n: u64) -> u64 {
    ((threshold + 1) * n).div_ceil(total)
}

/// Time (µs after t = 0) of the `k`-th packet (1-based) of a steady stream.
pub fn kth_packet_us(k: u64) -> i64 {
    (k as i64 - 1) * TICK_US
}

/// Bytes sent by a steady `rate` stream after `k` packets.
pub fn steady_bytes(k: u64, rate: u64) -> u64 {
    k * rate / PPS
}

/// What one engine run produced.
pub struct Run {
    pub events: Vec<AlertEvent>,
    pub stats: Vec<Stats>,
    pub flows: Vec<FlowRecord>,
    pub summary: Summary,
    /// Whether every batch was accepted by the engine (false if its thread died).
    pub all_sent: bool,
}

impl Run {
    /// The `New` events, in order.
    pub fn news(&self) -> Vec<&AlertEvent> {
        self.events.iter().filter(|e| e.phase == AlertPhase::New).collect()
    }

    /// The events of one phase, in order.
    pub fn phase(&self, phase: AlertPhase) -> Vec<&AlertEvent> {
        self.events.iter().filter(|e| e.phase == phase).collect()
    }
}

/// Runs `packets` (in the order given, in batches of at most 1024) through a fresh engine with
/// lossless alert, flow and (lossy) stats subscriptions made before the first batch.
pub fn run_with(config: EngineConfig, table: impl SocketTable + 'static, packets: &[Packet]) -> Run {
    let engine = Engine::start_with(config, Box::new(table));
    let h = engine.handle();
    let alerts = h.subscribe_alerts(Delivery::Lossless);
    let stats = h.subscribe_stats();
    let flows = h.subscribe_flows();
    let mut all_sent = true;
    for chunk in packets.chunks(1024) {
        all_sent &= h.send_batch(Batch { packets: chunk.to_vec(), other: 0, malformed: 0, names: Vec::new() });
    }
    let summary = engine.finish();
    Run {
        events: alerts.iter().collect(),
        stats: stats.iter().collect(),
        flows: flows.iter().collect(),
        summary,
        all_sent,
    }
}

/// [`run_with`] with the default configuration and `curl` on port 40000.
pub fn run(packets: &[Packet]) -> Run {
    run_with(EngineConfig::default(), curl_table(), packets)
}
