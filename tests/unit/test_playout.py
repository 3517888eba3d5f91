"""PacedOutput plays on the session clock (virtual here); CollectingOutput counts everything written as played."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from omni.clock import VirtualClock
from omni.session.playout import CollectingOutput, PacedOutput
from omni.types import AudioChunk

RATE = 1000


def ramp(seconds: float, offset: float = 0.0) -> AudioChunk:
    """Audio whose sample values tell where they came from: offset + index / RATE."""
    return AudioChunk((offset + np.arange(round(seconds * RATE)) / RATE).astype(np.float32), RATE)


async def test_played_seconds_follows_the_clock() -> None:
    clock = VirtualClock()
    output = PacedOutput(clock)
    output.start_reply()
    await output.write(ramp(1.0))
    await output.write(ramp(0.5))  # queued behind the first chunk
    assert output.played_seconds() == 0.0
    assert output.is_playing()
    await clock.advance(0.4)
    assert output.played_seconds() == pytest.approx(0.4)
    await clock.advance(0.8)
    assert output.played_seconds() == pytest.approx(1.2)
    await clock.advance(5.0)
    assert output.played_seconds() == pytest.approx(1.5)
    assert not output.is_playing()


async def test_a_gap_between_chunks_is_not_counted_as_played() -> None:
    clock = VirtualClock()
    output = PacedOutput(clock)
    output.start_reply()
    await output.write(ramp(1.0))
    await clock.advance(3.0)  # the first chunk ended at 1.0; nothing played for two seconds
    await output.write(ramp(1.0))
    await clock.advance(0.25)
    assert output.played_seconds() == pytest.approx(1.25)


async def test_start_reply_counts_from_zero_again() -> None:
    clock = VirtualClock()
    output = PacedOutput(clock)
    output.start_reply()
    await output.write(ramp(1.0))
    await clock.advance(2.0)
    output.start_reply()
    assert output.played_seconds() == 0.0
    await output.write(ramp(1.0))
    await clock.advance(0.5)
    assert output.played_seconds() == pytest.approx(0.5)


async def test_clear_drops_queued_audio_and_stops_at_once() -> None:
    clock = VirtualClock()
    sent: list[AudioChunk] = []
    output = PacedOutput(clock, sink=sent.append)
    output.start_reply()
    await output.write(ramp(1.0))
    await output.write(ramp(1.0))
    assert len(sent) == 2  # the sink gets each chunk as it is written
    await clock.advance(0.3)
    output.clear()
    assert not output.is_playing()
    await clock.advance(5.0)
    assert output.played_seconds() == pytest.approx(0.3)
    # audio written after a clear starts now, not after the dropped audio
    await output.write(ramp(1.0))
    assert output.is_playing()
    await clock.advance(0.5)
    assert output.played_seconds() == pytest.approx(0.8)


async def test_wait_done_returns_when_the_audio_has_played() -> None:
    clock = VirtualClock()
    output = PacedOutput(clock)
    await output.write(ramp(1.5))
    waiter = asyncio.create_task(output.wait_done())
    await clock.advance(1.4)
    assert not waiter.done()
    await clock.advance(0.2)
    assert waiter.done()
    await waiter


async def test_wait_done_returns_after_a_clear() -> None:
    clock = VirtualClock()
    output = PacedOutput(clock)
    await output.write(ramp(10.0))
    await clock.advance(1.0)
    output.clear()
    await asyncio.wait_for(output.wait_done(), timeout=1.0)


async def test_recorded_audio_ends_where_playback_was_stopped() -> None:
    clock = VirtualClock()
    output = PacedOutput(clock, record=True)
    output.start_reply()
    await output.write(ramp(1.0, offset=0.0))
    await output.write(ramp(1.0, offset=10.0))
    await output.write(ramp(1.0, offset=20.0))
    await clock.advance(1.25)
    output.clear()
    await clock.advance(3.0)
    played = output.played_audio()
    assert [len(chunk.samples) for chunk in played] == [1000, 250]
    np.testing.assert_array_equal(played[0].samples, ramp(1.0).samples)
    np.testing.assert_array_equal(played[1].samples, ramp(0.25, offset=10.0).samples)
    assert all(chunk.sample_rate == RATE for chunk in played)


def test_without_record_there_is_no_recorded_audio() -> None:
    assert PacedOutput(VirtualClock()).played_audio() == []


async def test_collecting_output_counts_everything_written_as_played() -> None:
    output = CollectingOutput(sample_rate=24000)
    output.start_reply()
    first, second = ramp(1.0), ramp(0.5)
    await output.write(first)
    await output.write(second)
    assert output.played_seconds() == pytest.approx(1.5)
    assert not output.is_playing()
    output.clear()  # nothing is queued, so nothing is lost
    assert output.played_seconds() == pytest.approx(1.5)
    assert output.played_audio() == [first, second]
    output.start_reply()
    assert output.played_seconds() == 0.0
    await output.write(ramp(0.25))
    assert output.played_seconds() == pytest.approx(0.25)
    assert len(output.played_audio()) == 3
    await output.wait_done()
