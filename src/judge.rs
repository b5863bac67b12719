//! Turns a detected leak into a named threat and decides whether the owner ignores it.
//!
//! [`Rules`] holds the threat patterns, the filters of the current mode (paranoid, adequate,
//! chill), extra filter files and the user's ignores, all compiled; the engine asks it once
//! per detection (never per packet), so an ignored threat costs nothing while it goes on.

use crate::alert::{Alert, LeakKind};
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
            user: FilterSet::new(threats.clone()),
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
        let mut set = FilterSet::new(self.threats.clone());
        let mut errors = Vec::new();
        let mut cache = std::collections::HashMap::new();
        for (id, f) in filters {
            // An id always names the same filter: compiled ones are reused, so a change costs
            // one compilation, not one per ignore.
            let compiled = match self.user_cache.remove(&id) {
                Some(p) => Ok(p),
                None => FilterSet::new(self.threats.clone())
                    .add_filter_json(&f.to_string(), &format!("ignore #{id}"))
                    .cloned(),
            };
            match compiled {
                Ok(p) => {
                    set.push(p.clone());
                    cache.insert(id, p);
                }
                Err(e) => errors.push(e.to_string()),
            }
        }
        self.user = set;
        self.user_cache = cache;
        errors
    }

    /// Compiles one filter (e.g. sent back from an alert) to check it before it is stored.
    pub fn check_filter(&self, json: &str) -> Result<(), PatternError> {
        FilterSet::new(self.threats.clone()).add_filter_json(json, "the filter").map(|_| ())
    }

    /// Refuses a filter (already valid for [`Rules::check_filter`]) that singles nothing out.
    ///
    /// The rule: the filter is matched, with its relations, against pairs of made-up threats
    /// that share nothing (another program, executable, pid, address, ports, host name,
    /// organisation, ASN and country), once with every fact known and once with only what an
    /// unattributed alert knows (address, ports, kind), for each leak kind. A filter that
    /// ignores both threats of a pair would ignore nearly every threat (e.g. `{"pattern":{}}`,
    /// a filter related only to `Pattern.Port` or `Pattern.Undefined`, `".*"` constraints, a
    /// filter on the kind alone), so it is refused with the reason. A filter naming one
    /// program, address, host or organisation, as every callback filter does, passes.
    pub fn check_not_over_broad(&self, json: &str) -> Result<(), String> {
        let mut set = FilterSet::new(self.threats.clone());
        set.add_filter_json(json, "the filter").map_err(|e| e.to_string())?;
        for (a, b) in probe_pairs() {
            for kind in [LeakKind::Sudden, LeakKind::Active, LeakKind::Passive] {
                let (a, b) = (Facts { kind: Some(kind), ..a }, Facts { kind: Some(kind), ..b });
                if set.matches(&a).is_some() && set.matches(&b).is_some() {
                    return Err(format!(
                        "the filter is over-broad: it would ignore {kind} leaks from any program to any address \
                         (it must single out something, e.g. a program, an address, a host or an organisation)",
                        kind = kind.as_str()
                    ));
                }
            }
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
        let pattern = self.threats.resolve(&facts);
        let ignored_by = self
            .mode_filters(self.mode)
            .matches(&facts)
            .or_else(|| self.extra.matches(&facts))
            .or_else(|| self.user.matches(&facts))
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

/// Pairs of made-up threats that share no fact (see [`Rules::check_not_over_broad`]): values no
/// real pattern names (documentation addresses, private ASNs, user-assigned country codes,
/// `.invalid` host names).
fn probe_pairs() -> [(Facts<'static>, Facts<'static>); 2] {
    let full = |n: u8| Facts {
        kind: None,
        pid: Some(4_000_000 + u32::from(n)),
        processname: Some(if n == 1 { "leakwatch-probe-one" } else { "leakwatch-probe-two" }),
        exe: Some(if n == 1 { "/nonexistent/leakwatch-probe-one" } else { "/nonexistent/leakwatch-probe-two" }),
        dstip: Some(if n == 1 {
            [192, 0, 2, 201].into()
        } else {
            std::net::Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 2, 0x202).into()
        }),
        dstport: Some(if n == 1 { 1 } else { 65001 }),
        srcport: Some(if n == 1 { 2 } else { 65002 }),
        hostname: Some(if n == 1 { "probe-one.invalid" } else { "probe-two.invalid" }),
        orgname: Some(if n == 1 { "leakwatch probe one" } else { "leakwatch probe two" }),
        asn: Some(4_200_000_000 + u32::from(n)),
        country: Some(if n == 1 { "XA" } else { "XB" }),
    };
    let bare = |f: Facts<'static>| Facts { dstip: f.dstip, dstport: f.dstport, srcport: f.srcport, ..Facts::default() };
    [(full(1), full(2)), (bare(full(1)), bare(full(2)))]
}

/// The facts patterns see for an alert.
pub fn facts_of<'a>(alert: &'a Alert, exe: Option<&'a str>) -> Facts<'a> {
    Facts {
        kind: Some(alert.kind),
        pid: alert.process.as_ref().map(|p| p.pid),
        processname: alert.process.as_ref().map(|p| p.name.as_str()),
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

/// The facts known before an alert exists (the passive detector's standard-app test).
pub fn process_facts(process: Option<&ProcessInfo>, kind: LeakKind) -> Facts<'_> {
    Facts {
        kind: Some(kind),
        pid: process.map(|p| p.pid),
        processname: process.map(|p| p.name.as_str()),
        exe: process.and_then(|p| p.exe.as_deref()),
        ..Facts::default()
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
}
