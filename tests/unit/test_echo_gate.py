"""EchoGate: microphone audio no louder than recent playback is muted; a user speaking up gets through."""

from __future__ import annotations

import numpy as np

from omni.audio.echo_gate import EchoGate
from omni.types import Samples

RATE = 16000


def tone(amplitude: float, hz: float = 220.0, seconds: float = 0.03) -> Samples:
    t = np.arange(round(seconds * RATE)) / RATE
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def passes(gate: EchoGate, mic: Samples) -> bool:
    out = gate.filter(mic)
    assert out.shape == mic.shape and out.dtype == mic.dtype
    if np.array_equal(out, mic):
        return True
    assert not np.any(out), "the gate either passes a frame or mutes all of it"
    return False


def test_everything_passes_when_nothing_has_played() -> None:
    gate = EchoGate()
    assert passes(gate, tone(0.001))
    assert passes(gate, tone(0.5))


def test_everything_passes_while_only_silence_plays() -> None:
    gate = EchoGate()
    for _ in range(5):
        gate.silent()
        gate.played(np.zeros(480, dtype=np.float32))
    assert passes(gate, tone(0.01))


def test_mic_quieter_than_playback_plus_margin_is_muted() -> None:
    gate = EchoGate(margin_db=6.0)
    gate.played(tone(0.2))
    assert not passes(gate, tone(0.1))  # the echo, quieter than the speaker
    assert not passes(gate, tone(0.3))  # +3.5 dB: within the margin
    assert passes(gate, tone(0.5))  # +8 dB: the user speaking up


def test_margin_is_configurable() -> None:
    playback, mic = tone(0.2), tone(0.3)  # mic is 3.5 dB louder
    strict, lenient = EchoGate(margin_db=6.0), EchoGate(margin_db=3.0)
    strict.played(playback)
    lenient.played(playback)
    assert not passes(strict, mic)
    assert passes(lenient, mic)


def test_the_loudest_recent_playback_is_the_reference() -> None:
    gate = EchoGate()
    gate.played(tone(0.4))
    gate.played(tone(0.05))
    gate.silent()
    assert not passes(gate, tone(0.3))


def test_the_gate_opens_once_playback_is_older_than_its_memory() -> None:
    gate = EchoGate(memory=3)
    gate.played(tone(0.4))
    gate.silent()
    gate.silent()
    assert not passes(gate, tone(0.1))
    gate.silent()  # the loud frame is now three frames old and forgotten
    assert passes(gate, tone(0.1))
