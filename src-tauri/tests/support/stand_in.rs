//! A stand-in for the Leakwatch service: the real API server (`leakwatch::api::server`) on a
//! Unix socket, with a scripted backend instead of the engine, so a test can raise an alert
//! at a moment of its choosing without capture rights. It records the calls it gets.

use leakwatch::api::server::{Access, Server};
use leakwatch::api::{ApiError, Backend, Caller};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::{Arc, Mutex};

#[derive(Default)]
pub struct Scripted {
    /// Every call: (method, params).
    pub calls: Mutex<Vec<(String, Value)>>,
}

impl Backend for Scripted {
    fn call(&self, _caller: &Caller, method: &str, params: &Value) -> Result<Value, ApiError> {
        self.calls.lock().unwrap().push((method.to_string(), params.clone()));
        Ok(match method {
            "settings.get" => json!({"mode": "adequate", "max_traffic_during_10_sec": 102400,
                "min_leak_size": 32768, "realert_after_s": 600, "interfaces": ["lo"], "legacy": false}),
            "status" => json!({"started": "2026-12-03T00:00:00Z", "paused": false, "interfaces": ["lo"],
                "packets": 0, "uploaded_bytes": 0, "attributed_bytes": 0}),
            "ignore.list" | "alerts.recent" => json!([]),
            "ignore.alert" | "ignore.add" => json!({"id": 1}),
            _ => json!({}),
        })
    }
}

pub struct StandIn {
    pub server: Server,
    pub backend: Arc<Scripted>,
}

/// The primary group of this process (the server admits root and that group).
fn my_gid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find(|l| l.starts_with("Gid:"))?.split_whitespace().nth(1)?.parse().ok()
}

/// Serves the scripted backend on `socket`.
pub fn start(socket: &Path) -> StandIn {
    let backend = Arc::new(Scripted::default());
    let access = Access { group: "tests".into(), gid: my_gid() };
    let server = Server::start(socket, access, backend.clone()).expect("the API server starts");
    StandIn { server, backend }
}

impl StandIn {
    /// Publishes a new alert `id` about an upload to 203.0.113.7 by `curl`.
    pub fn raise(&self, id: u64) {
        let alert = json!({"kind": "sudden", "exciter": "curl sends data", "message": "curl sent 195 KiB to 203.0.113.7",
            "callback_filter": "{\"process\":\"curl\"}", "bytes": 200000, "dstip": "203.0.113.7",
            "process": {"pid": 4242, "name": "curl", "exe": "/usr/bin/curl"}});
        self.server.hub().publish("alert", json!({"id": id, "phase": "new", "alert": alert, "ignored": null}));
    }

    /// The calls of `method` so far.
    pub fn calls(&self, method: &str) -> Vec<Value> {
        self.backend.calls.lock().unwrap().iter().filter(|(m, _)| m == method).map(|(_, p)| p.clone()).collect()
    }
}
