//! The benchmark input generators in `benches/gen/` are deterministic: the same call gives
//! the same bytes on every machine, so numbers from different runs (and from peers) are
//! measured on the same input. Small sizes keep this fast; the JSON corpus at full size is
//! checked against its published digests by `twinsync-core`'s `canonical_corpus` test.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest as _, Sha256};
use twinsync_core::merge::{text3_bytes, TextMergeOptions};

fn gen(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("gen").join(name)
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?} does not run: {e}"));
    assert!(out.status.success(), "{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn merge_triple_of_10k_lines_has_its_digests_and_merges_to_expected() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("merge-10000");
    run(Command::new("python3").arg(gen("gen_merge_triple.py")).arg(&dir).arg("10000"));
    let [base, ours, theirs, expected] =
        ["base", "ours", "theirs", "expected"].map(|f| std::fs::read(dir.join(f)).unwrap());
    let digests = [&base, &ours, &theirs, &expected].map(|b| sha256_hex(b));
    assert_eq!(
        digests,
        [
            "c0b753f9cf1a015aad4db14fa9e44cad28a28282cdc3bb6e946afcad5367450f",
            "b1d6093b8b341f18cd0ca9b2512c90a3bbfdc032704c725ea2cb1e96cee10eb6",
            "3b813bb2137c9ccfccf8e76a2cb03f0285a22d2f73659874ba65918e972313b4",
            "e443db981803ac2b2aed71aa0e4a37a340fc139ac77b8610ef0955ff8f50ab57",
        ]
    );
    // The generator's `expected` is the exact clean merge, as the merge bench assumes.
    let m = text3_bytes(&base, &ours, &theirs, &TextMergeOptions::default());
    assert!(m.is_clean() && m.bytes == expected);
}

#[test]
fn tree_generator_commits_the_same_tree() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("tree");
    run(Command::new("bash").arg(gen("gen_tree.sh")).arg(&root).args(["3", "4", "64"]));
    let out = Command::new("git").current_dir(&root).args(["rev-parse", "HEAD^{tree}"]).output().unwrap();
    // git's tree id covers every path and every byte of the 12 files.
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "87b39d811b8f9180c9f7a7419ca8d98061f999f8");
}
