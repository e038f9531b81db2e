//! The benchmark corpus (`benches/gen/gen_json_corpus.py`) has published digests
//! that every RFC 8785 implementation must reproduce. Uses `bench-data/` at the
//! repository root when it is complete, else generates the corpus into the target
//! directory (about 10 s, needs `python3`).

use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};
use twinsync_core::canonical::{CanonicalOptions, Canonicalizer};

const BIG_DIGEST: &str = "sha256:27a14d28d8cc7ebaf065da9beb1dabe6472f66402454eebf964ae49e7cc0f63c";
const SMALL_SET_DIGEST: &str = "bdbcdfb43efde99a0e2fcf4d6f849850c9c6e81140db5f855d97e12d21959ff4";

fn corpus() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let bench_data = root.join("bench-data");
    // MANIFEST.txt is written last, so its presence means the corpus is complete.
    if bench_data.join("MANIFEST.txt").exists() {
        return bench_data;
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("json-corpus");
    if !dir.join("MANIFEST.txt").exists() {
        let script = root.join("benches/gen/gen_json_corpus.py");
        let status = std::process::Command::new("python3")
            .arg(&script)
            .arg("--out")
            .arg(&dir)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap_or_else(|e| panic!("cannot run python3 {}: {e}", script.display()));
        assert!(status.success(), "{} failed: {status}", script.display());
    }
    dir
}

#[test]
fn corpus_digests_match_the_published_ones() {
    let dir = corpus();
    let opts = CanonicalOptions::default();
    let mut c = Canonicalizer::new(&opts);

    let big = std::fs::read(dir.join("big.json")).unwrap();
    assert_eq!(c.hash(&big).unwrap().to_string(), BIG_DIGEST);

    let small = std::fs::read(dir.join("small.jsonl")).unwrap();
    let mut set = Sha256::new();
    let mut records = 0;
    for line in small.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let d = c.hash(line).unwrap();
        set.update(d.to_hex().as_bytes());
        set.update(b"\n");
        records += 1;
    }
    assert_eq!(records, 10_000);
    let hex: String = set.finalize().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex, SMALL_SET_DIGEST);
}
