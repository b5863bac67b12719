//! `leakwatch history alerts|uploads`: reads the history database and prints text, JSON lines
//! or CSV.

use super::{EXIT_BAD_FILE, EXIT_OK, EXIT_USAGE, HistoryCommand, HistoryDbArg};
use crate::history::{AlertQuery, GroupBy, HistoryStore, UploadRow};
use std::io::Write;

pub fn run(cmd: &HistoryCommand) -> i32 {
    let db = match cmd {
        HistoryCommand::Alerts { db, .. } | HistoryCommand::Uploads { db, .. } => db,
    };
    // The service's history when it runs, unless a database was named.
    let local = db.path.is_some() || std::env::var_os("LEAKWATCH_HISTORY_DIR").is_some_and(|v| !v.is_empty());
    if !local {
        match super::service_cmd::try_connect() {
            Ok(Some(mut client)) => return from_service(cmd, &mut client),
            Ok(None) => {}
            Err(code) => return code,
        }
    }
    let Some(path) = db.path.clone().or_else(crate::history::default_path) else {
        tracing::error!("no data directory is known for this user: give the database with --db FILE");
        return EXIT_USAGE;
    };
    let store = match HistoryStore::open_existing(&path) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("{e}");
            return EXIT_BAD_FILE;
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let result = match cmd {
        HistoryCommand::Alerts { since, program, search, json, db } => {
            alerts(&store, db, since.0, program.clone(), search.clone(), *json, &mut out)
        }
        HistoryCommand::Uploads { by, since, program, json, csv, db } => {
            uploads(&store, db, *by, since.0, program.as_deref(), *json, *csv, &mut out)
        }
    };
    let _ = out.flush();
    match result {
        Ok(()) => EXIT_OK,
        Err(e) => {
            tracing::error!("{e}");
            EXIT_BAD_FILE
        }
    }
}

/// The start of the look-back, in seconds: from now, or from the newest record.
fn since_s(store: &HistoryStore, db: &HistoryDbArg, span: Option<i64>) -> Result<Option<i64>, String> {
    let Some(span) = span else { return Ok(None) };
    let end = if db.from_newest {
        store.newest_s().map_err(|e| e.to_string())?.unwrap_or(0)
    } else {
        chrono::Utc::now().timestamp()
    };
    Ok(Some(end.saturating_sub(span)))
}

fn alerts(
    store: &HistoryStore,
    db: &HistoryDbArg,
    since: Option<i64>,
    program: Option<String>,
    text: Option<String>,
    json: bool,
    out: &mut impl Write,
) -> Result<(), String> {
    let since_us = since_s(store, db, since)?.map(|s| s.saturating_mul(1_000_000));
    let q = AlertQuery { since_us, program, text, limit: 0, until_us: None };
    let rows: Vec<serde_json::Value> =
        store.alerts(&q).map_err(|e| e.to_string())?.into_iter().map(|a| a.json).collect();
    print_alerts(&rows, json, out);
    Ok(())
}

/// Prints stored alerts (newest first), as JSON lines or text.
fn print_alerts(rows: &[serde_json::Value], json: bool, out: &mut impl Write) {
    for j in rows {
        let line = if json {
            j.to_string()
        } else {
            let ignored = match j["ignored_scope"].as_str() {
                Some(scope) => format!("  [ignored: {scope}]"),
                None => String::new(),
            };
            format!(
                "{}  {:<7}  {}{}",
                j["at"].as_str().unwrap_or("-"),
                j["kind"].as_str().unwrap_or("-"),
                j["message"].as_str().unwrap_or(""),
                ignored
            )
        };
        let line = if json { line } else { crate::text::safe(&line).into_owned() };
        let _ = writeln!(out, "{line}");
    }
}

#[allow(clippy::too_many_arguments)]
fn uploads(
    store: &HistoryStore,
    db: &HistoryDbArg,
    by: GroupBy,
    since: Option<i64>,
    program: Option<&str>,
    json: bool,
    csv: bool,
    out: &mut impl Write,
) -> Result<(), String> {
    let since = since_s(store, db, since)?;
    let rows = store.uploads(since, by, program, 0).map_err(|e| e.to_string())?;
    print_uploads(&rows, by, json, csv, out);
    Ok(())
}

/// Prints upload totals (largest first), as text, JSON lines or CSV.
fn print_uploads(rows: &[UploadRow], by: GroupBy, json: bool, csv: bool, out: &mut impl Write) {
    let name = match by {
        GroupBy::Program => "program",
        GroupBy::Destination => "organisation",
        GroupBy::Country => "country",
    };
    if csv {
        let header = if by == GroupBy::Destination { format!("{name},country,bytes") } else { format!("{name},bytes") };
        let _ = writeln!(out, "{header}");
    }
    for r in rows {
        let line = upload_line(r, by, name, json, csv);
        let _ = writeln!(out, "{}", if json { line } else { crate::text::safe(&line).into_owned() });
    }
}

/// `history alerts|uploads` answered by the service (its own database).
fn from_service(cmd: &HistoryCommand, c: &mut crate::api::client::Client) -> i32 {
    use serde_json::{Value, json};
    let span = |s: &crate::history::Span| s.0.map(|secs| format!("{secs}s")).unwrap_or_else(|| "all".to_string());
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let result = match cmd {
        HistoryCommand::Alerts { since, program, search, json: as_json, db } => c
            .call(
                "history.alerts",
                json!({"since": span(since), "program": program, "search": search, "from_newest": db.from_newest}),
            )
            .map(|rows| print_alerts(rows.as_array().map_or(&[][..], Vec::as_slice), *as_json, &mut out)),
        HistoryCommand::Uploads { by, since, program, json: as_json, csv, db } => {
            let by_name = match by {
                GroupBy::Program => "program",
                GroupBy::Destination => "destination",
                GroupBy::Country => "country",
            };
            c.call(
                "history.uploads",
                json!({"by": by_name, "since": span(since), "program": program, "from_newest": db.from_newest}),
            )
            .map(|rows| {
                let rows: Vec<UploadRow> = rows
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|r: &Value| UploadRow {
                        key: r["key"].as_str().unwrap_or_default().to_string(),
                        country: r["country"].as_str().map(str::to_string),
                        bytes: r["bytes"].as_u64().unwrap_or(0),
                    })
                    .collect();
                print_uploads(&rows, *by, *as_json, *csv, &mut out)
            })
        }
    };
    let _ = out.flush();
    match result {
        Ok(()) => EXIT_OK,
        Err(e) => {
            tracing::error!("{e}");
            super::service_cmd::EXIT_SERVICE
        }
    }
}

fn upload_line(r: &UploadRow, by: GroupBy, name: &str, json: bool, csv: bool) -> String {
    use crate::history::csv_field as field;
    let key = if r.key.is_empty() { "unknown" } else { &r.key };
    let country = r.country.as_deref().filter(|c| !c.is_empty()).unwrap_or("");
    if json {
        let mut v = serde_json::json!({ name: key, "bytes": r.bytes });
        if by == GroupBy::Destination {
            v["country"] = if country.is_empty() { serde_json::Value::Null } else { country.into() };
        }
        v.to_string()
    } else if csv {
        if by == GroupBy::Destination {
            format!("{},{},{}", field(key), field(country), r.bytes)
        } else {
            format!("{},{}", field(key), r.bytes)
        }
    } else if by == GroupBy::Destination {
        format!("{:>12}  {key} ({})", human_bytes(r.bytes), if country.is_empty() { "?" } else { country })
    } else {
        format!("{:>12}  {key}", human_bytes(r.bytes))
    }
}

/// `1.5 MiB`-style sizes.
fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut i = 0;
    while v >= 1024.0 && i + 1 < UNITS.len() {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 { format!("{b} B") } else { format!("{v:.1} {}", UNITS[i]) }
}
