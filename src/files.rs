//! The user's files, read and saved safely, for every file Leakwatch reads or writes (ignores,
//! settings, config, patterns, data, history export, the history database's backups): reads that
//! never block on a FIFO or device put in a file's place, atomic private writes that never leave a
//! half-written file, private directories, and backups of unusable files that never overwrite
//! anything.

use chrono::{DateTime, Utc};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

static NEXT_TMP: AtomicU64 = AtomicU64::new(0);

/// What a path that is not a regular file is, for messages.
fn kind_of(meta: &fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if let Some(kind) = crate::os::special_file_kind(&t) {
        return kind;
    }
    if t.is_dir() { "a directory" } else { "not a regular file" }
}

/// The error for a path that is there but is not a regular file (kind `InvalidInput`).
fn not_regular(meta: &fs::Metadata) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("it is {}, not a regular file: remove it or put a regular file in its place", kind_of(meta)),
    )
}

/// Opens `path` for reading, refusing at once anything but a regular file (a FIFO, device,
/// socket or directory put in a file's place): the open itself is non-blocking, so a FIFO
/// without a writer cannot hang start-up, and nothing is read from it.
pub fn open_regular(path: &Path) -> io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    crate::os::nonblocking_open(&mut options);
    let file = options.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(not_regular(&meta));
    }
    Ok(file)
}

/// The whole of the regular file `path` (see [`open_regular`]), refusing one larger than `max`
/// bytes before reading it (kind `InvalidData`, with the size).
pub fn read_regular(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let file = open_regular(path)?;
    let len = file.metadata()?.len();
    if len > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("it is {len} bytes, more than the {max} bytes allowed"),
        ));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(io::Error::new(io::ErrorKind::InvalidData, format!("it grew past the {max} bytes allowed")));
    }
    Ok(bytes)
}

/// [`read_regular`] as UTF-8 text (kind `InvalidData` when it is not).
pub fn read_regular_text(path: &Path, max: u64) -> io::Result<String> {
    String::from_utf8(read_regular(path, max)?)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "it is not UTF-8 text"))
}

/// `Ok` when nothing is at `path` or a regular file is (symbolic links followed, nothing
/// opened): for files another library opens itself, such as the history database.
pub fn check_regular(path: &Path) -> io::Result<()> {
    match fs::metadata(path) {
        Ok(meta) if !meta.is_file() => Err(not_regular(&meta)),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// `.<file name>.tmp-`: the start of the temporary files [`write_atomically`] makes for `path`.
fn temp_prefix(path: &Path) -> String {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "file".to_owned());
    format!(".{name}.tmp-")
}

/// Writes `bytes` to `path` atomically: a private (0600) temporary file beside it, fsync, rename,
/// fsync of the directory. On any failure the temporary file is removed and `path` is untouched.
/// The directory must exist (see [`create_private_dir`]).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    };
    let tmp =
        dir.join(format!("{}{}-{}", temp_prefix(path), std::process::id(), NEXT_TMP.fetch_add(1, Ordering::Relaxed)));
    let result = (|| {
        let mut file = new_private_file(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)
    })();
    if let Err(err) = result {
        let _ = fs::remove_file(&tmp);
        return Err(err);
    }
    sync_dir(&dir)
}

/// Creates `dir` and its parents, private to their owner where the system has modes (0700).
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    crate::os::create_private_dir(dir)
}

fn new_private_file(path: &Path) -> io::Result<fs::File> {
    crate::os::private_file(fs::OpenOptions::new().write(true).create_new(true)).open(path)
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    crate::os::sync_dir(dir)
}

/// Removes temporary files of [`write_atomically`] for `path` left by writers that were killed
/// mid-write (only those whose process is known to be gone: [`crate::os::process_alive`]).
pub fn remove_stale_temp_files(path: &Path) {
    let Some(dir) = path.parent() else { return };
    let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    let prefix = temp_prefix(path);
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(&prefix)) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid != std::process::id() && crate::os::process_alive(pid) == Some(false) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Backups

/// Moves `path` to `<path>.bad-<YYYYmmddTHHMMSSZ>`, adding `-1`, `-2`, … if that exists.
/// Never overwrites an existing file.
pub fn backup_file(path: &Path, now: DateTime<Utc>) -> io::Result<PathBuf> {
    let base = format!("{}.bad-{}", path.as_os_str().to_string_lossy(), now.format("%Y%m%dT%H%M%SZ"));
    for counter in 0..10_000u32 {
        let candidate = if counter == 0 { PathBuf::from(&base) } else { PathBuf::from(format!("{base}-{counter}")) };
        match move_no_replace(path, &candidate) {
            Ok(()) => return Ok(candidate),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(err) => return Err(err),
        }
    }
    Err(io::Error::other(format!("too many backups named {base}-N; delete old ones")))
}

/// Renames without replacing: hard link then unlink (atomic "no replace" on Unix), falling back
/// to check-then-rename where hard links are not supported.
fn move_no_replace(from: &Path, to: &Path) -> io::Result<()> {
    match fs::hard_link(from, to) {
        Ok(()) => fs::remove_file(from),
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => Err(err),
        Err(_) => {
            if fs::symlink_metadata(to).is_ok() {
                return Err(io::Error::from(io::ErrorKind::AlreadyExists));
            }
            fs::rename(from, to)
        }
    }
}

#[cfg(all(test, unix))]
mod special_file_tests {
    use super::*;

    fn fifo(dir: &Path) -> PathBuf {
        let p = dir.join("ignores.user.json");
        let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        p
    }

    #[test]
    fn a_fifo_is_refused_at_once_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let p = fifo(dir.path());
        let (tx, rx) = std::sync::mpsc::channel();
        let q = p.clone();
        std::thread::spawn(move || {
            let _ = tx.send((open_regular(&q).map(|_| ()), read_regular(&q, 10), check_regular(&q)));
        });
        let (open, read, check) = rx.recv_timeout(std::time::Duration::from_secs(5)).expect("reading a FIFO blocked");
        for e in [open.unwrap_err(), read.unwrap_err(), check.unwrap_err()] {
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
            assert!(e.to_string().contains("a FIFO (named pipe), not a regular file"), "{e}");
        }
    }

    #[test]
    fn directories_and_devices_are_refused_and_regular_files_read() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_regular(dir.path(), 10).unwrap_err().to_string().contains("a directory"));
        assert!(read_regular(Path::new("/dev/zero"), 10).unwrap_err().to_string().contains("a device"));
        let f = dir.path().join("a.json");
        fs::write(&f, b"{}").unwrap();
        assert_eq!(read_regular(&f, 10).unwrap(), b"{}");
        assert!(read_regular(&f, 1).unwrap_err().to_string().contains("more than the 1 bytes"));
        assert!(check_regular(&dir.path().join("missing")).is_ok());
        assert!(check_regular(&f).is_ok());
    }
}
