//! The history database with real files: round trips, roll-up sums (minutes = hours = days),
//! the size cap under a synthetic year, migrations from every earlier schema version, a
//! corrupt file moved aside, ignores recorded through the engine, the CLI reading what a
//! replay recorded, and `kill -9` of a writing child process losing nothing committed.

mod support;

use leakwatch::engine::{Engine, IgnoreFor};
use leakwatch::history::{
    AlertQuery, AlertRow, GroupBy, HistoryStore, IgnoreAction, Limits, Recorder, SCHEMA_VERSION, UploadTotal,
    WriteBatch, create_at_version,
};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

const DAY: i64 = 86_400;
/// 2026-01-01T00:00:00Z: the synthetic traffic starts here.
const T0: i64 = 1_767_225_600;

fn alert_row(id: u64, phase: &str, at_us: i64, filter: &str) -> AlertRow {
    let json = serde_json::json!({
        "kind": "sudden", "process": {"pid": 7, "name": "curl", "exe": "/usr/bin/curl"}, "dstip": "198.51.100.7",
        "bytes": 1000 * id, "message": "curl sent 1 KiB", "callback_filter": filter, "at": "2026-01-01T00:00:00.000Z",
    });
    AlertRow {
        session: 1,
        alert_id: id,
        phase: phase.into(),
        kind: "sudden".into(),
        program: Some("curl".into()),
        exe: Some("/usr/bin/curl".into()),
        dstip: "198.51.100.7".into(),
        hostname: Some("example.org".into()),
        orgname: Some("Example Org".into()),
        country: Some("NL".into()),
        bytes: 1000 * id,
        started_us: at_us - 1_000_000,
        at_us,
        json: json.to_string(),
    }
}

fn upload(minute: i64, program: &str, bytes: u64) -> UploadTotal {
    UploadTotal { minute, program: program.into(), org: "Example Org".into(), country: "NL".into(), bytes }
}

fn open(path: &Path, limits: Limits) -> HistoryStore {
    let (store, note) = HistoryStore::open(path, limits).expect("opening the history");
    assert_eq!(note, None);
    store
}

#[test]
fn alerts_updates_actions_and_uploads_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/history.sqlite");
    let filter = r#"{"pattern":{"processname":"^\\Qcurl\\E$"},"name":"Ignore.Custom.curl"}"#;
    {
        let mut s = open(&path, Limits::default());
        let batch = WriteBatch {
            alerts: vec![
                alert_row(1, "new", (T0 + 10) * 1_000_000, filter),
                alert_row(1, "update", (T0 + 20) * 1_000_000, filter),
                alert_row(1, "end", (T0 + 30) * 1_000_000, filter),
                alert_row(2, "new", (T0 + 40) * 1_000_000, "other"),
            ],
            uploads: vec![upload(T0, "/usr/bin/curl", 500), upload(T0 + 30, "/usr/bin/curl", 700)],
            actions: vec![IgnoreAction {
                at_us: (T0 + 50) * 1_000_000,
                ignore_id: 9,
                scope: "always".into(),
                source: "user".into(),
                filter: filter.into(),
            }],
            ..Default::default()
        };
        s.write(&batch).unwrap();
    }
    // Reopened from the file: everything is there.
    let s = open(&path, Limits::default());
    let all = s.alerts(&AlertQuery::default()).unwrap();
    assert_eq!(all.len(), 2, "{all:#?}");
    let (newest, first) = (&all[0].json, &all[1].json);
    assert_eq!(newest["id"], 2);
    assert_eq!(newest["ignored"], false);
    assert_eq!(first["id"], 1);
    assert_eq!(first["phase"], "end");
    assert_eq!(first["updates"], 2);
    assert_eq!(first["ignored_scope"], "always");
    assert_eq!(first["process"]["exe"], "/usr/bin/curl");
    let by_program = AlertQuery { program: Some("curl".into()), ..AlertQuery::default() };
    assert_eq!(s.alerts(&by_program).unwrap().len(), 2);
    let by_text = AlertQuery { text: Some("OTHER".into()), ..AlertQuery::default() };
    assert_eq!(s.alerts(&by_text).unwrap().len(), 1);
    let since = AlertQuery { since_us: Some((T0 + 35) * 1_000_000), ..AlertQuery::default() };
    assert_eq!(s.alerts(&since).unwrap().len(), 1);
    // Two writes into the same minute add up.
    let ups = s.uploads(None, GroupBy::Program, None, 0).unwrap();
    assert_eq!(ups.len(), 1);
    assert_eq!((ups[0].key.as_str(), ups[0].bytes), ("/usr/bin/curl", 1200));
    let dest = s.uploads(None, GroupBy::Destination, Some("/usr/bin/curl"), 0).unwrap();
    assert_eq!((dest[0].key.as_str(), dest[0].country.as_deref()), ("Example Org", Some("NL")));
    // Export: CSV with a header and one line per alert; JSON with alerts and uploads.
    let csv = dir.path().join("out.csv");
    assert_eq!(s.export("csv", &csv).unwrap(), 2);
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("id,at,started,phase,kind,program,exe,"), "{text}");
    assert_eq!(text.lines().count(), 3);
    let json_path = dir.path().join("out.json");
    s.export("json", &json_path).unwrap();
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    assert_eq!(v["alerts"].as_array().unwrap().len(), 2);
    assert_eq!(v["uploads"][0]["bytes"], 1200);
    assert!(s.export("xml", &json_path).is_err());
}

/// Deterministic pseudo-random bytes (no rand dependency).
fn bytes_for(minute: i64, program: usize) -> u64 {
    let x = (minute as u64).wrapping_mul(6364136223846793005).wrapping_add(program as u64 * 1442695040888963407);
    1 + (x >> 33) % 100_000
}

#[test]
fn roll_ups_keep_the_sums() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&dir.path().join("h.sqlite"), Limits::default());
    let programs = ["/usr/bin/a", "/usr/bin/b", "/usr/bin/c"];
    let mut per_program: BTreeMap<&str, u64> = BTreeMap::new();
    let mut per_day: BTreeMap<i64, u64> = BTreeMap::new();
    let days = 120;
    for day in 0..days {
        let mut batch = WriteBatch::default();
        // Four active minutes an hour per program.
        for hour in 0..24 {
            for m in [0, 13, 29, 58] {
                let minute = T0 + day * DAY + hour * 3600 + m * 60;
                for (i, p) in programs.iter().enumerate() {
                    let b = bytes_for(minute, i);
                    batch.uploads.push(upload(minute, p, b));
                    *per_program.entry(p).or_default() += b;
                    *per_day.entry(T0 + day * DAY).or_default() += b;
                }
            }
        }
        s.write(&batch).unwrap();
    }
    let before = s.uploads(None, GroupBy::Program, None, 0).unwrap();
    let now = T0 + days * DAY;
    let report = s.maintain(now).unwrap();
    assert!(report.rolled > 0, "{report:?}");
    let after = s.uploads(None, GroupBy::Program, None, 0).unwrap();
    assert_eq!(before, after, "rolling up changed the totals");
    for r in &after {
        assert_eq!(r.bytes, per_program[r.key.as_str()]);
    }
    // Day by day, whether kept as minutes, hours or days, the sums are those written.
    let series = s.series(T0, DAY).unwrap();
    let mut got: BTreeMap<i64, u64> = BTreeMap::new();
    for p in series {
        *got.entry(p.start).or_default() += p.bytes;
    }
    assert_eq!(got, per_day);
    // The tiers are where they should be: no minute older than 7 days, no hour older than 90.
    let count = |sql: &str| -> i64 {
        let c = rusqlite::Connection::open(dir.path().join("h.sqlite")).unwrap();
        c.query_row(sql, [], |r| r.get(0)).unwrap()
    };
    assert_eq!(count(&format!("SELECT COUNT(*) FROM minutes WHERE start < {}", now - 7 * DAY)), 0);
    assert_eq!(count(&format!("SELECT COUNT(*) FROM uploads WHERE tier = 1 AND start < {}", now - 90 * DAY)), 0);
    assert!(count("SELECT COUNT(*) FROM minutes") > 0);
    assert!(count("SELECT COUNT(*) FROM uploads WHERE tier = 1") > 0);
    assert!(count("SELECT COUNT(*) FROM uploads WHERE tier = 2") > 0);
}

#[test]
fn size_cap_holds_over_a_synthetic_year() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.sqlite");
    let cap = 1_500_000;
    let limits = Limits { max_bytes: cap, ..Limits::default() };
    let mut s = open(&path, limits);
    let programs: Vec<String> = (0..4).map(|i| format!("/opt/some-vendor/bin/program-number-{i}")).collect();
    let days = 380;
    for day in 0..days {
        let mut batch = WriteBatch::default();
        for hour in 0..24 {
            for m in 0..10 {
                let minute = T0 + day * DAY + hour * 3600 + m * 360;
                for (i, p) in programs.iter().enumerate() {
                    batch.uploads.push(upload(minute, p, bytes_for(minute, i)));
                }
            }
        }
        batch.alerts.push(alert_row(day as u64 + 1, "new", (T0 + day * DAY + 600) * 1_000_000, "f"));
        s.write(&batch).unwrap();
        let report = s.maintain(T0 + (day + 1) * DAY).unwrap();
        assert!(report.used_bytes <= cap, "day {day}: {report:?}");
        let file = std::fs::metadata(&path).unwrap().len();
        assert!(file <= cap + 64 * 1024, "day {day}: the file is {file} bytes, the cap {cap}");
    }
    // The newest detail survived; the oldest went first (and retention dropped the first days).
    let newest_day = T0 + (days - 1) * DAY;
    let series = s.series(newest_day, 60).unwrap();
    assert_eq!(series.len(), 24 * 10 * programs.len(), "the last day keeps its per-minute totals");
    let oldest = s.series(0, DAY).unwrap().first().map(|p| p.start).unwrap();
    assert!(oldest >= T0 + (days - 365) * DAY, "data older than a year is gone: oldest {oldest}");
    let alerts = s.alerts(&AlertQuery::default()).unwrap();
    assert_eq!(alerts[0].json["id"], days);
}

/// Fills a database at schema `version` (1 to 3) with one alert and 90 bytes of uploads, with
/// that version's SQL.
fn fill_old(conn: &rusqlite::Connection, version: i64) {
    match version {
        1 => conn
            .execute_batch(&format!(
                "INSERT INTO alerts(session, alert_id, kind, program, exe, dstip, orgname, country, bytes, started_us, \
                 at_us, json) VALUES(5, 3, 'active', 'curl', '/usr/bin/curl', '198.51.100.7', 'Org', 'NL', 4242, \
                 {0}, {0}, '{{\"kind\":\"active\",\"bytes\":4242}}');
                 INSERT INTO uploads_minute(minute, program, org, country, bytes) VALUES({1}, '/usr/bin/curl', 'Org', 'NL', 40);
                 INSERT INTO uploads_minute(minute, program, org, country, bytes) VALUES({2}, '/usr/bin/curl', 'Org', 'NL', 50);",
                T0 * 1_000_000,
                T0 / 60,
                T0 / 60 + 1
            ))
            .unwrap(),
        2 => conn
            .execute_batch(&format!(
                "INSERT INTO alerts(session, alert_id, phase, kind, program, exe, dstip, hostname, orgname, country, bytes, \
                 started_us, at_us, json) VALUES(5, 3, 'end', 'active', 'curl', '/usr/bin/curl', '198.51.100.7', \
                 'example.org', 'Org', 'NL', 4242, {0}, {0}, '{{\"kind\":\"active\",\"bytes\":4242}}');
                 INSERT INTO alert_updates(alert_row, phase, at_us, bytes) VALUES(1, 'end', {0}, 4242);
                 INSERT INTO uploads(tier, start, program, org, country, bytes) VALUES(0, {1}, '/usr/bin/curl', 'Org', 'NL', 40);
                 INSERT INTO uploads(tier, start, program, org, country, bytes) VALUES(0, {2}, '/usr/bin/curl', 'Org', 'NL', 50);",
                T0 * 1_000_000,
                T0,
                T0 + 60
            ))
            .unwrap(),
        3 => {
            fill_old(conn, 2);
            conn.execute_batch(&format!(
                "INSERT INTO program_days(day, program, bytes) VALUES({}, '/usr/bin/curl', 90);",
                T0 - T0 % DAY
            ))
            .unwrap()
        }
        v => panic!("add sample data for schema version {v} to fill_old"),
    }
}

#[test]
fn migrates_from_every_earlier_schema_version() {
    for version in 1..SCHEMA_VERSION {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite");
        {
            // Versions from 4 on pack their totals: they are filled at version 3 and brought up
            // to `version` by this build's own steps, so each later step runs on real data.
            let conn = create_at_version(&path, version.min(3)).unwrap();
            fill_old(&conn, version.min(3));
            drop(conn);
            let conn = create_at_version(&path, version).unwrap();
            let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
            assert_eq!(v, version);
        }
        let mut s = open(&path, Limits::default());
        let alerts = s.alerts(&AlertQuery::default()).unwrap();
        assert_eq!(alerts.len(), 1, "from version {version}");
        assert_eq!(alerts[0].json["bytes"], 4242);
        assert_eq!(alerts[0].json["id"], 3);
        let ups = s.uploads(None, GroupBy::Program, None, 0).unwrap();
        assert_eq!(ups[0].bytes, 90, "from version {version}");
        assert_eq!(s.series(T0, 60).unwrap()[0].start, T0, "minutes became seconds");
        // And the migrated file takes new writes.
        s.write(&WriteBatch { uploads: vec![upload(T0, "/usr/bin/curl", 10)], ..Default::default() }).unwrap();
        assert_eq!(s.uploads(None, GroupBy::Program, None, 0).unwrap()[0].bytes, 100);
    }
}

#[test]
fn a_corrupt_or_newer_file_is_moved_aside_and_a_new_one_started() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite");
    let garbage = "this is not a database\n".repeat(400);
    std::fs::write(&path, &garbage).unwrap();
    let (mut s, note) = HistoryStore::open(&path, Limits::default()).unwrap();
    let note = note.expect("a message saying the file was moved aside");
    assert!(note.contains(&path.display().to_string()) && note.contains(".bad-"), "{note}");
    let backups: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("history.sqlite.bad-"))
        .collect();
    assert_eq!(backups.len(), 1, "{note}");
    assert_eq!(std::fs::read_to_string(backups[0].path()).unwrap(), garbage, "the bad file is kept unchanged");
    s.write(&WriteBatch { uploads: vec![upload(T0, "x", 1)], ..Default::default() }).unwrap();
    drop(s);

    // A file from a newer Leakwatch is not touched in place either.
    let newer = dir.path().join("newer.sqlite");
    {
        let c = rusqlite::Connection::open(&newer).unwrap();
        c.execute_batch("CREATE TABLE future(x); PRAGMA user_version = 99;").unwrap();
    }
    let (_, note) = HistoryStore::open(&newer, Limits::default()).unwrap();
    assert!(note.unwrap().contains("newer Leakwatch"));
    // Reading never moves or creates anything.
    let missing = dir.path().join("missing.sqlite");
    let err = HistoryStore::open_existing(&missing).err().unwrap().to_string();
    assert!(err.contains("missing.sqlite"), "{err}");
    assert!(!missing.exists());
}

#[test]
fn the_recorder_stores_ignores_made_through_the_engine() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.sqlite");
    let filter = r#"{"pattern":{"processname":"^\\Qcurl\\E$"},"name":"Ignore.Custom.curl"}"#;
    open(&path, Limits::default())
        .write(&WriteBatch { alerts: vec![alert_row(1, "new", T0 * 1_000_000, filter)], ..Default::default() })
        .unwrap();
    let engine = Engine::start(leakwatch::settings::EngineConfig::default());
    let handle = engine.handle();
    let rec = Recorder::start(
        &handle,
        open(&path, Limits::default()),
        leakwatch::engine::Delivery::Lossless,
        leakwatch::i18n::Locale::En,
    );
    handle.ignore(filter, IgnoreFor::Now).expect("the filter is valid");
    engine.finish();
    let report = rec.finish();
    assert_eq!(report.actions, 1);
    let s = open(&path, Limits::default());
    let a = s.alerts(&AlertQuery::default()).unwrap();
    assert_eq!(a[0].json["ignored_scope"], "for_now");
    assert!(a[0].json["ignored_at"].is_string());
}

/// What a real capture received, flow by flow, is what the Programs view says each program
/// received over the stored period: every flow with a foreign remote, none of the LAN's.
#[test]
fn the_recorder_stores_what_each_program_received_from_the_flows_of_a_capture() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.sqlite");
    let sample = std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/samples/ookla.pcap"));
    let engine = Engine::start(leakwatch::settings::EngineConfig::default());
    let handle = engine.handle();
    let flows = handle.subscribe_flows();
    let raw = handle.subscribe_flow_ends(leakwatch::engine::Delivery::Lossless);
    let rec = Recorder::start(
        &handle,
        open(&path, Limits::default()),
        leakwatch::engine::Delivery::Lossless,
        leakwatch::i18n::Locale::En,
    );
    leakwatch::capture::file::read_file(&sample, &handle, None).expect("the sample replays");
    engine.finish();
    rec.finish();
    let flows: Vec<_> = flows.try_iter().collect();
    // The unnamed subscription (the recorder's kind) gets the same flows, in the same order.
    let raw: Vec<_> = raw.try_iter().collect();
    assert_eq!(raw.len(), flows.len());
    let key = |f: &leakwatch::flows::FlowRecord| (f.local, f.remote, f.inc.payload, f.out.payload);
    assert_eq!(raw.iter().map(key).collect::<Vec<_>>(), flows.iter().map(key).collect::<Vec<_>>());
    let want: u64 = flows.iter().filter(|f| f.counted).map(|f| f.inc.payload).sum();
    let lan: u64 = flows.iter().filter(|f| !f.counted).map(|f| f.inc.payload).sum();
    assert!(want > 1_000_000, "the speed test downloads: {want}");
    let view = open(&path, Limits::default()).programs_between(0, i64::MAX / 2).unwrap();
    let unknown = view.programs.iter().find(|p| p.program == "unknown").expect("the capture's uploads are stored");
    assert_eq!(unknown.received, Some(want), "LAN flows received {lan} more, which must not count");
}

#[test]
fn replay_records_what_it_printed_and_the_cli_reads_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.sqlite");
    let db_s = db.to_str().unwrap();
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/ookla.pcap");
    let printed = support::leakwatch(&["replay", "--no-progress", "--json", "--history", db_s, sample], None);
    assert_eq!(printed.code, Some(0), "{}", printed.stderr);
    let printed = printed.json_lines();
    let stored = support::leakwatch(&["history", "alerts", "--json", "--since", "all", "--db", db_s], None);
    assert_eq!(stored.code, Some(0), "{}", stored.stderr);
    let stored = stored.json_lines();
    assert_eq!(stored.len(), printed.len());
    for (p, s) in printed.iter().zip(stored.iter()) {
        for k in ["kind", "dstip", "dstport", "hostname", "orgname", "country", "started", "callback_filter"] {
            assert_eq!(p[k], s[k], "{k}");
        }
    }
    let ups =
        support::leakwatch(&["history", "uploads", "--since", "24h", "--from-newest", "--json", "--db", db_s], None);
    let ups = ups.json_lines();
    assert_eq!(ups[0]["program"], "unknown");
    assert!(ups[0]["bytes"].as_u64().unwrap() >= printed[0]["bytes"].as_u64().unwrap());
    let csv =
        support::leakwatch(&["history", "uploads", "--by", "country", "--since", "all", "--csv", "--db", db_s], None);
    assert!(csv.stdout.starts_with("country,bytes\nIT,"), "{}", csv.stdout);
    // A database that is not one: a clear error naming the file, exit code 3.
    let bad = dir.path().join("bad.sqlite");
    std::fs::write(&bad, "garbage".repeat(1000)).unwrap();
    let run = support::leakwatch(&["history", "alerts", "--db", bad.to_str().unwrap()], None);
    assert_eq!(run.code, Some(3));
    assert!(run.stderr.contains("bad.sqlite"), "{}", run.stderr);
}

/// Environment variable that turns [`kill_helper_writes_until_killed`] into the child writer.
const KILL_ENV: &str = "LEAKWATCH_TEST_HISTORY_KILL_DB";

/// The child of [`kill_9_loses_nothing_committed`]: writes batches of 100 minutes for ever,
/// printing how many batches are committed. Does nothing in a normal test run.
#[test]
fn kill_helper_writes_until_killed() {
    let Some(path) = std::env::var_os(KILL_ENV) else { return };
    let mut s = open(Path::new(&path), Limits::default());
    for n in 1.. {
        let base = T0 + n * 100 * 60;
        let uploads = (0..100).map(|i| upload(base + i * 60, "/usr/bin/writer", 1)).collect();
        s.write(&WriteBatch { uploads, ..Default::default() }).unwrap();
        println!("committed {n}");
    }
}

#[test]
fn kill_9_loses_nothing_committed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.sqlite");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "kill_helper_writes_until_killed", "--nocapture", "--test-threads=1"])
        .env(KILL_ENV, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut committed = 0i64;
    while committed < 50 {
        let Some(Ok(line)) = lines.next() else { panic!("the writer stopped after {committed} batches") };
        if let Some(n) = line.strip_prefix("committed ") {
            committed = n.trim().parse().unwrap();
        }
    }
    child.kill().unwrap(); // SIGKILL, in the middle of later writes
    child.wait().unwrap();
    // Lines already in the pipe are commits too.
    for line in lines.map_while(Result::ok) {
        if let Some(n) = line.strip_prefix("committed ") {
            committed = committed.max(n.trim().parse().unwrap_or(0));
        }
    }
    let s = open(&path, Limits::default());
    let total = s.uploads(None, GroupBy::Program, None, 0).unwrap().first().map_or(0, |r| r.bytes);
    assert!(total >= committed as u64 * 100, "{total} bytes stored, {committed} batches of 100 committed");
    assert_eq!(total % 100, 0, "a batch is all or nothing");
}

#[test]
fn the_ui_view_buckets_each_range() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&dir.path().join("h.sqlite"), Limits::default());
    let now = T0 + DAY;
    let uploads = (0..120).map(|m| upload(now - 7200 + m * 60, "/usr/bin/a", 10)).collect();
    s.write(&WriteBatch { uploads, ..Default::default() }).unwrap();
    let v = s.uploads_view("1h", GroupBy::Destination, Some("/usr/bin/a"), now).unwrap();
    assert_eq!((v.bucket_s, v.since), (60, now - 3600));
    assert_eq!(v.series.len(), 60);
    assert_eq!(v.top[0].bytes, 600);
    assert_eq!(v.top[0].country.as_deref(), Some("NL"));
    let v = s.uploads_view("24h", GroupBy::Program, None, now).unwrap();
    assert_eq!(v.series.iter().map(|p| p.bytes).sum::<u64>(), 1200);
    assert!(v.series.iter().all(|p| p.start % 900 == 0));
    assert!(s.uploads_view("2h", GroupBy::Program, None, now).is_err());
}

/// A window ending in the past (the History tab showing an old capture): totals and series
/// count exactly what was written inside `[since, until)`, across whole and partial days, before
/// and after the old minutes are rolled up into hours.
#[test]
fn a_window_ending_in_the_past_counts_only_what_is_inside_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&dir.path().join("h.sqlite"), Limits::default());
    let mut written = Vec::new();
    for m in (0..4 * 1440).step_by(7) {
        for (i, p) in ["/usr/bin/a", "/usr/bin/b"].iter().enumerate() {
            written.push(upload(T0 + m * 60, p, bytes_for(m, i)));
        }
    }
    s.write(&WriteBatch { uploads: written.clone(), ..Default::default() }).unwrap();
    let inside = |since: i64, until: i64| -> u64 {
        written.iter().filter(|u| u.minute >= since && u.minute < until).map(|u| u.bytes).sum()
    };
    let windows = [
        (T0 + 3600, T0 + 7200),              // inside one day
        (T0 + 13 * 3600, T0 + 2 * DAY),      // partial first day, one whole day
        (T0 + 5 * 3600, T0 + 3 * DAY + 600), // partial, two whole days, partial
        (T0, T0 + 4 * DAY),                  // whole days only
        (T0 + DAY, T0 + DAY),                // empty
    ];
    let check = |s: &HistoryStore, roll: bool| {
        for (since, until) in windows {
            // After the roll-up, windows are only exact to the hour.
            let (since, until) = if roll { (since - since % 3600, until - until % 3600) } else { (since, until) };
            let total: u64 = s
                .uploads_between(Some(since), Some(until), GroupBy::Program, None, 0)
                .unwrap()
                .iter()
                .map(|r| r.bytes)
                .sum();
            assert_eq!(total, inside(since, until), "totals of [{since}, {until}), rolled: {roll}");
            let series: u64 = s.series_between(since, until, 3600).unwrap().iter().map(|p| p.bytes).sum();
            assert_eq!(series, inside(since, until), "series of [{since}, {until}), rolled: {roll}");
        }
    };
    check(&s, false);
    assert_eq!(s.newest_s().unwrap(), written.iter().map(|u| u.minute).max());
    // Ten days later every minute is older than 7 days: all of it becomes hours.
    s.maintain(T0 + 11 * DAY).unwrap();
    check(&s, true);
    let view = s.uploads_view("24h", GroupBy::Program, None, T0 + 2 * DAY).unwrap();
    assert_eq!((view.since, view.until), (T0 + DAY, T0 + 2 * DAY));
    assert_eq!(view.top.iter().map(|r| r.bytes).sum::<u64>(), inside(T0 + DAY, T0 + 2 * DAY));
}

/// Any program can name itself with terminal escapes (`prctl(PR_SET_NAME)`): `history alerts`
/// and `history uploads` write them escaped (`\u{1b}`), never raw, so they cannot clear the
/// screen or rewrite earlier lines; `--json` keeps the exact name.
#[test]
fn history_output_escapes_control_characters_of_program_names() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.sqlite");
    let evil = "\u{1b}[2J\u{1b}[31mOK\r\0\u{202e}exe.txt\u{2028}";
    {
        let mut s = open(&db, Limits::default());
        let mut a = alert_row(1, "new", T0 * 1_000_000, "f");
        let mut j: serde_json::Value = serde_json::from_str(&a.json).unwrap();
        j["message"] = format!("{evil} sent 1 KiB").into();
        a.json = j.to_string();
        let up = UploadTotal { minute: T0, program: evil.into(), org: "Org".into(), country: "NL".into(), bytes: 5 };
        s.write(&WriteBatch { alerts: vec![a], uploads: vec![up], ..Default::default() }).unwrap();
    }
    let run = |args: &[&str]| -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_leakwatch"))
            .args(["history"])
            .args(args)
            .args(["--db", db.to_str().unwrap(), "--since", "all"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    for args in [&["alerts"][..], &["uploads"], &["uploads", "--csv"]] {
        let text = run(args);
        assert!(
            !text.chars().any(|c| c != '\n' && leakwatch::text::is_unsafe(c)),
            "{args:?} wrote raw control or bidi characters: {text:?}"
        );
        assert!(text.contains("\\u{202e}exe.txt\\u{2028}") && text.contains("\\u{0}"), "{args:?}: {text:?}");
        assert!(text.contains("\\u{1b}[2J"), "{args:?}: {text:?}");
    }
    assert!(run(&["alerts", "--json"]).contains("\\u001b[2J"), "JSON escapes it its own way");
}

/// The database and its WAL are private to the user (0600), whatever the umask.
#[cfg(unix)]
#[test]
fn the_database_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.sqlite");
    let mut s = open(&db, Limits::default());
    s.write(&WriteBatch { uploads: vec![upload(T0, "/usr/bin/a", 1)], ..Default::default() }).unwrap();
    for f in [db.clone(), dir.path().join("h.sqlite-wal")] {
        let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{} has mode {mode:o}", f.display());
    }
}
