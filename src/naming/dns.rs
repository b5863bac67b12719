//! Names from DNS responses: every A/AAAA answer names its address with the name the client
//! asked for (following CNAME chains from the question name).

use super::{NameFact, NameSource, clean_host};
use simple_dns::rdata::RData;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Header length of a DNS message.
const HEADER: usize = 12;
/// Longest CNAME chain followed.
const MAX_CHAIN: usize = 16;
/// Most answers looked at in one response.
const MAX_ANSWERS: usize = 256;

/// Facts from a DNS message carried over UDP (the whole payload is the message).
pub fn extract_udp(payload: &[u8], out: &mut Vec<NameFact>) {
    extract_message(payload, out);
}

/// Facts from a DNS message carried over TCP: a 2-byte length prefix, then the message,
/// which must be whole in this segment.
pub fn extract_tcp(payload: &[u8], out: &mut Vec<NameFact>) {
    let Some(len) = payload.first_chunk::<2>().map(|b| usize::from(u16::from_be_bytes(*b))) else { return };
    if let Some(msg) = payload.get(2..2 + len) {
        extract_message(msg, out);
    }
}

/// Whether the header describes a standard-query response with a question and answers whose
/// counts fit the message (so parsing is bounded by the message size).
fn plausible_response(msg: &[u8]) -> bool {
    let Some(h) = msg.first_chunk::<HEADER>() else { return false };
    let count = |i: usize| usize::from(u16::from_be_bytes([h[i], h[i + 1]]));
    let is_response = h[2] & 0x80 != 0;
    let opcode = (h[2] >> 3) & 0x0f;
    let (qd, an) = (count(4), count(6));
    // Smallest question: root name + type + class = 5 bytes; smallest record 11 bytes.
    is_response && opcode == 0 && qd >= 1 && an >= 1 && qd * 5 + an * 11 <= msg.len() - HEADER
}

/// Facts from one DNS message.
pub fn extract_message(msg: &[u8], out: &mut Vec<NameFact>) {
    if !plausible_response(msg) {
        return;
    }
    // Only the question and answer sections matter: zero the authority and additional counts
    // so odd records there cannot spoil the parse.
    let mut buf = msg.to_vec();
    buf[8..12].fill(0);
    let Ok(packet) = simple_dns::Packet::parse(&buf) else { return };
    let Some(question) = packet.questions.first() else { return };
    let Some(asked) = clean_name(&question.qname) else { return };

    let answers = &packet.answers[..packet.answers.len().min(MAX_ANSWERS)];
    let names: Vec<Option<String>> = answers.iter().map(|rr| clean_name(&rr.name)).collect();
    // Names the question resolves through: the asked name, then each CNAME target in turn.
    let mut chain: Vec<String> = vec![asked.clone()];
    while chain.len() <= MAX_CHAIN {
        let current = chain.last().expect("never empty");
        let next = answers.iter().zip(&names).find_map(|(rr, owner)| match &rr.rdata {
            RData::CNAME(target) if owner.as_deref() == Some(current.as_str()) => clean_name(&target.0),
            _ => None,
        });
        match next {
            Some(n) if !chain.contains(&n) => chain.push(n),
            _ => break,
        }
    }
    for (rr, owner) in answers.iter().zip(&names) {
        let ip = match &rr.rdata {
            RData::A(a) => IpAddr::V4(Ipv4Addr::from(a.address)),
            RData::AAAA(a) => IpAddr::V6(Ipv6Addr::from(a.address)),
            _ => continue,
        };
        if owner.as_ref().is_some_and(|o| chain.contains(o)) {
            out.push(NameFact { ip, name: asked.clone(), source: NameSource::Dns, conn: None });
        }
    }
}

fn clean_name(name: &simple_dns::Name<'_>) -> Option<String> {
    clean_host(name.to_string().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use simple_dns::rdata::{A, AAAA, CNAME};
    use simple_dns::{CLASS, Name, Packet, PacketFlag, QCLASS, QTYPE, Question, ResourceRecord, TYPE};

    fn response(qname: &str, answers: Vec<ResourceRecord<'static>>) -> Vec<u8> {
        let mut p = Packet::new_reply(7);
        p.set_flags(PacketFlag::RECURSION_AVAILABLE);
        let q = Question::new(
            Name::new_unchecked(qname).into_owned(),
            QTYPE::TYPE(TYPE::A),
            QCLASS::CLASS(CLASS::IN),
            false,
        );
        p.questions.push(q);
        p.answers = answers;
        p.build_bytes_vec().unwrap()
    }

    fn rr(name: &'static str, rdata: RData<'static>) -> ResourceRecord<'static> {
        ResourceRecord::new(Name::new_unchecked(name), CLASS::IN, 60, rdata)
    }

    fn names(msg: &[u8]) -> Vec<(String, String)> {
        let mut out = Vec::new();
        extract_udp(msg, &mut out);
        out.into_iter().map(|f| (f.ip.to_string(), f.name)).collect()
    }

    #[test]
    fn cname_chain_names_the_address_with_the_question() {
        let msg = response(
            "WWW.X.com.",
            vec![
                rr("www.x.com", RData::CNAME(CNAME(Name::new_unchecked("y.cdn.net")))),
                rr("y.cdn.net", RData::CNAME(CNAME(Name::new_unchecked("z.edge.net")))),
                rr("z.edge.net", RData::A(A { address: 0x01020304 })),
                rr("z.edge.net", RData::AAAA(AAAA { address: 1 })),
                rr("unrelated.net", RData::A(A { address: 0x05060708 })),
            ],
        );
        assert_eq!(
            names(&msg),
            vec![("1.2.3.4".to_string(), "www.x.com".to_string()), ("::1".to_string(), "www.x.com".to_string())]
        );
        // Over TCP, with the length prefix.
        let mut tcp = (msg.len() as u16).to_be_bytes().to_vec();
        tcp.extend_from_slice(&msg);
        let mut out = Vec::new();
        extract_tcp(&tcp, &mut out);
        assert_eq!(out.len(), 2);
        extract_tcp(&tcp[..tcp.len() - 1], &mut out);
        assert_eq!(out.len(), 2, "a partial message is skipped");
    }

    #[test]
    fn queries_and_loops_produce_nothing() {
        let mut msg = response("a.b", vec![rr("a.b", RData::A(A { address: 1 }))]);
        assert_eq!(names(&msg).len(), 1);
        msg[2] &= 0x7f; // a query
        assert!(names(&msg).is_empty());
        let looped = response(
            "a.b",
            vec![
                rr("a.b", RData::CNAME(CNAME(Name::new_unchecked("c.d")))),
                rr("c.d", RData::CNAME(CNAME(Name::new_unchecked("a.b")))),
            ],
        );
        assert!(names(&looped).is_empty());
    }

    proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..600)) {
            let mut out = Vec::new();
            extract_udp(&data, &mut out);
            extract_tcp(&data, &mut out);
        }

        #[test]
        fn never_panics_on_damaged_responses(
            flips in proptest::collection::vec((any::<u16>(), any::<u8>()), 0..6), cut in any::<u16>()
        ) {
            let mut msg = response(
                "www.x.com",
                vec![
                    rr("www.x.com", RData::CNAME(CNAME(Name::new_unchecked("y.cdn.net")))),
                    rr("y.cdn.net", RData::A(A { address: 0x01020304 })),
                ],
            );
            for (at, v) in flips {
                let n = msg.len();
                msg[usize::from(at) % n] = v;
            }
            let n = usize::from(cut) % (msg.len() + 1);
            let mut out = Vec::new();
            extract_udp(&msg[..n], &mut out);
        }
    }
}
