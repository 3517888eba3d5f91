"""``omni talk``'s speaker while speech is held: it pauses at once, keeps its place, and goes on if the speech was no
turn; a turn clears it (on a fake sound card)."""

from __future__ import annotations

import numpy as np
import pytest

from omni.audio import devices
from omni.cli.talk import pause_while_held
from omni.events import SpeechHeld, SpeechIgnored
from omni.types import AudioChunk
from tests.fakes.sound_device import FakeSoundDevice, FakeStream

RATE = 24000
BLOCK = 480


def play(stream: FakeStream, blocks: int) -> np.ndarray:
    """What the sound card plays in ``blocks`` callbacks."""
    out = []
    for _ in range(blocks):
        buffer = np.zeros((BLOCK, 1), dtype=np.float32)
        stream.callback(buffer, BLOCK, None, None)
        out.append(buffer[:, 0].copy())
    return np.concatenate(out)


async def test_held_speech_pauses_the_reply_and_no_turn_resumes_it_where_it_was(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sound = FakeSoundDevice()
    monkeypatch.setattr(devices, "_sounddevice", lambda: sound)
    speaker = devices.SpeakerOutput(RATE, block=BLOCK)
    control = pause_while_held(speaker)
    reply = (np.arange(1, 10 * BLOCK + 1) / (10 * BLOCK)).astype(np.float32)  # every sample tells its place
    await speaker.write(AudioChunk(reply, RATE))
    (stream,) = sound.streams

    before = play(stream, 2)
    control(SpeechHeld(at=0.0, audio_start_ms=100))
    paused = play(stream, 3)
    assert speaker.played_seconds() == 2 * BLOCK / RATE and speaker.is_playing()
    control(SpeechIgnored(at=0.0, audio_start_ms=100, audio_end_ms=400, text="Mm-hm."))
    after = play(stream, 8)
    speaker.close()

    assert not paused.any()
    np.testing.assert_array_equal(np.concatenate([before, after[: 8 * BLOCK]]), reply)
    assert not speaker.is_playing()


async def test_a_held_turn_clears_the_paused_reply_and_the_next_one_plays(monkeypatch: pytest.MonkeyPatch) -> None:
    sound = FakeSoundDevice()
    monkeypatch.setattr(devices, "_sounddevice", lambda: sound)
    speaker = devices.SpeakerOutput(RATE, block=BLOCK)
    control = pause_while_held(speaker)
    await speaker.write(AudioChunk(np.full(4 * BLOCK, 0.5, dtype=np.float32), RATE))
    (stream,) = sound.streams
    play(stream, 1)
    control(SpeechHeld(at=0.0, audio_start_ms=100))
    speaker.clear()  # the held speech was a turn: the session stops the reply

    speaker.start_reply()
    await speaker.write(AudioChunk(np.full(BLOCK, 0.25, dtype=np.float32), RATE))
    played = play(stream, 2)
    speaker.close()
    np.testing.assert_array_equal(played[:BLOCK], 0.25)
    assert not played[BLOCK:].any()
