//! Localised texts: alert messages, sizes, durations and the words the front ends need.
//!
//! The texts live in Fluent files (`locales/<lang>/leakwatch.ftl`), embedded in the binary with
//! `include_str!`. [`Messages`] is built once per [`Locale`] and formats texts with values
//! inserted literally (no escaping, no Unicode isolation marks). A missing value shows as the
//! localised word `unknown`.
//!
//! Alert messages: [`Messages::alert_message`] and [`Messages::alert_exciter`]. A pattern name
//! maps to the Fluent ids `<id>-msg` and `<id>-exciter`, where `<id>` is [`pattern_id`] (lower
//! case, dots → dashes, `pattern-` prefix): `Pattern.StdApp.Browser.Google` →
//! `pattern-stdapp-browser-google-msg`. Unknown pattern names use `pattern-default-msg` and
//! `pattern-default-exciter`.

use crate::alert::{Alert, LeakKind};
use fluent_bundle::FluentResource;
use fluent_bundle::concurrent::FluentBundle;
pub use fluent_bundle::{FluentArgs, FluentValue};
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use unic_langid::LanguageIdentifier;

/// The embedded English messages.
pub const EN_FTL: &str = include_str!("../locales/en/leakwatch.ftl");
/// The embedded Russian messages.
pub const RU_FTL: &str = include_str!("../locales/ru/leakwatch.ftl");

/// A language Leakwatch speaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Locale {
    #[default]
    En,
    Ru,
}

impl Locale {
    /// Every locale, in the order shown to users.
    pub const ALL: [Locale; 2] = [Locale::En, Locale::Ru];

    /// The short code: `en` or `ru`.
    pub fn as_str(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Ru => "ru",
        }
    }

    /// Parses a language code, case-insensitively: `en`, `RU`, `en_US.UTF-8`, `ru-RU`,
    /// `ru_RU.UTF-8@euro`. The error names the valid values.
    pub fn parse(s: &str) -> Result<Locale, String> {
        let lower = s.trim().to_ascii_lowercase();
        let lang = lower.split(['.', '@']).next().unwrap_or("").split(['_', '-']).next().unwrap_or("");
        match lang {
            "en" => Ok(Locale::En),
            "ru" => Ok(Locale::Ru),
            _ => Err(format!("unknown language {:?}: valid values are en, ru", s.trim())),
        }
    }

    /// The locale of the environment: the first non-empty of `LC_ALL`, `LC_MESSAGES`, `LANG`
    /// decides; anything else (unset, `C`, `POSIX`, another language) gives English.
    pub fn from_system() -> Locale {
        Locale::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`Locale::from_system`], reading variables through `get` (for tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Locale {
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .into_iter()
            .filter_map(|name| get(name).filter(|v| !v.trim().is_empty()))
            .next()
            .and_then(|v| Locale::parse(&v).ok())
            .unwrap_or_default()
    }

    /// The decimal separator: `.` in English, `,` in Russian.
    pub fn decimal_separator(self) -> char {
        match self {
            Locale::En => '.',
            Locale::Ru => ',',
        }
    }

    fn ftl(self) -> &'static str {
        match self {
            Locale::En => EN_FTL,
            Locale::Ru => RU_FTL,
        }
    }

    fn langid(self) -> LanguageIdentifier {
        self.as_str().parse().unwrap_or_default()
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Locale {
    type Err = String;

    fn from_str(s: &str) -> Result<Locale, String> {
        Locale::parse(s)
    }
}

/// The Fluent id base for a pattern name: lower case, `.` → `-`, other characters that Fluent
/// does not allow → `-`, with a `pattern-` prefix unless the name already starts with it.
/// `Pattern.StdApp.Browser.Google` → `pattern-stdapp-browser-google`.
pub fn pattern_id(name: &str) -> String {
    let body: String = name
        .trim()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' { c.to_ascii_lowercase() } else { '-' })
        .collect();
    if body.starts_with("pattern-") { body } else { format!("pattern-{body}") }
}

/// The facts an alert message may mention. `None` shows as the localised "unknown".
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Facts {
    pub process: Option<String>,
    pub pid: Option<u32>,
    pub host: Option<String>,
    /// The address's owner contradicts `host` (see `naming::owner`): shown as a claim.
    pub host_contradicted: bool,
    pub org: Option<String>,
    pub country: Option<String>,
    pub ip: Option<IpAddr>,
    pub port: Option<u16>,
    pub bytes: Option<u64>,
    pub duration_s: Option<f64>,
    pub kind: Option<LeakKind>,
    /// IP protocol that carried it (`None`: taken as TCP); one without ports is named instead of a port.
    pub proto: Option<crate::packet::Proto>,
    /// How many destinations (spread uploads).
    pub destinations: Option<u32>,
}

impl Facts {
    /// The facts of an alert: its program, destination, bytes, duration and kind.
    pub fn from_alert(alert: &Alert) -> Facts {
        Facts {
            process: alert.process.as_ref().map(|p| p.name.clone()),
            pid: alert.process.as_ref().map(|p| p.pid),
            host: alert.hostname.clone(),
            host_contradicted: alert.name_trust == Some(crate::naming::owner::NameTrust::Contradicted),
            org: alert.orgname.clone(),
            country: alert.country.clone(),
            ip: Some(alert.dstip),
            port: Some(alert.dstport),
            bytes: Some(alert.bytes),
            duration_s: Some(alert.duration_s()),
            kind: Some(alert.kind),
            proto: Some(alert.proto),
            destinations: Some(alert.destinations),
        }
    }
}

/// The texts of one locale, ready to format. Build once and share (it is `Send + Sync`).
pub struct Messages {
    locale: Locale,
    bundle: FluentBundle<FluentResource>,
    /// English, consulted for ids missing from a non-English bundle.
    fallback: Option<FluentBundle<FluentResource>>,
    errors: Vec<String>,
}

impl fmt::Debug for Messages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Messages").field("locale", &self.locale).field("errors", &self.errors).finish()
    }
}

impl Messages {
    /// Loads the embedded texts of `locale`. Never panics: a broken file keeps what parsed,
    /// English fills the gaps, and [`Messages::errors`] says what went wrong.
    pub fn new(locale: Locale) -> Messages {
        Messages::from_source(locale, locale.ftl())
    }

    /// Loads `locale` from the given Fluent text instead of the embedded one (tests, overrides).
    pub fn from_source(locale: Locale, ftl: &str) -> Messages {
        let mut errors = Vec::new();
        let bundle = build_bundle(locale, ftl, &mut errors);
        let fallback = (locale != Locale::En).then(|| build_bundle(Locale::En, EN_FTL, &mut errors));
        Messages { locale, bundle, fallback, errors }
    }

    pub fn locale(&self) -> Locale {
        self.locale
    }

    /// Problems met while loading (parse errors, duplicate ids); empty when all is well.
    pub fn errors(&self) -> &[String] {
        &self.errors
    }

    /// Whether this locale's own file (not the English fallback) has message `id`.
    pub fn has_message(&self, id: &str) -> bool {
        self.bundle.has_message(id)
    }

    /// The message `id` formatted with `args`; the English text if this locale lacks it; the id
    /// itself if no file has it.
    pub fn text(&self, id: &str, args: Option<&FluentArgs<'_>>) -> String {
        format_in(&self.bundle, id, args)
            .or_else(|| self.fallback.as_ref().and_then(|b| format_in(b, id, args)))
            .unwrap_or_else(|| id.to_string())
    }

    /// The message `id` with `$count` = `n`, for plural forms (`alerts-count`).
    pub fn count(&self, id: &str, n: u64) -> String {
        let mut args = FluentArgs::new();
        args.set("count", n);
        self.text(id, Some(&args))
    }

    /// The localised word for a missing value.
    pub fn unknown(&self) -> String {
        self.text("unknown", None)
    }

    /// The name of a kind of upload (`Sudden upload`).
    pub fn kind_name(&self, kind: LeakKind) -> String {
        self.text(&format!("kind-{}", kind.as_str()), None)
    }

    /// A one-line description of a kind of upload.
    pub fn kind_description(&self, kind: LeakKind) -> String {
        self.text(&format!("kind-{}-desc", kind.as_str()), None)
    }

    /// A byte count for people: `700 B`, `1.5 KiB`, `10.0 MiB`, `3.2 GiB` (one decimal, rounded
    /// half up, localised separator and units).
    pub fn size(&self, bytes: u64) -> String {
        const UNITS: [(&str, u64); 3] = [("size-kib", 1 << 10), ("size-mib", 1 << 20), ("size-gib", 1 << 30)];
        if bytes < 1024 {
            return self.with_arg("size-bytes", "n", bytes.to_string());
        }
        for (i, (id, unit)) in UNITS.iter().enumerate() {
            let tenths = tenths_half_up(bytes, *unit);
            if tenths < 10240 || i == UNITS.len() - 1 {
                return self.with_arg(id, "n", self.decimal(tenths));
            }
        }
        unreachable!("the last unit always returns")
    }

    /// A duration for people: `0.4 s`, `8 s`, `1 min`, `1 min 1 s`, `1 h 5 min` (localised).
    /// Under 10 s it keeps one decimal when not whole; above it counts whole seconds, then
    /// minutes and seconds, then hours and minutes.
    pub fn duration(&self, secs: f64) -> String {
        let secs = if secs.is_finite() && secs > 0.0 { secs } else { 0.0 };
        let tenths = (secs * 10.0).round() as u64;
        if tenths < 100 {
            let s = if tenths.is_multiple_of(10) { (tenths / 10).to_string() } else { self.decimal(tenths) };
            return self.with_arg("duration-seconds", "s", s);
        }
        let whole = secs.round() as u64;
        let mut args = FluentArgs::new();
        let id = if whole < 60 {
            args.set("s", whole.to_string());
            "duration-seconds"
        } else if whole < 3600 {
            args.set("min", (whole / 60).to_string());
            args.set("s", (whole % 60).to_string());
            if whole.is_multiple_of(60) { "duration-minutes" } else { "duration-minutes-seconds" }
        } else {
            args.set("h", (whole / 3600).to_string());
            args.set("min", (whole % 3600 / 60).to_string());
            if whole % 3600 / 60 == 0 { "duration-hours" } else { "duration-hours-minutes" }
        };
        self.text(id, Some(&args))
    }

    /// The message for a pattern (`None` or an unknown name: `pattern-default-msg`).
    pub fn pattern_message(&self, pattern_name: Option<&str>, facts: &Facts) -> String {
        self.pattern_text(pattern_name, "msg", facts)
    }

    /// The short cause label for a pattern (`None` or an unknown name:
    /// `pattern-default-exciter`).
    pub fn pattern_exciter(&self, pattern_name: Option<&str>, facts: &Facts) -> String {
        self.pattern_text(pattern_name, "exciter", facts)
    }

    /// Whether this locale has its own message and exciter for the pattern (no fallback).
    pub fn has_pattern(&self, pattern_name: &str) -> bool {
        let id = pattern_id(pattern_name);
        self.has_message(&format!("{id}-msg")) && self.has_message(&format!("{id}-exciter"))
    }

    /// The plain-words message of an alert: by its pattern when it has a known one, else by its
    /// kind.
    pub fn alert_message(&self, alert: &Alert) -> String {
        self.alert_text(alert, "msg")
    }

    /// The short cause label of an alert: by its pattern when it has a known one, else by its
    /// kind.
    pub fn alert_exciter(&self, alert: &Alert) -> String {
        self.alert_text(alert, "exciter")
    }

    /// The Fluent arguments for `facts`: every variable set, missing ones as "unknown".
    pub fn fact_args(&self, facts: &Facts) -> FluentArgs<'static> {
        let unknown = self.unknown();
        let or_unknown = |v: Option<String>| v.filter(|s| !s.is_empty()).unwrap_or_else(|| unknown.clone());
        let yes_no = |v: &Option<String>| if v.as_deref().is_some_and(|s| !s.is_empty()) { "yes" } else { "no" };
        let mut args = FluentArgs::new();
        args.set("process-known", yes_no(&facts.process));
        // A "host name" that is just the address says nothing new.
        let ip = facts.ip.map(|ip| ip.to_string());
        let host = facts.host.clone().filter(|h| Some(h) != ip.as_ref());
        let host_known = match yes_no(&host) {
            "yes" if facts.host_contradicted => "claimed",
            known => known,
        };
        args.set("host-known", host_known);
        args.set("process", or_unknown(facts.process.clone()));
        args.set("pid", or_unknown(facts.pid.map(|p| p.to_string())));
        args.set("host", or_unknown(facts.host.clone()));
        args.set("org", or_unknown(facts.org.clone()));
        args.set("country", or_unknown(facts.country.clone()));
        args.set("ip", or_unknown(facts.ip.map(|ip| ip.to_string())));
        args.set("port", or_unknown(facts.port.map(|p| p.to_string())));
        args.set("size", or_unknown(facts.bytes.map(|b| self.size(b))));
        args.set("duration", or_unknown(facts.duration_s.map(|d| self.duration(d))));
        args.set("kind", or_unknown(facts.kind.map(|k| self.kind_name(k))));
        // Ports mean something for TCP, UDP and SCTP only; other protocols are named instead.
        let proto = facts.proto.unwrap_or(crate::packet::Proto::Tcp);
        args.set("has-port", if proto.has_ports() { "yes" } else { "no" });
        args.set("proto", proto.name().to_uppercase());
        args.set("destinations", or_unknown(facts.destinations.map(|n| n.to_string())));
        args
    }

    fn alert_text(&self, alert: &Alert, suffix: &str) -> String {
        let facts = Facts::from_alert(alert);
        match alert.pattern.as_deref() {
            // A pattern's text speaks of one destination; a spread upload has many.
            Some(name) if alert.kind != LeakKind::Spread && self.pattern_known(name, suffix) => {
                self.pattern_text(Some(name), suffix, &facts)
            }
            _ => self.text(&format!("alert-{}-{suffix}", alert.kind.as_str()), Some(&self.fact_args(&facts))),
        }
    }

    fn pattern_known(&self, name: &str, suffix: &str) -> bool {
        let id = format!("{}-{suffix}", pattern_id(name));
        self.bundle.has_message(&id) || self.fallback.as_ref().is_some_and(|b| b.has_message(&id))
    }

    fn pattern_text(&self, pattern_name: Option<&str>, suffix: &str, facts: &Facts) -> String {
        let id = match pattern_name {
            Some(name) if self.pattern_known(name, suffix) => format!("{}-{suffix}", pattern_id(name)),
            _ => format!("pattern-default-{suffix}"),
        };
        self.text(&id, Some(&self.fact_args(facts)))
    }

    fn with_arg(&self, id: &str, name: &'static str, value: String) -> String {
        let mut args = FluentArgs::new();
        args.set(name, value);
        self.text(id, Some(&args))
    }

    /// `tenths / 10` with one decimal and the locale's separator.
    fn decimal(&self, tenths: u64) -> String {
        format!("{}{}{}", tenths / 10, self.locale.decimal_separator(), tenths % 10)
    }
}

/// `n / unit` in tenths, rounded half up, in integers (no float error).
fn tenths_half_up(n: u64, unit: u64) -> u64 {
    let (n, unit) = (n as u128, unit as u128);
    ((n * 20 + unit) / (unit * 2)) as u64
}

/// The message ids defined in a Fluent text (lines `id = …` at the start of a line; terms and
/// comments are skipped).
pub fn message_ids(ftl: &str) -> Vec<String> {
    ftl.lines()
        .filter_map(|line| {
            let (id, _) = line.split_once('=')?;
            let id = id.trim_end();
            let ok = id.starts_with(|c: char| c.is_ascii_alphabetic())
                && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            ok.then(|| id.to_string())
        })
        .collect()
}

fn build_bundle(locale: Locale, ftl: &str, errors: &mut Vec<String>) -> FluentBundle<FluentResource> {
    let resource = match FluentResource::try_new(ftl.to_string()) {
        Ok(r) => r,
        Err((r, errs)) => {
            errors.extend(errs.iter().map(|e| format!("{locale}: parse error: {e}")));
            r
        }
    };
    let mut bundle = FluentBundle::new_concurrent(vec![locale.langid()]);
    bundle.set_use_isolating(false);
    if let Err(errs) = bundle.add_resource(resource) {
        errors.extend(errs.iter().map(|e| format!("{locale}: {e}")));
    }
    bundle
}

fn format_in(bundle: &FluentBundle<FluentResource>, id: &str, args: Option<&FluentArgs<'_>>) -> Option<String> {
    let pattern = bundle.get_message(id)?.value()?;
    let mut errors = Vec::new();
    Some(bundle.format_pattern(pattern, args, &mut errors).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_files_parse_without_errors() {
        for locale in Locale::ALL {
            assert!(FluentResource::try_new(locale.ftl().to_string()).is_ok(), "{locale} does not parse");
            let m = Messages::new(locale);
            assert!(m.errors().is_empty(), "{locale}: {:?}", m.errors());
        }
    }

    #[test]
    fn every_message_formats_without_errors_given_fact_args() {
        for locale in Locale::ALL {
            let m = Messages::new(locale);
            let args = m.fact_args(&Facts::default());
            for id in message_ids(locale.ftl()) {
                if !(id.starts_with("pattern-") || id.starts_with("alert-") && id.ends_with("-msg")) {
                    continue;
                }
                let pattern = m.bundle.get_message(&id).and_then(|x| x.value()).unwrap();
                let mut errors = Vec::new();
                let out = m.bundle.format_pattern(pattern, Some(&args), &mut errors);
                assert!(errors.is_empty(), "{locale} {id}: {errors:?} -> {out}");
            }
        }
    }

    #[test]
    fn broken_source_falls_back_without_panicking() {
        let m = Messages::from_source(Locale::Ru, "unknown = ?\nbroken = { $x\nkind-sudden = Резко\n");
        assert!(!m.errors().is_empty());
        assert_eq!(m.kind_name(LeakKind::Sudden), "Резко");
        assert_eq!(m.kind_name(LeakKind::Active), "Steady upload");
        assert_eq!(m.text("no-such-id", None), "no-such-id");
        let empty = Messages::from_source(Locale::En, "{{{");
        assert_eq!(empty.size(5), "size-bytes");
    }

    #[test]
    fn pattern_ids() {
        assert_eq!(pattern_id("Pattern.StdApp.Browser.Google"), "pattern-stdapp-browser-google");
        assert_eq!(pattern_id("Pattern.OVH"), "pattern-ovh");
        assert_eq!(pattern_id("Custom thing"), "pattern-custom-thing");
    }

    #[test]
    fn size_rounding_and_units() {
        let en = Messages::new(Locale::En);
        assert_eq!(en.size(1280), "1.3 KiB");
        assert_eq!(en.size(1048575), "1.0 MiB");
        assert_eq!(en.size(u64::MAX), "17179869184.0 GiB");
        assert_eq!(Messages::new(Locale::Ru).size(1536), "1,5 КиБ");
    }

    #[test]
    fn duration_edges() {
        let en = Messages::new(Locale::En);
        assert_eq!(en.duration(-1.0), "0 s");
        assert_eq!(en.duration(f64::NAN), "0 s");
        assert_eq!(en.duration(9.96), "10 s");
        assert_eq!(en.duration(8.25), "8.3 s");
        assert_eq!(en.duration(3600.0), "1 h");
        assert_eq!(en.duration(120.0), "2 min");
    }
}
