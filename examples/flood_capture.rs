//! Writes a flow-flood capture (see `tests/common/flood.rs`) for `bench/flood.sh`:
//!
//! ```sh
//! cargo run --release --example flood_capture -- OUT.pcap DESTINATIONS [--upload-only]
//! ```
//!
//! DESTINATIONS distinct (address, port) pairs, one tiny packet each, spread over 200 s of packet
//! time, with a 4 MiB upload to 203.0.113.77:443 over two minutes from t = 30 s running through
//! them ([`FloodSpec::standard`]). `--upload-only` writes the upload alone, as many frames as the
//! flood (the speed baseline). Prints
//! `frames=N flood_frames=N upload_frames=N upload_payload=N`.

#[path = "../tests/common/flood.rs"]
mod flood;

use flood::FloodSpec;
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let upload_only = args.iter().any(|a| a == "--upload-only");
    let rest: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let (Some(out), Some(n)) = (rest.first(), rest.get(1).and_then(|n| n.replace('_', "").parse::<u64>().ok())) else {
        eprintln!("usage: flood_capture OUT.pcap DESTINATIONS [--upload-only]");
        return ExitCode::from(2);
    };
    let spec = FloodSpec::standard(n);
    let spec = if upload_only { spec.upload_alone() } else { spec };
    let w = flood::write(&PathBuf::from(out), spec);
    println!(
        "frames={} flood_frames={} upload_frames={} upload_payload={}",
        w.frames, w.flood_frames, w.upload_frames, w.upload_payload
    );
    ExitCode::SUCCESS
}
