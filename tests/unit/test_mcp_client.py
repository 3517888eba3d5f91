"""The MCP client (omni.tools.mcp) against a real MCP server the test starts (tests/fakes/mcp_server.py), over stdio
and over streamable HTTP: its tools listed as local tools, calls answered as JSON, failures as error results."""

from __future__ import annotations

import asyncio
import json
import sys

import pytest

from omni.config import McpServerSettings
from omni.session.tools import ToolBox
from omni.tools.mcp import McpConnection, McpError, McpTarget, mcp_tools
from omni.types import ToolCall
from tests.fakes.mcp_server import ROOT, STDIO_COMMAND, free_port, http_server

STDIO = McpTarget("orders", tuple(STDIO_COMMAND), env={"PYTHONPATH": str(ROOT)}, connect_timeout=30)


async def test_a_stdio_server_s_tools_become_local_tools_that_call_it() -> None:
    connection = await McpConnection.open(STDIO)
    try:
        assert [t.name for t in connection.tools] == ["add", "lookup_order", "wait"]
        add = connection.tools[0]
        assert add.description == "Add two integers."
        assert add.parameters["required"] == ["a", "b"]
        box = ToolBox(connection.function_tools(["add", "lookup_order"]))
        assert [t.name for t in box.schemas] == ["add", "lookup_order"], "allowed tools only"
        assert json.loads(await box.run(ToolCall("c1", "add", '{"a": 2, "b": 40}'))) == {"result": 42}
        order = json.loads(await box.run(ToolCall("c2", "lookup_order", '{"order_id": "A-100"}')))
        assert order == {"order_id": "A-100", "status": "shipped", "items": 2}
        missing = json.loads(await box.run(ToolCall("c3", "lookup_order", '{"order_id": "Z-9"}')))
        assert "no order Z-9" in missing["error"]
        wrong = json.loads(await connection.call("add", {"a": "two"}))
        assert "error" in wrong
    finally:
        await connection.aclose()
    assert not connection.alive
    assert "not connected" in json.loads(await connection.call("add", {"a": 1, "b": 2}))["error"]


async def test_a_streamable_http_server_with_headers() -> None:
    with http_server() as url:
        target = McpTarget("web", url=url, headers={"X-Test": "1"}, connect_timeout=30)
        connection = await McpConnection.open(target)
        try:
            assert json.loads(await connection.call("lookup_order", {"order_id": "B-200"}))["status"] == "processing"
        finally:
            await connection.aclose()


async def test_a_slow_call_is_an_error_result_within_the_call_timeout() -> None:
    connection = await McpConnection.open(McpTarget("orders", STDIO.command, STDIO.env, connect_timeout=30,
                                                    call_timeout=0.5))
    try:
        result = json.loads(await asyncio.wait_for(connection.call("wait", {"seconds": 5}), 3))
        assert "took longer than 0.5 s" in result["error"]
        assert json.loads(await connection.call("add", {"a": 1, "b": 1})) == {"result": 2}, "still usable"
    finally:
        await connection.aclose()


async def test_a_server_that_dies_gives_error_results() -> None:
    with http_server() as url:
        connection = await McpConnection.open(McpTarget("web", url=url, connect_timeout=30, call_timeout=5))
    try:  # the server process is gone now
        result = json.loads(await asyncio.wait_for(connection.call("add", {"a": 1, "b": 2}), 10))
        assert "error" in result
    finally:
        await connection.aclose()


async def test_unreachable_servers_fail_to_open_with_a_clear_error() -> None:
    with pytest.raises(McpError, match="'nowhere'"):
        await McpConnection.open(McpTarget("nowhere", url=f"http://127.0.0.1:{free_port()}/mcp", connect_timeout=5))
    with pytest.raises(McpError, match="'broken'"):
        await McpConnection.open(McpTarget("broken", (sys.executable, "-c", "import sys; sys.exit(3)"),
                                           connect_timeout=5))


async def test_configured_servers_one_of_them_dead() -> None:
    servers = [McpServerSettings(label="orders", command=tuple(STDIO_COMMAND), env={"PYTHONPATH": str(ROOT)},
                                 allowed_tools=("lookup_order",), connect_timeout=30),
               McpServerSettings(label="dead", url=f"http://127.0.0.1:{free_port()}/mcp", connect_timeout=5)]
    tools, connections = await mcp_tools(servers)
    try:
        assert [t.tool.name for t in tools] == ["lookup_order"]
        assert [c.label for c in connections] == ["orders"]
    finally:
        for connection in connections:
            await connection.aclose()
