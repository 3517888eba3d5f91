"""The server's echo cancelling on a virtual clock: a session's own reply, played by a client in real time and heard
back through a simulated open speaker, is found (GCC-PHAT) and cancelled out of the microphone audio before the VAD
hears it; a client on headphones (no echo) gets its microphone audio through untouched, so a user talking over the
reply is heard whole. Real speech (espeak-ng), a real Silero VAD and WebRTC's canceller; numbers, not timings."""

from __future__ import annotations

import numpy as np
import pytest

from omni.audio.echo_presence import EchoPresence
from omni.backends.silero_vad import SileroVAD
from omni.clock import VirtualClock
from omni.session.input_echo import CaptureClock, InputEcho
from omni.session.playout import PacedOutput
from omni.types import AudioChunk, Samples
from tests.unit.test_echo_canceller import RATE, EchoPath, noise_floor, probabilities, reply, speech_starts, user

__all__ = ["reply", "user"]  # module fixtures, shared with the canceller's tests

CHUNK = 320  # 20 ms pieces from the client, as the Realtime clients send them
PATHS = [EchoPath(delay_ms=60, gain_db=-6, seed=3), EchoPath(delay_ms=120, gain_db=-20, seed=4)]


@pytest.fixture(scope="module")
def vad() -> SileroVAD:
    return SileroVAD(RATE)


def pad_to(samples: Samples, size: int, *, at: int = 0) -> Samples:
    out = np.zeros(size, dtype=np.float32)
    piece = samples[: size - at]
    out[at : at + len(piece)] = piece
    return out


async def serve(mic: Samples, played: Samples, *, jitter: float = 0.0) -> tuple[Samples, InputEcho]:
    """The reply written to a :class:`PacedOutput` at time 0 (it plays in real time from there), and the microphone
    pushed through :class:`InputEcho` 20 ms at a time as the clock moves; returns what the VAD would hear. With
    ``jitter``, each piece arrives up to that many seconds after it was captured (in order, as over TCP)."""
    clock = VirtualClock()
    output = PacedOutput(clock, sample_rate=RATE)
    output.start_reply()
    await output.write(AudioChunk(played, RATE))
    echo = InputEcho(output, clock)
    delays = np.random.default_rng(8).uniform(0.0, jitter, len(mic) // CHUNK)
    heard = []
    for index, start in enumerate(range(0, len(mic) - CHUNK + 1, CHUNK)):
        arrives = (start + CHUNK) / RATE + delays[index]  # captured, then carried over the network
        await clock.advance(max(0.0, arrives - clock.now()))
        heard.append(echo.cancel(AudioChunk(mic[start : start + CHUNK], RATE)).samples)
    return np.concatenate(heard), echo


@pytest.mark.parametrize("path", PATHS, ids=lambda p: f"{p.delay_ms:g}ms{p.gain_db:+g}dB")
def test_the_echo_is_found_at_its_delay_and_unrelated_speech_or_noise_is_not(
        reply: Samples, user: Samples, path: EchoPath) -> None:
    echo = path.apply(reply)
    over = echo + pad_to(user, len(reply), at=RATE)
    for mic, expected in ((echo, True), (over, True), (pad_to(user, len(reply)), False),
                          (noise_floor(reply, 5) * 30, False)):
        presence = EchoPresence(RATE)
        found_at = decided_at = None
        for start in range(0, len(reply) - CHUNK + 1, CHUNK):
            presence.add(reply[start : start + CHUNK], mic[start : start + CHUNK])
            if not presence.undecided and decided_at is None:
                decided_at = start / RATE
            if presence.present and found_at is None:
                found_at = start / RATE
        assert presence.present == expected
        assert decided_at is not None and decided_at < 1.5, decided_at
        if expected:
            assert found_at is not None and found_at < 2.0, found_at


@pytest.mark.parametrize("jitter", [0.0, 0.02], ids=["steady", "jitter20ms"])
@pytest.mark.parametrize("path", PATHS, ids=lambda p: f"{p.delay_ms:g}ms{p.gain_db:+g}dB")
async def test_the_sessions_own_voice_heard_back_is_cancelled(
        vad: SileroVAD, reply: Samples, path: EchoPath, jitter: float) -> None:
    """Also when the microphone's pieces arrive late by varying amounts (a network, a busy event loop): each is
    paired with what played while it was captured, not when it arrived."""
    mic = path.apply(reply) + noise_floor(reply, 6)
    heard, echo = await serve(mic, reply, jitter=jitter)
    assert echo.heard
    assert speech_starts(probabilities(vad, mic)), "the echo uncancelled would start a turn"
    settled = 2 * RATE  # found, and the canceller has converged
    assert not speech_starts(probabilities(vad, heard[settled:]))


async def test_on_headphones_the_microphone_passes_untouched_and_the_user_is_heard(
        vad: SileroVAD, reply: Samples, user: Samples) -> None:
    """No echo to find: the canceller (which before it has found one suppresses whatever talks while the reply
    plays) is never applied, and the user talking over the reply comes through sample for sample."""
    mic = pad_to(user, len(reply), at=RATE) + noise_floor(reply, 7)
    heard, echo = await serve(mic, reply)
    assert not echo.heard
    assert np.array_equal(heard, mic[: len(heard)])
    assert speech_starts(probabilities(vad, heard))


def test_each_chunk_is_placed_by_the_microphones_own_clock_not_by_when_it_arrived() -> None:
    clock = CaptureClock()
    latencies = np.random.default_rng(5).uniform(0.005, 0.040, 200)  # network and event-loop delays
    latencies[0] = 0.030
    ends = [clock.captured(0.02 * (k + 1) + latency, 0.02)[1] for k, latency in enumerate(latencies)]
    late = np.array(ends) - 0.02 * np.arange(1, 201)  # placed this much after the true end of capture
    assert np.ptp(late[20:]) < 0.25 * np.ptp(latencies), "the arrival jitter is gone"
    assert late.min() >= latencies.min() - 1e-9 and late[-1] < latencies.min() + 0.005
    start, end = clock.captured(10.0 + 0.02 * 201, 0.02)  # the client stopped sending for a few seconds
    assert end == pytest.approx(10.0 + 0.02 * 201) and start == pytest.approx(end - 0.02)
