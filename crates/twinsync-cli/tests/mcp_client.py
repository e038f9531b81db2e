"""Drives `twinsync mcp` with the official MCP Python SDK client and checks every answer
against the files on disk. Run by tests/mcp.rs as: mcp_client.py TWINSYNC_BIN PROJECT_DIR.

The project has folders a/ (left) and b/ (right); a/ holds notes/one.md and comp.json,
b/ is empty. Prints "mcp client checks passed" on success; any failed check raises.
"""

import asyncio
import json
import pathlib
import sys

from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client


def field(obj, *names):
    """Reads a result attribute under its SDK v2 (snake_case) or v1 (camelCase) name."""
    for n in names:
        if hasattr(obj, n):
            return getattr(obj, n)
    raise AssertionError(f"{type(obj).__name__} has none of {names}")


def envelope(result):
    structured = field(result, "structured_content", "structuredContent")
    text = [c.text for c in result.content if getattr(c, "type", "") == "text"]
    assert len(text) == 1, f"expected one text block, got {result.content!r}"
    assert json.loads(text[0]) == structured, "text block and structuredContent differ"
    assert set(structured) == {"success", "audit_id", "metrics", "payload"}, structured
    assert "duration_ms" in structured["metrics"], structured
    return structured, bool(field(result, "is_error", "isError"))


async def call(session, name, args=None):
    return envelope(await session.call_tool(name, args or {}))


async def expect_rpc_error(session, name, args, code):
    try:
        await session.call_tool(name, args)
    except Exception as e:  # MCPError (SDK v2) or McpError (v1)
        err = getattr(e, "error", None)
        got = getattr(e, "code", None) or getattr(err, "code", None)
        assert got == code, f"{name}: expected JSON-RPC error {code}, got {got!r}: {e}"
        return str(e)
    raise AssertionError(f"{name} {args}: expected a JSON-RPC error {code}")


async def main(binary, project):
    root = pathlib.Path(project)
    a_note, b_note = root / "a/notes/one.md", root / "b/notes/one.md"
    params = StdioServerParameters(command=binary, args=["mcp", "--owner", "agent-1"], cwd=project)
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as s:
            init = await s.initialize()
            assert field(init, "server_info", "serverInfo").name == "twinsync"
            assert field(init, "protocol_version", "protocolVersion") in ("2025-06-18", "2025-03-26", "2024-11-05")

            tools = {t.name: t for t in (await s.list_tools()).tools}
            expected = {
                "design.sync", "design.driftReport", "design.undo", "design.coverageReport",
                "openspec.sync", "openspec.list", "openspec.show", "openspec.setStatus",
                "lock.acquire", "lock.release", "lock.status", "history.list",
                "design.browserTestSession.start", "design.browserTestSession.status",
                "design.browserTestSession.finish",
            }
            assert set(tools) == expected, sorted(tools)
            sync_schema = field(tools["design.sync"], "input_schema", "inputSchema")
            assert sync_schema["type"] == "object"
            assert {"dry_run", "policy", "direction", "pair"} <= set(sync_schema["properties"]), sync_schema
            release_schema = field(tools["lock.release"], "input_schema", "inputSchema")
            assert release_schema.get("required") == ["token"], release_schema

            # Drift: both files exist only on the left.
            env, err = await call(s, "design.driftReport")
            assert not err and env["success"], env
            classes = {i["key"]: i["class"] for i in env["payload"]["items"]}
            assert classes == {"comp.json": "added_left", "notes/one.md": "added_left"}, classes
            assert env["metrics"]["drifted"] == 2 and env["audit_id"], env

            # A dry run changes nothing.
            env, err = await call(s, "design.sync", {"dry_run": True})
            assert not err and env["metrics"]["planned"] == 2, env
            assert not b_note.exists(), "dry run wrote to b/"

            # The sync copies both files, byte for byte.
            env, err = await call(s, "design.sync")
            assert not err and env["success"] and env["metrics"]["applied"] == 2, env
            assert b_note.read_bytes() == a_note.read_bytes()
            assert (root / "b/comp.json").read_bytes() == (root / "a/comp.json").read_bytes()
            first_op = env["payload"]["report"]["operation_id"]

            # Edit the left, sync, then undo: b/ gets its old version back.
            old = b_note.read_bytes()
            a_note.write_text("# one\n\nedited by the agent\n")
            env, err = await call(s, "design.sync", {"policy": "prefer-left", "direction": "left-to-right"})
            assert not err and env["metrics"]["applied"] == 1, env
            assert b_note.read_text() == "# one\n\nedited by the agent\n"
            env, err = await call(s, "design.undo")
            assert not err and env["success"] and env["metrics"]["restored"] == 1, env
            assert b_note.read_bytes() == old, "undo did not restore b/notes/one.md"
            assert env["payload"]["operation_id"] != first_op

            # `pair` names the pair the design.* tools act on (here the only one).
            env, err = await call(s, "design.driftReport", {"pair": "default"})
            assert not err and env["payload"]["pair"] == "default", env
            assert env["payload"]["items"] == [{"key": "notes/one.md", "class": "changed_left"}], env
            env, err = await call(s, "design.sync", {"pair": "nope", "dry_run": True})
            assert err and "nope" in env["payload"]["error"]["message"], env

            # Tool failures are results a person can act on.
            env, err = await call(s, "design.undo", {"operation_id": "no-such-operation"})
            assert err and not env["success"] and "no-such-operation" in env["payload"]["error"]["message"], env
            env, err = await call(s, "design.sync", {"policy": "yolo"})
            assert err and "yolo" in env["payload"]["error"]["message"], env
            # Coverage reads a components manifest and Storybook's index.json.
            (root / "components.json").write_text(json.dumps({"components": [{
                "name": "Button", "source": "src/Button.tsx", "title": "Components/Button",
                "props": [{"name": "size", "kind": "variant", "options": ["sm", "md", "lg"]}]}]}))
            story = lambda v: {"id": f"components-button--{v}", "title": "Components/Button", "name": v.title(),
                               "importPath": "./src/Button.stories.tsx", "type": "story", "tags": ["dev"]}
            (root / "index.json").write_text(json.dumps({"v": 5, "entries": {
                f"components-button--{v}": story(v) for v in ("sm", "md")}}))
            env, err = await call(s, "design.coverageReport", {"components": "components.json", "stories": "index.json"})
            assert not err and env["success"], env
            (button,) = env["payload"]["components"]
            assert (button["component"], button["covered_variants"], button["total_variants"]) == ("Button", 2, 3), env
            assert button["missing_variants"] == [{"size": "lg"}], env
            env, err = await call(s, "design.coverageReport", {"components": "nope.json", "stories": "index.json"})
            assert err and "nope.json" in env["payload"]["error"]["message"], env
            # OpenSpec: list and show read openspec/ as the OpenSpec CLI does.
            env, err = await call(s, "openspec.list")
            assert not err and env["success"], env
            (change,) = env["payload"]["changes"]
            assert (change["name"], change["completedTasks"], change["totalTasks"]) == ("add-login", 1, 2), env
            env, err = await call(s, "openspec.show", {"change": "add-login"})
            assert not err and env["payload"]["title"] == "Add login", env
            env, err = await call(s, "openspec.show", {"change": "nope"})
            assert err and "nope" in env["payload"]["error"]["message"], env
            # openspec.sync puts the folder into .twinsync/openspec.db; a second pass has nothing to do.
            env, err = await call(s, "openspec.sync")
            assert not err and env["success"] and env["payload"]["mode"] == "synced", env
            assert env["metrics"]["checked"] >= 1 and env["metrics"]["failed"] == 0, env
            assert any(i["id"] == "add-login" for i in env["payload"]["report"]["items"]), env
            assert (root / ".twinsync/openspec.db").is_file()
            env, err = await call(s, "openspec.sync", {"dry_run": True})
            assert not err and env["payload"] == {"mode": "preview", "db": env["payload"]["db"], "rows": []}, env
            # The lifecycle status is set from outside; a bad one is refused by name.
            env, err = await call(s, "openspec.setStatus", {"id": "add-login", "status": "assigned"})
            assert not err and env["payload"]["status"] == "assigned", env
            env, err = await call(s, "openspec.setStatus", {"id": "add-login", "status": "done"})
            assert err and "done" in env["payload"]["error"]["message"], env

            # Lock round trip: the token is shown to the acquirer only.
            env, err = await call(s, "lock.acquire", {"owner": "agent-1", "ttl_seconds": 120, "reason": "refactor"})
            assert not err and env["success"], env
            token = env["payload"]["lock"]["token"]
            assert len(token) >= 16, env
            status = await s.call_tool("lock.status", {})
            env, err = envelope(status)
            assert env["payload"]["held"] and env["payload"]["lock"]["owner"] == "agent-1", env
            assert env["payload"]["lock"]["reason"] == "refactor"
            assert token not in status.model_dump_json(), "lock.status leaked the token"
            env, err = await call(s, "lock.acquire", {"owner": "agent-2"})
            assert err and "agent-1" in env["payload"]["error"]["message"], env
            env, err = await call(s, "lock.release", {"token": "not-the-token-at-all"})
            assert err and not env["success"], env
            env, err = await call(s, "lock.release", {"token": token})
            assert not err and env["success"] and token not in json.dumps(env), env
            env, err = await call(s, "lock.status")
            assert env["payload"]["held"] is False, env

            env, err = await call(s, "history.list", {"limit": 10})
            ops = env["payload"]["operations"]
            # The openspec sync is an operation too, newest first.
            assert not err and len(ops) == 3 and env["metrics"]["operations"] == 3, env
            assert ops[0]["counts"]["applied"] >= 1 and ops[0]["undone_at"] is None, ops
            assert ops[1]["undone_at"] is not None and ops[2]["undone_at"] is None, ops

            # A browser test session: started, failed with a performance summary, read back.
            env, err = await call(s, "design.browserTestSession.start", {"story_id": "button--primary", "correlation_id": "run-7"})
            assert not err and env["payload"]["status"] == "running", env
            sid = env["payload"]["id"]
            env, err = await call(s, "design.browserTestSession.finish", {"session_id": sid, "status": "failed", "performance": {"lcp_ms": 812}})
            assert not err and env["payload"]["status"] == "failed", env
            env, err = await call(s, "design.browserTestSession.status", {"session_id": sid})
            assert not err and env["payload"]["story_id"] == "button--primary", env
            assert env["payload"]["performance"] == {"lcp_ms": 812} and env["payload"]["correlation_id"] == "run-7", env
            assert env["payload"]["latency_ms"] is not None, env
            env, err = await call(s, "design.browserTestSession.finish", {"session_id": sid, "status": "passed"})
            assert err and "already finished" in env["payload"]["error"]["message"], env

            # Protocol errors stay protocol errors.
            await expect_rpc_error(s, "design.undo", {"bogus": 1}, -32602)
            await expect_rpc_error(s, "no.such.tool", {}, -32602)
            await s.send_ping()
    print("mcp client checks passed")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
