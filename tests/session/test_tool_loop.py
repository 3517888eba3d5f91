"""The tool loop's rules through the session, on virtual time: a repeated call is not made again and the model is
asked for its answer; after tool results the model is told to answer from them in the user's language; a call whose
arguments failed gets one correction round, which must call that tool."""

from __future__ import annotations

import json
from dataclasses import replace

from omni.events import ReplyDone, ToolCallDone, ToolCallRequested
from omni.session.context import Item
from omni.session.tools import (
    MAX_CORRECTIONS,
    FunctionTool,
    ToolBox,
    after_results,
    argument_error,
    new_calls,
    repeats,
)
from omni.types import Tool, ToolCall
from tests.session.harness import Harness, make_harness

WEATHER = Tool("get_weather", "Weather for a city",
               {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})
TIMER = Tool("set_timer", "Start a timer",
             {"type": "object", "properties": {"minutes": {"type": "integer"}}, "required": ["minutes"]})


def seoul(call_id: str = "c1", **extra: object) -> ToolCall:
    return ToolCall(call_id, "get_weather", json.dumps({"city": "Seoul", **extra}))


def client_harness(answers: list[str | list[ToolCall]]) -> Harness:
    h = make_harness([], answers, output_audio=False)
    h.session.configure(replace(h.session.options, tools=(WEATHER, TIMER)))
    return h


async def respond(h: Harness) -> ReplyDone:
    done = len(h.of(ReplyDone))
    await h.session.create_reply()
    await h.clock.run_until(lambda: len(h.of(ReplyDone)) > done, limit=10)
    return h.of(ReplyDone)[-1]


async def test_a_repeated_client_call_is_not_sent_again_and_the_model_answers_instead() -> None:
    """The issue's Agents SDK run: the same call three times for one question and an empty answer."""
    h = client_harness([[seoul("c1")], [seoul("c2")], "It is snowing in Seoul, minus three degrees."])
    h.session.add_user_text("What's the weather in Seoul?")
    first = await respond(h)
    assert [e.call.id for e in h.of(ToolCallRequested)] == ["c1"] and first.text == ""
    h.session.add_tool_result("c1", '{"sky": "snow", "celsius": -3}')
    second = await respond(h)
    assert [e.call.id for e in h.of(ToolCallRequested)] == ["c1"], "the repeat is not sent to the client"
    assert second.text == "It is snowing in Seoul, minus three degrees." and second.status == "completed"
    assert h.session.conversation.items[-1].tool_calls == ()
    # the round after the repeat had the tools off and was told to answer from the results it has
    _, options = h.llm.calls[-1]
    assert options.tool_choice == "none"
    assert "all there is" in h.llm.prompts[-1][-1].content


async def test_a_repeat_with_the_results_fields_added_is_a_repeat_but_a_new_city_is_not() -> None:
    h = client_harness([[seoul("c1")], [seoul("c2", sky="snow"), ToolCall("c3", "get_weather", '{"city": "Busan"}')]])
    h.session.add_user_text("Weather in Seoul and Busan?")
    await respond(h)
    h.session.add_tool_result("c1", '{"sky": "snow", "celsius": -3}')
    await respond(h)
    assert [e.call.id for e in h.of(ToolCallRequested)] == ["c1", "c3"]
    assert h.session.conversation.items[-1].tool_calls == (ToolCall("c3", "get_weather", '{"city": "Busan"}'),)


async def test_two_calls_in_one_reply_both_go_to_the_client() -> None:
    calls = [seoul("c1"), ToolCall("c2", "set_timer", '{"minutes": 5}')]
    h = client_harness([calls])
    h.session.add_user_text("Weather in Seoul, and a five minute timer.")
    await respond(h)
    assert [e.call for e in h.of(ToolCallRequested)] == calls


async def test_after_a_result_the_model_is_told_to_answer_the_question_in_the_users_language() -> None:
    h = client_harness([[seoul("c1")], "서울은 눈이 오고 영하 3도예요."])
    h.session.add_user_text("지금 서울 날씨 어때요?")
    await respond(h)
    h.session.add_tool_result("c1", '{"sky": "snow", "celsius": -3}')
    await respond(h)
    prompt = h.llm.prompts[-1]
    assert prompt[-2].role == "tool" and prompt[-1].role == "system"
    note = prompt[-1].content
    assert "지금 서울 날씨 어때요?" in note and "in Korean" in note and "JSON" in note
    assert h.llm.calls[-1][1].tool_choice == "auto", "a second call the question needs is still possible"
    # the note is for this request only: it is not in the conversation
    assert all(item.role != "system" for item in h.session.conversation.items)


async def test_a_call_whose_arguments_failed_gets_one_correction_round_that_must_call_the_tool() -> None:
    bad = ToolCall("c1", "set_timer", '{"duration": "7 minutes"}')
    fixed = ToolCall("c2", "set_timer", '{"minutes": 7}')
    h = client_harness([[bad], [fixed], "The seven minute timer is running."])
    h.session.add_user_text("Set a timer for 7 minutes.")
    await respond(h)
    h.session.add_tool_result("c1", '{"error": "invalid arguments: missing required property \'minutes\'"}')
    await respond(h)
    assert h.llm.calls[-1][1].tool_choice == "set_timer"
    assert "The call failed" in h.llm.prompts[-1][-1].content
    assert [e.call for e in h.of(ToolCallRequested)] == [bad, fixed], "the correction is not taken for a repeat"
    h.session.add_tool_result("c2", '{"status": "started", "minutes": 7}')
    answer = await respond(h)
    assert answer.text == "The seven minute timer is running."
    assert h.llm.calls[-1][1].tool_choice == "auto"


async def test_corrections_are_bounded() -> None:
    calls = [ToolCall(f"c{i}", "set_timer", json.dumps({"minutes": "seven", "try": i})) for i in range(3)]
    h = client_harness([[calls[0]], [calls[1]], "Sorry, I could not set the timer."])
    h.session.add_user_text("Set a timer for 7 minutes.")
    await respond(h)
    h.session.add_tool_result("c0", '{"error": "\'minutes\' must be an integer"}')
    await respond(h)
    assert h.llm.calls[-1][1].tool_choice == "set_timer"
    h.session.add_tool_result("c1", '{"error": "\'minutes\' must be an integer"}')
    answer = await respond(h)
    assert MAX_CORRECTIONS == 1 and h.llm.calls[-1][1].tool_choice == "auto"
    assert "Answer the user's question" in h.llm.prompts[-1][-1].content
    assert answer.text == "Sorry, I could not set the timer."


async def test_a_local_tool_repeated_in_the_next_round_runs_once() -> None:
    ran: list[str] = []

    def weather(city: str) -> dict[str, object]:
        ran.append(city)
        return {"city": city, "sky": "clear"}

    toolbox = ToolBox([FunctionTool(WEATHER, weather)])
    h = make_harness([], [[seoul("c1")], [seoul("c2")], "It is clear in Seoul."], toolbox=toolbox, output_audio=False)
    h.session.add_user_text("What's the weather in Seoul?")
    done = await respond(h)
    assert ran == ["Seoul"] and len(h.of(ToolCallDone)) == 1
    assert done.text == "It is clear in Seoul."


def test_repeats_and_argument_errors() -> None:
    assert repeats(seoul(), ToolCall("x", "get_weather", '{"city": " seoul "}'))
    assert repeats(seoul(sky="snow"), seoul())
    assert not repeats(seoul(sky="snow"), seoul(), failed=True), "after a failure, more arguments are a correction"
    assert not repeats(seoul(), ToolCall("x", "get_time", '{"city": "Seoul"}'))
    assert repeats(ToolCall("a", "f", "{bad"), ToolCall("b", "f", "{bad"))
    turn = [Item("a", "assistant", tool_calls=(seoul("c1"),)), Item("t", "tool", '{"sky": "snow"}', tool_call_id="c1")]
    assert new_calls([seoul("c2"), seoul("c3", city="Busan"), seoul("c4", city="busan")], turn) == [
        seoul("c3", city="Busan")]
    assert argument_error('{"error": "missing required property \'city\'"}') == "missing required property 'city'"
    assert argument_error('{"error": "city not found"}') is None
    assert argument_error("not json") is None


def test_the_note_after_results_names_the_question_and_language() -> None:
    turn = [Item("a", "assistant", tool_calls=(seoul("c1"),)), Item("t", "tool", '{"error": "city not found"}',
                                                                       tool_call_id="c1")]
    after = after_results("Weather in Atlantis?", "English", turn)
    assert after.correct is None and '"Weather in Atlantis?"' in after.note and "could not" in after.note
    worked = [*turn[:1], Item("t", "tool", '{"sky": "snow"}', tool_call_id="c1")]
    assert "could not" not in after_results("Weather in Seoul?", "English", worked).note
    failed = [*turn[:1], Item("t", "tool", '{"error": "invalid arguments: missing city"}', tool_call_id="c1")]
    assert after_results("q", "Korean", failed).correct == "get_weather"
    assert after_results("q", "Korean", failed, answer_now=True).correct is None
