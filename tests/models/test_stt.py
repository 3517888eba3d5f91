"""Whisper base on real speech: human recordings (JFK, CMU ARCTIC), a Piper sentence, silence, noise, Korean.

Error bounds come from measurement on this model (int8 on CPU): the JFK clip and the Piper sentence were
transcribed with no word errors on every run, ARCTIC a0007 with one ("superlative" heard as
"separative"). The bounds allow a word or two more for Piper's random synthesis noise and for numeric
differences between CPUs.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr

from omni.backends.whisper_fast import MAX_SAMPLES, normalise_language, repeats_at_end
from omni.backends.whisper_stt import WhisperSTT, create, loudest_dbfs
from omni.config import Settings, STTSettings
from omni.errors import AudioInputError, ConfigError, ModelNotFoundError
from omni.session.backchannel import SPELLING, is_backchannel
from omni.text.wer import wer, words
from omni.types import Samples, Transcript
from tests import human_speech, speech

pytestmark = pytest.mark.models

PIPER_SENTENCE = "Please call my sister and tell her that dinner is ready."
KOREAN_SENTENCE = "안녕하세요. 오늘 날씨가 정말 좋네요."
RATE = 16000


def read_16k(path: Path) -> Samples:
    data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    mono = np.ascontiguousarray(data.mean(axis=1), dtype=np.float32)
    if rate != RATE:
        mono = np.asarray(soxr.resample(mono, rate, RATE, quality="HQ"), dtype=np.float32)
    return mono


@pytest.fixture(scope="session")
def jfk() -> Samples:
    return read_16k(human_speech.jfk_wav())


@pytest.fixture(scope="session")
def arctic() -> Samples:
    return read_16k(human_speech.arctic_wav())


@pytest.fixture(scope="session")
def piper_16k() -> Samples:
    samples, rate = speech.piper_samples(PIPER_SENTENCE)
    return speech.resample_for_fixture(samples, rate, RATE)


@pytest.fixture(scope="session")
def korean_16k(speech_dir: Path) -> Samples:
    return read_16k(speech.espeak_wav(KOREAN_SENTENCE, speech_dir / "korean.wav", voice="ko"))


# -- helpers, no model ----------------------------------------------------------------------------------

def test_wer_helper_counts_edits() -> None:
    assert wer("ask not what your country", "Ask not, what your country!") == 0.0
    assert wer("ask not what your country", "ask what your county") == pytest.approx(2 / 5)
    assert wer("a b", "a b c d") == 1.0


@pytest.mark.parametrize(
    ("text", "loops"),
    [
        ("Turn off the lights. Turn off the lights. Turn off the", True),
        ("Yes. Yes.", True),
        ("step, step, step, step", True),
        ("And so my fellow Americans, ask not what your country can do for you", False),
        ("I want to go to the shop", False),
        ("", False),
    ],
)
def test_repeats_at_end(text: str, loops: bool) -> None:
    assert repeats_at_end(text) is loops


def test_loudest_dbfs() -> None:
    assert loudest_dbfs(np.zeros(RATE, np.float32)) == -np.inf
    assert loudest_dbfs(np.zeros(0, np.float32)) == -np.inf
    tone = speech.concat(0.5, speech.sine(440, 0.2, RATE, amplitude=0.5), sample_rate=RATE)
    # A sine of amplitude 0.5 has RMS 0.5/sqrt(2): -9 dBFS, however much silence surrounds it.
    assert loudest_dbfs(tone) == pytest.approx(-9.03, abs=0.1)


def test_language_codes_are_normalised() -> None:
    assert normalise_language("en-US") == "en"
    assert normalise_language(" KO_kr ") == "ko"


def test_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="missing"):
        WhisperSTT(tmp_path)
    settings = Settings(models_dir=tmp_path, stt=STTSettings.model_validate({"model": str(tmp_path / "nowhere")}))
    with pytest.raises(ModelNotFoundError):
        create(settings)


# -- the real model -------------------------------------------------------------------------------------

async def test_jfk_is_transcribed(stt: WhisperSTT, jfk: Samples) -> None:
    result = await stt.transcribe(jfk)
    assert isinstance(result, Transcript)
    assert result.language == "en"
    assert result.language_probability is not None and result.language_probability > 0.5
    assert wer(human_speech.JFK_TEXT, result.text) <= 0.1, result.text


async def test_arctic_is_transcribed(stt: WhisperSTT, arctic: Samples) -> None:
    result = await stt.transcribe(arctic)
    assert result.language == "en"
    assert wer(human_speech.ARCTIC_TEXT, result.text) <= 0.2, result.text


async def test_piper_sentence_is_transcribed(stt: WhisperSTT, piper_16k: Samples) -> None:
    result = await stt.transcribe(piper_16k)
    assert result.language == "en"
    assert wer(PIPER_SENTENCE, result.text) <= 0.2, result.text


async def test_fast_path_agrees_with_the_30_second_path(stt: WhisperSTT, jfk: Samples) -> None:
    fast = await asyncio.to_thread(stt.fast.decode, jfk, None, 1)
    assert not fast.suspect and not fast.is_silence, fast.text  # the whole text: pytest cuts the repr short
    full = await asyncio.to_thread(stt.transcribe_full, jfk, None)
    assert fast.language == full.language == "en"
    assert wer(full.text, fast.text) <= 0.05, (fast.text, full.text)


async def test_a_short_utterance_decodes_once_without_looping(stt: WhisperSTT, piper_16k: Samples) -> None:
    # Encoding only the utterance's own frames makes whisper repeat short sentences; the 10 s floor stops it.
    fast = await asyncio.to_thread(stt.fast.decode, piper_16k, "en", 1)
    assert not fast.suspect, fast.text
    assert wer(PIPER_SENTENCE, fast.text) <= 0.2, fast.text


async def test_beam_search_decodes_too(stt: WhisperSTT, arctic: Samples) -> None:
    beam = await asyncio.to_thread(stt.fast.decode, arctic, "en", 5)
    assert wer(human_speech.ARCTIC_TEXT, beam.text) <= 0.2, beam.text


@pytest.mark.parametrize("make", ["zeros", "quiet_noise", "loud_noise"])
async def test_silence_and_noise_give_no_text(stt: WhisperSTT, make: str) -> None:
    clips = {
        "zeros": speech.silence(2.0, RATE),
        "quiet_noise": speech.white_noise(2.0, RATE, dbfs=-65.0, seed=1),
        # Loud enough to reach the model: whisper writes "1.5%" for it, and the no-speech rule drops that.
        "loud_noise": speech.white_noise(2.0, RATE, dbfs=-30.0, seed=2),
    }
    result = await stt.transcribe(clips[make])
    assert result.text == ""


async def test_empty_audio_gives_no_text(stt: WhisperSTT) -> None:
    assert (await stt.transcribe(np.zeros(0, np.float32))).text == ""


async def test_nan_audio_is_rejected(stt: WhisperSTT, arctic: Samples) -> None:
    broken = arctic.copy()
    broken[100] = np.nan
    with pytest.raises(AudioInputError):
        await stt.transcribe(broken)


async def test_a_44k_clip_resampled_by_the_caller(stt: WhisperSTT, jfk: Samples, tmp_path: Path) -> None:
    path = tmp_path / "jfk44.wav"
    sf.write(str(path), soxr.resample(jfk, RATE, 44100, quality="HQ"), 44100, subtype="PCM_16")
    assert sf.info(str(path)).samplerate == 44100
    result = await stt.transcribe(read_16k(path))
    assert wer(human_speech.JFK_TEXT, result.text) <= 0.1, result.text


async def test_forced_korean_on_espeak_audio(stt: WhisperSTT, korean_16k: Samples) -> None:
    # Whisper base cannot read espeak's Korean (it hears Thai); forced to Korean it must answer in
    # Hangul or, as measured, with nothing once the no-speech rule rejects its unsure guess.
    result = await stt.transcribe(korean_16k, language="ko-KR")
    assert result.language == "ko"
    letters = [c for c in result.text if c.isalpha()]
    assert all("\uac00" <= c <= "\ud7a3" or "\u3131" <= c <= "\u318e" for c in letters), result.text


async def test_unknown_language_is_a_config_error(stt: WhisperSTT, arctic: Samples) -> None:
    with pytest.raises(ConfigError, match="xx"):
        await stt.transcribe(arctic, language="xx")


async def test_longer_than_30_seconds_uses_the_long_path(
    stt: WhisperSTT, jfk: Samples, piper_16k: Samples, monkeypatch: pytest.MonkeyPatch
) -> None:
    clip = speech.concat(jfk, 10.0, piper_16k, 9.0, jfk, sample_rate=RATE)
    assert len(clip) > MAX_SAMPLES
    long_calls: list[int] = []
    original = stt.transcribe_full

    def spy(audio: Samples, language: str | None, prompt: str | None = None) -> Transcript:
        long_calls.append(len(audio))
        return original(audio, language, prompt)

    monkeypatch.setattr(stt, "transcribe_full", spy)
    result = await stt.transcribe(clip)
    assert long_calls == [len(clip)]
    said = set(words(result.text))
    assert {"americans", "country"} <= said, result.text
    assert {"sister", "dinner"} <= said, result.text


async def test_concurrent_calls_take_turns(stt: WhisperSTT, arctic: Samples, piper_16k: Samples) -> None:
    first, second = await asyncio.gather(stt.transcribe(piper_16k), stt.transcribe(arctic))
    assert wer(PIPER_SENTENCE, first.text) <= 0.2, first.text
    assert wer(human_speech.ARCTIC_TEXT, second.text) <= 0.2, second.text


async def test_the_model_runs_off_the_event_loop_thread(
    stt: WhisperSTT, arctic: Samples, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[int] = []
    original = stt.transcribe_blocking

    def spy(audio: Samples, language: str | None) -> Transcript:
        threads.append(threading.get_ident())
        return original(audio, language)

    monkeypatch.setattr(stt, "transcribe_blocking", spy)
    await stt.transcribe(arctic)
    assert len(threads) == 1
    assert threads[0] != threading.get_ident()


async def test_cancelling_waits_for_the_model_to_be_free(
    stt: WhisperSTT, jfk: Samples, arctic: Samples, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = threading.Event()
    active = 0
    most = 0
    guard = threading.Lock()
    original = stt.transcribe_blocking

    def spy(audio: Samples, language: str | None) -> Transcript:
        nonlocal active, most
        with guard:
            active += 1
            most = max(most, active)
        started.set()
        try:
            return original(audio, language)
        finally:
            with guard:
                active -= 1

    monkeypatch.setattr(stt, "transcribe_blocking", spy)
    first = asyncio.create_task(stt.transcribe(jfk))
    assert await asyncio.to_thread(started.wait, 60)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert active == 0  # the cancelled call returned only after its thread had finished
    second = await stt.transcribe(arctic)
    assert most == 1
    assert wer(human_speech.ARCTIC_TEXT, second.text) <= 0.2, second.text


def test_registry_builds_the_whisper_backend(stt: WhisperSTT) -> None:
    assert isinstance(stt, WhisperSTT)
    assert stt.multilingual
    assert stt.model_dir.name == "whisper-base"


@pytest.mark.parametrize(("said", "acknowledgement"), [
    ("Mm-hm.", True), ("Uh-huh.", True), ("Wait.", False), ("No, I meant the other one.", False)])
async def test_given_how_acknowledgements_are_spelled_whisper_writes_one_and_leaves_the_rest(
        stt: WhisperSTT, said: str, acknowledgement: bool) -> None:
    """Piper's "Mm-hm." heard alone is "Emma Maychan"; with the spelling as the prompt, an acknowledgement, while an
    interruption keeps its words (what held speech during a reply is read with: omni.session.backchannel)."""
    samples, rate = speech.piper_samples(said)
    audio = speech.with_silence(speech.resample_for_fixture(samples, rate, RATE), RATE, 0.1, 0.1)
    heard = (await stt.transcribe(audio, language="en", prompt=SPELLING["en"])).text
    assert is_backchannel(heard) is acknowledgement, heard
    if not acknowledgement:
        assert words(heard) == words(said), heard
