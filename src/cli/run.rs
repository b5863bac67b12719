//! `leakwatch run`: live capture on this machine's interfaces, printing alerts as they happen
//! (the same text or JSON lines as `replay`), and serving the legacy TCP protocol for old GUIs
//! (unless `--no-legacy`). Ctrl-C or SIGTERM stops cleanly (exit 0).

use super::output::{Style, alert_line, emit, flow_line};
use super::recording::Recording;
use super::{EXIT_NO_PERMISSION, EXIT_OK, RunArgs, engine_config, load_asn, open_user_ignores, use_color};
use crate::alert::{AlertEvent, AlertPhase};
use crate::capture::interfaces;
use crate::capture::live::{LiveCapture, LiveOptions, LiveStatus};
use crate::engine::{Delivery, Engine};
use crate::flows::FlowRecord;
use crate::i18n::{Locale, Messages};
use crate::legacy::{GuiLauncher, Launch, LegacyEvent, LegacyOptions, LegacyServer};
use crate::process::SystemSocketTable;
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
        eprintln!("leakwatch: warning: cannot handle Ctrl-C: {e}");
    }
}

/// The message for missing capture rights (exit code 4).
pub fn permission_hint() -> String {
    let exe = std::env::current_exe()
        .ok()
        .and_then(|p| p.canonicalize().ok())
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "/usr/local/bin/leakwatch".into());
    format!(
        "leakwatch needs permission to capture packets. Either run it as root, or give the binary the capture \
         capability once: sudo setcap cap_net_raw,cap_net_admin+eip {exe} (make install does this)"
    )
}

pub fn run(args: &RunArgs) -> i32 {
    let d = &args.detection;
    if args.gui.is_some() && args.no_legacy {
        eprintln!("leakwatch: warning: --gui with --no-legacy: the GUI will find no legacy protocol to talk to");
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
                    None => eprintln!("leakwatch: interface {name} does not exist (yet): waiting for it"),
                    Some(i) if !i.up => eprintln!("leakwatch: interface {name} is down: waiting for it"),
                    Some(_) => {}
                }
            }
        }
        Err(e) => eprintln!("leakwatch: warning: cannot list interfaces: {e}"),
    }
    let locale = d.locale.unwrap_or_else(Locale::from_system);
    let msgs = Messages::new(locale);
    let style = Style { color: use_color(&args.color) };

    install_signal_handlers();
    let ignores = open_user_ignores(d.no_user_ignores);
    let engine = Engine::start_full(config, Box::new(socket_table()), ignores);
    let handle = engine.handle();
    if !args.no_reverse_dns {
        match crate::naming::reverse::ReverseDns::from_system() {
            Ok(r) => handle.command(crate::engine::Command::SetReverseDns(Box::new(r))),
            Err(e) => eprintln!("leakwatch: note: no reverse DNS for unnamed destinations: {e}"),
        }
    }
    // The organisation / country data loads in the background: capture starts at once.
    {
        let (handle, d) = (handle.clone(), d.clone());
        std::thread::spawn(move || {
            if let Some(db) = load_asn(&d) {
                handle.command(crate::engine::Command::SetAsnDb(db));
            }
        });
    }
    let alerts = handle.subscribe_alerts(Delivery::Lossless);
    let recording = match Recording::start(&args.record, &handle, true, locale) {
        Ok(r) => r,
        Err(code) => {
            engine.finish();
            return code;
        }
    };
    let legacy = start_legacy(args, &handle, locale);
    let legacy_events = legacy.as_ref().map_or_else(crossbeam_channel::never, LegacyServer::events);
    let flows = args.flows.then(|| handle.subscribe_flows());
    // Per-second upload figures: the status line's share of bytes attributed to a program.
    let stats = handle.subscribe_stats();
    let (mut counted, mut attributed) = (0u64, 0u64);
    let live = LiveCapture::start(
        handle,
        LiveOptions { interfaces: args.interfaces.clone(), include_loopback: args.loopback, follow_local_nets },
    );
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
                        eprintln!("leakwatch: error: {}", permission_hint());
                        code = EXIT_NO_PERMISSION;
                        break;
                    }
                    _ => {}
                }
                printer.clear_status(tty);
                eprintln!("leakwatch: {}", status_text(&s));
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
            let legacy_status = match &legacy {
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
                live.dropped_batches(),
                counters.kernel_dropped.load(Ordering::Relaxed),
                share,
                legacy_status
            );
            printer.status_shown = true;
        }
    }
    printer.clear_status(tty);
    let dropped = live.dropped_batches();
    let kernel = counters.kernel_dropped.load(Ordering::Relaxed);
    live.stop();
    if let Some(l) = legacy {
        l.stop();
    }
    let summary = engine.finish();
    recording.finish(false);
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
    eprintln!(
        "leakwatch: stopped: {} TCP/UDP packets, {} other, {} unparsable, {} flows, {} alerts, {} dropped batches, {} kernel drops",
        summary.packets, summary.other, summary.malformed, summary.flows, summary.alerts, dropped, kernel
    );
    EXIT_OK
}

/// Starts the legacy protocol server unless `--no-legacy`; says where it listens, or why it
/// does not (the engine runs on either way).
fn start_legacy(args: &RunArgs, handle: &crate::engine::EngineHandle, locale: Locale) -> Option<LegacyServer> {
    if args.no_legacy {
        return None;
    }
    let opts = LegacyOptions { ports: args.legacy_ports.clone(), locale, ..LegacyOptions::default() };
    match LegacyServer::start(handle.clone(), opts) {
        Ok(server) => {
            let addrs: Vec<String> = server.addrs().iter().map(ToString::to_string).collect();
            eprintln!("leakwatch: legacy protocol for old GUIs on port {} ({})", server.port(), addrs.join(" and "));
            Some(server)
        }
        Err(e) => {
            eprintln!("leakwatch: warning: {e}; watching goes on without it");
            None
        }
    }
}

/// Prints what happened on the legacy socket (ignores added by local programs must be seen).
fn legacy_event_line(e: &LegacyEvent) {
    eprintln!("leakwatch: {e}");
}

/// Starts the `--gui` program for a new alert unless it runs; reports starts and failures.
fn launch_gui(g: &mut GuiLauncher, printer: &mut Printer<'_>, tty: bool) {
    match g.on_alert() {
        Launch::Started(pid) => {
            printer.clear_status(tty);
            eprintln!("leakwatch: started the GUI {} (pid {pid})", g.path().display());
        }
        Launch::Failed(reason) => {
            printer.clear_status(tty);
            eprintln!("leakwatch: warning: {reason}; trying again at an alert in a minute or later");
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

fn status_text(s: &LiveStatus) -> String {
    match s {
        LiveStatus::Started { iface, link } => format!("capturing on {iface} ({link})"),
        LiveStatus::Stopped { iface, reason } => format!("stopped capturing on {iface}: {reason}"),
        LiveStatus::Error { iface, message, .. } => format!("error: {iface}: {message}"),
        LiveStatus::Retry { iface, after } => format!("{iface}: trying again in {} s", after.as_secs()),
        LiveStatus::Filter { iface, filter } => format!("{iface}: addresses changed, filter now {filter}"),
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

/// The live socket table, with kernel tracing of new connections when it can start (it catches
/// programs that exit at once); says on stderr which one is in use.
pub fn socket_table() -> SystemSocketTable {
    let mut table = SystemSocketTable::new();
    match table.start_connect_tracer() {
        Ok(()) => eprintln!("leakwatch: programs are told by the kernel as they connect (short-lived ones too)"),
        Err(e) => eprintln!(
            "leakwatch: note: programs that exit within milliseconds may show as unknown: connection tracing is off: {e}"
        ),
    }
    table
}
