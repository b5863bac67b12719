//! Fuzz target: arbitrary frame bytes, under every link type, through `packet::Parser`
//! (headers, IP fragments, the fragment map). Nothing may panic, and the captured payload
//! handed to naming must lie inside the frame and never exceed the packet's payload length.
//!
//! Input: one byte choosing the link type, then frames, each a 2-byte big-endian length and
//! that many bytes (the last one takes what is left), so fragments meet their datagram and
//! frames from real captures can seed the corpus unchanged (`fuzz/seed_corpus.py`).
#![no_main]

use leakwatch::packet::{LinkType, Parsed, Parser};
use leakwatch::time::Ts;
use libfuzzer_sys::fuzz_target;

const LINKS: [LinkType; 6] =
    [LinkType::Ethernet, LinkType::Null, LinkType::Loop, LinkType::RawIp, LinkType::LinuxSll, LinkType::LinuxSll2];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, mut rest)) = data.split_first() else { return };
    let mut parser = Parser::new(LINKS[usize::from(sel) % LINKS.len()]);
    let mut i = 0i64;
    while let Some((len, tail)) = rest.split_first_chunk::<2>() {
        let len = usize::from(u16::from_be_bytes(*len)).min(tail.len());
        let (frame, tail) = tail.split_at(len);
        rest = tail;
        // The wire length: the captured length, or more (a snaplen cut), from the selector.
        let orig = u32::try_from(frame.len()).unwrap_or(u32::MAX).saturating_add(u32::from(sel >> 3));
        let (parsed, payload) = parser.parse_with_payload(Ts(i), orig, frame);
        i += 1;
        assert!(payload.len() <= frame.len());
        let inside = frame.as_ptr_range();
        assert!(payload.is_empty() || (inside.start <= payload.as_ptr() && payload.as_ptr_range().end <= inside.end));
        if let Parsed::Packet(p) = parsed {
            assert!(payload.len() as u64 <= u64::from(p.payload_len));
        }
    }
});
