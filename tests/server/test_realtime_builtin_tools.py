"""Built-in tools behind the Realtime API on scripted fakes: a Realtime client (which knows only its own tools) never
receives a built-in call to run, only the answer made from its result; the settings switch them off."""

from __future__ import annotations

import json

from omni.types import ToolCall
from tests.server.realtime_client import realtime, types
from tests.server.serving import fake_state, serving


async def ask(url: str, text: str) -> list[dict[str, object]]:
    async with realtime(url) as wire:
        await wire.send({"type": "session.update", "session": {"type": "realtime", "output_modalities": ["text"]}})
        await wire.send({"type": "conversation.item.create", "item": {
            "type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}})
        await wire.send({"type": "response.create"})
        return await wire.until("response.done")


async def test_a_built_in_call_is_run_by_the_server_and_not_sent_to_the_client() -> None:
    call = ToolCall("call_1", "calculate", json.dumps({"expression": "37*43"}))
    state = fake_state([], [[call], "It is 1591."])
    async with serving(state) as url:
        events = await ask(url, "What is 37 times 43?")
    assert not any("function_call" in kind for kind in types(events))
    response = events[-1]["response"]
    assert [o["type"] for o in response["output"]] == ["message"]  # type: ignore[index]
    said = "".join(str(e["delta"]) for e in events if e["type"] == "response.output_text.delta")
    assert said == "It is 1591."
    second_prompt = state.backends.llm.prompts[1]  # type: ignore[attr-defined]
    assert second_prompt[-2].role == "tool" and json.loads(second_prompt[-2].content)["result"] == "1591"


async def test_built_in_tools_can_be_switched_off_for_the_server() -> None:
    state = fake_state([], ["Paris."], tools={"builtin": []})
    async with serving(state) as url:
        await ask(url, "What is the capital of France?")
    offered, _ = state.backends.llm.calls[0]  # type: ignore[attr-defined]
    assert offered == ()


async def test_a_due_timer_is_a_response_the_client_did_not_ask_for() -> None:
    call = ToolCall("call_1", "timer", json.dumps({"action": "set", "duration": "1 second", "label": "tea"}))
    state = fake_state([], [[call], "Your tea timer is set."])
    async with serving(state) as url, realtime(url) as wire:
        await wire.send({"type": "session.update", "session": {"type": "realtime", "output_modalities": ["text"]}})
        await wire.send({"type": "conversation.item.create", "item": {
            "type": "message", "role": "user", "content": [{"type": "input_text", "text": "A tea timer, 1 second."}]}})
        await wire.send({"type": "response.create"})
        await wire.until("response.done")
        events = await wire.until("response.done")  # no response.create sent: the timer's own
    assert "response.created" in types(events)
    said = "".join(str(e["delta"]) for e in events if e["type"] == "response.output_text.delta")
    assert said == "Your tea timer is done."
    assert events[-1]["response"]["status"] == "completed"


async def test_a_client_that_sets_its_own_instructions_gets_no_built_in_tools() -> None:
    state = fake_state([], ["Paris.", "Paris."])
    async with serving(state) as url, realtime(url) as wire:
        await wire.send({"type": "session.update", "session": {"type": "realtime", "output_modalities": ["text"],
                                                               "instructions": "Answer in one complete sentence."}})
        await wire.until("session.updated")
        await wire.send({"type": "conversation.item.create", "item": {
            "type": "message", "role": "user", "content": [{"type": "input_text", "text": "Capital of France?"}]}})
        await wire.send({"type": "response.create"})
        await wire.until("response.done")
    offered, _ = state.backends.llm.calls[0]  # type: ignore[attr-defined]
    assert offered == ()
