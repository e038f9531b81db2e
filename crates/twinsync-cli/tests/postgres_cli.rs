//! A team store through the CLI: project folders configured with one PostgreSQL URL and
//! one project id share their state and the database side, on a real server
//! (`TWINSYNC_TEST_POSTGRES_URL`; these tests fail, never skip, without it).
//!
//! Each folder has its own pair (so its own base) over the same documents set
//! (`db:docs`): what one folder syncs into the database, the other's `status` shows and
//! its `sync` brings into its own folder, and `twinsync events` in either shows both.

use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

const URL_ENV: &str = "TWINSYNC_TEST_POSTGRES_URL";

/// The test server's URL, checked reachable; panics saying how to start one.
fn pg_url() -> String {
    let how = "`.ci/run` starts a throwaway cluster and sets it (by hand: \
               `source .ci/postgres.sh && twinsync_pg_start` from the repository root)";
    let url = std::env::var(URL_ENV)
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| panic!("{URL_ENV} is not set: these tests need a real PostgreSQL server; {how}"));
    let authority = url.split_once("://").map_or("", |(_, r)| r.split(['/', '?']).next().unwrap_or(""));
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host_port = if host_port.contains(':') { host_port.to_string() } else { format!("{host_port}:5432") };
    let reachable = host_port
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .is_some_and(|addr| TcpStream::connect_timeout(&addr, Duration::from_secs(5)).is_ok());
    assert!(reachable, "{URL_ENV} is set but nothing answers at {host_port}; {how}");
    url
}

fn fresh_project(name: &str) -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    format!("{name}-{}-{nanos}", std::process::id())
}

fn cmd(dir: &Path, owner: &str, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_twinsync"));
    c.args(args).current_dir(dir).env("TWINSYNC_OWNER", owner).env_remove("TWINSYNC_STORE_URL");
    c
}

fn run(dir: &Path, owner: &str, args: &[&str]) -> Output {
    cmd(dir, owner, args).output().unwrap()
}

fn ok(out: Output) -> Output {
    assert!(out.status.success(), "{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    out
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    })
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn write(root: &Path, rel: &str, body: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, body).unwrap();
}

/// A project folder with one `folders` pair `pair` between `docs` and the documents set
/// `docs` of the PostgreSQL store `url`, project `project`.
fn project(root: &Path, url: &str, project: &str, pair: &str) {
    std::fs::create_dir_all(root.join("docs")).unwrap();
    write(
        root,
        ".twinsync/config.toml",
        &format!(
            "version = 1\n\n[store]\nurl = \"{url}\"\nproject = \"{project}\"\n\n\
             [pairs.{pair}]\nleft = \"docs\"\nright = \"db:docs\"\n"
        ),
    );
}

#[test]
fn two_folders_on_one_postgres_project_share_the_database_side_and_the_events() {
    let url = pg_url();
    let id = fresh_project("cli-shared");
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("alice"), tmp.path().join("bob"));
    project(&a, &url, &id, "alice-docs");
    project(&b, &url, &id, "bob-docs");
    write(&a, "docs/guide.md", "# Guide\n");
    write(&a, "docs/api/auth.md", "# Auth\n");

    let synced = json(&ok(run(&a, "alice", &["sync", "--json"])));
    assert_eq!(synced["pairs"][0]["report"]["counts"]["applied"], 2, "{synced}");

    // Bob's folder sees the documents Alice's sync put in the shared database ...
    let status = json(&ok(run(&b, "bob", &["status", "--json"])));
    let mut keys: Vec<&str> = status["items"].as_array().unwrap().iter().map(|i| i["key"].as_str().unwrap()).collect();
    keys.sort();
    assert_eq!(keys, ["api/auth.md", "guide.md"], "{status}");
    // ... and his sync brings them into his own folder.
    let synced = json(&ok(run(&b, "bob", &["sync", "--json"])));
    let report = &synced["pairs"][0]["report"];
    assert_eq!((report["counts"]["applied"].as_u64(), report["counts"]["conflicts"].as_u64()), (Some(2), Some(0)));
    assert_eq!(std::fs::read_to_string(b.join("docs/guide.md")).unwrap(), "# Guide\n");
    assert_eq!(std::fs::read_to_string(b.join("docs/api/auth.md")).unwrap(), "# Auth\n");

    // An edit in Bob's folder reaches Alice's through the database.
    write(&b, "docs/guide.md", "# Guide\n\nFrom Bob.\n");
    ok(run(&b, "bob", &["sync", "--json"]));
    let back = json(&ok(run(&a, "alice", &["sync", "--json"])));
    assert_eq!(back["pairs"][0]["report"]["counts"]["applied"], 1, "{back}");
    assert_eq!(std::fs::read_to_string(a.join("docs/guide.md")).unwrap(), "# Guide\n\nFrom Bob.\n");
    // Each host's folder side keeps its stat cache beside its own folder, not in the
    // shared database, where another host's cache of the same pair side would replace it.
    for (dir, pair) in [(&a, "alice-docs"), (&b, "bob-docs")] {
        assert!(dir.join(format!(".twinsync/stat-cache/{pair}.left")).is_file(), "{pair}");
        assert!(!dir.join(format!(".twinsync/stat-cache/{pair}.right")).exists(), "{pair}: the db side has none");
    }

    // One outbox: either folder's `events` shows both folders' syncs, in id order.
    for (dir, who) in [(&a, "alice"), (&b, "bob")] {
        let events = json_lines(&ok(run(dir, who, &["events", "--json"])));
        let ids: Vec<u64> = events.iter().map(|e| e["id"].as_u64().unwrap()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids grow: {ids:?}");
        let completed =
            |pair: &str| events.iter().filter(|e| e["type"] == "sync_completed" && e["pair"] == pair).count();
        assert_eq!((completed("alice-docs"), completed("bob-docs")), (2, 2), "{who} sees both: {events:?}");
    }
    // And one history, with each operation's actor.
    let history = json(&ok(run(&a, "alice", &["history", "--json"])));
    let actors: Vec<&str> =
        history["operations"].as_array().unwrap().iter().filter_map(|o| o["actor"].as_str()).collect();
    assert!(actors.contains(&"alice") && actors.contains(&"bob"), "{history}");
}

#[test]
fn two_syncs_at_once_on_a_postgres_store_report_no_conflict() {
    let url = pg_url();
    let id = fresh_project("cli-race");
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    project(root, &url, &id, "docs");
    for i in 0..200 {
        write(root, &format!("docs/f{i:03}.md"), &format!("file {i}\n"));
    }
    let spawn = |owner: &str| {
        cmd(root, owner, &["sync", "--json"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
    };
    let (x, y) = (spawn("ann"), spawn("ben"));
    let outs = [x.wait_with_output().unwrap(), y.wait_with_output().unwrap()];
    let mut applied = Vec::new();
    for out in &outs {
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let r = json(out)["pairs"][0]["report"].clone();
        assert_eq!(r["counts"]["conflicts"], 0, "{r}");
        assert_eq!(r["counts"]["failed"], 0, "{r}");
        applied.push(r["counts"]["applied"].as_u64().unwrap());
    }
    applied.sort();
    assert_eq!(applied, [0, 200], "the lease let one sync copy everything, the other found nothing left");
    let status = json(&ok(run(root, "ann", &["status", "--json"])));
    assert!(status["items"].as_array().unwrap().is_empty(), "in sync afterwards: {status}");
}

#[test]
fn a_postgres_store_without_a_project_id_or_server_is_a_clear_error() {
    let url = pg_url();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    std::fs::create_dir_all(root.join("docs")).unwrap();
    let secret = "Sekr1t-pass-word";
    // The test URL's user, with a password (trust authentication ignores it).
    let (scheme, rest) = url.split_once("://").unwrap();
    let (user, host) = rest.split_once('@').unwrap_or(("postgres", rest));
    let with_pw = format!("{scheme}://{}:{secret}@{host}", user.split(':').next().unwrap());
    write(
        root,
        ".twinsync/config.toml",
        &format!("[store]\nurl = \"{with_pw}\"\n\n[pairs.d]\nleft = \"docs\"\nright = \"db\"\n"),
    );
    let out = run(root, "ann", &["status"]);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success(), "no project id: refused");
    assert!(err.contains("[store]") && err.contains("project"), "{err}");
    assert!(!err.contains(secret), "the password never shows: {err}");

    let unreachable = format!("postgres://user:{secret}@127.0.0.1:1/teamdb");
    write(root, ".twinsync/config.toml", &format!("[store]\nurl = \"{unreachable}\"\nproject = \"p\"\n"));
    let out = run(root, "ann", &["status"]);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success());
    assert!(err.contains("127.0.0.1:1") && err.contains("teamdb"), "names host and database: {err}");
    assert!(!err.contains(secret), "the password never shows: {err}");
}

/// Four processes share one project on one PostgreSQL database, 100 syncs each, editing
/// their own files and one shared file between syncs: every own edit ends on both sides,
/// the only conflicts reported are on the shared file, no operation is recorded twice or
/// left running, and the newest operation is undone from yet another process.
#[test]
fn four_processes_sync_one_project_on_postgres() {
    const PROCS: usize = 4;
    const SYNCS: usize = 100;
    let url = pg_url();
    let id = fresh_project("cli-four");
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().to_path_buf();
    std::fs::create_dir_all(root.join("left")).unwrap();
    std::fs::create_dir_all(root.join("right")).unwrap();
    write(
        &root,
        ".twinsync/config.toml",
        &format!("version = 1\n\n[store]\nurl = \"{url}\"\nproject = \"{id}\"\n\n[pairs.docs]\nleft = \"left\"\nright = \"right\"\n"),
    );
    let workers: Vec<_> = (0..PROCS)
        .map(|p| {
            let root = root.clone();
            std::thread::spawn(move || {
                let mut conflicts = Vec::new();
                for r in 0..SYNCS {
                    // Even processes edit on the left, odd ones on the right.
                    let side = if p % 2 == 0 { "left" } else { "right" };
                    write(&root, &format!("{side}/own/p{p}-r{r:02}.md"), &format!("process {p} round {r}\n"));
                    write(&root, &format!("{side}/shared.md"), &format!("shared, last by process {p} in round {r}\n"));
                    let out = run(&root, &format!("proc-{p}"), &["sync", "--json", "--wait", "120"]);
                    assert!(
                        out.status.code().is_some_and(|c| c <= 1),
                        "process {p} round {r}: {}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                    let report = json(&out)["pairs"][0]["report"].clone();
                    assert_eq!(report["counts"]["failed"], 0, "process {p} round {r}: {report}");
                    for c in report["conflicts"].as_array().unwrap() {
                        conflicts.push(c["key"].as_str().unwrap().to_string());
                    }
                }
                conflicts
            })
        })
        .collect();
    let conflicts: Vec<String> = workers.into_iter().flat_map(|w| w.join().unwrap()).collect();
    assert!(conflicts.iter().all(|k| k == "shared.md"), "only the shared file can conflict: {conflicts:?}");
    // Settle the shared file if it is in conflict, then everything is on both sides.
    if run(&root, "carol", &["status"]).status.code() == Some(1) {
        ok(run(&root, "carol", &["resolve", "shared.md", "--take", "left"]));
    }
    ok(run(&root, "carol", &["sync"]));
    for p in 0..PROCS {
        for r in 0..SYNCS {
            let body = format!("process {p} round {r}\n");
            for side in ["left", "right"] {
                let got = std::fs::read_to_string(root.join(format!("{side}/own/p{p}-r{r:02}.md"))).unwrap();
                assert_eq!(got, body, "{side} own file of process {p} round {r}");
            }
        }
    }
    let status = json(&ok(run(&root, "carol", &["status", "--json"])));
    assert_eq!(status["items"].as_array().unwrap().len(), 0, "{status}");
    let history = json(&ok(run(&root, "carol", &["history", "--json", "--limit", "1000"])));
    let ops = history["operations"].as_array().unwrap();
    let ids: std::collections::BTreeSet<&str> = ops.iter().map(|o| o["operation_id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), ops.len(), "no operation recorded twice");
    assert!(ops.iter().all(|o| o["status"] != "running"), "none left running");
    let actors: std::collections::BTreeSet<&str> = ops.iter().map(|o| o["actor"].as_str().unwrap()).collect();
    assert!(actors.len() >= PROCS, "every process's syncs are in the one history: {actors:?}");
    let undone = json(&ok(run(&root, "dave", &["undo", "--json"])));
    assert!(!undone["restored"].as_array().unwrap().is_empty(), "{undone}");
}

/// A project of the release before design pairs ran on the engine, pointed at a team
/// store: its `.twinsync/design/` state moves into PostgreSQL on first open, once, and
/// `design drift` compares against the migrated base.
#[test]
fn old_design_state_migrates_into_a_postgres_store() {
    let url = pg_url();
    let id = fresh_project("cli-design-migration");
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../twinsync/tests/fixtures/old_design_layout");
    std::fs::create_dir_all(root.join(".twinsync/design")).unwrap();
    for f in ["components.json", "design.json"] {
        std::fs::copy(fixture.join(f), root.join(f)).unwrap();
    }
    for e in std::fs::read_dir(fixture.join(".twinsync/design")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), root.join(".twinsync/design").join(e.file_name())).unwrap();
    }
    write(root, ".twinsync/config.toml", &format!("version = 1\n\n[store]\nurl = \"{url}\"\nproject = \"{id}\"\n"));

    let history = json(&ok(run(root, "alice", &["history", "--json"])));
    let ops = history["operations"].as_array().unwrap();
    assert_eq!(ops.len(), 3, "{history}");
    assert!(ops.iter().all(|o| o["pair"] == "design:implicit"), "{history}");
    assert!(root.join(".twinsync/design/sync.db.migrated").exists());
    let drift = run(root, "alice", &["design", "drift", "--code", "components.json", "--design", "design.json"]);
    let text = String::from_utf8_lossy(&drift.stdout);
    assert!(text.contains("Button: changed in code") && text.contains("1 drifted"), "{text}");
    let again = json(&ok(run(root, "alice", &["history", "--json"])));
    assert_eq!(again["operations"].as_array().unwrap().len(), 3, "migrated once");
}
