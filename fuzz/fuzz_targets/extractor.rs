//! Fuzz target: a sequence of TCP/UDP segments (ports, sequence numbers, payloads from the
//! input) through `naming::extract::Extractor`, the per-connection reassembly of ClientHellos
//! and DNS-over-TCP answers. Nothing may panic and names learned are clean host names.
#![no_main]

use leakwatch::naming::extract::Extractor;
use leakwatch::packet::{Packet, Proto};
use leakwatch::time::Ts;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut ex = Extractor::new();
    let mut out = Vec::new();
    let mut rest = data;
    let mut t = 0i64;
    // Each segment: [flags, seq(4), dt, len] then len payload bytes.
    while rest.len() >= 7 {
        let (h, tail) = rest.split_at(7);
        let len = usize::from(h[6]).min(tail.len());
        let (payload, tail) = tail.split_at(len);
        rest = tail;
        t += i64::from(h[5]) * 10_000;
        let dns = h[0] & 1 == 1;
        let p = Packet {
            ts: Ts(t),
            proto: if h[0] & 2 == 2 { Proto::Udp } else { Proto::Tcp },
            src: "10.200.0.1".parse().unwrap(),
            dst: "192.0.2.1".parse().unwrap(),
            sport: if dns { 53 } else { 40000 + u16::from(h[0] >> 4) },
            dport: if dns { 40000 } else { 443 },
            frame_len: 54 + len as u32,
            payload_len: len as u32,
            tcp_flags: 0x18,
            seq: u32::from_be_bytes([h[1], h[2], h[3], h[4]]),
        };
        ex.extract(&p, payload, &mut out);
    }
    for f in &out {
        assert!(!f.name.is_empty() && f.name.len() <= 253);
    }
});
