//! `twinsync guard` asking a real `twinsync serve` server on 127.0.0.1 (`[guard] server`,
//! the key in `TWINSYNC_API_KEY`): another's lock blocks; with the server stopped, its
//! cached answer decides (and says how old it is); with no cached answer, `[guard]
//! offline` does; a refused key never falls back on the cache.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value};
use twinsync_server::{ServeOptions, Server};

fn start(data: &Path) -> Server {
    Server::start(ServeOptions::new("127.0.0.1:0".parse().unwrap(), data.to_path_buf())).unwrap()
}

fn base(s: &Server) -> String {
    format!("http://{}", s.addr())
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

fn point_guard_at(dir: &Path, server: &str, project: &str) {
    let path = dir.join(".twinsync/config.toml");
    let mut c = twinsync::Config::load(&path).unwrap();
    c.guard.server = Some(server.into());
    c.guard.server_project = Some(project.into());
    c.save(&path).unwrap();
}

fn set_offline(dir: &Path, rule: &str) {
    let path = dir.join(".twinsync/config.toml");
    let mut c = twinsync::Config::load(&path).unwrap();
    c.guard.offline = rule.into();
    c.save(&path).unwrap();
}

/// The hook for a Write of `src/a.md` as `owner`, with `key` in the environment.
fn write_hook(dir: &Path, owner: &str, key: Option<&str>) -> Output {
    let event = json!({
        "session_id": "s1", "cwd": dir, "hook_event_name": "PreToolUse",
        "tool_name": "Write", "tool_input": {"file_path": "src/a.md", "content": "x"},
    });
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_twinsync"));
    cmd.arg("guard").current_dir(dir).env("TWINSYNC_OWNER", owner).env_remove("TWINSYNC_API_KEY");
    if let Some(k) = key {
        cmd.env("TWINSYNC_API_KEY", k);
    }
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(event.to_string().as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn blocked(o: &Output, needles: &[&str]) {
    assert_eq!(o.status.code(), Some(2), "expected a block: {}", stderr(o));
    for n in needles {
        assert!(stderr(o).contains(n), "{n:?} not in {}", stderr(o));
    }
}

fn allowed(o: &Output, needles: &[&str]) {
    assert_eq!(o.status.code(), Some(0), "expected to pass: {}", stderr(o));
    for n in needles {
        assert!(stderr(o).contains(n), "{n:?} not in {}", stderr(o));
    }
}

/// A project folder with `src/`, registered on `s`, with a key; (its id, the key).
fn setup(s: &Server, dir: &Path) -> (String, String) {
    for d in ["a", "b", "src"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    twinsync::Project::init(dir, "a", "b").unwrap();
    let (st, v) = call(ureq::post(&format!("{}/projects", base(s))), Some(json!({"name": "docs", "path": dir})));
    assert_eq!(st, 201, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    let (_, v) = call(ureq::post(&format!("{}/projects/{id}/api-keys", base(s))), Some(json!({"name": "guard"})));
    (id, v["key"].as_str().unwrap().to_string())
}

#[test]
fn the_guard_asks_the_server_then_its_cached_answer_then_the_offline_rule() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("docs");
    let data = tmp.path().join("data");
    let s = start(&data);
    let (id, key) = setup(&s, &dir);
    point_guard_at(&dir, &base(&s), &id);

    // Live: nobody holds the lock; then bob does, over REST.
    allowed(&write_hook(&dir, "me", Some(&key)), &[]);
    let lock = format!("{}/projects/{id}/lock", base(&s));
    let (st, _) = call(ureq::post(&lock), Some(json!({"owner": "bob", "reason": "editing", "ttlSeconds": 600})));
    assert_eq!(st, 201);
    blocked(&write_hook(&dir, "me", Some(&key)), &["held by bob", "(editing)", "you are me"]);
    allowed(&write_hook(&dir, "bob", Some(&key)), &[]);
    let cache = std::fs::read_to_string(dir.join(".twinsync/guard-server.json")).unwrap();
    assert!(cache.contains("bob") && !cache.contains(&key), "{cache}");

    // A refused key: the server answered, so the cache does not stand in; offline decides.
    allowed(
        &write_hook(&dir, "me", Some(&format!("tsk_{}", "0".repeat(64)))),
        &["refused", "403", "guard.offline = \"allow\""],
    );
    allowed(&write_hook(&dir, "me", None), &["TWINSYNC_API_KEY is not set", "guard.offline"]);

    // The server stops: its cached answer decides, with its age.
    s.stop().unwrap();
    let out = write_hook(&dir, "me", Some(&key));
    blocked(&out, &["held by bob", "did not answer", "this is its answer from", " s ago"]);
    assert!(!stderr(&out).contains(&key));
    allowed(&write_hook(&dir, "bob", Some(&key)), &["you hold the lock"]);

    // No cached answer: the offline rule, either way.
    std::fs::remove_file(dir.join(".twinsync/guard-server.json")).unwrap();
    allowed(&write_hook(&dir, "me", Some(&key)), &["did not answer", "no earlier answer", "guard.offline = \"allow\""]);
    set_offline(&dir, "block");
    blocked(&write_hook(&dir, "me", Some(&key)), &["no earlier answer", "guard.offline = \"block\""]);
}

#[test]
fn a_cached_free_lock_lets_writes_through_with_a_warning_and_a_lapsed_lock_counts_as_gone() {
    let tmp = tempfile::tempdir().unwrap();
    let s = start(&tmp.path().join("data"));
    let (free, held) = (tmp.path().join("free"), tmp.path().join("held"));
    let (free_id, free_key) = setup(&s, &free);
    let (held_id, held_key) = setup(&s, &held);
    for (dir, id) in [(&free, &free_id), (&held, &held_id)] {
        point_guard_at(dir, &base(&s), id);
        set_offline(dir, "block");
    }

    // One project is free; the other is locked by bob for one second.
    allowed(&write_hook(&free, "me", Some(&free_key)), &[]);
    let (st, v) = call(
        ureq::post(&format!("{}/projects/{held_id}/lock", base(&s))),
        Some(json!({"owner": "bob", "ttlSeconds": 1})),
    );
    assert_eq!(st, 201, "{v}");
    blocked(&write_hook(&held, "me", Some(&held_key)), &["held by bob"]);
    s.stop().unwrap();

    allowed(&write_hook(&free, "me", Some(&free_key)), &["nobody holds the lock", "answer from"]);
    // Once the cached lock's time is past, it is gone, server or not.
    let expires = twinsync::core::Timestamp::parse_rfc3339(v["lock"]["expiresAt"].as_str().unwrap()).unwrap();
    while std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
        <= expires.millis()
    {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    allowed(&write_hook(&held, "me", Some(&held_key)), &["nobody holds the lock"]);
}

#[test]
fn a_server_without_its_project_id_is_a_config_error_naming_the_setting() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    for d in ["a", "b"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    twinsync::Project::init(dir, "a", "b").unwrap();
    let path = dir.join(".twinsync/config.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("[guard]\n"), "{text}");
    std::fs::write(&path, text.replace("[guard]\n", "[guard]\nserver = \"http://127.0.0.1:9\"\n")).unwrap();
    let out = write_hook(dir, "me", Some("k"));
    blocked(&out, &["guard.server_project"]);
}
