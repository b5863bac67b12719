//! Spread uploads: one program's upload summed over all its destinations, so a program that
//! sends a little to each of many addresses (each under every per-destination threshold) is
//! caught. Semantics, with a timeline, in `docs/detection.md` §3 "Spread".
//!
//! One track per program (by pid), or per unattributed local socket (protocol, address, port):
//! unknown senders are never summed together, so a replay (where no program is known) or a
//! machine full of unattributed short connections does not make one giant "unknown program".
//! Each track keeps a 10 s window of what it sent (100 slots of 0.1 s) minus what went to
//! destinations that alert on their own (their bytes are taken out when their alert opens), the
//! number of destinations of its current session and the top destinations by bytes. Tracks are
//! bounded like the per-destination ones ([`BoundedMap`], CLOCK eviction of a track without an
//! open alert, buffers reused): no allocation per packet.

use super::ports::PortTally;
use super::{Counted, Episode, Target, Track, Window, alert_of, dominant_proto};
use crate::alert::{Alert, AlertEvent, AlertPhase, LeakKind, TOP_DESTINATIONS};
use crate::bounded::BoundedMap;
use crate::judge::Rules;
use crate::naming::Naming;
use crate::packet::Proto;
use crate::process::ProcessInfo;
use crate::settings::{Thresholds, timing::*};
use crate::time::{SECOND, Ts};
use ahash::RandomState;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

/// Whose upload a spread track sums.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProgramKey {
    /// A program, by process id.
    Pid(u32),
    /// Traffic whose program is not known, by its local socket: protocol, address and port (for
    /// ICMP the echo identifier; 0 for protocols without ports).
    Socket(Proto, IpAddr, u16),
}

/// One program's (or unattributed socket's) spread track.
#[derive(Clone, Debug)]
struct Program {
    process: Option<Arc<ProcessInfo>>,
    last: Option<Ts>,
    /// Start of the current session (no gap longer than [`EPISODE_IDLE`]).
    session_start: Ts,
    /// Bytes of the last 10 s, not counting destinations with an alert of their own.
    window: Window,
    /// Destinations sent to in this session.
    destinations: u32,
    /// The destinations that received the most in this session (bytes 0: unused).
    top: [(IpAddr, u64); TOP_DESTINATIONS],
    dports: PortTally,
    sports: PortTally,
    protos: PortTally,
    episode: Option<Episode>,
}

const NO_DESTINATION: (IpAddr, u64) = (IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0);

impl Program {
    fn new(process: Option<Arc<ProcessInfo>>) -> Program {
        Program {
            process,
            last: None,
            session_start: Ts(i64::MIN),
            window: Window::new((SUDDEN_WINDOW / SUDDEN_BUCKET) as usize, SUDDEN_BUCKET),
            destinations: 0,
            top: [NO_DESTINATION; TOP_DESTINATIONS],
            dports: PortTally::default(),
            sports: PortTally::default(),
            protos: PortTally::default(),
            episode: None,
        }
    }

    /// A fresh track in the buffers of `old` (no allocation).
    fn recycle(old: Option<Program>, process: Option<Arc<ProcessInfo>>) -> Program {
        let Some(mut p) = old else { return Program::new(process) };
        p.window.clear();
        p.process = process;
        p.last = None;
        p.session_start = Ts(i64::MIN);
        p.new_session();
        p.episode = None;
        p
    }

    fn new_session(&mut self) {
        self.window.clear();
        self.destinations = 0;
        self.top = [NO_DESTINATION; TOP_DESTINATIONS];
        self.dports = PortTally::default();
        self.sports = PortTally::default();
        self.protos = PortTally::default();
    }

    /// Records that `remote` has now received `bytes` in this session. The list stays the exact
    /// top: counts only grow, so a destination left out never had more than the smallest kept.
    fn rank(&mut self, remote: IpAddr, bytes: u64) {
        if let Some(e) = self.top.iter_mut().find(|e| e.1 > 0 && e.0 == remote) {
            e.1 = e.1.max(bytes);
            return;
        }
        let min = self.top.iter_mut().min_by_key(|e| e.1).expect("a non-empty list");
        if bytes > min.1 {
            *min = (remote, bytes);
        }
    }

    /// The top destinations, most first (ties: lower address first).
    fn top_sorted(&self) -> Vec<(IpAddr, u64)> {
        let mut v: Vec<(IpAddr, u64)> = self.top.iter().copied().filter(|e| e.1 > 0).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v
    }

    /// Adds the traffic of another track of the same program (see [`Spread::credit`]).
    fn absorb(&mut self, o: &Program) {
        self.window.absorb(&o.window);
        self.destinations += o.destinations;
        for &(ip, bytes) in o.top.iter().filter(|e| e.1 > 0) {
            self.rank(ip, bytes);
        }
        self.dports.absorb(&o.dports);
        self.sports.absorb(&o.sports);
        self.protos.absorb(&o.protos);
        if let Some(ol) = o.last {
            self.session_start =
                if self.last.is_some() { self.session_start.min(o.session_start) } else { o.session_start };
            self.last = Some(self.last.map_or(ol, |l| l.max(ol)));
        }
    }
}

/// What the spread detector needs from its [`super::Detector`] for one packet.
pub(super) struct Ctx<'a> {
    pub thresholds: Thresholds,
    pub realert_after: i64,
    pub next_id: &'a mut u64,
    pub rules: &'a Rules,
    pub names: &'a Naming,
}

/// All spread-detection state.
pub(super) struct Spread {
    programs: BoundedMap<ProgramKey, Program>,
    /// Programs notified within the cool-down.
    notified: HashMap<ProgramKey, (u64, Ts), RandomState>,
    /// Programs with an open episode.
    open: Vec<ProgramKey>,
}

impl Spread {
    pub fn new(max: usize) -> Spread {
        Spread {
            programs: BoundedMap::new(max.max(8)),
            notified: HashMap::with_hasher(RandomState::new()),
            open: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.programs.len()
    }

    pub fn bytes_when_full(max: usize) -> usize {
        let window = (SUDDEN_WINDOW / SUDDEN_BUCKET) as usize * size_of::<u32>();
        BoundedMap::<ProgramKey, Program>::bytes_when_full(max) + max * window
    }

    /// Counts one packet of `c`'s program to the destination whose threat is `track`
    /// (`opened_now`: that threat's own alert opened with this packet).
    pub fn on_packet(
        &mut self,
        c: Counted<'_>,
        track: &mut Track,
        opened_now: bool,
        ctx: Ctx<'_>,
        events: &mut impl FnMut(AlertEvent),
    ) {
        let key = match c.process {
            Some(p) => ProgramKey::Pid(p.pid),
            None => ProgramKey::Socket(c.proto, c.local, c.sport),
        };
        let ts = c.ts;
        let names = ctx.names;
        let capacity = self.programs.capacity();
        let open = &mut self.open;
        let (_, p, _) = self.programs.get_or_insert_with(
            key,
            |_, p| p.episode.is_none(),
            // Only when every track is alerting: the evicted alert ends here.
            |k, p| {
                if let Some(ep) = &p.episode {
                    if !ep.ignored {
                        let alert = build(k, p, ep, p.last.unwrap_or(ts), names);
                        events(AlertEvent { phase: AlertPhase::End, alert });
                    }
                    open.retain(|o| o != k);
                }
            },
            |old| Program::recycle(old, c.process.cloned()),
        );
        if p.last.is_none_or(|l| ts.micros_since(l) > EPISODE_IDLE) {
            if let Some(ep) = p.episode.take() {
                if !ep.ignored {
                    let alert = build(&key, p, &ep, p.last.unwrap_or(ts), names);
                    events(AlertEvent { phase: AlertPhase::End, alert });
                }
                self.open.retain(|k| *k != key);
            }
            p.session_start = ts;
            p.new_session();
        }
        let n = u64::from(c.payload);
        if track.spread_session != p.session_start {
            track.spread_session = p.session_start;
            track.spread_bytes = 0;
            p.destinations += 1;
        }
        track.spread_bytes += n;
        p.rank(c.remote, track.spread_bytes);
        p.dports.add(c.dport, n);
        p.sports.add(c.sport, n);
        p.protos.add(u16::from(c.proto.number()), n);
        p.last = Some(p.last.map_or(ts, |l| l.max(ts)));
        // A destination alerting on its own is that alert's business: its bytes leave the sum.
        let own_alert = track.episode.is_some();
        if !own_alert || opened_now {
            p.window.add(ts, c.payload);
        }
        if opened_now {
            p.window.subtract(&track.sudden);
        }

        if let Some(ep) = &mut p.episode {
            if !own_alert {
                ep.bytes += n;
            }
            if !ep.ignored && ts.micros_since(ep.last_update) >= SECOND {
                ep.last_update = ts;
                let ep = ep.clone();
                events(AlertEvent { phase: AlertPhase::Update, alert: build(&key, p, &ep, ts, names) });
            }
            return;
        }
        if p.window.sum() <= ctx.thresholds.max_spread_during_10_sec
            || p.destinations < ctx.thresholds.min_spread_destinations.max(1)
        {
            return;
        }
        let started = p.window.oldest_start().unwrap_or(ts).max(p.session_start).min(ts);
        let bytes = p.window.sum();
        let mut alert = build(&key, p, &Episode::probe(LeakKind::Spread, started, bytes), ts, names);
        let verdict = ctx.rules.judge(&alert);
        let ignored = verdict.ignored_by.is_some();
        let (id, phase) = match self.notified.get(&key) {
            _ if ignored => (0, AlertPhase::Update),
            Some((id, at)) if ts.micros_since(*at) < ctx.realert_after => (*id, AlertPhase::Update),
            _ => {
                let id = *ctx.next_id;
                *ctx.next_id += 1;
                if self.notified.len() >= capacity {
                    let realert = ctx.realert_after;
                    self.notified.retain(|_, (_, at)| ts.micros_since(*at) < realert);
                    if self.notified.len() >= capacity
                        && let Some(k) = self.notified.keys().next().copied()
                    {
                        self.notified.remove(&k);
                    }
                }
                self.notified.insert(key, (id, ts));
                (id, AlertPhase::New)
            }
        };
        p.episode = Some(Episode::opened(&mut alert, id, LeakKind::Spread, ts, verdict));
        self.open.push(key);
        if !ignored {
            events(AlertEvent { phase, alert });
        }
    }

    /// Ends the episodes of programs quiet for longer than [`EPISODE_IDLE`] at `now`.
    pub fn end_quiet_episodes(&mut self, now: Ts, names: &Naming, events: &mut impl FnMut(AlertEvent)) {
        let mut i = 0;
        while i < self.open.len() {
            let key = self.open[i];
            let quiet = match self.programs.get(&key) {
                Some(p) => p.last.is_none_or(|l| now.micros_since(l) > EPISODE_IDLE),
                None => true,
            };
            if !quiet {
                i += 1;
                continue;
            }
            self.open.swap_remove(i);
            if let Some(p) = self.programs.get_mut(&key)
                && let Some(ep) = p.episode.take()
                && !ep.ignored
            {
                events(AlertEvent { phase: AlertPhase::End, alert: build(&key, p, &ep, p.last.unwrap_or(now), names) });
            }
        }
    }

    /// Forgets programs quiet for longer than any window, and cool-downs that expired.
    pub fn sweep(&mut self, now: Ts, realert_after: i64) {
        let keep_for = SUDDEN_WINDOW.max(EPISODE_IDLE);
        self.programs.retain(|_, p| p.episode.is_some() || p.last.is_some_and(|l| now.micros_since(l) <= keep_for));
        self.notified.retain(|_, (_, at)| now.micros_since(*at) < realert_after);
    }

    /// The unattributed socket's track becomes (or joins) its program's, once the owner is known.
    /// One that already alerted keeps its alert unless the program has no track of its own.
    pub fn credit(&mut self, (proto, ip, port): (Proto, IpAddr, u16), process: &Arc<ProcessInfo>) {
        let from = ProgramKey::Socket(proto, ip, port);
        let to = ProgramKey::Pid(process.pid);
        let Some(from_slot) = self.programs.slot_of(&from) else { return };
        let to_slot = self.programs.slot_of(&to);
        let alerted = self.programs.at_mut(from_slot).is_some_and(|(_, p)| p.episode.is_some());
        match to_slot {
            None => {
                self.programs.rekey(&from, to);
                if let Some((_, p)) = self.programs.at_mut(from_slot) {
                    p.process = Some(process.clone());
                }
                super::rekey_episode(&mut self.open, &mut self.notified, &from, to);
            }
            Some(_) if alerted => {}
            Some(to_slot) => {
                if let Some((moved, p)) = self.programs.pair_mut(from_slot, to_slot) {
                    p.absorb(moved);
                }
                self.programs.remove(&from);
            }
        }
    }

    /// Asks the rules again about every open spread alert.
    pub fn rejudge(&mut self, rules: &Rules, names: &Naming) {
        for key in &self.open {
            if let Some(p) = self.programs.get_mut(key)
                && let Some(ep) = &p.episode
                && !ep.ignored
                && rules.judge(&build(key, p, ep, p.last.unwrap_or(ep.started), names)).ignored_by.is_some()
            {
                p.episode.as_mut().expect("checked above").ignored = true;
            }
        }
    }
}

/// The alert of a spread episode: the program, its destination count and top destinations; the
/// destination fields name the one that received the most.
fn build(key: &ProgramKey, p: &Program, ep: &Episode, at: Ts, names: &Naming) -> Alert {
    let top = p.top_sorted();
    let srcport = match key {
        ProgramKey::Socket(_, _, port) => *port,
        ProgramKey::Pid(_) => p.sports.dominant(),
    };
    let target = Target {
        dstip: top.first().map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |e| e.0),
        dstport: p.dports.dominant(),
        srcport,
        proto: dominant_proto(&p.protos),
        destinations: p.destinations,
        top,
    };
    let pid = match key {
        ProgramKey::Pid(pid) => Some(*pid),
        ProgramKey::Socket(..) => None,
    };
    alert_of(ep, p.process.clone(), target, None, crate::naming::NameScope::of(pid), at, names)
}

#[cfg(test)]
mod tests {
    use super::super::Detector;
    use super::*;
    use crate::judge::Mode;

    const KB: u32 = 1000;

    fn curl() -> Arc<ProcessInfo> {
        Arc::new(ProcessInfo { pid: 7, name: "curl".into(), exe: Some("/usr/bin/curl".into()), installed: true })
    }

    fn dest(i: u32) -> IpAddr {
        IpAddr::from([203, 0, 113, i as u8])
    }

    /// Sends `each` bytes to each of `n` destinations in 1 KB packets, one destination after the
    /// other, all within `secs` seconds; `sport(i)` is the local port used for destination `i`.
    fn spray(
        d: &mut Detector,
        rules: &Rules,
        process: Option<&Arc<ProcessInfo>>,
        n: u32,
        each: u32,
        secs: f64,
        sport: impl Fn(u32) -> u16,
    ) -> Vec<AlertEvent> {
        let names = Naming::default();
        let mut events = Vec::new();
        let packets = n * each.div_ceil(KB);
        let step = (secs * 1e6 / f64::from(packets)) as i64;
        let mut k = 0i64;
        for i in 0..n {
            for _ in 0..each.div_ceil(KB) {
                let c = Counted {
                    ts: Ts(k * step),
                    proto: Proto::Tcp,
                    local: IpAddr::from([10, 0, 0, 1]),
                    remote: dest(i),
                    dport: 9000,
                    sport: sport(i),
                    payload: KB,
                    process,
                    name: None,
                };
                d.advance(c.ts, &names, &mut |e| events.push(e), None);
                d.on_packet(c, rules, &names, &mut |e| events.push(e));
                k += 1;
            }
        }
        d.finish(&names, &mut |e| events.push(e));
        events
    }

    fn adequate() -> Rules {
        Rules::shipped(Mode::Adequate)
    }

    fn detector() -> Detector {
        Detector::new(Thresholds::default(), 600 * SECOND, 1024)
    }

    fn news(events: &[AlertEvent]) -> Vec<&Alert> {
        events.iter().filter(|e| e.phase == AlertPhase::New).map(|e| &e.alert).collect()
    }

    #[test]
    fn one_megabyte_as_20_kb_to_each_of_50_addresses_in_10_s_is_one_spread_alert() {
        let mut d = detector();
        let p = curl();
        let events = spray(&mut d, &adequate(), Some(&p), 50, 20 * KB, 10.0, |i| 40_000 + i as u16);
        let new = news(&events);
        assert_eq!(new.len(), 1, "{new:#?}");
        let a = new[0];
        assert_eq!((a.kind, a.process.as_ref().map(|p| p.pid)), (LeakKind::Spread, Some(7)));
        // Fired when the 10 s sum passed 256 KiB: during the 14th destination.
        assert!(a.bytes > 262_144 && a.destinations == 14, "{a:#?}");
        assert!(a.callback_filter.contains(r#""kind":"^\\Qspread\\E$""#), "{}", a.callback_filter);
        let end = events.iter().rfind(|e| e.phase == AlertPhase::End).expect("an end");
        assert_eq!((end.alert.id, end.alert.destinations), (a.id, 50));
        assert_eq!(end.alert.top.len(), TOP_DESTINATIONS);
        assert!(end.alert.top.iter().all(|t| t.1 == 20_000), "{:?}", end.alert.top);
        assert_eq!(end.alert.bytes, 1_000_000, "every byte from the start of the episode's window on");
    }

    #[test]
    fn an_upload_to_one_address_is_not_also_a_spread_upload() {
        let mut d = detector();
        let p = curl();
        // 400 KB to one address, then 20 KB to each of four others: the big one alerts on its own
        // and its bytes leave the spread sum.
        let (rules, names) = (Rules::shipped(Mode::Paranoid), Naming::default());
        let mut events = Vec::new();
        for k in 0..480i64 {
            let remote = if k < 400 { dest(0) } else { dest(1 + (k as u32 - 400) / 20) };
            let c = Counted {
                ts: Ts(k * 10_000),
                proto: Proto::Tcp,
                local: IpAddr::from([10, 0, 0, 1]),
                remote,
                dport: 443,
                sport: 40_000,
                payload: KB,
                process: Some(&p),
                name: None,
            };
            d.on_packet(c, &rules, &names, &mut |e| events.push(e));
        }
        d.finish(&names, &mut |e| events.push(e));
        let kinds: Vec<_> = news(&events).iter().map(|a| (a.kind, a.dstip)).collect();
        assert_eq!(kinds, vec![(LeakKind::Sudden, dest(0))]);
    }

    #[test]
    fn too_few_destinations_or_too_little_is_no_spread_alert() {
        let p = curl();
        // 3 × 95 KB = 285 KB in 10 s, but only three destinations.
        assert!(news(&spray(&mut detector(), &adequate(), Some(&p), 3, 95 * KB, 9.0, |_| 40_000)).is_empty());
        // 50 × 5 KB: 250 KB, under 256 KiB.
        assert!(news(&spray(&mut detector(), &adequate(), Some(&p), 50, 5 * KB, 9.0, |_| 40_000)).is_empty());
        // The same 1 MB spread over 60 s: never 256 KiB within 10 s.
        assert!(news(&spray(&mut detector(), &adequate(), Some(&p), 50, 20 * KB, 60.0, |_| 40_000)).is_empty());
    }

    #[test]
    fn unknown_senders_are_summed_per_local_socket_never_together() {
        // 50 unattributed sockets, one per destination: nothing to sum.
        assert!(news(&spray(&mut detector(), &adequate(), None, 50, 20 * KB, 10.0, |i| 40_000 + i as u16)).is_empty());
        // One unattributed socket spraying 50 destinations: an alert naming the socket's port.
        let events = spray(&mut detector(), &adequate(), None, 50, 20 * KB, 10.0, |_| 5353);
        let new = news(&events);
        assert_eq!(new.len(), 1);
        assert_eq!((new[0].kind, new[0].process.is_none(), new[0].srcport), (LeakKind::Spread, true, 5353));
        assert!(new[0].callback_filter.contains(r#""srcport":"^\\Q5353\\E$""#), "{}", new[0].callback_filter);
    }

    #[test]
    fn a_socket_attributed_late_brings_its_bytes_to_its_program() {
        let mut d = detector();
        let (rules, names) = (Rules::shipped(Mode::Paranoid), Naming::default());
        let p = curl();
        let mut events = Vec::new();
        let local = IpAddr::from([10, 0, 0, 1]);
        let mut send = |d: &mut Detector, k: i64, process: Option<&Arc<ProcessInfo>>| {
            let c = Counted {
                ts: Ts(k * 20_000),
                proto: Proto::Udp,
                local,
                remote: dest((k / 20) as u32),
                dport: 53,
                sport: 41_000,
                payload: KB,
                process,
                name: None,
            };
            d.on_packet(c, &rules, &names, &mut |e| events.push(e));
        };
        // 200 KB unattributed to 10 destinations, then the owner is known, then 100 KB more.
        for k in 0..200 {
            send(&mut d, k, None);
        }
        d.credit_socket((Proto::Udp, local, 41_000), &p);
        for k in 200..300 {
            send(&mut d, k, Some(&p));
        }
        let new = news(&events);
        assert_eq!(new.len(), 1, "{new:#?}");
        assert_eq!(new[0].process.as_ref().map(|p| p.pid), Some(7));
        assert_eq!(new[0].proto, Proto::Udp);
    }

    /// "Always ignore" on a spread alert (its callback filter) silences that program's spread
    /// uploads and nothing else: its upload to one address still alerts.
    #[test]
    fn ignoring_a_spread_alert_leaves_the_programs_other_uploads_alerting() {
        let p = curl();
        let mut rules = adequate();
        let events = spray(&mut detector(), &rules, Some(&p), 50, 20 * KB, 10.0, |_| 40_000);
        let filter: serde_json::Value = serde_json::from_str(&news(&events)[0].callback_filter).unwrap();
        assert!(rules.check_not_over_broad(&filter.to_string()).is_ok(), "{filter}");
        assert!(rules.set_user_ignores([(1, &filter)]).is_empty());
        let again = spray(&mut detector(), &rules, Some(&p), 50, 20 * KB, 10.0, |_| 40_000);
        assert!(again.is_empty(), "{again:#?}");
        let one = spray(&mut detector(), &rules, Some(&p), 1, 400 * KB, 3.0, |_| 40_000);
        let kinds: Vec<_> = news(&one).iter().map(|a| a.kind).collect();
        assert_eq!(kinds, vec![LeakKind::Sudden]);
        // Another program's spread upload still alerts.
        let other = Arc::new(ProcessInfo { pid: 8, name: "wget".into(), exe: None, installed: false });
        assert_eq!(news(&spray(&mut detector(), &rules, Some(&other), 50, 20 * KB, 10.0, |_| 1)).len(), 1);
    }

    /// A flood of unattributed sockets (one packet each) keeps the spread table within its bound
    /// and evicts them first: a program spraying through it is still caught.
    #[test]
    fn a_flood_of_sockets_keeps_the_spread_table_bounded() {
        let mut d = Detector::with_programs(Thresholds::default(), 600 * SECOND, 16_384, 8);
        let (rules, names) = (adequate(), Naming::default());
        let p = curl();
        let mut events = Vec::new();
        for k in 0..5_000u32 {
            let c = |process, sport, remote, payload| Counted {
                ts: Ts(i64::from(k) * 2_000),
                proto: Proto::Udp,
                local: IpAddr::from([10, 0, 0, 1]),
                remote,
                dport: 53,
                sport,
                payload,
                process,
                name: None,
            };
            let flood = c(None, 1_024 + (k % 60_000) as u16, IpAddr::from([45, 1, (k >> 8) as u8, k as u8]), 60);
            d.on_packet(flood, &rules, &names, &mut |e| events.push(e));
            let spray = c(Some(&p), 40_000, dest(k / 100), 200);
            d.on_packet(spray, &rules, &names, &mut |e| events.push(e));
            assert!(d.programs() <= 8);
        }
        let new = news(&events);
        assert_eq!(new.len(), 1, "{new:#?}");
        assert_eq!((new[0].kind, new[0].process.as_ref().map(|p| p.pid)), (LeakKind::Spread, Some(7)));
    }

    #[test]
    fn top_destinations_are_exact() {
        let mut p = Program::new(None);
        for (i, bytes) in [(1u32, 10u64), (2, 50), (3, 20), (4, 5), (5, 30), (6, 40), (7, 1)] {
            p.rank(dest(i), bytes);
        }
        p.rank(dest(4), 60);
        let top: Vec<u32> = p
            .top_sorted()
            .iter()
            .map(|(ip, _)| if let IpAddr::V4(v4) = ip { u32::from(v4.octets()[3]) } else { 0 })
            .collect();
        assert_eq!(top, vec![4, 2, 6, 5, 3]);
    }
}
