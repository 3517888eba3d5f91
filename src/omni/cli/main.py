"""The ``omni`` command: one subcommand per job."""

from __future__ import annotations

import argparse
import logging
import sys

from omni import __version__
from omni.cli import (
    bench_cmd,
    chat,
    interpret,
    look,
    models_cmd,
    say,
    serve_cmd,
    talk,
    transcribe,
    translate,
    voice,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="omni", description="Omni: a local, real-time voice assistant.")
    parser.add_argument("--version", action="version", version=f"omni {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens inside")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (serve_cmd, chat, voice, talk, interpret, translate, transcribe, say, look, models_cmd, bench_cmd):
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        code: int = args.func(args)
    except BrokenPipeError:
        sys.stderr.close()  # output piped into a program that stopped reading: not an error of ours
        return 0
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
