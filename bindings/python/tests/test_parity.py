"""The parity suite: named pairs, events, watch, design pairs, the OpenSpec database,
credentials and test sessions, on a copy of the shared fixture project
(bindings/fixtures), doing and expecting what bindings/fixtures/parity.json says: the
Node and Kotlin suites read the same file."""

import asyncio
import contextlib
import json
import os
import pathlib
import shutil
from typing import Any, Dict, Iterator, Tuple

import pytest

import twinsync


def fixtures_dir() -> pathlib.Path:
    env = os.environ.get("TWINSYNC_FIXTURES_DIR")
    # Default: the checkout's bindings/fixtures (tests/ -> python -> bindings).
    d = pathlib.Path(env) if env else pathlib.Path(__file__).resolve().parents[2] / "fixtures"
    assert (d / "parity.json").is_file(), f"no shared fixtures at {d} (set TWINSYNC_FIXTURES_DIR)"
    return d


SPEC: Dict[str, Any] = json.loads((fixtures_dir() / "parity.json").read_text())


@pytest.fixture
def project(tmp_path: pathlib.Path) -> Tuple[pathlib.Path, twinsync.Project]:
    """A fresh copy of the fixture project, and the project opened in it."""
    root = tmp_path / "project"
    shutil.copytree(fixtures_dir() / SPEC["project"], root)
    return root, twinsync.open(str(root), actor=SPEC["actor"])


@contextlib.contextmanager
def raises(code: str) -> Iterator[None]:
    """A twinsync error of `code` inside the block."""
    with pytest.raises(twinsync.TwinsyncError) as info:
        yield
    assert info.value.code == code, info.value


def test_pairs_list_then_status_sync_history_undo_of_a_named_pair(project):
    root, p = project
    assert isinstance(p.lock, twinsync.ProjectLock)
    pairs = [{k: x[k] for k in ("name", "kind", "left", "right")} for x in p.pairs()["pairs"]]
    assert pairs == SPEC["pairs"]
    with raises(SPEC["no_default_pair"]):
        p.status()
    unknown = SPEC["unknown_pair"]
    with raises(unknown["code"]):
        p.status(pair=unknown["name"])
    with raises(unknown["code"]):
        p.history(5, pair=unknown["name"])

    d = SPEC["docs"]
    status = p.status(pair=d["pair"])
    assert [[i["key"], i["class"]] for i in status["items"]] == d["status"]
    dry = p.sync(pair=d["pair"], dry_run=True)
    assert len(dry["plan"]["actions"]) == len(d["status"])
    report = p.sync(pair=d["pair"])
    assert report["counts"]["applied"] == d["applied"]
    for to, frm in d["copied"].items():
        assert (root / to).read_text() == (root / frm).read_text()
    assert p.status(pair=d["pair"])["items"] == []
    assert [o["operation_id"] for o in p.history(10, pair=d["pair"])["operations"]] == [report["operation_id"]]
    assert p.history(10, pair=SPEC["design"]["pair"])["operations"] == []
    assert p.undo_stack(10, pair=d["pair"])["operations"][0]["operation_id"] == report["operation_id"]
    undone = p.undo(pair=d["pair"])
    assert undone["operation_id"] == report["operation_id"]
    assert len(undone["restored"]) == d["applied"]
    for to in d["copied"]:
        assert not (root / to).exists()
    assert p.undo_stack(10, pair=d["pair"])["operations"] == []


def test_events_since_an_id_shaped_as_the_cli_prints_them(project):
    _, p = project
    before = p.events()
    since = before[-1]["id"] if before else 0
    report = p.sync(pair=SPEC["docs"]["pair"])
    after = p.events(since)
    assert [e["type"] for e in after] == SPEC["docs"]["events"]
    for e in after:
        assert sorted(e) == ["correlation_id", "id", "pair", "payload", "time", "type"]
        assert e["pair"] == SPEC["docs"]["pair"]
        assert e["id"] > since
    of_sync = [e["type"] for e in after if e["correlation_id"] == report["operation_id"]]
    assert of_sync == SPEC["docs"]["operation_events"]
    assert p.events(since, 1) == after[:1]
    assert p.events(after[-1]["id"]) == []
    with pytest.raises(OverflowError):
        p.events(-1)


def test_watch_is_an_iterator_of_notes_that_a_change_feeds_and_stop_ends(project):
    root, p = project
    w = SPEC["watch"]
    with raises(SPEC["unknown_pair"]["code"]):
        p.watch(pairs=[SPEC["unknown_pair"]["name"]])
    notes = []
    with p.watch(pairs=[w["pair"]], debounce_ms=w["debounce_ms"], period_ms=w["period_ms"]) as watch:
        assert isinstance(watch, twinsync.Watch)
        for note in watch:
            notes.append(note)
            assert (note["note"], note["pair"]) == (w["note"], w["pair"]), note
            if note["reason"] == "start":
                (root / w["write"]["path"]).write_text(w["write"]["text"])
            if (root / w["arrives"]).exists():
                break
    # The `with` block stopped it: the iterator ends, and a second stop is harmless.
    assert list(watch) == []
    assert watch.stop() == {"syncs": 0, "applied": 0, "conflicts": 0, "failed": 0}
    assert (root / w["arrives"]).read_text() == w["write"]["text"]
    assert notes[0]["reason"] == "start"
    assert any(n["reason"] == "change" for n in notes), notes

    again = p.watch(pairs=[w["pair"]], debounce_ms=w["debounce_ms"], period_ms=w["period_ms"])
    assert again.stop()["failed"] == 0


def test_watch_is_an_async_iterator_that_leaves_the_event_loop_free(project):
    """`async for` over a watch: a file written while it waits arrives as a note (after
    a wait that was cancelled, which a thread blocked on the channel would have taken),
    the event loop keeps running other tasks all the while (nothing blocks it), and
    `async with` stops the watch on leaving."""
    root, p = project
    w = SPEC["watch"]

    async def main() -> Tuple[list, int, Any, list]:
        ticks = 0
        running = True

        async def tick() -> None:
            nonlocal ticks
            while running:
                ticks += 1
                await asyncio.sleep(0.005)

        ticker = asyncio.create_task(tick())
        ticks_at_start = 0
        notes = []
        async with p.watch(pairs=[w["pair"]], debounce_ms=w["debounce_ms"], period_ms=w["period_ms"]) as watch:
            assert isinstance(watch, twinsync.Watch)
            async for note in watch:
                notes.append(note)
                assert (note["note"], note["pair"]) == (w["note"], w["pair"]), note
                if note["reason"] == "start":
                    # Nothing can arrive now (no change, an hour's period): a wait
                    # that times out is cancelled, and must not take the next note.
                    with pytest.raises(asyncio.TimeoutError):
                        await asyncio.wait_for(watch.__anext__(), 0.2)
                    ticks_at_start = ticks
                    (root / w["write"]["path"]).write_text(w["write"]["text"])
                if (root / w["arrives"]).exists():
                    break
        waited = ticks - ticks_at_start
        # Stopped by `async with`: the iterator ends at once, the loop still free.
        after = [n async for n in watch]
        running = False
        await ticker
        return notes, waited, watch.stop(), after

    notes, waited, stopped, after = asyncio.run(asyncio.wait_for(main(), timeout=60))
    assert (root / w["arrives"]).read_text() == w["write"]["text"]
    assert notes[0]["reason"] == "start"
    assert any(n["reason"] == "change" for n in notes), notes
    # The other task ran while the iterator waited for the change (the debounce alone
    # is 50 ms, ten of its 5 ms sleeps).
    assert waited >= 3, waited
    assert after == []
    assert stopped == {"syncs": 0, "applied": 0, "conflicts": 0, "failed": 0}


def test_design_pairs_drift_and_sync(project):
    root, p = project
    d = SPEC["design"]
    dry = p.design_sync(dry_run=True)
    assert not (root / d["written"]).exists()
    assert len(dry["plan"]["actions"]) == d["applied"]
    report = p.design_sync(pair=d["pair"], direction="code_to_design")
    assert (report["counts"]["applied"], report["scope"]) == (d["applied"], d["pair"])
    drift = p.design_drift(pair=d["pair"])
    assert sorted(c["component"] for c in drift["components"]) == d["components"]
    assert drift["totals"]["drifted"] == 0
    design = (root / d["written"]).read_text()
    (root / d["written"]).write_text(design.replace(d["edit"]["find"], d["edit"]["replace"]))
    after = p.design_drift()
    assert next(c for c in after["components"] if c["component"] == d["edit"]["component"])["status"] == d["edit"]["status"]
    with raises("INVALID_INPUT"):
        p.design_sync(direction="sideways")
    with raises("INVALID_INPUT"):
        p.design_sync(components={"Badge": "up"})
    with raises(SPEC["unknown_pair"]["code"]):
        p.design_drift(pair=SPEC["unknown_pair"]["name"])


def test_openspec_database_query_edit_and_history(project):
    root, _ = project
    o = SPEC["openspec"]
    twinsync.openspec_sync(str(root))
    q = twinsync.openspec_query(str(root), kind="change")
    assert q["count"] == 1
    row = q["items"][0]
    assert [row["id"], row["status"], row["completedTasks"], row["totalTasks"]] == [
        o["change"], o["status"], o["completed"], o["total"]]
    assert twinsync.openspec_query(str(root), search="no-such-word-anywhere")["count"] == 0
    with raises("INVALID_INPUT"):
        twinsync.openspec_query(str(root), sort="size")  # type: ignore[arg-type]

    edit = twinsync.openspec_edit(str(root), o["change"], o["doc"], o["text"])
    assert edit["failed"] == 0
    assert (root / o["file"]).read_text() == o["text"]
    rows = twinsync.openspec_query(str(root))["items"]
    assert next(r for r in rows if r["id"] == o["change"])["completedTasks"] == o["completed_after_edit"]
    with raises(o["unknown_doc"]["code"]):
        twinsync.openspec_edit(str(root), o["change"], o["unknown_doc"]["doc"], "x")

    history = twinsync.openspec_history(str(root), limit=10)
    assert len(history["operations"]) == 2, "the sync and the edit"
    assert history["operations"][0]["trigger"] == "user_edit"


@pytest.fixture
def master_key() -> Iterator[None]:
    saved = os.environ.get("TWINSYNC_MASTER_KEY")
    os.environ["TWINSYNC_MASTER_KEY"] = SPEC["credential"]["master_key"]
    yield
    if saved is None:
        del os.environ["TWINSYNC_MASTER_KEY"]
    else:
        os.environ["TWINSYNC_MASTER_KEY"] = saved


def test_credentials_are_metadata_only_never_the_secret(project, master_key):
    _, p = project
    c = SPEC["credential"]
    seen = [p.credential_add(c["name"], c["secret"], provider=c["provider"], metadata=c["metadata"])]
    assert [seen[0]["name"], seen[0]["provider"], seen[0]["metadata"]] == [c["name"], c["provider"], c["metadata"]]
    seen.append(p.credential_validate(c["name"]))
    seen.append(p.credential_rotate(c["name"], c["secret"] + "-rotated", rotate_every_ms=86_400_000))
    assert seen[2]["rotate_every_ms"] == 86_400_000
    assert [x["name"] for x in p.credentials()["credentials"]] == [c["name"]]
    assert p.credential(c["name"])["status"] == seen[2]["status"]
    seen.append(p.credential_revoke(c["name"]))
    assert [x["status"] for x in seen] == c["statuses"]
    assert c["secret"] not in json.dumps([seen, p.credentials(), p.events()])
    with raises(c["unknown"]["code"]):
        p.credential(c["unknown"]["name"])
    with raises(c["bad_provider"]["code"]):
        p.credential_add("other", c["secret"], provider=c["bad_provider"]["provider"])


def test_test_sessions_start_finish_get_and_list(project):
    _, p = project
    t = SPEC["test_session"]
    started = p.test_session_start(t["story"], correlation_id=t["correlation_id"])
    assert [started["story_id"], started["status"], started["correlation_id"]] == [t["story"], "running", t["correlation_id"]]
    assert started["latency_ms"] is None
    with raises(t["bad_status"]["code"]):
        p.test_session_finish(started["id"], t["bad_status"]["status"])
    finished = p.test_session_finish(started["id"], t["status"], performance=t["performance"])
    assert [finished["status"], finished["performance"]] == [t["status"], t["performance"]]
    assert finished["latency_ms"] >= 0
    assert p.test_session(started["id"]) == finished
    assert p.test_sessions(story=t["story"])["sessions"] == [finished]
    assert p.test_sessions(story="another-story", limit=5)["sessions"] == []
    assert any(e["type"] == t["event"] and e["correlation_id"] == t["correlation_id"] for e in p.events())
    with raises(t["unknown"]["code"]):
        p.test_session(t["unknown"]["id"])
