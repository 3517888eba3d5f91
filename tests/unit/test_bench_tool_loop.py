"""The kept tool conversations, the client's side of them, the judge, and the runner on a scripted LLM."""

from __future__ import annotations

import json
from collections import Counter

from omni.bench.tool_conversations import (
    ITEMS,
    KINDS,
    TOOL_NAMES,
    Call,
    Expected,
    Turn,
    client_result,
    in_language,
    judge_answer,
    judge_calls,
    judge_turn,
    matches,
)
from omni.bench.tool_loop import format_summary, run_item, summarise
from omni.clock import RealClock
from omni.session.session import SessionOptions
from omni.types import ToolCall
from tests.fakes.backends import ScriptedLLM

WEATHER = Expected("get_weather", {"city": ("seoul", "서울")})
SEOUL_TURN = Turn("What's the weather in Seoul?", (WEATHER,), ("-3|snow|눈",))


def item(item_id: str):  # type: ignore[no-untyped-def]
    return next(i for i in ITEMS if i.id == item_id)


def ideal_call(expected: Expected) -> Call:
    """The call a right model makes: the first value of each key argument (numbers as numbers)."""
    args = {key: values[0] for key, values in expected.args.items()}
    return Call(expected.name, json.dumps({k: int(v) if isinstance(v, float) and v == int(v) else v
                                           for k, v in args.items()}))


def test_the_set_has_every_kind_in_both_languages() -> None:
    assert len(ITEMS) >= 40
    counts = Counter(i.language for i in ITEMS)
    assert counts["en"] == counts["ko"]
    assert {i.kind for i in ITEMS} == set(KINDS)
    for i in ITEMS:
        for turn in i.turns:
            assert in_language(turn.text, i.language), turn.text
            assert all(e.name in TOOL_NAMES for e in turn.calls)
        if i.kind == "none":
            assert not any(t.calls for t in i.turns)
        if i.kind == "two":
            assert len(i.turns[0].calls) == 2
        if i.kind == "follow-up":
            assert len(i.turns) == 2
        if i.kind == "later":
            assert len(i.turns) == 2 and not i.turns[0].calls and i.turns[1].calls
    half = ITEMS[::2]  # --every 2
    languages = Counter(i.language for i in half)
    assert abs(languages["en"] - languages["ko"]) <= 1 and {i.kind for i in half} == set(KINDS)
    assert len({i.id for i in ITEMS}) == len(ITEMS)


def test_the_client_answers_right_calls_and_reports_errors() -> None:
    for i in ITEMS:
        for turn in i.turns:
            for expected in turn.calls:
                result = client_result(expected.name, ideal_call(expected).arguments)
                assert ("error" in result) == (i.kind == "error"), (i.id, result)
            if turn.seeded is not None:
                assert "missing required property" in client_result(turn.seeded.name, turn.seeded.arguments)["error"]
    assert client_result("get_weather", '{"city": "부산"}')["temperature_c"] == 14
    assert client_result("convert_currency", '{"amount": 100, "from_currency": "dollars", "to_currency": "원"}'
                         )["result"] == 136540
    assert "must be an integer" in client_result("set_timer", '{"minutes": "ten"}')["error"]
    assert "error" in client_result("get_weather", "{not json")


def test_arguments_match_case_insensitively_in_either_language_and_numbers_by_value() -> None:
    assert matches(Call("get_weather", '{"city": "SEOUL"}'), WEATHER)
    assert matches(Call("get_weather", '{"city": "서울특별시"}'), WEATHER)
    assert not matches(Call("get_weather", '{"city": "Busan"}'), WEATHER)
    assert not matches(Call("get_weather", '{"location": "Seoul"}'), WEATHER)
    assert not matches(Call("get_time", '{"city": "Seoul"}'), WEATHER)
    timer = Expected("set_timer", {"minutes": (10.0,)})
    assert matches(Call("set_timer", '{"minutes": 10}'), timer)
    assert matches(Call("set_timer", '{"minutes": "10"}'), timer)
    assert not matches(Call("set_timer", '{"minutes": 15}'), timer)


def test_calls_are_judged_for_need_repeats_and_completeness() -> None:
    seoul = Call("get_weather", '{"city": "Seoul"}')
    assert judge_calls(SEOUL_TURN, [seoul]) == []
    repeated = judge_calls(SEOUL_TURN, [seoul, Call("get_weather", '{"city":  "seoul"}')])
    assert repeated == ['repeated call get_weather({"city":  "seoul"})']
    assert judge_calls(SEOUL_TURN, []) == ["no right call to get_weather"]
    assert judge_calls(SEOUL_TURN, [seoul, Call("get_time", '{"timezone": "Seoul"}')]) == [
        'wrong call get_time({"timezone": "Seoul"})']
    no_tool = Turn("What is the capital of France?", (), ("paris",))
    assert judge_calls(no_tool, [seoul]) != [] and judge_calls(no_tool, []) == []
    two = item("two-10-en").turns[0]
    busan = Call("get_weather", '{"city": "Busan"}')
    assert judge_calls(two, [busan, seoul]) == []  # in either order
    assert judge_calls(two, [seoul]) == ["no right call to get_weather"]
    schema = item("schema-21-ko").turns[0]
    assert judge_calls(schema, [Call("set_timer", '{"minutes": 7}')]) == []
    assert judge_calls(schema, [Call("set_timer", '{"duration": "7 minutes"}')])[0].startswith("repeated call")


def test_answers_must_hold_the_result_in_the_users_language_without_format_talk() -> None:
    assert judge_answer(SEOUL_TURN, "It's snowing in Seoul, minus three degrees.", "en") == []
    assert judge_answer(SEOUL_TURN, "서울은 지금 눈이 오고 영하 3도예요.", "ko") == []
    assert judge_answer(SEOUL_TURN, "It's snowing in Seoul.", "ko") == ["not in Korean"]
    assert judge_answer(SEOUL_TURN, "서울은 눈이 와요.", "en") == ["not in English"]
    issue = ('Please provide the response in the following format: ```json {"name": "get_weather", '
             '"arguments": {"city": "Seoul"}}```')
    assert any(p.startswith("format talk") for p in judge_answer(SEOUL_TURN, issue, "en"))
    invented = judge_answer(SEOUL_TURN, "It is sunny and 25 degrees in Seoul.", "en")
    assert invented == ["missing -3|snow|눈"]
    assert judge_answer(SEOUL_TURN, "  ", "en") == ["no answer"]
    korean_about_the_function = "get_weather 함수에서 유효한 응답을 받았습니다."
    assert judge_answer(SEOUL_TURN, korean_about_the_function, "ko")[0].startswith("format talk")
    assert judge_answer(item("one-05-ko").turns[0], "부산은 안개가 끼었고 14도입니다.", "ko") == []
    assert judge_answer(item("one-05-ko").turns[0], "부산은 안개가 끼었고 140도입니다.", "ko") == []  # fog is enough
    error = item("error-18-en").turns[0]
    assert judge_answer(error, "Sorry, I couldn't find a city called Atlantis.", "en") == []
    assert judge_answer(error, "It is sunny in Atlantis.", "en") != []


def test_a_turn_is_right_only_when_calls_and_answer_are() -> None:
    seoul = Call("get_weather", '{"city": "Seoul"}')
    assert judge_turn(SEOUL_TURN, [seoul], "It's -3 and snowing.", "en").right
    wrong = judge_turn(SEOUL_TURN, [seoul, seoul], "It's -3 and snowing.", "en")
    assert not wrong.called_right and wrong.answered_right and not wrong.right


async def test_the_runner_plays_the_client_and_judges_each_turn() -> None:
    """A scripted model that calls, repeats nothing and answers: the runner sends the canned result back as a
    function_call_output and asks for the next response, as a Realtime client does."""
    follow_up = item("follow-up-14-en")
    llm = ScriptedLLM(RealClock(), [
        [ToolCall("c1", "search_contacts", '{"name": "Minji"}')], "Minji's number is 010-4821-7730.",
        [ToolCall("c2", "get_weather", '{"city": "Busan"}')], "It's foggy in Busan, 14 degrees.",
    ], first_token=0.0, per_token=0.0)
    result = await run_item(llm, follow_up, SessionOptions(), 0.8)
    assert result.right, result
    assert [t.calls for t in result.turns] == [(("search_contacts", '{"name": "Minji"}'),),
                                               (("get_weather", '{"city": "Busan"}'),)]
    assert [t.responses for t in result.turns] == [2, 2]
    # the client's result was in the prompt of the answer, as a tool message, with the session's note after it
    answered = llm.prompts[1]
    assert answered[-2].role == "tool" and "4821" in answered[-2].content
    assert answered[-1].role == "system" and "What's Minji's phone number?" in answered[-1].content
    assert llm.calls[0][1].temperature == 0.8 and {t.name for t in llm.calls[0][0]} == TOOL_NAMES
    rows = summarise([result])
    assert rows[0].group == "all" and rows[0].right == 1.0
    assert "follow-up" in format_summary(rows)


async def test_a_turn_that_never_stops_calling_has_no_answer() -> None:
    cities = ["Seoul", "Busan", "Tokyo", "London", "Paris"]
    llm = ScriptedLLM(RealClock(), [[ToolCall(f"c{i}", "get_weather", f'{{"city": "{city}"}}')]
                                    for i, city in enumerate(cities)], first_token=0.0, per_token=0.0)
    result = await run_item(llm, item("one-00-en"), SessionOptions(), 0.0)
    turn = result.turns[0]
    assert turn.responses == 4 and turn.answer == "" and not result.right
    assert "no answer" in turn.problems and any(p.startswith("wrong call") for p in turn.problems)
