//! API keys through `twinsync serve` as a process, logging everything (trace, JSON): after
//! keys are created over HTTP and with `twinsync keys`, used on the hook routes and
//! revoked, no plain key is in any file under the project's `.twinsync/`, in the
//! server's data folder, or in anything the server or the CLI printed.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{json, Value};

fn all_bytes(dir: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(all_bytes(&path));
        } else {
            out.extend(std::fs::read(&path).unwrap());
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn call(req: ureq::Request, body: Option<Value>) -> (u16, Value) {
    let r = match body {
        Some(b) => req.send_json(b),
        None => req.call(),
    };
    let resp = match r {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("transport: {e}"),
    };
    (resp.status(), resp.into_json().unwrap_or(Value::Null))
}

#[test]
fn no_plain_key_in_the_store_the_data_folder_or_the_logs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("docs");
    for side in ["a", "b"] {
        std::fs::create_dir_all(dir.join(side)).unwrap();
    }
    std::fs::write(dir.join("a/one.md"), "# one\n").unwrap();
    let twinsync = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_twinsync"))
            .args(args)
            .current_dir(&dir)
            .env("TWINSYNC_LOG", "trace")
            .env("TWINSYNC_LOG_FORMAT", "json")
            .env_remove("TWINSYNC_STORE_URL")
            .output()
            .unwrap()
    };
    assert!(twinsync(&["init", "a", "b"]).status.success());
    let data = tmp.path().join("data");
    let mut child = Command::new(env!("CARGO_BIN_EXE_twinsync"))
        .args(["serve", "--json", "--listen", "127.0.0.1:0", "--data"])
        .arg(&data)
        .env("TWINSYNC_LOG", "trace")
        .env("TWINSYNC_LOG_FORMAT", "json")
        .env_remove("TWINSYNC_STORE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let listening: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
    let base = listening["listening"].as_str().unwrap().to_string();
    let at = |path: &str| format!("{base}{path}");

    let (st, v) = call(ureq::post(&at("/projects")), Some(json!({"name": "Docs", "path": dir})));
    assert_eq!(st, 201, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    let mut keys = Vec::new();
    let mut printed = Vec::new();
    for name in ["hook", "ci"] {
        let (st, v) = call(ureq::post(&at(&format!("/projects/{id}/api-keys"))), Some(json!({ "name": name })));
        assert_eq!(st, 201, "{v}");
        keys.push((v["id"].as_str().unwrap().to_string(), v["key"].as_str().unwrap().to_string()));
    }
    let out = twinsync(&["keys", "create", "laptop"]);
    assert!(out.status.success());
    keys.push((String::new(), String::from_utf8_lossy(&out.stdout).trim().to_string()));
    printed.extend_from_slice(&out.stderr);

    // Each key used on every hook route: the first use writes its last-use time, the
    // write that would leak a key if anything did.
    for (_, key) in &keys {
        for (method, route) in [("GET", "status"), ("GET", "docs"), ("POST", "sync")] {
            let req = ureq::request(method, &at(&format!("/hook/{route}/{id}")));
            let (st, v) = call(req.set("Authorization", &format!("Bearer {key}")), None);
            assert_eq!(st, 200, "{route}: {v}");
        }
    }
    let (st, _) = call(ureq::delete(&at(&format!("/projects/{id}/api-keys/{}", keys[0].0))), None);
    assert_eq!(st, 200);
    let req = ureq::get(&at(&format!("/hook/status/{id}"))).set("Authorization", &format!("Bearer {}", keys[0].1));
    assert_eq!(call(req, None).0, 403);
    let (_, listed) = call(ureq::get(&at(&format!("/projects/{id}/api-keys"))), None);
    assert!(listed["keys"].as_array().unwrap().iter().all(|k| !k["lastUsedAt"].is_null()), "{listed}");
    for args in [&["keys", "list", "--json"][..], &["keys", "list"][..], &["history"][..]] {
        let out = twinsync(args);
        printed.extend_from_slice(&out.stdout);
        printed.extend_from_slice(&out.stderr);
    }

    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    assert_eq!(child.wait().unwrap().code(), Some(0));
    stdout.read_to_end(&mut printed).unwrap();
    child.stderr.take().unwrap().read_to_end(&mut printed).unwrap();

    assert!(contains(&printed, &keys[0].0), "the server's log names the key it created, by id");
    let (store, registry) = (all_bytes(&dir.join(".twinsync")), all_bytes(&data));
    assert!(!store.is_empty() && !registry.is_empty());
    for (_, key) in &keys {
        assert!(key.starts_with("tsk_"), "{key}");
        assert!(!contains(&store, key), "a key in clear under .twinsync/");
        assert!(!contains(&registry, key), "a key in clear in the server's data folder");
        assert!(!contains(&printed, key), "a key in the logs or output");
        // Nor the hash's hex in the logs: it is what the store matches on.
        let hash = twinsync::core::Digest::of_bytes(key.as_bytes()).to_hex();
        assert!(!contains(&printed, &hash), "a key's hash in the logs");
    }
}
