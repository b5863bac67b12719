//! Alerts: what the engine tells front ends, and their JSON form.

use crate::i18n::Messages;
use crate::naming::owner::NameTrust;
use crate::packet::Proto;
use crate::process::ProcessInfo;
use crate::time::Ts;
use serde::Serialize;
use serde_json::json;
use std::net::IpAddr;
use std::sync::Arc;

/// The detection kinds: the legacy three (`BigLeak`, `ActiveLeak`, `PassiveLeak`), one program
/// to one destination each, and `Spread`, one program to many destinations (no legacy kind).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LeakKind {
    Sudden,
    Active,
    Passive,
    Spread,
}

impl LeakKind {
    /// Every kind, in the order they are listed to people.
    pub const ALL: [LeakKind; 4] = [LeakKind::Sudden, LeakKind::Active, LeakKind::Passive, LeakKind::Spread];

    pub fn as_str(self) -> &'static str {
        match self {
            LeakKind::Sudden => "sudden",
            LeakKind::Active => "active",
            LeakKind::Passive => "passive",
            LeakKind::Spread => "spread",
        }
    }
}

/// How many destinations a spread alert lists by name (the ones that received the most).
pub const TOP_DESTINATIONS: usize = 5;

/// Where an alert is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertPhase {
    /// A threat was detected (or detected again after the cool-down): notify the user.
    New,
    /// The same threat continues (or came back within the cool-down): refresh, do not notify.
    Update,
    /// The threat went quiet; the figures are final.
    End,
}

/// One alert: a distinct threat (program × destination, or for [`LeakKind::Spread`] one program
/// × all its destinations) and how much it sent.
#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    /// Stable for the life of the threat's episode and its re-openings within the cool-down.
    pub id: u64,
    pub kind: LeakKind,
    /// Name of the threat pattern that matched (patterns arrive in a later issue).
    pub pattern: Option<String>,
    pub process: Option<Arc<ProcessInfo>>,
    /// The destination; for a spread upload, the one that received the most.
    pub dstip: IpAddr,
    /// Dominant remote port of the threat (most bytes; ties go to the lower port).
    pub dstport: u16,
    /// Dominant local port.
    pub srcport: u16,
    /// IP protocol that carried the most bytes (tcp, udp, icmp, gre, …).
    pub proto: Proto,
    /// How many destinations the threat sent to: 1, except for a spread upload (every address
    /// its program sent to since its upload began).
    pub destinations: u32,
    /// Spread uploads: the destinations that received the most (at most [`TOP_DESTINATIONS`]),
    /// most first, with their bytes; empty for the other kinds.
    pub top: Vec<(IpAddr, u64)>,
    pub hostname: Option<String>,
    pub orgname: Option<String>,
    pub asn: Option<u32>,
    pub country: Option<String>,
    /// How far `hostname` can be believed (`None` without a host name): a name the address's
    /// owner contradicts is shown as such and matches no ignore or mode filter; an unverified
    /// one matches only filters that also pin the destination (see `naming::owner`).
    pub name_trust: Option<NameTrust>,
    /// Bytes sent by the threat from `started` to `at`.
    pub bytes: u64,
    pub started: Ts,
    pub at: Ts,
    /// The ready-made ignore rule for this threat (legacy shape, compact JSON text).
    pub callback_filter: String,
}

/// An alert with its phase, as delivered to subscribers.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertEvent {
    pub phase: AlertPhase,
    pub alert: Alert,
}

impl AlertEvent {
    /// Whether this event should raise a notification.
    pub fn notify(&self) -> bool {
        self.phase == AlertPhase::New
    }
}

impl Alert {
    /// Seconds from `started` to `at`.
    pub fn duration_s(&self) -> f64 {
        self.at.secs_since(self.started).max(0.0)
    }

    /// Where it went, as `ip:port` (`[ip]:port` for IPv6).
    pub fn destination_addr(&self) -> String {
        std::net::SocketAddr::new(self.dstip, self.dstport).to_string()
    }

    /// The callback filter used when no threat pattern names the alert: with a known program
    /// it ignores that program (`Pattern.Process`) to the destination's organisation (its
    /// address when the owner is unknown), otherwise the destination address (`Pattern.IP`), in
    /// the legacy shape the old GUIs send back. A spread upload has no one destination: its
    /// filter ignores spread uploads of that program, or of that local port when the program is
    /// unknown (`Pattern.Port`).
    pub fn fallback_callback_filter(&self) -> String {
        let spread = self.kind == LeakKind::Spread;
        let lit = |v: &str| json!(format!("^{}$", quote_literal(v)));
        let dest = match &self.orgname {
            Some(org) => format!("\"orgname\":{}", lit(org)),
            None => format!("\"dstip\":{}", lit(&self.dstip.to_string())),
        };
        let (pattern_name, constraints) = match &self.process {
            Some(p) if spread => ("Pattern.Process", format!("\"processname\":{}", lit(&p.name))),
            Some(p) => ("Pattern.Process", format!("\"processname\":{},{dest}", lit(&p.name))),
            None if spread => ("Pattern.Port", format!("\"srcport\":{}", lit(&self.srcport.to_string()))),
            None => ("Pattern.IP", format!("\"dstip\":{}", lit(&self.dstip.to_string()))),
        };
        let pattern = self.pattern.as_deref().unwrap_or(pattern_name);
        let kind = if spread { format!(",\"kind\":{}", json!("^\\Qspread\\E$")) } else { String::new() };
        // serde_json's default map keeps keys sorted; build the text in the legacy key order.
        format!(
            "{{\"pattern\":{{{constraints}{kind}}},\"name\":{},\"related-patterns\":{},\"relation-mode\":\"all\"}}",
            json!(format!("Ignore.Custom.{pattern}")),
            json!(format!("^{}$", quote_literal(pattern))),
        )
    }

    /// The JSON object printed by `leakwatch replay --json` (one per line), with the message
    /// and exciter in the language of `msgs`.
    pub fn to_json(&self, msgs: &Messages) -> serde_json::Value {
        json!({
            "kind": self.kind,
            "pattern": self.pattern,
            "process": self.process.as_deref(),
            "dstip": self.dstip.to_string(),
            "dstport": self.dstport,
            "srcport": self.srcport,
            "proto": self.proto.name(),
            "destinations": self.destinations,
            "top_destinations": self.top.iter().map(|(ip, bytes)| json!({"ip": ip.to_string(), "bytes": bytes})).collect::<Vec<_>>(),
            "hostname": self.hostname,
            "orgname": self.orgname,
            "asn": self.asn,
            "country": self.country,
            "name_trust": self.name_trust,
            "bytes": self.bytes,
            "duration_s": (self.duration_s() * 1000.0).round() / 1000.0,
            "started": self.started.rfc3339(),
            "at": self.at.rfc3339(),
            "message": msgs.alert_message(self),
            "exciter": msgs.alert_exciter(self),
            "callback_filter": self.callback_filter,
        })
    }
}

/// Java `Pattern.quote`: `\Q…\E`, with any `\E` inside split out as `\E\\E\Q`.
pub fn quote_literal(s: &str) -> String {
    format!("\\Q{}\\E", s.replace("\\E", "\\E\\\\E\\Q"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert() -> Alert {
        Alert {
            id: 1,
            kind: LeakKind::Active,
            pattern: None,
            process: None,
            dstip: "198.51.100.7".parse().unwrap(),
            dstport: 443,
            srcport: 40000,
            proto: Proto::Tcp,
            destinations: 1,
            top: Vec::new(),
            hostname: None,
            orgname: None,
            asn: None,
            country: None,
            name_trust: None,
            bytes: 48000,
            started: Ts::from_secs_f64(10.0),
            at: Ts::from_secs_f64(18.25),
            callback_filter: String::new(),
        }
    }

    #[test]
    fn callback_filter_has_the_legacy_shape() {
        assert_eq!(
            alert().fallback_callback_filter(),
            r#"{"pattern":{"dstip":"^\\Q198.51.100.7\\E$"},"name":"Ignore.Custom.Pattern.IP","related-patterns":"^\\QPattern.IP\\E$","relation-mode":"all"}"#
        );
        let mut a = alert();
        a.process = Some(Arc::new(ProcessInfo { pid: 7, name: "curl".into(), exe: None, installed: false }));
        assert!(
            a.fallback_callback_filter()
                .starts_with(r#"{"pattern":{"processname":"^\\Qcurl\\E$","dstip":"^\\Q198.51.100.7\\E$"}"#),
            "{}",
            a.fallback_callback_filter()
        );
        a.orgname = Some("Gtelecom Pty Ltd".into());
        assert!(
            a.fallback_callback_filter()
                .starts_with(r#"{"pattern":{"processname":"^\\Qcurl\\E$","orgname":"^\\QGtelecom Pty Ltd\\E$"}"#),
            "{}",
            a.fallback_callback_filter()
        );
    }

    #[test]
    fn a_spread_callback_filter_pins_the_program_or_local_port_and_the_kind() {
        let mut a = alert();
        a.kind = LeakKind::Spread;
        assert!(
            a.fallback_callback_filter().starts_with(
                r#"{"pattern":{"srcport":"^\\Q40000\\E$","kind":"^\\Qspread\\E$"},"name":"Ignore.Custom.Pattern.Port""#
            ),
            "{}",
            a.fallback_callback_filter()
        );
        a.process = Some(Arc::new(ProcessInfo { pid: 7, name: "curl".into(), exe: None, installed: false }));
        assert!(
            a.fallback_callback_filter()
                .starts_with(r#"{"pattern":{"processname":"^\\Qcurl\\E$","kind":"^\\Qspread\\E$"}"#)
        );
    }

    #[test]
    fn quote_handles_backslash_e() {
        assert_eq!(quote_literal(r"a\Eb"), r"\Qa\E\\E\Qb\E");
    }
}
