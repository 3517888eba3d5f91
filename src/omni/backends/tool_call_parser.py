"""Pull ``<tool_call>{json}</tool_call>`` blocks out of streamed model text.

Qwen2.5, Hermes and many other open chat templates ask the model to write tool calls in this form. Text outside
the tags passes through as it streams; a partial tag at the end of a delta is held back until the next delta
decides whether it is a tag.

Small models often answer with a bare JSON object (or a fenced ```json block) instead of the tags. When tools are
offered and a reply starts that way, it is held back to the end and taken as a call if it names an offered tool.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from omni.types import ToolCall

OPEN = "<tool_call>"
CLOSE = "</tool_call>"


@dataclass
class ToolCallParser:
    tool_names: frozenset[str] = frozenset()
    calls: list[ToolCall] = field(default_factory=list)
    malformed: list[str] = field(default_factory=list)
    _pending: str = ""
    _inside: bool = False
    _started: bool = False
    _bare_json: bool = False

    def push(self, delta: str) -> str:
        """Feed model text; return the part that is plain text and safe to show."""
        self._pending += delta
        if not self._started:
            head = self._pending.lstrip()
            if not head:
                return ""
            self._started = True
            self._bare_json = bool(self.tool_names) and head[0] in "{`"
        if self._bare_json:
            return ""
        out: list[str] = []
        while True:
            if self._inside:
                end = self._pending.find(CLOSE)
                if end < 0:
                    return "".join(out)
                self._parse(self._pending[:end])
                self._pending = self._pending[end + len(CLOSE):]
                self._inside = False
                continue
            start = self._pending.find(OPEN)
            if start >= 0:
                out.append(self._pending[:start])
                self._pending = self._pending[start + len(OPEN):]
                self._inside = True
                continue
            keep = _partial_tag_suffix(self._pending)
            out.append(self._pending[: len(self._pending) - keep])
            self._pending = self._pending[len(self._pending) - keep:]
            return "".join(out)

    def finish(self) -> str:
        """End of stream: an unclosed tool call is parsed if it is complete JSON; leftovers are returned as text."""
        rest, self._pending = self._pending, ""
        if self._bare_json:
            body = rest.strip().removeprefix("```json").removeprefix("```").removesuffix("```")
            if self._parse(body, quiet=True):
                return ""
            return rest
        if self._inside:
            self._inside = False
            self._parse(rest)
            return ""
        return rest

    def _parse(self, body: str, *, quiet: bool = False) -> bool:
        """Record the call in ``body`` (or the calls: a small model writes two calls as two JSON objects in one
        block); ``quiet`` (a bare JSON reply) also requires an offered tool's name."""
        try:
            found = [(data["name"], data.get("arguments", data.get("parameters", {})))
                     for data in _load_objects(body.strip())]
        except (ValueError, KeyError, TypeError, AttributeError):
            found = []
        if not found or not all(isinstance(name, str) and (not quiet or name in self.tool_names)
                                for name, _ in found):
            if not quiet:
                self.malformed.append(body)
            return False
        for name, arguments in found:
            text_args = arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)
            self.calls.append(ToolCall(id=f"call_{uuid.uuid4().hex[:16]}", name=name, arguments=text_args))
        return True


def _load_objects(text: str) -> list[Any]:
    """The JSON value in ``text``, or the JSON objects written one after another in it."""
    try:
        return [_load_json(text)]
    except ValueError:
        decoder = json.JSONDecoder()
        objects, at = [], 0
        while at < len(text):
            value, at = decoder.raw_decode(text, at)  # raises ValueError on anything else
            objects.append(value)
            while at < len(text) and text[at] in " \t\r\n,":
                at += 1
        return objects


def _load_json(text: str) -> Any:
    """JSON, or JSON wrapped in one extra pair of braces: Qwen2.5-Coder's chat template shows the call format as
    ``{{"name": ..., "arguments": ...}}`` and the model copies the doubled braces."""
    try:
        return json.loads(text)
    except ValueError:
        if text.startswith("{{") and text.endswith("}"):
            return json.loads(text[1:-1])
        raise


def _partial_tag_suffix(text: str) -> int:
    """Length of the longest suffix of ``text`` that is a proper prefix of the opening tag."""
    for size in range(min(len(OPEN) - 1, len(text)), 0, -1):
        if OPEN.startswith(text[-size:]):
            return size
    return 0
