"""One reply from start to done: the LLM's text (with tool rounds) streamed through the speakable chunker into the
voice while it is still generating, the audio played, and the reply's end: its status, the text the user heard,
:class:`ReplyDone`.

The session starts a reply (its handle, its assistant item) and :class:`Replier` runs it; what the reply needs of the
session beyond its fixed parts is the narrow :class:`ReplyHost`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Protocol

from omni.aio import closing
from omni.audio.resample import resample
from omni.audio.silence import trim_silence
from omni.clock import Clock
from omni.errors import OmniError
from omni.events import (
    LLMFirstToken,
    ReplyAudio,
    ReplyDone,
    ReplyStatus,
    ReplyTextDelta,
    SessionEvent,
    SpeakableChunk,
    StageError,
    ToolCallDone,
    ToolCallRequested,
)
from omni.session.context import Conversation, Item, new_id
from omni.session.early_stream import EarlyStream
from omni.session.english_pivot import english_reference, kept_korean
from omni.session.interpreter import Interpreter, kept_to_target
from omni.session.options import Backends, ReplyOverrides, SessionOptions
from omni.session.playout import AudioOutput
from omni.session.prompting import Prompts
from omni.session.speech import SpeechHandle
from omni.session.tools import ToolBox, new_calls, this_turn
from omni.text.chunking import SpeakableChunker, voiced
from omni.types import AudioChunk, LLMEvent, TextDelta, ToolCall, Usage

log = logging.getLogger(__name__)

PHRASE_PAUSE_SECONDS = 0.12
"""Silence kept after a chunk cut at a phrase boundary: about a speaker's pause there (the voice's own pause
after the comma that closes such a chunk is 0.3 s)."""


@dataclass
class _Reply:
    """One reply in progress: its handle, the assistant item it is writing (a new one after each tool round)."""

    handle: SpeechHandle
    item: Item
    overrides: ReplyOverrides


@dataclass(frozen=True)
class _Chunk:
    """A speakable piece of a reply: its text, and the text the voice is given for it."""

    text: str
    voiced: str


@dataclass
class _ReplyStream:
    """What one reply's generation accumulates across LLM calls (tool rounds)."""

    reply: _Reply
    chunker: SpeakableChunker
    chunks: asyncio.Queue[_Chunk | None]
    usage: Usage = Usage(0, 0)
    calls: list[ToolCall] = field(default_factory=list)
    first_token_seen: bool = False


class ReplyHost(Protocol):
    """What a reply needs of its session: the options and the requests as they are now (a ``session.update`` may
    come during a reply), the user's input ready to be answered, and word that the reply is done."""

    @property
    def options(self) -> SessionOptions: ...

    @property
    def prompts(self) -> Prompts: ...

    async def inputs_ready(self) -> None: ...

    def reply_ended(self, status: ReplyStatus) -> None: ...


class Replier:
    """Runs a session's replies, and keeps the recent ones that were spoken, for truncation."""

    def __init__(self, session: ReplyHost, backends: Backends, *, clock: Clock, output: AudioOutput,
                 conversation: Conversation, toolbox: ToolBox, emit: Callable[[SessionEvent], None]) -> None:
        self._session = session
        self._backends = backends
        self._clock = clock
        self._output = output
        self._conversation = conversation
        self._toolbox = toolbox
        self._emit = emit
        self._spoken: dict[str, SpeechHandle] = {}  # recent replies with audio, by item id, for truncation

    def spoken(self, item_id: str) -> SpeechHandle | None:
        """The handle of a recent reply with audio that wrote ``item_id``."""
        return self._spoken.get(item_id)

    async def run(self, handle: SpeechHandle, item: Item, overrides: ReplyOverrides, early: EarlyStream | None) -> None:
        """Generate and speak the reply ``handle`` stands for into ``item``, to its end: its status, the text that was
        heard, :class:`ReplyDone`. ``early``: its LLM call, started during the pause before the turn was confirmed."""
        reply = _Reply(handle, item, overrides)
        status: ReplyStatus = "completed"
        error: str | None = None
        usage = Usage(0, 0)
        try:
            usage = await self._generate_and_speak(reply, early)
            if handle.with_audio:
                await self._output.wait_done()
        except asyncio.CancelledError:
            status = "interrupted" if handle.interrupted else "cancelled"
        except OmniError as exc:
            status, error = "failed", str(exc)
            self._emit(StageError(at=self._clock.now(), stage=getattr(exc, "stage", "reply"), message=str(exc)))
        finally:
            if early is not None:
                await early.aclose()
            if status != "completed":
                self._output.clear()
            heard = handle.text if status == "completed" else handle.heard_text(self._output.played_seconds())
            reply.item.text = heard.strip()
            reply.item.status = "completed" if status == "completed" else "incomplete"
            if handle.with_audio:
                self._remember_spoken(handle)
            handle.done.set()
            self._emit(ReplyDone(at=self._clock.now(), reply_id=handle.reply_id, item_id=reply.item.id,
                                 status=status, text=handle.text, heard_text=reply.item.text, usage=usage,
                                 error=error))
            self._session.reply_ended(status)

    def _remember_spoken(self, handle: SpeechHandle) -> None:
        self._spoken[handle.item_id] = handle
        while len(self._spoken) > 32:  # truncation is for recent replies; old handles need not live forever
            del self._spoken[next(iter(self._spoken))]

    async def _generate_and_speak(self, reply: _Reply, early: EarlyStream | None) -> Usage:
        chunks: asyncio.Queue[_Chunk | None] = asyncio.Queue()
        try:
            async with asyncio.TaskGroup() as group:
                if reply.handle.with_audio:
                    group.create_task(self._speak(reply, chunks, early))
                try:
                    return await self._generate(reply, chunks, early)
                finally:
                    chunks.put_nowait(None)
        except ExceptionGroup as failures:
            raise failures.exceptions[0] from failures

    async def _generate(self, reply: _Reply, chunks: asyncio.Queue[_Chunk | None], early: EarlyStream | None) -> Usage:
        first_phrase = self._session.options.first_chunk_at_phrase
        stream = _ReplyStream(reply, SpeakableChunker(first_phrase=first_phrase), chunks)
        if reply.overrides.say is not None:
            self._on_llm_event(stream, TextDelta(reply.overrides.say))
            for chunk in stream.chunker.flush():
                self._queue_speech(reply.handle, chunks, chunk, last=True)
            return stream.usage
        await self._session.inputs_ready()
        reference = None
        prompts = self._session.prompts
        if prompts.by_way_of_english(reply.overrides):
            question = prompts.request(overrides=reply.overrides, reminders=False)
            reference = await english_reference(self._backends.llm, question.messages)
        answer_now = False  # a round that only repeated calls: the next one must answer, with tools off
        for _ in range(self._session.options.max_tool_rounds + 1):
            prompts = self._session.prompts
            request = prompts.after_tools(prompts.request(overrides=reply.overrides, reference=reference),
                                          answer_now=answer_now)
            if early is not None and early.request == request:
                events = early.events()  # started during the pause on exactly this prompt
            else:
                if early is not None:
                    await early.aclose()  # the conversation changed since: its answer would be to another prompt
                events = self._backends.llm.chat(list(request.messages), tools=request.tools,
                                                 options=request.options)
            if request.translation is not None:
                events = kept_to_target(events, request.translation, partial(
                    self._backends.llm.chat, Interpreter.insisting(request.messages, request.translation),
                    options=request.options))
            elif reference is not None:
                events = kept_korean(self._backends.llm, events, request.messages, tools=request.tools,
                                     options=request.options)
            early = None
            async with closing(events):
                async for event in events:
                    self._on_llm_event(stream, event)
            made, stream.calls = stream.calls, []
            calls = new_calls(made, this_turn(self._conversation.items))
            if made and not calls and not answer_now:
                # Only calls already made this turn, whose results the model has: it is asked for its answer now.
                log.info("repeated tool calls not made again: %s", ", ".join(f"{c.name}({c.arguments})" for c in made))
                answer_now = True
                continue
            local = [c for c in calls if self._session.prompts.runs_here(c.name, reply.overrides)]
            for call in calls:
                if call not in local:  # only the client's calls are sent to it: it cannot run a built-in tool
                    self._emit(ToolCallRequested(at=self._clock.now(), reply_id=reply.handle.reply_id, call=call))
            if not calls:
                break
            await self._run_tools(reply, calls, local)
            if len(local) < len(calls):
                break  # the client's calls end the reply; the local ones' results are in the conversation already
            answer_now = False
        for chunk in stream.chunker.flush():
            self._queue_speech(reply.handle, chunks, chunk, last=True)
        return stream.usage

    def _on_llm_event(self, stream: _ReplyStream, event: LLMEvent) -> None:
        handle = stream.reply.handle
        if isinstance(event, Usage):
            stream.usage = Usage(stream.usage.prompt_tokens + event.prompt_tokens,
                                 stream.usage.completion_tokens + event.completion_tokens)
        elif isinstance(event, ToolCall):
            stream.calls.append(event)  # requested once the round is over and repeats are left out
        else:
            if not stream.first_token_seen:
                stream.first_token_seen = True
                self._emit(LLMFirstToken(at=self._clock.now(), reply_id=handle.reply_id))
            handle.text += event.text
            stream.reply.item.text = handle.text
            self._emit(ReplyTextDelta(at=self._clock.now(), reply_id=handle.reply_id, item_id=handle.item_id,
                                      text=event.text))
            for chunk in stream.chunker.push(event.text):
                self._queue_speech(handle, stream.chunks, chunk)

    async def _run_tools(self, reply: _Reply, calls: list[ToolCall], local: list[ToolCall]) -> None:
        """Record the round's ``calls``, run the ``local`` ones and record their results; when every call was local,
        continue the reply in a new assistant item (calls left to the client end it)."""
        handle, item = reply.handle, reply.item
        item.tool_calls = tuple(calls)
        for call in local:
            output = await self._toolbox.run(call)
            if not reply.overrides.out_of_band:
                self._conversation.add(Item(new_id("item"), "tool", output, tool_call_id=call.id))
            self._emit(ToolCallDone(at=self._clock.now(), reply_id=handle.reply_id, call=call, output=output))
        if len(local) < len(calls):
            return
        item.status = "completed"
        reply.item = Item(new_id("item"), "assistant", status="in_progress")
        if not reply.overrides.out_of_band:
            self._conversation.add(reply.item)
        handle.item_id = reply.item.id
        handle.text = ""

    def _queue_speech(
        self, handle: SpeechHandle, chunks: asyncio.Queue[_Chunk | None], text: str, *, last: bool = False
    ) -> None:
        self._emit(SpeakableChunk(at=self._clock.now(), reply_id=handle.reply_id, text=text))
        chunks.put_nowait(_Chunk(text, text if last else voiced(text)))

    async def _speak(self, reply: _Reply, chunks: asyncio.Queue[_Chunk | None], early: EarlyStream | None) -> None:
        tts = self._backends.tts
        assert tts is not None
        handle = reply.handle
        options = self._session.options
        voice, speed = reply.overrides.voice or options.voice, options.speed
        while (chunk := await chunks.get()) is not None:
            handle.begin_segment(chunk.text)
            ahead = await early.first_chunk_audio(chunk.voiced, voice, speed) if early is not None else None
            spoken = _replay(ahead) if ahead is not None else tts.synthesize(chunk.voiced, voice=voice, speed=speed)
            async with closing(spoken) as synthesized:
                # The voice's silence before the reply's first word is only latency; after a phrase cut inside a
                # sentence it is kept to a speaker's pause.
                tail = PHRASE_PAUSE_SECONDS if chunk.voiced != chunk.text else None
                trimmed = trim_silence(synthesized, lead=handle.audio_seconds == 0, max_tail_seconds=tail)
                async with closing(trimmed) as audio:
                    async for piece in audio:
                        out = self._for_output(piece)
                        first = handle.audio_seconds == 0
                        handle.add_audio(out.duration)
                        await self._output.write(out)
                        self._emit(ReplyAudio(at=self._clock.now(), reply_id=handle.reply_id,
                                              item_id=handle.item_id, chunk=out, first=first))

    def _for_output(self, chunk: AudioChunk) -> AudioChunk:
        rate = self._output.sample_rate
        if rate is None or rate == chunk.sample_rate:
            return chunk
        return AudioChunk(resample(chunk.samples, chunk.sample_rate, rate), rate)


async def _replay(audio: Sequence[AudioChunk]) -> AsyncIterator[AudioChunk]:
    for piece in audio:
        yield piece
