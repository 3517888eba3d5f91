"""The conversation: items in order, and the prompt built from them within a token budget.

The prompt prefix (system message and the oldest kept turns) stays byte-identical from turn to turn so the LLM's
KV cache is reused. When the history outgrows the budget, whole turns are dropped from the front — never part of a
message — and enough of them at once (down to half the budget) that the prefix then stays stable for a while
instead of shifting every turn. A short note tells the model that earlier turns were left out.

Images reach the model as notes of what vision found in them (:mod:`omni.session.vision`). A camera sends frames
all along, so in a run of image-only messages only the newest :data:`FRAMES_PER_RUN` different views are shown,
and images further back than the newest :data:`FULL_IMAGE_MESSAGES` messages with images are shown in one line.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from omni.session.vision import ItemImage
from omni.types import ChatMessage, Role, ToolCall
from omni.vision.change import same_view

ItemStatus = Literal["in_progress", "completed", "incomplete"]

FRAMES_PER_RUN = 2
FULL_IMAGE_MESSAGES = 2

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
    images: list[ItemImage] = field(default_factory=list)

    def message(self, *, short_images: bool = False, language: str | None = None) -> ChatMessage:
        """As the LLM reads it: what vision found in the images first, the user's words after (a small model
        answers the last thing it read)."""
        notes = [image.note(short=short_images, language=language) for image in self.images]
        return ChatMessage(self.role, "\n".join(t for t in (*notes, self.text) if t), self.tool_calls,
                           self.tool_call_id)

    @property
    def image_only(self) -> bool:
        return self.role == "user" and bool(self.images) and not self.text


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
        language: str | None = None,
    ) -> list[ChatMessage]:
        """System message, kept history, then ``extra`` (messages for this reply only); ``language`` is the
        user's, in which things seen in images may be named."""
        fixed = count_tokens(instructions) + sum(count_tokens(m.content) for m in extra)
        history = self._history(language)
        if fixed + _tokens(history, count_tokens) > budget_tokens:
            self._drop_front(target=max(0, budget_tokens // 2 - fixed), count_tokens=count_tokens)
            history = self._history(language)
        messages = [ChatMessage("system", instructions)]
        if self._first_kept > 0:
            note = f"({self._first_kept} earlier messages of this conversation are not shown.)"
            messages.append(ChatMessage("system", note))
        return [*messages, *history, *extra]

    def _history(self, language: str | None = None) -> list[ChatMessage]:
        kept = [i for i in self.items[self._first_kept:] if i.text or i.tool_calls or i.images or i.role == "tool"]
        hidden = _superseded_frames(kept)
        with_images = [i.id for i in kept if i.images and i.id not in hidden]
        full = set(with_images[-FULL_IMAGE_MESSAGES:])
        return [i.message(short_images=i.id not in full, language=language) for i in kept if i.id not in hidden]

    def images_since_reply(self) -> bool:
        """Whether a user message with images came after the last assistant message (the turn is about them); the
        reply being written is not one."""
        for item in reversed(self.items):
            if item.role == "assistant" and item.status != "in_progress":
                return False
            if item.role == "user" and item.images:
                return True
        return False

    def _drop_front(self, *, target: int, count_tokens: Callable[[str], int]) -> None:
        """Drop whole turns (a user item and everything up to the next user item) until history fits ``target``."""
        while _tokens(self._history(), count_tokens) > target:
            starts = [i for i in range(self._first_kept + 1, len(self.items)) if self.items[i].role == "user"]
            if not starts:
                return  # the last turn always stays, even when alone it is over the budget
            self._first_kept = starts[0]


def _superseded_frames(items: Sequence[Item]) -> set[str]:
    """Image-only messages a newer one in the same run (no user words between) makes redundant: all but the
    newest :data:`FRAMES_PER_RUN` different views."""
    hidden: set[str] = set()
    run: list[Item] = []
    for item in [*items, None]:
        if item is not None and item.role != "user":
            continue
        if item is not None and item.image_only:
            run.append(item)
            continue
        shown: list[Item] = []
        for frame in reversed(run):
            if len(shown) < FRAMES_PER_RUN and not any(_same_views(frame, s) for s in shown):
                shown.append(frame)
            else:
                hidden.add(frame.id)
        run = []
    return hidden


def _same_views(a: Item, b: Item) -> bool:
    return len(a.images) == len(b.images) and all(
        same_view(x.signature, y.signature) for x, y in zip(a.images, b.images, strict=True))


def _tokens(messages: Sequence[ChatMessage], count_tokens: Callable[[str], int]) -> int:
    return sum(count_tokens(m.content) + sum(count_tokens(c.arguments) for c in m.tool_calls) + 4 for m in messages)

