//! text3_bytes on 10k / 100k / 1M-line triples from benches/gen/gen_merge_triple.py
//! (generated into bench-data/merge-N at the repository root when missing), checked
//! against the generator's exact expected merge before timing.

use std::path::{Path, PathBuf};
use std::process::Command;

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use twinsync_core::merge::{text3_bytes, TextMergeOptions};

/// Loads (generating if needed) the triple of `n` lines: base, ours, theirs, expected.
fn triple(n: usize) -> [Vec<u8>; 4] {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir: PathBuf = root.join(format!("bench-data/merge-{n}"));
    if !dir.join("expected").is_file() {
        let script = root.join("benches/gen/gen_merge_triple.py");
        let ok = Command::new("python3")
            .arg(&script)
            .arg(&dir)
            .arg(n.to_string())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "could not generate {} with {}", dir.display(), script.display());
    }
    ["base", "ours", "theirs", "expected"]
        .map(|f| std::fs::read(dir.join(f)).unwrap_or_else(|e| panic!("{}/{f}: {e}", dir.display())))
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("text3");
    g.sample_size(10);
    let opts = TextMergeOptions::default();
    for n in [10_000usize, 100_000, 1_000_000] {
        let [base, ours, theirs, expected] = triple(n);
        let m = text3_bytes(&base, &ours, &theirs, &opts);
        assert!(m.is_clean() && m.bytes == expected, "{n}-line merge differs from expected");
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| text3_bytes(black_box(&base), black_box(&ours), black_box(&theirs), &opts))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
