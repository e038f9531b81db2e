"""Drift, plan, merges and coverage over dicts and lists."""

import pytest

import twinsync


def test_detect_drift_classifies_every_drifted_key():
    base = {"same.md": "s", "edit.md": "old", "gone.md": "g", "both.json": {"v": 1}}
    left = {"same.md": "s", "edit.md": "new", "gone.md": "g", "both.json": {"v": 2}, "new.md": "n"}
    right = {"same.md": "s", "edit.md": "old", "both.json": {"v": 3}}
    d = twinsync.detect_drift(base, left, right)
    assert d["in_sync"] == 1
    assert [(i["key"], i["class"]) for i in d["items"]] == [
        ("both.json", "conflict_modify_modify"),
        ("edit.md", "changed_left"),
        ("gone.md", "deleted_right"),
        ("new.md", "added_left"),
    ]
    assert d["counts"] == {"changed_left": 1, "added_left": 1, "deleted_right": 1, "conflict_modify_modify": 1}
    assert d["items"][1]["left"] == twinsync.hash_text("new")
    assert d["items"][3]["base"] is None
    assert twinsync.detect_drift({}, {}, {}) == {"items": [], "counts": {}, "in_sync": 0}
    with pytest.raises(twinsync.InvalidInput, match="base"):
        twinsync.detect_drift({"/abs": "x"}, {}, {})


def test_ignore_rules_make_volatile_changes_in_sync():
    d = twinsync.detect_drift({"c.json": {"a": 1, "at": 1}}, {"c.json": {"a": 1, "at": 2}}, {"c.json": {"a": 1, "at": 1}}, ignore=["/at"])
    assert (d["in_sync"], d["items"]) == (1, [])


def test_plan_by_policy_and_direction():
    b, l, r = {"a.md": "1", "b.md": "x"}, {"a.md": "2", "b.md": "y"}, {"a.md": "3", "b.md": "x"}
    manual = twinsync.plan(b, l, r, now_ms=1_700_000_000_000)
    assert [(a["key"], a["kind"]) for a in manual["actions"]] == [("a.md", "conflict"), ("b.md", "copy_to_right")]
    right = twinsync.plan(b, l, r, policy="prefer-right", now_ms=1_700_000_000_000)
    assert right["actions"][0]["kind"] == "copy_to_left"
    assert right == twinsync.plan(b, l, r, policy="prefer-right", now_ms=1_700_000_000_000)
    assert right["operation_hash"] != manual["operation_hash"]
    pull = twinsync.plan(b, l, r, direction="right-to-left", now_ms=1)
    assert [a["kind"] for a in pull["actions"] if a["key"] == "b.md"] == ["skip"]
    with pytest.raises(twinsync.InvalidInput, match="coin-toss"):
        twinsync.plan(b, l, r, policy="coin-toss")
    with pytest.raises(twinsync.InvalidInput, match="direction"):
        twinsync.plan(b, l, r, direction="up")


def test_merge_text_like_git_merge_file():
    assert twinsync.merge_text("a\nb\nc\n", "A\nb\nc\n", "a\nb\nC\n") == {"text": "A\nb\nC\n", "conflicts": 0}
    c = twinsync.merge_text("a\n", "b\n", "c\n", labels=["mine", "orig", "theirs"], style="diff3")
    assert c == {"text": "<<<<<<< mine\nb\n||||||| orig\na\n=======\nc\n>>>>>>> theirs\n", "conflicts": 1}
    assert twinsync.merge_text("a\n", "b\n", "c\n", favor="theirs")["text"] == "c\n"
    assert twinsync.merge_text("a\n", "b\n", "c\n", marker_size=3)["text"] == "<<< left\nb\n===\nc\n>>> right\n"
    with pytest.raises(twinsync.InvalidInput, match="style"):
        twinsync.merge_text("", "", "", style="fancy")  # type: ignore[arg-type]
    with pytest.raises(twinsync.InvalidInput, match="3 labels"):
        twinsync.merge_text("", "", "", labels=["x"])


def test_merge_json_by_key_and_by_id():
    assert twinsync.merge_json({"a": 1, "b": 1}, {"a": 2, "b": 1}, {"a": 1, "b": 3}) == {"value": {"a": 2, "b": 3}, "conflicts": []}
    c = twinsync.merge_json({"t": {"x": 1}}, {"t": {"x": 2}}, {"t": {"x": 3}})
    assert c["conflicts"] == [{"pointer": "/t/x", "base": 1, "left": 2, "right": 3}]
    arr = twinsync.merge_json(
        {"l": [{"id": 1, "v": 0}, {"id": 2, "v": 0}]},
        {"l": [{"id": 1, "v": 1}, {"id": 2, "v": 0}]},
        {"l": [{"id": 1, "v": 0}, {"id": 2, "v": 2}]},
        array_id_field="id",
    )
    assert arr["value"] == {"l": [{"id": 1, "v": 1}, {"id": 2, "v": 2}]}
    with pytest.raises(twinsync.InvalidInput, match="not JSON"):
        twinsync.merge_json({}, {"a": object()}, {})


def test_coverage_over_dicts():
    data = {
        "components": [{"name": "Button", "axes": [{"name": "size", "options": ["sm", "md", "lg"]}]}],
        "stories": [
            {"id": "button--sm", "component": "Button", "args": {"size": "sm"}, "tags": ["a11y"]},
            {"id": "button--md", "component": "Button", "args": {"size": "md"}, "has_play": True},
        ],
        "tests": [{"component": "Button", "kind": "visual"}],
    }
    r = twinsync.coverage(data)
    assert r["totals"]["percent"] == 66.66
    assert r["components"][0]["missing_variants"] == [{"size": "lg"}]
    strict = twinsync.coverage(data, required_kinds=["unit"], missing_limit=0)
    assert strict["components"][0]["missing_test_kinds"] == ["unit"]
    assert strict["components"][0]["missing_variants_total"] == 1
    with pytest.raises(twinsync.InvalidInput, match="more than once"):
        twinsync.coverage({"components": [{"name": "A"}, {"name": "A"}]})
    with pytest.raises(twinsync.InvalidInput, match="coverage input"):
        twinsync.coverage({"components": "Button"})
    with pytest.raises(twinsync.InvalidInput, match="snapshot"):
        twinsync.coverage(data, required_kinds=["snapshot"])  # type: ignore[list-item]
