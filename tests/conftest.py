"""Shared fixtures: speech clips made once per test session (see ``tests/speech.py`` for how)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import speech

ENGLISH_SENTENCE = "The quick brown fox jumps over the lazy dog near the river bank."


@pytest.fixture(scope="session")
def speech_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder for speech files made during the session."""
    return tmp_path_factory.mktemp("speech")


@pytest.fixture(scope="session")
def english_speech_16k() -> speech.Samples:
    """:data:`ENGLISH_SENTENCE` spoken by the Piper joe-us voice, at 16 kHz, without leading silence added."""
    samples, rate = speech.piper_samples(ENGLISH_SENTENCE)
    return speech.resample_for_fixture(samples, rate, 16000)
