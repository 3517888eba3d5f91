"""MCP tools in a session on scripted fakes: a configured MCP server (really started, over stdio) offered like the
built-in tools, its call run by the session and its result in the next prompt, its connection closed with the
session; tools a client declared for the session to run (a Realtime mcp entry's) offered beside the client's own,
and a call that needs approval ending the reply like a client's call."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

from omni.config import load_settings
from omni.events import ReplyDone, ToolCallDone, ToolCallRequested
from omni.session.build import open_session_toolbox
from omni.session.tools import FunctionTool, ToolBox
from omni.tools.mcp import McpConnection
from omni.types import Tool, ToolCall
from tests.fakes.mcp_server import ROOT, STDIO_COMMAND
from tests.session.harness import Harness, make_harness

ORDER: dict[str, object] = {"type": "object", "properties": {"order_id": {"type": "string"}}}
CLIENT_WEATHER = Tool("get_weather", "Weather for a city.", {"type": "object", "properties": {}})


def orders_server(**fields: object) -> dict[str, object]:
    return {"label": "orders", "command": STDIO_COMMAND, "env": {"PYTHONPATH": str(ROOT)}, "connect_timeout": 30,
            **fields}


async def respond(h: Harness) -> ReplyDone:
    count = len(h.of(ReplyDone))
    await h.session.create_reply()
    for _ in range(20000):  # virtual time, and real time for the MCP server's process to answer
        if len(h.of(ReplyDone)) > count:
            return h.of(ReplyDone)[-1]
        await h.clock.advance(0.01)
        await asyncio.sleep(0.001)
    raise TimeoutError("no reply")


async def test_a_configured_mcp_server_s_tool_is_run_by_the_session() -> None:
    settings = load_settings({"tools": {"builtin": [], "mcp": [orders_server()]}})
    toolbox = await open_session_toolbox(settings)
    call = ToolCall("c1", "lookup_order", json.dumps({"order_id": "A-100"}))
    h = make_harness([], [[call], "Order A-100 has shipped."], toolbox=toolbox, output_audio=False)
    opened = [c for c in toolbox._owned if isinstance(c, McpConnection)]
    try:
        h.session.add_user_text("Where is my order A-100?")
        done = await respond(h)
        assert [t.name for t in h.llm.calls[0][0]] == ["add", "lookup_order", "wait"]
        assert h.of(ToolCallRequested) == [], "an MCP call is the session's, not the client's"
        assert json.loads(h.of(ToolCallDone)[0].output)["status"] == "shipped"
        result = h.llm.prompts[1][-2]
        assert result.role == "tool" and json.loads(result.content)["status"] == "shipped"
        assert done.text == "Order A-100 has shipped."
    finally:
        await h.session.aclose()
    assert len(opened) == 1 and not opened[0].alive, "closed with the session"


async def test_the_session_closes_its_mcp_connections() -> None:
    settings = load_settings({"tools": {"builtin": ["clock"], "mcp": [orders_server(allowed_tools=["add"])]}})
    toolbox = await open_session_toolbox(settings)
    opened = [c for c in toolbox._owned if isinstance(c, McpConnection)]
    assert [t.name for t in toolbox.schemas] == ["get_time", "add"]
    h = make_harness([], [], toolbox=toolbox, output_audio=False)
    assert all(c.alive for c in opened) and len(opened) == 1
    await h.session.aclose()
    assert not any(c.alive for c in opened)


async def test_configured_mcp_tools_step_aside_for_a_client_s_tools_like_the_built_ins() -> None:
    h = make_harness([], ["Sunny."], toolbox=ToolBox([FunctionTool(Tool("lookup_order", "", ORDER), dict)]),
                     output_audio=False)
    h.session.configure(replace(h.session.options, tools=(CLIENT_WEATHER,)))
    h.session.add_user_text("Weather?")
    await respond(h)
    assert h.llm.calls[0][0] == (CLIENT_WEATHER,)


async def declared_harness(answers: list[str | list[ToolCall]], *, approval: bool) -> Harness:
    async def lookup(order_id: str) -> dict[str, str]:
        return {"order_id": order_id, "status": "shipped"}

    toolbox = ToolBox([FunctionTool(Tool("get_time", "", {}), lambda: "noon")])
    toolbox.declare([FunctionTool(Tool("lookup_order", "", ORDER), lookup, needs_approval=approval)])
    h = make_harness([], answers, toolbox=toolbox, output_audio=False)
    h.session.configure(replace(h.session.options, tools=(CLIENT_WEATHER,)))
    return h


async def test_tools_declared_by_the_client_are_offered_with_its_own_and_run_here() -> None:
    call = ToolCall("c1", "lookup_order", json.dumps({"order_id": "A-1"}))
    h = await declared_harness([[call], "It has shipped."], approval=False)
    h.session.add_user_text("Where is order A-1?")
    done = await respond(h)
    assert [t.name for t in h.llm.calls[0][0]] == ["lookup_order", "get_weather"], "not the built-in clock"
    assert h.of(ToolCallRequested) == []
    assert json.loads(h.of(ToolCallDone)[0].output) == {"order_id": "A-1", "status": "shipped"}
    assert done.text == "It has shipped."


async def test_a_call_that_needs_approval_ends_the_reply_and_is_not_run() -> None:
    call = ToolCall("c1", "lookup_order", json.dumps({"order_id": "A-1"}))
    h = await declared_harness([[call], "It has shipped."], approval=True)
    h.session.add_user_text("Where is order A-1?")
    await respond(h)
    assert [e.call for e in h.of(ToolCallRequested)] == [call]
    assert h.of(ToolCallDone) == [] and len(h.llm.calls) == 1
    assert h.session.conversation.items[-1].tool_calls == (call,)
