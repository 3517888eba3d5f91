"""Runs ``agents-js/ask.mjs`` (the OpenAI Agents SDK for JavaScript, a RealtimeSession with a function tool) against
a Realtime server and collects its JSON lines, one :class:`Case` per question."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CLIENT = Path(__file__).resolve().parent / "agents-js"
SCRIPT = CLIENT / "ask.mjs"


@dataclass
class Case:
    """What happened to one question: the tool calls the SDK ran, the final assistant message, problems."""

    question: str
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    answer: dict[str, Any] | None = None
    errors: list[str] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    """Server events of a type the SDK knows that failed its schema (the SDK drops those silently)."""
    unknown: list[str] = field(default_factory=list)
    timed_out: bool = False
    forgot: list[dict[str, Any]] | None = None
    """The history after ``updateHistory`` took the function calls out (``forget_calls``)."""

    @property
    def text(self) -> str:
        return str(self.answer["text"]) if self.answer else ""


def node_ready() -> str | None:
    """Why the client cannot run here, or None: it needs ``node`` and the packages ``npm ci`` installs."""
    if shutil.which("node") is None:
        return "node is not installed (scripts/install.sh --test installs Debian's nodejs)"
    if not (CLIENT / "node_modules" / "@openai" / "agents-realtime" / "package.json").exists():
        return f"{CLIENT}/node_modules is missing: run scripts/install.sh --test (npm ci there)"
    return None


async def ask(ws_url: str, questions: list[str], *, turn_seconds: float = 240, api_key: str = "sk-omni-local",
              forget_calls: bool = False) -> list[Case]:
    """Each question in a new RealtimeSession (its own connection and conversation), one after the other; a
    question that starts with "+" is the next turn of the session before it. ``forget_calls``: after each answer,
    take the function calls out of the history with ``updateHistory``."""
    env = {**os.environ, "OMNI_AGENT_TURN_SECONDS": str(turn_seconds), "OMNI_API_KEY": api_key,
           "OMNI_AGENT_FORGET_CALLS": "1" if forget_calls else "0"}
    process = await asyncio.create_subprocess_exec(
        "node", str(SCRIPT), ws_url, *questions, cwd=CLIENT, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )
    try:
        # The script bounds each turn itself; this bound is for a client that hangs anyway.
        out, err = await asyncio.wait_for(process.communicate(), turn_seconds * len(questions) + 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    cases = [Case(question) for question in questions]
    for line in out.decode().splitlines():
        record = json.loads(line)
        kind, index = record["kind"], record["case"]
        if index < 0:  # the script itself failed
            raise AssertionError(f"the client failed: {record['error']}\n{err.decode()}")
        case = cases[index]
        if kind == "tool_call":
            case.tool_calls.append(record)
        elif kind == "answer":
            case.answer = record
        elif kind == "error":
            case.errors.append(record["error"])
        elif kind == "rejected":
            case.rejected.append(record)
        elif kind == "unknown":
            case.unknown.append(record["type"])
        elif kind == "forgot":
            case.forgot = record["history"]
        elif kind == "timeout":
            case.timed_out = True
            case.answer = record
    assert process.returncode == 0, f"node exited with {process.returncode}: {err.decode()}"
    return cases
