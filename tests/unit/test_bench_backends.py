"""The benchmark backends: the canned LLM and STT and the tone TTS, through the registry and the base classes."""

from __future__ import annotations

import numpy as np
import pytest

from omni.audio.silence import first_sound
from omni.backends.base import GenerationOptions
from omni.backends.canned_llm import CannedLLM
from omni.backends.canned_stt import CannedSTT
from omni.backends.registry import Kind, create, spec
from omni.backends.tone_tts import SAMPLE_RATE, WORD_SECONDS, ToneTTS
from omni.config import Settings, load_settings
from omni.errors import ConfigError
from omni.types import AudioChunk, ChatMessage, TextDelta, Usage


async def _reply(llm: CannedLLM, options: GenerationOptions | None = None) -> tuple[list[str], list[Usage]]:
    options = options or GenerationOptions()
    texts: list[str] = []
    usage: list[Usage] = []
    async for event in llm.chat([ChatMessage("user", "How are you today?")], options=options):
        if isinstance(event, TextDelta):
            texts.append(event.text)
        elif isinstance(event, Usage):
            usage.append(event)
    return texts, usage


async def test_canned_llm_streams_its_reply_word_by_word_and_reports_usage() -> None:
    texts, usage = await _reply(CannedLLM("Paris is the capital of France."))
    assert texts == ["Paris", " is", " the", " capital", " of", " France."]
    assert len(usage) == 1 and usage[0].completion_tokens == 6 and usage[0].prompt_tokens > 0


async def test_canned_llm_stops_at_max_tokens() -> None:
    texts, usage = await _reply(CannedLLM("one two three four"), GenerationOptions(max_tokens=2))
    assert "".join(texts) == "one two"
    assert usage[0].completion_tokens == 2


def test_canned_llm_refuses_an_empty_reply() -> None:
    with pytest.raises(ValueError, match="empty"):
        CannedLLM("  ")
    with pytest.raises(ConfigError, match="canned_reply"):
        load_settings({"llm": {"canned_reply": ""}})


async def test_canned_stt_hears_its_text_in_any_audio() -> None:
    stt = CannedSTT("hello there", language="ko")
    transcript = await stt.transcribe(np.zeros(1600, dtype=np.float32))
    assert (transcript.text, transcript.language) == ("hello there", "ko")
    assert (await stt.transcribe(np.zeros(10, dtype=np.float32), language="en")).language == "en"


async def _speak(tts: ToneTTS, text: str, speed: float = 1.0) -> list[AudioChunk]:
    return [chunk async for chunk in tts.synthesize(text, speed=speed)]


async def test_tone_tts_lasts_as_long_as_the_words_and_is_audible_at_once() -> None:
    chunks = await _speak(ToneTTS(), "one two three four five")
    assert len(chunks) == 1 and chunks[0].sample_rate == SAMPLE_RATE
    assert chunks[0].duration == pytest.approx(5 * WORD_SECONDS, abs=1e-3)
    onset = first_sound(chunks[0].samples)
    assert onset is not None and onset < 0.01 * SAMPLE_RATE
    assert 0.05 < float(np.max(np.abs(chunks[0].samples))) <= 0.1 + 1e-6


async def test_tone_tts_speed_and_empty_text() -> None:
    assert (await _speak(ToneTTS(speed=2.0), "one two", speed=2.0))[0].duration == pytest.approx(2 * WORD_SECONDS / 4)
    assert await _speak(ToneTTS(), "   ") == []


def test_registry_builds_them_from_the_settings() -> None:
    settings = load_settings({"llm": {"canned_reply": "Hi there."}, "stt": {"canned_transcript": "Hello?"},
                              "tts": {"speed": 1.5}})
    llm = create("llm", "canned", settings)
    stt = create("stt", "canned", settings)
    tts = create("tts", "tone", settings)
    assert isinstance(llm, CannedLLM) and llm.reply == "Hi there."
    assert isinstance(stt, CannedSTT) and stt.text == "Hello?"
    assert isinstance(tts, ToneTTS) and tts.speed == 1.5
    added: list[tuple[Kind, str]] = [("llm", "canned"), ("stt", "canned"), ("tts", "tone")]
    for kind, name in added:
        assert "benchmarks" in spec(kind, name).description
    defaults = Settings.model_construct()
    assert create("llm", "canned", defaults).reply == defaults.llm.canned_reply
