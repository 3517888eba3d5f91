"""``omni say "text" -o FILE.wav``: text to speech into a WAV file."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import numpy as np

from omni.audio.io import write_wav
from omni.backends.base import TTS
from omni.backends.registry import create
from omni.cli.common import add_global_flags, guarded, settings_from
from omni.errors import ConfigError
from omni.types import AudioChunk


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("say", help="speak text into a WAV file")
    parser.add_argument("text", help="what to say")
    parser.add_argument("-o", "--output", type=Path, required=True, help="WAV file to write")
    add_global_flags(parser)
    parser.set_defaults(func=guarded(run))


def run(args: argparse.Namespace) -> int:
    if not args.text.strip():
        raise ConfigError("nothing to say: the text is empty")
    settings = settings_from(args)
    tts = create("tts", settings.tts.backend, settings)
    chunks = asyncio.run(_speak(tts, args.text, args.lang))
    if not chunks:
        raise ConfigError(f"the {settings.tts.backend} TTS produced no audio for this text")
    samples = np.concatenate([c.samples for c in chunks])
    write_wav(args.output, AudioChunk(samples, chunks[0].sample_rate))
    print(f"wrote {args.output} ({len(samples) / chunks[0].sample_rate:.1f} s)")
    return 0


async def _speak(tts: TTS, text: str, language: str | None) -> list[AudioChunk]:
    return [chunk async for chunk in tts.synthesize(text, language=language)]
