//! Fuzz target: arbitrary frame bytes, under every link type, through `packet::Parser`
//! (headers, IP fragments, the fragment map). Nothing may panic, and the captured payload
//! handed to naming must lie inside the frame and never exceed the packet's payload length.
#![no_main]

use leakwatch::packet::{LinkType, Parsed, Parser};
use leakwatch::time::Ts;
use libfuzzer_sys::fuzz_target;

const LINKS: [LinkType; 6] =
    [LinkType::Ethernet, LinkType::Null, LinkType::Loop, LinkType::RawIp, LinkType::LinuxSll, LinkType::LinuxSll2];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    let mut parser = Parser::new(LINKS[usize::from(sel) % LINKS.len()]);
    // Several frames from one input (split at 0xFF 0xFF), so fragments meet their datagram.
    for (i, frame) in rest.split(|&b| b == 0xFF).enumerate() {
        let orig = u32::try_from(frame.len()).unwrap_or(u32::MAX).saturating_add(u32::from(sel));
        let (parsed, payload) = parser.parse_with_payload(Ts(i as i64), orig, frame);
        assert!(payload.len() <= frame.len());
        if let Parsed::Packet(p) = parsed {
            assert!(payload.len() as u64 <= u64::from(p.payload_len));
        }
    }
});
