"""The kept tool conversations' five tools as an MCP server (omni.bench.tool_server), started over stdio as the
tool-loop bench's ``--via mcp`` starts it: the same names and descriptions, the same canned answers and errors."""

from __future__ import annotations

import json

from omni.bench.tool_conversations import TOOLS, client_result
from omni.bench.tool_server import COMMAND
from omni.tools.mcp import McpConnection, McpTarget


async def test_the_server_lists_the_kept_sets_tools_and_answers_as_the_client_side_does() -> None:
    connection = await McpConnection.open(McpTarget("kept-set", command=COMMAND, connect_timeout=30))
    try:
        assert {t.name: t.description for t in connection.tools} == {t["name"]: t["description"] for t in TOOLS}
        timer = next(t for t in connection.tools if t.name == "set_timer")
        assert timer.parameters["required"] == ["minutes"]
        weather = json.loads(await connection.call("get_weather", {"city": "Busan"}))
        assert weather == client_result("get_weather", '{"city": "Busan"}')
        assert json.loads(await connection.call("get_weather", {"city": "Atlantis"})) == {"error": "city not found"}
        converted = json.loads(await connection.call(
            "convert_currency", {"amount": 100, "from_currency": "USD", "to_currency": "KRW"}))
        assert converted["result"] == client_result(
            "convert_currency", '{"amount": 100, "from_currency": "USD", "to_currency": "KRW"}')["result"]
        assert json.loads(await connection.call("set_timer", {"minutes": 5}))["status"] == "started"
    finally:
        await connection.aclose()
