"""The conversation: items in order, and the prompt built from them within a token budget.

The prompt prefix (system message and the oldest kept turns) stays byte-identical from turn to turn so the LLM's
KV cache is reused. When the history outgrows the budget, whole turns are dropped from the front — never part of a
message — and enough of them at once (down to half the budget) that the prefix then stays stable for a while
instead of shifting every turn. A short note tells the model that earlier turns were left out.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from omni.types import ChatMessage, Role, ToolCall

ItemStatus = Literal["in_progress", "completed", "incomplete"]

IMAGE_NOTE = "(The user attached an image; you cannot see images, so say so if it matters.)"
"""What the model reads in place of an image a client sent, until a vision backend exists."""

_ids = itertools.count(1)


def new_id(prefix: str) -> str:
    return f"{prefix}_{next(_ids):06d}"


@dataclass
class Item:
    """A conversation entry; assistant items are cut to what was heard when a reply is interrupted."""

    id: str
    role: Role
    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    status: ItemStatus = "completed"
    language: str | None = None

    def message(self) -> ChatMessage:
        return ChatMessage(self.role, self.text, self.tool_calls, self.tool_call_id)


@dataclass
class Conversation:
    items: list[Item] = field(default_factory=list)
    _first_kept: int = 0
    """Items before this index are left out of prompts (dropped for the budget); only ever grows."""

    def add(self, item: Item, *, after: str | None = None) -> Item:
        if after is None:
            self.items.append(item)
        else:
            self.items.insert(self._index(after) + 1, item)
        return item

    def get(self, item_id: str) -> Item:
        return self.items[self._index(item_id)]

    def delete(self, item_id: str) -> Item:
        index = self._index(item_id)
        if index < self._first_kept:
            self._first_kept -= 1
        return self.items.pop(index)

    def truncate(self, item_id: str, text: str) -> Item:
        item = self.get(item_id)
        item.text = text
        item.status = "incomplete"
        return item

    def _index(self, item_id: str) -> int:
        for index, item in enumerate(self.items):
            if item.id == item_id:
                return index
        raise KeyError(item_id)

    def prompt(
        self,
        instructions: str,
        *,
        budget_tokens: int,
        count_tokens: Callable[[str], int],
        extra: Sequence[ChatMessage] = (),
    ) -> list[ChatMessage]:
        """System message, kept history, then ``extra`` (messages for this reply only)."""
        fixed = count_tokens(instructions) + sum(count_tokens(m.content) for m in extra)
        history = self._history()
        if fixed + _tokens(history, count_tokens) > budget_tokens:
            self._drop_front(target=max(0, budget_tokens // 2 - fixed), count_tokens=count_tokens)
            history = self._history()
        messages = [ChatMessage("system", instructions)]
        if self._first_kept > 0:
            note = f"({self._first_kept} earlier messages of this conversation are not shown.)"
            messages.append(ChatMessage("system", note))
        return [*messages, *(item.message() for item in history), *extra]

    def _history(self) -> list[Item]:
        return [i for i in self.items[self._first_kept:] if i.text or i.tool_calls or i.role == "tool"]

    def _drop_front(self, *, target: int, count_tokens: Callable[[str], int]) -> None:
        """Drop whole turns (a user item and everything up to the next user item) until history fits ``target``."""
        while _tokens(self._history(), count_tokens) > target:
            starts = [i for i in range(self._first_kept + 1, len(self.items)) if self.items[i].role == "user"]
            if not starts:
                return  # the last turn always stays, even when alone it is over the budget
            self._first_kept = starts[0]


def _tokens(items: Sequence[Item], count_tokens: Callable[[str], int]) -> int:
    return sum(count_tokens(i.text) + sum(count_tokens(c.arguments) for c in i.tool_calls) + 4 for i in items)

