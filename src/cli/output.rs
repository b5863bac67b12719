//! Printing alerts and flows for people (one line each, coloured on a terminal) and for
//! programs (one JSON object per line).

use crate::alert::{AlertEvent, AlertPhase, LeakKind};
use crate::flows::FlowRecord;
use crate::i18n::{FluentArgs, Messages};
use std::io::Write;

/// Text styling: ANSI colours or none.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color { format!("\x1b[{code}m{s}\x1b[0m") } else { s.to_string() }
    }
}

/// One human line for an alert event, or `None` for events people need not see.
pub fn alert_line(e: &AlertEvent, style: Style, notified_bytes: Option<u64>, msgs: &Messages) -> Option<String> {
    let a = &e.alert;
    let width = LeakKind::ALL.iter().map(|k| msgs.kind_name(*k).chars().count()).max().unwrap_or(0);
    match e.phase {
        AlertPhase::New => {
            let code = match a.kind {
                LeakKind::Sudden => "1;31",
                LeakKind::Active => "1;33",
                LeakKind::Passive => "1;35",
                LeakKind::Spread => "1;36",
            };
            let label = format!("{:<width$}", msgs.kind_name(a.kind));
            Some(format!(
                "{}  {}  {}",
                style.paint("2", &a.at.rfc3339()),
                style.paint(code, &label),
                crate::text::safe(&msgs.alert_message(a))
            ))
        }
        AlertPhase::End if notified_bytes.is_some_and(|b| a.bytes > b) => {
            let mut args = FluentArgs::new();
            args.set("duration", msgs.duration(a.duration_s()));
            args.set("size", msgs.size(a.bytes));
            Some(format!(
                "{}  {}  {}: {}",
                " ".repeat(24),
                style.paint("2", &format!("{:<width$}", "...")),
                a.destination_addr(),
                msgs.text("alert-went-on", Some(&args)),
            ))
        }
        _ => None,
    }
}

/// One JSON line for a new alert.
pub fn alert_json(e: &AlertEvent, file: &str, msgs: &Messages) -> String {
    let mut v = e.alert.to_json(msgs);
    v["file"] = serde_json::Value::String(file.to_string());
    v.to_string()
}

/// One human line for a flow.
pub fn flow_line(f: &FlowRecord) -> String {
    format!(
        "{} {} -> {}  out {} pkts {} B (payload {} B)  in {} pkts {} B (payload {} B)  {} .. {}",
        f.proto.name(),
        f.local,
        f.remote,
        f.out.packets,
        f.out.bytes,
        f.out.payload,
        f.inc.packets,
        f.inc.bytes,
        f.inc.payload,
        f.first.rfc3339(),
        f.last.rfc3339()
    )
}

/// One JSON line for a flow.
pub fn flow_json(f: &FlowRecord, file: &str) -> String {
    let mut v = f.to_json();
    v["file"] = serde_json::Value::String(file.to_string());
    v.to_string()
}

/// Writes a line to stdout; a closed pipe (e.g. `| head`) ends quietly.
pub fn emit(out: &mut impl Write, line: &str) {
    if writeln!(out, "{line}").is_err() {
        std::process::exit(0);
    }
}
