//! Where the app's executables are: `leakwatch-app` (the Tauri binary: the window process, and
//! the single process of `--replay`/`--embedded`) and, beside it, `leakwatch-tray` (the
//! resident tray process of Linux, a binary that does not link GTK or WebKit), and handing a
//! start over from one to the other with `exec` (same process id, same flags).

use std::path::PathBuf;

/// The name of the app's executable.
pub const APP: &str = crate::os::APP_EXE;
/// The tray process's executable, beside [`APP`].
pub const TRAY: &str = "leakwatch-tray";

/// `name` beside this executable (this one when it is that one).
fn beside(name: &str) -> std::io::Result<PathBuf> {
    let me = std::env::current_exe()?;
    if me.file_name().is_some_and(|n| n == name) {
        return Ok(me);
    }
    Ok(me.with_file_name(name))
}

/// `leakwatch-app`.
pub fn app_exe() -> std::io::Result<PathBuf> {
    beside(APP)
}

/// `leakwatch-tray`.
pub fn tray_exe() -> std::io::Result<PathBuf> {
    beside(TRAY)
}
