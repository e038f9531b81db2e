//! Git sides through the CLI, against real repositories: `init` with a file:// side,
//! `status`, `sync` and `undo` as commits, bad URLs refused naming the side, and a
//! smart-HTTP side with a named credential (right token, wrong token, none).

#[path = "../../twinsync-git/tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{bare_repo, git, is_ancestor, log, show, GitHttp};
use serde_json::Value;

fn twinsync(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_twinsync"));
    c.args(args).current_dir(dir).env("TWINSYNC_OWNER", "alice").env_remove("TWINSYNC_STORE_URL");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn text(out: &Output) -> String {
    format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn ok(out: Output) -> Output {
    assert!(out.status.success(), "{}", text(&out));
    out
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(out)))
}

#[test]
fn init_status_sync_and_undo_on_a_file_git_side() {
    let tmp = tempfile::tempdir().unwrap();
    let bare = bare_repo(tmp.path(), "repo", &[("docs/a.md", "# A\n"), ("src/main.rs", "fn main() {}\n")]);
    let project = tmp.path().join("project");
    std::fs::create_dir_all(project.join("docs")).unwrap();
    std::fs::write(project.join("docs/b.md"), "# B\n").unwrap();
    let side = format!("git+file://{}#main:docs", bare.display());

    ok(twinsync(&project, &["init", "docs", &side], &[]));
    let config = project.join(".twinsync/config.toml");
    std::fs::write(
        &config,
        format!("{}\n[git]\nauthor_email = \"alice@example.com\"\n", std::fs::read_to_string(&config).unwrap()),
    )
    .unwrap();

    // status works on it like on any pair: a.md is new on the branch, b.md in the folder.
    let status = json(&twinsync(&project, &["--json", "status"], &[]));
    let mut keys: Vec<&str> = status["items"].as_array().unwrap().iter().map(|i| i["key"].as_str().unwrap()).collect();
    keys.sort();
    assert_eq!(keys, ["a.md", "b.md"], "{status}");

    let report = json(&ok(twinsync(&project, &["--json", "sync"], &[])));
    assert_eq!(std::fs::read_to_string(project.join("docs/a.md")).unwrap(), "# A\n");
    assert_eq!(show(&bare, "docs/b.md").as_deref(), Some("# B\n"));
    assert_eq!(show(&bare, "src/main.rs").as_deref(), Some("fn main() {}\n"));
    let commits = log(&bare);
    assert_eq!(commits.len(), 2, "one commit for the sync: {commits:?}");
    assert_eq!(commits[0].2, "alice <alice@example.com>");
    assert_eq!(commits[0].3, "A docs/b.md");
    assert!(
        commits[0].1.contains(report["pairs"][0]["report"]["operation_id"].as_str().unwrap()),
        "{commits:?} {report}"
    );
    assert!(project.join(".twinsync/git").read_dir().unwrap().next().is_some(), "the mirror lives in the project");
    let status = json(&twinsync(&project, &["--json", "status"], &[]));
    assert_eq!(status["items"].as_array().unwrap().len(), 0, "in sync: {status}");

    // An edit in the folder is one more commit; undo is another, and history only grows.
    std::fs::write(project.join("docs/a.md"), "# A, edited\n").unwrap();
    ok(twinsync(&project, &["sync"], &[]));
    assert_eq!(show(&bare, "docs/a.md").as_deref(), Some("# A, edited\n"));
    let synced = git(&bare, &["rev-parse", "main"]).trim().to_string();
    ok(twinsync(&project, &["undo"], &[]));
    assert_eq!(show(&bare, "docs/a.md").as_deref(), Some("# A\n"));
    // Undo restores what the operation wrote (the branch); the folder's own edit stays.
    assert_eq!(std::fs::read_to_string(project.join("docs/a.md")).unwrap(), "# A, edited\n");
    let undone = git(&bare, &["rev-parse", "main"]).trim().to_string();
    assert!(is_ancestor(&bare, &synced, &undone));
    assert_eq!(log(&bare).len(), 4);
    assert!(log(&bare)[0].1.contains("undo-"), "{:?}", log(&bare)[0]);
}

#[test]
fn bad_git_sides_are_refused_naming_the_pair_and_side() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("docs")).unwrap();
    let out = twinsync(tmp.path(), &["init", "docs", "git+https://example.com/r.git"], &[]);
    assert!(!out.status.success());
    assert!(text(&out).contains("pair default: right") && text(&out).contains("branch"), "{}", text(&out));
    assert!(!tmp.path().join(".twinsync").exists(), "nothing is left behind");
    ok(twinsync(tmp.path(), &["init", "docs", "db"], &[]));
    let out = twinsync(
        tmp.path(),
        &["pair", "add", "web", "docs", "git+https://me:s3cr3t_tok@example.com/r.git#main:docs"],
        &[],
    );
    assert!(!out.status.success());
    let t = text(&out);
    assert!(t.contains("pair web: right") && t.contains("never goes in the URL") && !t.contains("s3cr3t_tok"), "{t}");
    let out = twinsync(tmp.path(), &["pair", "add", "web", "git+ftp://example.com/r.git#main", "docs"], &[]);
    assert!(text(&out).contains("pair web: left") && text(&out).contains("https://"), "{}", text(&out));
}

#[test]
fn a_smart_http_side_uses_its_named_credential_and_a_wrong_token_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let served = tmp.path().join("served");
    std::fs::create_dir_all(&served).unwrap();
    let bare = bare_repo(&served, "repo", &[("docs/a.md", "# A\n")]);
    let token = "tok_cli_right_51d2";
    let server = GitHttp::start(&served, token);
    let project = tmp.path().join("project");
    std::fs::create_dir_all(project.join("docs")).unwrap();
    std::fs::write(project.join("docs/up.md"), "up\n").unwrap();
    ok(twinsync(&project, &["init", "docs", "db"], &[]));
    ok(twinsync(
        &project,
        &[
            "pair",
            "add",
            "web",
            "docs",
            &format!("git+{}#main:docs", server.url("repo.git")),
            "--right-credential",
            "DOCS",
        ],
        &[],
    ));
    let config = std::fs::read_to_string(project.join(".twinsync/config.toml")).unwrap();
    assert!(config.contains("right_credential = \"DOCS\""), "{config}");

    // No token in the environment: the error says where it goes.
    let out = twinsync(&project, &["sync", "--pair", "web"], &[]);
    assert!(!out.status.success());
    assert!(text(&out).contains("TWINSYNC_GIT_TOKEN_DOCS"), "{}", text(&out));

    // A wrong token: a clear 401 that never shows it (or the right one), and nothing written.
    let wrong = "tok_cli_WRONG_0a0a";
    let out = twinsync(&project, &["sync", "--pair", "web"], &[("TWINSYNC_GIT_TOKEN_DOCS", wrong)]);
    assert!(!out.status.success());
    let t = text(&out);
    assert!(t.contains("401") && t.contains("credential DOCS"), "{t}");
    assert!(!t.contains(wrong) && !t.contains(token), "{t}");
    assert_eq!(log(&bare).len(), 1);
    assert!(!project.join("docs/a.md").exists());

    let out = ok(twinsync(&project, &["sync", "--pair", "web"], &[("TWINSYNC_GIT_TOKEN_DOCS", token)]));
    assert!(!text(&out).contains(token));
    assert_eq!(std::fs::read_to_string(project.join("docs/a.md")).unwrap(), "# A\n");
    assert_eq!(show(&bare, "docs/up.md").as_deref(), Some("up\n"));
    assert_eq!(log(&bare)[0].2.split(' ').next(), Some("alice"));
    let status =
        json(&twinsync(&project, &["--json", "status", "--pair", "web"], &[("TWINSYNC_GIT_TOKEN_DOCS", token)]));
    assert_eq!(status["items"].as_array().unwrap().len(), 0, "{status}");
}

/// SIGKILL at spread-out points of syncs that push to a file:// branch, with new edits
/// in the folder and upstream between runs: every run's remote head descends from the
/// last (history only grows), and a final sync leaves both sides equal with no edit lost.
#[test]
fn a_sync_killed_at_any_point_loses_nothing_on_either_side() {
    const FILES: usize = 150;
    const KILLS: usize = 12;
    let tmp = tempfile::tempdir().unwrap();
    let bare = bare_repo(tmp.path(), "repo", &[("README.md", "repo\n")]);
    let project = tmp.path().join("project");
    let body = |i: usize, g: usize| format!("# file {i}, generation {g}\n{}", "text\n".repeat(40));
    for i in 0..FILES {
        let p = project.join(format!("docs/d{}/f{i:03}.md", i % 7));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body(i, 0)).unwrap();
    }
    ok(twinsync(&project, &["init", "docs", &format!("git+file://{}#main:docs", bare.display())], &[]));
    // One round run to the end gives the time a round takes; the kills spread over it.
    ok(twinsync(&project, &["sync"], &[]));
    std::fs::write(project.join("docs/d0/f000.md"), body(0, 0) + "timed\n").unwrap();
    let started = std::time::Instant::now();
    ok(twinsync(&project, &["sync"], &[]));
    let round_ms = started.elapsed().as_millis() as u64;
    std::fs::write(project.join("docs/d0/f000.md"), body(0, 0)).unwrap();
    let mut last_head = git(&bare, &["rev-parse", "main"]).trim().to_string();
    let mut expected: Vec<usize> = vec![0; FILES];
    let mut upstream: Vec<String> = Vec::new();
    for round in 0..KILLS {
        // New work each round: the folder edits some files, someone else pushes a note.
        for i in (round..FILES).step_by(11) {
            expected[i] = round + 1;
            std::fs::write(project.join(format!("docs/d{}/f{i:03}.md", i % 7)), body(i, round + 1)).unwrap();
        }
        let note = format!("docs/upstream/n{round}.md");
        common::push_from_clone(&bare, &tmp.path().join("other"), &[(&note, Some("from upstream\n"))], "upstream note");
        upstream.push(note);
        let mut child = Command::new(env!("CARGO_BIN_EXE_twinsync"))
            .arg("sync")
            .current_dir(&project)
            .env("TWINSYNC_OWNER", "alice")
            .env_remove("TWINSYNC_STORE_URL")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // From the start of the process to past the end of a round, in even steps.
        std::thread::sleep(std::time::Duration::from_millis(round_ms * 6 * round as u64 / (5 * KILLS as u64)));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let head = git(&bare, &["rev-parse", "main"]).trim().to_string();
        assert!(is_ancestor(&bare, &last_head, &head), "round {round}: the branch only grows");
        last_head = head;
    }
    // A run to the end heals whatever the kills left, then everything is in step.
    let out = twinsync(&project, &["sync"], &[]);
    let out2 = twinsync(&project, &["--json", "status"], &[]);
    let status = json(&out2);
    assert_eq!(status["items"].as_array().unwrap().len(), 0, "{}\n{status}", text(&out));
    git(&bare, &["fsck", "--no-progress"]);
    for (i, g) in expected.iter().enumerate() {
        let rel = format!("docs/d{}/f{i:03}.md", i % 7);
        assert_eq!(show(&bare, &rel), Some(body(i, *g)), "{rel} on the branch");
        assert_eq!(std::fs::read_to_string(project.join(&rel)).unwrap(), body(i, *g), "{rel} in the folder");
    }
    for note in &upstream {
        assert_eq!(
            std::fs::read_to_string(project.join(note)).unwrap(),
            "from upstream\n",
            "{note}: no upstream commit lost"
        );
        assert_eq!(show(&bare, note).as_deref(), Some("from upstream\n"));
    }
    let subjects: Vec<String> = log(&bare).into_iter().map(|c| c.1).collect();
    assert_eq!(subjects.iter().filter(|s| *s == "upstream note").count(), KILLS, "{subjects:?}");
}

/// The token kept encrypted in the project's store (`twinsync credentials`), as the
/// platform keeps a project's personal access token: used without any environment
/// variable, and a rotated-in wrong value is a 401 that no output or log line shows.
#[test]
fn a_token_from_the_credential_store_reaches_only_the_repository_and_never_the_output() {
    let tmp = tempfile::tempdir().unwrap();
    let served = tmp.path().join("served");
    std::fs::create_dir_all(&served).unwrap();
    let bare = bare_repo(&served, "repo", &[("docs/a.md", "# A\n")]);
    let token = "tok_store_right_9e41";
    let wrong = "tok_store_WRONG_13f0";
    let server = GitHttp::start(&served, token);
    let project = tmp.path().join("project");
    std::fs::create_dir_all(project.join("docs")).unwrap();
    // A key of the test's own, never the user's key file.
    let env: &[(&str, &str)] = &[
        ("TWINSYNC_MASTER_KEY", "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="),
        ("XDG_CONFIG_HOME", tmp.path().to_str().unwrap()),
        ("GOOD", token),
        ("BAD", wrong),
        ("TWINSYNC_LOG", "trace"),
    ];
    let side = format!("git+{}#main:docs", server.url("repo.git"));
    ok(twinsync(&project, &["init", "docs", &side, "--right-credential", "docs-pat"], env));
    ok(twinsync(
        &project,
        &["credentials", "add", "docs-pat", "--provider", "documentation", "--secret-env", "GOOD"],
        env,
    ));

    let out = ok(twinsync(&project, &["sync"], env));
    assert!(!text(&out).contains(token), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(project.join("docs/a.md")).unwrap(), "# A\n");

    ok(twinsync(&project, &["credentials", "rotate", "docs-pat", "--secret-env", "BAD"], env));
    std::fs::write(project.join("docs/b.md"), "# B\n").unwrap();
    let out = twinsync(&project, &["sync"], env);
    assert!(!out.status.success());
    let t = text(&out);
    assert!(t.contains("401") && t.contains("credential docs-pat"), "{t}");
    assert!(!t.contains(wrong) && !t.contains(token), "{t}");
    assert_eq!(show(&bare, "docs/b.md"), None, "nothing written");
    let config = std::fs::read_to_string(project.join(".twinsync/config.toml")).unwrap();
    assert!(!config.contains(token) && !config.contains(wrong) && config.contains("docs-pat"), "{config}");
}

/// Another clone pushes between our scan and our push (from the server's pre-receive
/// hook, so it lands while our push is in flight): `twinsync sync` fetches, runs again
/// against the new head in the same command, pushes what it can on top of theirs, and
/// reports the item both sides changed as a conflict. Their commit is never lost or
/// overwritten.
#[test]
fn a_push_racing_ours_is_kept_and_the_item_both_changed_is_a_conflict_in_the_same_sync() {
    let tmp = tempfile::tempdir().unwrap();
    let served = tmp.path().join("served");
    std::fs::create_dir_all(&served).unwrap();
    let bare = bare_repo(&served, "repo", &[("docs/a.md", "a\n"), ("docs/b.md", "b\n")]);
    let token = "tok_race_77aa";
    let server = GitHttp::start(&served, token);
    let project = tmp.path().join("project");
    std::fs::create_dir_all(project.join("docs")).unwrap();
    let env: &[(&str, &str)] = &[("TWINSYNC_GIT_TOKEN_DOCS", token)];
    let side = format!("git+{}#main:docs", server.url("repo.git"));
    ok(twinsync(&project, &["init", "docs", &side, "--right-credential", "DOCS"], env));
    ok(twinsync(&project, &["sync"], env));

    // Their commit, ready to push; the hook pushes it once, while our push is in flight.
    let other = tmp.path().join("other");
    git(tmp.path(), &["clone", "--quiet", "--branch", "main", bare.to_str().unwrap(), other.to_str().unwrap()]);
    std::fs::write(other.join("docs/a.md"), "a, upstream\n").unwrap();
    git(&other, &["commit", "--quiet", "-am", "theirs: a"]);
    let hook = bare.join("hooks/pre-receive");
    let marker = tmp.path().join("raced");
    std::fs::write(
        &hook,
        format!(
            "#!/bin/sh\ncat >/dev/null\nif [ ! -e '{m}' ]; then\n  touch '{m}'\n  for v in $(env | sed -n 's/^\\(GIT_[A-Za-z_]*\\)=.*/\\1/p'); do unset \"$v\"; done\n  (cd '{o}' && git push --quiet origin main) >&2\nfi\nexit 0\n",
            m = marker.display(),
            o = other.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();

    std::fs::write(project.join("docs/a.md"), "a, local\n").unwrap();
    std::fs::write(project.join("docs/c.md"), "c\n").unwrap();
    let out = twinsync(&project, &["--json", "sync"], env);
    assert!(marker.exists(), "the race happened");
    let report = json(&out);
    let items = report["pairs"][0]["report"]["items"].as_array().unwrap().clone();
    let outcome = |k: &str| items.iter().find(|i| i["key"] == k).map(|i| i["outcome"].as_str().unwrap().to_string());
    assert_eq!(outcome("a.md").as_deref(), Some("conflict"), "{report}");
    assert_eq!(outcome("c.md").as_deref(), Some("applied"), "{report}");
    assert_eq!(out.status.code(), Some(1), "conflicts exit 1: {}", text(&out));
    assert_eq!(show(&bare, "docs/a.md").as_deref(), Some("a, upstream\n"), "theirs is never overwritten");
    assert_eq!(show(&bare, "docs/c.md").as_deref(), Some("c\n"));
    assert_eq!(std::fs::read_to_string(project.join("docs/a.md")).unwrap(), "a, local\n");
    let subjects: Vec<String> = log(&bare).into_iter().map(|c| c.1).collect();
    assert!(subjects[0].starts_with("twinsync: operation") && subjects[1] == "theirs: a", "{subjects:?}");
}
