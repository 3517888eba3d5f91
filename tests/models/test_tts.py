"""Piper and espeak-ng TTS and the language router, on the real voices."""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from omni.aio import closing
from omni.audio.pcm import rms_dbfs
from omni.backends import espeak_tts, language_tts, piper_tts, registry
from omni.backends.base import TTS
from omni.backends.espeak_tts import EspeakTTS, voice_for
from omni.backends.language_tts import LanguageTTS
from omni.backends.piper_tts import PiperTTS
from omni.config import Settings, TTSSettings
from omni.errors import BackendError, BackendUnavailableError, ModelNotFoundError
from omni.types import AudioChunk
from tests import speech

pytestmark = pytest.mark.models

KOREAN = "안녕하세요, 만나서 반갑습니다."
THREE_SENTENCES = "Good morning. The weather is lovely today. Shall we go for a walk?"
LONG_TEXT = " ".join(f"This is sentence number {n} of a long answer that nobody will hear." for n in range(1, 11))


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings(models_dir=speech.models_dir())


@pytest.fixture(scope="session")
def piper(settings: Settings) -> PiperTTS:
    return piper_tts.create(settings)


@pytest.fixture(scope="session")
def espeak() -> EspeakTTS:
    return EspeakTTS()


async def collect(tts: TTS, text: str, **kwargs: Any) -> list[AudioChunk]:
    return [chunk async for chunk in tts.synthesize(text, **kwargs)]


def process_exists(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def total_seconds(chunks: list[AudioChunk]) -> float:
    return sum(chunk.duration for chunk in chunks)


def joined(chunks: list[AudioChunk]) -> np.ndarray:
    return np.concatenate([chunk.samples for chunk in chunks])


# -- Piper -------------------------------------------------------------------------------------------------

async def test_piper_speaks_a_sentence_of_plausible_length(piper: PiperTTS) -> None:
    text = "The quick brown fox jumps over the lazy dog."
    chunks = await collect(piper, text)
    assert chunks
    assert {chunk.sample_rate for chunk in chunks} == {22050}
    assert piper.sample_rate == 22050
    audio = joined(chunks)
    assert audio.dtype == np.float32
    assert np.max(np.abs(audio)) <= 1.0
    words = len(text.split())
    assert 0.2 * words < total_seconds(chunks) < 0.8 * words
    assert rms_dbfs(audio) > -30


async def test_piper_yields_a_chunk_per_sentence(piper: PiperTTS) -> None:
    chunks = await collect(piper, THREE_SENTENCES)
    assert len(chunks) >= 2
    assert all(chunk.duration > 0.3 for chunk in chunks)


async def test_piper_speed_shortens_speech(settings: Settings, piper: PiperTTS) -> None:
    fast = PiperTTS(piper.path, speed=1.6)
    normal_s = total_seconds(await collect(piper, THREE_SENTENCES))
    fast_s = total_seconds(await collect(fast, THREE_SENTENCES))
    assert fast_s < 0.85 * normal_s


async def test_without_variation_piper_says_a_text_the_same_way_every_time(piper: PiperTTS) -> None:
    steady = PiperTTS(piper.path, variation=False)
    first, second = [np.concatenate([c.samples for c in await collect(steady, "Wait, stop please.")])
                     for _ in range(2)]
    assert np.array_equal(first, second)
    varied = [np.concatenate([c.samples for c in await collect(piper, "Wait, stop please.")]) for _ in range(2)]
    assert not np.array_equal(varied[0], varied[1]), "the voice as trained varies from one rendering to the next"


async def test_a_speed_asked_for_per_call_multiplies_each_voices_pace(piper: PiperTTS, espeak: EspeakTTS) -> None:
    for tts in (piper, espeak):
        normal_s = total_seconds(await collect(tts, THREE_SENTENCES))
        fast_s = total_seconds(await collect(tts, THREE_SENTENCES, speed=1.5))
        slow_s = total_seconds(await collect(tts, THREE_SENTENCES, speed=0.75))
        assert fast_s < 0.85 * normal_s < 0.85 * slow_s, (tts, fast_s, normal_s, slow_s)


async def test_piper_ignores_voice_names_it_does_not_have(piper: PiperTTS) -> None:
    assert list(piper.voices()) == []  # joe is a single-speaker voice
    chunks = await collect(piper, "Hello there.", voice="alloy")
    assert total_seconds(chunks) > 0.3


async def test_piper_says_nothing_for_empty_text(piper: PiperTTS) -> None:
    assert await collect(piper, "   ") == []


class _SentenceCounter:
    """Wraps the loaded voice to see, from the test, which sentences were made and when work ended."""

    def __init__(self, voice: Any) -> None:
        self._synthesize = voice.synthesize
        self.made = 0
        self.running = 0
        self.finished = threading.Event()

    def __call__(self, text: str, **kwargs: Any) -> Iterator[Any]:
        self.running += 1
        try:
            for chunk in self._synthesize(text, **kwargs):
                self.made += 1
                yield chunk
        finally:
            self.running -= 1
            self.finished.set()


async def test_piper_stops_and_joins_its_worker_when_the_consumer_breaks(
    piper: PiperTTS, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = _SentenceCounter(piper._voice)
    monkeypatch.setattr(piper._voice, "synthesize", counter)
    async with closing(piper.synthesize(LONG_TEXT)) as chunks:
        async for _ in chunks:
            break
    # Closing the stream awaited the worker: nothing is still synthesising, and it stopped early.
    assert counter.finished.is_set()
    assert counter.running == 0
    assert 1 <= counter.made <= 3
    # The voice is free for the next reply at once.
    assert total_seconds(await collect(piper, "Next reply.")) > 0.3


async def test_piper_stops_when_the_consuming_task_is_cancelled(
    piper: PiperTTS, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = _SentenceCounter(piper._voice)
    monkeypatch.setattr(piper._voice, "synthesize", counter)
    first = asyncio.Event()

    async def speak() -> None:
        async with closing(piper.synthesize(LONG_TEXT)) as chunks:
            async for _ in chunks:
                first.set()

    task = asyncio.create_task(speak())
    await asyncio.wait_for(first.wait(), 60)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert counter.finished.is_set()
    assert counter.running == 0
    assert counter.made <= 3


def test_piper_missing_voice_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        PiperTTS(tmp_path / "nobody.onnx")
    lonely = tmp_path / "lonely.onnx"
    lonely.write_bytes(b"not a model")
    with pytest.raises(ModelNotFoundError, match=r"lonely\.onnx\.json"):
        PiperTTS(lonely)
    unknown = Settings(models_dir=tmp_path, tts=TTSSettings.model_validate({"voice": "no-such-voice"}))
    with pytest.raises(ModelNotFoundError, match="no-such-voice"):
        piper_tts.create(unknown)


# -- espeak-ng ---------------------------------------------------------------------------------------------

def test_espeak_voice_for_language() -> None:
    assert voice_for("ko") == "ko"
    assert voice_for("en") == "en-us"
    assert voice_for("ja") == "ja"
    assert voice_for("zh") == "cmn"
    assert voice_for("de") == "de"
    assert voice_for(None) == "en-us"


async def test_espeak_speaks_korean(espeak: EspeakTTS) -> None:
    chunks = await collect(espeak, KOREAN, language="ko")
    assert {chunk.sample_rate for chunk in chunks} == {22050}
    assert 1.0 < total_seconds(chunks) < 8.0
    assert rms_dbfs(joined(chunks)) > -35


async def test_espeak_voice_follows_the_language(espeak: EspeakTTS, tmp_path: Path) -> None:
    # espeak-ng is deterministic: the backend's audio is what the program writes for the chosen voice.
    korean = joined(await collect(espeak, KOREAN, language="ko"))
    reference, rate = speech.read_wav(speech.espeak_wav(KOREAN, tmp_path / "ko.wav", voice="ko"))
    assert rate == 22050
    assert len(korean) == len(reference)
    np.testing.assert_allclose(korean, reference, atol=1.5 / 32768)
    as_english = joined(await collect(espeak, KOREAN, language="en"))
    assert len(as_english) != len(korean) or not np.allclose(as_english, korean, atol=1e-3)


async def test_espeak_text_starting_with_a_dash_is_spoken_not_parsed(espeak: EspeakTTS) -> None:
    chunks = await collect(espeak, "-v is not an option here, it is text.")
    assert total_seconds(chunks) > 1.0


async def test_espeak_fixed_voice_and_unknown_language(espeak: EspeakTTS) -> None:
    assert "ko" in espeak.voices()
    assert espeak.choose_voice("alloy", "ko") == "ko"
    assert espeak.choose_voice("de", "ko") == "de"
    assert EspeakTTS(voice="en-gb").choose_voice(None, "ko") == "en-gb"
    with pytest.raises(BackendError, match="no voice for language 'qq'"):
        await collect(espeak, "hello", language="qq")


async def test_espeak_kills_its_process_when_the_consumer_breaks(
    espeak: EspeakTTS, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[asyncio.subprocess.Process] = []
    real_exec = asyncio.create_subprocess_exec

    async def recording_exec(*args: Any, **kwargs: Any) -> asyncio.subprocess.Process:
        process = await real_exec(*args, **kwargs)
        if "--stdout" in args:
            started.append(process)
        return process

    monkeypatch.setattr(asyncio, "create_subprocess_exec", recording_exec)
    # Minutes of speech: far more than the pipes hold, so espeak-ng is still running at the break.
    text = " ".join([LONG_TEXT] * 20)
    async with closing(espeak.synthesize(text)) as chunks:
        async for _ in chunks:
            break
    assert len(started) == 1
    process = started[0]
    assert process.returncode == -signal.SIGKILL
    assert not process_exists(process.pid)  # reaped, not a zombie
    monkeypatch.undo()
    assert total_seconds(await collect(espeak, "Next reply.")) > 0.3


def test_espeak_missing_program_names_the_install_command() -> None:
    with pytest.raises(BackendUnavailableError, match="apt-get install espeak-ng"):
        EspeakTTS(executable="espeak-ng-that-is-not-installed")


# -- the language router -----------------------------------------------------------------------------------

class _CallLog:
    """Records which backend the router called, around the real backend."""

    def __init__(self, tts: TTS, name: str, log: list[tuple[str, str | None]]) -> None:
        self._synthesize = tts.synthesize
        self._name = name
        self._log = log

    def __call__(self, text: str, **kwargs: Any) -> Any:
        self._log.append((self._name, kwargs.get("language")))
        return self._synthesize(text, **kwargs)


@pytest.fixture
def routed(
    piper: PiperTTS, espeak: EspeakTTS, monkeypatch: pytest.MonkeyPatch
) -> tuple[LanguageTTS, list[tuple[str, str | None]]]:
    log: list[tuple[str, str | None]] = []
    monkeypatch.setattr(piper, "synthesize", _CallLog(piper, "piper", log))
    monkeypatch.setattr(espeak, "synthesize", _CallLog(espeak, "espeak", log))
    return LanguageTTS({"en": piper}, espeak), log


async def test_router_sends_english_to_piper_and_korean_to_espeak(
    routed: tuple[LanguageTTS, list[tuple[str, str | None]]],
) -> None:
    router, log = routed
    assert router.sample_rate == 22050
    english = await collect(router, "Hello, it is nice to meet you.")
    assert log == [("piper", "en")]
    korean = await collect(router, KOREAN)
    assert log[-1] == ("espeak", "ko")
    for chunks in (english, korean):
        assert {chunk.sample_rate for chunk in chunks} == {22050}
        assert rms_dbfs(joined(chunks)) > -35


async def test_router_follows_an_explicit_language(
    routed: tuple[LanguageTTS, list[tuple[str, str | None]]], piper: PiperTTS, espeak: EspeakTTS
) -> None:
    router, log = routed
    assert router.route("Hello") is piper
    assert router.route("안녕") is espeak
    assert router.route("Hello", "en-GB") is piper
    assert router.route("Hello", "ko") is espeak
    assert router.route("...") is piper  # no letters: the default language
    await collect(router, "Guten Tag.", language="de")
    assert log == [("espeak", "de")]


async def test_router_resamples_every_backend_to_one_rate(piper: PiperTTS, espeak: EspeakTTS) -> None:
    router = LanguageTTS({"en": piper}, espeak, sample_rate=16000)
    direct_s = total_seconds(await collect(espeak, KOREAN, language="ko"))
    korean = await collect(router, KOREAN)
    english = await collect(router, THREE_SENTENCES)
    for chunks in (korean, english):
        assert {chunk.sample_rate for chunk in chunks} == {16000}
        assert rms_dbfs(joined(chunks)) > -35
    assert total_seconds(korean) == pytest.approx(direct_s, rel=0.02)


def test_auto_backend_builds_piper_and_espeak(settings: Settings) -> None:
    router = registry.create("tts", "auto", settings)
    assert isinstance(router, LanguageTTS)
    assert isinstance(router.routes["en"], PiperTTS)
    assert isinstance(router.fallback, EspeakTTS)
    assert router.sample_rate == 22050
    assert isinstance(language_tts.create(settings), LanguageTTS)
    assert isinstance(espeak_tts.create(settings), EspeakTTS)
