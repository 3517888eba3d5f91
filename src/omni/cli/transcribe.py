"""``omni transcribe FILE``: speech to text on an audio file."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from omni.audio.io import read_audio
from omni.backends.registry import create
from omni.cli.common import add_global_flags, guarded, settings_from


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("transcribe", help="transcribe an audio file")
    parser.add_argument("input", type=Path, help="audio file (any rate and format libsndfile reads)")
    parser.add_argument("--json", action="store_true", help="print text, language and duration as JSON")
    add_global_flags(parser)
    parser.set_defaults(func=guarded(run))


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    audio = read_audio(args.input, sample_rate=16000)
    stt = create("stt", settings.stt.backend, settings)
    transcript = asyncio.run(stt.transcribe(audio.samples, language=settings.stt.language))
    if args.json:
        print(json.dumps({
            "text": transcript.text,
            "language": transcript.language,
            "language_probability": transcript.language_probability,
            "duration": round(audio.duration, 3),
        }, ensure_ascii=False))
    else:
        print(transcript.text)
        if transcript.language:
            print(f"(language: {transcript.language})", file=sys.stderr)
    return 0
