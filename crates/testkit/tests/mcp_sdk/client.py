"""Drives the gateway's `/mcp` with the official MCP Python SDK, for
`crates/testkit/tests/mcp_sdk.rs`.

Reads a plan (JSON) on standard input:

    {"url": "http://127.0.0.1:PORT/mcp",
     "sessions": [{"label": "...", "api_key": "pck_...", "mode": "auto" | "legacy",
                   "steps": [{"op": "list_tools"},
                             {"op": "call", "name": "...", "arguments": {...}}]}]}

runs each session in turn with the SDK's Streamable HTTP client (one
`mcp.Client` over `streamable_http_client`, its httpx2 client carrying the
session's `X-Api-Key`), and prints one JSON document of what it observed:
the SDK's version, and per session the negotiated protocol version, the
server's info and capabilities, each step's result as the SDK parsed it (or
the error it raised), and every HTTP exchange the SDK made (method, the
JSON-RPC method of a POST, status, content type), DELETE at close included.
The Rust test makes the assertions; this script only records.
"""

from __future__ import annotations

import importlib.metadata
import json
import sys
import traceback
from typing import Any

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

# Each SDK request waits at most this long for its answer; the Rust test
# kills the whole process well after.
READ_TIMEOUT_SECONDS = 20.0


def dump(model: Any) -> Any:
    """A pydantic model as the JSON the wire carried (camelCase, `_meta`)."""
    return model.model_dump(by_alias=True, mode="json", exclude_none=True)


def error_of(exc: BaseException) -> dict[str, Any]:
    """What an exception the SDK raised says, as JSON."""
    out: dict[str, Any] = {"type": type(exc).__name__, "message": str(exc)}
    if isinstance(exc, MCPError):
        out["code"] = exc.code
        out["message"] = exc.message
        if exc.data is not None:
            out["data"] = exc.data
    return out


def exchange_log(log: list[dict[str, Any]]) -> dict[str, Any]:
    """httpx2 event hooks that record each exchange into `log`."""

    async def on_request(request: httpx2.Request) -> None:
        entry: dict[str, Any] = {
            "method": request.method,
            "session": "mcp-session-id" in request.headers,
            "protocol_version": request.headers.get("mcp-protocol-version"),
        }
        if request.method == "POST":
            try:
                entry["rpc"] = json.loads(request.content).get("method", "(response)")
            except (ValueError, AttributeError):
                entry["rpc"] = None
        request.extensions["portcullis_log"] = entry
        log.append(entry)

    async def on_response(response: httpx2.Response) -> None:
        entry = response.request.extensions.get("portcullis_log")
        if entry is not None:
            entry["status"] = response.status_code
            entry["content_type"] = response.headers.get("content-type")

    return {"request": [on_request], "response": [on_response]}


async def run_session(url: str, plan: dict[str, Any]) -> dict[str, Any]:
    log: list[dict[str, Any]] = []
    observed: dict[str, Any] = {"label": plan["label"], "mode": plan["mode"], "http": log}
    steps: list[dict[str, Any]] = []
    observed["steps"] = steps
    http = httpx2.AsyncClient(
        headers={"X-Api-Key": plan["api_key"]},
        # Loopback only: no proxy from the environment.
        trust_env=False,
        timeout=httpx2.Timeout(READ_TIMEOUT_SECONDS),
        event_hooks=exchange_log(log),
    )
    try:
        async with http:
            # mode="auto" is the SDK's default: it probes `server/discover`
            # (2026-07-28) and falls back to `initialize` when the server
            # answers the probe with a JSON-RPC error, as this gateway does.
            # mode="legacy" sends `initialize` straight away.
            transport = streamable_http_client(url, http_client=http)
            async with Client(
                transport,
                mode=plan["mode"],
                read_timeout_seconds=READ_TIMEOUT_SECONDS,
                # Every listing goes to the server, so each step sees what the
                # gateway says now.
                cache=None,
            ) as client:
                observed["protocol_version"] = client.protocol_version
                observed["server_info"] = dump(client.server_info) if client.server_info else None
                observed["capabilities"] = dump(client.server_capabilities)
                observed["instructions"] = client.instructions
                for step in plan["steps"]:
                    steps.append(await run_step(client, step))
    except Exception as exc:  # noqa: BLE001 - recorded for the Rust test to show
        observed["error"] = error_of(exc)
        observed["traceback"] = traceback.format_exc()
    return observed


async def run_step(client: Client, step: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"op": step["op"]}
    try:
        if step["op"] == "list_tools":
            tools: list[Any] = []
            cursor = None
            while True:
                page = await client.list_tools(cursor=cursor)
                tools.extend(dump(t) for t in page.tools)
                cursor = page.next_cursor
                if cursor is None:
                    break
            out["tools"] = tools
        elif step["op"] == "call":
            out["name"] = step["name"]
            result = await client.call_tool(step["name"], step.get("arguments"))
            out["result"] = dump(result)
        else:
            raise ValueError(f"unknown step {step['op']!r}")
    except Exception as exc:  # noqa: BLE001 - recorded for the Rust test to show
        out["error"] = error_of(exc)
    return out


async def main() -> None:
    plan = json.load(sys.stdin)
    sessions = [await run_session(plan["url"], s) for s in plan["sessions"]]
    print(
        json.dumps(
            {
                "sdk": {
                    "mcp": importlib.metadata.version("mcp"),
                    "python": sys.version.split()[0],
                },
                "sessions": sessions,
            }
        )
    )


if __name__ == "__main__":
    anyio.run(main)
