"""A canned LLM for benchmarks and demos: it streams one fixed reply word by word, with no model behind it.

``omni bench --suite scale`` serves replies from it so that what is measured is Omni's own cost per session
(protocol, VAD, endpointing, streaming), not a model's. It answers every prompt with the same text
(``llm.canned_reply``), never calls tools, and reports a :class:`Usage` like a real backend; ``max_tokens`` cuts
the reply after that many words.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

from omni.backends.base import LLM, GenerationOptions
from omni.config import Settings
from omni.types import ChatMessage, LLMEvent, TextDelta, Tool, Usage

DEFAULT_REPLY = "This is a canned reply from the benchmark backend."


class CannedLLM(LLM):
    """Streams :attr:`reply` one word (one "token") at a time, yielding to the event loop between words."""

    def __init__(self, reply: str = DEFAULT_REPLY) -> None:
        if not reply.strip():
            raise ValueError("the canned reply must not be empty")
        self.reply = reply
        self._words = reply.split()

    def __repr__(self) -> str:
        return f"CannedLLM({self.reply!r})"

    async def _chat(
        self, messages: Sequence[ChatMessage], tools: Sequence[Tool], options: GenerationOptions
    ) -> AsyncIterator[LLMEvent]:
        words = self._words if options.max_tokens is None else self._words[: options.max_tokens]
        for index, word in enumerate(words):
            yield TextDelta(word if index == 0 else " " + word)
            await asyncio.sleep(0)  # a stream, not a block: other sessions run between the words
        prompt = sum(self.count_tokens(message.content) for message in messages)
        yield Usage(prompt_tokens=prompt, completion_tokens=len(words))


def create(settings: Settings) -> CannedLLM:
    return CannedLLM(settings.llm.canned_reply)
