//! Files <-> database sync of OpenSpec folders: the project's corpus
//! (`tests/openspec-corpus`), and generated corpora of 250 / 500 / 1,000 changes made
//! by repeating its changes under new ids, to show the cost per change stays flat.
//!
//! `first` = an empty database takes in every change (rows, base, FTS index);
//! `idle` = nothing changed since the last sync (the periodic pass in steady state);
//! `one_edit` = one tasks.md changed on disk (the watcher's immediate path, one row).

use std::fs;
use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use twinsync_core::{ManualClock, Timestamp, Trigger};
use twinsync_openspec::db::Kind;
use twinsync_openspec::sync::{SyncConfig, SyncPolicy, Syncer};
use twinsync_openspec::Db;

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/openspec-corpus/openspec")
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap().flatten() {
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &dest);
        } else {
            fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// Change folders of the corpus (active and archived), as sources to repeat.
fn corpus_changes() -> Vec<PathBuf> {
    let root = corpus().join("changes");
    let mut dirs: Vec<PathBuf> = Vec::new();
    for base in [root.clone(), root.join("archive")] {
        for e in fs::read_dir(&base).unwrap().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if e.file_type().unwrap().is_dir() && name != "archive" && !name.starts_with('.') {
                dirs.push(e.path());
            }
        }
    }
    dirs.sort();
    dirs
}

/// A folder with `n` active changes copied round-robin from the corpus, plus its specs.
fn generated(n: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let sources = corpus_changes();
    for i in 0..n {
        let src = &sources[i % sources.len()];
        copy_tree(src, &dir.path().join(format!("openspec/changes/change-{i:05}")));
    }
    copy_tree(&corpus().join("specs"), &dir.path().join("openspec/specs"));
    dir
}

fn config(root: &Path) -> SyncConfig {
    SyncConfig { project: "bench".into(), policy: SyncPolicy::FsWins, backup_dir: Some(root.join(".twinsync/b")) }
}

fn bench_folder(c: &mut Criterion, group: &str, root: &Path, rows: u64) {
    let clock = ManualClock::new(Timestamp(1_750_000_000_000));
    let mut g = c.benchmark_group(group);
    g.sample_size(10);
    g.throughput(Throughput::Elements(rows));
    g.bench_function("first", |b| {
        b.iter_batched(
            || Db::open_in_memory().unwrap(),
            |db| {
                let r = Syncer::new(root, &db, &clock, config(root)).unwrap().sync_all(Trigger::Manual).unwrap();
                assert_eq!(r.failed, 0);
                db
            },
            BatchSize::PerIteration,
        )
    });
    let db = Db::open_in_memory().unwrap();
    let mut s = Syncer::new(root, &db, &clock, config(root)).unwrap();
    s.sync_all(Trigger::Manual).unwrap();
    g.bench_function("idle", |b| {
        b.iter(|| {
            let r = s.sync_all(Trigger::Periodic).unwrap();
            assert!(r.items.is_empty());
        })
    });
    g.finish();
}

fn corpus_folder(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&corpus(), &dir.path().join("openspec"));
    let db = Db::open_in_memory().unwrap();
    let clock = ManualClock::new(Timestamp(0));
    let rows =
        Syncer::new(dir.path(), &db, &clock, config(dir.path())).unwrap().sync_all(Trigger::Manual).unwrap().checked;
    bench_folder(c, "openspec_sync/corpus", dir.path(), rows as u64);
}

fn scaling(c: &mut Criterion) {
    for n in [250usize, 500, 1000] {
        let dir = generated(n);
        bench_folder(c, &format!("openspec_sync/generated_{n}"), dir.path(), n as u64);
    }
    // The watcher's path: one row synced, whatever the size of the folder.
    let mut g = c.benchmark_group("openspec_sync/one_edit");
    g.sample_size(10);
    for n in [250usize, 1000] {
        let dir = generated(n);
        let root = dir.path();
        let clock = ManualClock::new(Timestamp(0));
        let db = Db::open_in_memory().unwrap();
        let mut s = Syncer::new(root, &db, &clock, config(root)).unwrap();
        s.sync_all(Trigger::Manual).unwrap();
        let tasks = root.join("openspec/changes/change-00007/tasks.md");
        let mut flip = false;
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                flip = !flip;
                fs::write(&tasks, if flip { "- [x] one\n" } else { "- [ ] one\n" }).unwrap();
                let r = s.sync_items(&[(Kind::Change, "change-00007".into())], Trigger::FileWatcher).unwrap();
                assert_eq!(r.items.len(), 1);
            })
        });
    }
    g.finish();
}

criterion_group!(benches, corpus_folder, scaling);
criterion_main!(benches);
