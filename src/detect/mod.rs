//! The detectors: sudden, active and passive over *threats* (one program sending to one
//! destination address), and spread over programs (one program to all its destinations,
//! [`spread`]). Semantics, with timelines, are in `docs/detection.md`.
//!
//! Every decision is taken when a counted packet arrives, in packet time, so alert times are
//! exact (no analysis ticks). One alert per threat: while it continues the alert is updated;
//! after it goes quiet it ends; if it comes back within the cool-down it is re-opened
//! silently, after the cool-down it is notified again.
//!
//! Tracks are bounded ([`BoundedMap`]): when the table is full, a new threat takes the slot of a
//! least recently active one without an open alert (CLOCK eviction, amortised O(1)); the evicted
//! track's window buffers are reused, so a flood of destinations allocates nothing per packet.

mod ports;
mod spread;
mod window;

pub use spread::ProgramKey;
pub use window::Window;

use crate::alert::{Alert, AlertEvent, AlertPhase, LeakKind};
use crate::bounded::{BoundedMap, SlotId};
use crate::judge::Rules;
use crate::naming::{NameScope, NameSource, Naming, owner};
use crate::packet::Proto;
use crate::patterns::Facts;
use crate::process::ProcessInfo;
use crate::settings::{Thresholds, timing::*};
use crate::time::{SECOND, Ts};
use ahash::RandomState;
use ports::PortTally;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

/// A distinct threat: a program (by PID, or unknown) and a destination address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ThreatKey {
    pub pid: Option<u32>,
    pub remote: IpAddr,
}

/// Upload of one threat during one second of packet time (for live charts).
#[derive(Clone, Debug, PartialEq)]
pub struct Rate {
    pub process: Option<Arc<ProcessInfo>>,
    pub remote: IpAddr,
    pub bytes: u64,
    /// Owner of the destination address and its country (ISO 3166 alpha-2), when known.
    pub orgname: Option<String>,
    pub country: Option<String>,
}

/// Per-second upload statistics.
#[derive(Clone, Debug, PartialEq)]
pub struct Stats {
    /// Start of the second these figures cover.
    pub second: Ts,
    pub rates: Vec<Rate>,
}

/// An alert that is currently open (its threat has not gone quiet yet).
#[derive(Clone, Debug)]
struct Episode {
    id: u64,
    kind: LeakKind,
    started: Ts,
    /// Bytes from `started` to the last packet.
    bytes: u64,
    last_update: Ts,
    /// What the rules said when it opened (pattern name, callback filter, ignored or not).
    pattern: Option<String>,
    callback_filter: String,
    /// An ignored episode publishes nothing, but still absorbs its traffic.
    ignored: bool,
}

#[derive(Clone, Debug)]
struct Track {
    process: Option<Arc<ProcessInfo>>,
    /// The first host name this threat's own connections sent (TLS SNI, HTTP Host): a claim
    /// of the program, shared with its flow (never copied per packet).
    name: Option<Arc<str>>,
    last: Option<Ts>,
    sudden: Window,
    run_start: Ts,
    run_bytes: u64,
    session_start: Ts,
    passive: Window,
    dports: PortTally,
    sports: PortTally,
    /// IP protocol numbers by bytes.
    protos: PortTally,
    sec_bytes: u64,
    /// The session start of the spread track that last counted this destination as one of its
    /// own (see [`spread`]), and what it sent to it since.
    spread_session: Ts,
    spread_bytes: u64,
    /// Its slot is listed in [`Detector::touched`] (a property of the slot: it survives the
    /// slot's reuse by another threat, which then reports its bytes of this second).
    in_touched: bool,
    episode: Option<Episode>,
}

impl Track {
    fn new(process: Option<Arc<ProcessInfo>>) -> Track {
        Track {
            process,
            name: None,
            last: None,
            sudden: Window::new((SUDDEN_WINDOW / SUDDEN_BUCKET) as usize, SUDDEN_BUCKET),
            run_start: Ts(0),
            run_bytes: 0,
            session_start: Ts(0),
            passive: Window::new((PASSIVE_WINDOW / PASSIVE_BUCKET) as usize, PASSIVE_BUCKET),
            dports: PortTally::default(),
            sports: PortTally::default(),
            protos: PortTally::default(),
            sec_bytes: 0,
            spread_session: Ts(i64::MIN),
            spread_bytes: 0,
            in_touched: false,
            episode: None,
        }
    }

    /// A fresh track for `process` in the buffers of `old` (no allocation). Every field but
    /// the windows' buffers and `in_touched` starts as in [`Track::new`].
    fn recycle(old: Option<Track>, process: Option<Arc<ProcessInfo>>) -> Track {
        let Some(mut t) = old else { return Track::new(process) };
        t.sudden.clear();
        t.passive.clear();
        t.process = process;
        t.name = None;
        t.last = None;
        t.run_start = Ts(0);
        t.run_bytes = 0;
        t.session_start = Ts(0);
        t.dports = PortTally::default();
        t.sports = PortTally::default();
        t.protos = PortTally::default();
        t.sec_bytes = 0;
        t.spread_session = Ts(i64::MIN);
        t.spread_bytes = 0;
        t.episode = None;
        t
    }
}

impl Track {
    /// Adds another track's traffic of the same destination (see [`Detector::credit`]).
    fn absorb(&mut self, o: &Track) {
        self.sudden.absorb(&o.sudden);
        self.passive.absorb(&o.passive);
        self.dports.absorb(&o.dports);
        self.sports.absorb(&o.sports);
        self.protos.absorb(&o.protos);
        self.sec_bytes += o.sec_bytes;
        if self.name.is_none() {
            self.name.clone_from(&o.name);
        }
        if let Some(ol) = o.last {
            self.run_start = if self.last.is_some() { self.run_start.min(o.run_start) } else { o.run_start };
            self.session_start =
                if self.last.is_some() { self.session_start.min(o.session_start) } else { o.session_start };
            self.run_bytes += o.run_bytes;
            self.last = Some(self.last.map_or(ol, |l| l.max(ol)));
        }
        if let Some(ep) = &mut self.episode {
            ep.bytes += o.run_bytes;
        }
    }
}

/// Memory of a notified threat, kept for the cool-down even after its track is gone.
#[derive(Clone, Copy, Debug)]
struct Notified {
    id: u64,
    kind: LeakKind,
    at: Ts,
}

/// All detection state.
pub struct Detector {
    thresholds: Thresholds,
    realert_after: i64,
    tracks: BoundedMap<ThreatKey, Track>,
    /// Threats notified within the cool-down (at most as many as tracks).
    notified: HashMap<ThreatKey, Notified, RandomState>,
    /// Threats with an open episode (small: only alerting ones).
    open: Vec<ThreatKey>,
    /// Slots of the threats that sent something in the current second (each slot once).
    touched: Vec<SlotId>,
    current_second: i64,
    next_id: u64,
    last_sweep: i64,
    /// Spread detection: one track per program (or unattributed local socket).
    spread: spread::Spread,
}

/// A packet that counts toward detection.
#[derive(Clone, Copy, Debug)]
pub struct Counted<'a> {
    pub ts: Ts,
    pub proto: Proto,
    /// The local address (with `sport`, the socket of an unattributed packet).
    pub local: IpAddr,
    pub remote: IpAddr,
    pub dport: u16,
    pub sport: u16,
    pub payload: u32,
    pub process: Option<&'a Arc<ProcessInfo>>,
    /// The name the packet's own connection sent (TLS SNI, HTTP Host), if it did.
    pub name: Option<&'a Arc<str>>,
}

impl Detector {
    pub fn new(thresholds: Thresholds, realert_after: i64, max_tracks: usize) -> Detector {
        Detector::with_programs(thresholds, realert_after, max_tracks, (max_tracks / 4).max(8))
    }

    /// [`Detector::new`] with its own bound on spread tracks (programs and unattributed sockets).
    pub fn with_programs(
        thresholds: Thresholds,
        realert_after: i64,
        max_tracks: usize,
        max_programs: usize,
    ) -> Detector {
        Detector {
            spread: spread::Spread::new(max_programs),
            thresholds,
            realert_after,
            tracks: BoundedMap::new(max_tracks.max(8)),
            notified: HashMap::with_hasher(RandomState::new()),
            open: Vec::new(),
            touched: Vec::new(),
            current_second: i64::MIN,
            next_id: 1,
            last_sweep: i64::MIN,
        }
    }

    pub fn set_thresholds(&mut self, t: Thresholds) {
        self.thresholds = t;
    }

    /// Changes the re-alert cool-down (µs of packet time); threats already notified keep the
    /// time they were notified at and are judged against the new value.
    pub fn set_realert_after(&mut self, us: i64) {
        self.realert_after = us.max(0);
    }

    pub fn thresholds(&self) -> Thresholds {
        self.thresholds
    }

    /// Number of live tracks.
    pub fn tracks(&self) -> usize {
        self.tracks.len()
    }

    /// Most tracks held at once.
    pub fn track_capacity(&self) -> usize {
        self.tracks.capacity()
    }

    /// Most tracks held at once so far.
    pub fn tracks_peak(&self) -> usize {
        self.tracks.peak()
    }

    /// Tracks evicted to make room for new threats (the table was full).
    pub fn tracks_evicted(&self) -> u64 {
        self.tracks.evicted()
    }

    /// Bytes a full table of `max` tracks takes, with their windows' buffers (spread tracks
    /// not included: see [`Detector::spread_bytes_when_full`]).
    pub fn bytes_when_full(max: usize) -> usize {
        let windows = (SUDDEN_WINDOW / SUDDEN_BUCKET + PASSIVE_WINDOW / PASSIVE_BUCKET) as usize * size_of::<u32>();
        BoundedMap::<ThreatKey, Track>::bytes_when_full(max) + max * windows
    }

    /// Bytes a full table of `max` spread tracks takes.
    pub fn spread_bytes_when_full(max: usize) -> usize {
        spread::Spread::bytes_when_full(max)
    }

    /// Number of live spread tracks.
    pub fn programs(&self) -> usize {
        self.spread.len()
    }

    /// Advances packet time to `now`: closes quiet episodes, publishes per-second stats and
    /// evicts idle tracks. Call before each packet and on clock ticks.
    pub fn advance(
        &mut self,
        now: Ts,
        names: &Naming,
        events: &mut impl FnMut(AlertEvent),
        stats: Option<&mut dyn FnMut(Stats)>,
    ) {
        let sec = now.0.div_euclid(SECOND);
        if sec == self.current_second {
            return;
        }
        if self.current_second != i64::MIN && sec > self.current_second {
            let second = Ts(self.current_second * SECOND);
            let mut rates = Vec::new();
            for slot in self.touched.drain(..) {
                if let Some((live, key, t)) = self.tracks.slot_value_mut(slot) {
                    if live && stats.is_some() && t.sec_bytes > 0 {
                        let dest = names.describe_for(key.remote, NameScope::of(key.pid));
                        rates.push(Rate {
                            process: t.process.clone(),
                            remote: key.remote,
                            bytes: t.sec_bytes,
                            orgname: dest.orgname,
                            country: dest.country,
                        });
                    }
                    t.sec_bytes = 0;
                    t.in_touched = false;
                }
            }
            if let Some(f) = stats {
                rates.sort_by_key(|r| std::cmp::Reverse(r.bytes));
                f(Stats { second, rates });
            }
        }
        self.current_second = self.current_second.max(sec);
        self.end_quiet_episodes(now, names, events);
        self.spread.end_quiet_episodes(now, names, events);
        if self.last_sweep == i64::MIN || now.0 - self.last_sweep >= 10 * SECOND {
            self.last_sweep = now.0;
            self.sweep(now);
            self.spread.sweep(now, self.realert_after);
        }
    }

    fn end_quiet_episodes(&mut self, now: Ts, names: &Naming, events: &mut impl FnMut(AlertEvent)) {
        let mut i = 0;
        while i < self.open.len() {
            let key = self.open[i];
            let quiet = match self.tracks.get(&key) {
                Some(t) => t.last.is_none_or(|l| now.micros_since(l) > EPISODE_IDLE),
                None => true,
            };
            if quiet {
                self.open.swap_remove(i);
                if let Some(t) = self.tracks.get_mut(&key)
                    && let Some(ep) = t.episode.take()
                    && !ep.ignored
                {
                    events(AlertEvent {
                        phase: AlertPhase::End,
                        alert: build(&key, t, &ep, t.last.unwrap_or(now), names),
                    });
                }
            } else {
                i += 1;
            }
        }
    }

    fn sweep(&mut self, now: Ts) {
        let keep_for = PASSIVE_WINDOW.max(EPISODE_IDLE);
        self.tracks.retain(|_, t| t.episode.is_some() || t.last.is_some_and(|l| now.micros_since(l) <= keep_for));
        let realert = self.realert_after;
        self.notified.retain(|_, n| now.micros_since(n.at) < realert);
    }

    /// Counts one outgoing packet and raises or updates alerts: for its destination, then for
    /// its program across destinations.
    pub fn on_packet(&mut self, c: Counted<'_>, rules: &Rules, names: &Naming, events: &mut impl FnMut(AlertEvent)) {
        let (slot, opened_now) = self.on_destination(c, rules, names, events);
        // Not `at_mut`: that would mark the track as used again, and a flood of one-packet
        // threats must stay the first to be evicted.
        let Some((true, _, track)) = self.tracks.slot_value_mut(slot) else { return };
        let ctx = spread::Ctx {
            thresholds: self.thresholds,
            realert_after: self.realert_after,
            next_id: &mut self.next_id,
            rules,
            names,
        };
        self.spread.on_packet(c, track, opened_now, ctx, events);
    }

    /// The per-destination detectors. Returns the threat's slot and whether its alert opened
    /// with this packet.
    fn on_destination(
        &mut self,
        c: Counted<'_>,
        rules: &Rules,
        names: &Naming,
        events: &mut impl FnMut(AlertEvent),
    ) -> (SlotId, bool) {
        let key = ThreatKey { pid: c.process.map(|p| p.pid), remote: c.remote };
        let thresholds = self.thresholds;
        let capacity = self.tracks.capacity();
        let ts = c.ts;
        let open = &mut self.open;
        let (slot, t, _) = self.tracks.get_or_insert_with(
            key,
            |_, t| t.episode.is_none(),
            // Only when every track is alerting: the evicted alert ends here.
            |k, t| {
                if let Some(ep) = &t.episode {
                    if !ep.ignored {
                        events(AlertEvent {
                            phase: AlertPhase::End,
                            alert: build(k, t, ep, t.last.unwrap_or(ts), names),
                        });
                    }
                    open.retain(|o| o != k);
                }
            },
            |old| Track::recycle(old, c.process.cloned()),
        );
        if t.name.is_none()
            && let Some(n) = c.name
        {
            t.name = Some(n.clone());
        }
        let gap = t.last.map(|l| ts.micros_since(l).max(0));
        // A quiet spell longer than the episode limit ends the open alert here and now, even
        // if the periodic check has not run yet in this second.
        if gap.is_some_and(|g| g > EPISODE_IDLE)
            && let Some(ep) = t.episode.take()
            && !ep.ignored
        {
            events(AlertEvent { phase: AlertPhase::End, alert: build(&key, t, &ep, t.last.unwrap_or(ts), names) });
            self.open.retain(|k| *k != key);
        }
        if gap.is_none_or(|g| g > ACTIVE_MAX_GAP) {
            t.run_start = ts;
            t.run_bytes = 0;
        }
        if gap.is_none_or(|g| g > PASSIVE_MAX_GAP) {
            t.session_start = ts;
            t.passive.clear();
        }
        let n = u64::from(c.payload);
        t.run_bytes += n;
        t.passive.add(ts, c.payload);
        t.sudden.add(ts, c.payload);
        t.dports.add(c.dport, n);
        t.sports.add(c.sport, n);
        t.protos.add(u16::from(c.proto.number()), n);
        if !t.in_touched {
            t.in_touched = true;
            self.touched.push(slot);
        }
        t.sec_bytes += n;
        t.last = Some(t.last.map_or(ts, |l| l.max(ts)));

        if let Some(ep) = &mut t.episode {
            ep.bytes += n;
            if !ep.ignored && ts.micros_since(ep.last_update) >= SECOND {
                ep.last_update = ts;
                let ep = ep.clone();
                events(AlertEvent { phase: AlertPhase::Update, alert: build(&key, t, &ep, ts, names) });
            }
            return (slot, false);
        }

        let detected = if t.sudden.sum() > thresholds.max_traffic_during_10_sec {
            let started = t.sudden.oldest_start().unwrap_or(ts).max(t.session_start).min(ts);
            Some((LeakKind::Sudden, t.sudden.sum(), started))
        } else if t.run_bytes > thresholds.min_leak_size && ts.micros_since(t.run_start) >= ACTIVE_MIN_LIFETIME {
            Some((LeakKind::Active, t.run_bytes, t.run_start))
        } else if t.passive.sum() > thresholds.min_leak_size
            && ts.micros_since(t.session_start) >= PASSIVE_MIN_LIFETIME
            && !rules.is_standard_app(t.process.as_deref(), &track_facts(&key, t, LeakKind::Passive))
        {
            let started = t.passive.oldest_start().unwrap_or(ts).max(t.session_start).min(ts);
            Some((LeakKind::Passive, t.passive.sum(), started))
        } else {
            None
        };
        let Some((kind, bytes, started)) = detected else { return (slot, false) };

        // Name it and ask whether it is ignored, once per episode (never per packet).
        let mut alert = build(&key, t, &Episode::probe(kind, started, bytes), ts, names);
        let verdict = rules.judge(&alert);
        let ignored = verdict.ignored_by.is_some();
        let (id, kind, phase) = match self.notified.get(&key) {
            _ if ignored => (0, kind, AlertPhase::Update),
            Some(n) if ts.micros_since(n.at) < self.realert_after => (n.id, n.kind, AlertPhase::Update),
            _ => {
                let id = self.next_id;
                self.next_id += 1;
                remember(&mut self.notified, capacity, self.realert_after, key, Notified { id, kind, at: ts });
                (id, kind, AlertPhase::New)
            }
        };
        t.episode = Some(Episode::opened(&mut alert, id, kind, ts, verdict));
        self.open.push(key);
        if !ignored {
            events(AlertEvent { phase, alert });
        }
        (slot, true)
    }

    /// Credits to `process` what an unknown program sent to `remote` before the socket table
    /// found its owner: the unknown threat becomes (or joins) that program's threat.
    ///
    /// An unknown threat that already alerted becomes the program's, alert and all, when the
    /// program has no threat of its own to that destination (its updates and end then name the
    /// program): a short-lived program's owner can be told by the kernel a moment after all its
    /// bytes were counted. Otherwise it keeps its alert.
    pub fn credit(&mut self, remote: IpAddr, process: &Arc<ProcessInfo>) {
        let from = ThreatKey { pid: None, remote };
        let Some(from_slot) = self.tracks.slot_of(&from) else { return };
        let Some(alerted) = self.tracks.at_mut(from_slot).map(|(_, t)| t.episode.is_some()) else { return };
        let to = ThreatKey { pid: Some(process.pid), remote };
        if alerted {
            if self.tracks.slot_of(&to).is_some() {
                return;
            }
            self.tracks.rekey(&from, to);
            if let Some((_, t)) = self.tracks.at_mut(from_slot) {
                t.process = Some(process.clone());
            }
            rekey_episode(&mut self.open, &mut self.notified, &from, to);
            return;
        }
        match self.tracks.slot_of(&to) {
            None => {
                // The slot (and its place in `touched`) moves with the track.
                self.tracks.rekey(&from, to);
                if let Some((_, t)) = self.tracks.at_mut(from_slot) {
                    t.process = Some(process.clone());
                }
            }
            Some(to_slot) => {
                if let Some((moved, t)) = self.tracks.pair_mut(from_slot, to_slot) {
                    t.absorb(moved);
                    if t.sec_bytes > 0 && !t.in_touched {
                        t.in_touched = true;
                        self.touched.push(to_slot);
                    }
                }
                self.tracks.remove(&from);
            }
        }
    }

    /// Credits to `process` what the unattributed local socket `(proto, ip, port)` sent before
    /// its owner was found, for spread detection (see [`Detector::credit`] for the per-destination
    /// threats).
    pub fn credit_socket(&mut self, socket: (Proto, IpAddr, u16), process: &Arc<ProcessInfo>) {
        self.spread.credit(socket, process);
    }

    /// Asks the rules again about every open alert (after the owner ignored something):
    /// alerts that are now ignored go silent at once.
    pub fn rejudge(&mut self, rules: &Rules, names: &Naming) {
        self.spread.rejudge(rules, names);
        for key in &self.open {
            if let Some(t) = self.tracks.get_mut(key)
                && let Some(ep) = &t.episode
                && !ep.ignored
            {
                let verdict = rules.judge(&build(key, t, ep, t.last.unwrap_or(ep.started), names));
                if verdict.ignored_by.is_some() {
                    t.episode.as_mut().expect("checked above").ignored = true;
                }
            }
        }
    }

    /// Ends every open episode (end of input).
    pub fn finish(&mut self, names: &Naming, events: &mut impl FnMut(AlertEvent)) {
        self.end_quiet_episodes(Ts(i64::MAX), names, events);
        self.spread.end_quiet_episodes(Ts(i64::MAX), names, events);
    }
}

impl Episode {
    /// The episode that opens at `ts` as alert `id` of `kind`, with the rules' verdict on
    /// `alert` (built from [`Episode::probe`]), which gets the same id, kind, pattern and filter.
    fn opened(alert: &mut Alert, id: u64, kind: LeakKind, ts: Ts, verdict: crate::judge::Verdict) -> Episode {
        alert.id = id;
        alert.kind = kind;
        alert.pattern = verdict.pattern.clone();
        alert.callback_filter = verdict.callback_filter.clone();
        Episode {
            id,
            kind,
            started: alert.started,
            bytes: alert.bytes,
            last_update: ts,
            pattern: verdict.pattern,
            callback_filter: verdict.callback_filter,
            ignored: verdict.ignored_by.is_some(),
        }
    }

    /// A not-yet-judged episode, to build the alert the rules look at.
    fn probe(kind: LeakKind, started: Ts, bytes: u64) -> Episode {
        Episode {
            id: 0,
            kind,
            started,
            bytes,
            last_update: started,
            pattern: None,
            callback_filter: String::new(),
            ignored: false,
        }
    }
}

/// Remembers that `key` was notified. At most `capacity` are kept: when full (a flood of
/// alerting destinations), expired cool-downs are forgotten first, else any one.
fn remember(
    notified: &mut HashMap<ThreatKey, Notified, RandomState>,
    capacity: usize,
    realert_after: i64,
    key: ThreatKey,
    n: Notified,
) {
    if notified.len() >= capacity {
        notified.retain(|_, old| n.at.micros_since(old.at) < realert_after);
        if notified.len() >= capacity
            && let Some(k) = notified.keys().next().copied()
        {
            notified.remove(&k);
        }
    }
    notified.insert(key, n);
}

/// The protocol of a tally of IP protocol numbers that carried the most bytes (TCP when empty).
fn dominant_proto(t: &PortTally) -> Proto {
    match t.dominant() {
        0 => Proto::Tcp,
        n => Proto::from_number(u8::try_from(n).unwrap_or(0)),
    }
}

/// What patterns can know of a threat before it alerts (the standard-app test): the program by
/// its believed name only ([`ProcessInfo::believed_name`]), so a program that merely calls itself
/// `firefox` is not a standard app.
fn track_facts<'a>(key: &ThreatKey, t: &'a Track, kind: LeakKind) -> Facts<'a> {
    Facts {
        kind: Some(kind),
        pid: key.pid,
        processname: t.process.as_ref().and_then(|p| p.believed_name()),
        exe: t.process.as_ref().and_then(|p| p.exe.as_deref()),
        dstip: Some(key.remote),
        dstport: Some(t.dports.dominant()),
        srcport: Some(t.sports.dominant()),
        ..Facts::default()
    }
}

/// Moves an open episode and its notification record from key `from` to `to` (an unknown
/// sender whose program was found): shared by the per-destination and the spread detector.
fn rekey_episode<K: Copy + Eq + std::hash::Hash, N>(
    open: &mut [K],
    notified: &mut HashMap<K, N, RandomState>,
    from: &K,
    to: K,
) {
    for k in open.iter_mut().filter(|k| *k == from) {
        *k = to;
    }
    if let Some(n) = notified.remove(from) {
        notified.insert(to, n);
    }
}

/// The alert for an episode; its destination is named now (never per packet).
fn build(key: &ThreatKey, t: &Track, ep: &Episode, at: Ts, names: &Naming) -> Alert {
    let target = Target {
        dstip: key.remote,
        dstport: t.dports.dominant(),
        srcport: t.sports.dominant(),
        proto: dominant_proto(&t.protos),
        destinations: 1,
        top: Vec::new(),
    };
    // The threat's own connections' claim first, then what DNS told this program.
    let claimed = t.name.as_ref().map(|n| n.to_string());
    alert_of(ep, t.process.clone(), target, claimed, NameScope::of(key.pid), at, names)
}

/// Where an alert's bytes went.
struct Target {
    dstip: IpAddr,
    dstport: u16,
    srcport: u16,
    proto: Proto,
    destinations: u32,
    top: Vec<(IpAddr, u64)>,
}

/// The alert of an episode of `process` to `target`, its destination (`target.dstip`) named now
/// in `scope`; `claimed` is the name the threat's own connections sent (TLS SNI, HTTP Host).
fn alert_of(
    ep: &Episode,
    process: Option<Arc<ProcessInfo>>,
    target: Target,
    claimed: Option<String>,
    scope: NameScope,
    at: Ts,
    names: &Naming,
) -> Alert {
    let dest = names.describe_for_alert(target.dstip, scope);
    // Only the system resolver's answer is not the sender's (or the address holder's) choice.
    let (hostname, from_system) = match claimed {
        Some(n) => (Some(n), false),
        None => (dest.hostname, dest.source == Some((NameSource::Dns, NameScope::Everyone))),
    };
    let name_trust = hostname.as_deref().map(|h| owner::trust(h, from_system, dest.orgname.as_deref()));
    let mut alert = Alert {
        id: ep.id,
        kind: ep.kind,
        pattern: ep.pattern.clone(),
        process,
        dstip: target.dstip,
        dstport: target.dstport,
        srcport: target.srcport,
        proto: target.proto,
        destinations: target.destinations,
        top: target.top,
        hostname,
        orgname: dest.orgname,
        asn: dest.asn,
        country: dest.country,
        name_trust,
        bytes: ep.bytes,
        started: ep.started,
        at,
        callback_filter: ep.callback_filter.clone(),
    };
    if alert.callback_filter.is_empty() {
        alert.callback_filter = alert.fallback_callback_filter();
    }
    alert
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::Mode;

    fn counted(remote: IpAddr, t: i64, payload: u32) -> Counted<'static> {
        Counted {
            ts: Ts(t),
            proto: Proto::Tcp,
            local: IpAddr::from([10, 0, 0, 1]),
            remote,
            dport: 443,
            sport: 40_000,
            payload,
            process: None,
            name: None,
        }
    }

    #[test]
    fn a_full_table_keeps_the_busy_track_and_recycles_the_others() {
        let mut d = Detector::new(Thresholds::default(), 600 * SECOND, 8);
        let (rules, names) = (Rules::shipped(Mode::Paranoid), Naming::default());
        let upload: IpAddr = "203.0.113.77".parse().unwrap();
        let mut events = Vec::new();
        for i in 0..1000u32 {
            let t = i64::from(i) * 10_000;
            d.on_packet(counted(upload, t, 1448), &rules, &names, &mut |e| events.push(e));
            let other = IpAddr::from([45, 0, (i >> 8) as u8, i as u8]);
            // From a socket of its own each (one socket to 1000 addresses would be a spread upload).
            let flood = Counted { sport: 1_000 + i as u16, ..counted(other, t + 1, 200) };
            d.on_packet(flood, &rules, &names, &mut |e| events.push(e));
            assert!(d.tracks() <= 8);
        }
        assert_eq!(d.tracks_evicted(), 1000 - 7, "every flood destination but the last seven");
        let new: Vec<_> = events.iter().filter(|e| e.phase == AlertPhase::New).collect();
        assert_eq!(new.len(), 1);
        assert_eq!((new[0].alert.dstip, new[0].alert.kind), (upload, LeakKind::Sudden));
        // Each slot is listed once for the second's statistics, however many threats went
        // through it (no clock tick here: the list is never drained).
        assert!(d.touched.len() <= 8);
    }

    #[test]
    fn a_table_full_of_alerting_tracks_ends_the_alert_it_evicts() {
        let thresholds = Thresholds { max_traffic_during_10_sec: 1_000, ..Thresholds::default() };
        let mut d = Detector::new(thresholds, 600 * SECOND, 8);
        let (rules, names) = (Rules::shipped(Mode::Paranoid), Naming::default());
        let mut events = Vec::new();
        for i in 0..9u8 {
            d.on_packet(counted(IpAddr::from([198, 51, 100, i]), i64::from(i), 2_000), &rules, &names, &mut |e| {
                events.push(e)
            });
        }
        let count = |events: &[AlertEvent], p: AlertPhase| events.iter().filter(|e| e.phase == p).count();
        assert_eq!((count(&events, AlertPhase::New), count(&events, AlertPhase::End)), (9, 1));
        assert_eq!((d.tracks(), d.open.len(), d.tracks_evicted()), (8, 8, 1));
        d.finish(&names, &mut |e| events.push(e));
        assert_eq!(count(&events, AlertPhase::End), 9, "every alert ends once");
    }
}
