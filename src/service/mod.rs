//! `leakwatch service`: the one privileged process. It builds the whole system once (capture,
//! attribution, naming, detection, ignores, history, forwarding, the legacy TCP server; see
//! [`crate::compose`]), serves the local API ([`crate::api`]) to unprivileged clients, and keeps
//! the one truth every client sees: the recent alerts with their ignored state, the mode, pause,
//! and every change with who made it, published to all clients as events.
//!
//! Settings come from one file ([`config`]); SIGHUP or the API's `reload` read it again and apply
//! what can change while running (mode, thresholds, cool-down, patterns and filters); SIGTERM or
//! SIGINT stop cleanly. Messages go to stderr, which systemd's journal keeps.

pub mod config;
mod state;

use crate::api::server::{Access, Server};
use crate::capture::live::LiveOptions;
use crate::compose::{AsnSpec, RecordSpec, Spec, System};
use crate::engine::{Command, Delivery, EngineHandle};
use crate::judge::Rules;
use crate::os::service::ManagerHooks;
use crate::settings::EngineConfig;
use config::ServiceConfig;
use state::{Backend, Shared};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Exit code: the configuration cannot be used.
pub const EXIT_CONFIG: i32 = 2;
/// Exit code: the API socket cannot be served (another service runs, or no rights).
pub const EXIT_SOCKET: i32 = 5;

/// Loads patterns and filters for the configuration's mode.
fn load_rules(c: &ServiceConfig) -> Result<Rules, String> {
    let args = crate::cli::RulesArgs { patterns: c.patterns.clone(), filters: c.filters.clone() };
    let rules = args.load(c.mode).map_err(|e| e.to_string())?;
    for w in rules.threats().warnings() {
        tracing::warn!("{w}");
    }
    Ok(rules)
}

/// Runs the service until SIGTERM / SIGINT (Ctrl-C on Windows); returns the exit code.
pub fn run(config_path: &Path) -> i32 {
    run_with(config_path, &ManagerHooks::default())
}

/// [`run`] under a system's service manager: `hooks` also stop it (Windows's Stop and Shutdown
/// controls) and hear when it serves (the SCM's Running).
pub fn run_with(config_path: &Path, hooks: &ManagerHooks) -> i32 {
    let config = match ServiceConfig::load(config_path) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("{e}");
            return EXIT_CONFIG;
        }
    };
    let rules = match load_rules(&config) {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("{}: {e}", config_path.display());
            return EXIT_CONFIG;
        }
    };
    let signals = match crate::os::Signals::install() {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("cannot handle signals: {e}");
            return 1;
        }
    };
    let mut engine_config = EngineConfig {
        thresholds: config.thresholds,
        realert_after: config.realert_after,
        local_nets: crate::direction::LocalNets::new(config.local_nets.clone()),
        rules,
        ..EngineConfig::default()
    };
    if config.local_nets.is_empty()
        && let Ok(all) = crate::capture::interfaces::list()
    {
        engine_config.local_nets = crate::capture::interfaces::own_nets(&all, config.loopback);
    }
    let spec = Spec {
        config: engine_config,
        attribute: true,
        ignores: Some(config.ignores.clone()),
        asn: AsnSpec {
            load: true,
            before_start: false,
            asn_mmdb: config.asn_mmdb.clone(),
            country_mmdb: config.country_mmdb.clone(),
        },
        reverse_dns: config.reverse_dns,
        legacy: config.legacy.then(|| legacy_options(&config)),
        record: RecordSpec {
            history: config.history.clone(),
            history_required: false,
            forward: config.forward.clone(),
        },
        live: true,
        locale: config.locale,
    };
    let mut system = match System::start(spec) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("{}: {e}", config_path.display());
            return EXIT_CONFIG;
        }
    };
    for n in &system.notices {
        tracing::warn!("{n}");
    }
    match system.tracing() {
        Ok(()) => tracing::info!("programs are told by the kernel as they connect (short-lived ones too)"),
        Err(e) => {
            tracing::info!("note: connection tracing is off ({e}): programs that exit at once may show as unknown")
        }
    }
    if let Some(l) = system.legacy() {
        let addrs: Vec<String> = l.addrs().iter().map(ToString::to_string).collect();
        tracing::info!("legacy protocol for old GUIs on port {} ({})", l.port(), addrs.join(" and "));
    }
    let handle = system.handle().clone();
    let alerts = handle.subscribe_alerts(Delivery::Lossy);
    let changes = handle.subscribe_changes();
    let stats = handle.subscribe_stats();
    let shared = Arc::new(Shared::new(
        config.clone(),
        config_path.to_path_buf(),
        system.notices.clone(),
        system.tracing().clone().err(),
    ));
    let access = Access { group: config.group.clone(), gid: crate::os::group_id(&config.group) };
    if access.gid.is_none() {
        tracing::warn!(
            "the group {} does not exist: only root can use the service (sudo groupadd --system {})",
            config.group,
            config.group
        );
    }
    let backend = Arc::new(Backend { handle: handle.clone(), shared: shared.clone() });
    // `socket = ""`: no local API (the legacy protocol and forwarding still report alerts).
    let server = if config.socket.as_os_str().is_empty() {
        tracing::warn!(
            "no local API (socket = \"\" in {}): the app and `leakwatch status` cannot reach this service",
            config_path.display()
        );
        None
    } else {
        match Server::start(&config.socket, access, backend) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::error!("{e}");
                system.stop(true);
                return EXIT_SOCKET;
            }
        }
    };
    let hub = server.as_ref().map_or_else(|| Arc::new(crate::api::server::Hub::default()), Server::hub);
    let mut live_status = system.start_live(live_options(&config)).status();
    let mut legacy_events = system.legacy().map_or_else(crossbeam_channel::never, |l| l.events());
    match &server {
        Some(s) => tracing::info!(
            "service started (pid {}); clients connect to {} (root and group {})",
            std::process::id(),
            s.path().display(),
            config.group
        ),
        None => tracing::info!("service started (pid {}); no local API", std::process::id()),
    }
    let pump = state::start_pump(shared.clone(), hub.clone(), alerts, changes, stats);
    hooks.running();

    let mut last_status = Instant::now();
    while !signals.stop_requested() && !hooks.stop_requested() {
        std::thread::sleep(Duration::from_millis(50));
        for s in live_status.try_iter() {
            tracing::info!("{s}");
        }
        for e in legacy_events.try_iter() {
            tracing::info!("{e}");
        }
        if signals.take_reload() || shared.reload_requested.swap(false, Ordering::SeqCst) {
            let old = shared.config();
            let result = reload(&shared, &handle).map(|mut text| {
                let new = shared.config();
                if new.interfaces != old.interfaces || new.loopback != old.loopback || new.local_nets != old.local_nets
                {
                    live_status = system.start_live(live_options(&new)).status();
                    text.push_str("; capture restarted");
                }
                if new.legacy != old.legacy || new.legacy_ports != old.legacy_ports {
                    let opts = new.legacy.then(|| legacy_options(&new));
                    match system.restart_legacy(opts) {
                        Ok(()) => {
                            text.push_str(if new.legacy { "; legacy server restarted" } else { "; legacy server off" })
                        }
                        Err(e) => text.push_str(&format!("; the legacy server could not start: {e}")),
                    }
                    legacy_events = system.legacy().map_or_else(crossbeam_channel::never, |l| l.events());
                }
                text
            });
            match &result {
                Ok(text) => tracing::info!("{text}"),
                Err(e) => tracing::error!("configuration not reloaded: {e}"),
            }
            if let Ok(mut r) = shared.reload_result.lock() {
                *r = Some(result);
            }
            shared.reload_done.notify_all();
        }
        if last_status.elapsed() >= Duration::from_secs(1) {
            last_status = Instant::now();
            let status = status_figures(&system, hub.clients());
            shared.set_figures(status);
            hub.publish("status", shared.status_json());
        }
    }
    tracing::info!("stopping ({})", if hooks.stop_requested() { "asked by the service manager" } else { "signal" });
    if let Some(server) = server {
        server.stop();
    }
    let summary = system.stop(false);
    drop(pump);
    tracing::info!(
        "stopped: {} IP packets, {} flows, {} alerts, {} dropped batches",
        summary.packets,
        summary.flows,
        summary.alerts,
        summary.dropped_batches
    );
    0
}

/// What to capture, from the configuration.
fn live_options(c: &ServiceConfig) -> LiveOptions {
    LiveOptions {
        interfaces: c.interfaces.clone(),
        include_loopback: c.loopback,
        follow_local_nets: c.local_nets.is_empty(),
    }
}

fn legacy_options(c: &ServiceConfig) -> crate::legacy::LegacyOptions {
    crate::legacy::LegacyOptions {
        ports: c.legacy_ports.clone(),
        locale: c.locale,
        ..crate::legacy::LegacyOptions::default()
    }
}

/// Live figures for `status`.
fn status_figures(system: &System, clients: usize) -> state::Figures {
    let legacy = system.legacy().map(|l| l.status());
    let counters = system.live().map(|l| l.counters()).unwrap_or_default();
    state::Figures {
        interfaces: counters.active_interfaces(),
        packets: counters.packets.load(Ordering::Relaxed),
        kernel_dropped: counters.kernel_dropped.load(Ordering::Relaxed),
        foreign_frames: counters.foreign_frames.load(Ordering::Relaxed),
        dropped_batches: system.live().map_or(0, |l| l.dropped_batches()),
        legacy_port: legacy.as_ref().map(|l| l.port),
        legacy_clients: legacy.as_ref().map_or(0, |l| l.connections),
        api_clients: clients,
    }
}

/// Reads the configuration again and applies what can change while running; says what changed
/// and what needs a restart.
fn reload(shared: &Shared, handle: &EngineHandle) -> Result<String, String> {
    let path: PathBuf = shared.config_path.clone();
    let new = ServiceConfig::load(&path).map_err(|e| e.to_string())?;
    let rules = load_rules(&new).map_err(|e| format!("{}: {e}", path.display()))?;
    let old = shared.config();
    let by = "SIGHUP or reload";
    let mut applied = Vec::new();
    handle.command_by(Command::SetRules(Box::new(rules)), by);
    if new.mode != old.mode {
        handle.command_by(Command::SetMode(new.mode), by);
        applied.push(format!("mode {}", new.mode));
    }
    if new.thresholds != old.thresholds {
        handle.command_by(Command::SetThresholds(new.thresholds), by);
        applied.push("thresholds".to_string());
    }
    if new.realert_after != old.realert_after {
        handle.command_by(Command::SetRealertAfter(new.realert_after), by);
        applied.push("realert_after".to_string());
    }
    if new.local_nets != old.local_nets && !new.local_nets.is_empty() {
        handle.command_by(Command::SetLocalNets(crate::direction::LocalNets::new(new.local_nets.clone())), by);
    }
    let restart: Vec<&str> = [
        ("forward", new.forward != old.forward),
        ("history", new.history != old.history),
        ("ignores", new.ignores != old.ignores),
        ("socket", new.socket != old.socket),
        ("group", new.group != old.group),
        ("locale", new.locale != old.locale),
        ("reverse_dns", new.reverse_dns != old.reverse_dns),
        ("asn_mmdb/country_mmdb", new.asn_mmdb != old.asn_mmdb || new.country_mmdb != old.country_mmdb),
    ]
    .into_iter()
    .filter(|(_, changed)| *changed)
    .map(|(k, _)| k)
    .collect();
    let mut keep = new.clone();
    // What needs a restart stays as it runs until then (capture and the legacy server are
    // restarted by the caller).
    keep.socket = old.socket.clone();
    keep.group = old.group.clone();
    keep.ignores = old.ignores.clone();
    keep.history = old.history.clone();
    shared.set_config(keep);
    let mut text = format!(
        "configuration reloaded from {}: patterns and filters{}",
        path.display(),
        applied.iter().map(|a| format!(", {a}")).collect::<String>()
    );
    if !restart.is_empty() {
        text.push_str(&format!(
            "; {} change(s) only at restart ({})",
            restart.join(", "),
            crate::os::service::restart_command()
        ));
    }
    Ok(text)
}

/// Waits for the main loop to reload (the API's `reload`), at most `timeout`.
pub(crate) fn request_reload(shared: &Shared, timeout: Duration) -> Result<String, String> {
    let guard = shared.reload_result.lock().map_err(|_| "the service is stopping".to_string())?;
    let mut guard = guard;
    *guard = None;
    shared.reload_requested.store(true, Ordering::SeqCst);
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(r) = guard.take() {
            return r;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err("the reload did not finish in time".into());
        }
        guard = shared.reload_done.wait_timeout(guard, left).map_err(|_| "the service is stopping".to_string())?.0;
    }
}

/// Serialises reloads asked through the API.
pub(crate) static RELOAD_LOCK: Mutex<()> = Mutex::new(());
