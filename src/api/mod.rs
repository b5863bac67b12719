//! The local API: how unprivileged clients (the `leakwatch` CLI, the tray app) talk to the
//! service, over a Unix socket (`/run/leakwatch/api.sock`).
//!
//! One JSON object per line each way (`docs/api.md` has every request, event and error, and a
//! whole session). The server greets with a `hello` line, or refuses with an `error` line and
//! closes: callers are identified by the kernel (`SO_PEERCRED`, `SO_PEERGROUPS`), and only root
//! and members of the group `leakwatch` are admitted. Requests carry an `id` that the reply
//! repeats; events (`alert`, `change`, `status`) arrive between replies once a client subscribed.
//!
//! [`server`] is transport and access only; what each method does is the [`Backend`]'s (the
//! service implements it). [`client`] is what the CLI and the app use.

pub mod client;
pub mod server;

use serde_json::{Value, json};
use std::path::PathBuf;

/// The protocol's version, in the greeting; raised on any incompatible change.
pub const VERSION: u64 = 1;

/// Where the service listens on this system unless its configuration says otherwise
/// (`%ProgramData%\Leakwatch\api.sock` on Windows, `/var/run/leakwatch/api.sock` on macOS).
pub fn default_socket() -> PathBuf {
    crate::os::paths::service_paths().socket
}
/// Environment variable naming another socket (clients and tests).
pub const SOCKET_ENV: &str = "LEAKWATCH_SOCKET";
/// The group whose members (with root) may use the API.
pub const DEFAULT_GROUP: &str = "leakwatch";
/// Longest request line accepted (requests are small; a longer line closes the connection).
pub const MAX_REQUEST: usize = 64 * 1024;
/// Most clients connected at once.
pub const MAX_CLIENTS: usize = 64;
/// Events queued for one client before further ones are dropped (and counted to it).
pub const CLIENT_QUEUE: usize = 4096;

/// The socket clients use: `$LEAKWATCH_SOCKET`, else [`default_socket`].
pub fn socket_path() -> PathBuf {
    std::env::var_os(SOCKET_ENV).filter(|v| !v.is_empty()).map_or_else(default_socket, PathBuf::from)
}

/// An error a method returns: a stable code and a sentence for people.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    /// `bad_request`, `unknown_method`, `invalid`, `not_found`, `failed`, `forbidden`.
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { code, message: message.into() }
    }

    /// A parameter is missing or wrong: names it and says what it takes.
    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new("invalid", message)
    }

    pub fn to_json(&self) -> Value {
        json!({"code": self.code, "message": self.message})
    }
}

/// Who is calling, as the kernel told at connect time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub uid: u32,
    pub pid: i32,
    /// Login name (or `uid N` when the user has none); recorded with every change it makes.
    pub name: String,
}

/// What the service does for each request; the server handles transport, access and `subscribe`.
pub trait Backend: Send + Sync + 'static {
    /// Runs `method` with `params` for `caller`; the result goes back as the reply.
    fn call(&self, caller: &Caller, method: &str, params: &Value) -> Result<Value, ApiError>;
}

/// An event line: `{"event": kind, "data": data}`.
pub fn event_line(kind: &str, data: Value) -> String {
    json!({"event": kind, "data": data}).to_string()
}
