"""Sample-rate conversion with soxr: whole clips at once, or a continuous stream chunk by chunk."""

from __future__ import annotations

import numpy as np
import soxr

from omni.types import Samples

_QUALITY = "HQ"


def _as_float32(samples: Samples) -> Samples:
    return np.ascontiguousarray(samples, dtype=np.float32)


def resample(samples: Samples, from_rate: int, to_rate: int) -> Samples:
    """Convert a whole mono clip from ``from_rate`` to ``to_rate`` (returned as is when the rates match)."""
    if from_rate <= 0 or to_rate <= 0:
        raise ValueError(f"sample rates must be positive, got {from_rate} -> {to_rate}")
    audio = _as_float32(samples)
    if from_rate == to_rate or audio.size == 0:
        return audio
    out: Samples = soxr.resample(audio, from_rate, to_rate, quality=_QUALITY)
    return _as_float32(out)


class StreamResampler:
    """Resample a continuous stream arriving in chunks of any size.

    The filter state carries over between chunks, so chunk boundaries leave no clicks or gaps, which
    resampling each chunk on its own would. Output lags input by the filter delay; :meth:`flush` returns
    what is held back when the stream ends.
    """

    def __init__(self, from_rate: int, to_rate: int) -> None:
        if from_rate <= 0 or to_rate <= 0:
            raise ValueError(f"sample rates must be positive, got {from_rate} -> {to_rate}")
        self.from_rate = from_rate
        self.to_rate = to_rate
        self._stream: soxr.ResampleStream | None = (
            None if from_rate == to_rate else soxr.ResampleStream(from_rate, to_rate, 1, dtype="float32",
                                                                  quality=_QUALITY)
        )

    def process(self, samples: Samples) -> Samples:
        """Resample the next chunk; the output may be short or empty while the filter fills."""
        audio = _as_float32(samples)
        if self._stream is None:
            return audio
        out: Samples = self._stream.resample_chunk(audio, last=False)
        return _as_float32(out)

    def flush(self) -> Samples:
        """End the stream: return the samples still held in the filter and start afresh."""
        if self._stream is None:
            return np.zeros(0, dtype=np.float32)
        out: Samples = self._stream.resample_chunk(np.zeros(0, dtype=np.float32), last=True)
        self._stream.clear()
        return _as_float32(out)

    def reset(self) -> None:
        """Drop whatever is held and start a new, unrelated stream."""
        if self._stream is not None:
            self._stream.clear()
