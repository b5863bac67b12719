//! The one place that builds a running Leakwatch system, for every way of running it: the
//! service, `leakwatch run`, `leakwatch replay` and the tray app's embedded mode.
//!
//! A [`Spec`] says what to build: the engine's configuration, the permanent ignores file, the
//! organisation / country data (bundled, with the user's MaxMind overrides), reverse DNS, the
//! socket table and its connection tracer, live capture, the legacy TCP server, history and
//! forwarding. [`System::start`] builds it in the one right order (everything that subscribes to
//! the engine does so before the first packet), and collects what went wrong on the way as
//! [`System::notices`] for the front end to show. Front ends then only hold the system's
//! [`EngineHandle`] and read its parts' status.

mod recording;

pub use recording::{RecordSpec, Recording};

use crate::capture::live::{LiveCapture, LiveOptions};
use crate::engine::{Command, Engine, EngineHandle, Summary};
use crate::i18n::Locale;
use crate::ignores::IgnoreStore;
use crate::legacy::{LegacyOptions, LegacyServer};
use crate::naming::asn::AsnDb;
use crate::process::{NoSocketTable, SocketTable, SystemSocketTable};
use crate::settings::EngineConfig;
use std::path::PathBuf;
use std::sync::Arc;

/// Where the organisation / ASN / country data comes from.
#[derive(Clone, Debug, Default)]
pub struct AsnSpec {
    /// Load it at all.
    pub load: bool,
    /// Load it before the first packet (replays name destinations the same way every run) rather
    /// than in the background (live capture starts at once).
    pub before_start: bool,
    /// A MaxMind GeoLite2-ASN database that takes precedence over the bundled data.
    pub asn_mmdb: Option<PathBuf>,
    /// A MaxMind GeoLite2-Country database that takes precedence over the bundled data.
    pub country_mmdb: Option<PathBuf>,
}

impl AsnSpec {
    /// Loads the data; on failure says why (destinations are then not named by owner).
    pub fn load_now(&self) -> Result<Arc<AsnDb>, String> {
        AsnDb::load_default()
            .and_then(|db| db.with_overrides(self.asn_mmdb.as_deref(), self.country_mmdb.as_deref()))
            .map(Arc::new)
            .map_err(|e| format!("organisations and countries will be unknown: {e}"))
    }
}

/// What to build.
pub struct Spec {
    pub config: EngineConfig,
    /// Attribute traffic to programs with the system's socket table (live capture on this
    /// machine); off for captures from elsewhere.
    pub attribute: bool,
    /// The permanent ignores file (`None`: temporary ignores only).
    pub ignores: Option<PathBuf>,
    pub asn: AsnSpec,
    /// Ask DNS servers for the names of unnamed destinations (live capture only).
    pub reverse_dns: bool,
    /// Serve the legacy TCP protocol for old GUIs.
    pub legacy: Option<LegacyOptions>,
    pub record: RecordSpec,
    /// Live capture feeds the engine (`None`: the caller feeds it, e.g. from capture files).
    pub live: bool,
    /// Language of texts the system produces (history, forwarding, legacy alerts).
    pub locale: Locale,
}

/// Why a system could not be built.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("--forward: {0}")]
    Forward(String),
    #[error("{0}")]
    History(String),
    /// A FIFO, device or directory where a file must be: refused rather than run without the
    /// user's ignores (and then replaced by the first ignore saved).
    #[error("{0}")]
    NotAFile(String),
}

/// A running system.
pub struct System {
    engine: Engine,
    handle: EngineHandle,
    live: Option<LiveCapture>,
    legacy: Option<LegacyServer>,
    recording: Recording,
    /// Whether the kernel tells which program makes each connection (short-lived ones too), or
    /// why not.
    tracing: Result<(), String>,
    /// Problems met while building (a bad ignores file, no history, no legacy port…), in order.
    pub notices: Vec<String>,
}

impl System {
    /// Builds the system. Nothing is captured yet when `spec.live`: subscribe to the handle
    /// first, then call [`System::start_live`], so no event is missed.
    pub fn start(mut spec: Spec) -> Result<System, StartError> {
        let mut notices = Vec::new();
        let ignores = match spec.ignores.as_ref().map(|path| IgnoreStore::open(path.clone())) {
            None => None,
            Some(Ok((mut store, problem))) => {
                notices.extend(problem.map(|p| p.to_string()));
                // The user's own file is kept as it is, but an ignore in it that singles nothing
                // out is said out loud at every start.
                let file = store.path().display().to_string();
                for i in store.list(chrono::Utc::now()) {
                    if let Err(e) = spec.config.rules.check_not_over_broad(&i.filter.to_string()) {
                        notices.push(format!(
                            "{file}: ignore {} ({}): {e}",
                            i.id,
                            crate::text::safe(i.name().unwrap_or("no name"))
                        ));
                    }
                }
                Some(store)
            }
            Some(Err(e @ crate::ignores::IgnoreError::NotAFile { .. })) => {
                return Err(StartError::NotAFile(e.to_string()));
            }
            Some(Err(e)) => {
                notices.push(e.to_string());
                None
            }
        };
        if spec.asn.load && spec.asn.before_start {
            match spec.asn.load_now() {
                Ok(db) => spec.config.asn = Some(db),
                Err(e) => notices.push(e),
            }
        }
        // Live: edits of ignores.user.json by others are taken while running.
        spec.config.watch_ignores = spec.live;
        if spec.attribute && spec.config.system_resolvers.is_empty() {
            // This machine's traffic: its configured resolvers are the system's.
            spec.config.system_resolvers = crate::naming::system_resolvers();
        }
        let (sockets, tracing): (Box<dyn SocketTable>, _) = if spec.attribute {
            let mut table = SystemSocketTable::new();
            let tracing = table.start_connect_tracer().map_err(|e| e.to_string());
            (Box::new(table), tracing)
        } else {
            (Box::new(NoSocketTable), Err("not attributing programs (a capture from elsewhere)".to_string()))
        };
        let engine = Engine::start_full(spec.config, sockets, ignores);
        let handle = engine.handle();
        if spec.reverse_dns {
            match crate::naming::reverse::ReverseDns::from_system() {
                Ok(r) => handle.command(Command::SetReverseDns(Box::new(r))),
                Err(e) => notices.push(format!("no reverse DNS for unnamed destinations: {e}")),
            }
        }
        if spec.asn.load && !spec.asn.before_start {
            let (handle, asn) = (handle.clone(), spec.asn.clone());
            std::thread::spawn(move || match asn.load_now() {
                Ok(db) => handle.command(Command::SetAsnDb(db)),
                Err(e) => tracing::warn!("{e}"),
            });
        }
        let recording = match Recording::start(&spec.record, &handle, spec.live, spec.locale, &mut notices) {
            Ok(r) => r,
            Err(e) => {
                engine.finish();
                return Err(e);
            }
        };
        let legacy = spec.legacy.and_then(|opts| match LegacyServer::start(handle.clone(), opts) {
            Ok(server) => Some(server),
            Err(e) => {
                notices.push(format!("{e}; watching goes on without it"));
                None
            }
        });
        Ok(System { engine, handle, live: None, legacy, recording, tracing, notices })
    }

    /// Starts live capture (after the caller subscribed to what it needs); a capture already
    /// running is stopped first (the service's reload with other interfaces).
    pub fn start_live(&mut self, options: LiveOptions) -> &LiveCapture {
        if let Some(old) = self.live.take() {
            old.stop();
        }
        self.live.insert(LiveCapture::start(self.handle.clone(), options))
    }

    /// Stops the legacy server and starts it again with `options` (`None`: off).
    pub fn restart_legacy(&mut self, options: Option<LegacyOptions>) -> Result<(), String> {
        if let Some(old) = self.legacy.take() {
            old.stop();
        }
        if let Some(opts) = options {
            self.legacy = Some(LegacyServer::start(self.handle.clone(), opts).map_err(|e| e.to_string())?);
        }
        Ok(())
    }

    pub fn handle(&self) -> &EngineHandle {
        &self.handle
    }

    /// Live capture, once started.
    pub fn live(&self) -> Option<&LiveCapture> {
        self.live.as_ref()
    }

    /// The legacy server, when it runs.
    pub fn legacy(&self) -> Option<&LegacyServer> {
        self.legacy.as_ref()
    }

    /// Whether connection tracing runs, or why not.
    pub fn tracing(&self) -> &Result<(), String> {
        &self.tracing
    }

    /// Stops capture and the legacy server, ends the engine's input (open alerts end, flows
    /// close), waits for history and forwarding to write the rest, and returns the counters.
    /// `quiet`: do not say on stderr what was recorded.
    pub fn stop(mut self, quiet: bool) -> Summary {
        if let Some(live) = self.live.take() {
            live.stop();
        }
        if let Some(legacy) = self.legacy.take() {
            legacy.stop();
        }
        let summary = self.engine.finish();
        self.recording.finish(quiet);
        summary
    }
}
