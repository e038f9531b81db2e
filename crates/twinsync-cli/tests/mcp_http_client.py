"""Drives `/mcp` of a running `twinsync serve` with the official MCP Python SDK's
Streamable HTTP client and checks the answers against the files on disk. Run by
tests/mcp_http.rs (in twinsync-cli) as:

    mcp_http_client.py URL KEY KEY_NAME PROJECT_DIR TWINSYNC_BIN

KEY is a live API key of the project at PROJECT_DIR (folders a/ -> b/, a/one.md only on
the left), named KEY_NAME. TWINSYNC_BIN serves the same project over stdio, for the
catalogue comparison. Prints "mcp http client checks passed"; any failed check raises.
"""

import asyncio
import json
import pathlib
import sys

import httpx2
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client


def field(obj, *names):
    """Reads a result attribute under its SDK v2 (snake_case) or v1 (camelCase) name."""
    for n in names:
        if hasattr(obj, n):
            return getattr(obj, n)
    raise AssertionError(f"{type(obj).__name__} has none of {names}")


def envelope(result):
    structured = field(result, "structured_content", "structuredContent")
    text = [c.text for c in result.content if getattr(c, "type", "") == "text"]
    assert len(text) == 1 and json.loads(text[0]) == structured, result
    assert set(structured) == {"success", "audit_id", "metrics", "payload"}, structured
    return structured, bool(field(result, "is_error", "isError"))


async def call(session, name, args=None):
    return envelope(await session.call_tool(name, args or {}))


async def stdio_catalogue(binary, project):
    params = StdioServerParameters(command=binary, args=["mcp"], cwd=project)
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as s:
            await s.initialize()
            return [t.model_dump(mode="json", by_alias=True) for t in (await s.list_tools()).tools]


async def main(url, key, key_name, project, binary):
    root = pathlib.Path(project)
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=httpx2.Timeout(30, read=300))
    async with http, streamable_http_client(url, http_client=http) as (read, write):
        async with ClientSession(read, write) as s:
            init = await s.initialize()
            assert field(init, "server_info", "serverInfo").name == "twinsync"
            assert field(init, "protocol_version", "protocolVersion") == "2025-06-18", init

            # The same catalogue as `twinsync mcp` on stdio: names in order, and each tool whole.
            tools = [t.model_dump(mode="json", by_alias=True) for t in (await s.list_tools()).tools]
            stdio = await stdio_catalogue(binary, project)
            assert [t["name"] for t in tools] == [t["name"] for t in stdio], (tools, stdio)
            assert tools == stdio, "the HTTP and stdio catalogues differ"
            assert len(tools) == 15 and "design.sync" in [t["name"] for t in tools], tools

            # A sync of the key's project: a/one.md reaches b/.
            env, err = await call(s, "design.driftReport")
            assert not err and env["metrics"]["drifted"] == 1, env
            env, err = await call(s, "design.sync")
            assert not err and env["success"] and env["metrics"]["applied"] == 1, env
            assert (root / "b/one.md").read_bytes() == (root / "a/one.md").read_bytes()
            assert env["audit_id"], env

            # Lock round trip, acting as the key's name: acquire, status shows it, release.
            env, err = await call(s, "lock.acquire", {"reason": "editing over http", "ttl_seconds": 300})
            assert not err and env["success"], env
            token = env["payload"]["lock"]["token"]
            status = await s.call_tool("lock.status", {})
            env, err = envelope(status)
            assert not err and env["payload"]["held"] is True, env
            assert env["payload"]["lock"]["owner"] == key_name, env
            assert env["payload"]["lock"]["reason"] == "editing over http", env
            assert token not in status.model_dump_json(), "lock.status leaked the token"
            env, err = await call(s, "lock.release", {"token": token})
            assert not err and env["success"], env
            env, err = await call(s, "lock.status")
            assert not err and env["payload"]["held"] is False, env

            env, err = await call(s, "history.list", {"limit": 5})
            assert not err and env["metrics"]["operations"] == 1, env
            await s.send_ping()
    print("mcp http client checks passed")


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:6]))
