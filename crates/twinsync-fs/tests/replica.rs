//! The filesystem replica on real files in temporary folders.

use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

use twinsync_core::replica::{ReplicaError, WriteContext};
use twinsync_core::{Content, Digest, HashRules, Key, Replica};
use twinsync_fs::{prune_backups, FsOptions, FsReplica, SymlinkMode};

fn key(s: &str) -> Key {
    Key::new(s).unwrap()
}

fn put(root: &Path, rel: &str, body: &[u8]) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, body).unwrap();
}

/// Moves a file's mtime an hour back, out of the racy window, as an old file would be.
fn age(root: &Path, rel: &str) {
    let f = fs::File::options().write(true).open(root.join(rel)).unwrap();
    f.set_modified(SystemTime::now() - Duration::from_secs(3600)).unwrap();
}

fn ctx(op: &str) -> WriteContext {
    WriteContext { operation_id: op.into() }
}

/// The scan's own walk agrees with the `ignore` crate's walker, the reference for what
/// ignore files mean (git's rules, `.twinsyncignore` over `.ignore` over `.gitignore`,
/// the deepest file deciding), on a tree of every precedence case.
#[test]
fn ignore_files_mean_what_the_ignore_crate_says() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    put(root, ".gitignore", b"*.log\n!keep.log\n/anchored.md\nbuild/\nsub/local/\n");
    for f in ["a.log", "keep.log", "anchored.md", "build", "x.md", "y.md", ".hidden/h.md", "a/build/z.md"] {
        put(root, f, b"x");
    }
    put(root, "sub/.gitignore", b"!*.log\n/only-here.md\n");
    for f in
        ["sub/b.log", "sub/anchored.md", "sub/only-here.md", "sub/local/l.md", "sub/.git/config", "sub/c/only-here.md"]
    {
        put(root, f, b"x");
    }
    put(root, "sub/deep/.ignore", b"*.md\n");
    put(root, "sub/deep/.gitignore", b"!x.md\n*.txt\n");
    put(root, "sub/deep/.twinsyncignore", b"!y.md\n");
    for f in ["sub/deep/x.md", "sub/deep/y.md", "sub/deep/z.txt", "sub/deep/w.bin", "sub/deep/more/x.md"] {
        put(root, f, b"x");
    }
    let mut reference: Vec<String> = ignore::WalkBuilder::new(root)
        .hidden(false)
        .parents(false)
        .git_global(false)
        .git_exclude(false)
        .require_git(false)
        .add_custom_ignore_filename(".twinsyncignore")
        .build()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| e.path().strip_prefix(root).unwrap().to_str().unwrap().to_string())
        .collect();
    reference.sort();
    let mut r = FsReplica::open(root, FsOptions::default()).unwrap();
    let ours: Vec<String> = r.scan().unwrap().keys().map(|k| k.as_str().to_string()).collect();
    assert_eq!(ours, reference);
    // The cases the tree was built for, so the reference cannot be vacuous.
    for kept in ["keep.log", "build", "sub/b.log", "sub/anchored.md", "sub/c/only-here.md", "sub/deep/y.md"] {
        assert!(ours.iter().any(|k| k == kept), "{kept} is kept: {ours:?}");
    }
    for gone in ["a.log", "anchored.md", "a/build/z.md", "sub/only-here.md", "sub/local/l.md", "sub/deep/x.md"] {
        assert!(!ours.iter().any(|k| k == gone), "{gone} is ignored: {ours:?}");
    }
    assert!(ours.iter().any(|k| k == "sub/.git/config"), "only the root's .git is reserved");
}

#[test]
fn scan_sees_files_by_kind_and_honours_ignore_rules() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    put(root, "docs/a.md", b"# A\r\n");
    put(root, "data/x.json", b"{\"b\": 1, \"a\": 2}");
    put(root, "bin/blob", &[0, 159, 146, 150]);
    put(root, ".gitignore", b"build/\n*.log\n");
    put(root, "build/out.md", b"generated");
    put(root, "docs/trace.log", b"noise");
    put(root, "notes/.twinsyncignore", b"private.md\n");
    put(root, "notes/private.md", b"secret");
    put(root, "notes/public.md", b"shared");
    put(root, "tmp/cache.bin", b"cache");
    put(root, ".git/HEAD", b"ref: refs/heads/main");
    put(root, ".twinsync/state", b"x");
    let opts = FsOptions { ignore: vec!["tmp/".into()], ..Default::default() };
    let mut r = FsReplica::open(root, opts).unwrap();
    let snap = r.scan().unwrap();
    let keys: Vec<&str> = snap.keys().map(|k| k.as_str()).collect();
    assert_eq!(
        keys,
        [".gitignore", "bin/blob", "data/x.json", "docs/a.md", "notes/.twinsyncignore", "notes/public.md"]
    );
    let rules = r.rules().clone();
    // JSON is digested canonically, text normalised, bytes as they are.
    assert_eq!(snap[&key("data/x.json")].digest, rules.digest(&Content::Json("{\"a\":2,\"b\":1}".into())).unwrap());
    assert_eq!(snap[&key("docs/a.md")].digest, rules.digest(&Content::Text("# A\n".into())).unwrap());
    assert_eq!(snap[&key("bin/blob")].digest, rules.digest(&Content::Bytes(vec![0, 159, 146, 150])).unwrap());
    assert_eq!(snap[&key("docs/a.md")].size, 5);
    assert!(snap[&key("docs/a.md")].modified.is_some());
    // Reads agree with the scan's digests, so the engine's checks pass.
    for (k, e) in &snap {
        assert_eq!(r.digest(k).unwrap(), Some(e.digest), "{k}");
        assert_eq!(rules.digest(&r.read(k).unwrap().unwrap()).unwrap(), e.digest, "{k}");
    }
    assert_eq!(r.read(&key("bin/blob")).unwrap(), Some(Content::Bytes(vec![0, 159, 146, 150])));
    assert_eq!(r.read(&key("missing.md")).unwrap(), None);
}

#[test]
fn warm_rescan_reads_no_contents_and_still_sees_changes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for i in 0..20 {
        put(root, &format!("d{}/f{i}.md", i % 3), format!("file {i}\n").as_bytes());
        age(root, &format!("d{}/f{i}.md", i % 3));
    }
    let mut r = FsReplica::open(root, FsOptions::default()).unwrap();
    let cold = r.scan().unwrap();
    assert_eq!((r.last_scan().files, r.last_scan().hashed), (20, 20));
    let warm = r.scan().unwrap();
    assert_eq!(warm, cold);
    assert_eq!(r.last_scan().hashed, 0, "an unchanged tree is rescanned from the stat cache");

    // The cache survives a restart through export/import.
    let bytes = r.export_stat_cache();
    let mut again = FsReplica::open(root, FsOptions::default()).unwrap();
    assert!(again.import_stat_cache(&bytes));
    assert_eq!(again.scan().unwrap(), cold);
    assert_eq!(again.last_scan().hashed, 0);

    // A changed file is rehashed, and only it.
    put(root, "d0/f0.md", b"changed, and longer\n");
    age(root, "d0/f0.md");
    let snap = again.scan().unwrap();
    assert_eq!(again.last_scan().hashed, 1);
    assert_ne!(snap[&key("d0/f0.md")].digest, cold[&key("d0/f0.md")].digest);

    // Damaged cache bytes are ignored: everything is hashed again, with the same result.
    let mut bad = again.export_stat_cache();
    let mid = bad.len() / 2;
    bad[mid] ^= 0xff;
    let mut fresh = FsReplica::open(root, FsOptions::default()).unwrap();
    assert!(!fresh.import_stat_cache(&bad));
    assert_eq!(fresh.scan().unwrap(), snap);
    assert_eq!(fresh.last_scan().hashed, 20);
}

/// The stat cache as a file: saved only when it changed, replaced atomically, loaded in
/// one read; a damaged file or one of another folder is no cache (a full rehash, with
/// the same snapshot), and the file holds names and digests but no contents.
#[test]
fn the_stat_cache_file_is_one_folders_and_a_bad_one_is_a_full_rehash() {
    let dir = tempfile::tempdir().unwrap();
    let (root, copy) = (dir.path().join("a"), dir.path().join("b"));
    for i in 0..10 {
        put(&root, &format!("d/f{i}.md"), format!("secret body {i}\n").as_bytes());
        age(&root, &format!("d/f{i}.md"));
    }
    let file = dir.path().join("state/stat-cache/pair.left");
    let mut r = FsReplica::open(&root, FsOptions::default()).unwrap();
    assert!(!r.load_stat_cache(&file), "no file yet");
    let snap = r.scan().unwrap();
    assert!(r.save_stat_cache(&file).unwrap(), "a first scan is saved, its folder made");
    assert!(!r.save_stat_cache(&file).unwrap(), "an unchanged cache is not written again");
    let bytes = fs::read(&file).unwrap();
    assert!(!bytes.windows(6).any(|w| w == b"secret"), "no contents in the cache file");
    assert_eq!(fs::read_dir(file.parent().unwrap()).unwrap().count(), 1, "no temporary file left");

    let mut warm = FsReplica::open(&root, FsOptions::default()).unwrap();
    assert!(warm.load_stat_cache(&file));
    assert_eq!(warm.scan().unwrap(), snap);
    assert_eq!(warm.last_scan().hashed, 0);

    // A hard-linked copy has the same inodes and times file by file: only the cache's
    // record of its root tells that it describes another folder.
    for i in 0..10 {
        fs::create_dir_all(copy.join("d")).unwrap();
        fs::hard_link(root.join(format!("d/f{i}.md")), copy.join(format!("d/f{i}.md"))).unwrap();
    }
    let mut other = FsReplica::open(&copy, FsOptions::default()).unwrap();
    assert!(!other.load_stat_cache(&file), "a cache of another folder is refused");
    assert_eq!(other.scan().unwrap(), snap);
    assert_eq!(other.last_scan().hashed, 10);

    for damage in [&bytes[..bytes.len() / 2], b"", &b"TWSC"[..]] {
        fs::write(&file, damage).unwrap();
        let mut cold = FsReplica::open(&root, FsOptions::default()).unwrap();
        assert!(!cold.load_stat_cache(&file));
        assert_eq!(cold.scan().unwrap(), snap);
        assert_eq!(cold.last_scan().hashed, 10);
    }
}

#[test]
fn racy_entries_are_rehashed_even_when_their_stat_is_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    put(root, "new.md", b"just written\n");
    put(root, "old.md", b"long ago\n");
    age(root, "old.md");
    let mut r = FsReplica::open(root, FsOptions::default()).unwrap();
    r.scan().unwrap();
    let bytes = r.export_stat_cache();
    // new.md's mtime is not older than the scan by the granularity: it could still
    // change without its stat changing, so its cached digest is not trusted.
    r.scan().unwrap();
    assert_eq!(r.last_scan().hashed, 1);
    let mut restarted = FsReplica::open(root, FsOptions::default()).unwrap();
    assert!(restarted.import_stat_cache(&bytes));
    restarted.scan().unwrap();
    assert_eq!(restarted.last_scan().hashed, 1);
    // Once it is old enough it is trusted like any other.
    age(root, "new.md");
    r.scan().unwrap();
    assert_eq!(r.last_scan().hashed, 1);
    r.scan().unwrap();
    assert_eq!(r.last_scan().hashed, 0);
}

#[test]
fn missing_or_file_root_is_unavailable_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("not-there");
    let e = FsReplica::open(&missing, FsOptions { name: "docs".into(), ..Default::default() }).unwrap_err();
    assert!(
        matches!(&e, ReplicaError::Unavailable { name, reason } if name == "docs" && reason.contains("not-there")),
        "{e}"
    );
    put(dir.path(), "file", b"x");
    let e = FsReplica::open(&dir.path().join("file"), FsOptions::default()).unwrap_err();
    assert!(e.to_string().contains("not a directory"), "{e}");
    // A root that disappears after opening is unavailable too, not an empty replica.
    let sub = dir.path().join("sub");
    fs::create_dir(&sub).unwrap();
    let mut r = FsReplica::open(&sub, FsOptions::default()).unwrap();
    fs::remove_dir(&sub).unwrap();
    assert!(matches!(r.scan().unwrap_err(), ReplicaError::Unavailable { .. }));
}

#[test]
fn unreadable_files_fail_alone_naming_the_file_and_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    put(dir.path(), "ok.md", b"fine");
    put(dir.path(), "cfg/bad.json", b"{\"a\": 1,,}");
    put(dir.path(), "cfg/commented.json", b"{\n  // a comment\n  \"a\": 1\n}\n");
    put(dir.path(), "cfg/latin1.json", &[b'"', 0xff, b'"']);
    put(dir.path(), "notes/latin1.md", &[b'c', b'a', b'f', 0xe9, b'\n']);
    let mut r = FsReplica::open(dir.path(), FsOptions::default()).unwrap();
    let snap = r.scan().unwrap();
    assert_eq!(snap.keys().map(|k| k.as_str()).collect::<Vec<_>>(), ["ok.md"], "the good file is scanned");
    let failures = r.scan_failures();
    let by_key: std::collections::BTreeMap<&str, &str> =
        failures.iter().map(|f| (f.key.as_str(), f.error.as_str())).collect();
    assert_eq!(
        by_key.keys().copied().collect::<Vec<_>>(),
        ["cfg/bad.json", "cfg/commented.json", "cfg/latin1.json", "notes/latin1.md"]
    );
    for (key, error) in &by_key {
        assert!(error.starts_with(&format!("{key}: ")), "the error names the file: {error}");
    }
    assert!(by_key["cfg/bad.json"].contains("JSON"), "{}", by_key["cfg/bad.json"]);
    assert!(by_key["cfg/commented.json"].contains("comment"), "{}", by_key["cfg/commented.json"]);
    assert!(by_key["cfg/latin1.json"].contains("UTF-8"), "{}", by_key["cfg/latin1.json"]);
    assert!(by_key["notes/latin1.md"].contains("UTF-8"), "{}", by_key["notes/latin1.md"]);

    // Fixed, the file is scanned again and no longer reported.
    put(dir.path(), "cfg/bad.json", b"{\"a\": 1}");
    r.scan().unwrap();
    assert!(!r.scan_failures().iter().any(|f| f.key == "cfg/bad.json"));
}

#[test]
fn writes_are_atomic_compare_and_swap_and_never_overwrite_a_changed_file() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut r = FsReplica::open(root, FsOptions::default()).unwrap();
    let k = key("a/b/c.md");
    let d1 = r.write(&k, &Content::Text("one\n".into()), None, &ctx("op1")).unwrap();
    assert_eq!(fs::read_to_string(root.join("a/b/c.md")).unwrap(), "one\n");
    assert_eq!(r.scan().unwrap()[&k].digest, d1);

    // Someone edits the file after the scan: a write expecting the old digest refuses.
    put(root, "a/b/c.md", b"edited by hand\n");
    let e = r.write(&k, &Content::Text("two\n".into()), Some(&d1), &ctx("op2")).unwrap_err();
    assert!(matches!(&e, ReplicaError::Conflict { key, .. } if key == &k), "{e}");
    assert_eq!(fs::read_to_string(root.join("a/b/c.md")).unwrap(), "edited by hand\n");
    // A create over an existing file refuses too.
    assert!(matches!(r.write(&k, &Content::Text("x".into()), None, &ctx("op3")), Err(ReplicaError::Conflict { .. })));
    // No temporary files are left behind by refused writes.
    let names: Vec<_> = fs::read_dir(root.join("a/b")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, ["c.md"]);

    let cur = r.digest(&k).unwrap().unwrap();
    let d2 = r.write(&k, &Content::Text("two\n".into()), Some(&cur), &ctx("op4")).unwrap();
    assert_eq!(r.digest(&k).unwrap(), Some(d2));
    assert!(matches!(r.delete(&k, &d1, &ctx("op5")), Err(ReplicaError::Conflict { .. })));
    assert!(root.join("a/b/c.md").exists());
    r.delete(&k, &d2, &ctx("op6")).unwrap();
    // Directories the delete emptied are removed, the root stays.
    assert!(!root.join("a").exists());
    assert!(root.exists());
    assert!(r.scan().unwrap().is_empty());
}

#[test]
fn overwritten_and_deleted_files_are_backed_up_per_operation() {
    let dir = tempfile::tempdir().unwrap();
    let (root, backups) = (dir.path().join("tree"), dir.path().join("backups"));
    put(&root, "docs/a.md", b"original\n");
    let opts = FsOptions { backup_dir: Some(backups.clone()), ..Default::default() };
    let mut r = FsReplica::open(&root, opts).unwrap();
    let k = key("docs/a.md");
    let d0 = r.scan().unwrap()[&k].digest;
    let d1 = r.write(&k, &Content::Text("new\n".into()), Some(&d0), &ctx("op-1")).unwrap();
    assert_eq!(fs::read_to_string(backups.join("op-1/docs/a.md")).unwrap(), "original\n");
    r.delete(&k, &d1, &ctx("op-2")).unwrap();
    assert_eq!(fs::read_to_string(backups.join("op-2/docs/a.md")).unwrap(), "new\n");
    // A create overwrites nothing, so it backs nothing up.
    r.write(&key("b.md"), &Content::Text("b".into()), None, &ctx("op-3")).unwrap();
    assert!(!backups.join("op-3").exists());

    assert_eq!(prune_backups(&backups, SystemTime::now() - Duration::from_secs(60)).unwrap(), 0);
    assert_eq!(prune_backups(&backups, SystemTime::now() + Duration::from_secs(60)).unwrap(), 2);
    assert!(!backups.join("op-1").exists());
    assert_eq!(prune_backups(&dir.path().join("none"), SystemTime::now()).unwrap(), 0);
}

#[test]
fn backups_inside_the_root_are_not_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    put(root, "a.md", b"one");
    let opts = FsOptions { backup_dir: Some(root.join("backups")), ..Default::default() };
    let mut r = FsReplica::open(root, opts).unwrap();
    let d = r.scan().unwrap()[&key("a.md")].digest;
    r.write(&key("a.md"), &Content::Text("two".into()), Some(&d), &ctx("op")).unwrap();
    assert!(root.join("backups/op/a.md").exists());
    assert_eq!(r.scan().unwrap().keys().map(|k| k.as_str()).collect::<Vec<_>>(), ["a.md"]);
}

#[cfg(unix)]
#[test]
fn overwrite_keeps_the_executable_bit() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    put(dir.path(), "run.sh", b"#!/bin/sh\necho one\n");
    let p = dir.path().join("run.sh");
    fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
    let mut r = FsReplica::open(dir.path(), FsOptions::default()).unwrap();
    let k = key("run.sh");
    let d = r.scan().unwrap()[&k].digest;
    r.write(&k, &Content::Text("#!/bin/sh\necho two\n".into()), Some(&d), &ctx("op")).unwrap();
    assert_eq!(fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o755);
    assert_eq!(fs::read_to_string(&p).unwrap(), "#!/bin/sh\necho two\n");
}

#[cfg(unix)]
#[test]
fn symlinked_directories_never_lead_out_of_the_root() {
    let dir = tempfile::tempdir().unwrap();
    let (root, outside) = (dir.path().join("root"), dir.path().join("outside"));
    put(&outside, "secret.md", b"outside");
    put(&root, "in.md", b"inside");
    std::os::unix::fs::symlink(&outside, root.join("escape")).unwrap();
    std::os::unix::fs::symlink(root.join("in.md"), root.join("alias.md")).unwrap();
    for mode in [SymlinkMode::Skip, SymlinkMode::FollowWithinRoot] {
        let mut r = FsReplica::open(&root, FsOptions { symlinks: mode, ..Default::default() }).unwrap();
        let e = r.write(&key("escape/secret.md"), &Content::Text("pwned".into()), None, &ctx("op")).unwrap_err();
        assert!(e.to_string().contains("outside the root"), "{mode:?}: {e}");
        let e = r.write(&key("escape/new.md"), &Content::Text("pwned".into()), None, &ctx("op")).unwrap_err();
        assert!(matches!(e, ReplicaError::Io { .. }), "{e}");
        assert!(r.read(&key("escape/secret.md")).is_err());
        assert_eq!(fs::read_to_string(outside.join("secret.md")).unwrap(), "outside");
        assert!(!outside.join("new.md").exists());
        let snap = r.scan().unwrap();
        assert!(snap.keys().all(|k| !k.as_str().starts_with("escape")), "{mode:?}");
        assert!(r.last_scan().warnings.iter().any(|w| w.contains("escape")), "{:?}", r.last_scan().warnings);
        // A link to a file inside the root is an item only when links are followed.
        assert_eq!(snap.contains_key(&key("alias.md")), mode == SymlinkMode::FollowWithinRoot, "{mode:?}");
    }
    // In skip mode a write never replaces a link.
    let mut r = FsReplica::open(&root, FsOptions::default()).unwrap();
    assert!(r.write(&key("alias.md"), &Content::Text("x".into()), None, &ctx("op")).is_err());
    assert!(fs::symlink_metadata(root.join("alias.md")).unwrap().file_type().is_symlink());
}

/// A copy's read of its source (`read_expected`) takes a shorter way for plain files;
/// through links it answers exactly as a plain `read` does, in each link mode: a link
/// within the root is followed or skipped as the mode says, one out of it never is.
#[cfg(unix)]
#[test]
fn a_copy_reads_through_links_as_a_plain_read_does() {
    let dir = tempfile::tempdir().unwrap();
    let (root, outside) = (dir.path().join("root"), dir.path().join("outside"));
    put(&outside, "secret.md", b"outside");
    put(&root, "real/x.md", b"inside");
    put(&root, "plain.md", b"plain");
    std::os::unix::fs::symlink(&outside, root.join("escape")).unwrap();
    std::os::unix::fs::symlink(root.join("real"), root.join("inner")).unwrap();
    std::os::unix::fs::symlink(root.join("real/x.md"), root.join("alias.md")).unwrap();
    std::fs::create_dir_all(root.join("folder.md")).unwrap();
    let keys = ["plain.md", "real/x.md", "inner/x.md", "alias.md", "escape/secret.md", "folder.md", "none/x.md"];
    let rules = HashRules::default();
    for mode in [SymlinkMode::Skip, SymlinkMode::FollowWithinRoot, SymlinkMode::Links] {
        let r = FsReplica::open(&root, FsOptions { symlinks: mode, ..Default::default() }).unwrap();
        for k in keys.map(key) {
            let got = r.read_expected(&k, r.read(&k).ok().flatten().map(|c| rules.digest(&c).unwrap()).as_ref());
            match (r.read(&k), got) {
                (Ok(plain), Ok(got)) => assert_eq!(plain, got, "{mode:?} {k}"),
                (Err(_), Err(e)) => assert!(e.to_string().contains(k.as_str()), "{mode:?} {k}: {e}"),
                (plain, got) => panic!("{mode:?} {k}: a plain read gives {plain:?}, the copy's read {got:?}"),
            }
        }
        let outside_read = r.read_expected(&key("escape/secret.md"), None);
        assert!(!matches!(outside_read, Ok(Some(_))), "{mode:?}: never a file out of the root");
    }
}

/// A scan and a copy read a file without moving its access time: a sync's reads are
/// no one's use of the file. (A plain read first shows this filesystem does move it.)
#[cfg(target_os = "linux")]
#[test]
fn a_sync_reads_files_without_touching_their_access_time() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    put(root, "d/a.md", b"a\n");
    let path = root.join("d/a.md");
    // An access time days before the last change: `relatime` moves it on the next read.
    let set_old = || {
        let old = SystemTime::now() - Duration::from_secs(3 * 86_400);
        let f = fs::File::options().write(true).open(&path).unwrap();
        f.set_times(fs::FileTimes::new().set_accessed(old)).unwrap();
        fs::metadata(&path).unwrap().accessed().unwrap()
    };
    let old = set_old();
    fs::read(&path).unwrap();
    assert_ne!(fs::metadata(&path).unwrap().accessed().unwrap(), old, "this filesystem keeps no access times");
    let old = set_old();
    let mut r = FsReplica::open(root, FsOptions::default()).unwrap();
    let snap = r.scan().unwrap();
    let k = key("d/a.md");
    assert_eq!(r.read_expected(&k, Some(&snap[&k].digest)).unwrap(), Some(Content::Text("a\n".into())));
    assert_eq!(fs::metadata(&path).unwrap().accessed().unwrap(), old);
}

#[test]
fn keys_in_reserved_folders_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = FsReplica::open(dir.path(), FsOptions::default()).unwrap();
    for k in [".git/config", ".twinsync/db", "a/.x.md.twinsync-tmp-1-2"] {
        let e = r.write(&key(k), &Content::Text("x".into()), None, &ctx("op")).unwrap_err();
        assert!(matches!(e, ReplicaError::InvalidKey(_)), "{k}: {e}");
    }
    assert!(!dir.path().join(".git").exists());
}

#[test]
fn bad_ignore_glob_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let e =
        FsReplica::open(dir.path(), FsOptions { ignore: vec!["docs/[z-a]".into()], ..Default::default() }).unwrap_err();
    assert!(e.to_string().contains("docs/[z-a]"), "{e}");
}

#[cfg(unix)]
#[test]
fn followed_links_write_their_target_and_delete_only_the_link() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    put(root, "real.md", b"one\n");
    std::os::unix::fs::symlink(root.join("real.md"), root.join("alias.md")).unwrap();
    let opts = FsOptions { symlinks: SymlinkMode::FollowWithinRoot, ..Default::default() };
    let mut r = FsReplica::open(root, opts).unwrap();
    let snap = r.scan().unwrap();
    let (alias, real) = (key("alias.md"), key("real.md"));
    assert_eq!(snap[&alias].digest, snap[&real].digest);
    let d = r.write(&alias, &Content::Text("two\n".into()), Some(&snap[&alias].digest), &ctx("op")).unwrap();
    assert!(fs::symlink_metadata(root.join("alias.md")).unwrap().file_type().is_symlink());
    assert_eq!(fs::read_to_string(root.join("real.md")).unwrap(), "two\n");
    r.delete(&alias, &d, &ctx("op2")).unwrap();
    assert!(fs::symlink_metadata(root.join("alias.md")).is_err());
    assert_eq!(fs::read_to_string(root.join("real.md")).unwrap(), "two\n");
}

#[test]
fn a_scan_clears_temp_files_abandoned_by_a_killed_writer() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.md"), "a\n").unwrap();
    // pid 0 is never a user process, so its writer is certainly gone.
    let abandoned = dir.path().join(".a.md.twinsync-tmp-0-7");
    std::fs::write(&abandoned, "half a file").unwrap();
    // A temp file of this very process is in flight, and must be left alone.
    let ours = dir.path().join(format!(".b.md.twinsync-tmp-{}-1", std::process::id()));
    std::fs::write(&ours, "in flight").unwrap();
    let mut fs = twinsync_fs::FsReplica::open(dir.path(), twinsync_fs::FsOptions::default()).unwrap();
    let snap = twinsync_core::Replica::scan(&mut fs).unwrap();
    assert_eq!(snap.len(), 1, "temp files are never items");
    assert!(!abandoned.exists(), "the abandoned temp file is cleared");
    assert!(ours.exists(), "a live writer's temp file stays");
}

#[test]
fn an_unchanged_tree_leaves_the_stat_cache_clean_so_hosts_skip_saving_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.md"), "a\n").unwrap();
    let mut fs = twinsync_fs::FsReplica::open(dir.path(), twinsync_fs::FsOptions::default()).unwrap();
    twinsync_core::Replica::scan(&mut fs).unwrap();
    assert!(fs.stat_cache_dirty(), "a first scan fills the cache");
    let saved = fs.export_stat_cache();
    fs.mark_stat_cache_saved();
    // Past the racy window, a rescan of the same tree changes nothing worth saving.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let mut again = twinsync_fs::FsReplica::open(dir.path(), twinsync_fs::FsOptions::default()).unwrap();
    assert!(again.import_stat_cache(&saved));
    assert!(!again.stat_cache_dirty(), "an imported cache is what the host has");
    // The saved cache was captured within the racy window of a.md: rehashed once, and
    // the refreshed cache is worth saving.
    twinsync_core::Replica::scan(&mut again).unwrap();
    assert_eq!(again.last_scan().hashed, 1);
    assert!(again.stat_cache_dirty());
    again.mark_stat_cache_saved();
    twinsync_core::Replica::scan(&mut again).unwrap();
    assert_eq!(again.last_scan().hashed, 0, "warm rescan reads nothing");
    assert!(!again.stat_cache_dirty(), "and leaves nothing to save");
    std::fs::write(dir.path().join("b.md"), "b\n").unwrap();
    twinsync_core::Replica::scan(&mut again).unwrap();
    assert!(again.stat_cache_dirty(), "a new file must be persisted");
}

#[test]
fn flush_after_a_batch_of_writes_and_deletes_keeps_them_all() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    put(root, "old/gone.md", b"to delete");
    let mut r = FsReplica::open(root, FsOptions::default()).unwrap();
    let snap = r.scan().unwrap();
    // A few (one fsync each) and a batch (one syncfs on Linux): both end durable and whole.
    for n in [3, 40] {
        for i in 0..n {
            let k = key(&format!("b{n}/f{i}.md"));
            r.write(&k, &Content::Text(format!("file {i} of {n}\n")), None, &ctx("op")).unwrap();
        }
        r.flush().unwrap();
        for i in 0..n {
            let got = fs::read_to_string(root.join(format!("b{n}/f{i}.md"))).unwrap();
            assert_eq!(got, format!("file {i} of {n}\n"));
        }
    }
    r.delete(&key("old/gone.md"), &snap[&key("old/gone.md")].digest, &ctx("op")).unwrap();
    r.flush().unwrap();
    assert!(!root.join("old").exists(), "the emptied folder goes with its last file");
    r.flush().unwrap();
}

/// A large file is streamed: `open` gives it, `write_from` checks the bytes against the
/// digest the scan saw, and a source that changed meanwhile writes nothing.
#[test]
fn large_files_are_streamed_and_checked_against_the_scan() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let rules = HashRules { bytes_above: 1024, ..HashRules::default() };
    let opts = || FsOptions { rules: rules.clone(), ..FsOptions::default() };
    // JSON over the limit is bytes: never parsed, so even invalid JSON syncs.
    let body = format!("{{\"a\": [{}] ", "1, ".repeat(600));
    std::fs::write(a.join("export.json"), &body).unwrap();
    std::fs::write(a.join("small.json"), "{\"a\": 1}").unwrap();
    let mut src = FsReplica::open(&a, opts()).unwrap();
    let mut dst = FsReplica::open(&b, opts()).unwrap();
    let snap = src.scan().unwrap();
    let key = Key::new("export.json").unwrap();
    assert_eq!(snap[&key].digest, Digest::of_bytes(body.as_bytes()));
    assert!(src.open(&Key::new("small.json").unwrap()).unwrap().is_none(), "small items are read, not streamed");
    let ctx = WriteContext::default();

    let mut item = src.open(&key).unwrap().expect("a large item streams");
    assert_eq!(item.len, body.len() as u64);
    let d = dst.write_from(&key, &mut item.reader, &snap[&key].digest, None, &ctx).unwrap();
    assert_eq!(d, snap[&key].digest);
    assert_eq!(std::fs::read_to_string(b.join("export.json")).unwrap(), body);

    // The source changes after the scan: the copy is refused and the target untouched.
    std::fs::write(a.join("export.json"), body.replace('1', "2")).unwrap();
    let mut item = src.open(&key).unwrap().unwrap();
    let e =
        dst.write_from(&key, &mut item.reader, &Digest::of_bytes(b"what the scan saw"), Some(&d), &ctx).unwrap_err();
    assert!(matches!(e, ReplicaError::Conflict { .. }), "{e}");
    assert_eq!(std::fs::read_to_string(b.join("export.json")).unwrap(), body);
    let names: Vec<_> = std::fs::read_dir(&b).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 1, "no temporary file is left: {names:?}");
}

/// A copy reads its source through `read_expected`: the content when the file still has
/// the digest its scan saw, whether the scan's record answers (old files) or the bytes
/// are hashed again (a file whose stat moved); a conflict for anything else.
#[test]
fn a_copy_reads_its_source_only_while_it_has_the_scanned_digest() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    put(root, "a.md", b"one\r\ntwo\r\n");
    put(root, "cfg/b.json", b"{ \"b\": 1,\n  \"a\": [1, 2] }");
    put(root, "c.md", b"fresh\n");
    for rel in ["a.md", "cfg/b.json"] {
        age(root, rel);
    }
    let mut r = FsReplica::open(root, FsOptions::default()).unwrap();
    let snap = r.scan().unwrap();
    // Each answer is the content a plain read gives, under the scanned digest.
    for k in ["a.md", "cfg/b.json", "c.md"] {
        let k = key(k);
        let got = r.read_expected(&k, Some(&snap[&k].digest)).unwrap();
        assert_eq!(got, r.read(&k).unwrap(), "{k}");
    }
    // Absent where absent is expected; a file where none is expected is a conflict.
    assert_eq!(r.read_expected(&key("none.md"), None).unwrap(), None);
    let e = r.read_expected(&key("a.md"), None).unwrap_err();
    assert!(matches!(&e, ReplicaError::Conflict { key, .. } if key.as_str() == "a.md"), "{e}");

    // Edited after the scan, to the same length: its stat moved, so it is hashed again.
    let (a, b) = (key("a.md"), key("cfg/b.json"));
    put(root, "a.md", b"one\r\ntwO\r\n");
    let e = r.read_expected(&a, Some(&snap[&a].digest)).unwrap_err();
    assert!(matches!(&e, ReplicaError::Conflict { key, .. } if key == &a), "{e}");
    // Reformatted only: the canonical digest is unchanged, so the copy goes ahead.
    put(root, "cfg/b.json", b"{\"a\":[1,2],\"b\":1}");
    let got = r.read_expected(&b, Some(&snap[&b].digest)).unwrap().unwrap();
    assert_eq!(got.as_bytes(), b"{\"a\":[1,2],\"b\":1}");
    // Deleted after the scan.
    fs::remove_file(root.join("c.md")).unwrap();
    let c = key("c.md");
    assert!(matches!(r.read_expected(&c, Some(&snap[&c].digest)), Err(ReplicaError::Conflict { .. })));
}

/// `write_digested` returns the digest a later scan sees: the caller's when the file
/// will be read as the content's kind, its own when not (JSON content under a text name).
#[test]
fn a_write_with_a_known_digest_records_what_the_next_scan_sees() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let rules = HashRules::default();
    let mut r = FsReplica::open(root, FsOptions::default()).unwrap();
    let text = Content::Text("line\r\n".into());
    let post = rules.digest(&text).unwrap();
    let k = key("notes/a.md");
    assert_eq!(r.write_digested(&k, &text, &post, None, &ctx("op")).unwrap(), post);

    // JSON under a `.txt` name is read back as text, which digests differently.
    let json = Content::Json("{\"b\": 1, \"a\": 2}".into());
    let as_json = rules.digest(&json).unwrap();
    let t = key("notes/b.txt");
    let got = r.write_digested(&t, &json, &as_json, None, &ctx("op")).unwrap();
    assert_ne!(got, as_json);

    let snap = r.scan().unwrap();
    assert_eq!(snap[&k].digest, post);
    assert_eq!(snap[&t].digest, got);
    // Compare-and-swap as `write`: a create over an existing file refuses and keeps it.
    let e = r.write_digested(&k, &text, &post, None, &ctx("op2")).unwrap_err();
    assert!(matches!(&e, ReplicaError::Conflict { key, .. } if key == &k), "{e}");
    assert_eq!(fs::read(root.join("notes/a.md")).unwrap(), b"line\r\n");
    let names: Vec<_> = fs::read_dir(root.join("notes")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
}
