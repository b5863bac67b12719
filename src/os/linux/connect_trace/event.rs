//! The kernel's `sock:inet_sock_set_state` tracepoint, decoded: field offsets from the event's
//! `format` file, one raw record → [`StateChange`], and the [`Correlator`] that turns the
//! `CLOSE → SYN_SENT` change (made by the connecting process itself, so its pid is right) and the
//! later change that knows the local port into "this local endpoint belongs to that process".
//!
//! Pure code: every read is bounds-checked, so a malformed record is skipped, never a panic.

use ahash::AHashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// TCP states as the kernel numbers them (`include/net/tcp_states.h`).
pub const TCP_ESTABLISHED: i32 = 1;
pub const TCP_SYN_SENT: i32 = 2;
pub const TCP_CLOSE: i32 = 7;

const AF_INET: u16 = 2;
const AF_INET6: u16 = 10;
const IPPROTO_TCP: u16 = 6;

/// Where each field sits in a raw record (from the `format` file of the running kernel).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    skaddr: Field,
    oldstate: Field,
    newstate: Field,
    sport: Field,
    dport: Field,
    family: Field,
    /// Absent on kernels before 5.6 (TCP only then).
    protocol: Option<Field>,
    saddr: Field,
    daddr: Field,
    saddr_v6: Field,
    daddr_v6: Field,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Field {
    offset: usize,
    size: usize,
}

impl Layout {
    /// Reads the offsets from the text of `events/sock/inet_sock_set_state/format`. The error
    /// names the missing or odd field.
    pub fn parse(format: &str) -> Result<Layout, String> {
        let mut fields: AHashMap<&str, Field> = AHashMap::new();
        for line in format.lines() {
            let line = line.trim();
            let Some(rest) = line.strip_prefix("field:") else { continue };
            let mut decl = "";
            let (mut offset, mut size) = (None, None);
            for part in rest.split(';') {
                let part = part.trim();
                if let Some(v) = part.strip_prefix("offset:") {
                    offset = v.trim().parse::<usize>().ok();
                } else if let Some(v) = part.strip_prefix("size:") {
                    size = v.trim().parse::<usize>().ok();
                } else if decl.is_empty() {
                    decl = part;
                }
            }
            // "const void * skaddr", "__u8 saddr[4]": the name is the last word, before any '['.
            let name = decl.rsplit([' ', '*']).next().unwrap_or("");
            let name = name.split('[').next().unwrap_or("");
            if let (false, Some(offset), Some(size)) = (name.is_empty(), offset, size) {
                fields.insert(name, Field { offset, size });
            }
        }
        let get = |name: &str, sizes: &[usize]| -> Result<Field, String> {
            let f = fields.get(name).copied().ok_or_else(|| format!("the tracepoint has no field `{name}`"))?;
            if sizes.contains(&f.size) {
                Ok(f)
            } else {
                Err(format!("the tracepoint's field `{name}` has size {}, expected {sizes:?}", f.size))
            }
        };
        Ok(Layout {
            skaddr: get("skaddr", &[4, 8])?,
            oldstate: get("oldstate", &[4])?,
            newstate: get("newstate", &[4])?,
            sport: get("sport", &[2])?,
            dport: get("dport", &[2])?,
            family: get("family", &[2])?,
            protocol: get("protocol", &[2]).ok(),
            saddr: get("saddr", &[4])?,
            daddr: get("daddr", &[4])?,
            saddr_v6: get("saddr_v6", &[16])?,
            daddr_v6: get("daddr_v6", &[16])?,
        })
    }

    /// Decodes one raw record. `None` for records too short, of another protocol or family.
    pub fn decode(&self, raw: &[u8]) -> Option<StateChange> {
        let bytes = |f: Field| raw.get(f.offset..f.offset + f.size);
        let u16_at = |f: Field| bytes(f).map(|b| u16::from_ne_bytes([b[0], b[1]]));
        let i32_at = |f: Field| bytes(f).map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
        if let Some(p) = self.protocol
            && u16_at(p)? != IPPROTO_TCP
        {
            return None;
        }
        let skaddr = match bytes(self.skaddr)? {
            b if b.len() == 8 => u64::from_ne_bytes(b.try_into().ok()?),
            b => u64::from(u32::from_ne_bytes(b.try_into().ok()?)),
        };
        let (local, remote) = match u16_at(self.family)? {
            AF_INET => {
                let a: [u8; 4] = bytes(self.saddr)?.try_into().ok()?;
                let b: [u8; 4] = bytes(self.daddr)?.try_into().ok()?;
                (IpAddr::V4(Ipv4Addr::from(a)), IpAddr::V4(Ipv4Addr::from(b)))
            }
            AF_INET6 => {
                let a: [u8; 16] = bytes(self.saddr_v6)?.try_into().ok()?;
                let b: [u8; 16] = bytes(self.daddr_v6)?.try_into().ok()?;
                (IpAddr::V6(Ipv6Addr::from(a)), IpAddr::V6(Ipv6Addr::from(b)))
            }
            _ => return None,
        };
        Some(StateChange {
            skaddr,
            old: i32_at(self.oldstate)?,
            new: i32_at(self.newstate)?,
            // The tracepoint stores ports in host order.
            local_port: u16_at(self.sport)?,
            remote_port: u16_at(self.dport)?,
            local,
            remote,
        })
    }
}

/// One TCP socket changing state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateChange {
    /// The kernel address of the socket: the same for every change of one connection.
    pub skaddr: u64,
    pub old: i32,
    pub new: i32,
    pub local: IpAddr,
    pub local_port: u16,
    pub remote: IpAddr,
    pub remote_port: u16,
}

impl StateChange {
    /// The change made by `connect()` itself, in the connecting process.
    pub fn is_connect(&self) -> bool {
        self.old == TCP_CLOSE && self.new == TCP_SYN_SENT
    }
}

/// Connections being opened: socket → owner, until the local port is known.
///
/// `connect()` moves the socket to SYN_SENT before it picks the local port, so the owner is
/// taken from that change and the endpoint from the next one (SYN_SENT → ESTABLISHED, made in
/// whatever context the answer arrives). The two changes can be recorded on two CPUs and read
/// in either order, so an endpoint whose connect has not been read yet is kept too (`early`)
/// and paired when the connect comes. Bounded: at most `cap` sockets in each table.
/// How long an endpoint read before its connect waits for it.
const EARLY_FOR: std::time::Duration = std::time::Duration::from_secs(2);

pub struct Correlator<V> {
    pending: AHashMap<u64, (u64, V)>,
    /// Socket → (seq, when, local address, local port) of SYN_SENT → ESTABLISHED changes read
    /// before their connect; only [`EARLY_FOR`] old at most (a socket's address is reused by
    /// the kernel: an old entry may belong to another connection).
    early: AHashMap<u64, (u64, std::time::Instant, IpAddr, u16)>,
    cap: usize,
    seq: u64,
}

impl<V: Clone> Correlator<V> {
    pub fn new(cap: usize) -> Self {
        Correlator { pending: AHashMap::new(), early: AHashMap::new(), cap: cap.max(2), seq: 0 }
    }

    /// Feeds one change; `owner` is the process that made it, looked up by the caller only for a
    /// [`connect`](StateChange::is_connect) (reading it costs a few file reads). Returns the local
    /// endpoint and its owner once both are known.
    pub fn on_change(&mut self, c: &StateChange, owner: Option<V>) -> Option<(IpAddr, u16, V)> {
        if c.is_connect() {
            let early = self.early.remove(&c.skaddr);
            let owner = owner?;
            if c.local_port != 0 {
                // Bound before connect(): the endpoint is known already.
                return Some((c.local, c.local_port, owner));
            }
            if let Some((_, _, local, port)) = early.filter(|e| e.1.elapsed() < EARLY_FOR) {
                // Its answer was read first (recorded on another CPU).
                return Some((local, port, owner));
            }
            if self.pending.len() >= self.cap {
                evict_oldest_half(&mut self.pending, |v| v.0);
            }
            self.seq += 1;
            self.pending.insert(c.skaddr, (self.seq, owner));
            return None;
        }
        if c.old != TCP_SYN_SENT {
            return None;
        }
        match self.pending.remove(&c.skaddr) {
            Some((_, owner)) => {
                (c.new == TCP_ESTABLISHED && c.local_port != 0).then_some((c.local, c.local_port, owner))
            }
            None => {
                if c.new == TCP_ESTABLISHED && c.local_port != 0 {
                    if self.early.len() >= self.cap {
                        evict_oldest_half(&mut self.early, |v| v.0);
                    }
                    self.seq += 1;
                    self.early.insert(c.skaddr, (self.seq, std::time::Instant::now(), c.local, c.local_port));
                }
                None
            }
        }
    }

    /// Sockets waiting for their local port.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }
}

/// Drops the older half of a table whose values carry a sequence number.
fn evict_oldest_half<T>(table: &mut AHashMap<u64, T>, seq: impl Fn(&T) -> u64) {
    let mut seqs: Vec<u64> = table.values().map(&seq).collect();
    if seqs.is_empty() {
        return;
    }
    let mid = seqs.len() / 2;
    seqs.select_nth_unstable(mid);
    let cut = seqs[mid];
    table.retain(|_, v| seq(v) > cut);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The format file of Linux 6.x (read off this machine).
    pub const FORMAT: &str = "name: inet_sock_set_state
ID: 2287
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:const void * skaddr;\toffset:8;\tsize:8;\tsigned:0;
\tfield:int oldstate;\toffset:16;\tsize:4;\tsigned:1;
\tfield:int newstate;\toffset:20;\tsize:4;\tsigned:1;
\tfield:__u16 sport;\toffset:24;\tsize:2;\tsigned:0;
\tfield:__u16 dport;\toffset:26;\tsize:2;\tsigned:0;
\tfield:__u16 family;\toffset:28;\tsize:2;\tsigned:0;
\tfield:__u16 protocol;\toffset:30;\tsize:2;\tsigned:0;
\tfield:__u8 saddr[4];\toffset:32;\tsize:4;\tsigned:0;
\tfield:__u8 daddr[4];\toffset:36;\tsize:4;\tsigned:0;
\tfield:__u8 saddr_v6[16];\toffset:40;\tsize:16;\tsigned:0;
\tfield:__u8 daddr_v6[16];\toffset:56;\tsize:16;\tsigned:0;

print fmt: \"family=%s ...\"
";

    fn record(sk: u64, old: i32, new: i32, sport: u16, family: u16, local: &str, remote: &str) -> Vec<u8> {
        let mut r = vec![0u8; 72];
        r[8..16].copy_from_slice(&sk.to_ne_bytes());
        r[16..20].copy_from_slice(&old.to_ne_bytes());
        r[20..24].copy_from_slice(&new.to_ne_bytes());
        r[24..26].copy_from_slice(&sport.to_ne_bytes());
        r[26..28].copy_from_slice(&443u16.to_ne_bytes());
        r[28..30].copy_from_slice(&family.to_ne_bytes());
        r[30..32].copy_from_slice(&IPPROTO_TCP.to_ne_bytes());
        match (local.parse::<IpAddr>().unwrap(), remote.parse::<IpAddr>().unwrap()) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                r[32..36].copy_from_slice(&a.octets());
                r[36..40].copy_from_slice(&b.octets());
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                r[40..56].copy_from_slice(&a.octets());
                r[56..72].copy_from_slice(&b.octets());
            }
            _ => panic!("mixed families"),
        }
        r
    }

    #[test]
    fn layout_of_a_real_kernel() {
        let l = Layout::parse(FORMAT).unwrap();
        assert_eq!(l.skaddr, Field { offset: 8, size: 8 });
        assert_eq!(l.daddr_v6, Field { offset: 56, size: 16 });
        assert_eq!(l.protocol, Some(Field { offset: 30, size: 2 }));
        let old_kernel = FORMAT.replace("\tfield:__u16 protocol;\toffset:30;\tsize:2;\tsigned:0;\n", "");
        assert_eq!(Layout::parse(&old_kernel).unwrap().protocol, None, "protocol is optional");
        let err = Layout::parse(&FORMAT.replace("sport", "xport")).unwrap_err();
        assert!(err.contains("`sport`"), "{err}");
        let err = Layout::parse(&FORMAT.replace("saddr[4];\toffset:32;\tsize:4", "saddr[4];\toffset:32;\tsize:3"))
            .unwrap_err();
        assert!(err.contains("`saddr`") && err.contains("size 3"), "{err}");
    }

    #[test]
    fn decodes_v4_and_v6_and_rejects_short_or_foreign_records() {
        let l = Layout::parse(FORMAT).unwrap();
        let c = l.decode(&record(7, TCP_CLOSE, TCP_SYN_SENT, 0, AF_INET, "10.200.0.1", "10.200.0.2")).unwrap();
        assert!(c.is_connect());
        assert_eq!((c.skaddr, c.local, c.remote_port), (7, "10.200.0.1".parse().unwrap(), 443));
        let c = l.decode(&record(8, TCP_SYN_SENT, TCP_ESTABLISHED, 40_001, AF_INET6, "fd00:200::1", "fd00:200::2"));
        let c = c.unwrap();
        assert_eq!((c.local, c.local_port), ("fd00:200::1".parse().unwrap(), 40_001));
        let full = record(8, 1, 2, 3, AF_INET, "1.2.3.4", "5.6.7.8");
        // An IPv4 record needs its first 40 bytes, an IPv6 one all 72.
        for n in 0..40 {
            assert_eq!(l.decode(&full[..n]), None, "a record cut at {n} bytes is skipped");
        }
        assert!(l.decode(&full[..40]).is_some());
        let v6 = record(8, 1, 2, 3, AF_INET6, "::1", "::2");
        for n in 0..72 {
            assert_eq!(l.decode(&v6[..n]), None, "an IPv6 record cut at {n} bytes is skipped");
        }
        assert_eq!(l.decode(&record(9, 1, 2, 3, 99, "1.2.3.4", "5.6.7.8")), None, "unknown family");
        let mut mptcp = full.clone();
        mptcp[30..32].copy_from_slice(&262u16.to_ne_bytes());
        assert_eq!(l.decode(&mptcp), None, "other protocols are skipped");
    }

    fn change(sk: u64, old: i32, new: i32, port: u16) -> StateChange {
        let a: IpAddr = "10.200.0.1".parse().unwrap();
        let b: IpAddr = "10.200.0.2".parse().unwrap();
        StateChange { skaddr: sk, old, new, local: a, local_port: port, remote: b, remote_port: 9000 }
    }

    #[test]
    fn connect_then_established_gives_the_endpoint_its_owner() {
        let mut c: Correlator<u32> = Correlator::new(16);
        assert_eq!(c.on_change(&change(1, TCP_CLOSE, TCP_SYN_SENT, 0), Some(4242)), None);
        assert_eq!(c.pending(), 1);
        let got = c.on_change(&change(1, TCP_SYN_SENT, TCP_ESTABLISHED, 40_000), None);
        assert_eq!(got, Some(("10.200.0.1".parse().unwrap(), 40_000, 4242)));
        assert_eq!(c.pending(), 0);
        // A refused connection ends without an endpoint.
        c.on_change(&change(2, TCP_CLOSE, TCP_SYN_SENT, 0), Some(1));
        assert_eq!(c.on_change(&change(2, TCP_SYN_SENT, TCP_CLOSE, 40_001), None), None);
        assert_eq!(c.pending(), 0);
        // Bound first: known at once.
        let got = c.on_change(&change(3, TCP_CLOSE, TCP_SYN_SENT, 5555), Some(7));
        assert_eq!(got.map(|g| (g.1, g.2)), Some((5555, 7)));
        // Changes of sockets never seen connecting say nothing (yet).
        assert_eq!(c.on_change(&change(4, TCP_SYN_SENT, TCP_ESTABLISHED, 1), None), None);
        assert_eq!(c.on_change(&change(5, TCP_ESTABLISHED, 4, 1), None), None);
    }

    /// The answer's change can be read before the connect's (two CPUs' rings): the endpoint
    /// waits for its owner. Seen as 1 or 2 of 30 short-lived programs unattributed.
    #[test]
    fn established_read_before_its_connect_is_paired_when_the_connect_comes() {
        let mut c: Correlator<u32> = Correlator::new(16);
        assert_eq!(c.on_change(&change(1, TCP_SYN_SENT, TCP_ESTABLISHED, 40_000), None), None);
        let got = c.on_change(&change(1, TCP_CLOSE, TCP_SYN_SENT, 0), Some(4242));
        assert_eq!(got, Some(("10.200.0.1".parse().unwrap(), 40_000, 4242)));
        // Used once: the next connect of a socket at that address waits for its own answer.
        assert_eq!(c.on_change(&change(1, TCP_CLOSE, TCP_SYN_SENT, 0), Some(7)), None);
        // Bounded like the pending connects.
        for sk in 100..10_000u64 {
            c.on_change(&change(sk, TCP_SYN_SENT, TCP_ESTABLISHED, 1), None);
            assert!(c.early.len() <= 16);
        }
    }

    #[test]
    fn pending_sockets_are_bounded_and_the_newest_kept() {
        let mut c: Correlator<u64> = Correlator::new(100);
        for sk in 0..10_000u64 {
            c.on_change(&change(sk, TCP_CLOSE, TCP_SYN_SENT, 0), Some(sk));
            assert!(c.pending() <= 100);
        }
        let got = c.on_change(&change(9_999, TCP_SYN_SENT, TCP_ESTABLISHED, 1), None);
        assert_eq!(got.map(|g| g.2), Some(9_999), "the newest connect is still pending");
    }
}
