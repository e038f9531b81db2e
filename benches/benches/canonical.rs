//! Canonical hashing on the shared corpus (`../shared/bench/gen_json_corpus.py`):
//! `big.json` (~30 MB, one pretty-printed document) and `small.jsonl` (10,000
//! documents of ~1 KB), next to two references: serde_json parsing into a `Value`
//! (the first step of the common pipeline) and SHA-256 over the raw bytes (a floor).
//!
//! The corpus lives in `bench-data/` at the repository root (gitignored); it is
//! generated there with python3 when missing. The peer comparison runs whole
//! processes with hyperfine on the same files:
//!
//! ```text
//! cp -r ../shared/bench/jcs-peer /tmp/jcs-peer
//! (cd /tmp/jcs-peer && cargo build --release --target-dir /tmp/jcs-peer-target)
//! cargo build --release -p twinsync-cli
//! hyperfine -N -w 2 'target/release/twinsync hash bench-data/big.json' \
//!     '/tmp/jcs-peer-target/release/jcs-peer bench-data/big.json'
//! hyperfine -N -w 2 'target/release/twinsync hash --jsonl bench-data/small.jsonl' \
//!     '/tmp/jcs-peer-target/release/jcs-peer --lines bench-data/small.jsonl'
//! ```

use std::path::{Path, PathBuf};

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use sha2::{Digest as _, Sha256};
use twinsync_core::canonical::{self, CanonicalOptions, Canonicalizer, IgnoreRules, TextOptions};

/// The corpus directory, generated on first use; `None` (with a message) when that fails.
fn corpus() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = root.join("bench-data");
    if dir.join("MANIFEST.txt").exists() {
        return Some(dir);
    }
    let script = root.join("../shared/bench/gen_json_corpus.py");
    eprintln!("canonical bench: generating the corpus into {} ...", dir.display());
    match std::process::Command::new("python3").arg(&script).arg("--out").arg(&dir).status() {
        Ok(s) if s.success() => Some(dir),
        other => {
            eprintln!(
                "canonical bench: SKIPPED, could not run `python3 {} --out {}` ({other:?})",
                script.display(),
                dir.display()
            );
            None
        }
    }
}

fn bench(c: &mut Criterion) {
    let Some(dir) = corpus() else { return };
    let big = std::fs::read(dir.join("big.json")).expect("big.json");
    let small = std::fs::read(dir.join("small.jsonl")).expect("small.jsonl");
    let records: Vec<&[u8]> = small.split(|&b| b == b'\n').filter(|l| !l.is_empty()).collect();
    let opts = CanonicalOptions::default();
    let ignoring = CanonicalOptions {
        ignore: IgnoreRules::new(["/updatedAt", "/**/id", "/meta/stats/*"]).unwrap(),
        ..Default::default()
    };

    let mut g = c.benchmark_group("canonical/big.json");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(big.len() as u64));
    let mut canon = Canonicalizer::new(&opts);
    g.bench_function("hash", |b| b.iter(|| canon.hash(black_box(&big)).unwrap()));
    let mut out = Vec::new();
    g.bench_function("canonicalize_into", |b| {
        b.iter(|| {
            out.clear();
            canon.canonicalize_into(black_box(&big), &mut out).unwrap();
        })
    });
    let mut ign = Canonicalizer::new(&ignoring);
    g.bench_function("hash with 3 ignore rules", |b| b.iter(|| ign.hash(black_box(&big)).unwrap()));
    g.bench_function("reference: serde_json parse to Value", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(&big)).unwrap())
    });
    g.bench_function("floor: sha256 of the raw bytes", |b| b.iter(|| Sha256::digest(black_box(&big))));
    g.finish();

    let mut g = c.benchmark_group("canonical/small.jsonl");
    g.sample_size(20);
    g.throughput(Throughput::Elements(records.len() as u64));
    g.bench_function("hash each record", |b| {
        b.iter(|| {
            for r in &records {
                black_box(canon.hash(r).unwrap());
            }
        })
    });
    g.bench_function("hash_lines (records split across cores)", |b| {
        b.iter(|| {
            let r = canonical::hash_lines(black_box(&small), &opts);
            assert_eq!(r.digests.len(), records.len());
            r
        })
    });
    g.bench_function("hash_json each record (free function)", |b| {
        b.iter(|| {
            for r in &records {
                black_box(canonical::hash_json(r, &opts).unwrap());
            }
        })
    });
    g.finish();

    let text: String = "# Title\r\n\r\nSome body text with trailing blanks   \r\n".repeat(20_000);
    let mut g = c.benchmark_group("canonical/text");
    g.throughput(Throughput::Bytes(text.len() as u64));
    let trim = TextOptions { trim_trailing_whitespace: true };
    g.bench_function("hash_text CRLF", |b| b.iter(|| canonical::hash_text(black_box(&text), &TextOptions::default())));
    g.bench_function("hash_text CRLF + trim", |b| b.iter(|| canonical::hash_text(black_box(&text), &trim)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
