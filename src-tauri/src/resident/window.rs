//! The window as a process of its own: `leakwatch-app --window [--show-alert ID]` runs the Tauri
//! window (`crate::app`) as another client of the service and exits when its window closes.
//! A start while one runs is handed to the running one by tauri-plugin-single-instance (it
//! raises its window, on the alert if one is given) and ends at once.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// The window processes this tray started and that have not ended.
#[derive(Default)]
pub struct Windows {
    running: Vec<Child>,
}

impl Windows {
    pub fn new() -> Windows {
        Windows::default()
    }

    fn exe() -> Result<PathBuf, String> {
        crate::paths::app_exe().map_err(|e| format!("cannot tell where leakwatch-app is: {e}"))
    }

    /// Starts the window (on alert `id`), or has the running one raise itself.
    pub fn open(&mut self, id: Option<u64>) {
        self.open_with(id, false);
    }

    /// Starts the window because the desktop shows no tray: its Health page says so.
    pub fn open_no_tray(&mut self) {
        self.open_with(None, true);
    }

    fn open_with(&mut self, id: Option<u64>, no_tray: bool) {
        let exe = match Windows::exe() {
            Ok(e) => e,
            Err(e) => return tracing::info!("cannot open the window: {e}"),
        };
        let mut c = Command::new(&exe);
        c.arg("--window").stdin(Stdio::null());
        if let Some(id) = id {
            c.arg("--show-alert").arg(id.to_string());
        }
        if no_tray {
            c.arg("--no-tray");
        }
        match c.spawn() {
            Ok(child) => self.running.push(child),
            Err(e) => tracing::info!("cannot open the window: {}: {e}", exe.display()),
        }
    }

    /// Whether a window process runs.
    pub fn is_open(&mut self) -> bool {
        self.running.iter_mut().any(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Collects the window processes that ended; true when one did.
    pub fn reap(&mut self) -> bool {
        let before = self.running.len();
        self.running.retain_mut(|c| match c.try_wait() {
            Ok(Some(status)) => {
                if !status.success() {
                    tracing::info!("the window process ended: {status}");
                }
                false
            }
            Ok(None) => true,
            Err(_) => false,
        });
        self.running.len() != before
    }

    /// Ends the window processes (the tray's Quit).
    pub fn close(&mut self) {
        for c in &mut self.running {
            let _ = c.kill();
            let _ = c.wait();
        }
        self.running.clear();
    }
}
