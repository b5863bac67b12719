//! The shared alert queue of the legacy protocol: a bounded FIFO of ready-made `get_alert`
//! replies, fed from one lossless engine subscription, drained by every client (each alert goes
//! to exactly one `get_alert`), oldest dropped and counted when full.

use crate::alert::{Alert, AlertEvent, AlertPhase};
use crate::engine::{Change, ChangeKind};
use crate::i18n::Messages;
use crossbeam_channel::Receiver;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How many alerts the queue holds (the legacy FIFO was unbounded).
pub const QUEUE_CAPACITY: usize = 1000;

/// The queue, shared by the feeder thread and every session.
#[derive(Debug)]
pub struct AlertQueue {
    /// Each reply with its alert's callback filter (to withdraw it once that is ignored).
    items: Mutex<VecDeque<(String, String)>>,
    capacity: usize,
    dropped: AtomicU64,
    queued: AtomicU64,
}

impl AlertQueue {
    pub fn new(capacity: usize) -> AlertQueue {
        AlertQueue {
            items: Mutex::new(VecDeque::with_capacity(capacity.min(64))),
            capacity: capacity.max(1),
            dropped: AtomicU64::new(0),
            queued: AtomicU64::new(0),
        }
    }

    /// Appends a reply, dropping (and counting) the oldest one when full.
    pub fn push(&self, json: String) {
        self.push_for(json, String::new());
    }

    /// Appends the reply for an alert whose callback filter is `filter`.
    pub fn push_for(&self, json: String, filter: String) {
        let mut items = self.items.lock().unwrap_or_else(|p| p.into_inner());
        if items.len() >= self.capacity {
            items.pop_front();
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        items.push_back((json, filter));
        self.queued.fetch_add(1, Ordering::Relaxed);
    }

    /// Takes the oldest reply.
    pub fn pop(&self) -> Option<String> {
        self.items.lock().unwrap_or_else(|p| p.into_inner()).pop_front().map(|(json, _)| json)
    }

    /// Withdraws the waiting alerts that `filter` (an ignore just added, by any client) was made
    /// from, so an old GUI is not shown an alert already ignored elsewhere. Returns how many.
    pub fn withdraw(&self, filter: &str) -> usize {
        let Ok(wanted) = serde_json::from_str::<serde_json::Value>(filter) else { return 0 };
        let mut items = self.items.lock().unwrap_or_else(|p| p.into_inner());
        let before = items.len();
        items.retain(|(_, f)| serde_json::from_str::<serde_json::Value>(f).map_or(true, |f| f != wanted));
        before - items.len()
    }

    pub fn len(&self) -> usize {
        self.items.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Alerts dropped because nobody fetched them in time.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Alerts queued so far.
    pub fn queued(&self) -> u64 {
        self.queued.load(Ordering::Relaxed)
    }
}

/// Whether an alert event goes to legacy clients: only new alerts (and alerts notified again
/// after the cool-down). Updates and ends would be new rows, balloons and sounds in the legacy
/// GUI, which has no notion of an alert changing.
pub fn wanted(e: &AlertEvent) -> bool {
    e.phase == AlertPhase::New
}

/// The `get_alert` reply for an alert: one compact JSON object with the legacy keys, in the
/// legacy daemon's order (`message_full`, `utc_timestamp`, `message_exciter`, `message_type`,
/// `callback_filter`), `callback_filter` a JSON string holding compact JSON. Non-ASCII is
/// written as `\uXXXX` escapes, so the reply is ASCII and the C# client, which decodes each
/// 1024-byte block on its own, cannot cut a character in two.
pub fn alert_json(alert: &Alert, msgs: &Messages, utc_timestamp: i64) -> String {
    let s = |v: &str| ascii_json_string(v);
    format!(
        "{{\"message_full\":{},\"utc_timestamp\":{},\"message_exciter\":{},\"message_type\":{},\"callback_filter\":{}}}",
        s(&msgs.alert_message(alert)),
        utc_timestamp,
        s(&msgs.alert_exciter(alert)),
        s(&msgs.kind_name(alert.kind)),
        s(&alert.callback_filter),
    )
}

/// A JSON string literal with every non-ASCII character escaped (`\uXXXX`, surrogate pairs
/// beyond the BMP).
pub fn ascii_json_string(v: &str) -> String {
    ascii_escape(&serde_json::Value::String(v.to_owned()).to_string())
}

/// Escapes the non-ASCII characters of serialised JSON (they only occur inside strings, where
/// `\uXXXX` means the same character).
pub fn ascii_escape(json: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                let _ = write!(out, "\\u{u:04x}");
            }
        }
    }
    out
}

/// Moves new alerts from an engine subscription into the queue, and withdraws those an ignore
/// added meanwhile silences (from `changes`), until the engine stops or `stop` is set. Runs on
/// its own thread.
pub fn feed(
    events: Receiver<AlertEvent>,
    changes: Receiver<Change>,
    queue: Arc<AlertQueue>,
    msgs: Messages,
    stop: Arc<AtomicBool>,
) {
    let mut changes = changes;
    while !stop.load(Ordering::Relaxed) {
        crossbeam_channel::select! {
            recv(events) -> e => match e {
                Ok(e) if wanted(&e) => {
                    let reply = alert_json(&e.alert, &msgs, chrono::Utc::now().timestamp());
                    queue.push_for(reply, e.alert.callback_filter.clone());
                }
                Ok(_) => {}
                Err(_) => return,
            },
            recv(changes) -> c => match c {
                Ok(Change { what: ChangeKind::IgnoreAdded(info), .. }) => {
                    queue.withdraw(&info.filter);
                }
                Ok(Change { what: ChangeKind::IgnoresReloaded { added, .. }, .. }) => {
                    for info in added {
                        queue.withdraw(&info.filter);
                    }
                }
                Ok(_) => {}
                Err(_) => changes = crossbeam_channel::never(),
            },
            default(Duration::from_millis(200)) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_fifo_drops_the_oldest_and_counts() {
        let q = AlertQueue::new(3);
        for i in 0..5 {
            q.push(i.to_string());
        }
        assert_eq!(q.dropped(), 2);
        assert_eq!(q.queued(), 5);
        assert_eq!((q.pop(), q.pop(), q.pop(), q.pop()), (Some("2".into()), Some("3".into()), Some("4".into()), None));
    }

    #[test]
    fn an_ignored_alert_is_withdrawn_whatever_the_filter_spacing() {
        let q = AlertQueue::new(10);
        q.push_for("a".into(), r#"{"pattern":{"pid":"^1$"},"name":"x"}"#.into());
        q.push_for("b".into(), r#"{"pattern":{"pid":"^2$"},"name":"x"}"#.into());
        assert_eq!(q.withdraw(r#"{ "name": "x", "pattern": { "pid": "^1$" } }"#), 1);
        assert_eq!((q.pop(), q.pop()), (Some("b".into()), None));
    }

    #[test]
    fn escapes_make_ascii_that_parses_back() {
        let text = "Утечка \"x\" \\ 😀 \u{2028}";
        let j = ascii_json_string(text);
        assert!(j.is_ascii(), "{j}");
        assert_eq!(serde_json::from_str::<String>(&j).unwrap(), text);
    }
}
