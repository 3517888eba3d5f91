"""Loops in generated text: the same words three times in a row at the end; twice, or a half-written word, is not."""

from __future__ import annotations

import pytest

from omni.text.repetition import looping


@pytest.mark.parametrize(
    "text",
    [
        "물론, 문을 잠시 잠시 잠시 잠",  # the model's own loop (interpreter benchmark), a fourth word half written
        "the the the ",
        "Cut slowly. Keep your fingers up. Cut slowly. Keep your fingers up. Cut slowly. Keep your fingers up.",
        "손가락을 높여서 칼을 베이세요. 손가락을 높여서 칼을 베이세요! 손가락을 높여서 칼을 베이세요.",
        "Yes. yes, YES!",
    ],
)
def test_three_times_the_same_words_is_a_loop(text: str) -> None:
    assert looping(text)


@pytest.mark.parametrize(
    "text",
    [
        "물론, 문을 잠시 잠시 잠",  # the third 잠시 is not finished: it may become 잠시만
        "No, no. That is fine.",
        "Ha ha",
        "1 2 3 4 5 6 7 8 9 10",
        "Paris is the capital of France. Paris is lovely.",
        "Step one: mix. Step two: bake. Step three: serve.",
        "",
    ],
)
def test_other_text_is_not(text: str) -> None:
    assert not looping(text)


def test_a_unit_longer_than_twelve_words_is_not_checked() -> None:
    sentence = "one two three four five six seven eight nine ten eleven twelve thirteen. "
    assert not looping(sentence * 3)
    assert looping("one two three four five six seven eight nine ten eleven twelve. " * 3)
