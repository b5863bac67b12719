//! Printing alerts and flows for people (one line each, coloured on a terminal) and for
//! programs (one JSON object per line).

use crate::alert::{AlertEvent, AlertPhase, LeakKind};
use crate::flows::FlowRecord;
use crate::format;
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
pub fn alert_line(e: &AlertEvent, style: Style, notified_bytes: Option<u64>) -> Option<String> {
    let a = &e.alert;
    match e.phase {
        AlertPhase::New => {
            let (label, code) = match a.kind {
                LeakKind::Sudden => ("SUDDEN ", "1;31"),
                LeakKind::Active => ("ACTIVE ", "1;33"),
                LeakKind::Passive => ("PASSIVE", "1;35"),
            };
            Some(format!("{}  {}  {}", style.paint("2", &a.at.rfc3339()), style.paint(code, label), a.message()))
        }
        AlertPhase::End if notified_bytes.is_some_and(|b| a.bytes > b) => Some(format!(
            "{}  {}  ...went on: {} to {} in {} s in all, until {}",
            " ".repeat(24),
            style.paint("2", "  END  "),
            format::size(a.bytes),
            a.destination_label(),
            format::secs(a.duration_s()),
            a.at.rfc3339(),
        )),
        _ => None,
    }
}

/// One JSON line for a new alert.
pub fn alert_json(e: &AlertEvent, file: &str) -> String {
    let mut v = e.alert.to_json();
    v["file"] = serde_json::Value::String(file.to_string());
    v.to_string()
}

/// One human line for a flow.
pub fn flow_line(f: &FlowRecord) -> String {
    format!(
        "{} {} -> {}  out {} pkts {} B (payload {} B)  in {} pkts {} B (payload {} B)  {} .. {}",
        f.proto.as_str(),
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
