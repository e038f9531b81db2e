//! The hook API with a real client: status, docs digest and sync, each needing a live API
//! key of its project (401 without, 403 revoked or another project's, 404 no project).

mod support;

use serde_json::json;
use support::*;

#[test]
fn hook_routes_answer_with_a_key_of_the_project_only() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, other) = (project(tmp.path(), "docs"), project(tmp.path(), "other"));
    let s = server(&tmp.path().join("data"));
    let (id, other_id) = (register(&s, &dir, None), register(&s, &other, None));
    let (kid, key) = new_key(&s, &id, "alice", None);
    let (_, other_key) = new_key(&s, &other_id, "ci", None);
    let hook = |method: &str, path: &str, key: Option<&str>| {
        let req = ureq::request(method, &url(&s, path));
        call(
            match key {
                Some(k) => bearer(req, k),
                None => req,
            },
            None,
        )
    };

    // Status: the lock, seen by the hook.
    let (st, v) = hook("GET", &format!("/hook/status/{id}"), Some(&key));
    assert_eq!(
        (st, &v),
        (200, &json!({"locked": false, "lockedBy": null, "lockedAt": null, "expiresAt": null, "reason": null}))
    );
    call(ureq::post(&url(&s, &format!("/projects/{id}/lock"))), Some(json!({"owner": "bob", "reason": "editing"})));
    let (_, v) = hook("GET", &format!("/hook/status/{id}"), Some(&key));
    assert_eq!(
        (v["locked"].clone(), v["lockedBy"].clone(), v["reason"].clone()),
        (json!(true), json!("bob"), json!("editing"))
    );
    assert!(v["lockedAt"].as_str().unwrap().ends_with('Z') && v.get("token").is_none(), "{v}");

    // Docs: one stable digest of the tree, which moves when a doc does.
    let (st, v) = hook("GET", &format!("/hook/docs/{id}"), Some(&key));
    assert_eq!((st, v["pair"].as_str()), (200, Some("default")), "{v}");
    let hash = v["hash"].as_str().unwrap().to_string();
    assert!(hash.starts_with("sha256:") && hash.len() == 71, "{hash}");
    assert_eq!(hook("GET", &format!("/hook/docs/{id}?pair=default"), Some(&key)).1["hash"], hash.as_str());
    std::fs::write(dir.join("a/two.md"), "# two\n").unwrap();
    let (_, v) = hook("GET", &format!("/hook/docs/{id}"), Some(&key));
    assert_ne!(v["hash"], hash.as_str());
    let (st, v) = hook("GET", &format!("/hook/docs/{id}?pair=nope"), Some(&key));
    assert_eq!(st, 404, "{v}");

    // Sync: refused under bob's lock (the key's name acts), then done once he releases it.
    let (st, v) = hook("POST", &format!("/hook/sync/{id}"), Some(&key));
    assert_eq!((st, v["error"]["code"].as_str()), (409, Some("LOCKED")), "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("alice"), "{v}");
    call(ureq::delete(&url(&s, &format!("/projects/{id}/lock?owner=bob"))), None);
    let (st, v) = hook("POST", &format!("/hook/sync/{id}"), Some(&key));
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        (v["docs"]["pair"].as_str(), v["docs"]["counts"]["applied"].as_u64()),
        (Some("default"), Some(2)),
        "{v}"
    );
    assert!(dir.join("b/two.md").is_file());
    let (_, v) = call(ureq::get(&url(&s, &format!("/projects/{id}/history"))), None);
    assert_eq!(v["operations"][0]["actor"], "alice", "{v}");
    let (st, v) =
        call(bearer(ureq::post(&url(&s, &format!("/hook/sync/{id}"))), &key), Some(json!({"actor": "alice-laptop"})));
    assert_eq!(st, 200, "{v}");

    // The errors.
    for (method, route) in [("GET", "status"), ("GET", "docs"), ("POST", "sync")] {
        let path = format!("/hook/{route}/{id}");
        let (st, v) = hook(method, &path, None);
        assert_eq!((st, v["error"]["code"].as_str()), (401, Some("UNAUTHORIZED")), "{path}: {v}");
        let (st, v) = hook(method, &path, Some(&other_key));
        assert_eq!((st, v["error"]["code"].as_str()), (403, Some("FORBIDDEN")), "{path}: {v}");
        let (st, _) = hook(method, &path, Some("not-a-key"));
        assert_eq!(st, 403, "{path}");
        let (st, v) = hook(method, &format!("/hook/{route}/nope"), Some(&key));
        assert_eq!((st, v["error"]["code"].as_str()), (404, Some("NOT_FOUND")), "{v}");
    }
    call(ureq::delete(&url(&s, &format!("/projects/{id}/api-keys/{kid}"))), None);
    for (method, route) in [("GET", "status"), ("GET", "docs"), ("POST", "sync")] {
        let (st, v) = hook(method, &format!("/hook/{route}/{id}"), Some(&key));
        assert_eq!((st, v["error"]["code"].as_str()), (403, Some("FORBIDDEN")), "revoked: {v}");
        assert!(v["error"]["message"].as_str().unwrap().contains("revoked"), "{v}");
    }
    s.stop().unwrap();
}

#[test]
fn beyond_loopback_hooks_take_a_key_not_the_admin_token() {
    let tmp = tempfile::tempdir().unwrap();
    let token = "admin-token-0123456789abcdef";
    let dir = project(tmp.path(), "docs");
    let s = guarded_server(&tmp.path().join("data"), token);
    let id = register(&s, &dir, Some(token));
    let (_, key) = new_key(&s, &id, "hook", Some(token));
    let (st, _) = call(bearer(ureq::get(&url(&s, &format!("/hook/status/{id}"))), &key), None);
    assert_eq!(st, 200);
    let (st, v) = call(bearer(ureq::get(&url(&s, &format!("/hook/status/{id}"))), token), None);
    assert_eq!((st, v["error"]["code"].as_str()), (403, Some("FORBIDDEN")), "{v}");
    assert!(!v.to_string().contains(token));
    s.stop().unwrap();
}
