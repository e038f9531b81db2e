//! Design pairs on the one engine, through the CLI on real files and the real SQLite
//! store: a design pair over the Storybook and Figma test data syncs with `twinsync
//! sync --pair`, is undone with `twinsync undo --pair` (both sides back, later edits
//! refused), shows in `twinsync history`; `twinsync design sync|drift` on other files
//! act on the implicit pair; and a project made by the release before migrates.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../twinsync-design/tests/fixtures")
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_twinsync"))
        .args(args)
        .current_dir(dir)
        .env("TWINSYNC_OWNER", "alice")
        .env_remove("TWINSYNC_STORE_URL")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!("{}\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn ok(o: Output) -> Output {
    assert!(o.status.success(), "{}", text(&o));
    o
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(o)))
}

fn read(root: &Path, rel: &str) -> String {
    std::fs::read_to_string(root.join(rel)).unwrap()
}

/// Replaces the first `from` in file `rel` with `to` (an edit a person makes).
fn edit(root: &Path, rel: &str, from: &str, to: &str) {
    let body = read(root, rel);
    assert!(body.contains(from), "{rel} has {from}");
    std::fs::write(root.join(rel), body.replacen(from, to, 1)).unwrap();
}

fn status(root: &Path, pair: &str) -> Value {
    let s = json(&ok(run(root, &["status", "--json", "--pair", pair])));
    s["pairs"][0].clone()
}

/// A project with two design pairs: `ui` (code components and Storybook stories, and a
/// design manifest twinsync writes) and `figma` (the same code against a Figma file,
/// read only).
fn project() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    for (from, to) in [
        ("code/components.json", "code/components.json"),
        ("research/crayfisher-zari_digital-agency-design-system__index.v4.json", "storybook/index.json"),
        ("figma/library.json", "design/figma.json"),
    ] {
        std::fs::create_dir_all(root.join(to).parent().unwrap()).unwrap();
        std::fs::copy(fixtures().join(from), root.join(to)).unwrap();
    }
    std::fs::create_dir_all(root.join("a")).unwrap();
    ok(run(root, &["init", "a", "a"]));
    ok(run(root, &["pair", "remove", "default"]));
    let add = |name: &str, code: &str, design: &str| {
        ok(run(root, &["pair", "add", name, code, design, "--kind", "design"]));
    };
    add("ui", "code/components.json,storybook/index.json", "design/components.json");
    add("figma", "code/components.json", "design/figma.json");
    tmp
}

#[test]
fn a_design_sync_is_undone_by_pair_restoring_both_sides_and_shows_in_history() {
    let tmp = project();
    let root = tmp.path();

    // The Figma file matches the code component by component (no base yet: two-way).
    let figma = status(root, "figma");
    assert_eq!((figma["in_sync"].as_u64(), figma["items"].as_array().map(Vec::len)), (Some(3), Some(0)), "{figma}");

    // First sync writes the design manifest. The base commits in the same store
    // transaction as each component, so status right after says in sync (no base.json
    // written afterwards that a crash could lose).
    let first = json(&ok(run(root, &["sync", "--pair", "ui", "--json"])));
    assert_eq!(first["pairs"][0]["report"]["counts"]["applied"], 3, "{first}");
    let s = status(root, "ui");
    assert_eq!((s["in_sync"].as_u64(), s["items"].as_array().map(Vec::len)), (Some(3), Some(0)), "{s}");

    // Code and design both move, on different components.
    edit(root, "code/components.json", "\"secondary\"", "\"secondary\", \"ghost\"");
    edit(root, "design/components.json", "\"danger\"", "\"danger\", \"info\"");
    let s = status(root, "ui");
    let classes: Vec<(String, String)> = s["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["key"].as_str().unwrap().into(), i["class"].as_str().unwrap().into()))
        .collect();
    assert!(classes.contains(&("Button".into(), "changed_in_code".into())), "{classes:?}");
    assert!(classes.contains(&("Badge".into(), "changed_in_design".into())), "{classes:?}");

    let before_sync = s.clone();
    let second = json(&ok(run(root, &["sync", "--pair", "ui", "--json"])));
    let op = second["pairs"][0]["report"]["operation_id"].as_str().unwrap().to_string();
    assert_eq!(second["pairs"][0]["report"]["counts"]["applied"], 2, "{second}");
    assert!(read(root, "design/components.json").contains("\"ghost\""));
    assert!(read(root, "code/components.json").contains("\"info\""));

    let history = json(&ok(run(root, &["history", "--json"])));
    let ops = history["operations"].as_array().unwrap();
    assert!(ops.iter().any(|o| o["operation_id"] == op.as_str() && o["pair"] == "ui"), "{history}");
    assert_eq!(ops.iter().filter(|o| o["pair"] == "ui").count(), 2);

    // Right after the sync, status says in sync: the base committed with the items.
    assert_eq!(status(root, "ui")["in_sync"], 3);
    // Undo by pair puts both sides back, and the base with them.
    let undo = json(&ok(run(root, &["undo", "--pair", "ui", "--json"])));
    assert_eq!(undo["operation_id"], op.as_str());
    assert_eq!(undo["restored"].as_array().unwrap().len(), 2, "{undo}");
    assert!(!read(root, "design/components.json").contains("\"ghost\""), "design restored");
    assert!(!read(root, "code/components.json").contains("\"info\""), "code restored");
    // Each side keeps its own edit, unsynced again: drift is what it was before the sync.
    assert_eq!(status(root, "ui"), before_sync);
    let history = json(&ok(run(root, &["history", "--json", "--pair", "ui"])));
    let undone = history["operations"].as_array().unwrap().iter().find(|o| o["operation_id"] == op.as_str()).cloned();
    assert!(undone.is_some_and(|o| !o["undone_at"].is_null()), "{history}");

    // A sync, then a later edit of one component it wrote: undo restores the other and
    // refuses that one, leaving the edit in place.
    edit(root, "code/components.json", "\"secondary\"", "\"secondary\", \"ghost\"");
    edit(root, "design/components.json", "\"danger\"", "\"danger\", \"info\"");
    ok(run(root, &["sync", "--pair", "ui"]));
    edit(root, "design/components.json", "\"ghost\"", "\"ghost\", \"outline\"");
    let refused = run(root, &["undo", "--pair", "ui", "--json"]);
    assert!(!refused.status.success(), "a refused item fails the undo: {}", text(&refused));
    let u = json(&refused);
    assert_eq!(u["restored"], serde_json::json!(["components/badge"]), "{u}");
    assert_eq!(u["refused"][0]["key"], "components/button", "{u}");
    assert!(read(root, "design/components.json").contains("\"outline\""), "the later edit is kept");
    assert!(!read(root, "code/components.json").contains("\"info\""), "Badge restored in code");
}

#[test]
fn design_shortcuts_act_on_the_configured_pair_or_the_implicit_one() {
    let tmp = project();
    let root = tmp.path();
    // Files the `ui` pair has: its operation, its base.
    let files =
        ["--code", "code/components.json", "--code", "storybook/index.json", "--design", "design/components.json"];
    let o = ok(run(root, &[&["design", "sync"][..], &files].concat()));
    assert!(text(&o).contains("3 applied"), "{}", text(&o));
    let h = json(&ok(run(root, &["history", "--json", "--pair", "ui"])));
    assert_eq!(h["operations"].as_array().unwrap().len(), 1, "{h}");
    let d = ok(run(root, &[&["design", "drift"][..], &files, &["--fail-on", "drift"]].concat()));
    assert!(text(&d).contains("base: pair ui in the project's store"), "{}", text(&d));

    // Files no pair has: the implicit pair, which `twinsync undo --pair` reaches too.
    std::fs::copy(root.join("code/components.json"), root.join("mine.json")).unwrap();
    let other = ["--code", "mine.json", "--design", "theirs.json"];
    ok(run(root, &[&["design", "sync", "--direction", "code_to_design"][..], &other].concat()));
    edit(root, "theirs.json", "\"danger\"", "\"danger\", \"info\"");
    let d = run(root, &[&["design", "drift"][..], &other, &["--fail-on", "drift"]].concat());
    assert_eq!(d.status.code(), Some(1));
    assert!(text(&d).contains("Badge: changed in design"), "{}", text(&d));
    assert!(text(&d).contains("pair design:implicit"), "{}", text(&d));
    ok(run(root, &[&["design", "sync", "--component", "Badge=design_to_code"][..], &other].concat()));
    assert!(read(root, "mine.json").contains("\"info\""));
    let u = json(&ok(run(root, &["undo", "--pair", "design:implicit", "--json"])));
    assert_eq!(u["restored"], serde_json::json!(["components/badge"]), "{u}");
    assert!(!read(root, "mine.json").contains("\"info\""));
    let h = json(&ok(run(root, &["history", "--json"])));
    assert_eq!(h["operations"].as_array().unwrap().iter().filter(|o| o["pair"] == "design:implicit").count(), 2);
}

#[test]
fn a_project_made_by_the_previous_release_shows_its_old_design_history() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../twinsync/tests/fixtures/old_design_layout");
    std::fs::create_dir_all(root.join(".twinsync/design")).unwrap();
    for f in ["components.json", "design.json"] {
        std::fs::copy(fixture.join(f), root.join(f)).unwrap();
    }
    for e in std::fs::read_dir(fixture.join(".twinsync/design")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), root.join(".twinsync/design").join(e.file_name())).unwrap();
    }
    // No config.toml: that release's `design sync` made none. History is the first open.
    let h = json(&ok(run(root, &["history", "--json"])));
    let ops = h["operations"].as_array().unwrap();
    assert_eq!(ops.len(), 3, "{h}");
    assert!(ops.iter().all(|o| o["pair"] == "design:implicit"), "{h}");
    assert!(!ops[0]["undone_at"].is_null(), "the undone sync stays undone: {h}");
    assert!(root.join(".twinsync/design/sync.db.migrated").exists());
    // The old base is the base: Button changed in code since, nothing else.
    let files = ["--code", "components.json", "--design", "design.json"];
    let d = run(root, &[&["design", "drift"][..], &files].concat());
    assert!(text(&d).contains("Button: changed in code"), "{}", text(&d));
    assert!(text(&d).contains("1 drifted"), "{}", text(&d));
    // Run again: nothing is migrated twice.
    let again = json(&ok(run(root, &["history", "--json"])));
    assert_eq!(again["operations"].as_array().unwrap().len(), 3);
}

#[test]
fn a_component_changed_on_both_sides_is_a_conflict_settled_by_resolve() {
    let tmp = project();
    let root = tmp.path();
    ok(run(root, &["sync", "--pair", "ui"]));
    edit(root, "code/components.json", "\"secondary\"", "\"secondary\", \"ghost\"");
    edit(root, "design/components.json", "\"secondary\"", "\"secondary\", \"outline\"");
    let st = run(root, &["status", "--json", "--pair", "ui"]);
    assert!(!st.status.success(), "status exits non-zero on a conflict: {}", text(&st));
    assert_eq!(json(&st)["pairs"][0]["items"][0]["key"], "Button", "{}", text(&st));
    assert_eq!(json(&st)["pairs"][0]["conflicts"], 1, "{}", text(&st));
    let synced = run(root, &["sync", "--pair", "ui", "--json"]);
    assert!(!synced.status.success(), "a conflict left for a person fails the sync: {}", text(&synced));
    assert_eq!(json(&synced)["pairs"][0]["report"]["counts"]["conflicts"], 1);
    assert!(read(root, "design/components.json").contains("\"outline\""), "the manual policy wrote nothing");

    let r = json(&ok(run(root, &["resolve", "components/button", "--pair", "ui", "--take", "left", "--json"])));
    assert_eq!(r["counts"]["applied"], 1, "{r}");
    assert!(read(root, "design/components.json").contains("\"ghost\""));
    assert!(!read(root, "design/components.json").contains("\"outline\""));
    assert_eq!(status(root, "ui")["items"].as_array().unwrap().len(), 0);
    // Settling is undoable like a sync: design gets its own edit back.
    ok(run(root, &["undo", "--pair", "ui"]));
    assert!(read(root, "design/components.json").contains("\"outline\""));
}
