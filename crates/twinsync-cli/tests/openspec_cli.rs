//! `twinsync openspec …` as a process, run inside the shared corpus like the real CLI was:
//! same JSON documents, exit codes and failure shapes.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/openspec")
}

fn run_in(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_twinsync")).current_dir(dir).args(args).output().expect("twinsync runs")
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

fn expected(rel: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(corpus().join("expected").join(rel)).unwrap()).unwrap()
}

fn scrub(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.remove("root");
            m.remove("lastModified");
            m.remove("durationMs");
            m.values_mut().for_each(scrub);
        }
        Value::Array(a) => a.iter_mut().for_each(scrub),
        _ => {}
    }
}

fn assert_same(mut ours: Value, mut theirs: Value) {
    scrub(&mut ours);
    scrub(&mut theirs);
    assert!(ours == theirs, "ours:\n{ours:#}\ncli:\n{theirs:#}");
}

#[test]
fn list_and_specs_from_a_subdirectory() {
    // The root is the nearest ancestor with openspec/{specs,changes}.
    let sub = corpus().join("openspec/changes");
    let out = run_in(&sub, &["openspec", "list", "--json", "--sort", "name"]);
    assert!(out.status.success());
    let doc = json_of(&out);
    assert_eq!(doc["root"]["source"], "nearest");
    assert_same(doc, expected("list-by-name.json"));
    let out = run_in(&corpus(), &["openspec", "list", "--specs", "--json"]);
    assert!(out.status.success());
    assert_same(json_of(&out), expected("list-specs.json"));
}

#[test]
fn show_change_and_spec() {
    let out = run_in(&corpus(), &["openspec", "show", "add-init-agents-target", "--json", "--type", "change"]);
    assert!(out.status.success());
    assert_same(json_of(&out), expected("show-change/add-init-agents-target.json"));
    let out = run_in(&corpus(), &["openspec", "show", "cli-list", "--json"]);
    assert!(out.status.success());
    assert_same(json_of(&out), expected("show-spec/cli-list.json"));
    let out = run_in(&corpus(), &["openspec", "show", "no-such-thing", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json_of(&out)["status"][0]["code"], "unknown_item");
    // Suggestions as `openspec show cli-lst --json` 1.13.2 prints them.
    let out = run_in(&corpus(), &["openspec", "show", "cli-lst", "--json"]);
    assert_eq!(
        json_of(&out)["status"][0]["message"],
        "Unknown item 'cli-lst'. Did you mean: cli-list, cli-init, cli-show, cli-spec, cli-view?"
    );
    let out = run_in(&corpus(), &["openspec", "show", "nope", "--json", "--type", "spec"]);
    assert_eq!(json_of(&out)["status"][0]["code"], "show_error");
    // Text mode passes the markdown through.
    let out = run_in(&corpus(), &["openspec", "show", "cli-list"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("## Purpose"));
}

#[test]
fn validate_all_plain_strict_and_archived() {
    let out = run_in(&corpus(), &["openspec", "validate", "--all", "--json"]);
    assert_eq!(out.status.code(), Some(1), "5 changes are invalid");
    assert_same(json_of(&out), expected("validate.json"));
    let out = run_in(&corpus(), &["openspec", "validate", "--all", "--strict", "--json"]);
    assert_same(json_of(&out), expected("validate-strict.json"));
    let out = run_in(&corpus(), &["openspec", "validate", "--archived", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    assert_same(json_of(&out), expected("validate-archived.json"));
    let out = run_in(&corpus(), &["openspec", "validate", "cli-list", "--json"]);
    assert!(out.status.success());
    assert_eq!(json_of(&out)["items"][0]["valid"], true);
}

#[test]
fn no_openspec_folder_is_a_clear_json_error() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run_in(tmp.path(), &["openspec", "list", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let doc = json_of(&out);
    assert_eq!(doc["status"][0]["code"], "root_error");
    assert!(doc["status"][0]["message"].as_str().unwrap().contains("no openspec/ folder"));
}

#[test]
fn legacy_project_md_folder_is_an_implicit_root_for_list_only() {
    // As `openspec list --json` 1.13.2 answers in such a folder.
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("openspec")).unwrap();
    std::fs::write(tmp.path().join("openspec/project.md"), "# P\n").unwrap();
    let out = run_in(tmp.path(), &["openspec", "list", "--json"]);
    assert!(out.status.success());
    let doc = json_of(&out);
    assert_eq!(doc["changes"], serde_json::json!([]));
    assert_eq!(doc["root"]["source"], "implicit");
    let out = run_in(tmp.path(), &["openspec", "validate", "--all", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json_of(&out)["status"][0]["code"], "root_error");
}
