//! Server name (SNI) from a TLS ClientHello at the start of a TCP payload.
//!
//! A careful hand parser rather than a full TLS parser: it reads only as far as the server
//! name extension, so a ClientHello cut by the snaplen or split over several TCP segments
//! still names its server when the extension is in the captured part.

use super::{NameFact, NameSource, clean_host};
use std::net::IpAddr;

/// Reads `n` bytes at `*at`, advancing it.
fn take<'a>(data: &'a [u8], at: &mut usize, n: usize) -> Option<&'a [u8]> {
    let end = at.checked_add(n)?;
    let s = data.get(*at..end)?;
    *at = end;
    Some(s)
}

fn u8_at(data: &[u8], at: &mut usize) -> Option<usize> {
    take(data, at, 1).map(|b| usize::from(b[0]))
}

fn u16_at(data: &[u8], at: &mut usize) -> Option<usize> {
    take(data, at, 2).map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
}

/// The raw host name bytes of the first `host_name` entry of the ClientHello's server name
/// extension, if the captured bytes reach it.
pub fn server_name(payload: &[u8]) -> Option<&[u8]> {
    // TLS record header: handshake (0x16), version 3.x, length.
    if payload.len() < 5 || payload[0] != 0x16 || payload[1] != 0x03 {
        return None;
    }
    let record_len = usize::from(u16::from_be_bytes([payload[3], payload[4]]));
    let record = &payload[5..payload.len().min(5 + record_len)];
    // Handshake header: ClientHello (1), 24-bit length.
    if record.len() < 4 || record[0] != 0x01 {
        return None;
    }
    let hs_len = (usize::from(record[1]) << 16) | (usize::from(record[2]) << 8) | usize::from(record[3]);
    let hello = &record[4..record.len().min(4 + hs_len)];
    let mut at = 2 + 32; // client_version, random
    let sid = u8_at(hello, &mut at)?;
    take(hello, &mut at, sid)?;
    let suites = u16_at(hello, &mut at)?;
    take(hello, &mut at, suites)?;
    let comp = u8_at(hello, &mut at)?;
    take(hello, &mut at, comp)?;
    let ext_total = u16_at(hello, &mut at)?;
    // The extensions block may be cut short by the capture: read what is there.
    let exts = &hello[at..hello.len().min(at.saturating_add(ext_total))];
    let mut at = 0;
    while at < exts.len() {
        let ty = u16_at(exts, &mut at)?;
        let len = u16_at(exts, &mut at)?;
        if ty != 0 {
            // Skipping past the end just ends the loop.
            at = at.saturating_add(len);
            continue;
        }
        let ext = take(exts, &mut at, len).or_else(|| exts.get(at..))?;
        let mut i = 0;
        let list_len = u16_at(ext, &mut i)?;
        let list = &ext[i..ext.len().min(i.saturating_add(list_len))];
        let mut j = 0;
        while j < list.len() {
            let name_type = u8_at(list, &mut j)?;
            let n = u16_at(list, &mut j)?;
            let name = take(list, &mut j, n)?;
            if name_type == 0 {
                return Some(name);
            }
        }
        return None;
    }
    None
}

/// The SNI fact of a TCP payload sent to `dst`, if it starts with a ClientHello naming a host.
pub fn extract(dst: IpAddr, payload: &[u8]) -> Option<NameFact> {
    let name = clean_host(server_name(payload)?)?;
    Some(NameFact { ip: dst, name, source: NameSource::Sni, conn: None })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A minimal ClientHello with the given extensions block.
    pub(crate) fn client_hello(exts: &[u8]) -> Vec<u8> {
        let mut hello = vec![0x03, 0x03];
        hello.extend_from_slice(&[7; 32]);
        hello.push(0); // session id
        hello.extend_from_slice(&[0, 2, 0x13, 0x01]); // one suite
        hello.extend_from_slice(&[1, 0]); // null compression
        hello.extend_from_slice(&(exts.len() as u16).to_be_bytes());
        hello.extend_from_slice(exts);
        let mut hs = vec![1, 0];
        hs.extend_from_slice(&(hello.len() as u16).to_be_bytes());
        hs.extend_from_slice(&hello);
        let mut rec = vec![0x16, 0x03, 0x01];
        rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
        rec.extend_from_slice(&hs);
        rec
    }

    pub(crate) fn sni_ext(name: &[u8]) -> Vec<u8> {
        let mut e = vec![0, 0];
        e.extend_from_slice(&((name.len() + 5) as u16).to_be_bytes());
        e.extend_from_slice(&((name.len() + 3) as u16).to_be_bytes());
        e.push(0);
        e.extend_from_slice(&(name.len() as u16).to_be_bytes());
        e.extend_from_slice(name);
        e
    }

    fn ip() -> IpAddr {
        "192.0.2.1".parse().unwrap()
    }

    #[test]
    fn finds_the_server_name_after_other_extensions() {
        let mut exts = vec![0x00, 0x0b, 0, 2, 1, 0]; // ec_point_formats
        exts.extend(sni_ext(b"WWW.Example.COM."));
        let f = extract(ip(), &client_hello(&exts)).unwrap();
        assert_eq!((f.name.as_str(), f.source, f.ip), ("www.example.com", NameSource::Sni, ip()));
    }

    #[test]
    fn truncated_hello_still_names_when_the_extension_was_captured() {
        let mut exts = sni_ext(b"github.com");
        exts.extend_from_slice(&[0x00, 0x33, 0x04, 0x00]); // key_share claiming 1 KiB
        exts.extend_from_slice(&[0; 100]);
        let hello = client_hello(&exts);
        let cut = &hello[..hello.len() - 50];
        assert_eq!(extract(ip(), cut).unwrap().name, "github.com");
    }

    #[test]
    fn rejects_non_hellos_and_bad_names() {
        assert!(extract(ip(), b"\x16\x03\x01\x00\x05\x02\x00\x00\x01\x00").is_none());
        assert!(extract(ip(), &client_hello(&[])).is_none());
        assert!(extract(ip(), &client_hello(&sni_ext(b"bad name"))).is_none());
        assert!(extract(ip(), &client_hello(&sni_ext(b"10.0.0.1"))).is_none());
        assert!(extract(ip(), &client_hello(&sni_ext(b""))).is_none());
        assert!(extract(ip(), b"").is_none());
    }

    proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = extract(ip(), &data);
        }

        #[test]
        fn never_panics_on_damaged_hellos(
            name in "[a-z0-9.-]{0,40}",
            flips in proptest::collection::vec((any::<u16>(), any::<u8>()), 0..6),
            cut in any::<u16>(),
        ) {
            let mut h = client_hello(&sni_ext(name.as_bytes()));
            for (at, v) in flips {
                let n = h.len();
                h[usize::from(at) % n] = v;
            }
            let n = usize::from(cut) % (h.len() + 1);
            let _ = extract(ip(), &h[..n]);
        }
    }
}
