//! macOS: `leakwatch service` as a launchd daemon. `leakwatch service install` writes
//! `/Library/LaunchDaemons/org.leakwatch.service.plist` (the text of
//! `packaging/macos/org.leakwatch.service.plist`, with this binary's path and the configuration
//! chosen) and loads it with `launchctl bootstrap system`; `uninstall` runs `launchctl bootout`
//! and removes the file. The plist's text is made here on every system, so it is tested on Linux.

use std::path::Path;

/// launchd's label of the service.
pub const LABEL: &str = "org.leakwatch.service";
/// Where system daemons' property lists live.
pub const PLIST_PATH: &str = "/Library/LaunchDaemons/org.leakwatch.service.plist";

/// `text` with XML's special characters escaped.
fn xml(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The daemon's property list: runs `exe service --config config` as root at boot, restarts it
/// when it exits with a failure (not after a clean stop), stderr and stdout to `log`.
pub fn plist(exe: &Path, config: &Path, log: &Path) -> String {
    let mut args = vec![exe.to_string_lossy().into_owned()];
    args.extend(
        super::service::service_arguments(false, Some(config)).iter().map(|a| a.to_string_lossy().into_owned()),
    );
    let args: String = args.iter().map(|a| format!("        <string>{}</string>\n", xml(a))).collect();
    let log = xml(&log.to_string_lossy());
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!-- The Leakwatch service (docs/service.md). `leakwatch service install` writes this file to
     /Library/LaunchDaemons/ with its own path and loads it; `leakwatch service uninstall` unloads
     and removes it. -->
<plist version="1.0">
<dict>
    <key>Label</key>
    <string>{LABEL}</string>
    <key>ProgramArguments</key>
    <array>
{args}    </array>
    <key>RunAtLoad</key>
    <true/>
    <key>KeepAlive</key>
    <dict>
        <key>SuccessfulExit</key>
        <false/>
    </dict>
    <key>ThrottleInterval</key>
    <integer>5</integer>
    <key>ExitTimeOut</key>
    <integer>30</integer>
    <key>ProcessType</key>
    <string>Standard</string>
    <key>Umask</key>
    <integer>23</integer>
    <key>StandardOutPath</key>
    <string>{log}</string>
    <key>StandardErrorPath</key>
    <string>{log}</string>
</dict>
</plist>
"#
    )
}

/// Runs `launchctl ARGS`; its message when it fails.
#[cfg(target_os = "macos")]
fn launchctl(args: &[&str]) -> Result<(), String> {
    let out = std::process::Command::new("/bin/launchctl")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run /bin/launchctl: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        let msg = String::from_utf8_lossy(&out.stderr).trim().to_string();
        Err(format!("launchctl {} failed ({}): {msg}", args.join(" "), out.status))
    }
}

#[cfg(target_os = "macos")]
fn need_root(op: &str) -> Result<(), super::service::ManagerError> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Err(super::service::ManagerError::new(format!(
            "`leakwatch service {op}` needs root: sudo leakwatch service {op}"
        )));
    }
    Ok(())
}

/// Writes the daemon's plist and loads it (replacing a loaded one).
#[cfg(target_os = "macos")]
pub fn install(options: &super::service::InstallOptions) -> Result<String, super::service::ManagerError> {
    use super::service::ManagerError;
    need_root("install")?;
    let paths = super::paths::service_paths();
    let exe = std::env::current_exe().map_err(|e| ManagerError::new(format!("cannot tell where leakwatch is: {e}")))?;
    let config = options.config.clone().unwrap_or(paths.config.clone());
    let log = paths.log.clone().unwrap_or_else(|| "/Library/Logs/Leakwatch/service.log".into());
    for dir in [config.parent(), log.parent(), paths.history.parent()].into_iter().flatten() {
        std::fs::create_dir_all(dir).map_err(|e| ManagerError::new(format!("cannot create {}: {e}", dir.display())))?;
    }
    let text = plist(&exe, &config, &log);
    crate::files::write_atomically(Path::new(PLIST_PATH), text.as_bytes())
        .map_err(|e| ManagerError::new(format!("cannot write {PLIST_PATH}: {e}")))?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(PLIST_PATH, std::fs::Permissions::from_mode(0o644))
        .map_err(|e| ManagerError::new(format!("cannot make {PLIST_PATH} readable (0644): {e}")))?;
    let target = format!("system/{LABEL}");
    if !options.start {
        return Ok(format!("wrote {PLIST_PATH} (not loaded: sudo launchctl bootstrap system {PLIST_PATH})"));
    }
    // A loaded copy (a reinstall or an upgrade) is unloaded first: bootstrap refuses a loaded label.
    let _ = launchctl(&["bootout", &target]);
    let _ = launchctl(&["enable", &target]);
    launchctl(&["bootstrap", "system", PLIST_PATH]).map_err(ManagerError::new)?;
    Ok(format!(
        "installed the launchd daemon {LABEL} ({PLIST_PATH}: {} service --config {}; log {}), loaded and started",
        exe.display(),
        config.display(),
        log.display()
    ))
}

/// Unloads the daemon (stopping it) and removes its plist; configuration and history stay.
#[cfg(target_os = "macos")]
pub fn uninstall() -> Result<String, super::service::ManagerError> {
    use super::service::ManagerError;
    need_root("uninstall")?;
    let loaded = launchctl(&["print", &format!("system/{LABEL}")]).is_ok();
    if loaded {
        launchctl(&["bootout", &format!("system/{LABEL}")]).map_err(ManagerError::new)?;
    }
    match std::fs::remove_file(PLIST_PATH) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !loaded => {
            return Ok(format!("the launchd daemon {LABEL} is not installed: nothing to remove"));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(ManagerError::new(format!("cannot remove {PLIST_PATH}: {e}"))),
    }
    let kept = super::paths::service_paths();
    Ok(format!(
        "stopped and removed the launchd daemon {LABEL} (kept {} and {})",
        kept.config.parent().map_or_else(String::new, |d| d.display().to_string()),
        kept.log.map_or_else(String::new, |l| l.display().to_string())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> String {
        plist(
            Path::new("/usr/local/bin/leakwatch"),
            &super::super::paths::macos_paths().config,
            Path::new("/Library/Logs/Leakwatch/service.log"),
        )
    }

    #[test]
    fn the_packaged_plist_is_what_install_writes() {
        let file = include_str!("../../packaging/macos/org.leakwatch.service.plist");
        assert_eq!(file, shipped(), "packaging/macos/org.leakwatch.service.plist differs from launchd::plist()");
    }

    #[test]
    fn the_plist_is_a_valid_property_list_with_the_daemons_keys() {
        let v = plist::Value::from_reader_xml(shipped().as_bytes()).expect("valid plist XML");
        let d = v.as_dictionary().expect("a dictionary at the top");
        assert_eq!(d.get("Label").and_then(|l| l.as_string()), Some(LABEL));
        let args: Vec<&str> = d
            .get("ProgramArguments")
            .and_then(|a| a.as_array())
            .expect("ProgramArguments")
            .iter()
            .map(|a| a.as_string().expect("strings"))
            .collect();
        assert_eq!(
            args,
            [
                "/usr/local/bin/leakwatch",
                "service",
                "--config",
                "/Library/Application Support/Leakwatch/leakwatch.toml"
            ]
        );
        assert_eq!(d.get("RunAtLoad").and_then(|b| b.as_boolean()), Some(true));
        let keep = d.get("KeepAlive").and_then(|k| k.as_dictionary()).expect("KeepAlive is a dictionary");
        assert_eq!(keep.get("SuccessfulExit").and_then(|b| b.as_boolean()), Some(false));
        assert_eq!(d.get("Umask").and_then(|u| u.as_signed_integer()), Some(0o027));
        for k in ["StandardErrorPath", "StandardOutPath"] {
            assert_eq!(d.get(k).and_then(|s| s.as_string()), Some("/Library/Logs/Leakwatch/service.log"), "{k}");
        }
        // launchd runs daemons as root unless told otherwise: no UserName key.
        assert!(d.get("UserName").is_none());
    }

    #[test]
    fn paths_with_xml_characters_stay_one_string() {
        let text = plist(Path::new("/opt/a&b/<leakwatch>"), Path::new("/x/\"c\".toml"), Path::new("/l"));
        let v = plist::Value::from_reader_xml(text.as_bytes()).expect("still valid XML");
        let args = v.as_dictionary().unwrap().get("ProgramArguments").unwrap().as_array().unwrap();
        assert_eq!(args[0].as_string(), Some("/opt/a&b/<leakwatch>"));
        assert_eq!(args[3].as_string(), Some("/x/\"c\".toml"));
    }
}
