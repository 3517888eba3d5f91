"""``omni translate FILE | --text "…" [--to LANG]``: a translation with the interpreter's prompt, printed as it comes.

A file is transcribed first (any audio file libsndfile reads); its language, or the text's, picks the direction:
into ``--to``, or into the other language of ``--languages`` (Korean and English by default). A text or a
recording of any length goes to the model sentence by sentence (:func:`omni.session.interpreter.translate_text`).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from omni.audio.io import read_audio
from omni.backends.registry import create
from omni.cli.common import add_global_flags, guarded, settings_from
from omni.cli.interpret import languages_flag
from omni.errors import AudioInputError, ConfigError
from omni.session.interpreter import LANGUAGES, Interpreter, translate_text
from omni.text.language import detect_language


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("translate", help="translate an audio file or a text (Korean ↔ English by "
                                   "default) and print the translation")
    parser.add_argument("input", type=Path, nargs="?", help="audio file with speech to translate")
    parser.add_argument("--text", help="text to translate instead of a file")
    parser.add_argument("--to", choices=sorted(LANGUAGES), help="the language to translate into (default: the "
                        "other language of --languages)")
    parser.add_argument("--languages", type=languages_flag, default=("ko", "en"), metavar="A,B",
                        help="the pair of languages when --to is not given (default ko,en)")
    add_global_flags(parser)
    parser.set_defaults(func=guarded(run))


def run(args: argparse.Namespace) -> int:
    if (args.input is None) == (args.text is None):
        raise ConfigError("give an audio file or --text \"…\" to translate (one of the two)")
    if args.text is not None and not args.text.strip():
        raise ConfigError("nothing to translate: the text is empty")
    audio = read_audio(args.input, sample_rate=16000) if args.input is not None else None  # bad files fail here
    settings = settings_from(args)
    if audio is not None:
        print("transcribing…", file=sys.stderr, flush=True)
        stt = create("stt", settings.stt.backend, settings)
        heard = asyncio.run(stt.transcribe(audio.samples, language=settings.stt.language))
        text, language = heard.text.strip(), heard.language
        if not text:
            raise AudioInputError(f"no speech heard in {args.input}")
        print(f"heard ({language or '?'}): {text}", file=sys.stderr, flush=True)
    else:
        text, language = args.text.strip(), None
    interpreter = _interpreter(args, text, language)
    direction = interpreter.direction(text, language)
    if args.to is not None and direction.source == args.to:
        print(text)
        print(f"(already in {LANGUAGES[args.to]})", file=sys.stderr)
        return 0
    print(f"({LANGUAGES.get(direction.source or '', 'unknown language')} → {LANGUAGES[direction.target]})",
          file=sys.stderr, flush=True)
    llm = create("llm", settings.llm.backend, settings)
    translation = asyncio.run(translate_text(llm, interpreter, text, language,
                                             on_text=lambda piece: print(piece, end="", flush=True)))
    print()
    if not translation:
        print("omni: the model wrote no translation", file=sys.stderr)
        return 1
    return 0


def _interpreter(args: argparse.Namespace, text: str, language: str | None) -> Interpreter:
    """The pair whose direction for this text ends in ``--to``: the text's own language and it (``--to`` first, so
    text in a language outside the pair still goes into it)."""
    if args.to is None:
        return Interpreter(args.languages)
    source = Interpreter((args.to, "en" if args.to != "en" else "ko")).direction(text, language).source
    spoken = language if language in LANGUAGES else detect_language(text)
    other = next((code for code in (source, spoken, *args.languages, "en", "ko")
                  if code in LANGUAGES and code != args.to), "en")
    return Interpreter((args.to, other))
