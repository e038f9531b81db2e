//! Scan cost of a filesystem replica: cold (every file read and hashed) against warm
//! (unchanged tree, stat cache only). The whole-tree comparison with `git status` on
//! 100k files is done with the `scan` example and hyperfine (see the crate's report).

use std::fs;
use std::time::{Duration, SystemTime};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use twinsync_core::Replica;
use twinsync_fs::{FsOptions, FsReplica};

const DIRS: usize = 40;
const FILES: usize = 50;

fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let old = SystemTime::now() - Duration::from_secs(3600);
    for d in 0..DIRS {
        let sub = dir.path().join(format!("g{:02}/d{d:04}", d % 4));
        fs::create_dir_all(&sub).unwrap();
        for f in 0..FILES {
            let p = sub.join(format!("f{f:03}.md"));
            let body = format!("# spec {d}/{f}\n{}\n", "lorem ipsum dolor sit amet ".repeat(36));
            fs::write(&p, body).unwrap();
            // Old files, as in a real tree: not in the racy window, so the cache is trusted.
            fs::File::options().write(true).open(&p).unwrap().set_modified(old).unwrap();
        }
    }
    dir
}

fn scan(c: &mut Criterion) {
    let dir = tree();
    let mut g = c.benchmark_group("scan_2000_files");
    g.throughput(Throughput::Elements((DIRS * FILES) as u64));
    g.bench_function("cold", |b| {
        b.iter(|| {
            let mut r = FsReplica::open(dir.path(), FsOptions::default()).unwrap();
            r.scan().unwrap().len()
        })
    });
    let mut warm = FsReplica::open(dir.path(), FsOptions::default()).unwrap();
    warm.scan().unwrap();
    let cache = warm.export_stat_cache();
    g.bench_function("warm", |b| {
        b.iter(|| {
            let n = warm.scan().unwrap().len();
            assert_eq!(warm.last_scan().hashed, 0);
            n
        })
    });
    g.bench_function("warm_after_restart", |b| {
        b.iter(|| {
            let mut r = FsReplica::open(dir.path(), FsOptions::default()).unwrap();
            r.import_stat_cache(&cache);
            let n = r.scan().unwrap().len();
            (n, r.export_stat_cache().len())
        })
    });
    g.finish();
}

criterion_group!(benches, scan);
criterion_main!(benches);
