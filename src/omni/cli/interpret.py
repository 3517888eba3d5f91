"""``omni interpret``: a live interpreter on the microphone and speaker — each utterance is spoken back translated
into the other language of a pair (Korean and English by default), so two people can share one microphone."""

from __future__ import annotations

import argparse
import asyncio
import sys

from omni.audio.devices import require_devices
from omni.cli.common import add_global_flags, guarded, settings_from
from omni.cli.talk import converse
from omni.session.build import load_backends, session_options
from omni.session.interpreter import LANGUAGES, Interpreter, parse_languages


def languages_flag(value: str) -> tuple[str, str]:
    try:
        return parse_languages(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "interpret", help="live interpreter with the microphone and speaker: speech in one language is spoken "
        "back in the other (Korean and English by default)")
    parser.add_argument("--languages", type=languages_flag, default=("ko", "en"), metavar="A,B",
                        help=f"the two languages, e.g. ko,en (default); any two of {', '.join(LANGUAGES)}. Each "
                        "utterance's language is detected; speech in neither is translated into A")
    add_global_flags(parser)
    parser.set_defaults(func=guarded(run))


def run(args: argparse.Namespace) -> int:
    require_devices("omni interpret", "omni translate IN.wav")  # before loading models: nothing to talk with
    settings = settings_from(args)
    print("loading models…", file=sys.stderr, flush=True)
    backends = load_backends(settings, see=False)
    first, second = (LANGUAGES[code] for code in args.languages)
    # Each utterance's language is detected: a fixed STT language (--lang) would hear both people as one.
    options = session_options(settings, language=None, interpreter=Interpreter(args.languages))
    asyncio.run(converse(backends, options, f"Interpreting {first} ↔ {second} — speak either language; talking "
                                            "over a translation stops it; Ctrl-C quits."))
    return 0
