"""How loud a stretch of speech is, against how loud the user has been: a voice far quieter than the user's own is
most likely someone else's (a television, people talking across the room), which must not stop the reply.

The level of speech is that of its loud frames (the 90th percentile of 20 ms frames' RMS), so the silence and the
soft consonants around the words do not pull it down and a clip of a few hundred milliseconds gives the same figure
as a whole sentence. The user's level is the median of their last few turns: one cough or one shout does not move
it. A person's own utterances vary by a few dB; the kept set's background voices are 15–20 dB below the user
(``omni bench --suite turns``), hence :data:`DISTANT_DB`.
"""

from __future__ import annotations

import statistics
from collections import deque

import numpy as np

from omni.audio.pcm import SILENCE_DBFS
from omni.types import Samples

FRAME_MS = 20
LOUD_PERCENTILE = 90.0
MIN_FRAMES = 5
"""Fewer 20 ms frames than this say nothing about a level."""
TURNS_KEPT = 5
DISTANT_DB = 10.0
"""Speech this far below the user's level is another voice's."""


def speech_level_db(samples: Samples, sample_rate: int = 16000) -> float | None:
    """The level (dBFS) of the loud frames of ``samples``; None for a clip too short to tell."""
    frame = sample_rate * FRAME_MS // 1000
    count = len(samples) // frame
    if count < MIN_FRAMES:
        return None
    frames = np.asarray(samples[: count * frame], dtype=np.float64).reshape(count, frame)
    rms = np.sqrt((frames**2).mean(axis=1))
    loud = float(np.percentile(rms, LOUD_PERCENTILE))
    return SILENCE_DBFS if loud <= 10 ** (SILENCE_DBFS / 20) else 20.0 * float(np.log10(loud))


class VoiceLevel:
    """The user's speech level over their last :data:`TURNS_KEPT` turns."""

    def __init__(self) -> None:
        self._levels: deque[float] = deque(maxlen=TURNS_KEPT)

    def add(self, samples: Samples) -> None:
        level = speech_level_db(samples)
        if level is not None and level > SILENCE_DBFS:
            self._levels.append(level)

    @property
    def level_db(self) -> float | None:
        return statistics.median(self._levels) if self._levels else None

    def below(self, samples: Samples) -> float | None:
        """How many dB the speech in ``samples`` is under the user's (None before the user has said anything: there
        is nothing to compare with)."""
        user, level = self.level_db, speech_level_db(samples)
        return None if user is None or level is None else user - level
