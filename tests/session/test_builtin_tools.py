"""Built-in tools in a session on scripted fakes: offered with no client tools (beside a client's only when asked
for), run by the session and never sent to the client, hidden by a client's tool of the same name, run beside a
client's call in one round, offered only to questions with their cues and forced by triggers, and each session's
notes its own."""

from __future__ import annotations

import json
from dataclasses import replace

from omni.config import ToolsSettings
from omni.events import ReplyDone, ToolCallDone, ToolCallRequested
from omni.session.session import ReplyOverrides
from omni.tools.builtin import builtin_toolbox
from omni.types import Tool, ToolCall
from tests.session.harness import Harness, make_harness

CITY: dict[str, object] = {"type": "object", "properties": {"city": {"type": "string"}}}
CLIENT_TIME = Tool("get_time", "The client's clock.", CITY)
CLIENT_WEATHER = Tool("get_weather", "Weather for a city.", CITY)


def calc(call_id: str, expression: str) -> ToolCall:
    return ToolCall(call_id, "calculate", json.dumps({"expression": expression}))


def with_builtins(answers: list[str | list[ToolCall]]) -> Harness:
    return make_harness([], answers, toolbox=builtin_toolbox(ToolsSettings()), output_audio=False)


async def respond(h: Harness) -> ReplyDone:
    count = len(h.of(ReplyDone))
    await h.session.create_reply()
    await h.clock.run_until(lambda: len(h.of(ReplyDone)) > count, limit=20)
    return h.of(ReplyDone)[-1]


async def test_built_in_tools_are_offered_without_client_tools_and_run_by_the_session() -> None:
    h = with_builtins([[calc("c1", "37*43")], "37 times 43 is 1591."])
    h.session.add_user_text("What is 37 times 43?")
    done = await respond(h)
    offered = [t.name for t in h.llm.calls[0][0]]
    assert offered == ["calculate"], "the tools the question has cues for"
    assert h.of(ToolCallRequested) == [], "a built-in call is not sent to the client"
    assert json.loads(h.of(ToolCallDone)[0].output) == {"expression": "37*43", "result": "1591"}
    assert h.llm.prompts[1][-2].role == "tool" and "1591" in h.llm.prompts[1][-2].content
    assert done.text == "37 times 43 is 1591." and done.status == "completed"


async def test_a_client_tool_of_the_same_name_hides_the_built_in() -> None:
    call = ToolCall("c1", "get_time", json.dumps({"city": "Tokyo"}))
    h = with_builtins([[call]])
    h.session.configure(replace(h.session.options, tools=(CLIENT_TIME,), local_tools_with_client_tools=True))
    h.session.add_user_text("What time is it in Tokyo?")
    await respond(h)
    offered = h.llm.calls[0][0]
    assert [t.name for t in offered] == ["get_time"]
    assert offered[-1] == CLIENT_TIME, "the client's schema, not the built-in one"
    assert [e.call for e in h.of(ToolCallRequested)] == [call], "the client's call is the client's to run"
    assert h.of(ToolCallDone) == []


async def test_a_built_in_and_a_client_call_in_one_round() -> None:
    weather = ToolCall("c2", "get_weather", json.dumps({"city": "Tokyo"}))
    h = with_builtins([[calc("c1", "2+2"), weather], "It is sunny, and 2 and 2 make 4."])
    h.session.configure(replace(h.session.options, tools=(CLIENT_WEATHER,), local_tools_with_client_tools=True))
    h.session.add_user_text("What's 2+2, and the weather in Tokyo?")
    await respond(h)
    assert [e.call for e in h.of(ToolCallRequested)] == [weather], "only the client's call goes to the client"
    assert [e.call.id for e in h.of(ToolCallDone)] == ["c1"]
    items = h.session.conversation.items
    assert items[-2].tool_calls == (calc("c1", "2+2"), weather)
    assert items[-1].role == "tool" and items[-1].tool_call_id == "c1"
    h.session.add_tool_result("c2", '{"sky": "sunny"}')
    done = await respond(h)
    prompt = h.llm.prompts[-1]
    assert [m.role for m in prompt[-4:]] == ["assistant", "tool", "tool", "system"]
    assert "4" in prompt[-3].content and "sunny" in prompt[-2].content
    assert done.text == "It is sunny, and 2 and 2 make 4."


async def test_two_sessions_do_not_see_each_others_notes() -> None:
    remember = ToolCall("c1", "notes", json.dumps({"action": "remember", "text": "my locker is 42"}))
    recall = ToolCall("c2", "notes", json.dumps({"action": "recall"}))
    first = with_builtins([[remember], "I will remember that.", [recall], "Your locker is 42."])
    second = with_builtins([[recall], "You have not asked me to remember anything."])
    first.session.add_user_text("Remember that my locker is 42.")
    await respond(first)
    second.session.add_user_text("What did I ask you to remember?")
    await respond(second)
    first.session.add_user_text("What did I ask you to remember?")
    await respond(first)
    first_recall = json.loads(first.of(ToolCallDone)[-1].output)
    second_recall = json.loads(second.of(ToolCallDone)[-1].output)
    assert first_recall == {"notes": ["my locker is 42"]}
    assert second_recall["notes"] == [] and "nothing" in second_recall["message"]


async def test_no_built_in_tools_when_switched_off() -> None:
    h = make_harness([], ["Paris."], toolbox=builtin_toolbox(ToolsSettings(builtin=())), output_audio=False)
    h.session.add_user_text("What is the capital of France?")
    await respond(h)
    assert h.llm.calls[0][0] == ()


async def test_a_question_without_a_built_in_tools_cues_is_not_offered_it() -> None:
    h = with_builtins(["Paris.", "Paris."])
    await h.session.prefill()
    h.session.add_user_text("What is the capital of France?")
    await respond(h)
    assert h.llm.calls[0][0] == (), "no tool in the prompt: the model neither calls one nor refuses for want of one"
    assert h.llm.prefilled[0] == h.llm.prompts[0][:1], "the prefilled prompt is the ordinary turn's"


async def test_a_question_is_offered_the_built_in_tools_it_has_cues_for_and_every_client_tool() -> None:
    h = with_builtins(["Sunny."])
    h.session.configure(replace(h.session.options, tools=(CLIENT_WEATHER,), local_tools_with_client_tools=True))
    h.session.add_user_text("도쿄 시간 좀 알려 줘.")
    await respond(h)
    assert [t.name for t in h.llm.calls[0][0]] == ["get_time", "get_weather"]


async def test_a_question_that_triggers_a_built_in_tool_calls_it_once() -> None:
    call = ToolCall("c1", "get_time", json.dumps({"place": "New York"}))
    h = with_builtins([[call], "뉴욕은 지금 오후 3시예요."])
    h.session.add_user_text("뉴욕은 지금 몇 시야.")
    done = await respond(h)
    assert h.llm.calls[0][1].tool_choice == "get_time", "called, whatever the model leans to"
    assert h.llm.calls[1][1].tool_choice == "auto", "after its result the model answers"
    assert done.text == "뉴욕은 지금 오후 3시예요."


async def test_a_client_with_tools_of_its_own_gets_only_those_by_default() -> None:
    h = with_builtins([[ToolCall("c1", "get_weather", json.dumps({"city": "Paris"}))]])
    h.session.configure(replace(h.session.options, tools=(CLIENT_WEATHER,)))
    h.session.add_user_text("What time is it in Paris?")  # a clock trigger, but the built-in clock is not offered
    await respond(h)
    tools, options = h.llm.calls[0]
    assert tools == (CLIENT_WEATHER,) and options.tool_choice == "auto"
    assert [e.call.name for e in h.of(ToolCallRequested)] == ["get_weather"], "the client's call is the client's"


async def test_a_trigger_does_not_force_a_built_in_tool_past_the_clients_tools() -> None:
    h = with_builtins(["Done."])
    h.session.configure(replace(h.session.options, tools=(CLIENT_WEATHER,), local_tools_with_client_tools=True))
    h.session.add_user_text("Set a timer for ten minutes.")
    await respond(h)
    tools, options = h.llm.calls[0]
    assert options.tool_choice == "auto" and [t.name for t in tools] == ["calculate", "timer", "get_weather"]


async def test_a_client_with_instructions_of_its_own_gets_no_built_in_tools_by_default() -> None:
    h = with_builtins(["Paris.", "Paris.", "Paris."])
    h.session.configure(replace(h.session.options, instructions="Answer in one sentence.", client_instructions=True))
    h.session.add_user_text("What is the capital of France?")
    await respond(h)
    assert h.llm.calls[0][0] == (), "under a client's instructions the model calls tools for anything"
    h.session.configure(replace(h.session.options, client_instructions=False))
    await h.session.create_reply(overrides=ReplyOverrides(instructions="Answer in French."))
    await h.clock.run_until(lambda: len(h.of(ReplyDone)) == 2, limit=20)
    assert h.llm.calls[1][0] == (), "nor under a response's own instructions"
    h.session.configure(replace(h.session.options, client_instructions=True, local_tools_with_client_tools=True))
    h.session.add_user_text("And what time is it there?")
    await respond(h)
    assert [t.name for t in h.llm.calls[2][0]] == ["get_time"]
