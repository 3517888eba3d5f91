"""A tone TTS for benchmarks and demos: "speech" made at once, a quiet tone as long as the words would take to say.

``omni bench --suite scale`` uses it so that replies cost nothing to synthesise. The audio is a 220 Hz tone at
-20 dBFS with 10 ms fades, 24 kHz mono, 0.3 s a word (about 200 words a minute, divided by the speed), so it is
audible to anything that looks for sound (and clearly not a voice). One chunk per call.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import numpy as np

from omni.backends.base import TTS
from omni.config import Settings
from omni.types import AudioChunk, Samples

SAMPLE_RATE = 24000
WORD_SECONDS = 0.3
LEVEL = 0.1
FREQUENCY = 220.0
FADE_SECONDS = 0.01


def tone(seconds: float, rate: int = SAMPLE_RATE) -> Samples:
    """The tone, ``seconds`` long, faded in and out."""
    count = max(0, round(seconds * rate))
    samples = (LEVEL * np.sin(2 * np.pi * FREQUENCY * np.arange(count) / rate)).astype(np.float32)
    fade = min(round(FADE_SECONDS * rate), count // 2)
    if fade:
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        samples[:fade] *= ramp
        samples[count - fade:] *= ramp[::-1]
    return samples


class ToneTTS(TTS):
    sample_rate = SAMPLE_RATE

    def __init__(self, *, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self.speed = speed

    def __repr__(self) -> str:
        return f"ToneTTS(speed={self.speed})"

    def voices(self) -> Sequence[str]:
        return ("tone",)

    def seconds_for(self, text: str, speed: float = 1.0) -> float:
        """How long ``text`` lasts: :data:`WORD_SECONDS` a word at this voice's and the call's speed."""
        return len(text.split()) * WORD_SECONDS / (self.speed * speed)

    async def _synthesize(
        self, text: str, voice: str | None, language: str | None, speed: float
    ) -> AsyncIterator[AudioChunk]:
        seconds = self.seconds_for(text, speed)
        if seconds > 0:
            yield AudioChunk(tone(seconds), SAMPLE_RATE)


def create(settings: Settings) -> ToneTTS:
    return ToneTTS(speed=settings.tts.speed)
