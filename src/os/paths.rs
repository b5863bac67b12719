//! Where the service keeps its files on each system: the configuration, the permanent ignores,
//! the history, the local API's socket and (where no journal keeps stderr) its log.
//!
//! * Linux: `/etc/leakwatch/`, `/var/lib/leakwatch/`, `/run/leakwatch/api.sock` (the systemd
//!   unit creates the directories; the journal keeps the log).
//! * Windows: everything under `%ProgramData%\Leakwatch\` (`C:\ProgramData\Leakwatch\` unless
//!   the machine moved it): `leakwatch.toml`, `ignores.user.json`, `data\history.sqlite`,
//!   `api.sock`, `logs\service.log`.
//! * macOS: `/Library/Application Support/Leakwatch/` for the configuration, ignores and
//!   history, `/var/run/leakwatch/api.sock`, `/Library/Logs/Leakwatch/service.log`.
//!
//! Each system's table is a plain function compiled everywhere, so all three are unit-tested on
//! Linux; [`service_paths`] picks this system's.

use std::path::{Path, PathBuf};

/// The service's files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServicePaths {
    /// The configuration file (`leakwatch service --config` overrides it).
    pub config: PathBuf,
    /// The permanent ignores.
    pub ignores: PathBuf,
    /// The history database.
    pub history: PathBuf,
    /// The local API's socket.
    pub socket: PathBuf,
    /// Where the service writes its messages when nothing keeps its stderr (the Windows service,
    /// the launchd daemon); `None` under systemd (the journal keeps them).
    pub log: Option<PathBuf>,
}

/// Linux's paths (the systemd unit's directories).
pub fn linux_paths() -> ServicePaths {
    ServicePaths {
        config: PathBuf::from("/etc/leakwatch/leakwatch.toml"),
        ignores: PathBuf::from("/etc/leakwatch/ignores.user.json"),
        history: PathBuf::from("/var/lib/leakwatch/history.sqlite"),
        socket: PathBuf::from("/run/leakwatch/api.sock"),
        log: None,
    }
}

/// The folder under `%ProgramData%` that holds everything of the Windows service.
pub const WINDOWS_DIR: &str = "Leakwatch";

/// Windows's paths under `program_data` (`%ProgramData%`). Joined with `\` whatever system runs
/// this, so the table can be checked on Linux.
pub fn windows_paths(program_data: &str) -> ServicePaths {
    let base = format!("{}\\{WINDOWS_DIR}", program_data.trim_end_matches(['\\', '/']));
    let p = |rest: &str| PathBuf::from(format!("{base}\\{rest}"));
    ServicePaths {
        config: p("leakwatch.toml"),
        ignores: p("ignores.user.json"),
        history: p("data\\history.sqlite"),
        socket: p("api.sock"),
        log: Some(p("logs\\service.log")),
    }
}

/// `%ProgramData%` from the environment (a service running as LocalSystem has it), else
/// `%ALLUSERSPROFILE%`, else Windows's default `C:\ProgramData`. A value that is not an absolute
/// drive path (`X:\…`) is not trusted.
pub fn program_data_from(get: impl Fn(&str) -> Option<String>) -> String {
    for var in ["ProgramData", "ALLUSERSPROFILE"] {
        if let Some(v) = get(var).map(|v| v.trim().to_string()) {
            let b = v.as_bytes();
            if b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && (b[2] == b'\\' || b[2] == b'/') {
                return v;
            }
        }
    }
    "C:\\ProgramData".to_string()
}

/// The ProgramData folder as the shell knows it (`FOLDERID_ProgramData`): the same for the
/// service and every user, whatever their environment says (Wine gives services another
/// `%ProgramData%`, for one).
#[cfg(windows)]
fn known_program_data() -> Option<String> {
    use windows_sys::Win32::System::Com::CoTaskMemFree;
    use windows_sys::Win32::UI::Shell::{FOLDERID_ProgramData, KF_FLAG_DEFAULT, SHGetKnownFolderPath};
    let mut path: windows_sys::core::PWSTR = std::ptr::null_mut();
    // SAFETY: a valid folder id and out-pointer; the string the shell allocates is freed below.
    let hr =
        unsafe { SHGetKnownFolderPath(&FOLDERID_ProgramData, KF_FLAG_DEFAULT as u32, std::ptr::null_mut(), &mut path) };
    if path.is_null() {
        return None;
    }
    // SAFETY: on success `path` is a NUL-terminated wide string.
    let text = (hr >= 0).then(|| unsafe {
        let len = (0..).take_while(|&i| *path.add(i) != 0).count();
        String::from_utf16_lossy(std::slice::from_raw_parts(path, len))
    });
    // SAFETY: allocated by SHGetKnownFolderPath (also on failure), freed once.
    unsafe { CoTaskMemFree(path.cast()) };
    text.filter(|t| program_data_from(|_| Some(t.clone())) == *t)
}

/// macOS's paths.
pub fn macos_paths() -> ServicePaths {
    let support = Path::new("/Library/Application Support/Leakwatch");
    ServicePaths {
        config: support.join("leakwatch.toml"),
        ignores: support.join("ignores.user.json"),
        history: support.join("history.sqlite"),
        socket: PathBuf::from("/var/run/leakwatch/api.sock"),
        log: Some(PathBuf::from("/Library/Logs/Leakwatch/service.log")),
    }
}

/// This system's service paths.
pub fn service_paths() -> ServicePaths {
    #[cfg(windows)]
    {
        windows_paths(&known_program_data().unwrap_or_else(|| program_data_from(|v| std::env::var(v).ok())))
    }
    #[cfg(target_os = "macos")]
    {
        macos_paths()
    }
    #[cfg(not(any(windows, target_os = "macos")))]
    {
        linux_paths()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_keeps_everything_under_program_data() {
        let p = windows_paths("D:\\Data\\");
        assert_eq!(p.config, PathBuf::from("D:\\Data\\Leakwatch\\leakwatch.toml"));
        assert_eq!(p.ignores, PathBuf::from("D:\\Data\\Leakwatch\\ignores.user.json"));
        assert_eq!(p.history, PathBuf::from("D:\\Data\\Leakwatch\\data\\history.sqlite"));
        assert_eq!(p.socket, PathBuf::from("D:\\Data\\Leakwatch\\api.sock"));
        assert_eq!(p.log, Some(PathBuf::from("D:\\Data\\Leakwatch\\logs\\service.log")));
        // AF_UNIX paths are limited to 108 bytes (sun_path): the default one is far below.
        assert!(windows_paths("C:\\ProgramData").socket.to_string_lossy().len() < 108);
    }

    #[test]
    fn program_data_comes_from_the_environment_when_it_is_a_drive_path() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
        };
        assert_eq!(program_data_from(env(&[("ProgramData", "E:\\PD")])), "E:\\PD");
        assert_eq!(program_data_from(env(&[("ALLUSERSPROFILE", "F:\\All")])), "F:\\All");
        // Relative, empty or UNC-less garbage is not trusted.
        assert_eq!(program_data_from(env(&[("ProgramData", "..\\x"), ("ALLUSERSPROFILE", "")])), "C:\\ProgramData");
        assert_eq!(program_data_from(env(&[])), "C:\\ProgramData");
    }

    #[test]
    fn linux_and_macos_tables() {
        let l = linux_paths();
        assert_eq!(l.config, PathBuf::from("/etc/leakwatch/leakwatch.toml"));
        assert_eq!(l.socket, PathBuf::from("/run/leakwatch/api.sock"));
        assert_eq!(l.log, None);
        let m = macos_paths();
        assert!(m.config.starts_with("/Library/Application Support/Leakwatch"));
        assert!(m.history.starts_with("/Library/Application Support/Leakwatch"));
        assert!(m.socket.starts_with("/var/run"));
        #[cfg(target_os = "linux")]
        assert_eq!(service_paths(), linux_paths());
    }
}
