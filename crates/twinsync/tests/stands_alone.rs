//! The repository stands alone: no file in it reads data from a folder beside the
//! checkout (the team's `shared/` folder, which a clone does not have). Test data lives
//! under `tests/` or beside the crate using it; anything else is generated at run time.

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// Ways a path to the folder beside the checkout gets spelled. Built from pieces so that
/// this file does not match itself.
fn forbidden() -> Vec<String> {
    let s = "shared";
    vec![
        format!("../{s}"),
        format!("/work/{s}"),
        format!("\"{s}\", \"conformance\""),
        format!("'{s}', 'conformance'"),
        format!("/ \"{s}\" /"),
    ]
}

/// Files git tracks, plus new ones it does not ignore (so an unstaged reference fails
/// too). Without git (an unpacked archive), a walk that skips build output.
fn repository_files(root: &Path) -> Vec<PathBuf> {
    let git = Command::new("git")
        .current_dir(root)
        .args(["ls-files", "-z", "--cached", "--others", "--exclude-standard"])
        .output();
    match git {
        Ok(out) if out.status.success() && root.join(".git").exists() => out
            .stdout
            .split(|&b| b == 0)
            .filter(|p| !p.is_empty())
            .map(|p| root.join(String::from_utf8_lossy(p).as_ref()))
            .filter(|p| p.is_file())
            .collect(),
        _ => {
            let mut files = Vec::new();
            walk(root, &mut files);
            files
        }
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        let skip = ["target", ".git", "node_modules", "bench-data", ".tools", "build", ".venv", "__pycache__"];
        if skip.contains(&name.as_ref()) {
            continue;
        }
        let ft = e.file_type().unwrap();
        if ft.is_dir() {
            walk(&e.path(), out);
        } else if ft.is_file() {
            out.push(e.path());
        }
    }
}

/// `(file, line number, line)` for every line holding a forbidden spelling.
fn references(root: &Path) -> Vec<(PathBuf, usize, String)> {
    let patterns = forbidden();
    let mut hits = Vec::new();
    for f in repository_files(root) {
        let Ok(bytes) = std::fs::read(&f) else { continue };
        let text = String::from_utf8_lossy(&bytes);
        for (i, line) in text.lines().enumerate() {
            if patterns.iter().any(|p| line.contains(p.as_str())) {
                hits.push((f.strip_prefix(root).unwrap_or(&f).to_path_buf(), i + 1, line.trim().to_string()));
            }
        }
    }
    hits
}

#[test]
fn no_file_reads_the_folder_beside_the_checkout() {
    let root = workspace_root();
    let files = repository_files(&root);
    // A scan that found nothing to read would pass for the wrong reason.
    assert!(files.len() > 100, "only {} files found under {}", files.len(), root.display());
    assert!(files.iter().any(|f| f.ends_with("crates/twinsync/tests/stands_alone.rs")));
    let hits = references(&root);
    let report: Vec<String> = hits.iter().map(|(f, n, l)| format!("{}:{n}: {l}", f.display())).collect();
    assert!(hits.is_empty(), "files refer to the folder beside the checkout:\n{}", report.join("\n"));
}

#[test]
fn the_scan_finds_a_reference_in_each_spelling() {
    // The same scan on a throwaway tree (walked, not a git checkout) holding one file per
    // spelling, and one clean file.
    let tmp = tempfile::tempdir().unwrap();
    let patterns = forbidden();
    for (i, p) in patterns.iter().enumerate() {
        std::fs::write(tmp.path().join(format!("f{i}.rs")), format!("let x = 1;\nlet p = {p};\n")).unwrap();
    }
    std::fs::write(tmp.path().join("clean.md"), "The shared corpus lives in tests/.\n").unwrap();
    let hits = references(tmp.path());
    assert_eq!(hits.len(), patterns.len(), "{hits:?}");
    assert!(hits.iter().all(|(_, line, _)| *line == 2));
}
