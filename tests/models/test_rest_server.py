"""The REST endpoints on the real embedded models, with the official SDK as the client: a chat answer that knows
Paris (also after a client walked away mid-stream), a Piper sentence transcribed, and speech that transcribes back
to its words.

Word-error bounds as in test_stt.py: whisper base hears Piper's voice with no errors in measurement; the bound
leaves room for a word or two of synthesis noise and codec loss.
"""

from __future__ import annotations

import io
import itertools

import httpx
import numpy as np
import openai
import pytest
import soundfile as sf
from openai import AsyncOpenAI

from omni.audio.resample import resample
from omni.backends.base import LLM, TTS, VAD
from omni.backends.whisper_stt import WhisperSTT
from omni.config import Settings
from omni.server.state import ServerState
from omni.session.session import Backends
from omni.text.wer import wer
from tests import speech
from tests.server.serving import serving

pytestmark = pytest.mark.models

QUESTION = "What is the capital of France?"
HEARD = "Please call my sister and tell her that dinner is ready."
SPOKEN = "The museum opens at nine in the morning on weekdays."


@pytest.fixture
def state(settings: Settings, llm: LLM, vad: VAD, stt: WhisperSTT, auto_tts: TTS) -> ServerState:
    return ServerState(settings, Backends(llm=llm, vad=vad, stt=stt, tts=auto_tts))


def client(base_url: str) -> AsyncOpenAI:
    return AsyncOpenAI(base_url=base_url + "/v1", api_key="unused", max_retries=0, timeout=300)


async def test_a_chat_completion_knows_the_capital_of_france_after_a_client_left_mid_stream(
    state: ServerState,
) -> None:
    long_answer = {"model": "m", "stream": True, "max_tokens": 400,
                   "messages": [{"role": "user", "content": "Write a long story about a lighthouse keeper."}]}
    async with serving(state) as url:
        async with httpx.AsyncClient(timeout=300) as http, \
                http.stream("POST", url + "/v1/chat/completions", json=long_answer) as response:
            async for line in response.aiter_lines():
                if '"content": "' in line and '"content": ""' not in line:
                    break  # the story has begun: hang up
        # The abandoned generation must have released the model: this request gets it next.
        stream = await client(url).chat.completions.create(
            model="gpt-4o-mini", temperature=0.0, max_tokens=40, stream=True,
            stream_options={"include_usage": True}, messages=[{"role": "user", "content": QUESTION}])
        chunks = [chunk async for chunk in stream]
        whole = await client(url).chat.completions.create(
            model="gpt-4o-mini", temperature=0.0, max_tokens=40, messages=[{"role": "user", "content": QUESTION}])
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "Paris" in streamed
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    assert whole.choices[0].message.content is not None and "Paris" in whole.choices[0].message.content
    assert whole.usage is not None and whole.usage.prompt_tokens > 0


async def test_spoken_sentences_are_transcribed_with_their_times(state: ServerState) -> None:
    first, rate = speech.piper_samples(HEARD)
    second, _ = speech.piper_samples(SPOKEN)
    clip = speech.concat(0.3, first, 2.0, second, 0.3, sample_rate=rate)
    upload = io.BytesIO()
    sf.write(upload, clip, rate, format="WAV", subtype="PCM_16")
    async with serving(state) as url:
        api = client(url).audio.transcriptions
        result = await api.create(
            model="whisper-1", file=("sentence.wav", upload.getvalue()), response_format="verbose_json")
        subtitles = await api.create(model="whisper-1", file=("sentence.wav", upload.getvalue()), response_format="srt")
        with pytest.raises(openai.BadRequestError) as unknown:
            await api.create(model="whisper-1", file=("sentence.wav", upload.getvalue()), language="xx")
    assert unknown.value.param == "language" and "'xx'" in unknown.value.message
    assert wer(f"{HEARD} {SPOKEN}", result.text) <= 0.2, result.text
    assert result.language == "english"
    assert result.duration == pytest.approx(len(clip) / rate, abs=0.05)
    segments = result.segments or []
    assert len(segments) >= 2, segments
    assert all(a.end <= b.start + 0.01 for a, b in itertools.pairwise(segments)), "in order"
    second_start = 0.3 + len(first) / rate + 2.0
    starts = [s.start for s in segments]
    assert min(abs(start - second_start) for start in starts) < 0.6, (starts, second_start)
    assert segments[-1].end <= result.duration + 0.05
    assert subtitles.count(" --> ") == len(segments)


async def test_speech_transcribes_back_to_its_words(state: ServerState, stt: WhisperSTT) -> None:
    async with serving(state) as url:
        spoken = await client(url).audio.speech.create(
            model="tts-1", voice="alloy", input=SPOKEN, response_format="mp3")
    samples, rate = sf.read(io.BytesIO(spoken.content), dtype="float32")
    assert rate == 24000 and 2.0 < len(samples) / rate < 8.0
    heard = await stt.transcribe(resample(np.asarray(samples, np.float32), rate, stt.sample_rate))
    assert wer(SPOKEN, heard.text) <= 0.2, heard.text
