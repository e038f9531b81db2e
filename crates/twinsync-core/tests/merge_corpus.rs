//! `text3` against the real `git merge-file` on base/ours/theirs triples taken from merge
//! commits of public repositories (tests/corpus/merges, see its MANIFEST.tsv).

use std::path::{Path, PathBuf};
use std::process::Command;

use twinsync_core::merge::{text3_bytes, Aligner, ConflictStyle, TextMergeOptions};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus/merges")
}

fn cases() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("tests/corpus/merges is committed with the repository")
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("base").is_file())
        .collect();
    v.sort();
    v
}

/// Runs the real git on a triple; returns (output, exit code).
fn git_merge(dir: &Path, style: ConflictStyle) -> (Vec<u8>, i32) {
    let mut cmd = Command::new("git");
    // Pin the conflict style: a repository or user config could otherwise change it.
    cmd.args(["-c", "merge.conflictStyle=merge", "merge-file", "-p"]);
    match style {
        ConflictStyle::Merge => {}
        ConflictStyle::Diff3 => {
            cmd.arg("--diff3");
        }
        ConflictStyle::Zdiff3 => {
            cmd.arg("--zdiff3");
        }
    }
    cmd.args(["-L", "ours", "-L", "base", "-L", "theirs", "ours", "base", "theirs"]);
    cmd.current_dir(dir).env("GIT_CONFIG_NOSYSTEM", "1").env("GIT_CONFIG_GLOBAL", "/dev/null");
    let out = cmd.output().expect("git is installed");
    (out.stdout, out.status.code().expect("git exited normally"))
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap()
}

/// Figures for one style: (triples, clean, conflicted, conflicted with identical output).
fn compare(style: ConflictStyle, aligner: Aligner) -> (usize, usize, usize, usize) {
    let opts = TextMergeOptions {
        labels: ["ours".into(), "base".into(), "theirs".into()],
        style,
        aligner,
        ..TextMergeOptions::default()
    };
    let (mut total, mut clean, mut conflicted, mut same_conflicted) = (0, 0, 0, 0);
    let mut verdict_mismatch = Vec::new();
    let mut clean_mismatch = Vec::new();
    let mut conflicted_mismatch = Vec::new();
    for dir in cases() {
        let (git_out, git_code) = git_merge(&dir, style);
        let ours = text3_bytes(&read(&dir, "base"), &read(&dir, "ours"), &read(&dir, "theirs"), &opts);
        total += 1;
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        if (git_code == 0) != ours.is_clean() {
            verdict_mismatch.push(name);
            continue;
        }
        if git_code == 0 {
            clean += 1;
            if ours.bytes != git_out {
                clean_mismatch.push(name);
            }
        } else {
            conflicted += 1;
            if ours.bytes == git_out && ours.conflicts.min(127) as i32 == git_code {
                same_conflicted += 1;
            } else {
                conflicted_mismatch.push(name);
            }
        }
    }
    assert!(verdict_mismatch.is_empty(), "{style:?}: clean/conflict verdict differs: {verdict_mismatch:?}");
    assert!(clean_mismatch.is_empty(), "{style:?}: clean output differs: {clean_mismatch:?}");
    eprintln!(
        "{style:?}/{aligner:?}: {total} triples, {clean} clean (all identical), {conflicted} conflicted, \
         {same_conflicted} of them byte-identical with the same conflict count; \
         differing: {conflicted_mismatch:?}"
    );
    (total, clean, conflicted, same_conflicted)
}

fn assert_agreement(style: ConflictStyle) {
    let (total, _clean, conflicted, same) = compare(style, Aligner::Git);
    assert!(total >= 200, "corpus has only {total} triples");
    assert!(conflicted >= 10, "corpus has only {conflicted} conflicted triples");
    assert_eq!(same, conflicted, "{style:?}: every conflicted output must match git");
    // similar's Myers finds equally short diffs but may align ambiguous lines otherwise.
    let (_, _, conflicted, same) = compare(style, Aligner::Similar);
    assert!(same * 100 >= conflicted * 90, "{style:?}/similar: only {same}/{conflicted} agree");
}

#[test]
fn corpus_matches_git_merge_style() {
    assert_agreement(ConflictStyle::Merge);
}

#[test]
fn corpus_matches_git_diff3_style() {
    assert_agreement(ConflictStyle::Diff3);
}

#[test]
fn corpus_matches_git_zdiff3_style() {
    assert_agreement(ConflictStyle::Zdiff3);
}
