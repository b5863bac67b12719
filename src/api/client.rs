//! The local API's client, for the CLI and the tray app: connects, reads the greeting, sends
//! requests and waits for their replies, and hands over the events that arrive in between.

use super::VERSION;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::os::LocalStream as UnixStream;

/// Longest line accepted from the service (a long list of ignores or history rows).
const MAX_REPLY: usize = 64 * 1024 * 1024;

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Nothing listens: the service is not running (or listens elsewhere).
    #[error(
        "the Leakwatch service is not running (nothing answers on {0}): start it with `sudo systemctl start leakwatch` (or `sudo leakwatch service`)"
    )]
    NotRunning(PathBuf),
    /// The socket's permissions keep this user out.
    #[error(
        "may not use the Leakwatch service at {path}: permission denied. Only root and members of group leakwatch may: \
         ask an administrator to run `sudo usermod -aG leakwatch {user}`, then log out and in again"
    )]
    PermissionDenied { path: PathBuf, user: String },
    /// The service turned this caller away (its message says why and what to do).
    #[error("{0}")]
    Refused(String),
    /// The service answered the request with an error.
    #[error("{message}")]
    Remote { code: String, message: String },
    #[error("the Leakwatch service speaks API version {0}, this client version {VERSION}: update leakwatch")]
    Version(u64),
    #[error("the connection to the Leakwatch service broke: {0}")]
    Io(#[from] io::Error),
    #[error("the Leakwatch service sent something this client does not understand: {0}")]
    Protocol(String),
}

impl ClientError {
    /// Whether the service is simply not there (a caller may then fall back to local files).
    pub fn is_not_running(&self) -> bool {
        matches!(self, ClientError::NotRunning(_))
    }
}

/// A connection to the service.
pub struct Client {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    next_id: u64,
    /// Events received while waiting for a reply.
    pending: VecDeque<Value>,
    /// Longest wait for a reply ([`Client::set_call_timeout`]; `None`: for ever).
    call_timeout: Option<Duration>,
    /// The greeting's `user`: who the service takes this client for.
    pub user: String,
    /// The greeting's `server`: e.g. `leakwatch 0.1.0`.
    pub server: String,
}

impl Client {
    /// Connects to the socket clients use ([`super::socket_path`]).
    pub fn connect_default() -> Result<Client, ClientError> {
        Client::connect(&super::socket_path())
    }

    /// Connects to `path` and reads the greeting.
    pub fn connect(path: &Path) -> Result<Client, ClientError> {
        let stream = match UnixStream::connect(path) {
            Ok(s) => s,
            Err(e) => {
                return Err(match e.kind() {
                    io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused => {
                        ClientError::NotRunning(path.to_owned())
                    }
                    io::ErrorKind::PermissionDenied => ClientError::PermissionDenied {
                        path: path.to_owned(),
                        user: crate::os::current_user_name().unwrap_or_else(|| "$USER".into()),
                    },
                    _ => ClientError::Io(e),
                });
            }
        };
        let writer = stream.try_clone()?;
        let mut client = Client {
            reader: BufReader::new(stream),
            writer,
            next_id: 1,
            pending: VecDeque::new(),
            call_timeout: None,
            user: String::new(),
            server: String::new(),
        };
        let first = client
            .read_value(Some(Duration::from_secs(10)))?
            .ok_or_else(|| ClientError::Protocol("no greeting within 10 s".into()))?;
        if let Some(err) = first.get("error") {
            return Err(ClientError::Refused(err["message"].as_str().unwrap_or("refused").to_string()));
        }
        let hello =
            first.get("hello").ok_or_else(|| ClientError::Protocol(format!("expected a greeting, got {first}")))?;
        let api = hello["api"].as_u64().unwrap_or(0);
        if api != VERSION {
            return Err(ClientError::Version(api));
        }
        client.user = hello["user"].as_str().unwrap_or_default().to_string();
        client.server = hello["server"].as_str().unwrap_or_default().to_string();
        Ok(client)
    }

    /// Sends `method` with `params` and waits for its reply (events that arrive meanwhile are
    /// kept for [`Client::next_event`]).
    pub fn call(&mut self, method: &str, params: Value) -> Result<Value, ClientError> {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"id": id, "method": method, "params": params}))?;
        let limit = self.call_timeout;
        let deadline = limit.map(|t| Instant::now() + t);
        loop {
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            let timed_out = || {
                ClientError::Io(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("no reply to {method} within {:?}", limit.unwrap_or_default()),
                ))
            };
            if left == Some(Duration::ZERO) {
                return Err(timed_out());
            }
            let v = self.read_value(left)?.ok_or_else(timed_out)?;
            if v.get("event").is_some() {
                self.pending.push_back(v);
                continue;
            }
            if v.get("id").and_then(Value::as_u64) != Some(id) {
                if let Some(err) = v.get("error") {
                    return Err(remote(err));
                }
                continue;
            }
            if let Some(err) = v.get("error") {
                return Err(remote(err));
            }
            return Ok(v.get("result").cloned().unwrap_or(Value::Null));
        }
    }

    /// Makes [`Client::call`] give up (with an I/O error) when no reply came within `timeout`
    /// (`None`: wait for ever, the default). A connection that timed out may still get the late
    /// reply: drop it and connect again.
    pub fn set_call_timeout(&mut self, timeout: Option<Duration>) {
        self.call_timeout = timeout;
    }

    /// Subscribes to event kinds (`alert`, `change`, `status`; empty: all).
    pub fn subscribe(&mut self, kinds: &[&str]) -> Result<Value, ClientError> {
        let params = if kinds.is_empty() { json!({}) } else { json!({"events": kinds}) };
        self.call("subscribe", params)
    }

    /// The next event (`{"event": kind, "data": …}`), waiting at most `timeout` (`None`: for
    /// ever). `Ok(None)`: none within the time.
    pub fn next_event(&mut self, timeout: Option<Duration>) -> Result<Option<Value>, ClientError> {
        if let Some(e) = self.pending.pop_front() {
            return Ok(Some(e));
        }
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if left == Some(Duration::ZERO) {
                return Ok(None);
            }
            match self.read_value(left)? {
                None => return Ok(None),
                Some(v) if v.get("event").is_some() => return Ok(Some(v)),
                Some(_) => continue,
            }
        }
    }

    fn send(&mut self, v: &Value) -> Result<(), ClientError> {
        let mut bytes = v.to_string().into_bytes();
        bytes.push(b'\n');
        self.writer.write_all(&bytes)?;
        Ok(())
    }

    /// One JSON line; `Ok(None)` when `timeout` passed first. End of stream is an error.
    fn read_value(&mut self, timeout: Option<Duration>) -> Result<Option<Value>, ClientError> {
        self.reader.get_ref().set_read_timeout(timeout.map(|t| t.max(Duration::from_millis(1))))?;
        let mut line = Vec::new();
        loop {
            match Read::take(&mut self.reader, (MAX_REPLY + 1 - line.len()) as u64).read_until(b'\n', &mut line) {
                Ok(0) if line.is_empty() => {
                    return Err(ClientError::Protocol("the service closed the connection".into()));
                }
                Ok(_) if line.last() == Some(&b'\n') || line.len() > MAX_REPLY => break,
                Ok(_) => return Err(ClientError::Protocol("the service closed the connection mid-line".into())),
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                    if line.is_empty() {
                        return Ok(None);
                    }
                    // A line has started: wait for its end.
                    self.reader.get_ref().set_read_timeout(Some(Duration::from_secs(10)))?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        if line.len() > MAX_REPLY {
            return Err(ClientError::Protocol(format!("a line longer than {MAX_REPLY} bytes")));
        }
        serde_json::from_slice(&line).map(Some).map_err(|e| ClientError::Protocol(format!("not JSON: {e}")))
    }
}

fn remote(err: &Value) -> ClientError {
    ClientError::Remote {
        code: err["code"].as_str().unwrap_or("failed").to_string(),
        message: err["message"].as_str().unwrap_or("the service gave no reason").to_string(),
    }
}
