//! `leakwatch patterns check`: validates pattern and filter files and shows, per mode, what
//! is ignored.

use super::{EXIT_OK, RulesArgs};
use crate::judge::Mode;
use crate::patterns::Pattern;

/// Exit code when a file does not validate.
const EXIT_INVALID: i32 = 1;

pub fn check(args: &RulesArgs) -> i32 {
    let rules = match args.load(Mode::Paranoid) {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("{e}");
            return EXIT_INVALID;
        }
    };
    let threats = rules.threats();
    println!("{}: {} threat patterns, OK", threats.source(), threats.len());
    let mut warnings = threats.warnings().len();
    for w in threats.warnings() {
        println!("  warning: {w}");
    }
    for f in &args.filters {
        println!("{}: OK", f.display());
    }
    for mode in Mode::ALL {
        let filters = rules.mode_filters(mode);
        warnings += filters.warnings().len();
        if filters.is_empty() {
            println!("mode {mode}: nothing ignored");
            continue;
        }
        println!("mode {mode}: ignores");
        for f in filters.filters() {
            println!("  - {}", describe(f, threats.patterns()));
        }
        for w in filters.warnings() {
            println!("  warning: {w}");
        }
    }
    if warnings > 0 {
        println!("{warnings} warning(s)");
    }
    EXIT_OK
}

/// One filter in words: the threat patterns it covers and its own constraints.
fn describe(f: &Pattern, threats: &[Pattern]) -> String {
    let mut related: Vec<&str> = f.relations().iter().filter_map(|&i| threats.get(i).map(Pattern::name)).collect();
    related.sort_unstable();
    let mut s = f.name().to_string();
    if f.related_patterns().is_some() {
        let how = if f.relation_mode().as_str() == "any" { "any of" } else { "all of" };
        s.push_str(&format!(": leaks matching {how} [{}]", related.join(", ")));
    }
    let own: Vec<String> = f.constraints().map(|(k, v)| format!("{}={v}", k.as_str())).collect();
    if !own.is_empty() {
        s.push_str(&format!(" where {}", own.join(", ")));
    }
    s
}
