//! Engine settings: detection thresholds, re-alert cool-down, local networks and bounds.
//!
//! Defaults are the legacy daemon's (see `docs/detection.md`).

use crate::direction::LocalNets;
use crate::judge::{Mode, Rules};
use crate::time::SECOND;

/// Thresholds of the detectors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Thresholds {
    /// Sudden: more than this many bytes inside the 10 s window (legacy `--max-traffic-during-10-sec`).
    pub max_traffic_during_10_sec: u64,
    /// Active and passive: more than this many bytes (legacy `--min-leak-size`).
    pub min_leak_size: u64,
    /// Spread: more than this many bytes from one program to all its destinations together
    /// inside the 10 s window (`--max-spread-during-10-sec`; destinations alerting on their own
    /// are not counted).
    pub max_spread_during_10_sec: u64,
    /// Spread: and at least this many destinations (`--min-spread-destinations`).
    pub min_spread_destinations: u32,
}

/// Default of [`Thresholds::max_spread_during_10_sec`]: 256 KiB.
pub const DEFAULT_MAX_SPREAD_DURING_10_SEC: u64 = 262_144;
/// Default of [`Thresholds::min_spread_destinations`].
pub const DEFAULT_MIN_SPREAD_DESTINATIONS: u32 = 4;

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            max_traffic_during_10_sec: 102_400,
            min_leak_size: 32_768,
            max_spread_during_10_sec: DEFAULT_MAX_SPREAD_DURING_10_SEC,
            min_spread_destinations: DEFAULT_MIN_SPREAD_DESTINATIONS,
        }
    }
}

/// Time constants of the detectors, in microseconds of packet time. Fixed, as in the legacy
/// daemon; kept together here so the documentation and the code name the same values.
pub mod timing {
    use super::SECOND;
    /// Length of the sudden window.
    pub const SUDDEN_WINDOW: i64 = 10 * SECOND;
    /// Granularity of the sudden window.
    pub const SUDDEN_BUCKET: i64 = SECOND / 10;
    /// Active: the run must have lasted at least this long.
    pub const ACTIVE_MIN_LIFETIME: i64 = 8 * SECOND;
    /// Active: a gap longer than this ends the run.
    pub const ACTIVE_MAX_GAP: i64 = 2 * SECOND;
    /// Passive: the session must have lasted at least this long.
    pub const PASSIVE_MIN_LIFETIME: i64 = 60 * SECOND;
    /// Passive: a gap longer than this ends the session.
    pub const PASSIVE_MAX_GAP: i64 = 15 * SECOND;
    /// Passive: bytes are counted over this trailing window.
    pub const PASSIVE_WINDOW: i64 = 70 * SECOND;
    /// Granularity of the passive window.
    pub const PASSIVE_BUCKET: i64 = SECOND;
    /// An alert's episode ends after this much silence from its threat.
    pub const EPISODE_IDLE: i64 = PASSIVE_MAX_GAP;
}

/// Everything the engine needs to start. The library default mode is paranoid (nothing
/// ignored); the command line defaults to adequate, as the legacy daemon did.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    pub thresholds: Thresholds,
    /// A threat that was notified gets no new notification for this long (µs of packet time).
    pub realert_after: i64,
    pub local_nets: LocalNets,
    /// Upper bound on tracked 5-tuple flows; beyond it a least recently active flow is closed
    /// early to make room (see `docs/reliability.md`, "Flow flood").
    pub max_flows: usize,
    /// Upper bound on detection tracks (program × destination); beyond it a least recently
    /// active track without an open alert is dropped to make room.
    pub max_tracks: usize,
    /// Upper bound on spread tracks (programs, and unattributed local sockets); beyond it a least
    /// recently active one without an open alert is dropped to make room.
    pub max_programs: usize,
    /// Upper bound on host names learned from the wire (by address); beyond it a name not
    /// used recently is forgotten.
    pub max_names: usize,
    /// Batches of packets queued for the engine at most (see `engine::INPUT_QUEUE`; a replay,
    /// whose reader only waits, needs far fewer than live capture's bursts).
    pub input_queue: usize,
    /// Flows idle this long are closed and reported (µs of packet time).
    pub flow_idle_timeout: i64,
    /// Threat patterns and filters (with the current mode).
    pub rules: Rules,
    /// Organisation / ASN / country database (None: unknown until `Command::SetAsnDb`).
    pub asn: Option<std::sync::Arc<crate::naming::asn::AsnDb>>,
    /// Notice edits of `ignores.user.json` by others once a second (live: `run`, the service);
    /// off for replays, whose results must not depend on when a file was edited.
    pub watch_ignores: bool,
    /// Addresses of the system's configured resolvers (`nameserver` lines of resolv.conf): DNS
    /// answers from them name addresses for every program (see `naming::is_system_resolver`;
    /// loopback port 53 always counts). Empty for a capture from elsewhere.
    pub system_resolvers: Vec<std::net::IpAddr>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            thresholds: Thresholds::default(),
            realert_after: 600 * SECOND,
            local_nets: LocalNets::default(),
            // 7/8 of a power of two: a full table's hash index is exactly half full (see
            // `crate::bounded`). About 72 MiB when all three tables are full
            // (docs/reliability.md, "Flow flood").
            max_flows: 114_688,
            max_tracks: 14_336,
            max_programs: 3_584,
            max_names: crate::naming::table::NAME_TABLE_CAPACITY,
            input_queue: crate::engine::INPUT_QUEUE,
            flow_idle_timeout: 600 * SECOND,
            rules: Rules::shipped(Mode::Paranoid),
            asn: None,
            watch_ignores: false,
            system_resolvers: Vec::new(),
        }
    }
}
