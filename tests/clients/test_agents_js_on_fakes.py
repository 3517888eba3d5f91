"""The OpenAI Agents SDK for JavaScript against the real server on scripted fakes: what the SDK sends is understood,
every server event passes the SDK's own schema, and its function tools go round the loop (the model's call, the
SDK running the tool, the result back in the model's prompt, the answer in the SDK's history). Fast, no models."""

from __future__ import annotations

import json

import pytest

from omni.types import ToolCall
from tests.clients.agents_js import Case, ask, node_ready
from tests.fakes.backends import ScriptedLLM
from tests.server.serving import fake_state, serving

INSTRUCTIONS = "You are a helpful voice assistant."
"""What ask.mjs gives its RealtimeAgent."""


@pytest.fixture(autouse=True)
def _node() -> None:
    problem = node_ready()
    if problem:
        pytest.fail(problem)


def ws(url: str) -> str:
    return url.replace("http://", "ws://") + "/v1/realtime?model=omni-realtime"


def assert_clean(case: Case) -> None:
    assert not case.timed_out and case.answer is not None, case
    assert case.errors == [] and case.rejected == [] and case.unknown == [], case
    assert case.answer["status"] == "completed"


async def test_a_function_tool_goes_round_the_loop_and_leaves_the_history_on_request() -> None:
    state = fake_state(answers=[[ToolCall("call_1", "get_weather", '{"city": "Paris"}')],
                                "It is 14 degrees with light rain in Paris."])
    async with serving(state) as url:
        [case] = await ask(ws(url), ["What's the weather in Paris?"], turn_seconds=30, forget_calls=True)
    assert_clean(case)
    assert [(c["name"], c["arguments"]) for c in case.tool_calls] == [("get_weather", {"city": "Paris"})]
    assert case.text == "It is 14 degrees with light rain in Paris."
    assert case.answer is not None and case.answer["responses"] == 2
    history = case.answer["history"]
    assert [(i["type"], i.get("role"), i["status"]) for i in history] == [
        ("message", "user", "completed"), ("function_call", None, "completed"), ("message", "assistant", "completed")]
    assert history[1]["output"] == case.tool_calls[0]["result"]

    llm = state.backends.llm
    assert isinstance(llm, ScriptedLLM)
    # the SDK's session.update: the agent's instructions and its zod-typed tool reached the model
    assert llm.prompts[0][0].role == "system" and llm.prompts[0][0].content.startswith(INSTRUCTIONS)
    offered = {tool.name: tool for tool in llm.calls[0][0]}
    assert offered["get_weather"].parameters["required"] == ["city"]
    # the SDK's function_call_output is in the prompt of the response it asked for
    results = [m for m in llm.prompts[1] if m.role == "tool"]
    assert [(m.tool_call_id, json.loads(m.content)) for m in results] == [
        ("call_1", json.loads(case.tool_calls[0]["result"]))]
    # updateHistory deleted the call on the server by the id it was shown: no error, and it left the SDK's history
    assert case.forgot is not None and [i["type"] for i in case.forgot] == ["message", "message"]


async def test_two_calls_in_one_response_are_both_run_and_answered_once() -> None:
    calls = [ToolCall("call_a", "get_weather", '{"city": "Paris"}'),
             ToolCall("call_b", "get_weather", '{"city": "Busan"}')]
    state = fake_state(answers=[calls, "Paris has 14 degrees and rain, Busan 23 and sun."])
    async with serving(state) as url:
        [case] = await ask(ws(url), ["What's the weather in Paris and in Busan?"], turn_seconds=30)
    assert_clean(case)
    assert [c["arguments"]["city"] for c in case.tool_calls] == ["Paris", "Busan"]
    assert case.answer is not None and case.answer["responses"] == 2  # one response.create for both results
    llm = state.backends.llm
    assert isinstance(llm, ScriptedLLM) and len(llm.prompts) == 2
    assert [m.tool_call_id for m in llm.prompts[1] if m.role == "tool"] == ["call_a", "call_b"]


async def test_the_sdk_sends_its_api_key_and_a_wrong_one_is_refused() -> None:
    state = fake_state(answers=["Paris."], server={"api_keys": ["sk-test-key"]})
    async with serving(state) as url:
        with pytest.raises(AssertionError, match="401"):
            await ask(ws(url), ["What is the capital of France?"], turn_seconds=30, api_key="sk-wrong")


async def test_a_question_without_a_call_is_one_response_and_the_sdk_keys_are_accepted() -> None:
    state = fake_state(answers=["Paris is the capital of France."], server={"api_keys": ["sk-test-key"]})
    async with serving(state) as url:
        [case] = await ask(ws(url), ["What is the capital of France?"], turn_seconds=30, api_key="sk-test-key")
    assert_clean(case)
    assert case.tool_calls == []
    assert case.text == "Paris is the capital of France."
    assert case.answer is not None and case.answer["responses"] == 1
