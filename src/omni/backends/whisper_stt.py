"""Speech to text with Whisper on CTranslate2 (faster-whisper): any CTranslate2 whisper directory.

Utterances up to 30 s take the fast path (:mod:`omni.backends.whisper_fast`): features of the real audio,
not of a 30 s window. Longer audio, and the rare short decode that loops, go through faster-whisper's own
``transcribe()``. Near-silent audio is answered with an empty transcript before any model runs, because
whisper invents text ("Thank you.", "1.5%") for silence and noise.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from omni.aio import ModelLock, model_thread
from omni.backends.base import STT
from omni.backends.whisper_fast import MAX_SAMPLES, SAMPLE_RATE, FastDecoder, likeliest, normalise_language
from omni.config import Settings
from omni.cores import CORES
from omni.errors import AudioInputError, ConfigError, ModelNotFoundError
from omni.types import Samples, Segment, Transcript

REQUIRED_FILES = ("config.json", "model.bin", "tokenizer.json")
SILENCE_DBFS = -55.0
"""Audio whose loudest 50 ms stays below this level is treated as silence (speech peaks 20-40 dB higher)."""
_WINDOW = SAMPLE_RATE // 20


def default_threads() -> int:
    """CTranslate2 threads: every core up to four; STT runs while the other models wait for its text."""
    return max(1, min(os.cpu_count() or 2, 4))


def loudest_dbfs(audio: Samples) -> float:
    """RMS level of the loudest 50 ms window, in dB relative to full scale."""
    if audio.size == 0:
        return -np.inf
    usable = audio[: audio.size - audio.size % _WINDOW] if audio.size >= _WINDOW else audio
    frames = usable.reshape(-1, min(_WINDOW, usable.size)).astype(np.float64)
    peak = float(np.sqrt((frames**2).mean(axis=1)).max())
    return 20.0 * np.log10(peak) if peak > 0 else -np.inf


class WhisperSTT(STT):
    """Whisper via faster-whisper; one transcription at a time per instance."""

    def __init__(
        self,
        model_dir: Path | str,
        *,
        language: str | None = None,
        languages: Sequence[str] = (),
        beam_size: int = 1,
        threads: int = 0,
        compute_type: str = "int8",
    ) -> None:
        """``languages``: when the language is not fixed, it is detected as the likeliest of these (empty: of all)."""
        from faster_whisper import WhisperModel
        from faster_whisper.feature_extractor import FeatureExtractor

        self.model_dir = Path(model_dir)
        missing = [name for name in REQUIRED_FILES if not (self.model_dir / name).is_file()]
        if missing:
            raise ModelNotFoundError(
                f"{self.model_dir} is not a CTranslate2 whisper directory (missing: {', '.join(missing)})"
            )
        if beam_size < 1:
            raise ConfigError(f"stt beam_size must be at least 1, got {beam_size}")
        self.beam_size = beam_size
        self.threads = threads or default_threads()
        # int8 measured ~30% faster than float32 on CPU for whisper base with the same transcripts.
        self._whisper: Any = WhisperModel(
            str(self.model_dir), device="cpu", compute_type=compute_type, cpu_threads=self.threads,
            local_files_only=True,
        )
        n_mels = int(self._whisper.model.n_mels)
        if self._whisper.feature_extractor.mel_filters.shape[0] != n_mels:
            # A directory without preprocessor_config.json gets 80 mel bins; large-v3 models want 128.
            self._whisper.feature_extractor = FeatureExtractor(feature_size=n_mels)
        self.fast = FastDecoder(self._whisper)
        self.language = self._check_language(language)
        self.languages = frozenset(code for code in map(self._check_language, languages) if code)
        self._lock = ModelLock()
        self.thread = model_thread("whisper")

    def __repr__(self) -> str:
        return f"WhisperSTT({str(self.model_dir)!r}, beam_size={self.beam_size}, threads={self.threads})"

    @property
    def multilingual(self) -> bool:
        return self.fast.multilingual

    def _check_language(self, language: str | None) -> str | None:
        if not language:
            return None
        code = normalise_language(language)
        if not self.multilingual:
            if code != "en":
                raise ConfigError(
                    f"the whisper model in {self.model_dir} is English-only and cannot transcribe {language!r}"
                )
            return code
        if code not in self.fast.languages:
            raise ConfigError(f"whisper does not know language {language!r} (expected a code such as en, ko)")
        return code

    async def _transcribe(self, audio: Samples, language: str | None) -> Transcript:
        return await self._run(self.transcribe_blocking, audio, language)

    async def _transcribe_prompted(self, audio: Samples, language: str | None, prompt: str) -> Transcript:
        return await self._run(partial(self.transcribe_blocking, prompt=prompt), audio, language)

    async def _transcribe_timed(self, audio: Samples, language: str | None) -> Transcript:
        """Always faster-whisper's own path, which times its segments (the fast path decodes without them)."""
        return await self._run(self.transcribe_full, audio, language)

    async def _run(
        self, transcribe: Callable[[Samples, str | None], Transcript], audio: Samples, language: str | None
    ) -> Transcript:
        samples = np.asarray(audio, dtype=np.float32).reshape(-1)
        if samples.size and not np.isfinite(samples).all():
            raise AudioInputError("audio for transcription contains NaN or infinite samples")
        chosen = self._check_language(language) or self.language
        async with self._lock.hold():
            loop = asyncio.get_running_loop()
            work = loop.run_in_executor(self.thread, CORES.run_speech, transcribe, samples, chosen)
            try:
                return await asyncio.shield(work)
            finally:
                # A cancelled caller still waits for the thread, so the lock is only released when the
                # model is free again (CTranslate2 models must not run two decodes on one instance).
                if not work.done():
                    await asyncio.wait({work})

    def transcribe_blocking(self, audio: Samples, language: str | None, prompt: str | None = None) -> Transcript:
        """The whole transcription, in the calling thread (callers hold the instance's lock)."""
        if loudest_dbfs(audio) < SILENCE_DBFS:
            return Transcript("", language, None)
        if audio.size <= MAX_SAMPLES:
            decoded = self.fast.decode(audio, language, self.beam_size, self.languages, prompt)
            if decoded.is_silence:
                return Transcript("", decoded.language, decoded.language_probability)
            if not decoded.suspect:
                return Transcript(decoded.text, decoded.language, decoded.language_probability)
            # Keep the language the fast path found, so the 30 s pass does not detect it again.
            language = decoded.language
        return self.transcribe_full(audio, language, prompt)

    def transcribe_full(self, audio: Samples, language: str | None, prompt: str | None = None) -> Transcript:
        """faster-whisper's own path: 30 s windows, temperature fallback, no-speech skipping."""
        if language is None and self.languages and self.multilingual:
            _, _, scored = self._whisper.detect_language(audio)
            language = likeliest(scored, self.languages)[0]
        segments, info = self._whisper.transcribe(
            audio,
            language=language,
            beam_size=self.beam_size,
            vad_filter=False,
            condition_on_previous_text=False,
            initial_prompt=prompt,
        )
        # Whisper's last timestamp token can point past the end of the audio.
        length = len(audio) / SAMPLE_RATE
        timed = tuple(Segment(min(float(s.start), length), min(float(s.end), length), s.text.strip())
                      for s in segments if s.text.strip())
        text = " ".join(segment.text for segment in timed)
        return Transcript(text, info.language, float(info.language_probability), timed)


def create(settings: Settings) -> WhisperSTT:
    from omni.models.store import resolve

    path = resolve(settings.stt.model, "stt", settings.models_dir.expanduser())
    return WhisperSTT(
        path,
        language=settings.stt.language,
        languages=settings.stt.languages,
        beam_size=settings.stt.beam_size,
        threads=settings.stt.threads,
    )
