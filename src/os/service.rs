//! Registering `leakwatch service` with this system's service manager, and running under it:
//!
//! * Windows: the service control manager (`winservice.rs`): `leakwatch service install` creates
//!   service `leakwatch` (LocalSystem, automatic start, restarted on failure) whose command line
//!   is `leakwatch.exe service --windows-service`; that entry reports its state to the SCM and
//!   stops cleanly on Stop and Shutdown.
//! * macOS: a launchd daemon (`launchd.rs`): `/Library/LaunchDaemons/org.leakwatch.service.plist`
//!   and `launchctl bootstrap system`.
//! * Linux: the systemd unit `leakwatch.service`, installed by the `.deb` or `make install`:
//!   `install` and `uninstall` say so.
//!
//! The rest of the program calls [`install`], [`uninstall`], [`run_as_windows_service`] and
//! [`restart_command`] without knowing which system it is on.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The service's name for the system (the Windows service name; launchd's label is
/// [`super::launchd::LABEL`]).
pub const SERVICE_NAME: &str = "leakwatch";

/// Exit code: the system's service manager refused or failed (not elevated, not installed…).
pub const EXIT_MANAGER: i32 = 7;
/// Exit code: this system registers the service another way (Linux: the systemd unit).
pub const EXIT_NOT_HERE: i32 = 2;

/// What `leakwatch service install` was asked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InstallOptions {
    /// A configuration file other than the system's default one.
    pub config: Option<PathBuf>,
    /// Start it once registered (it also starts at every boot).
    pub start: bool,
}

/// Why installing or removing the service failed: what to tell the user, and the exit code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ManagerError {
    pub message: String,
    pub code: i32,
}

impl ManagerError {
    pub fn new(message: impl Into<String>) -> ManagerError {
        ManagerError { message: message.into(), code: EXIT_MANAGER }
    }
}

/// What the service manager gives the service's main loop: a stop request (the control
/// handler's Stop / Shutdown), and who to tell once the service serves (the SCM's Running).
#[derive(Clone, Default)]
pub struct ManagerHooks {
    stop: Arc<AtomicBool>,
    on_running: Option<Arc<dyn Fn() + Send + Sync>>,
}

impl ManagerHooks {
    /// Hooks that report `on_running` and share `stop` with the manager's control handler.
    pub fn new(stop: Arc<AtomicBool>, on_running: Arc<dyn Fn() + Send + Sync>) -> ManagerHooks {
        ManagerHooks { stop, on_running: Some(on_running) }
    }

    /// Whether the manager asked the service to stop.
    pub fn stop_requested(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Tells the manager the service is up (its socket and capture started).
    pub fn running(&self) {
        if let Some(f) = &self.on_running {
            f();
        }
    }
}

/// The service's main function: runs with the configuration file and the manager's hooks until
/// asked to stop; returns the exit code.
pub type ServiceMain = fn(&Path, &ManagerHooks) -> i32;

/// Registers the service with this system's manager (and starts it when asked); says what was
/// done.
pub fn install(options: &InstallOptions) -> Result<String, ManagerError> {
    #[cfg(windows)]
    {
        super::winservice::install(options)
    }
    #[cfg(target_os = "macos")]
    {
        super::launchd::install(options)
    }
    #[cfg(not(any(windows, target_os = "macos")))]
    {
        let _ = options;
        Err(systemd_instead("install"))
    }
}

/// Stops the service and removes it from this system's manager; the configuration, ignores and
/// history stay.
pub fn uninstall() -> Result<String, ManagerError> {
    #[cfg(windows)]
    {
        super::winservice::uninstall()
    }
    #[cfg(target_os = "macos")]
    {
        super::launchd::uninstall()
    }
    #[cfg(not(any(windows, target_os = "macos")))]
    {
        Err(systemd_instead("uninstall"))
    }
}

/// Runs `main` under Windows's service control manager (what `service install` registers:
/// `leakwatch.exe service --windows-service`). Elsewhere it is a usage error.
pub fn run_as_windows_service(config: &Path, main: ServiceMain) -> i32 {
    #[cfg(windows)]
    {
        super::winservice::run(config, main)
    }
    #[cfg(not(windows))]
    {
        let _ = (config, main);
        tracing::error!(
            "--windows-service is what Windows's service control manager starts; here run `leakwatch service` \
             ({})",
            restart_command()
        );
        EXIT_NOT_HERE
    }
}

/// How an administrator restarts the service on this system (for messages).
pub fn restart_command() -> &'static str {
    #[cfg(windows)]
    {
        "as administrator: net stop leakwatch && net start leakwatch"
    }
    #[cfg(target_os = "macos")]
    {
        "sudo launchctl kickstart -k system/org.leakwatch.service"
    }
    #[cfg(not(any(windows, target_os = "macos")))]
    {
        "sudo systemctl restart leakwatch"
    }
}

/// Linux registers the service through its systemd unit, not through this command.
#[cfg(not(any(windows, target_os = "macos")))]
fn systemd_instead(what: &str) -> ManagerError {
    let how = if what == "install" {
        "install the .deb (make deb), or run `sudo make install` from the source tree: both install \
         leakwatch.service, enable it and start it"
    } else {
        "remove the .deb (sudo apt remove leakwatch), or run `sudo make uninstall` from the source tree"
    };
    ManagerError {
        message: format!(
            "`leakwatch service {what}` is for Windows and macOS; on Linux the service is the systemd unit \
             leakwatch.service: {how} (docs/service.md)"
        ),
        code: EXIT_NOT_HERE,
    }
}

/// What to tell the user when the service manager refused an operation, from the Windows error
/// code (`op`: "install", "uninstall", "start", "stop"…). Plain data so it is tested everywhere.
pub fn windows_error_text(op: &str, code: Option<i32>, detail: &str) -> String {
    const ACCESS_DENIED: i32 = 5;
    const SERVICE_DOES_NOT_EXIST: i32 = 1060;
    const SERVICE_MARKED_FOR_DELETE: i32 = 1072;
    const SERVICE_EXISTS: i32 = 1073;
    const FAILED_SERVICE_CONTROLLER_CONNECT: i32 = 1063;
    match code {
        Some(ACCESS_DENIED) => format!(
            "cannot {op} the Leakwatch service: access denied. It needs an administrator: open a Command Prompt \
             or PowerShell with \"Run as administrator\" and run `leakwatch service {op}` again"
        ),
        Some(SERVICE_DOES_NOT_EXIST) => {
            format!("cannot {op} the Leakwatch service: it is not installed (`leakwatch service install` installs it)")
        }
        Some(SERVICE_MARKED_FOR_DELETE) => format!(
            "cannot {op} the Leakwatch service: it is being removed (a program such as services.msc still holds \
             it open): close services.msc and Event Viewer, wait a few seconds and try again"
        ),
        Some(SERVICE_EXISTS) => format!("cannot {op} the Leakwatch service: it exists already"),
        Some(FAILED_SERVICE_CONTROLLER_CONNECT) => "--windows-service is what the service control manager \
             starts (installed by `leakwatch service install`); to run the service in this console, leave it out: \
             `leakwatch service`"
            .to_string(),
        _ => format!("cannot {op} the Leakwatch service: {detail}"),
    }
}

/// The command line the service manager runs: `service --windows-service` (Windows) and the
/// configuration file when it is not the default one.
pub fn service_arguments(windows: bool, config: Option<&Path>) -> Vec<std::ffi::OsString> {
    let mut args: Vec<std::ffi::OsString> = vec!["service".into()];
    if windows {
        args.push("--windows-service".into());
    }
    if let Some(c) = config {
        args.push("--config".into());
        args.push(c.as_os_str().to_owned());
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_service_manager_runs_the_windows_entry_with_the_chosen_config() {
        let args = service_arguments(true, Some(Path::new("D:\\lw.toml")));
        assert_eq!(args, ["service", "--windows-service", "--config", "D:\\lw.toml"]);
        assert_eq!(service_arguments(true, None), ["service", "--windows-service"]);
        assert_eq!(service_arguments(false, None), ["service"]);
        // What install registers is a command line the CLI parses into the SCM entry.
        use clap::Parser;
        let mut argv = vec![std::ffi::OsString::from("leakwatch")];
        argv.extend(service_arguments(true, Some(Path::new("x.toml"))));
        let cli = crate::cli::Cli::try_parse_from(argv).expect("the registered command line parses");
        let crate::cli::Command::Service(s) = cli.command else { panic!("not `service`") };
        assert!(s.windows_service);
        assert_eq!(s.config.as_deref(), Some(Path::new("x.toml")));
        assert!(s.action.is_none());
    }

    #[test]
    fn manager_errors_say_what_to_do() {
        let t = windows_error_text("install", Some(5), "Access is denied.");
        assert!(t.contains("Run as administrator") && t.contains("leakwatch service install"), "{t}");
        let t = windows_error_text("uninstall", Some(1060), "");
        assert!(t.contains("not installed"), "{t}");
        let t = windows_error_text("run", Some(1063), "");
        assert!(t.contains("leave it out") && t.contains("`leakwatch service`"), "{t}");
        let t = windows_error_text("start", Some(1234), "something odd (os error 1234)");
        assert!(t.ends_with("something odd (os error 1234)"), "{t}");
    }

    #[test]
    fn hooks_carry_the_managers_stop_and_running() {
        let stop = Arc::new(AtomicBool::new(false));
        let ran = Arc::new(AtomicBool::new(false));
        let hooks = {
            let ran = ran.clone();
            ManagerHooks::new(stop.clone(), Arc::new(move || ran.store(true, Ordering::SeqCst)))
        };
        assert!(!hooks.stop_requested());
        stop.store(true, Ordering::SeqCst);
        assert!(hooks.stop_requested());
        hooks.running();
        assert!(ran.load(Ordering::SeqCst));
        // The console's hooks: nothing to tell, never stopped from outside.
        let console = ManagerHooks::default();
        console.running();
        assert!(!console.stop_requested());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn linux_points_at_the_systemd_unit() {
        let e = install(&InstallOptions::default()).unwrap_err();
        assert_eq!(e.code, EXIT_NOT_HERE);
        assert!(e.message.contains("leakwatch.service") && e.message.contains("make install"), "{}", e.message);
        let e = uninstall().unwrap_err();
        assert!(e.message.contains("make uninstall"), "{}", e.message);
        assert_eq!(run_as_windows_service(Path::new("x"), |_, _| 0), EXIT_NOT_HERE);
    }
}
