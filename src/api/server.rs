//! The local API's server: listens on the Unix socket, admits root and members of the API group
//! (the kernel's word on the caller, `SO_PEERCRED` / `SO_PEERGROUPS`), reads one request per line,
//! hands it to the [`Backend`] and writes the reply; [`Hub::publish`] sends events to the clients
//! that subscribed. Each client has a reader and a writer thread; a client that does not read
//! its events loses the oldest-to-come ones (counted in a `lost` event), never stalls the service.

use super::{ApiError, Backend, CLIENT_QUEUE, Caller, MAX_CLIENTS, MAX_REQUEST, VERSION, event_line};
use crate::os::{LocalListener as UnixListener, LocalStream as UnixStream};
use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};
use serde_json::{Value, json};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Kinds of events a client may subscribe to (bit flags).
const EV_ALERT: u8 = 1;
const EV_CHANGE: u8 = 2;
const EV_STATUS: u8 = 4;
const EV_STATS: u8 = 8;
const EV_ALL: u8 = EV_ALERT | EV_CHANGE | EV_STATUS | EV_STATS;

fn event_bit(kind: &str) -> Option<u8> {
    match kind {
        "alert" => Some(EV_ALERT),
        "change" => Some(EV_CHANGE),
        "status" => Some(EV_STATUS),
        "stats" => Some(EV_STATS),
        _ => None,
    }
}

struct Slot {
    id: u64,
    tx: Sender<String>,
    /// Event kinds subscribed to (0: none yet).
    events: Arc<AtomicU8>,
    /// Events dropped because the client's queue was full, not yet reported to it.
    lost: Arc<AtomicU64>,
}

/// The connected clients, for publishing events.
#[derive(Default)]
pub struct Hub {
    clients: Mutex<Vec<Slot>>,
}

impl Hub {
    /// Whether any client is subscribed to `kind` (so the caller can skip building the event).
    pub fn wanted(&self, kind: &str) -> bool {
        let Some(bit) = event_bit(kind) else { return false };
        self.clients.lock().is_ok_and(|c| c.iter().any(|c| c.events.load(Ordering::Relaxed) & bit != 0))
    }

    /// Sends an event to every client subscribed to `kind` (`alert`, `change`, `status`, `stats`).
    pub fn publish(&self, kind: &str, data: Value) {
        let Some(bit) = event_bit(kind) else { return };
        let Ok(clients) = self.clients.lock() else { return };
        if !clients.iter().any(|c| c.events.load(Ordering::Relaxed) & bit != 0) {
            return;
        }
        let line = event_line(kind, data);
        for c in clients.iter().filter(|c| c.events.load(Ordering::Relaxed) & bit != 0) {
            let lost = c.lost.load(Ordering::Relaxed);
            if lost > 0 && c.tx.try_send(event_line("lost", json!({"events": lost}))).is_ok() {
                c.lost.fetch_sub(lost, Ordering::Relaxed);
            }
            if let Err(TrySendError::Full(_)) = c.tx.try_send(line.clone()) {
                c.lost.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Clients connected now.
    pub fn clients(&self) -> usize {
        self.clients.lock().map_or(0, |c| c.len())
    }

    fn remove(&self, id: u64) {
        if let Ok(mut c) = self.clients.lock() {
            c.retain(|s| s.id != id);
        }
    }
}

/// Who may connect.
#[derive(Clone, Debug)]
pub struct Access {
    /// The group whose members are admitted (with root).
    pub group: String,
    /// Its id, when the group exists.
    pub gid: Option<u32>,
}

/// A running API server. Dropping it (or [`Server::stop`]) stops accepting and removes the socket.
pub struct Server {
    path: PathBuf,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    hub: Arc<Hub>,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(
        "another Leakwatch service already answers on {0}: stop it first (sudo systemctl stop leakwatch), or give this one another socket"
    )]
    InUse(PathBuf),
    #[error("cannot listen on {path}: {source}; check that its directory exists and is writable by the service")]
    Bind { path: PathBuf, source: io::Error },
}

impl Server {
    /// Listens on `path` (a stale socket left by a crash is replaced; a live one is an error),
    /// gives the socket to the access group with mode 0660, and serves `backend`.
    pub fn start(path: &Path, access: Access, backend: Arc<dyn Backend>) -> Result<Server, ServeError> {
        if UnixStream::connect(path).is_ok() {
            return Err(ServeError::InUse(path.to_owned()));
        }
        if std::fs::symlink_metadata(path).is_ok_and(|m| !m.is_dir()) {
            let _ = std::fs::remove_file(path);
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = std::fs::create_dir_all(dir);
        }
        let bind = |source| ServeError::Bind { path: path.to_owned(), source };
        let listener = UnixListener::bind(path).map_err(bind)?;
        // Group members reach it; others are stopped by the file mode before the server's check.
        if let Err(e) = crate::os::set_group_and_mode(path, access.gid, 0o660) {
            tracing::warn!("cannot give {} to group {}: {e}; only root can connect", path.display(), access.group);
            let _ = crate::os::set_group_and_mode(path, None, 0o600);
        }
        listener.set_nonblocking(true).map_err(bind)?;
        let stop = Arc::new(AtomicBool::new(false));
        let hub = Arc::new(Hub::default());
        let thread = {
            let (stop, hub) = (stop.clone(), hub.clone());
            std::thread::Builder::new()
                .name("leakwatch-api".into())
                .spawn(move || accept_loop(listener, access, backend, hub, stop))
                .map_err(bind)?
        };
        Ok(Server { path: path.to_owned(), stop, thread: Some(thread), hub })
    }

    /// Publishes events to subscribed clients.
    pub fn hub(&self) -> Arc<Hub> {
        self.hub.clone()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stops accepting, removes the socket; connected clients see the connection close.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_file(&self.path);
        if let Ok(mut c) = self.hub.clients.lock() {
            c.clear();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn accept_loop(
    listener: UnixListener,
    access: Access,
    backend: Arc<dyn Backend>,
    hub: Arc<Hub>,
    stop: Arc<AtomicBool>,
) {
    let next_id = AtomicU64::new(1);
    let connected = Arc::new(AtomicUsize::new(0));
    while !stop.load(Ordering::SeqCst) {
        let stream = match listener.accept() {
            Ok((s, _)) => s,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
            Err(_) => {
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        let _ = stream.set_nonblocking(false);
        let id = next_id.fetch_add(1, Ordering::Relaxed);
        let (backend, hub, access, connected, stop) =
            (backend.clone(), hub.clone(), access.clone(), connected.clone(), stop.clone());
        let _ = std::thread::Builder::new()
            .name("leakwatch-api-client".into())
            .spawn(move || serve_client(stream, id, &access, backend, &hub, &connected, &stop));
    }
}

/// Says why a caller is turned away (naming the group and the command that admits them).
fn refusal(caller: &Caller, access: &Access) -> String {
    match access.gid {
        Some(_) => format!(
            "user {} (uid {}) may not use the Leakwatch service: only root and members of group {} may. \
             Ask an administrator to run `sudo usermod -aG {} {}`, then log out and in again",
            caller.name, caller.uid, access.group, access.group, caller.name
        ),
        None => format!(
            "user {} (uid {}) may not use the Leakwatch service: the group {} does not exist on this machine, so only \
             root may. An administrator can create it and add you: `sudo groupadd --system {}; sudo usermod -aG {} {}`",
            caller.name, caller.uid, access.group, access.group, access.group, caller.name
        ),
    }
}

fn serve_client(
    stream: UnixStream,
    id: u64,
    access: &Access,
    backend: Arc<dyn Backend>,
    hub: &Hub,
    connected: &AtomicUsize,
    stop: &AtomicBool,
) {
    let Ok(peer) = crate::os::peer_of(&stream) else { return };
    let caller = Caller {
        uid: peer.uid,
        pid: peer.pid,
        name: crate::os::user_name(peer.uid).unwrap_or_else(|| format!("uid {}", peer.uid)),
    };
    let mut out = match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    };
    let _ = out.set_write_timeout(Some(Duration::from_secs(10)));
    if !peer.is_root_or_in(access.gid) {
        let line = json!({"error": ApiError::new("forbidden", refusal(&caller, access)).to_json()});
        let _ = writeln!(out, "{line}");
        return;
    }
    if connected.fetch_add(1, Ordering::SeqCst) >= MAX_CLIENTS {
        connected.fetch_sub(1, Ordering::SeqCst);
        let message = format!("the Leakwatch service already has {MAX_CLIENTS} clients; close some and try again");
        let _ = writeln!(out, "{}", json!({"error": ApiError::new("busy", message).to_json()}));
        return;
    }
    let (tx, rx) = bounded::<String>(CLIENT_QUEUE);
    let events = Arc::new(AtomicU8::new(0));
    let lost = Arc::new(AtomicU64::new(0));
    let hello = json!({"hello": {
        "api": VERSION,
        "server": concat!("leakwatch ", env!("CARGO_PKG_VERSION")),
        "user": caller.name,
        "uid": caller.uid,
    }});
    let _ = tx.try_send(hello.to_string());
    if let Ok(mut c) = hub.clients.lock() {
        c.push(Slot { id, tx: tx.clone(), events: events.clone(), lost });
    }
    let writer = std::thread::Builder::new().name("leakwatch-api-writer".into()).spawn(move || write_loop(out, rx));
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    loop {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        match read_line(&mut reader, &mut line) {
            Ok(Line::Eof) => break,
            Ok(Line::TooLong) => {
                let e = ApiError::new("bad_request", format!("a request line is longer than {MAX_REQUEST} bytes"));
                let _ = tx.send(json!({"id": null, "error": e.to_json()}).to_string());
                break;
            }
            Ok(Line::Complete) => {}
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => continue,
            Err(_) => break,
        }
        let reply = handle(&line, &caller, backend.as_ref(), &events);
        if tx.send(reply.to_string()).is_err() {
            break;
        }
    }
    hub.remove(id);
    drop(tx);
    if let Ok(w) = writer {
        let _ = w.join();
    }
    connected.fetch_sub(1, Ordering::SeqCst);
}

enum Line {
    Complete,
    Eof,
    TooLong,
}

/// Reads one line (without its `\n`) of at most [`MAX_REQUEST`] bytes into `buf`. A read timeout
/// keeps what was read so far in `buf` and is returned as an error, to be retried.
fn read_line(reader: &mut BufReader<UnixStream>, buf: &mut Vec<u8>) -> io::Result<Line> {
    if buf.last() == Some(&b'\n') {
        buf.clear();
    }
    let room = (MAX_REQUEST + 1).saturating_sub(buf.len()) as u64;
    let n = reader.by_ref().take(room).read_until(b'\n', buf)?;
    if buf.last() == Some(&b'\n') {
        buf.pop();
        buf.push(b'\n');
        return Ok(Line::Complete);
    }
    if buf.len() > MAX_REQUEST {
        return Ok(Line::TooLong);
    }
    if n == 0 {
        return Ok(Line::Eof);
    }
    // A partial line at the end of input: take it as a request.
    buf.push(b'\n');
    Ok(Line::Complete)
}

fn write_loop(mut out: UnixStream, rx: Receiver<String>) {
    for line in rx {
        let mut bytes = line.into_bytes();
        bytes.push(b'\n');
        if out.write_all(&bytes).is_err() {
            break;
        }
    }
    let _ = out.shutdown(std::net::Shutdown::Both);
}

/// Answers one request line.
fn handle(line: &[u8], caller: &Caller, backend: &dyn Backend, events: &AtomicU8) -> Value {
    let text = line.strip_suffix(b"\n").unwrap_or(line);
    let request: Value = match serde_json::from_slice(text) {
        Ok(v @ Value::Object(_)) => v,
        Ok(_) => return reply(Value::Null, Err(ApiError::new("bad_request", "a request is a JSON object"))),
        Err(e) => return reply(Value::Null, Err(ApiError::new("bad_request", format!("not JSON: {e}")))),
    };
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let Some(method) = request.get("method").and_then(Value::as_str) else {
        return reply(id, Err(ApiError::new("bad_request", "the request has no \"method\" (a string)")));
    };
    let params = request.get("params").cloned().unwrap_or_else(|| json!({}));
    if method == "subscribe" {
        return reply(id, subscribe(&params, events));
    }
    reply(id, backend.call(caller, method, &params))
}

fn subscribe(params: &Value, events: &AtomicU8) -> Result<Value, ApiError> {
    let bits = match params.get("events") {
        None | Some(Value::Null) => EV_ALL,
        Some(Value::Array(kinds)) => {
            let mut bits = 0;
            for k in kinds {
                let bit = k.as_str().and_then(event_bit).ok_or_else(|| {
                    ApiError::invalid(format!(
                        "events: unknown kind {k}: use \"alert\", \"change\", \"status\" or \"stats\""
                    ))
                })?;
                bits |= bit;
            }
            bits
        }
        Some(other) => return Err(ApiError::invalid(format!("events: expected a list of kinds, got {other}"))),
    };
    events.store(bits, Ordering::SeqCst);
    let names: Vec<&str> = [("alert", EV_ALERT), ("change", EV_CHANGE), ("status", EV_STATUS), ("stats", EV_STATS)]
        .into_iter()
        .filter(|(_, b)| bits & b != 0)
        .map(|(n, _)| n)
        .collect();
    Ok(json!({"events": names}))
}

fn reply(id: Value, result: Result<Value, ApiError>) -> Value {
    match result {
        Ok(v) => json!({"id": id, "result": v}),
        Err(e) => json!({"id": id, "error": e.to_json()}),
    }
}
