//! The app's core, free of Tauri: picks the backend (the service's API by default; an embedded
//! engine for `--replay` and `--embedded`), runs the one owner thread that holds the app's
//! state (`crate::state`), and implements the contract's commands and the tray's actions on
//! top. The Tauri layer only wires a [`Sink`] and the commands.
//!
//! Every command either asks the backend (which may block on the service for a moment) from
//! the caller's thread, or hands a job to the owner thread and waits for its answer; the owner
//! never waits for anyone, so nothing can deadlock on it.

use crate::backend::embedded::Embedded;
use crate::backend::remote::Remote;
use crate::backend::{Backend, Feed, HistorySource};
use crate::menu::{MenuAction, Pause, TrayState};
use crate::notify::{NoteAction, NoteEvent, Notifier};
use crate::settings::{Settings, SettingsFile};
use crate::state::State;
use crate::views::{EngineStatus, IgnoreView};
use chrono::{DateTime, Utc};
use crossbeam_channel::{Receiver, Sender, select};
use leakwatch::i18n::Messages;
use leakwatch::judge::Mode;
use serde_json::Value;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Where the events go (the Tauri app, or a recorder in tests).
pub trait Sink: Send + Sync + 'static {
    /// Emits `event` with `payload` to the window (if any).
    fn emit(&self, event: &str, payload: Value);
    /// The tray's state changed (icon, menu).
    fn tray_changed(&self) {}
    /// Opens the window on alert `id` (notification body or tray menu clicked).
    fn show_alert(&self, _id: u64) {}
    /// Opens the window on a program (a first-time sender's notification clicked).
    fn show_program(&self, _program: &str) {}
    /// Turns start-at-login on or off.
    fn set_autostart(&self, _on: bool) -> Result<(), String> {
        Ok(())
    }
    /// Quits the app.
    fn quit(&self) {}
}

/// Where the alerts come from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// The Leakwatch service, over its local API at this socket (the normal way).
    Service { socket: PathBuf },
    /// An engine in this process capturing live with the user's rights (`--embedded`).
    Live,
    /// An engine in this process fed from a capture file in packet time scaled to real time,
    /// `speed` times faster (`--replay`).
    Replay { path: PathBuf, speed: f64 },
}

/// How to start.
#[derive(Clone, Debug)]
pub struct Options {
    pub source: Source,
    /// Settings and (embedded) `ignores.user.json` live here.
    pub config_dir: PathBuf,
    /// Embedded live: ask DNS servers for names of unnamed destinations.
    pub reverse_dns: bool,
    /// Embedded: load the organisation / country data.
    pub asn: bool,
    /// Embedded: ports tried, in order, for the legacy TCP protocol when the settings turn it on.
    pub legacy_ports: RangeInclusive<u16>,
    /// Embedded: the history database to record into (`None`: no history).
    pub history: Option<PathBuf>,
}

type Job = Box<dyn FnOnce(&mut State) + Send>;

/// Most open flows the Connections view lists.
pub const CONNECTIONS: usize = 300;

/// Name of the owner thread (jobs sent from it would wait for themselves).
const OWNER: &str = "leakwatch-core";

/// The running core. Shared as `Arc<Core>`.
pub struct Core {
    jobs: Sender<Job>,
    backend: Arc<dyn Backend>,
    sink: Arc<dyn Sink>,
    settings_file: SettingsFile,
    stopped: AtomicBool,
    /// The History tab's store (embedded) or the service's history.
    pub history: Arc<dyn HistorySource>,
}

fn err(field: &str, reason: impl std::fmt::Display) -> String {
    format!("{field}: {reason}")
}

impl Core {
    /// Loads the settings from `opts.config_dir`, starts the backend and the owner thread that
    /// turns what it reports into events for `sink`. Notifier actions arrive on `note_events`.
    pub fn start(
        opts: Options,
        sink: Arc<dyn Sink>,
        notifier: Option<Box<dyn Notifier>>,
        note_events: Receiver<NoteEvent>,
    ) -> Arc<Core> {
        let settings_file = SettingsFile::new(opts.config_dir.join(crate::settings::FILE_NAME));
        let (settings, settings_problem) = settings_file.load();
        let mut notices: Vec<String> = settings_problem.into_iter().collect();
        let (feed_tx, feed_rx) = crossbeam_channel::unbounded();
        let (backend, history, remote): (Arc<dyn Backend>, Arc<dyn HistorySource>, bool) = match &opts.source {
            Source::Service { socket } => {
                let remote = Remote::start(socket.clone(), feed_tx);
                (remote.clone(), remote, true)
            }
            _ => {
                let (embedded, problems) = Embedded::start(&opts, &settings, feed_tx);
                notices.extend(problems);
                let history = embedded.history();
                (embedded, history, false)
            }
        };
        for n in &notices {
            tracing::warn!("{n}");
        }
        if opts.source == Source::Live {
            tracing::info!("{}", Messages::new(settings.locale()).text("app-embedded-blind", None));
        }
        let state = State::new(backend.clone(), sink.clone(), notifier, settings, notices, remote);
        let (jobs, jobs_rx) = crossbeam_channel::unbounded::<Job>();
        spawn(OWNER, move || owner(state, jobs_rx, feed_rx));
        // Which programs were ever seen sending, for first-time senders (the service may take a
        // moment to come up: asked again a few times).
        spawn("leakwatch-known-programs", {
            let (jobs, history) = (jobs.clone(), history.clone());
            move || {
                let mut known = Vec::new();
                for attempt in 0..10 {
                    match history.programs(0, None) {
                        Ok(v) => {
                            known = v.programs.into_iter().map(|p| p.program).collect();
                            break;
                        }
                        Err(e) if attempt == 9 || !remote || e.contains("no history") => {
                            tracing::info!(
                                "first-time senders: the history cannot tell which programs sent before ({e}); every program counts as new in this run"
                            );
                            break;
                        }
                        Err(_) => std::thread::sleep(Duration::from_secs(3)),
                    }
                }
                let _ = jobs.send(Box::new(move |st: &mut State| st.first.set_known(known)));
            }
        });
        let core = Arc::new(Core { jobs, backend, sink, settings_file, stopped: AtomicBool::new(false), history });
        // Notification buttons act like the window's commands, off the owner thread.
        spawn("leakwatch-actions", {
            let core = core.clone();
            move || {
                for e in note_events.iter() {
                    core.on_note_event(e);
                }
            }
        });
        core
    }

    /// Runs `f` on the owner thread and returns its answer (`None` once the core stopped).
    fn with<T: Send + 'static>(&self, f: impl FnOnce(&mut State) -> T + Send + 'static) -> Option<T> {
        if std::thread::current().name() == Some(OWNER) {
            tracing::info!("internal error: the owner thread waited for itself");
            return None;
        }
        let (tx, rx) = crossbeam_channel::bounded(1);
        self.jobs
            .send(Box::new(move |st: &mut State| {
                let _ = tx.send(f(st));
            }))
            .ok()?;
        rx.recv().ok()
    }

    fn on_note_event(&self, e: NoteEvent) {
        if e.alert_id >= crate::first_senders::NOTE_BASE {
            return self.on_first_sender_note(e);
        }
        let result = match e.action {
            NoteAction::IgnoreForNow => self.ignore_alert(e.alert_id, "for_now", "tray").map(|_| ()),
            NoteAction::AlwaysIgnore => self.ignore_alert(e.alert_id, "always", "tray").map(|_| ()),
            NoteAction::Open => {
                self.mark_seen();
                self.sink.show_alert(e.alert_id);
                Ok(())
            }
        };
        if let Err(e) = result {
            tracing::info!("notification action failed: {e}");
        }
    }

    /// A first-time sender's notification: its buttons ignore the program (by its path).
    fn on_first_sender_note(&self, e: NoteEvent) {
        let Some(sender) = self.with(move |st| st.first.announced.get(&e.alert_id).cloned()).flatten() else { return };
        let scope = match e.action {
            NoteAction::IgnoreForNow => "for_now",
            NoteAction::AlwaysIgnore => "always",
            NoteAction::Open => {
                self.mark_seen();
                return self.sink.show_program(&sender.program);
            }
        };
        match sender.exe.as_deref().map(|exe| self.ignore_program(exe, scope)) {
            Some(Ok(_)) => {}
            Some(Err(e)) => tracing::info!("notification action failed: {e}"),
            None => tracing::info!(
                "{} has no known executable path: it cannot be ignored as a program (its name alone is its own choice)",
                leakwatch::text::safe(&sender.name)
            ),
        }
    }

    /// `first_senders`: programs announced as first-time senders in this run.
    pub fn first_senders(&self) -> Vec<String> {
        self.with(|st| st.first.programs()).unwrap_or_default()
    }

    // --- Commands (docs/ui-contract.md) ---------------------------------------------------

    /// `list_alerts`: newest first.
    pub fn list_alerts(&self) -> Vec<Value> {
        self.with(|st| st.list_alerts()).unwrap_or_default()
    }

    /// `ignore_alert`: ignores what the alert's callback filter matches, for `scope`;
    /// `source` is who asked (`user`: the window, `tray`: a notification or the tray).
    pub fn ignore_alert(&self, id: u64, scope: &str, source: &str) -> Result<u64, String> {
        crate::backend::api_scope(scope)?;
        let filter = self.with(move |st| st.filter_of(id)).flatten();
        if filter.is_none() && self.with(|st| st.link == crate::state::Link::Embedded).unwrap_or(true) {
            return Err(err("id", format!("no alert {id} (only the last 500 are kept)")));
        }
        let filter = filter.unwrap_or_default();
        let ignore_id = self.backend.ignore_alert(id, &filter, scope)?;
        let source = source.to_string();
        self.with(move |st| {
            st.sources.insert(ignore_id, source);
            if !filter.is_empty() {
                st.on_ignore_added(ignore_id, filter);
            }
        });
        Ok(ignore_id)
    }

    /// `ignore_program`: ignores every upload of the program `exe` (its executable path).
    pub fn ignore_program(&self, exe: &str, scope: &str) -> Result<u64, String> {
        let filter = crate::backend::program_filter(exe)?;
        let ignore_id = self.backend.ignore_filter(&filter, scope)?;
        self.with(move |st| {
            st.sources.insert(ignore_id, "user".to_string());
            st.on_ignore_added(ignore_id, filter);
        });
        Ok(ignore_id)
    }

    /// `connections_now`: the open flows most recently active.
    pub fn connections_now(&self) -> Result<Value, String> {
        self.backend.flows_now(CONNECTIONS)
    }

    /// `list_ignores`.
    pub fn list_ignores(&self) -> Vec<IgnoreView> {
        let list = self.backend.list_ignores().unwrap_or_else(|e| {
            tracing::info!("cannot list the ignores: {e}");
            Vec::new()
        });
        let sources = self.with(|st| st.sources.clone()).unwrap_or_default();
        list.into_iter()
            .map(|mut i| {
                if let Some(s) = sources.get(&i.id) {
                    i.source = Some(s.clone());
                }
                i
            })
            .collect()
    }

    /// `remove_ignore`: false when there is no such ignore.
    pub fn remove_ignore(&self, id: u64) -> Result<bool, String> {
        let removed = self.backend.remove_ignore(id)?;
        if removed {
            self.with(move |st| st.on_ignore_removed(id));
        }
        Ok(removed)
    }

    /// `get_settings`.
    pub fn get_settings(&self) -> Settings {
        self.with(|st| st.settings.clone()).unwrap_or_default()
    }

    /// `set_settings`: validates, applies (to the service or the embedded engine), persists.
    pub fn set_settings(&self, new: Settings) -> Result<Settings, String> {
        new.validate().map_err(|e| e.to_string())?;
        let old = self.get_settings();
        if new.start_at_login != old.start_at_login {
            self.sink.set_autostart(new.start_at_login).map_err(|e| err("start_at_login", e))?;
        }
        self.backend.apply_settings(&old, &new)?;
        self.settings_file.save(&new).map_err(|e| e.to_string())?;
        let saved = new.clone();
        self.with(move |st| {
            if new.locale != st.settings.locale {
                st.msgs = Arc::new(Messages::new(new.locale()));
            }
            st.settings = new;
            st.refresh_status();
            st.sink.tray_changed();
        });
        Ok(saved)
    }

    /// Start-at-login as the system has it (`None`: unknown): the settings follow the system
    /// when they differ.
    pub fn adopt_autostart(&self, on: Option<bool>) {
        let Some(on) = on else { return };
        let s = self.get_settings();
        if s.start_at_login != on
            && let Err(e) = self.set_settings(Settings { start_at_login: on, ..s })
        {
            tracing::info!("start at login: {e}");
        }
    }

    /// Takes the language from the settings file again: another process of the app (the
    /// window) may have changed it.
    pub fn reload_local_settings(&self) {
        let (file, _) = self.settings_file.load();
        self.with(move |st| {
            if file.locale != st.settings.locale {
                st.msgs = Arc::new(Messages::new(file.locale()));
                st.settings.locale = file.locale;
                st.refresh_status();
                st.sink.tray_changed();
            }
        });
    }

    /// The window opened because the desktop shows no tray: the Health page says so.
    pub fn set_no_tray(&self) {
        self.with(|st| {
            st.no_tray = true;
            st.refresh_status();
        });
    }

    /// `engine_status`.
    pub fn engine_status(&self) -> EngineStatus {
        self.with(|st| st.status.clone()).unwrap_or_default()
    }

    // --- Tray ---------------------------------------------------------------------------

    /// What the tray shows now.
    pub fn tray_state(&self) -> TrayState {
        self.with(|st| st.tray_state()).unwrap_or_else(|| TrayState {
            mode: Mode::Adequate,
            pause: Pause::Running,
            autostart: false,
            recent: Vec::new(),
            unseen: false,
            not_watching: true,
            problem: None,
            health: String::new(),
        })
    }

    /// The messages of the current language.
    pub fn messages(&self) -> Arc<Messages> {
        self.with(|st| st.msgs.clone()).unwrap_or_else(|| Arc::new(Messages::new(leakwatch::i18n::Locale::En)))
    }

    /// The window was opened: alerts are seen.
    pub fn mark_seen(&self) {
        self.with(|st| {
            if std::mem::replace(&mut st.unseen, false) {
                st.sink.tray_changed();
            }
        });
    }

    /// Carries out a tray menu action.
    pub fn menu_action(&self, a: MenuAction) {
        match a {
            MenuAction::Open => self.mark_seen(),
            MenuAction::ShowAlert(id) => {
                self.mark_seen();
                self.sink.show_alert(id);
            }
            MenuAction::SetMode(m) => self.set_mode(m),
            MenuAction::Pause(d) => self.pause(d),
            MenuAction::Resume => self.resume(),
            MenuAction::ToggleAutostart => {
                let s = self.get_settings();
                let next = Settings { start_at_login: !s.start_at_login, ..s };
                if let Err(e) = self.set_settings(next) {
                    tracing::info!("start at login: {e}");
                }
            }
            MenuAction::Quit => self.sink.quit(),
        }
    }

    /// Switches the mode at once and persists it.
    pub fn set_mode(&self, m: Mode) {
        let s = self.get_settings();
        let next = Settings { mode: m.as_str().to_string(), ..s };
        if let Err(e) = self.set_settings(next) {
            tracing::info!("mode: {e}");
        }
    }

    /// Pauses detection for `d`, or until resumed (the app resumes a timed pause itself).
    pub fn pause(&self, d: Option<Duration>) {
        if let Err(e) = self.backend.pause() {
            tracing::info!("pause: {e}");
            return;
        }
        let pause = match d {
            Some(d) => Pause::Until(Utc::now() + chrono::TimeDelta::from_std(d).unwrap_or(chrono::TimeDelta::MAX)),
            None => Pause::UntilResumed,
        };
        self.with(move |st| {
            st.pause = pause;
            st.refresh_status();
            st.sink.tray_changed();
        });
    }

    pub fn resume(&self) {
        if let Err(e) = self.backend.resume() {
            tracing::info!("resume: {e}");
            return;
        }
        self.with(|st| {
            st.pause = Pause::Running;
            st.refresh_status();
            st.sink.tray_changed();
        });
    }

    /// When the pause ends, if it has an end.
    pub fn paused_until(&self) -> Option<DateTime<Utc>> {
        self.with(|st| match st.pause {
            Pause::Until(t) => Some(t),
            _ => None,
        })
        .flatten()
    }

    /// Stops the backend (an embedded engine finishes and its history is written) and the
    /// owner thread (on quit). Idempotent.
    pub fn shutdown(&self) {
        if self.stopped.swap(true, Ordering::SeqCst) {
            return;
        }
        self.backend.shutdown();
        self.with(|st| st.stopped = true);
    }

    /// A JSON `{ ignore_id }` reply for `ignore_alert`.
    pub fn ignore_reply(ignore_id: u64) -> Value {
        State::ignore_reply(ignore_id)
    }
}

/// The owner thread: one job, one report of the backend or one tick at a time.
fn owner(mut st: State, jobs: Receiver<Job>, feed: Receiver<Feed>) {
    let tick = crossbeam_channel::tick(Duration::from_secs(1));
    let mut feed = feed;
    while !st.stopped {
        let mut feed_closed = false;
        select! {
            recv(jobs) -> j => match j {
                Ok(job) => job(&mut st),
                Err(_) => break,
            },
            recv(feed) -> f => match f {
                Ok(f) => st.on_feed(f),
                Err(_) => feed_closed = true,
            },
            recv(tick) -> _ => st.tick(),
        }
        if feed_closed {
            feed = crossbeam_channel::never();
        }
    }
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) {
    if let Err(e) = std::thread::Builder::new().name(name.into()).spawn(f) {
        tracing::info!("cannot start thread {name}: {e}");
    }
}
