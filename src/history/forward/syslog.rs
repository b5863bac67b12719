//! `--forward syslog://…`: RFC 5424 messages over UDP (RFC 5426, one message per datagram) or
//! TCP (RFC 6587 octet counting: `LEN SP MESSAGE`). A TCP connection that fails is dropped and
//! tried again at the next alert, at most every few seconds; messages meanwhile are dropped.

use super::{Sink, hostname, phase_name};
use crate::alert::{AlertEvent, AlertPhase};
use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs, UdpSocket};
use std::time::{Duration, Instant};

/// Syslog over UDP or TCP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

/// Wait at least this long between two connection attempts.
const RETRY_AFTER: Duration = Duration::from_secs(5);
/// Facility `user` (1).
const FACILITY: u8 = 1;
/// Private enterprise number used for structured data (32473 is reserved for documentation
/// and examples, RFC 5612).
const SD_ID: &str = "leakwatch@32473";

pub struct SyslogSink {
    transport: Transport,
    addr: String,
    udp: Option<UdpSocket>,
    tcp: Option<TcpStream>,
    last_try: Option<Instant>,
    host: String,
}

impl SyslogSink {
    pub fn new(transport: Transport, addr: String) -> SyslogSink {
        SyslogSink { transport, addr, udp: None, tcp: None, last_try: None, host: hostname() }
    }

    fn resolve(&self) -> Result<std::net::SocketAddr, String> {
        self.addr
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve {}: {e}", self.addr))?
            .next()
            .ok_or_else(|| format!("{} has no address", self.addr))
    }

    fn connect(&mut self) -> Result<(), String> {
        if let Some(t) = self.last_try
            && t.elapsed() < RETRY_AFTER
        {
            return Err("not connected (retrying in a few seconds)".into());
        }
        self.last_try = Some(Instant::now());
        let addr = self.resolve()?;
        match self.transport {
            Transport::Udp => {
                let bind = if addr.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" };
                let s = UdpSocket::bind(bind).map_err(|e| format!("cannot open a UDP socket: {e}"))?;
                s.connect(addr).map_err(|e| format!("{}: {e}", self.addr))?;
                self.udp = Some(s);
            }
            Transport::Tcp => {
                let s = TcpStream::connect_timeout(&addr, Duration::from_secs(3))
                    .map_err(|e| format!("cannot connect to {}: {e}", self.addr))?;
                let _ = s.set_write_timeout(Some(Duration::from_secs(3)));
                self.tcp = Some(s);
            }
        }
        Ok(())
    }
}

impl Sink for SyslogSink {
    fn send(&mut self, record: &serde_json::Value, e: &AlertEvent) -> Result<(), String> {
        if self.udp.is_none() && self.tcp.is_none() {
            self.connect()?;
        }
        let msg = format_rfc5424(record, e, &self.host, std::process::id());
        let result = match (&self.udp, &mut self.tcp) {
            (Some(s), _) => s.send(msg.as_bytes()).map(|_| ()),
            (_, Some(s)) => s.write_all(format!("{} {msg}", msg.len()).as_bytes()),
            _ => return Err("not connected".into()),
        };
        result.map_err(|err| {
            self.tcp = None;
            format!("sending to {}: {err}", self.addr)
        })
    }

    fn describe(&self) -> String {
        match self.transport {
            Transport::Udp => format!("syslog://{}", self.addr),
            Transport::Tcp => format!("syslog+tcp://{}", self.addr),
        }
    }
}

/// One RFC 5424 message: `<PRI>1 TIMESTAMP HOST leakwatch PID MSGID [SD] MSG`, where MSG is
/// the alert record as JSON. New alerts have severity warning, ended ones notice.
pub fn format_rfc5424(record: &serde_json::Value, e: &AlertEvent, host: &str, pid: u32) -> String {
    let severity = if e.phase == AlertPhase::New { 4 } else { 5 };
    let pri = FACILITY * 8 + severity;
    let a = &e.alert;
    let mut sd = format!("[{SD_ID}");
    let mut param = |k: &str, v: &str| sd.push_str(&format!(" {k}=\"{}\"", sd_escape(v)));
    param("id", &a.id.to_string());
    param("phase", phase_name(e.phase));
    param("kind", a.kind.as_str());
    if let Some(p) = &a.process {
        param("program", &p.name);
        param("pid", &p.pid.to_string());
    }
    param("dstip", &a.dstip.to_string());
    param("dstport", &a.dstport.to_string());
    param("bytes", &a.bytes.to_string());
    for (k, v) in [("hostname", &a.hostname), ("org", &a.orgname), ("country", &a.country)] {
        if let Some(v) = v {
            param(k, v);
        }
    }
    sd.push(']');
    format!(
        "<{pri}>1 {} {} leakwatch {pid} alert-{} {sd} {}",
        a.at.rfc3339(),
        header_field(host, 255),
        phase_name(e.phase),
        record
    )
}

/// A header field: printable US-ASCII without spaces, at most `max` characters, or `-`.
fn header_field(s: &str, max: usize) -> String {
    let clean: String = s.chars().filter(|c| c.is_ascii_graphic()).take(max).collect();
    if clean.is_empty() { "-".into() } else { clean }
}

/// Escapes `"`, `\` and `]` in a structured-data parameter value (RFC 5424 §6.3.3).
fn sd_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '"' | '\\' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_sd_values_and_header() {
        assert_eq!(sd_escape(r#"a"b\c]d"#), r#"a\"b\\c\]d"#);
        assert_eq!(header_field("my host", 255), "myhost");
        assert_eq!(header_field("", 255), "-");
    }
}
