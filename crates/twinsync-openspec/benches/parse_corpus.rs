//! Parsing the project's OpenSpec corpus (tests/openspec-corpus at the workspace root): whole-folder
//! load, and `list --json` / `validate --all --json` documents built from it.

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion};
use twinsync_openspec::{list_json, validate_json, Scope, Sort, Workspace};

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/openspec-corpus")
}

fn bench(c: &mut Criterion) {
    let root = corpus();
    c.bench_function("load corpus (11 changes, 3 archived, 7 specs)", |b| {
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
