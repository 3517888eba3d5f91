"""``omni bench``: voice-to-voice latency of the streaming engine against a naive cascade, on this machine.

Prints a table (median, p90, the ratio, where the time goes) and writes every run, with the machine it ran on,
to a JSON file.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

from omni.bench import voice_latency
from omni.bench.report import format_table
from omni.cli.common import add_global_flags, guarded, settings_from
from omni.errors import ConfigError
from omni.session.build import load_backends

DEFAULT_JSON = Path("bench-results/voice-latency.json")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "bench", help="measure voice-to-voice latency: the streaming engine against a naive cascade"
    )
    parser.add_argument("--runs", type=_positive, default=5, help="turns per question and pipeline (default 5)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON,
                        help=f"where to write every run and the machine info (default {DEFAULT_JSON})")
    parser.add_argument("--questions", choices=("en", "ko", "all"), default="all",
                        help="English spoken questions, Korean text questions, or both (default all)")
    parser.add_argument("--cold-prompt", action="store_true",
                        help="skip the system-prompt prefill before each turn (a process that has just started)")
    add_global_flags(parser)
    parser.set_defaults(func=guarded(run))


def run(args: argparse.Namespace) -> int:
    languages = voice_latency.check_languages(args.questions)
    path: Path = args.json
    try:  # a bad path fails now, not after minutes of measuring
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot write the results file {path}: {exc}") from exc
    if path.is_dir() or not os.access(path.parent, os.W_OK):
        raise ConfigError(f"cannot write the results file {path}")
    settings = settings_from(args)
    load = os.getloadavg()
    print(f"loading models… (load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f})", file=sys.stderr, flush=True)
    backends = load_backends(settings)
    results = asyncio.run(voice_latency.run(
        backends, settings, runs=args.runs, languages=languages, cold_prompt=args.cold_prompt,
        progress=lambda line: print(line, file=sys.stderr, flush=True),
    ))
    document = voice_latency.results_document(
        results, settings, backends, runs=args.runs, load=load, cold_prompt=args.cold_prompt
    )
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    end = document["load_average"]["end"]
    print(format_table(results), end="")
    print(f"load average: {load[0]:.2f} at the start, {end[0]:.2f} at the end (1-minute; {os.cpu_count()} cores)")
    print(f"wrote {path}")
    return 1 if any(r.latency is None for r in results) else 0


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {value}")
    return value
