"""The package is typed: mypy accepts the stubs and a realistic user script in strict mode."""

import pathlib
import subprocess
import sys

USER_SCRIPT = '''
import twinsync

digest: str = twinsync.canonical_hash({"a": 1}, ignore=["/updatedAt"], big_integers="string")
drift = twinsync.detect_drift({}, {}, {"a.md": digest})
items = drift["items"]
merged = twinsync.merge_text("a", "b", "c", style="diff3", labels=["l", "b", "r"])
p: twinsync.Project = twinsync.open(".", actor="ci")
report = p.sync(dry_run=True, policy="prefer-left")
token: str = p.lock.acquire(ttl_ms=1000)["lock"]["token"]
try:
    p.undo()
except twinsync.ExpiredError as e:
    code: str = e.code
synced = twinsync.openspec_sync(".", change="add-login", dry_run=True, policy="merge")
mode: str = synced["mode"]
covered: int = twinsync.design_coverage("components.json", "index.json")["totals"]["covered_variants"]
files = twinsync.design_scaffold("components.json", "stories", pairwise=True, dry_run=True, root=".")["files"]
names = [x["name"] for x in p.pairs()["pairs"]]
docs = p.status(pair="docs")
events = p.events(0, 10)
with p.watch(pairs=["docs"], debounce_ms=50) as watch:
    for note in watch:
        break


async def watch_async() -> str:
    async with p.watch(pairs=["docs"]) as aw:
        async for anote in aw:
            return str(anote["note"])
    return ""
drifted = p.design_sync(pair="ui", direction="code_to_design", components={"Badge": "design_to_code"}, dry_run=True)
cred_status: str = p.credential_add("figma", "secret", provider="design", metadata={"team": "x"})["status"]
session = p.test_session_finish(p.test_session_start("story")["id"], "passed", performance={"lcp_ms": 1})
rows: int = twinsync.openspec_query(".", status="approved", sort="age", kind="change")["count"]
edited = twinsync.openspec_edit(".", "add-login", "tasks.md", None, kind="change", policy="merge")
'''

BAD_SCRIPT = '''
import twinsync
twinsync.merge_text("a", "b", "c", style="fancy")
twinsync.canonical_hash({}, ignore="/x", unknown=1)
twinsync.openspec_sync(".", policy="prefer-left")
'''


def run_mypy(tmp_path: pathlib.Path, source: str) -> subprocess.CompletedProcess:
    f = tmp_path / "script.py"
    f.write_text(source)
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", str(tmp_path / ".mypy"), str(f)],
        capture_output=True,
        text=True,
    )


def test_stubs_accept_real_use(tmp_path):
    r = run_mypy(tmp_path, USER_SCRIPT)
    assert r.returncode == 0, r.stdout + r.stderr


def test_stubs_reject_wrong_use(tmp_path):
    r = run_mypy(tmp_path, BAD_SCRIPT)
    assert r.returncode == 1, r.stdout + r.stderr
    assert 'style' in r.stdout and 'unknown' in r.stdout and 'policy' in r.stdout, r.stdout
