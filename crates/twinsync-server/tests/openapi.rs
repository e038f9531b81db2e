//! `/openapi.json`: the document the code builds is the one checked in
//! (`crates/twinsync-server/openapi.json`), it is valid OpenAPI 3.1 (the
//! `openapi-spec-validator` Python package, in `TWINSYNC_TEST_PYTHON`'s venv, judges it),
//! it lists exactly the routes the router serves, and what the routes answer is what
//! their schemas say (the `jsonschema` package judges real answers).
//!
//! After changing a route or its types: `TWINSYNC_BLESS=1 cargo test -p twinsync-server
//! --test openapi` writes the document anew; review the diff and commit it.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};
use support::*;
use twinsync_server::openapi;

fn checked_in() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json")
}

#[test]
fn the_checked_in_document_is_the_one_the_code_builds() {
    let built = openapi::document_text();
    if std::env::var_os("TWINSYNC_BLESS").is_some() {
        std::fs::write(checked_in(), &built).unwrap();
    }
    let kept = std::fs::read_to_string(checked_in()).unwrap_or_default();
    let parse = |t: &str| serde_json::from_str::<Value>(t).ok();
    assert!(
        parse(&kept).is_some() && parse(&kept) == parse(&built),
        "crates/twinsync-server/openapi.json is stale: run `TWINSYNC_BLESS=1 cargo test -p twinsync-server --test \
         openapi` and commit the result"
    );

    // The server serves the same document.
    let tmp = tempfile::tempdir().unwrap();
    let s = server(&tmp.path().join("data"));
    let r = ureq::get(&url(&s, "/openapi.json")).call().unwrap();
    assert!(r.header("content-type").unwrap().starts_with("application/json"));
    assert_eq!(r.into_json::<Value>().unwrap(), parse(&built).unwrap());
    s.stop().unwrap();
}

fn python() -> String {
    std::env::var("TWINSYNC_TEST_PYTHON").expect(
        "set TWINSYNC_TEST_PYTHON to a Python with openapi-spec-validator and jsonschema (`source /work/testenv.sh`, \
         or .ci/run's venv)",
    )
}

#[test]
fn the_document_is_valid_openapi_3_1() {
    let python = python();
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("openapi.json");
    std::fs::write(&file, openapi::document_text()).unwrap();
    let script = "import json, sys\n\
        from openapi_spec_validator import validate\n\
        from openapi_spec_validator.validation.validators import OpenAPIV31SpecValidator\n\
        doc = json.load(open(sys.argv[1]))\n\
        assert doc['openapi'] == '3.1.0', doc['openapi']\n\
        validate(doc, cls=OpenAPIV31SpecValidator)\n\
        print('valid', len(doc['paths']))\n";
    let out = Command::new(&python).arg("-c").arg(script).arg(&file).output().unwrap();
    assert!(
        out.status.success(),
        "not valid OpenAPI 3.1 (or the validator is missing: pip install openapi-spec-validator==0.9.0):\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = openapi::document();
    // Every schema a document refers to is in it.
    let text = doc.to_string();
    for r in text.split("\"$ref\":\"").skip(1) {
        let target = &r[..r.find('"').unwrap()];
        let name = target.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("a $ref outside: {target}"));
        assert!(doc["components"]["schemas"].get(name).is_some(), "{target} is not in the document");
    }
}

/// Every `.route("PATH", ...)` the crate's sources (`src/` and its folders) give the router.
fn routed_paths() -> BTreeSet<String> {
    fn scan(dir: &Path, out: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                scan(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for part in text.split(".route(\"").skip(1) {
                    out.insert(part[..part.find('"').unwrap()].to_string());
                }
            }
        }
    }
    let mut out = BTreeSet::new();
    scan(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut out);
    out
}

#[test]
fn the_route_list_is_every_route_of_the_router_and_each_is_served() {
    let listed: BTreeSet<String> = openapi::route_list().into_iter().map(|(_, p)| p.to_string()).collect();
    assert_eq!(listed, routed_paths(), "openapi.rs ROUTES and the router's routes differ");
    let doc = openapi::document();
    for (method, path) in openapi::route_list() {
        let op = &doc["paths"][openapi::openapi_path(path)][method];
        assert!(op["responses"].is_object(), "{method} {path} is not in the document's paths");
    }

    // Each listed method and path reaches a handler: not the fallback, not 405.
    let tmp = tempfile::tempdir().unwrap();
    let s = server(&tmp.path().join("data"));
    for (method, path) in openapi::route_list() {
        let concrete: String =
            path.split('/').map(|seg| if seg.starts_with('{') { "zz" } else { seg }).collect::<Vec<_>>().join("/");
        let r = ureq::request(&method.to_uppercase(), &url(&s, &concrete)).call();
        let (status, body) = answer(r);
        assert_ne!(status, 405, "{method} {path}: the router has no such method there");
        assert!(
            !body.to_string().contains("no such route"),
            "{method} {path}: answered by the fallback, so not routed: {body}"
        );
    }
    s.stop().unwrap();
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../twinsync-design/tests/fixtures")
}

/// The support project plus a design pair `ui` (components and their Storybook index on
/// the code side, a manifest on the other), so drift, syncs and coverage have kinds and
/// items to report.
fn design_project(root: &Path) -> PathBuf {
    let dir = project(root, "design");
    std::fs::copy(fixtures().join("code/components.json"), dir.join("components.json")).unwrap();
    let story = |id: &str, name: &str| json!({ "id": id, "title": "Components/Button", "name": name, "type": "story", "importPath": "./x.tsx" });
    let index = json!({ "v": 5, "entries": {
        "components-button--sm-primary": story("components-button--sm-primary", "Sm Primary"),
        "components-button--lg-nope": story("components-button--lg-nope", "Lg Nope"),
    }});
    std::fs::write(dir.join("index.json"), index.to_string()).unwrap();
    let mut p = twinsync::Project::open(&dir).unwrap();
    p.pair_add(
        "ui",
        twinsync::PairConfig::new(twinsync::PairKind::Design, "components.json,index.json", "design.json"),
    )
    .unwrap();
    dir
}

/// Answers of real calls, each with the route (OpenAPI's spelling) and status whose
/// schema must describe it.
#[derive(Default)]
struct Answers(Vec<Value>);

impl Answers {
    fn keep(&mut self, method: &str, route: &str, (status, body): (u16, Value)) -> Value {
        self.0.push(json!({ "method": method, "route": route, "status": status, "body": body }));
        body
    }
}

#[test]
fn what_the_routes_answer_is_what_their_schemas_say() {
    std::env::set_var(twinsync::MASTER_KEY_ENV, "KioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKio=");
    let tmp = tempfile::tempdir().unwrap();
    let dir = design_project(tmp.path());
    let s = server(&tmp.path().join("data"));
    let id = register(&s, &dir, None);
    let at = |path: &str| url(&s, &format!("/projects/{id}{path}"));
    let mut a = Answers::default();

    a.keep("get", "/healthz", call(ureq::get(&url(&s, "/healthz")), None));
    a.keep("get", "/projects", call(ureq::get(&url(&s, "/projects")), None));
    a.keep("get", "/projects/{id}", call(ureq::get(&at("")), None));
    a.keep("put", "/projects/{id}", call(ureq::put(&at("")), Some(json!({ "name": "renamed" }))));

    // A dry run while the folders differ, then the sync (which writes the design side).
    let dry = a.keep(
        "post",
        "/projects/{id}/operations",
        call(ureq::post(&at("/operations")), Some(json!({ "dryRun": true }))),
    );
    assert_eq!(dry["dryRun"], true, "{dry}");
    let synced = a.keep("post", "/projects/{id}/operations", call(ureq::post(&at("/operations")), None));
    assert!(synced["pairs"].as_array().is_some_and(|p| p.len() == 2), "{synced}");
    a.keep("get", "/projects/{id}/drift", call(ureq::get(&at("/drift")), None));
    // A conflict left for a person: its report carries both contents.
    std::fs::write(dir.join("a/one.md"), "# left\n").unwrap();
    std::fs::write(dir.join("b/one.md"), "# right\n").unwrap();
    let conflicted = a.keep(
        "post",
        "/projects/{id}/operations",
        call(ureq::post(&at("/operations")), Some(json!({ "pair": "default", "policy": "manual" }))),
    );
    assert_eq!(conflicted["pairs"][0]["report"]["conflicts"][0]["key"], "one.md", "{conflicted}");
    a.keep("get", "/projects/{id}/drift", call(ureq::get(&at("/drift")), None));
    std::fs::write(dir.join("b/one.md"), "# left\n").unwrap();
    std::fs::write(dir.join("a/two.md"), "# two\n").unwrap();
    a.keep(
        "post",
        "/projects/{id}/operations",
        call(ureq::post(&at("/operations")), Some(json!({ "pair": "default" }))),
    );
    let undone =
        a.keep("post", "/projects/{id}/undo", call(ureq::post(&at("/undo")), Some(json!({ "pair": "default" }))));
    assert!(undone["restored"].as_array().is_some_and(|r| r.contains(&json!("two.md"))), "{undone}");
    a.keep("get", "/projects/{id}/history", call(ureq::get(&at("/history")), None));
    a.keep("get", "/projects/{id}/coverage", call(ureq::get(&at("/coverage?pair=ui")), None));

    // Docs, with the write's precondition.
    a.keep("get", "/projects/{id}/docs", call(ureq::get(&at("/docs?pair=default")), None));
    let doc = a.keep("get", "/projects/{id}/docs/{path}", call(ureq::get(&at("/docs/one.md?pair=default")), None));
    let put = ureq::put(&at("/docs/one.md?pair=default")).set("If-Match", doc["digest"].as_str().unwrap());
    a.keep("put", "/projects/{id}/docs/{path}", answer(put.send_json(json!({ "content": "# edited\n" }))));
    let create = ureq::put(&at("/docs/new.md?pair=default")).set("If-None-Match", "*");
    let (st, created) = answer(create.send_json(json!({ "content": "# new\n" })));
    assert_eq!(st, 201, "{created}");
    a.keep("put", "/projects/{id}/docs/{path}", (st, created));
    a.keep("post", "/projects/{id}/docs/sync", call(ureq::post(&at("/docs/sync")), Some(json!({ "pair": "default" }))));

    // The lock, API keys and the hook routes.
    let lock = json!({ "owner": "ana", "reason": "editing" });
    let (st, taken) = call(ureq::post(&at("/lock")), Some(lock));
    a.keep("post", "/projects/{id}/lock", (st, taken));
    a.keep("get", "/projects/{id}/lock", call(ureq::get(&at("/lock")), None));
    let made =
        a.keep("post", "/projects/{id}/api-keys", call(ureq::post(&at("/api-keys")), Some(json!({ "name": "hook" }))));
    let key = made["key"].as_str().unwrap().to_string();
    a.keep("get", "/hook/status/{id}", call(bearer(ureq::get(&url(&s, &format!("/hook/status/{id}"))), &key), None));
    a.keep("delete", "/projects/{id}/lock", call(ureq::delete(&at("/lock?owner=ana")), None));
    a.keep("get", "/hook/status/{id}", call(bearer(ureq::get(&url(&s, &format!("/hook/status/{id}"))), &key), None));
    let hook_docs = url(&s, &format!("/hook/docs/{id}?pair=default"));
    a.keep("get", "/hook/docs/{id}", call(bearer(ureq::get(&hook_docs), &key), None));
    let hook_sync = url(&s, &format!("/hook/sync/{id}"));
    a.keep("post", "/hook/sync/{id}", call(bearer(ureq::post(&hook_sync), &key), Some(json!({ "pair": "default" }))));
    a.keep("get", "/projects/{id}/api-keys", call(ureq::get(&at("/api-keys")), None));
    let kid = made["id"].as_str().unwrap();
    a.keep("delete", "/projects/{id}/api-keys/{kid}", call(ureq::delete(&at(&format!("/api-keys/{kid}"))), None));

    // Credentials, the schedule and browser test sessions.
    let cred = json!({ "name": "figma", "provider": "design", "value": "figd_x", "rotateEveryDays": 30 });
    a.keep("post", "/projects/{id}/credentials", call(ureq::post(&at("/credentials")), Some(cred)));
    a.keep("get", "/projects/{id}/credentials", call(ureq::get(&at("/credentials")), None));
    a.keep("post", "/projects/{id}/schedule", call(ureq::post(&at("/schedule")), Some(json!({ "nightly": true }))));
    let started = a.keep(
        "post",
        "/projects/{id}/browser-sessions",
        call(ureq::post(&at("/browser-sessions")), Some(json!({ "storyId": "button--primary" }))),
    );
    let sid = started["id"].as_str().unwrap();
    let finish = at(&format!("/browser-sessions/{sid}/finish"));
    let perf = json!({ "status": "failed", "performance": { "lcpMs": 812 } });
    a.keep("post", "/projects/{id}/browser-sessions/{sid}/finish", call(ureq::post(&finish), Some(perf)));
    a.keep(
        "get",
        "/projects/{id}/browser-sessions/{sid}",
        call(ureq::get(&at(&format!("/browser-sessions/{sid}"))), None),
    );
    a.keep("get", "/projects/{id}/browser-sessions", call(ureq::get(&at("/browser-sessions")), None));

    // Last: every kind of event the calls above wrote.
    let events = a.keep("get", "/projects/{id}/events", call(ureq::get(&at("/events")), None));
    assert!(events["events"].as_array().is_some_and(|e| e.len() > 10), "{events}");
    s.stop().unwrap();

    let file = tmp.path().join("answers.json");
    std::fs::write(&file, json!({ "document": openapi::document(), "answers": a.0 }).to_string()).unwrap();
    // Each answer against the schema its route and status give, with the document's
    // components beside it so `#/components/schemas/...` resolves. And a control: no such
    // schema accepts `{}`, so none is the `{"type": "object"}` that says nothing.
    let script = "import json, sys\n\
        from jsonschema import Draft202012Validator\n\
        data = json.load(open(sys.argv[1]))\n\
        doc, bad = data['document'], []\n\
        for a in data['answers']:\n\
        \x20   name = f\"{a['method'].upper()} {a['route']} {a['status']}\"\n\
        \x20   response = doc['paths'][a['route']][a['method']]['responses'].get(str(a['status']))\n\
        \x20   if response is None:\n\
        \x20       bad.append(f'{name}: no such status in the document: {a[\"body\"]}')\n\
        \x20       continue\n\
        \x20   schema = dict(response['content']['application/json']['schema'], components=doc['components'])\n\
        \x20   v = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)\n\
        \x20   bad += [f\"{name}: /{'/'.join(map(str, e.absolute_path))}: {e.message}\" for e in v.iter_errors(a['body'])]\n\
        \x20   if v.is_valid({}):\n\
        \x20       bad.append(f'{name}: the schema accepts {{}}')\n\
        print('\\n'.join(bad) or f\"{len(data['answers'])} answers match their schemas\")\n\
        sys.exit(1 if bad else 0)\n";
    let out = Command::new(python()).arg("-c").arg(script).arg(&file).output().unwrap();
    assert!(
        out.status.success(),
        "answers that are not what the document says (or jsonschema is missing: pip install jsonschema==4.26.0):\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
