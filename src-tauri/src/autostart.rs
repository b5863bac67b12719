//! Start at login, for the tray process and the window alike: the entry `tauri-plugin-autostart`
//! wrote before the app was split in two (through the same `auto-launch` crate: on Linux the XDG
//! autostart file `~/.config/autostart/Leakwatch.desktop`, `Exec=<leakwatch-app> --minimized`),
//! so an entry made by an older version keeps working and is found again.

use auto_launch::{AutoLaunch, AutoLaunchBuilder};

/// The entry's name (the plugin used the product name).
pub const NAME: &str = "Leakwatch";
/// The flag the entry starts the app with.
pub const ARG: &str = "--minimized";

/// The launcher for `leakwatch-app` (this executable, or the one beside it when this is not it).
fn launcher() -> Result<AutoLaunch, String> {
    let exe = crate::paths::app_exe().map_err(|e| format!("cannot tell where leakwatch-app is: {e}"))?;
    let mut b = AutoLaunchBuilder::new();
    b.set_app_name(NAME).set_app_path(&exe.display().to_string()).set_args(&[ARG]);
    crate::os::autostart_mode(&mut b);
    b.build().map_err(|e| e.to_string())
}

/// Whether the entry exists.
pub fn is_enabled() -> Result<bool, String> {
    launcher()?.is_enabled().map_err(|e| e.to_string())
}

/// Writes or removes the entry.
pub fn set(on: bool) -> Result<(), String> {
    let l = launcher()?;
    if on { l.enable() } else { l.disable() }.map_err(|e| e.to_string())
}
