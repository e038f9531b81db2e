//! Projects the server keeps open between requests still see every change made beside
//! it: a pair added from the CLI (a new config), a key revoked from the CLI (the store),
//! a folder unregistered and initialised again.

mod support;

use serde_json::json;
use support::*;
use twinsync::{PairConfig, PairKind, Project};

#[test]
fn kept_projects_see_config_and_store_changes_made_beside_the_server() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(tmp.path(), "docs");
    let s = server(&tmp.path().join("data"));
    let id = register(&s, &dir, None);
    let (kid, key) = new_key(&s, &id, "hook", None);
    let status = || call(bearer(ureq::get(&url(&s, &format!("/hook/status/{id}"))), &key), None).0;
    assert_eq!(status(), 200);
    let (_, v) = call(ureq::get(&url(&s, &format!("/projects/{id}"))), None);
    assert_eq!(v["pairs"].as_array().unwrap().len(), 1);

    // A pair added by another process: the next request sees it.
    for side in ["c", "d"] {
        std::fs::create_dir_all(dir.join(side)).unwrap();
    }
    Project::open(&dir).unwrap().pair_add("notes", PairConfig::new(PairKind::Folders, "c", "d")).unwrap();
    let (_, v) = call(ureq::get(&url(&s, &format!("/projects/{id}"))), None);
    let names: Vec<&str> = v["pairs"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["default", "notes"], "{v}");

    // A key revoked by another process: refused at once.
    Project::open(&dir).unwrap().api_key_revoke(&kid).unwrap();
    assert_eq!(status(), 403);

    // Unregistered, initialised again from scratch, registered again: a new store.
    assert_eq!(call(ureq::delete(&url(&s, &format!("/projects/{id}"))), None).0, 204);
    std::fs::remove_dir_all(dir.join(".twinsync")).unwrap();
    Project::init(&dir, "a", "b").unwrap();
    assert_eq!(register(&s, &dir, None), id, "the same folder, the same id");
    let (_, v) = call(ureq::get(&url(&s, &format!("/projects/{id}/api-keys"))), None);
    assert_eq!(v["keys"], json!([]), "the new store has no keys: {v}");
    s.stop().unwrap();
}
