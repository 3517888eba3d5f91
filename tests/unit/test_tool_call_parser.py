"""ToolCallParser: tool calls pulled out of streamed model text, whatever the deltas, with the rest passed as text."""

from __future__ import annotations

import json
from collections.abc import Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omni.backends.tool_call_parser import ToolCallParser

WEATHER = frozenset({"get_weather"})

Result = tuple[str, list[tuple[str, dict[str, object]]], list[str]]


def parse(deltas: Iterable[str], tools: frozenset[str] = WEATHER) -> Result:
    """Text shown, calls as (name, decoded arguments), malformed bodies."""
    parser = ToolCallParser(tool_names=tools)
    text = "".join(parser.push(delta) for delta in deltas) + parser.finish()
    return text, [(call.name, json.loads(call.arguments)) for call in parser.calls], parser.malformed


TAGGED = (
    'Let me check. <tool_call>\n{"name": "get_weather", "arguments": {"city": "Seoul"}}\n</tool_call>'
    ' One moment.<tool_call>{"name": "get_weather", "arguments": {"city": "서울", "unit": "c"}}</tool_call> <tools!'
)


def test_tagged_calls_are_taken_out_and_the_text_around_them_kept() -> None:
    text, calls, malformed = parse([TAGGED])
    assert text == "Let me check.  One moment. <tools!"
    assert calls == [("get_weather", {"city": "Seoul"}), ("get_weather", {"city": "서울", "unit": "c"})]
    assert malformed == []


def test_every_split_point_gives_the_same_calls_and_text() -> None:
    whole = parse([TAGGED])
    for split in range(len(TAGGED) + 1):
        assert parse([TAGGED[:split], TAGGED[split:]]) == whole, f"split after {TAGGED[:split]!r}"


def test_one_character_at_a_time_gives_the_same_calls_and_text() -> None:
    assert parse(list(TAGGED)) == parse([TAGGED])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(TAGGED)), max_size=12))
def test_any_split_into_deltas_gives_the_same_calls_and_text(cuts: list[int]) -> None:
    points = sorted(set(cuts))
    deltas = [TAGGED[a:b] for a, b in zip([0, *points], [*points, len(TAGGED)], strict=True)]
    assert parse(deltas) == parse([TAGGED])


def test_text_streams_out_as_it_arrives() -> None:
    parser = ToolCallParser(tool_names=WEATHER)
    assert parser.push("Hello") == "Hello"
    assert parser.push(" world, ") == " world, "


def test_partial_tag_is_held_back_then_released_when_it_is_not_a_tag() -> None:
    parser = ToolCallParser(tool_names=WEATHER)
    assert parser.push("I like <tool") == "I like "
    assert parser.push("s and <") == "<tools and "
    assert parser.push("b>") == "<b>"
    assert parser.push(" and <tool_c") == " and "
    assert parser.finish() == "<tool_c"
    assert parser.calls == []


def test_text_inside_a_tag_is_never_shown() -> None:
    parser = ToolCallParser(tool_names=WEATHER)
    shown = parser.push('ok <tool_call>{"name": "get_') + parser.push('weather", "arguments": {}}')
    assert shown == "ok "
    assert parser.push("</tool_call>bye") == "bye"
    assert [call.name for call in parser.calls] == ["get_weather"]


def test_unclosed_call_at_the_end_is_parsed_when_its_json_is_complete() -> None:
    assert parse(['<tool_call>{"name": "get_weather", "parameters": {"city": "Paris"}}']) == (
        "", [("get_weather", {"city": "Paris"})], []
    )


def test_arguments_given_as_a_json_string_are_kept_as_is() -> None:
    parser = ToolCallParser(tool_names=WEATHER)
    parser.push('<tool_call>{"name": "get_weather", "arguments": "{\\"city\\": \\"Rome\\"}"}</tool_call>')
    parser.finish()
    assert [(call.name, call.arguments) for call in parser.calls] == [("get_weather", '{"city": "Rome"}')]


def test_each_call_gets_its_own_id() -> None:
    parser = ToolCallParser(tool_names=WEATHER)
    parser.push(TAGGED)
    parser.finish()
    ids = [call.id for call in parser.calls]
    assert len(ids) == 2 and len(set(ids)) == 2 and all(i.startswith("call_") for i in ids)


BARE = '{"name": "get_weather", "arguments": {"city": "Oslo"}}'


@pytest.mark.parametrize(
    "reply",
    [BARE, f"  {BARE}\n", f"```json\n{BARE}\n```", f"```\n{BARE}\n```", f"{{{BARE}}}",
     f"<tool_call>{{{BARE}}}</tool_call>"],
    ids=["bare", "padded", "fenced-json", "fenced", "doubled-braces", "tagged-doubled-braces"],
)
def test_bare_or_fenced_json_naming_an_offered_tool_is_a_call(reply: str) -> None:
    # doubled braces: Qwen2.5-Coder's template shows the format as {{"name": ...}} and the model copies them
    parser = ToolCallParser(tool_names=WEATHER)
    shown = "".join(parser.push(ch) for ch in reply)
    assert shown == ""  # held back until the end decides
    assert parser.finish() == ""
    assert [(c.name, json.loads(c.arguments)) for c in parser.calls] == [("get_weather", {"city": "Oslo"})]
    assert parser.malformed == []


def test_bare_json_naming_another_tool_is_text() -> None:
    reply = '{"name": "launch_rockets", "arguments": {}}'
    assert parse([reply]) == (reply, [], [])


def test_bare_json_is_text_when_no_tools_are_offered() -> None:
    parser = ToolCallParser()
    assert parser.push(BARE) == BARE
    assert parser.finish() == ""
    assert parser.calls == []


def test_a_reply_that_starts_like_code_but_is_not_a_call_comes_out_whole() -> None:
    reply = "`ls` lists files."
    assert parse(list(reply)) == (reply, [], [])


@pytest.mark.parametrize(
    "body",
    ['{"name": oops}', '{"arguments": {"city": "Oslo"}}', '["get_weather"]', '{"name": 42}', ""],
    ids=["bad-json", "no-name", "not-an-object", "name-not-a-string", "empty"],
)
def test_malformed_calls_are_recorded_and_the_text_goes_on(body: str) -> None:
    text, calls, malformed = parse([f"Sure. <tool_call>{body}</tool_call> Done."])
    assert text == "Sure.  Done."
    assert calls == []
    assert malformed == [body]


def test_unclosed_malformed_call_at_the_end_is_recorded() -> None:
    assert parse(['Sure. <tool_call>{"name": "get_weather", "argu']) == (
        "Sure. ", [], ['{"name": "get_weather", "argu']
    )


def test_two_calls_written_in_one_block_are_both_taken() -> None:
    """The 1.5B model writes a second call as a second JSON object in the same block, often without closing it."""
    block = ('<tool_call>\n{"name": "get_weather", "arguments": {"city": "Seoul"}}\n'
             '{"name": "get_weather", "arguments": {"city": "Busan"}}')
    text, calls, malformed = parse([block])
    assert text == "" and malformed == []
    assert calls == [("get_weather", {"city": "Seoul"}), ("get_weather", {"city": "Busan"})]
    assert parse([block + "\n</tool_call>"])[1] == calls
    _, none, bad = parse(['<tool_call>{"name": "get_weather", "arguments": {}} and then some</tool_call>'])
    assert none == [] and len(bad) == 1
