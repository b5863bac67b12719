//! `--forward jsonl:PATH`: alerts appended to a file, one JSON object per line. Each line is
//! written with one `write` call on a file opened for appending, so a reader (or a crash) never
//! sees half a line from us, and other writers' lines are not interleaved inside ours.

use super::Sink;
use crate::alert::AlertEvent;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

pub struct JsonlSink {
    file: File,
    path: PathBuf,
}

impl JsonlSink {
    /// Opens (creating if needed, mode 0600 on Unix) `path` for appending.
    pub fn open(path: &Path) -> Result<JsonlSink, String> {
        let mut opts = OpenOptions::new();
        opts.append(true).create(true);
        crate::os::private_file(&mut opts);
        let file = opts.open(path).map_err(|e| format!("cannot open {} for appending: {e}", path.display()))?;
        Ok(JsonlSink { file, path: path.to_owned() })
    }
}

impl Sink for JsonlSink {
    fn send(&mut self, record: &serde_json::Value, _e: &AlertEvent) -> Result<(), String> {
        let mut line = record.to_string();
        line.push('\n');
        self.file.write_all(line.as_bytes()).map_err(|e| format!("writing {}: {e}", self.path.display()))
    }

    fn describe(&self) -> String {
        format!("jsonl:{}", self.path.display())
    }
}
