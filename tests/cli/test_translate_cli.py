"""``omni translate`` and ``omni interpret`` through the console script: a spoken English question, a typed Korean
request and a Korean text of two paragraphs translated on the real models, and every kind of bad input refused with
a clear message before any model loads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from omni.bench.interpreter_pairs import PAIRS, judge
from tests import speech
from tests.cli.omni_cli import assert_clean_failure, run_omni

HANGUL = re.compile(r"[\uac00-\ud7a3]")
CAPITAL = PAIRS[0]
LIGHT = next(p for p in PAIRS if p.en == "Turn off the light.")


@pytest.mark.models
def test_a_spoken_question_is_translated_not_answered(tmp_path: Path) -> None:
    samples, rate = speech.piper_samples(CAPITAL.en)
    wav = speech.write_wav(tmp_path / "q.wav", speech.with_silence(samples, rate, before_s=0.3, after_s=0.3), rate)
    result = run_omni("translate", str(wav), "--to", "ko")
    assert result.returncode == 0, result.stderr
    assert "heard (en):" in result.stderr and "(English → Korean)" in result.stderr
    verdict = judge(CAPITAL, "ko", result.stdout)
    assert verdict.ok, (result.stdout, verdict)


@pytest.mark.models
def test_a_typed_korean_request_is_translated_into_english() -> None:
    result = run_omni("translate", "--text", LIGHT.ko)  # Korean and English by default: into English
    assert result.returncode == 0, result.stderr
    assert not HANGUL.search(result.stdout) and judge(LIGHT, "en", result.stdout).ok, result.stdout


@pytest.mark.models
def test_a_text_of_several_sentences_and_paragraphs_is_translated_sentence_by_sentence() -> None:
    result = run_omni("translate", "--text", f"{LIGHT.ko} 창문도 닫아 주세요.\n\n고마워요.")
    assert result.returncode == 0, result.stderr
    paragraphs = result.stdout.strip().split("\n\n")
    assert len(paragraphs) == 2 and not HANGUL.search(result.stdout), result.stdout
    assert judge(LIGHT, "en", paragraphs[0]).ok and "window" in paragraphs[0].lower(), result.stdout
    assert "thank" in paragraphs[1].lower(), result.stdout


def test_bad_input_is_refused_before_any_model_loads(tmp_path: Path) -> None:
    empty = tmp_path / "none"  # no models here: a command that got as far as loading one would say so instead
    assert_clean_failure(run_omni("translate", models_dir=empty), "give an audio file or --text")
    assert_clean_failure(run_omni("translate", str(tmp_path / "missing.wav"), models_dir=empty), "no such file")
    assert_clean_failure(run_omni("translate", "--text", "  ", models_dir=empty), "the text is empty")
    both = run_omni("translate", str(tmp_path / "a.wav"), "--text", "hi", models_dir=empty)
    assert_clean_failure(both, "one of the two")
    wrong = run_omni("translate", "--text", "hi", "--to", "xx", models_dir=empty)
    assert wrong.returncode == 2 and "invalid choice: 'xx'" in wrong.stderr
    assert_clean_failure(run_omni("interpret", models_dir=empty), "'omni interpret' needs", "omni translate")
    pair = run_omni("interpret", "--languages", "ko,ko", models_dir=empty)
    assert pair.returncode == 2 and "two different languages" in pair.stderr
    same = run_omni("translate", "--text", "Hello there, friend.", "--to", "en", models_dir=empty)
    assert same.returncode == 0 and same.stdout.strip() == "Hello there, friend." and "already in English" in \
        same.stderr
