//! Reads pcap and pcapng capture files without libpcap, for systems where libpcap is not there
//! (Windows without Npcap): `leakwatch replay` works everywhere, and the same frames come out as
//! libpcap gives (a test compares both on every shared capture).
//!
//! Supported: classic pcap in either byte order with microsecond or nanosecond stamps; pcapng
//! sections in either byte order with Interface Description, Enhanced, Simple and obsolete Packet
//! blocks (other blocks are skipped), `if_tsresol` time resolutions. Like libpcap, every
//! interface of a pcapng file must have the first interface's link type.
//!
//! Nothing here trusts the file: every length is checked against the block it sits in and a
//! frame is at most [`MAX_FRAME`] bytes, so a damaged file is an error, never a panic or a huge
//! allocation.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

/// Largest captured frame accepted (libpcap's own limit for savefiles).
pub const MAX_FRAME: u32 = 262_144;
/// Largest pcapng block accepted (a frame plus generous room for options).
const MAX_BLOCK: u32 = MAX_FRAME + 64 * 1024;

/// One frame as read: time stamp (seconds, microseconds), original length and captured bytes.
#[derive(Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    pub sec: i64,
    pub usec: i64,
    /// Length of the frame on the wire.
    pub len: u32,
    pub data: &'a [u8],
}

/// Why a file could not be read (further).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SavefileError {
    /// The file does not start like a pcap or pcapng file.
    #[error("{0}")]
    NotCapture(String),
    /// Reading failed part-way.
    #[error("{0}")]
    Damaged(String),
}

#[derive(Clone, Copy, Debug)]
enum Format {
    /// Classic pcap: big-endian fields, nanosecond stamps.
    Pcap { big: bool, nanos: bool },
    /// pcapng: byte order of the current section.
    Pcapng { big: bool },
}

/// One pcapng interface: its link type and how many stamp units make a second.
#[derive(Clone, Copy, Debug)]
struct Iface {
    snaplen: u32,
    units_per_sec: u64,
}

/// What one pcapng block turned out to be.
enum Step {
    Frame(i64, i64, u32),
    Interface,
    End,
}

/// A capture file opened for reading, frame by frame.
pub struct Savefile {
    input: BufReader<File>,
    format: Format,
    link: i32,
    ifaces: Vec<Iface>,
    buf: Vec<u8>,
    /// Where the frame inside `buf` starts and ends after [`Savefile::next_frame`].
    frame: (usize, usize),
}

fn u16_at(b: &[u8], at: usize, big: bool) -> u16 {
    let a = [b[at], b[at + 1]];
    if big { u16::from_be_bytes(a) } else { u16::from_le_bytes(a) }
}

fn u32_at(b: &[u8], at: usize, big: bool) -> u32 {
    let a = [b[at], b[at + 1], b[at + 2], b[at + 3]];
    if big { u32::from_be_bytes(a) } else { u32::from_le_bytes(a) }
}

/// Reads exactly `buf.len()` bytes; `Ok(false)` at a clean end of file (nothing read).
fn read_full(input: &mut impl Read, buf: &mut [u8]) -> Result<bool, SavefileError> {
    let mut got = 0;
    while got < buf.len() {
        match input.read(&mut buf[got..]) {
            Ok(0) if got == 0 => return Ok(false),
            Ok(0) => {
                return Err(SavefileError::Damaged(format!(
                    "truncated dump file; tried to read {} bytes, only got {got}",
                    buf.len()
                )));
            }
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(SavefileError::Damaged(format!("error reading dump file: {e}"))),
        }
    }
    Ok(true)
}

const PCAPNG_SHB: u32 = 0x0A0D_0D0A;
const PCAPNG_BYTE_ORDER: u32 = 0x1A2B_3C4D;

impl Savefile {
    /// Opens `path` and reads its file header (and, for pcapng, blocks up to the first
    /// interface, to know the link type).
    pub fn open(path: &Path) -> Result<Savefile, SavefileError> {
        let file = File::open(path).map_err(|e| SavefileError::NotCapture(e.to_string()))?;
        let mut input = BufReader::with_capacity(1 << 16, file);
        let mut head = [0u8; 24];
        let mut got = 0;
        while got < head.len() {
            match input.read(&mut head[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(SavefileError::NotCapture(e.to_string())),
            }
        }
        if got < 4 {
            return Err(SavefileError::NotCapture(format!(
                "truncated dump file; tried to read 4 file header bytes, only got {got}"
            )));
        }
        let magic_le = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
        let pcap = match magic_le {
            0xa1b2_c3d4 => Some((false, false)),
            0xa1b2_3c4d => Some((false, true)),
            0xd4c3_b2a1 => Some((true, false)),
            0x4d3c_b2a1 => Some((true, true)),
            _ => None,
        };
        let mut reader = Savefile {
            input,
            format: Format::Pcapng { big: false },
            link: -1,
            ifaces: Vec::new(),
            buf: Vec::new(),
            frame: (0, 0),
        };
        if let Some((big, nanos)) = pcap {
            if got < 24 {
                return Err(SavefileError::NotCapture(format!(
                    "truncated dump file; tried to read 24 file header bytes, only got {got}"
                )));
            }
            let major = u16_at(&head, 4, big);
            if major != 2 {
                return Err(SavefileError::NotCapture(format!("archaic pcap savefile format (version {major})")));
            }
            reader.format = Format::Pcap { big, nanos };
            reader.link = i32::from(u32_at(&head, 20, big) as u16);
            return Ok(reader);
        }
        if magic_le != PCAPNG_SHB {
            return Err(SavefileError::NotCapture("unknown file format".into()));
        }
        if got < 12 {
            return Err(SavefileError::NotCapture("truncated pcapng section header".into()));
        }
        // Put the bytes already read back in front: the block reader starts at the SHB.
        let first = head[..got].to_vec();
        reader.read_first_section(&first)?;
        Ok(reader)
    }

    /// Link type (pcap `LINKTYPE_*`) of the file (of its first interface for pcapng).
    pub fn link(&self) -> i32 {
        self.link
    }

    /// Handles the first pcapng blocks (`start` holds the first bytes of the file) until the
    /// first interface description, so that the link type is known before any frame.
    fn read_first_section(&mut self, start: &[u8]) -> Result<(), SavefileError> {
        let big = match u32_at(start, 8, false) {
            PCAPNG_BYTE_ORDER => false,
            x if x.swap_bytes() == PCAPNG_BYTE_ORDER => true,
            _ => return Err(SavefileError::NotCapture("pcapng section header has an unknown byte-order magic".into())),
        };
        self.format = Format::Pcapng { big };
        let total = u32_at(start, 4, big);
        if !(28..=MAX_BLOCK).contains(&total) || !total.is_multiple_of(4) {
            return Err(SavefileError::NotCapture(format!("pcapng section header has a bad length ({total})")));
        }
        let mut rest = vec![0u8; total as usize - start.len()];
        if !read_full(&mut self.input, &mut rest)? {
            return Err(SavefileError::NotCapture("truncated pcapng section header".into()));
        }
        match self.next_block().map_err(|e| SavefileError::NotCapture(e.to_string()))? {
            Step::Interface => Ok(()),
            Step::End => Err(SavefileError::NotCapture("the pcapng file describes no interface".into())),
            Step::Frame(..) => Err(SavefileError::NotCapture("a packet comes before any interface description".into())),
        }
    }

    /// The next frame, or `None` at the end of the file.
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>, SavefileError> {
        let header = match self.format {
            Format::Pcap { big, nanos } => self.next_pcap_record(big, nanos)?,
            Format::Pcapng { .. } => loop {
                match self.next_block()? {
                    Step::Interface => continue,
                    Step::End => break None,
                    Step::Frame(sec, usec, len) => break Some((sec, usec, len)),
                }
            },
        };
        Ok(header.map(|(sec, usec, len)| Frame { sec, usec, len, data: &self.buf[self.frame.0..self.frame.1] }))
    }

    fn next_pcap_record(&mut self, big: bool, nanos: bool) -> Result<Option<(i64, i64, u32)>, SavefileError> {
        let mut h = [0u8; 16];
        if !read_full(&mut self.input, &mut h)? {
            return Ok(None);
        }
        let (sec, frac, caplen, len) =
            (u32_at(&h, 0, big), u32_at(&h, 4, big), u32_at(&h, 8, big), u32_at(&h, 12, big));
        if caplen > MAX_FRAME {
            return Err(SavefileError::Damaged(format!(
                "invalid packet capture length {caplen}, bigger than the maximum of {MAX_FRAME}"
            )));
        }
        self.buf.resize(caplen as usize, 0);
        if caplen > 0 && !read_full(&mut self.input, &mut self.buf)? {
            return Err(SavefileError::Damaged(format!(
                "truncated dump file; tried to read {caplen} captured bytes, only got 0"
            )));
        }
        self.frame = (0, caplen as usize);
        let usec = if nanos { frac / 1000 } else { frac };
        Ok(Some((i64::from(sec), i64::from(usec), len)))
    }

    /// Reads pcapng blocks until one carries a frame or describes an interface.
    fn next_block(&mut self) -> Result<Step, SavefileError> {
        loop {
            let Format::Pcapng { big } = self.format else { return Ok(Step::End) };
            let mut h = [0u8; 8];
            if !read_full(&mut self.input, &mut h)? {
                return Ok(Step::End);
            }
            let kind = u32_at(&h, 0, big);
            let mut big = big;
            if kind == PCAPNG_SHB {
                // A new section: its own byte order and interfaces.
                let mut bom = [0u8; 4];
                if !read_full(&mut self.input, &mut bom)? {
                    return Err(SavefileError::Damaged("truncated pcapng section header".into()));
                }
                big = match u32::from_le_bytes(bom) {
                    PCAPNG_BYTE_ORDER => false,
                    x if x.swap_bytes() == PCAPNG_BYTE_ORDER => true,
                    _ => {
                        return Err(SavefileError::Damaged(
                            "pcapng section header has an unknown byte-order magic".into(),
                        ));
                    }
                };
                self.format = Format::Pcapng { big };
                self.ifaces.clear();
                let total = u32_at(&h, 4, big);
                if !(28..=MAX_BLOCK).contains(&total) || !total.is_multiple_of(4) {
                    return Err(SavefileError::Damaged(format!("pcapng section header has a bad length ({total})")));
                }
                let mut rest = vec![0u8; total as usize - 12];
                if !read_full(&mut self.input, &mut rest)? {
                    return Err(SavefileError::Damaged("truncated pcapng section header".into()));
                }
                continue;
            }
            let total = u32_at(&h, 4, big);
            if !(12..=MAX_BLOCK).contains(&total) || !total.is_multiple_of(4) {
                return Err(SavefileError::Damaged(format!(
                    "pcapng block of type {kind:#x} has a bad length ({total})"
                )));
            }
            let body_len = total as usize - 12;
            self.buf.resize(body_len + 4, 0);
            if !read_full(&mut self.input, &mut self.buf)? {
                return Err(SavefileError::Damaged(format!("truncated pcapng block of type {kind:#x}")));
            }
            if u32_at(&self.buf, body_len, big) != total {
                return Err(SavefileError::Damaged(format!(
                    "pcapng block of type {kind:#x}: its trailing length differs from its leading length ({total})"
                )));
            }
            let body = &self.buf[..body_len];
            match kind {
                1 => {
                    let body = body.to_vec();
                    self.add_interface(&body, big)?;
                    return Ok(Step::Interface);
                }
                // Enhanced Packet Block (32-bit interface id) and the obsolete Packet Block
                // (16-bit id, 16-bit drop count): the same layout after that.
                6 | 2 => {
                    if body_len < 20 {
                        return Err(SavefileError::Damaged(format!("pcapng packet block of type {kind} too short")));
                    }
                    let id = if kind == 6 { u32_at(body, 0, big) } else { u32::from(u16_at(body, 0, big)) };
                    let iface = self.iface(id)?;
                    let stamp = (u64::from(u32_at(body, 4, big)) << 32) | u64::from(u32_at(body, 8, big));
                    let caplen = u32_at(body, 12, big);
                    let len = u32_at(body, 16, big);
                    if caplen > MAX_FRAME || 20 + caplen as usize > body_len {
                        return Err(SavefileError::Damaged(format!(
                            "pcapng packet block: captured length {caplen} does not fit in the block"
                        )));
                    }
                    self.frame = (20, 20 + caplen as usize);
                    let (sec, usec) = split_stamp(stamp, iface.units_per_sec);
                    return Ok(Step::Frame(sec, usec, len));
                }
                // Simple Packet Block: no stamp, captured length from the block and snaplen.
                3 => {
                    if body_len < 4 {
                        return Err(SavefileError::Damaged("pcapng simple packet block too short".into()));
                    }
                    let iface = self.iface(0)?;
                    let len = u32_at(body, 0, big);
                    let mut caplen = len.min((body_len - 4) as u32);
                    if iface.snaplen != 0 {
                        caplen = caplen.min(iface.snaplen);
                    }
                    self.frame = (4, 4 + caplen as usize);
                    return Ok(Step::Frame(0, 0, len));
                }
                _ => {}
            }
        }
    }

    fn iface(&self, id: u32) -> Result<Iface, SavefileError> {
        self.ifaces.get(id as usize).copied().ok_or_else(|| {
            SavefileError::Damaged(format!("a packet names interface {id}, which the section does not describe"))
        })
    }

    /// Interface Description Block: link type, snaplen and the `if_tsresol` option.
    fn add_interface(&mut self, body: &[u8], big: bool) -> Result<(), SavefileError> {
        if body.len() < 8 {
            return Err(SavefileError::Damaged("pcapng interface description block too short".into()));
        }
        let link = u16_at(body, 0, big);
        let snaplen = u32_at(body, 4, big);
        let mut units_per_sec = 1_000_000u64;
        let mut at = 8;
        while at + 4 <= body.len() {
            let (code, len) = (u16_at(body, at, big), u16_at(body, at + 2, big) as usize);
            if code == 0 {
                break;
            }
            let value = body.get(at + 4..at + 4 + len).ok_or_else(|| {
                SavefileError::Damaged("pcapng interface description: an option runs past the block".into())
            })?;
            if code == 9 && len == 1 {
                let r = value[0];
                units_per_sec =
                    if r & 0x80 == 0 { 10u64.checked_pow(u32::from(r)) } else { 1u64.checked_shl(u32::from(r & 0x7f)) }
                        .filter(|u| *u > 0)
                        .ok_or_else(|| {
                            SavefileError::Damaged(format!(
                                "pcapng interface description: time resolution {r:#x} is out of range"
                            ))
                        })?;
            }
            at += 4 + len.div_ceil(4) * 4;
        }
        if self.link < 0 {
            self.link = i32::from(link);
        } else if i32::from(link) != self.link {
            return Err(SavefileError::Damaged(format!(
                "an interface has link type {link}, the file's first interface {}: files with several link types are not supported",
                self.link
            )));
        }
        self.ifaces.push(Iface { snaplen, units_per_sec });
        Ok(())
    }
}

/// A stamp in `units_per_sec` units since the epoch as (seconds, microseconds).
fn split_stamp(stamp: u64, units_per_sec: u64) -> (i64, i64) {
    let sec = stamp / units_per_sec;
    let frac = stamp % units_per_sec;
    let usec = (u128::from(frac) * 1_000_000 / u128::from(units_per_sec)) as i64;
    (i64::try_from(sec).unwrap_or(i64::MAX), usec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(bytes).unwrap();
        f
    }

    fn pcap_header(big: bool, link: u32) -> Vec<u8> {
        let mut v = Vec::new();
        let put32 = |v: &mut Vec<u8>, x: u32| v.extend(if big { x.to_be_bytes() } else { x.to_le_bytes() });
        put32(&mut v, 0xa1b2_c3d4);
        v.extend(if big { 2u16.to_be_bytes() } else { 2u16.to_le_bytes() });
        v.extend(if big { 4u16.to_be_bytes() } else { 4u16.to_le_bytes() });
        for x in [0, 0, 65535, link] {
            put32(&mut v, x);
        }
        v
    }

    #[test]
    fn classic_pcap_in_both_byte_orders() {
        for big in [false, true] {
            let mut b = pcap_header(big, 1);
            let put32 = |v: &mut Vec<u8>, x: u32| v.extend(if big { x.to_be_bytes() } else { x.to_le_bytes() });
            for x in [100, 250, 3, 60] {
                put32(&mut b, x);
            }
            b.extend([1, 2, 3]);
            let f = write(&b);
            let mut r = Savefile::open(f.path()).unwrap();
            assert_eq!(r.link(), 1);
            assert_eq!(r.next_frame().unwrap(), Some(Frame { sec: 100, usec: 250, len: 60, data: &[1, 2, 3] }));
            assert_eq!(r.next_frame().unwrap(), None);
        }
    }

    #[test]
    fn damage_is_an_error_not_a_panic() {
        let mut b = pcap_header(false, 1);
        b.extend(100u32.to_le_bytes());
        b.extend(0u32.to_le_bytes());
        b.extend(u32::MAX.to_le_bytes());
        b.extend(60u32.to_le_bytes());
        let f = write(&b);
        let mut r = Savefile::open(f.path()).unwrap();
        assert!(matches!(r.next_frame(), Err(SavefileError::Damaged(m)) if m.contains("capture length")));
        let f = write(b"hello, world, this is not a capture");
        assert!(matches!(Savefile::open(f.path()), Err(SavefileError::NotCapture(_))));
        let f = write(&pcap_header(false, 1)[..10]);
        assert!(matches!(Savefile::open(f.path()), Err(SavefileError::NotCapture(_))));
        // A record cut short.
        let mut b = pcap_header(false, 1);
        b.extend([1, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0]);
        let f = write(&b);
        let mut r = Savefile::open(f.path()).unwrap();
        assert!(matches!(r.next_frame(), Err(SavefileError::Damaged(m)) if m.contains("truncated")));
    }

    fn block(kind: u32, body: &[u8]) -> Vec<u8> {
        let total = 12 + body.len().div_ceil(4) * 4;
        let mut v = Vec::new();
        v.extend(kind.to_le_bytes());
        v.extend((total as u32).to_le_bytes());
        v.extend(body);
        v.resize(total - 4, 0);
        v.extend((total as u32).to_le_bytes());
        v
    }

    #[test]
    fn pcapng_with_a_nanosecond_interface() {
        let mut shb = Vec::new();
        shb.extend(PCAPNG_BYTE_ORDER.to_le_bytes());
        shb.extend([1, 0, 0, 0]);
        shb.extend(u64::MAX.to_le_bytes());
        let mut idb = Vec::new();
        idb.extend(101u16.to_le_bytes());
        idb.extend([0, 0]);
        idb.extend(0u32.to_le_bytes());
        idb.extend([9, 0, 1, 0, 9, 0, 0, 0]); // if_tsresol = 10^-9
        idb.extend([0, 0, 0, 0]);
        let stamp: u64 = 1_700_000_000 * 1_000_000_000 + 123_456_789;
        let mut epb = Vec::new();
        epb.extend(0u32.to_le_bytes());
        epb.extend(((stamp >> 32) as u32).to_le_bytes());
        epb.extend((stamp as u32).to_le_bytes());
        epb.extend(5u32.to_le_bytes());
        epb.extend(1500u32.to_le_bytes());
        epb.extend([0x45, 0, 0, 20, 7]);
        let mut file = block(PCAPNG_SHB, &shb);
        file.extend(block(0xbad, &[1, 2, 3, 4]));
        file.extend(block(1, &idb));
        file.extend(block(6, &epb));
        let f = write(&file);
        let mut r = Savefile::open(f.path()).unwrap();
        assert_eq!(r.link(), 101);
        assert_eq!(
            r.next_frame().unwrap(),
            Some(Frame { sec: 1_700_000_000, usec: 123_456, len: 1500, data: &[0x45, 0, 0, 20, 7] })
        );
        assert_eq!(r.next_frame().unwrap(), None);
        // A packet naming an interface the section does not have.
        let mut bad = epb.clone();
        bad[0] = 3;
        let mut file2 = block(PCAPNG_SHB, &shb);
        file2.extend(block(1, &idb));
        file2.extend(block(6, &bad));
        let f = write(&file2);
        let mut r = Savefile::open(f.path()).unwrap();
        assert!(matches!(r.next_frame(), Err(SavefileError::Damaged(m)) if m.contains("interface 3")));
    }
}
