//! The pattern engine against the legacy data files (`$LEAKWATCH_SHARED/reference/legacy-data`,
//! default `../shared`): the legacy spec §4.4 resolution table, the mode and user filters, and
//! the load errors.

use leakwatch::alert::LeakKind;
use leakwatch::patterns::{FilterSet, MAX_FILE_BYTES, PatternError, PatternSet, callback_filter};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

fn legacy(name: &str) -> PathBuf {
    let shared = match std::env::var_os("LEAKWATCH_SHARED") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared")),
    };
    let p = shared.join("reference/legacy-data").join(name);
    assert!(p.is_file(), "missing {} (set LEAKWATCH_SHARED?)", p.display());
    p
}

fn threats() -> Arc<PatternSet> {
    let s = PatternSet::load(legacy("patterns.json")).unwrap();
    // Every relation in the shipped file resolves.
    assert!(s.warnings().is_empty(), "{:?}", s.warnings());
    Arc::new(s)
}

/// The chill filter with its look-ahead rewritten as the equivalent positive list.
const CHILL_EQUIVALENT: &str = r#"{"ignores":[{"name":"Ignore.App.All",
    "related-patterns":"Pattern\\.(StdApp|StdApps|Yandex|Google|Amazon|VKontakte|Mailru|Microsoft)(\\..*)?",
    "relation-mode":"any"}]}"#;

struct Row {
    facts: leakwatch::patterns::Facts<'static>,
    pattern: &'static str,
    adequate: Option<&'static str>,
    chill: Option<&'static str>,
}

fn table() -> Vec<Row> {
    use leakwatch::patterns::Facts;
    let ip = |s: &str| Some(s.parse().unwrap());
    let base = Facts { kind: Some(LeakKind::Active), srcport: Some(40000), dstport: Some(443), ..Facts::default() };
    let proc_ = |name: &'static str| Facts { pid: Some(4242), processname: Some(name), ..base };
    const ADQ: Option<&str> = Some("Ignore.App.StdApps.Everything");
    const CHILL: Option<&str> = Some("Ignore.App.All");
    vec![
        Row {
            facts: Facts { dstip: ip("93.184.216.34"), orgname: Some("Edgecast Inc."), ..proc_("curl") },
            pattern: "Pattern.Process",
            adequate: None,
            chill: None,
        },
        Row {
            facts: Facts { dstip: ip("142.250.74.46"), orgname: Some("Google LLC"), ..proc_("firefox") },
            pattern: "Pattern.StdApp.Browser.Google",
            adequate: ADQ,
            chill: CHILL,
        },
        Row {
            facts: Facts {
                dstip: ip("87.250.251.119"),
                hostname: Some("mc.yandex.ru"),
                orgname: Some("YANDEX LLC"),
                ..proc_("firefox")
            },
            pattern: "Pattern.StdApp.Browser.Metrica.Yandex",
            adequate: ADQ,
            chill: CHILL,
        },
        Row {
            facts: Facts {
                dstip: ip("52.95.110.1"),
                hostname: Some("x.amazonaws.com"),
                orgname: Some("Amazon.com, Inc."),
                ..proc_("firefox")
            },
            pattern: "Pattern.StdApp.Browser.Amazon.Aws",
            adequate: ADQ,
            chill: CHILL,
        },
        Row {
            facts: Facts {
                dstip: ip("52.95.110.1"),
                hostname: Some("x.amazonaws.com"),
                orgname: Some("Amazon.com, Inc."),
                ..proc_("curl")
            },
            pattern: "Pattern.Amazon.Aws",
            adequate: None,
            chill: CHILL,
        },
        Row {
            facts: Facts { dstip: ip("13.107.4.50"), orgname: Some("Microsoft Corporation"), ..proc_("svchost.exe") },
            pattern: "Pattern.Microsoft.Updates",
            adequate: None,
            chill: CHILL,
        },
        Row { facts: Facts { dstip: ip("198.51.100.7"), ..base }, pattern: "Pattern.IP", adequate: None, chill: None },
        Row {
            facts: Facts { kind: Some(LeakKind::Sudden), srcport: Some(40000), ..Facts::default() },
            pattern: "Pattern.Port",
            adequate: None,
            chill: None,
        },
        Row { facts: Facts::default(), pattern: "Pattern.Undefined", adequate: None, chill: None },
    ]
}

#[test]
fn legacy_patterns_resolve_like_the_spec_table() {
    let s = threats();
    assert_eq!(s.len(), 26);
    let order: Vec<i64> = s.patterns().iter().map(|p| p.priority()).collect();
    assert!(order.windows(2).all(|w| w[0] >= w[1]));
    assert_eq!(s.patterns()[0].name(), "Pattern.StdApp.Browser.Yandex.Statica", "stable sort keeps file order");
    let adequate = FilterSet::load(legacy("ignores.adequate.json"), s.clone()).unwrap();
    let chill = FilterSet::from_json_str(CHILL_EQUIVALENT, "chill-equivalent", s.clone()).unwrap();
    let paranoid = FilterSet::load(legacy("ignores.paranoid.json"), s.clone()).unwrap();
    assert!(paranoid.is_empty());
    for row in table() {
        let got = s.resolve(&row.facts).map(|p| p.name());
        assert_eq!(got, Some(row.pattern), "{:?}", row.facts);
        assert_eq!(adequate.matches(&row.facts), row.adequate, "adequate, {:?}", row.facts);
        assert_eq!(chill.matches(&row.facts), row.chill, "chill, {:?}", row.facts);
        assert_eq!(paranoid.matches(&row.facts), None);
    }
}

#[test]
fn legacy_relation_targets() {
    let s = threats();
    let targets = |name: &str| -> Vec<&str> {
        let mut v: Vec<&str> = s.get(name).unwrap().relations().iter().map(|&i| s.patterns()[i].name()).collect();
        v.sort();
        v
    };
    assert_eq!(
        targets("Pattern.StdApps"),
        [
            "Pattern.StdApp.Browser",
            "Pattern.StdApp.Dropbox",
            "Pattern.StdApp.Skype",
            "Pattern.StdApp.Steam",
            "Pattern.StdApp.TorrentClient"
        ]
    );
    assert_eq!(targets("Pattern.Amazon.Aws"), ["Pattern.Amazon"]);
    assert_eq!(targets("Pattern.StdApp.Browser.Google"), ["Pattern.Google", "Pattern.StdApp.Browser"]);
    assert_eq!(targets("Pattern.StdApp.Browser.Amazon.Aws"), ["Pattern.Amazon.Aws", "Pattern.StdApp.Browser"]);
    let adequate = FilterSet::load(legacy("ignores.adequate.json"), s.clone()).unwrap();
    assert_eq!(adequate.filters()[0].relations().len(), 7);
}

#[test]
fn legacy_user_filters_load_and_match() {
    let s = threats();
    let user = FilterSet::load(legacy("ignores.user.json"), s.clone()).unwrap();
    assert_eq!(user.len(), 4);
    assert!(user.warnings().is_empty(), "{:?}", user.warnings());
    let firefox = leakwatch::patterns::Facts {
        pid: Some(10),
        processname: Some("firefox"),
        dstip: Some("109.232.105.57".parse().unwrap()),
        ..Default::default()
    };
    assert_eq!(user.matches(&firefox), Some("Ignore.Custom.Pattern.StdApp.Browser"));
    let other = leakwatch::patterns::Facts { dstip: Some("109.232.105.58".parse().unwrap()), ..firefox };
    assert_eq!(user.matches(&other), None);
    let bare_ip = leakwatch::patterns::Facts { dstip: firefox.dstip, ..Default::default() };
    assert_eq!(user.matches(&bare_ip), Some("Ignore.Custom.Pattern.IP"));
}

#[test]
fn legacy_chill_filter_is_rejected_for_its_look_ahead() {
    let path = legacy("ignores.chill.json");
    let e = FilterSet::load(&path, threats()).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, PatternError::Regex { .. }), "{msg}");
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains("look-around") && msg.contains("(?!"), "{msg}");
    assert!(msg.contains("Ignore.App.All") && msg.contains("related-patterns"), "{msg}");
}

#[test]
fn callback_filters_round_trip_on_the_legacy_table() {
    let s = threats();
    for row in table() {
        let p = s.resolve(&row.facts).unwrap();
        let json = callback_filter(p, &row.facts);
        let mut f = FilterSet::new(s.clone());
        f.add_filter_json(&json, "callback").unwrap();
        assert!(f.matches(&row.facts).is_some(), "{json}");
        // An ignore for curl must not silence wget.
        if row.facts.processname == Some("curl") && row.pattern == "Pattern.Process" {
            let wget = leakwatch::patterns::Facts { processname: Some("wget"), ..row.facts };
            assert_eq!(f.matches(&wget), None, "{json}");
        }
    }
    // The Port alert now yields a real constraint instead of `{}`.
    let port = leakwatch::patterns::Facts { srcport: Some(40000), ..Default::default() };
    let json = callback_filter(s.resolve(&port).unwrap(), &port);
    assert!(
        json.starts_with(r#"{"pattern":{"srcport":"^\\Q40000\\E$"},"name":"Ignore.Custom.Pattern.Port""#),
        "{json}"
    );
    // The orgname constraint has a single caret.
    let org = leakwatch::patterns::Facts { orgname: Some("Google LLC"), ..Default::default() };
    let mut p = FilterSet::from_json_str(
        r#"{"filters":[]}"#,
        "x",
        Arc::new(
            PatternSet::from_json_str(
                r#"{"patterns":[{"name":"O","pattern":{"orgname":".*","differ-by":"orgname"},"priority":1}]}"#,
                "o",
            )
            .unwrap(),
        ),
    )
    .unwrap();
    let json = callback_filter(p.threats().clone().resolve(&org).unwrap(), &org);
    assert!(json.contains(r#""orgname":"^\\QGoogle LLC\\E$""#), "{json}");
    p.add_filter_json(&json, "cb").unwrap();
    assert_eq!(p.matches(&org), Some("Ignore.Custom.O"));
}

fn temp(text: &[u8]) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new().suffix(".json").tempfile().unwrap();
    f.write_all(text).unwrap();
    f
}

fn threat_err(text: &str) -> (PatternError, String) {
    let f = temp(text.as_bytes());
    let e = PatternSet::load(f.path()).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains(&f.path().display().to_string()), "error must name the file: {msg}");
    (e, msg)
}

#[test]
fn unknown_key_differby_is_an_error_with_position() {
    let (e, msg) = threat_err(
        "{\"patterns\": [\n  {\"name\": \"A\", \"priority\": 1,\n   \"pattern\": {\"differby\": \"dstip\"}}\n]}",
    );
    match e {
        PatternError::Schema { line, column, .. } => {
            assert_eq!(line, 3);
            assert!(column > 0);
            assert!(msg.contains(&format!(":3:{column}:")), "{msg}");
        }
        e => panic!("{e}"),
    }
    assert!(msg.contains("differby"), "{msg}");
    // Top level too.
    let (_, msg) = threat_err(r#"{"patterns": [{"name": "A", "priority": 1, "prio": 2}]}"#);
    assert!(msg.contains("prio") && msg.contains(":1:"), "{msg}");
    // Filter files as well.
    let f = temp(br#"{"filters": [{"name": "A", "pattern": {"differby": "x"}}]}"#);
    let msg = FilterSet::load(f.path(), threats()).unwrap_err().to_string();
    assert!(msg.contains("differby") && msg.contains(&f.path().display().to_string()), "{msg}");
}

#[test]
fn wrong_types_are_errors() {
    for text in [
        r#"{"patterns": [{"name": "A", "priority": "high"}]}"#,
        r#"{"patterns": [{"name": 5, "priority": 1}]}"#,
        r#"{"patterns": [{"name": "A", "priority": 1, "pattern": {"pid": 42}}]}"#,
        r#"{"patterns": {"name": "A"}}"#,
        r#"{"ignores": []}"#,
        r#"[]"#,
    ] {
        let (e, msg) = threat_err(text);
        assert!(matches!(e, PatternError::Schema { .. }), "{text}: {msg}");
    }
}

#[test]
fn bad_regexes_are_errors_naming_pattern_field_and_regex() {
    for (text, field, regex) in [
        (
            r#"{"patterns": [{"name": "A", "priority": 1, "pattern": {"hostname": "(unclosed"}}]}"#,
            "hostname",
            "(unclosed",
        ),
        (r#"{"patterns": [{"name": "A", "priority": 1, "related-patterns": "a(?=b)"}]}"#, "related-patterns", "a(?=b)"),
        (r#"{"patterns": [{"name": "A", "priority": 1, "pattern": {"exe": "(a)\\1"}}]}"#, "exe", "(a)\\1"),
        (
            r#"{"patterns": [{"name": "A", "priority": 1, "pattern": {"asn": "\\w{999}{999}"}}]}"#,
            "asn",
            "\\w{999}{999}",
        ),
    ] {
        let (e, msg) = threat_err(text);
        match &e {
            PatternError::Regex { pattern, field: f, regex: r, .. } => {
                assert_eq!((pattern.as_str(), f.as_str(), r.as_str()), ("A", field, regex), "{msg}")
            }
            _ => panic!("{msg}"),
        }
    }
}

#[test]
fn relation_cycles_are_errors() {
    let (e, msg) = threat_err(
        r#"{"patterns": [{"name": "A", "priority": 2, "related-patterns": "B"},
                        {"name": "B", "priority": 1, "related-patterns": "A"}]}"#,
    );
    assert!(matches!(e, PatternError::Cycle { .. }) && msg.contains("A -> B -> A"), "{msg}");
    let (_, msg) = threat_err(r#"{"patterns": [{"name": "Self", "priority": 2, "related-patterns": "S.*"}]}"#);
    assert!(msg.contains("Self -> Self"), "{msg}");
}

#[test]
fn empty_not_json_and_oversized_files() {
    let (e, _) = threat_err("");
    assert!(matches!(e, PatternError::Empty { .. }));
    let (e, _) = threat_err("  \n ");
    assert!(matches!(e, PatternError::Empty { .. }));
    let (e, msg) = threat_err("patterns: []");
    assert!(matches!(e, PatternError::NotJson { line: 1, .. }), "{msg}");
    let (e, _) = threat_err("{\"patterns\": [");
    assert!(matches!(e, PatternError::NotJson { .. }));
    let f = tempfile::Builder::new().suffix(".json").tempfile().unwrap();
    f.as_file().set_len(MAX_FILE_BYTES + 1).unwrap();
    let e = PatternSet::load(f.path()).unwrap_err();
    assert!(matches!(e, PatternError::TooLarge { .. }), "{e}");
    assert!(e.to_string().contains(&f.path().display().to_string()));
    let e = PatternSet::load("/nonexistent/patterns.json").unwrap_err();
    assert!(matches!(e, PatternError::Io { .. }) && e.to_string().contains("/nonexistent/patterns.json"));
}

/// JSON nested far deeper than any pattern file (100,000 levels, in a file under the size
/// limit) is refused at once with the file and position, for patterns and filters alike: no
/// stack overflow, no long parse.
#[test]
fn deeply_nested_json_is_refused_naming_the_file() {
    for deep in [
        "[".repeat(100_000),
        r#"{"patterns":"#.repeat(100_000),
        format!(r#"{{"patterns":[{}"#, "{\"a\":[".repeat(50_000)),
    ] {
        let (e, msg) = threat_err(&deep);
        assert!(matches!(e, PatternError::NotJson { .. } | PatternError::Schema { .. }), "{msg}");
        assert!(msg.contains(".json:1:"), "the position: {msg}");
        let f = temp(deep.as_bytes());
        let msg = FilterSet::load(f.path(), threats()).unwrap_err().to_string();
        assert!(msg.contains(&f.path().display().to_string()), "{msg}");
    }
}

#[test]
fn shipped_pattern_files_load_if_present() {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/patterns"));
    let Ok(t) = PatternSet::load(dir.join("threats.json")) else {
        assert!(!dir.join("threats.json").exists(), "{}", PatternSet::load(dir.join("threats.json")).unwrap_err());
        return;
    };
    let t = Arc::new(t);
    for mode in ["paranoid", "adequate", "chill"] {
        let p = dir.join(format!("{mode}.json"));
        if p.exists() {
            FilterSet::load(&p, t.clone()).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}

mod round_trip {
    use super::*;
    use leakwatch::patterns::Facts;
    use proptest::prelude::*;

    const ALL_FIELDS: &str = r#"{"patterns":[
        {"name":"Everything","pattern":{"differ-by":"pid,dstip,srcport,dstport,processname,exe,orgname,hostname,asn,country,kind"},"priority":5},
        {"name":"Org","pattern":{"orgname":".*","differ-by":"orgname,hostname"},"priority":6}
    ]}"#;

    fn opt_text() -> impl Strategy<Value = Option<String>> {
        prop::option::of(prop_oneof![
            "[a-zA-Z0-9 .,$()\\[\\]*+?|^{}-]{0,12}",
            "\\PC{0,8}",
            Just(r"\E".to_owned()),
            Just(r"a\Qb\Ec\".to_owned()),
        ])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn callback_filter_matches_its_threat(
            pid in prop::option::of(any::<u32>()),
            v4 in prop::option::of(any::<[u8; 4]>()),
            v6 in prop::option::of(any::<[u16; 8]>()),
            srcport in prop::option::of(any::<u16>()),
            dstport in prop::option::of(any::<u16>()),
            asn in prop::option::of(any::<u32>()),
            kind in prop::option::of(prop_oneof![Just(LeakKind::Sudden), Just(LeakKind::Active), Just(LeakKind::Passive)]),
            processname in opt_text(), exe in opt_text(), hostname in opt_text(), orgname in opt_text(), country in opt_text(),
            custom in any::<bool>(),
        ) {
            let dstip = v6.map(std::net::IpAddr::from).or(v4.map(std::net::IpAddr::from));
            let facts = Facts {
                kind, pid, dstip, srcport, dstport, asn,
                processname: processname.as_deref(), exe: exe.as_deref(), hostname: hostname.as_deref(),
                orgname: orgname.as_deref(), country: country.as_deref(),
            };
            let threats = if custom {
                Arc::new(PatternSet::from_json_str(ALL_FIELDS, "all-fields").unwrap())
            } else {
                threats()
            };
            let p = threats.resolve(&facts).unwrap();
            let json = callback_filter(p, &facts);
            let mut f = FilterSet::new(threats.clone());
            f.add_filter_json(&json, "callback").unwrap();
            prop_assert!(f.matches(&facts).is_some(), "{}", json);
        }
    }
}
