"""EchoCanceller on real speech: espeak-ng's voice played on a simulated open speaker (a delay, an attenuation and a
50 ms room) comes back cancelled, so the Silero VAD hears no speech in it, while another voice talking over it (double
talk) is still found; and the same echo uncancelled does start a turn, so these tests can fail.

Numeric, not timing-based: the canceller is given the streams in chunks in the order a speaker and a microphone
callback would, with no clock involved. Measured margins (docs/echo.md): 34-44 dB of echo removed where 20 are asked,
Silero's speech probability at most 0.05 on the cancelled echo where two frames at 0.5 start a turn.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import numpy as np
import pytest

from omni.audio import devices
from omni.audio.echo_canceller import EchoCanceller
from omni.backends.silero_vad import SileroVAD
from omni.errors import ConfigError
from omni.types import AudioChunk, Samples
from tests import speech
from tests.fakes.sound_device import FakeSoundDevice

RATE = 16000
SPEAKER_RATE = 24000
SPEAKER_BLOCK = 480  # omni talk: 20 ms blocks to the speaker at 24 kHz
MIC_BLOCK = 320  # and from the microphone at 16 kHz
CONVERGED_S = 2.0  # the canceller has learned the echo path by then
MIN_ERLE_DB = 20.0  # measured 34-44 dB on these signals
NEAR_STARTS_S = 4.0  # the user starts talking over the reply here

REPLY = ("The weather today is mild with a light breeze from the west. Tomorrow brings rain in the morning, "
         "clearing by the afternoon, with highs near twenty degrees.")
USER = "Stop please, I want to ask about something else."


@dataclass(frozen=True)
class EchoPath:
    delay_ms: float
    gain_db: float
    seed: int

    def apply(self, played: Samples) -> Samples:
        """What the microphone picks up of ``played`` (at 16 kHz): delayed, attenuated and reverberated."""
        delay = round(self.delay_ms / 1000 * RATE)
        delayed = np.concatenate([np.zeros(delay, dtype=np.float32), played])[: len(played)]
        echo = np.convolve(delayed, room_response(self.seed))[: len(played)]
        return (echo * 10 ** (self.gain_db / 20)).astype(np.float32)


def room_response(seed: int, seconds: float = 0.05) -> Samples:
    """A short synthetic room: the direct sound, then exponentially decaying noise (-60 dB at ``seconds``)."""
    rng = np.random.default_rng(seed)
    n = round(seconds * RATE)
    response = rng.standard_normal(n) * np.exp(-np.arange(n) * 6.9 / n)
    response[0] = 1.0 + abs(response[0])
    normalised: Samples = (response / np.sqrt(np.sum(response**2))).astype(np.float32)
    return normalised


PATHS = [EchoPath(delay_ms=30, gain_db=-6, seed=1), EchoPath(delay_ms=150, gain_db=0, seed=2)]


@pytest.fixture(scope="module")
def reply(tmp_path_factory: pytest.TempPathFactory) -> Samples:
    """Omni's voice: espeak-ng's American English male voice, at 16 kHz, with a second of silence after it."""
    path = speech.espeak_wav(REPLY, tmp_path_factory.mktemp("echo") / "reply.wav", voice="en-us")
    samples, rate = speech.read_wav(path)
    return speech.with_silence(speech.resample_for_fixture(samples, rate, RATE), RATE, after_s=1.0)


@pytest.fixture(scope="module")
def user(tmp_path_factory: pytest.TempPathFactory) -> Samples:
    """The user: another voice (espeak-ng's British English female variant) and sentence, at 16 kHz."""
    path = speech.espeak_wav(USER, tmp_path_factory.mktemp("echo") / "user.wav", voice="en-gb+f3")
    samples, rate = speech.read_wav(path)
    return speech.resample_for_fixture(samples, rate, RATE)


@pytest.fixture(scope="module")
def vad() -> SileroVAD:
    return SileroVAD(RATE)


def talk(mic: Samples, played: Samples) -> Samples:
    """Run the canceller the way ``omni talk`` does: the speaker reports each 24 kHz block it plays, then the
    microphone block of the same 20 ms goes through; returns the cancelled microphone audio."""
    speaker = speech.resample_for_fixture(played, RATE, SPEAKER_RATE)
    canceller = EchoCanceller(RATE, far_rate=SPEAKER_RATE)
    out = []
    for block in range(len(mic) // MIC_BLOCK):
        playing = speaker[block * SPEAKER_BLOCK : (block + 1) * SPEAKER_BLOCK]
        if np.any(playing):  # the speaker reports only what it plays, not the silence between replies
            canceller.far(playing)
        out.append(canceller.near(mic[block * MIC_BLOCK : (block + 1) * MIC_BLOCK]))
    return np.concatenate(out)


def probabilities(vad: SileroVAD, samples: Samples) -> np.ndarray:
    vad.reset()
    frames = len(samples) // vad.frame_samples
    return np.array([vad.probability(samples[i * vad.frame_samples : (i + 1) * vad.frame_samples])
                     for i in range(frames)])


def speech_starts(probs: np.ndarray, threshold: float = 0.5, frames: int = 2) -> list[int]:
    """Frames where a turn would start: ``frames`` in a row at ``threshold`` or more, as the session's endpointer
    asks by default (0.5 for 64 ms: two 32 ms Silero frames)."""
    starts, run = [], 0
    for index, p in enumerate(probs):
        run = run + 1 if p >= threshold else 0
        if run == frames:
            starts.append(index - frames + 1)
    return starts


def level(samples: Samples) -> float:
    return float(np.mean(np.square(samples, dtype=np.float64)))


def noise_floor(samples: Samples, seed: int) -> Samples:
    """The microphone's own hiss, -65 dBFS."""
    return speech.white_noise(len(samples) / RATE, RATE, dbfs=-65.0, seed=seed)[: len(samples)]


@pytest.mark.parametrize("path", PATHS, ids=lambda p: f"{p.delay_ms:g}ms{p.gain_db:+g}dB")
def test_the_echo_alone_is_cancelled_and_starts_no_turn(vad: SileroVAD, reply: Samples, path: EchoPath) -> None:
    echo = path.apply(reply)
    mic = echo + noise_floor(echo, path.seed)
    assert speech_starts(probabilities(vad, mic)), "the uncancelled echo must start a turn, or this test proves nothing"

    cleaned = talk(mic, reply)

    assert len(cleaned) == len(mic) // MIC_BLOCK * MIC_BLOCK
    after = round(CONVERGED_S * RATE)
    erle = 10 * np.log10(level(echo[after : len(cleaned)]) / level(cleaned[after:]))
    assert erle >= MIN_ERLE_DB, f"echo reduced by {erle:.1f} dB only"
    probs = probabilities(vad, cleaned)
    assert speech_starts(probs) == [], f"the cancelled echo started a turn (max speech probability {probs.max():.2f})"


@pytest.mark.parametrize("path", PATHS, ids=lambda p: f"{p.delay_ms:g}ms{p.gain_db:+g}dB")
def test_a_user_talking_over_the_echo_is_heard(vad: SileroVAD, reply: Samples, user: Samples, path: EchoPath) -> None:
    echo = path.apply(reply)
    start = round(NEAR_STARTS_S * RATE)
    assert start + len(user) < len(reply) - RATE, "the user must talk while the reply is still playing"
    voice = np.zeros_like(echo)
    # as loud at the microphone as the echo is while both sound
    voice[start : start + len(user)] = user * np.sqrt(level(echo[start : start + len(user)]) / level(user))
    mic = echo + voice + noise_floor(echo, path.seed)

    probs = probabilities(vad, talk(mic, reply))

    frame = vad.frame_samples
    first, last = start // frame, (start + len(user)) // frame
    clean_starts = speech_starts(probabilities(vad, voice))
    assert clean_starts and first <= clean_starts[0] < last
    starts = speech_starts(probs)
    assert starts, "the user's speech over the echo started no turn"
    assert starts[0] >= first, "a turn started before the user spoke: the echo got through"
    # measured 64-384 ms after the turn starts on the clean voice: the canceller holds back the first syllable
    assert (starts[0] - clean_starts[0]) * frame / RATE <= 0.5, "the user was heard late"
    heard = np.mean(probs[first:last] >= 0.5) / np.mean(probabilities(vad, voice)[first:last] >= 0.5)
    assert heard >= 0.6, f"only {heard:.0%} of the user's speech frames were heard over the echo"


def test_with_nothing_played_the_microphone_passes(vad: SileroVAD, user: Samples) -> None:
    mic = speech.concat(0.5, user, 0.5, sample_rate=RATE)
    canceller = EchoCanceller(RATE)
    cleaned = np.concatenate([canceller.near(mic[i : i + 500]) for i in range(0, len(mic), 500)])
    assert len(cleaned) == len(mic) // 160 * 160
    assert speech_starts(probabilities(vad, cleaned))
    # a high-pass filter is all that is applied: the speech keeps its level
    assert abs(10 * np.log10(level(cleaned) / level(mic[: len(cleaned)]))) < 1.0


def test_chunks_of_any_length_come_out_in_whole_frames() -> None:
    canceller = EchoCanceller(RATE)
    assert canceller.frame_samples == 160
    assert len(canceller.near(np.zeros(100, dtype=np.float32))) == 0
    assert len(canceller.near(np.zeros(100, dtype=np.float32))) == 160  # 200 so far: one frame, 40 wait
    assert len(canceller.near(np.zeros(280, dtype=np.float32))) == 320
    out = canceller.near(np.zeros(1000, dtype=np.float32))
    assert len(out) == 960 and out.dtype == np.float32


def test_the_reference_waits_for_the_microphone_and_is_bounded() -> None:
    canceller = EchoCanceller(RATE, far_rate=SPEAKER_RATE, max_far_seconds=1.0)
    canceller.far(np.full(SPEAKER_RATE // 2, 0.1, dtype=np.float32))
    assert canceller.pending_far_seconds() == pytest.approx(0.5)
    canceller.near(np.zeros(RATE // 10, dtype=np.float32))  # 100 ms of microphone takes 100 ms of reference
    assert canceller.pending_far_seconds() == pytest.approx(0.4)
    canceller.far(np.full(SPEAKER_RATE * 3, 0.1, dtype=np.float32))
    assert canceller.pending_far_seconds() == pytest.approx(1.0)  # the oldest went
    canceller.near(np.zeros(RATE * 2, dtype=np.float32))
    assert canceller.pending_far_seconds() == 0.0  # ran out: silence from here on


@pytest.mark.parametrize(("rate", "far_rate"), [(22050, None), (16000, 22050), (0, None)])
def test_rates_without_whole_10ms_frames_are_refused(rate: int, far_rate: int | None) -> None:
    with pytest.raises(ConfigError, match="10 ms"):
        EchoCanceller(rate, far_rate=far_rate)


def test_the_same_input_gives_the_same_output(reply: Samples) -> None:
    """The canceller is deterministic: these tests fail or pass the same way on every run."""
    mic = PATHS[0].apply(reply)[: 3 * RATE]
    np.testing.assert_array_equal(talk(mic, reply[: 3 * RATE]), talk(mic, reply[: 3 * RATE]))


async def test_omni_talk_wiring_cancels_what_the_speaker_plays(
    monkeypatch: pytest.MonkeyPatch, vad: SileroVAD, reply: Samples
) -> None:
    """SpeakerOutput and Microphone joined by an EchoCanceller as ``omni talk`` joins them, on a fake sound card:
    the reply written to the speaker comes back through the room and is cancelled before it reaches the session."""
    sound = FakeSoundDevice()
    monkeypatch.setattr(devices, "_sounddevice", lambda: sound)
    echo = EchoCanceller(RATE, far_rate=SPEAKER_RATE)
    speaker = devices.SpeakerOutput(SPEAKER_RATE, on_played=echo.far)
    heard: list[AudioChunk] = []
    microphone = devices.Microphone(heard.append, process=echo.near, sample_rate=RATE)
    speaker_stream, mic_stream = sound.streams
    assert (speaker_stream.blocksize, mic_stream.blocksize) == (SPEAKER_BLOCK, MIC_BLOCK)

    await speaker.write(AudioChunk(speech.resample_for_fixture(reply, RATE, SPEAKER_RATE), SPEAKER_RATE))
    mic = PATHS[1].apply(reply)  # what the room brings back of the reply, which plays from the first block
    for block in range(len(mic) // MIC_BLOCK):
        out = np.zeros((SPEAKER_BLOCK, 1), dtype=np.float32)
        speaker_stream.callback(out, SPEAKER_BLOCK, None, None)
        mic_stream.callback(mic[block * MIC_BLOCK : (block + 1) * MIC_BLOCK, None], MIC_BLOCK, None, None)
    await asyncio.sleep(0)  # the microphone hands its blocks to the event loop
    microphone.close()
    speaker.close()

    cleaned = np.concatenate([chunk.samples for chunk in heard])
    mic = mic[: len(mic) // MIC_BLOCK * MIC_BLOCK]
    assert all(chunk.sample_rate == RATE for chunk in heard) and len(cleaned) == len(mic)
    assert speech_starts(probabilities(vad, mic))
    after = round(CONVERGED_S * RATE)
    assert 10 * np.log10(level(mic[after:]) / level(cleaned[after:])) >= MIN_ERLE_DB
    assert speech_starts(probabilities(vad, cleaned)) == []
