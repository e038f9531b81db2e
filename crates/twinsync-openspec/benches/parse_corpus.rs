//! Parsing the shared OpenSpec corpus (../../../shared/conformance/openspec): whole-folder
//! load, and `list --json` / `validate --all --json` documents built from it.

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion};
use twinsync_openspec::{list_json, validate_json, Scope, Sort, Workspace};

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/openspec")
}

fn bench(c: &mut Criterion) {
    let root = corpus();
    c.bench_function("load corpus (105 changes, 36 specs)", |b| {
        b.iter(|| Workspace::load(&root).expect("corpus loads"))
    });
    let ws = Workspace::load(&root).expect("corpus loads");
    c.bench_function("list --json document", |b| b.iter(|| list_json(&ws, Sort::Name)));
    c.bench_function("validate --all --json document", |b| {
        b.iter(|| validate_json(&ws, Scope { changes: true, specs: true }, false))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
