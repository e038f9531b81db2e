"""The parity suite through uniffi's Python module: named pairs, events, watch, design
pairs, the OpenSpec database, credentials and test sessions, on a copy of the shared
fixture project (bindings/fixtures), doing and expecting what parity.json says, as the
Node, Python and Kotlin suites do."""

import json
import os
import pathlib
import queue
import shutil
import time

import pytest

import twinsync_uniffi as ts

FIXTURES = pathlib.Path(os.environ.get("TWINSYNC_FIXTURES_DIR") or pathlib.Path(__file__).resolve().parents[3] / "fixtures")
SPEC = json.loads((FIXTURES / "parity.json").read_text())
CODES = {
    "INVALID_INPUT": ts.TwinsyncError.InvalidInput, "NOT_FOUND": ts.TwinsyncError.NotFound,
    "CONFLICT": ts.TwinsyncError.Conflict, "LOCKED": ts.TwinsyncError.Locked,
    "EXPIRED": ts.TwinsyncError.Expired, "UNSAFE": ts.TwinsyncError.Unsafe, "IO": ts.TwinsyncError.Io,
}
UNKNOWN = SPEC["unknown_pair"]


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "project"
    shutil.copytree(FIXTURES / SPEC["project"], root)
    return root, ts.Project.open(str(root), SPEC["actor"])


def test_pairs_then_status_sync_history_undo_of_a_named_pair(project):
    root, p = project
    assert [{"name": x.name, "kind": x.kind, "left": x.left, "right": x.right} for x in p.pairs()] == SPEC["pairs"]
    with pytest.raises(CODES[SPEC["no_default_pair"]]):
        p.status()
    with pytest.raises(CODES[UNKNOWN["code"]]):
        p.status(UNKNOWN["name"])
    d = SPEC["docs"]
    assert [[i.key, i.drift_class.name.lower()] for i in p.status(d["pair"]).items] == d["status"]
    assert len(p.preview(ts.SyncOptions(pair=d["pair"])).plan.actions) == len(d["status"])
    r = p.sync(ts.SyncOptions(pair=d["pair"]))
    assert r.counts.applied == d["applied"]
    assert [o.operation_id for o in p.history(10, d["pair"])] == [r.operation_id]
    assert p.undo_stack(10, d["pair"])[0].operation_id == r.operation_id
    u = p.undo(None, d["pair"])
    assert (u.operation_id, len(u.restored)) == (r.operation_id, d["applied"])
    assert all(not (root / to).exists() for to in d["copied"])


def test_events_since_an_id(project):
    _, p = project
    d = SPEC["docs"]
    before = p.events()
    since = before[-1].id if before else 0
    r = p.sync(ts.SyncOptions(pair=d["pair"]))
    after = p.events(since)
    assert [e.event_type for e in after] == d["events"]
    assert [e.event_type for e in after if e.correlation_id == r.operation_id] == d["operation_events"]
    assert all(isinstance(json.loads(e.payload), dict) for e in after)
    assert p.events(since, 1) == after[:1]


def test_watch_through_a_callback_interface(project):
    root, p = project
    w = SPEC["watch"]
    notes = queue.Queue()

    class Listener(ts.WatchListener):
        def on_note(self, note):
            notes.put(note)

    handle = p.watch(Listener(), ts.WatchOptions(pairs=[w["pair"]], debounce_ms=w["debounce_ms"], period_ms=w["period_ms"]))
    seen = []
    arrives = root / w["arrives"]
    deadline = time.monotonic() + 30
    while not arrives.exists() and time.monotonic() < deadline:
        try:
            n = notes.get(timeout=0.2)
        except queue.Empty:
            continue
        seen.append(n)
        assert n.is_SYNCED() and n.pair == w["pair"], n
        if n.reason == "start":
            (root / w["write"]["path"]).write_text(w["write"]["text"])
    summary = handle.stop()
    assert arrives.read_text() == w["write"]["text"]
    assert seen[0].reason == "start"
    assert summary.syncs >= 2 and summary.failed == 0
    assert handle.stop() == ts.WatchSummary(syncs=0, applied=0, conflicts=0, failed=0)


def test_design_pairs_drift_and_sync(project):
    root, p = project
    d = SPEC["design"]
    assert len(p.design_preview().plan.actions) == d["applied"]
    r = p.design_sync(ts.DesignSyncOptions(pair=d["pair"], direction="code_to_design"))
    assert (r.counts.applied, r.scope) == (d["applied"], d["pair"])
    drift = json.loads(p.design_drift(d["pair"]))
    assert sorted(c["component"] for c in drift["components"]) == d["components"]
    with pytest.raises(ts.TwinsyncError.InvalidInput):
        p.design_sync(ts.DesignSyncOptions(components={"Badge": "up"}))


def test_openspec_database_query_edit_and_history(project):
    root, _ = project
    o = SPEC["openspec"]
    ts.openspec_sync(str(root))
    q = json.loads(ts.openspec_query(str(root), ts.OpenspecQueryOptions(kind=ts.OpenspecKind.CHANGE)))
    row = q["items"][0]
    assert [row["id"], row["status"], row["completedTasks"], row["totalTasks"]] == [o["change"], o["status"], o["completed"], o["total"]]
    assert ts.openspec_edit(str(root), o["change"], o["doc"], o["text"]).failed == 0
    assert (root / o["file"]).read_text() == o["text"]
    with pytest.raises(CODES[o["unknown_doc"]["code"]]):
        ts.openspec_edit(str(root), o["change"], o["unknown_doc"]["doc"], "x")
    history = ts.openspec_history(str(root), 10)
    assert [h.trigger for h in history][0] == "user_edit" and len(history) == 2


def test_credentials_are_metadata_only(project, monkeypatch):
    _, p = project
    c = SPEC["credential"]
    monkeypatch.setenv("TWINSYNC_MASTER_KEY", c["master_key"])
    seen = [p.credential_add(c["name"], c["secret"], c["provider"], None, c["metadata"])]
    seen.append(p.credential_validate(c["name"]))
    seen.append(p.credential_rotate(c["name"], c["secret"] + "-rotated", 86_400_000))
    assert [x.name for x in p.credentials()] == [c["name"]]
    assert p.credential(c["name"]).status == seen[-1].status
    seen.append(p.credential_revoke(c["name"]))
    assert [x.status for x in seen] == c["statuses"]
    assert c["secret"] not in repr(seen) + repr(p.events())


def test_test_sessions(project):
    _, p = project
    t = SPEC["test_session"]
    s = p.test_session_start(t["story"], t["correlation_id"])
    f = p.test_session_finish(s.id, t["status"], json.dumps(t["performance"]))
    assert (f.status, json.loads(f.performance)) == (t["status"], t["performance"])
    assert p.test_session(s.id) == f
    assert p.test_sessions(t["story"]) == [f]
    with pytest.raises(CODES[t["unknown"]["code"]]):
        p.test_session(t["unknown"]["id"])
