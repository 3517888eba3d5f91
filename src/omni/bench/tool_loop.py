"""The tool loop measured: the kept tool conversations (:mod:`omni.bench.tool_conversations`) through a real
:class:`Session` on the embedded LLM, the tools given as a client gives them, judged and timed.

Run with ``python -m omni.bench.tool_loop [--json FILE] [--every N] [--temperature T[,T...]] [--verbose] [--builtin
TOOLS] [--instructions TEXT] [--via mcp]`` (docs/tools.md has the numbers). Each item is a fresh session with the
five tools as *client* tools (with ``--builtin``, Omni's built-in tools beside them, as ``omni serve`` offers them
with ``[tools] with_client_tools``) and Omni's default instructions (or ``--instructions``), as the Realtime API
gives them to a client that sets only ``tools``: the runner does what a Realtime client does. It adds the user's
text (``conversation.item.create``) and asks for a response (``response.create``); when the response ends with
function calls (the ``function_call`` items a client is sent), it runs them on the canned client side
(:func:`~omni.bench.tool_conversations.client_result`), adds each result as a ``function_call_output`` item and asks
for the next response, up to :data:`MAX_RESPONSES` responses a turn. The response without calls is the turn's
answer. With ``--via mcp`` the five tools are instead an MCP server's (:mod:`omni.bench.tool_server`, the same
canned answers) that the client names, as a Realtime client does in ``session.tools``: the session runs their calls
itself and the response answers from the results.

Latency: the final answer's first token, from the ``response.create`` that produced it (the tool results are in).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from omni.backends.base import LLM
from omni.bench.tool_conversations import ITEMS, KINDS, TOOLS, Call, Item, client_result, judge_turn
from omni.bench.tool_server import COMMAND
from omni.clock import RealClock
from omni.config import ToolsSettings
from omni.events import LLMFirstToken, ReplyDone, ReplyStarted, SessionEvent, ToolCallDone, ToolCallRequested
from omni.session.context import Item as ConversationItem
from omni.session.context import new_id
from omni.session.playout import CollectingOutput
from omni.session.session import Backends, Session, SessionOptions
from omni.tools.builtin import builtin_toolbox
from omni.tools.mcp import McpConnection, McpTarget
from omni.types import Tool, ToolCall

NO_BUILTINS = ToolsSettings(builtin=())

MAX_RESPONSES = 4
"""Responses a turn may take (calls, then the answer); a turn still calling tools after these has no answer."""

CLIENT_TOOLS = tuple(Tool(t["name"], t["description"], t["parameters"]) for t in TOOLS)


@dataclass
class _Response:
    started: float
    first_token: float | None = None
    text: str = ""
    calls: list[ToolCall] = field(default_factory=list)
    """Calls sent to the client."""
    ran: list[ToolCall] = field(default_factory=list)
    """Calls the session ran itself (an MCP server's, a built-in tool's)."""


class _Recorder:
    """What a client sees of each response: its function calls, its text, when its first token came."""

    def __init__(self) -> None:
        self.responses: dict[str, _Response] = {}

    def __call__(self, event: SessionEvent) -> None:
        if isinstance(event, ReplyStarted):
            self.responses[event.reply_id] = _Response(event.at)
        elif isinstance(event, LLMFirstToken):
            self.responses[event.reply_id].first_token = event.at
        elif isinstance(event, ToolCallRequested):
            self.responses[event.reply_id].calls.append(event.call)
        elif isinstance(event, ToolCallDone):
            self.responses[event.reply_id].ran.append(event.call)
        elif isinstance(event, ReplyDone):
            self.responses[event.reply_id].text = event.text.strip()


@dataclass(frozen=True)
class TurnResult:
    said: str
    calls: tuple[tuple[str, str], ...]
    """(name, arguments) of every call the turn's responses made, in order."""
    said_between: tuple[str, ...]
    """Text of responses that also made calls."""
    answer: str
    responses: int
    first_token_s: float | None
    """The final answer's first token, from its response.create."""
    turn_s: float
    called_right: bool
    answered_right: bool
    problems: tuple[str, ...]


@dataclass(frozen=True)
class ItemResult:
    id: str
    kind: str
    language: str
    temperature: float
    turns: tuple[TurnResult, ...]

    @property
    def called_right(self) -> bool:
        return all(t.called_right for t in self.turns)

    @property
    def answered_right(self) -> bool:
        return all(t.answered_right for t in self.turns)

    @property
    def right(self) -> bool:
        return self.called_right and self.answered_right


def session_options(base: SessionOptions, temperature: float) -> SessionOptions:
    return replace(base, tools=CLIENT_TOOLS, turn_detection="manual", output_audio=False,
                   generation=replace(base.generation, temperature=temperature),
                   speculate_after_ms=None, listen_ahead_ms=None, interpreter=None)


async def run_item(llm: LLM, item: Item, base: SessionOptions, temperature: float,
                   builtin: ToolsSettings = NO_BUILTINS, mcp: McpConnection | None = None) -> ItemResult:
    """One conversation; with ``mcp``, the five tools are that server's, named by the client, not client tools."""
    recorder = _Recorder()
    options = replace(session_options(base, temperature), local_tools_with_client_tools=bool(builtin.builtin))
    toolbox = builtin_toolbox(builtin)
    if mcp is not None:
        options = replace(options, tools=())
        toolbox.declare(mcp.function_tools())
    session = Session(Backends(llm=llm), options, clock=RealClock(), output=CollectingOutput(), observers=[recorder],
                      toolbox=toolbox)
    results = []
    try:
        # No session.prefill(): the last item's prompt in llama.cpp's cache starts with the same instructions and
        # tools, which a server's long-lived model would hold too; a prefill of the instructions alone would cut it.
        for turn in item.turns:
            started = time.perf_counter()
            session.add_user_text(turn.text)
            if turn.seeded is not None:  # the client replays a call that failed and its error
                seeded = ToolCall(new_id("call"), turn.seeded.name, turn.seeded.arguments)
                session.add_item(ConversationItem(new_id("item"), "assistant", tool_calls=(seeded,)))
                session.add_tool_result(seeded.id, _output(seeded))
            calls: list[ToolCall] = []
            between: list[str] = []
            answer, first, responses = "", None, 0
            for responses in range(1, MAX_RESPONSES + 1):  # noqa: B007 - the count is reported
                handle = await session.create_reply()
                await handle.done.wait()
                response = recorder.responses[handle.reply_id]
                calls += response.ran
                if not response.calls:
                    answer = response.text
                    first = None if response.first_token is None else response.first_token - response.started
                    break
                calls += response.calls
                if response.text:
                    between.append(response.text)
                for call in response.calls:  # the client runs its functions and sends their outputs
                    session.add_tool_result(call.id, _output(call))
            turn_s = time.perf_counter() - started
            made = [Call(c.name, c.arguments) for c in calls]
            verdict = judge_turn(turn, made, answer, item.language)
            results.append(TurnResult(turn.text, tuple((c.name, c.arguments) for c in calls), tuple(between),
                                      answer, responses, None if first is None else round(first, 3),
                                      round(turn_s, 2), verdict.called_right, verdict.answered_right,
                                      verdict.problems))
            await session.idle()  # the next turn's prefill, while the user starts to speak
    finally:
        await session.aclose()
    return ItemResult(item.id, item.kind, item.language, temperature, tuple(results))


def _output(call: ToolCall) -> str:
    return json.dumps(client_result(call.name, call.arguments), ensure_ascii=False)


async def run(llm: LLM, items: Sequence[Item], base: SessionOptions, temperatures: Sequence[float],
              finished: Callable[[ItemResult], None] = lambda result: None,
              builtin: ToolsSettings = NO_BUILTINS, via: str = "client") -> list[ItemResult]:
    """Every item at every temperature; ``via`` "mcp": the tools from :mod:`omni.bench.tool_server`, started once."""
    mcp = await McpConnection.open(McpTarget("kept-set", command=COMMAND)) if via == "mcp" else None
    results = []
    try:
        for temperature in temperatures:
            for item in items:
                result = await run_item(llm, item, base, temperature, builtin, mcp)
                results.append(result)
                finished(result)
    finally:
        if mcp is not None:
            await mcp.aclose()
    return results


def describe(result: ItemResult) -> str:
    lines = [f"{'right' if result.right else 'WRONG'} t={result.temperature:g} {result.id}"]
    for turn in result.turns:
        calls = ", ".join(f"{name}({arguments})" for name, arguments in turn.calls) or "no call"
        lines.append(f"    {turn.said} → {calls} → {turn.answer[:160]!r}")
        if turn.problems:
            lines.append(f"      problems: {'; '.join(turn.problems)}")
    return "\n".join(lines)


@dataclass(frozen=True)
class Row:
    temperature: float
    group: str
    n: int
    called_right: float
    answered_right: float
    right: float
    first_token_median_s: float | None
    turn_median_s: float | None


def summarise(results: Sequence[ItemResult]) -> list[Row]:
    rows = []
    for temperature in dict.fromkeys(r.temperature for r in results):
        at = [r for r in results if r.temperature == temperature]
        groups: list[tuple[str, list[ItemResult]]] = [("all", at)]
        groups += [(language, [r for r in at if r.language == language]) for language in ("en", "ko")]
        groups += [(kind, [r for r in at if r.kind == kind]) for kind in KINDS]
        for name, chosen in groups:
            if not chosen:
                continue
            firsts = [t.first_token_s for r in chosen for t in r.turns if t.first_token_s is not None]
            totals = [t.turn_s for r in chosen for t in r.turns]
            rows.append(Row(temperature, name, len(chosen),
                            round(sum(r.called_right for r in chosen) / len(chosen), 3),
                            round(sum(r.answered_right for r in chosen) / len(chosen), 3),
                            round(sum(r.right for r in chosen) / len(chosen), 3),
                            round(statistics.median(firsts), 2) if firsts else None,
                            round(statistics.median(totals), 2) if totals else None))
    return rows


def format_summary(rows: Sequence[Row]) -> str:
    lines = [f"{'temp':>5} {'group':<10} {'n':>3} {'call right':>10} {'answer right':>12} {'right':>6} "
             f"{'first token':>11} {'turn':>7}"]
    for row in rows:
        first = f"{row.first_token_median_s:.2f} s" if row.first_token_median_s is not None else "-"
        turn = f"{row.turn_median_s:.1f} s" if row.turn_median_s is not None else "-"
        lines.append(f"{row.temperature:>5g} {row.group:<10} {row.n:>3} {row.called_right:>10.0%} "
                     f"{row.answered_right:>12.0%} {row.right:>6.0%} {first:>11} {turn:>7}")
    return "\n".join(lines)


def rejudge(path: Path) -> list[ItemResult]:
    """An earlier run's conversations, judged by the judge and keys as they are now."""
    by_id = {item.id: item for item in ITEMS}
    results = []
    for row in json.loads(path.read_text(encoding="utf-8"))["items"]:
        item = by_id[row["id"]]
        turns = []
        for turn, saved in zip(item.turns, row["turns"], strict=False):
            verdict = judge_turn(turn, [Call(name, arguments) for name, arguments in saved["calls"]],
                                 saved["answer"], item.language)
            fields = {**saved, "calls": tuple(tuple(c) for c in saved["calls"]),
                      "said_between": tuple(saved["said_between"])}
            turns.append(replace(TurnResult(**fields), called_right=verdict.called_right,
                                 answered_right=verdict.answered_right, problems=verdict.problems))
        results.append(ItemResult(item.id, item.kind, item.language, row["temperature"], tuple(turns)))
    return results


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m omni.bench.tool_loop", description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write every conversation and the summary here")
    parser.add_argument("--every", type=int, default=1, help="run every Nth item (2: half the set, both languages)")
    parser.add_argument("--temperature", default="0.8,0",
                        help="comma-separated sampling temperatures (the Realtime API's default is 0.8)")
    parser.add_argument("--only", default="", help="comma-separated item ids or kinds to run")
    parser.add_argument("--verbose", action="store_true", help="print each conversation as it ends")
    parser.add_argument("--instructions", metavar="TEXT",
                        help="a client's instructions instead of Omni's default (an Agents SDK agent always sets "
                             "its own)")
    parser.add_argument("--builtin", default="", metavar="TOOLS",
                        help="comma-separated built-in tools offered beside the client's, as omni serve does with "
                             "[tools] with_client_tools = true (clock,calculator,notes,timers); none by default")
    parser.add_argument("--via", choices=("client", "mcp"), default="client",
                        help="the tools as the client's function tools, or as an MCP server's the client names")
    parser.add_argument("--rejudge", type=Path, metavar="JSON",
                        help="judge the conversations of an earlier run's JSON again (after the keys changed)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from omni.backends import registry
    from omni.config import load_settings
    from omni.session.build import session_options as configured

    args = _parser().parse_args(argv)
    if args.rejudge:
        print(format_summary(summarise(rejudge(args.rejudge))))
        return 0
    temperatures = [float(t) for t in args.temperature.split(",") if t.strip()]
    only = {o.strip() for o in args.only.split(",") if o.strip()}
    items = [i for i in ITEMS if not only or i.id in only or i.kind in only][:: max(1, args.every)]
    settings = load_settings()
    llm = registry.create("llm", settings.llm.backend, settings)
    base = configured(settings, output_audio=False, language=None)
    if args.instructions is not None:
        base = replace(base, instructions=args.instructions)
    started = time.perf_counter()
    done: list[ItemResult] = []

    def save() -> None:
        """The JSON so far: a run cut short keeps what it measured."""
        if not args.json:
            return
        machine = {"cpus": os.cpu_count(), "load_average": os.getloadavg(), "llm": settings.llm.model,
                   "llm_threads": settings.llm.threads, "seconds": round(time.perf_counter() - started),
                   "command": " ".join(["python -m omni.bench.tool_loop", *(argv or sys.argv[1:])])}
        args.json.write_text(json.dumps({"machine": machine, "summary": [asdict(r) for r in summarise(done)],
                                         "items": [{**asdict(r), "right": r.right} for r in done]},
                                        ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

    def progress(line: str) -> None:
        if args.verbose:
            print(line, flush=True)

    def finished(result: ItemResult) -> None:
        done.append(result)
        progress(describe(result))
        save()

    builtin = ToolsSettings(builtin=args.builtin, timezone=settings.tools.timezone)
    results = asyncio.run(run(llm, items, base, temperatures, finished, builtin, args.via))
    print(format_summary(summarise(results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
