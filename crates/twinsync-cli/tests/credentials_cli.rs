//! `twinsync credentials` end to end: a known secret, added from an environment variable
//! and from stdin, rotated, validated and revoked, appears nowhere — stdout, stderr, logs
//! (at trace level, JSON),
//! events, the raw bytes of the SQLite store (and its WAL), a `pg_dump` of the
//! PostgreSQL store — while `list --json` shows the metadata. The master key file is
//! created 0600 outside the project; a PostgreSQL store refuses to work without
//! `TWINSYNC_MASTER_KEY`. The PostgreSQL test fails, never skips, without a server
//! (`TWINSYNC_TEST_POSTGRES_URL`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

const SECRET: &str = "figd_KNOWN-secret-4242-zq";
const STDIN_SECRET: &str = "xoxb-STDIN-secret-7777-zq";
const ROTATED: &str = "figd_ROTATED-secret-9999-zq";
const OTHER_KEY: &str = "//////////////////////////////////////////8=";

/// Runs the binary in `dir` with the config folder at `config` and no key in the
/// environment unless `key` is given.
struct Env {
    dir: PathBuf,
    config: PathBuf,
    key: Option<String>,
    seen: Vec<u8>,
}

impl Env {
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_twinsync"));
        c.args(args)
            .current_dir(&self.dir)
            .env("XDG_CONFIG_HOME", &self.config)
            .env("FIGMA_TOKEN", SECRET)
            .env("NEW_FIGMA_TOKEN", ROTATED)
            .env_remove("TWINSYNC_STORE_URL")
            .env_remove("TWINSYNC_MASTER_KEY")
            // Every log line there is, so the grep below covers the logs too.
            .env("TWINSYNC_LOG", "trace")
            .env("TWINSYNC_LOG_FORMAT", "json");
        if let Some(k) = &self.key {
            c.env("TWINSYNC_MASTER_KEY", k);
        }
        c
    }

    /// Runs `args` (with `stdin` piped in when given), keeps everything it printed.
    fn run_with(&mut self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut c = self.cmd(args);
        c.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        if let Some(text) = stdin {
            child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
        }
        let out = child.wait_with_output().unwrap();
        self.seen.extend_from_slice(&out.stdout);
        self.seen.extend_from_slice(&out.stderr);
        out
    }

    fn run(&mut self, args: &[&str]) -> Output {
        self.run_with(args, None)
    }

    fn ok(&mut self, args: &[&str]) -> Output {
        ok(self.run(args))
    }
}

fn ok(out: Output) -> Output {
    assert!(out.status.success(), "{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    out
}

fn failed(out: &Output) -> String {
    assert!(!out.status.success(), "expected a failure: {}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn files_under(dir: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path.is_dir() {
            all.extend(files_under(&path));
        } else {
            all.extend(std::fs::read(&path).unwrap());
        }
    }
    all
}

fn assert_nowhere(what: &str, bytes: &[u8]) {
    for s in [SECRET, STDIN_SECRET, ROTATED] {
        assert!(!contains(bytes, s), "{s} found in {what}");
        // Also a distinctive part of it, in case something trims or wraps the value.
        assert!(!contains(bytes, &s[5..20]), "part of {s} found in {what}");
    }
}

#[test]
fn secrets_show_nowhere_and_the_status_machine_runs_through_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("proj");
    for side in ["a", "b"] {
        std::fs::create_dir_all(root.join(side)).unwrap();
    }
    let mut env = Env { dir: root.clone(), config: tmp.path().join("config"), key: None, seen: Vec::new() };
    env.ok(&["init", "a", "b"]);

    let out = env.ok(&[
        "credentials",
        "add",
        "figma",
        "--provider",
        "design",
        "--secret-env",
        "FIGMA_TOKEN",
        "--rotate-every",
        "90d",
        "--meta",
        "account=ann",
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "figma: added (design, pending)");
    // The key file: created on first use, private, outside the project.
    let key_file = tmp.path().join("config/twinsync/master.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let key_text = std::fs::read_to_string(&key_file).unwrap();
    assert_eq!(key_text.trim().len(), 44, "base64 of 32 bytes");

    let stdin = format!("{STDIN_SECRET}\n");
    ok(env.run_with(&["credentials", "add", "slack", "--provider", "notification", "--secret-stdin"], Some(&stdin)));
    let e = failed(&env.run_with(&["credentials", "add", "dup", "--provider", "ai", "--secret-stdin"], Some("")));
    assert!(e.contains("credential dup: the value is empty"), "{e}");
    let e = failed(&env.run(&["credentials", "add", "x", "--provider", "github", "--secret-env", "FIGMA_TOKEN"]));
    assert!(e.contains("unknown provider type \"github\""), "{e}");
    let e = failed(&env.run(&["credentials", "add", "x", "--provider", "ai", "--secret-env", "UNSET_VAR_1234"]));
    assert!(e.contains("UNSET_VAR_1234 is not set"), "{e}");
    let e = failed(&env.run(&["credentials", "add", "figma", "--provider", "ai", "--secret-env", "FIGMA_TOKEN"]));
    assert!(e.contains("credential figma: already exists"), "{e}");

    // list --json: metadata only.
    let list = json(&env.ok(&["--json", "credentials", "list"]));
    let creds = list["credentials"].as_array().unwrap();
    let names: Vec<&str> = creds.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["figma", "slack"]);
    let figma = &creds[0];
    assert_eq!((figma["provider"].as_str(), figma["status"].as_str()), (Some("design"), Some("pending")));
    assert_eq!(figma["metadata"]["account"], "ann");
    assert!(figma["rotation_due_at"].is_string() && figma["last_validated_at"].is_null(), "{figma}");
    assert!(figma.get("sealed").is_none(), "no sealed bytes in the listing: {figma}");

    // pending -> valid -> (rotated) valid; pending -> revoked.
    let v = json(&env.ok(&["--json", "credentials", "validate", "figma"]));
    assert_eq!(v["status"], "valid");
    assert!(v["last_validated_at"].is_string());
    let r = json(&env.ok(&[
        "--json",
        "credentials",
        "rotate",
        "figma",
        "--secret-env",
        "NEW_FIGMA_TOKEN",
        "--rotate-every",
        "30d",
    ]));
    assert_eq!((r["status"].as_str(), r["rotate_every_ms"].as_i64()), (Some("valid"), Some(30 * 86_400_000)));
    env.ok(&["credentials", "validate", "figma"]);
    assert_eq!(json(&env.ok(&["--json", "credentials", "revoke", "slack"]))["status"], "revoked");
    let e = failed(&env.run(&["credentials", "validate", "slack"]));
    assert!(e.contains("credential slack: is revoked"), "{e}");
    let human = String::from_utf8(env.ok(&["credentials", "list"]).stdout).unwrap();
    assert!(human.contains("figma") && human.contains("valid") && human.contains("revoked"), "{human}");

    // Another machine's key: refused, naming both keys, showing neither.
    env.key = Some(OTHER_KEY.into());
    let e = failed(&env.run(&["credentials", "validate", "figma"]));
    assert!(e.contains("credential figma: was sealed with master key") && e.contains("TWINSYNC_MASTER_KEY"), "{e}");
    assert!(!e.contains(OTHER_KEY) && !e.contains(key_text.trim()), "{e}");
    env.key = Some("c2hvcnQ=".into());
    let e = failed(&env.run(&["credentials", "validate", "figma"]));
    assert!(e.contains("TWINSYNC_MASTER_KEY holds 5 bytes; expected 32") && !e.contains("c2hvcnQ="), "{e}");
    env.key = None;

    env.ok(&["--json", "events"]);
    env.ok(&["history"]);
    let seen = env.seen.clone();
    assert!(contains(&seen, "\"action\":\"credential_rotate\""), "the logs were on and are in what was grepped");
    assert_nowhere("stdout, stderr and the logs", &seen);
    let store = files_under(&root.join(".twinsync"));
    assert!(contains(&store, "figma"), "the store holds the credential's metadata");
    assert_nowhere("the store's files (database, WAL)", &store);
    assert!(!contains(&store, key_text.trim()), "the master key is not in the project");
}

/// The test server's URL; panics saying how to start one.
fn pg_url() -> String {
    std::env::var("TWINSYNC_TEST_POSTGRES_URL").ok().filter(|s| !s.trim().is_empty()).unwrap_or_else(|| {
        panic!(
            "TWINSYNC_TEST_POSTGRES_URL is not set: this test needs a real PostgreSQL server; `.ci/run` starts one \
             (by hand: `source .ci/postgres.sh && twinsync_pg_start`)"
        )
    })
}

#[test]
fn a_postgres_store_requires_the_master_key_and_its_dump_holds_no_secret() {
    let url = pg_url();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("proj");
    for side in ["a", "b"] {
        std::fs::create_dir_all(root.join(side)).unwrap();
    }
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    let project = format!("creds-{}-{nanos}", std::process::id());
    std::fs::create_dir_all(root.join(".twinsync")).unwrap();
    std::fs::write(
        root.join(".twinsync/config.toml"),
        format!("version = 1\n\n[store]\nurl = \"{url}\"\nproject = \"{project}\"\n\n[pairs.docs]\nleft = \"a\"\nright = \"b\"\n"),
    )
    .unwrap();
    let mut env = Env { dir: root.clone(), config: tmp.path().join("config"), key: None, seen: Vec::new() };

    let add = ["credentials", "add", "figma", "--provider", "design", "--secret-env", "FIGMA_TOKEN"];
    let e = failed(&env.run(&add));
    assert!(e.contains("PostgreSQL store") && e.contains("TWINSYNC_MASTER_KEY"), "{e}");
    assert!(!tmp.path().join("config/twinsync/master.key").exists(), "no key file for a shared store");

    env.key = Some("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".into());
    env.ok(&add);
    ok(env.run_with(
        &["credentials", "add", "slack", "--provider", "notification", "--secret-stdin"],
        Some(STDIN_SECRET),
    ));
    env.ok(&["credentials", "validate", "figma"]);
    env.ok(&["credentials", "rotate", "figma", "--secret-env", "NEW_FIGMA_TOKEN"]);
    let list = json(&env.ok(&["--json", "credentials", "list"]));
    assert_eq!(list["credentials"][0]["status"], "valid");
    assert_eq!(list["credentials"].as_array().unwrap().len(), 2);
    assert_nowhere("stdout and stderr", &env.seen.clone());

    let dump = Command::new("pg_dump")
        .args(["--data-only", "--schema=twinsync", "--table=twinsync.credentials", &url])
        .output()
        .expect("pg_dump (from the postgresql package) runs");
    assert!(dump.status.success(), "{}", String::from_utf8_lossy(&dump.stderr));
    assert!(contains(&dump.stdout, &project), "the dump holds this project's credential rows");
    assert_nowhere("pg_dump of the credentials table", &dump.stdout);
    let all = Command::new("pg_dump").args(["--data-only", "--schema=twinsync", &url]).output().unwrap();
    assert!(all.status.success(), "{}", String::from_utf8_lossy(&all.stderr));
    assert_nowhere("pg_dump of the whole twinsync schema", &all.stdout);
}
