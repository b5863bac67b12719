//! Localised texts (`src/i18n.rs`, `locales/*/leakwatch.ftl`): alert messages in English and
//! Russian, sizes, durations, plurals, literal insertion of values, coverage of every pattern
//! name, and locale parsing.

use insta::assert_snapshot;
use leakwatch::alert::{Alert, LeakKind};
use leakwatch::i18n::{EN_FTL, Facts, Locale, Messages, RU_FTL, pattern_id};
use leakwatch::process::ProcessInfo;
use leakwatch::time::Ts;
use std::collections::BTreeSet;
use std::fmt::Write;
use std::sync::Arc;

/// Every pattern name: the 26 legacy ones and the shipped families.
const PATTERN_NAMES: &[&str] = &[
    "Pattern.Undefined",
    "Pattern.Port",
    "Pattern.IP",
    "Pattern.Process",
    "Pattern.Yandex",
    "Pattern.Google",
    "Pattern.Amazon",
    "Pattern.VKontakte",
    "Pattern.Mailru",
    "Pattern.Microsoft",
    "Pattern.StdApps",
    "Pattern.StdApp.Skype",
    "Pattern.StdApp.Steam",
    "Pattern.StdApp.TorrentClient",
    "Pattern.StdApp.Dropbox",
    "Pattern.StdApp.Browser",
    "Pattern.StdApp.Browser.Google",
    "Pattern.StdApp.Browser.Yandex",
    "Pattern.StdApp.Browser.VKontakte",
    "Pattern.StdApp.Browser.Yandex.Statica",
    "Pattern.StdApp.Browser.Metrica.Yandex",
    "Pattern.StdApp.Browser.Metrica.Mailru",
    "Pattern.StdApp.Browser.Amazon.Aws",
    "Pattern.Amazon.Aws",
    "Pattern.Google.Cache",
    "Pattern.Microsoft.Updates",
    "Pattern.Apple",
    "Pattern.Meta",
    "Pattern.Cloudflare",
    "Pattern.Akamai",
    "Pattern.Fastly",
    "Pattern.DigitalOcean",
    "Pattern.Hetzner",
    "Pattern.OVH",
    "Pattern.Telegram",
    "Pattern.Zoom",
    "Pattern.Slack",
    "Pattern.Discord",
    "Pattern.Spotify",
    "Pattern.GitHub",
    "Pattern.Microsoft.Azure",
];

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
const GIB: u64 = 1024 * MIB;

#[derive(Clone, Copy)]
struct Spec {
    kind: LeakKind,
    pattern: Option<&'static str>,
    process: Option<(&'static str, u32)>,
    ip: &'static str,
    port: u16,
    host: Option<&'static str>,
    org: Option<&'static str>,
    country: Option<&'static str>,
    bytes: u64,
    secs: f64,
}

fn alert(s: Spec) -> Alert {
    Alert {
        id: 1,
        kind: s.kind,
        pattern: s.pattern.map(str::to_string),
        process: s
            .process
            .map(|(name, pid)| Arc::new(ProcessInfo { pid, name: name.to_string(), exe: None, installed: false })),
        dstip: s.ip.parse().unwrap(),
        dstport: s.port,
        srcport: 40000,
        proto: leakwatch::packet::Proto::Tcp,
        destinations: 1,
        top: Vec::new(),
        hostname: s.host.map(str::to_string),
        orgname: s.org.map(str::to_string),
        asn: None,
        country: s.country.map(str::to_string),
        bytes: s.bytes,
        started: Ts::from_secs_f64(100.0),
        at: Ts::from_secs_f64(100.0 + s.secs),
        name_trust: None,
        callback_filter: String::new(),
    }
}

fn sample_alerts() -> Vec<(&'static str, Alert)> {
    use LeakKind::*;
    let base = Spec {
        kind: Active,
        pattern: None,
        process: None,
        ip: "198.51.100.7",
        port: 443,
        host: None,
        org: None,
        country: None,
        bytes: 48000,
        secs: 8.25,
    };
    vec![
        ("no pattern, nothing known", alert(Spec { ..base })),
        (
            "no pattern, sudden, all known",
            alert(Spec {
                kind: Sudden,
                process: Some(("curl", 1234)),
                host: Some("upload.example.com"),
                org: Some("Example Hosting Ltd"),
                country: Some("NL"),
                bytes: 3 * MIB,
                secs: 4.0,
                ..base
            }),
        ),
        (
            "process, IPv6",
            alert(Spec {
                pattern: Some("Pattern.Process"),
                process: Some(("rsync", 77)),
                ip: "2001:db8::1",
                port: 22,
                host: Some("backup.example.net"),
                org: Some("Example Networks"),
                country: Some("DE"),
                bytes: 10 * MIB,
                secs: 61.0,
                ..base
            }),
        ),
        (
            "browser to Google, IPv6, no host",
            alert(Spec {
                pattern: Some("Pattern.StdApp.Browser.Google"),
                process: Some(("firefox", 4321)),
                ip: "2a00:1450:4001:82a::200e",
                org: Some("Google LLC"),
                country: Some("US"),
                bytes: 1536,
                secs: 0.4,
                ..base
            }),
        ),
        (
            "IP, passive, nothing but org",
            alert(Spec {
                kind: Passive,
                pattern: Some("Pattern.IP"),
                ip: "203.0.113.50",
                port: 8443,
                org: Some("Hetzner Online GmbH"),
                bytes: 3 * GIB + GIB / 5,
                secs: 3700.0,
                ..base
            }),
        ),
        (
            "Telegram, sudden",
            alert(Spec {
                kind: Sudden,
                pattern: Some("Pattern.Telegram"),
                process: Some(("Telegram", 42)),
                ip: "149.154.167.99",
                host: Some("149.154.167.99"),
                org: Some("Telegram Messenger Inc"),
                country: Some("GB"),
                bytes: 1023,
                secs: 59.9,
                ..base
            }),
        ),
        (
            "Azure, missing country",
            alert(Spec {
                pattern: Some("Pattern.Microsoft.Azure"),
                process: Some(("OneDrive.exe", 9000)),
                host: Some("storage.blob.core.windows.net"),
                org: Some("Microsoft Corporation"),
                bytes: 1024,
                secs: 120.0,
                ..base
            }),
        ),
        (
            "unknown pattern name falls back",
            alert(Spec {
                kind: Passive,
                pattern: Some("Pattern.SomethingNew"),
                process: Some(("agent", 5)),
                bytes: 0,
                secs: 65.0,
                ..base
            }),
        ),
        (
            "Mail.ru counter",
            alert(Spec {
                pattern: Some("Pattern.StdApp.Browser.Metrica.Mailru"),
                process: Some(("chrome", 600)),
                host: Some("top-fwz1.mail.ru"),
                org: Some("VK LLC"),
                country: Some("RU"),
                bytes: 200 * KIB,
                secs: 30.0,
                ..base
            }),
        ),
    ]
}

fn render_alerts(locale: Locale) -> String {
    let m = Messages::new(locale);
    let mut out = String::new();
    for (label, a) in sample_alerts() {
        writeln!(out, "# {label}\n{}\n{}\n", m.alert_exciter(&a), m.alert_message(&a)).unwrap();
    }
    out
}

#[test]
fn alert_messages_en() {
    assert_snapshot!(render_alerts(Locale::En));
}

#[test]
fn alert_messages_ru() {
    assert_snapshot!(render_alerts(Locale::Ru));
}

#[test]
fn sizes_and_durations() {
    let mut out = String::new();
    for locale in Locale::ALL {
        let m = Messages::new(locale);
        writeln!(out, "## {locale}").unwrap();
        for b in [0, 1023, 1024, 1536, 10 * MIB, 3 * GIB + GIB / 5] {
            writeln!(out, "size({b}) = {}", m.size(b)).unwrap();
        }
        for s in [0.4, 8.0, 59.9, 61.0, 3700.0] {
            writeln!(out, "duration({s}) = {}", m.duration(s)).unwrap();
        }
    }
    assert_snapshot!(out);
}

#[test]
fn ui_strings() {
    let ids = [
        "unknown",
        "kind-sudden",
        "kind-sudden-desc",
        "kind-active",
        "kind-active-desc",
        "kind-passive",
        "kind-passive-desc",
        "alert-ignored",
        "action-ignore-now",
        "action-ignore-always",
        "action-ignore-15min",
        "action-ignore-1h",
        "action-ignore-24h",
        "mode-paranoid",
        "mode-paranoid-desc",
        "mode-adequate",
        "mode-adequate-desc",
        "mode-chill",
        "mode-chill-desc",
    ];
    let mut out = String::new();
    for locale in Locale::ALL {
        let m = Messages::new(locale);
        writeln!(out, "## {locale}").unwrap();
        for id in ids {
            writeln!(out, "{id}: {}", m.text(id, None)).unwrap();
        }
        for n in [0, 1, 2, 5, 21] {
            writeln!(out, "alerts-count({n}): {}", m.count("alerts-count", n)).unwrap();
        }
        let facts = Facts { bytes: Some(5 * MIB / 2), duration_s: Some(3700.0), ..Facts::default() };
        writeln!(out, "alert-went-on: {}", m.text("alert-went-on", Some(&m.fact_args(&facts)))).unwrap();
    }
    assert_snapshot!(out);
}

#[test]
fn values_are_inserted_literally() {
    let nasty = r#"x$1 {evil} \ <b> "q""#;
    let a = alert(Spec {
        kind: LeakKind::Active,
        pattern: Some("Pattern.Process"),
        process: Some((nasty, 1)),
        ip: "198.51.100.7",
        port: 443,
        host: Some("$host {$ip} \\E"),
        org: Some("{ \"Org\" }"),
        country: Some("<i>"),
        bytes: 1,
        secs: 1.0,
    });
    for locale in Locale::ALL {
        let m = Messages::new(locale);
        let msg = m.alert_message(&a);
        for value in [nasty, "$host {$ip} \\E", "{ \"Org\" }", "<i>"] {
            assert!(msg.contains(value), "{locale}: {value:?} not in {msg:?}");
        }
        assert!(!msg.contains(['\u{2068}', '\u{2069}']), "{locale}: isolation marks in {msg:?}");
        // With no pattern, too.
        let mut plain = a.clone();
        plain.pattern = None;
        assert!(m.alert_message(&plain).contains(nasty), "{locale}");
        // The process name is what `pattern_message` shows as well.
        let facts = Facts { process: Some(nasty.to_string()), ..Facts::default() };
        assert!(m.pattern_message(Some("Pattern.Google"), &facts).contains(nasty), "{locale}");
    }
}

#[test]
fn missing_values_read_as_unknown() {
    for (locale, word) in [(Locale::En, "unknown"), (Locale::Ru, "неизвестно")] {
        let m = Messages::new(locale);
        let msg = m.pattern_message(Some("Pattern.IP"), &Facts::default());
        assert!(msg.contains(word), "{locale}: {msg}");
        assert!(!msg.contains('{') && !msg.contains('$'), "{locale}: unfilled variable in {msg}");
    }
}

#[test]
fn every_pattern_has_its_own_message_and_exciter_in_both_languages() {
    let facts = Facts { process: Some("app".into()), bytes: Some(2048), duration_s: Some(9.0), ..Facts::default() };
    for locale in Locale::ALL {
        let m = Messages::new(locale);
        assert!(m.errors().is_empty(), "{locale}: {:?}", m.errors());
        let default_msg = m.pattern_message(None, &facts);
        let default_exciter = m.pattern_exciter(None, &facts);
        for name in PATTERN_NAMES {
            assert!(m.has_pattern(name), "{locale}: no texts for {name} ({})", pattern_id(name));
            assert_ne!(m.pattern_message(Some(name), &facts), default_msg, "{locale}: {name} uses the fallback");
            assert_ne!(m.pattern_exciter(Some(name), &facts), default_exciter, "{locale}: {name} uses the fallback");
        }
        // An unknown name uses the fallback, not the id.
        assert_eq!(m.pattern_message(Some("Pattern.Nope"), &facts), default_msg);
        assert_eq!(m.pattern_exciter(Some("Pattern.Nope"), &facts), default_exciter);
    }
    assert_eq!(pattern_id("Pattern.StdApp.Browser.Google"), "pattern-stdapp-browser-google");
}

/// Message ids of a Fluent file: `id =` at the start of a line.
fn ids(ftl: &str) -> BTreeSet<String> {
    ftl.lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_lowercase()))
        .filter_map(|l| l.split_once('=').map(|(id, _)| id.trim().to_string()))
        .collect()
}

#[test]
fn both_languages_define_the_same_ids() {
    let (en, ru) = (ids(EN_FTL), ids(RU_FTL));
    assert!(en.len() > 100, "{} ids", en.len());
    let only_en: Vec<_> = en.difference(&ru).collect();
    let only_ru: Vec<_> = ru.difference(&en).collect();
    assert!(only_en.is_empty() && only_ru.is_empty(), "only en: {only_en:?}; only ru: {only_ru:?}");
    for name in PATTERN_NAMES {
        let id = pattern_id(name);
        assert!(en.contains(&format!("{id}-msg")) && en.contains(&format!("{id}-exciter")), "{id}");
    }
}

#[test]
fn russian_plurals() {
    let m = Messages::new(Locale::Ru);
    let c = |n| m.count("alerts-count", n);
    assert_eq!(c(1), "1 предупреждение");
    assert_eq!(c(2), "2 предупреждения");
    assert_eq!(c(4), "4 предупреждения");
    assert_eq!(c(5), "5 предупреждений");
    assert_eq!(c(11), "11 предупреждений");
    assert_eq!(c(21), "21 предупреждение");
    assert_eq!(c(22), "22 предупреждения");
    assert_eq!(c(0), "0 предупреждений");
    let en = Messages::new(Locale::En);
    assert_eq!(en.count("alerts-count", 1), "1 alert");
    assert_eq!(en.count("alerts-count", 21), "21 alerts");
}

#[test]
fn kind_names() {
    assert_eq!(Messages::new(Locale::En).kind_name(LeakKind::Sudden), "Sudden upload");
    assert_eq!(Messages::new(Locale::Ru).kind_name(LeakKind::Passive), "Медленная отправка");
    assert_eq!(Messages::new(Locale::En).kind_name(LeakKind::Spread), "Spread upload");
    assert_eq!(Messages::new(Locale::Ru).kind_name(LeakKind::Spread), "Рассеянная отправка");
}

/// A spread upload says how many addresses and which got the most, in both languages, whatever
/// pattern named the program; a protocol without ports is named instead of a port.
#[test]
fn spread_and_portless_protocols_read_well() {
    let base = Spec {
        kind: LeakKind::Spread,
        pattern: Some("Pattern.Process"),
        process: Some(("sprayer", 4242)),
        ip: "198.51.100.7",
        port: 9000,
        host: None,
        org: None,
        country: None,
        bytes: 1_000_000,
        secs: 9.5,
    };
    let mut spread = alert(base);
    spread.destinations = 50;
    spread.top = vec![("198.51.100.7".parse().unwrap(), 20_000)];
    let en = Messages::new(Locale::En);
    let ru = Messages::new(Locale::Ru);
    assert_eq!(
        en.alert_message(&spread),
        "sprayer (PID 4242) sent 976.6 KiB in 9.5 s to 50 addresses, the most to 198.51.100.7, port 9000. Owner: unknown, country: unknown."
    );
    assert_eq!(en.alert_exciter(&spread), "Upload spread over many addresses");
    let m = ru.alert_message(&spread);
    assert!(m.contains("на 50 адресов") && m.contains("sprayer"), "{m}");

    let mut ping = alert(Spec { kind: LeakKind::Sudden, pattern: None, process: Some(("ping", 7)), port: 0, ..base });
    ping.proto = leakwatch::packet::Proto::Icmp;
    let m = en.alert_message(&ping);
    assert!(m.contains("198.51.100.7, over ICMP") && !m.contains("port"), "{m}");
    let m = ru.alert_message(&ping);
    assert!(m.contains("198.51.100.7, по ICMP"), "{m}");
}

#[test]
fn locale_parsing() {
    for (s, l) in [
        ("en", Locale::En),
        ("ru", Locale::Ru),
        ("EN", Locale::En),
        ("Ru", Locale::Ru),
        ("en_US.UTF-8", Locale::En),
        ("ru-RU", Locale::Ru),
        ("ru_RU.UTF-8", Locale::Ru),
        ("ru_UA@euro", Locale::Ru),
        (" en ", Locale::En),
    ] {
        assert_eq!(Locale::parse(s), Ok(l), "{s:?}");
        assert_eq!(s.parse::<Locale>(), Ok(l), "{s:?}");
    }
    for bad in ["", "de", "C", "POSIX", "english", "e", "rus", "de_DE.UTF-8"] {
        let err = Locale::parse(bad).unwrap_err();
        assert!(err.contains("en") && err.contains("ru"), "{bad:?}: {err}");
    }
    assert_eq!(Locale::Ru.to_string(), "ru");
}

#[test]
fn locale_from_environment_order() {
    let env = |vars: &'static [(&'static str, &'static str)]| {
        move |name: &str| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    };
    assert_eq!(Locale::from_lookup(env(&[])), Locale::En);
    assert_eq!(Locale::from_lookup(env(&[("LANG", "ru_RU.UTF-8")])), Locale::Ru);
    assert_eq!(Locale::from_lookup(env(&[("LANG", "ru_RU.UTF-8"), ("LC_MESSAGES", "en_GB.UTF-8")])), Locale::En);
    assert_eq!(Locale::from_lookup(env(&[("LANG", "en_US.UTF-8"), ("LC_ALL", "ru_RU.UTF-8")])), Locale::Ru);
    assert_eq!(Locale::from_lookup(env(&[("LC_ALL", ""), ("LANG", "ru")])), Locale::Ru);
    assert_eq!(Locale::from_lookup(env(&[("LC_ALL", "C"), ("LANG", "ru")])), Locale::En);
    // Reading the real environment never fails.
    let _ = Locale::from_system();
}

#[test]
fn messages_are_shareable_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Messages>();
}
