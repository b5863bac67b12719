//! Fuzz target: arbitrary bytes as a TLS record holding a ClientHello. Nothing may panic; a
//! server name found lies inside the input, and a name learned is a clean host name.
#![no_main]

use leakwatch::naming::sni;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(name) = sni::server_name(data) {
        assert!(name.len() <= data.len());
    }
    if let Some(f) = sni::extract("192.0.2.1".parse().unwrap(), data) {
        assert!(!f.name.is_empty() && f.name.len() <= 253);
        assert!(f.name.bytes().all(|b| !b.is_ascii_uppercase() && b.is_ascii()));
    }
});
