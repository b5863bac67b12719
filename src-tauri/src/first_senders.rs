//! First-time senders: the first time a program that was never seen sending before (not in the
//! history, not earlier in this run) sends more than [`THRESHOLD`] bytes to destinations outside
//! the local networks, one notification with the ignore buttons (which ignore the program by its
//! executable path).
//!
//! Fed by the per-second upload statistics the app already receives (the engine's, or the
//! service's `stats` events): per program per second, never per packet. "Seen before" is every
//! program the history has upload totals of (`programs` over all time), so a restart does not
//! notify again: the history records the bytes that made a program known.

use leakwatch::detect::Stats;
use std::collections::{HashMap, HashSet};

/// Bytes a new program must send (in one run) before it is announced.
pub const THRESHOLD: u64 = 8 * 1024;
/// First-sender notifications use ids from here up, apart from alert ids.
pub const NOTE_BASE: u64 = 1 << 52;
/// Most programs followed while under the threshold (a flood of new programs stays bounded).
const MAX_PENDING: usize = 4096;

/// A program announced as a first-time sender.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSender {
    /// Its notification's id (from [`NOTE_BASE`] up).
    pub note_id: u64,
    /// The program as history keys it: executable path, else name.
    pub program: String,
    pub name: String,
    pub pid: u32,
    /// Its executable's path, when known (only then can it be ignored as a program).
    pub exe: Option<String>,
    /// Bytes sent in this run when it crossed the threshold.
    pub bytes: u64,
    /// The destination of its largest upload in that second, named when known.
    pub remote: String,
    pub orgname: Option<String>,
    pub country: Option<String>,
}

/// The detector's state.
#[derive(Debug, Default)]
pub struct FirstSenders {
    /// Programs seen sending before (`None` until the history answered: nothing is announced
    /// before it is known what is new).
    known: Option<HashSet<String>>,
    /// New programs' bytes so far in this run.
    pending: HashMap<String, u64>,
    /// Announced in this run: note id → program.
    pub announced: HashMap<u64, NewSender>,
}

impl FirstSenders {
    /// The programs the history knows (all that ever sent).
    pub fn set_known(&mut self, programs: impl IntoIterator<Item = String>) {
        let known = self.known.get_or_insert_with(HashSet::new);
        known.extend(programs);
        let known = &*known;
        self.pending.retain(|p, _| !known.contains(p));
    }

    /// Whether the history has answered.
    pub fn ready(&self) -> bool {
        self.known.is_some()
    }

    /// Counts one second of uploads; returns the programs that became first-time senders.
    /// Unattributed bytes belong to no program and are left out.
    pub fn observe(&mut self, s: &Stats) -> Vec<NewSender> {
        let mut out = Vec::new();
        for r in &s.rates {
            let Some(p) = &r.process else { continue };
            let program = p.exe.clone().unwrap_or_else(|| p.name.clone());
            if self.known.as_ref().is_some_and(|k| k.contains(&program)) {
                continue;
            }
            if !self.pending.contains_key(&program) && self.pending.len() >= MAX_PENDING {
                continue;
            }
            let total = self.pending.entry(program.clone()).or_default();
            *total += r.bytes;
            if *total <= THRESHOLD || self.known.is_none() {
                continue;
            }
            let bytes = *total;
            self.pending.remove(&program);
            if let Some(k) = self.known.as_mut() {
                k.insert(program.clone());
            }
            let note_id = NOTE_BASE + self.announced.len() as u64;
            let sender = NewSender {
                note_id,
                program,
                name: p.name.clone(),
                pid: p.pid,
                exe: p.exe.clone(),
                bytes,
                remote: r.remote.to_string(),
                orgname: r.orgname.clone(),
                country: r.country.clone(),
            };
            self.announced.insert(note_id, sender.clone());
            out.push(sender);
        }
        out
    }

    /// Programs announced in this run (the Programs view marks them new).
    pub fn programs(&self) -> Vec<String> {
        let mut v: Vec<String> = self.announced.values().map(|s| s.program.clone()).collect();
        v.sort();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use leakwatch::detect::Rate;
    use leakwatch::process::ProcessInfo;
    use leakwatch::time::Ts;
    use std::sync::Arc;

    /// A program's name and executable path.
    type Program<'a> = Option<(&'a str, Option<&'a str>)>;

    fn second(t: i64, rates: &[(Program<'_>, u64)]) -> Stats {
        Stats {
            second: Ts::from_secs_f64(t as f64),
            rates: rates
                .iter()
                .map(|(p, bytes)| Rate {
                    process: p.map(|(name, exe)| {
                        Arc::new(ProcessInfo {
                            pid: 7,
                            name: name.into(),
                            exe: exe.map(str::to_string),
                            installed: false,
                        })
                    }),
                    remote: "203.0.113.7".parse().unwrap(),
                    bytes: *bytes,
                    orgname: Some("Example Org".into()),
                    country: Some("NL".into()),
                })
                .collect(),
        }
    }

    #[test]
    fn a_new_program_is_announced_once_when_it_passes_the_threshold() {
        let mut f = FirstSenders::default();
        let curl = Some(("curl", Some("/usr/bin/curl")));
        // Not ready: counted, not announced.
        assert!(f.observe(&second(1, &[(curl, 6000)])).is_empty());
        f.set_known(["/usr/bin/ssh".to_string()]);
        assert!(f.ready());
        let ssh = Some(("ssh", Some("/usr/bin/ssh")));
        let got = f.observe(&second(2, &[(curl, 3000), (ssh, 1_000_000), (None, 1_000_000)]));
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!((got[0].program.as_str(), got[0].bytes, got[0].note_id), ("/usr/bin/curl", 9000, NOTE_BASE));
        assert!(f.observe(&second(3, &[(curl, 1_000_000)])).is_empty(), "once only");
        // Under the threshold: nothing yet.
        let tiny = Some(("tiny", Some("/opt/tiny")));
        assert!(f.observe(&second(4, &[(tiny, THRESHOLD)])).is_empty());
        assert_eq!(f.observe(&second(5, &[(tiny, 1)])).len(), 1);
        assert_eq!(f.programs(), vec!["/opt/tiny".to_string(), "/usr/bin/curl".to_string()]);
    }

    #[test]
    fn programs_the_history_knows_are_never_announced() {
        let mut f = FirstSenders::default();
        let curl = Some(("curl", Some("/usr/bin/curl")));
        assert!(f.observe(&second(1, &[(curl, 100_000)])).is_empty());
        f.set_known(["/usr/bin/curl".to_string()]);
        assert!(f.observe(&second(2, &[(curl, 100_000)])).is_empty());
    }
}
