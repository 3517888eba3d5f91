"""The session engine on the real embedded models: a Korean text turn spoken by espeak-ng, an English reply that
transcribes back to its own text, and barge-in on real speech at real-time pace."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Sequence

import numpy as np
import pytest

from omni.aio import closing
from omni.audio.pacing import feed_in_real_time
from omni.backends.base import LLM, STT, TTS, VAD, GenerationOptions
from omni.clock import Clock, RealClock
from omni.events import ReplyAudio, ReplyDone, SessionEvent, SpeechStarted, SpeechStopped, TranscriptionDone
from omni.session.playout import PacedOutput
from omni.session.session import Backends, Session, SessionOptions
from omni.session.turns import TurnOptions
from omni.text.wer import wer
from omni.types import AudioChunk, ChatMessage, LLMEvent, Tool
from tests import speech

pytestmark = pytest.mark.models

HANGUL = re.compile(r"[\uac00-\ud7a3]")
INSTRUCTIONS = (
    "You are Omni, a helpful voice assistant. Answer briefly in plain spoken language. "
    "Always answer in the language the user speaks."
)


def make_session(backends: Backends, events: list[SessionEvent], output: PacedOutput) -> Session:
    options = SessionOptions(instructions=INSTRUCTIONS, generation=GenerationOptions(temperature=0.0, max_tokens=120))
    return Session(backends, options, clock=output.clock, output=output, observers=[events.append])


async def text_turn(llm: LLM, tts: TTS, text: str, sample_rate: int) -> tuple[ReplyDone, np.ndarray]:
    """One typed message answered in voice: the reply's end event and all its audio."""
    events: list[SessionEvent] = []
    output = PacedOutput(RealClock(), sample_rate=sample_rate, record=True)
    session = make_session(Backends(llm=llm, tts=tts), events, output)
    session.add_user_text(text)
    handle = await session.create_reply()
    await handle.done.wait()
    done = next(e for e in events if isinstance(e, ReplyDone))
    audio = np.concatenate([e.chunk.samples for e in events if isinstance(e, ReplyAudio)])
    return done, audio


async def test_korean_text_turn_answers_in_korean_with_speech(llm: LLM, auto_tts: TTS) -> None:
    done, audio = await text_turn(llm, auto_tts, "안녕하세요! 오늘 기분이 어때요?", 24000)
    assert done.status == "completed"
    letters = [c for c in done.text if c.isalpha()]
    assert len(HANGUL.findall(done.text)) >= 0.7 * len(letters)
    assert len(audio) / 24000 > 1.0
    assert float(np.sqrt(np.mean(audio**2))) > 0.01


async def test_english_reply_audio_says_its_text(llm: LLM, auto_tts: TTS, stt: STT) -> None:
    done, audio = await text_turn(llm, auto_tts, "In one sentence, what is the capital of France?", 16000)
    transcript = await stt.transcribe(audio)
    assert "paris" in done.text.lower()
    # Whisper base hears Piper's "France is" as "Francis" on some runs: two word errors in a six-word answer.
    assert wer(done.text, transcript.text) <= 0.4


async def test_barge_in_on_real_speech_stops_the_answer(llm: LLM, auto_tts: TTS, stt: STT, vad: VAD) -> None:
    events: list[SessionEvent] = []
    clock = RealClock()
    output = PacedOutput(clock, sample_rate=24000, record=True)
    session = make_session(Backends(llm=llm, tts=auto_tts, stt=stt, vad=vad), events, output)
    question, rate = speech.piper_samples("Tell me a long story about a brave little dog who travels across the sea.")
    interruption, _ = speech.piper_samples("Wait, stop please.")

    async def stream(samples: np.ndarray, seconds_of_silence_after: float) -> None:
        clip = speech.concat(samples, seconds_of_silence_after, sample_rate=rate)
        await feed_in_real_time(session.push_audio, clock, AudioChunk(clip, rate))

    async def answer_playing() -> None:
        while not any(isinstance(e, ReplyAudio) for e in events):
            session.push_audio(AudioChunk.silence(0.02, rate))
            await asyncio.sleep(0.02)
        while output.played_seconds() < 1.0:  # let the user hear a little first
            session.push_audio(AudioChunk.silence(0.02, rate))
            await asyncio.sleep(0.02)

    await stream(question, 0.8)
    await asyncio.wait_for(answer_playing(), timeout=60)
    await stream(interruption, 1.0)
    await asyncio.wait_for(session.idle(), timeout=60)
    await session.aclose()

    first = next(e for e in events if isinstance(e, ReplyDone))
    barge = [e for e in events if isinstance(e, SpeechStarted)][1]
    assert first.status == "interrupted"
    assert first.at >= barge.at
    assert 0 < len(first.heard_text) < len(first.text)
    # no audio of the first reply was written after it was stopped
    late = [e for e in events if isinstance(e, ReplyAudio) and e.reply_id == first.reply_id and e.at > first.at]
    assert late == []
    # what stays in the conversation is what was heard
    assert session.conversation.get(first.item_id).text == first.heard_text
    transcripts = [e.transcript.text for e in events if isinstance(e, TranscriptionDone)]
    assert len(transcripts) == 2


class CallTimes(LLM):
    """The real LLM, with the moment each chat call began."""

    def __init__(self, inner: LLM, clock: Clock) -> None:
        self.inner, self.clock = inner, clock
        self.started: list[float] = []
        self.count_tokens = inner.count_tokens  # type: ignore[method-assign]

    async def _chat(
        self, messages: Sequence[ChatMessage], tools: Sequence[Tool], options: GenerationOptions
    ) -> AsyncIterator[LLMEvent]:
        self.started.append(self.clock.now())
        async with closing(self.inner.chat(messages, tools=tools, options=options)) as events:
            async for event in events:
                yield event


async def test_the_reply_starts_generating_during_the_pause_on_real_speech(
    llm: LLM, auto_tts: TTS, stt: STT, vad: VAD
) -> None:
    clock = RealClock()
    timed = CallTimes(llm, clock)
    events: list[SessionEvent] = []
    output = PacedOutput(clock, sample_rate=24000)
    # A long silence wait, so the speculative transcript and the LLM call surely start inside it on a busy machine.
    options = SessionOptions(instructions=INSTRUCTIONS, turn=TurnOptions(silence_duration_ms=1500),
                             generation=GenerationOptions(temperature=0.0, max_tokens=60), speculate_after_ms=100)
    session = Session(Backends(llm=timed, tts=auto_tts, stt=stt, vad=vad), options, clock=clock, output=output,
                      observers=[events.append])
    question, rate = speech.piper_samples("What is the capital of France?")
    await feed_in_real_time(session.push_audio, clock, AudioChunk(speech.concat(question, 2.0, sample_rate=rate), rate))
    await asyncio.wait_for(session.idle(), timeout=60)
    await session.aclose()

    stopped = next(e for e in events if isinstance(e, SpeechStopped))
    done = next(e for e in events if isinstance(e, ReplyDone))
    assert done.status == "completed" and "paris" in done.text.lower()
    assert len(timed.started) == 1, "the call started in the pause answered the turn"
    assert timed.started[0] < stopped.at
