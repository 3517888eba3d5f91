"""The built-in tools measured on the embedded LLM: do questions that need no tool stay without a call, and do the
questions a built-in tool answers get the right call and an answer with its result (a timer: set for the time asked)?

Run with ``python -m omni.bench.builtin_tools [--setups none,cues,no-cues] [--json FILE] [--verbose]``
(docs/tools.md has the numbers). Each question is a fresh session with Omni's default instructions, as
``omni serve`` gives a Realtime client that declares no tools, greedy (``temperature`` 0) so that the setups differ
only in the tools: ``none`` offers no tool, ``cues`` the built-in tools as Omni offers them (a question may
call only those it has cues for, :attr:`omni.session.tools.FunctionTool.cues`), ``no-cues`` the same tools with
every one callable for every question (the model's first-token decision alone).

Latency: the first token of the reply the user hears (after the tool round when there is one), from the request.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import sys
import time
import zoneinfo
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from omni.backends.base import LLM
from omni.clock import RealClock
from omni.config import ToolsSettings
from omni.events import LLMFirstToken, ReplyDone, ReplyStarted, SessionEvent, ToolCallDone
from omni.session.playout import CollectingOutput
from omni.session.session import Backends, Session, SessionOptions
from omni.session.tools import ToolBox
from omni.tools.builtin import builtin_tools
from omni.tools.timers import TimerError, parse_duration

SETUPS = ("none", "cues", "no-cues")
KO_WEEKDAYS = ("월요일", "화요일", "수요일", "목요일", "금요일", "토요일", "일요일")


@dataclass(frozen=True)
class Question:
    text: str
    language: str
    tool: str | None = None
    """The built-in tool that answers it (None: an ordinary question, which no tool should answer)."""
    expect: str = ""
    """For a calculation: the result the answer must say. For the time: the IANA zone asked about ("" for here). For
    a timer: its length in seconds."""
    asks: str = "hour"
    """For the time: what the answer must say, the ``hour`` or the ``weekday`` in that zone."""


ORDINARY = [Question(text, "en") for text in (
    "What is the capital of France?", "Who wrote Romeo and Juliet?", "Hello! How are you today?",
    "Tell me a short joke about cats.", "What is the largest planet in the solar system?",
    "How do I boil an egg?", "Why is the sky blue?", "Can you suggest a name for my new puppy?",
    "How do you say thank you in Spanish?", "What is photosynthesis?", "Good morning!",
    "In what year did the Second World War end?", "How many legs does a spider have?",
    "What should I cook for dinner tonight?", "Who painted the Mona Lisa?",
)] + [Question(text, "ko") for text in (
    "프랑스의 수도는 어디인가요?", "일주일은 며칠이에요?", "안녕하세요! 오늘 기분 어때요?",
    "태양계에서 가장 큰 행성은?", "감기에 걸리면 어떻게 해야 하나요?", "김치는 어떻게 만들어요?",
    "하늘은 왜 파란가요?", "잠을 잘 자는 방법을 알려 주세요.", "좋은 책 한 권 추천해 줘.", "모나리자는 누가 그렸어요?",
)]

TOOL_QUESTIONS = [
    Question("What is 37 times 43?", "en", "calculate", "1591"),
    Question("What's 15 percent of 80?", "en", "calculate", "12"),
    Question("What is 1234 divided by 8?", "en", "calculate", "154.25"),
    Question("Convert 5 miles to kilometers.", "en", "calculate", "8.05"),
    Question("What is 70 degrees Fahrenheit in Celsius?", "en", "calculate", "21.1"),
    Question("What time is it in Tokyo?", "en", "get_time", "Asia/Tokyo"),
    Question("What time is it in London right now?", "en", "get_time", "Europe/London"),
    Question("What day of the week is it today?", "en", "get_time", "", "weekday"),
    Question("37 곱하기 43은 얼마예요?", "ko", "calculate", "1591"),
    Question("80의 15퍼센트는 얼마야?", "ko", "calculate", "12"),
    Question("5마일은 몇 킬로미터예요?", "ko", "calculate", "8.05"),
    Question("도쿄는 지금 몇 시예요?", "ko", "get_time", "Asia/Tokyo"),
    Question("뉴욕은 지금 몇 시야?", "ko", "get_time", "America/New_York"),
    Question("오늘 무슨 요일이에요?", "ko", "get_time", "", "weekday"),
    Question("Set a timer for 10 minutes.", "en", "timer", "600"),
    Question("Remind me in 2 minutes to check the oven.", "en", "timer", "120"),
    Question("5분 타이머 맞춰 줘.", "ko", "timer", "300"),
]


@dataclass(frozen=True)
class Result:
    setup: str
    question: str
    language: str
    tool: str | None
    calls: tuple[tuple[str, str], ...]
    answer: str
    first_token_s: float | None
    right: bool


def toolbox(setup: str, settings: ToolsSettings) -> ToolBox:
    if setup == "none":
        return ToolBox()
    tools = builtin_tools(settings)
    return ToolBox(tools if setup == "cues" else [replace(t, cues={}) for t in tools])


def said_hours(answer: str) -> set[int]:
    """The hours an answer says: "3:05", "15:05", "3 PM", "오후 3시"."""
    return {int(h) for h in re.findall(r"(\d{1,2})\s*(?::\d{2}|시|[ap]\.?m\.?)", answer, re.IGNORECASE)}


def judge(question: Question, calls: Sequence[tuple[str, str]], answer: str, zone: str,
          between: tuple[datetime, datetime]) -> bool:
    """An ordinary question is right without a call; a tool question with exactly the right tool called and its
    result in the answer (the product; the hour or the weekday of that zone at the time asked)."""
    if question.tool is None:
        return not calls
    if [name for name, _ in calls] != [question.tool]:
        return False
    if question.tool == "calculate":
        return question.expect in answer.replace(",", "")
    if question.tool == "timer":
        arguments = json.loads(calls[0][1])
        try:
            length = parse_duration(str(arguments.get("duration", "")))
        except TimerError:
            return False
        return arguments.get("action") == "set" and length.total_seconds() == float(question.expect) and bool(answer)
    local = [moment.astimezone(zoneinfo.ZoneInfo(question.expect or zone)) for moment in between]
    if question.asks == "weekday":
        return any(m.strftime("%A") in answer or KO_WEEKDAYS[m.weekday()] in answer for m in local)
    return bool(said_hours(answer) & {h for m in local for h in (m.hour, m.hour % 12 or 12)})


async def ask(llm: LLM, base: SessionOptions, setup: str, settings: ToolsSettings, question: Question,
              zone: str) -> Result:
    events: list[SessionEvent] = []
    session = Session(Backends(llm=llm), base, clock=RealClock(), output=CollectingOutput(),
                      observers=[events.append], toolbox=toolbox(setup, settings))
    try:
        before = datetime.now(UTC)
        session.add_user_text(question.text)
        handle = await session.create_reply()
        await handle.done.wait()
        after = datetime.now(UTC)
    finally:
        await session.aclose()
    started = next(e.at for e in events if isinstance(e, ReplyStarted))
    firsts = [e.at for e in events if isinstance(e, LLMFirstToken)]
    calls = tuple((e.call.name, e.call.arguments) for e in events if isinstance(e, ToolCallDone))
    answer = next(e.text for e in events if isinstance(e, ReplyDone)).strip()
    return Result(setup, question.text, question.language, question.tool, calls, answer,
                  round(firsts[-1] - started, 3) if firsts else None,
                  judge(question, calls, answer, zone, (before, after)))


@dataclass(frozen=True)
class Row:
    setup: str
    ordinary_without_call: str
    tool_questions_right: str
    first_token_ordinary_median_s: float | None
    first_token_tool_median_s: float | None


def summarise(results: Sequence[Result]) -> list[Row]:
    rows = []
    for setup in dict.fromkeys(r.setup for r in results):
        ordinary = [r for r in results if r.setup == setup and r.tool is None]
        tools = [r for r in results if r.setup == setup and r.tool is not None]

        def median(chosen: list[Result]) -> float | None:
            times = [r.first_token_s for r in chosen if r.first_token_s is not None]
            return round(statistics.median(times), 2) if times else None

        rows.append(Row(setup, f"{sum(r.right for r in ordinary)}/{len(ordinary)}",
                        f"{sum(r.right for r in tools)}/{len(tools)}", median(ordinary), median(tools)))
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    from omni.backends import registry
    from omni.config import load_settings
    from omni.session.build import session_options
    from omni.tools.clock import system_zone

    parser = argparse.ArgumentParser(prog="python -m omni.bench.builtin_tools", description=__doc__.splitlines()[0])
    parser.add_argument("--setups", default=",".join(SETUPS), help=f"comma-separated, of {', '.join(SETUPS)}")
    parser.add_argument("--json", type=Path, help="write every question's result and the summary here")
    parser.add_argument("--verbose", action="store_true", help="print each question's result as it ends")
    args = parser.parse_args(argv)
    setups = [s.strip() for s in args.setups.split(",") if s.strip()]
    if unknown := set(setups) - set(SETUPS):
        parser.error(f"unknown setup(s) {', '.join(sorted(unknown))}: choose from {', '.join(SETUPS)}")
    settings = load_settings()
    tools_settings = ToolsSettings(timezone=settings.tools.timezone)  # every built-in tool, as by default
    zone = settings.tools.timezone or system_zone() or "UTC"
    llm = registry.create("llm", settings.llm.backend, settings)
    base = session_options(settings, output_audio=False, language=None, turn_detection="manual",
                           speculate_after_ms=None, listen_ahead_ms=None)
    base = replace(base, generation=replace(base.generation, temperature=0.0))
    started, results = time.perf_counter(), []

    async def run_all() -> None:
        for setup in setups:
            for question in [*ORDINARY, *TOOL_QUESTIONS]:
                result = await ask(llm, base, setup, tools_settings, question, zone)
                results.append(result)
                if args.verbose:
                    calls = ", ".join(f"{n}({a})" for n, a in result.calls) or "no call"
                    print(f"{'right' if result.right else 'WRONG'} {setup} {question.text} → {calls} → "
                          f"{result.answer[:120]!r} ({result.first_token_s} s)", flush=True)

    asyncio.run(run_all())
    rows = summarise(results)
    for row in rows:
        print(f"{row.setup:<8} ordinary without a call {row.ordinary_without_call:>6}  tool questions right "
              f"{row.tool_questions_right:>6}  first token: ordinary {row.first_token_ordinary_median_s} s, "
              f"tool {row.first_token_tool_median_s} s")
    if args.json:
        command = " ".join(["python -m omni.bench.builtin_tools", *(argv if argv is not None else sys.argv[1:])])
        args.json.write_text(json.dumps({"command": command, "seconds": round(time.perf_counter() - started),
                                         "summary": [asdict(r) for r in rows],
                                         "results": [asdict(r) for r in results]}, ensure_ascii=False, indent=1)
                             + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
