//! The built-in capture file reader (`leakwatch::capture::savefile`, what `replay` uses on every
//! system) gives exactly the frames libpcap gives, on every shared capture and bundled sample:
//! same count, time stamps, original lengths and bytes.

mod skip;
mod support;

use leakwatch::capture::savefile::Savefile;
use std::path::{Path, PathBuf};

fn captures() -> Vec<PathBuf> {
    let mut all: Vec<PathBuf> = Vec::new();
    for dir in [support::ndpi_dir(), support::shared_dir().join("testdata/captures/tcpdump-4.99.3")] {
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        all.extend(
            entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng")),
        );
    }
    for s in ["ookla.pcap", "whatsappfiles.pcap"] {
        all.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("samples").join(s));
    }
    all.sort();
    all
}

#[test]
fn the_builtin_reader_gives_the_frames_libpcap_gives() {
    if !leakwatch::os::LINKS_LIBPCAP {
        skip::skip("no libpcap to compare with in this build (Windows: Npcap is loaded at run time)");
        return;
    }
    let files = captures();
    assert!(files.len() >= 12, "expected the shared captures and samples, found {files:?}");
    let mut pcapng = 0;
    for path in files {
        let mut ours = Savefile::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut theirs = pcap::Capture::from_file(&path).unwrap();
        assert_eq!(ours.link(), theirs.get_datalink().0, "{}", path.display());
        pcapng += usize::from(path.extension().is_some_and(|x| x == "pcapng"));
        let mut n = 0u64;
        loop {
            let a = ours.next_frame().unwrap_or_else(|e| panic!("{} frame {n}: {e}", path.display()));
            match (a, theirs.next_packet()) {
                (None, Err(pcap::Error::NoMorePackets)) => break,
                (Some(f), Ok(p)) => {
                    #[allow(clippy::unnecessary_cast)]
                    let want = (p.header.ts.tv_sec as i64, p.header.ts.tv_usec as i64, p.header.len);
                    assert_eq!((f.sec, f.usec, f.len), want, "{} frame {n}", path.display());
                    assert_eq!(f.data, p.data, "{} frame {n}", path.display());
                }
                (a, b) => panic!(
                    "{} frame {n}: ours {:?}, libpcap {:?}",
                    path.display(),
                    a.map(|f| f.len),
                    b.map(|p| p.header.len)
                ),
            }
            n += 1;
        }
        assert!(n > 0, "{}: no frames", path.display());
    }
    assert!(pcapng >= 1, "no pcapng file among the captures");
}
