"""A simple echo gate for open speakers: while the assistant speaks, microphone audio that is no louder than what
the speaker is playing is taken for the assistant's own voice and muted, so it cannot interrupt the reply.

This is not an echo canceller: a user talking over the assistant must speak louder than the echo reaching the
microphone. It keeps an assistant from interrupting itself on a laptop with speakers, which is what matters most.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from omni.types import Samples


@dataclass
class EchoGate:
    margin_db: float = 6.0
    """How much louder than the playback the microphone must be to count as the user."""
    memory: int = 25
    """Playback levels remembered (frames), covering the delay from speaker to microphone."""
    _playback: deque[float] = field(init=False)

    def __post_init__(self) -> None:
        self._playback = deque(maxlen=self.memory)

    def played(self, samples: Samples) -> None:
        """Report audio that has just gone to the speaker."""
        self._playback.append(_rms(samples))

    def silent(self) -> None:
        """Report a moment with nothing playing."""
        self._playback.append(0.0)

    def filter(self, mic: Samples) -> Samples:
        """Return the microphone frame, or silence when it is most likely the assistant's own voice."""
        reference = max(self._playback, default=0.0)
        if reference <= 1e-4:
            return mic
        if _rms(mic) >= reference * 10 ** (self.margin_db / 20):
            return mic
        return np.zeros_like(mic)


def _rms(samples: Samples) -> float:
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if len(samples) else 0.0
