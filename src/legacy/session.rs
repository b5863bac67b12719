//! One client's conversation: a state machine from input lines to replies, with the engine
//! behind a [`Backend`] trait so it can be driven in memory (tests, fuzzing) as well as by the
//! socket loop in `listener.rs`.

use super::codec::{self, Command, Event, LineSplitter};

/// What a session needs from the daemon.
pub trait Backend {
    /// The oldest queued alert as compact JSON, removing it from the shared queue.
    fn next_alert(&mut self) -> Option<String>;
    /// `Version=…; Release=…`.
    fn info(&self) -> String;
    /// Adds an ignore (the filter's compact JSON text as received); `Err` says why not.
    fn ignore(&mut self, filter: &str, permanent: bool) -> Result<u64, String>;
    /// `{"filters":[…]}` with an `id` on each, compact.
    fn list_ignores(&mut self) -> String;
    /// Removes the ignore with this id or name; `Err` says why not.
    fn delete_ignore(&mut self, key: &str) -> Result<(), String>;
}

/// What the session waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Command,
    /// The filter line of `ignore_tmp` (`false`) or `ignore_permanent` (`true`).
    Filter {
        permanent: bool,
    },
    /// The id or name line of `delete_user_ignore`.
    DeleteKey,
}

/// The result of one step: bytes to send (already framed, one write) and whether to close.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Step {
    pub reply: Option<Vec<u8>>,
    pub close: bool,
}

impl Step {
    fn reply(text: &str) -> Step {
        Step { reply: Some(codec::frame(text)), close: false }
    }

    fn finish() -> Step {
        Step { reply: Some(codec::frame(codec::FINISH)), close: true }
    }
}

/// One connection's protocol state.
#[derive(Debug)]
pub struct Session {
    state: State,
    closed: bool,
}

impl Default for Session {
    fn default() -> Self {
        Session::new()
    }
}

impl Session {
    pub fn new() -> Session {
        Session { state: State::Command, closed: false }
    }

    /// The greeting, framed.
    pub fn greeting() -> Vec<u8> {
        codec::frame(codec::GREETING)
    }

    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Handles one complete input line.
    pub fn on_line(&mut self, line: &[u8], backend: &mut dyn Backend) -> Step {
        if self.closed {
            return Step { reply: None, close: true };
        }
        let step = match std::mem::replace(&mut self.state, State::Command) {
            State::Filter { permanent } => {
                // Never a reply, success or failure: the C# client reads nothing here.
                let _ = match std::str::from_utf8(line) {
                    Ok(text) => backend.ignore(codec::java_trim(text), permanent),
                    Err(_) => Err("the filter is not UTF-8 text".into()),
                };
                Step::default()
            }
            State::DeleteKey => {
                let key = std::str::from_utf8(line).map(codec::java_trim);
                match key {
                    Ok("") => Step::reply(&format!("{} no id or name given", codec::ERROR)),
                    Ok(key) => match backend.delete_ignore(key) {
                        Ok(()) => Step::reply(codec::OK),
                        Err(reason) => Step::reply(&format!("{} {}", codec::ERROR, one_line(&reason))),
                    },
                    Err(_) => Step::reply(&format!("{} the id or name is not UTF-8 text", codec::ERROR)),
                }
            }
            State::Command => match codec::parse_command(line) {
                Command::Ping => Step::reply(codec::PINGED),
                Command::GetAlert => Step::reply(&backend.next_alert().unwrap_or_else(|| codec::NO_MSG.to_string())),
                Command::GetInfo => Step::reply(&backend.info()),
                Command::IgnoreTmp => {
                    self.state = State::Filter { permanent: false };
                    Step::default()
                }
                Command::IgnorePermanent => {
                    self.state = State::Filter { permanent: true };
                    Step::default()
                }
                Command::GrabAllUserIgnores => Step::reply(&backend.list_ignores()),
                Command::DeleteUserIgnore => {
                    self.state = State::DeleteKey;
                    Step::default()
                }
                Command::Quit => Step::finish(),
                Command::Unknown => Step::reply(codec::UNKNOWN),
            },
        };
        self.closed |= step.close;
        step
    }

    /// The client closed its side (or reading failed): say goodbye.
    pub fn on_eof(&mut self) -> Step {
        self.closed = true;
        Step::finish()
    }

    /// A line went over the limit: say goodbye and close.
    pub fn on_too_long(&mut self) -> Step {
        self.closed = true;
        Step::finish()
    }
}

/// A reason on one line of printable ASCII, as the protocol's replies are (docs/protocol.md):
/// line breaks become spaces, every other control and every non-ASCII character (a name or key
/// the client sent, quoted back) a visible `\u{…}` escape.
fn one_line(s: &str) -> String {
    let joined = s.split(['\r', '\n']).map(str::trim).filter(|p| !p.is_empty()).collect::<Vec<_>>().join(" ");
    let mut out = String::with_capacity(joined.len());
    for c in joined.chars() {
        if c == ' ' || c.is_ascii_graphic() {
            out.push(c);
        } else {
            out.extend(c.escape_unicode());
        }
    }
    out
}

/// Feeds `input` through a fresh splitter and session at once, as if it came in one read and
/// then the client closed (`eof`): the concatenated replies (greeting first). For tests and
/// fuzzing; the socket loop does the same step by step.
pub fn run_in_memory(input: &[u8], eof: bool, backend: &mut dyn Backend) -> Vec<u8> {
    let mut out = Session::greeting();
    let mut session = Session::new();
    let mut splitter = LineSplitter::new();
    splitter.push(input);
    while let Some(e) = splitter.next_event() {
        let step = match e {
            Event::Line(line) => session.on_line(line, backend),
            Event::TooLong => session.on_too_long(),
        };
        out.extend(step.reply.unwrap_or_default());
        if step.close {
            return out;
        }
    }
    if eof {
        out.extend(session.on_eof().reply.unwrap_or_default());
    }
    out
}
