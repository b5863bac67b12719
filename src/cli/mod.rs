//! The headless command line: argument parsing and dispatch to subcommands.
//!
//! Flags keep the legacy daemon's names (`-b/--max-traffic-during-10-sec`,
//! `-s/--min-leak-size`), with unambiguous long-option prefixes accepted as before.

mod output;
mod replay;

use crate::settings::Thresholds;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Exit code: success.
pub const EXIT_OK: i32 = 0;
/// Exit code: bad usage.
pub const EXIT_USAGE: i32 = 2;
/// Exit code: an unreadable, empty, truncated or corrupt capture file.
pub const EXIT_BAD_FILE: i32 = 3;

#[derive(Parser, Debug)]
#[command(
    name = "leakwatch",
    version,
    infer_long_args = true,
    about = "Tells you, in plain words, when a program is sending data out"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Analyse pcap/pcapng captures offline, at full speed, in packet time.
    Replay(ReplayArgs),
}

/// Detection settings shared by every command that analyses traffic.
#[derive(Args, Debug, Clone)]
pub struct DetectionArgs {
    /// Sudden leak: more than N bytes sent within 10 seconds.
    #[arg(short = 'b', long, value_name = "N", default_value_t = Thresholds::default().max_traffic_during_10_sec)]
    pub max_traffic_during_10_sec: u64,
    /// Active and passive leaks: more than N bytes in one upload.
    #[arg(short = 's', long, value_name = "N", default_value_t = Thresholds::default().min_leak_size)]
    pub min_leak_size: u64,
    /// Do not notify the same threat again before this much (packet) time: e.g. 10m, 90s, 1h.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_duration_us)]
    pub realert_after: i64,
    /// A local network (repeatable); without it private, loopback, link-local, CGNAT and ULA
    /// addresses are local.
    #[arg(long = "local-net", value_name = "CIDR")]
    pub local_net: Vec<ipnet::IpNet>,
}

#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// Capture files (pcap or pcapng).
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// One JSON object per line instead of text.
    #[arg(long)]
    pub json: bool,
    /// Print one line per TCP/UDP flow instead of alerts.
    #[arg(long)]
    pub flows: bool,
    /// Never show a progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// Colour the output: auto (when a terminal), always or never.
    #[arg(long, value_name = "WHEN", default_value = "auto", value_parser = ["auto", "always", "never"])]
    pub color: String,
    #[command(flatten)]
    pub detection: DetectionArgs,
}

/// Parses `90`, `90s`, `10m`, `1h`, `250ms` into microseconds.
pub fn parse_duration_us(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().map_err(|_| format!("`{s}` is not a duration: write e.g. 90s, 10m or 1h"))?;
    let mult = match unit {
        "" | "s" => 1e6,
        "ms" => 1e3,
        "m" | "min" => 60e6,
        "h" => 3600e6,
        _ => return Err(format!("unknown unit `{unit}` in `{s}`: use ms, s, m or h")),
    };
    let us = n * mult;
    if !(0.0..=1e15).contains(&us) {
        return Err(format!("`{s}` is out of range"));
    }
    Ok(us as i64)
}

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
        }
    };
    match cli.command {
        Command::Replay(args) => replay::run(&args),
    }
}
