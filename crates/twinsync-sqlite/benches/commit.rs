//! `commit_item` throughput of `SqliteStore`: one applied item (base digest, two 2 KiB
//! blobs, one undo entry, one history row) per transaction, on a file with each
//! durability setting and in memory; and `commit_items` of a batch of 256 such items in
//! one transaction (group commit, as the engine commits), per item.

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use twinsync_core::store::{HistoryEntry, ItemCommit, UndoEntry};
use twinsync_core::{Content, Digest, Key, Side, Store, Timestamp, Trigger};
use twinsync_sqlite::{Durability, SqliteStore};

fn item(i: u64) -> ItemCommit {
    let key = Key::new(format!("docs/section-{}/page-{i}.md", i % 17)).expect("valid key");
    let body = format!("# Page {i}\n\n{}\n", "Lorem ipsum dolor sit amet. ".repeat(72));
    let pre = Content::Text(format!("{body}(old)\n"));
    let post = Content::Text(body);
    let (dpre, dpost) = (Digest::of_bytes(pre.as_bytes()), Digest::of_bytes(post.as_bytes()));
    let at = Timestamp::from_millis(1_700_000_000_000 + i as i64);
    ItemCommit {
        scope: "docs".into(),
        key: key.clone(),
        base_after: Some(dpost),
        blobs: vec![(dpost, post), (dpre, pre)],
        undo: vec![UndoEntry {
            operation_id: format!("op{}", i / 100),
            scope: "docs".into(),
            key: key.clone(),
            side: Side::Right,
            pre: Some(dpre),
            post: Some(dpost),
            base_before: Some(dpre),
            created_at: at,
            expires_at: at.plus_millis(86_400_000),
            undone_at: None,
        }],
        history: HistoryEntry {
            operation_id: format!("op{}", i / 100),
            scope: "docs".into(),
            key,
            direction: "left_to_right".into(),
            trigger: Trigger::Manual,
            success: true,
            error: None,
            left: Some(dpost),
            right: Some(dpost),
            at,
        },
        events: vec![],
    }
}

fn fresh(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(&dir).expect("bench dir");
    let path = dir.join(format!("bench-{name}.db"));
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.clone().into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
    path
}

fn commit_item(c: &mut Criterion) {
    let mut g = c.benchmark_group("sqlite_commit_item");
    g.throughput(Throughput::Elements(1));
    let stores: Vec<(&str, SqliteStore)> = vec![
        ("file_full", SqliteStore::open_with(&fresh("full"), Durability::Full).expect("open")),
        ("file_normal", SqliteStore::open_with(&fresh("normal"), Durability::Normal).expect("open")),
        ("memory", SqliteStore::open_in_memory().expect("open")),
    ];
    for (name, mut store) in stores {
        let mut i = 0u64;
        g.bench_function(name, |b| {
            b.iter(|| {
                i += 1;
                store.commit_item(&item(i)).expect("commit");
            })
        });
    }
    g.finish();
}

fn commit_items(c: &mut Criterion) {
    const BATCH: u64 = 256;
    let mut g = c.benchmark_group("sqlite_commit_items_256");
    g.throughput(Throughput::Elements(BATCH));
    let mut store = SqliteStore::open_with(&fresh("batch_full"), Durability::Full).expect("open");
    let mut i = 0u64;
    g.bench_function("file_full", |b| {
        b.iter(|| {
            let batch: Vec<ItemCommit> = (0..BATCH).map(|n| item(i * BATCH + n)).collect();
            i += 1;
            store.commit_items(&batch).expect("commit");
        })
    });
    g.finish();
}

criterion_group!(benches, commit_item, commit_items);
criterion_main!(benches);
