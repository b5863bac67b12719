//! A flow whose owner the socket table finds only on a later packet: what it sent before is
//! credited to the program once found, both in the alert and in the flow report.

mod common;

use common::synth::*;
use leakwatch::alert::AlertPhase;
use leakwatch::engine::{Batch, Delivery, Engine};
use leakwatch::packet::Proto;
use leakwatch::process::{FakeSocketTable, ProcessInfo, SocketTable};
use leakwatch::settings::EngineConfig;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Misses the first `misses` lookups, then answers like the fake table.
struct Late {
    misses: usize,
    asked: Arc<AtomicUsize>,
    inner: FakeSocketTable,
}

impl SocketTable for Late {
    fn lookup(&mut self, proto: Proto, ip: IpAddr, port: u16) -> Option<Arc<ProcessInfo>> {
        let n = self.asked.fetch_add(1, Ordering::SeqCst);
        if n < self.misses { None } else { self.inner.lookup(proto, ip, port) }
    }
}

#[test]
fn bytes_sent_before_the_owner_is_found_are_credited_to_it() {
    let asked = Arc::new(AtomicUsize::new(0));
    let table = Late { misses: 3, asked: asked.clone(), inner: curl_table() };
    let engine = Engine::start_with(EngineConfig::default(), Box::new(table));
    let h = engine.handle();
    let alerts = h.subscribe_alerts(Delivery::Lossless);
    let flows = h.subscribe_flows();
    // 40 KiB/s: a sudden alert 2.5 s in; the owner is found at the 4th lookup (retries are at
    // most every 50 ms of packet time, so after about 0.3 s).
    let packets = Stream::curl().steady(40 * 1024, us(5.0));
    assert!(h.send_batch(Batch { packets: packets.clone(), ..Batch::default() }));
    engine.finish();
    let events: Vec<_> = alerts.iter().collect();
    let new: Vec<_> = events.iter().filter(|e| e.phase == AlertPhase::New).collect();
    assert_eq!(new.len(), 1, "one threat, not an unknown one and a curl one: {events:#?}");
    let a = &new[0].alert;
    assert_eq!(a.process.as_ref().map(|p| p.name.as_str()), Some("curl"));
    assert_eq!(a.bytes, steady_bytes(26, 40 * 1024), "the window includes the bytes sent before attribution");
    assert_eq!(rel(a.at), 2.5);
    let end = events.iter().find(|e| e.phase == AlertPhase::End).expect("an end event");
    assert_eq!(end.alert.bytes, payload(&packets), "every byte of the upload is credited to curl");
    let flows: Vec<_> = flows.iter().collect();
    assert_eq!(flows.len(), 1);
    assert_eq!(flows[0].process.as_ref().map(|p| p.pid), Some(1234));
    assert_eq!(asked.load(Ordering::SeqCst), 4, "retried until found, then never again");
}

#[test]
fn an_owner_that_is_never_found_leaves_the_threat_unknown_and_retries_are_rate_limited() {
    let asked = Arc::new(AtomicUsize::new(0));
    let table = Late { misses: usize::MAX, asked: asked.clone(), inner: curl_table() };
    let engine = Engine::start_with(EngineConfig::default(), Box::new(table));
    let h = engine.handle();
    let alerts = h.subscribe_alerts(Delivery::Lossless);
    let packets = Stream::curl().steady(40 * 1024, us(5.0)); // 50 packets, 0.1 s apart
    assert!(h.send_batch(Batch { packets, ..Batch::default() }));
    engine.finish();
    let new: Vec<_> = alerts.iter().filter(|e| e.phase == AlertPhase::New).collect();
    assert_eq!(new.len(), 1);
    assert!(new[0].alert.process.is_none());
    // One lookup per packet at most, and none closer than 50 ms: here every packet (0.1 s apart),
    // plus the last chance the engine gives unattributed flows before its final report.
    assert_eq!(asked.load(Ordering::SeqCst), 51);
}

#[test]
fn an_owner_found_after_the_alert_takes_the_alert_over() {
    let asked = Arc::new(AtomicUsize::new(0));
    // Found at the 31st lookup (packets 0.1 s apart: 3.0 s in), after the sudden alert at 2.5 s.
    let table = Late { misses: 30, asked: asked.clone(), inner: curl_table() };
    let engine = Engine::start_with(EngineConfig::default(), Box::new(table));
    let h = engine.handle();
    let alerts = h.subscribe_alerts(Delivery::Lossless);
    let packets = Stream::curl().steady(40 * 1024, us(5.0));
    assert!(h.send_batch(Batch { packets: packets.clone(), ..Batch::default() }));
    engine.finish();
    let events: Vec<_> = alerts.iter().collect();
    let new: Vec<_> = events.iter().filter(|e| e.phase == AlertPhase::New).collect();
    assert_eq!(new.len(), 1, "one alert, not a second one for curl: {events:#?}");
    assert!(new[0].alert.process.is_none(), "raised before the owner was known");
    let end = events.iter().find(|e| e.phase == AlertPhase::End).expect("an end event");
    assert_eq!(end.alert.id, new[0].alert.id, "the same alert");
    assert_eq!(end.alert.process.as_ref().map(|p| p.name.as_str()), Some("curl"), "{end:#?}");
    assert_eq!(end.alert.bytes, payload(&packets), "every byte of the upload is curl's");
}
