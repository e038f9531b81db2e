//! The JSON documents equal the real OpenSpec CLI's (1.13.2) on the shared corpus, field for
//! field and in array order (ignoring `root`, `lastModified` and `durationMs`), for the
//! corpus as is and for the copy where every archived change is active again.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use twinsync_openspec::output::validate_archived_json;
use twinsync_openspec::{list_json, list_specs_json, show_json, validate_json, Scope, Sort, Workspace};

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/openspec")
}

fn expected(rel: &str) -> Value {
    let p = corpus().join("expected").join(rel);
    serde_json::from_str(&fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Drops the fields that depend on the machine or the clock.
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

fn same(what: &str, mut ours: Value, mut theirs: Value, failures: &mut Vec<String>) {
    scrub(&mut ours);
    scrub(&mut theirs);
    if ours != theirs {
        let a = serde_json::to_string_pretty(&ours).unwrap();
        let b = serde_json::to_string_pretty(&theirs).unwrap();
        let first = a.lines().zip(b.lines()).position(|(x, y)| x != y).unwrap_or(0);
        let ctx = |s: &str| s.lines().skip(first.saturating_sub(3)).take(8).collect::<Vec<_>>().join("\n");
        failures.push(format!("{what}: differs at line {first}\n--- ours\n{}\n--- cli\n{}", ctx(&a), ctx(&b)));
    }
}

fn json_files(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut v: Vec<(String, PathBuf)> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| (p.file_stem().unwrap().to_string_lossy().into_owned(), p))
        .collect();
    v.sort();
    v
}

fn check_folder(ws: &Workspace, exp: &str, with_specs: bool, failures: &mut Vec<String>) -> usize {
    let mut checked = 0;
    same(
        &format!("{exp}list-by-name"),
        list_json(ws, Sort::Name),
        expected(&format!("{exp}list-by-name.json")),
        failures,
    );
    // The default order follows file times, which differ between checkouts: compare as sets.
    let mut ours = list_json(ws, Sort::Name);
    let mut theirs = expected(&format!("{exp}list.json"));
    theirs["changes"].as_array_mut().unwrap().sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    ours["changes"].as_array_mut().unwrap().sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    same(&format!("{exp}list"), ours, theirs, failures);
    checked += 2;
    for (id, p) in json_files(&corpus().join("expected").join(exp).join("show-change")) {
        let theirs: Value = serde_json::from_str(&fs::read_to_string(p).unwrap()).unwrap();
        let ours = show_json(ws, &id, Some("change")).unwrap_or_else(|e| e);
        same(&format!("{exp}show-change/{id}"), ours, theirs, failures);
        checked += 1;
    }
    if with_specs {
        same("list-specs", list_specs_json(ws), expected("list-specs.json"), failures);
        for (id, p) in json_files(&corpus().join("expected/show-spec")) {
            let theirs: Value = serde_json::from_str(&fs::read_to_string(p).unwrap()).unwrap();
            let ours = show_json(ws, &id, Some("spec")).unwrap_or_else(|e| e);
            same(&format!("show-spec/{id}"), ours, theirs, failures);
            checked += 1;
        }
    }
    let all = Scope { changes: true, specs: true };
    same(
        &format!("{exp}validate"),
        validate_json(ws, all, false).0,
        expected(&format!("{exp}validate.json")),
        failures,
    );
    same(
        &format!("{exp}validate-strict"),
        validate_json(ws, all, true).0,
        expected(&format!("{exp}validate-strict.json")),
        failures,
    );
    checked + 2
}

#[test]
fn corpus_outputs_equal_the_cli() {
    let ws = Workspace::load(&corpus()).expect("corpus loads");
    assert_eq!(ws.changes.len(), 22);
    assert_eq!(ws.archived.len(), 83);
    assert_eq!(ws.specs.len(), 36);
    let mut failures = Vec::new();
    let checked = check_folder(&ws, "", true, &mut failures);
    same("validate-archived", validate_archived_json(&ws).0, expected("validate-archived.json"), &mut failures);
    assert!(checked > 60, "only {checked} documents compared");
    assert!(failures.is_empty(), "{} of {checked} documents differ:\n{}", failures.len(), failures.join("\n\n"));
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            fs::write(&dest, fs::read(e.path()).unwrap()).unwrap();
        }
    }
}

#[test]
fn archived_changes_moved_up_equal_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&corpus().join("openspec"), &tmp.path().join("openspec"));
    let changes = tmp.path().join("openspec/changes");
    // The ground truth was taken with only the archived changes in changes/.
    for e in fs::read_dir(&changes).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() && e.file_name() != "archive" {
            fs::remove_dir_all(e.path()).unwrap();
        }
    }
    for e in fs::read_dir(changes.join("archive")).unwrap() {
        let e = e.unwrap();
        fs::rename(e.path(), changes.join(e.file_name())).unwrap();
    }
    fs::remove_dir(changes.join("archive")).unwrap();
    let ws = Workspace::load(tmp.path()).expect("copy loads");
    assert_eq!(ws.changes.len(), 83);
    let mut failures = Vec::new();
    let checked = check_folder(&ws, "archived-as-active/", false, &mut failures);
    assert!(checked > 80, "only {checked} documents compared");
    assert!(failures.is_empty(), "{} of {checked} documents differ:\n{}", failures.len(), failures.join("\n\n"));
}

#[test]
fn partial_loads_give_the_same_lists() {
    use twinsync_openspec::Parts;
    let full = Workspace::load(&corpus()).unwrap();
    let list = Workspace::load_parts(&corpus(), Parts::LIST).unwrap();
    let specs = Workspace::load_parts(&corpus(), Parts::SPECS).unwrap();
    assert_eq!(list_json(&list, Sort::Name), list_json(&full, Sort::Name));
    assert_eq!(list_specs_json(&specs), list_specs_json(&full));
    assert!(list.specs.is_empty() && list.archived.is_empty() && list.changes[0].deltas.is_empty());
}
