"""Reading a speaking user's words ahead: what they have said so far is transcribed while they go on, and the LLM
decodes those words into its prompt cache, so that when they stop only the last words and the end of the turn are
left to decode.

On the embedded model and two cores a prompt costs about 20 ms per new token in such small batches, close to a
generated token's 36 ms: "What is the capital of France?" and the turn's template are 12 tokens, 242 ms after the
end of speech without this; with "What is the capital of" read ahead, about 7 are left. The partial transcripts
are never shown; the turn's own transcript is made from all of its audio as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any


def settled_words(text: str) -> str:
    """The start of a partial transcript that more audio will most likely not change: every word but the last,
    which may have been cut off mid-word (and carries the punctuation of an end the speaker has not reached)."""
    words = text.split()
    return " ".join(words[:-1])


class ListenAhead:
    """When to read ahead: after ``every_ms`` of speech, then after each ``every_ms`` more, one read at a time."""

    def __init__(self) -> None:
        self._since_ms = 0.0  # the end of the audio the last read covered (or where speech was detected)
        self._task: asyncio.Task[None] | None = None

    def restart(self, now_ms: float) -> None:
        """Speech was detected at ``now_ms``: a new turn's words are counted from here."""
        self._since_ms = now_ms

    def due(self, now_ms: float, every_ms: int) -> bool:
        running = self._task is not None and not self._task.done()
        return not running and now_ms - self._since_ms >= every_ms

    def start(self, now_ms: float, work: Coroutine[Any, Any, None]) -> None:
        self._since_ms = now_ms
        self._task = asyncio.ensure_future(work)

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
