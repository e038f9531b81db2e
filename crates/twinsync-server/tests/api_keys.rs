//! API keys over HTTP with a real client: created (shown once), listed (never the key),
//! revoked; accepted for their project's routes beyond loopback; and the lookup `/mcp`
//! uses to find a key's project.

mod support;

use serde_json::json;
use support::*;
use twinsync_server::Registry;

#[test]
fn keys_are_created_listed_and_revoked_and_the_key_is_shown_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(tmp.path(), "docs");
    let s = server(&tmp.path().join("data"));
    let id = register(&s, &dir, None);
    let keys = url(&s, &format!("/projects/{id}/api-keys"));

    let resp = ureq::post(&keys).send_json(json!({"name": "alice hook"})).unwrap();
    assert_eq!((resp.status(), resp.header("cache-control")), (201, Some("no-store")));
    let made: serde_json::Value = resp.into_json().unwrap();
    let key = made["key"].as_str().unwrap().to_string();
    assert!(key.starts_with("tsk_") && key.len() == 68, "{key:?}");
    assert_eq!(made["name"], "alice hook");
    let kid = made["id"].as_str().unwrap().to_string();
    let (_, second) = new_key(&s, &id, "ci", None);
    assert_ne!(second, key);

    let (st, v) = call(ureq::get(&keys), None);
    assert_eq!(st, 200);
    assert_eq!(v["keys"][0]["id"], kid.as_str());
    assert_eq!(v["keys"][0]["lastUsedAt"], json!(null));
    assert_eq!(v["keys"][0]["revoked"], false);
    assert!(v["keys"][0]["createdAt"].as_str().unwrap().ends_with('Z'));
    assert!(!v.to_string().contains(&key) && v["keys"][0].get("hash").is_none(), "{v}");

    let (st, v) = call(ureq::delete(&format!("{keys}/{kid}")), None);
    assert_eq!((st, v["revoked"].clone()), (200, json!(true)), "{v}");
    let (_, v) = call(ureq::get(&keys), None);
    assert_eq!((v["keys"][0]["revoked"].clone(), v["keys"][1]["revoked"].clone()), (json!(true), json!(false)));

    // Errors: one shape, the right statuses.
    let (st, v) = call(ureq::delete(&format!("{keys}/key_nope")), None);
    assert_eq!((st, v["error"]["code"].as_str()), (404, Some("NOT_FOUND")), "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("key_nope"));
    let (st, v) = call(ureq::post(&keys), Some(json!({"name": " "})));
    assert_eq!((st, v["error"]["code"].as_str()), (400, Some("INVALID_INPUT")), "{v}");
    let (st, v) = call(ureq::post(&keys), Some(json!({"label": "x"})));
    assert_eq!(st, 400, "{v}");
    let (st, _) = call(ureq::get(&url(&s, "/projects/nope/api-keys")), None);
    assert_eq!(st, 404);
    s.stop().unwrap();
}

#[test]
fn beyond_loopback_a_key_opens_its_projects_routes_only() {
    let tmp = tempfile::tempdir().unwrap();
    let token = "admin-token-0123456789abcdef";
    let (docs, other) = (project(tmp.path(), "docs"), project(tmp.path(), "other"));
    let s = guarded_server(&tmp.path().join("data"), token);
    let (id, other_id) = (register(&s, &docs, Some(token)), register(&s, &other, Some(token)));
    let (kid, key) = new_key(&s, &id, "hook", Some(token));
    let (_, other_key) = new_key(&s, &other_id, "hook", Some(token));

    let get = |path: &str, key: Option<&str>| {
        let req = ureq::get(&url(&s, path));
        call(
            match key {
                Some(k) => bearer(req, k),
                None => req,
            },
            None,
        )
    };
    assert_eq!(get(&format!("/projects/{id}/drift"), Some(&key)).0, 200, "its project's routes");
    assert_eq!(get(&format!("/projects/{id}"), Some(&key)).0, 200);
    let (st, _) = call(ureq::get(&url(&s, &format!("/projects/{id}/lock?access_token={key}"))), None);
    assert_eq!(st, 200, "as a browser sends it");
    let (st, v) = get(&format!("/projects/{id}/drift"), Some(&other_key));
    assert_eq!((st, v["error"]["code"].as_str()), (403, Some("FORBIDDEN")), "another project's key: {v}");
    assert!(!v.to_string().contains(&other_key));
    let (st, v) = get("/projects", Some(&key));
    assert_eq!(st, 403, "the registry needs the admin token: {v}");
    let (st, _) = get(&format!("/projects/{id}/api-keys"), Some(&key));
    assert_eq!(st, 403, "a key does not manage keys");
    let (st, _) = call(bearer(ureq::delete(&url(&s, &format!("/projects/{id}"))), &key), None);
    assert_eq!(st, 403, "nor unregisters its project");
    let (st, v) = get(&format!("/projects/{id}/drift"), None);
    assert_eq!((st, v["error"]["code"].as_str()), (401, Some("UNAUTHORIZED")));

    let (st, _) = call(bearer(ureq::delete(&url(&s, &format!("/projects/{id}/api-keys/{kid}"))), token), None);
    assert_eq!(st, 200);
    let (st, v) = get(&format!("/projects/{id}/drift"), Some(&key));
    assert_eq!((st, v["error"]["code"].as_str()), (403, Some("FORBIDDEN")), "revoked: {v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("revoked"), "{v}");
    s.stop().unwrap();
}

#[test]
fn project_for_key_finds_the_keys_project_or_says_401_or_403() {
    let tmp = tempfile::tempdir().unwrap();
    let (docs, other) = (project(tmp.path(), "docs"), project(tmp.path(), "other"));
    let data = tmp.path().join("data");
    let s = server(&data);
    let (id, other_id) = (register(&s, &docs, None), register(&s, &other, None));
    let (_, key) = new_key(&s, &id, "mcp", None);
    let (other_kid, other_key) = new_key(&s, &other_id, "mcp", None);
    call(ureq::delete(&url(&s, &format!("/projects/{other_id}/api-keys/{other_kid}"))), None);

    let registry = Registry::open(&data).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let find = |token: Option<&str>| rt.block_on(twinsync_server::project_for_key(&registry, token));
    assert_eq!(find(Some(&key)).unwrap().id, id);
    let status = |token: Option<&str>| find(token).map(|r| r.id).map_err(|e| (e.status().as_u16(), e.code()));
    assert_eq!(status(None), Err((401, "UNAUTHORIZED")));
    assert_eq!(status(Some("")), Err((401, "UNAUTHORIZED")));
    assert_eq!(status(Some(&other_key)), Err((403, "FORBIDDEN")), "revoked");
    assert_eq!(status(Some(&format!("tsk_{}", "0".repeat(64)))), Err((403, "FORBIDDEN")), "nobody's");
    assert_eq!(status(Some("admin-token-0123456789")), Err((403, "FORBIDDEN")), "not a key");
    let e = find(Some(&other_key)).unwrap_err();
    assert!(e.message().contains("revoked") && !e.message().contains(&other_key), "{}", e.message());
    s.stop().unwrap();
}
