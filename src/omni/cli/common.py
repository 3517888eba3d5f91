"""What every command shares: global flags that feed the settings tree, and turning errors into clear messages."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from omni.config import Settings, load_settings
from omni.errors import OmniError

Command = Callable[[argparse.Namespace], int]


def add_global_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("settings (override OMNI_* variables and the config file)")
    group.add_argument("--models-dir", help="where the embedded models live (default ~/.cache/omni/models)")
    group.add_argument("--llm-model", help="LLM: a model name or a path to any GGUF file")
    group.add_argument("--llm-backend", help="LLM backend: llama (embedded), openai (any compatible server), or "
                       "canned (a fixed reply, for demos and benchmarks)")
    group.add_argument("--llm-url", help="base URL of an OpenAI-compatible server for the openai LLM backend")
    group.add_argument("--stt-model", help="STT: a model name or a path to a CTranslate2 whisper directory")
    group.add_argument("--stt-backend", help="STT backend: whisper (embedded), openai, or canned (hears a fixed "
                       "sentence, for demos and benchmarks)")
    group.add_argument("--tts-backend", help="TTS backend: auto, piper, espeak, openai, or tone (a tone per word, "
                       "for demos and benchmarks)")
    group.add_argument("--vision-backend", help="vision backend: perception (embedded OCR, objects, gist, faces), "
                       "llama-vlm, openai, none; default: llama-vlm with --vision-model, openai with --vision-url")
    group.add_argument("--vision-model", help="a local vision-language GGUF for llama-vlm (its mmproj*.gguf beside it)")
    group.add_argument("--vision-url", help="base URL of an OpenAI-compatible server with a vision model")
    group.add_argument("--voice", help="TTS voice: a Piper voice name or .onnx path, or an espeak-ng voice")
    group.add_argument("--lang", help="language of the user's speech (e.g. en, ko); default: detect it")
    group.add_argument("--instructions", help="system instructions for the assistant")


def settings_from(args: argparse.Namespace) -> Settings:
    overrides: dict[str, dict[str, Any]] = {}

    def put(section: str, key: str, value: object) -> None:
        if value is not None:
            overrides.setdefault(section, {})[key] = value

    put("llm", "model", getattr(args, "llm_model", None))
    put("llm", "backend", getattr(args, "llm_backend", None))
    put("llm", "base_url", getattr(args, "llm_url", None))
    put("stt", "model", getattr(args, "stt_model", None))
    put("stt", "backend", getattr(args, "stt_backend", None))
    put("stt", "language", getattr(args, "lang", None))
    put("tts", "backend", getattr(args, "tts_backend", None))
    put("vision", "backend", getattr(args, "vision_backend", None))
    put("vision", "model", getattr(args, "vision_model", None))
    put("vision", "base_url", getattr(args, "vision_url", None))
    put("tts", "voice", getattr(args, "voice", None))
    put("session", "instructions", getattr(args, "instructions", None))
    put("server", "host", getattr(args, "host", None))
    put("server", "port", getattr(args, "port", None))
    put("server", "api_keys", getattr(args, "api_keys", None))
    flat: dict[str, Any] = dict(overrides)
    if getattr(args, "models_dir", None):
        flat["models_dir"] = args.models_dir
    return load_settings(flat)


def guarded(command: Command) -> Command:
    """Run a command; an Omni error becomes ``omni: error: ...`` and exit status 2, never a traceback."""

    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except OmniError as exc:
            print(f"omni: error: {exc}", file=sys.stderr)
            return 2

    return run
