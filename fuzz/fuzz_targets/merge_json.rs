//! The structural three-way merge of JSON documents (base, left, right).
//!
//! Properties: an unchanged side takes the other side, cleanly (merge of (a, a, b) and
//! of (a, b, a) is b); identical changes are clean; without id-matched arrays the merge is
//! symmetric (the same conflicts, and the same value when clean); every conflict pointer
//! is an RFC 6901 pointer to a place in the merged document (or, for an element left
//! deleted, in base).
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use twinsync_core::merge::{json3, JsonMergeOptions};
use twinsync_fuzz::{selector, split_nul};

fuzz_target!(|data: &[u8]| {
    let Some((sel, rest)) = selector(data) else { return };
    let [b, l, r] = split_nul::<3>(rest);
    let (Ok(base), Ok(left), Ok(right)) =
        (serde_json::from_slice::<Value>(b), serde_json::from_slice::<Value>(l), serde_json::from_slice::<Value>(r))
    else {
        return;
    };
    let opts = JsonMergeOptions { array_id_field: (sel & 1 == 1).then(|| "id".to_string()) };

    let m = json3(&base, &left, &right, &opts);
    for c in &m.conflicts {
        assert!(c.pointer.is_empty() || c.pointer.starts_with('/'), "bad pointer {:?}", c.pointer);
        // A pointer names a place in the merged document (left's layout, as the docs say):
        // the value there, or, where the kept left side deleted it, its parent; or, for an
        // element left deleted, its place in base.
        let parent = &c.pointer[..c.pointer.rfind('/').unwrap_or(0)];
        let found = [&base, &left, &right, &m.value].iter().any(|v| v.pointer(&c.pointer).is_some())
            || m.value.pointer(parent).is_some();
        assert!(found, "conflict pointer {:?} is nowhere in the merge", c.pointer);
    }
    let a = json3(&base, &base, &right, &opts);
    assert!(a.is_clean() && a.value == right, "merge(a, a, b) != b");
    let a = json3(&base, &left, &base, &opts);
    assert!(a.is_clean() && a.value == left, "merge(a, b, a) != b");
    let a = json3(&base, &left, &left, &opts);
    assert!(a.is_clean() && a.value == left, "merge(a, b, b) != b");

    if opts.array_id_field.is_none() {
        let swapped = json3(&base, &right, &left, &opts);
        let pointers = |m: &twinsync_core::merge::JsonMerge| {
            let mut p: Vec<String> = m.conflicts.iter().map(|c| c.pointer.clone()).collect();
            p.sort();
            p
        };
        assert_eq!(pointers(&m), pointers(&swapped), "conflicts depend on which side is left");
        if m.is_clean() {
            assert_eq!(m.value, swapped.value, "a clean merge depends on which side is left");
        }
    }
});
