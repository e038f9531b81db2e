//! The hub's coverage and browser test session routes with a real client against a real
//! server on a loopback port, over a project on disk: success and every error status.

mod support;

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use support::*;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../twinsync-design/tests/fixtures")
}

/// Storybook's index with two stories of Button and one of a component nobody declared.
fn index() -> Value {
    let story = |id: &str, title: &str, name: &str| json!({ "id": id, "title": title, "name": name, "type": "story", "importPath": "./src/x.stories.tsx" });
    json!({ "v": 5, "entries": {
        "components-button--sm-primary": story("components-button--sm-primary", "Components/Button", "Sm Primary"),
        "components-button--lg-secondary": story("components-button--lg-secondary", "Components/Button", "Lg Secondary"),
        "widgets-ghost--default": story("widgets-ghost--default", "Widgets/Ghost", "Default"),
    }})
}

/// The support project with a design pair `ui`: components and their stories on the code
/// side, a design manifest on the other.
fn design_project(root: &Path) -> PathBuf {
    let dir = project(root, "design");
    std::fs::copy(fixtures().join("code/components.json"), dir.join("components.json")).unwrap();
    std::fs::write(dir.join("index.json"), index().to_string()).unwrap();
    let mut p = twinsync::Project::open(&dir).unwrap();
    p.pair_add(
        "ui",
        twinsync::PairConfig::new(twinsync::PairKind::Design, "components.json,index.json", "design.json"),
    )
    .unwrap();
    dir
}

#[test]
fn coverage_of_the_design_pair_as_design_coverage_computes_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = design_project(tmp.path());
    let s = server(&tmp.path().join("data"));
    let id = register(&s, &dir, None);
    let cov = |q: &str| call(ureq::get(&url(&s, &format!("/projects/{id}/coverage{q}"))), None);

    // Without ?pair: the project's one design pair.
    let (st, v) = cov("");
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["pair"], "ui");
    // The same report the CLI and the MCP tool compute from these files.
    let want = twinsync::api::design_coverage(
        dir.join("components.json").to_str().unwrap(),
        dir.join("index.json").to_str().unwrap(),
    )
    .unwrap();
    for field in ["totals", "components", "warnings", "unmatched_stories", "orphan_stories"] {
        assert_eq!(v[field], want[field], "{field}: {v}");
    }
    assert_eq!(v["totals"]["components"], 3, "{v}");
    let button = v["components"].as_array().unwrap().iter().find(|c| c["component"] == "Button").unwrap();
    assert_eq!(button["stories"], 2, "{v}");
    assert_eq!(v["orphan_stories"], json!(["widgets-ghost--default"]), "{v}");
    let (st, again) = cov("?pair=ui");
    assert_eq!((st, &again), (200, &v), "named, the same pair");
    // A GET records nothing: no coverage_summary event reached the outbox.
    let (_, events) = call(ureq::get(&url(&s, &format!("/projects/{id}/events"))), None);
    assert!(!events.to_string().contains("coverage_summary"), "{events}");

    // Errors, one shape.
    let (st, v) = cov("?pair=nope");
    assert_eq!((st, v["error"]["code"].as_str()), (404, Some("NOT_FOUND")), "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("nope"), "{v}");
    let (st, v) = cov("?pair=default");
    assert_eq!((st, v["error"]["code"].as_str()), (400, Some("INVALID_INPUT")), "a folders pair: {v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("design pair"), "{v}");
    let (st, v) = call(ureq::get(&url(&s, "/projects/nope/coverage")), None);
    assert_eq!((st, v["error"]["code"].as_str()), (404, Some("NOT_FOUND")), "{v}");
    let (st, v) = cov("?colour=red");
    assert_eq!(st, 400, "an unknown parameter: {v}");

    // A design pair without stories, and one whose file is gone.
    let mut p = twinsync::Project::open(&dir).unwrap();
    p.pair_add("bare", twinsync::PairConfig::new(twinsync::PairKind::Design, "components.json", "design2.json"))
        .unwrap();
    p.pair_add("gone", twinsync::PairConfig::new(twinsync::PairKind::Design, "missing.json,index.json", "d3.json"))
        .unwrap();
    drop(p);
    let (st, v) = cov("?pair=bare");
    assert_eq!(st, 400, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("Storybook index"), "{v}");
    let (st, v) = cov("?pair=gone");
    assert_eq!(st, 400, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("missing.json"), "{v}");
    let (st, v) = cov("");
    assert_eq!(st, 400, "three design pairs: which one? {v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("name one"), "{v}");
    s.stop().unwrap();
}

#[test]
fn browser_sessions_start_finish_list_and_show_as_the_facade_records_them() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(tmp.path(), "docs");
    let s = server(&tmp.path().join("data"));
    let id = register(&s, &dir, None);
    let base = url(&s, &format!("/projects/{id}/browser-sessions"));

    let (st, started) = call(ureq::post(&base), Some(json!({"storyId": "button--primary", "actor": "ci"})));
    assert_eq!(st, 201, "{started}");
    let sid = started["id"].as_str().unwrap().to_string();
    assert!(sid.starts_with("bts_"), "{started}");
    assert_eq!((started["status"].as_str(), started["actor"].as_str()), (Some("running"), Some("ci")));
    assert_eq!(started["correlation_id"], sid.as_str(), "its own id when none is given");
    let (st, other) = call(ureq::post(&base), Some(json!({"storyId": "badge--neutral", "correlationId": "run-7"})));
    assert_eq!((st, other["correlation_id"].as_str()), (201, Some("run-7")), "{other}");

    let (st, v) = call(ureq::get(&format!("{base}/{sid}")), None);
    assert_eq!((st, &v), (200, &started));
    let perf = json!({"lcpMs": 812, "steps": 4});
    let (st, done) =
        call(ureq::post(&format!("{base}/{sid}/finish")), Some(json!({"status": "failed", "performance": perf})));
    assert_eq!(st, 200, "{done}");
    assert_eq!((done["status"].as_str(), &done["performance"]), (Some("failed"), &perf));
    assert!(done["ended_at"].is_string(), "{done}");
    // A failure reaches the outbox, for the live streams and webhooks.
    let (_, events) = call(ureq::get(&url(&s, &format!("/projects/{id}/events"))), None);
    let failure = events["events"].as_array().unwrap().iter().find(|e| e["type"] == "browser_test_failure");
    assert_eq!(failure.expect("a browser_test_failure event")["payload"]["session_id"], sid.as_str());

    let (st, v) = call(ureq::get(&base), None);
    assert_eq!(st, 200);
    let ids: Vec<&str> = v["sessions"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [other["id"].as_str().unwrap(), sid.as_str()], "newest first: {v}");
    let (_, v) = call(ureq::get(&format!("{base}?story=button--primary&limit=5")), None);
    assert_eq!(v["sessions"].as_array().unwrap().len(), 1, "{v}");

    // Errors, one shape.
    let (st, v) = call(ureq::post(&format!("{base}/{sid}/finish")), Some(json!({"status": "passed"})));
    assert_eq!((st, v["error"]["code"].as_str()), (409, Some("CONFLICT")), "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("already finished: failed"), "{v}");
    let other_id = other["id"].as_str().unwrap();
    let (st, v) = call(ureq::post(&format!("{base}/{other_id}/finish")), Some(json!({"status": "done"})));
    assert_eq!((st, v["error"]["code"].as_str()), (400, Some("INVALID_INPUT")), "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("\"done\""), "{v}");
    let (st, v) = call(ureq::post(&format!("{base}/{other_id}/finish")), Some(json!({"status": "running"})));
    assert_eq!(st, 400, "a session finishes as passed, failed or aborted: {v}");
    let big = json!({"trace": "x".repeat(70 * 1024)});
    let (st, v) =
        call(ureq::post(&format!("{base}/{other_id}/finish")), Some(json!({"status": "passed", "performance": big})));
    assert_eq!(st, 400, "a summary over 64 KiB: {v}");
    let (st, v) = call(ureq::get(&format!("{base}/bts_nope")), None);
    assert_eq!((st, v["error"]["code"].as_str()), (404, Some("NOT_FOUND")), "{v}");
    let (st, _) = call(ureq::post(&format!("{base}/bts_nope/finish")), Some(json!({"status": "passed"})));
    assert_eq!(st, 404);
    let (st, v) = call(ureq::post(&base), Some(json!({"storyId": "  "})));
    assert_eq!((st, v["error"]["code"].as_str()), (400, Some("INVALID_INPUT")), "{v}");
    let (st, _) = call(ureq::post(&base), Some(json!({"story": "x"})));
    assert_eq!(st, 400, "an unknown field");
    let (st, _) = call(ureq::get(&url(&s, "/projects/nope/browser-sessions")), None);
    assert_eq!(st, 404);
    let (st, _) = call(ureq::post(&url(&s, "/projects/nope/browser-sessions")), Some(json!({"storyId": "a"})));
    assert_eq!(st, 404);
    s.stop().unwrap();
}
