//! The callback filter: a ready-made ignore rule for one alert (legacy `differ-by`).

use super::{Facts, Field, Pattern};
use crate::alert::quote_literal;

/// Fallback identifying fields, best first, used when a `differ-by` value is unknown.
const FALLBACK: [Field; 5] = [Field::Exe, Field::Processname, Field::Dstip, Field::Dstport, Field::Srcport];

/// The fields a callback filter for `pattern` and `facts` constrains, in key order.
///
/// Each `differ-by` field with a known value is used. For each one whose value is unknown, the
/// first not-yet-used field of exe, processname, dstip, dstport, srcport with a known value is
/// used instead, so the filter never widens to unrelated threats. If that leaves nothing although
/// `differ-by` asked for something, the leak kind is used when known. A spread upload's filter
/// always constrains the kind too.
///
/// Then the filter always pins both ends when they are known: the program (exe, else process
/// name) and the destination (organisation, else ASN, else address). Without the destination,
/// "Always ignore" on an alert named by a host name (`Pattern.GitHub`, differ-by the program)
/// would let that program later upload anywhere that claims the same name. A spread upload has
/// no one destination: its filter pins the program and the kind.
pub fn callback_fields(pattern: &Pattern, facts: &Facts<'_>) -> Vec<Field> {
    let known = |f: Field| f.with_value(facts, |_| ()).is_some();
    let mut fields: Vec<Field> = Vec::new();
    for &f in pattern.differ_by() {
        let pick = if known(f) { Some(f) } else { FALLBACK.into_iter().find(|&g| known(g) && !fields.contains(&g)) };
        if let Some(g) = pick
            && !fields.contains(&g)
        {
            fields.push(g);
        }
    }
    if fields.is_empty() && !pattern.differ_by().is_empty() && known(Field::Kind) {
        fields.push(Field::Kind);
    }
    let spread = facts.kind == Some(crate::alert::LeakKind::Spread);
    // A spread upload's filter ignores that program's spread uploads, not all its uploads.
    if spread && !fields.contains(&Field::Kind) {
        fields.push(Field::Kind);
    }
    let pins = |fields: &[Field], any: &[Field]| fields.iter().any(|f| any.contains(f));
    if !pins(&fields, &[Field::Exe, Field::Processname, Field::Pid])
        && let Some(g) = [Field::Exe, Field::Processname].into_iter().find(|&g| known(g))
    {
        fields.push(g);
    }
    if !spread
        && !pins(&fields, &[Field::Dstip, Field::Orgname, Field::Asn])
        && let Some(g) = [Field::Orgname, Field::Asn, Field::Dstip].into_iter().find(|&g| known(g))
    {
        fields.push(g);
    }
    fields.sort();
    fields
}

/// The callback filter for a threat resolved to `pattern`, as compact JSON in the legacy shape
/// and key order (`pattern`, `name`, `related-patterns`, `relation-mode`), e.g.
/// `{"pattern":{"processname":"^\\Qcurl\\E$"},"name":"Ignore.Custom.Pattern.Process","related-patterns":"^\\QPattern.Process\\E$","relation-mode":"all"}`.
///
/// Every value constraint is a literal full match `^\Q<value>\E$`. The `"pattern"` object is
/// always written (possibly `{}`). It parses back with
/// [`FilterSet::add_filter_json`](super::FilterSet::add_filter_json) and matches the threat.
pub fn callback_filter(pattern: &Pattern, facts: &Facts<'_>) -> String {
    let js = |s: &str| serde_json::to_string(s).expect("strings always serialise");
    let mut out = String::with_capacity(160);
    out.push_str("{\"pattern\":{");
    for (i, f) in callback_fields(pattern, facts).into_iter().enumerate() {
        let Some(value) = f.with_value(facts, |v| format!("^{}$", quote_literal(v))) else { continue };
        if i > 0 {
            out.push(',');
        }
        out.push_str(&js(f.as_str()));
        out.push(':');
        out.push_str(&js(&value));
    }
    out.push_str("},\"name\":");
    out.push_str(&js(&format!("Ignore.Custom.{}", pattern.name())));
    out.push_str(",\"related-patterns\":");
    out.push_str(&js(&format!("^{}$", quote_literal(pattern.name()))));
    out.push_str(",\"relation-mode\":\"all\"}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::LeakKind;
    use crate::patterns::{FilterSet, PatternSet};
    use std::sync::Arc;

    const THREATS: &str = r#"{"patterns":[
        {"name":"Pattern.Undefined","pattern":{"differ-by":"processname"},"priority":0},
        {"name":"Pattern.Port","pattern":{"srcport":"^[0-9]{1,5}$","differ-by":"srcport"},"priority":10},
        {"name":"Pattern.IP","pattern":{"dstip":".*","differ-by":"dstip"},"priority":20},
        {"name":"Pattern.Process","pattern":{"pid":"^[0-9]{1,5}$","differ-by":"processname"},"priority":30},
        {"name":"Pattern.Org","pattern":{"orgname":".*","differ-by":"orgname, hostname, asn, country, kind"},"priority":40},
        {"name":"Pattern.NoDiffer","pattern":{"hostname":"never.*"},"priority":50}
    ]}"#;

    fn threats() -> Arc<PatternSet> {
        Arc::new(PatternSet::from_json_str(THREATS, "threats").unwrap())
    }

    #[test]
    fn legacy_shape() {
        let s = threats();
        let facts = Facts { pid: Some(42), processname: Some("curl"), ..Facts::default() };
        let p = s.resolve(&facts).unwrap();
        assert_eq!(
            callback_filter(p, &facts),
            r#"{"pattern":{"processname":"^\\Qcurl\\E$"},"name":"Ignore.Custom.Pattern.Process","related-patterns":"^\\QPattern.Process\\E$","relation-mode":"all"}"#
        );
        let facts = Facts { dstip: Some("198.51.100.7".parse().unwrap()), ..Facts::default() };
        assert_eq!(
            callback_filter(s.resolve(&facts).unwrap(), &facts),
            r#"{"pattern":{"dstip":"^\\Q198.51.100.7\\E$"},"name":"Ignore.Custom.Pattern.IP","related-patterns":"^\\QPattern.IP\\E$","relation-mode":"all"}"#
        );
        let facts = Facts { orgname: Some("Org \\E x"), ..Facts::default() };
        assert_eq!(
            callback_filter(s.resolve(&facts).unwrap(), &facts),
            r#"{"pattern":{"orgname":"^\\QOrg \\E\\\\E\\Q x\\E$"},"name":"Ignore.Custom.Pattern.Org","related-patterns":"^\\QPattern.Org\\E$","relation-mode":"all"}"#
        );
    }

    #[test]
    fn missing_differ_by_values_fall_back() {
        let s = threats();
        // Process pattern, nameless process: exe, else dstip.
        let p = s.get("Pattern.Process").unwrap();
        let f = Facts { pid: Some(7), exe: Some("/usr/bin/x"), dstip: Some([1, 2, 3, 4].into()), ..Facts::default() };
        assert_eq!(callback_fields(p, &f), [Field::Dstip, Field::Exe], "the destination is pinned too");
        // The owner rather than the address when known; a destination-only pattern gets the program.
        let f = Facts { orgname: Some("GitHub, Inc."), asn: Some(36459), ..f };
        assert_eq!(callback_fields(p, &f), [Field::Orgname, Field::Exe]);
        let f = Facts { processname: Some("x"), dstip: Some([1, 2, 3, 4].into()), ..Facts::default() };
        assert_eq!(callback_fields(s.get("Pattern.IP").unwrap(), &f), [Field::Dstip, Field::Processname]);
        let f = Facts { pid: Some(7), dstip: Some([1, 2, 3, 4].into()), ..Facts::default() };
        assert_eq!(callback_fields(p, &f), [Field::Dstip]);
        // Port pattern: srcport is now supported.
        let f = Facts { srcport: Some(5555), ..Facts::default() };
        assert_eq!(callback_fields(s.get("Pattern.Port").unwrap(), &f), [Field::Srcport]);
        // Undefined with nothing identifying but the kind.
        let f = Facts { kind: Some(LeakKind::Sudden), ..Facts::default() };
        assert_eq!(callback_fields(s.get("Pattern.Undefined").unwrap(), &f), [Field::Kind]);
        // No differ-by: the pattern itself is the identity (legacy).
        assert!(callback_fields(s.get("Pattern.NoDiffer").unwrap(), &f).is_empty());
    }

    #[test]
    fn round_trip_table() {
        let s = threats();
        let ip6 = "2001:db8::1".parse().unwrap();
        let table = [
            Facts { pid: Some(1), processname: Some("curl"), ..Facts::default() },
            Facts { pid: Some(1), exe: Some("C:\\Program Files\\x\\E.exe"), ..Facts::default() },
            Facts { dstip: Some(ip6), srcport: Some(1), ..Facts::default() },
            Facts { srcport: Some(40000), dstport: Some(443), ..Facts::default() },
            Facts {
                orgname: Some("Google LLC"),
                hostname: Some("a.b"),
                asn: Some(15169),
                country: Some("US"),
                kind: Some(LeakKind::Passive),
                ..Facts::default()
            },
            Facts { orgname: Some("[weird] (org) $1 \\Q"), ..Facts::default() },
            Facts { kind: Some(LeakKind::Active), ..Facts::default() },
            Facts::default(),
        ];
        for facts in table {
            let p = s.resolve(&facts).unwrap();
            let json = callback_filter(p, &facts);
            let mut fs = FilterSet::new(s.clone());
            let name = fs.add_filter_json(&json, "callback").unwrap().name().to_owned();
            assert_eq!(fs.matches(&facts), Some(name.as_str()), "{json}");
            // It must not match a threat differing in the chosen fields.
            for f in callback_fields(p, &facts) {
                let mut other = facts;
                match f {
                    Field::Processname => other.processname = Some("zzz"),
                    Field::Exe => other.exe = Some("/zzz"),
                    Field::Dstip => other.dstip = Some([9, 9, 9, 9].into()),
                    Field::Srcport => other.srcport = Some(9),
                    Field::Orgname => other.orgname = Some("zzz"),
                    _ => continue,
                }
                assert_eq!(fs.matches(&other), None, "{json} vs {other:?}");
            }
        }
    }
}
