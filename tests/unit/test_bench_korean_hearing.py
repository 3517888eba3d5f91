"""The Korean hearing benchmark's parts that need no model: the question set, the digit judge, the clips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from omni.backends.kokoro_tts import DEFAULT_STYLE
from omni.bench.bilingual_questions import ITEMS
from omni.bench.korean_hearing import (
    DIGITS_PACKAGE,
    KINDS,
    QUESTIONS,
    RATE,
    Ahead,
    Ear,
    by_kind,
    digit_accuracy,
    digits_in,
    hear_digits,
    heard_digit,
    kept,
    load_digits,
    padded,
    partial_at,
    prefix_cer,
    read_out,
    remembered,
    score_ahead,
    speakers,
    understood,
)
from omni.bench.korean_voice import Heard, errors


def test_the_questions_are_each_items_first_korean_turn_once() -> None:
    firsts = {item.ko[0] for item in ITEMS}
    assert {q.text for q in QUESTIONS} == firsts
    assert len(QUESTIONS) == len(firsts) < len(ITEMS)  # one follow-up starts with a knowledge question


def test_a_question_with_digits_is_right_in_words_or_digits() -> None:
    (question,) = (q for q in QUESTIONS if q.text.startswith("7 더하기 8"))
    assert question.alternates == ("칠 더하기 팔은 얼마예요?",)
    assert errors(question, "7 더하기 8은 얼마예요?")[0] == 0
    assert errors(question, "칠 더하기 팔은 얼마예요") == (0, 10)
    plain = next(q for q in QUESTIONS if q.text == "프랑스의 수도는 어디인가요?")
    assert plain.alternates == ()


def test_speakers_cover_every_style_at_every_speed() -> None:
    voices = speakers()
    assert len(voices) == 9
    assert {v.style for v in voices} == {DEFAULT_STYLE, "jf_nezumi", "jm_kumo"}
    assert {v.speed for v in voices} == {0.9, 1.0, 1.15}
    assert voices[0].name == f"default+style={DEFAULT_STYLE}+speed=0.9"


def test_understood_is_the_fraction_at_or_under_the_limit() -> None:
    def heard(cer: float) -> Heard:
        return Heard("", "", cer, 0.0, 1.0, 0.5)

    assert understood([heard(0.0), heard(0.15), heard(0.2), heard(1.0)]) == 0.5
    assert understood([]) == 0.0


@pytest.mark.parametrize(("transcript", "digits"), [
    ("하나!", "1"), ("일.", "1"), ("1", "1"), ("공", "0"), ("영", "0"), ("0", "0"), ("륙", "6"), ("여섯", "6"),
    ("일곱", "7"), ("일 곱", "7"), ("여덟.", "8"), ("아홉", "9"), ("구", "9"),
    ("공일이삼 사오육칠 팔구", "0123456789"), ("0, 1, 2, 3, 4", "01234"), ("하나 둘 셋 넷 다섯", "12345"),
    ("네.", "네"), ("셋이요", "32요"), ("", ""),
])
def test_digits_are_read_from_digits_and_words(transcript: str, digits: str) -> None:
    assert digits_in(transcript) == digits


def test_a_digit_is_heard_right_only_alone() -> None:
    assert heard_digit(3, "셋!")
    assert heard_digit(3, "삼")
    assert heard_digit(3, " 3. ")
    assert not heard_digit(3, "셋이요")
    assert not heard_digit(3, "사")
    assert not heard_digit(4, "네")  # "yes", not 넷
    assert not heard_digit(0, "")


def test_digit_accuracy_counts_edits() -> None:
    assert digit_accuracy("0123456789", "공일이삼사오육칠팔구") == 1.0
    assert digit_accuracy("0123456789", "0 1 2 3 4 5 6 7 8") == pytest.approx(0.9)
    assert digit_accuracy("0123", "네 여덟 셋") == pytest.approx(0.25)
    assert digit_accuracy("0123", "") == 0.0
    assert digit_accuracy("01", "안녕하세요 반갑습니다") == 0.0


def test_read_out_puts_silence_between_digits() -> None:
    clips = {d: np.full(100, d + 1, dtype=np.float32) for d in range(10)}
    audio = read_out(clips, "31", gap_s=0.01)
    assert len(audio) == 100 + 160 + 100
    assert (audio[:100] == 4).all() and (audio[100:260] == 0).all() and (audio[260:] == 2).all()
    assert len(padded(clips[0], 0.1)) == 100 + 2 * 1600


def test_missing_recordings_say_how_to_install_them(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=f"apt-get install -y {DIGITS_PACKAGE}"):
        load_digits(tmp_path)


def test_recordings_are_read_mono_at_16_khz(tmp_path: Path) -> None:
    for digit in range(10):
        tone = np.sin(np.arange(22050 // 2) * (digit + 1) / 10).astype(np.float32) * 0.5
        sf.write(str(tmp_path / f"{digit}_ko.ogg"), np.stack([tone, tone], axis=1), 22050, format="OGG")
    clips = load_digits(tmp_path)
    assert sorted(clips) == list(range(10))
    assert all(clip.ndim == 1 and clip.dtype == np.float32 for clip in clips.values())
    assert abs(len(clips[0]) - RATE // 2) < 50


def test_hear_digits_judges_every_trial() -> None:
    clips = {d: np.full(10, d + 1, dtype=np.float32) for d in range(10)}

    def hear(audio: np.ndarray) -> str:  # a fake that hears the first digit in the clip, and 4 as 네 ("yes")
        digit = int(audio[np.flatnonzero(audio)[0]]) - 1
        return "네" if digit == 4 else ["공", "하나", "둘", "셋", "4", "다섯", "여섯", "일곱", "여덟", "아홉"][digit]

    result = hear_digits(clips, hear)
    assert [d.right for d in result.alone] == [d != 4 for d in range(10)]
    assert [d.said for d in result.padded] == [str(d) for d in range(10)]
    assert [r.said for r in result.read_outs] == ["0123456789", "0105551234", "7305194862"]
    assert result.read_outs[0].heard == "공"  # the fake hears the first digit only
    assert result.read_outs[2].accuracy == 0.1


def test_every_question_has_the_kind_of_the_item_it_opens() -> None:
    assert set(KINDS) == {q.text for q in QUESTIONS}
    counts = {kind: sum(k == kind for k in KINDS.values()) for kind in ("knowledge", "arithmetic", "advice")}
    assert counts == {"knowledge": 26, "arithmetic": 12, "advice": 12}  # docs/languages.md
    assert KINDS["프랑스의 수도는 어디인가요?"] == "knowledge"


def test_by_kind_pools_each_kinds_errors() -> None:
    capital, sum_ = "프랑스의 수도는 어디인가요?", "7 더하기 8은 얼마예요?"

    def heard(text: str, transcript: str, cer: float) -> Heard:
        return Heard(text, transcript, cer, 0.0, 1.0, 0.5)

    scores = by_kind([heard(capital, "프랑스의 수도는 어디인가요", 0.0), heard(sum_, "칠 더하기 팔은 엄마예요", 0.1)])
    assert scores["knowledge"].cer == 0.0 and scores["knowledge"].understood == 1
    assert scores["arithmetic"].cer == 0.1 and scores["arithmetic"].questions == 1  # 얼→엄: 1 of 10, in words
    assert set(scores) == {"knowledge", "arithmetic"}


def test_remembered_voices_each_text_once() -> None:
    calls: list[str] = []

    def speak(text: str) -> tuple[np.ndarray, int, float]:
        calls.append(text)
        return np.full(4, len(calls), dtype=np.float32), RATE, 0.1

    again = remembered(speak)
    first, second, third = again("가"), again("가"), again("나")
    assert calls == ["가", "나"]
    assert first is second and third[0][0] == 2


class _Counter:
    """A stream that hears how many samples it has been fed."""

    def __init__(self) -> None:
        self.sizes: list[int] = []

    def feed(self, audio: np.ndarray) -> str:
        self.sizes.append(len(audio))
        return str(sum(self.sizes))


def test_partial_at_feeds_only_the_share_asked_for_in_steps() -> None:
    stream = _Counter()
    assert partial_at(stream, np.zeros(RATE, dtype=np.float32), 0.7, step_s=0.25) == str(round(0.7 * RATE))
    assert stream.sizes == [4000, 4000, 3200]
    assert partial_at(_Counter(), np.zeros(10, dtype=np.float32), 0.0) == ""


def test_kept_and_prefix_cer_compare_the_read_ahead_with_the_final_start() -> None:
    assert kept("프랑스의 수도는", "프랑스의 수도는 어디인가요?") == 1.0
    assert kept("프랑스 의 수도 는", "프랑스의 수도는 어디") == 1.0  # vosk's spacing does not count
    assert kept("프랑스의 수단은", "프랑스의 수도는 어디") == 5 / 7
    assert kept("", "프랑스") == 0.0
    assert prefix_cer("프랑스의 수단은", "프랑스의 수도는 어디") == 2 / 7
    assert prefix_cer("프랑스", "프랑스의") == 0.0


def test_score_ahead_counts_only_questions_with_words_read() -> None:
    def ahead(settled: str, kept: float, by_whisper: float | None) -> Ahead:
        return Ahead("q", settled + " x", settled, "f", kept, 1 - kept, by_whisper, 0.01)

    score = score_ahead("vosk", "s", [ahead("가", 1.0, 1.0), ahead("나", 0.5, 0.0), ahead("", 0.0, 0.0)])
    assert (score.read, score.whole, score.kept, score.cer) == (0.667, 0.5, 0.75, 0.25)
    assert score.whole_by_whisper == 0.5 and score.ms == 10.0
    assert score_ahead("whisper", "s", [ahead("가", 1.0, None)]).whole_by_whisper is None


def test_an_ear_times_what_it_hears() -> None:
    ear = Ear("fake", lambda audio: "가" * len(audio), lambda audio, share: "")
    assert ear(np.zeros(RATE // 2, dtype=np.float32)).startswith("가")
    assert ear.audio_s == 0.5 and 0 < ear.busy_s < 0.5
    assert ear.rtf() == ear.busy_s / 0.5
