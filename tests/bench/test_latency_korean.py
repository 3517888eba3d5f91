"""The latency suite's Korean questions on the real models: spoken by Omni's Korean voice (Kokoro, through the same
``auto`` voice the benchmark uses), streamed into the engine, the cascade and a real ``omni serve``, and heard by the
embedded whisper without being told the language. The LLM is canned and the reply voice a tone, so the test is about
the input side: each turn must be labelled Korean, heard as Korean, and heard roughly right. Never how fast."""

from __future__ import annotations

import asyncio

import pytest

from omni.backends.kokoro_tts import KokoroTTS
from omni.backends.registry import create
from omni.bench import realtime_turn, scale
from omni.bench.realtime_turn import RealtimeTurns
from omni.bench.report import RunResult
from omni.bench.server_process import omni_serve
from omni.bench.voice_latency import QUESTIONS, Bench, SpokenQuestion, question_voice, speak, speaker, wire_question
from omni.config import Settings, load_settings
from omni.session.session import Backends
from omni.text.wer import edit_distance

pytestmark = pytest.mark.models

MAX_CER = 0.5
"""Letters heard wrong, at most: whisper base writes a syllable or two of these short questions wrong (프랑스의 수도는
→ 프랑스위 소돈은); a voice it could not read at all (espeak-ng's Korean comes out as Thai) is far beyond this."""


def letter_cer(reference: str, heard: str) -> float:
    ref, hyp = ("".join(ch for ch in text if ch.isalnum()) for text in (reference, heard))
    return edit_distance(ref, hyp) / max(len(ref), 1)


def check_korean_turn(result: RunResult) -> None:
    assert result.error is None, result
    assert (result.input, result.language, result.heard_language) == ("voice", "ko", "ko"), result
    assert letter_cer(result.question, result.transcript) <= MAX_CER, result
    assert result.latency is not None and result.latency > 0
    assert sum(result.stages.values()) == pytest.approx(result.latency)


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load_settings()


@pytest.fixture(scope="module")
def korean_questions(settings: Settings) -> list[SpokenQuestion]:
    voice = question_voice(settings)
    assert isinstance(speaker(voice, "ko"), KokoroTTS)  # the benchmark's Korean voice, not espeak-ng

    async def spoken() -> list[SpokenQuestion]:
        return [await speak(voice, text, "ko") for text in QUESTIONS["ko"]]

    return asyncio.run(spoken())


async def test_the_engine_and_the_cascade_hear_kokoros_korean_questions_as_korean(
    settings: Settings, korean_questions: list[SpokenQuestion]
) -> None:
    backends = Backends(llm=create("llm", "canned", settings), vad=create("vad", "silero", settings),
                        stt=create("stt", "whisper", settings), tts=create("tts", "tone", settings))
    bench = Bench(backends, settings)
    assert bench.options.language is None  # the STT is not told: it detects Korean, as for a user
    for question in korean_questions:
        assert question.language == "ko"
        check_korean_turn(await bench.engine_voice(question, 1))
        check_korean_turn(await bench.cascade_voice(question, 1))


async def test_omni_serve_hears_a_kokoro_korean_question_as_korean(
    settings: Settings, korean_questions: list[SpokenQuestion]
) -> None:
    async with omni_serve(env=scale.server_env(settings, "real", 2)) as server:  # whisper; canned LLM, tone TTS
        result = await RealtimeTurns(server.url, settings).voice(wire_question(korean_questions[0]), 1)
    check_korean_turn(result)
    assert list(result.stages) == [realtime_turn.UNTIL_STOPPED, realtime_turn.STOPPED_TO_CREATED,
                                   realtime_turn.CREATED_TO_AUDIO, realtime_turn.PLAYOUT]
