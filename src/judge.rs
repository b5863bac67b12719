//! Turns a detected leak into a named threat and decides whether the owner ignores it.
//!
//! [`Rules`] holds the threat patterns, the filters of the current mode (paranoid, adequate,
//! chill), extra filter files and the user's ignores, all compiled; the engine asks it once
//! per detection (never per packet), so an ignored threat costs nothing while it goes on.

use crate::alert::{Alert, LeakKind};
use crate::naming::owner::NameTrust;
use crate::patterns::{Facts, FilterSet, PatternError, PatternSet, callback_filter};
use crate::process::{ProcessInfo, is_standard_app};
use std::fmt;
use std::sync::Arc;

/// The shipped threat patterns (`patterns/threats.json`), built into the binary.
pub const SHIPPED_THREATS: &str = include_str!("../patterns/threats.json");
const SHIPPED_PARANOID: &str = include_str!("../patterns/paranoid.json");
const SHIPPED_ADEQUATE: &str = include_str!("../patterns/adequate.json");
const SHIPPED_CHILL: &str = include_str!("../patterns/chill.json");

/// How much is ignored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Nothing is ignored.
    #[default]
    Paranoid,
    /// Browsers and known standard apps are ignored.
    Adequate,
    /// Every known destination family is ignored; only unknown vectors alert.
    Chill,
}

impl Mode {
    pub const ALL: [Mode; 3] = [Mode::Paranoid, Mode::Adequate, Mode::Chill];

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Paranoid => "paranoid",
            Mode::Adequate => "adequate",
            Mode::Chill => "chill",
        }
    }

    /// Parses a mode name, case-insensitively.
    pub fn parse(s: &str) -> Result<Mode, String> {
        let t = s.trim();
        Mode::ALL.into_iter().find(|m| m.as_str().eq_ignore_ascii_case(t)).ok_or_else(|| {
            format!("unknown mode {t:?}: use paranoid (nothing ignored), adequate (browsers and standard apps ignored) or chill (known services ignored)")
        })
    }

    fn shipped_filters(self) -> (&'static str, &'static str) {
        match self {
            Mode::Paranoid => ("patterns/paranoid.json (built in)", SHIPPED_PARANOID),
            Mode::Adequate => ("patterns/adequate.json (built in)", SHIPPED_ADEQUATE),
            Mode::Chill => ("patterns/chill.json (built in)", SHIPPED_CHILL),
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the rules say about one detected leak.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The threat pattern that names it.
    pub pattern: Option<String>,
    /// The ready-made ignore rule for it (legacy `callback_filter`).
    pub callback_filter: String,
    /// The filter that ignores it, if any.
    pub ignored_by: Option<String>,
}

/// Patterns and filters, compiled.
#[derive(Clone, Debug)]
pub struct Rules {
    threats: Arc<PatternSet>,
    mode: Mode,
    /// One compiled filter set per mode, so switching modes is instant.
    modes: [FilterSet; 3],
    /// Filters from `--filters FILE` (apply in every mode).
    extra: FilterSet,
    /// The user's ignores (permanent and temporary), recompiled when they change.
    user: FilterSet,
    /// The user's ignores compiled, by ignore id (ids are never reused).
    user_cache: std::collections::HashMap<u64, crate::patterns::Pattern>,
}

impl Rules {
    /// The shipped patterns and filters in `mode`.
    /// Compiled once per process; later calls clone it (compiled regexes are shared).
    pub fn shipped(mode: Mode) -> Rules {
        static SHIPPED: std::sync::OnceLock<Rules> = std::sync::OnceLock::new();
        let mut rules = SHIPPED
            .get_or_init(|| {
                let threats = PatternSet::from_json_str(SHIPPED_THREATS, "patterns/threats.json (built in)")
                    .expect("the shipped threat patterns are checked by tests");
                Rules::with_threats(Arc::new(threats), Mode::Paranoid)
                    .expect("the shipped filters are checked by tests")
            })
            .clone();
        rules.mode = mode;
        rules
    }

    /// Given threat patterns with the shipped mode filters.
    pub fn with_threats(threats: Arc<PatternSet>, mode: Mode) -> Result<Rules, PatternError> {
        let load = |m: Mode| {
            let (src, text) = m.shipped_filters();
            FilterSet::from_json_str(text, src, threats.clone())
        };
        Ok(Rules {
            modes: [load(Mode::Paranoid)?, load(Mode::Adequate)?, load(Mode::Chill)?],
            extra: FilterSet::new(threats.clone()),
            user: FilterSet::for_user(threats.clone()),
            user_cache: std::collections::HashMap::new(),
            threats,
            mode,
        })
    }

    /// Adds a filter file that applies in every mode.
    pub fn add_filter_file(&mut self, path: &std::path::Path) -> Result<usize, PatternError> {
        self.extra.append_file(path)
    }

    pub fn threats(&self) -> &Arc<PatternSet> {
        &self.threats
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    pub fn set_mode(&mut self, mode: Mode) {
        self.mode = mode;
    }

    /// The filters of `mode`.
    pub fn mode_filters(&self, mode: Mode) -> &FilterSet {
        &self.modes[mode as usize]
    }

    /// Replaces the user's ignores with these filter objects (compact JSON text each);
    /// returns the ones that do not compile, with their errors.
    pub fn set_user_ignores<'a>(
        &mut self,
        filters: impl IntoIterator<Item = (u64, &'a serde_json::Value)>,
    ) -> Vec<String> {
        let mut set = FilterSet::for_user(self.threats.clone());
        let mut errors = Vec::new();
        let mut cache = std::collections::HashMap::new();
        for (id, f) in filters {
            // An id always names the same filter: compiled ones are reused, so a change costs
            // one compilation, not one per ignore.
            let source = format!("ignore #{id}");
            let compiled = match self.user_cache.remove(&id) {
                Some(p) => Ok(p),
                None => FilterSet::for_user(self.threats.clone()).add_filter_json(&f.to_string(), &source).cloned(),
            };
            // Past the budget of all ignores together, the rest are skipped (and said so).
            match compiled.and_then(|p| set.push(p.clone(), &source).map(|()| p)) {
                Ok(p) => {
                    cache.insert(id, p);
                }
                Err(e) => errors.push(e.to_string()),
            }
        }
        self.user = set;
        self.user_cache = cache;
        errors
    }

    /// Compiles one filter (e.g. sent back from an alert) to check it before it is stored: it
    /// must compile within the ignores' limits and fit in what is left of their budget.
    pub fn check_filter(&self, json: &str) -> Result<(), PatternError> {
        let cost = FilterSet::for_user(self.threats.clone()).add_filter_json(json, "the filter")?.cost();
        let used = self.user.cost() + cost;
        if used > self.user.budget() {
            return Err(PatternError::Budget {
                file: "the ignores".into(),
                pattern: "the filter".into(),
                used,
                limit: self.user.budget(),
            });
        }
        Ok(())
    }

    /// Refuses a filter (already valid for [`Rules::check_filter`]) that singles nothing out,
    /// judged by what it matches, not by its text: the filter, with its relations, is run
    /// against the generated sample of [`crate::patterns::probe`] (256 varied made-up uploads:
    /// programs, executables, IPv4 and IPv6 addresses, the ports clients use, owners,
    /// countries, kinds, half of them unattributed) and refused when it matches more than
    /// [`MAX_PROBE_SHARE`] of them. `{"pattern":{}}`, `".*"` constraints, a filter on the kind
    /// alone, `{"srcport":"[3-5][0-9]{4}|60[0-9]{3}"}` (every ephemeral port),
    /// `{"dstip":"[0-9.]+"}` (every IPv4 address) and `{"processname":"[^l].*"}` are refused; a
    /// filter naming one program, address, host or organisation, as every callback filter does,
    /// passes.
    pub fn check_not_over_broad(&self, json: &str) -> Result<(), BadIgnore> {
        let mut set = FilterSet::for_user(self.threats.clone());
        set.add_filter_json(json, "the filter").map_err(|e| BadIgnore::Invalid(e.to_string()))?;
        let sample = crate::patterns::probe::sample();
        let matched = sample.iter().filter(|p| set.matches(&p.facts()).is_some()).count();
        let limit = max_probe_matches();
        if matched > limit {
            return Err(BadIgnore::OverBroad(OverBroad { matched, sample: sample.len(), limit }));
        }
        Ok(())
    }

    /// Whether a program is a standard app (the passive detector leaves those alone): the
    /// `Pattern.StdApps` pattern when the patterns have one, else the built-in name list.
    pub fn is_standard_app(&self, process: Option<&ProcessInfo>, facts: &Facts<'_>) -> bool {
        if self.threats.get("Pattern.StdApps").is_some() {
            self.threats.matches_named("Pattern.StdApps", facts)
        } else {
            is_standard_app(process)
        }
    }

    /// Names the threat of `alert` and says whether it is ignored.
    pub fn judge(&self, alert: &Alert) -> Verdict {
        let exe = alert.process.as_ref().and_then(|p| p.exe.as_deref());
        let facts = facts_of(alert, exe);
        // Threat patterns name the threat with any host name; filters see a host name only as far
        // as it can be believed (naming::owner): a contradicted one never, an unverified one only
        // in filters that also pin the destination by address, organisation or ASN.
        let pattern = self.threats.resolve(&facts);
        let nameless = Facts { hostname: None, ..facts };
        let (named, unnamed) = match alert.name_trust {
            None | Some(NameTrust::Trusted | NameTrust::Verified) => (facts, facts),
            Some(NameTrust::Unverified) => (facts, nameless),
            Some(NameTrust::Contradicted) => (nameless, nameless),
        };
        // Program names likewise: the shipped mode filters, and any filter that does not pin the
        // destination, see only the believed name (an installed executable's); the user's own
        // filters that pin the destination see the name the process gives itself when there is
        // no believed one (a program of the user's own, in a home folder).
        let believed = alert.process.as_ref().and_then(|p| p.believed_name());
        let own = alert.process.as_ref().map(|p| p.name.as_str());
        let mode_named = Facts { processname: believed, ..named };
        let unnamed = Facts { processname: believed, ..unnamed };
        let user_named = Facts { processname: believed.or(own), ..named };
        let ignored_by = self
            .mode_filters(self.mode)
            .matches_believing(&mode_named, &unnamed)
            .or_else(|| self.extra.matches_believing(&user_named, &unnamed))
            .or_else(|| self.user.matches_believing(&user_named, &unnamed))
            .map(str::to_string);
        Verdict {
            pattern: pattern.map(|p| p.name().to_string()),
            callback_filter: pattern
                .map(|p| callback_filter(p, &facts))
                .unwrap_or_else(|| alert.fallback_callback_filter()),
            ignored_by,
        }
    }
}

/// Why an ignore is refused ([`Rules::check_not_over_broad`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BadIgnore {
    /// Not a filter at all (the message names the field and the fix).
    #[error("{0}")]
    Invalid(String),
    /// A filter that singles nothing out: refused, or added only when forced.
    #[error(transparent)]
    OverBroad(#[from] OverBroad),
}

/// A filter that matches more of the probe sample than [`MAX_PROBE_SHARE`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "the filter is over-broad: it matches {matched} of {sample} varied made-up uploads (programs, addresses, ports, \
     owners, countries, kinds; at most {limit} allowed), so it would ignore much of what you will ever see: it must \
     single out something, e.g. a program, an address, a host or an organisation"
)]
pub struct OverBroad {
    pub matched: usize,
    pub sample: usize,
    pub limit: usize,
}

/// Share of the sample an ignore may match ([`Rules::check_not_over_broad`]).
pub const MAX_PROBE_SHARE: f64 = 1.0 / 16.0;

/// How many threats of the sample an ignore may match.
pub fn max_probe_matches() -> usize {
    (crate::patterns::probe::SAMPLE_SIZE as f64 * MAX_PROBE_SHARE) as usize
}

/// The facts patterns see for an alert. The program is named by [`ProcessInfo::naming_name`] (an
/// installed executable's file name, not the name the process gives itself). A spread upload has
/// no one destination: patterns see its program, ports and kind only, so no destination (and no
/// name a destination claims) decides whether a program's upload to many addresses is ignored.
pub fn facts_of<'a>(alert: &'a Alert, exe: Option<&'a str>) -> Facts<'a> {
    if alert.kind == LeakKind::Spread {
        return Facts {
            kind: Some(alert.kind),
            pid: alert.process.as_ref().map(|p| p.pid),
            processname: alert.process.as_ref().and_then(|p| p.naming_name()),
            exe,
            srcport: Some(alert.srcport),
            ..Facts::default()
        };
    }
    Facts {
        kind: Some(alert.kind),
        pid: alert.process.as_ref().map(|p| p.pid),
        processname: alert.process.as_ref().and_then(|p| p.naming_name()),
        exe,
        dstip: Some(alert.dstip),
        dstport: Some(alert.dstport),
        srcport: Some(alert.srcport),
        hostname: alert.hostname.as_deref(),
        orgname: alert.orgname.as_deref(),
        asn: alert.asn,
        country: alert.country.as_deref(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_rules_load_in_every_mode() {
        for m in Mode::ALL {
            let r = Rules::shipped(m);
            assert!(r.threats().warnings().is_empty(), "{:?}", r.threats().warnings());
            assert!(r.mode_filters(m).warnings().is_empty(), "{:?}", r.mode_filters(m).warnings());
        }
        assert!(Rules::shipped(Mode::Paranoid).mode_filters(Mode::Paranoid).is_empty());
    }

    #[test]
    fn modes_parse_case_insensitively_and_errors_list_the_three() {
        assert_eq!(Mode::parse(" CHILL "), Ok(Mode::Chill));
        let e = Mode::parse("lax").unwrap_err();
        assert!(e.contains("paranoid") && e.contains("adequate") && e.contains("chill"), "{e}");
    }

    /// The measured bypasses of issue 18 and the classic ones are refused by what they match.
    #[test]
    fn filters_that_match_much_of_the_sample_are_over_broad() {
        let r = Rules::shipped(Mode::Paranoid);
        for f in [
            r#"{"name":"x","pattern":{"srcport":"[3-5][0-9]{4}|60[0-9]{3}"}}"#,
            r#"{"name":"x","pattern":{"dstip":"[0-9.]+"}}"#,
            r#"{"name":"x","pattern":{"processname":"[^l].*"}}"#,
            r#"{"name":"x","pattern":{}}"#,
            r#"{"name":"x","pattern":{"kind":"active"}}"#,
            r#"{"name":"x","pattern":{"dstport":"443"}}"#,
            r#"{"name":"x","pattern":{"exe":"/usr/.*"}}"#,
            r#"{"name":"x","pattern":{"dstip":".*:.*"}}"#,
            r#"{"name":"x","pattern":{},"related-patterns":"^\\QPattern.Port\\E$"}"#,
        ] {
            let e = r.check_not_over_broad(f).expect_err(f);
            assert!(matches!(e, BadIgnore::OverBroad(OverBroad { sample: 256, .. })), "{f}: {e}");
            assert!(e.to_string().contains("over-broad") && e.to_string().contains("of 256"), "{f}: {e}");
        }
    }

    /// Every callback filter the engine would offer for the sample's own threats passes: the
    /// check does not get in the way of "Always ignore".
    #[test]
    fn callback_filters_of_varied_threats_are_not_over_broad() {
        let r = Rules::shipped(Mode::Paranoid);
        let mut checked = 0;
        for p in crate::patterns::probe::sample() {
            let facts = p.facts();
            if let Some(pattern) = r.threats().resolve(&facts) {
                let cb = crate::patterns::callback_filter(pattern, &facts);
                r.check_not_over_broad(&cb).unwrap_or_else(|e| panic!("{cb}: {e}"));
                checked += 1;
            }
        }
        assert!(checked > 200, "{checked}");
        for f in [
            r#"{"name":"c","pattern":{"processname":"^\\Qcurl\\E$"}}"#,
            r#"{"name":"c","pattern":{"orgname":"^\\QGoogle LLC\\E$"}}"#,
            r#"{"name":"c","pattern":{"country":"RU"}}"#,
            r#"{"name":"c","pattern":{"dstip":"^\\Q198.51.100.7\\E$"}}"#,
        ] {
            r.check_not_over_broad(f).unwrap_or_else(|e| panic!("{f}: {e}"));
        }
    }
}
