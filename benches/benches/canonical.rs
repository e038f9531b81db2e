//! Canonical hashing on the JSON corpus (`benches/gen/gen_json_corpus.py`):
//! `big.json` (~30 MB, one pretty-printed document) and `small.jsonl` (10,000
//! documents of ~1 KB), next to the peer the target is set against (serde_json into a
//! `Value`, serde_jcs, sha2: the common Rust pipeline, as `benches/jcs-peer`
//! runs it) and two references: serde_json parsing into a `Value` alone, and SHA-256
//! over the raw bytes (a floor).
//!
//! After criterion's report the bench prints the target's ratios from one run (median
//! of several passes each, digests compared with the peer's). Large inputs use every
//! core; `taskset -c 0 cargo bench ...` gives the one-core ratio.
//!
//! The corpus lives in `bench-data/` at the repository root (gitignored); it is
//! generated there with python3 when missing. The same comparison as whole processes,
//! with hyperfine:
//!
//! ```text
//! cp -r benches/jcs-peer /tmp/jcs-peer
//! (cd /tmp/jcs-peer && cargo build --release --target-dir /tmp/jcs-peer-target)
//! cargo build --release -p twinsync-cli
//! hyperfine -N -w 2 'target/release/twinsync hash bench-data/big.json' \
//!     '/tmp/jcs-peer-target/release/jcs-peer bench-data/big.json'
//! hyperfine -N -w 2 'target/release/twinsync hash --jsonl bench-data/small.jsonl' \
//!     '/tmp/jcs-peer-target/release/jcs-peer --lines bench-data/small.jsonl'
//! ```

use std::path::{Path, PathBuf};

use criterion::{black_box, criterion_group, Criterion, Throughput};
use sha2::{Digest as _, Sha256};
use twinsync_benches::median;
use twinsync_core::canonical::{self, CanonicalOptions, Canonicalizer, IgnoreRules, TextOptions};

/// The peer pipeline: a `Value` tree, serde_jcs, SHA-256.
fn peer(doc: &[u8]) -> [u8; 32] {
    let value: serde_json::Value = serde_json::from_slice(doc).expect("valid JSON");
    Sha256::digest(serde_jcs::to_vec(&value).expect("canonical")).into()
}

/// The corpus directory, generated on first use. A bench without its input fails: a
/// silent skip would read as "no regression".
fn corpus() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = root.join("bench-data");
    if dir.join("MANIFEST.txt").exists() {
        return dir;
    }
    let script = root.join("benches/gen/gen_json_corpus.py");
    eprintln!("canonical bench: generating the corpus into {} ...", dir.display());
    let status = std::process::Command::new("python3").arg(&script).arg("--out").arg(&dir).status();
    assert!(
        status.as_ref().is_ok_and(|s| s.success()),
        "canonical bench: `python3 {} --out {}` failed: {status:?}",
        script.display(),
        dir.display()
    );
    dir
}

fn bench(c: &mut Criterion) {
    let dir = corpus();
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
    g.bench_function("peer: serde_json Value + serde_jcs + sha2", |b| b.iter(|| peer(black_box(&big))));
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
    g.bench_function("peer: serde_json Value + serde_jcs + sha2, each record", |b| {
        b.iter(|| {
            for r in &records {
                black_box(peer(r));
            }
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

/// The issue's target from one run: at least 8x the peer on both inputs.
fn ratios() {
    let dir = corpus();
    let big = std::fs::read(dir.join("big.json")).expect("big.json");
    let small = std::fs::read(dir.join("small.jsonl")).expect("small.jsonl");
    let records: Vec<&[u8]> = small.split(|&b| b == b'\n').filter(|l| !l.is_empty()).collect();
    let opts = CanonicalOptions::default();
    let mut canon = Canonicalizer::new(&opts);

    let ours = canon.hash(&big).unwrap();
    assert_eq!(ours.as_bytes(), &peer(&big), "big.json: the peer's digest differs from {ours}");
    let lines = canonical::hash_lines(&small, &opts);
    assert_eq!(lines.digests.len(), records.len());
    for (i, (d, r)) in lines.digests.iter().zip(&records).enumerate() {
        assert_eq!(d.as_bytes(), &peer(r), "small.jsonl record {i}: the peer's digest differs from {d}");
    }

    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let t_ours = median(7, || {
        black_box(canon.hash(black_box(&big)).unwrap());
    });
    let t_peer = median(5, || {
        black_box(peer(black_box(&big)));
    });
    println!(
        "canonical big.json ({threads} cores): ours {t_ours:?}, peer {t_peer:?}: {:.1}x (target >= 8)",
        t_peer.as_secs_f64() / t_ours.as_secs_f64()
    );
    let t_ours = median(9, || {
        black_box(canonical::hash_lines(black_box(&small), &opts));
    });
    let t_peer = median(5, || {
        for r in &records {
            black_box(peer(r));
        }
    });
    println!(
        "canonical small.jsonl ({threads} cores): ours {t_ours:?}, peer {t_peer:?}: {:.1}x (target >= 8)",
        t_peer.as_secs_f64() / t_ours.as_secs_f64()
    );
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    // `cargo test --benches` runs each benchmark once as a smoke test; ratios need timing.
    if !std::env::args().any(|a| a == "--test") {
        ratios();
    }
}
