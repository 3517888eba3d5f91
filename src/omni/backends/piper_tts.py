"""Piper neural TTS: any Piper ``.onnx`` voice with its ``.onnx.json`` beside it.

Piper speaks one sentence at a time; each sentence becomes one :class:`AudioChunk` as soon as it is made,
so the first audio comes early. Synthesis runs in a worker thread and stops between sentences when the
consumer goes away. Audio keeps the voice's own sample rate (22050 Hz for the medium voices).
"""

from __future__ import annotations

import importlib
import json
import os
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from omni.aio import closing, iterate_in_thread
from omni.backends.base import TTS
from omni.config import Settings
from omni.cores import CORES
from omni.errors import BackendError, BackendUnavailableError, ModelNotFoundError
from omni.types import AudioChunk


def default_threads() -> int:
    """ONNX intra-op threads: every core up to four; the LLM waits while speech is synthesised (:mod:`omni.cores`)."""
    return max(1, min(os.cpu_count() or 1, 4))


class PiperTTS(TTS):
    """A loaded Piper voice. ``voice`` in :meth:`synthesize` picks a speaker of a multi-speaker model."""

    def __init__(self, model_path: Path | str, *, speed: float = 1.0, threads: int = 0, variation: bool = True) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        try:
            onnxruntime = importlib.import_module("onnxruntime")  # untyped; used through a few calls
            from piper import PiperVoice
            from piper.config import PiperConfig, SynthesisConfig
        except ImportError as exc:
            raise BackendUnavailableError(
                f"the piper TTS needs piper-tts and onnxruntime ({exc}); install them with: "
                "make install (or: .venv/bin/pip install -r requirements/runtime.txt)"
            ) from exc
        path = Path(model_path).expanduser()
        config_path = path.with_name(path.name + ".json")
        if not path.is_file():
            raise ModelNotFoundError(f"Piper voice {path} does not exist")
        if not config_path.is_file():
            raise ModelNotFoundError(f"Piper voice {path} has no {config_path.name} beside it")
        try:
            config = PiperConfig.from_dict(json.loads(config_path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelNotFoundError(f"{config_path} is not a Piper voice config: {exc}") from exc
        # PiperVoice.load offers no session options; building the session here sets the thread count.
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or default_threads()
        options.inter_op_num_threads = 1
        # Idle ONNX threads would otherwise spin for a while after each sentence, on the cores the LLM resumes on.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            session = onnxruntime.InferenceSession(
                str(path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:
            raise BackendError(self.stage, f"cannot load Piper voice {path}: {exc}") from exc
        self.path = path
        self.speed = speed
        self.variation = variation
        self.threads = options.intra_op_num_threads
        self.sample_rate = int(config.sample_rate)
        self.language = str(config.espeak_voice).split("-")[0].lower()
        """The language the voice speaks, from its phonemizer voice ("en-us" → "en")."""
        self._voice = PiperVoice(session=session, config=config)
        self._speakers: dict[str, int] = {str(k): int(v) for k, v in config.speaker_id_map.items()}
        self._make_config = SynthesisConfig
        self._length_scale = float(config.length_scale)

    def __repr__(self) -> str:
        steady = "" if self.variation else ", variation=False"
        return f"PiperTTS({str(self.path)!r}, speed={self.speed}, threads={self.threads}{steady})"

    def voices(self) -> Sequence[str]:
        return tuple(self._speakers)

    def _synthesis_config(self, voice: str | None, speed: float) -> Any:
        # Unknown names (an OpenAI voice such as "alloy") fall back to the model's default speaker.
        speaker = self._speakers.get(voice) if voice is not None else None
        length = self._length_scale / (self.speed * speed)
        if self.variation:
            return self._make_config(speaker_id=speaker, length_scale=length)
        return self._make_config(speaker_id=speaker, length_scale=length, noise_scale=0.0, noise_w_scale=0.0)

    def _sentences(
        self, text: str, voice: str | None, speed: float, stop: threading.Event
    ) -> Iterator[AudioChunk]:
        config = self._synthesis_config(voice, speed)
        with CORES.speech():
            for piece in self._voice.synthesize(text, syn_config=config):
                if stop.is_set():
                    return
                samples = np.ascontiguousarray(piece.audio_float_array, dtype=np.float32)
                if samples.size:
                    yield AudioChunk(samples, self.sample_rate)

    async def _synthesize(
        self, text: str, voice: str | None, language: str | None, speed: float
    ) -> AsyncIterator[AudioChunk]:
        if not text.strip():
            return
        # When the consumer stops, the worker thread is stopped and awaited before this returns.
        async with closing(iterate_in_thread(lambda stop: self._sentences(text, voice, speed, stop))) as chunks:
            async for chunk in chunks:
                yield chunk


def create(settings: Settings) -> PiperTTS:
    from omni.models import store

    path = store.resolve(settings.tts.voice, "tts", settings.models_dir)
    return PiperTTS(path, speed=settings.tts.speed, variation=settings.tts.variation)
