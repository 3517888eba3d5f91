"""The interpreter benchmark's sentence pairs, its judge and its running order."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from dataclasses import asdict
from pathlib import Path

import pytest

from omni.bench.interpreter import Translation, format_summary, rejudge, summarise, turns
from omni.bench.interpreter_pairs import PAIRS, Pair, is_question, judge
from omni.session.interpreter import _EXAMPLES

CAPITAL = PAIRS[0]
LIGHT = next(p for p in PAIRS if p.en == "Turn off the light.")


def test_the_set_has_forty_pairs_or_more_of_every_kind_none_among_the_prompts_examples() -> None:
    kinds = Counter(p.kind for p in PAIRS)
    assert len(PAIRS) >= 40 and min(kinds.values()) >= 10 and set(kinds) == {"question", "request", "statement"}
    shown = {example[code] for example in _EXAMPLES for code in ("en", "ko")}
    assert not shown & ({p.en for p in PAIRS} | {p.ko for p in PAIRS})


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: p.en)
def test_each_sentence_passes_as_the_translation_of_the_other(pair: Pair) -> None:
    """The keys are sound: each side of a pair is a right translation of the other."""
    assert judge(pair, "ko", pair.ko).ok, judge(pair, "ko", pair.ko)
    assert judge(pair, "en", pair.en).ok, judge(pair, "en", pair.en)


def test_an_answer_is_not_a_translation() -> None:
    assert judge(CAPITAL, "ko", "프랑스의 수도는 파리입니다.").answered
    assert judge(CAPITAL, "en", "The capital of France is Paris.").answered
    assert judge(LIGHT, "en", "Okay, I turned off the light.").answered
    assert judge(LIGHT, "ko", "네, 불을 껐어요.").answered


def test_a_question_must_stay_a_question_in_the_right_language_with_its_content() -> None:
    statement = judge(CAPITAL, "ko", "프랑스의 수도입니다.")
    assert statement.question_kept is False and not statement.ok
    assert is_question("프랑스의 수도는 어디인가요") and is_question("Where is it?\"")
    assert is_question("비가 올까요") and not is_question("수도예요.") and not is_question("집에 가요.")
    english = judge(CAPITAL, "ko", "What is the capital of France?")
    assert not english.right_language and not english.ok
    vague = judge(CAPITAL, "ko", "그 나라의 수도는 어디예요?")
    assert vague.missing == ("프랑스",) and not vague.ok
    assert judge(LIGHT, "ko", "조명을 꺼 주세요.").ok


def test_the_speakers_take_turns_and_no_sentence_follows_its_own_translation() -> None:
    order = turns()
    assert [language for _, language in order[:4]] == ["en", "ko", "en", "ko"]
    assert len(order) == 2 * len(PAIRS) and {(p.en, lang) for p, lang in order} == {
        (p.en, lang) for p in PAIRS for lang in ("en", "ko")}
    assert all(a[0] is not b[0] for a, b in itertools.pairwise(order))


def test_the_summary_counts_each_mode_and_direction() -> None:
    def made(source: str, ok: bool, first: float) -> Translation:
        return Translation("interpreter", "question", source, "ko" if source == "en" else "en", "x", "y", first,
                           ok, () if ok else ("a",), True, ok, False)

    rows = summarise([made("en", True, 0.5), made("en", False, 0.7), made("ko", True, 0.4)])
    assert [(r.direction, r.n, r.right, r.carried, r.questions_kept) for r in rows] == [
        ("en→ko", 2, 0.5, 0.5, 0.5), ("ko→en", 1, 1.0, 1.0, 1.0)]
    assert rows[0].first_token_median_s == 0.6
    assert "en→ko" in format_summary(rows)


def test_a_saved_run_is_judged_again_with_the_keys_as_they_are_now(tmp_path: Path) -> None:
    stale = Translation("interpreter", "question", "en", "ko", CAPITAL.en, "프랑스의 수도는 파리예요.", 0.9, True, (),
                        True, False, False)  # judged leniently back then
    saved = tmp_path / "run.json"
    saved.write_text(json.dumps({"translations": [asdict(stale)]}, ensure_ascii=False), encoding="utf-8")
    [again] = rejudge(saved)
    assert again.answered and not again.ok and again.translation == stale.translation
