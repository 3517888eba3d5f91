"""Trimming the silence around synthesised speech: the lead-in before a reply's first word, the pause after a
phrase; pieces keep their order and nothing with sound in it is lost."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import numpy as np

from omni.audio.silence import LEAD_KEEP_SECONDS, first_sound, last_sound, trim_silence
from omni.types import AudioChunk

RATE = 1000


def _piece(*parts: tuple[float, float]) -> AudioChunk:
    """Seconds of (amplitude, duration) runs."""
    return AudioChunk(np.concatenate([np.full(round(d * RATE), a, np.float32) for a, d in parts]), RATE)


async def _stream(pieces: Sequence[AudioChunk]) -> AsyncIterator[AudioChunk]:
    for piece in pieces:
        yield piece


async def _trimmed(pieces: Sequence[AudioChunk], *, lead: bool, tail: float | None = None) -> list[AudioChunk]:
    return [p async for p in trim_silence(_stream(pieces), lead=lead, max_tail_seconds=tail)]


def test_first_and_last_sound() -> None:
    samples = _piece((0.0, 0.1), (0.5, 0.2), (0.0, 0.3)).samples
    assert (first_sound(samples), last_sound(samples)) == (100, 299)
    assert first_sound(np.zeros(10, np.float32)) is None and last_sound(np.zeros(10, np.float32)) is None


async def test_lead_in_silence_is_dropped_across_pieces() -> None:
    out = await _trimmed([_piece((0.0, 0.05)), _piece((0.0, 0.04), (0.5, 0.1), (0.0, 0.2))], lead=True)
    assert len(out) == 1
    kept = round(LEAD_KEEP_SECONDS * RATE)
    assert first_sound(out[0].samples) == kept and len(out[0].samples) == kept + 100 + 200


async def test_without_lead_everything_passes_unchanged() -> None:
    pieces = [_piece((0.0, 0.05)), _piece((0.5, 0.1))]
    out = await _trimmed(pieces, lead=False)
    assert [len(p.samples) for p in out] == [50, 100]


async def test_the_tail_is_capped_even_when_it_spans_several_pieces() -> None:
    pieces = [_piece((0.5, 0.1)), _piece((0.0, 0.02), (0.5, 0.1), (0.0, 0.1)), _piece((0.0, 0.2)), _piece((0.0, 0.1))]
    out = await _trimmed(pieces, lead=False, tail=0.12)
    joined = np.concatenate([p.samples for p in out])
    assert len(joined) == 100 + 20 + 100 + 120
    assert len(out[0].samples) == 100, "a piece followed by sound is passed on as it was"


async def test_silence_inside_the_speech_is_kept() -> None:
    pieces = [_piece((0.5, 0.1), (0.0, 0.3)), _piece((0.0, 0.3)), _piece((0.5, 0.1), (0.0, 0.5))]
    out = await _trimmed(pieces, lead=True, tail=0.1)
    joined = np.concatenate([p.samples for p in out])
    assert len(joined) == 100 + 600 + 100 + 100, "sound at the very start: nothing before it to drop"
    assert last_sound(joined) == 799
