//! Faults of the disk under the files Leakwatch writes (root only: they mount a small tmpfs):
//! the disk filling up and the config directory turning read-only, while ignores and history
//! are written. Each write fails with a message naming the file, nothing already saved is lost or
//! half-written, no temporary file is left behind, and writing works again once the fault is
//! gone. (The app's settings file has the same test in `src-tauri/src/settings.rs`.)

mod netns;
mod support;

use leakwatch::history::{GroupBy, HistoryStore, Limits, UploadTotal, WriteBatch};
use leakwatch::ignores::{FILE_NAME, IgnoreStore};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::ip_filter;

/// A tmpfs of `size` mounted on a fresh temporary directory; unmounted on drop.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
        let dir = tempfile::tempdir().unwrap();
        netns::sh(&["mount", "-t", "tmpfs", "-o", &format!("size={size},mode=0700"), "tmpfs", path_str(dir.path())]);
        Tmpfs { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn remount(&self, how: &str) {
        netns::sh(&["mount", "-o", &format!("remount,{how}"), path_str(self.path())]);
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").args(["-l", path_str(self.path())]).status();
    }
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("UTF-8 temp path")
}

/// Whether the running test cannot run here (after [`netns::skip::skip`] said why).
fn skip() -> bool {
    !netns::skip::need_root("mounts a tmpfs")
}

fn upload(minute: i64, bytes: u64) -> WriteBatch {
    let u = UploadTotal { minute, program: "/usr/bin/curl".into(), org: "Org".into(), country: "NL".into(), bytes };
    WriteBatch { uploads: vec![u], ..Default::default() }
}

fn total(h: &HistoryStore) -> u64 {
    h.uploads(None, GroupBy::Program, None, 0).unwrap().iter().map(|r| r.bytes).sum()
}

/// Files in `dir` other than the expected ones (temporary files left behind).
fn strays(dir: &Path, expected: &[&str]) -> Vec<PathBuf> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            !expected.iter().any(|e| name == *e || name.starts_with(&format!("{e}-")))
        })
        .collect()
}

/// Fills the file system of `dir` with one file until writing fails with ENOSPC.
fn fill(dir: &Path) -> PathBuf {
    use std::io::Write;
    let filler = dir.join("filler");
    let mut f = fs::File::create(&filler).unwrap();
    let block = vec![0u8; 4096];
    for _ in 0..1_000_000 {
        if let Err(e) = f.write_all(&block).and_then(|_| f.sync_all()) {
            assert_eq!(e.raw_os_error(), Some(28), "expected ENOSPC, got {e}");
            return filler;
        }
    }
    panic!("the tmpfs never filled up");
}

const T0: i64 = 1_767_225_600;

/// In `dir`: `n` permanent ignores saved, and a history database holding 1000 bytes of uploads.
fn saved_data(dir: &Path, n: u64) -> (IgnoreStore, HistoryStore) {
    let (mut ignores, problem) = IgnoreStore::open(dir.join(FILE_NAME)).unwrap();
    assert!(problem.is_none(), "{problem:?}");
    for i in 1..=n {
        ignores.add_permanent(ip_filter(i)).unwrap();
    }
    let (mut history, _) = HistoryStore::open(&dir.join("history.sqlite"), Limits::default()).unwrap();
    history.write(&upload(T0, 1000)).unwrap();
    (ignores, history)
}

#[test]
fn a_full_disk_fails_writes_with_the_file_named_and_loses_nothing_saved() {
    if skip() {
        return;
    }
    let fs_ = Tmpfs::mount("2m");
    let (ignores_path, db) = (fs_.path().join(FILE_NAME), fs_.path().join("history.sqlite"));
    let (mut ignores, mut history) = saved_data(fs_.path(), 2);
    let saved = fs::read(&ignores_path).unwrap();

    let filler = fill(fs_.path());
    let err = ignores.add_permanent(ip_filter(3)).unwrap_err().to_string();
    assert!(err.contains(path_str(&ignores_path)) || err.contains(path_str(fs_.path())), "{err}");
    assert!(err.contains("No space left"), "{err}");
    assert_eq!(ignores.list(chrono::Utc::now()).iter().filter(|i| i.is_permanent()).count(), 2);
    assert_eq!(fs::read(&ignores_path).unwrap(), saved, "the saved file is untouched");
    // History: enough new minutes that SQLite needs new pages.
    let mut failed = None;
    for m in 1..2000 {
        if let Err(e) = history.write(&upload(T0 + m * 60, 1000)) {
            failed = Some(e.to_string());
            break;
        }
    }
    let err = failed.expect("history writes fail on a full disk");
    assert!(err.contains(path_str(&db)), "{err}");
    assert!(total(&history) >= 1000, "what was committed is still there");

    // Space again: both write, and everything saved before is there.
    fs::remove_file(&filler).unwrap();
    ignores.add_permanent(ip_filter(3)).unwrap();
    let (reopened, problem) = IgnoreStore::open(ignores_path.clone()).unwrap();
    assert!(problem.is_none(), "{problem:?}");
    assert_eq!(reopened.len(), 3);
    let before = total(&history);
    history.write(&upload(T0 + 3000 * 60, 7)).unwrap();
    drop(history);
    let (history, note) = HistoryStore::open(&db, Limits::default()).unwrap();
    assert_eq!(note, None, "the database is intact, not moved aside");
    assert_eq!(total(&history), before + 7);
    let left = strays(fs_.path(), &[FILE_NAME, "ignores.user.sources.json", "history.sqlite"]);
    assert!(left.is_empty(), "temporary files left behind: {left:?}");
}

#[test]
fn a_read_only_config_dir_fails_writes_with_the_file_named_and_loses_nothing_saved() {
    if skip() {
        return;
    }
    let fs_ = Tmpfs::mount("2m");
    let (ignores_path, db) = (fs_.path().join(FILE_NAME), fs_.path().join("history.sqlite"));
    drop(saved_data(fs_.path(), 1));
    let saved = fs::read(&ignores_path).unwrap();
    let saved_db = fs::read(&db).unwrap();

    // The next start finds the directory read-only (a read-only home, a locked-down profile).
    fs_.remount("ro");
    let (mut ignores, problem) = IgnoreStore::open(ignores_path.clone()).unwrap();
    assert!(problem.is_none(), "{problem:?}");
    let id = ignores.list(chrono::Utc::now())[0].id;
    let err = ignores.add_permanent(ip_filter(2)).unwrap_err().to_string();
    assert!(err.contains(path_str(fs_.path())), "{err}");
    assert!(err.contains("Read-only file system"), "{err}");
    let err = ignores.remove(id).unwrap_err().to_string();
    assert!(err.contains(path_str(fs_.path())), "{err}");
    assert!(ignores.get(id).is_some_and(|i| i.is_permanent()), "a failed removal keeps the ignore");
    // Temporary ignores need no disk.
    ignores.add_temporary(ip_filter(3), None).unwrap();
    // History cannot be opened for writing: an error naming the file, and the file is not moved.
    let err = HistoryStore::open(&db, Limits::default()).err().expect("history refuses a read-only directory");
    assert!(matches!(err, leakwatch::history::HistoryError::Open { .. }), "{err:?}");
    assert!(err.to_string().contains(path_str(&db)), "{err}");
    assert_eq!(fs::read(&db).unwrap(), saved_db, "the database is untouched");
    drop(ignores);

    fs_.remount("rw");
    let (mut ignores, _) = IgnoreStore::open(ignores_path.clone()).unwrap();
    assert_eq!(fs::read(&ignores_path).unwrap(), saved);
    ignores.add_permanent(ip_filter(2)).unwrap();
    let (mut history, note) = HistoryStore::open(&db, Limits::default()).unwrap();
    assert_eq!(note, None, "the database was kept, not moved aside");
    history.write(&upload(T0 + 60, 5)).unwrap();
    assert_eq!(total(&history), 1005);
}

/// A history database another process holds locked (a second Leakwatch) is busy, not broken:
/// opening fails with the file named and the file stays where it is (only a damaged file or one
/// from a newer version is moved aside, see `history_store.rs`). Needs no root.
#[test]
fn a_locked_history_database_is_reported_and_left_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("history.sqlite");
    {
        let (mut h, _) = HistoryStore::open(&db, Limits::default()).unwrap();
        h.write(&upload(T0, 1000)).unwrap();
    }
    let holder = rusqlite::Connection::open(&db).unwrap();
    holder.execute_batch("PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; COMMIT;").unwrap();
    let err = HistoryStore::open(&db, Limits::default()).err().expect("a locked database cannot be opened");
    let text = err.to_string();
    assert!(text.contains(path_str(&db)) && text.contains("locked"), "{text}");
    let moved: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".bad-"))
        .collect();
    assert!(moved.is_empty(), "a busy database was moved aside: {moved:?}");
    drop(holder);
    let (h, note) = HistoryStore::open(&db, Limits::default()).unwrap();
    assert_eq!(note, None);
    assert_eq!(total(&h), 1000);
}
