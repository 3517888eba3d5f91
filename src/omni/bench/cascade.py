"""The naive sequential cascade that the engine is measured against: each stage waits for the whole of the last.

It uses the same loaded models as the engine, the way a first voice assistant is usually wired: once the recording
has ended, faster-whisper's own ``transcribe()`` (every clip padded to a 30 s window) on all of it, then the whole
reply from the LLM, then all of that reply spoken by the TTS. Its first audio sample exists only at the very end.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from contextlib import aclosing
from dataclasses import dataclass

import numpy as np

from omni.audio.silence import first_sound
from omni.backends.base import LLM, STT, TTS, GenerationOptions
from omni.backends.whisper_stt import WhisperSTT
from omni.errors import BackendError, ConfigError
from omni.text.chunking import clean_for_speech
from omni.types import ChatMessage, Samples, TextDelta

SILENCE_WAIT = "end-of-speech wait (silence_duration_ms)"
STT_FULL = "stt, whole clip in a 30 s window"
LLM_WHOLE = "llm, whole reply"
TTS_WHOLE = "tts, whole reply"
LEAD_IN = "silence before the first sound"


@dataclass(frozen=True)
class CascadeTurn:
    transcript: str
    reply: str
    stages: dict[str, float]
    """Seconds per stage, in order; they add up to :attr:`latency`."""
    llm_first_token: float | None
    """When the first token came, counted from the start of the LLM stage (for comparison; the cascade ignores it)."""

    @property
    def latency(self) -> float:
        return sum(self.stages.values())


def first_turn_prompt(instructions: str, user_text: str) -> list[ChatMessage]:
    """What the session sends the LLM on the first turn of a conversation in English."""
    return [ChatMessage("system", instructions), ChatMessage("user", user_text)]


async def speech_turn(
    stt: STT | None,
    llm: LLM,
    tts: TTS | None,
    recording: Samples,
    *,
    instructions: str,
    generation: GenerationOptions,
    language: str | None,
    silence_wait: float,
) -> CascadeTurn:
    """One spoken turn. ``recording`` ends where the cascade learns the user stopped: ``silence_wait`` seconds
    after the end of speech, the time an endpointer needs to be sure, which counts as the first stage."""
    if not isinstance(stt, WhisperSTT):
        raise ConfigError(f"the cascade baseline runs faster-whisper's transcribe(); the STT backend is {stt!r}")
    started = time.monotonic()
    transcript = await asyncio.to_thread(stt.transcribe_full, recording, language)
    stt_seconds = time.monotonic() - started
    if not transcript.text.strip():
        raise BackendError("stt", "the cascade's transcription of the question is empty")
    turn = await text_turn(llm, tts, first_turn_prompt(instructions, transcript.text.strip()), generation)
    stages = {SILENCE_WAIT: silence_wait, STT_FULL: stt_seconds, **turn.stages}
    return CascadeTurn(transcript.text.strip(), turn.reply, stages, turn.llm_first_token)


async def text_turn(
    llm: LLM, tts: TTS | None, messages: Sequence[ChatMessage], generation: GenerationOptions
) -> CascadeTurn:
    """Whole reply to ``messages``, then all of it spoken; the stages start when the text is there."""
    if tts is None:
        raise ConfigError("the cascade baseline needs a TTS backend")
    started = time.monotonic()
    pieces: list[str] = []
    first_token: float | None = None
    async with aclosing(llm.chat(messages, options=generation)) as events:
        async for event in events:
            if isinstance(event, TextDelta):
                first_token = first_token if first_token is not None else time.monotonic() - started
                pieces.append(event.text)
    reply = "".join(pieces).strip()
    llm_seconds = time.monotonic() - started
    started = time.monotonic()
    audio: list[Samples] = []
    rate = tts.sample_rate
    async with aclosing(tts.synthesize(clean_for_speech(reply))) as chunks:
        async for chunk in chunks:
            audio.append(chunk.samples)
            rate = chunk.sample_rate
    tts_seconds = time.monotonic() - started
    onset = first_sound(np.concatenate(audio)) if audio else None
    if onset is None:
        raise BackendError("tts", f"the cascade's reply produced no audible speech (reply: {reply!r})")
    stages = {LLM_WHOLE: llm_seconds, TTS_WHOLE: tts_seconds, LEAD_IN: onset / rate}
    return CascadeTurn("", reply, stages, first_token)
