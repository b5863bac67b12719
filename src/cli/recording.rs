//! History and forwarding for `run` and `replay`: opens the database and the `--forward`
//! destinations, starts their threads on the engine handle, and reports when they stop.

use super::{EXIT_BAD_FILE, EXIT_USAGE, RecordArgs};
use crate::engine::{Delivery, EngineHandle};
use crate::history::forward::{self, Forwarder};
use crate::history::{HistoryStore, Limits, Recorder};
use crate::i18n::Locale;
use std::path::PathBuf;

/// The recorder and forwarder of one engine.
pub struct Recording {
    recorder: Option<(Recorder, PathBuf)>,
    forwarder: Option<Forwarder>,
}

/// Which history file to use: `--history FILE`; else, for `run` (`by_default`), the user's
/// data directory unless `--no-history`.
fn history_path(args: &RecordArgs, by_default: bool) -> Option<PathBuf> {
    if args.no_history {
        return None;
    }
    if args.history.is_some() || !by_default {
        return args.history.clone();
    }
    let path = crate::history::default_path();
    if path.is_none() {
        eprintln!(
            "leakwatch: note: no data directory is known for this user: history is not recorded (give --history FILE)"
        );
    }
    path
}

impl Recording {
    /// Starts recording on `handle` (before any packet is sent). `Err` is the exit code after
    /// the error was printed: a file given on the command line that cannot be used is an
    /// error; the default history file failing is a warning and watching goes on without it.
    pub fn start(args: &RecordArgs, handle: &EngineHandle, live: bool, locale: Locale) -> Result<Recording, i32> {
        let delivery = if live { Delivery::Lossy } else { Delivery::Lossless };
        let mut sinks = Vec::new();
        for t in &args.forward {
            match forward::open(t) {
                Ok(s) => sinks.push(s),
                Err(e) => {
                    eprintln!("leakwatch: error: --forward: {e}");
                    return Err(EXIT_USAGE);
                }
            }
        }
        let recorder = match history_path(args, live) {
            None => None,
            Some(path) => match HistoryStore::open(&path, Limits::default()) {
                Ok((store, note)) => {
                    if let Some(n) = note {
                        eprintln!("leakwatch: warning: {n}");
                    }
                    Some((Recorder::start(handle, store, delivery, locale), path))
                }
                Err(e) if args.history.is_some() => {
                    eprintln!("leakwatch: error: {e}");
                    return Err(EXIT_BAD_FILE);
                }
                Err(e) => {
                    eprintln!("leakwatch: warning: {e}; history is not recorded");
                    None
                }
            },
        };
        let forwarder = (!sinks.is_empty()).then(|| Forwarder::start(handle, sinks, delivery, locale));
        Ok(Recording { recorder, forwarder })
    }

    /// Waits for the last writes (after the engine finished) and says what was recorded.
    pub fn finish(self, quiet: bool) {
        if let Some((r, path)) = self.recorder {
            let rep = r.finish();
            if !quiet {
                eprintln!(
                    "leakwatch: history: {} alert events, {} upload totals and {} ignores recorded in {}",
                    rep.alert_events,
                    rep.upload_rows,
                    rep.actions,
                    path.display()
                );
            }
        }
        if let Some(f) = self.forwarder {
            let failed = f.finish();
            if failed > 0 {
                eprintln!("leakwatch: warning: {failed} alerts could not be forwarded");
            }
        }
    }
}
