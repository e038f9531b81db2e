//! The store behind a sync: the first sync and the idle pass of a folder pair of 10,000
//! small files (1 KB, in 100 folders) through the facade, with the state in the SQLite
//! file and in PostgreSQL over a local socket (`TWINSYNC_TEST_POSTGRES_URL`, the
//! throwaway cluster of `.ci/postgres.sh`; the bench panics without it, as the tests do).
//!
//! - `first_sync/{sqlite,postgres}`: a fresh project, the full left folder copied into an
//!   empty right one (each iteration its own project; setup not timed);
//! - `idle/{sqlite,postgres}`: `sync` of a project already in step, nothing to do: the
//!   scan (stat cache), the base, drift, and the records of an operation that changes
//!   nothing, as a watch's periodic pass or a repeated `twinsync sync` runs it.
//!
//! Before measuring, one idle pass per store is counted where the database can tell: on
//! PostgreSQL, the transactions and the tuples it read (`pg_stat_database`, flushed when
//! the pass's connection closes), printed to stderr.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, SamplingMode, Throughput};
use twinsync::{Config, Project, SyncRequest};

const N: usize = 10_000;

/// `n` files of 1 KB, every one different, in 100 folders under `root`.
fn tree(root: &Path, n: usize) {
    for i in 0..n {
        let d = root.join(format!("d{:02}", i % 100));
        fs::create_dir_all(&d).unwrap();
        let line = format!("item {i}: the quick brown fox jumps over the lazy dog\n");
        let mut body = line.repeat(1024 / line.len() + 1);
        body.truncate(1023);
        body.push('\n');
        fs::write(d.join(format!("f{i:05}.md")), body).unwrap();
    }
}

fn pg_url() -> String {
    std::env::var("TWINSYNC_TEST_POSTGRES_URL").ok().filter(|s| !s.trim().is_empty()).unwrap_or_else(|| {
        panic!(
            "TWINSYNC_TEST_POSTGRES_URL is not set: this bench needs a PostgreSQL server (`source .ci/postgres.sh && \
             twinsync_pg_start`)"
        )
    })
}

fn fresh_id(name: &str) -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    format!("bench-{name}-{}-{nanos}", std::process::id())
}

/// A project in `dir` with left `left` and an empty right, its state in `store`
/// (`None`: the SQLite default).
fn project(dir: &Path, store: Option<&str>) -> Project {
    fs::create_dir_all(dir.join("right")).unwrap();
    let mut config = Config::new("left", "right");
    config.store.url = store.map(str::to_string);
    config.store.project = Some(fresh_id("shared-store"));
    Project::init_with(dir, config).unwrap()
}

const STORES: [&str; 2] = ["sqlite", "postgres"];

fn url_of(store: &str) -> Option<String> {
    (store == "postgres").then(pg_url)
}

fn first_sync(c: &mut Criterion) {
    let mut g = c.benchmark_group("shared_store_first_sync");
    g.sample_size(10).sampling_mode(SamplingMode::Flat).warm_up_time(Duration::from_millis(1));
    g.throughput(Throughput::Elements(N as u64));
    let src = tempfile::tempdir().unwrap();
    tree(src.path(), N);
    for store in STORES {
        let url = url_of(store);
        g.bench_with_input(BenchmarkId::new(store, N), &N, |b, _| {
            b.iter_batched(
                || {
                    let dir = tempfile::tempdir().unwrap();
                    fs::rename(src.path(), dir.path().join("left")).unwrap();
                    let p = project(dir.path(), url.as_deref());
                    (dir, p)
                },
                |(dir, mut p)| {
                    let report = p.sync(&SyncRequest::default()).unwrap();
                    assert_eq!(report.counts.applied, N);
                    drop(p);
                    fs::rename(dir.path().join("left"), src.path()).unwrap();
                    dir
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

/// Transactions committed and tuples read in the whole database so far.
fn pg_counts(url: &str) -> (i64, i64, i64) {
    let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
    let r = c
        .query_one(
            "SELECT xact_commit, tup_returned, tup_fetched FROM pg_stat_database WHERE datname = current_database()",
            &[],
        )
        .unwrap();
    (r.get(0), r.get(1), r.get(2))
}

fn idle(c: &mut Criterion) {
    let mut g = c.benchmark_group("shared_store_idle");
    g.sample_size(20);
    g.throughput(Throughput::Elements(N as u64));
    for store in STORES {
        let url = url_of(store);
        let dir = tempfile::tempdir().unwrap();
        tree(&dir.path().join("left"), N);
        let mut p = project(dir.path(), url.as_deref());
        assert_eq!(p.sync(&SyncRequest::default()).unwrap().counts.applied, N);
        // Where an idle pass's time goes: one pass by a project opened for it, as a
        // repeated `twinsync sync` runs (its connection closes, so its counts are flushed).
        drop(p);
        let before = url.as_deref().map(pg_counts);
        let started = Instant::now();
        let mut once = Project::open(dir.path()).unwrap();
        let opened = started.elapsed();
        let report = once.sync(&SyncRequest::default()).unwrap();
        let passed = started.elapsed() - opened;
        assert_eq!(report.counts.applied, 0);
        drop(once);
        if let (Some(url), Some(before)) = (url.as_deref(), before) {
            std::thread::sleep(Duration::from_millis(1500));
            let after = pg_counts(url);
            eprintln!(
                "idle pass on {store}: open {opened:?}, sync {passed:?}; {} transactions (the counting query's \
                 own included), {} tuples returned, {} fetched",
                after.0 - before.0,
                after.1 - before.1,
                after.2 - before.2
            );
        } else {
            eprintln!("idle pass on {store}: open {opened:?}, sync {passed:?}");
        }
        let mut p = Project::open(dir.path()).unwrap();
        g.bench_with_input(BenchmarkId::new(store, N), &N, |b, _| {
            b.iter(|| {
                let report = p.sync(&SyncRequest::default()).unwrap();
                assert_eq!(report.counts.applied, 0);
            })
        });
    }
    g.finish();
}

criterion_group!(benches, first_sync, idle);
criterion_main!(benches);
