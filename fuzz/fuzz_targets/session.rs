//! Fuzz target: arbitrary bytes through the legacy line splitter, command parser and session
//! (in memory, with a backend that validates filters like the engine does). Nothing may panic,
//! and every reply must be one of the protocol's forms. The stable stand-in, run by
//! `cargo test`, is the proptest in `tests/legacy_protocol.rs`.
#![no_main]

use leakwatch::judge::{Mode, Rules};
use leakwatch::legacy::codec;
use leakwatch::legacy::session::{Backend, run_in_memory};
use libfuzzer_sys::fuzz_target;

struct Fake(Rules, u32);

impl Backend for Fake {
    fn next_alert(&mut self) -> Option<String> {
        self.1 += 1;
        self.1.is_multiple_of(2).then(|| r#"{"message_full":"x","utc_timestamp":1}"#.to_string())
    }
    fn info(&self) -> String {
        leakwatch::legacy::info_reply()
    }
    fn ignore(&mut self, filter: &str, _permanent: bool) -> Result<u64, String> {
        self.0.check_filter(filter).map_err(|e| e.to_string())?;
        self.0.check_not_over_broad(filter)?;
        Ok(1)
    }
    fn list_ignores(&mut self) -> String {
        r#"{"filters":[]}"#.into()
    }
    fn delete_ignore(&mut self, key: &str) -> Result<(), String> {
        if key == "1" { Ok(()) } else { Err(format!("no ignore {key}")) }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut backend = Fake(Rules::shipped(Mode::Paranoid), 0);
    let out = run_in_memory(data, data.first().is_some_and(|b| b & 1 == 1), &mut backend);
    let text = std::str::from_utf8(&out).expect("replies are UTF-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.first().copied(), Some(codec::GREETING));
    for (i, l) in lines.iter().enumerate() {
        let known = [codec::GREETING, codec::PINGED, codec::NO_MSG, codec::UNKNOWN, codec::OK, codec::FINISH]
            .contains(l)
            || l.starts_with(codec::ERROR)
            || l.starts_with("{\"")
            || l.starts_with("Version=");
        assert!(known, "unexpected reply {l:?}");
        assert!(*l != codec::FINISH || i == lines.len() - 1, "nothing after the finish string");
    }
    // Splitting in two pieces gives the same lines as splitting at once.
    let cut = data.len() / 2;
    let (whole, _) = codec::split_all(data);
    let mut s = codec::LineSplitter::new();
    let mut pieces = Vec::new();
    for part in [&data[..cut], &data[cut..]] {
        s.push(part);
        while let Some(codec::Event::Line(l)) = s.next_event() {
            pieces.push(l.to_vec());
        }
    }
    assert_eq!(whole, pieces);
});
