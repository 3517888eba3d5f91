"""Where sound begins and ends in synthesised speech, and trimming the silence a voice puts around its words.

A voice starts every utterance with some silence (Piper: 30-50 ms) and ends it with more (150-300 ms). Before the
first word of a reply that silence is pure latency, so it is not sent; after a chunk that was cut inside a sentence
it would make the pause between the two halves longer than a speaker's pause at a phrase boundary.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import numpy as np

from omni.types import AudioChunk, Samples

SOUND_THRESHOLD = 0.01
"""A sample louder than this (-40 dBFS) is sound; the voices' silences stay far below it."""
LEAD_KEEP_SECONDS = 0.01
"""Kept before the first sound, so its onset is not cut."""


def first_sound(samples: Samples, threshold: float = SOUND_THRESHOLD) -> int | None:
    """Index of the first sample louder than ``threshold``, or None."""
    loud = np.flatnonzero(np.abs(samples) > threshold)
    return int(loud[0]) if len(loud) else None


def last_sound(samples: Samples, threshold: float = SOUND_THRESHOLD) -> int | None:
    """Index of the last sample louder than ``threshold``, or None."""
    loud = np.flatnonzero(np.abs(samples) > threshold)
    return int(loud[-1]) if len(loud) else None


async def trim_silence(
    pieces: AsyncIterator[AudioChunk], *, lead: bool, max_tail_seconds: float | None = None
) -> AsyncIterator[AudioChunk]:
    """The audio of one utterance, without its leading silence when ``lead`` (all but
    :data:`LEAD_KEEP_SECONDS`), and with at most ``max_tail_seconds`` of silence after its last sound.

    Trimming the tail holds back the last piece with sound in it, and the silent pieces after it, until sound
    follows or the utterance ends; a voice that yields a whole sentence at once, as Piper does, is not delayed.
    """
    tail: list[AudioChunk] = []
    heard = not lead
    async for piece in pieces:
        if not heard:
            start = first_sound(piece.samples)
            if start is None:
                continue
            heard = True
            keep = max(0, start - round(LEAD_KEEP_SECONDS * piece.sample_rate))
            piece = AudioChunk(piece.samples[keep:], piece.sample_rate)
        if max_tail_seconds is None:
            yield piece
        elif first_sound(piece.samples) is not None:
            for held in tail:
                yield held
            tail = [piece]
        else:
            tail.append(piece)
    if tail:
        assert max_tail_seconds is not None
        rate = tail[0].sample_rate
        samples = np.concatenate([piece.samples for piece in tail])
        end = last_sound(samples)
        if end is not None:
            samples = samples[: end + 1 + round(max_tail_seconds * rate)]
        yield AudioChunk(samples, rate)
