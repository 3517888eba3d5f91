"""The input buffer: frames across odd chunk sizes, taking a turn's span, and bounded memory while idle."""

from __future__ import annotations

import numpy as np

from omni.session.input_audio import InputAudio
from omni.types import AudioChunk
from tests.fakes.backends import silence
from tests.session.harness import make_harness


def ramp(start: int, count: int) -> AudioChunk:
    return AudioChunk(np.arange(start, start + count, dtype=np.float32), 16000)


def test_frames_are_contiguous_across_odd_chunk_sizes() -> None:
    buffer = InputAudio(frame_samples=512)
    frames = []
    position = 0
    for size in (100, 700, 3, 1500, 211):
        frames += buffer.append(ramp(position, size))
        position += size
    assert len(frames) == position // 512
    joined = np.concatenate([f for f, _, _ in frames])
    assert np.array_equal(joined, np.arange(len(joined), dtype=np.float32))
    assert [round(s) for _, s, _ in frames] == [i * 32 for i in range(len(frames))]


def test_take_returns_the_span_and_keeps_what_follows() -> None:
    buffer = InputAudio(frame_samples=512)
    buffer.append(ramp(0, 16000))  # one second
    span = buffer.take(250, 500)
    assert np.array_equal(span, np.arange(4000, 8000, dtype=np.float32))
    assert buffer.start_ms == 500 and buffer.end_ms == 1000
    assert np.array_equal(buffer.take(), np.arange(8000, 16000, dtype=np.float32))


def test_max_seconds_bounds_the_buffer() -> None:
    buffer = InputAudio(frame_samples=512, max_seconds=2.0)
    for second in range(10):
        buffer.append(ramp(second * 16000, 16000))
    assert buffer.end_ms - buffer.start_ms <= 2000


async def test_idle_listening_keeps_only_what_can_start_a_turn() -> None:
    h = make_harness([], [])
    await h.feed(silence(30.0))
    kept_ms = h.session.buffered_input_seconds * 1000
    assert kept_ms <= 300 + 100 + 1000 + 20  # prefix padding, minimum speech, margin, one chunk
