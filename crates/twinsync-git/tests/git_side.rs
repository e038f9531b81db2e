//! A folder <-> git pair through the engine, against real repositories: over file://
//! and over smart HTTP with basic auth on 127.0.0.1.

mod common;

use std::path::Path;

use common::{bare_repo, git, is_ancestor, log, push_from_clone, show, GitHttp};
use twinsync_core::replica::{ReplicaError, ScanFailure, Snapshot, WriteContext};
use twinsync_core::secret::Secret;
use twinsync_core::{
    Content, Digest, Engine, EngineConfig, HashRules, Key, ManualClock, MemoryStore, OperationStatus, Outcome, Replica,
    Store, SyncOptions, Timestamp,
};
use twinsync_fs::{FsOptions, FsReplica};
use twinsync_git::{GitOptions, GitReplica, GitSpec};

fn options(cache: &Path, token: Option<&str>) -> GitOptions {
    GitOptions {
        name: "right".into(),
        rules: HashRules::default(),
        cache_dir: cache.to_path_buf(),
        token: token.map(Secret::new),
        credential: token.map(|_| "DOCS".to_string()),
        author_name: "Ada Lovelace".into(),
        author_email: "ada@example.com".into(),
        ignore: vec![],
    }
}

fn open_git(spec: &str, cache: &Path, token: Option<&str>) -> Result<GitReplica, ReplicaError> {
    GitReplica::open(&GitSpec::parse(spec).unwrap(), options(cache, token))
}

fn folder(dir: &Path) -> FsReplica {
    std::fs::create_dir_all(dir).unwrap();
    FsReplica::open(dir, FsOptions { name: "left".into(), ..FsOptions::default() }).unwrap()
}

fn config() -> EngineConfig {
    EngineConfig { scope: "docs".into(), actor: "Ada Lovelace".into(), ..EngineConfig::default() }
}

fn key(s: &str) -> Key {
    Key::new(s).unwrap()
}

#[test]
fn a_folder_and_a_branch_folder_sync_both_ways_one_commit_per_operation_and_undo_adds_one() {
    let tmp = tempfile::tempdir().unwrap();
    let bare = bare_repo(
        tmp.path(),
        "repo",
        &[("docs/intro.md", "# Intro\n"), ("docs/api/ref.json", "{\"v\": 1}"), ("README.md", "outside docs\n")],
    );
    let spec = format!("git+file://{}#main:docs", bare.display());
    let cache = tmp.path().join("cache");
    let local = tmp.path().join("local");
    std::fs::create_dir_all(&local).unwrap();
    std::fs::write(local.join("guide.md"), "# Guide\n").unwrap();
    let mut store = MemoryStore::new();
    let clock = ManualClock::new(Timestamp::from_millis(1_700_000_000_000));

    // First sync: the repository's docs come down, the folder's guide goes up.
    let report = {
        let (mut left, mut right) = (folder(&local), open_git(&spec, &cache, None).unwrap());
        Engine::new(&mut store, &clock, config()).sync(&mut left, &mut right, &SyncOptions::default()).unwrap()
    };
    assert_eq!(report.status, OperationStatus::Completed, "{report:?}");
    assert_eq!(std::fs::read_to_string(local.join("intro.md")).unwrap(), "# Intro\n");
    assert_eq!(std::fs::read_to_string(local.join("api/ref.json")).unwrap(), "{\"v\": 1}");
    assert!(!local.join("README.md").exists(), "only the docs folder is the side");
    assert_eq!(show(&bare, "docs/guide.md").as_deref(), Some("# Guide\n"));
    let commits = log(&bare);
    assert_eq!(commits.len(), 2, "the seed and one commit for the operation: {commits:?}");
    let (_, subject, author, body) = &commits[0];
    assert!(subject.contains(&report.operation_id), "the message names the operation: {subject}");
    assert_eq!(author, "Ada Lovelace <ada@example.com>");
    assert_eq!(body, "A docs/guide.md", "the message names the items");

    // Edits on both sides, in separate items: one operation, one commit with all of them.
    clock.advance(120_000);
    std::fs::write(local.join("intro.md"), "# Intro, edited locally\n").unwrap();
    std::fs::write(local.join("new.md"), "new\n").unwrap();
    std::fs::remove_file(local.join("api/ref.json")).unwrap();
    push_from_clone(
        &bare,
        &tmp.path().join("other"),
        &[("docs/guide.md", Some("# Guide, edited upstream\n"))],
        "upstream edit",
    );
    let before = git(&bare, &["rev-parse", "main"]).trim().to_string();
    let report = {
        let (mut left, mut right) = (folder(&local), open_git(&spec, &cache, None).unwrap());
        Engine::new(&mut store, &clock, config()).sync(&mut left, &mut right, &SyncOptions::default()).unwrap()
    };
    assert_eq!(report.status, OperationStatus::Completed, "{report:?}");
    assert_eq!(std::fs::read_to_string(local.join("guide.md")).unwrap(), "# Guide, edited upstream\n");
    assert_eq!(show(&bare, "docs/intro.md").as_deref(), Some("# Intro, edited locally\n"));
    assert_eq!(show(&bare, "docs/new.md").as_deref(), Some("new\n"));
    assert_eq!(show(&bare, "docs/api/ref.json"), None);
    assert_eq!(show(&bare, "README.md").as_deref(), Some("outside docs\n"), "files outside the docs path are kept");
    let commits = log(&bare);
    assert_eq!(commits.len(), 4, "{commits:?}");
    assert!(commits[0].1.contains(&report.operation_id) && commits[0].1.contains("3 item(s)"), "{commits:?}");
    assert_eq!(commits[0].3, "D docs/api/ref.json\nM docs/intro.md\nA docs/new.md");
    let synced = git(&bare, &["rev-parse", "main"]).trim().to_string();
    assert!(is_ancestor(&bare, &before, &synced));

    // Undo: a new commit restoring what the operation changed on the branch; history grows.
    clock.advance(120_000);
    let undo = {
        let (mut left, mut right) = (folder(&local), open_git(&spec, &cache, None).unwrap());
        Engine::new(&mut store, &clock, config()).undo(&mut left, &mut right, None).unwrap()
    };
    assert!(undo.refused.is_empty(), "{undo:?}");
    assert_eq!(show(&bare, "docs/intro.md").as_deref(), Some("# Intro\n"));
    assert_eq!(show(&bare, "docs/new.md"), None);
    assert_eq!(show(&bare, "docs/api/ref.json").as_deref(), Some("{\"v\": 1}"));
    let undone = git(&bare, &["rev-parse", "main"]).trim().to_string();
    assert!(is_ancestor(&bare, &synced, &undone), "undo is a new commit on top, never a rewrite");
    let count = |rev: &str| git(&bare, &["rev-list", "--count", rev]).trim().parse::<u32>().unwrap();
    assert_eq!(count(&undone), count(&synced) + 1);
    assert_eq!(log(&bare)[0].2, "Ada Lovelace <ada@example.com>");
}

/// A git side whose flush first lets another clone push: the race between scan and push.
struct RaceBeforePush<'a> {
    inner: GitReplica,
    upstream: Option<Box<dyn FnOnce() + Send + 'a>>,
}

impl Replica for RaceBeforePush<'_> {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn rules(&self) -> &HashRules {
        self.inner.rules()
    }
    fn scan(&mut self) -> Result<Snapshot, ReplicaError> {
        self.inner.scan()
    }
    fn scan_failures(&self) -> Vec<ScanFailure> {
        self.inner.scan_failures()
    }
    fn read(&self, key: &Key) -> Result<Option<Content>, ReplicaError> {
        self.inner.read(key)
    }
    fn write(
        &mut self,
        key: &Key,
        c: &Content,
        expected: Option<&Digest>,
        ctx: &WriteContext,
    ) -> Result<Digest, ReplicaError> {
        self.inner.write(key, c, expected, ctx)
    }
    fn delete(&mut self, key: &Key, expected: &Digest, ctx: &WriteContext) -> Result<(), ReplicaError> {
        self.inner.delete(key, expected, ctx)
    }
    fn flush(&mut self) -> Result<(), ReplicaError> {
        if let Some(push) = self.upstream.take() {
            push();
        }
        self.inner.flush()
    }
}

#[test]
fn a_push_between_scan_and_push_loses_no_commit_and_an_item_changed_on_both_sides_is_a_conflict() {
    let tmp = tempfile::tempdir().unwrap();
    let bare = bare_repo(tmp.path(), "repo", &[("docs/a.md", "a\n"), ("docs/b.md", "b\n")]);
    let spec = format!("git+file://{}#main:docs", bare.display());
    let cache = tmp.path().join("cache");
    let local = tmp.path().join("local");
    let mut store = MemoryStore::new();
    let clock = ManualClock::new(Timestamp::from_millis(1_700_000_000_000));
    let sync = |store: &mut MemoryStore, upstream: Option<Box<dyn FnOnce() + Send + '_>>| {
        let mut left = folder(&local);
        let mut right = RaceBeforePush { inner: open_git(&spec, &cache, None).unwrap(), upstream };
        Engine::new(store, &clock, config()).sync(&mut left, &mut right, &SyncOptions::default()).unwrap()
    };
    assert_eq!(sync(&mut store, None).status, OperationStatus::Completed);

    // Another clone pushes a change to another item while we push ours: our commit is
    // rebuilt on theirs, and both are on the branch.
    clock.advance(120_000);
    std::fs::write(local.join("a.md"), "a, local\n").unwrap();
    let other = tmp.path().join("other");
    let report = sync(
        &mut store,
        Some(Box::new(|| push_from_clone(&bare, &other, &[("docs/b.md", Some("b, upstream\n"))], "theirs: b"))),
    );
    assert_eq!(report.status, OperationStatus::Completed, "{report:?}");
    assert_eq!(show(&bare, "docs/a.md").as_deref(), Some("a, local\n"));
    assert_eq!(show(&bare, "docs/b.md").as_deref(), Some("b, upstream\n"));
    let subjects: Vec<String> = log(&bare).into_iter().map(|c| c.1).collect();
    assert!(subjects[0].contains(&report.operation_id) && subjects[1] == "theirs: b", "{subjects:?}");
    // The next sync brings their b down.
    clock.advance(120_000);
    assert_eq!(sync(&mut store, None).status, OperationStatus::Completed);
    assert_eq!(std::fs::read_to_string(local.join("b.md")).unwrap(), "b, upstream\n");

    // Now both change the same item: their push lands first, ours is refused, nothing
    // is overwritten and no base is recorded for it...
    clock.advance(120_000);
    std::fs::write(local.join("a.md"), "a, local again\n").unwrap();
    let base_before = store.load_base("docs").unwrap();
    let report = sync(
        &mut store,
        Some(Box::new(|| push_from_clone(&bare, &other, &[("docs/a.md", Some("a, upstream\n"))], "theirs: a"))),
    );
    assert_ne!(report.status, OperationStatus::Completed, "{report:?}");
    let item = report.items.iter().find(|i| i.key == key("a.md")).unwrap();
    assert_eq!(item.outcome, Outcome::Failed, "{item:?}");
    let error = item.error.clone().unwrap();
    assert!(error.contains("docs/a.md") && error.contains("moved on the remote"), "{error}");
    assert_eq!(show(&bare, "docs/a.md").as_deref(), Some("a, upstream\n"), "their version is never overwritten");
    assert_eq!(log(&bare)[0].1, "theirs: a");
    assert_eq!(store.load_base("docs").unwrap(), base_before, "no base before the push succeeds");

    // ...and the next sync, against the new head, reports the conflict and writes nothing.
    clock.advance(120_000);
    let report = sync(&mut store, None);
    let item = report.items.iter().find(|i| i.key == key("a.md")).unwrap();
    assert_eq!(item.outcome, Outcome::Conflict, "{report:?}");
    assert_eq!(show(&bare, "docs/a.md").as_deref(), Some("a, upstream\n"));
    assert_eq!(std::fs::read_to_string(local.join("a.md")).unwrap(), "a, local again\n");
    assert_eq!(log(&bare)[0].1, "theirs: a");
}

#[test]
fn over_smart_http_a_token_syncs_and_a_wrong_one_is_a_401_that_names_no_token_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let served = tmp.path().join("served");
    std::fs::create_dir_all(&served).unwrap();
    let bare = bare_repo(&served, "repo", &[("docs/a.md", "a\n")]);
    let token = "tok_right_3f9a";
    let server = GitHttp::start(&served, token);
    let spec = format!("git+{}#main:docs", server.url("repo.git"));
    let cache = tmp.path().join("cache");
    let local = tmp.path().join("local");
    std::fs::create_dir_all(&local).unwrap();
    std::fs::write(local.join("up.md"), "up\n").unwrap();
    let mut store = MemoryStore::new();
    let clock = ManualClock::new(Timestamp::from_millis(1_700_000_000_000));

    let wrong = "tok_WRONG_77c1";
    let e = open_git(&spec, &cache, Some(wrong)).err().expect("a wrong token is refused").to_string();
    assert!(e.contains("401") && e.contains("authentication failed") && e.contains("DOCS"), "{e}");
    assert!(!e.contains(wrong) && !e.contains(token), "{e}");
    let e = open_git(&spec, &cache, None).err().expect("no token is refused").to_string();
    assert!(e.contains("401") && e.contains("right_credential"), "{e}");
    assert_eq!(log(&bare).len(), 1, "nothing written");
    assert!(!local.join("a.md").exists());

    let report = {
        let (mut left, mut right) = (folder(&local), open_git(&spec, &cache, Some(token)).unwrap());
        Engine::new(&mut store, &clock, config()).sync(&mut left, &mut right, &SyncOptions::default()).unwrap()
    };
    assert_eq!(report.status, OperationStatus::Completed, "{report:?}");
    assert_eq!(std::fs::read_to_string(local.join("a.md")).unwrap(), "a\n");
    assert_eq!(show(&bare, "docs/up.md").as_deref(), Some("up\n"));
    assert!(log(&bare)[0].1.contains(&report.operation_id));

    // A branch the server protects (a pre-receive hook refuses): the item fails with
    // what the server said, once, without being mistaken for a moved branch.
    let hook = bare.join("hooks/pre-receive");
    std::fs::write(&hook, "#!/bin/sh\necho 'main is protected' >&2\nexit 1\n").unwrap();
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    std::fs::write(local.join("up.md"), "up, edited\n").unwrap();
    clock.advance(120_000);
    let report = {
        let (mut left, mut right) = (folder(&local), open_git(&spec, &cache, Some(token)).unwrap());
        Engine::new(&mut store, &clock, config()).sync(&mut left, &mut right, &SyncOptions::default()).unwrap()
    };
    let item = report.items.iter().find(|i| i.key == key("up.md")).unwrap();
    assert_eq!(item.outcome, Outcome::Failed, "{report:?}");
    let error = item.error.as_deref().unwrap();
    assert!(error.contains("refused") && !error.contains("moved"), "{error}");
    assert!(!error.contains(token), "{error}");
    assert_eq!(show(&bare, "docs/up.md").as_deref(), Some("up\n"));
}

#[test]
fn an_empty_repository_gets_its_branch_from_the_first_sync() {
    let tmp = tempfile::tempdir().unwrap();
    let bare = tmp.path().join("empty.git");
    git(tmp.path(), &["init", "--quiet", "--bare", "--initial-branch=main", bare.to_str().unwrap()]);
    let local = tmp.path().join("local");
    std::fs::create_dir_all(local.join("guides")).unwrap();
    std::fs::write(local.join("guides/start.md"), "start\n").unwrap();
    let spec = format!("git+file://{}#main:handbook/docs", bare.display());
    let cache = tmp.path().join("cache");
    let mut store = MemoryStore::new();
    let clock = ManualClock::new(Timestamp::from_millis(1_700_000_000_000));
    let (mut left, mut right) = (folder(&local), open_git(&spec, &cache, None).unwrap());
    assert!(right.scan().unwrap().is_empty(), "no branch yet: no items");
    let report =
        Engine::new(&mut store, &clock, config()).sync(&mut left, &mut right, &SyncOptions::default()).unwrap();
    assert_eq!(report.status, OperationStatus::Completed, "{report:?}");
    assert_eq!(show(&bare, "handbook/docs/guides/start.md").as_deref(), Some("start\n"));
    assert_eq!(git(&bare, &["rev-list", "--count", "main"]).trim(), "1", "a root commit");
}
