"""Every function, method and error case of the uniffi Python bindings, against the built library."""

import hashlib
import json
import os
import re

import pytest

import twinsync_uniffi as ts

SHA = re.compile(r"^sha256:[0-9a-f]{64}$")
D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
D3 = "sha256:" + "3" * 64
NOW = 1_700_000_000_000


def raises(case, fragment):
    """Expects the error case `case` whose message contains `fragment`."""

    class Check:
        def __enter__(self):
            self.ctx = pytest.raises(case)
            self.info = self.ctx.__enter__()
            return self.info

        def __exit__(self, *exc):
            handled = self.ctx.__exit__(*exc)
            assert fragment in str(self.info.value), str(self.info.value)
            return handled

    return Check()


# --- canonical hashing -------------------------------------------------------------


def test_canonicalize_sorts_keys_and_normalises_numbers():
    assert ts.canonicalize('{"b": 1.0, "a": [true, null, "x"]}') == '{"a":[true,null,"x"],"b":1}'


def test_canonicalize_drops_ignored_fields():
    assert ts.canonicalize('{"id": 1, "updatedAt": "now"}', ts.HashOptions(ignore=["/updatedAt"])) == '{"id":1}'


def test_canonicalize_big_integers_and_depth_options():
    with raises(ts.TwinsyncError.InvalidInput, "2^53"):
        ts.canonicalize("12345678901234567890")
    assert ts.canonicalize("12345678901234567890", ts.HashOptions(big_integers="string")) == '"12345678901234567890"'
    with raises(ts.TwinsyncError.InvalidInput, "big_integers"):
        ts.canonicalize("1", ts.HashOptions(big_integers="round"))
    with raises(ts.TwinsyncError.InvalidInput, "deeper than 2"):
        ts.canonicalize("[[[1]]]", ts.HashOptions(max_depth=2))


def test_canonicalize_rejects_bad_json():
    with raises(ts.TwinsyncError.InvalidInput, "invalid JSON"):
        ts.canonicalize('{"a": }')


def test_canonicalize_names_the_duplicate_key():
    with raises(ts.TwinsyncError.InvalidInput, 'duplicate key "a"'):
        ts.canonicalize('{"a": 1, "a": 2}')


def test_canonicalize_rejects_a_bad_ignore_pattern():
    with raises(ts.TwinsyncError.InvalidInput, "pattern"):
        ts.canonicalize("{}", ts.HashOptions(ignore=["no-leading-slash"]))


def test_canonical_hash_ignores_formatting_and_key_order():
    a = ts.canonical_hash('{"a": 1, "b": [1, 2]}')
    assert SHA.match(a)
    assert a == ts.canonical_hash('{ "b":[1,2],\n "a":1 }')
    assert a != ts.canonical_hash('{"a": 2, "b": [1, 2]}')


def test_canonical_hash_is_sha256_of_the_canonical_text():
    doc = '{"z": "\\u00e9", "a": 1e2}'
    assert ts.canonical_hash(doc) == "sha256:" + hashlib.sha256(ts.canonicalize(doc).encode()).hexdigest()


def test_canonical_hash_with_ignore_equals_the_document_without_the_field():
    assert ts.canonical_hash('{"a": 1, "t": 5}', ts.HashOptions(ignore=["/t"])) == ts.canonical_hash('{"a": 1}')


def test_canonical_hash_rejects_nan_like_input():
    with raises(ts.TwinsyncError.InvalidInput, "invalid JSON"):
        ts.canonical_hash("NaN")


def test_hash_text_normalises_line_ends_and_bom():
    assert ts.hash_text("a\r\nb\n") == ts.hash_text("\ufeffa\nb\n")
    assert ts.hash_text("a \nb") != ts.hash_text("a\nb")
    assert ts.hash_text("a \nb", ts.HashOptions(trim_trailing_whitespace=True)) == ts.hash_text("a\nb")
    assert ts.hash_text("") == "sha256:" + hashlib.sha256(b"").hexdigest()


def test_hash_bytes_is_plain_sha256():
    assert ts.hash_bytes(b"a\r\n") == "sha256:" + hashlib.sha256(b"a\r\n").hexdigest()
    assert ts.hash_bytes(b"a\r\n") != ts.hash_text("a\r\n")


def test_tree_digest_is_order_free_and_content_sensitive():
    t = ts.tree_digest({"a.md": D1, "b.md": D2})
    assert SHA.match(t)
    assert t == ts.tree_digest({"b.md": D2, "a.md": D1})
    assert t != ts.tree_digest({"a.md": D1, "b.md": D3})


def test_tree_digest_hashes_text_content_like_hash_text():
    assert ts.tree_digest({"a.md": "# A\r\n"}) == ts.tree_digest({"a.md": ts.hash_text("# A\n")})


def test_tree_digest_rejects_a_malformed_digest_naming_the_key():
    with raises(ts.TwinsyncError.InvalidInput, 'entries["a.md"]'):
        ts.tree_digest({"a.md": "sha256:abc"})


def test_tree_digest_rejects_an_invalid_key():
    with raises(ts.TwinsyncError.InvalidInput, "../escape"):
        ts.tree_digest({"../escape": D1})


# --- drift and plan ----------------------------------------------------------------

BASE = {"same": D1, "left-edit": D1, "both-edit": D1, "gone-left": D1}
LEFT = {"same": D1, "left-edit": D2, "both-edit": D2}
RIGHT = {"same": D1, "left-edit": D1, "both-edit": D3, "gone-left": D1, "new-right": D2}


def test_detect_drift_lists_drifted_items_in_key_order_with_counts():
    d = ts.detect_drift(BASE, LEFT, RIGHT)
    assert [(i.key, i.drift_class) for i in d.items] == [
        ("both-edit", ts.DriftClass.CONFLICT_MODIFY_MODIFY),
        ("gone-left", ts.DriftClass.DELETED_LEFT),
        ("left-edit", ts.DriftClass.CHANGED_LEFT),
        ("new-right", ts.DriftClass.ADDED_RIGHT),
    ]
    assert d.counts == {"changed_left": 1, "added_right": 1, "deleted_left": 1, "conflict_modify_modify": 1}
    assert d.in_sync == 1
    gone = d.items[1]
    assert (gone.base, gone.left, gone.right) == (D1, None, D1)


def test_detect_drift_takes_text_content_as_well_as_digests():
    d = ts.detect_drift({"a": "x\n"}, {"a": "x\r\n"}, {"a": ts.hash_text("y\n")})
    assert [(i.key, i.drift_class) for i in d.items] == [("a", ts.DriftClass.CHANGED_RIGHT)]


def test_detect_drift_rejects_a_bad_digest_naming_side_and_key():
    with raises(ts.TwinsyncError.InvalidInput, 'right["x"]'):
        ts.detect_drift({}, {}, {"x": "sha256:zz"})


def test_plan_follows_policy_and_direction():
    p = ts.plan(BASE, LEFT, RIGHT, ts.PlanOptions(policy="prefer-left", now_ms=NOW))
    assert {a.key: a.kind for a in p.actions} == {
        "both-edit": ts.ActionKind.COPY_TO_RIGHT,
        "gone-left": ts.ActionKind.DELETE_RIGHT,
        "left-edit": ts.ActionKind.COPY_TO_RIGHT,
        "new-right": ts.ActionKind.COPY_TO_LEFT,
    }
    assert (p.policy, p.direction) == ("prefer-left", "both")
    assert re.match(r"^[0-9a-f]{64}$", p.operation_id)
    assert p.counts["conflict_modify_modify"] == 1
    manual = ts.plan(BASE, LEFT, RIGHT, ts.PlanOptions(direction="left-to-right", now_ms=NOW))
    kinds = {a.key: a.kind for a in manual.actions}
    assert kinds["both-edit"] == ts.ActionKind.CONFLICT
    assert kinds["new-right"] == ts.ActionKind.SKIP
    assert (manual.policy, manual.direction) == ("manual", "left_to_right")
    assert all(a.reason for a in manual.actions)


def test_plan_operation_id_is_stable_within_a_minute():
    a = ts.plan(BASE, LEFT, RIGHT, ts.PlanOptions(now_ms=NOW))
    assert a.operation_id == ts.plan(BASE, LEFT, RIGHT, ts.PlanOptions(now_ms=NOW + 500)).operation_id
    assert a.operation_id != ts.plan(BASE, LEFT, RIGHT, ts.PlanOptions(policy="prefer-right", now_ms=NOW)).operation_id


def test_plan_defaults_to_manual_both():
    p = ts.plan(BASE, LEFT, RIGHT)
    assert (p.policy, p.direction) == ("manual", "both")


def test_plan_rejects_an_unknown_policy_and_direction():
    with raises(ts.TwinsyncError.InvalidInput, "invalid policy"):
        ts.plan({}, {}, {}, ts.PlanOptions(policy="sometimes"))
    with raises(ts.TwinsyncError.InvalidInput, "invalid direction"):
        ts.plan({}, {}, {}, ts.PlanOptions(direction="sideways"))


# --- merge -------------------------------------------------------------------------


def test_merge_text_merges_separate_edits_cleanly():
    m = ts.merge_text("a\nb\nc\n", "A\nb\nc\n", "a\nb\nC\n")
    assert (m.text, m.conflicts) == ("A\nb\nC\n", 0)


def test_merge_text_marks_conflicts_with_labels_and_style():
    opts = ts.MergeTextOptions(labels=["mine", "old", "theirs"], style=ts.ConflictStyle.DIFF3)
    m = ts.merge_text("x\n", "left\n", "right\n", opts)
    assert m.conflicts == 1
    assert m.text == "<<<<<<< mine\nleft\n||||||| old\nx\n=======\nright\n>>>>>>> theirs\n"


def test_merge_text_favor_and_marker_size():
    assert ts.merge_text("x\n", "l\n", "r\n", ts.MergeTextOptions(favor=ts.Favor.THEIRS)).text == "r\n"
    assert ts.merge_text("x\n", "l\n", "r\n", ts.MergeTextOptions(favor=ts.Favor.OURS)).text == "l\n"
    assert ts.merge_text("x\n", "l\n", "r\n", ts.MergeTextOptions(favor=ts.Favor.UNION)).text == "l\nr\n"
    assert ts.merge_text("x\n", "l\n", "r\n", ts.MergeTextOptions(favor=ts.Favor.MARKERS)).conflicts == 1
    m = ts.merge_text("x\n", "l\n", "r\n", ts.MergeTextOptions(marker_size=3, style=ts.ConflictStyle.ZDIFF3))
    assert m.text.startswith("<<< left\n")


def test_merge_text_rejects_two_labels():
    with raises(ts.TwinsyncError.InvalidInput, "labels: expected 3"):
        ts.merge_text("", "", "", ts.MergeTextOptions(labels=["a", "b"]))


def test_merge_json_merges_keys_and_reports_conflicts_by_pointer():
    m = ts.merge_json('{"a": 1, "b": 1, "c": 1}', '{"a": 2, "b": 1, "c": 5}', '{"a": 1, "b": 3, "c": 6}')
    assert json.loads(m.value) == {"a": 2, "b": 3, "c": 5}
    assert [(c.pointer, c.base, c.left, c.right) for c in m.conflicts] == [("/c", "1", "5", "6")]


def test_merge_json_delete_against_edit_conflicts_with_an_absent_side():
    m = ts.merge_json('{"a": 1}', "{}", '{"a": 2}')
    assert [(c.pointer, c.base, c.left, c.right) for c in m.conflicts] == [("/a", "1", None, "2")]


def test_merge_json_by_array_id():
    base = '{"xs": [{"id": 1, "v": 0}, {"id": 2, "v": 0}]}'
    left = '{"xs": [{"id": 1, "v": 1}, {"id": 2, "v": 0}]}'
    right = '{"xs": [{"id": 1, "v": 0}, {"id": 2, "v": 2}]}'
    assert ts.merge_json(base, left, right).conflicts
    m = ts.merge_json(base, left, right, "id")
    assert m.conflicts == []
    assert json.loads(m.value) == {"xs": [{"id": 1, "v": 1}, {"id": 2, "v": 2}]}


def test_merge_json_names_the_bad_side():
    with raises(ts.TwinsyncError.InvalidInput, "right: invalid JSON"):
        ts.merge_json("{}", "{}", "{")


# --- coverage ----------------------------------------------------------------------

COVERAGE = {
    "components": [
        {"name": "Button", "source": "src/Button.tsx", "axes": [{"name": "size", "options": ["sm", "lg"]}]},
    ],
    "stories": [
        {"id": "button--small", "component": "Button", "args": {"size": "sm"}, "tags": ["visual"]},
        {"id": "button--huge", "component": "Button", "args": {"size": "xl"}},
        {"id": "card--x", "component": "Card"},
    ],
    "tests": [{"component": "Button", "kind": "unit"}],
}


def test_coverage_reports_covered_and_missing_variants():
    r = ts.coverage(json.dumps(COVERAGE))
    t = r.totals
    assert (t.components, t.total_variants, t.covered_variants, t.percent) == (1, 2, 1, 50.0)
    assert (t.stories, t.fully_covered_components, t.components_missing_test_kinds, t.warnings) == (2, 0, 1, 2)
    (button,) = r.components
    assert (button.component, button.source, button.stories) == ("Button", "src/Button.tsx", 2)
    assert [json.loads(v) for v in button.missing_variants] == [{"size": "lg"}]
    assert button.missing_variants_total == 1
    assert button.test_kinds == [ts.TestKind.VISUAL, ts.TestKind.UNIT]
    assert button.missing_test_kinds == [ts.TestKind.INTERACTION, ts.TestKind.A11Y]
    assert [w.kind for w in button.warnings] == ["unknown_option"]
    assert "button--huge" in button.warnings[0].message
    assert [w.kind for w in r.warnings] == ["story_for_unknown_component"]


def test_coverage_options_limit_and_required_kinds():
    opts = ts.CoverageOptions(missing_limit=0, required_kinds=[ts.TestKind.UNIT])
    (button,) = ts.coverage(json.dumps(COVERAGE), opts).components
    assert button.missing_variants == []
    assert button.missing_variants_total == 1
    assert button.missing_test_kinds == []


def test_coverage_rejects_malformed_input():
    with raises(ts.TwinsyncError.InvalidInput, "coverage input"):
        ts.coverage('{"components": 3}')
    with raises(ts.TwinsyncError.InvalidInput, "coverage input: invalid JSON"):
        ts.coverage("{")
    with raises(ts.TwinsyncError.InvalidInput, "more than once"):
        ts.coverage(json.dumps({"components": [{"name": "A"}, {"name": "A"}]}))


# --- the project handle ------------------------------------------------------------


@pytest.fixture
def project(tmp_path):
    (tmp_path / "left").mkdir()
    (tmp_path / "right").mkdir()
    return ts.Project.create(str(tmp_path), "left", "right", "alice")


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_create_open_dir_and_actor(tmp_path, project):
    assert os.path.samefile(project.dir(), tmp_path)
    assert project.actor() == "alice"
    again = ts.Project.open(str(tmp_path / "left"), "bob")
    assert os.path.samefile(again.dir(), tmp_path)
    assert again.actor() == "bob"
    again.set_actor("carol")
    assert again.actor() == "carol"


def test_create_twice_is_invalid_input(tmp_path, project):
    with raises(ts.TwinsyncError.InvalidInput, "already a twinsync project"):
        ts.Project.create(str(tmp_path), "left", "right")


def test_create_with_a_missing_replica_folder_is_invalid_input(tmp_path):
    with raises(ts.TwinsyncError.InvalidInput, "not a folder"):
        ts.Project.create(str(tmp_path), "left", "nowhere")


def test_open_outside_a_project_is_not_found(tmp_path):
    with raises(ts.TwinsyncError.NotFound, "not a twinsync project"):
        ts.Project.open(str(tmp_path))


def test_open_a_missing_folder_is_io(tmp_path):
    with raises(ts.TwinsyncError.Io, "missing"):
        ts.Project.open(str(tmp_path / "missing"))


def test_set_actor_rejects_empty(project):
    with raises(ts.TwinsyncError.InvalidInput, "actor"):
        project.set_actor("  ")


def test_status_preview_sync_history_undo(tmp_path, project):
    write(tmp_path / "left" / "docs" / "a.md", "# A\n")
    st = project.status()
    assert [(i.key, i.drift_class, i.right) for i in st.items] == [("docs/a.md", ts.DriftClass.ADDED_LEFT, None)]
    assert st.items[0].left == ts.hash_text("# A\n")
    assert (st.counts, st.in_sync) == ({"added_left": 1}, 0)

    pv = project.preview()
    assert [(a.key, a.kind) for a in pv.plan.actions] == [("docs/a.md", ts.ActionKind.COPY_TO_RIGHT)]
    assert [(d.key, d.action) for d in pv.diffs] == [("docs/a.md", ts.ActionKind.COPY_TO_RIGHT)]
    assert "+# A" in pv.diffs[0].diff
    assert not (tmp_path / "right" / "docs" / "a.md").exists()

    report = project.sync()
    assert (report.status, report.actor, report.trigger) == ("completed", "alice", "manual")
    assert (report.counts.planned, report.counts.applied, report.counts.failed) == (1, 1, 0)
    item = report.items[0]
    assert (item.key, item.outcome, item.action) == ("docs/a.md", ts.Outcome.APPLIED, ts.ActionKind.COPY_TO_RIGHT)
    assert item.left == item.right == ts.hash_text("# A\n")
    assert report.reversible_until is not None and not report.replayed
    assert (tmp_path / "right" / "docs" / "a.md").read_text() == "# A\n"
    assert project.status().items == []

    assert [o.operation_id for o in project.history()] == [report.operation_id]
    assert [o.operation_id for o in project.undo_stack(5)] == [report.operation_id]

    undo = project.undo(report.operation_id)
    assert (undo.operation_id, undo.restored, undo.refused) == (report.operation_id, ["docs/a.md"], [])
    assert not (tmp_path / "right" / "docs" / "a.md").exists()
    assert project.history(10)[0].undone_at is not None
    assert project.undo_stack() == []


def test_sync_conflict_is_reported_with_both_versions(tmp_path, project):
    write(tmp_path / "left" / "n.txt", "base\n")
    project.sync()
    write(tmp_path / "left" / "n.txt", "left\n")
    write(tmp_path / "right" / "n.txt", "right\n")
    r = project.sync()
    assert r.counts.conflicts == 1
    (c,) = r.conflicts
    assert (c.key, c.drift_class) == ("n.txt", ts.DriftClass.CONFLICT_MODIFY_MODIFY)
    assert (c.left, c.right) == (b"left\n", b"right\n")
    assert c.left_digest == ts.hash_text("left\n")
    won = project.sync(ts.SyncOptions(policy="prefer-right"))
    assert (won.counts.applied, won.policy) == (1, "prefer-right")
    assert (tmp_path / "left" / "n.txt").read_text() == "right\n"


def test_sync_direction_override(tmp_path, project):
    write(tmp_path / "right" / "r.txt", "r\n")
    r = project.sync(ts.SyncOptions(direction="left-to-right"))
    assert r.items[0].outcome == ts.Outcome.SKIPPED
    assert r.direction == "left_to_right"
    assert not (tmp_path / "left" / "r.txt").exists()


def test_sync_rejects_a_bad_policy_and_direction(project):
    with raises(ts.TwinsyncError.InvalidInput, "invalid policy"):
        project.sync(ts.SyncOptions(policy="whoever"))
    with raises(ts.TwinsyncError.InvalidInput, "invalid direction"):
        project.preview(ts.SyncOptions(direction="up"))


def test_mass_deletion_is_unsafe_unless_allowed(tmp_path, project):
    for i in range(12):
        write(tmp_path / "left" / f"f{i}.txt", f"{i}\n")
    project.sync()
    for i in range(12):
        (tmp_path / "left" / f"f{i}.txt").unlink()
    with raises(ts.TwinsyncError.Unsafe, "would lose 12 of 12"):
        project.sync()
    assert len(list((tmp_path / "right").iterdir())) == 12
    assert project.sync(ts.SyncOptions(allow_mass_delete=True)).counts.applied == 12
    assert list((tmp_path / "right").iterdir()) == []


def test_undo_errors(tmp_path, project):
    with pytest.raises(ts.TwinsyncError.NotFound):
        project.undo()
    with pytest.raises(ts.TwinsyncError.NotFound):
        project.undo("0" * 64)
    write(tmp_path / "left" / "a.txt", "a\n")
    op = project.sync().operation_id
    project.undo()
    with raises(ts.TwinsyncError.Expired, "already undone"):
        project.undo(op)


def test_locks(tmp_path, project):
    assert (project.lock_status().held, project.lock_status().lock) == (False, None)
    lock = project.lock_acquire(60_000, "release prep")
    assert (lock.name, lock.owner, lock.reason) == ("project", "alice", "release prep")
    assert len(lock.token) >= 16
    status = project.lock_status()
    assert status.held and (status.lock.owner, status.lock.token) == ("alice", "")

    bob = ts.Project.open(str(tmp_path), "bob")
    with raises(ts.TwinsyncError.Locked, "held by alice"):
        bob.lock_acquire()
    with raises(ts.TwinsyncError.Locked, "not held by bob"):
        bob.lock_renew("bob")
    with raises(ts.TwinsyncError.Locked, "not held by bob"):
        bob.lock_release("bob")

    renewed = project.lock_renew(lock.token, 120_000)
    assert renewed.expires_at > lock.expires_at
    assert renewed.token == ""
    released = project.lock_release("alice")
    assert (released.released, released.forced, released.lock.owner) == (True, False, "alice")
    assert not project.lock_status().held
    with raises(ts.TwinsyncError.Locked, "not held"):
        project.lock_release("alice")

    bob.lock_acquire()
    forced = project.lock_release("alice", True, "bob left for the day")
    assert (forced.released, forced.forced, forced.lock.owner) == (True, True, "bob")
    nothing = project.lock_release("alice", force=True)
    assert (nothing.released, nothing.lock) == (False, None)


def test_one_handle_serves_several_threads(tmp_path, project):
    from concurrent.futures import ThreadPoolExecutor

    for i in range(20):
        write(tmp_path / "left" / f"f{i}.txt", f"{i}\n")

    def work(i):
        if i % 4 == 0:
            return ("sync", project.sync().counts.failed)
        return ("status", len(project.status().items) in (0, 20))

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(work, range(16)))
    assert ("sync", 0) in results
    assert all(ok for kind, ok in results if kind == "status")
    assert project.status().items == []
    assert len(list((tmp_path / "right").iterdir())) == 20


def test_error_cases_are_subclasses_of_twinsync_error():
    for case in ["InvalidInput", "NotFound", "Conflict", "Locked", "Expired", "Unsafe", "Io"]:
        assert issubclass(getattr(ts.TwinsyncError, case), ts.TwinsyncError)
    assert issubclass(ts.TwinsyncError, Exception)


def test_json_text_forms_are_the_same_functions():
    doc = '{"b": 2, "a": 1}'
    assert ts.canonicalize_json(doc) == ts.canonicalize(doc) == '{"a":1,"b":2}'
    opts = ts.HashOptions(ignore=["/b"])
    assert ts.canonical_hash_json(doc, opts) == ts.canonical_hash(doc, opts) == ts.canonical_hash('{"a":1}')
    with raises(ts.TwinsyncError.InvalidInput, "invalid JSON"):
        ts.canonical_hash_json("[1,")


# --- RFC 8785 conformance data shared with the other bindings (tests/jcs) -----------

JCS = os.environ.get("TWINSYNC_JCS_DIR") or os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "tests", "jcs")


@pytest.fixture(scope="module")
def jcs():
    assert os.path.isdir(os.path.join(JCS, "input")), f"no conformance data at {JCS} (set TWINSYNC_JCS_DIR)"
    return JCS


@pytest.mark.parametrize("case", ["arrays", "french", "structures", "unicode", "values", "weird"])
def test_jcs_conformance_documents(jcs, case):
    with open(os.path.join(jcs, "input", case + ".json"), encoding="utf-8") as f:
        doc = f.read()
    with open(os.path.join(jcs, "output", case + ".json"), "rb") as f:
        expected = f.read()
    assert ts.canonicalize(doc).encode("utf-8") == expected
    assert ts.canonical_hash(doc) == "sha256:" + hashlib.sha256(expected).hexdigest()


def test_jcs_number_vector(jcs):
    import struct
    import subprocess

    # Node writes the vector with its own Number#toString (the Rust conformance test
    # checks these are the upstream bytes).
    vector = subprocess.run(
        ["node", os.path.join(jcs, "es6numbers.mjs"), "100000"], check=True, capture_output=True, text=True
    ).stdout
    docs, expected = [], []
    for line in vector.splitlines():
        bits, want = line.split(",")
        value = struct.unpack(">d", int(bits, 16).to_bytes(8, "big"))[0]
        docs.append(repr(value))
        expected.append(want)
    assert len(docs) == 100_000
    # One call per thousand numbers keeps the boundary cost out of the way.
    for i in range(0, len(docs), 1000):
        got = ts.canonicalize("[" + ",".join(docs[i : i + 1000]) + "]")
        assert got == "[" + ",".join(expected[i : i + 1000]) + "]", f"numbers {i}..{i + 1000}"


def test_error_message_is_the_reason_text():
    with pytest.raises(ts.TwinsyncError.InvalidInput) as e:
        ts.merge_json("{}", "[", "{}")
    assert str(e.value).startswith("left: invalid JSON")


# --- the suites keep up with the surface --------------------------------------------


def exported():
    """Top-level functions and Project methods of the generated module."""
    import inspect

    funcs = [n for n, f in vars(ts).items() if inspect.isfunction(f) and f.__module__ == ts.__name__ and not n.startswith("_")]
    methods = [n for n in vars(ts.Project) if not n.startswith("_")]
    return sorted(funcs), sorted(methods)


def camel(name):
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def test_every_export_is_called_by_both_suites():
    here = os.path.dirname(__file__)
    py = ""
    for name in sorted(os.listdir(here)):
        if name.startswith("test_") and name.endswith(".py"):
            with open(os.path.join(here, name)) as f:
                py += f.read()
    kt = ""
    kotlin = os.path.join(here, "..", "kotlin")
    for name in sorted(os.listdir(kotlin)):
        if name.endswith(".kt"):
            with open(os.path.join(kotlin, name)) as f:
                kt += f.read()
    funcs, methods = exported()
    assert "canonical_hash" in funcs and "openspec_sync" in funcs and "lock_acquire" in methods
    missing = [n for n in funcs + methods if not re.search(rf"\.{n}\(", py)]
    missing += [f"kotlin {camel(n)}" for n in funcs + methods if not re.search(rf"(?<![\w.]){camel(n)}\(|\.{camel(n)}\(", kt)]
    assert missing == []
