//! What the app does differently on each system, in one place (the desktop notifications keep
//! their per-system code in `notify/`): outside this module and `notify/`, the app's code is the
//! same everywhere.

use crate::args::Args;
use std::path::Path;

/// The file name of the app's executable.
pub const APP_EXE: &str = if cfg!(windows) { "leakwatch-app.exe" } else { "leakwatch-app" };

/// Whether a graphical session is there: on Linux an X or Wayland display is named; Windows and
/// macOS always have one for a logged-in user.
pub fn has_display() -> bool {
    if cfg!(target_os = "linux") {
        ["DISPLAY", "WAYLAND_DISPLAY"].iter().any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()))
    } else {
        true
    }
}

/// The resident tray process of a client of the service (no GTK, WebKit or GL): Linux only.
#[cfg(target_os = "linux")]
#[path = "resident/mod.rs"]
pub mod resident;

/// `leakwatch-tray`'s `main`: the resident tray process on Linux, the whole app elsewhere.
pub fn tray_main() -> i32 {
    #[cfg(target_os = "linux")]
    let main = resident::main;
    #[cfg(not(target_os = "linux"))]
    let main = crate::app::main;
    main()
}

/// On Linux, as a client of the service (no `--window`, `--replay` or `--embedded`), the resident
/// tray process is the small `leakwatch-tray`: this process becomes it (`exec`), or, when it
/// cannot, runs it here. `None` elsewhere and in the other cases: go on as the app.
pub fn run_resident(args: &Args, config_dir: &Path) -> Option<i32> {
    #[cfg(target_os = "linux")]
    if !args.window && args.replay.is_none() && !args.embedded {
        let why = exec(crate::paths::tray_exe());
        tracing::warn!(
            "cannot start the tray process {why}; it runs in this process instead, \
             which maps GTK and WebKit (more memory): reinstall Leakwatch to get leakwatch-tray back"
        );
        return Some(resident::run(args, config_dir.to_path_buf()));
    }
    let _ = (args, config_dir);
    None
}

/// Sets how the login entry starts the app, where there is a choice (macOS: a launch agent).
pub fn autostart_mode(b: &mut auto_launch::AutoLaunchBuilder) {
    #[cfg(target_os = "macos")]
    b.set_macos_launch_mode(auto_launch::MacOSLaunchMode::LaunchAgent);
    let _ = b;
}

/// Replaces this process with `exe`, given this process's flags; returns only on failure.
#[cfg(unix)]
pub fn exec(exe: std::io::Result<std::path::PathBuf>) -> String {
    use std::os::unix::process::CommandExt;
    match exe {
        Ok(exe) => {
            let e = std::process::Command::new(&exe).args(std::env::args_os().skip(1)).exec();
            format!("{}: {e}", exe.display())
        }
        Err(e) => e.to_string(),
    }
}
