"""Function calls as conversation items over the Realtime API, on scripted fakes: each call the model makes is an item
the client is told of (``conversation.item.added``/``done``), can name as ``previous_item_id``, retrieve and delete,
as the Agents SDK's history does (``RealtimeSession.updateHistory`` deletes items by these ids); ``previous_item_id``
only ever names items the client knows."""

from __future__ import annotations

import json
from typing import Any

from omni.types import ToolCall
from tests.fakes.backends import ScriptedLLM
from tests.server.realtime_client import Wire, realtime
from tests.server.serving import fake_state, serving

WEATHER = {"type": "function", "name": "get_weather", "description": "Get the weather for a city",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}


async def ask(wire: Wire, text: str) -> tuple[str, list[dict[str, Any]]]:
    """A user message and a response to it: the message's id and the events up to ``response.done``."""
    await wire.send({"type": "conversation.item.create", "item": {
        "type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}})
    added = (await wire.until("conversation.item.added"))[-1]
    await wire.send({"type": "response.create"})
    return added["item"]["id"], await wire.until("response.done")


async def text_session(wire: Wire) -> None:
    await wire.send({"type": "session.update", "session": {
        "type": "realtime", "output_modalities": ["text"], "tools": [WEATHER]}})
    await wire.until("session.updated")


def of_type(events: list[dict[str, Any]], kind: str, item_type: str | None = None) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == kind and (item_type is None or e["item"]["type"] == item_type)]


async def test_a_call_is_an_item_the_client_can_name_retrieve_and_delete() -> None:
    call = ToolCall("call_1", "get_weather", '{"city": "Paris"}')
    state = fake_state([], [[call], "It is 14 degrees in Paris.", "Okay."])
    async with serving(state) as url, realtime(url) as wire:
        await text_session(wire)
        question, events = await ask(wire, "Weather in Paris?")
        [output] = events[-1]["response"]["output"]
        call_id = output["id"]
        added = of_type(events, "conversation.item.added", "function_call")
        done = of_type(events, "conversation.item.done", "function_call")
        assert [(e["item"]["id"], e["item"]["type"], e["previous_item_id"]) for e in added + done] == [
            (call_id, "function_call", question), (call_id, "function_call", question)]
        assert done[0]["item"]["arguments"] == '{"city": "Paris"}' and done[0]["item"]["status"] == "completed"

        await wire.send({"type": "conversation.item.retrieve", "item_id": call_id})
        retrieved = (await wire.until("conversation.item.retrieved"))[-1]["item"]
        assert (retrieved["type"], retrieved["name"], retrieved["call_id"]) == ("function_call", "get_weather",
                                                                               "call_1")
        await wire.send({"type": "conversation.item.create", "previous_item_id": call_id, "item": {
            "type": "function_call_output", "call_id": "call_1", "output": '{"temperature_c": 14}'}})
        result = (await wire.until("conversation.item.added"))[-1]
        assert result["previous_item_id"] == call_id
        await wire.send({"type": "response.create"})
        answered = await wire.until("response.done")
        message = of_type(answered, "conversation.item.added")[0]
        assert message["previous_item_id"] == result["item"]["id"]

        await wire.send({"type": "conversation.item.delete", "item_id": call_id})
        assert (await wire.until("conversation.item.deleted"))[-1]["item_id"] == call_id
        await wire.send({"type": "conversation.item.retrieve", "item_id": call_id})
        assert (await wire.until("error"))[-1]["error"]["code"] == "item_not_found"
        await ask(wire, "Thanks.")
    llm = state.backends.llm
    assert isinstance(llm, ScriptedLLM)
    assert next(m.tool_calls for m in llm.prompts[1] if m.role == "assistant") == (call,)
    assert all(not m.tool_calls for m in llm.prompts[2]), "the deleted call is out of the model's prompt"


async def test_two_calls_in_one_response_are_two_items_in_order() -> None:
    calls = [ToolCall("call_a", "get_weather", '{"city": "Paris"}'),
             ToolCall("call_b", "get_weather", '{"city": "Busan"}')]
    state = fake_state([], [calls, "Okay."])
    async with serving(state) as url, realtime(url) as wire:
        await text_session(wire)
        question, events = await ask(wire, "Weather in Paris and Busan?")
        first, second = (o["id"] for o in events[-1]["response"]["output"])
        done = of_type(events, "conversation.item.done", "function_call")
        assert [(e["item"]["id"], e["previous_item_id"]) for e in done] == [(first, question), (second, first)]
        await wire.send({"type": "conversation.item.delete", "item_id": first})
        await wire.until("conversation.item.deleted")
        await wire.send({"type": "conversation.item.retrieve", "item_id": second})
        assert (await wire.until("conversation.item.retrieved"))[-1]["item"]["call_id"] == "call_b"
        await wire.send({"type": "conversation.item.create", "item": {
            "type": "function_call_output", "call_id": "call_b", "output": '{"temperature_c": 23}'}})
        assert (await wire.until("conversation.item.added"))[-1]["previous_item_id"] == second
        await wire.send({"type": "response.create"})
        await wire.until("response.done")
    llm = state.backends.llm
    assert isinstance(llm, ScriptedLLM)
    assert [m.tool_calls for m in llm.prompts[1] if m.role == "assistant"] == [(calls[1],)]


async def test_a_clients_function_call_item_comes_back_as_a_function_call() -> None:
    async with serving(fake_state()) as url, realtime(url) as wire:
        await wire.send({"type": "conversation.item.create", "item": {
            "id": "call_item_1", "type": "function_call", "call_id": "call_9", "name": "get_weather",
            "arguments": json.dumps({"city": "Seoul"})}})
        item = (await wire.until("conversation.item.added"))[-1]["item"]
    assert (item["id"], item["type"], item["name"], item["call_id"], json.loads(item["arguments"])) == (
        "call_item_1", "function_call", "get_weather", "call_9", {"city": "Seoul"})


async def test_previous_item_id_never_names_an_item_the_client_was_not_shown() -> None:
    # a built-in tool's call and result stay inside the server: the answer follows the question as the client sees it
    call = ToolCall("call_1", "calculate", json.dumps({"expression": "37*43"}))
    async with serving(fake_state([], [[call], "It is 1591."])) as url, realtime(url) as wire:
        await wire.send({"type": "session.update", "session": {"type": "realtime", "output_modalities": ["text"]}})
        await wire.until("session.updated")
        question, events = await ask(wire, "What is 37 times 43?")
    assert of_type(events, "conversation.item.added", "function_call") == []
    [message] = of_type(events, "conversation.item.added")
    assert message["item"]["role"] == "assistant" and message["previous_item_id"] == question
