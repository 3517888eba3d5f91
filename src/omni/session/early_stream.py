"""An LLM reply started before it is known to be wanted, kept until the turn it answers is confirmed.

During the pause that may end a user's turn the session already has a transcript (speculative STT); starting the
LLM on it then, instead of after the silence wait, hides the prompt processing and the first tokens inside the wait.
The events are buffered until the reply reads them. Nothing is spoken or shown before that: when the user goes on
talking the stream is closed and no one ever sees it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from omni.aio import closing
from omni.backends.base import LLM, GenerationOptions
from omni.types import ChatMessage, LLMEvent, Tool


@dataclass(frozen=True)
class LLMRequest:
    """Everything a chat call depends on: a started stream answers a later request only if it is equal."""

    messages: tuple[ChatMessage, ...]
    tools: tuple[Tool, ...]
    options: GenerationOptions

    @classmethod
    def of(cls, messages: Sequence[ChatMessage], tools: Sequence[Tool], options: GenerationOptions) -> LLMRequest:
        return cls(tuple(messages), tuple(tools), options)


class EarlyStream:
    """Run ``llm.chat(request)`` now; :meth:`events` yields what was generated so far, then the rest as it comes."""

    def __init__(self, llm: LLM, request: LLMRequest) -> None:
        self.request = request
        self._queue: asyncio.Queue[LLMEvent | Exception | None] = asyncio.Queue()
        self._task = asyncio.ensure_future(self._pump(llm))

    async def _pump(self, llm: LLM) -> None:
        try:
            request = self.request
            stream = llm.chat(list(request.messages), tools=list(request.tools), options=request.options)
            async with closing(stream) as events:
                async for event in events:
                    self._queue.put_nowait(event)
        except Exception as exc:  # handed to the reader, which raises it where the reply handles LLM errors
            self._queue.put_nowait(exc)
        finally:
            self._queue.put_nowait(None)

    async def events(self) -> AsyncIterator[LLMEvent]:
        while (item := await self._queue.get()) is not None:
            if isinstance(item, Exception):
                raise item
            yield item

    async def aclose(self) -> None:
        """Stop generating; returns once the LLM is free for the next call."""
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    def cancel(self) -> None:
        """Stop generating without waiting (from synchronous code)."""
        self._task.cancel()
