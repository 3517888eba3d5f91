"""The real embedded models, loaded once per test session and shared by every model test."""

from __future__ import annotations

import pytest

from omni.backends import registry
from omni.backends.base import LLM, TTS, VAD
from omni.backends.kokoro_tts import KokoroTTS
from omni.backends.language_tts import LanguageTTS
from omni.backends.whisper_stt import WhisperSTT
from omni.config import Settings
from tests import speech


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings(models_dir=speech.models_dir())


@pytest.fixture(scope="session")
def stt(settings: Settings) -> WhisperSTT:
    backend = registry.create("stt", "whisper", settings)
    assert isinstance(backend, WhisperSTT)
    return backend


@pytest.fixture(scope="session")
def llm(settings: Settings) -> LLM:
    backend = registry.create("llm", "llama", settings)
    assert isinstance(backend, LLM)
    return backend


@pytest.fixture(scope="session")
def auto_tts(settings: Settings) -> TTS:
    backend = registry.create("tts", "auto", settings)
    assert isinstance(backend, TTS)
    return backend


@pytest.fixture(scope="session")
def kokoro(auto_tts: TTS) -> KokoroTTS:
    """The Korean voice of the shared ``auto`` TTS."""
    assert isinstance(auto_tts, LanguageTTS)
    voice = auto_tts.route("안녕하세요")
    assert isinstance(voice, KokoroTTS)
    return voice


@pytest.fixture(scope="session")
def vad(settings: Settings) -> VAD:
    backend: VAD = registry.create("vad", "silero", settings)
    return backend
