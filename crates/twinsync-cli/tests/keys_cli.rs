//! `twinsync keys` end to end with the real binary: a key is printed once (alone on
//! stdout, or in `--json`), listed without it, revoked by id; it is in no file under
//! `.twinsync/` and in no log line (trace level, JSON).

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_twinsync"))
        .args(args)
        .current_dir(dir)
        .env_remove("TWINSYNC_STORE_URL")
        .env("TWINSYNC_LOG", "trace")
        .env("TWINSYNC_LOG_FORMAT", "json")
        .output()
        .unwrap()
}

fn ok(dir: &Path, args: &[&str]) -> (String, String) {
    let out = run(dir, args);
    let (stdout, stderr) =
        (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned());
    assert!(out.status.success(), "{args:?}: {stdout}{stderr}");
    (stdout, stderr)
}

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

#[test]
fn keys_create_list_revoke_and_the_key_is_printed_once_and_stored_nowhere() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    for side in ["a", "b"] {
        std::fs::create_dir_all(dir.join(side)).unwrap();
    }
    ok(dir, &["init", "a", "b"]);

    let (stdout, stderr) = ok(dir, &["keys", "create", "alice hook"]);
    let key = stdout.trim().to_string();
    assert!(key.starts_with("tsk_") && key.len() == 68 && stdout.lines().count() == 1, "{stdout}");
    assert!(stderr.contains("shown once") && !stderr.contains(&key), "{stderr}");
    let (json_out, json_err) = ok(dir, &["keys", "create", "ci", "--json"]);
    let made: Value = serde_json::from_str(&json_out).unwrap();
    let ci_key = made["key"].as_str().unwrap().to_string();
    let ci_id = made["id"].as_str().unwrap().to_string();
    assert_eq!(made["name"], "ci");
    assert!(!json_err.contains(&ci_key));

    let (listed, list_err) = ok(dir, &["keys", "list"]);
    assert!(listed.contains("alice hook") && listed.contains(&ci_id) && listed.contains("never"), "{listed}");
    let (listed_json, _) = ok(dir, &["keys", "list", "--json"]);
    let v: Value = serde_json::from_str(&listed_json).unwrap();
    assert_eq!(v["keys"].as_array().unwrap().len(), 2);
    for text in [&listed, &listed_json, &list_err] {
        assert!(!text.contains(&key) && !text.contains(&ci_key), "{text}");
    }

    let (revoked, _) = ok(dir, &["keys", "revoke", &ci_id, "--json"]);
    let v: Value = serde_json::from_str(&revoked).unwrap();
    assert_eq!((v["id"].as_str(), v["revoked"].as_bool()), (Some(ci_id.as_str()), Some(true)));
    let (listed, _) = ok(dir, &["keys", "list"]);
    assert!(listed.contains("revoked"), "{listed}");

    let out = run(dir, &["keys", "revoke", "key_nope"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("key_nope") && err.contains("no such key"), "{err}");
    let out = run(dir, &["keys", "create", " "]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("must not be empty"));

    let stored = all_bytes(&dir.join(".twinsync"));
    for k in [&key, &ci_key] {
        assert!(!stored.windows(k.len()).any(|w| w == k.as_bytes()), "a key in clear under .twinsync/");
    }
}
