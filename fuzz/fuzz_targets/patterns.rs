//! Fuzz target: arbitrary text as a threat pattern file, as a filter file over the shipped
//! threats, and as one filter (what the legacy socket and `ignores.user.json` carry). Loading
//! must return a value or an error, never panic; regexes are linear (`regex` crate).
#![no_main]

use leakwatch::judge::{Mode, Rules};
use leakwatch::patterns::{FilterSet, PatternSet};
use libfuzzer_sys::fuzz_target;
use std::sync::{Arc, OnceLock};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    static RULES: OnceLock<Rules> = OnceLock::new();
    let rules = RULES.get_or_init(|| Rules::shipped(Mode::Paranoid));
    if let Ok(set) = PatternSet::from_json_str(text, "fuzz.json") {
        let _ = FilterSet::from_json_str(text, "fuzz.json", Arc::new(set));
    }
    let _ = FilterSet::from_json_str(text, "fuzz.json", rules.threats().clone());
    if rules.check_filter(text).is_ok() {
        let _ = rules.check_not_over_broad(text);
    }
});
