"""End-of-turn prediction's rules and verdicts on the words of a pause, and the waits they pick."""

from __future__ import annotations

import pytest

from omni.session.end_of_turn import WAITS, unfinished_words, verdict


@pytest.mark.parametrize("text", [
    "Please book me a table at", "Please book me a table at...", "Can you remind me to call my sister and",
    "I need eggs,", "So I was thinking that", "And um", "Tell me about the", "내일 아침에", "내일 아침에...",
    "그리고", "비가 오면", "역 근처 식당을",
])
def test_words_that_plainly_go_on(text: str) -> None:
    assert unfinished_words(text)
    assert verdict(text, 0.8) == "unfinished"  # whatever the LLM says: it reads "at..." as finished


@pytest.mark.parametrize("text", [
    "What is the capital of France?", "What are you looking at?", "Turn off the lights.", "Thanks.",
    "지금 몇 시야?", "내일 아침에 엄마한테 전화하라고 알려 줘.", "",
])
def test_words_that_may_be_finished(text: str) -> None:
    assert not unfinished_words(text)


def test_the_llm_probability_decides_between_finished_unsure_and_unfinished() -> None:
    assert verdict("What is the capital of France?", 0.99) == "complete"
    assert verdict("I need eggs, milk and bread.", 0.41) == "unsure"
    assert verdict("오늘 날씨가", 0.0) == "unfinished"
    # a particle that often joins more does not outweigh a model that is sure
    assert verdict("냉면.", 0.95) == "complete"
    assert verdict("냉면.", 0.6) == "unfinished"


def test_without_a_probability_the_punctuation_decides() -> None:
    assert verdict("Tell me a joke.", None) == "complete"
    assert verdict("tell me a joke", None) == "unsure"


def test_waits_grow_from_finished_to_unfinished_and_with_lower_eagerness() -> None:
    for waits in WAITS.values():
        assert waits.complete < waits.unsure < waits.unfinished
        assert waits.for_verdict(None) == waits.unknown
    assert WAITS["high"].unfinished < WAITS["auto"].unfinished < WAITS["low"].unfinished
    assert WAITS["auto"] == WAITS["medium"]


def test_the_sound_can_only_hold_a_finished_looking_statement_back() -> None:
    cut_short = "Please book me a table."  # whisper's reading of "Please book me a table at" cut at a pause
    assert verdict(cut_short, 0.93) == "complete"
    assert verdict(cut_short, 0.93, finished=0.2) == "unsure"  # no final fall: more is coming
    assert verdict(cut_short, 0.93, finished=0.9) == "complete"
    assert verdict("Is it raining?", 0.95, finished=0.1) == "complete"  # questions rise at the end
    assert verdict("Please book me a table at", 0.0, finished=0.99) == "unfinished"  # never shortens
    assert verdict("I need eggs, milk and bread.", 0.41, finished=0.99) == "unsure"


def test_a_number_the_model_does_not_find_finished_goes_on() -> None:
    assert verdict("My number is a 1-0.", 0.14) == "unfinished"  # whisper's "010", read in groups
    assert verdict("The code is 470.", 0.15) == "unfinished"
    assert verdict("I was born in 1990.", 0.8) == "complete"
    assert verdict("Is it 5?", 0.3) == "unsure"


def test_a_korean_sentence_ending_counts_as_a_closing_mark() -> None:
    assert verdict("비 오는 날의 듣기 좋은 노래 있어", 0.09) == "complete"  # the question mark left off
    assert verdict("주말에 할 만한 운동 하나 알려줄래", None) == "complete"
    assert verdict("오늘 날씨가 정말 좋네요", 0.01) == "unsure"
    assert verdict("이번 주말에", 0.0) == "unfinished"  # a particle, not an ending
