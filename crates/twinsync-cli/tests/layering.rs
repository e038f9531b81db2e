//! Dependencies point one way (DESIGN.md): faces (the CLI, the bindings, the server) ->
//! the `twinsync` facade -> adapters -> core. A face never names an adapter crate; the
//! facade re-exports what faces need. These tests read the faces' manifests and the
//! CLI's sources, so a shortcut around the facade fails here rather than in review.

use std::path::{Path, PathBuf};

/// The adapter crates: only the facade may depend on them.
const ADAPTERS: &[&str] = &[
    "twinsync-fs",
    "twinsync-sqlite",
    "twinsync-postgres",
    "twinsync-git",
    "twinsync-openspec",
    "twinsync-design",
    "twinsync-notify",
];

/// The workspace crates the CLI may depend on: the facade, and the server once `serve` exists.
const CLI_MAY_USE: &[&str] = &["twinsync", "twinsync-server"];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// Every dependency a manifest names (normal, dev and build, also per target), by
/// package name: a renamed dependency counts under the package it really is.
fn dependencies(manifest: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(manifest).unwrap_or_else(|e| panic!("{}: {e}", manifest.display()));
    let doc: toml::Table = text.parse().unwrap_or_else(|e| panic!("{}: {e}", manifest.display()));
    let mut tables: Vec<&toml::Table> = Vec::new();
    let kinds = ["dependencies", "dev-dependencies", "build-dependencies"];
    for kind in kinds {
        if let Some(t) = doc.get(kind).and_then(toml::Value::as_table) {
            tables.push(t);
        }
    }
    for target in doc.get("target").and_then(toml::Value::as_table).into_iter().flat_map(|t| t.values()) {
        for kind in kinds {
            if let Some(t) = target.get(kind).and_then(toml::Value::as_table) {
                tables.push(t);
            }
        }
    }
    let mut names = Vec::new();
    for table in tables {
        for (key, spec) in table {
            let package = spec.get("package").and_then(toml::Value::as_str).unwrap_or(key);
            names.push(package.to_string());
        }
    }
    names
}

#[test]
fn the_cli_depends_on_the_facade_alone_among_workspace_crates() {
    let manifest = workspace().join("crates/twinsync-cli/Cargo.toml");
    let deps = dependencies(&manifest);
    assert!(deps.iter().any(|d| d == "twinsync"), "the CLI should depend on the twinsync facade: {deps:?}");
    let bad: Vec<&String> =
        deps.iter().filter(|d| d.starts_with("twinsync") && !CLI_MAY_USE.contains(&d.as_str())).collect();
    assert!(
        bad.is_empty(),
        "{} names {bad:?}; a face goes through the `twinsync` facade (re-export what it needs there)",
        manifest.display()
    );
}

#[test]
fn no_face_depends_on_an_adapter() {
    let root = workspace();
    let mut faces = vec![root.join("crates/twinsync-cli/Cargo.toml")];
    for face in ["crates/twinsync-server", "bindings/node", "bindings/python", "bindings/uniffi"] {
        let manifest = root.join(face).join("Cargo.toml");
        if manifest.exists() {
            faces.push(manifest);
        }
    }
    assert!(faces.len() >= 4, "the bindings' manifests moved? found only {faces:?}");
    for manifest in faces {
        let bad: Vec<String> = dependencies(&manifest).into_iter().filter(|d| ADAPTERS.contains(&d.as_str())).collect();
        assert!(
            bad.is_empty(),
            "{} depends on the adapter(s) {bad:?}; faces go through the `twinsync` facade",
            manifest.display()
        );
    }
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_cli_sources_name_no_crate_behind_the_facade() {
    let forbidden = ["twinsync_core", "twinsync_fs", "twinsync_sqlite", "twinsync_openspec", "twinsync_design"];
    let mut files = Vec::new();
    sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
    assert!(!files.is_empty());
    let mut hits = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            if let Some(name) = forbidden.iter().find(|f| line.contains(*f)) {
                hits.push(format!("{}:{}: {name}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        hits.is_empty(),
        "use `twinsync::` (twinsync::core, twinsync::openspec, ...) instead:\n{}",
        hits.join("\n")
    );
}

/// Every sync runs through the facade's `Project` (issue 16): no face builds an engine,
/// opens a store file of its own or writes sync state beside the project's store. Checked
/// on the CLI's sources; the bindings and the server are thinner still.
#[test]
fn no_cli_command_builds_an_engine_or_a_store_of_its_own() {
    let forbidden = ["Engine::new", "core::Engine", "open_store_file", "kv_put(", "commit_item(", "put_operation("];
    let mut files = Vec::new();
    sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
    let mut hits = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            if let Some(what) = forbidden.iter().find(|f| line.contains(*f)) {
                hits.push(format!("{}:{}: {what}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(hits.is_empty(), "sync through `twinsync::Project` instead:\n{}", hits.join("\n"));
}
