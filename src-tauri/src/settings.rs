//! The app's settings (`settings.json` in the config directory): the contract's `Settings`, their
//! validation, and atomic persistence. A file that fails to parse is moved aside as
//! `settings.json.bad-<time>` and the defaults are used, with a message for the user.

use leakwatch::i18n::Locale;
use leakwatch::judge::Mode;
use leakwatch::settings::Thresholds;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// File name of the app's settings inside the config directory.
pub const FILE_NAME: &str = "settings.json";
/// Largest settings file read (anything bigger is not ours).
const MAX_FILE_SIZE: u64 = 1 << 20;
/// Bounds of the numeric settings (bytes, seconds).
pub const MAX_10S_RANGE: (u64, u64) = (1024, 1 << 40);
pub const MIN_LEAK_RANGE: (u64, u64) = (1024, 1 << 40);
pub const REALERT_RANGE: (u64, u64) = (0, 7 * 24 * 3600);
/// Longest interface name Linux accepts (IFNAMSIZ - 1), and how many may be listed.
const MAX_IFACE_LEN: usize = 15;
const MAX_IFACES: usize = 64;

/// The user's settings, exactly as in `docs/ui-contract.md`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub mode: String,
    pub max_traffic_during_10_sec: u64,
    pub min_leak_size: u64,
    pub realert_after_s: u64,
    pub locale: String,
    /// Empty: every interface that is up.
    pub interfaces: Vec<String>,
    pub legacy_enabled: bool,
    pub start_at_login: bool,
    /// Notify the first time a program never seen before sends data: `None` follows the mode
    /// (on in paranoid and adequate, off in chill). Absent from older files.
    #[serde(default)]
    pub first_senders: Option<bool>,
}

impl Settings {
    /// Whether first-time senders are notified: as set, else on except in chill mode.
    pub fn first_senders_on(&self) -> bool {
        self.first_senders.unwrap_or(self.mode() != Mode::Chill)
    }
}

impl Default for Settings {
    fn default() -> Self {
        let t = Thresholds::default();
        Settings {
            mode: Mode::Adequate.as_str().to_string(),
            max_traffic_during_10_sec: t.max_traffic_during_10_sec,
            min_leak_size: t.min_leak_size,
            realert_after_s: 600,
            locale: Locale::from_system().as_str().to_string(),
            interfaces: Vec::new(),
            legacy_enabled: true,
            start_at_login: false,
            first_senders: None,
        }
    }
}

/// Why settings were refused or could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
}

fn invalid(field: &'static str, reason: impl Into<String>) -> SettingsError {
    SettingsError::Invalid { field, reason: reason.into() }
}

fn check_range(field: &'static str, v: u64, (lo, hi): (u64, u64)) -> Result<(), SettingsError> {
    if v < lo || v > hi {
        return Err(invalid(field, format!("{v} is out of range: use a value from {lo} to {hi}")));
    }
    Ok(())
}

impl Settings {
    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> Result<(), SettingsError> {
        Mode::parse(&self.mode).map_err(|e| invalid("mode", e))?;
        if self.mode != self.mode.trim().to_ascii_lowercase() {
            return Err(invalid("mode", format!("{:?}: write it in lower case", self.mode)));
        }
        check_range("max_traffic_during_10_sec", self.max_traffic_during_10_sec, MAX_10S_RANGE)?;
        check_range("min_leak_size", self.min_leak_size, MIN_LEAK_RANGE)?;
        check_range("realert_after_s", self.realert_after_s, REALERT_RANGE)?;
        if !matches!(self.locale.as_str(), "en" | "ru") {
            return Err(invalid("locale", format!("{:?} is not supported: use en or ru", self.locale)));
        }
        if self.interfaces.len() > MAX_IFACES {
            return Err(invalid("interfaces", format!("at most {MAX_IFACES} interfaces")));
        }
        for name in &self.interfaces {
            let ok = !name.is_empty()
                && name.len() <= MAX_IFACE_LEN
                && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@' | ':'));
            if !ok {
                return Err(invalid("interfaces", format!("{name:?} is not an interface name")));
            }
        }
        Ok(())
    }

    pub fn mode(&self) -> Mode {
        Mode::parse(&self.mode).unwrap_or(Mode::Adequate)
    }

    pub fn locale(&self) -> Locale {
        Locale::parse(&self.locale).unwrap_or(Locale::En)
    }

    pub fn thresholds(&self) -> Thresholds {
        Thresholds {
            max_traffic_during_10_sec: self.max_traffic_during_10_sec,
            min_leak_size: self.min_leak_size,
            ..Thresholds::default()
        }
    }
}

/// The config directory: `$LEAKWATCH_CONFIG_DIR` when set and not empty (as the CLI), else the
/// platform's (e.g. `~/.config/leakwatch`).
pub fn config_dir() -> Option<PathBuf> {
    match std::env::var_os(leakwatch::ignores::CONFIG_DIR_ENV) {
        Some(d) if !d.is_empty() => Some(PathBuf::from(d)),
        _ => directories::ProjectDirs::from("", "", "leakwatch").map(|d| d.config_dir().to_path_buf()),
    }
}

/// Settings backed by a file.
#[derive(Debug)]
pub struct SettingsFile {
    path: PathBuf,
}

impl SettingsFile {
    pub fn new(path: PathBuf) -> SettingsFile {
        SettingsFile { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Loads the settings. A missing file gives the defaults; a file that does not parse or
    /// validate is moved aside as `*.bad-<time>` and the defaults are used: the message says so.
    pub fn load(&self) -> (Settings, Option<String>) {
        let bytes = match std::fs::metadata(&self.path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (Settings::default(), None),
            Err(e) => return (Settings::default(), Some(format!("cannot read {}: {e}", self.path.display()))),
            Ok(m) if m.len() > MAX_FILE_SIZE => Err(format!("larger than {MAX_FILE_SIZE} bytes")),
            // A FIFO or device in the file's place is refused at once (no blocking open), and
            // left where it is.
            Ok(_) => match leakwatch::files::read_regular(&self.path, MAX_FILE_SIZE) {
                Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
                    return (Settings::default(), Some(format!("{}: {e}", self.path.display())));
                }
                r => r.map_err(|e| e.to_string()),
            },
        };
        let parsed = bytes.and_then(|b| {
            let s: Settings = serde_json::from_slice(&b).map_err(|e| e.to_string())?;
            s.validate().map_err(|e| e.to_string())?;
            Ok(s)
        });
        match parsed {
            Ok(s) => (s, None),
            Err(reason) => {
                let moved = leakwatch::files::backup_file(&self.path, chrono::Utc::now());
                let msg = match moved {
                    Ok(to) => format!(
                        "{} could not be used ({reason}); it was kept as {} and the default settings are used",
                        self.path.display(),
                        to.display()
                    ),
                    Err(e) => format!(
                        "{} could not be used ({reason}) nor moved aside ({e}); the default settings are used",
                        self.path.display()
                    ),
                };
                (Settings::default(), Some(msg))
            }
        }
    }

    /// Validates and writes atomically (temporary file, fsync, rename).
    pub fn save(&self, s: &Settings) -> Result<(), SettingsError> {
        s.validate()?;
        let mut text = serde_json::to_string_pretty(s).unwrap_or_default();
        text.push('\n');
        write_atomically(&self.path, text.as_bytes())
            .map_err(|source| SettingsError::Write { path: self.path.clone(), source })
    }
}

/// The engine's safe writes (private temporary file, fsync, rename; nothing half-written).
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        leakwatch::files::create_private_dir(dir)?;
    }
    leakwatch::files::write_atomically(path, bytes)
}

/// Honest skips of the tests below (shared with every test of both crates).
#[cfg(test)]
#[path = "../../tests/skip/mod.rs"]
mod skip;

#[cfg(test)]
mod tests {
    use super::skip;
    use super::*;

    #[test]
    fn defaults_are_valid_and_missing_file_gives_them() {
        let dir = tempfile::tempdir().unwrap();
        let f = SettingsFile::new(dir.path().join(FILE_NAME));
        let (s, msg) = f.load();
        assert_eq!(s, Settings::default());
        assert!(msg.is_none());
        s.validate().unwrap();
    }

    #[test]
    fn save_then_load_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let f = SettingsFile::new(dir.path().join("sub").join(FILE_NAME));
        let s = Settings { mode: "chill".into(), interfaces: vec!["eth0".into()], ..Settings::default() };
        f.save(&s).unwrap();
        assert_eq!(f.load(), (s, None));
        // No temporary file is left behind.
        let names: Vec<_> =
            std::fs::read_dir(dir.path().join("sub")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from(FILE_NAME)]);
    }

    /// The disk filling up under the settings file (root only: a small tmpfs): saving fails
    /// naming the file, the saved settings stay as they were, no temporary file is left, and
    /// saving works again with space. (Ignores and history: `tests/faults.rs` of the engine.)
    #[test]
    fn a_full_disk_keeps_the_saved_settings() {
        use std::io::Write;
        if !skip::need_root("mounts a tmpfs") {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let mnt = dir.path().to_str().unwrap().to_string();
        let ok = std::process::Command::new("mount").args(["-t", "tmpfs", "-o", "size=64k", "tmpfs", &mnt]).status();
        assert!(ok.is_ok_and(|s| s.success()), "mount tmpfs");
        let result = std::panic::catch_unwind(|| {
            let f = SettingsFile::new(dir.path().join(FILE_NAME));
            let saved = Settings { mode: "chill".into(), ..Settings::default() };
            f.save(&saved).unwrap();
            let before = std::fs::read(f.path()).unwrap();
            // Fill the file system.
            let filler = dir.path().join("filler");
            let mut out = std::fs::File::create(&filler).unwrap();
            while out.write_all(&[0u8; 4096]).and_then(|_| out.sync_all()).is_ok() {}
            let err = f.save(&Settings { mode: "paranoid".into(), ..Settings::default() }).unwrap_err().to_string();
            assert!(err.contains(f.path().to_str().unwrap()) && err.contains("No space left"), "{err}");
            assert_eq!(std::fs::read(f.path()).unwrap(), before);
            assert_eq!(f.load(), (saved, None));
            let mut names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
            names.sort();
            assert_eq!(names, vec![std::ffi::OsString::from("filler"), std::ffi::OsString::from(FILE_NAME)]);
            drop(out);
            std::fs::remove_file(&filler).unwrap();
            f.save(&Settings { mode: "paranoid".into(), ..Settings::default() }).expect("saving with space again");
            assert_eq!(f.load().0.mode, "paranoid");
        });
        let _ = std::process::Command::new("umount").args(["-l", &mnt]).status();
        if let Err(p) = result {
            std::panic::resume_unwind(p);
        }
    }

    #[test]
    fn validation_names_the_field() {
        let cases: Vec<(Settings, &str)> = vec![
            (Settings { mode: "loud".into(), ..Settings::default() }, "mode"),
            (Settings { max_traffic_during_10_sec: 0, ..Settings::default() }, "max_traffic_during_10_sec"),
            (Settings { min_leak_size: 10, ..Settings::default() }, "min_leak_size"),
            (Settings { realert_after_s: 10_000_000, ..Settings::default() }, "realert_after_s"),
            (Settings { locale: "de".into(), ..Settings::default() }, "locale"),
            (Settings { interfaces: vec!["eth0; rm".into()], ..Settings::default() }, "interfaces"),
        ];
        for (s, field) in cases {
            let e = s.validate().unwrap_err().to_string();
            assert!(e.starts_with(&format!("{field}:")), "{e}");
        }
        let dir = tempfile::tempdir().unwrap();
        let f = SettingsFile::new(dir.path().join(FILE_NAME));
        assert!(f.save(&Settings { locale: "xx".into(), ..Settings::default() }).is_err());
        assert!(!f.path().exists());
    }

    /// A file over 1 MiB is not even read, and JSON nested 100,000 deep is refused at once:
    /// both are kept byte for byte as `*.bad-<time>`, the defaults are used, the message names
    /// the file and the reason.
    #[test]
    fn an_oversized_or_deeply_nested_file_is_moved_aside() {
        let big = format!("{{\"mode\": \"chill\"{}}}", " ".repeat(MAX_FILE_SIZE as usize));
        let deep = "[".repeat(100_000);
        for (text, reason) in [(big.as_str(), "larger than 1048576 bytes"), (deep.as_str(), "line 1 column")] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(FILE_NAME);
            std::fs::write(&path, text).unwrap();
            let (s, msg) = SettingsFile::new(path.clone()).load();
            assert_eq!(s, Settings::default());
            let msg = msg.unwrap();
            assert!(msg.contains(&path.display().to_string()) && msg.contains(reason), "{msg}");
            let kept: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().path()).collect();
            assert_eq!(kept.len(), 1, "{kept:?}");
            assert!(kept[0].to_string_lossy().contains("settings.json.bad-"), "{kept:?}");
            assert_eq!(std::fs::read(&kept[0]).unwrap(), text.as_bytes());
        }
    }

    #[test]
    fn a_bad_file_is_moved_aside_and_defaults_used() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(&path, "{ not json").unwrap();
        let (s, msg) = SettingsFile::new(path.clone()).load();
        assert_eq!(s, Settings::default());
        let msg = msg.unwrap();
        assert!(msg.contains(".bad-"), "{msg}");
        assert!(!path.exists());
        let bad: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("settings.json.bad-"))
            .collect();
        assert_eq!(bad.len(), 1);
        assert_eq!(std::fs::read_to_string(dir.path().join(&bad[0])).unwrap(), "{ not json");
        // An invalid value counts as bad too.
        std::fs::write(&path, serde_json::to_string(&Settings { mode: "x".into(), ..Settings::default() }).unwrap())
            .unwrap();
        let (_, msg) = SettingsFile::new(path.clone()).load();
        assert!(msg.unwrap().contains("mode"));
    }
}
