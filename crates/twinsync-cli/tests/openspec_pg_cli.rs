//! An `openspec` pair whose database is a PostgreSQL server (the pair's right side a
//! `postgres://` URL; `TWINSYNC_TEST_POSTGRES_URL`, these tests fail, never skip,
//! without it) answers exactly as one on the SQLite file: the repository's OpenSpec
//! corpus synced in, the work queue, a database edit written through to disk, a status
//! a person chose, a change removed from disk, undo, and an idle second pass. Only what
//! cannot be equal is left out of the comparison: times, operation ids, the database's
//! name, and the rows' project (a shared server keeps them under the project's id).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const URL_ENV: &str = "TWINSYNC_TEST_POSTGRES_URL";

fn pg_url() -> String {
    std::env::var(URL_ENV).ok().filter(|s| !s.trim().is_empty()).unwrap_or_else(|| {
        panic!(
            "{URL_ENV} is not set: this test needs a real PostgreSQL server; `.ci/run` starts a throwaway \
             cluster and sets it (by hand: `source .ci/postgres.sh && twinsync_pg_start`)"
        )
    })
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/openspec-corpus/openspec")
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            fs::copy(e.path(), &target).unwrap();
        }
    }
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_twinsync"))
        .args(args)
        .current_dir(dir)
        .env("TWINSYNC_OWNER", "tester")
        .env_remove("TWINSYNC_STORE_URL")
        .output()
        .expect("twinsync runs")
}

fn ok(out: Output) -> Output {
    assert!(out.status.success(), "{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    out
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("not JSON ({e}): {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    })
}

/// `v` without the fields that differ between any two runs.
fn comparable(mut v: Value) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(m) => {
                for k in
                    ["lastSynced", "fsModified", "dbModified", "operation_id", "duration_ms", "db", "project", "at"]
                {
                    m.remove(k);
                }
                m.values_mut().for_each(strip);
            }
            Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut v);
    v
}

/// A project folder holding a copy of the corpus, with an `openspec` pair whose
/// database is `right`.
fn project(right: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&corpus(), &dir.path().join("openspec"));
    fs::create_dir_all(dir.path().join("a")).unwrap();
    fs::create_dir_all(dir.path().join("b")).unwrap();
    ok(run(dir.path(), &["init", "a", "b"]));
    ok(run(dir.path(), &["pair", "add", "specs", ".", right, "--kind", "openspec", "--policy", "prefer-left"]));
    dir
}

/// Runs `args` (with `--json`) in both projects and returns both answers, made comparable.
fn both(sqlite: &Path, pg: &Path, args: &[&str]) -> (Value, Value) {
    let mut args = args.to_vec();
    args.push("--json");
    (comparable(json(&ok(run(sqlite, &args)))), comparable(json(&ok(run(pg, &args)))))
}

fn same(sqlite: &Path, pg: &Path, args: &[&str]) -> Value {
    let (a, b) = both(sqlite, pg, args);
    assert_eq!(a, b, "`twinsync {}` differs between SQLite (left) and PostgreSQL (right)", args.join(" "));
    a
}

fn ids(v: &Value) -> Vec<String> {
    v["items"].as_array().unwrap().iter().map(|i| format!("{}:{}", i["type"], i["id"].as_str().unwrap())).collect()
}

#[test]
fn an_openspec_pair_on_postgres_answers_as_on_sqlite() {
    let url = pg_url();
    let lite = project("db");
    let pg = project(&url);
    let (l, p) = (lite.path(), pg.path());

    // The corpus synced in: the same rows created, and the PostgreSQL pair made no file.
    let first = same(l, p, &["openspec", "sync"]);
    assert!(first["report"]["items"].as_array().unwrap().len() >= 10, "{first:#}");
    assert!(l.join(".twinsync/openspec.db").is_file());
    assert!(!p.join(".twinsync/openspec.db").exists(), "the rows went to the server, not a file");
    let answer = json(&ok(run(p, &["openspec", "sync", "--dry-run", "--json"])));
    let shown = answer["db"].as_str().unwrap();
    assert!(shown.starts_with("postgres://"), "{answer:#}");
    let idle = same(l, p, &["openspec", "sync"]);
    assert_eq!(idle["report"]["items"].as_array().unwrap().len(), 0, "a second pass is idle: {idle:#}");

    // The work queue: every row, each sort, a status, the full-text search.
    let all = same(l, p, &["openspec", "query"]);
    assert!(ids(&all).len() >= 10, "{all:#}");
    // Not `--sort age`: it orders by when each sync wrote a row, which differs between
    // any two runs on one database as much as between the two databases.
    for sort in ["id", "progress"] {
        same(l, p, &["openspec", "query", "--sort", sort]);
    }
    same(l, p, &["openspec", "query", "--type", "spec"]);
    same(l, p, &["openspec", "query", "--status", "proposing"]);
    for search in ["install", "login session", "requirement", "nothing-matches-this"] {
        same(l, p, &["openspec", "query", "--search", search]);
    }
    let found = same(l, p, &["openspec", "query", "--search", "install"]);
    assert!(!ids(&found).is_empty(), "the search finds the corpus's install change: {found:#}");

    // An edit through the database reaches the disk the same way.
    let text = "# Global install scope\n\n## Why\nEdited through the database.\n\n## What Changes\n- one\n";
    for dir in [l, p] {
        fs::write(dir.join("proposal.txt"), text).unwrap();
    }
    same(l, p, &["openspec", "edit", "add-global-install-scope", "proposal.md", "--from", "proposal.txt"]);
    for dir in [l, p] {
        let on_disk = fs::read_to_string(dir.join("openspec/changes/add-global-install-scope/proposal.md")).unwrap();
        assert_eq!(on_disk, text);
    }

    // A status a person chose, and a change removed from disk (soft-deleted).
    same(l, p, &["openspec", "status", "empty-change", "approved"]);
    for dir in [l, p] {
        fs::remove_dir_all(dir.join("openspec/changes/malformed-deltas")).unwrap();
    }
    same(l, p, &["openspec", "sync"]);
    let with_deleted = same(l, p, &["openspec", "query", "--deleted"]);
    assert!(with_deleted["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["id"] == "malformed-deltas" && i["deleted"] == true));

    // Undo of that sync brings the row back on both.
    for dir in [l, p] {
        ok(run(dir, &["undo", "--pair", "specs"]));
    }
    let undone = same(l, p, &["openspec", "query", "--deleted"]);
    assert!(undone["items"].as_array().unwrap().iter().any(|i| i["id"] == "malformed-deltas" && i["deleted"] == false));
}

#[test]
fn an_unreachable_openspec_server_is_named_without_its_password() {
    let url = pg_url();
    let dir = project(&url);
    let config = dir.path().join(".twinsync/config.toml");
    let bad = "postgres://ann:hunter2secret@127.0.0.1:1/nowhere";
    let text = fs::read_to_string(&config).unwrap().replace(&url, bad);
    fs::write(&config, text).unwrap();
    let out = run(dir.path(), &["openspec", "sync", "--json"]);
    assert!(!out.status.success());
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(all.contains("127.0.0.1:1/nowhere"), "{all}");
    assert!(!all.contains("hunter2secret"), "{all}");
}
