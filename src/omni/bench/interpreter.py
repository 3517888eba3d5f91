"""Interpreter mode measured: the kept sentence pairs translated both ways by the embedded LLM, judged, and timed.

Run with ``python -m omni.bench.interpreter`` (docs/interpreter.md has the numbers). Each mode is a real
:class:`Session` on the embedded LLM, fed the sentences as typed turns the way two people share a microphone: an
English sentence, then a Korean one, and so on (the Korean half starts halfway through the set, so no sentence comes
right after its own translation). After each reply the session's own prefill of the next turn runs before the next
sentence, as it would while a person listens. Modes:

- ``interpreter``: interpreter mode (Korean and English), each utterance on its own.
- ``context``: the same with the previous utterance and its translation in the prompt.
- ``conversation``: what Omni did before interpreter mode when a client asked for an interpreter: the conversation
  path with those instructions (:data:`INSTRUCTIONS`) and the session's usual sampling.

The first token is timed from the reply's start (the user's text is there) to the LLM's first text.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from omni.backends.base import LLM
from omni.bench.interpreter_pairs import PAIRS, Pair, judge
from omni.clock import RealClock
from omni.events import LLMFirstToken, ReplyDone, ReplyStarted, SessionEvent
from omni.session.interpreter import Interpreter
from omni.session.playout import CollectingOutput
from omni.session.session import Backends, Session, SessionOptions

INSTRUCTIONS = "You are an interpreter. Translate everything the user says between English and Korean."
MODES = ("interpreter", "context", "conversation")


@dataclass(frozen=True)
class Translation:
    mode: str
    kind: str
    source: str
    target: str
    said: str
    translation: str
    first_token_s: float
    ok: bool
    missing: tuple[str, ...]
    right_language: bool
    question_kept: bool | None
    answered: bool


def turns(pairs: Sequence[Pair] = PAIRS) -> list[tuple[Pair, str]]:
    """The sentences in the order they are spoken: English and Korean in turn, the Korean half shifted by half."""
    half = len(pairs) // 2
    order = []
    for index, pair in enumerate(pairs):
        order += [(pair, "en"), (pairs[(index + half) % len(pairs)], "ko")]
    return order


def options_for(mode: str, base: SessionOptions) -> SessionOptions:
    if mode == "conversation":
        return replace(base, instructions=INSTRUCTIONS, interpreter=None)
    return replace(base, interpreter=Interpreter(("ko", "en"), context=mode == "context"))


class _Timer:
    def __init__(self) -> None:
        self.started = 0.0
        self.first: float | None = None
        self.text = ""

    def __call__(self, event: SessionEvent) -> None:
        if isinstance(event, ReplyStarted):
            self.started, self.first = event.at, None
        elif isinstance(event, LLMFirstToken) and self.first is None:
            self.first = event.at - self.started
        elif isinstance(event, ReplyDone):
            self.text = event.text.strip()


async def run_mode(llm: LLM, mode: str, base: SessionOptions, pairs: Sequence[Pair] = PAIRS,
                   progress: Callable[[str], None] = lambda line: None) -> list[Translation]:
    timer = _Timer()
    session = Session(Backends(llm=llm), options_for(mode, base), clock=RealClock(), output=CollectingOutput(),
                      observers=[timer])
    await session.prefill()
    results = []
    try:
        for pair, source in turns(pairs):
            target = "ko" if source == "en" else "en"
            session.add_user_text(pair.text(source))
            handle = await session.create_reply()
            await handle.done.wait()
            await session.idle()  # the next turn's prefill, while the next person starts to speak
            verdict = judge(pair, target, timer.text)
            results.append(Translation(mode, pair.kind, source, target, pair.text(source), timer.text,
                                       round(timer.first or 0.0, 3), verdict.ok, verdict.missing,
                                       verdict.right_language, verdict.question_kept, verdict.answered))
            progress(f"  {'ok   ' if verdict.ok else 'WRONG'} {mode:12} {pair.text(source)} → {timer.text[:90]!r}")
    finally:
        await session.aclose()
    return results


@dataclass(frozen=True)
class Summary:
    mode: str
    direction: str
    n: int
    right: float
    carried: float
    questions_kept: float
    answered: float
    first_token_median_s: float
    first_token_p90_s: float


def summarise(results: Sequence[Translation]) -> list[Summary]:
    rows = []
    for mode in dict.fromkeys(r.mode for r in results):
        for source, target in (("en", "ko"), ("ko", "en")):
            chosen = [r for r in results if r.mode == mode and r.source == source]
            if not chosen:
                continue
            questions = [r for r in chosen if r.question_kept is not None]
            firsts = sorted(r.first_token_s for r in chosen)
            rows.append(Summary(
                mode, f"{source}→{target}", len(chosen),
                round(sum(r.ok for r in chosen) / len(chosen), 3),
                round(sum(not r.missing for r in chosen) / len(chosen), 3),
                round(sum(bool(r.question_kept) for r in questions) / max(len(questions), 1), 3),
                round(sum(r.answered for r in chosen) / len(chosen), 3),
                round(statistics.median(firsts), 2), round(firsts[int(0.9 * (len(firsts) - 1))], 2)))
    return rows


def format_summary(rows: Sequence[Summary]) -> str:
    lines = [f"{'mode':<13} {'direction':<9} {'n':>3} {'right':>6} {'carried':>8} {'questions':>10} "
             f"{'answered':>9} {'first token':>12} {'p90':>6}"]
    for row in rows:
        lines.append(f"{row.mode:<13} {row.direction:<9} {row.n:>3} {row.right:>6.0%} {row.carried:>8.0%} "
                     f"{row.questions_kept:>10.0%} {row.answered:>9.0%} {row.first_token_median_s:>10.2f} s "
                     f"{row.first_token_p90_s:>4.2f} s")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m omni.bench.interpreter", description=__doc__.splitlines()[0])
    parser.add_argument("--modes", default=",".join(MODES), help=f"comma-separated, of {', '.join(MODES)}")
    parser.add_argument("--limit", type=int, default=None, help="only the first N pairs (a quick look)")
    parser.add_argument("--json", type=Path, help="write every translation and the summary here")
    parser.add_argument("--verbose", action="store_true", help="print each translation as it comes")
    parser.add_argument("--rejudge", type=Path, metavar="JSON",
                        help="judge the translations of an earlier run's JSON again (after the keys changed)")
    return parser


def rejudge(path: Path) -> list[Translation]:
    """An earlier run's translations, judged by the judge and keys as they are now."""
    saved = json.loads(path.read_text(encoding="utf-8"))["translations"]
    by_text = {(pair.text(language), language): pair for pair in PAIRS for language in ("en", "ko")}
    results = []
    for row in saved:
        verdict = judge(by_text[row["said"], row["source"]], row["target"], row["translation"])
        results.append(replace(Translation(**{**row, "missing": tuple(row["missing"])}), ok=verdict.ok,
                               missing=verdict.missing, right_language=verdict.right_language,
                               question_kept=verdict.question_kept, answered=verdict.answered))
    return results


def main(argv: Sequence[str] | None = None) -> int:
    from omni.backends import registry
    from omni.config import load_settings
    from omni.session.build import session_options

    args = _parser().parse_args(argv)
    if args.rejudge:
        print(format_summary(summarise(rejudge(args.rejudge))))
        return 0
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if unknown := [m for m in modes if m not in MODES]:
        print(f"unknown mode(s): {', '.join(unknown)}; choose from {', '.join(MODES)}", file=sys.stderr)
        return 2
    settings = load_settings()
    llm = registry.create("llm", settings.llm.backend, settings)
    base = session_options(settings, output_audio=False, language=None)
    pairs = PAIRS[: args.limit] if args.limit else PAIRS
    results: list[Translation] = []
    for mode in modes:
        results += asyncio.run(run_mode(llm, mode, base, pairs,
                                        progress=print if args.verbose else lambda line: None))
        print(format_summary(summarise([r for r in results if r.mode == mode])), flush=True)
    rows = summarise(results)
    print(format_summary(rows))
    if args.json:
        machine = {"cpus": os.cpu_count(), "load_average": os.getloadavg(), "llm": settings.llm.model,
                   "command": " ".join(["python -m omni.bench.interpreter", *(argv or sys.argv[1:])])}
        args.json.write_text(json.dumps({"machine": machine, "summary": [asdict(r) for r in rows],
                                         "translations": [asdict(r) for r in results]},
                                        ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
