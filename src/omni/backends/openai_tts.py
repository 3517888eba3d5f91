"""TTS backend for any OpenAI-compatible ``/audio/speech`` server.

Asks for ``pcm`` (OpenAI's raw 24 kHz 16-bit mono little-endian) and yields audio as the bytes arrive,
so playback can start before the server has finished. Some servers send a WAV whatever was asked:
its header is read and the samples used at the rate it names. Compressed answers (MP3, Ogg, FLAC)
are refused with a clear error rather than played as noise.
"""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator, Sequence

import numpy as np

from omni.backends.base import TTS
from omni.backends.openai_http import (
    DEFAULT_TIMEOUT_S,
    HTTPEndpoint,
    check_status,
    require_base_url,
    transport_errors,
)
from omni.config import Settings
from omni.errors import BackendError
from omni.types import AudioChunk

PCM_SAMPLE_RATE = 24000
_COMPRESSED_MAGIC = {b"ID3": "MP3", b"OggS": "Ogg", b"fLaC": "FLAC"}
_COMPRESSED_TYPES = ("audio/mpeg", "audio/mp3", "audio/ogg", "audio/opus", "audio/flac", "audio/aac")


class _HeaderNeeded(Exception):
    """More bytes are needed before the start of the stream can be understood."""


def _wav_header(data: bytes) -> tuple[int, int]:
    """(sample rate, offset of the first sample) of a 16-bit mono PCM WAV whose header is in ``data``."""
    offset, rate = 12, None
    while True:
        if len(data) < offset + 8:
            raise _HeaderNeeded
        chunk_id, size = data[offset : offset + 4], struct.unpack_from("<I", data, offset + 4)[0]
        body = offset + 8
        if chunk_id == b"data":
            if rate is None:
                raise ValueError("the WAV has no fmt chunk before its data")
            return rate, body
        if chunk_id == b"fmt ":
            if len(data) < body + 16:
                raise _HeaderNeeded
            fmt, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", data, body)
            if fmt not in (1, 0xFFFE) or channels != 1 or bits != 16:
                raise ValueError(
                    f"the WAV is format {fmt}, {channels} channels, {bits} bits; only 16-bit mono PCM"
                )
        offset = body + size + (size & 1)


class _PCMStream:
    """Bytes in, float32 samples out; keeps an odd trailing byte for the next piece."""

    def __init__(self, content_type: str) -> None:
        self.sample_rate = PCM_SAMPLE_RATE
        self._content_type = content_type
        self._pending = b""
        self._started = False

    def feed(self, data: bytes, *, final: bool = False) -> np.ndarray | None:
        self._pending += data
        if not self._started:
            try:
                self._pending = self._skip_header(self._pending, final)
            except _HeaderNeeded:
                if not final:
                    return None
                raise ValueError("the answer ended inside a WAV header") from None
            self._started = True
        usable = len(self._pending) - len(self._pending) % 2
        if usable == 0:
            return None
        samples = np.frombuffer(self._pending[:usable], dtype="<i2").astype(np.float32) / 32768.0
        self._pending = self._pending[usable:]
        return samples

    def _skip_header(self, data: bytes, final: bool) -> bytes:
        if len(data) < 12 and not final:
            raise _HeaderNeeded
        for magic, name in _COMPRESSED_MAGIC.items():
            if data.startswith(magic):
                raise ValueError(f"the server sent {name} audio instead of raw pcm")
        if self._content_type.split(";")[0].strip() in _COMPRESSED_TYPES:
            raise ValueError(f"the server sent {self._content_type} instead of raw pcm")
        if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
            self.sample_rate, start = _wav_header(data)
            return data[start:]
        return data


class OpenAITTS(TTS):
    """Speech from a remote OpenAI-compatible server, streamed as raw pcm."""

    sample_rate = PCM_SAMPLE_RATE

    def __init__(
        self,
        base_url: str,
        *,
        model: str,
        voice: str,
        api_key: str | None = None,
        speed: float = 1.0,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.endpoint = HTTPEndpoint(base_url, api_key, timeout=timeout)
        self.model = model
        self.voice = voice
        self.speed = speed

    def __repr__(self) -> str:
        return f"OpenAITTS({self.endpoint.base_url!r}, model={self.model!r}, voice={self.voice!r})"

    async def aclose(self) -> None:
        await self.endpoint.aclose()

    def voices(self) -> Sequence[str]:
        return (self.voice,)

    async def _synthesize(
        self, text: str, voice: str | None, language: str | None, speed: float
    ) -> AsyncIterator[AudioChunk]:
        url = self.endpoint.url("audio/speech")
        body: dict[str, object] = {
            "model": self.model,
            "input": text,
            "voice": voice or self.voice,
            "response_format": "pcm",
        }
        if self.speed * speed != 1.0:
            body["speed"] = round(self.speed * speed, 3)
        with transport_errors(self.stage, url):
            async with self.endpoint.client().stream("POST", url, json=body) as response:
                await check_status(response, self.stage, url)
                pcm = _PCMStream(response.headers.get("content-type", ""))
                try:
                    async for piece in response.aiter_bytes():
                        samples = pcm.feed(piece)
                        if samples is not None:
                            yield AudioChunk(samples, pcm.sample_rate)
                    samples = pcm.feed(b"", final=True)
                except ValueError as exc:
                    raise BackendError(self.stage, f"{url}: {exc}") from exc
                if samples is not None:
                    yield AudioChunk(samples, pcm.sample_rate)


def create(settings: Settings) -> OpenAITTS:
    tts = settings.tts
    return OpenAITTS(
        require_base_url(tts.base_url, "tts"),
        model=tts.remote_model,
        voice=tts.remote_voice,
        api_key=tts.api_key,
        speed=tts.speed,
    )
