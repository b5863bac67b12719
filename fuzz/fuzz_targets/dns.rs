//! Fuzz target: arbitrary bytes as a DNS message over UDP and over TCP (length-prefixed).
//! Nothing may panic; every name learned must be a clean host name (`clean_host` rules).
#![no_main]

use leakwatch::naming::dns;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut out = Vec::new();
    dns::extract_udp(data, &mut out);
    dns::extract_tcp(data, &mut out);
    for f in &out {
        assert!(!f.name.is_empty() && f.name.len() <= 253, "{:?}", f.name);
        assert!(f.name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b)));
    }
});
