"""Audio for the REST endpoints: uploads decoded whatever their container, speech encoded in OpenAI's formats.

libsndfile (through soundfile) reads and writes WAV, FLAC, MP3 and Ogg Opus. PyAV, which faster-whisper already
brings, adds AAC output and the uploads libsndfile cannot read (WebM and MP4/M4A, as browsers record them). Both
are optional here: a format whose library is missing is simply not offered, and the error lists what is.
"""

from __future__ import annotations

import functools
import importlib.util
import io
from typing import Literal

import numpy as np
import soundfile as sf

from omni.audio.io import decode_audio, encode_wav
from omni.audio.pcm import float_to_pcm16
from omni.audio.resample import resample
from omni.errors import AudioInputError
from omni.types import AudioChunk, Samples

SPEECH_RATE = 24000
"""Every speech format is made at 24 kHz: OpenAI's ``pcm`` is defined at this rate, and Opus supports it."""

SpeechFormat = Literal["mp3", "opus", "aac", "flac", "wav", "pcm"]
ALL_SPEECH_FORMATS: tuple[SpeechFormat, ...] = ("mp3", "opus", "aac", "flac", "wav", "pcm")

MEDIA_TYPES: dict[str, str] = {
    "mp3": "audio/mpeg", "opus": "audio/ogg; codecs=opus", "aac": "audio/aac", "flac": "audio/flac",
    "wav": "audio/wav", "pcm": "audio/pcm",
}

_SOUNDFILE: dict[str, tuple[str, str]] = {
    "mp3": ("MP3", "MPEG_LAYER_III"), "opus": ("OGG", "OPUS"), "flac": ("FLAC", "PCM_16"),
}

_SHORTEST = 0.1
"""Compressed formats cannot hold zero samples; input with nothing to say becomes this much silence."""


@functools.cache
def speech_formats() -> tuple[SpeechFormat, ...]:
    """The ``response_format`` values this installation can make."""

    def available(name: SpeechFormat) -> bool:
        if name in ("wav", "pcm"):
            return True
        if name == "aac":
            return _has_av()
        container, subtype = _SOUNDFILE[name]
        return container in sf.available_formats() and subtype in sf.available_subtypes(container)

    return tuple(name for name in ALL_SPEECH_FORMATS if available(name))


def _has_av() -> bool:
    return importlib.util.find_spec("av") is not None


def encode_speech(samples: Samples, sample_rate: int, fmt: SpeechFormat) -> bytes:
    """Mono float samples as a whole file (or raw PCM) in ``fmt``, at :data:`SPEECH_RATE`."""
    audio = np.clip(resample(samples, sample_rate, SPEECH_RATE), -1.0, 1.0).astype(np.float32)
    if fmt == "pcm":
        return float_to_pcm16(audio)
    if fmt == "wav":
        return encode_wav(AudioChunk(audio, SPEECH_RATE))
    if audio.size < _SHORTEST * SPEECH_RATE:
        audio = np.concatenate([audio, np.zeros(round(_SHORTEST * SPEECH_RATE) - audio.size, np.float32)])
    if fmt == "aac":
        return _encode_aac(audio)
    container, subtype = _SOUNDFILE[fmt]
    buffer = io.BytesIO()
    sf.write(buffer, audio, SPEECH_RATE, format=container, subtype=subtype)
    return buffer.getvalue()


def _encode_aac(audio: Samples) -> bytes:
    """AAC in ADTS framing, which is what ``audio/aac`` players and OpenAI's ``aac`` answers use."""
    import av

    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="adts") as container:
        stream = container.add_stream("aac", rate=SPEECH_RATE, layout="mono")
        frame = av.AudioFrame.from_ndarray(audio[np.newaxis, :], format="flt", layout="mono")
        frame.sample_rate = SPEECH_RATE
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()


def decode_upload(data: bytes, sample_rate: int, name: str) -> AudioChunk:
    """An uploaded file as mono float32 at ``sample_rate``: libsndfile first, then PyAV for what it cannot read.

    Blocking (decoding a long file takes a while): run it in a worker thread. Raises :class:`AudioInputError`.
    """
    try:
        return decode_audio(data, sample_rate=sample_rate, name=name)
    except AudioInputError:
        if not data or not _has_av():
            raise
        decoded = _decode_with_av(data, sample_rate)
        if decoded is None:
            raise AudioInputError(
                f"{name} is not audio this server can read (tried WAV, FLAC, MP3, Ogg"
                f"{', WebM, MP4/M4A, AAC' if _has_av() else ''})"
            ) from None
        if decoded.size == 0:
            raise AudioInputError(f"{name} contains no audio (zero samples)") from None
        return AudioChunk(decoded, sample_rate)


def _decode_with_av(data: bytes, sample_rate: int) -> Samples | None:
    """The first audio stream of any container FFmpeg knows, or None when there is none or it is not media."""
    import av

    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.audio:
                return None
            resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
            pieces = [
                out.to_ndarray().reshape(-1)
                for frame in container.decode(container.streams.audio[0])
                for out in resampler.resample(frame)
            ]
            pieces.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(None))
    except (av.FFmpegError, OSError, ValueError):
        return None
    if not pieces:
        return np.zeros(0, np.float32)
    return np.ascontiguousarray(np.concatenate(pieces), dtype=np.float32)
