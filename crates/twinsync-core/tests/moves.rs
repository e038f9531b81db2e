//! Renames through the engine: a move on one side is one rename on the other, undone as
//! one rename; a side that refuses the rename still converges by a delete and a copy.

use twinsync_core::replica::{ReplicaError, WriteContext};
use twinsync_core::ScanFailure;
use twinsync_core::*;

fn k(s: &str) -> Key {
    Key::new(s).unwrap()
}
fn text(s: &str) -> Content {
    Content::Text(s.into())
}

/// A memory replica that records the renames asked of it, and can refuse them.
struct Renaming {
    inner: MemoryReplica,
    renames: Vec<(String, String)>,
    refuse: bool,
}

impl Replica for Renaming {
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
        e: Option<&Digest>,
        ctx: &WriteContext,
    ) -> Result<Digest, ReplicaError> {
        self.inner.write(key, c, e, ctx)
    }
    fn delete(&mut self, key: &Key, e: &Digest, ctx: &WriteContext) -> Result<(), ReplicaError> {
        self.inner.delete(key, e, ctx)
    }
    fn flush(&mut self) -> Result<(), ReplicaError> {
        self.inner.flush()
    }
    fn rename(&mut self, from: &Key, to: &Key, expected: &Digest, ctx: &WriteContext) -> Result<Digest, ReplicaError> {
        if self.refuse {
            return Err(ReplicaError::Io { key: from.to_string(), message: "renames refused".into() });
        }
        self.renames.push((from.to_string(), to.to_string()));
        self.inner.rename(from, to, expected, ctx)
    }
}

struct World {
    store: MemoryStore,
    clock: ManualClock,
    left: MemoryReplica,
    right: Renaming,
}

impl World {
    /// Both sides hold `a.md`, `b.md` and `c.md`, synced.
    fn synced() -> World {
        let mut w = World {
            store: MemoryStore::new(),
            clock: ManualClock::new(Timestamp(1_790_000_000_000)),
            left: MemoryReplica::new("left"),
            right: Renaming { inner: MemoryReplica::new("right"), renames: vec![], refuse: false },
        };
        for (key, body) in [("a.md", "alpha\n"), ("b.md", "beta\n"), ("c.md", "gamma\n")] {
            w.left.put(&k(key), text(body));
        }
        assert_eq!(w.sync(Directions::default()).counts.applied, 3);
        w.clock.advance(61_000);
        w
    }
    fn sync(&mut self, directions: Directions) -> OperationReport {
        let opts = SyncOptions { directions, ..Default::default() };
        let mut e = Engine::new(&mut self.store, &self.clock, EngineConfig::default());
        e.sync(&mut self.left, &mut self.right, &opts).unwrap()
    }
    fn status(&mut self) -> Drift {
        let mut e = Engine::new(&mut self.store, &self.clock, EngineConfig::default());
        e.status(&mut self.left, &mut self.right).unwrap()
    }
    fn undo(&mut self) -> UndoReport {
        let mut e = Engine::new(&mut self.store, &self.clock, EngineConfig::default());
        e.undo(&mut self.left, &mut self.right, None).unwrap()
    }
}

#[test]
fn a_move_on_one_side_is_one_rename_on_the_other_and_undo_renames_it_back() {
    let mut w = World::synced();
    // A rename on the left, into a folder that does not exist yet, among other changes.
    w.left.remove(&k("a.md"));
    w.left.put(&k("docs/z.md"), text("alpha\n"));
    w.left.put(&k("b.md"), text("beta, edited\n"));

    let drift = w.status();
    let moves = moves::find(drift.drifted_items());
    assert_eq!(moves.len(), 1, "{moves:?}");
    assert_eq!(moves[0].to_string(), "moved a.md -> docs/z.md on the left");

    let r = w.sync(Directions::default());
    assert_eq!(r.counts.applied, 3, "{r:#?}");
    assert_eq!(w.right.renames, vec![("a.md".to_string(), "docs/z.md".to_string())], "one rename, no copy");
    assert_eq!(w.right.inner.get(&k("docs/z.md")), Some(&text("alpha\n")));
    assert_eq!(w.right.inner.get(&k("a.md")), None);
    assert_eq!(r.moves().len(), 1);
    assert_eq!(r.moves()[0].to.as_str(), "docs/z.md");
    let halves: Vec<_> = r.items.iter().filter(|i| i.moved.is_some()).map(|i| i.key.as_str()).collect();
    assert_eq!(halves, ["a.md", "docs/z.md"], "the new key follows the old one");
    assert!(r.items.iter().filter(|i| i.moved.is_some()).all(|i| i.note.as_deref() == Some(&moves[0].to_string())));
    assert!(w.status().drifted().next().is_none());

    w.right.renames.clear();
    let undo = w.undo();
    assert_eq!(w.right.renames, vec![("docs/z.md".to_string(), "a.md".to_string())], "undone by one rename");
    assert_eq!(undo.moves.len(), 1, "{undo:#?}");
    assert_eq!(w.right.inner.get(&k("a.md")), Some(&text("alpha\n")));
    assert_eq!(w.right.inner.get(&k("docs/z.md")), None);
    assert_eq!(w.right.inner.get(&k("b.md")), Some(&text("beta\n")), "the edit is undone too");
}

#[test]
fn a_side_that_refuses_renames_still_converges_and_a_blocked_direction_moves_nothing() {
    let mut w = World::synced();
    w.right.refuse = true;
    w.left.remove(&k("c.md"));
    w.left.put(&k("c2.md"), text("gamma\n"));
    let r = w.sync(Directions::default());
    assert_eq!(r.counts.applied, 2, "a delete and a copy instead: {r:#?}");
    assert_eq!(w.right.inner.get(&k("c2.md")), Some(&text("gamma\n")));
    assert_eq!(w.right.inner.get(&k("c.md")), None);

    // A move on the right while only left-to-right flows: nothing is carried.
    w.clock.advance(61_000);
    w.right.refuse = false;
    w.right.inner.remove(&k("b.md"));
    w.right.inner.put(&k("b2.md"), text("beta\n"));
    let r = w.sync(Directions::all(Direction::LeftToRight));
    assert_eq!(r.counts.applied, 0, "{r:#?}");
    assert!(r.items.iter().all(|i| i.moved.is_none()));
    assert!(w.right.renames.is_empty());
    assert_eq!(w.left.get(&k("b.md")), Some(&text("beta\n")));
}
