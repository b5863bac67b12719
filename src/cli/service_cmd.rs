//! `leakwatch service` (running it, installing it with the system's service manager), and the
//! CLI as a client of the service: `leakwatch status`, `leakwatch watch`, and `ignores` /
//! `history` when the service runs (they fall back to local files when it does not).

use super::{EXIT_OK, IgnoresCommand, ServiceAction, ServiceArgs};
use crate::api::client::{Client, ClientError};
use crate::text::safe;
use serde_json::{Value, json};
use std::io::Write;

/// Exit code: the service could not be reached or refused the request.
pub const EXIT_SERVICE: i32 = 6;

/// `leakwatch service [install|uninstall]`.
pub fn service(args: ServiceArgs) -> i32 {
    use crate::os::service as manager;
    let done = match args.action {
        None => {
            let config = args.config.unwrap_or_else(crate::service::config::default_path);
            return if args.windows_service {
                manager::run_as_windows_service(&config, crate::service::run_with)
            } else {
                crate::service::run(&config)
            };
        }
        Some(ServiceAction::Install { config, no_start }) => {
            let config = match config.map(|c| std::path::absolute(&c).map_err(|e| (c, e))).transpose() {
                Ok(c) => c,
                Err((c, e)) => {
                    tracing::error!("--config {}: {e}", c.display());
                    return super::EXIT_USAGE;
                }
            };
            manager::install(&manager::InstallOptions { config, start: !no_start })
        }
        Some(ServiceAction::Uninstall) => manager::uninstall(),
    };
    match done {
        Ok(text) => {
            println!("{}", safe(&text));
            EXIT_OK
        }
        Err(e) => {
            tracing::error!("{e}");
            e.code
        }
    }
}

/// Connects to the service, or says why not.
fn connect() -> Result<Client, i32> {
    Client::connect_default().map_err(|e| {
        tracing::error!("{e}");
        EXIT_SERVICE
    })
}

/// The service, when one runs; `Ok(None)` when none does (use local files instead).
pub fn try_connect() -> Result<Option<Client>, i32> {
    match Client::connect_default() {
        Ok(c) => Ok(Some(c)),
        Err(e) if e.is_not_running() => Ok(None),
        Err(e) => {
            tracing::error!("{e}");
            Err(EXIT_SERVICE)
        }
    }
}

fn fail(e: ClientError) -> i32 {
    tracing::error!("{e}");
    EXIT_SERVICE
}

/// `leakwatch status`.
pub fn status(json_out: bool) -> i32 {
    let mut c = match connect() {
        Ok(c) => c,
        Err(code) => return code,
    };
    let s = match c.call("status", json!({})) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    if json_out {
        println!("{s}");
        return EXIT_OK;
    }
    let str_of = |k: &str| s[k].as_str().unwrap_or("-").to_string();
    let ifaces: Vec<String> = s["interfaces"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    let (up, attributed) = (s["uploaded_bytes"].as_u64().unwrap_or(0), s["attributed_bytes"].as_u64().unwrap_or(0));
    let mut lines = vec![
        format!("service:     {} (pid {}), running since {}", str_of("server"), s["pid"], str_of("started")),
        format!(
            "watching:    {}{}",
            if ifaces.is_empty() { "no interface yet".to_string() } else { ifaces.join(", ") },
            if s["paused"].as_bool() == Some(true) { " (paused)" } else { "" }
        ),
        format!("mode:        {}", str_of("mode")),
        format!(
            "programs:    {}",
            if s["connection_tracing"].as_bool() == Some(true) {
                "told by the kernel as they connect (short-lived ones too)".to_string()
            } else {
                format!("socket table only (connection tracing is off: {})", str_of("connection_tracing_error"))
            }
        ),
        format!(
            "traffic:     {} packets, {} dropped by the kernel, {} alerts; {} of uploaded bytes attributed",
            s["packets"],
            s["kernel_dropped"],
            s["alerts"],
            if up == 0 { "-".to_string() } else { format!("{:.0} %", attributed as f64 * 100.0 / up as f64) }
        ),
        format!(
            "legacy:      {}",
            match s["legacy_port"].as_u64() {
                Some(p) => format!("port {p} ({} clients)", s["legacy_clients"]),
                None => "off".to_string(),
            }
        ),
        format!("clients:     {} connected to the API", s["api_clients"]),
        format!("config:      {}", str_of("config")),
        format!("ignores:     {}", str_of("ignores")),
        format!("history:     {}", s["history"].as_str().unwrap_or("not recorded")),
    ];
    for n in s["notices"].as_array().into_iter().flatten() {
        lines.push(format!("notice:      {}", n.as_str().unwrap_or_default()));
    }
    for l in lines {
        println!("{}", safe(&l));
    }
    EXIT_OK
}

/// `leakwatch watch`: alerts (and, with `--changes`, every change) as they happen, until Ctrl-C.
pub fn watch(json_out: bool, changes: bool) -> i32 {
    let mut c = match connect() {
        Ok(c) => c,
        Err(code) => return code,
    };
    let kinds: &[&str] = if changes { &["alert", "change"] } else { &["alert"] };
    if let Err(e) = c.subscribe(kinds) {
        return fail(e);
    }
    let stdout = std::io::stdout();
    if json_out {
        // A first line once subscribed: a script knows from when on nothing is missed.
        let first = json!({"event": "watching", "data": {"user": c.user, "server": c.server, "events": kinds}});
        let mut out = stdout.lock();
        if writeln!(out, "{first}").and_then(|()| out.flush()).is_err() {
            return EXIT_OK;
        }
    } else {
        tracing::info!("watching the service's alerts as {} (Ctrl-C stops)", safe(&c.user));
    }
    loop {
        let ev = match c.next_event(None) {
            Ok(Some(ev)) => ev,
            Ok(None) => continue,
            Err(e) => return fail(e),
        };
        let line = if json_out { Some(ev.to_string()) } else { watch_line(&ev) };
        if let Some(line) = line {
            let mut out = stdout.lock();
            if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
                return EXIT_OK;
            }
        }
    }
}

/// One event as a line of text (`None`: nothing worth a line, e.g. an alert's update).
fn watch_line(ev: &Value) -> Option<String> {
    let data = &ev["data"];
    let text = match ev["event"].as_str()? {
        "alert" => {
            let a = &data["alert"];
            let ignored = data["ignored"].as_object().map(|i| {
                format!("  [ignored {} by {}]", i["how"].as_str().unwrap_or(""), i["by"].as_str().unwrap_or("?"))
            });
            match (data["phase"].as_str()?, ignored) {
                ("new", None) => format!(
                    "{}  {:<7}  {}",
                    a["at"].as_str().unwrap_or("-"),
                    a["kind"].as_str().unwrap_or("-"),
                    a["message"].as_str().unwrap_or("")
                ),
                (_, Some(ignored)) => format!("{}  alert {}{ignored}", a["at"].as_str().unwrap_or("-"), data["id"]),
                _ => return None,
            }
        }
        "change" => format!(
            "{}  change by {}: {}",
            data["at"].as_str().unwrap_or("-"),
            data["by"].as_str().unwrap_or("?"),
            data
        ),
        "lost" => format!("(missed {} events: this terminal was too slow)", data["events"]),
        _ => return None,
    };
    Some(safe(&text).into_owned())
}

/// `leakwatch ignores …` through the service.
pub fn ignores(cmd: &IgnoresCommand, c: &mut Client) -> i32 {
    match cmd {
        IgnoresCommand::ExportLegacy { .. } => {
            tracing::error!("export-legacy reads an ignores file: name it with --file");
            super::EXIT_USAGE
        }
        IgnoresCommand::List { .. } => {
            let list = match c.call("ignore.list", json!({})) {
                Ok(l) => l,
                Err(e) => return fail(e),
            };
            let list = list.as_array().cloned().unwrap_or_default();
            if list.is_empty() {
                println!("no ignores in the service");
            }
            for i in list {
                let how = if i["permanent"].as_bool() == Some(true) {
                    "always".to_string()
                } else {
                    i["until"].as_str().map_or("until restart".to_string(), |u| format!("until {u}"))
                };
                let line = format!(
                    "{:>4}  {:<13}  {:<10}  {:<24}  {}  {}",
                    i["id"],
                    i["source"].as_str().unwrap_or("?"),
                    i["by"].as_str().unwrap_or("-"),
                    how,
                    i["name"].as_str().unwrap_or("(no name)"),
                    i["filter"]
                );
                println!("{}", safe(&line));
            }
            EXIT_OK
        }
        IgnoresCommand::Remove { id, .. } => match c.call("ignore.remove", json!({"id": id})) {
            Ok(_) => {
                println!("removed ignore {id} (service)");
                EXIT_OK
            }
            Err(e) => fail(e),
        },
        IgnoresCommand::AddJson { json: filter, force, .. } => {
            let value: Value = match serde_json::from_str(filter) {
                Ok(v) => v,
                Err(e) => {
                    tracing::error!("the filter is not JSON: {e}");
                    return super::EXIT_USAGE;
                }
            };
            match c.call("ignore.add", json!({"filter": value, "for": "always", "force": force})) {
                Ok(r) => {
                    if let Some(w) = r.get("warning").and_then(Value::as_str) {
                        tracing::warn!("{w}");
                    }
                    println!("added ignore {} (service, always)", r["id"]);
                    EXIT_OK
                }
                Err(e) => {
                    let over_broad = matches!(&e, ClientError::Remote { code, .. } if code == "over_broad");
                    let code = fail(e);
                    if over_broad {
                        tracing::error!("add it anyway with --force");
                    }
                    code
                }
            }
        }
    }
}
