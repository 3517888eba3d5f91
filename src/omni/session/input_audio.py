"""The input audio buffer: client audio at any rate in, 16 kHz mono kept for STT, whole VAD frames out."""

from __future__ import annotations

import numpy as np

from omni.audio.resample import StreamResampler
from omni.types import AudioChunk, Samples

RATE = 16000


class InputAudio:
    """Audio since the last commit, addressed in milliseconds from the start of the stream."""

    def __init__(self, frame_samples: int, *, max_seconds: float = 300.0) -> None:
        self.frame_samples = frame_samples
        self.max_samples = round(max_seconds * RATE)
        self._buffer = np.zeros(0, dtype=np.float32)
        self._base = 0  # stream position (samples) of _buffer[0]
        self._framed = 0  # stream position up to which VAD frames were handed out
        self._resampler: StreamResampler | None = None
        self._resampler_rate = RATE

    @property
    def end_ms(self) -> int:
        return _ms(self._base + len(self._buffer))

    @property
    def start_ms(self) -> int:
        return _ms(self._base)

    def append(self, chunk: AudioChunk) -> list[tuple[Samples, float, float]]:
        """Add audio; return each newly complete VAD frame with its start and end in ms."""
        self._buffer = np.concatenate([self._buffer, self._to_rate(chunk)])
        if len(self._buffer) > self.max_samples:
            drop = len(self._buffer) - self.max_samples
            self._buffer = self._buffer[drop:]
            self._base += drop
            self._framed = max(self._framed, self._base)
        frames = []
        while self._framed + self.frame_samples <= self._base + len(self._buffer):
            offset = self._framed - self._base
            frame = self._buffer[offset : offset + self.frame_samples]
            frames.append((frame, _ms_f(self._framed), _ms_f(self._framed + self.frame_samples)))
            self._framed += self.frame_samples
        return frames

    def take(self, start_ms: int | None = None, end_ms: int | None = None) -> Samples:
        """Return audio between the two points (default: all) and drop everything before ``end_ms``."""
        start = max(self._base, _samples(start_ms) if start_ms is not None else self._base)
        end = min(self._base + len(self._buffer), _samples(end_ms) if end_ms is not None else 1 << 62)
        audio = self._buffer[start - self._base : max(start, end) - self._base].copy()
        self._buffer = self._buffer[max(0, end - self._base):]
        self._base = max(self._base, end)
        self._framed = max(self._framed, self._base)
        return audio

    def clear(self) -> None:
        self.take()

    def _to_rate(self, chunk: AudioChunk) -> Samples:
        samples = np.asarray(chunk.samples, dtype=np.float32)
        if chunk.sample_rate == RATE:
            return samples
        if self._resampler is None or self._resampler_rate != chunk.sample_rate:
            self._resampler = StreamResampler(chunk.sample_rate, RATE)
            self._resampler_rate = chunk.sample_rate
        return self._resampler.process(samples)


def _ms(samples: int) -> int:
    return samples * 1000 // RATE


def _ms_f(samples: int) -> float:
    return samples * 1000 / RATE


def _samples(ms: int) -> int:
    return ms * RATE // 1000
