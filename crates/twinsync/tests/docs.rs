//! Docs through the facade, on real projects (folders, and a folder with the SQLite
//! documents table): the edited side, digests, versions from history, compare-and-swap
//! writes synced at once and announced once.

use twinsync::core::event::EventType;
use twinsync::core::Side;
use twinsync::{DocPrecondition, Error, Project};

fn project(root: &std::path::Path, right: &str) -> Project {
    std::fs::create_dir_all(root.join("a/guides")).unwrap();
    if right != "db" {
        std::fs::create_dir_all(root.join(right)).unwrap();
    }
    std::fs::write(root.join("a/one.md"), "# one\n").unwrap();
    std::fs::write(root.join("a/guides/setup.md"), "# setup\n").unwrap();
    let mut p = Project::init(root, "a", right).unwrap();
    p.sync(&Default::default()).unwrap();
    p
}

fn doc_events(p: &Project, since: u64, key: &str) -> Vec<twinsync::core::Event> {
    p.events(since, 1000)
        .unwrap()
        .into_iter()
        .filter(|e| e.event_type == EventType::DocUpdated && e.payload["key"] == key)
        .collect()
}

#[test]
fn folders_pair_lists_reads_and_writes_the_left_side_with_no_lost_update() {
    let tmp = tempfile::tempdir().unwrap();
    let mut p = project(tmp.path(), "b");
    let pair = p.docs_pair(None).unwrap();
    assert_eq!(p.docs_side(&pair).unwrap(), Side::Left);
    let list = p.docs_list(&pair).unwrap();
    assert_eq!(list.iter().map(|d| d.path.as_str()).collect::<Vec<_>>(), ["guides/setup.md", "one.md"]);
    assert_eq!(list[1].version, 1, "synced once");
    let tree = p.docs_digest(&pair).unwrap();
    assert_eq!(tree, p.docs_digest(&pair).unwrap(), "stable");

    let doc = p.doc_get(&pair, "one.md").unwrap();
    assert_eq!((doc.content.as_text(), doc.entry.version), (Some("# one\n"), 1));
    let before = p.newest_event_id().unwrap();
    let w =
        p.doc_put(&pair, "one.md", b"# one, edited\n".to_vec(), &DocPrecondition::Digest(doc.entry.digest)).unwrap();
    assert!(w.changed && !w.created);
    assert_eq!(w.entry.version, 2);
    assert_eq!(std::fs::read_to_string(tmp.path().join("b/one.md")).unwrap(), "# one, edited\n", "synced");
    let announced = doc_events(&p, before, "one.md");
    assert_eq!(announced.len(), 1, "announced once: {announced:?}");
    assert_eq!(announced[0].payload["hash"], w.entry.digest.to_string());
    assert_eq!(announced[0].payload["docId"], "one.md");
    assert_ne!(p.docs_digest(&pair).unwrap(), tree);

    // The old digest is stale now: nothing written.
    let e = p.doc_put(&pair, "one.md", b"lost\n".to_vec(), &DocPrecondition::Digest(doc.entry.digest)).unwrap_err();
    assert!(matches!(e, Error::StaleDoc { .. }), "{e}");
    assert!(e.to_string().contains("one.md") && e.to_string().contains(&w.entry.digest.to_string()), "{e}");
    assert_eq!(std::fs::read_to_string(tmp.path().join("a/one.md")).unwrap(), "# one, edited\n");
    let e = p.doc_put(&pair, "one.md", b"x\n".to_vec(), &DocPrecondition::Absent).unwrap_err();
    assert!(matches!(e, Error::StaleDoc { .. }), "creating over an existing doc: {e}");

    // Writing what it holds changes nothing and announces nothing.
    let before = p.newest_event_id().unwrap();
    let same =
        p.doc_put(&pair, "one.md", b"# one, edited\n".to_vec(), &DocPrecondition::Digest(w.entry.digest)).unwrap();
    assert!(!same.changed && same.sync.is_none());
    assert!(doc_events(&p, before, "one.md").is_empty());

    // A new doc, created where there was none.
    let made = p.doc_put(&pair, "guides/new.md", b"# new\n".to_vec(), &DocPrecondition::Absent).unwrap();
    assert!(made.created && made.entry.version == 1);
    assert!(tmp.path().join("b/guides/new.md").is_file());

    // Errors name the item.
    let e = p.doc_get(&pair, "nope.md").unwrap_err();
    assert_eq!(twinsync::api::error_code(&e), "NOT_FOUND");
    assert!(e.to_string().contains("nope.md"), "{e}");
    let e = p.doc_put(&pair, "../escape.md", b"x".to_vec(), &DocPrecondition::Absent).unwrap_err();
    assert_eq!(twinsync::api::error_code(&e), "INVALID_INPUT", "{e}");
    let e = p.doc_put(&pair, "bad.json", b"{not json".to_vec(), &DocPrecondition::Absent).unwrap_err();
    assert!(e.to_string().contains("bad.json"), "{e}");
}

#[test]
fn a_db_pair_edits_its_database_side_and_the_lock_binds_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let mut p = project(tmp.path(), "db");
    let pair = p.docs_pair(Some("default")).unwrap();
    assert_eq!(p.docs_side(&pair).unwrap(), Side::Right);
    let doc = p.doc_get(&pair, "one.md").unwrap();
    let w = p
        .doc_put(&pair, "one.md", b"# from the platform\n".to_vec(), &DocPrecondition::Digest(doc.entry.digest))
        .unwrap();
    assert_eq!(std::fs::read_to_string(tmp.path().join("a/one.md")).unwrap(), "# from the platform\n");
    assert_eq!(p.doc_get(&pair, "one.md").unwrap().entry.digest, w.entry.digest);

    p.set_actor("bob");
    p.lock_acquire(Some(60_000), Some("editing")).unwrap();
    p.set_actor("carol");
    let e = p.doc_put(&pair, "one.md", b"x\n".to_vec(), &DocPrecondition::Digest(w.entry.digest)).unwrap_err();
    assert_eq!(twinsync::api::error_code(&e), "LOCKED", "{e}");
    p.set_actor("bob");
    p.doc_put(&pair, "one.md", b"bob's\n".to_vec(), &DocPrecondition::Digest(w.entry.digest)).unwrap();
}
