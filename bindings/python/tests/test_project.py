"""The project handle on a real folder pair and the embedded SQLite store."""


import pytest

import twinsync

from conftest import run_beside_a_counter


def test_init_status_sync_history_undo(pair):
    (pair / "design" / "button.json").write_text('{"name": "Button", "size": "md"}')
    p = twinsync.init(str(pair), "design", "code", actor="ci-bot")
    assert isinstance(p, twinsync.Project)
    assert (p.actor, p.dir) == ("ci-bot", str(pair))
    s = p.status()
    assert [(i["key"], i["class"]) for i in s["items"]] == [("button.json", "added_left")]
    assert s["items"][0]["left"] == twinsync.canonical_hash({"size": "md", "name": "Button"})

    dry = p.sync(dry_run=True)
    assert dry["plan"]["actions"][0]["kind"] == "copy_to_right"
    assert not (pair / "code" / "button.json").exists()
    report = p.sync()
    assert (report["status"], report["counts"]["applied"], report["actor"]) == ("completed", 1, "ci-bot")
    assert (pair / "code" / "button.json").read_text() == '{"name": "Button", "size": "md"}'
    assert p.status()["items"] == []

    again = twinsync.open(str(pair / "code"))
    assert again.dir == str(pair)
    assert again.history()["operations"][0]["operation_id"] == report["operation_id"]
    assert [o["operation_id"] for o in p.undo_stack()["operations"]] == [report["operation_id"]]
    u = p.undo()
    assert u["restored"] == ["button.json"]
    assert not (pair / "code" / "button.json").exists()
    assert p.undo_stack()["operations"] == []
    assert p.history(1)["operations"][0]["undone_at"] is not None

    with pytest.raises(twinsync.ExpiredError) as e:
        p.undo(report["operation_id"])
    assert e.value.code == "EXPIRED"
    with pytest.raises(twinsync.NotFoundError):
        p.undo("feedface")
    with pytest.raises(twinsync.InvalidInput, match="coin-toss"):
        p.sync(policy="coin-toss")


def test_conflicts_are_kept_then_resolved_by_policy(pair):
    (pair / "design" / "a.md").write_text("base\n")
    p = twinsync.init(str(pair), "design", "code")
    p.sync()
    (pair / "design" / "a.md").write_text("left\n")
    (pair / "code" / "a.md").write_text("right\n")
    assert p.status()["counts"] == {"conflict_modify_modify": 1}
    assert p.sync()["counts"]["conflicts"] == 1
    assert (pair / "code" / "a.md").read_text() == "right\n"
    assert p.sync(policy="prefer-left")["counts"]["applied"] == 1
    assert (pair / "code" / "a.md").read_text() == "left\n"


def test_mass_deletion_is_unsafe(pair):
    for i in range(12):
        (pair / "design" / f"f{i}.md").write_text(f"{i}\n")
    p = twinsync.init(str(pair), "design", "code")
    p.sync()
    for f in (pair / "design").iterdir():
        f.unlink()
    with pytest.raises(twinsync.UnsafeError, match="would lose 12 of 12"):
        p.sync()
    assert (pair / "code" / "f0.md").exists()
    assert p.sync(allow_mass_delete=True)["counts"]["applied"] == 12


def test_locks(pair):
    mine = twinsync.init(str(pair), "design", "code", actor="alice")
    theirs = twinsync.open(str(pair), actor="bob")
    assert mine.lock.status() == {"held": False, "lock": None}
    got = mine.lock.acquire(ttl_ms=60_000, reason="release 1.2")
    assert got["acquired"] and got["lock"]["owner"] == "alice" and got["lock"]["token"]
    st = theirs.lock.status()
    assert st["held"] and st["lock"]["reason"] == "release 1.2" and "token" not in st["lock"]
    with pytest.raises(twinsync.LockedError, match="alice"):
        theirs.lock.acquire()
    with pytest.raises(twinsync.LockedError):
        theirs.lock.release("bob")
    with pytest.raises(twinsync.LockedError):
        theirs.lock.renew("bob")
    assert theirs.lock.renew(got["lock"]["token"], ttl_ms=120_000)["renewed"]
    assert mine.lock.release("alice")["released"]
    mine.lock.acquire()
    forced = theirs.lock.release("bob", force=True, reason="alice is on leave")
    assert (forced["released"], forced["forced"], forced["lock"]["owner"]) == (True, True, "alice")
    assert mine.lock.status()["held"] is False


def test_open_and_init_errors(pair):
    with pytest.raises(twinsync.NotFoundError, match="not a twinsync project"):
        twinsync.open(str(pair))
    with pytest.raises(twinsync.TwinsyncIOError) as e:
        twinsync.open(str(pair / "missing"))
    assert e.value.code == "IO"
    with pytest.raises(twinsync.InvalidInput, match="nowhere"):
        twinsync.init(str(pair), "design", "nowhere")
    twinsync.init(str(pair), "design", "code")
    with pytest.raises(twinsync.InvalidInput, match="already"):
        twinsync.init(str(pair), "design", "code")


def test_sync_releases_the_gil(pair):
    for i in range(300):
        (pair / "design" / f"f{i}.md").write_text(f"item {i}\n" * 50)
    p = twinsync.init(str(pair), "design", "code")
    report, during = run_beside_a_counter(p.sync)
    assert report["counts"]["applied"] == 300
    assert during > 0, "another Python thread ran while the sync did"
