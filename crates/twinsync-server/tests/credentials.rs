//! Credentials over HTTP with a real client: added and listed as metadata, and the secret
//! in no answer (success or error), no log line of the server and no file of the project
//! in clear. One test in this binary: it sets the master key for the whole process.

mod support;

use serde_json::json;
use support::*;

const SECRET: &str = "figd_S3cr3t-token-value-0123456789";

#[test]
fn credentials_are_metadata_only_and_the_secret_never_comes_back() {
    // 32 bytes of 0x2a, base64: the facade seals with it.
    std::env::set_var(twinsync::MASTER_KEY_ENV, "KioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKio=");
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(tmp.path(), "docs");
    let s = server(&tmp.path().join("data"));
    let id = register(&s, &dir, None);
    let creds = url(&s, &format!("/projects/{id}/credentials"));
    let mut bodies = Vec::new();
    let mut seen = |(st, v): (u16, serde_json::Value)| {
        bodies.push(v.to_string());
        (st, v)
    };

    let new = json!({"name": "figma", "provider": "design", "value": SECRET, "rotateEveryDays": 90,
        "metadata": {"account": "team@example.com"}});
    let resp = ureq::post(&creds).send_json(new.clone()).unwrap();
    assert_eq!((resp.status(), resp.header("cache-control")), (201, Some("no-store")));
    let (st, made) = seen(answer(Ok(resp)));
    assert_eq!(st, 201);
    assert_eq!((made["name"].as_str(), made["status"].as_str()), (Some("figma"), Some("pending")), "{made}");
    assert_eq!(made["metadata"]["account"], "team@example.com");
    assert!(made["rotation_due_at"].is_string(), "{made}");
    let (st, list) = seen(call(ureq::get(&creds), None));
    assert_eq!(st, 200);
    assert_eq!(list["credentials"][0]["name"], "figma", "{list}");
    assert_eq!(list["credentials"][0]["provider"], "design", "{list}");
    assert!(list["credentials"][0].get("sealed").is_none() && list["credentials"][0].get("value").is_none());

    // Errors, one shape, none of them quoting the value.
    let (st, v) = seen(call(ureq::post(&creds), Some(new.clone())));
    assert_eq!((st, v["error"]["code"].as_str()), (409, Some("CONFLICT")), "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("rotate"), "{v}");
    let bad = |patch: serde_json::Value| {
        let mut b = new.clone();
        b["name"] = json!("other");
        for (k, v) in patch.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    for (body, names) in [
        (bad(json!({"provider": "fax"})), "fax"),
        (bad(json!({"name": "no spaces"})), "invalid name"),
        (bad(json!({"value": ""})), "empty"),
        (bad(json!({"rotateEveryDays": 0})), "rotateEveryDays"),
        (bad(json!({"value": [SECRET]})), "expected"),
        (bad(json!({"value": {"token": SECRET}})), "expected"),
        (bad(json!({"valeu": SECRET})), "expected"),
    ] {
        let (st, v) = seen(call(ureq::post(&creds), Some(body.clone())));
        assert_eq!((st, v["error"]["code"].as_str()), (400, Some("INVALID_INPUT")), "{body}: {v}");
        assert!(v["error"]["message"].as_str().unwrap().contains(names), "{body}: {v}");
    }
    let (st, _) = seen(call(ureq::get(&url(&s, "/projects/nope/credentials")), None));
    assert_eq!(st, 404);
    let (st, _) = seen(call(ureq::post(&url(&s, "/projects/nope/credentials")), Some(new.clone())));
    assert_eq!(st, 404);
    let (st, v) = seen(answer(
        ureq::post(&creds)
            .set("Content-Type", "application/json")
            .send_string(&format!("{{\"name\": \"x\", \"provider\": \"design\", \"value\": \"{SECRET}\"")),
    ));
    assert_eq!(st, 400, "cut short: {v}");

    for body in &bodies {
        assert!(!body.contains(SECRET) && !body.contains("S3cr3t"), "the secret in an answer: {body}");
    }
    // Sealed in the store, nowhere in clear in the project or the server's data.
    assert!(!contains(&all_bytes(&dir), SECRET), "the secret in clear in the project's files");
    assert!(!contains(&all_bytes(&tmp.path().join("data")), SECRET), "the secret in the server's files");
    s.stop().unwrap();
    beyond_loopback_a_project_key_does_not_open_credentials();
}

fn beyond_loopback_a_project_key_does_not_open_credentials() {
    let tmp = tempfile::tempdir().unwrap();
    let token = "admin-token-0123456789abcdef";
    let dir = project(tmp.path(), "docs");
    let s = guarded_server(&tmp.path().join("data"), token);
    let id = register(&s, &dir, Some(token));
    let (_, key) = new_key(&s, &id, "hook", Some(token));
    let creds = url(&s, &format!("/projects/{id}/credentials"));
    let (st, v) = call(bearer(ureq::get(&creds), &key), None);
    assert_eq!((st, v["error"]["code"].as_str()), (403, Some("FORBIDDEN")), "{v}");
    let (st, _) = call(ureq::get(&creds), None);
    assert_eq!(st, 401);
    let (st, v) = call(bearer(ureq::get(&creds), token), None);
    assert_eq!((st, v["credentials"].as_array().map(Vec::len)), (200, Some(0)), "{v}");
    s.stop().unwrap();
}
