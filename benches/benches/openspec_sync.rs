//! Files <-> database sync of OpenSpec folders, as `twinsync openspec sync` runs it (the
//! folder's `openspec` pair through the engine): the project's corpus
//! (`tests/openspec-corpus`), and generated corpora of 250 / 500 / 1,000 changes made
//! by repeating its changes under new ids, to show the cost per change stays flat.
//!
//! `first` = an empty state and database take in every change (rows, base, FTS index);
//! `idle` = nothing changed since the last sync (the periodic pass in steady state);
//! `one_edit` = one tasks.md changed on disk, synced as `--change` syncs one row.

use std::fs;
use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use twinsync::openspec::sync::{SyncAnswer, SyncReport};
use twinsync::{OpenspecSync, Project};

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

/// Syncs the folder at `root` (or only `change`) as the shortcut does.
fn sync(root: &Path, change: Option<&str>) -> SyncReport {
    let (mut p, pair) = Project::for_openspec(root, None, None).unwrap();
    let req = OpenspecSync { change: change.map(String::from), ..OpenspecSync::default() };
    match p.openspec_sync(&pair, &req).unwrap() {
        SyncAnswer::Synced { report, .. } => report,
        SyncAnswer::Preview { .. } => unreachable!("not a dry run"),
    }
}

/// Forgets every sync of `root`: its state and database.
fn forget(root: &Path) {
    let _ = fs::remove_dir_all(root.join(".twinsync"));
}

fn bench_folder(c: &mut Criterion, group: &str, root: &Path, rows: u64) {
    let mut g = c.benchmark_group(group);
    g.sample_size(10);
    g.throughput(Throughput::Elements(rows));
    g.bench_function("first", |b| {
        b.iter_batched(|| forget(root), |()| assert_eq!(sync(root, None).failed, 0), BatchSize::PerIteration)
    });
    forget(root);
    sync(root, None);
    g.bench_function("idle", |b| b.iter(|| assert!(sync(root, None).items.is_empty())));
    g.finish();
}

fn corpus_folder(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("bench");
    copy_tree(&corpus(), &root.join("openspec"));
    let rows = sync(&root, None).checked;
    bench_folder(c, "openspec_sync/corpus", &root, rows as u64);
}

fn scaling(c: &mut Criterion) {
    for n in [250usize, 500, 1000] {
        let dir = generated(n);
        bench_folder(c, &format!("openspec_sync/generated_{n}"), dir.path(), n as u64);
    }
    // One row synced, whatever the size of the folder.
    let mut g = c.benchmark_group("openspec_sync/one_edit");
    g.sample_size(10);
    for n in [250usize, 1000] {
        let dir = generated(n);
        let root = dir.path();
        sync(root, None);
        let tasks = root.join("openspec/changes/change-00007/tasks.md");
        let mut flip = false;
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                flip = !flip;
                fs::write(&tasks, if flip { "- [x] one\n" } else { "- [ ] one\n" }).unwrap();
                assert_eq!(sync(root, Some("change-00007")).items.len(), 1);
            })
        });
    }
    g.finish();
}

criterion_group!(benches, corpus_folder, scaling);
criterion_main!(benches);
