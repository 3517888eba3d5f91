"""Conversation budget and tool calls through the session, on virtual time."""

from __future__ import annotations

import itertools
import json

from omni.events import ReplyDone, ToolCallDone, ToolCallRequested
from omni.session.context import Conversation, Item
from omni.session.tools import FunctionTool, ToolBox
from omni.types import Tool, ToolCall
from tests.session.harness import make_harness


def words(text: str) -> int:
    return len(text.split())


def test_budget_drops_whole_turns_from_the_front_and_keeps_the_prefix_stable() -> None:
    conversation = Conversation()
    prompts = []
    for turn in range(12):
        conversation.add(Item(f"u{turn}", "user", f"question number {turn} " + "word " * 20))
        prompts.append(conversation.prompt("system words here", budget_tokens=150, count_tokens=words))
        conversation.add(Item(f"a{turn}", "assistant", f"answer number {turn} " + "word " * 20))
    for prompt in prompts:
        assert sum(words(m.content) + 4 for m in prompt) <= 150 + 40  # the note and per-message overhead
        # never part of a message: every kept message is whole
        for message in prompt[1:]:
            if message.role in ("user", "assistant"):
                assert message.content.endswith("word ")
    # the last user message is always there
    assert prompts[-1][-1].content.startswith("question number 11")
    # drops come in blocks: consecutive prompts often share their prefix exactly
    shared = sum(1 for a, b in itertools.pairwise(prompts) if b[: len(a)] == a)
    assert shared >= 6
    assert any("earlier messages" in m.content for m in prompts[-1])


def test_a_single_oversized_turn_is_kept_whole() -> None:
    conversation = Conversation()
    conversation.add(Item("u", "user", "word " * 500))
    prompt = conversation.prompt("sys", budget_tokens=100, count_tokens=words)
    assert prompt[-1].content == "word " * 500


async def test_local_tool_call_round_trip() -> None:
    seen: list[str] = []

    def weather(city: str) -> dict[str, object]:
        seen.append(city)
        return {"city": city, "sky": "clear", "celsius": 21}

    toolbox = ToolBox([FunctionTool(
        Tool("get_weather", "Weather for a city", {"type": "object", "properties": {"city": {"type": "string"}}}),
        weather,
    )])
    call = ToolCall("call_1", "get_weather", json.dumps({"city": "Seoul"}))
    h = make_harness([], [[call], "It is clear and 21 degrees in Seoul."], toolbox=toolbox, output_audio=False)
    h.session.add_user_text("What's the weather in Seoul?")
    await h.session.create_reply()
    await h.clock.run_until(lambda: bool(h.of(ReplyDone)), limit=10)
    assert seen == ["Seoul"]
    assert h.of(ToolCallRequested) == [], "a local call is not sent to the client, which could not run it"
    assert h.of(ToolCallDone)[0].call == call
    assert json.loads(h.of(ToolCallDone)[0].output)["celsius"] == 21
    roles = [(i.role, bool(i.tool_calls)) for i in h.session.conversation.items]
    assert roles == [("user", False), ("assistant", True), ("tool", False), ("assistant", False)]
    # the second LLM call saw the tool result, and a note after it on answering from it
    assert h.llm.prompts[1][-2].role == "tool" and "clear" in h.llm.prompts[1][-2].content
    assert h.llm.prompts[1][-1].role == "system" and "What's the weather in Seoul?" in h.llm.prompts[1][-1].content
    assert h.of(ReplyDone)[0].heard_text == "It is clear and 21 degrees in Seoul."


async def test_tool_errors_go_back_to_the_model_as_text() -> None:
    def broken(x: int) -> int:
        raise RuntimeError("sensor offline")

    toolbox = ToolBox([FunctionTool(Tool("broken", "fails"), broken)])
    bad_args = ToolCall("c1", "broken", "{not json")
    failing = ToolCall("c2", "broken", json.dumps({"x": 1}))
    h = make_harness([], [[bad_args, failing], "Sorry."], toolbox=toolbox, output_audio=False)
    h.session.add_user_text("try it")
    await h.session.create_reply()
    await h.clock.run_until(lambda: bool(h.of(ReplyDone)), limit=10)
    outputs = [json.loads(e.output)["error"] for e in h.of(ToolCallDone)]
    assert "invalid arguments" in outputs[0] and "sensor offline" in outputs[1]
    assert h.of(ReplyDone)[0].status == "completed"


async def test_unknown_tools_are_left_to_the_client() -> None:
    call = ToolCall("call_9", "client_side_tool", "{}")
    h = make_harness([], [[call]], output_audio=False)
    h.session.add_user_text("use the client tool")
    await h.session.create_reply()
    await h.clock.run_until(lambda: bool(h.of(ReplyDone)), limit=10)
    assert h.of(ToolCallDone) == []
    assistant = h.session.conversation.items[-1]
    assert assistant.tool_calls == (call,)
    h.session.add_tool_result("call_9", '{"ok": true}')
    await h.session.create_reply()
    await h.clock.run_until(lambda: len(h.of(ReplyDone)) == 2, limit=10)
    assert h.llm.prompts[-1][-2].role == "tool"
