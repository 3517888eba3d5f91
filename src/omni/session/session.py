"""The voice session: audio and text in, turns detected, one reply at a time streamed out as text and speech.

Flow of a spoken turn: audio → VAD frames → :class:`Endpointer` (speech start/stop) → STT on the committed span →
user item → reply. A reply streams LLM text through the speakable chunker into TTS while the LLM is still
generating, and plays the audio through an :class:`AudioOutput`. Speech that starts while a reply is active
interrupts it (barge-in): the reply's tasks are cancelled, queued audio is dropped and the assistant item keeps only
what was played. Every step is reported as a typed event stamped with the injected clock.

:class:`Session` is the facade over the parts, and owns what they share: the conversation, the reply in progress,
the session's tasks, the user's images and what tools schedule to say.

- :mod:`omni.session.options`: what a session is made of and told (:class:`Backends`, :class:`SessionOptions`,
  :class:`ReplyOverrides`).
- :mod:`omni.session.listening`: audio in, up to the end of the user's turn and its user item (:class:`Listener`).
- :mod:`omni.session.reply`: one reply from start to done, generated and spoken (:class:`Replier`).
- :mod:`omni.session.prompting`: the LLM request a reply makes and the tools offered to it (:class:`Prompts`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import replace
from typing import Any

from omni.clock import Clock
from omni.errors import OmniError
from omni.events import ImagesSeen, ItemAdded, Observer, ReplyStarted, ReplyStatus, SessionEvent
from omni.session.context import Conversation, Item, new_id
from omni.session.early_stream import EarlyStream
from omni.session.input_echo import InputEcho
from omni.session.listening import STT_TAIL_MS, Listener
from omni.session.options import Backends, ReplyOverrides, SessionOptions
from omni.session.playout import AudioOutput, PacedOutput
from omni.session.prompting import Prompts
from omni.session.reply import PHRASE_PAUSE_SECONDS, Replier
from omni.session.speech import SpeechHandle
from omni.session.tools import Message, ToolBox, ToolContext
from omni.session.vision import ItemImage, Viewer
from omni.text.language import detect_language
from omni.types import AudioChunk, ChatMessage, ImageFrame

__all__ = [
    "PHRASE_PAUSE_SECONDS",
    "QUIET_POLL_SECONDS",
    "STT_TAIL_MS",
    "Backends",
    "ReplyOverrides",
    "Session",
    "SessionOptions",
]

log = logging.getLogger(__name__)

QUIET_POLL_SECONDS = 0.25
"""How often something a tool scheduled to say (a timer) looks again for a quiet moment."""


class Session:
    def __init__(
        self,
        backends: Backends,
        options: SessionOptions,
        *,
        clock: Clock,
        output: AudioOutput,
        observers: Sequence[Observer] = (),
        toolbox: ToolBox | None = None,
    ) -> None:
        self.backends = backends
        self.options = options
        self.clock = clock
        self.output = output
        self.observers = list(observers)
        self.toolbox = toolbox or ToolBox()
        self.conversation = Conversation()
        self.current: SpeechHandle | None = None
        played = output if isinstance(output, PacedOutput) else None  # a player of its own cancels its own echo
        self._listener = Listener(self, backends, clock=clock, conversation=self.conversation, emit=self.emit,
                                  echo=InputEcho(played, clock) if played is not None else None)
        self._replier = Replier(self, backends, clock=clock, output=output, conversation=self.conversation,
                                toolbox=self.toolbox, emit=self.emit)
        self._tasks: set[asyncio.Task[None]] = set()
        self._looking: set[asyncio.Task[None]] = set()  # user items whose images are being looked at
        self.viewer = Viewer(backends.vision)
        self._closing = False
        self._scheduled: set[asyncio.Task[None]] = set()
        """What tools scheduled to say later (timers): not turns, so :meth:`idle` does not wait for them."""
        self.toolbox.bind(ToolContext(schedule=self._schedule))

    # ---- events and tasks -------------------------------------------------------------------------------------

    def emit(self, event: SessionEvent) -> None:
        for observer in self.observers:
            try:
                observer(event)
            except Exception:  # an observer's bug must not break the conversation
                log.exception("observer failed on %s", type(event).__name__)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run ``coro`` as one of the session's tasks: :meth:`idle` waits for it, :meth:`aclose` cancels it."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def idle(self) -> None:
        """Wait until no turn or reply is in progress."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        self._closing = True
        self._listener.close()
        for task in [*self._scheduled, *self._tasks]:
            task.cancel()
        await asyncio.gather(*self._scheduled, *self._tasks, return_exceptions=True)
        self.output.clear()
        await self.toolbox.aclose()  # the MCP connections its tools hold

    def _schedule(self, seconds: float, message: Message) -> Callable[[], None]:
        """:attr:`ToolContext.schedule`: say ``message`` after ``seconds``, at the first quiet moment."""
        task = asyncio.ensure_future(self._say_when_quiet(seconds, message))
        self._scheduled.add(task)
        task.add_done_callback(self._scheduled.discard)

        def cancel() -> None:
            task.cancel()

        return cancel

    async def _say_when_quiet(self, seconds: float, message: Message) -> None:
        await self.clock.sleep(seconds)
        # Not over the user, and not cutting a reply short: it waits for both to end.
        while self.reply_active or self._listener.in_speech or self._listener.transcribing:
            await self.clock.sleep(QUIET_POLL_SECONDS)
        if not self._closing:
            await self.begin_reply(ReplyOverrides(say=message(self.prompts.user_language(None))), None)

    def configure(self, options: SessionOptions) -> None:
        """New options from now on (a ``session.update``); turn detection changes apply at once."""
        if options.turn != self.options.turn or options.turn_detection != self.options.turn_detection:
            self._listener.new_turn_options(options.turn)
        switched_on = options.interpreter is not None and options.interpreter != self.options.interpreter
        self.options = options
        if switched_on and not self.reply_active and not self._closing:
            self.spawn(self.prefill_next_turn())  # the translation prompt, decoded before the first utterance

    @property
    def prompts(self) -> Prompts:
        """The LLM requests as the session's options, conversation and tools make them now."""
        return Prompts(self.options, self.conversation, self.toolbox, self.backends.llm)

    @property
    def buffered_input_seconds(self) -> float:
        """Input audio held and not yet committed."""
        return self._listener.buffered_input_seconds

    async def prefill(self) -> None:
        """Let the LLM process the instructions and tools before the first turn needs them."""
        if self.options.interpreter is not None:
            await self.prefill_next_turn()
            return
        await self.backends.llm.prefill([ChatMessage("system", self.options.instructions)],
                                        self.prompts.offered_tools(ReplyOverrides()))

    # ---- input ------------------------------------------------------------------------------------------------

    @property
    def reply_active(self) -> bool:
        return self.current is not None and not self.current.done.is_set()

    def stop_speaking(self) -> None:
        """The user took the turn: the reply stops, or, if it is over, the audio still playing of it does (a client
        stops playing at ``speech_started`` what was sent ahead)."""
        if self.reply_active:
            assert self.current is not None
            self.current.interrupt()
        else:
            self.output.clear()

    @property
    def saying(self) -> str:
        """The text of the reply being spoken (its echo may come back through a client's microphone)."""
        return self.current.text if self.current is not None and self.speaking else ""

    @property
    def speaking(self) -> bool:
        """Whether a reply is under way or its audio is still playing (a client plays what was sent ahead)."""
        return self.reply_active or self.output.is_playing()

    def push_audio(self, chunk: AudioChunk) -> None:
        """Add microphone audio (any sample rate). Runs VAD and endpointing when turn detection is on."""
        self._listener.push_audio(chunk)

    def commit_input(self, *, respond: bool = False) -> str | None:
        """Manual turn: everything buffered since the last commit becomes a user item. Returns its id."""
        return self._listener.commit_input(respond=respond)

    def clear_input(self) -> None:
        self._listener.clear_input()

    async def inputs_ready(self) -> None:
        """Wait until every user audio item has its text and every image has been looked at: a reply asked for
        right after a commit (push-to-talk) or an image must answer what was said and shown, not a conversation
        with an empty turn in it. ``asyncio.wait`` leaves that work running when the reply is cancelled."""
        pending = self._listener.transcribing | self._looking
        if pending:
            await asyncio.wait(list(pending))

    def add_user_text(self, text: str, *, after: str | None = None, item_id: str | None = None) -> Item:
        return self.add_user_message(text, (), after=after, item_id=item_id)

    def add_user_message(self, text: str, images: Sequence[ImageFrame], *, after: str | None = None,
                         item_id: str | None = None) -> Item:
        """A user message of text and images; the images are looked at in the background (a reply waits for
        them), and :class:`ImagesSeen` says when the item is complete."""
        item = Item(item_id or new_id("item"), "user", text, language=detect_language(text) if text else None,
                    status="in_progress" if images else "completed", images=[ItemImage.of(f) for f in images])
        self.add_item(item, after)
        if images:
            task = self.spawn(self._look(item))
            self._looking.add(task)
            task.add_done_callback(self._looking.discard)
        return item

    async def _look(self, item: Item) -> None:
        question = item.text or None
        for image in item.images:
            await self.viewer.look(image, question=question)
        item.status = "completed"
        self.emit(ImagesSeen(at=self.clock.now(), item_id=item.id))
        if not item.text and not self.reply_active and self.backends.llm.caches_prompts and not self._closing:
            # A camera frame comes as the user starts to speak: its note (100-200 tokens, seconds of prompt on 2
            # cores) is decoded while they talk, not after they stop.
            self.spawn(self.prefill_next_turn())

    def add_tool_result(self, call_id: str, output: str, *, after: str | None = None,
                        item_id: str | None = None) -> Item:
        return self.add_item(Item(item_id or new_id("item"), "tool", output, tool_call_id=call_id), after)

    def add_item(self, item: Item, after: str | None = None) -> Item:
        """Add a finished item (a client's message, a tool result, an earlier assistant turn) to the conversation."""
        self.conversation.add(item, after=after)
        self.emit(ItemAdded(at=self.clock.now(), item_id=item.id, role=item.role, text=item.text))
        return item

    def add_user_audio(self, chunk: AudioChunk, *, after: str | None = None, item_id: str | None = None) -> Item:
        """A user message given as audio: added now, its text filled in when transcribed (no reply follows)."""
        return self._listener.add_user_audio(chunk, after=after, item_id=item_id)

    def truncate(self, item_id: str, audio_end_ms: int) -> Item:
        """Cut an assistant item to the text of its first ``audio_end_ms`` of audio (what the client played)."""
        item = self.conversation.get(item_id)
        handle = self._replier.spoken(item_id)
        if item.role != "assistant" or handle is None:
            raise KeyError(item_id)
        if audio_end_ms > round(handle.audio_seconds * 1000):
            raise ValueError(f"audio_end_ms {audio_end_ms} is past the item's {handle.audio_seconds * 1000:.0f} ms")
        return self.conversation.truncate(item_id, handle.heard_text(audio_end_ms / 1000).strip())

    # ---- replies ----------------------------------------------------------------------------------------------

    async def create_reply(
        self, *, output_audio: bool | None = None, overrides: ReplyOverrides | None = None
    ) -> SpeechHandle:
        """Start a reply to the conversation so far; an active reply is interrupted first."""
        overrides = overrides or ReplyOverrides()
        if output_audio is not None:
            overrides = replace(overrides, output_audio=output_audio)
        return await self.begin_reply(overrides, None)

    async def begin_reply(self, overrides: ReplyOverrides, early: EarlyStream | None) -> SpeechHandle:
        """Start a reply (``early``: its LLM call, started during the pause before the turn was confirmed); an active
        reply is interrupted first."""
        await self.interrupt()
        output_audio = self.options.output_audio if overrides.output_audio is None else overrides.output_audio
        item = Item(new_id("item"), "assistant", status="in_progress")
        if not overrides.out_of_band:
            self.conversation.add(item)
        handle = SpeechHandle(new_id("resp"), item.id, output_audio and bool(self.backends.tts))
        self.current = handle
        self.output.start_reply()
        self.emit(ReplyStarted(at=self.clock.now(), reply_id=handle.reply_id, item_id=item.id))
        handle.task = self.spawn(self._replier.run(handle, item, overrides, early))
        return handle

    async def cancel(self) -> bool:
        """Stop the active reply at a client's request (status ``cancelled``); False when none is active."""
        handle = self.current
        if handle is None or handle.done.is_set() or handle.task is None:
            return False
        handle.task.cancel()
        await handle.done.wait()
        return True

    async def interrupt(self) -> None:
        """Stop the active reply (if any) and wait until it has been cut to what was heard."""
        handle = self.current
        if handle is not None and not handle.done.is_set():
            handle.interrupt()
            await handle.done.wait()

    def reply_ended(self, status: ReplyStatus) -> None:
        """A reply is done (:class:`ReplyDone` is out): after one that completed or was interrupted, the LLM decodes
        the conversation ahead of the next turn."""
        if status in ("completed", "interrupted") and not self._closing:  # cancelled: another reply follows
            self.spawn(self.prefill_next_turn())

    async def prefill_next_turn(self, user_words: str = "") -> None:
        """While the user listens or starts to answer, let the LLM decode the conversation so far and the start of
        the next user turn (with ``user_words``, the words of it already known). The next turn then pays only for
        the user's new words: a reply the user cut short is in the prompt as heard, not as generated, and would
        otherwise be decoded again after they finish speaking."""
        request = self.prompts.request(reminders=False)
        try:
            await self.backends.llm.prefill(list(request.messages), request.tools, user_words=user_words)
        except OmniError as exc:  # only a head start is lost; the next turn decodes the prompt itself
            log.warning("prefilling the next turn failed: %s", exc)
