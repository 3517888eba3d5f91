"""Audio files: read anything libsndfile reads (wav, flac, ogg, ...) as mono float32, write 16-bit WAV."""

from __future__ import annotations

import io
from pathlib import Path
from typing import BinaryIO

import numpy as np
import soundfile as sf

from omni.audio.resample import resample
from omni.errors import AudioInputError
from omni.types import AudioChunk


def _decode(source: str | BinaryIO, name: str, sample_rate: int | None) -> AudioChunk:
    try:
        data, rate = sf.read(source, dtype="float32", always_2d=True)
    except sf.LibsndfileError as exc:
        detail = exc.error_string
        raise AudioInputError(f"{name} is not an audio file libsndfile can read ({detail})") from exc
    except (sf.SoundFileError, RuntimeError, ValueError, TypeError) as exc:
        raise AudioInputError(f"{name} is not an audio file libsndfile can read ({exc})") from exc
    if data.shape[0] == 0:
        raise AudioInputError(f"{name} contains no audio (zero samples)")
    # Averaging the channels keeps the level of a centred source and cannot clip.
    mono = np.ascontiguousarray(data.mean(axis=1), dtype=np.float32)
    rate = int(rate)
    if sample_rate is not None and sample_rate != rate:
        mono = resample(mono, rate, sample_rate)
        rate = sample_rate
    return AudioChunk(mono, rate)


def read_audio(path: Path | str, *, sample_rate: int | None = None) -> AudioChunk:
    """Read an audio file as mono float32, resampled to ``sample_rate`` when given.

    Raises :class:`AudioInputError` naming the file when it is missing, a directory, empty, or not audio.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise AudioInputError(f"no such file: {path}")
    if path.is_dir():
        raise AudioInputError(f"{path} is a directory, not an audio file")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise AudioInputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if size == 0:
        raise AudioInputError(f"{path} contains no audio (the file is empty)")
    try:
        with path.open("rb") as handle:
            return _decode(handle, str(path), sample_rate)
    except OSError as exc:
        raise AudioInputError(f"cannot read {path}: {exc.strerror or exc}") from exc


def decode_audio(
    data: bytes, *, sample_rate: int | None = None, name: str = "the uploaded data"
) -> AudioChunk:
    """Decode an audio file held in memory (an upload), like :func:`read_audio`."""
    if not data:
        raise AudioInputError(f"{name} contains no audio (it is empty)")
    return _decode(io.BytesIO(data), name, sample_rate)


def write_wav(path: Path | str, chunk: AudioChunk) -> Path:
    """Write ``chunk`` as a mono 16-bit PCM WAV file (samples outside [-1, 1] are clipped)."""
    path = Path(path).expanduser()
    audio = np.clip(np.asarray(chunk.samples, dtype=np.float32), -1.0, 1.0)
    sf.write(str(path), audio, chunk.sample_rate, subtype="PCM_16", format="WAV")
    return path


def encode_wav(chunk: AudioChunk) -> bytes:
    """``chunk`` as the bytes of a mono 16-bit PCM WAV file."""
    buffer = io.BytesIO()
    audio = np.clip(np.asarray(chunk.samples, dtype=np.float32), -1.0, 1.0)
    sf.write(buffer, audio, chunk.sample_rate, subtype="PCM_16", format="WAV")
    return buffer.getvalue()
