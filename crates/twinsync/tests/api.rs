//! The binding-facing `api` module: shapes and error codes the bindings rely on.

use serde_json::json;
use twinsync::api::{self, HashOptions, MergeTextOptions, PlanOptions, SyncOptions};

fn code<T>(r: twinsync::Result<T>) -> &'static str {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => api::error_code(&e),
    }
}

#[test]
fn canonical_hash_matches_the_cli_form_and_ignores_formatting() {
    let d = HashOptions::default();
    let a = api::canonical_hash(&json!({"b": 1, "a": [1.0, "x"]}), &d).unwrap();
    let b = api::canonical_hash_json(br#"{ "a": [1, "x"], "b": 1.00 }"#, &d).unwrap();
    assert_eq!(a, b);
    assert!(a.starts_with("sha256:") && a.len() == 71, "{a}");
    assert_eq!(api::canonicalize(&json!({"b": 1, "a": 2}), &d).unwrap(), r#"{"a":2,"b":1}"#);
    let ignoring = HashOptions::ignoring(["/updatedAt"]);
    assert_eq!(
        api::canonical_hash(&json!({"a": 1, "updatedAt": "now"}), &ignoring).unwrap(),
        api::canonical_hash(&json!({"a": 1}), &d).unwrap()
    );
}

#[test]
fn unformatted_digests_are_the_hash_functions_digests() {
    let d = HashOptions::default();
    let ignoring = HashOptions::ignoring(["/b"]);
    for doc in [r#"{ "b": [1, "é"], "a": 1.00 }"#, "\"x\"", r#"{"a":1,"a":2}"#, "[1,"] {
        for opts in [None, Some(&d), Some(&ignoring)] {
            let want = api::canonical_hash_json(doc.as_bytes(), opts.unwrap_or(&d)).map_err(|e| e.to_string());
            let str_form = api::canonical_digest_json_str(doc, opts).map(|g| g.to_string()).map_err(|e| e.to_string());
            let bytes_form =
                api::canonical_digest_json(doc.as_bytes(), opts).map(|g| g.to_string()).map_err(|e| e.to_string());
            assert_eq!(str_form, want, "{doc}");
            assert_eq!(bytes_form, want, "{doc}");
        }
    }
    let bad = HashOptions::ignoring(["nope"]);
    assert_eq!(code(api::canonical_digest_json_str("1", Some(&bad))), "INVALID_INPUT");
}

#[test]
fn bad_json_and_options_are_invalid_input_naming_the_problem() {
    let d = HashOptions::default();
    let e = api::canonical_hash_json(br#"{"a":1,"a":2}"#, &d).unwrap_err();
    assert_eq!(api::error_code(&e), "INVALID_INPUT");
    assert!(e.to_string().contains("duplicate key"), "{e}");
    assert_eq!(code(api::canonical_hash(&json!(1), &HashOptions::ignoring(["nope"]))), "INVALID_INPUT");
    let big = HashOptions { big_integers: Some("round".into()), ..Default::default() };
    assert!(api::canonical_hash(&json!(1), &big).unwrap_err().to_string().contains("big_integers"));
    let keep = HashOptions { big_integers: Some("string".into()), ..Default::default() };
    assert_eq!(api::canonicalize_json(b"12345678901234567890", &keep).unwrap(), "\"12345678901234567890\"");
}

#[test]
fn text_and_bytes_hash_as_the_cli_does() {
    let d = HashOptions::default();
    assert_eq!(api::hash_text("a\r\nb\n", &d), api::hash_text("\u{feff}a\nb\n", &d));
    assert_eq!(api::hash_bytes(b"abc"), "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    let trim = HashOptions { trim_trailing_whitespace: true, ..Default::default() };
    assert_eq!(api::hash_text("a  \n", &trim), api::hash_text("a\n", &d));
    assert_ne!(api::hash_text("a  \n", &d), api::hash_text("a\n", &d));
}

#[test]
fn maps_take_digests_text_or_json_alike() {
    let d = HashOptions::default();
    let text_digest = api::hash_text("# Intro\n", &d);
    let by_digest = api::tree_digest(&json!({"a.md": text_digest, "b.json": {"x": 1}}), &d).unwrap();
    let by_content = api::tree_digest(&json!({"b.json": {"x": 1.0}, "a.md": "# Intro\r\n"}), &d).unwrap();
    assert_eq!(by_digest, by_content);
    assert_eq!(code(api::tree_digest(&json!({"../x": "t"}), &d)), "INVALID_INPUT");
    assert_eq!(code(api::tree_digest(&json!({"a": "sha256:zz"}), &d)), "INVALID_INPUT");
    assert_eq!(code(api::tree_digest(&json!([1]), &d)), "INVALID_INPUT");
}

#[test]
fn detect_drift_lists_drifted_items_with_counts() {
    let d = HashOptions::default();
    let base = json!({"same.md": "s", "edited.md": "old", "gone.md": "g"});
    let left = json!({"same.md": "s", "edited.md": "new", "gone.md": "g", "added.md": "a"});
    let right = json!({"same.md": "s", "edited.md": "old"});
    let drift = api::detect_drift(&base, &left, &right, &d).unwrap();
    assert_eq!(drift["in_sync"], 1);
    let classes: Vec<_> =
        drift["items"].as_array().unwrap().iter().map(|i| (i["key"].clone(), i["class"].clone())).collect();
    assert_eq!(
        classes,
        vec![
            (json!("added.md"), json!("added_left")),
            (json!("edited.md"), json!("changed_left")),
            (json!("gone.md"), json!("deleted_right")),
        ]
    );
    assert_eq!(drift["counts"]["changed_left"], 1);
    assert_eq!(drift["items"][1]["right"], json!(api::hash_text("old", &d)));
}

#[test]
fn plan_decides_by_policy_and_is_stable_for_the_same_time() {
    let base = json!({"a.md": "1"});
    let (left, right) = (json!({"a.md": "2"}), json!({"a.md": "3"}));
    let opts =
        PlanOptions { policy: Some("prefer-right".into()), now_ms: Some(1_700_000_000_000), ..Default::default() };
    let p = api::plan(&base, &left, &right, &opts).unwrap();
    assert_eq!(p["actions"][0]["kind"], "copy_to_left");
    assert_eq!(p, api::plan(&base, &left, &right, &opts).unwrap());
    let manual = api::plan(&base, &left, &right, &PlanOptions { now_ms: opts.now_ms, ..Default::default() }).unwrap();
    assert_eq!(manual["actions"][0]["kind"], "conflict");
    let bad = PlanOptions { policy: Some("coin-toss".into()), ..Default::default() };
    let e = api::plan(&base, &left, &right, &bad).unwrap_err();
    assert_eq!(api::error_code(&e), "INVALID_INPUT");
    assert!(e.to_string().contains("coin-toss"), "{e}");
}

#[test]
fn merges_text_and_json() {
    let clean = api::merge_text("a\nb\nc\n", "A\nb\nc\n", "a\nb\nC\n", &MergeTextOptions::default()).unwrap();
    assert_eq!(clean, json!({"text": "A\nb\nC\n", "conflicts": 0}));
    let opts = MergeTextOptions {
        labels: Some(["mine".into(), "orig".into(), "theirs".into()]),
        style: Some("diff3".into()),
        ..Default::default()
    };
    let c = api::merge_text("a\n", "b\n", "c\n", &opts).unwrap();
    assert_eq!(c["conflicts"], 1);
    assert_eq!(c["text"], "<<<<<<< mine\nb\n||||||| orig\na\n=======\nc\n>>>>>>> theirs\n");
    let bad = MergeTextOptions { style: Some("fancy".into()), ..Default::default() };
    assert_eq!(code(api::merge_text("", "", "", &bad)), "INVALID_INPUT");

    let m =
        api::merge_json(&json!({"a": 1, "b": 1}), &json!({"a": 2, "b": 1}), &json!({"a": 1, "b": 3}), None).unwrap();
    assert_eq!(m, json!({"value": {"a": 2, "b": 3}, "conflicts": []}));
    let c = api::merge_json(&json!({"a": 1}), &json!({"a": 2}), &json!({"a": 3}), None).unwrap();
    assert_eq!(c["conflicts"][0]["pointer"], "/a");
}

#[test]
fn coverage_over_plain_objects() {
    let input = json!({
        "components": [{"name": "Button", "axes": [{"name": "size", "options": ["sm", "lg"]}]}],
        "stories": [{"id": "button--sm", "component": "Button", "args": {"size": "sm"}}],
    });
    let r = api::coverage(&input, &serde_json::Value::Null).unwrap();
    assert_eq!(r["totals"]["percent"], 50.0);
    assert_eq!(r["components"][0]["missing_variants"], json!([{"size": "lg"}]));
    assert_eq!(code(api::coverage(&json!({"components": 3}), &serde_json::Value::Null)), "INVALID_INPUT");
}

#[test]
fn project_handle_syncs_undoes_and_locks() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("l")).unwrap();
    std::fs::create_dir(dir.path().join("r")).unwrap();
    std::fs::write(dir.path().join("l/a.md"), "hello\n").unwrap();
    let root = dir.path().to_str().unwrap();
    drop(api::init(root, "l", "r", None).unwrap());
    assert_eq!(code(api::init(root, "l", "r", None)), "INVALID_INPUT", "a second init is refused");
    let mut p = api::open(root, Some("ci-bot")).unwrap();

    let s = api::status(&mut p).unwrap();
    assert_eq!(s["items"][0]["class"], "added_left");
    let preview = api::sync(&mut p, &SyncOptions { dry_run: true, ..Default::default() }).unwrap();
    assert_eq!(preview["plan"]["actions"][0]["kind"], "copy_to_right");
    assert!(!dir.path().join("r/a.md").exists(), "a dry run changes nothing");
    let report = api::sync(&mut p, &SyncOptions::default()).unwrap();
    assert_eq!(report["status"], "completed");
    assert_eq!(report["actor"], "ci-bot");
    assert_eq!(std::fs::read_to_string(dir.path().join("r/a.md")).unwrap(), "hello\n");

    let stack = api::undo_stack(&p, 50).unwrap();
    assert_eq!(stack["operations"][0]["operation_id"], report["operation_id"]);
    let u = api::undo(&mut p, None).unwrap();
    assert_eq!(u["restored"], json!(["a.md"]));
    assert!(!dir.path().join("r/a.md").exists());
    assert_eq!(api::undo_stack(&p, 50).unwrap()["operations"], json!([]));
    assert_eq!(api::history(&p, 10).unwrap()["operations"].as_array().unwrap().len(), 1);
    assert_eq!(code(api::undo(&mut p, Some("0123"))), "NOT_FOUND");

    let l = api::lock_acquire(&mut p, Some(60_000), Some("release")).unwrap();
    let token = l["lock"]["token"].as_str().unwrap().to_string();
    assert!(!token.is_empty());
    let st = api::lock_status(&mut p).unwrap();
    assert_eq!(st["held"], true);
    assert!(st["lock"].get("token").is_none(), "status never shows the token");
    let mut other = api::open(root, Some("someone-else")).unwrap();
    assert_eq!(code(api::lock_acquire(&mut other, None, None)), "LOCKED");
    assert_eq!(code(api::lock_release(&mut other, "someone-else", false, None)), "LOCKED");
    assert_eq!(api::lock_renew(&mut p, &token, None).unwrap()["renewed"], true);
    assert_eq!(api::lock_release(&mut p, &token, false, None).unwrap()["released"], true);
    assert_eq!(api::lock_status(&mut p).unwrap(), json!({"held": false, "lock": null}));

    let missing = dir.path().join("nowhere");
    std::fs::create_dir(&missing).unwrap();
    // The temp dir has no .twinsync above it (unless the machine's /tmp does, which it must not).
    assert_eq!(code(api::open(dir.path().parent().unwrap().to_str().unwrap(), None)), "NOT_FOUND");
    assert_eq!(
        code(api::sync(&mut p, &SyncOptions { direction: Some("sideways".into()), ..Default::default() })),
        "INVALID_INPUT"
    );
}

#[test]
fn openspec_list_show_validate_as_the_cli_prints_them() {
    let dir = tempfile::tempdir().unwrap();
    let change = dir.path().join("openspec/changes/add-login");
    std::fs::create_dir_all(&change).unwrap();
    std::fs::create_dir_all(dir.path().join("openspec/specs/auth")).unwrap();
    std::fs::write(
        change.join("proposal.md"),
        "# Add login\n\n## Why\nUsers need accounts.\n\n## What Changes\n- **auth:** add a login form\n",
    )
    .unwrap();
    std::fs::write(change.join("tasks.md"), "## 1. Build\n- [x] 1.1 Form\n- [ ] 1.2 Session\n").unwrap();
    std::fs::write(
        dir.path().join("openspec/specs/auth/spec.md"),
        "# auth Specification\n\n## Purpose\nSign users in.\n\n## Requirements\n### Requirement: Login\nThe system SHALL let users sign in.\n\n#### Scenario: Good password\n- **WHEN** the password matches\n- **THEN** the user is signed in\n",
    )
    .unwrap();
    let root = dir.path().join("openspec/changes");
    let root = root.to_str().unwrap();

    let list = api::openspec_list(root, false).unwrap();
    assert_eq!(list["changes"][0]["name"], "add-login");
    assert_eq!(
        (list["changes"][0]["completedTasks"].clone(), list["changes"][0]["totalTasks"].clone()),
        (json!(1), json!(2))
    );
    let specs = api::openspec_list(root, true).unwrap();
    assert!(specs.to_string().contains("auth"), "{specs}");
    let shown = api::openspec_show(root, "add-login", None).unwrap();
    assert!(shown.to_string().contains("add-login"), "{shown}");
    let e = api::openspec_show(root, "nope", None).unwrap_err();
    assert_eq!(api::error_code(&e), "NOT_FOUND");
    let v = api::openspec_validate(root, false).unwrap();
    assert!(v["valid"].is_boolean(), "{v}");
    let empty = tempfile::tempdir().unwrap();
    assert_eq!(code(api::openspec_list(empty.path().to_str().unwrap(), false)), "NOT_FOUND");
}

#[test]
fn openspec_sync_copies_the_folder_into_its_database_and_previews_first() {
    let dir = tempfile::tempdir().unwrap();
    let change = dir.path().join("openspec/changes/add-login");
    std::fs::create_dir_all(&change).unwrap();
    std::fs::write(change.join("proposal.md"), "# Add login\n\n## Why\nUsers need accounts.\n").unwrap();
    let root = dir.path().to_str().unwrap();

    let dry = api::OpenspecSyncOptions { dry_run: true, ..Default::default() };
    let preview = api::openspec_sync(root, &dry).unwrap();
    assert_eq!(preview["mode"], "preview", "{preview}");
    assert_eq!(preview["rows"][0]["id"], "add-login", "{preview}");

    let synced = api::openspec_sync(root, &api::OpenspecSyncOptions::default()).unwrap();
    assert_eq!(synced["mode"], "synced", "{synced}");
    assert_eq!(synced["report"]["policy"], "fs-wins", "{synced}");
    assert_eq!(synced["report"]["items"][0]["id"], "add-login", "{synced}");
    assert!(synced["report"]["items"][0]["outcome"].as_str().unwrap().contains("created"), "{synced}");
    // Nothing changed since: a second sync has nothing to do.
    let again = api::openspec_sync(root, &api::OpenspecSyncOptions::default()).unwrap();
    assert_eq!(again["report"]["items"], json!([]), "{again}");

    let bad = api::OpenspecSyncOptions { policy: Some("yolo".into()), ..Default::default() };
    let e = api::openspec_sync(root, &bad).unwrap_err();
    assert_eq!((api::error_code(&e), e.to_string().contains("yolo")), ("INVALID_INPUT", true), "{e}");
    let missing = api::OpenspecSyncOptions { change: Some("nope".into()), ..Default::default() };
    assert_eq!(code(api::openspec_sync(root, &missing)), "NOT_FOUND");
    let empty = tempfile::tempdir().unwrap();
    assert_eq!(code(api::openspec_sync(empty.path().to_str().unwrap(), &Default::default())), "NOT_FOUND");

    // The lifecycle status from outside, as the bindings set it.
    let row = api::openspec_set_status(root, "add-login", "approved", None).unwrap();
    assert_eq!((row["id"].as_str(), row["status"].as_str()), (Some("add-login"), Some("approved")), "{row}");
    assert_eq!(code(api::openspec_set_status(root, "add-login", "done", None)), "INVALID_INPUT");
    assert_eq!(code(api::openspec_set_status(root, "nope", "approved", None)), "NOT_FOUND");
    assert_eq!(code(api::openspec_set_status(root, "add-login", "approved", Some("row"))), "INVALID_INPUT");
}

/// A Button with size sm|md|lg and stories for sm and md.
fn design_fixture(dir: &std::path::Path) {
    let components = json!({"components": [{
        "name": "Button", "source": "src/Button.tsx", "title": "Components/Button",
        "props": [{"name": "size", "kind": "variant", "options": ["sm", "md", "lg"]}]}]});
    std::fs::write(dir.join("components.json"), components.to_string()).unwrap();
    let story = |v: &str| {
        json!({"id": format!("components-button--{v}"), "title": "Components/Button", "name": v,
               "importPath": "./src/Button.stories.tsx", "type": "story", "tags": ["dev"]})
    };
    let index =
        json!({"v": 5, "entries": {"components-button--sm": story("sm"), "components-button--md": story("md")}});
    std::fs::write(dir.join("index.json"), index.to_string()).unwrap();
}

#[test]
fn design_coverage_reads_components_and_a_storybook_index() {
    let dir = tempfile::tempdir().unwrap();
    design_fixture(dir.path());
    let p = |f: &str| dir.path().join(f).to_str().unwrap().to_string();
    let report = api::design_coverage(&p("components.json"), &p("index.json")).unwrap();
    let button = &report["components"][0];
    assert_eq!((button["component"].clone(), button["covered_variants"].clone()), (json!("Button"), json!(2)));
    assert_eq!(button["total_variants"], 3);
    assert_eq!(button["missing_variants"], json!([{"size": "lg"}]));

    let e = api::design_coverage(&p("nope.json"), &p("index.json")).unwrap_err();
    assert_eq!((api::error_code(&e), e.to_string().contains("nope.json")), ("NOT_FOUND", true), "{e}");
    // The files swapped: an index where components belong is the wrong input.
    assert_eq!(code(api::design_coverage(&p("index.json"), &p("components.json"))), "INVALID_INPUT");
}

#[test]
fn design_scaffold_writes_one_story_file_per_component_unless_dry_run() {
    let dir = tempfile::tempdir().unwrap();
    design_fixture(dir.path());
    let components = dir.path().join("components.json");
    let out = dir.path().join("stories");
    let (components, out_s) = (components.to_str().unwrap(), out.to_str().unwrap());

    let root = Some(dir.path().to_str().unwrap().to_string());
    let dry = api::DesignScaffoldOptions { dry_run: true, root: root.clone(), ..Default::default() };
    let write = api::DesignScaffoldOptions { root, ..Default::default() };
    let planned = api::design_scaffold(components, out_s, &dry).unwrap();
    assert_eq!((planned["dry_run"].clone(), planned["files"][0]["outcome"].clone()), (json!(true), json!("created")));
    assert_eq!(planned["files"][0]["stories"], 3, "{planned}");
    assert!(!out.exists(), "a dry run wrote {}", out.display());

    let written = api::design_scaffold(components, out_s, &write).unwrap();
    let path = written["files"][0]["path"].as_str().unwrap();
    assert!(std::fs::read_to_string(path).unwrap().contains("Components/Button"), "{written}");
    assert_eq!(api::design_scaffold(components, out_s, &write).unwrap()["files"][0]["outcome"], "unchanged");

    let missing = dir.path().join("nope.json");
    assert_eq!(code(api::design_scaffold(missing.to_str().unwrap(), out_s, &dry)), "NOT_FOUND");
}
