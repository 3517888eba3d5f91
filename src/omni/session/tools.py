"""Local function tools (a schema the LLM sees and a Python function Omni runs when the model calls it), and the
tool loop's rules for every tool: which calls are repeats, and what the model is told after a round's results."""

from __future__ import annotations

import asyncio
import inspect
import itertools
import json
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from omni.types import Tool, ToolCall

if TYPE_CHECKING:
    from omni.session.context import Item

ToolFunction = Callable[..., object] | Callable[..., Awaitable[object]]


Message = Callable[[str | None], str]
"""What to say, given the user's language (an ISO 639-1 code, or None when unknown)."""


@dataclass(frozen=True)
class ToolContext:
    """What a local tool may reach of its session, given once the session exists (:meth:`ToolBox.bind`)."""

    schedule: Callable[[float, Message], Callable[[], None]]
    """``schedule(seconds, message)``: after ``seconds`` on the session's clock, say ``message(language)`` to the
    user as a reply of the session's own, as soon as no reply is active and the user is not speaking. Returns a
    function that cancels it. Whatever is scheduled ends with the session."""


@dataclass(frozen=True)
class FunctionTool:
    tool: Tool
    function: ToolFunction
    cues: Mapping[str, re.Pattern[str]] = field(default_factory=dict)
    """Per language, the words a message that asks for this tool has one of (a built-in tool's, in English and
    Korean): a message in that language without any is answered without calling it. A message in a language with
    no cues may call it."""

    triggers: Mapping[str, re.Pattern[str]] = field(default_factory=dict)
    """Per language, phrasings that ask for this tool and nothing else ("지금 몇 시야?", "set a timer"): the reply
    calls it, whatever the model's first token leans to (a 1.5B model's lean is weak in Korean). A trigger is also a
    cue."""
    bind: Callable[[ToolContext], None] | None = None
    """Called with the session's :class:`ToolContext` (a tool that speaks later, such as a timer)."""
    needs_approval: bool = False
    """A call is not run until the client approves it (a Realtime MCP tool with ``require_approval``): it ends the
    reply as a client's call does, and is run once approved (:meth:`ToolBox.run`)."""

    def asked_for_by(self, message: str, language: str | None) -> bool:
        cues = self.cues.get(language or "")
        return cues is None or cues.search(message) is not None or self.triggered_by(message, language)

    def triggered_by(self, message: str, language: str | None) -> bool:
        triggers = self.triggers.get(language or "")
        return triggers is not None and triggers.search(message) is not None


class Closeable(Protocol):
    async def aclose(self) -> None: ...


class ToolBox:
    """The tools a session may run itself. Results and errors both go back to the model as text.

    Two kinds: the session's own (built-in tools, configured MCP servers' tools), and those the client declared
    that the session runs for it (a Realtime ``mcp`` entry's tools, :meth:`declare`), which are offered with the
    client's tools and hide an own tool of the same name. ``owned``: what the tools hold open (MCP connections),
    closed by :meth:`aclose` when the session ends."""

    def __init__(self, tools: Sequence[FunctionTool] = (), *, owned: Sequence[Closeable] = ()) -> None:
        self._tools = {t.tool.name: t for t in tools}
        self._declared: dict[str, FunctionTool] = {}
        self._owned = list(owned)

    @property
    def schemas(self) -> list[Tool]:
        """Every tool: the own ones (less those a declared one hides), then the declared ones."""
        return [*self.own_schemas, *self.declared_schemas]

    @property
    def own_schemas(self) -> list[Tool]:
        return [t.tool for name, t in self._tools.items() if name not in self._declared]

    @property
    def declared_schemas(self) -> list[Tool]:
        return [t.tool for t in self._declared.values()]

    def __contains__(self, name: object) -> bool:
        return name in self._declared or name in self._tools

    def _entry(self, name: str) -> FunctionTool | None:
        return self._declared.get(name) or self._tools.get(name)

    def is_declared(self, name: str) -> bool:
        return name in self._declared

    def needs_approval(self, name: str) -> bool:
        entry = self._entry(name)
        return entry is not None and entry.needs_approval

    def declare(self, tools: Sequence[FunctionTool]) -> None:
        """The tools the client declared that the session runs, replacing those declared before."""
        self._declared = {t.tool.name: t for t in tools}

    def own(self, resource: Closeable) -> None:
        """Close ``resource`` with the toolbox."""
        self._owned.append(resource)

    async def aclose(self) -> None:
        owned, self._owned = self._owned, []
        await asyncio.gather(*(resource.aclose() for resource in owned), return_exceptions=True)

    def bind(self, context: ToolContext) -> None:
        for entry in self._tools.values():
            if entry.bind is not None:
                entry.bind(context)

    def triggered(self, message: str, language: str | None) -> list[str]:
        """The tools one of whose triggers ``message`` (in ``language``) has."""
        return [name for name, entry in self._tools.items()
                if name not in self._declared and entry.triggered_by(message, language)]

    def unasked(self, message: str, language: str | None) -> set[str]:
        """The tools ``message`` (in ``language``) has none of the cues of."""
        return {name for name, entry in self._tools.items()
                if name not in self._declared and not entry.asked_for_by(message, language)}

    async def run(self, call: ToolCall) -> str:
        entry = self._entry(call.name)
        if entry is None:
            return json.dumps({"error": f"unknown tool {call.name!r}"})
        try:
            arguments = json.loads(call.arguments or "{}")
            if not isinstance(arguments, dict):
                raise TypeError("arguments must be a JSON object")
        except (ValueError, TypeError) as exc:
            return json.dumps({"error": f"invalid arguments for {call.name}: {exc}"})
        try:
            if inspect.iscoroutinefunction(entry.function):
                result = await entry.function(**arguments)
            else:
                result = await asyncio.to_thread(entry.function, **arguments)
        except Exception as exc:  # a tool's failure is the model's to handle, not the session's
            return json.dumps({"error": f"{call.name} failed: {type(exc).__name__}: {exc}"})
        return result if isinstance(result, str) else json.dumps(result, ensure_ascii=False, default=str)


# ---- the tool loop's rules, for client and local tools alike ---------------------------------------------------

MAX_CORRECTIONS = 1
"""Calls a turn may make again after a result that says their arguments were wrong; after that the model answers."""

_ARGUMENT_WORDS = ("argument", "parameter", "required", "missing", "invalid", "property", "schema", "must be")


def _arguments(call: ToolCall) -> dict[str, object] | None:
    try:
        value = json.loads(call.arguments or "{}")
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _same_value(a: object, b: object) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.strip().casefold() == b.strip().casefold()
    return a == b


def repeats(call: ToolCall, earlier: ToolCall, *, failed: bool = False) -> bool:
    """Whether ``call`` asks again what ``earlier`` asked: the same tool with the same arguments (case and spacing
    aside). After a call that worked, also with more arguments (a 1.5B model repeats a call with the result's fields
    added to it); after one that ``failed``, more arguments are its correction."""
    if call.name != earlier.name:
        return False
    new, old = _arguments(call), _arguments(earlier)
    if new is None or old is None:
        return call.arguments.strip() == earlier.arguments.strip()
    if failed and set(new) != set(old):
        return False
    return all(key in new and _same_value(new[key], value) for key, value in old.items())


def new_calls(made: Sequence[ToolCall], turn: Sequence[Item]) -> list[ToolCall]:
    """The calls in ``made`` that neither repeat a call already made this turn (``turn``: the items since the user's
    message, with the calls' results) nor one before them in ``made``."""
    results = {item.tool_call_id: item.text for item in turn if item.role == "tool"}
    earlier = [(call, _is_error(results.get(call.id, ""))) for item in turn for call in item.tool_calls]
    kept: list[ToolCall] = []
    for call in made:
        if not any(repeats(call, before, failed=failed) for before, failed in [*earlier, *((k, False) for k in kept)]):
            kept.append(call)
    return kept


def _is_error(result: str) -> bool:
    try:
        value = json.loads(result)
    except ValueError:
        return False
    return isinstance(value, dict) and "error" in value


def this_turn(items: Sequence[Item]) -> list[Item]:
    """The items after the newest user message: this turn's calls and their results (not a reply being written)."""
    turn: list[Item] = []
    for item in reversed(items):
        if item.role == "user":
            break
        if item.status != "in_progress":
            turn.append(item)
    return turn[::-1]


def argument_error(result: str) -> str | None:
    """The error message of a tool result that says the call's arguments were wrong, else None."""
    try:
        value = json.loads(result)
    except ValueError:
        return None
    error = value.get("error") if isinstance(value, dict) else None
    if not isinstance(error, str) or not any(word in error.lower() for word in _ARGUMENT_WORDS):
        return None
    return error


@dataclass(frozen=True)
class AfterResults:
    """What the model is told after a round's tool results, and the tool it must call again (a correction)."""

    note: str
    correct: str | None = None


def after_results(question: str, language: str, turn: Sequence[Item], *, answer_now: bool = False) -> AfterResults:
    """The note that follows a round's tool results in the prompt (``turn``: the items since the user's message,
    ending with those results). A result saying the arguments were wrong asks for that call again, corrected
    (:data:`MAX_CORRECTIONS` a turn); otherwise the model is asked to answer from the results, in the user's language
    and in speakable sentences, and may still call a tool for what the results do not tell."""
    results = list(itertools.takewhile(lambda item: item.role == "tool", reversed(turn)))
    corrections = sum(argument_error(i.text) is not None for i in turn if i.role == "tool")
    asked = f'the user\'s question "{question.strip()}"'
    calls = {c.id: c.name for item in turn for c in item.tool_calls}
    failed = [(calls[i.tool_call_id], error) for i in results
              if i.tool_call_id in calls and (error := argument_error(i.text)) is not None]
    if failed and not answer_now and corrections <= MAX_CORRECTIONS:
        name, error = failed[0]
        return AfterResults(f"The call failed: {error}. Call {name} again for {asked}, with arguments that follow "
                            "its parameters exactly.", correct=name)
    if answer_now:
        return AfterResults(f"The tool results above are all there is. Answer {asked} from them now, in {language}, "
                            "in one or two short spoken sentences, without JSON or code.")
    # The error sentence only when there is an error: told it always, the model says "I could not find it out"
    # after results that worked.
    failure = " A result is an error: say what could not be found out." if any(_is_error(i.text) for i in results) \
        else ""
    return AfterResults(f"Answer {asked} from the tool results above, in {language}, in one or two short spoken "
                        f"sentences with the facts and numbers they give, without JSON or code.{failure} Call another "
                        "tool only for something the question asks that the results do not tell.")
