//! Windows: `leakwatch service` as a Windows service (the `windows-service` crate over the SCM's
//! API).
//!
//! * [`run`]: the entry the SCM starts (`leakwatch.exe service --windows-service`). It reports
//!   StartPending, then Running once the service serves (API socket and capture started), and on
//!   Stop or Shutdown sets the same stop request the console's Ctrl-C sets, reports StopPending
//!   and, when the main loop has finished, Stopped with the exit code (a service-specific code
//!   when it failed, which also triggers the recovery actions). A service has no console: its
//!   messages go to `%ProgramData%\Leakwatch\logs\service.log` (the previous run's is kept as
//!   `service.log.old`).
//! * [`install`] / [`uninstall`]: create (or update) the service: LocalSystem, automatic start,
//!   a description, restart on failure; stop and delete it.

use super::service::{InstallOptions, ManagerError, ManagerHooks, SERVICE_NAME, ServiceMain, windows_error_text};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use windows_service::service::{
    ServiceAccess, ServiceAction, ServiceActionType, ServiceControl, ServiceControlAccept, ServiceErrorControl,
    ServiceExitCode, ServiceFailureActions, ServiceFailureResetPeriod, ServiceInfo, ServiceStartType, ServiceState,
    ServiceStatus, ServiceType,
};
use windows_service::service_control_handler::{self, ServiceControlHandlerResult, ServiceStatusHandle};
use windows_service::service_manager::{ServiceManager, ServiceManagerAccess};
use windows_service::{define_windows_service, service_dispatcher};

const DISPLAY_NAME: &str = "Leakwatch";
const DESCRIPTION: &str = "Watches this computer's outgoing traffic and says which program sends data out \
                           (capture, attribution, alerts and the local API for the Leakwatch app and CLI).";
/// How long the SCM is told to wait for a start or a stop before it gives up on the service.
const WAIT_HINT: Duration = Duration::from_secs(30);
/// How long install and uninstall wait for the service to reach Running or Stopped.
const STATE_WAIT: Duration = Duration::from_secs(30);
/// The log is moved to `service.log.old` at start when it is larger than this.
const LOG_ROTATE: u64 = 10 * 1024 * 1024;

/// What the SCM's thread needs: the configuration and the service's main function.
static MAIN: OnceLock<(PathBuf, ServiceMain)> = OnceLock::new();
/// The main function's exit code, for the process's own exit code.
static EXIT: AtomicI32 = AtomicI32::new(0);

define_windows_service!(ffi_service_main, service_main);

/// Hands this process to the SCM, which calls the service's main function on a thread of its
/// own; returns when the service has stopped.
pub fn run(config: &Path, main: ServiceMain) -> i32 {
    let _ = MAIN.set((config.to_path_buf(), main));
    match service_dispatcher::start(SERVICE_NAME, ffi_service_main) {
        Ok(()) => EXIT.load(Ordering::SeqCst),
        Err(windows_service::Error::Winapi(e)) => {
            tracing::error!("{}", windows_error_text("run", e.raw_os_error(), &e.to_string()));
            super::service::EXIT_NOT_HERE
        }
        Err(e) => {
            tracing::error!("{}", windows_error_text("run", None, &e.to_string()));
            super::service::EXIT_MANAGER
        }
    }
}

/// Sends this process's stderr (where every message goes) to `log`, appended.
fn log_to(log: &Path) -> std::io::Result<()> {
    use std::os::windows::io::IntoRawHandle;
    use windows_sys::Win32::System::Console::{STD_ERROR_HANDLE, STD_OUTPUT_HANDLE, SetStdHandle};
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir)?;
    }
    if std::fs::metadata(log).is_ok_and(|m| m.len() > LOG_ROTATE) {
        let _ = std::fs::rename(log, log.with_extension("log.old"));
    }
    let file = std::fs::OpenOptions::new().create(true).append(true).open(log)?;
    let handle = file.into_raw_handle();
    // SAFETY: a valid file handle, handed over to the process's standard handles for good (std
    // reads the standard handle at each write).
    unsafe {
        SetStdHandle(STD_ERROR_HANDLE, handle);
        SetStdHandle(STD_OUTPUT_HANDLE, handle);
    }
    Ok(())
}

fn status(state: ServiceState, exit_code: ServiceExitCode, checkpoint: u32) -> ServiceStatus {
    let pending = matches!(state, ServiceState::StartPending | ServiceState::StopPending);
    ServiceStatus {
        service_type: ServiceType::OWN_PROCESS,
        current_state: state,
        controls_accepted: if state == ServiceState::Running {
            ServiceControlAccept::STOP | ServiceControlAccept::SHUTDOWN
        } else {
            ServiceControlAccept::empty()
        },
        exit_code,
        checkpoint,
        wait_hint: if pending { WAIT_HINT } else { Duration::ZERO },
        process_id: None,
    }
}

/// Tells the SCM `state`; a refusal is logged (the SCM then acts on what it last knew).
fn report(handle: ServiceStatusHandle, state: ServiceState, exit_code: ServiceExitCode, checkpoint: u32) {
    if let Err(e) = handle.set_service_status(status(state, exit_code, checkpoint)) {
        tracing::warn!("cannot tell the service control manager the state {state:?}: {e}");
    }
}

/// The SCM's entry, on its thread: registers the control handler, reports the states around
/// the service's main function.
fn service_main(_arguments: Vec<OsString>) {
    // Only now: run from a console by mistake, the dispatcher's refusal goes to the console.
    let log = super::paths::service_paths().log;
    if let Some(log) = &log
        && let Err(e) = log_to(log)
    {
        tracing::warn!("cannot write the service's log {}: {e}", log.display());
    }
    let Some((config, main)) = MAIN.get().cloned() else {
        EXIT.store(super::service::EXIT_MANAGER, Ordering::SeqCst);
        return;
    };
    let stop = Arc::new(AtomicBool::new(false));
    let handle_cell: Arc<OnceLock<ServiceStatusHandle>> = Arc::new(OnceLock::new());
    let handler = {
        let (stop, handle_cell) = (stop.clone(), handle_cell.clone());
        move |control| match control {
            ServiceControl::Stop | ServiceControl::Shutdown => {
                tracing::info!("the service control manager asks to stop ({control:?})");
                stop.store(true, Ordering::SeqCst);
                if let Some(h) = handle_cell.get() {
                    report(*h, ServiceState::StopPending, ServiceExitCode::NO_ERROR, 1);
                }
                ServiceControlHandlerResult::NoError
            }
            ServiceControl::Interrogate => ServiceControlHandlerResult::NoError,
            _ => ServiceControlHandlerResult::NotImplemented,
        }
    };
    let handle = match service_control_handler::register(SERVICE_NAME, handler) {
        Ok(h) => h,
        Err(e) => {
            tracing::error!("cannot register with the service control manager: {e}");
            EXIT.store(super::service::EXIT_MANAGER, Ordering::SeqCst);
            return;
        }
    };
    let _ = handle_cell.set(handle);
    report(handle, ServiceState::StartPending, ServiceExitCode::NO_ERROR, 1);
    tracing::info!("started by the service control manager (configuration {})", config.display());
    let hooks =
        ManagerHooks::new(stop, Arc::new(move || report(handle, ServiceState::Running, ServiceExitCode::NO_ERROR, 0)));
    let code = main(&config, &hooks);
    EXIT.store(code, Ordering::SeqCst);
    let exit_code = if code == 0 { ServiceExitCode::NO_ERROR } else { ServiceExitCode::ServiceSpecific(code as u32) };
    if code != 0 {
        tracing::error!("the service stops with exit code {code}");
    }
    report(handle, ServiceState::Stopped, exit_code, 0);
}

/// A failed SCM call as the message for the user.
fn refused(op: &str, e: windows_service::Error) -> ManagerError {
    ManagerError::new(windows_error_text(op, os_code(&e), &detail(&e)))
}

/// The error's own words (the crate's Display of a Win32 error leaves out which one).
fn detail(e: &windows_service::Error) -> String {
    match e {
        windows_service::Error::Winapi(io) => io.to_string(),
        other => other.to_string(),
    }
}

fn os_code(e: &windows_service::Error) -> Option<i32> {
    match e {
        windows_service::Error::Winapi(io) => io.raw_os_error(),
        _ => None,
    }
}

/// Polls the service until it is in `want` (or stopped, when waiting to run), at most
/// [`STATE_WAIT`]; returns the last state seen.
fn wait_for(service: &windows_service::service::Service, want: ServiceState) -> Result<ServiceState, ManagerError> {
    let deadline = Instant::now() + STATE_WAIT;
    loop {
        let s = service.query_status().map_err(|e| refused("query", e))?;
        let settled = s.current_state == want
            || (want == ServiceState::Running && s.current_state == ServiceState::Stopped)
            || Instant::now() >= deadline;
        if settled {
            if s.current_state == ServiceState::Stopped && want == ServiceState::Running {
                let code = match s.exit_code {
                    ServiceExitCode::ServiceSpecific(c) => format!("exit code {c}"),
                    ServiceExitCode::Win32(c) => format!("Windows error {c}"),
                };
                let log = super::paths::service_paths().log.map(|l| l.display().to_string()).unwrap_or_default();
                return Err(ManagerError::new(format!(
                    "the Leakwatch service was installed but stopped at once ({code}): see {log}"
                )));
            }
            return Ok(s.current_state);
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Creates the service (or updates it when it exists: a reinstall or an upgrade), sets its
/// description and recovery, and starts it when asked.
pub fn install(options: &InstallOptions) -> Result<String, ManagerError> {
    let exe =
        std::env::current_exe().map_err(|e| ManagerError::new(format!("cannot tell where leakwatch.exe is: {e}")))?;
    let manager = ServiceManager::local_computer(
        None::<&str>,
        ServiceManagerAccess::CONNECT | ServiceManagerAccess::CREATE_SERVICE,
    )
    .map_err(|e| refused("install", e))?;
    let info = ServiceInfo {
        name: SERVICE_NAME.into(),
        display_name: DISPLAY_NAME.into(),
        service_type: ServiceType::OWN_PROCESS,
        start_type: ServiceStartType::AutoStart,
        error_control: ServiceErrorControl::Normal,
        executable_path: exe.clone(),
        launch_arguments: super::service::service_arguments(true, options.config.as_deref()),
        dependencies: Vec::new(),
        // LocalSystem: every process's path, Npcap, ProgramData.
        account_name: None,
        account_password: None,
    };
    let access = ServiceAccess::QUERY_STATUS
        | ServiceAccess::START
        | ServiceAccess::STOP
        | ServiceAccess::CHANGE_CONFIG
        | ServiceAccess::QUERY_CONFIG;
    let (service, verb) = match manager.create_service(&info, access) {
        Ok(s) => (s, "installed"),
        Err(e) if os_code(&e) == Some(1073) => {
            let s = manager.open_service(SERVICE_NAME, access).map_err(|e| refused("update", e))?;
            s.change_config(&info).map_err(|e| refused("update", e))?;
            (s, "updated")
        }
        Err(e) => return Err(refused("install", e)),
    };
    service.set_description(DESCRIPTION).map_err(|e| refused("describe", e))?;
    let mut notes = Vec::new();
    match protect_data_dir() {
        Ok(dir) => notes.push(format!("{dir} for SYSTEM and Administrators only (users may read)")),
        Err(e) => {
            tracing::warn!("{e}");
            notes.push("ProgramData folder not protected (see the warning)".to_string());
        }
    }
    let recovery = ServiceFailureActions {
        reset_period: ServiceFailureResetPeriod::After(Duration::from_secs(24 * 3600)),
        reboot_msg: None,
        command: None,
        actions: Some(vec![
            ServiceAction { action_type: ServiceActionType::Restart, delay: Duration::from_secs(5) },
            ServiceAction { action_type: ServiceActionType::Restart, delay: Duration::from_secs(5) },
            ServiceAction { action_type: ServiceActionType::Restart, delay: Duration::from_secs(60) },
        ]),
    };
    // Recovery is a convenience: a manager that refuses it (Wine) leaves a working service.
    match service
        .update_failure_actions(recovery)
        .and_then(|()| service.set_failure_actions_on_non_crash_failures(true))
    {
        Ok(()) => notes.push("restarted 5 s after a failure".to_string()),
        Err(e) => {
            let text = windows_error_text("set the recovery actions of", os_code(&e), &detail(&e));
            tracing::warn!("{text}");
            notes.push("no automatic restart (see the warning)".to_string());
        }
    }
    let mut text = format!(
        "{verb} the Windows service {SERVICE_NAME} ({}{}; LocalSystem, starts at boot, {})",
        exe.display(),
        options.config.as_ref().map(|c| format!(" --config {}", c.display())).unwrap_or_default(),
        notes.join(", ")
    );
    if options.start {
        let s = service.query_status().map_err(|e| refused("query", e))?;
        if s.current_state == ServiceState::Running {
            text.push_str("; it was running already: `net stop leakwatch && net start leakwatch` restarts it");
        } else {
            service.start(&[] as &[&std::ffi::OsStr]).map_err(|e| refused("start", e))?;
            match wait_for(&service, ServiceState::Running)? {
                ServiceState::Running => text.push_str("; started"),
                other => text.push_str(&format!("; still {other:?} after {} s", STATE_WAIT.as_secs())),
            }
        }
    }
    Ok(text)
}

/// Gives the service's folder under ProgramData an ACL of its own: full control for SYSTEM and
/// Administrators, read for Users, nothing inherited. ProgramData lets every user create files in
/// its subfolders, so without this a user could put a `leakwatch.toml` there before the service
/// does, and the service (LocalSystem) would follow it (history, ignores and forward paths).
fn protect_data_dir() -> Result<String, String> {
    let paths = super::paths::service_paths();
    let dir = paths.config.parent().ok_or("the configuration has no folder")?.to_path_buf();
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let icacls = std::env::var_os("SystemRoot")
        .map_or_else(|| PathBuf::from("icacls.exe"), |r| PathBuf::from(r).join("System32").join("icacls.exe"));
    // Well-known SIDs: SYSTEM, Administrators, Users (names differ by language).
    let out = std::process::Command::new(&icacls)
        .arg(&dir)
        .args([
            "/inheritance:r",
            "/grant:r",
            "*S-1-5-18:(OI)(CI)F",
            "*S-1-5-32-544:(OI)(CI)F",
            "*S-1-5-32-545:(OI)(CI)RX",
        ])
        .args(["/T", "/C", "/Q"])
        .output()
        .map_err(|e| {
            format!(
                "cannot run {}: {e}; the folder {} keeps ProgramData's ACL, which lets users create files in it",
                icacls.display(),
                dir.display()
            )
        })?;
    if !out.status.success() {
        return Err(format!(
            "{} {} failed ({}): {}; the folder keeps ProgramData's ACL, which lets users create files in it",
            icacls.display(),
            dir.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(dir.display().to_string())
}

/// Stops the service (waiting for it) and deletes it.
pub fn uninstall() -> Result<String, ManagerError> {
    let manager = ServiceManager::local_computer(None::<&str>, ServiceManagerAccess::CONNECT)
        .map_err(|e| refused("uninstall", e))?;
    let access = ServiceAccess::QUERY_STATUS | ServiceAccess::STOP | ServiceAccess::DELETE;
    let service = match manager.open_service(SERVICE_NAME, access) {
        Ok(s) => s,
        Err(e) if os_code(&e) == Some(1060) => {
            return Ok(format!("the Windows service {SERVICE_NAME} is not installed: nothing to remove"));
        }
        Err(e) => return Err(refused("uninstall", e)),
    };
    let mut text = String::new();
    let state = service.query_status().map_err(|e| refused("query", e))?.current_state;
    if state != ServiceState::Stopped {
        // 1062: it stopped in between.
        match service.stop() {
            Ok(_) => {}
            Err(e) if os_code(&e) == Some(1062) => {}
            Err(e) => return Err(refused("stop", e)),
        }
        match wait_for(&service, ServiceState::Stopped)? {
            ServiceState::Stopped => text.push_str("stopped and "),
            other => text.push_str(&format!("(still {other:?} after {} s) ", STATE_WAIT.as_secs())),
        }
    }
    match service.delete() {
        Ok(()) => {}
        Err(e) if os_code(&e) == Some(1072) => {}
        Err(e) => return Err(refused("uninstall", e)),
    }
    drop(service);
    text.push_str(&format!("removed the Windows service {SERVICE_NAME}"));
    let paths = super::paths::service_paths();
    if let Some(dir) = paths.config.parent() {
        text.push_str(&format!(" (kept its configuration, ignores and history in {})", dir.display()));
    }
    Ok(text)
}
