"""Vosk, the second Korean recogniser: its small Korean model on Korean questions in Omni's voice, streamed and whole.

The pure parts (PCM conversion, vosk's JSON, the model setting, utterances closed mid-stream) run without the model.
The bounds are set from the numbers in docs/languages.md, "Korean speech in" ("A second recogniser: vosk").
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from omni.audio.resample import resample
from omni.backends import registry
from omni.backends.kokoro_tts import KokoroTTS
from omni.backends.vosk_stt import (
    VoskStream,
    VoskSTT,
    check_model_dir,
    joined,
    model_setting,
    packaged_model,
    pcm16,
    result_text,
)
from omni.bench.korean_hearing import QUESTIONS, RATE, kept, partial_at
from omni.bench.korean_voice import Variant, errors, kokoro_speaker
from omni.config import Settings
from omni.errors import AudioInputError, ConfigError, ModelNotFoundError
from omni.session.listen_ahead import settled_words
from omni.types import Samples

HEARD = QUESTIONS[::8]
"""The eight questions the whisper test hears (capitals, planets, arithmetic, advice, a follow-up's first turn)."""
MAX_CER = 0.45
"""Measured (docs/languages.md): vosk 0.345 on these eight in Omni's voice at 1.0 (whisper base: 0.176); each
transcript scored against the next question instead is at CER 0.97."""


def test_pcm16_clips_and_writes_little_endian() -> None:
    data = pcm16(np.array([0.0, 0.5, -1.0, 2.0, -3.0], dtype=np.float32))
    assert np.frombuffer(data, dtype="<i2").tolist() == [0, 16383, -32767, 32767, -32767]


def test_result_text_reads_final_and_partial_results() -> None:
    assert result_text('{"text" : "프랑스 의 수도 는"}') == "프랑스 의 수도 는"
    assert result_text('{"partial" : "프랑스 의 "}', "partial") == "프랑스 의"
    assert result_text('{"text" : ""}') == "" and result_text("{}") == ""
    assert joined("가", "", "나 다") == "가 나 다"


def test_model_setting_keeps_the_packaged_model_until_one_is_named(tmp_path: Path) -> None:
    assert model_setting(Settings().stt.model, tmp_path) is None  # the whisper default means: the Korean package
    (tmp_path / "vosk-model-small-en").mkdir()
    assert model_setting("vosk-model-small-en", tmp_path) == tmp_path / "vosk-model-small-en"
    assert model_setting(str(tmp_path), Path("/nowhere")) == tmp_path
    with pytest.raises(ModelNotFoundError, match="not a vosk model directory"):
        check_model_dir(tmp_path / "vosk-model-small-en")


class _Recogniser:
    """Vosk's recogniser as the stream uses it: it closes an utterance at the second piece of audio."""

    def __init__(self) -> None:
        self.pieces: list[bytes] = []

    def AcceptWaveform(self, data: bytes) -> bool:
        self.pieces.append(data)
        return len(self.pieces) == 2

    def Result(self) -> str:
        return json.dumps({"text": "하나 둘"})

    def PartialResult(self) -> str:
        return json.dumps({"partial": "셋" * (len(self.pieces) - 2)} if len(self.pieces) > 2 else {"partial": "하나"})

    def FinalResult(self) -> str:
        return json.dumps({"text": "셋 넷"})


def test_a_stream_keeps_closed_utterances_before_the_open_one() -> None:
    recogniser = _Recogniser()
    stream = VoskStream(recogniser, RATE)
    piece = np.zeros(RATE // 10, dtype=np.float32)
    assert [stream.feed(piece) for _ in range(4)] == ["하나", "하나 둘", "하나 둘 셋", "하나 둘 셋셋"]
    assert stream.finish() == "하나 둘 셋 넷"
    assert stream.fed_s == pytest.approx(0.4) and len(recogniser.pieces[0]) == 2 * RATE // 10
    with pytest.raises(AudioInputError, match="NaN or infinite"):
        stream.feed(np.array([np.nan], dtype=np.float32))


# -- the real model ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def vosk_stt(settings: Settings) -> VoskSTT:
    backend = registry.create("stt", "vosk", settings)
    assert isinstance(backend, VoskSTT)
    return backend


@pytest.fixture(scope="module")
def clips(kokoro: KokoroTTS) -> list[Samples]:
    """The questions in Omni's voice at its speed, voiced as the backend voices them (the hearing bench's way)."""
    speak = kokoro_speaker(kokoro, Variant("default"))
    voiced = [speak(q.text) for q in HEARD]
    return [resample(audio, rate, RATE) for audio, rate, _ in voiced]


@pytest.mark.models
def test_the_packaged_model_is_korean(vosk_stt: VoskSTT) -> None:
    assert vosk_stt.model_dir == packaged_model() and vosk_stt.language == "ko"
    with pytest.raises(ConfigError, match="hears ko only"):
        vosk_stt.transcribe_blocking(np.zeros(RATE, dtype=np.float32), "en")


@pytest.mark.models
async def test_vosk_hears_korean_questions(vosk_stt: VoskSTT, clips: list[Samples]) -> None:
    edits = total = wrong = wrong_total = 0
    heard: list[str] = []
    for i, (question, audio) in enumerate(zip(HEARD, clips, strict=True)):
        transcript = await vosk_stt.transcribe(audio, language="ko")
        assert transcript.language == "ko"
        e, n = errors(question, transcript.text)
        edits, total = edits + e, total + n
        heard.append(f"{question.text} → {transcript.text}")
        other = HEARD[(i + 1) % len(HEARD)]  # the bar means something: scored as the next question, it fails
        w, m = errors(other, transcript.text)
        wrong, wrong_total = wrong + w, wrong_total + m
    assert edits / total <= MAX_CER, "\n".join(heard)
    assert wrong / wrong_total > 1.5 * MAX_CER, "\n".join(heard)


@pytest.mark.models
async def test_vosk_hears_nothing_in_silence_and_noise(vosk_stt: VoskSTT) -> None:
    noise = np.random.default_rng(0).normal(0, 0.003, RATE).astype(np.float32)
    for audio in (np.zeros(RATE, dtype=np.float32), noise):
        assert (await vosk_stt.transcribe(audio)).text == ""


@pytest.mark.models
def test_streamed_partials_settle_into_the_final_words(vosk_stt: VoskSTT, clips: list[Samples]) -> None:
    """The read-ahead's words (all but the last) at 70% of the audio are, for most questions, the final words' start;
    streamed in 0.1 s pieces, the whole clip ends where one call would."""
    starts = []
    for audio in clips:
        partial = partial_at(vosk_stt.stream(), audio, 0.7)
        final = vosk_stt.transcribe_blocking(audio).text
        starts.append(kept(settled_words(partial), final))
        stream = vosk_stt.stream()
        partial_at(stream, audio, 1.0)
        assert stream.finish() == final
    assert sum(k == 1.0 for k in starts) >= len(starts) // 2, starts
