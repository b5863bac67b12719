//! History and forwarding for a composed system: opens the database and the forwarding
//! destinations, starts their threads on the engine handle, and reports when they stop.

use super::StartError;
use crate::engine::{Delivery, EngineHandle};
use crate::history::forward::{self, Forwarder, Target};
use crate::history::{HistoryStore, Limits, Recorder};
use crate::i18n::Locale;
use std::path::PathBuf;

/// Where to record, and where to forward alerts.
#[derive(Clone, Debug, Default)]
pub struct RecordSpec {
    /// The history database (`None`: no history).
    pub history: Option<PathBuf>,
    /// A database that cannot be used is an error (`true`: the user named it) rather than a
    /// warning after which watching goes on without history.
    pub history_required: bool,
    pub forward: Vec<Target>,
}

/// The recorder and forwarder of one engine.
pub struct Recording {
    recorder: Option<(Recorder, PathBuf)>,
    forwarder: Option<Forwarder>,
}

impl Recording {
    /// Starts recording on `handle` (before any packet is sent); warnings go to `notices`.
    pub fn start(
        spec: &RecordSpec,
        handle: &EngineHandle,
        live: bool,
        locale: Locale,
        notices: &mut Vec<String>,
    ) -> Result<Recording, StartError> {
        let delivery = if live { Delivery::Lossy } else { Delivery::Lossless };
        let mut sinks = Vec::new();
        for t in &spec.forward {
            sinks.push(forward::open(t).map_err(|e| StartError::Forward(e.to_string()))?);
        }
        let recorder = match &spec.history {
            None => None,
            Some(path) => match HistoryStore::open(path, Limits::default()) {
                Ok((store, note)) => {
                    notices.extend(note.map(|n| n.to_string()));
                    Some((Recorder::start(handle, store, delivery, locale), path.clone()))
                }
                Err(e) if spec.history_required => return Err(StartError::History(e.to_string())),
                Err(e) => {
                    notices.push(format!("{e}; history is not recorded"));
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
                tracing::info!(
                    "history: {} alert events, {} upload totals and {} ignores recorded in {}",
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
                tracing::warn!("{failed} alerts could not be forwarded");
            }
        }
    }
}
