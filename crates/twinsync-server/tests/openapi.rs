//! `/openapi.json`: the document the code builds is the one checked in
//! (`crates/twinsync-server/openapi.json`), it is valid OpenAPI 3.1 (the
//! `openapi-spec-validator` Python package, in `TWINSYNC_TEST_PYTHON`'s venv, judges it),
//! and it lists exactly the routes the router serves.
//!
//! After changing a route or its types: `TWINSYNC_BLESS=1 cargo test -p twinsync-server
//! --test openapi` writes the document anew; review the diff and commit it.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
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

#[test]
fn the_document_is_valid_openapi_3_1() {
    let python = std::env::var("TWINSYNC_TEST_PYTHON").expect(
        "set TWINSYNC_TEST_PYTHON to a Python with openapi-spec-validator (`source /work/testenv.sh`, or .ci/run's venv)",
    );
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
