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


# played_between: what was playing at given clock times, the reference for an echo canceller on the server


async def test_played_between_gives_the_audio_that_was_playing_then() -> None:
    clock = VirtualClock()
    output = PacedOutput(clock)
    output.start_reply()
    await output.write(ramp(1.0, offset=0.0))
    await output.write(ramp(0.5, offset=10.0))  # queued: plays from 1.0 to 1.5
    await clock.advance(2.0)
    np.testing.assert_array_equal(output.played_between(0.25, 0.75, RATE), ramp(1.0).samples[250:750])
    across = output.played_between(0.9, 1.2, RATE)
    np.testing.assert_array_equal(across[:100], ramp(0.1, offset=0.9).samples)
    np.testing.assert_array_equal(across[100:], ramp(0.2, offset=10.0).samples)
    # nothing played after 1.5: silence, as before the first chunk
    np.testing.assert_array_equal(output.played_between(1.4, 1.8, RATE)[100:], np.zeros(300, dtype=np.float32))
    assert len(output.played_between(1.4, 1.8, RATE)) == 400
    assert not np.any(output.played_between(-1.0, 0.0, RATE))


async def test_a_gap_in_playback_reads_as_silence() -> None:
    clock = VirtualClock()
    output = PacedOutput(clock)
    await output.write(ramp(0.5, offset=1.0))
    await clock.advance(1.0)  # silence from 0.5 to 1.0
    await output.write(ramp(0.5, offset=2.0))
    await clock.advance(1.0)
    reference = output.played_between(0.0, 1.5, RATE)
    np.testing.assert_array_equal(reference[:500], ramp(0.5, offset=1.0).samples)
    assert not np.any(reference[500:1000])
    np.testing.assert_array_equal(reference[1000:], ramp(0.5, offset=2.0).samples)


async def test_what_has_not_played_yet_is_not_in_the_reference() -> None:
    clock = VirtualClock()
    output = PacedOutput(clock)
    await output.write(ramp(2.0, offset=1.0))
    await clock.advance(0.5)
    reference = output.played_between(0.25, 1.0, RATE)
    np.testing.assert_array_equal(reference[:250], ramp(0.25, offset=1.25).samples)
    assert not np.any(reference[250:])  # queued, and a clear may still drop it


async def test_cleared_audio_was_not_played() -> None:
    clock = VirtualClock()
    output = PacedOutput(clock)
    output.start_reply()
    await output.write(ramp(1.0, offset=1.0))
    await output.write(ramp(1.0, offset=2.0))
    await clock.advance(0.3)
    output.clear()
    await clock.advance(1.0)
    await output.write(ramp(0.5, offset=5.0))  # the next reply starts at once, where the cleared audio would be
    output.start_reply()  # a new reply does not forget what played before it
    await clock.advance(1.0)
    reference = output.played_between(0.0, 2.0, RATE)
    np.testing.assert_array_equal(reference[:300], ramp(0.3, offset=1.0).samples)
    assert not np.any(reference[300:1300])
    np.testing.assert_array_equal(reference[1300:1800], ramp(0.5, offset=5.0).samples)
    assert not np.any(reference[1800:])


async def test_the_reference_is_resampled_to_the_rate_asked_for() -> None:
    clock = VirtualClock()
    output = PacedOutput(clock, sample_rate=24000)
    t = np.arange(24000) / 24000
    await output.write(AudioChunk((0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 24000))
    await clock.advance(1.0)
    reference = output.played_between(0.25, 0.75)  # 16 kHz unless told
    assert reference.dtype == np.float32 and len(reference) == 8000
    expected = 0.5 * np.sin(2 * np.pi * 440 * (0.25 + np.arange(8000) / 16000))
    np.testing.assert_allclose(reference, expected, atol=0.01)


async def test_only_the_last_seconds_are_kept() -> None:
    clock = VirtualClock()
    output = PacedOutput(clock, history_seconds=2.0)
    for second in range(10):
        await output.write(ramp(1.0, offset=float(second)))
        await clock.advance(1.0)
    assert not np.any(output.played_between(0.0, 6.5, RATE))  # forgotten: more than 2 s ago
    np.testing.assert_array_equal(output.played_between(8.0, 9.0, RATE), ramp(1.0, offset=8.0).samples)
    assert len(output._history) <= 3
    assert output.played_audio() == []  # independent of record
