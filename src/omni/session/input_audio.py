"""The input audio buffer: client audio at any rate in, 16 kHz mono kept for STT, whole VAD frames out.

Audio is kept as a list of chunks and joined only when a turn is taken, so appending a 20 ms chunk costs the same
however much audio is buffered.
"""

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
        self._chunks: list[Samples] = []
        self._base = 0  # stream position (samples) of the first kept sample
        self._end = 0  # stream position after the last sample
        self._unframed = np.zeros(0, dtype=np.float32)  # samples not yet handed out in a VAD frame
        self._resampler: StreamResampler | None = None

    @property
    def end_ms(self) -> int:
        return _ms(self._end)

    @property
    def start_ms(self) -> int:
        return _ms(self._base)

    def append(self, chunk: AudioChunk) -> list[tuple[Samples, float, float]]:
        """Add audio; return each newly complete VAD frame with its start and end in ms."""
        samples = self._to_rate(chunk)
        if not len(samples):
            return []
        self._chunks.append(samples)
        self._end += len(samples)
        if self._end - self._base > self.max_samples:
            self.discard_before(_ms(self._end - self.max_samples))
        pending = np.concatenate([self._unframed, samples])
        first = self._end - len(pending)
        count = len(pending) // self.frame_samples
        frames = [
            (pending[i * self.frame_samples : (i + 1) * self.frame_samples],
             _ms_f(first + i * self.frame_samples), _ms_f(first + (i + 1) * self.frame_samples))
            for i in range(count)
        ]
        self._unframed = pending[count * self.frame_samples :]
        return frames

    def discard_before(self, ms: int) -> None:
        """Forget whole chunks that end before ``ms`` (audio that can no longer belong to a turn)."""
        position = _samples(ms)
        while self._chunks and self._base + len(self._chunks[0]) <= position:
            self._base += len(self._chunks.pop(0))

    def peek(self, start_ms: int, end_ms: int) -> Samples:
        """Audio between the two points, leaving the buffer as it is."""
        joined = np.concatenate(self._chunks) if self._chunks else np.zeros(0, dtype=np.float32)
        start, end = max(self._base, _samples(start_ms)), min(self._end, _samples(end_ms))
        return joined[start - self._base : max(start, end) - self._base].copy()

    def take(self, start_ms: int | None = None, end_ms: int | None = None) -> Samples:
        """Return audio between the two points (default: all) and drop everything before ``end_ms``."""
        joined = np.concatenate(self._chunks) if self._chunks else np.zeros(0, dtype=np.float32)
        start = max(self._base, _samples(start_ms) if start_ms is not None else self._base)
        end = min(self._end, _samples(end_ms) if end_ms is not None else self._end)
        audio = joined[start - self._base : max(start, end) - self._base].copy()
        rest = joined[max(0, end - self._base) :]
        self._chunks = [rest] if len(rest) else []
        self._base = self._end - len(rest)
        return audio

    def clear(self) -> None:
        self.take()

    def _to_rate(self, chunk: AudioChunk) -> Samples:
        samples = np.asarray(chunk.samples, dtype=np.float32)
        if chunk.sample_rate == RATE:
            return samples
        if self._resampler is None or self._resampler.from_rate != chunk.sample_rate:
            self._resampler = StreamResampler(chunk.sample_rate, RATE)
        return self._resampler.process(samples)


def _ms(samples: int) -> int:
    return samples * 1000 // RATE


def _ms_f(samples: int) -> float:
    return samples * 1000 / RATE


def _samples(ms: int) -> int:
    return ms * RATE // 1000
