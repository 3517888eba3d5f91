"""A client tool through a real ``omni serve`` with the official ``openai`` SDK, at the sampling a client gets when it
sets none: the model calls the tool once, and after the ``function_call_output`` it answers the question from the
result, in the user's language, without JSON or talk of functions (issue 14: it used to ask for "the following
format: ```json {"name": "get_weather", …}```", repeat the call, or answer a Korean question in English)."""

from __future__ import annotations

import json

import pytest

from omni.bench.tool_conversations import Turn, judge_answer
from tests.server.realtime_client import realtime

pytestmark = pytest.mark.models

WEATHER = {"type": "function", "name": "get_weather", "description": "Get the current weather for a city.",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
TIMER = {"type": "function", "name": "set_timer", "description": "Start a countdown timer.",
         "parameters": {"type": "object", "properties": {"minutes": {"type": "integer"}}, "required": ["minutes"]}}


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(("question", "cities", "expect", "language"), [
    ("What's the weather like in Seoul right now?", ("seoul", "서울"), "-3|minus 3|snow", "en"),
    ("지금 부산 날씨 어때요?", ("busan", "부산"), "-3|영하|눈|snow", "ko"),
])
async def test_a_weather_call_is_made_once_and_its_result_answered_in_the_users_language(
        server_url: str, question: str, cities: tuple[str, ...], expect: str, language: str) -> None:
    async with realtime(server_url) as wire:
        await wire.send({"type": "session.update", "session": {
            "type": "realtime", "output_modalities": ["text"], "tools": [WEATHER, TIMER]}})
        await wire.until("session.updated")
        await wire.send({"type": "conversation.item.create", "item": {
            "type": "message", "role": "user", "content": [{"type": "input_text", "text": question}]}})
        await wire.send({"type": "response.create"})
        events = await wire.until("response.done", wait=120)
        calls = [e for e in events if e["type"] == "response.function_call_arguments.done"]
        said = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
        assert len(calls) == 1, (calls, said)
        assert calls[0]["name"] == "get_weather"
        assert any(city in json.loads(calls[0]["arguments"])["city"].lower() for city in cities), calls[0]

        city = json.loads(calls[0]["arguments"])["city"]
        await wire.send({"type": "conversation.item.create", "item": {
            "type": "function_call_output", "call_id": calls[0]["call_id"],
            "output": json.dumps({"city": city, "condition": "snow", "temperature_c": -3})}})
        await wire.send({"type": "response.create"})
        events = await wire.until("response.done", wait=120)
    again = [e for e in events if e["type"] == "response.function_call_arguments.done"]
    answer = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    assert again == [], f"the call was made again: {again}"
    assert events[-1]["response"]["status"] == "completed"
    problems = judge_answer(Turn(question, (), (expect,)), answer, language)  # type: ignore[arg-type]
    assert problems == [], (answer, problems)
