//! `--gui PATH`: starts an external GUI when an alert arrives, unless the one started before is
//! still running. No shell: the path is run as-is (spaces allowed), without arguments, as the
//! user running leakwatch.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// After a failed start, wait this long before trying again (not once per alert).
const RETRY_AFTER: Duration = Duration::from_secs(60);

/// What [`GuiLauncher::on_alert`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Launch {
    /// Started a new process with this pid.
    Started(u32),
    /// The process started before is still running.
    Running,
    /// Starting it failed (the reason); the next try waits a minute.
    Failed(String),
    /// A start failed less than a minute ago.
    Waiting,
}

/// Starts the GUI program on alerts, at most one process at a time.
#[derive(Debug)]
pub struct GuiLauncher {
    path: PathBuf,
    child: Option<Child>,
    failed_at: Option<Instant>,
}

impl GuiLauncher {
    pub fn new(path: impl Into<PathBuf>) -> GuiLauncher {
        GuiLauncher { path: path.into(), child: None, failed_at: None }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the process started last is still running (reaps it when it has ended).
    pub fn is_running(&mut self) -> bool {
        match &mut self.child {
            Some(c) => match c.try_wait() {
                Ok(None) => true,
                Ok(Some(_)) | Err(_) => {
                    self.child = None;
                    false
                }
            },
            None => false,
        }
    }

    /// An alert arrived: start the program unless it is running.
    pub fn on_alert(&mut self) -> Launch {
        if self.is_running() {
            return Launch::Running;
        }
        if self.failed_at.is_some_and(|t| t.elapsed() < RETRY_AFTER) {
            return Launch::Waiting;
        }
        let started = Command::new(&self.path).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn();
        match started {
            Ok(child) => {
                self.failed_at = None;
                let pid = child.id();
                self.child = Some(child);
                Launch::Started(pid)
            }
            Err(e) => {
                self.failed_at = Some(Instant::now());
                Launch::Failed(format!("cannot start the GUI {}: {e}", self.path.display()))
            }
        }
    }
}
