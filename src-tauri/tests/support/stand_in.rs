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
    /// Fields that replace the default `status` answer's (e.g. `connection_tracing: false`).
    pub status: Mutex<serde_json::Map<String, Value>>,
    /// Programs the history has seen sending (the `history.programs` answer).
    pub known: Mutex<Vec<String>>,
    /// The open flows (the `flows.now` answer), one per program [`StandIn::stats`] was given.
    pub flows: Mutex<Vec<Value>>,
}

impl Scripted {
    fn status(&self) -> Value {
        let mut v = json!({"started": "2026-12-03T00:00:00Z", "paused": false, "interfaces": ["lo"],
            "packets": 0, "uploaded_bytes": 0, "attributed_bytes": 0,
            "connection_tracing": true, "connection_tracing_error": null});
        for (k, x) in self.status.lock().unwrap().iter() {
            v[k] = x.clone();
        }
        v
    }

    fn programs(&self) -> Value {
        let rows: Vec<Value> = self
            .known
            .lock()
            .unwrap()
            .iter()
            .map(|p| {
                json!({"program": p, "bytes": 100_000,
            "destinations": 1, "countries": [], "first": 1_700_000_000, "last": 1_700_000_060, "alerts": 0,
            "first_ever": 1_700_000_000})
            })
            .collect();
        json!({"since": 0, "until": 1_900_000_000, "newest": 1_700_000_060, "programs": rows})
    }
}

impl Backend for Scripted {
    fn call(&self, _caller: &Caller, method: &str, params: &Value) -> Result<Value, ApiError> {
        self.calls.lock().unwrap().push((method.to_string(), params.clone()));
        Ok(match method {
            "settings.get" => json!({"mode": "adequate", "max_traffic_during_10_sec": 102400,
                "min_leak_size": 32768, "realert_after_s": 600, "interfaces": ["lo"], "legacy": false}),
            "status" => self.status(),
            "history.programs" => self.programs(),
            "flows.now" => {
                let flows = self.flows.lock().unwrap().clone();
                let last = flows.iter().filter_map(|f| f["last_us"].as_i64()).max();
                json!({"now": flows.first().map(|f| f["last"].clone()), "now_us": last, "open": flows.len(), "flows": flows})
            }
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

    /// Publishes one second of uploads, as the service's `stats` event: `(pid, exe, bytes)`
    /// to 203.0.113.9 each (`exe` None: a flow no program was found for).
    /// Also keeps one open flow per program for `flows.now`.
    pub fn stats(&self, second: i64, rates_in: &[(u32, Option<&str>, u64)]) {
        let rates: Vec<Value> = rates_in
            .iter()
            .map(|(pid, exe, bytes)| {
                let process = exe.map(|e| {
                    json!({"pid": pid, "name": e.rsplit('/').next().unwrap_or(e), "exe": e,
                    "installed": true})
                });
                json!({"process": process, "remote": "203.0.113.9", "bytes": bytes, "orgname": "Example Org",
                    "country": "NL"})
            })
            .collect();
        let at = chrono::DateTime::from_timestamp(second, 0).unwrap().to_rfc3339();
        let mut flows = self.backend.flows.lock().unwrap();
        for (r, (pid, _, bytes)) in rates.iter().zip(rates_in) {
            if r["process"].is_null() {
                continue;
            }
            let local = format!("10.200.0.1:{}", 40000 + pid % 20000);
            match flows.iter_mut().find(|f| f["local"] == local.as_str()) {
                Some(f) => {
                    let sent = f["payload_out"].as_u64().unwrap_or(0) + bytes;
                    (f["payload_out"], f["bytes_out"], f["last"], f["last_us"]) =
                        (sent.into(), sent.into(), at.clone().into(), (second * 1_000_000).into());
                }
                None => flows.push(json!({"proto": "tcp", "local": local, "remote": "203.0.113.9:443",
                    "payload_out": bytes, "payload_in": 0, "bytes_out": bytes, "bytes_in": 0, "packets_out": 1,
                    "packets_in": 0, "first": at, "last": at, "last_us": second * 1_000_000, "hostname": null,
                    "orgname": "Example Org", "country": "NL", "process": r["process"]})),
            }
        }
        drop(flows);
        self.server.hub().publish("stats", json!({"second": at, "rates": rates}));
    }

    /// Sets fields of the `status` answer and publishes the new status, as the service does.
    pub fn set_status(&self, fields: Value) {
        if let Value::Object(m) = fields {
            self.backend.status.lock().unwrap().extend(m);
        }
        self.server.hub().publish("status", self.backend.status());
    }

    /// The calls of `method` so far.
    pub fn calls(&self, method: &str) -> Vec<Value> {
        self.backend.calls.lock().unwrap().iter().filter(|(m, _)| m == method).map(|(_, p)| p.clone()).collect()
    }
}
