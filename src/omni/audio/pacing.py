"""Feed recorded audio as a live source would: in small pieces at real-time pace."""

from __future__ import annotations

from collections.abc import Callable

from omni.clock import Clock
from omni.types import AudioChunk

STEP_SECONDS = 0.02


async def feed_in_real_time(
    push: Callable[[AudioChunk], None], clock: Clock, audio: AudioChunk, *, start: float | None = None
) -> None:
    """Hand ``audio`` to ``push`` in 20 ms pieces the way a microphone does: each when its last sample has been
    spoken, counting from ``start`` (default: now)."""
    begin = clock.now() if start is None else start
    step = round(STEP_SECONDS * audio.sample_rate)
    for index, offset in enumerate(range(0, len(audio.samples), step)):
        await clock.sleep(begin + (index + 1) * STEP_SECONDS - clock.now())
        push(AudioChunk(audio.samples[offset : offset + step], audio.sample_rate))
