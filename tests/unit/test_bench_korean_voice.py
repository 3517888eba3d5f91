"""The Korean voice benchmark's parts that need no model: variant names, the score, the sentence sets."""

from __future__ import annotations

import pytest

from omni.backends.kokoro_tts import DEFAULT_STYLE, KOREAN_SPEED
from omni.bench.korean_voice import (
    HELD_OUT,
    ROUND_ONE,
    ROUND_THREE,
    ROUND_TWO,
    SENTENCES,
    Sentence,
    errors,
    hangul,
    parse_variant,
)
from omni.text.korean_ipa import DEFAULT_MAPPING


def test_default_is_the_backend_and_start_is_the_issues_mapping() -> None:
    default = parse_variant("default")
    assert (default.mapping, default.style, default.speed, default.split) == (
        DEFAULT_MAPPING, DEFAULT_STYLE, KOREAN_SPEED, "clauses")
    start = parse_variant("start")
    assert (start.mapping.eo, start.mapping.tense, start.mapping.h_allophones) == ("ʌ", "plain", True)
    changed = parse_variant("start+eo=ɔ+speed=0.9+style=jm_kumo+spaces=false+aspirated=")
    assert (changed.mapping.eo, changed.mapping.tense, changed.mapping.spaces, changed.mapping.aspirated) == (
        "ɔ", "plain", False, "")
    assert (changed.speed, changed.style) == (0.9, "jm_kumo")


@pytest.mark.parametrize("name", ["default+colour=blue", "default+eo", "start+speed=fast"])
def test_a_bad_variant_is_a_clear_error(name: str) -> None:
    with pytest.raises(ValueError, match="variant"):
        parse_variant(name)


def test_every_round_parses() -> None:
    for name in (*ROUND_ONE, *ROUND_TWO, *ROUND_THREE):
        assert parse_variant(name).name == name


def test_the_score_counts_letters_not_spacing_or_punctuation() -> None:
    sentence = Sentence("내일 아침 일곱 시에 깨워 주세요.", ("내일 아침 7시에 깨워 주세요.",))
    assert hangul("내일 아침, 7시에!") == "내일아침7시에"
    assert errors(sentence, "내일 아침 일곱 시에 깨워주세요") == (0, 13)
    assert errors(sentence, "내일 아침, 7시에 깨워주세요.") == (0, 12)  # the digits way of writing it
    assert errors(sentence, "내일 아침 일곱 시에 케워 주세요") == (1, 13)
    assert errors(Sentence("감사합니다."), "") == (5, 5)


def test_the_sentence_sets() -> None:
    assert len(SENTENCES) >= 15 and len(HELD_OUT) >= 10
    assert not {s.text for s in SENTENCES} & {s.text for s in HELD_OUT}
    assert any(s.text.endswith("?") for s in SENTENCES) and any(s.alternates for s in SENTENCES)
