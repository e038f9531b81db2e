//! The bindings' parity suite in Rust: the `twinsync::api` functions every binding wraps
//! (named pairs, events, design pairs, the OpenSpec database, credentials, test
//! sessions), on a copy of the shared fixture project, doing and expecting what
//! `bindings/fixtures/parity.json` says. Node, Python and Kotlin read the same file, so
//! a difference between the facade and a binding shows as one of them failing.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use twinsync::api;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bindings/fixtures")
}

fn spec() -> Value {
    let text = std::fs::read_to_string(fixtures().join("parity.json")).expect("bindings/fixtures/parity.json");
    serde_json::from_str(&text).unwrap()
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A fresh copy of the fixture project, and the project opened in it.
fn project(spec: &Value) -> (tempfile::TempDir, PathBuf, twinsync::Project) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("project");
    copy_tree(&fixtures().join(spec["project"].as_str().unwrap()), &root);
    let p = api::open(root.to_str().unwrap(), spec["actor"].as_str()).unwrap();
    (tmp, root, p)
}

fn code<T: std::fmt::Debug>(r: twinsync::Result<T>) -> &'static str {
    api::error_code(&r.expect_err("an error"))
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("{v} is not a string"))
}

#[test]
fn pairs_list_then_status_sync_history_undo_of_a_named_pair() {
    let spec = spec();
    let (_tmp, root, mut p) = project(&spec);
    let listed: Vec<Value> = api::pairs(&p)["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| json!({"name": x["name"], "kind": x["kind"], "left": x["left"], "right": x["right"]}))
        .collect();
    assert_eq!(Value::Array(listed), spec["pairs"]);
    assert_eq!(code(api::status_in(&mut p, None)), s(&spec["no_default_pair"]));
    let unknown = &spec["unknown_pair"];
    assert_eq!(code(api::status_in(&mut p, Some(s(&unknown["name"])))), s(&unknown["code"]));
    assert_eq!(code(api::history_in(&p, Some(s(&unknown["name"])), 5)), s(&unknown["code"]));

    let d = &spec["docs"];
    let pair = Some(s(&d["pair"]));
    let status = api::status_in(&mut p, pair).unwrap();
    let classes: Vec<Value> =
        status["items"].as_array().unwrap().iter().map(|i| json!([i["key"], i["class"]])).collect();
    assert_eq!(Value::Array(classes), d["status"]);
    let dry = api::sync_in(&mut p, pair, &api::SyncOptions { dry_run: true, ..Default::default() }).unwrap();
    assert_eq!(dry["plan"]["actions"].as_array().unwrap().len(), d["status"].as_array().unwrap().len());
    let report = api::sync_in(&mut p, pair, &api::SyncOptions::default()).unwrap();
    assert_eq!(report["counts"]["applied"], d["applied"]);
    for (to, from) in d["copied"].as_object().unwrap() {
        assert_eq!(std::fs::read(root.join(to)).unwrap(), std::fs::read(root.join(s(from))).unwrap(), "{to}");
    }
    assert_eq!(api::status_in(&mut p, pair).unwrap()["items"], json!([]));
    let history = api::history_in(&p, pair, 10).unwrap();
    let ids: Vec<&Value> = history["operations"].as_array().unwrap().iter().map(|o| &o["operation_id"]).collect();
    assert_eq!(ids, [&report["operation_id"]]);
    assert_eq!(api::history_in(&p, Some(s(&spec["design"]["pair"])), 10).unwrap()["operations"], json!([]));
    assert_eq!(api::undo_stack_in(&p, pair, 10).unwrap()["operations"][0]["operation_id"], report["operation_id"]);
    let undone = api::undo_in(&mut p, pair, None).unwrap();
    assert_eq!(undone["operation_id"], report["operation_id"]);
    assert_eq!(undone["restored"].as_array().unwrap().len() as u64, d["applied"].as_u64().unwrap());
    for to in d["copied"].as_object().unwrap().keys() {
        assert!(!root.join(to).exists(), "{to} is gone again");
    }
    assert_eq!(api::undo_stack_in(&p, pair, 10).unwrap()["operations"], json!([]));
}

#[test]
fn events_since_an_id_shaped_as_the_cli_prints_them() {
    let spec = spec();
    let (_tmp, _root, mut p) = project(&spec);
    let d = &spec["docs"];
    let before = api::events(&p, 0, 1000).unwrap();
    let since = before.as_array().unwrap().last().map_or(0, |e| e["id"].as_u64().unwrap());
    let report = api::sync_in(&mut p, Some(s(&d["pair"])), &api::SyncOptions::default()).unwrap();
    let after = api::events(&p, since, 1000).unwrap();
    let after = after.as_array().unwrap();
    let types: Vec<&Value> = after.iter().map(|e| &e["type"]).collect();
    assert_eq!(Value::from(types.into_iter().cloned().collect::<Vec<_>>()), d["events"]);
    for e in after {
        let mut keys: Vec<&String> = e.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["correlation_id", "id", "pair", "payload", "time", "type"]);
        assert_eq!(e["pair"], d["pair"]);
        assert!(e["id"].as_u64().unwrap() > since);
    }
    let of_sync: Vec<Value> =
        after.iter().filter(|e| e["correlation_id"] == report["operation_id"]).map(|e| e["type"].clone()).collect();
    assert_eq!(Value::Array(of_sync), d["operation_events"]);
    assert_eq!(api::events(&p, since, 1).unwrap(), json!([after[0]]));
    assert_eq!(api::events(&p, after.last().unwrap()["id"].as_u64().unwrap(), 1000).unwrap(), json!([]));
}

#[test]
fn design_pairs_drift_and_sync() {
    let spec = spec();
    let (_tmp, root, mut p) = project(&spec);
    let d = &spec["design"];
    let written = root.join(s(&d["written"]));
    let dry = api::design_sync(&mut p, &api::DesignSyncOptions { dry_run: true, ..Default::default() }).unwrap();
    assert!(!written.exists(), "a dry run writes nothing");
    assert_eq!(dry["plan"]["actions"].as_array().unwrap().len() as u64, d["applied"].as_u64().unwrap());
    let opts = api::DesignSyncOptions {
        pair: Some(s(&d["pair"]).into()),
        direction: Some("code_to_design".into()),
        ..Default::default()
    };
    let report = api::design_sync(&mut p, &opts).unwrap();
    assert_eq!((&report["counts"]["applied"], &report["scope"]), (&d["applied"], &d["pair"]));
    let drift = api::design_drift(&p, Some(s(&d["pair"]))).unwrap();
    let mut components: Vec<&str> =
        drift["components"].as_array().unwrap().iter().map(|c| s(&c["component"])).collect();
    components.sort();
    assert_eq!(Value::from(components), d["components"]);
    assert_eq!(drift["totals"]["drifted"], 0);
    let design = std::fs::read_to_string(&written).unwrap();
    std::fs::write(&written, design.replace(s(&d["edit"]["find"]), s(&d["edit"]["replace"]))).unwrap();
    let after = api::design_drift(&p, None).unwrap();
    let edited = after["components"].as_array().unwrap().iter().find(|c| c["component"] == d["edit"]["component"]);
    assert_eq!(edited.unwrap()["status"], d["edit"]["status"]);
    let sideways = api::DesignSyncOptions { direction: Some("sideways".into()), ..Default::default() };
    assert_eq!(code(api::design_sync(&mut p, &sideways)), "INVALID_INPUT");
    let unknown = &spec["unknown_pair"];
    assert_eq!(code(api::design_drift(&p, Some(s(&unknown["name"])))), s(&unknown["code"]));
}

#[test]
fn openspec_database_query_edit_and_history() {
    let spec = spec();
    let (_tmp, root, _p) = project(&spec);
    let dir = root.to_str().unwrap();
    let o = &spec["openspec"];
    api::openspec_sync(dir, &api::OpenspecSyncOptions::default()).unwrap();
    let changes = api::OpenspecQueryOptions { kind: Some("change".into()), ..Default::default() };
    let q = api::openspec_query(dir, &changes).unwrap();
    assert_eq!(q["count"], 1);
    let row = &q["items"][0];
    assert_eq!(
        json!([row["id"], row["status"], row["completedTasks"], row["totalTasks"]]),
        json!([o["change"], o["status"], o["completed"], o["total"]])
    );
    let nothing = api::OpenspecQueryOptions { search: Some("no-such-word-anywhere".into()), ..Default::default() };
    assert_eq!(api::openspec_query(dir, &nothing).unwrap()["count"], 0);
    let bad_sort = api::OpenspecQueryOptions { sort: Some("size".into()), ..Default::default() };
    assert_eq!(code(api::openspec_query(dir, &bad_sort)), "INVALID_INPUT");

    let edit = api::openspec_edit(dir, s(&o["change"]), s(&o["doc"]), Some(s(&o["text"])), None, None).unwrap();
    assert_eq!(edit["failed"], 0);
    assert_eq!(std::fs::read_to_string(root.join(s(&o["file"]))).unwrap(), s(&o["text"]));
    let rows = api::openspec_query(dir, &api::OpenspecQueryOptions::default()).unwrap();
    let row = rows["items"].as_array().unwrap().iter().find(|r| r["id"] == o["change"]).unwrap();
    assert_eq!(row["completedTasks"], o["completed_after_edit"]);
    let unknown = &o["unknown_doc"];
    assert_eq!(
        code(api::openspec_edit(dir, s(&o["change"]), s(&unknown["doc"]), Some("x"), None, None)),
        s(&unknown["code"])
    );
    let history = api::openspec_history(dir, 10).unwrap();
    assert_eq!(history["operations"].as_array().unwrap().len(), 2, "the sync and the edit");
    assert_eq!(history["operations"][0]["trigger"], "user_edit");
}

#[test]
fn credentials_are_metadata_only_never_the_secret() {
    let spec = spec();
    let c = &spec["credential"];
    // Every test of this binary that sets the key sets this one value.
    std::env::set_var(twinsync::MASTER_KEY_ENV, s(&c["master_key"]));
    let (_tmp, _root, mut p) = project(&spec);
    let (name, secret) = (s(&c["name"]), s(&c["secret"]));
    let metadata = c["metadata"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), s(v).to_string())).collect();
    let opts = api::CredentialOptions { provider: Some(s(&c["provider"]).into()), metadata, ..Default::default() };
    let mut seen = vec![api::credential_add(&mut p, name, secret, &opts).unwrap()];
    assert_eq!(
        json!([seen[0]["name"], seen[0]["provider"], seen[0]["metadata"]]),
        json!([name, c["provider"], c["metadata"]])
    );
    seen.push(api::credential_validate(&mut p, name).unwrap());
    seen.push(api::credential_rotate(&mut p, name, &format!("{secret}-rotated"), Some(86_400_000)).unwrap());
    assert_eq!(seen[2]["rotate_every_ms"], 86_400_000);
    let listed = api::credentials(&mut p).unwrap();
    assert_eq!(listed["credentials"].as_array().unwrap().iter().map(|x| &x["name"]).collect::<Vec<_>>(), [name]);
    assert_eq!(api::credential(&mut p, name).unwrap()["status"], seen[2]["status"]);
    seen.push(api::credential_revoke(&mut p, name).unwrap());
    assert_eq!(Value::from(seen.iter().map(|x| x["status"].clone()).collect::<Vec<_>>()), c["statuses"]);
    let everything = json!([seen, api::credentials(&mut p).unwrap(), api::events(&p, 0, 1000).unwrap()]).to_string();
    assert!(!everything.contains(secret), "the secret never comes back");
    assert_eq!(code(api::credential(&mut p, s(&c["unknown"]["name"]))), s(&c["unknown"]["code"]));
    let fax = api::CredentialOptions { provider: Some(s(&c["bad_provider"]["provider"]).into()), ..Default::default() };
    assert_eq!(code(api::credential_add(&mut p, "other", secret, &fax)), s(&c["bad_provider"]["code"]));
}

#[test]
fn test_sessions_start_finish_get_and_list() {
    let spec = spec();
    let (_tmp, _root, mut p) = project(&spec);
    let t = &spec["test_session"];
    let started = api::test_session_start(&mut p, s(&t["story"]), Some(s(&t["correlation_id"]))).unwrap();
    assert_eq!(
        json!([started["story_id"], started["status"], started["correlation_id"]]),
        json!([t["story"], "running", t["correlation_id"]])
    );
    assert_eq!(started["latency_ms"], Value::Null);
    let id = s(&started["id"]);
    assert_eq!(
        code(api::test_session_finish(&mut p, id, s(&t["bad_status"]["status"]), None)),
        s(&t["bad_status"]["code"])
    );
    let finished = api::test_session_finish(&mut p, id, s(&t["status"]), Some(&t["performance"])).unwrap();
    assert_eq!(json!([finished["status"], finished["performance"]]), json!([t["status"], t["performance"]]));
    assert!(finished["latency_ms"].as_i64().unwrap() >= 0);
    assert_eq!(api::test_session(&p, id).unwrap(), finished);
    assert_eq!(api::test_sessions(&p, Some(s(&t["story"])), 10).unwrap()["sessions"], json!([finished]));
    assert_eq!(api::test_sessions(&p, Some("another-story"), 5).unwrap()["sessions"], json!([]));
    let events = api::events(&p, 0, 1000).unwrap();
    assert!(events
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["type"] == t["event"] && e["correlation_id"] == t["correlation_id"]));
    assert_eq!(code(api::test_session(&p, s(&t["unknown"]["id"]))), s(&t["unknown"]["code"]));
}
