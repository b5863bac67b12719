//! Compiled patterns, the priority-ordered [`PatternSet`] and the [`FilterSet`].

use super::error::clip;
use super::load::{self, RawPattern};
use super::{Facts, Field, PatternError, rx};
use regex::Regex;
use std::path::Path;
use std::sync::Arc;

/// How a pattern's related patterns combine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelationMode {
    /// Every related pattern must match (vacuously true with none).
    All,
    /// At least one related pattern must match (false with none).
    Any,
}

impl RelationMode {
    pub fn as_str(self) -> &'static str {
        match self {
            RelationMode::All => "all",
            RelationMode::Any => "any",
        }
    }
}

#[derive(Clone, Debug)]
struct Constraint {
    field: Field,
    source: String,
    regex: Regex,
}

/// One compiled threat pattern or filter.
#[derive(Clone, Debug)]
pub struct Pattern {
    name: String,
    priority: i64,
    has_pattern: bool,
    /// In [`Field`] order.
    constraints: Vec<Constraint>,
    differ_by: Vec<Field>,
    related: Option<String>,
    mode: RelationMode,
    /// Indices into the threat [`PatternSet`] (its sorted order), resolved at load.
    relations: Vec<usize>,
    msg: Option<String>,
    msg_exciter: Option<String>,
    comment: Option<String>,
    /// A bound on the memory of its compiled regexes (see `rx::compile_with`).
    cost: usize,
}

impl Pattern {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A bound on the memory its compiled regexes take, in bytes.
    pub fn cost(&self) -> usize {
        self.cost
    }

    /// The priority (0 for filters without one).
    pub fn priority(&self) -> i64 {
        self.priority
    }

    pub fn msg(&self) -> Option<&str> {
        self.msg.as_deref()
    }

    pub fn msg_exciter(&self) -> Option<&str> {
        self.msg_exciter.as_deref()
    }

    pub fn comment(&self) -> Option<&str> {
        self.comment.as_deref()
    }

    /// The parsed `differ-by` list, in file order, without duplicates.
    pub fn differ_by(&self) -> &[Field] {
        &self.differ_by
    }

    /// The regex text (as written) constraining `field`, if any.
    pub fn constraint(&self, field: Field) -> Option<&str> {
        self.constraints.iter().find(|c| c.field == field).map(|c| c.source.as_str())
    }

    /// Every constraint as `(field, regex text as written)`, in [`Field`] order.
    pub fn constraints(&self) -> impl Iterator<Item = (Field, &str)> {
        self.constraints.iter().map(|c| (c.field, c.source.as_str()))
    }

    pub fn related_patterns(&self) -> Option<&str> {
        self.related.as_deref()
    }

    pub fn relation_mode(&self) -> RelationMode {
        self.mode
    }

    /// Whether the file had a `"pattern"` object (possibly `{}`).
    pub fn has_pattern_object(&self) -> bool {
        self.has_pattern
    }

    /// Indices (into [`PatternSet::patterns`]) of the related threat patterns.
    pub fn relations(&self) -> &[usize] {
        &self.relations
    }

    /// Whether its own constraints pin the destination by something its sender cannot choose:
    /// the address, its organisation or its ASN.
    pub fn pins_destination(&self) -> bool {
        self.constraints.iter().any(|c| matches!(c.field, Field::Dstip | Field::Orgname | Field::Asn))
    }

    /// Field constraints only (relations not considered).
    fn own_match(&self, facts: &Facts<'_>) -> bool {
        self.constraints.iter().all(|c| c.field.with_value(facts, |v| c.regex.is_match(v)).unwrap_or(false))
    }
}

/// Compiles one entry; returns the related-patterns regex for later resolution.
fn compile(
    raw: RawPattern,
    file: &str,
    threat: bool,
    limits: rx::RegexLimits,
) -> Result<(Pattern, Option<Regex>), PatternError> {
    let mut cost = 0usize;
    let invalid = |message: String| PatternError::Invalid { file: file.into(), pattern: raw.name.clone(), message };
    let bad_regex = |field: &str, regex: &str, reason: String| PatternError::Regex {
        file: file.into(),
        pattern: clip(&raw.name),
        field: clip(field),
        regex: clip(regex),
        reason: clip(&reason),
    };
    let priority = match (raw.priority, threat) {
        (Some(p), _) => p,
        (None, false) => 0,
        (None, true) => return Err(invalid("missing \"priority\" (required for threat patterns)".into())),
    };
    let mode = match raw.relation_mode.as_deref().map(str::trim) {
        None => RelationMode::All,
        Some(m) if m.eq_ignore_ascii_case("all") => RelationMode::All,
        Some(m) if m.eq_ignore_ascii_case("any") => RelationMode::Any,
        Some(m) => return Err(invalid(format!("\"relation-mode\" must be \"all\" or \"any\", not {m:?}"))),
    };
    let related_rx = match &raw.related_patterns {
        Some(r) => {
            let (re, c) = rx::compile_with(r, limits).map_err(|e| bad_regex("related-patterns", r, e))?;
            cost += c;
            Some(re)
        }
        None => None,
    };
    let mut constraints = Vec::new();
    let mut differ_by = Vec::new();
    let has_pattern = raw.pattern.is_some();
    if let Some(c) = &raw.pattern {
        let fields = [
            (Field::Pid, &c.pid),
            (Field::Dstip, &c.dstip),
            (Field::Srcport, &c.srcport),
            (Field::Processname, &c.processname),
            (Field::Orgname, &c.orgname),
            (Field::Hostname, &c.hostname),
            (Field::Dstport, &c.dstport),
            (Field::Asn, &c.asn),
            (Field::Country, &c.country),
            (Field::Exe, &c.exe),
            (Field::Kind, &c.kind),
        ];
        for (field, src) in fields {
            if let Some(src) = src {
                let (regex, c) = rx::compile_with(src, limits).map_err(|e| bad_regex(field.as_str(), src, e))?;
                cost += c;
                constraints.push(Constraint { field, source: src.clone(), regex });
            }
        }
        if let Some(d) = &c.differ_by {
            for word in d.split(',').map(str::trim).filter(|w| !w.is_empty()) {
                let f =
                    Field::parse(word).ok_or_else(|| invalid(format!("unknown field {word:?} in \"differ-by\"")))?;
                if !differ_by.contains(&f) {
                    differ_by.push(f);
                }
            }
        }
    }
    let p = Pattern {
        name: raw.name.clone(),
        priority,
        has_pattern,
        constraints,
        differ_by,
        related: raw.related_patterns.clone(),
        mode,
        relations: Vec::new(),
        msg: raw.msg.clone(),
        msg_exciter: raw.msg_exciter.clone(),
        comment: raw.comment.clone(),
        cost,
    };
    Ok((p, related_rx))
}

/// Indices of the threat patterns whose names full-match `re`.
fn relation_targets(re: &Regex, threats: &[Pattern]) -> Vec<usize> {
    threats.iter().enumerate().filter(|(_, t)| re.is_match(&t.name)).map(|(i, _)| i).collect()
}

/// The warning for a `related-patterns` regex that names no threat pattern.
fn unresolved(p: &Pattern, file: &str) -> Option<String> {
    if p.related.is_none() || !p.relations.is_empty() {
        return None;
    }
    let effect = match p.mode {
        RelationMode::Any => "mode any: this pattern never matches",
        RelationMode::All => "mode all: the relation is vacuously true",
    };
    Some(format!(
        "{file}: pattern {:?}: \"related-patterns\" {:?} names no threat pattern ({effect})",
        p.name,
        p.related.as_deref().unwrap_or("")
    ))
}

/// A warning for `msg`/`msg_exciter` in a pattern file: accepted (old files load) but not
/// shown, because alert texts come from the locale files in the user's language.
fn unused_texts(p: &Pattern, file: &str) -> Option<String> {
    let keys: Vec<&str> = [("msg", p.msg.is_some()), ("msg_exciter", p.msg_exciter.is_some())]
        .iter()
        .filter(|k| k.1)
        .map(|k| k.0)
        .collect();
    if keys.is_empty() {
        return None;
    }
    Some(format!(
        "{file}: pattern \"{}\": {} {} not used: alert texts come from the locale files (locales/*.ftl, \
         in the user's language); remove it, or add the message to both locale files (docs/patterns.md)",
        crate::text::safe(&p.name),
        keys.join(" and "),
        if keys.len() > 1 { "are" } else { "is" }
    ))
}

/// Threat patterns, sorted by priority (descending, stable), relations resolved, no cycles.
#[derive(Clone, Debug, Default)]
pub struct PatternSet {
    source: String,
    patterns: Vec<Pattern>,
    warnings: Vec<String>,
}

impl PatternSet {
    /// A set with no patterns: [`resolve`](Self::resolve) always returns `None`.
    pub fn empty() -> Self {
        Self::default()
    }

    /// Loads a threat-pattern file (root key `"patterns"`).
    pub fn load(path: impl AsRef<Path>) -> Result<Self, PatternError> {
        let path = path.as_ref();
        let text = load::read(path)?;
        Self::from_json_str(&text, &path.display().to_string())
    }

    /// Parses threat-pattern JSON text; `source` names it in errors and warnings.
    pub fn from_json_str(text: &str, source: &str) -> Result<Self, PatternError> {
        let mut raws = load::parse_threats(text, source)?;
        raws.sort_by_key(|r| std::cmp::Reverse(r.priority.unwrap_or(i64::MIN)));
        let mut patterns = Vec::with_capacity(raws.len());
        let mut related = Vec::with_capacity(raws.len());
        let mut used = 0usize;
        for raw in raws {
            let (p, re) = compile(raw, source, true, rx::FILE_LIMITS)?;
            used += p.cost;
            if used > super::FILE_BUDGET {
                return Err(PatternError::Budget {
                    file: source.into(),
                    pattern: clip(&p.name),
                    used,
                    limit: super::FILE_BUDGET,
                });
            }
            patterns.push(p);
            related.push(re);
        }
        let mut warnings = Vec::new();
        for i in 0..patterns.len() {
            if let Some(re) = &related[i] {
                patterns[i].relations = relation_targets(re, &patterns);
            }
            warnings.extend(unresolved(&patterns[i], source));
            warnings.extend(unused_texts(&patterns[i], source));
        }
        check_cycles(&patterns, source)?;
        Ok(PatternSet { source: source.into(), patterns, warnings })
    }

    /// The highest-priority pattern matching `facts`, or `None` when nothing matches.
    pub fn resolve(&self, facts: &Facts<'_>) -> Option<&Pattern> {
        (0..self.patterns.len()).find(|&i| self.matches_at(i, facts)).map(|i| &self.patterns[i])
    }

    /// Whether the pattern at `index` (in [`patterns`](Self::patterns) order) matches, with its
    /// relations. Out-of-range indices never match.
    pub fn matches_at(&self, index: usize, facts: &Facts<'_>) -> bool {
        self.patterns.get(index).is_some_and(|p| p.own_match(facts) && self.relations_match(p, facts))
    }

    /// Whether a pattern named `name` (case-sensitive) exists and matches.
    pub fn matches_named(&self, name: &str, facts: &Facts<'_>) -> bool {
        self.patterns.iter().enumerate().any(|(i, p)| p.name == name && self.matches_at(i, facts))
    }

    fn relations_match(&self, p: &Pattern, facts: &Facts<'_>) -> bool {
        if p.related.is_none() {
            return true;
        }
        match p.mode {
            RelationMode::All => p.relations.iter().all(|&i| self.matches_at(i, facts)),
            RelationMode::Any => p.relations.iter().any(|&i| self.matches_at(i, facts)),
        }
    }

    /// The first pattern with this name.
    pub fn get(&self, name: &str) -> Option<&Pattern> {
        self.patterns.iter().find(|p| p.name == name)
    }

    /// All patterns, highest priority first.
    pub fn patterns(&self) -> &[Pattern] {
        &self.patterns
    }

    pub fn len(&self) -> usize {
        self.patterns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Load warnings (unresolved relations), one line each, naming the file and pattern.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The file name (or source label) this set was loaded from.
    pub fn source(&self) -> &str {
        &self.source
    }
}

/// Depth-first search for a relation cycle; the error names it `A -> B -> A`.
fn check_cycles(patterns: &[Pattern], file: &str) -> Result<(), PatternError> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    let mut mark = vec![Mark::New; patterns.len()];
    for start in 0..patterns.len() {
        if mark[start] != Mark::New {
            continue;
        }
        // Explicit stack of (node, next relation index); `path` mirrors the active nodes.
        let mut stack = vec![(start, 0usize)];
        mark[start] = Mark::Active;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&to) = patterns[node].relations.get(*next) {
                *next += 1;
                match mark[to] {
                    Mark::New => {
                        mark[to] = Mark::Active;
                        stack.push((to, 0));
                    }
                    Mark::Active => {
                        let from = stack.iter().position(|&(n, _)| n == to).unwrap_or(0);
                        let mut names: Vec<&str> =
                            stack[from..].iter().map(|&(n, _)| patterns[n].name.as_str()).collect();
                        names.push(&patterns[to].name);
                        return Err(PatternError::Cycle { file: file.into(), cycle: names.join(" -> ") });
                    }
                    Mark::Done => {}
                }
            } else {
                mark[node] = Mark::Done;
                stack.pop();
            }
        }
    }
    Ok(())
}

/// Ignore rules, referencing the threat patterns of one [`PatternSet`] by name.
///
/// Mode filters, user filters and runtime ignores can all live in one set: the order does not
/// change the outcome, only which filter name is reported.
#[derive(Clone, Debug)]
pub struct FilterSet {
    threats: Arc<PatternSet>,
    filters: Vec<Pattern>,
    warnings: Vec<String>,
    /// Per-regex limits and the memory budget of the whole set.
    limits: rx::RegexLimits,
    budget: usize,
    /// What the filters' compiled regexes take (bounded by `budget`).
    cost: usize,
}

impl FilterSet {
    /// No filters (paranoid mode without user filters).
    pub fn new(threats: Arc<PatternSet>) -> Self {
        FilterSet {
            threats,
            filters: Vec::new(),
            warnings: Vec::new(),
            limits: rx::FILE_LIMITS,
            budget: super::FILE_BUDGET,
            cost: 0,
        }
    }

    /// No filters yet, for the user's ignores: tighter per-regex limits and the budget of
    /// [`super::USER_BUDGET`] for all of them together.
    pub fn for_user(threats: Arc<PatternSet>) -> Self {
        FilterSet { limits: rx::USER_LIMITS, budget: super::USER_BUDGET, ..Self::new(threats) }
    }

    /// What the compiled regexes of the filters take (a bound, in bytes).
    pub fn cost(&self) -> usize {
        self.cost
    }

    /// The memory budget of the set, in bytes.
    pub fn budget(&self) -> usize {
        self.budget
    }

    /// Loads a filter file (root key `"filters"` or `"ignores"`).
    pub fn load(path: impl AsRef<Path>, threats: Arc<PatternSet>) -> Result<Self, PatternError> {
        let mut s = Self::new(threats);
        s.append_file(path)?;
        Ok(s)
    }

    /// Parses filter JSON text; `source` names it in errors and warnings.
    pub fn from_json_str(text: &str, source: &str, threats: Arc<PatternSet>) -> Result<Self, PatternError> {
        let mut s = Self::new(threats);
        s.append_json_str(text, source)?;
        Ok(s)
    }

    /// Appends every filter of a file; on error nothing is appended. Returns how many were added.
    pub fn append_file(&mut self, path: impl AsRef<Path>) -> Result<usize, PatternError> {
        let path = path.as_ref();
        let text = load::read(path)?;
        self.append_json_str(&text, &path.display().to_string())
    }

    /// Appends every filter of a filter-file text; on error nothing is appended.
    pub fn append_json_str(&mut self, text: &str, source: &str) -> Result<usize, PatternError> {
        let raws = load::parse_filters(text, source)?;
        let mut new = Vec::with_capacity(raws.len());
        let mut warnings = Vec::new();
        let mut used = self.cost;
        for raw in raws {
            let (p, w) = self.compile_filter(raw, source, used)?;
            used += p.cost;
            new.push(p);
            warnings.extend(w);
        }
        let n = new.len();
        self.filters.extend(new);
        self.warnings.extend(warnings);
        self.cost = used;
        Ok(n)
    }

    /// Parses ONE filter object (a callback filter sent back by a client, legacy `ignore_tmp` /
    /// `ignore_permanent`) and appends it.
    pub fn add_filter_json(&mut self, text: &str, source: &str) -> Result<&Pattern, PatternError> {
        let raw = load::parse_one(text, source)?;
        let (p, w) = self.compile_filter(raw, source, self.cost)?;
        self.cost += p.cost;
        self.filters.push(p);
        self.warnings.extend(w);
        Ok(self.filters.last().expect("just pushed"))
    }

    /// Appends a filter compiled earlier against the same threat patterns.
    /// Appends a filter compiled earlier, within the set's budget (`source` names it in the
    /// error).
    pub fn push(&mut self, filter: Pattern, source: &str) -> Result<(), PatternError> {
        self.check_budget(&filter, source, self.cost)?;
        self.cost += filter.cost;
        self.filters.push(filter);
        Ok(())
    }

    fn check_budget(&self, p: &Pattern, source: &str, used_before: usize) -> Result<(), PatternError> {
        let used = used_before + p.cost;
        if used > self.budget {
            return Err(PatternError::Budget { file: source.into(), pattern: clip(&p.name), used, limit: self.budget });
        }
        Ok(())
    }

    fn compile_filter(
        &self,
        raw: RawPattern,
        source: &str,
        used_before: usize,
    ) -> Result<(Pattern, Option<String>), PatternError> {
        let (mut p, re) = compile(raw, source, false, self.limits)?;
        self.check_budget(&p, source, used_before)?;
        if let Some(re) = &re {
            p.relations = relation_targets(re, &self.threats.patterns);
        }
        let w = unresolved(&p, source);
        Ok((p, w))
    }

    /// The name of the first filter matching `facts`, if any.
    pub fn matches(&self, facts: &Facts<'_>) -> Option<&str> {
        self.matching(facts).map(Pattern::name)
    }

    /// The name of the first filter matching: filters that pin the destination (their own
    /// `dstip`, `orgname` or `asn` constraint) are matched against `named`, the others against
    /// `unnamed` (the same facts without a host name that cannot decide alone).
    pub fn matches_believing(&self, named: &Facts<'_>, unnamed: &Facts<'_>) -> Option<&str> {
        self.filters
            .iter()
            .find(|f| {
                let facts = if f.pins_destination() { named } else { unnamed };
                f.own_match(facts) && self.threats.relations_match(f, facts)
            })
            .map(Pattern::name)
    }

    /// The first filter matching `facts`, if any.
    pub fn matching(&self, facts: &Facts<'_>) -> Option<&Pattern> {
        self.filters.iter().find(|f| f.own_match(facts) && self.threats.relations_match(f, facts))
    }

    pub fn filters(&self) -> &[Pattern] {
        &self.filters
    }

    pub fn threats(&self) -> &Arc<PatternSet> {
        &self.threats
    }

    pub fn len(&self) -> usize {
        self.filters.len()
    }

    pub fn is_empty(&self) -> bool {
        self.filters.is_empty()
    }

    /// Load warnings (unresolved relations).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::LeakKind;

    fn set(patterns: &str) -> Result<PatternSet, PatternError> {
        PatternSet::from_json_str(&format!("{{\"patterns\":[{patterns}]}}"), "t.json")
    }

    fn names(s: &PatternSet) -> Vec<&str> {
        s.patterns().iter().map(Pattern::name).collect()
    }

    #[test]
    fn msg_and_msg_exciter_load_with_a_warning_that_they_are_not_used() {
        let s = set(r#"{"name":"P.\u001b[2J","priority":1,"msg":"{dstip} leak","msg_exciter":"x"}"#).unwrap();
        assert_eq!(s.warnings().len(), 1, "{:?}", s.warnings());
        let w = &s.warnings()[0];
        assert!(w.starts_with("t.json: pattern \"P.\\u{1b}[2J\": msg and msg_exciter are not used"), "{w}");
        assert!(set(r#"{"name":"P","priority":1}"#).unwrap().warnings().is_empty());
    }

    #[test]
    fn sorted_by_priority_descending_and_stable() {
        let s = set(r#"{"name":"a","priority":1},{"name":"b","priority":5},{"name":"c","priority":1},{"name":"d","priority":5}"#)
            .unwrap();
        assert_eq!(names(&s), ["b", "d", "a", "c"]);
    }

    #[test]
    fn missing_fact_never_matches_and_numbers_match_as_text() {
        let s = set(r#"{"name":"port","pattern":{"dstport":"44[0-9]"},"priority":3},
               {"name":"asn","pattern":{"asn":"15169","kind":"active|passive"},"priority":2},
               {"name":"any","pattern":{},"priority":0}"#)
        .unwrap();
        let f = Facts::default();
        assert_eq!(s.resolve(&f).unwrap().name(), "any");
        let f = Facts { dstport: Some(443), ..Facts::default() };
        assert_eq!(s.resolve(&f).unwrap().name(), "port");
        let f = Facts { asn: Some(15169), kind: Some(LeakKind::Sudden), ..Facts::default() };
        assert_eq!(s.resolve(&f).unwrap().name(), "any");
        let f = Facts { asn: Some(15169), kind: Some(LeakKind::Active), ..Facts::default() };
        assert_eq!(s.resolve(&f).unwrap().name(), "asn");
        assert!(set("").unwrap().resolve(&f).is_none());
        let s = set(r#"{"name":"only","pattern":{"pid":".*"},"priority":1}"#).unwrap();
        assert!(s.resolve(&Facts::default()).is_none());
    }

    #[test]
    fn relation_modes() {
        let s = set(r#"{"name":"P.A","pattern":{"processname":"a.*"},"priority":1},
               {"name":"P.B","pattern":{"orgname":"b.*"},"priority":1},
               {"name":"All","related-patterns":"P\\..","relation-mode":"ALL","priority":9},
               {"name":"Any","related-patterns":"P\\..","relation-mode":"Any","priority":8},
               {"name":"AnyNone","related-patterns":"nothing","relation-mode":"any","priority":10},
               {"name":"AllNone","related-patterns":"nothing","priority":7}"#)
        .unwrap();
        assert_eq!(s.warnings().len(), 2, "{:?}", s.warnings());
        assert!(s.warnings()[0].contains("AnyNone") && s.warnings()[0].contains("t.json"));
        let ab = Facts { processname: Some("ax"), orgname: Some("bx"), ..Facts::default() };
        let a = Facts { processname: Some("ax"), ..Facts::default() };
        assert_eq!(s.resolve(&ab).unwrap().name(), "All");
        assert_eq!(s.resolve(&a).unwrap().name(), "Any");
        assert_eq!(s.resolve(&Facts::default()).unwrap().name(), "AllNone");
        assert!(!s.matches_named("AnyNone", &ab));
    }

    #[test]
    fn cycles_are_rejected() {
        for (ps, cycle) in [
            (r#"{"name":"A","related-patterns":"A","priority":1}"#, "A -> A"),
            (
                r#"{"name":"A","related-patterns":"B","priority":2},{"name":"B","related-patterns":"A","priority":1}"#,
                "A -> B -> A",
            ),
            (
                r#"{"name":"A","related-patterns":"B","priority":3},{"name":"B","related-patterns":"C","priority":2},
                   {"name":"C","related-patterns":"A|X","priority":1},{"name":"X","priority":0}"#,
                "A -> B -> C -> A",
            ),
        ] {
            let e = set(ps).unwrap_err();
            assert!(matches!(&e, PatternError::Cycle { cycle: c, .. } if c == cycle), "{e}");
            assert!(e.to_string().contains("t.json"));
        }
        // A diamond is fine.
        set(r#"{"name":"A","related-patterns":"B|C","priority":3},{"name":"B","related-patterns":"D","priority":2},
               {"name":"C","related-patterns":"D","priority":2},{"name":"D","priority":1}"#)
        .unwrap();
    }

    #[test]
    fn invalid_entries() {
        let e = set(r#"{"name":"A"}"#).unwrap_err().to_string();
        assert!(e.contains("priority") && e.contains("\"A\""), "{e}");
        let e = set(r#"{"name":"A","priority":1,"relation-mode":"some"}"#).unwrap_err().to_string();
        assert!(e.contains("relation-mode"), "{e}");
        let e = set(r#"{"name":"A","priority":1,"pattern":{"differ-by":"dstip, bogus"}}"#).unwrap_err().to_string();
        assert!(e.contains("bogus") && e.contains("differ-by"), "{e}");
        let e = set(r#"{"name":"A","priority":1,"pattern":{"orgname":"(?!x).*"}}"#).unwrap_err();
        assert!(matches!(&e, PatternError::Regex { field, .. } if field == "orgname"), "{e}");
        // A huge bad regex is quoted in part, with its length, not whole.
        let huge = format!("({}", "a".repeat(1 << 20));
        let e =
            set(&format!(r#"{{"name":"A","priority":1,"pattern":{{"orgname":"{huge}"}}}}"#)).unwrap_err().to_string();
        assert!(e.len() < 1500 && e.contains("orgname") && e.contains("1048577 bytes)"), "{} bytes", e.len());
        let s = set(r#"{"name":"A","priority":1,"pattern":{"differ-by":" DstIP , hostname,dstip "}}"#).unwrap();
        assert_eq!(s.patterns()[0].differ_by(), [Field::Dstip, Field::Hostname]);
    }

    #[test]
    fn filters_reference_threats_only() {
        let s = Arc::new(
            set(r#"{"name":"P.A","pattern":{"processname":"a.*"},"priority":1},{"name":"P.Z","priority":0}"#).unwrap(),
        );
        let mut f = FilterSet::from_json_str(
            r#"{"ignores":[{"name":"I.A","related-patterns":"P\\.A","pattern":{"dstport":"53"}},
                           {"name":"I.Self","related-patterns":"I\\..*","relation-mode":"any"}]}"#,
            "f.json",
            s.clone(),
        )
        .unwrap();
        assert_eq!(f.warnings().len(), 1);
        let hit = Facts { processname: Some("ab"), dstport: Some(53), ..Facts::default() };
        assert_eq!(f.matches(&hit), Some("I.A"));
        assert_eq!(f.matches(&Facts { dstport: Some(53), ..Facts::default() }), None);
        f.add_filter_json(r#"{"name":"Everything"}"#, "runtime").unwrap();
        assert_eq!(f.matches(&Facts::default()), Some("Everything"));
        assert!(FilterSet::from_json_str(r#"{"patterns":[]}"#, "f.json", s.clone()).is_err());
        assert!(FilterSet::from_json_str(r#"{"filters":[]}"#, "f.json", s).unwrap().is_empty());
    }
}
