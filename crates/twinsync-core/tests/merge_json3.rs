//! `json3`: key-by-key merge, id-keyed arrays, conflicts with their JSON Pointers.

use serde_json::{json, Value};
use twinsync_core::merge::{json3, JsonMergeOptions};

fn plain() -> JsonMergeOptions {
    JsonMergeOptions::default()
}

fn by_id() -> JsonMergeOptions {
    JsonMergeOptions { array_id_field: Some("id".into()) }
}

#[test]
fn edits_to_different_keys_merge_recursively() {
    let b = json!({"a": 1, "n": {"x": 1, "y": 1}, "gone": true});
    let l = json!({"a": 2, "n": {"x": 1, "y": 1}, "gone": true, "new_l": 1});
    let r = json!({"a": 1, "n": {"x": 1, "y": 5}, "new_r": 2});
    let m = json3(&b, &l, &r, &plain());
    assert!(m.is_clean(), "{:?}", m.conflicts);
    assert_eq!(m.value, json!({"a": 2, "n": {"x": 1, "y": 5}, "new_l": 1, "new_r": 2}));
}

#[test]
fn same_edit_on_both_sides_is_clean() {
    let m = json3(&json!({"a": 1}), &json!({"a": 3}), &json!({"a": 3}), &plain());
    assert!(m.is_clean());
    assert_eq!(m.value, json!({"a": 3}));
}

#[test]
fn conflicting_edits_keep_left_and_report_the_pointer() {
    let b = json!({"x": {"a/b": 1, "t~": 1}});
    let l = json!({"x": {"a/b": 2, "t~": 2}});
    let r = json!({"x": {"a/b": 3, "t~": 1}});
    let m = json3(&b, &l, &r, &plain());
    assert_eq!(m.value, l);
    assert_eq!(m.conflicts.len(), 1);
    let c = &m.conflicts[0];
    assert_eq!(c.pointer, "/x/a~1b");
    assert_eq!((c.base.clone(), c.left.clone(), c.right.clone()), (Some(json!(1)), Some(json!(2)), Some(json!(3))));
}

#[test]
fn deletion_against_modification_conflicts() {
    let b = json!({"k": 1, "j": 1});
    let m = json3(&b, &json!({"j": 1}), &json!({"k": 2, "j": 1}), &plain());
    assert_eq!(m.conflicts.len(), 1);
    assert_eq!(m.conflicts[0].pointer, "/k");
    assert_eq!(m.conflicts[0].left, None);
    assert_eq!(m.value, json!({"j": 1}), "left's deletion is kept");

    let m = json3(&b, &json!({"k": 5, "j": 1}), &json!({"j": 1}), &plain());
    assert_eq!(m.conflicts[0].pointer, "/k");
    assert_eq!(m.conflicts[0].right, None);
    assert_eq!(m.value, json!({"k": 5, "j": 1}));
}

#[test]
fn deletion_against_no_change_deletes() {
    let m = json3(&json!({"k": 1, "j": 1}), &json!({"j": 1}), &json!({"k": 1, "j": 2}), &plain());
    assert!(m.is_clean());
    assert_eq!(m.value, json!({"j": 2}));
}

#[test]
fn arrays_are_atomic_without_an_id_field() {
    let m = json3(&json!({"a": [1, 2]}), &json!({"a": [0, 1, 2]}), &json!({"a": [1, 2, 3]}), &plain());
    assert_eq!(m.conflicts.len(), 1);
    assert_eq!(m.conflicts[0].pointer, "/a");
    assert_eq!(m.value, json!({"a": [0, 1, 2]}));
}

#[test]
fn id_keyed_arrays_merge_per_element() {
    let b = json!([{"id": 1, "v": "a"}, {"id": 2, "v": "b"}, {"id": 3, "v": "c"}]);
    let l = json!([{"id": 2, "v": "b"}, {"id": 1, "v": "A"}, {"id": 3, "v": "c"}, {"id": 4, "v": "l"}]);
    let r = json!([{"id": 1, "v": "a"}, {"id": 2, "v": "B"}, {"id": 5, "v": "r"}]);
    let m = json3(&b, &l, &r, &by_id());
    assert!(m.is_clean(), "{:?}", m.conflicts);
    // Left's order, right's new element appended; 3 deleted by right, unchanged by left.
    let want = json!([{"id": 2, "v": "B"}, {"id": 1, "v": "A"}, {"id": 4, "v": "l"}, {"id": 5, "v": "r"}]);
    assert_eq!(m.value, want);
}

#[test]
fn id_keyed_element_conflicts_point_into_the_array() {
    let b = json!({"items": [{"id": "x", "n": 1}, {"id": "y", "n": 1}]});
    let l = json!({"items": [{"id": "x", "n": 1}, {"id": "y", "n": 2}]});
    let r = json!({"items": [{"id": "x", "n": 1}, {"id": "y", "n": 3}]});
    let m = json3(&b, &l, &r, &by_id());
    assert_eq!(m.conflicts.len(), 1);
    assert_eq!(m.conflicts[0].pointer, "/items/1/n");
    assert_eq!(m.value, l);
}

#[test]
fn id_keyed_deletion_against_modification_conflicts() {
    let b = json!([{"id": 1, "n": 1}, {"id": 2, "n": 1}]);
    let l = json!([{"id": 2, "n": 1}]);
    let r = json!([{"id": 1, "n": 9}, {"id": 2, "n": 1}]);
    let m = json3(&b, &l, &r, &by_id());
    assert_eq!(m.conflicts.len(), 1);
    assert_eq!(m.conflicts[0].pointer, "/0", "index in base when left lacks the element");
    assert_eq!(m.value, l);
}

#[test]
fn arrays_without_unique_ids_stay_atomic() {
    let b = json!([{"id": 1}, {"id": 1}]);
    let m = json3(&b, &json!([{"id": 1}]), &json!([{"id": 1}, {"id": 1}, {"id": 2}]), &by_id());
    assert_eq!(m.conflicts.len(), 1);
    assert_eq!(m.conflicts[0].pointer, "");
}

#[test]
fn type_change_against_edit_conflicts_at_the_key() {
    let m = json3(&json!({"a": {"x": 1}}), &json!({"a": "flat"}), &json!({"a": {"x": 2}}), &plain());
    assert_eq!(m.conflicts.len(), 1);
    assert_eq!(m.conflicts[0].pointer, "/a");
    assert_eq!(m.value, json!({"a": "flat"}));
}

#[test]
fn both_adding_objects_at_a_key_merges_them() {
    let b: Value = json!({});
    let m = json3(&b, &json!({"n": {"a": 1}}), &json!({"n": {"b": 2}}), &plain());
    assert!(m.is_clean());
    assert_eq!(m.value, json!({"n": {"a": 1, "b": 2}}));
}
