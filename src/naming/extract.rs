//! The one entry point capture sources call per packet: cheap checks first, so an ordinary
//! packet costs a few comparisons and no allocation.

use super::{NameFact, dns, http, sni};
use crate::packet::{Packet, Proto};

/// Appends the names `p` teaches (DNS answers, TLS SNI, HTTP Host) to `out`. `payload` is the
/// packet's captured transport payload (see `Parser::parse_with_payload`).
pub fn extract(p: &Packet, payload: &[u8], out: &mut Vec<NameFact>) {
    if payload.is_empty() {
        return;
    }
    match p.proto {
        Proto::Udp => {
            if p.sport == 53 {
                dns::extract_udp(payload, out);
            }
        }
        Proto::Tcp => {
            if p.sport == 53 {
                dns::extract_tcp(payload, out);
            } else if payload.len() > 5 && payload[0] == 0x16 && payload[1] == 0x03 {
                out.extend(sni::extract(p.dst, payload));
            } else if payload[0].is_ascii_uppercase() && http::looks_like_request(payload) {
                out.extend(http::extract(p.dst, payload));
            }
        }
    }
}
