"""A Realtime client's own MCP servers over the WebSocket, on scripted fakes, with a real MCP server on streamable
HTTP (tests/fakes/mcp_server.py): the mcp entry, its mcp_list_tools item, a call run by the server as an mcp_call
item (never a function_call), the approval round trip approved and denied, and entries that fail."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from omni.server.state import ServerState
from omni.types import ToolCall
from tests.fakes.mcp_server import ROOT, STDIO_COMMAND, free_port, http_server
from tests.server.realtime_client import Wire, realtime, types
from tests.server.serving import fake_state, serving

LOOKUP = ToolCall("call_1", "lookup_order", json.dumps({"order_id": "A-100"}))


@pytest.fixture(scope="module")
def mcp_url() -> Iterator[str]:
    with http_server() as url:
        yield url


def mcp_entry(url: str, **fields: Any) -> dict[str, Any]:
    return {"type": "mcp", "server_label": "shop", "server_url": url, "allowed_tools": ["add", "lookup_order"],
            **fields}


async def configure(wire: Wire, *tools: dict[str, Any]) -> list[dict[str, Any]]:
    await wire.send({"type": "session.update", "session": {"type": "realtime", "output_modalities": ["text"],
                                                           "tools": list(tools)}})
    return await wire.until("session.updated")


async def ask(wire: Wire, text: str) -> list[dict[str, Any]]:
    await wire.send({"type": "conversation.item.create", "item": {
        "type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}})
    await wire.send({"type": "response.create"})
    return await wire.until("response.done")


def said(events: list[dict[str, Any]]) -> str:
    return "".join(str(e["delta"]) for e in events if e["type"] == "response.output_text.delta")


async def test_the_mcp_entry_is_listed_and_its_call_is_an_mcp_call_item(mcp_url: str) -> None:
    state = fake_state([], [[LOOKUP], "Order A-100 has shipped."])
    async with serving(state) as url, realtime(url) as wire:
        await configure(wire, mcp_entry(mcp_url, require_approval="never"))
        listing = await wire.until("conversation.item.done")
        assert types(listing) == ["conversation.item.added", "mcp_list_tools.in_progress",
                                  "mcp_list_tools.completed", "conversation.item.done"]
        assert listing[0]["item"]["tools"] == []
        item = listing[-1]["item"]
        assert item["type"] == "mcp_list_tools" and item["server_label"] == "shop"
        assert [t["name"] for t in item["tools"]] == ["add", "lookup_order"], "allowed_tools honoured"
        assert item["tools"][0]["input_schema"]["required"] == ["a", "b"]
        events = await ask(wire, "Where is my order A-100?")
    kinds = types(events)
    assert not any("function_call" in kind for kind in kinds), "the server runs it: the client gets no call"
    assert kinds.index("response.mcp_call_arguments.delta") < kinds.index("response.mcp_call_arguments.done") \
        < kinds.index("response.mcp_call.in_progress") < kinds.index("response.mcp_call.completed")
    output = events[-1]["response"]["output"]
    assert [o["type"] for o in output] == ["mcp_call", "message"]
    call = output[0]
    assert call["server_label"] == "shop" and call["name"] == "lookup_order" and call["error"] is None
    assert json.loads(call["output"])["status"] == "shipped"
    assert said(events) == "Order A-100 has shipped."
    offered, _ = state.backends.llm.calls[0]  # type: ignore[attr-defined]
    assert [t.name for t in offered] == ["add", "lookup_order"], "the client's MCP tools, not the built-in ones"
    result = state.backends.llm.prompts[1][-2]  # type: ignore[attr-defined]
    assert result.role == "tool" and json.loads(result.content)["status"] == "shipped"


async def approval_round(mcp_url: str, approve: bool
                         ) -> tuple[ServerState, list[dict[str, Any]], list[dict[str, Any]]]:
    state = fake_state([], [[LOOKUP], "Order A-100 has shipped." if approve else "I could not look it up."])
    async with serving(state) as url, realtime(url) as wire:
        await configure(wire, mcp_entry(mcp_url))  # no require_approval: every call asks
        await wire.until("conversation.item.done")
        first = await ask(wire, "Where is my order A-100?")
        request = first[-1]["response"]["output"][-1]
        await wire.send({"type": "conversation.item.create", "item": {
            "type": "mcp_approval_response", "id": "item_approval_1", "approval_request_id": request["id"],
            "approve": approve}})
        await wire.send({"type": "response.create"})
        second = await wire.until("response.done")
    return state, first, second


async def test_a_call_that_needs_approval_ends_the_response_and_runs_once_approved(mcp_url: str) -> None:
    state, first, second = await approval_round(mcp_url, approve=True)
    output = first[-1]["response"]["output"]
    assert [o["type"] for o in output] == ["mcp_approval_request"]
    assert output[0]["name"] == "lookup_order" and json.loads(output[0]["arguments"]) == {"order_id": "A-100"}
    assert "response.mcp_call.completed" not in types(first)
    assert len(state.backends.llm.calls) == 2  # type: ignore[attr-defined]
    added = [e["item"] for e in second if e["type"] == "conversation.item.done"]
    assert [i["type"] for i in added][:2] == ["mcp_approval_response", "mcp_call"]
    assert added[1]["approval_request_id"] == output[0]["id"]
    assert json.loads(added[1]["output"])["status"] == "shipped"
    assert said(second) == "Order A-100 has shipped."
    result = state.backends.llm.prompts[1][-2]  # type: ignore[attr-defined]
    assert result.role == "tool" and json.loads(result.content)["status"] == "shipped"


async def test_a_denied_call_is_not_run_and_the_model_is_told(mcp_url: str) -> None:
    state, _, second = await approval_round(mcp_url, approve=False)
    items = [e["item"]["type"] for e in second if e["type"] == "conversation.item.done"]
    assert "mcp_call" not in items
    result = state.backends.llm.prompts[1][-2]  # type: ignore[attr-defined]
    assert result.role == "tool" and "did not approve" in json.loads(result.content)["error"]
    assert said(second) == "I could not look it up."


async def test_an_unreachable_server_is_an_error_and_the_session_goes_on() -> None:
    state = fake_state([], ["Hello."])
    async with serving(state) as url, realtime(url) as wire:
        await configure(wire, mcp_entry(f"http://127.0.0.1:{free_port()}/mcp"))
        events = await wire.until("error")
        assert "mcp_list_tools.failed" in types(events)
        assert events[-1]["error"]["code"] == "mcp_connection_failed"
        assert "'shop'" in events[-1]["error"]["message"]
        answered = await ask(wire, "Hi!")
        assert said(answered) == "Hello."
        await wire.send({"type": "session.update", "session": {"type": "realtime", "instructions": "Be brief."}})
        updated = await wire.until("session.updated")
        assert updated[-1]["session"]["tools"] == [], "the failed server is no longer in the session"


async def test_bad_entries_and_a_server_that_does_not_take_client_urls() -> None:
    async with serving(fake_state([], [])) as url, realtime(url) as wire:
        await wire.send({"type": "session.update", "session": {"type": "realtime", "tools": [
            {"type": "mcp", "server_label": "shop"}]}})
        error = (await wire.until("error"))[-1]["error"]
        assert error["param"] == "session.tools[0].server_url" and "server_url" in error["message"]
        await wire.send({"type": "session.update", "session": {"type": "realtime", "instructions": "Be brief."}})
        assert (await wire.until("session.updated"))[-1]["session"]["tools"] == [], "the session goes on"
    async with serving(fake_state([], [], tools={"client_mcp": "off"})) as url, realtime(url) as wire:
        await wire.send({"type": "session.update", "session": {"type": "realtime", "tools": [
            mcp_entry("http://127.0.0.1:9/mcp")]}})
        error = (await wire.until("error"))[-1]["error"]
        assert error["param"] == "session.tools" and "client_mcp" in error["message"]


async def test_a_server_configured_mcp_server_is_run_like_the_built_in_tools() -> None:
    orders = {"label": "orders", "command": STDIO_COMMAND, "env": {"PYTHONPATH": str(ROOT)}, "connect_timeout": 30}
    state = fake_state([], [[LOOKUP], "Order A-100 has shipped."], tools={"builtin": [], "mcp": [orders]})
    async with serving(state) as url, realtime(url) as wire:
        await wire.send({"type": "session.update", "session": {"type": "realtime", "output_modalities": ["text"]}})
        events = await ask(wire, "Where is my order A-100?")
    assert not any("function_call" in kind or "mcp" in kind for kind in types(events)), "the server's own tool"
    assert [o["type"] for o in events[-1]["response"]["output"]] == ["message"]
    assert said(events) == "Order A-100 has shipped."
    result = state.backends.llm.prompts[1][-2]  # type: ignore[attr-defined]
    assert result.role == "tool" and json.loads(result.content)["status"] == "shipped"
