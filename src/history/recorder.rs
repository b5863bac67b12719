//! The writer thread: takes alert events, per-second upload figures, ended flows (for the bytes
//! each program received) and ignores from an `EngineHandle` subscription, folds them into
//! per-minute (received: per-hour) totals and writes them in batches
//! (one transaction at most every second, or every `BATCH` events). The engine never waits
//! for it: live subscriptions are bounded and what does not fit is dropped and counted by the
//! engine (`Summary::dropped_events`). Ended flows come unnamed (`subscribe_flow_ends`): the
//! recorder needs only their program and bytes, so the engine looks up no names for it.

use super::store::{AlertRow, HistoryStore, IgnoreAction, ReceivedTotal, UploadTotal, WriteBatch};
use crate::alert::{AlertEvent, AlertPhase};
use crate::detect::Stats;
use crate::engine::{Delivery, EngineHandle, IgnoreEvent, IgnoreFor};
use crate::flows::FlowRecord;
use crate::i18n::{Locale, Messages};
use crate::time::SECOND;
use crossbeam_channel::{Receiver, select};
use std::collections::HashMap;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Most events kept in memory before a write.
const BATCH: usize = 2000;
/// Longest time (wall clock) an event waits before it is written.
const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// What the recorder did, reported when it stops.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecorderReport {
    pub alert_events: u64,
    pub upload_rows: u64,
    pub actions: u64,
    pub transactions: u64,
    /// Batches that could not be written (each error was printed once).
    pub failed_writes: u64,
}

/// A running recorder.
pub struct Recorder {
    thread: JoinHandle<RecorderReport>,
}

impl Recorder {
    /// Subscribes to `handle` and records into `store` until the engine finishes. `delivery`:
    /// lossless for replay (nothing lost, the engine's queue grows instead), lossy for live
    /// capture (the engine never waits). Alert messages are stored in `locale`.
    pub fn start(handle: &EngineHandle, store: HistoryStore, delivery: Delivery, locale: Locale) -> Recorder {
        let alerts = handle.subscribe_alerts(delivery);
        let stats = handle.subscribe_stats_with(delivery);
        let ignores = handle.subscribe_ignores();
        let flows = handle.subscribe_flow_ends(delivery);
        let session = chrono::Utc::now().timestamp_micros();
        let thread = std::thread::Builder::new()
            .name("leakwatch-history".into())
            .spawn(move || {
                let mut w = Writer::new(store, session, Messages::new(locale));
                w.run(alerts, stats, ignores, flows);
                w.report
            })
            .expect("spawning the history thread");
        Recorder { thread }
    }

    /// Waits for the last write (call after the engine finished) and returns what was done.
    pub fn finish(self) -> RecorderReport {
        self.thread.join().unwrap_or_default()
    }
}

/// The receiver, or one that never delivers once it has closed.
fn open<T>(r: &Option<Receiver<T>>) -> Receiver<T> {
    r.clone().unwrap_or_else(crossbeam_channel::never)
}

struct Writer {
    store: HistoryStore,
    session: i64,
    msgs: Messages,
    batch: WriteBatch,
    minutes: HashMap<(i64, String, String, String), u64>,
    /// Bytes received per (hour, program) not yet written.
    received: HashMap<(i64, String), u64>,
    newest_s: i64,
    maintained_hour: i64,
    last_flush: Instant,
    report: RecorderReport,
    error_shown: bool,
}

impl Writer {
    fn new(store: HistoryStore, session: i64, msgs: Messages) -> Writer {
        Writer {
            store,
            session,
            msgs,
            batch: WriteBatch::default(),
            minutes: HashMap::new(),
            received: HashMap::new(),
            newest_s: i64::MIN,
            maintained_hour: i64::MIN,
            last_flush: Instant::now(),
            report: RecorderReport::default(),
            error_shown: false,
        }
    }

    fn run(
        &mut self,
        alerts: Receiver<AlertEvent>,
        stats: Receiver<Stats>,
        ignores: Receiver<IgnoreEvent>,
        flows: Receiver<FlowRecord>,
    ) {
        let (mut alerts, mut stats, mut ignores, mut flows) = (Some(alerts), Some(stats), Some(ignores), Some(flows));
        while alerts.is_some() || stats.is_some() || ignores.is_some() || flows.is_some() {
            let (a, s, i, f) = (open(&alerts), open(&stats), open(&ignores), open(&flows));
            select! {
                recv(a) -> e => match e { Ok(e) => self.alert(&e), Err(_) => alerts = None },
                recv(s) -> e => match e { Ok(e) => self.stats(&e), Err(_) => stats = None },
                recv(i) -> e => match e { Ok(e) => self.ignore(&e), Err(_) => ignores = None },
                recv(f) -> e => match e { Ok(e) => self.flow(&e), Err(_) => flows = None },
                default(FLUSH_EVERY) => {}
            }
            if self.batch.len() + self.minutes.len() + self.received.len() >= BATCH
                || self.last_flush.elapsed() >= FLUSH_EVERY
            {
                self.flush();
            }
        }
        self.flush();
        if self.newest_s != i64::MIN {
            self.maintain();
        }
    }

    fn alert(&mut self, e: &AlertEvent) {
        let a = &e.alert;
        let mut json = a.to_json(&self.msgs);
        json["id"] = a.id.into();
        let phase = match e.phase {
            AlertPhase::New => "new",
            AlertPhase::Update => "update",
            AlertPhase::End => "end",
        };
        self.batch.alerts.push(AlertRow {
            session: self.session,
            alert_id: a.id,
            phase: phase.into(),
            kind: a.kind.as_str().into(),
            program: a.process.as_ref().map(|p| p.name.clone()),
            exe: a.process.as_ref().and_then(|p| p.exe.clone()),
            dstip: a.dstip.to_string(),
            hostname: a.hostname.clone(),
            orgname: a.orgname.clone(),
            country: a.country.clone(),
            bytes: a.bytes,
            started_us: a.started.0,
            at_us: a.at.0,
            json: json.to_string(),
        });
        self.report.alert_events += 1;
    }

    fn stats(&mut self, s: &Stats) {
        let sec = s.second.0.div_euclid(SECOND);
        let minute = sec - sec.rem_euclid(60);
        for r in &s.rates {
            let program = match &r.process {
                Some(p) => p.exe.clone().unwrap_or_else(|| p.name.clone()),
                None => "unknown".to_string(),
            };
            let key = (minute, program, r.orgname.clone().unwrap_or_default(), r.country.clone().unwrap_or_default());
            *self.minutes.entry(key).or_default() += r.bytes;
        }
        self.newest_s = self.newest_s.max(sec);
        let hour = sec.div_euclid(3600);
        if self.maintained_hour == i64::MIN {
            self.maintained_hour = hour;
        } else if hour > self.maintained_hour {
            self.maintained_hour = hour;
            self.flush();
            self.maintain();
        }
    }

    /// An ended flow: what it received from a foreign address counts for its program in the
    /// hour it ended (LAN and multicast traffic is left out, as for uploads).
    fn flow(&mut self, f: &FlowRecord) {
        if !f.counted || f.inc.payload == 0 {
            return;
        }
        let program = match &f.process {
            Some(p) => p.exe.clone().unwrap_or_else(|| p.name.clone()),
            None => "unknown".to_string(),
        };
        let sec = f.last.0.div_euclid(SECOND);
        let slot = self.received.entry((sec - sec.rem_euclid(3600), program)).or_default();
        *slot = slot.saturating_add(f.inc.payload);
    }

    fn ignore(&mut self, e: &IgnoreEvent) {
        let scope = match e.how {
            IgnoreFor::Now => "for_now".to_string(),
            IgnoreFor::Always => "always".to_string(),
            IgnoreFor::Duration(d) => format!("for_{}s", d.as_secs()),
        };
        self.batch.actions.push(IgnoreAction {
            at_us: e.at.timestamp_micros(),
            ignore_id: e.id,
            scope,
            source: e.source.as_str().into(),
            filter: e.filter.clone(),
        });
        self.report.actions += 1;
    }

    fn flush(&mut self) {
        self.last_flush = Instant::now();
        for ((minute, program, org, country), bytes) in self.minutes.drain() {
            self.batch.uploads.push(UploadTotal { minute, program, org, country, bytes });
        }
        for ((hour, program), bytes) in self.received.drain() {
            self.batch.received.push(ReceivedTotal { hour, program, bytes });
        }
        if self.batch.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut self.batch);
        match self.store.write(&batch) {
            Ok(()) => {
                self.report.transactions += 1;
                self.report.upload_rows += batch.uploads.len() as u64;
            }
            Err(e) => {
                self.report.failed_writes += 1;
                self.warn(&e.to_string());
            }
        }
    }

    fn maintain(&mut self) {
        if let Err(e) = self.store.maintain(self.newest_s) {
            self.warn(&e.to_string());
        }
    }

    fn warn(&mut self, e: &str) {
        if !self.error_shown {
            self.error_shown = true;
            tracing::warn!("history not recorded: {e} (further errors are not shown)");
        }
    }
}
