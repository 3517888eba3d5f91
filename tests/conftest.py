"""Shared fixtures: speech clips made once per test session (see ``tests/speech.py`` for how), and ``omni serve``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests import speech
from tests.cli.omni_server import omni_serve

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


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def server_url() -> AsyncIterator[str]:
    """A real ``omni serve`` on the embedded models, one per test module that asks for it."""
    async with omni_serve() as url:
        yield url
