//! The service's one configuration file (`/etc/leakwatch/leakwatch.toml`): detection mode and
//! thresholds, interfaces, legacy ports, forwarding, where the ignores, history and API socket
//! live, and who may use the API. Read at start and on SIGHUP / the API's `reload`; the API's
//! `settings.set` writes the keys it changes back into the file, keeping the administrator's
//! comments and layout (`toml_edit`), atomically.
//!
//! Every key is optional (the defaults are the shipped file's); an unknown key, a wrong type or
//! a bad value is an error naming the file, the line and the key, and the service keeps the
//! settings it had.

use crate::judge::Mode;
use crate::settings::Thresholds;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Where the service reads its configuration unless told otherwise, on this system
/// (`crate::os::paths`).
pub fn default_path() -> PathBuf {
    crate::os::paths::service_paths().config
}

/// The file as written (every key optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    mode: Option<String>,
    max_traffic_during_10_sec: Option<u64>,
    min_leak_size: Option<u64>,
    max_spread_during_10_sec: Option<u64>,
    min_spread_destinations: Option<u32>,
    realert_after: Option<String>,
    locale: Option<String>,
    interfaces: Option<Vec<String>>,
    loopback: Option<bool>,
    local_nets: Option<Vec<String>>,
    reverse_dns: Option<bool>,
    legacy: Option<bool>,
    legacy_ports: Option<String>,
    forward: Option<Vec<String>>,
    patterns: Option<PathBuf>,
    filters: Option<Vec<PathBuf>>,
    asn_mmdb: Option<PathBuf>,
    country_mmdb: Option<PathBuf>,
    ignores: Option<PathBuf>,
    history: Option<String>,
    socket: Option<PathBuf>,
    group: Option<String>,
}

/// The service's settings, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceConfig {
    pub mode: Mode,
    pub thresholds: Thresholds,
    /// µs.
    pub realert_after: i64,
    pub locale: crate::i18n::Locale,
    /// Interfaces to capture on (empty: every up one).
    pub interfaces: Vec<String>,
    pub loopback: bool,
    pub local_nets: Vec<ipnet::IpNet>,
    pub reverse_dns: bool,
    pub legacy: bool,
    pub legacy_ports: std::ops::RangeInclusive<u16>,
    pub forward: Vec<crate::history::forward::Target>,
    pub patterns: Option<PathBuf>,
    pub filters: Vec<PathBuf>,
    pub asn_mmdb: Option<PathBuf>,
    pub country_mmdb: Option<PathBuf>,
    pub ignores: PathBuf,
    /// `None`: no history (`history = ""`).
    pub history: Option<PathBuf>,
    pub socket: PathBuf,
    pub group: String,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        let paths = crate::os::paths::service_paths();
        ServiceConfig {
            mode: Mode::Adequate,
            thresholds: Thresholds::default(),
            realert_after: 600 * crate::time::SECOND,
            locale: crate::i18n::Locale::En,
            interfaces: Vec::new(),
            loopback: false,
            local_nets: Vec::new(),
            reverse_dns: true,
            legacy: true,
            legacy_ports: crate::legacy::DEFAULT_PORTS,
            forward: Vec::new(),
            patterns: None,
            filters: Vec::new(),
            asn_mmdb: None,
            country_mmdb: None,
            ignores: paths.ignores,
            history: Some(paths.history),
            socket: paths.socket,
            group: crate::api::DEFAULT_GROUP.to_string(),
        }
    }
}

/// A configuration file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration {path}: {source}; check that it exists and is readable by root")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}:{line}:{column}: {message}")]
    Syntax { path: PathBuf, line: usize, column: usize, message: String },
    #[error("{path}: `{key}`: {message}")]
    Value { path: PathBuf, key: &'static str, message: String },
    #[error("cannot save the configuration {path}: {source}; nothing was changed")]
    Write { path: PathBuf, source: std::io::Error },
}

/// Largest configuration file read.
const MAX_SIZE: u64 = 1024 * 1024;

impl ServiceConfig {
    /// Reads `path`; a missing file gives the defaults (a service works before it is configured).
    pub fn load(path: &Path) -> Result<ServiceConfig, ConfigError> {
        let read = |source| ConfigError::Read { path: path.to_owned(), source };
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ServiceConfig::default()),
            Err(e) => return Err(read(e)),
        };
        if !meta.is_file() {
            return Err(read(std::io::Error::other("not a regular file")));
        }
        if meta.len() > MAX_SIZE {
            return Err(read(std::io::Error::other(format!("larger than {MAX_SIZE} bytes"))));
        }
        let text = crate::files::read_regular_text(path, MAX_SIZE).map_err(read)?;
        ServiceConfig::parse(&text, path)
    }

    /// Parses the text of a configuration file named `path` (for messages).
    pub fn parse(text: &str, path: &Path) -> Result<ServiceConfig, ConfigError> {
        let raw: Raw = toml::from_str(text).map_err(|e| {
            let (line, column) = e.span().map_or((0, 0), |s| line_col(text, s.start));
            ConfigError::Syntax { path: path.to_owned(), line, column, message: e.message().trim().to_string() }
        })?;
        let bad = |key: &'static str, message: String| ConfigError::Value { path: path.to_owned(), key, message };
        let mut c = ServiceConfig::default();
        if let Some(m) = raw.mode {
            c.mode = Mode::parse(&m).map_err(|e| bad("mode", e))?;
        }
        if let Some(v) = raw.max_traffic_during_10_sec {
            c.thresholds.max_traffic_during_10_sec = v;
        }
        if let Some(v) = raw.min_leak_size {
            c.thresholds.min_leak_size = v;
        }
        if let Some(v) = raw.max_spread_during_10_sec {
            c.thresholds.max_spread_during_10_sec = v;
        }
        if let Some(v) = raw.min_spread_destinations {
            c.thresholds.min_spread_destinations = v;
        }
        if let Some(v) = raw.realert_after {
            c.realert_after = crate::parse::parse_duration_us(&v).map_err(|e| bad("realert_after", e))?;
        }
        if let Some(v) = raw.locale {
            c.locale = crate::i18n::Locale::parse(&v).map_err(|e| bad("locale", e))?;
        }
        c.interfaces = raw.interfaces.unwrap_or_default();
        c.loopback = raw.loopback.unwrap_or(c.loopback);
        for n in raw.local_nets.unwrap_or_default() {
            c.local_nets.push(
                n.parse()
                    .map_err(|_| bad("local_nets", format!("`{n}` is not a network: write e.g. 192.168.0.0/16")))?,
            );
        }
        c.reverse_dns = raw.reverse_dns.unwrap_or(c.reverse_dns);
        c.legacy = raw.legacy.unwrap_or(c.legacy);
        if let Some(v) = raw.legacy_ports {
            c.legacy_ports = crate::parse::parse_port_range(&v).map_err(|e| bad("legacy_ports", e))?;
        }
        for t in raw.forward.unwrap_or_default() {
            c.forward.push(crate::history::forward::Target::parse(&t).map_err(|e| bad("forward", e.to_string()))?);
        }
        c.patterns = raw.patterns;
        c.filters = raw.filters.unwrap_or_default();
        c.asn_mmdb = raw.asn_mmdb;
        c.country_mmdb = raw.country_mmdb;
        if let Some(p) = raw.ignores {
            if p.as_os_str().is_empty() {
                return Err(bad("ignores", "must name a file, e.g. /etc/leakwatch/ignores.user.json".into()));
            }
            c.ignores = p;
        }
        if let Some(h) = raw.history {
            c.history = (!h.is_empty()).then(|| PathBuf::from(h));
        }
        if let Some(s) = raw.socket {
            // Empty: no local API (only the legacy protocol and forwarding report alerts).
            c.socket = s;
        }
        if let Some(g) = raw.group {
            c.group = g;
        }
        Ok(c)
    }
}

/// 1-based line and column of byte `offset` in `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The settings a client may change through the API, as `settings.set` takes them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SettingsChange {
    pub mode: Option<Mode>,
    pub max_traffic_during_10_sec: Option<u64>,
    pub min_leak_size: Option<u64>,
    pub max_spread_during_10_sec: Option<u64>,
    pub min_spread_destinations: Option<u32>,
    /// µs, and the text as written (e.g. `15m`).
    pub realert_after: Option<(i64, String)>,
}

impl SettingsChange {
    /// Reads `settings.set`'s parameters; an unknown key or a bad value names the key.
    pub fn from_json(v: &serde_json::Value) -> Result<SettingsChange, String> {
        let obj = v.as_object().ok_or("settings.set takes an object of settings")?;
        let mut c = SettingsChange::default();
        for (k, val) in obj {
            match k.as_str() {
                "mode" => {
                    c.mode = Some(Mode::parse(val.as_str().ok_or("mode: expected a string")?)?);
                }
                "max_traffic_during_10_sec" => {
                    c.max_traffic_during_10_sec =
                        Some(val.as_u64().ok_or("max_traffic_during_10_sec: expected a whole number of bytes")?);
                }
                "min_leak_size" => {
                    c.min_leak_size = Some(val.as_u64().ok_or("min_leak_size: expected a whole number of bytes")?);
                }
                "max_spread_during_10_sec" => {
                    c.max_spread_during_10_sec =
                        Some(val.as_u64().ok_or("max_spread_during_10_sec: expected a whole number of bytes")?);
                }
                "min_spread_destinations" => {
                    let n = val.as_u64().and_then(|n| u32::try_from(n).ok());
                    c.min_spread_destinations =
                        Some(n.ok_or("min_spread_destinations: expected a whole number of destinations")?);
                }
                "realert_after" => {
                    let text = match val {
                        serde_json::Value::String(s) => s.clone(),
                        serde_json::Value::Number(n) => format!("{n}s"),
                        _ => return Err("realert_after: expected a duration such as \"10m\"".into()),
                    };
                    let us = crate::parse::parse_duration_us(&text).map_err(|e| format!("realert_after: {e}"))?;
                    c.realert_after = Some((us, text));
                }
                other => {
                    return Err(format!(
                        "`{other}` cannot be changed through the API (mode, max_traffic_during_10_sec, min_leak_size, \
                         max_spread_during_10_sec, min_spread_destinations, realert_after can); edit the \
                         configuration file and reload"
                    ));
                }
            }
        }
        Ok(c)
    }

    /// Writes the change into the file at `path`, keeping everything else as it was (comments
    /// too); a missing file is created. Atomic: on error the file is unchanged.
    pub fn write_to(&self, path: &Path) -> Result<(), ConfigError> {
        let text = match crate::files::read_regular_text(path, MAX_SIZE) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(source) => return Err(ConfigError::Read { path: path.to_owned(), source }),
        };
        let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
            let (line, column) = e.span().map_or((0, 0), |s| line_col(&text, s.start));
            ConfigError::Syntax { path: path.to_owned(), line, column, message: e.message().trim().to_string() }
        })?;
        if let Some(m) = self.mode {
            doc["mode"] = toml_edit::value(m.as_str());
        }
        if let Some(v) = self.max_traffic_during_10_sec {
            doc["max_traffic_during_10_sec"] = toml_edit::value(v as i64);
        }
        if let Some(v) = self.min_leak_size {
            doc["min_leak_size"] = toml_edit::value(v as i64);
        }
        if let Some(v) = self.max_spread_during_10_sec {
            doc["max_spread_during_10_sec"] = toml_edit::value(v as i64);
        }
        if let Some(v) = self.min_spread_destinations {
            doc["min_spread_destinations"] = toml_edit::value(i64::from(v));
        }
        if let Some((_, text)) = &self.realert_after {
            doc["realert_after"] = toml_edit::value(text.as_str());
        }
        let out = doc.to_string();
        // What is written must read back (never leave a file the service cannot start with).
        ServiceConfig::parse(&out, path)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| ConfigError::Write { path: path.to_owned(), source })?;
        }
        crate::files::write_atomically(path, out.as_bytes())
            .map_err(|source| ConfigError::Write { path: path.to_owned(), source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_file_gives_the_defaults() {
        assert_eq!(ServiceConfig::parse("", Path::new("x.toml")).unwrap(), ServiceConfig::default());
    }

    #[test]
    fn the_shipped_file_says_the_defaults() {
        let shipped = include_str!("../../packaging/leakwatch.toml");
        assert_eq!(ServiceConfig::parse(shipped, Path::new("leakwatch.toml")).unwrap(), ServiceConfig::default());
        // Its commented-out values are the defaults too: uncommented, they change nothing.
        let uncommented: String = shipped
            .lines()
            .map(|l| l.strip_prefix('#').filter(|r| r.contains(" = ") && !r.starts_with(' ')).unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n");
        let c = ServiceConfig::parse(&uncommented, Path::new("leakwatch.toml")).unwrap();
        let defaults = ServiceConfig {
            patterns: c.patterns.clone(),
            asn_mmdb: c.asn_mmdb.clone(),
            country_mmdb: c.country_mmdb.clone(),
            ..ServiceConfig::default()
        };
        assert_eq!(c, defaults, "a commented-out value in packaging/leakwatch.toml is not the default");
    }

    #[test]
    fn errors_name_the_file_line_and_key() {
        let e = ServiceConfig::parse("mode = \"chill\"\nmod = 3\n", Path::new("/etc/l.toml")).unwrap_err().to_string();
        assert!(e.starts_with("/etc/l.toml:2:1:"), "{e}");
        assert!(e.contains("mod"), "{e}");
        let e = ServiceConfig::parse("mode = \"calm\"\n", Path::new("/etc/l.toml")).unwrap_err().to_string();
        assert!(e.contains("`mode`") && e.contains("calm"), "{e}");
        let e = ServiceConfig::parse("legacy_ports = \"9-1\"\n", Path::new("c")).unwrap_err().to_string();
        assert!(e.contains("`legacy_ports`"), "{e}");
        let e = ServiceConfig::parse("min_leak_size = \"big\"\n", Path::new("c")).unwrap_err().to_string();
        assert!(e.starts_with("c:1:"), "{e}");
    }

    #[test]
    fn values_are_read() {
        let c = ServiceConfig::parse(
            "mode = \"paranoid\"\nmin_leak_size = 1000\nrealert_after = \"90s\"\ninterfaces = [\"eth0\"]\nhistory = \"\"\n",
            Path::new("c"),
        )
        .unwrap();
        assert_eq!(c.mode, Mode::Paranoid);
        assert_eq!(c.thresholds.min_leak_size, 1000);
        assert_eq!(c.realert_after, 90 * crate::time::SECOND);
        assert_eq!(c.interfaces, vec!["eth0".to_string()]);
        assert_eq!(c.history, None);
    }

    #[test]
    fn a_change_is_written_keeping_comments_and_other_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("leakwatch.toml");
        std::fs::write(&path, "# the admin's note\nmode = \"adequate\" # why\ninterfaces = [\"eth0\"]\n").unwrap();
        let change = SettingsChange::from_json(
            &serde_json::json!({"mode": "chill", "min_leak_size": 5000, "max_spread_during_10_sec": 300000, "min_spread_destinations": 6}),
        )
        .unwrap();
        change.write_to(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("# the admin's note"), "{text}");
        assert!(text.contains("interfaces = [\"eth0\"]"), "{text}");
        let c = ServiceConfig::load(&path).unwrap();
        assert_eq!((c.mode, c.thresholds.min_leak_size), (Mode::Chill, 5000));
        assert_eq!((c.thresholds.max_spread_during_10_sec, c.thresholds.min_spread_destinations), (300_000, 6));
        assert!(SettingsChange::from_json(&serde_json::json!({"socket": "/tmp/x"})).unwrap_err().contains("`socket`"));
    }
}
