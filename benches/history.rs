//! History store cost: writing one day of per-minute upload totals for 200 programs, in one
//! write (one transaction, e.g. a recorder catching up) and as the live recorder does (one
//! transaction per minute of traffic), and the "top programs of the last 30 days" query over a
//! month of history (23 days rolled up to hours, 7 days of minutes).
//! Baseline, in the same run: the same work on an in-memory `HashMap` aggregate / `Vec` scan.
//!
//! With `--bench` (`cargo bench --bench history`): criterion measures both, then the bench times
//! them once more and prints the absolute figures and the ratios. Without `--bench` (`cargo test
//! --all-targets`) a small version runs once as a smoke test.

use criterion::Criterion;
use leakwatch::history::{GroupBy, HistoryStore, Limits, UploadTotal, WriteBatch};
use std::collections::HashMap;
use std::hint::black_box;
use std::time::Instant;

const T0: i64 = 1_767_225_600;
const DAY: i64 = 86_400;

fn program(i: usize) -> String {
    format!("/usr/lib/vendor-{}/bin/program-{i}", i % 17)
}

/// One minute of totals: every program sent something to one of a few organisations.
fn minute_batch(minute: i64, programs: usize) -> Vec<UploadTotal> {
    (0..programs)
        .map(|i| UploadTotal {
            minute,
            program: program(i),
            org: format!("Organisation {}", i % 23),
            country: ["US", "DE", "NL", "RU", "IE"][i % 5].into(),
            bytes: 1000 + (i as u64 * 7919 + minute as u64) % 50_000,
        })
        .collect()
}

/// Writes `minutes` minutes starting at `start` into `store`, one transaction per minute.
fn write_day(store: &mut HistoryStore, start: i64, minutes: i64, programs: usize) {
    for m in 0..minutes {
        let batch = WriteBatch { uploads: minute_batch(start + m * 60, programs), ..Default::default() };
        store.write(&batch).expect("writing");
    }
}

/// The totals of `minutes` minutes starting at `start`, as one batch.
fn day_batch(start: i64, minutes: i64, programs: usize) -> WriteBatch {
    WriteBatch {
        uploads: (0..minutes).flat_map(|m| minute_batch(start + m * 60, programs)).collect(),
        ..Default::default()
    }
}

/// The baseline for writing: the same totals folded into an in-memory map.
fn aggregate_day(start: i64, minutes: i64, programs: usize) -> usize {
    let mut map: HashMap<(i64, String, String, String), u64> = HashMap::new();
    for m in 0..minutes {
        for u in minute_batch(start + m * 60, programs) {
            *map.entry((u.minute, u.program, u.org, u.country)).or_default() += u.bytes;
        }
    }
    map.len()
}

/// The baseline for writing a prepared day: the same totals folded into an in-memory map.
fn fold_batch(batch: &WriteBatch) -> usize {
    let mut map: HashMap<(i64, String, String, String), u64> = HashMap::new();
    for u in &batch.uploads {
        *map.entry((u.minute, u.program.clone(), u.org.clone(), u.country.clone())).or_default() += u.bytes;
    }
    map.len()
}

/// A month of history for `programs` programs, each active one minute in ten.
fn month(dir: &std::path::Path, programs: usize) -> (HistoryStore, Vec<UploadTotal>) {
    let (mut store, _) = HistoryStore::open(&dir.join("month.sqlite"), Limits::default()).expect("open");
    let mut all = Vec::new();
    for day in 0..30 {
        let mut batch = WriteBatch::default();
        for m in (0..1440).step_by(10) {
            batch.uploads.extend(minute_batch(T0 + day * DAY + m * 60, programs));
        }
        all.extend(batch.uploads.iter().cloned());
        store.write(&batch).expect("writing");
    }
    store.maintain(T0 + 30 * DAY).expect("maintain");
    (store, all)
}

/// The baseline for the query: sum a `Vec` of every total by program and sort.
fn top_in_vec(all: &[UploadTotal], since: i64) -> Vec<(String, u64)> {
    let mut by: HashMap<&str, u64> = HashMap::new();
    for u in all.iter().filter(|u| u.minute >= since) {
        *by.entry(&u.program).or_default() += u.bytes;
    }
    let mut v: Vec<(String, u64)> = by.into_iter().map(|(k, b)| (k.to_string(), b)).collect();
    v.sort_by_key(|e| std::cmp::Reverse(e.1));
    v.truncate(20);
    v
}

fn time_ms(f: &mut dyn FnMut()) -> f64 {
    let t = Instant::now();
    f();
    t.elapsed().as_secs_f64() * 1000.0
}

fn main() {
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let dir = tempfile::tempdir().expect("temp dir");
    if !bench_mode {
        let (mut s, _) = HistoryStore::open(&dir.path().join("smoke.sqlite"), Limits::default()).expect("open");
        write_day(&mut s, T0, 30, 5);
        s.write(&day_batch(T0, 30, 5)).expect("writing");
        assert_eq!(aggregate_day(T0, 30, 5), 150);
        assert_eq!(fold_batch(&day_batch(T0, 30, 5)), 150);
        let top = s.uploads(Some(T0), GroupBy::Program, None, 20).expect("query");
        assert_eq!(top.len(), 5);
        let written: u64 = day_batch(T0, 30, 5).uploads.iter().map(|u| u.bytes).sum();
        assert_eq!(top.iter().map(|r| r.bytes).sum::<u64>(), 2 * written);
        println!("history bench: smoke run ok; use `cargo bench --bench history`");
        return;
    }
    let programs = 200;
    let (month_store, all) = month(dir.path(), programs);
    let since = T0;

    let mut c = Criterion::default().configure_from_args().sample_size(10);
    let mut g = c.benchmark_group("history");
    let mut n = 0;
    let day = day_batch(T0, 1440, programs);
    g.bench_function("write_one_day_200_programs_one_transaction", |b| {
        b.iter(|| {
            n += 1;
            let (mut s, _) =
                HistoryStore::open(&dir.path().join(format!("day-{n}.sqlite")), Limits::default()).expect("open");
            s.write(&day).expect("writing");
        })
    });
    g.bench_function("write_one_day_200_programs_per_minute", |b| {
        b.iter(|| {
            n += 1;
            let (mut s, _) =
                HistoryStore::open(&dir.path().join(format!("day-{n}.sqlite")), Limits::default()).expect("open");
            write_day(&mut s, T0, 1440, programs);
        })
    });
    g.bench_function("baseline_hashmap_one_day_prepared", |b| b.iter(|| black_box(fold_batch(&day))));
    g.bench_function("baseline_hashmap_one_day", |b| b.iter(|| black_box(aggregate_day(T0, 1440, programs))));
    g.bench_function("top_programs_30_days", |b| {
        b.iter(|| black_box(month_store.uploads(Some(since), GroupBy::Program, None, 20).expect("query")))
    });
    g.bench_function("baseline_vec_top_programs_30_days", |b| b.iter(|| black_box(top_in_vec(&all, since))));
    g.finish();
    c.final_summary();

    let (mut s, _) = HistoryStore::open(&dir.path().join("final.sqlite"), Limits::default()).expect("open");
    let write = time_ms(&mut || write_day(&mut s, T0, 1440, programs));
    let (mut s, _) = HistoryStore::open(&dir.path().join("final-one.sqlite"), Limits::default()).expect("open");
    let write_one = time_ms(&mut || s.write(&day).expect("writing"));
    let fold_base = time_ms(&mut || {
        black_box(fold_batch(&day));
    });
    let write_base = time_ms(&mut || {
        black_box(aggregate_day(T0, 1440, programs));
    });
    // Queries are cheap: best of 5, so one scheduling hiccup on a shared machine does not count.
    let best = |f: &mut dyn FnMut()| (0..5).map(|_| time_ms(&mut *f)).fold(f64::INFINITY, f64::min);
    let query = best(&mut || {
        black_box(month_store.uploads(Some(since), GroupBy::Program, None, 20).expect("query"));
    });
    let query_base = best(&mut || {
        black_box(top_in_vec(&all, since));
    });
    println!("history: {programs} programs");
    println!(
        "  write one day of per-minute totals ({} totals, prepared) in one transaction: {write_one:.0} ms; \
         baseline: folding them into an in-memory HashMap {fold_base:.0} ms; ratio {:.2}",
        1440 * programs,
        write_one / fold_base
    );
    println!(
        "  the same day as the live recorder writes it (each minute's totals made, then one transaction a minute): \
         {write:.0} ms; baseline: making them and folding them into a HashMap {write_base:.0} ms; ratio {:.2}",
        write / write_base
    );
    println!(
        "  top programs of the last 30 days ({} totals written, stored as minutes and hours): {query:.1} ms; \
         Vec scan baseline {query_base:.1} ms; ratio {:.2} (best of 5)",
        all.len(),
        query / query_base
    );
}
