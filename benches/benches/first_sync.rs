//! The first sync of a folder pair: 2,000 and 20,000 small files (4 KB each, in 100
//! folders) from a full left folder to an empty right one, through the facade as
//! `twinsync sync` runs it (SQLite store on disk, stat caches, lease, group commit).
//! `benches/first_sync.sh` compares the same tree against `rsync -a` in one run.
//!
//! Each iteration starts from a fresh project and an empty right folder (not timed).
//! The 20,000-file case takes seconds per iteration: run it with `--sample-size 10`.

use std::fs;
use std::path::Path;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use twinsync::{Project, SyncRequest};

/// `n` files of 4 KB, every one different, in 100 folders under `root`.
fn tree(root: &Path, n: usize) {
    for i in 0..n {
        let d = root.join(format!("d{:02}", i % 100));
        fs::create_dir_all(&d).unwrap();
        let line = format!("file {i}: the quick brown fox jumps over the lazy dog\n");
        let mut body = line.repeat(4096 / line.len() + 1);
        body.truncate(4095);
        body.push('\n');
        fs::write(d.join(format!("f{i:05}.md")), body).unwrap();
    }
}

fn first_sync(c: &mut Criterion) {
    let mut g = c.benchmark_group("first_sync");
    g.sample_size(10);
    for n in [2_000usize, 20_000] {
        let src = tempfile::tempdir().unwrap();
        tree(src.path(), n);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter_batched(
                || {
                    // A fresh project whose left is the tree (moved in and back, not copied).
                    let dir = tempfile::tempdir().unwrap();
                    fs::rename(src.path(), dir.path().join("left")).unwrap();
                    fs::create_dir(dir.path().join("right")).unwrap();
                    let project = Project::init(dir.path(), "left", "right").unwrap();
                    (dir, project)
                },
                |(dir, mut project)| {
                    let report = project.sync(&SyncRequest::default()).unwrap();
                    assert_eq!(report.counts.applied, n);
                    drop(project);
                    fs::rename(dir.path().join("left"), src.path()).unwrap();
                    dir
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, first_sync);
criterion_main!(benches);
