//! Reading a capture file (pcap or pcapng, detected from the magic number by the built-in reader,
//! [`super::savefile`], so replay is the same on every system and needs no libpcap) on its own
//! thread, parsing frames and feeding the engine at full speed in packet time.
//!
//! Damage is reported, never fatal: an unreadable, empty or non-capture file is an error that
//! names the file; a file truncated or corrupt part-way is analysed up to the damage and the
//! error names the packet number where reading stopped.

use crate::capture::BATCH;
use crate::capture::savefile::Savefile;
use crate::engine::{Batch, EngineHandle};
use crate::naming::extract::Extractor;
use crate::packet::{LinkType, Parsed, Parser};
use crate::time::Ts;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

/// Why a capture file could not be read (completely).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("{path}: cannot open: {reason}")]
    Open { path: PathBuf, reason: String },
    #[error("{path}: the file is empty (0 bytes): give a pcap or pcapng capture")]
    Empty { path: PathBuf },
    #[error("{path}: not a capture file ({reason}): give a pcap or pcapng file, e.g. from `tcpdump -w`")]
    NotCapture { path: PathBuf, reason: String },
    #[error("{path}: the capture contains no packets")]
    NoPackets { path: PathBuf },
    #[error(
        "{path}: link type {dlt} ({name}) is not supported: use Ethernet, Linux cooked (SLL/SLL2), raw IP or loopback captures"
    )]
    LinkType { path: PathBuf, dlt: i32, name: String },
    #[error("{path}: damaged after packet {packet}: {reason}; the {packet} packets before it were analysed")]
    Damaged { path: PathBuf, packet: u64, reason: String },
}

/// What reading a file produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileStats {
    /// Frames read from the file.
    pub frames: u64,
    /// Bytes of the file consumed (estimated from record sizes), for progress.
    pub bytes_read: u64,
    pub first: Option<Ts>,
    pub last: Option<Ts>,
}

/// Reads `path` on a new thread, sending every frame's parse result to the engine behind
/// `handle` (waiting when it is behind: nothing is dropped in replay). `progress` is called
/// from that thread with the bytes read so far, about every 4 MiB.
pub fn spawn_reader(
    path: &Path,
    handle: EngineHandle,
    progress: Option<Box<dyn FnMut(u64) + Send>>,
) -> JoinHandle<Result<FileStats, FileError>> {
    let path = path.to_path_buf();
    std::thread::Builder::new()
        .name("leakwatch-file".into())
        .spawn(move || read_file(&path, &handle, progress))
        .expect("spawning the file reader thread")
}

/// Reads `path` on the calling thread (see [`spawn_reader`]).
pub fn read_file(
    path: &Path,
    handle: &EngineHandle,
    progress: Option<Box<dyn FnMut(u64) + Send>>,
) -> Result<FileStats, FileError> {
    read_file_paced(path, handle, progress, None)
}

/// Paces a replay: called with each packet's time before it is handed over, it returns how long
/// to wait first (the batch read so far is sent before waiting). The tray app's `--replay`
/// uses it to play a capture in real time, or `--speed` times faster.
pub type Pace<'a> = &'a mut dyn FnMut(Ts) -> std::time::Duration;

/// [`read_file`], optionally paced (see [`Pace`]).
pub fn read_file_paced(
    path: &Path,
    handle: &EngineHandle,
    mut progress: Option<Box<dyn FnMut(u64) + Send>>,
    mut pace: Option<Pace<'_>>,
) -> Result<FileStats, FileError> {
    let p = || path.to_path_buf();
    let meta = std::fs::metadata(path).map_err(|e| FileError::Open { path: p(), reason: e.to_string() })?;
    if meta.is_dir() {
        return Err(FileError::Open { path: p(), reason: "it is a directory".into() });
    }
    if meta.len() == 0 {
        return Err(FileError::Empty { path: p() });
    }
    // Open it ourselves first so permission errors read as such, not as a format error.
    std::fs::File::open(path).map_err(|e| FileError::Open { path: p(), reason: e.to_string() })?;
    let mut cap = Savefile::open(path).map_err(|e| FileError::NotCapture { path: p(), reason: e.to_string() })?;
    let dlt = cap.link();
    let Some(link) = LinkType::from_dlt(dlt) else {
        return Err(FileError::LinkType { path: p(), dlt, name: link_name(dlt) });
    };
    let mut parser = Parser::new(link);
    let mut names = Extractor::new();
    let mut stats = FileStats { bytes_read: 24, ..FileStats::default() };
    let mut batch = Batch { packets: handle.packet_buffer(), ..Batch::default() };
    let mut next_progress = 4 << 20;
    let outcome = loop {
        match cap.next_frame() {
            Ok(Some(frame)) => {
                let ts = Ts::from_timeval(frame.sec, frame.usec);
                stats.frames += 1;
                stats.bytes_read += 16 + frame.data.len() as u64;
                stats.first.get_or_insert(ts);
                stats.last = Some(ts);
                if let Some(wait) = pace.as_mut().map(|f| f(ts))
                    && !wait.is_zero()
                {
                    if !batch.packets.is_empty() || !batch.names.is_empty() {
                        let full = std::mem::replace(
                            &mut batch,
                            Batch { packets: handle.packet_buffer(), ..Batch::default() },
                        );
                        if !handle.send_batch(full) {
                            break Ok(());
                        }
                    }
                    std::thread::sleep(wait);
                }
                match parser.parse_with_payload(ts, frame.len, frame.data) {
                    (Parsed::Packet(p), payload) => {
                        names.extract(&p, payload, &mut batch.names);
                        batch.packets.push(p);
                    }
                    (Parsed::Other, _) => batch.other += 1,
                    (Parsed::Malformed, _) => batch.malformed += 1,
                }
                if batch.packets.len() >= BATCH {
                    let full =
                        std::mem::replace(&mut batch, Batch { packets: handle.packet_buffer(), ..Batch::default() });
                    if !handle.send_batch(full) {
                        break Ok(());
                    }
                }
                if stats.bytes_read >= next_progress {
                    next_progress = stats.bytes_read + (4 << 20);
                    if let Some(f) = progress.as_mut() {
                        f(stats.bytes_read);
                    }
                }
            }
            Ok(None) => break Ok(()),
            Err(e) => break Err(FileError::Damaged { path: p(), packet: stats.frames, reason: e.to_string() }),
        }
    };
    handle.send_batch(batch);
    if let Some(f) = progress.as_mut() {
        f(meta.len());
    }
    outcome?;
    if stats.frames == 0 {
        return Err(FileError::NoPackets { path: p() });
    }
    Ok(stats)
}

/// The name libpcap gives link type `dlt`, where the binary links libpcap (Linux, macOS).
fn link_name(dlt: i32) -> String {
    if !crate::os::LINKS_LIBPCAP {
        return "unknown".into();
    }
    pcap::Linktype(dlt).get_name().unwrap_or_else(|_| "unknown".into())
}
