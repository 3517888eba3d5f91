"""Silero VAD on real audio: Piper speech, silence, quiet white noise."""

from __future__ import annotations

import numpy as np
import pytest

from omni.backends import registry
from omni.backends.base import VAD
from omni.backends.silero_vad import SileroVAD, create
from omni.config import Settings
from omni.errors import ConfigError
from omni.types import Samples
from tests import speech

pytestmark = pytest.mark.models


@pytest.fixture(scope="session")
def vad() -> SileroVAD:
    return SileroVAD(16000)


def frame_probabilities(vad: VAD, samples: Samples) -> np.ndarray:
    vad.reset()
    count = len(samples) // vad.frame_samples
    frames = samples[: count * vad.frame_samples].reshape(count, vad.frame_samples)
    return np.array([vad.probability(frame) for frame in frames])


def test_frame_is_32_ms(vad: SileroVAD) -> None:
    assert vad.sample_rate == 16000
    assert vad.frame_samples == 512
    assert SileroVAD(8000).frame_samples == 256


def test_speech_is_detected(vad: SileroVAD, english_speech_16k: Samples) -> None:
    probabilities = frame_probabilities(vad, english_speech_16k)
    assert len(probabilities) > 50
    assert np.mean(probabilities > 0.5) > 0.7


def test_silence_is_not_speech(vad: SileroVAD) -> None:
    probabilities = frame_probabilities(vad, speech.silence(2.0, 16000))
    assert probabilities.max() < 0.2


@pytest.mark.parametrize("dbfs", [-60.0, -45.0])
def test_quiet_white_noise_is_not_speech(vad: SileroVAD, dbfs: float) -> None:
    probabilities = frame_probabilities(vad, speech.white_noise(3.0, 16000, dbfs=dbfs, seed=int(-dbfs)))
    assert np.mean(probabilities > 0.5) < 0.05
    assert probabilities.mean() < 0.2


def test_speech_between_silences_is_found_where_it_is(vad: SileroVAD, english_speech_16k: Samples) -> None:
    clip = speech.concat(1.0, english_speech_16k, 1.0, sample_rate=16000)
    probabilities = frame_probabilities(vad, clip)
    frame_s = vad.frame_samples / 16000
    speaking = np.nonzero(probabilities > 0.5)[0] * frame_s
    speech_end = 1.0 + len(english_speech_16k) / 16000
    assert speaking.min() == pytest.approx(1.0, abs=0.3)
    assert speaking.max() == pytest.approx(speech_end, abs=0.4)
    lead = probabilities[: int(0.8 / frame_s)]
    assert lead.max() < 0.2


def test_reset_starts_an_independent_stream(vad: SileroVAD, english_speech_16k: Samples) -> None:
    first = frame_probabilities(vad, english_speech_16k)
    again = frame_probabilities(vad, english_speech_16k)
    np.testing.assert_array_equal(first, again)
    # Without a reset the state of the previous clip carries into the next one.
    count = len(first)
    carried = np.array([
        vad.probability(english_speech_16k[i * vad.frame_samples : (i + 1) * vad.frame_samples])
        for i in range(count)
    ])
    assert not np.array_equal(first, carried)


def test_frames_of_the_wrong_size_are_refused(vad: SileroVAD) -> None:
    with pytest.raises(ValueError, match="512 samples"):
        vad.probability(np.zeros(480, dtype=np.float32))


def test_unsupported_sample_rate_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="16000 or 8000"):
        SileroVAD(44100)


def test_factory_and_registry_build_it() -> None:
    settings = Settings(models_dir=speech.models_dir())
    assert isinstance(create(settings), SileroVAD)
    built = registry.create("vad", "silero", settings)
    assert isinstance(built, SileroVAD)
    assert built.frame_samples == 512


def test_forks_keep_concurrent_streams_apart(vad: SileroVAD, english_speech_16k: Samples) -> None:
    """Sessions on one server each fork the VAD: interleaving two streams frame by frame must not change either."""
    alone = frame_probabilities(vad.fork(), english_speech_16k)
    first, second = vad.fork(), vad.fork()
    other = np.random.default_rng(3).standard_normal(len(english_speech_16k)).astype(np.float32) * 0.05
    size = vad.frame_samples
    interleaved = []
    for start in range(0, len(english_speech_16k) - size + 1, size):
        interleaved.append(first.probability(english_speech_16k[start : start + size]))
        second.probability(other[start : start + size])
    assert np.allclose(interleaved, alone[: len(interleaved)], atol=1e-5)
    assert first is not vad and second is not first
