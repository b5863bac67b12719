//! Fuzz target: arbitrary bytes as the start of an HTTP request; the `Host` header extraction
//! must not panic, and a name learned is a clean host name.
#![no_main]

use leakwatch::naming::http;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = http::looks_like_request(data);
    if let Some(h) = http::host_header(data) {
        assert!(h.len() <= data.len());
    }
    if let Some(f) = http::extract("192.0.2.1".parse().unwrap(), data) {
        assert!(!f.name.is_empty() && f.name.len() <= 253);
        assert!(f.name.bytes().all(|b| !b.is_ascii_uppercase() && b.is_ascii()));
    }
});
