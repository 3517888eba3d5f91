"""A TTS that picks a voice per call by language: a neural voice where one exists, espeak-ng elsewhere.

The ``auto`` backend: English goes to the Piper voice, Korean to the Kokoro voice (``tts.korean_voice``; espeak-ng,
with a warning in the log, when that model is not installed), every other language to espeak-ng. The language is
the call's ``language`` argument, or detected from the text's script when it is None. All audio comes out at one
sample rate (the Piper voice's, unless given), so one reply never changes rate.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping, Sequence

from omni.aio import closing
from omni.audio.resample import StreamResampler
from omni.backends.base import TTS
from omni.config import Settings
from omni.errors import BackendUnavailableError, ModelNotFoundError
from omni.text.language import detect_language
from omni.types import AudioChunk

log = logging.getLogger(__name__)


class LanguageTTS(TTS):
    """Route each call to ``routes[language]``, or to ``fallback`` for a language without a route."""

    def __init__(
        self,
        routes: Mapping[str, TTS],
        fallback: TTS,
        *,
        default_language: str = "en",
        sample_rate: int | None = None,
    ) -> None:
        self.routes = dict(routes)
        self.fallback = fallback
        self.default_language = default_language
        self.sample_rate = sample_rate or self.routes.get(default_language, fallback).sample_rate

    def __repr__(self) -> str:
        routes = ", ".join(f"{lang}: {tts!r}" for lang, tts in self.routes.items())
        return f"LanguageTTS({{{routes}}}, fallback={self.fallback!r}, sample_rate={self.sample_rate})"

    def language_of(self, text: str, language: str | None) -> str:
        """The language a call speaks: the one given, else the one detected, else the default."""
        chosen = language or detect_language(text) or self.default_language
        return chosen.strip().lower().replace("_", "-")

    def route(self, text: str, language: str | None = None) -> TTS:
        """The backend that will speak ``text``; a regional code ("en-gb") uses its language's route."""
        code = self.language_of(text, language)
        return self.routes.get(code) or self.routes.get(code.split("-")[0]) or self.fallback

    def voices(self) -> Sequence[str]:
        names: list[str] = []
        for tts in (*self.routes.values(), self.fallback):
            names.extend(name for name in tts.voices() if name not in names)
        return names

    async def _synthesize(
        self, text: str, voice: str | None, language: str | None, speed: float
    ) -> AsyncIterator[AudioChunk]:
        code = self.language_of(text, language)
        backend = self.route(text, code)
        resampler: StreamResampler | None = None
        async with closing(backend.synthesize(text, voice=voice, language=code, speed=speed)) as chunks:
            async for chunk in chunks:
                if chunk.sample_rate == self.sample_rate and resampler is None:
                    yield chunk
                    continue
                # One stream resampler per call keeps the sentence joins of a reply free of clicks.
                if resampler is None:
                    resampler = StreamResampler(chunk.sample_rate, self.sample_rate)
                samples = resampler.process(chunk.samples)
                if samples.size:
                    yield AudioChunk(samples, self.sample_rate)
        if resampler is not None:
            tail = resampler.flush()
            if tail.size:
                yield AudioChunk(tail, self.sample_rate)


def korean_voice(settings: Settings) -> TTS | None:
    """The Kokoro voice for Korean, or None (logged) when its model or its packages are missing."""
    from omni.backends import kokoro_tts

    try:
        return kokoro_tts.create(settings)
    except (ModelNotFoundError, BackendUnavailableError) as exc:
        log.warning("Korean will be spoken by espeak-ng, which is hard to follow: the Kokoro voice is unavailable "
                    "(%s). Install it with `make install` or `omni models --install kokoro-82m`.", exc)
        return None


def create(settings: Settings) -> LanguageTTS:
    from omni.backends import espeak_tts, piper_tts

    piper = piper_tts.create(settings)
    espeak = espeak_tts.create(settings)
    routes: dict[str, TTS] = {piper.language: piper}
    korean = korean_voice(settings)
    if korean is not None:
        routes.setdefault("ko", korean)
    return LanguageTTS(routes, espeak, default_language=piper.language)
