//! The ignore store on real files: legacy compatibility, persistence, corrupt files, crash
//! safety (SIGKILL during writes) and write failures.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use leakwatch::ignores::{
    BackupOutcome, FIFTEEN_MINUTES, FILE_NAME, IgnoreError, IgnoreKind, IgnoreStore, LoadProblemKind, MAX_FILE_SIZE,
};
use serde_json::{Value, json};
use support::{ip_filter, shared_dir};

mod support;

/// Env var that turns `kill9_writer_child` into the writer loop (set only by the parent).
const WRITER_ENV: &str = "LEAKWATCH_TEST_IGNORES_WRITER_PATH";

fn legacy_sample() -> PathBuf {
    shared_dir().join("reference/legacy-data/ignores.user.json")
}

fn marker(filter: &Value) -> Option<u64> {
    filter["pattern"]["dstip"].as_str()?.strip_prefix("^\\Q10.200.0.")?.strip_suffix("\\E$")?.parse().ok()
}

fn open_clean(path: &Path) -> IgnoreStore {
    let (store, problem) = IgnoreStore::open(path.to_owned()).expect("open");
    assert!(problem.is_none(), "unexpected load problem: {problem:?}");
    store
}

fn backups(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("ignores.user.json.bad-"))
        .collect();
    found.sort();
    found
}

#[test]
fn legacy_sample_loads_unchanged_and_round_trips() {
    let sample = fs::read(legacy_sample()).expect("legacy sample (set LEAKWATCH_SHARED)");
    let expected: Value = serde_json::from_slice(&sample).unwrap();
    let expected = expected["filters"].as_array().unwrap().clone();

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE_NAME);
    fs::write(&path, &sample).unwrap();
    let mut store = open_clean(&path);
    let listed: Vec<Value> = store.list(Utc::now()).iter().map(|i| i.filter.clone()).collect();
    assert_eq!(listed.len(), 4);
    assert_eq!(listed, expected);
    let names: Vec<&str> = listed.iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "Ignore.Custom.Pattern.StdApp.Browser.Metrica.Mailru",
            "Ignore.Custom.Pattern.StdApp.Browser",
            "Ignore.Custom.Pattern.StdApp.Browser",
            "Ignore.Custom.Pattern.IP",
        ]
    );
    assert_eq!(listed[1]["pattern"], json!({"dstip": "^\\Q109.232.105.57\\E$"}));
    assert_eq!(listed[0]["pattern"], json!({}));
    assert!(store.list(Utc::now()).iter().all(|i| i.is_permanent()));
    // Loading does not touch the file.
    assert_eq!(fs::read(&path).unwrap(), sample);

    // Force a rewrite with the same content: add then remove one.
    let id = store.add_permanent(ip_filter(1)).unwrap();
    assert!(store.remove(id).unwrap());
    // Written in the old daemon's exact layout.
    assert_eq!(fs::read(&path).unwrap(), sample);
    drop(store);
    let mut again = open_clean(&path);
    let reloaded: Vec<Value> = again.list(Utc::now()).iter().map(|i| i.filter.clone()).collect();
    assert_eq!(reloaded, expected);
}

#[test]
fn unknown_keys_are_kept_verbatim() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE_NAME);
    let text = r#"{"filters": [{"name": "N", "comment": "mine", "extra": {"z": [1, "two"]},
        "pattern": {"processname": "^a$", "dstport": "^443$"}}], "note": "top"}"#;
    fs::write(&path, text).unwrap();
    let mut store = open_clean(&path);
    let original = store.list(Utc::now())[0].filter.clone();
    store.add_permanent(ip_filter(7)).unwrap();
    drop(store);
    let written: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    assert_eq!(written["filters"][0], original);
    assert_eq!(written["filters"][1], ip_filter(7));
    assert_eq!(written["note"], "top");
    let mut store = open_clean(&path);
    assert_eq!(store.list(Utc::now()).len(), 2);
}

#[test]
fn permanent_survives_restart_temporary_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/dir").join(FILE_NAME);
    let mut store = open_clean(&path);
    let now = Utc::now();
    let g0 = store.generation();
    let p = store.add_permanent(ip_filter(1)).unwrap();
    let g1 = store.generation();
    assert_ne!(g0, g1);
    let t = store.add_temporary_at(ip_filter(2), Some(FIFTEEN_MINUTES), now).unwrap();
    let r = store.add_temporary_at(ip_filter(3), None, now).unwrap();
    assert_ne!(store.generation(), g1);
    assert_eq!(store.list(now).len(), 3);
    assert_eq!(store.get(t).unwrap().kind, IgnoreKind::Temporary { until: Some(now + TimeDelta::minutes(15)) });
    assert_eq!(store.get(r).unwrap().until(), None);
    assert_eq!(store.get(p).unwrap().kind, IgnoreKind::Permanent);

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(path.parent().unwrap()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }

    let added = store.get(p).unwrap().added.expect("a new ignore knows when it was added");
    assert!(added >= now - TimeDelta::seconds(5) && added <= Utc::now());

    drop(store);
    let mut store = open_clean(&path);
    let listed: Vec<Value> = store.list(now).iter().map(|i| i.filter.clone()).collect();
    assert_eq!(listed, vec![ip_filter(1)]);
    // When it was added comes back from the sidecar file, to the second.
    let reloaded = store.list(now)[0].added.expect("the sidecar keeps when it was added");
    assert_eq!(reloaded.timestamp(), added.timestamp());
}

#[test]
fn added_time_is_unknown_for_a_file_without_sidecar() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE_NAME);
    fs::copy(legacy_sample(), &path).unwrap();
    let (mut store, problem) = IgnoreStore::open(path.clone()).unwrap();
    assert!(problem.is_none());
    assert!(!store.is_empty());
    assert!(store.list(Utc::now()).iter().all(|i| i.added.is_none()), "the legacy daemon kept no times");
}

#[test]
fn temporary_expires_after_its_duration() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_clean(&dir.path().join(FILE_NAME));
    let now = Utc::now();
    let id = store.add_temporary_at(ip_filter(5), Some(FIFTEEN_MINUTES), now).unwrap();
    let until_restart = store.add_temporary_at(ip_filter(6), None, now).unwrap();

    let before = now + TimeDelta::minutes(14) + TimeDelta::seconds(59);
    assert!(store.list(before).iter().any(|i| i.id == id));
    let g = store.generation();
    let active: Vec<u64> = store.active_filters(before).map(|(id, _)| id).collect();
    assert_eq!(active, vec![id, until_restart]);
    assert_eq!(store.generation(), g, "nothing expired, nothing changed");

    let after = now + TimeDelta::minutes(15);
    let listed: Vec<u64> = store.list(after).iter().map(|i| i.id).collect();
    assert_eq!(listed, vec![until_restart]);
    assert_ne!(store.generation(), g, "purge changes the generation");
    assert!(store.get(id).is_none());
    let active: Vec<u64> = store.active_filters(after + TimeDelta::days(365)).map(|(id, _)| id).collect();
    assert_eq!(active, vec![until_restart]);
}

#[test]
fn remove_ids_and_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE_NAME);
    let mut store = open_clean(&path);
    let now = Utc::now();
    let a = store.add_permanent(ip_filter(1)).unwrap();
    let b = store.add_permanent(ip_filter(2)).unwrap();
    let c = store.add_temporary_at(ip_filter(3), None, now).unwrap();
    let mut ids = vec![a, b, c];
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3, "ids unique across kinds");

    // Duplicates of a permanent ignore are not added, permanent or temporary.
    let g = store.generation();
    assert_eq!(store.add_permanent(ip_filter(1)).unwrap(), a);
    assert_eq!(store.add_temporary_at(ip_filter(2), None, now).unwrap(), b);
    assert_eq!(store.generation(), g);
    assert_eq!(store.list(now).len(), 3);
    let on_disk: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    assert_eq!(on_disk["filters"].as_array().unwrap().len(), 2);

    // A permanent ignore identical to a temporary one is added (and persisted).
    let d = store.add_permanent(ip_filter(3)).unwrap();
    assert_ne!(d, c);

    assert!(store.remove(b).unwrap());
    assert!(!store.remove(b).unwrap());
    assert!(store.remove(c).unwrap());
    assert!(!store.remove(999_999_999).unwrap());
    let left: Vec<u64> = store.list(now).iter().map(|i| i.id).collect();
    assert_eq!(left, vec![a, d]);

    drop(store);
    let mut store = open_clean(&path);
    let filters: Vec<Value> = store.list(now).iter().map(|i| i.filter.clone()).collect();
    assert_eq!(filters, vec![ip_filter(1), ip_filter(3)]);
    // Ids are assigned in file order on load.
    let ids: Vec<u64> = store.list(now).iter().map(|i| i.id).collect();
    assert!(ids[0] < ids[1]);
}

#[test]
fn invalid_filters_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE_NAME);
    let mut store = open_clean(&path);
    for bad in [json!({"pattern": {}}), json!("x"), json!({"name": "n", "pattern": 1})] {
        let err = store.add_permanent(bad.clone()).unwrap_err();
        assert!(matches!(err, IgnoreError::InvalidFilter { .. }), "{err}");
        assert!(store.add_temporary(bad, None).is_err());
    }
    assert!(store.is_empty());
    assert!(!path.exists());
}

#[test]
fn corrupt_file_is_backed_up_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE_NAME);
    let corrupt1 = b"{\n  \"filters\" : [ {\n    \"name\" : \"x\",, \n  } ]\n}".to_vec();
    fs::write(&path, &corrupt1).unwrap();
    let (mut store, problem) = IgnoreStore::open(path.clone()).unwrap();
    let problem = problem.expect("a load problem");
    assert!(store.list(Utc::now()).is_empty());
    assert_eq!(problem.path, path);
    match &problem.kind {
        LoadProblemKind::Invalid { line, column, .. } => assert_eq!((*line, *column), (3, 18)),
        other => panic!("unexpected {other:?}"),
    }
    let text = problem.to_string();
    assert!(text.contains(&format!("{}:3:18", path.display())), "{text}");
    let BackupOutcome::MovedTo(backup1) = problem.backup.clone() else {
        panic!("not backed up: {problem:?}");
    };
    assert!(text.contains(&backup1.display().to_string()), "{text}");
    let name = backup1.file_name().unwrap().to_string_lossy().into_owned();
    let stamp = name.strip_prefix("ignores.user.json.bad-").unwrap();
    assert_eq!(stamp.len(), "20240101T000000Z".len(), "{name}");
    assert!(stamp.ends_with('Z') && stamp.as_bytes()[8] == b'T', "{name}");
    assert_eq!(fs::read(&backup1).unwrap(), corrupt1);
    assert!(!path.exists());
    drop(store);

    // Second corrupt load, same second most likely: a new backup, the first untouched.
    let corrupt2 = b"{\"filters\": [{\"name\": 42}]}".to_vec();
    fs::write(&path, &corrupt2).unwrap();
    let (mut store, problem) = IgnoreStore::open(path.clone()).unwrap();
    let problem = problem.expect("a load problem");
    assert!(problem.to_string().contains("filter #1"), "{problem}");
    let found = backups(dir.path());
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(fs::read(&backup1).unwrap(), corrupt1);
    let BackupOutcome::MovedTo(backup2) = problem.backup else {
        panic!("not backed up");
    };
    assert_ne!(backup1, backup2);
    assert_eq!(fs::read(&backup2).unwrap(), corrupt2);

    // The store works normally afterwards.
    store.add_permanent(ip_filter(1)).unwrap();
    drop(store);
    let mut store = open_clean(&path);
    assert_eq!(store.list(Utc::now()).len(), 1);
}

#[test]
fn wrong_shapes_are_problems_not_panics() {
    let cases: &[&[u8]] = &[
        b"",
        b"null",
        b"[]",
        b"{}",
        b"{\"filters\": {}}",
        b"{\"filters\": [1]}",
        b"{\"filters\": []} trailing",
        b"\xff\xfe{",
        b"{\"filters\": [{\"name\": \"a\", \"pattern\": []}]}",
        &[b'['; 100_000],
    ];
    for (index, case) in cases.iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        fs::write(&path, case).unwrap();
        let (store, problem) = IgnoreStore::open(path.clone()).unwrap();
        assert!(problem.is_some(), "case {index} loaded");
        assert!(store.is_empty());
        assert_eq!(backups(dir.path()).len(), 1, "case {index}");
    }
}

#[test]
fn oversized_file_is_refused_and_backed_up() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE_NAME);
    let mut file = fs::File::create(&path).unwrap();
    let chunk = vec![b' '; 1024 * 1024];
    file.write_all(b"{\"filters\": [").unwrap();
    for _ in 0..50 {
        file.write_all(&chunk).unwrap();
    }
    file.write_all(b"]}").unwrap();
    drop(file);
    let size = fs::metadata(&path).unwrap().len();
    let (store, problem) = IgnoreStore::open(path.clone()).unwrap();
    let problem = problem.expect("refused");
    assert!(store.is_empty());
    assert_eq!(problem.kind, LoadProblemKind::TooLarge { size, limit: MAX_FILE_SIZE });
    assert!(problem.to_string().contains("limit"), "{problem}");
    assert_eq!(backups(dir.path()).len(), 1);
}

#[test]
fn unwritable_directory_reports_error_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not-a-dir");
    fs::write(&blocker, b"i am a file").unwrap();
    let path = blocker.join("conf").join(FILE_NAME);
    let (mut store, problem) = IgnoreStore::open(path.clone()).unwrap();
    assert!(problem.is_none());
    let g = store.generation();
    let err = store.add_permanent(ip_filter(1)).unwrap_err();
    let text = err.to_string();
    assert!(text.contains(&blocker.display().to_string()), "error does not name the path: {text}");
    assert!(store.list(Utc::now()).iter().all(|i| !i.is_permanent()));
    assert!(store.is_empty());
    assert_eq!(store.generation(), g);
    // Temporary ignores still work.
    store.add_temporary(ip_filter(1), None).unwrap();
    assert_eq!(store.len(), 1);
    assert!(!store.list(Utc::now())[0].is_permanent());
}

#[test]
fn failed_remove_keeps_the_ignore() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("conf");
    let path = conf.join(FILE_NAME);
    let mut store = open_clean(&path);
    let id = store.add_permanent(ip_filter(1)).unwrap();
    let before = fs::read(&path).unwrap();
    // Make the directory unusable in a way that also stops root: replace it with a file.
    let moved = dir.path().join("conf-moved");
    fs::rename(&conf, &moved).unwrap();
    fs::write(&conf, b"now a file").unwrap();
    let g = store.generation();
    let err = store.remove(id).unwrap_err();
    assert!(err.to_string().contains(&conf.display().to_string()), "{err}");
    assert!(store.get(id).is_some_and(|i| i.is_permanent()));
    assert_eq!(store.generation(), g);
    assert_eq!(fs::read(moved.join(FILE_NAME)).unwrap(), before);
    // Back in place, the removal goes through.
    fs::remove_file(&conf).unwrap();
    fs::rename(&moved, &conf).unwrap();
    assert!(store.remove(id).unwrap());
    assert_eq!(fs::read_to_string(&path).unwrap(), "{\n  \"filters\" : [ ]\n}");
}

#[cfg(unix)]
#[test]
fn written_file_is_private_and_no_temp_files_remain() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE_NAME);
    let mut store = open_clean(&path);
    for n in 0..10 {
        store.add_permanent(ip_filter(n)).unwrap();
    }
    // The file and its sidecar (who added each ignore, and when), both private; no temp files.
    let sidecar = leakwatch::ignores::sources_path(&path);
    for f in [&path, &sidecar] {
        let mode = fs::metadata(f).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{}", f.display());
    }
    let mut names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().path()).collect();
    names.sort();
    assert_eq!(names, vec![path, sidecar]);
}

#[test]
fn default_path_ends_with_file_name() {
    // Does not set the environment (tests run in parallel); the override is unit-tested.
    if let Some(path) = IgnoreStore::default_path() {
        assert!(path.ends_with(FILE_NAME));
    }
}

/// Writer half of `kill9_during_writes_loses_nothing_acknowledged`. A no-op in a normal run:
/// it only loops when the parent re-executes this test binary with `WRITER_ENV` set.
#[test]
fn kill9_writer_child() {
    let Some(path) = std::env::var_os(WRITER_ENV) else {
        return;
    };
    let (mut store, problem) = IgnoreStore::open(PathBuf::from(path)).unwrap();
    assert!(problem.is_none());
    let stdout = std::io::stdout();
    let started = Instant::now();
    // Bounded so an orphaned child ends on its own.
    for n in 0..20_000u64 {
        if started.elapsed() > Duration::from_secs(30) {
            break;
        }
        store.add_permanent(ip_filter(n)).unwrap();
        let mut out = stdout.lock();
        writeln!(out, "ACK {n}").unwrap();
        out.flush().unwrap();
    }
}

fn pseudo_random_millis(min: u64, max: u64, salt: u64) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(salt);
    hasher.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos());
    min + hasher.finish() % (max - min + 1)
}

#[test]
fn kill9_during_writes_loses_nothing_acknowledged() {
    if std::env::var_os(WRITER_ENV).is_some() {
        return; // never recurse from inside a child
    }
    let exe = std::env::current_exe().unwrap();
    for round in 0..5u64 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let mut child = Command::new(&exe)
            .args(["kill9_writer_child", "--exact", "--nocapture", "--test-threads=1"])
            .env(WRITER_ENV, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let acked = Arc::new(Mutex::new(Vec::<u64>::new()));
        let reader = {
            let stdout = child.stdout.take().unwrap();
            let acked = Arc::clone(&acked);
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    // Only complete lines count: a line is printed after add_permanent returned.
                    // The first one follows libtest's "test kill9_writer_child ... " on its line.
                    let ack = line.find("ACK ").map(|at| &line[at + 4..]);
                    if let Some(n) = ack.and_then(|n| n.parse().ok()) {
                        acked.lock().unwrap().push(n);
                    }
                }
            })
        };
        // Start the clock at the first acknowledged write (process start-up varies).
        let deadline = Instant::now() + Duration::from_secs(30);
        while acked.lock().unwrap().is_empty() {
            assert!(Instant::now() < deadline, "writer child never acknowledged");
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(Duration::from_millis(pseudo_random_millis(50, 300, round)));
        child.kill().unwrap(); // SIGKILL on unix
        child.wait().unwrap();
        reader.join().unwrap();
        let acked = acked.lock().unwrap().clone();

        let (mut store, problem) = IgnoreStore::open(path.clone()).unwrap();
        assert!(problem.is_none(), "round {round}: {problem:?}");
        // The killed writer's temp file (if any) was cleaned up by open.
        let leftovers: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n != FILE_NAME && n != "ignores.user.sources.json")
            .collect();
        assert!(leftovers.is_empty(), "round {round}: {leftovers:?}");
        let stored: std::collections::BTreeSet<u64> =
            store.list(Utc::now()).iter().map(|i| marker(&i.filter).expect("marker")).collect();
        for n in &acked {
            assert!(
                stored.contains(n),
                "round {round}: acknowledged ignore {n} lost ({} acked, {} stored)",
                acked.len(),
                stored.len()
            );
        }
        // At most the one write in flight may be there without an acknowledgement.
        assert!(
            stored.len() <= acked.len() + 1,
            "round {round}: {} acked, {} stored, max acked {:?}",
            acked.len(),
            stored.len(),
            acked.iter().max()
        );
        eprintln!("round {round}: {} acknowledged, {} stored", acked.len(), stored.len());
    }
}

/// A FIFO (or a directory) in the place of `ignores.user.json` is refused at once, with the file
/// named: by `leakwatch ignores list` and by `leakwatch replay`, which used to hang in `open()`
/// (before capture started, so SIGTERM and Ctrl-C did nothing). Nothing is written to it.
#[cfg(unix)]
#[test]
fn a_fifo_or_directory_as_the_ignores_file_is_refused_at_once() {
    let exe = env!("CARGO_BIN_EXE_leakwatch");
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/ookla.pcap");
    for kind in ["fifo", "directory"] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        if kind == "fifo" {
            let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
            // SAFETY: a valid NUL-terminated path.
            assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        } else {
            fs::create_dir(&path).unwrap();
        }
        for args in [&["ignores", "list"][..], &["replay", sample][..]] {
            let mut child = Command::new(exe)
                .args(args)
                .env("LEAKWATCH_CONFIG_DIR", dir.path())
                .env("LEAKWATCH_HISTORY_DIR", dir.path())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let start = Instant::now();
            let status = loop {
                if let Some(s) = child.try_wait().unwrap() {
                    break s;
                }
                if start.elapsed() > Duration::from_secs(20) {
                    let _ = child.kill();
                    panic!("{kind}: `leakwatch {}` hangs", args.join(" "));
                }
                std::thread::sleep(Duration::from_millis(20));
            };
            let mut err = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
            assert!(!status.success(), "{kind}: `leakwatch {}` went on: {err}", args.join(" "));
            assert!(
                err.contains(&format!("{} is not a regular file", path.display())),
                "{kind}: `leakwatch {}`: {err}",
                args.join(" ")
            );
        }
        assert_eq!(fs::metadata(&path).unwrap().is_dir(), kind == "directory", "left in place");
    }
}

/// `leakwatch ignores export-legacy OUT` writes the permanent ignores the old daemon can read
/// (only the keys of its schema, legacy notes §4.2) and names each one left out with the key
/// it would refuse; the source file is not changed.
#[test]
fn export_legacy_writes_only_what_the_old_daemon_reads() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(FILE_NAME);
    let old = json!({"pattern": {"processname": "^\\Qcurl\\E$"}, "name": "Ignore.Custom.Curl"});
    let new =
        json!({"pattern": {"exe": "^\\Q/usr/bin/curl\\E$", "dstport": "443"}, "name": "Ignore.Custom.Exe\u{1b}[2J"});
    let mut store = open_clean(&file);
    store.add_permanent(old.clone()).unwrap();
    store.add_permanent(new).unwrap();
    store.add_temporary(json!({"pattern": {"dstip": "^\\Q10.200.0.9\\E$"}, "name": "T"}), None).unwrap();
    drop(store);
    let before = fs::read(&file).unwrap();
    let out = dir.path().join("for-the-old-daemon.json");
    let run = Command::new(env!("CARGO_BIN_EXE_leakwatch"))
        .args(["ignores", "export-legacy"])
        .arg(&out)
        .arg("--file")
        .arg(&file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{stdout}{}", String::from_utf8_lossy(&run.stderr));
    assert!(stdout.contains("(Ignore.Custom.Exe\\u{1b}[2J): the old daemon does not know"), "{stdout}");
    assert!(stdout.contains("\"pattern\".\"exe\"") && stdout.contains("\"pattern\".\"dstport\""), "{stdout}");
    assert!(stdout.contains("wrote 1 of 2 permanent ignores"), "{stdout}");
    let written: Value = serde_json::from_slice(&fs::read(&out).unwrap()).unwrap();
    assert_eq!(written, json!({"filters": [old]}));
    // Only the keys of the old schema, at both levels.
    for f in written["filters"].as_array().unwrap() {
        for k in f.as_object().unwrap().keys() {
            assert!(leakwatch::ignores::LEGACY_FILTER_KEYS.contains(&k.as_str()), "{k}");
        }
        for k in f["pattern"].as_object().unwrap().keys() {
            assert!(
                ["pid", "dstip", "srcport", "processname", "orgname", "hostname", "differ-by"].contains(&k.as_str())
            );
        }
    }
    assert_eq!(fs::read(&file).unwrap(), before, "the source file changed");
}

/// `leakwatch ignores add-json` refuses an over-broad filter (judged by what it matches: the
/// bypasses measured in issue 18 and `{"pattern":{}}`) unless --force, and then warns; a
/// callback-style filter goes in without a word.
#[test]
fn add_json_refuses_over_broad_filters_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(FILE_NAME);
    let add = |filter: &str, force: bool| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_leakwatch"));
        c.args(["ignores", "add-json", filter, "--file"]).arg(&file);
        if force {
            c.arg("--force");
        }
        let out = c.output().unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    for broad in [
        r#"{"pattern":{},"name":"x"}"#,
        r#"{"name":"x","pattern":{"srcport":"[3-5][0-9]{4}|60[0-9]{3}"}}"#,
        r#"{"name":"x","pattern":{"dstip":"[0-9.]+"}}"#,
        r#"{"name":"x","pattern":{"processname":"[^l].*"}}"#,
    ] {
        let (ok, err) = add(broad, false);
        assert!(!ok && err.contains("over-broad") && err.contains("--force"), "{broad}: {err}");
    }
    assert!(!file.exists() || open_clean(&file).is_empty(), "nothing was added");
    let (ok, err) = add(r#"{"pattern":{},"name":"x"}"#, true);
    assert!(ok && err.contains("warning") && err.contains("over-broad"), "{err}");
    let (ok, err) = add(r#"{"pattern":{"processname":"^\\Qcurl\\E$"},"name":"c"}"#, false);
    assert!(ok && err.is_empty(), "{err}");
    assert_eq!(open_clean(&file).len(), 2);
}
