//! Live capture: one thread per interface feeding the engine, a watcher that follows
//! interfaces and addresses as they come and go, and a ticker that advances packet time.
//!
//! Each capture is opened in immediate mode, non-blocking, with a 32 MiB kernel buffer, and the
//! thread waits for packets on the capture's handle ([`crate::os::Readiness`]: `poll(2)` on Unix,
//! the capture's event on Windows) with a 100 ms timeout, so a stop request is seen quickly and an
//! idle capture costs nothing. Packets are parsed on
//! the capture thread and handed over in batches with [`EngineHandle::try_send_batch`]: a busy
//! engine never stalls capture, dropped batches are counted. A partial batch is handed over
//! as soon as the kernel buffer is drained, and at the latest every 10 ms under load.
//!
//! Errors never end the engine: they are reported as [`LiveStatus`] events and the capture is
//! retried with back-off (1 s, 2 s, 4 s … 30 s).

use crate::capture::BATCH;
use crate::capture::interfaces::{self, Interface};
use crate::engine::{Batch, Command, EngineHandle};
use crate::naming::extract::Extractor;
use crate::os::Wait;
use crate::packet::{LinkType, Parsed, Parser};
use crate::time::Ts;
use crossbeam_channel::{Receiver, Sender, bounded};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Bytes captured per frame: enough for headers plus the start of the payload (TLS
/// ClientHello, DNS answers, HTTP headers). Lengths always come from the IP headers.
pub const SNAPLEN: i32 = 2048;
/// Longest wait before the kernel hands over a partly filled block of packets (ms).
pub const BLOCK_TIMEOUT_MS: i32 = 10;
/// Kernel capture buffer (the 2 MB default drops at veth speed).
pub const BUFFER_SIZE: i32 = 32 << 20;
/// A partial batch is handed over at least this often.
const FLUSH_EVERY: Duration = Duration::from_millis(10);
/// How long a capture thread waits for packets before checking for a stop request.
const POLL_MS: i32 = 100;
/// How often interfaces and addresses are listed again.
const RESCAN_EVERY: Duration = Duration::from_secs(1);
/// Longest retry delay after capture errors.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A capture that ran this long resets the back-off.
const STABLE_AFTER: Duration = Duration::from_secs(10);

/// What to capture.
#[derive(Clone, Debug, Default)]
pub struct LiveOptions {
    /// Interface names; empty = every up interface except loopback.
    pub interfaces: Vec<String>,
    /// Also capture on loopback (when no names are given) and count loopback addresses as own.
    pub include_loopback: bool,
    /// Keep the engine's local networks equal to the host's own addresses
    /// ([`Command::SetLocalNets`]); off when the user gave `--local-net`.
    pub follow_local_nets: bool,
}

/// What happens to captures, for the front end to show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LiveStatus {
    /// Capturing on `iface` (with libpcap's link type name).
    Started { iface: String, link: String },
    /// No longer capturing on `iface` (removed, down, or capture stopped).
    Stopped { iface: String, reason: String },
    /// A capture could not be opened or failed while reading. `permission` is set when the
    /// cause is missing capture rights.
    Error { iface: String, message: String, permission: bool },
    /// The capture on `iface` will be tried again after this long.
    Retry { iface: String, after: Duration },
    /// The BPF filter of `iface` changed (its addresses changed).
    Filter { iface: String, filter: String },
}

impl std::fmt::Display for LiveStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LiveStatus::Started { iface, link } => write!(f, "capturing on {iface} ({link})"),
            LiveStatus::Stopped { iface, reason } => write!(f, "stopped capturing on {iface}: {reason}"),
            LiveStatus::Error { iface, message, .. } => write!(f, "error: {iface}: {message}"),
            LiveStatus::Retry { iface, after } => write!(f, "{iface}: trying again in {} s", after.as_secs()),
            LiveStatus::Filter { iface, filter } => write!(f, "{iface}: addresses changed, filter now {filter}"),
        }
    }
}

/// Counters shared by the capture threads (lock-free reads).
#[derive(Debug, Default)]
pub struct LiveCounters {
    /// Frames read from all captures.
    pub frames: AtomicU64,
    /// IP packets parsed from them.
    pub packets: AtomicU64,
    /// Packets the kernel dropped (buffer full), from `pcap_stats`.
    pub kernel_dropped: AtomicU64,
    /// Frames with one of this host's addresses as source that another host sent (dropped).
    pub foreign_frames: AtomicU64,
    /// Interfaces currently capturing.
    active: Mutex<Vec<String>>,
}

impl LiveCounters {
    /// Interfaces currently capturing, sorted.
    pub fn active_interfaces(&self) -> Vec<String> {
        let mut v = self.active.lock().map(|v| v.clone()).unwrap_or_default();
        v.sort();
        v
    }

    fn set_active(&self, iface: &str, on: bool) {
        if let Ok(mut v) = self.active.lock() {
            v.retain(|n| n != iface);
            if on {
                v.push(iface.to_string());
            }
        }
    }
}

/// Running live capture. Dropping it stops it (see [`LiveCapture::stop`]).
pub struct LiveCapture {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    status: Receiver<LiveStatus>,
    counters: Arc<LiveCounters>,
    handle: EngineHandle,
}

impl LiveCapture {
    /// Starts capturing for the engine behind `handle`. Interfaces are listed once before
    /// this returns (and local networks sent), then every second by a watcher thread.
    pub fn start(handle: EngineHandle, options: LiveOptions) -> LiveCapture {
        let stop = Arc::new(AtomicBool::new(false));
        let (status_tx, status) = bounded(1024);
        let counters = Arc::new(LiveCounters::default());
        let mut watcher = Watcher {
            handle: handle.clone(),
            options,
            stop: stop.clone(),
            status: status_tx,
            counters: counters.clone(),
            workers: HashMap::new(),
            last_nets: None,
            list_failed: false,
        };
        watcher.scan();
        let mut threads = Vec::new();
        threads.push(
            std::thread::Builder::new()
                .name("leakwatch-watch".into())
                .spawn(move || watcher.run())
                .expect("spawning the interface watcher"),
        );
        let (h, s) = (handle.clone(), stop.clone());
        threads.push(
            std::thread::Builder::new()
                .name("leakwatch-tick".into())
                .spawn(move || {
                    while sleep_unless_stopped(&s, Duration::from_secs(1)) {
                        h.tick(wall_clock());
                    }
                })
                .expect("spawning the ticker"),
        );
        LiveCapture { stop, threads, status, counters, handle }
    }

    /// Status events (a bounded queue: events nobody reads are eventually dropped).
    pub fn status(&self) -> Receiver<LiveStatus> {
        self.status.clone()
    }

    /// Frame, packet and drop counters.
    pub fn counters(&self) -> Arc<LiveCounters> {
        self.counters.clone()
    }

    /// Batches the engine could not take (it was behind).
    pub fn dropped_batches(&self) -> u64 {
        self.handle.dropped_batches()
    }

    /// Stops every thread and waits for them (about 100 ms; at most ~1 s).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for LiveCapture {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Current wall-clock time as packet time.
pub fn wall_clock() -> Ts {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    Ts::from_timeval(d.as_secs() as i64, i64::from(d.subsec_micros()))
}

/// Sleeps `d` in small steps; false when a stop was requested.
fn sleep_unless_stopped(stop: &AtomicBool, d: Duration) -> bool {
    let end = Instant::now() + d;
    loop {
        if stop.load(Ordering::SeqCst) {
            return false;
        }
        let now = Instant::now();
        if now >= end {
            return true;
        }
        std::thread::sleep((end - now).min(Duration::from_millis(50)));
    }
}

/// Whether a libpcap error message means "no capture rights".
pub fn is_permission_error(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("permission") || m.contains("operation not permitted") || m.contains("not permitted")
}

/// Whether this host sent `frame`, when the link layer tells: the source hardware address on
/// Ethernet (given the interface's own), the packet type on Linux cooked captures (`any`).
/// `None` when it cannot be told (loopback, raw IP, tunnels).
pub fn sent_by_this_host(link: LinkType, frame: &[u8], own_mac: Option<[u8; 6]>) -> Option<bool> {
    /// Linux `PACKET_OUTGOING`.
    const OUTGOING: u8 = 4;
    match link {
        LinkType::Ethernet => Some(frame.get(6..12)? == own_mac?.as_slice()),
        LinkType::LinuxSll => Some(u16::from_be_bytes([*frame.first()?, *frame.get(1)?]) == u16::from(OUTGOING)),
        LinkType::LinuxSll2 => Some(*frame.get(10)? == OUTGOING),
        _ => None,
    }
}

/// libpcap's own words for an error.
fn pcap_reason(e: pcap::Error) -> String {
    match e {
        pcap::Error::PcapError(s) => s.trim().to_string(),
        other => other.to_string(),
    }
}

/// One interface's capture thread, as the watcher sees it.
struct Worker {
    stop: Arc<AtomicBool>,
    /// A new identity for the thread to filter on.
    pending_own: Arc<Mutex<Option<Own>>>,
    thread: Option<JoinHandle<()>>,
    index: Option<u32>,
    own: Own,
}

/// What makes a frame this host's own on one interface.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Own {
    /// The interface's addresses: what they send is captured (sorted, no duplicates).
    ips: Vec<IpAddr>,
    /// The interface's hardware address, to tell frames this host sent from frames another
    /// host forged with one of `ips` as source.
    mac: Option<[u8; 6]>,
}

impl Worker {
    fn stop(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Watcher {
    handle: EngineHandle,
    options: LiveOptions,
    stop: Arc<AtomicBool>,
    status: Sender<LiveStatus>,
    counters: Arc<LiveCounters>,
    workers: HashMap<String, Worker>,
    last_nets: Option<Vec<IpAddr>>,
    list_failed: bool,
}

impl Watcher {
    fn run(mut self) {
        while sleep_unless_stopped(&self.stop, RESCAN_EVERY) {
            self.scan();
        }
        // Ask every capture thread to stop first, then wait: they stop in parallel.
        for w in self.workers.values() {
            w.stop.store(true, Ordering::SeqCst);
        }
        for (_, w) in self.workers.drain() {
            w.stop();
        }
    }

    fn scan(&mut self) {
        let all = match interfaces::list() {
            Ok(all) => {
                self.list_failed = false;
                all
            }
            Err(e) => {
                if !self.list_failed {
                    let _ = self.status.try_send(LiveStatus::Error {
                        iface: "*".into(),
                        message: format!("cannot list interfaces: {e}"),
                        permission: false,
                    });
                }
                self.list_failed = true;
                return;
            }
        };
        // The engine learns about address changes before any packet from new captures.
        if self.options.follow_local_nets {
            let nets = interfaces::own_nets(&all, self.options.include_loopback);
            let mut ips: Vec<IpAddr> =
                all.iter().flat_map(Interface::ips).filter(|a| nets.is_explicit() && nets.is_local(*a)).collect();
            ips.sort();
            ips.dedup();
            if self.last_nets.as_ref() != Some(&ips) {
                self.last_nets = Some(ips);
                self.handle.command(Command::SetLocalNets(nets));
            }
        }
        let selected: Vec<&Interface> =
            interfaces::select(&all, &self.options.interfaces, self.options.include_loopback);
        // Removed, down, or re-created under the same name: stop.
        let gone: Vec<String> = self
            .workers
            .iter()
            .filter(|(name, w)| !selected.iter().any(|i| &i.name == *name && i.index == w.index))
            .map(|(name, _)| name.clone())
            .collect();
        for name in gone {
            if let Some(w) = self.workers.remove(&name) {
                w.stop();
            }
        }
        for i in selected {
            let mut ips = i.ips();
            ips.sort();
            ips.dedup();
            let own = Own { ips, mac: i.mac };
            match self.workers.get_mut(&i.name) {
                Some(w) => {
                    if w.own != own {
                        w.own = own;
                        if let Ok(mut p) = w.pending_own.lock() {
                            *p = Some(w.own.clone());
                        }
                    }
                }
                None => {
                    let w = self.spawn(i, own);
                    self.workers.insert(i.name.clone(), w);
                }
            }
        }
    }

    fn spawn(&self, i: &Interface, own: Own) -> Worker {
        let stop = Arc::new(AtomicBool::new(false));
        let pending_own = Arc::new(Mutex::new(None));
        let ctx = CaptureCtx {
            iface: i.name.clone(),
            own: own.clone(),
            pending_own: pending_own.clone(),
            warned_foreign: false,
            stop: stop.clone(),
            all_stop: self.stop.clone(),
            handle: self.handle.clone(),
            status: self.status.clone(),
            counters: self.counters.clone(),
        };
        let thread = std::thread::Builder::new()
            .name(format!("leakwatch-cap-{}", i.name))
            .spawn(move || ctx.run())
            .expect("spawning a capture thread");
        Worker { stop, pending_own, thread: Some(thread), index: i.index, own }
    }
}

/// Everything one capture thread owns.
struct CaptureCtx {
    iface: String,
    own: Own,
    pending_own: Arc<Mutex<Option<Own>>>,
    /// Frames forged with our address were reported on this capture.
    warned_foreign: bool,
    stop: Arc<AtomicBool>,
    all_stop: Arc<AtomicBool>,
    handle: EngineHandle,
    status: Sender<LiveStatus>,
    counters: Arc<LiveCounters>,
}

impl CaptureCtx {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst) || self.all_stop.load(Ordering::SeqCst)
    }

    fn report(&self, s: LiveStatus) {
        let _ = self.status.try_send(s);
    }

    fn run(mut self) {
        let mut backoff = Duration::from_secs(1);
        let mut reason = "capture stopped".to_string();
        while !self.stopped() {
            if let Some(own) = self.pending_own.lock().ok().and_then(|mut p| p.take()) {
                self.own = own;
            }
            match self.open() {
                Ok((cap, link)) => {
                    self.counters.set_active(&self.iface, true);
                    let started = Instant::now();
                    let result = self.capture(cap, link);
                    self.counters.set_active(&self.iface, false);
                    if started.elapsed() >= STABLE_AFTER {
                        backoff = Duration::from_secs(1);
                    }
                    match result {
                        Ok(()) => break,
                        Err(message) => {
                            reason = message.clone();
                            if self.stopped() {
                                break;
                            }
                            self.report(LiveStatus::Error { iface: self.iface.clone(), message, permission: false });
                        }
                    }
                }
                Err(message) => {
                    let permission = is_permission_error(&message);
                    reason = message.clone();
                    self.report(LiveStatus::Error { iface: self.iface.clone(), message, permission });
                }
            }
            if self.stopped() {
                break;
            }
            self.report(LiveStatus::Retry { iface: self.iface.clone(), after: backoff });
            if !sleep_unless_stopped_either(&self.stop, &self.all_stop, backoff) {
                break;
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
        if self.stop.load(Ordering::SeqCst) && !self.all_stop.load(Ordering::SeqCst) {
            reason = "the interface is gone or down".into();
        } else if self.all_stop.load(Ordering::SeqCst) {
            reason = "capture stopped".into();
        }
        self.report(LiveStatus::Stopped { iface: self.iface.clone(), reason });
    }

    fn open(&self) -> Result<(pcap::Capture<pcap::Active>, LinkType), String> {
        crate::os::capture_library()?;
        let cap = pcap::Capture::from_device(self.iface.as_str())
            .map_err(pcap_reason)?
            // Not immediate mode: the kernel hands packets over in blocks (at the latest every
            // BLOCK_TIMEOUT_MS), which costs far fewer wake-ups per packet at high rates.
            .immediate_mode(false)
            .timeout(BLOCK_TIMEOUT_MS)
            .promisc(false)
            .snaplen(SNAPLEN)
            .buffer_size(BUFFER_SIZE)
            .open()
            .map_err(pcap_reason)?;
        let mut cap = cap.setnonblock().map_err(pcap_reason)?;
        let dlt = cap.get_datalink();
        let Some(link) = LinkType::from_dlt(dlt.0) else {
            return Err(format!(
                "link type {} ({}) is not supported",
                dlt.0,
                dlt.get_name().unwrap_or_else(|_| "unknown".into())
            ));
        };
        self.apply_filter(&mut cap)?;
        self.report(LiveStatus::Started {
            iface: self.iface.clone(),
            link: dlt.get_name().unwrap_or_else(|_| format!("DLT {}", dlt.0)),
        });
        Ok((cap, link))
    }

    /// Sets the BPF filter for the own addresses; returns its text.
    fn apply_filter(&self, cap: &mut pcap::Capture<pcap::Active>) -> Result<String, String> {
        let filter = interfaces::bpf_filter(&self.own.ips);
        cap.filter(&filter, true).map_err(|e| format!("BPF filter `{filter}`: {}", pcap_reason(e)))?;
        Ok(filter)
    }

    /// Whether a frame with one of our addresses as `src` came from another host (forged, or an
    /// address conflict): such frames are dropped, counted, and reported once per capture.
    fn forged(&mut self, link: LinkType, frame: &[u8], src: IpAddr) -> bool {
        if sent_by_this_host(link, frame, self.own.mac) != Some(false) || !self.own.ips.contains(&src) {
            return false;
        }
        self.counters.foreign_frames.fetch_add(1, Ordering::Relaxed);
        if !self.warned_foreign {
            self.warned_foreign = true;
            let from = frame.get(6..12).filter(|_| link == LinkType::Ethernet).map(|m| {
                let hex: Vec<String> = m.iter().map(|b| format!("{b:02x}")).collect();
                format!(" (hardware address {})", hex.join(":"))
            });
            self.report(LiveStatus::Error {
                iface: self.iface.clone(),
                message: format!(
                    "another host{} sends frames with this machine's address {src} as their source; they are \
                     not counted as uploads. Another machine on this link may be using the same address, or \
                     forging it.",
                    from.unwrap_or_default()
                ),
                permission: false,
            });
        }
        true
    }

    /// Reads until stopped (`Ok`) or a capture error (`Err`).
    fn capture(&mut self, mut cap: pcap::Capture<pcap::Active>, link: LinkType) -> Result<(), String> {
        let mut parser = Parser::new(link);
        let mut names = Extractor::new();
        let handle = self.handle.clone();
        let new_batch = || Batch { packets: handle.packet_buffer(), ..Batch::default() };
        let mut batch = new_batch();
        let mut last_flush = Instant::now();
        let mut last_stats = Instant::now();
        let mut kernel_dropped = 0u32;
        let mut idle_errors = 0u32;
        let readiness = crate::os::Readiness::of(&cap);
        let flush = |batch: &mut Batch, last: &mut Instant| {
            *last = Instant::now();
            if batch.packets.is_empty() && batch.names.is_empty() && batch.other == 0 && batch.malformed == 0 {
                return;
            }
            let full = std::mem::replace(batch, new_batch());
            handle.try_send_batch(full);
        };
        loop {
            if self.stopped() {
                flush(&mut batch, &mut last_flush);
                return Ok(());
            }
            if let Some(own) = self.pending_own.lock().ok().and_then(|mut p| p.take()) {
                let ips_changed = own.ips != self.own.ips;
                self.own = own;
                if !ips_changed {
                    continue;
                }
                match self.apply_filter(&mut cap) {
                    Ok(filter) => self.report(LiveStatus::Filter { iface: self.iface.clone(), filter }),
                    Err(message) => {
                        self.report(LiveStatus::Error { iface: self.iface.clone(), message, permission: false })
                    }
                }
            }
            // Drain what the kernel has.
            let mut read = 0u32;
            loop {
                match cap.next_packet() {
                    Ok(pkt) => {
                        read += 1;
                        let h = pkt.header;
                        #[allow(clippy::unnecessary_cast)]
                        let ts = Ts::from_timeval(h.ts.tv_sec as i64, h.ts.tv_usec as i64);
                        self.counters.frames.fetch_add(1, Ordering::Relaxed);
                        match parser.parse_with_payload(ts, h.len, pkt.data) {
                            (Parsed::Packet(p), payload) => {
                                if self.forged(link, pkt.data, p.src) {
                                    continue;
                                }
                                self.counters.packets.fetch_add(1, Ordering::Relaxed);
                                names.extract(&p, payload, &mut batch.names);
                                batch.packets.push(p);
                            }
                            (Parsed::Other, _) => batch.other += 1,
                            (Parsed::Malformed, _) => batch.malformed += 1,
                        }
                        if batch.packets.len() >= BATCH || last_flush.elapsed() >= FLUSH_EVERY {
                            flush(&mut batch, &mut last_flush);
                        }
                        if read >= 4 * BATCH as u32 {
                            break; // look at stop requests and filters now and then
                        }
                    }
                    Err(pcap::Error::TimeoutExpired) => break,
                    Err(e) => {
                        flush(&mut batch, &mut last_flush);
                        return Err(match e {
                            pcap::Error::PcapError(s) => s.trim().to_string(),
                            other => other.to_string(),
                        });
                    }
                }
            }
            flush(&mut batch, &mut last_flush);
            if last_stats.elapsed() >= Duration::from_secs(1) {
                last_stats = Instant::now();
                if let Ok(s) = cap.stats() {
                    let d = s.dropped.wrapping_sub(kernel_dropped);
                    kernel_dropped = s.dropped;
                    self.counters.kernel_dropped.fetch_add(u64::from(d), Ordering::Relaxed);
                }
            }
            if read >= 4 * BATCH as u32 {
                continue;
            }
            match readiness.wait(POLL_MS) {
                Wait::Ready | Wait::Timeout => idle_errors = 0,
                Wait::Error => {
                    // The descriptor reports an error but reading gave none: do not spin.
                    idle_errors += 1;
                    if idle_errors > 20 {
                        return Err("the capture descriptor reports an error".into());
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
    }
}

fn sleep_unless_stopped_either(a: &AtomicBool, b: &AtomicBool, d: Duration) -> bool {
    let end = Instant::now() + d;
    loop {
        if a.load(Ordering::SeqCst) || b.load(Ordering::SeqCst) {
            return false;
        }
        let now = Instant::now();
        if now >= end {
            return true;
        }
        std::thread::sleep((end - now).min(Duration::from_millis(50)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_layer_tells_frames_this_host_sent() {
        let mac = [2, 0, 0, 0, 0, 1];
        let mut eth = vec![0u8; 60];
        eth[6..12].copy_from_slice(&mac);
        assert_eq!(sent_by_this_host(LinkType::Ethernet, &eth, Some(mac)), Some(true));
        eth[11] = 2;
        assert_eq!(sent_by_this_host(LinkType::Ethernet, &eth, Some(mac)), Some(false));
        assert_eq!(sent_by_this_host(LinkType::Ethernet, &eth, None), None, "no own address known");
        assert_eq!(sent_by_this_host(LinkType::Ethernet, &eth[..8], Some(mac)), None, "cut short");
        let mut sll = vec![0u8; 40];
        assert_eq!(sent_by_this_host(LinkType::LinuxSll, &sll, None), Some(false), "PACKET_HOST");
        sll[1] = 4;
        assert_eq!(sent_by_this_host(LinkType::LinuxSll, &sll, None), Some(true), "PACKET_OUTGOING");
        let mut sll2 = vec![0u8; 40];
        sll2[10] = 4;
        assert_eq!(sent_by_this_host(LinkType::LinuxSll2, &sll2, None), Some(true));
        sll2[10] = 0;
        assert_eq!(sent_by_this_host(LinkType::LinuxSll2, &sll2, None), Some(false));
        assert_eq!(sent_by_this_host(LinkType::RawIp, &sll2, Some(mac)), None);
        assert_eq!(sent_by_this_host(LinkType::LinuxSll2, &[], None), None);
    }

    #[test]
    fn permission_errors_are_recognised() {
        assert!(is_permission_error(
            "You don't have permission to perform this capture on that device (socket: Operation not permitted)"
        ));
        assert!(!is_permission_error("No such device exists"));
    }
}
