//! `leakwatch run`: live capture on this machine's interfaces, printing alerts as they happen
//! (the same text or JSON lines as `replay`), and serving the legacy TCP protocol for old GUIs
//! (unless `--no-legacy`). Ctrl-C or SIGTERM stops cleanly (exit 0).

use super::output::{Style, alert_line, emit, flow_line};
use super::{EXIT_NO_PERMISSION, EXIT_OK, RunArgs, engine_config, use_color};
use crate::alert::{AlertEvent, AlertPhase};
use crate::capture::interfaces;
use crate::capture::live::{LiveOptions, LiveStatus};
use crate::compose::System;
use crate::engine::Delivery;
use crate::flows::FlowRecord;
use crate::i18n::{Locale, Messages};
use crate::legacy::{GuiLauncher, Launch, LegacyEvent, LegacyServer};
use crossbeam_channel::select;
use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Set by Ctrl-C (SIGINT) and SIGTERM.
static STOP: AtomicBool = AtomicBool::new(false);

/// Ctrl-C (SIGINT), SIGTERM and SIGHUP stop cleanly (ctrlc's `termination` feature).
fn install_signal_handlers() {
    if let Err(e) = ctrlc::set_handler(|| STOP.store(true, Ordering::SeqCst)) {
        tracing::warn!("cannot handle Ctrl-C: {e}");
    }
}

/// The message for missing capture rights (exit code 4). It never suggests capabilities on a
/// binary users run: the service is the one privileged process.
pub fn permission_hint() -> String {
    "leakwatch needs permission to capture packets. Run it as root (sudo leakwatch run), or let the \
     Leakwatch service watch this machine and use it without privileges: `sudo systemctl start leakwatch`, \
     then `leakwatch watch` (as root or a member of group leakwatch)"
        .to_string()
}

pub fn run(args: &RunArgs) -> i32 {
    let d = &args.detection;
    if args.gui.is_some() && args.no_legacy {
        tracing::warn!("--gui with --no-legacy: the GUI will find no legacy protocol to talk to");
    }
    let mut gui = args.gui.as_ref().map(GuiLauncher::new);
    let mut config = match engine_config(d) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let follow_local_nets = d.local_net.is_empty();
    match interfaces::list() {
        Ok(all) => {
            if follow_local_nets {
                config.local_nets = interfaces::own_nets(&all, args.loopback);
            }
            for name in &args.interfaces {
                match all.iter().find(|i| &i.name == name) {
                    None => tracing::info!("interface {name} does not exist (yet): waiting for it"),
                    Some(i) if !i.up => tracing::info!("interface {name} is down: waiting for it"),
                    Some(_) => {}
                }
            }
        }
        Err(e) => tracing::warn!("cannot list interfaces: {e}"),
    }
    let locale = d.locale.unwrap_or_else(Locale::from_system);
    let msgs = Messages::new(locale);
    let style = Style { color: use_color(&args.color) };

    install_signal_handlers();
    let mut system = match System::start(super::system_spec(args, config, locale)) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("{e}");
            return super::start_error_code(&e);
        }
    };
    match system.tracing() {
        Ok(()) => tracing::info!("programs are told by the kernel as they connect (short-lived ones too)"),
        Err(e) => tracing::info!(
            "note: programs that exit within milliseconds may show as unknown: connection tracing is off: {e}"
        ),
    }
    for n in &system.notices {
        tracing::warn!("{n}");
    }
    if let Some(server) = system.legacy() {
        let addrs: Vec<String> = server.addrs().iter().map(ToString::to_string).collect();
        tracing::info!("legacy protocol for old GUIs on port {} ({})", server.port(), addrs.join(" and "));
    }
    let handle = system.handle().clone();
    let alerts = handle.subscribe_alerts(Delivery::Lossless);
    let legacy_events = system.legacy().map_or_else(crossbeam_channel::never, LegacyServer::events);
    let flows = args.flows.then(|| handle.subscribe_flows());
    // Per-second upload figures: the status line's share of bytes attributed to a program.
    let stats = handle.subscribe_stats();
    let (mut counted, mut attributed) = (0u64, 0u64);
    let live = system.start_live(LiveOptions {
        interfaces: args.interfaces.clone(),
        include_loopback: args.loopback,
        follow_local_nets,
    });
    let status = live.status();
    let counters = live.counters();

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let tty = std::io::stderr().is_terminal();
    let mut printer = Printer { json: args.json, style, msgs: &msgs, notified: HashMap::new(), status_shown: false };
    let mut started_any = false;
    let mut code = EXIT_OK;
    let mut last_status = Instant::now();
    let mut last_packets = 0u64;
    loop {
        if STOP.load(Ordering::SeqCst) {
            break;
        }
        select! {
            recv(alerts) -> e => match e {
                Ok(e) => {
                    if e.phase == AlertPhase::New
                        && let Some(g) = gui.as_mut()
                    {
                        launch_gui(g, &mut printer, tty);
                    }
                    printer.alert(&mut out, &e, tty)
                }
                Err(_) => break,
            },
            recv(legacy_events) -> e => if let Ok(e) = e {
                printer.clear_status(tty);
                legacy_event_line(&e);
            },
            recv(status) -> s => if let Ok(s) = s {
                match &s {
                    LiveStatus::Started { .. } => started_any = true,
                    LiveStatus::Error { permission: true, .. } if !started_any => {
                        printer.clear_status(tty);
                        tracing::error!("{}", permission_hint());
                        code = EXIT_NO_PERMISSION;
                        break;
                    }
                    _ => {}
                }
                printer.clear_status(tty);
                tracing::info!("{s}");
            },
            recv(stats) -> s => if let Ok(s) = s {
                for r in &s.rates {
                    counted += r.bytes;
                    attributed += if r.process.is_some() { r.bytes } else { 0 };
                }
            },
            default(Duration::from_millis(100)) => {}
        }
        if tty && last_status.elapsed() >= Duration::from_secs(1) {
            let secs = last_status.elapsed().as_secs_f64();
            last_status = Instant::now();
            let packets = counters.packets.load(Ordering::Relaxed);
            let rate = (packets - last_packets) as f64 / secs;
            last_packets = packets;
            let ifaces = counters.active_interfaces();
            let share = if counted == 0 {
                "-".to_string()
            } else {
                format!("{:.0} %", attributed as f64 * 100.0 / counted as f64)
            };
            let legacy_status = match system.legacy() {
                Some(l) => {
                    let st = l.status();
                    format!(", legacy port {} ({} clients)", st.port, st.connections)
                }
                None => String::new(),
            };
            eprint!(
                "\r\x1b[K[{}] {:.0} packets/s, {} dropped batches, {} kernel drops, {} of uploaded bytes attributed{}",
                if ifaces.is_empty() { "no interface".to_string() } else { ifaces.join(", ") },
                rate,
                system.live().map_or(0, |l| l.dropped_batches()),
                counters.kernel_dropped.load(Ordering::Relaxed),
                share,
                legacy_status
            );
            printer.status_shown = true;
        }
    }
    printer.clear_status(tty);
    let dropped = system.live().map_or(0, |l| l.dropped_batches());
    let kernel = counters.kernel_dropped.load(Ordering::Relaxed);
    let summary = system.stop(false);
    for e in alerts.try_iter() {
        printer.alert(&mut out, &e, false);
    }
    if code != EXIT_OK {
        return code;
    }
    if let Some(flows) = flows {
        let mut all: Vec<FlowRecord> = flows.try_iter().collect();
        all.sort_by_key(|x| (x.first, x.local, x.remote));
        for f in &all {
            emit(&mut out, &if args.json { flow_json(f) } else { flow_text(f) });
        }
    }
    let _ = out.flush();
    tracing::info!(
        "stopped: {} IP packets, {} other, {} unparsable, {} flows, {} alerts, {} dropped batches, {} kernel drops",
        summary.packets,
        summary.other,
        summary.malformed,
        summary.flows,
        summary.alerts,
        dropped,
        kernel
    );
    EXIT_OK
}

/// Prints what happened on the legacy socket (ignores added by local programs must be seen).
fn legacy_event_line(e: &LegacyEvent) {
    tracing::info!("{e}");
}

/// Starts the `--gui` program for a new alert unless it runs; reports starts and failures.
fn launch_gui(g: &mut GuiLauncher, printer: &mut Printer<'_>, tty: bool) {
    match g.on_alert() {
        Launch::Started(pid) => {
            printer.clear_status(tty);
            tracing::info!("started the GUI {} (pid {pid})", g.path().display());
        }
        Launch::Failed(reason) => {
            printer.clear_status(tty);
            tracing::warn!("{reason}; trying again at an alert in a minute or later");
        }
        Launch::Running | Launch::Waiting => {}
    }
}

struct Printer<'a> {
    json: bool,
    style: Style,
    msgs: &'a Messages,
    notified: HashMap<u64, u64>,
    status_shown: bool,
}

impl Printer<'_> {
    fn clear_status(&mut self, tty: bool) {
        if tty && self.status_shown {
            eprint!("\r\x1b[K");
            self.status_shown = false;
        }
    }

    fn alert(&mut self, out: &mut impl Write, e: &AlertEvent, tty: bool) {
        if e.phase == AlertPhase::New {
            self.notified.insert(e.alert.id, e.alert.bytes);
        }
        let line = if self.json {
            (e.phase == AlertPhase::New).then(|| e.alert.to_json(self.msgs).to_string())
        } else {
            alert_line(e, self.style, self.notified.get(&e.alert.id).copied(), self.msgs)
        };
        if let Some(line) = line {
            self.clear_status(tty);
            emit(out, &line);
            let _ = out.flush();
        }
    }
}

fn flow_json(f: &FlowRecord) -> String {
    let mut v = f.to_json();
    v["process"] = serde_json::to_value(f.process.as_deref()).unwrap_or(serde_json::Value::Null);
    v.to_string()
}

fn flow_text(f: &FlowRecord) -> String {
    match &f.process {
        Some(p) => format!("{}  process {} ({})", flow_line(f), p.name, p.pid),
        None => flow_line(f),
    }
}
