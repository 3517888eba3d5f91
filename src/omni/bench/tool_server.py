"""The kept tool conversations' five tools as an MCP server over stdio, answering from the same canned client side
(:func:`omni.bench.tool_conversations.client_result`), so that ``python -m omni.bench.tool_loop --via mcp``
measures the embedded LLM calling tools an MCP server lists (their schemas as the ``mcp`` package writes them from
the functions' signatures, not the kept set's hand-written ones).

``python -m omni.bench.tool_server`` serves on stdin/stdout (:data:`COMMAND`).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from omni.bench.tool_conversations import TOOLS, client_result

COMMAND = (sys.executable, "-m", "omni.bench.tool_server")
DESCRIPTIONS = {str(t["name"]): str(t["description"]) for t in TOOLS}


def _answer(tool: str, **arguments: object) -> dict[str, Any]:
    return client_result(tool, json.dumps({k: v for k, v in arguments.items() if v is not None}))


def build() -> Any:
    from mcp.server.mcpserver import MCPServer

    server = MCPServer("omni-tool-conversations")

    @server.tool(description=DESCRIPTIONS["get_weather"])
    def get_weather(city: str) -> dict[str, Any]:
        return _answer("get_weather", city=city)

    @server.tool(description=DESCRIPTIONS["get_time"])
    def get_time(timezone: str) -> dict[str, Any]:
        return _answer("get_time", timezone=timezone)

    @server.tool(description=DESCRIPTIONS["search_contacts"])
    def search_contacts(name: str) -> dict[str, Any]:
        return _answer("search_contacts", name=name)

    @server.tool(description=DESCRIPTIONS["set_timer"])
    def set_timer(minutes: int, label: str | None = None) -> dict[str, Any]:
        return _answer("set_timer", minutes=minutes, label=label)

    @server.tool(description=DESCRIPTIONS["convert_currency"])
    def convert_currency(amount: float, from_currency: str, to_currency: str) -> dict[str, Any]:
        return _answer("convert_currency", amount=amount, from_currency=from_currency, to_currency=to_currency)

    return server


if __name__ == "__main__":
    build().run("stdio")
