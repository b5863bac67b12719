//! Forwarding alerts to a log pipeline (Vector, Fluent Bit, Loki, Elasticsearch): RFC 5424
//! syslog over UDP or TCP, or JSON lines appended to a file. A forwarder subscribes through the
//! `EngineHandle` on its own thread; a destination that is down costs dropped messages (counted),
//! never a stalled engine.

mod jsonl;
mod syslog;

pub use jsonl::JsonlSink;
pub use syslog::{SyslogSink, Transport, format_rfc5424};

use crate::alert::{AlertEvent, AlertPhase};
use crate::engine::{Delivery, EngineHandle};
use crate::i18n::{Locale, Messages};
use std::path::PathBuf;
use std::thread::JoinHandle;

/// Where alerts go, as given to `--forward`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// `syslog://host:port` (UDP), `syslog+udp://…` or `syslog+tcp://…` (octet-counted frames).
    Syslog { transport: Transport, addr: String },
    /// `jsonl:PATH`: one JSON object per line, appended.
    Jsonl(PathBuf),
}

impl Target {
    /// Parses a `--forward` value.
    pub fn parse(s: &str) -> Result<Target, String> {
        let hint = "write syslog://HOST:PORT (UDP), syslog+tcp://HOST:PORT or jsonl:PATH";
        if let Some(path) = s.strip_prefix("jsonl:") {
            if path.is_empty() {
                return Err(format!("`{s}`: the file is missing; {hint}"));
            }
            return Ok(Target::Jsonl(PathBuf::from(path)));
        }
        let (transport, rest) = if let Some(r) = s.strip_prefix("syslog+tcp://") {
            (Transport::Tcp, r)
        } else if let Some(r) = s.strip_prefix("syslog+udp://").or_else(|| s.strip_prefix("syslog://")) {
            (Transport::Udp, r)
        } else {
            return Err(format!("`{s}`: unknown destination; {hint}"));
        };
        let rest = rest.trim_end_matches('/');
        let port_ok =
            rest.rsplit_once(':').is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok_and(|p| p > 0));
        if !port_ok {
            return Err(format!("`{s}`: give a host and a port, e.g. syslog://127.0.0.1:514"));
        }
        Ok(Target::Syslog { transport, addr: rest.to_string() })
    }
}

/// One open destination.
pub trait Sink: Send {
    /// Sends one alert record; `Err` is a message for the user (the record is dropped).
    fn send(&mut self, record: &serde_json::Value, e: &AlertEvent) -> Result<(), String>;
    /// What it is, for messages (e.g. `syslog+tcp://127.0.0.1:514`).
    fn describe(&self) -> String;
}

/// Opens a destination (a file that cannot be opened is an error now, not at the first alert).
pub fn open(target: &Target) -> Result<Box<dyn Sink>, String> {
    match target {
        Target::Syslog { transport, addr } => Ok(Box::new(SyslogSink::new(*transport, addr.clone()))),
        Target::Jsonl(path) => Ok(Box::new(JsonlSink::open(path)?)),
    }
}

/// The record forwarded for an alert event: the `replay --json` object plus `id`, `phase` and
/// `host` (this machine's name).
pub fn record(e: &AlertEvent, msgs: &Messages, host: &str) -> serde_json::Value {
    let mut v = e.alert.to_json(msgs);
    v["id"] = e.alert.id.into();
    v["phase"] = phase_name(e.phase).into();
    v["host"] = host.into();
    v
}

pub fn phase_name(p: AlertPhase) -> &'static str {
    match p {
        AlertPhase::New => "new",
        AlertPhase::Update => "update",
        AlertPhase::End => "end",
    }
}

/// This machine's host name (`-` when it cannot be read).
pub fn hostname() -> String {
    crate::os::host_name()
}

/// A running forwarder thread.
pub struct Forwarder {
    thread: JoinHandle<u64>,
}

impl Forwarder {
    /// Forwards new and ended alerts (updates are not sent: the end carries the final figures)
    /// to every sink until the engine finishes.
    pub fn start(handle: &EngineHandle, sinks: Vec<Box<dyn Sink>>, delivery: Delivery, locale: Locale) -> Forwarder {
        let alerts = handle.subscribe_alerts(delivery);
        let thread = std::thread::Builder::new()
            .name("leakwatch-forward".into())
            .spawn(move || {
                let msgs = Messages::new(locale);
                let host = hostname();
                let mut sinks = sinks;
                let mut failed = 0u64;
                let mut shown = vec![false; sinks.len()];
                for e in alerts.iter().filter(|e| e.phase != AlertPhase::Update) {
                    let rec = record(&e, &msgs, &host);
                    for (sink, shown) in sinks.iter_mut().zip(shown.iter_mut()) {
                        if let Err(err) = sink.send(&rec, &e) {
                            failed += 1;
                            if !*shown {
                                *shown = true;
                                tracing::warn!(
                                    "forwarding to {}: {err} (alerts are dropped until it works)",
                                    sink.describe()
                                );
                            }
                        }
                    }
                }
                failed
            })
            .expect("spawning the forwarding thread");
        Forwarder { thread }
    }

    /// Waits until every alert was handed over; returns how many sends failed.
    pub fn finish(self) -> u64 {
        self.thread.join().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse() {
        assert_eq!(
            Target::parse("syslog://127.0.0.1:514"),
            Ok(Target::Syslog { transport: Transport::Udp, addr: "127.0.0.1:514".into() })
        );
        assert_eq!(
            Target::parse("syslog+tcp://[::1]:6514"),
            Ok(Target::Syslog { transport: Transport::Tcp, addr: "[::1]:6514".into() })
        );
        assert_eq!(Target::parse("jsonl:/tmp/a.jsonl"), Ok(Target::Jsonl("/tmp/a.jsonl".into())));
        for bad in ["syslog://host", "syslog://:5", "http://x:1", "jsonl:", "syslog://h:0", "syslog://h:99999"] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
    }
}
