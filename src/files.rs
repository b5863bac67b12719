//! Saving the user's files safely, for every file Leakwatch writes (ignores, settings, history
//! export, the history database's backups): atomic private writes that never leave a half-written
//! file, private directories, and backups of unusable files that never overwrite anything.

use chrono::{DateTime, Utc};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

static NEXT_TMP: AtomicU64 = AtomicU64::new(0);

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

#[cfg(unix)]
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

#[cfg(not(unix))]
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)
}

#[cfg(unix)]
fn new_private_file(path: &Path) -> io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)
}

#[cfg(not(unix))]
fn new_private_file(path: &Path) -> io::Result<fs::File> {
    fs::OpenOptions::new().write(true).create_new(true).open(path)
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    // Directories cannot be opened for syncing on Windows; the rename is durable enough.
    Ok(())
}

/// Removes temp files left by writers that were killed mid-write (only those whose process is
/// gone; checked on Linux through /proc, skipped elsewhere).
/// Removes temporary files of [`write_atomically`] for `path` left by processes that died.
pub fn remove_stale_temp_files(path: &Path) {
    if !cfg!(target_os = "linux") {
        return;
    }
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
        if pid != std::process::id() && !Path::new("/proc").join(pid.to_string()).exists() {
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
