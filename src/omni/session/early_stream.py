"""An LLM reply started before it is known to be wanted, kept until the turn it answers is confirmed.

During the pause that may end a user's turn the session already has a transcript (speculative STT); starting the
LLM on it then, instead of after the silence wait, hides the prompt processing and the first tokens inside the wait.
The events are buffered until the reply reads them. Nothing is spoken or shown before that: when the user goes on
talking the stream is closed and no one ever sees it.

The reply's first speakable chunk can be voiced ahead as well (:meth:`EarlyStream.voice_first_chunk`): when the
models are fast enough that the first words are ready before the silence wait ends, the wait, not the compute, is
what the user waits for, and the voice's time to first audio then need not come after it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from omni.aio import closing
from omni.backends.base import LLM, TTS, GenerationOptions
from omni.session.interpreter import Direction
from omni.text.chunking import SpeakableChunker, voiced
from omni.types import AudioChunk, ChatMessage, LLMEvent, TextDelta, Tool


@dataclass(frozen=True)
class LLMRequest:
    """Everything a chat call depends on: a started stream answers a later request only if it is equal."""

    messages: tuple[ChatMessage, ...]
    tools: tuple[Tool, ...]
    options: GenerationOptions
    translation: Direction | None = None
    """Interpreter mode: the way the newest utterance is translated (its reply must be in the target language)."""

    @classmethod
    def of(cls, messages: Sequence[ChatMessage], tools: Sequence[Tool], options: GenerationOptions,
           translation: Direction | None = None) -> LLMRequest:
        return cls(tuple(messages), tuple(tools), options, translation)


@dataclass(frozen=True)
class VoicedChunk:
    """A chunk's text as given to the voice, the voice and speed, and all the audio the voice made for it."""

    voiced: str
    voice: str | None
    speed: float
    audio: tuple[AudioChunk, ...]


class EarlyStream:
    """Run ``llm.chat(request)`` now; :meth:`events` yields what was generated so far, then the rest as it comes."""

    def __init__(self, llm: LLM, request: LLMRequest) -> None:
        self.request = request
        self._events: list[LLMEvent | Exception] = []
        self._finished = False
        self._grew = asyncio.Event()
        self._task = asyncio.ensure_future(self._pump(llm))
        self._first_chunk: asyncio.Task[VoicedChunk | None] | None = None

    async def _pump(self, llm: LLM) -> None:
        try:
            request = self.request
            stream = llm.chat(list(request.messages), tools=list(request.tools), options=request.options)
            async with closing(stream) as events:
                async for event in events:
                    self._add(event)
        except Exception as exc:  # handed to the reader, which raises it where the reply handles LLM errors
            self._add(exc)
        finally:
            self._finished = True
            self._grew.set()

    def _add(self, item: LLMEvent | Exception) -> None:
        self._events.append(item)
        self._grew.set()

    async def _read(self) -> AsyncIterator[LLMEvent | Exception]:
        """Every item from the start, then each new one; any number of readers."""
        index = 0
        while True:
            if index < len(self._events):
                index += 1
                yield self._events[index - 1]
            elif self._finished:
                return
            else:
                self._grew.clear()
                await self._grew.wait()

    async def events(self) -> AsyncIterator[LLMEvent]:
        async for item in self._read():
            if isinstance(item, Exception):
                raise item
            yield item

    def voice_first_chunk(self, tts: TTS, *, first_phrase: bool, voice: str | None, speed: float) -> None:
        """Speak the reply's first chunk (as the reply's chunker will cut it) into a buffer as soon as it is there."""
        self._first_chunk = asyncio.ensure_future(self._voice_first_chunk(tts, first_phrase, voice, speed))

    async def _voice_first_chunk(
        self, tts: TTS, first_phrase: bool, voice: str | None, speed: float
    ) -> VoicedChunk | None:
        chunker = SpeakableChunker(first_phrase=first_phrase)
        async for item in self._read():
            if isinstance(item, TextDelta) and (chunks := chunker.push(item.text)):
                text = voiced(chunks[0])  # more of the reply follows it
                break
        else:  # the whole reply is one chunk (or no text at all, or an error the reply will raise)
            chunks = chunker.flush()
            if not chunks:
                return None
            text = chunks[0]
        async with closing(tts.synthesize(text, voice=voice, speed=speed)) as pieces:
            audio = tuple([piece async for piece in pieces])
        return VoicedChunk(text, voice, speed, audio)

    async def first_chunk_audio(self, text: str, voice: str | None, speed: float) -> tuple[AudioChunk, ...] | None:
        """The audio voiced ahead, if it is for exactly this chunk text, voice and speed (once: it is handed over)."""
        task = self._first_chunk
        if task is None:
            return None
        # Raises only if the caller is cancelled (not if the task was), and then aclose() still finds the task.
        await asyncio.wait([task])
        self._first_chunk = None
        if task.cancelled() or task.exception() is not None:
            return None  # the reply speaks the chunk itself, and reports its own errors
        spoken = task.result()
        if spoken is None or (spoken.voiced, spoken.voice, spoken.speed) != (text, voice, speed):
            return None
        return spoken.audio

    async def aclose(self) -> None:
        """Stop generating (and voicing); returns once the LLM is free for the next call."""
        self.cancel()
        await asyncio.gather(self._task, *([self._first_chunk] if self._first_chunk else []), return_exceptions=True)

    def cancel(self) -> None:
        """Stop generating without waiting (from synchronous code)."""
        self._task.cancel()
        if self._first_chunk is not None:
            self._first_chunk.cancel()
