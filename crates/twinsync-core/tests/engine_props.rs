//! Properties: detect agrees with a brute-force oracle, plan is deterministic, and undo
//! after apply restores the pre-state digests.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use twinsync_core::{
    detect, plan, Content, Digest, Directions, DriftClass, Engine, EngineConfig, Key, ManualClock, MemoryReplica,
    MemoryStore, Policy, Replica, SyncOptions, Timestamp,
};

/// Up to 4 versions of an item, or absent.
fn version() -> impl Strategy<Value = Option<u8>> {
    prop_oneof![Just(None), (0u8..4).prop_map(Some)]
}

fn triple() -> impl Strategy<Value = Vec<(Option<u8>, Option<u8>, Option<u8>)>> {
    prop::collection::vec((version(), version(), version()), 0..40)
}

fn digest(v: u8) -> Digest {
    Digest::of_bytes(&[v])
}

fn maps(t: &[(Option<u8>, Option<u8>, Option<u8>)]) -> [BTreeMap<Key, Digest>; 3] {
    let mut m: [BTreeMap<Key, Digest>; 3] = Default::default();
    for (i, (b, l, r)) in t.iter().enumerate() {
        let key = Key::new(format!("k{i:03}")).unwrap();
        for (slot, v) in [b, l, r].into_iter().enumerate() {
            if let Some(v) = v {
                m[slot].insert(key.clone(), digest(*v));
            }
        }
    }
    m
}

/// The oracle: the definitions, one key at a time, written as plainly as possible.
fn oracle(b: Option<Digest>, l: Option<Digest>, r: Option<Digest>) -> DriftClass {
    use DriftClass::*;
    let changed = |x: Option<Digest>| x != b;
    match (b.is_some(), l.is_some(), r.is_some()) {
        (false, true, false) => AddedLeft,
        (false, false, true) => AddedRight,
        (false, true, true) if l == r => AddedAlike,
        (false, true, true) => ConflictAddAdd,
        (true, false, false) => DeletedBoth,
        (true, true, false) if !changed(l) => DeletedRight,
        (true, true, false) => ConflictModifyDelete,
        (true, false, true) if !changed(r) => DeletedLeft,
        (true, false, true) => ConflictDeleteModify,
        (true, true, true) if !changed(l) && !changed(r) => InSync,
        (true, true, true) if !changed(r) => ChangedLeft,
        (true, true, true) if !changed(l) => ChangedRight,
        (true, true, true) if l == r => ChangedAlike,
        (true, true, true) => ConflictModifyModify,
        (false, false, false) => unreachable!("keys come from the maps"),
    }
}

proptest! {
    #[test]
    fn detect_agrees_with_the_oracle(t in triple()) {
        let [b, l, r] = maps(&t);
        let drift = detect(&b, &l, &r);
        let keys: BTreeSet<&Key> = b.keys().chain(l.keys()).chain(r.keys()).collect();
        prop_assert_eq!(drift.len(), keys.len());
        for item in drift.items() {
            let want = oracle(b.get(item.key).copied(), l.get(item.key).copied(), r.get(item.key).copied());
            prop_assert_eq!(item.class, want, "key {}", item.key);
            prop_assert_eq!((item.base, item.left, item.right), (b.get(item.key), l.get(item.key), r.get(item.key)));
        }
        prop_assert_eq!(drift.counts.total(), keys.len());
    }

    #[test]
    fn plan_is_deterministic(t in triple(), pol in 0usize..5, now in 0i64..10_000_000) {
        let [b, l, r] = maps(&t);
        let policies = ["prefer-left", "prefer-right", "newest-wins", "merge:left", "manual"];
        let policy: Policy = policies[pol].parse().unwrap();
        let ctx = twinsync_core::plan::PlanContext::at(Timestamp(now));
        let p1 = plan(&detect(&b, &l, &r), &Directions::default(), &policy, &ctx);
        let p2 = plan(&detect(&b.clone(), &l.clone(), &r.clone()), &Directions::default(), &policy, &ctx);
        prop_assert_eq!(p1, p2);
    }

    #[test]
    fn undo_after_apply_restores_the_pre_state(
        base in prop::collection::vec(prop::option::of(0u8..3), 1..12),
        edits_l in prop::collection::vec(prop::option::of(0u8..4), 12),
        edits_r in prop::collection::vec(prop::option::of(0u8..4), 12),
        pol in 0usize..3,
    ) {
        let clock = ManualClock::new(Timestamp(1_790_000_000_000));
        let mut store = MemoryStore::new();
        let (mut left, mut right) = (MemoryReplica::new("left"), MemoryReplica::new("right"));
        let key = |i: usize| Key::new(format!("f{i}.md")).unwrap();
        for (i, v) in base.iter().enumerate() {
            if let Some(v) = v {
                left.put(&key(i), Content::Text(format!("v{v}\n")));
            }
        }
        let cfg = EngineConfig { mass_delete_threshold: usize::MAX, ..Default::default() };
        Engine::new(&mut store, &clock, cfg.clone()).sync(&mut left, &mut right, &SyncOptions::default()).unwrap();
        clock.advance(61_000);
        for i in 0..base.len() {
            for (rep, edits) in [(&mut left, &edits_l), (&mut right, &edits_r)] {
                match edits[i] {
                    Some(3) => { rep.remove(&key(i)); }
                    Some(v) => rep.put(&key(i), Content::Text(format!("edit{v}\n"))),
                    None => {}
                }
            }
        }
        let before = (left.clone().scan().unwrap(), right.clone().scan().unwrap());
        let policy: Policy = ["prefer-left", "prefer-right", "newest-wins:right"][pol].parse().unwrap();
        let mut engine = Engine::new(&mut store, &clock, cfg);
        let report = engine.sync(&mut left, &mut right, &SyncOptions { policy, ..Default::default() }).unwrap();
        if report.reversible_until.is_some() {
            let u = engine.undo(&mut left, &mut right, Some(&report.operation_id)).unwrap();
            prop_assert!(u.refused.is_empty(), "{:?}", u.refused);
        }
        prop_assert_eq!((left.scan().unwrap(), right.scan().unwrap()), before);
    }
}
