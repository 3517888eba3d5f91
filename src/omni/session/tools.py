"""Local function tools: a schema the LLM sees and a Python function Omni runs when the model calls it."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from omni.types import Tool, ToolCall

ToolFunction = Callable[..., object] | Callable[..., Awaitable[object]]


@dataclass(frozen=True)
class FunctionTool:
    tool: Tool
    function: ToolFunction


class ToolBox:
    """The tools a session may run itself. Results and errors both go back to the model as text."""

    def __init__(self, tools: Sequence[FunctionTool] = ()) -> None:
        self._tools = {t.tool.name: t for t in tools}

    @property
    def schemas(self) -> list[Tool]:
        return [t.tool for t in self._tools.values()]

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    async def run(self, call: ToolCall) -> str:
        entry = self._tools.get(call.name)
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
