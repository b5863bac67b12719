//! Capture sources: frames from a pcap/pcapng file (replay) and live
//! interfaces. A source parses frames on its own thread and feeds the engine in batches.

pub mod file;
pub mod interfaces;
pub mod live;
pub mod savefile;

/// Packets per batch handed to the engine.
pub const BATCH: usize = 1024;
