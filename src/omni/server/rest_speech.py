"""``POST /v1/audio/speech``: text spoken by the TTS backend, in OpenAI's formats, at 24 kHz mono.

``pcm`` is streamed as the voice makes it (the first audio arrives after the first sentence, not the whole text);
the other formats are encoded whole. The voice name goes to the backend as given: a name the backend has picks that
voice, and any other (OpenAI's ``alloy``, ``nova``, ...) means its default voice. ``speed`` multiplies the voice's
pace (the server's ``tts.speed``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Annotated, Literal

import numpy as np
from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from omni.aio import closing
from omni.audio.pcm import float_to_pcm16
from omni.audio.resample import StreamResampler, resample
from omni.server.rest_audio import (
    ALL_SPEECH_FORMATS,
    MEDIA_TYPES,
    SPEECH_RATE,
    SpeechFormat,
    encode_speech,
    speech_formats,
)
from omni.server.rest_common import (
    ClosingStream,
    RequestError,
    RequestModel,
    read_json,
    unavailable,
    unless_disconnected,
)
from omni.server.state import ServerState
from omni.types import AudioChunk

MAX_INPUT_CHARS = 4096


class VoiceRef(RequestModel):
    id: str


class SpeechRequest(RequestModel):
    model: str = ""
    input: Annotated[str, Field(min_length=1, max_length=MAX_INPUT_CHARS)]
    voice: str | VoiceRef | None = None
    instructions: str | None = None
    response_format: str = "mp3"
    speed: Annotated[float, Field(ge=0.25, le=4.0)] = 1.0
    stream_format: Literal["audio", "sse"] = "audio"


def _format(name: str) -> SpeechFormat:
    supported = speech_formats()
    for known in supported:
        if name == known:
            return known
    listed = ", ".join(supported)
    if name in ALL_SPEECH_FORMATS:
        raise RequestError(f"response_format {name!r} needs a codec library this server lacks "
                           f"(pip install av); supported here: {listed}", param="response_format")
    raise RequestError(f"response_format {name!r} is not supported; use one of {listed}", param="response_format")


async def speech(state: ServerState, request: Request) -> Response:
    tts = state.backends.tts
    if tts is None:
        raise unavailable("text-to-speech", "tts.backend")
    body = await read_json(request, SpeechRequest)
    if not body.input.strip():
        raise RequestError("input has no text to speak", param="input")
    if body.stream_format != "audio":
        raise RequestError("stream_format 'sse' is not supported; use 'audio' (pcm is streamed as it is made)",
                           param="stream_format")
    fmt = _format(body.response_format)
    voice = body.voice.id if isinstance(body.voice, VoiceRef) else body.voice
    source = tts.synthesize(body.input, voice=voice, speed=body.speed)
    if fmt == "pcm":
        return await _streamed_pcm(request, source)
    audio = await unless_disconnected(request, _whole(source))
    data = await asyncio.to_thread(encode_speech, audio.samples, audio.sample_rate, fmt)
    return Response(data, media_type=MEDIA_TYPES[fmt])


async def _whole(source: AsyncIterator[AudioChunk]) -> AudioChunk:
    pieces: list[AudioChunk] = []
    async with closing(source) as chunks:
        async for chunk in chunks:
            pieces.append(chunk)
    rate = pieces[0].sample_rate if pieces else SPEECH_RATE
    # One call's chunks share a rate (LanguageTTS guarantees it); a backend that changed rate mid-call is
    # resampled piece by piece rather than played at the wrong speed.
    samples = [resample(chunk.samples, chunk.sample_rate, rate) for chunk in pieces]
    return AudioChunk(np.concatenate(samples) if samples else np.zeros(0, np.float32), rate)


async def _streamed_pcm(request: Request, source: AsyncGenerator[AudioChunk, None]) -> Response:
    """The first chunk is made before the response starts, so a failing backend still gets an error status."""
    try:
        first = await unless_disconnected(request, _first(source))
    except BaseException:
        await source.aclose()
        raise
    return ClosingStream(_pcm(first, source), media_type=MEDIA_TYPES["pcm"], also_close=source)


async def _first(source: AsyncIterator[AudioChunk]) -> AudioChunk | None:
    return await anext(source, None)


async def _pcm(first: AudioChunk | None, rest: AsyncIterator[AudioChunk]) -> AsyncIterator[bytes]:
    """24 kHz 16-bit PCM as the chunks come; one stream resampler keeps the joins between sentences click-free."""
    if first is None:
        return
    resampler = StreamResampler(first.sample_rate, SPEECH_RATE)
    out = resampler.process(first.samples)
    if out.size:
        yield float_to_pcm16(out)
    async with closing(rest) as chunks:
        async for chunk in chunks:
            if chunk.sample_rate != resampler.from_rate:
                out = resampler.flush()
                if out.size:
                    yield float_to_pcm16(out)
                resampler = StreamResampler(chunk.sample_rate, SPEECH_RATE)
            out = resampler.process(chunk.samples)
            if out.size:
                yield float_to_pcm16(out)
    out = resampler.flush()
    if out.size:
        yield float_to_pcm16(out)
