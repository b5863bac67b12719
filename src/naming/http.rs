//! `Host` header of an HTTP/1.x request at the start of a TCP payload.

use super::{NameFact, NameSource, clean_host};
use std::net::IpAddr;

/// Request methods recognised at the start of a payload (each followed by a space).
pub const METHODS: [&[u8]; 8] = [b"GET ", b"POST ", b"PUT ", b"HEAD ", b"OPTIONS ", b"DELETE ", b"PATCH ", b"CONNECT "];

/// How far into the payload the headers are searched.
const MAX_HEAD: usize = 8192;

/// Whether `payload` starts like an HTTP/1.x request (`METHOD `).
pub fn looks_like_request(payload: &[u8]) -> bool {
    METHODS.iter().any(|m| payload.starts_with(m))
}

/// The raw `Host` header value (port not stripped) of a request at the start of `payload`.
pub fn host_header(payload: &[u8]) -> Option<&[u8]> {
    if !looks_like_request(payload) {
        return None;
    }
    let head = &payload[..payload.len().min(MAX_HEAD)];
    let mut lines = head.split(|&b| b == b'\n');
    let request_line = lines.next()?;
    // `METHOD target HTTP/1.x`: only HTTP/1 carries a Host header like this.
    if !request_line.trim_ascii_end().ends_with(b"HTTP/1.1") && !request_line.trim_ascii_end().ends_with(b"HTTP/1.0") {
        return None;
    }
    for line in lines {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break; // end of headers
        }
        if line.len() >= 5 && line[..5].eq_ignore_ascii_case(b"host:") {
            return Some(line[5..].trim_ascii());
        }
    }
    None
}

/// Strips a `:port` (and IPv6 literal brackets) from a Host value.
fn strip_port(host: &[u8]) -> &[u8] {
    if let Some(rest) = host.strip_prefix(b"[") {
        return rest.split(|&b| b == b']').next().unwrap_or_default();
    }
    match host.iter().rposition(|&b| b == b':') {
        Some(i) if host[i + 1..].iter().all(u8::is_ascii_digit) => &host[..i],
        _ => host,
    }
}

/// The Host fact of a TCP payload sent to `dst`. IP literals name nothing and are skipped.
pub fn extract(dst: IpAddr, payload: &[u8]) -> Option<NameFact> {
    let name = clean_host(strip_port(host_header(payload)?))?;
    Some(NameFact { ip: dst, name, source: NameSource::HttpHost, conn: None })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ip() -> IpAddr {
        "2001:db8::1".parse().unwrap()
    }

    #[test]
    fn host_with_port_and_case() {
        let req = b"POST /x HTTP/1.1\r\nUser-Agent: a\r\nhOsT:  OCSP.pki.goog:8080 \r\n\r\nbody";
        let f = extract(ip(), req).unwrap();
        assert_eq!((f.name.as_str(), f.source, f.ip), ("ocsp.pki.goog", NameSource::HttpHost, ip()));
        assert_eq!(extract(ip(), b"GET / HTTP/1.0\nHost: a.b\n\n").unwrap().name, "a.b");
    }

    #[test]
    fn no_host_no_fact() {
        assert!(extract(ip(), b"GET / HTTP/1.1\r\n\r\nHost: late.example\r\n").is_none());
        assert!(extract(ip(), b"GET / HTTP/1.1\r\nHost: 192.0.2.7:80\r\n\r\n").is_none());
        assert!(extract(ip(), b"GET / HTTP/1.1\r\nHost: [2001:db8::2]:80\r\n\r\n").is_none());
        assert!(extract(ip(), b"GET / HTTP/1.1\r\nHost: \r\n\r\n").is_none());
        assert!(extract(ip(), b"GETX / HTTP/1.1\r\nHost: a.b\r\n\r\n").is_none());
        assert!(extract(ip(), b"GET / HTTP/2\r\nHost: a.b\r\n\r\n").is_none());
        assert!(extract(ip(), b"").is_none());
    }

    proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = extract(ip(), &data);
        }

        #[test]
        fn never_panics_on_request_like_input(
            m in 0usize..8, rest in proptest::collection::vec(any::<u8>(), 0..300), host in "[ -~]{0,40}"
        ) {
            let mut req = METHODS[m].to_vec();
            req.extend_from_slice(b"/ HTTP/1.1\r\nHost:");
            req.extend_from_slice(host.as_bytes());
            req.extend_from_slice(&rest);
            let _ = extract(ip(), &req);
        }
    }
}
