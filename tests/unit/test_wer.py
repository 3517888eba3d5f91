"""Word error rate: edit distance over words, punctuation and case ignored, any script."""

from __future__ import annotations

import pytest

from omni.text.wer import cer, wer, words


def test_words_ignore_case_and_punctuation_and_keep_contractions() -> None:
    assert words("Don't stop - it's 9 o'clock, Paris!") == ["don't", "stop", "it's", "9", "o'clock", "paris"]
    assert words("안녕하세요, 반갑습니다.") == ["안녕하세요", "반갑습니다"]


@pytest.mark.parametrize(("reference", "hypothesis", "expected"), [
    ("the cat sat", "The cat sat.", 0.0),
    ("the cat sat", "the bat sat", 1 / 3),  # a substitution
    ("the cat sat", "the sat", 1 / 3),  # a deletion
    ("the cat sat", "the black cat sat down", 2 / 3),  # two insertions
    ("", "anything", 1.0),  # nothing was said: any word is an error
])
def test_wer_counts_edits_over_the_reference_length(reference: str, hypothesis: str, expected: float) -> None:
    assert wer(reference, hypothesis) == pytest.approx(expected)


@pytest.mark.parametrize(("reference", "hypothesis", "expected"), [
    ("Platform 14", "Platform 14", 0.0),
    ("Platform 14", "Platf0rm 14", 1 / 11),  # a substitution
    ("Platform\n14", "Platform  14", 0.0),  # whitespace runs count as one space
    ("안녕하세요", "안녕 하세요", 1 / 5),  # a stray space inside a word is an error
    ("abc", "", 1.0),
])
def test_cer_counts_character_edits_over_the_reference_length(reference: str, hypothesis: str,
                                                             expected: float) -> None:
    assert cer(reference, hypothesis) == pytest.approx(expected)
