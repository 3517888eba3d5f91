"""The latency suite's run on scripted fakes and a virtual clock: every question of both languages is spoken by the
question voice in its own language, streamed through the engine (and its variants) and the cascade, and labelled
with the language it was asked in and the one it was heard in. No model loads."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import pytest

from omni.backends.base import STT, TTS
from omni.backends.espeak_tts import EspeakTTS
from omni.backends.language_tts import LanguageTTS
from omni.bench import cascade, voice_latency
from omni.bench.cascade import CascadeTurn
from omni.bench.report import RunResult, compare, format_table
from omni.bench.variants import build_all
from omni.bench.voice_latency import QUESTIONS, check_language_setting, check_question_voice, question_voices
from omni.clock import VirtualClock
from omni.config import load_settings
from omni.errors import ConfigError
from omni.session.session import Backends
from omni.text.language import detect_language
from omni.types import AudioChunk, Samples, Transcript
from tests.fakes.backends import EnergyVAD, ScriptedLLM, ScriptedTTS

SECONDS_PER_LETTER = 0.1
"""The fake voice speaks each question for a length of its own, which is how the fake STT knows which it heard."""
LOUD = 0.05
ALL_QUESTIONS = [text for language in ("en", "ko") for text in QUESTIONS[language]]


def spoken_seconds(text: str) -> float:
    return SECONDS_PER_LETTER * len(text)


class QuestionVoice(TTS):
    """Speaks a steady tone (speech to the energy VAD) as long as the text, at 16 kHz; records each language."""

    sample_rate = 16000

    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None]] = []

    async def _synthesize(
        self, text: str, voice: str | None, language: str | None, speed: float
    ) -> AsyncIterator[AudioChunk]:
        self.calls.append((text, language))
        yield AudioChunk(np.full(round(spoken_seconds(text) * self.sample_rate), 0.1, np.float32), self.sample_rate)


def question_heard(audio: Samples, rate: int = 16000) -> str:
    """The question whose speech is as long as the loud part of ``audio``."""
    seconds = int(np.count_nonzero(np.abs(audio) > LOUD)) / rate
    return min(ALL_QUESTIONS, key=lambda text: abs(spoken_seconds(text) - seconds))


class HearingSTT(STT):
    """Hears the question the clip holds, in the language it is written in (as whisper detects it), unless told
    one; records the language it was told."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.told: list[str | None] = []

    async def _transcribe(self, audio: Samples, language: str | None) -> Transcript:
        self.told.append(language)
        await self.clock.sleep(0.1)
        text = question_heard(audio)
        return Transcript(text, language or detect_language(text))


Ran = tuple[list[RunResult], QuestionVoice, HearingSTT, list[str | None], list[str]]
"""The results, the question voice, the STT, the languages the cascade was told, the progress lines."""


async def run_on_fakes(monkeypatch: pytest.MonkeyPatch, settings: Any, voice: QuestionVoice | None = None,
                       **options: Any) -> Ran:
    clock = VirtualClock()
    told_cascade: list[str | None] = []

    async def cascade_turn(stt: object, llm: object, tts: object, recording: Samples, *, language: str | None,
                           **_: object) -> CascadeTurn:
        told_cascade.append(language)
        return CascadeTurn(question_heard(recording), "Okay.", {"llm, whole reply": 1.0, "tts, whole reply": 0.2},
                           0.1)

    monkeypatch.setattr(cascade, "speech_turn", cascade_turn)
    voice, stt = voice or QuestionVoice(), HearingSTT(clock)
    backends = Backends(llm=ScriptedLLM(clock, [], first_token=0.1, per_token=0.02), vad=EnergyVAD(), stt=stt,
                        tts=ScriptedTTS(clock, latency=0.05))
    progress: list[str] = []
    task = asyncio.create_task(voice_latency.run(backends, settings, runs=1, progress=progress.append, voice=voice,
                                                 clock=clock, **options))
    await clock.run_until(task.done, step=0.05, limit=600)
    return task.result(), voice, stt, told_cascade, progress


async def test_korean_questions_are_spoken_in_korean_streamed_and_labelled_like_english_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = load_settings({"session": {"listen_ahead_ms": 0}})
    variants = build_all(settings, ["vad.threshold=0.6"])
    results, voice, stt, told_cascade, progress = await run_on_fakes(
        monkeypatch, settings, languages=("en", "ko"), variants=variants)

    # each question spoken once, by the question voice, in its own language
    assert voice.calls == [(text, language) for language in ("en", "ko") for text in QUESTIONS[language]]
    order = ["engine", variants[0].name, "cascade"]
    assert [(r.pipeline, r.question) for r in results] == [(p, q) for q in ALL_QUESTIONS for p in order]
    for result in results:
        language = "ko" if result.question in QUESTIONS["ko"] else "en"
        assert result.error is None, result
        assert result.input == "voice"
        assert (result.language, result.heard_language) == (language, language), result
        assert result.transcript == result.question  # the clip of that very question was streamed
        assert result.latency is not None and result.latency > 0
        assert sum(result.stages.values()) == pytest.approx(result.latency)
    # nobody told the STT the language: it detected it, as for a user
    assert set(stt.told) == {None} and set(told_cascade) == {None}
    # a warm-up turn per language through every pipeline before the measured ones, not counted
    assert progress[0].startswith("warming up") and len(results) == 6 * 3
    warm_ups = told_cascade[: len(told_cascade) - 6]
    assert len(warm_ups) == 2

    comparisons = compare(results, order)
    assert [(c.input, c.language) for c in comparisons] == [("voice", "en"), ("voice", "ko")]
    korean = comparisons[1].get("engine")
    assert korean is not None and korean.summary is not None and korean.summary.count == 3 and korean.misheard == 0
    table = format_table(results, order)
    assert "Korean speech in → first audible reply (voice-to-voice" in table
    assert "Korean text in" not in table and "another language" not in table
    lines = [line for line in progress if "프랑스의 수도는" in line]
    assert len(lines) == 3 and all(" ko '" in line and "heard '프랑스의 수도는" in line for line in lines)


async def test_korean_alone_warms_up_on_a_korean_question(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings({"session": {"listen_ahead_ms": 0}})
    results, voice, *_ = await run_on_fakes(monkeypatch, settings, languages=("ko",))
    assert [text for text, _ in voice.calls] == list(QUESTIONS["ko"])
    assert {r.language for r in results} == {"ko"} and len(results) == 3 * 2


async def test_a_language_pinned_to_another_than_a_questions_is_refused_before_anything_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pinned = load_settings({"stt": {"language": "en"}})
    with pytest.raises(ConfigError, match=r"fixed to 'en'.*Korean questions.*--questions en"):
        await run_on_fakes(monkeypatch, pinned, languages=("en", "ko"))
    check_language_setting(("en",), [pinned])  # English questions with English pinned: as a user has it
    check_language_setting(("ko",), [load_settings({"session": {"language": "ko-KR"}})])
    plain = load_settings()
    with pytest.raises(ConfigError, match=r"fixed to 'ko'.*English questions"):
        check_language_setting(("en", "ko"), [plain, build_all(plain, ["session.language=ko"])[0].settings])


class PausingVoice(QuestionVoice):
    """Pauses for ``pause`` seconds in the middle of ``text``, as the Kokoro voice once did inside "잠을 잘"."""

    def __init__(self, text: str, pause: float) -> None:
        super().__init__()
        self.text, self.pause = text, pause

    async def _synthesize(
        self, text: str, voice: str | None, language: str | None, speed: float
    ) -> AsyncIterator[AudioChunk]:
        async for chunk in super()._synthesize(text, voice, language, speed):
            if text != self.text:
                yield chunk
                continue
            half = chunk.samples.size // 2
            gap = np.zeros(round(self.pause * self.sample_rate), np.float32)
            yield AudioChunk(np.concatenate([chunk.samples[:half], gap, chunk.samples[half:]]), self.sample_rate)


async def test_a_question_cut_at_a_pause_inside_it_is_a_failure_not_a_fast_turn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = load_settings({"session": {"listen_ahead_ms": 0, "turn_detection": "server_vad"}})
    cut = QUESTIONS["ko"][2]
    voice = PausingVoice(cut, pause=0.8)  # longer than server_vad's 500 ms silence wait
    results, *_ = await run_on_fakes(monkeypatch, settings, voice, languages=("ko",))
    engine = next(r for r in results if r.pipeline == "engine" and r.question == cut)
    assert engine.latency is None and engine.error is not None
    assert engine.error.startswith("the turn ended at a pause inside the question (speech started 2 times")
    assert " | " in engine.transcript  # heard in two parts
    assert all(r.error is None for r in results if r.question != cut)
    assert "1 run(s) failed" in format_table(results)
    short = PausingVoice(cut, pause=0.3)  # shorter than the silence wait: one turn
    results, *_ = await run_on_fakes(monkeypatch, settings, short, languages=("ko",))
    assert all(r.error is None for r in results)


def test_korean_questions_spoken_by_espeak_ng_are_refused() -> None:
    class Voice(QuestionVoice):
        def __repr__(self) -> str:
            return "Voice()"

    espeak = object.__new__(EspeakTTS)  # no espeak-ng needed: only its type is looked at
    fallback = LanguageTTS({"en": Voice()}, espeak)
    with pytest.raises(ConfigError, match=r"espeak-ng.*kokoro-82m.*--questions en"):
        check_question_voice(fallback, ("en", "ko"))
    check_question_voice(fallback, ("en",))
    with pytest.raises(ConfigError, match="espeak-ng"):
        check_question_voice(espeak, ("ko",))
    routed = LanguageTTS({"en": Voice(), "ko": Voice()}, espeak)
    check_question_voice(routed, ("en", "ko"))
    assert question_voices(routed, ("en", "ko")) == {"en": "Voice()", "ko": "Voice()"}


def test_the_results_say_who_spoke_each_language_and_that_the_stt_was_not_told(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = load_settings()
    backends = Backends(llm=ScriptedLLM(VirtualClock(), []), vad=EnergyVAD(), stt=HearingSTT(VirtualClock()),
                        tts=ScriptedTTS(VirtualClock()))
    runs = [RunResult("engine", "voice", "ko", QUESTIONS["ko"][0], 1, 1.0, heard_language="ko")]
    document = voice_latency.results_document(runs, settings, backends, runs=1, load=(0.0, 0.0, 0.0),
                                              order=["engine", "cascade"],
                                              voices={"en": "PiperTTS(...)", "ko": "KokoroTTS(...)"})
    questions = document["method"]["questions"]
    assert questions["ko"] == {"texts": list(QUESTIONS["ko"]), "spoken_by": "KokoroTTS(...)"}
    assert questions["en"]["spoken_by"] == "PiperTTS(...)"
    assert "synthetic" in document["method"]["speech"]
    assert document["method"]["stt_language"].startswith("not told")
    assert document["runs"][0]["language"] == "ko" and document["runs"][0]["heard_language"] == "ko"
    assert document["summary"][0]["language"] == "ko" and document["summary"][0]["input"] == "voice"
    assert "Korean kokoro-82m" in document["machine"]["models"]["tts"]


def test_without_a_language_a_clip_is_labelled_by_its_script() -> None:
    speech = np.full(1600, 0.3, np.float32)
    assert voice_latency.build_clip("일주일은 며칠인가요?", speech, 16000).language == "ko"
    assert voice_latency.build_clip("How many days?", speech, 16000).language == "en"
    assert voice_latency.build_clip("Wie viele Tage?", speech, 16000, language="de").language == "de"
