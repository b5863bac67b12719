//! `leakwatch replay FILE…`: offline analysis of captures at full speed, in packet time.
//! Each file is analysed on its own (fresh engine): captures from different times and places
//! do not share flows or alerts.

use super::output::{Style, alert_json, alert_line, emit, flow_json, flow_line};
use super::{EXIT_BAD_FILE, EXIT_OK, ReplayArgs, engine_config, use_color};
use crate::alert::AlertPhase;
use crate::capture::file::{FileError, spawn_reader};
use crate::compose::{AsnSpec, Spec, System};
use crate::engine::Delivery;
use crate::i18n::{Locale, Messages};
use crate::ignores::IgnoreStore;
use crate::settings::EngineConfig;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::Path;

/// Batches queued for the engine (the reader waits when it is ahead): enough to keep both
/// threads busy; the live default (512) would hold half a million packets and their names, some
/// 60 MB under a flood of DNS answers, for nothing.
const REPLAY_QUEUE: usize = 64;

/// Files larger than this get a progress bar on stderr.
const PROGRESS_MIN_BYTES: u64 = 10 * 1024 * 1024;

pub fn run(args: &ReplayArgs) -> i32 {
    let d = &args.detection;
    let mut config = match engine_config(d) {
        Ok(c) => c,
        Err(code) => return code,
    };
    // Loaded once, before the first packet, so replays name destinations the same way every run.
    match d.asn_spec(true).load_now() {
        Ok(db) => config.asn = Some(db),
        Err(e) => tracing::warn!("{e}"),
    }
    let locale = d.locale.unwrap_or_else(Locale::from_system);
    let msgs = Messages::new(locale);
    let color = use_color(&args.color);
    let style = Style { color };
    let mut code = EXIT_OK;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for (i, path) in args.files.iter().enumerate() {
        if args.files.len() > 1 && !args.json {
            if i > 0 {
                emit(&mut out, "");
            }
            emit(&mut out, &format!("== {} ==", path.display()));
        }
        let result = match replay_one(path, args, &config, style, (&msgs, locale), &mut out) {
            Ok(r) => r,
            Err(setup_code) => return setup_code,
        };
        if let Err(e) = result {
            let _ = out.flush();
            let level = if matches!(e, FileError::Damaged { .. }) { "warning" } else { "error" };
            tracing::info!("{level}: {e}");
            code = EXIT_BAD_FILE;
        }
    }
    code
}

fn replay_one(
    path: &Path,
    args: &ReplayArgs,
    config: &EngineConfig,
    style: Style,
    (msgs, locale): (&Messages, Locale),
    out: &mut impl Write,
) -> Result<Result<(), FileError>, i32> {
    let name = path.display().to_string();
    let spec = Spec {
        config: EngineConfig { input_queue: REPLAY_QUEUE, ..config.clone() },
        attribute: false,
        ignores: if args.detection.no_user_ignores { None } else { IgnoreStore::default_path() },
        // Loaded once for all files (in `run`).
        asn: AsnSpec::default(),
        reverse_dns: false,
        legacy: None,
        record: args.record.spec(false),
        live: false,
        locale,
    };
    let system = match System::start(spec) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("{e}");
            return Err(super::start_error_code(&e));
        }
    };
    for n in &system.notices {
        tracing::warn!("{n}");
    }
    let handle = system.handle().clone();
    let alerts = handle.subscribe_alerts(Delivery::Lossless);
    let flows = args.flows.then(|| handle.subscribe_flows());
    let bar = progress_bar(path, args.no_progress);
    let progress = bar.clone().map(|b| Box::new(move |n: u64| b.set_position(n)) as Box<dyn FnMut(u64) + Send>);
    let reader = spawn_reader(path, handle, progress);
    // The system finishes once the reader is done; the alerts end with it. (Finishing it once,
    // here: a second finish could wait for ever on an engine that has already stopped.)
    let finisher = std::thread::spawn(move || {
        let result = reader.join().unwrap_or_else(|_| Ok(Default::default()));
        let summary = system.stop(false);
        (result, summary)
    });
    let mut notified: HashMap<u64, u64> = HashMap::new();
    for e in alerts.iter() {
        if args.flows {
            continue;
        }
        if e.phase == AlertPhase::New {
            notified.insert(e.alert.id, e.alert.bytes);
        }
        if args.json {
            if e.phase == AlertPhase::New {
                emit(out, &alert_json(&e, &name, msgs));
            }
        } else if let Some(line) = alert_line(&e, style, notified.get(&e.alert.id).copied(), msgs) {
            if let Some(b) = &bar {
                b.suspend(|| emit(out, &line));
            } else {
                emit(out, &line);
            }
        }
    }
    let (result, summary) = finisher.join().expect("the replay finisher thread");
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if let Some(flows) = flows {
        let mut all: Vec<_> = flows.iter().collect();
        all.sort_by_key(|x| (x.first, x.local, x.remote));
        for f in &all {
            emit(out, &if args.json { flow_json(f, &name) } else { flow_line(f) });
        }
    }
    let _ = out.flush();
    // A file that could not be read at all gets its error only, not a row of zeros.
    let opened = !matches!(result, Err(ref e) if !matches!(e, FileError::Damaged { .. }));
    if opened {
        tracing::info!(
            "{name}: {} frames, {} IP packets, {} other, {} unparsable, {} flows, {} alerts",
            summary.packets + summary.other + summary.malformed,
            summary.packets,
            summary.other,
            summary.malformed,
            summary.flows,
            summary.alerts
        );
        let t = &summary.tables;
        if t.evicted_any() {
            tracing::info!(
                "{name}: tables full: evicted {} flows (capacity {}), {} tracks (capacity {}), \
                 {} names (capacity {})",
                t.flows.evicted,
                t.flows.capacity,
                t.tracks.evicted,
                t.tracks.capacity,
                t.names.evicted,
                t.names.capacity
            );
        }
    }
    Ok(result.map(|_| ()))
}

fn progress_bar(path: &Path, disabled: bool) -> Option<ProgressBar> {
    let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if disabled || len < PROGRESS_MIN_BYTES || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
    Some(bar)
}
