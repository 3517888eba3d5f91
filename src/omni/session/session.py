"""The voice session: audio and text in, turns detected, one reply at a time streamed out as text and speech.

Flow of a spoken turn: audio → VAD frames → :class:`Endpointer` (speech start/stop) → STT on the committed span →
user item → reply. A reply streams LLM text through the speakable chunker into TTS while the LLM is still
generating, and plays the audio through an :class:`AudioOutput`. Speech that starts while a reply is active
interrupts it (barge-in): the reply's tasks are cancelled, queued audio is dropped and the assistant item keeps only
what was played. Every step is reported as a typed event stamped with the injected clock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Literal

from omni.aio import closing
from omni.audio.resample import resample
from omni.audio.silence import trim_silence
from omni.backends.base import LLM, STT, TTS, VAD, GenerationOptions, Vision
from omni.clock import Clock
from omni.cores import CORES
from omni.errors import OmniError
from omni.events import (
    ImagesSeen,
    InputCleared,
    InputCommitted,
    ItemAdded,
    LLMFirstToken,
    Observer,
    ReplyAudio,
    ReplyDone,
    ReplyStarted,
    ReplyStatus,
    ReplyTextDelta,
    SessionEvent,
    SpeakableChunk,
    SpeechStarted,
    SpeechStopped,
    StageError,
    ToolCallDone,
    ToolCallRequested,
    TranscriptionDone,
)
from omni.session.context import Conversation, Item, new_id
from omni.session.early_stream import EarlyStream, LLMRequest
from omni.session.english_pivot import LANGUAGES as PIVOT_LANGUAGES
from omni.session.english_pivot import english_reference, kept_korean, reference_notes
from omni.session.input_audio import InputAudio
from omni.session.interpreter import Interpreter, kept_to_target
from omni.session.listen_ahead import ListenAhead, settled_words
from omni.session.playout import AudioOutput
from omni.session.speech import SpeechHandle
from omni.session.tools import Message, ToolBox, ToolContext, after_results, new_calls, this_turn
from omni.session.turns import Endpointer, SpeechEnd, SpeechStart, TurnOptions
from omni.session.vision import ItemImage, Viewer
from omni.text.chunking import SpeakableChunker, voiced
from omni.text.language import detect_language
from omni.text.prompt_notes import with_notes
from omni.types import (
    AudioChunk,
    ChatMessage,
    ImageFrame,
    LLMEvent,
    Samples,
    TextDelta,
    Tool,
    ToolCall,
    Transcript,
    Usage,
)
from omni.vision import describe

log = logging.getLogger(__name__)

STT_TAIL_MS = 100
"""Audio after the detected end of speech that STT still gets: the VAD calls soft word endings silence, and
Whisper misreads a clipped "France" as "friends"."""

QUIET_POLL_SECONDS = 0.25
"""How often something a tool scheduled to say (a timer) looks again for a quiet moment."""
PHRASE_PAUSE_SECONDS = 0.12
"""Silence kept after a chunk cut at a phrase boundary: about a speaker's pause there (the voice's own pause
after the comma that closes such a chunk is 0.3 s)."""
_LANGUAGE_NAMES = {"ko": "Korean", "ja": "Japanese", "zh": "Chinese", "en": "English", "ru": "Russian"}


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


@dataclass
class _Speculation:
    """Work started during a pause that may end the user's turn: its transcript, then the reply's LLM call."""

    pause_ms: int
    transcript: asyncio.Task[Transcript]
    reply: EarlyStream | None = None

    def cancel(self) -> None:
        self.transcript.cancel()
        if self.reply is not None:
            self.reply.cancel()


@dataclass(frozen=True)
class Backends:
    llm: LLM
    vad: VAD | None = None
    stt: STT | None = None
    tts: TTS | None = None
    vision: Vision | None = None


@dataclass(frozen=True)
class SessionOptions:
    instructions: str = "You are a helpful voice assistant. Answer briefly."
    turn_detection: Literal["server_vad", "manual"] = "server_vad"
    turn: TurnOptions = TurnOptions()
    create_response: bool = True
    interrupt_response: bool = True
    output_audio: bool = True
    language: str | None = None
    """Fix the input language for STT; None detects it."""
    voice: str | None = None
    speed: float = 1.0
    """How fast replies are spoken, as a multiple of the voice's own pace."""
    generation: GenerationOptions = GenerationOptions()
    context_budget_tokens: int = 3000
    max_tool_rounds: int = 4
    tools: tuple[Tool, ...] = ()
    """Tools the client runs: the model may call them; the calls end the reply and are left to the client."""
    local_tools_with_client_tools: bool = False
    """Offer the session's own tools (the built-in ones) also to a client that brings tools or instructions of its
    own. Off: such a client gets only its own tools, since the 1.5B model's call decision holds only under Omni's
    instructions and tools (docs/tools.md measures what they cost otherwise)."""
    client_instructions: bool = False
    """The instructions are the client's own (a Realtime ``session.update``), not Omni's configured ones."""
    first_chunk_at_phrase: bool = True
    """The first spoken chunk may end at an English phrase boundary ("The capital of France" · "is Paris."), so
    speech starts a few tokens sooner; off, it ends at a sentence end or a comma after four words."""
    speculate_after_ms: int | None = 30
    """Start transcribing once a pause inside speech lasts this long, so the transcript is ready when the
    silence wait confirms the end of the turn, and start the reply's LLM call on it as soon as it is there; the
    work is dropped if the user goes on. None turns it off."""
    listen_ahead_ms: int | None = 600
    """While the user speaks, transcribe their words so far after each this many ms of speech and let the LLM
    decode them ahead (:mod:`omni.session.listen_ahead`), when it keeps a prompt cache. None turns it off."""
    voice_ahead: bool = True
    """Voice the first chunk of a reply started during the pause before the turn is confirmed, so that its audio is
    ready when the silence wait ends (it is dropped with the reply if the user goes on)."""
    interpreter: Interpreter | None = None
    """Interpreter mode: every user utterance is translated into the other language of a pair, never answered
    (:mod:`omni.session.interpreter`); the instructions, tools and history are then not in the prompt."""
    korean_answers: Literal["direct", "pivot"] = "direct"
    """``pivot``: a Korean question is answered with a hidden English answer as a reference
    (:mod:`omni.session.english_pivot`); not when tools are offered or images are asked about."""


@dataclass(frozen=True)
class ReplyOverrides:
    """What one reply may change (the Realtime API's ``response.create``); None keeps the session's setting."""

    instructions: str | None = None
    output_audio: bool | None = None
    voice: str | None = None
    generation: GenerationOptions | None = None
    tools: tuple[Tool, ...] | None = None
    out_of_band: bool = False
    """The reply is not added to the conversation (``conversation: "none"``)."""
    input: tuple[ChatMessage, ...] | None = None
    """The messages the reply answers instead of the conversation."""
    say: str | None = None
    """The reply is these words, not the LLM's (a timer that is due)."""


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
        self._endpointer = Endpointer(options.turn)
        self._vad = backends.vad.fork() if backends.vad is not None else None
        """This session's own VAD stream: the model's recurrent state must not mix with other sessions' audio."""
        self._input = InputAudio(backends.vad.frame_samples if backends.vad else 512)
        self._speech_start_ms: int | None = None
        self._speech_count = 0  # speech starts so far: a turn whose user went on talking gets no reply of its own
        self._pending_user_id = new_id("item")  # the id of the user item the current speech will become
        self._spoken: dict[str, SpeechHandle] = {}  # recent replies with audio, by item id, for truncation
        self._tasks: set[asyncio.Task[None]] = set()
        self._transcribing: set[asyncio.Task[None]] = set()  # user audio items whose text is not known yet
        self._looking: set[asyncio.Task[None]] = set()  # user items whose images are being looked at
        self.viewer = Viewer(backends.vision)
        self._speculation: _Speculation | None = None
        self._listen_ahead = ListenAhead()
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

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
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
        self._drop_speculation()
        self._listen_ahead.cancel()
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
        while self.reply_active or self._endpointer.in_speech or self._transcribing:
            await self.clock.sleep(QUIET_POLL_SECONDS)
        if not self._closing:
            await self._begin_reply(ReplyOverrides(say=message(self._user_language(None))), None)

    def configure(self, options: SessionOptions) -> None:
        """New options from now on (a ``session.update``); turn detection changes apply at once."""
        if options.turn != self.options.turn or options.turn_detection != self.options.turn_detection:
            self._endpointer = Endpointer(options.turn)
            self._drop_speculation()
            self._speech_start_ms = None
        switched_on = options.interpreter is not None and options.interpreter != self.options.interpreter
        self.options = options
        if switched_on and not self.reply_active and not self._closing:
            self._spawn(self._prefill_next_turn())  # the translation prompt, decoded before the first utterance

    @property
    def buffered_input_seconds(self) -> float:
        """Input audio held and not yet committed."""
        return (self._input.end_ms - self._input.start_ms) / 1000

    async def prefill(self) -> None:
        """Let the LLM process the instructions and tools before the first turn needs them."""
        if self.options.interpreter is not None:
            await self._prefill_next_turn()
            return
        await self.backends.llm.prefill([ChatMessage("system", self.options.instructions)],
                                        self._offered_tools(ReplyOverrides()))

    # ---- input ------------------------------------------------------------------------------------------------

    @property
    def reply_active(self) -> bool:
        return self.current is not None and not self.current.done.is_set()

    def push_audio(self, chunk: AudioChunk) -> None:
        """Add microphone audio (any sample rate). Runs VAD and endpointing when turn detection is on."""
        frames = self._input.append(chunk)
        vad = self._vad
        if vad is None or self.options.turn_detection == "manual":
            return
        for frame, start_ms, end_ms in frames:
            turn = self._endpointer.process(vad.probability(frame), start_ms, end_ms)
            if isinstance(turn, SpeechStart):
                self._on_speech_start(turn.audio_start_ms)
                self._listen_ahead.restart(end_ms)
            elif isinstance(turn, SpeechEnd):
                self._on_speech_end(turn.audio_end_ms)
            else:
                self._speculate(end_ms)
                self._read_ahead(end_ms)
        if not self._endpointer.in_speech:
            # Outside speech only the prefix padding (plus the minimum speech run) can still join a turn.
            keep = self.options.turn.prefix_padding_ms + self.options.turn.min_speech_ms + 1000
            self._input.discard_before(self._input.end_ms - keep)

    def _on_speech_start(self, audio_start_ms: int) -> None:
        self._speech_start_ms = max(audio_start_ms, self._input.start_ms)
        self._speech_count += 1
        self.emit(SpeechStarted(at=self.clock.now(), audio_start_ms=self._speech_start_ms,
                                item_id=self._pending_user_id))
        if self.options.interrupt_response and self.current is not None:
            self.current.interrupt()

    def _on_speech_end(self, audio_end_ms: int) -> None:
        self.emit(SpeechStopped(at=self.clock.now(), audio_end_ms=audio_end_ms))
        start = self._speech_start_ms if self._speech_start_ms is not None else self._input.start_ms
        self._speech_start_ms = None
        early, self._speculation = self._speculation, None
        if early is not None and early.pause_ms != audio_end_ms:
            early.cancel()
            early = None
        self._commit(start, audio_end_ms, respond=self.options.create_response, early=early, tail_ms=STT_TAIL_MS)

    def _drop_speculation(self) -> None:
        if self._speculation is not None:
            self._speculation.cancel()
            self._speculation = None

    def _speculate(self, now_ms: float) -> None:
        """Transcribe during a pause in speech; drop that work when the user goes on talking."""
        pause = self._endpointer.silence_start_ms
        if self._speculation is not None and (pause is None or round(pause) != self._speculation.pause_ms):
            self._drop_speculation()
        wait = self.options.speculate_after_ms
        stt = self.backends.stt
        if pause is None or wait is None or stt is None or self._speculation is not None or now_ms - pause < wait:
            return
        self._listen_ahead.cancel()  # the pause's transcript has every word; the LLM will be wanted for them
        start = self._speech_start_ms if self._speech_start_ms is not None else self._input.start_ms
        audio = self._input.peek(start, min(round(now_ms), round(pause) + STT_TAIL_MS))
        task = asyncio.ensure_future(stt.transcribe(audio, language=self.options.language))
        speculation = _Speculation(round(pause), task)
        task.add_done_callback(lambda _: self._start_early_reply(speculation))
        self._speculation = speculation

    def _start_early_reply(self, speculation: _Speculation) -> None:
        """The pause's transcript is there: start the LLM on the prompt the reply would send if the turn ends."""
        task = speculation.transcript
        if task.cancelled() or task.exception() is not None or speculation is not self._speculation:
            return
        text = task.result().text.strip()
        if not text or not self.options.create_response or self.reply_active:
            return  # no reply would follow, or the LLM is still busy with the last one
        user = Item("pending", "user", text, language=task.result().language)
        if self._by_way_of_english(ReplyOverrides(), pending=user):
            return  # its prompt waits for the English reference, which is worth starting only once the turn is sure
        speculation.reply = early = EarlyStream(self.backends.llm, self._request(pending=user))
        if self.options.voice_ahead and self.options.output_audio and self.backends.tts is not None:
            early.voice_first_chunk(self.backends.tts, first_phrase=self.options.first_chunk_at_phrase,
                                    voice=self.options.voice, speed=self.options.speed)

    def _read_ahead(self, now_ms: float) -> None:
        """While the user speaks, now and then transcribe their words so far for the LLM to decode ahead."""
        every, stt, llm = self.options.listen_ahead_ms, self.backends.stt, self.backends.llm
        start = self._speech_start_ms
        if (every is None or stt is None or not llm.caches_prompts or start is None or self.reply_active
                or self._endpointer.silence_start_ms is not None or not self._listen_ahead.due(now_ms, every)):
            return  # a pause is the speculation's: it transcribes everything said
        if CORES.busy:
            return  # other sessions' speech work has the cores: a head start must not take them from it
        audio = self._input.peek(start, round(now_ms))
        self._listen_ahead.start(now_ms, self._decode_words_ahead(stt, audio))

    async def _decode_words_ahead(self, stt: STT, audio: Samples) -> None:
        try:
            words = settled_words((await stt.transcribe(audio, language=self.options.language)).text)
        except OmniError as exc:  # only a head start is lost; the turn transcribes its words itself
            log.warning("transcribing the user's words ahead failed: %s", exc)
            return
        if words and not self.reply_active:
            await self._prefill_next_turn(words)

    def commit_input(self, *, respond: bool = False) -> str | None:
        """Manual turn: everything buffered since the last commit becomes a user item. Returns its id."""
        if self._input.end_ms <= self._input.start_ms:
            return None
        return self._commit(self._input.start_ms, self._input.end_ms, respond=respond)

    def clear_input(self) -> None:
        self._drop_speculation()
        self._input.clear()
        self._endpointer.reset()
        self._speech_start_ms = None
        self.emit(InputCleared(at=self.clock.now()))

    def _commit(
        self, start_ms: int, end_ms: int, *, respond: bool, early: _Speculation | None = None, tail_ms: int = 0
    ) -> str:
        audio = self._input.take(start_ms, min(end_ms + tail_ms, self._input.end_ms))
        item_id, self._pending_user_id = self._pending_user_id, new_id("item")
        item = self.conversation.add(Item(item_id, "user", status="in_progress"))
        self.emit(InputCommitted(at=self.clock.now(), item_id=item.id, audio_start_ms=start_ms, audio_end_ms=end_ms))
        self._spawn_transcription(self._transcribe(item, audio, respond, self._speech_count, early))
        return item.id

    def _spawn_transcription(self, coro: Coroutine[Any, Any, None]) -> None:
        task = self._spawn(coro)
        self._transcribing.add(task)
        task.add_done_callback(self._transcribing.discard)

    async def _inputs_ready(self) -> None:
        """Wait until every user audio item has its text and every image has been looked at: a reply asked for
        right after a commit (push-to-talk) or an image must answer what was said and shown, not a conversation
        with an empty turn in it. ``asyncio.wait`` leaves that work running when the reply is cancelled."""
        pending = self._transcribing | self._looking
        if pending:
            await asyncio.wait(list(pending))

    async def _transcribe(
        self, item: Item, audio: Samples, respond: bool, speech_count: int, early: _Speculation | None
    ) -> None:
        stt = self.backends.stt
        if stt is None:
            self.emit(StageError(at=self.clock.now(), stage="stt", message="no STT backend configured"))
            return
        started = self.clock.now()
        try:
            if early is not None:
                transcript = await early.transcript  # started during the pause, on exactly this audio
            else:
                transcript = await stt.transcribe(audio, language=self.options.language)
        except OmniError as exc:
            self.conversation.delete(item.id)
            self.emit(StageError(at=self.clock.now(), stage="stt", message=str(exc)))
            return
        early_reply = early.reply if early is not None else None  # set by the transcript's done callback
        try:
            item.text, item.language, item.status = transcript.text.strip(), transcript.language, "completed"
            self.emit(TranscriptionDone(at=self.clock.now(), item_id=item.id, transcript=transcript,
                                        seconds=self.clock.now() - started))
            if not item.text:
                self.conversation.delete(item.id)  # noise or a cough: no turn
                return
            if respond and not (self.options.interrupt_response and speech_count != self._speech_count):
                await self._begin_reply(ReplyOverrides(), early_reply)
                early_reply = None  # the reply owns it now
        finally:
            if early_reply is not None:
                await early_reply.aclose()

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
            task = self._spawn(self._look(item))
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
            self._spawn(self._prefill_next_turn())

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
        audio = resample(chunk.samples, chunk.sample_rate, 16000) if chunk.sample_rate != 16000 else chunk.samples
        item = self.conversation.add(Item(item_id or new_id("item"), "user", status="in_progress"), after=after)
        self.emit(ItemAdded(at=self.clock.now(), item_id=item.id, role="user", text=""))
        self._spawn_transcription(self._transcribe(item, audio, False, self._speech_count, None))
        return item

    def truncate(self, item_id: str, audio_end_ms: int) -> Item:
        """Cut an assistant item to the text of its first ``audio_end_ms`` of audio (what the client played)."""
        item = self.conversation.get(item_id)
        handle = self._spoken.get(item_id)
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
        return await self._begin_reply(overrides, None)

    async def _begin_reply(self, overrides: ReplyOverrides, early: EarlyStream | None) -> SpeechHandle:
        await self.interrupt()
        output_audio = self.options.output_audio if overrides.output_audio is None else overrides.output_audio
        item = Item(new_id("item"), "assistant", status="in_progress")
        if not overrides.out_of_band:
            self.conversation.add(item)
        handle = SpeechHandle(new_id("resp"), item.id, output_audio and bool(self.backends.tts))
        self.current = handle
        self.output.start_reply()
        self.emit(ReplyStarted(at=self.clock.now(), reply_id=handle.reply_id, item_id=item.id))
        handle.task = self._spawn(self._reply(_Reply(handle, item, overrides), early))
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

    async def _reply(self, reply: _Reply, early: EarlyStream | None) -> None:
        handle = reply.handle
        status: ReplyStatus = "completed"
        error: str | None = None
        usage = Usage(0, 0)
        try:
            usage = await self._generate_and_speak(reply, early)
            if handle.with_audio:
                await self.output.wait_done()
        except asyncio.CancelledError:
            status = "interrupted" if handle.interrupted else "cancelled"
        except OmniError as exc:
            status, error = "failed", str(exc)
            self.emit(StageError(at=self.clock.now(), stage=getattr(exc, "stage", "reply"), message=str(exc)))
        finally:
            if early is not None:
                await early.aclose()
            if status != "completed":
                self.output.clear()
            heard = handle.text if status == "completed" else handle.heard_text(self.output.played_seconds())
            reply.item.text = heard.strip()
            reply.item.status = "completed" if status == "completed" else "incomplete"
            if handle.with_audio:
                self._remember_spoken(handle)
            handle.done.set()
            self.emit(ReplyDone(at=self.clock.now(), reply_id=handle.reply_id, item_id=reply.item.id,
                                status=status, text=handle.text, heard_text=reply.item.text, usage=usage,
                                error=error))
            if status in ("completed", "interrupted") and not self._closing:  # cancelled: another reply follows
                self._spawn(self._prefill_next_turn())

    async def _prefill_next_turn(self, user_words: str = "") -> None:
        """While the user listens or starts to answer, let the LLM decode the conversation so far and the start of
        the next user turn (with ``user_words``, the words of it already known). The next turn then pays only for
        the user's new words: a reply the user cut short is in the prompt as heard, not as generated, and would
        otherwise be decoded again after they finish speaking."""
        request = self._request(reminders=False)
        try:
            await self.backends.llm.prefill(list(request.messages), request.tools, user_words=user_words)
        except OmniError as exc:  # only a head start is lost; the next turn decodes the prompt itself
            log.warning("prefilling the next turn failed: %s", exc)

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
        stream = _ReplyStream(reply, SpeakableChunker(first_phrase=self.options.first_chunk_at_phrase), chunks)
        if reply.overrides.say is not None:
            self._on_llm_event(stream, TextDelta(reply.overrides.say))
            for chunk in stream.chunker.flush():
                self._queue_speech(reply.handle, chunks, chunk, last=True)
            return stream.usage
        await self._inputs_ready()
        reference = None
        if self._by_way_of_english(reply.overrides):
            question = self._request(overrides=reply.overrides, reminders=False)
            reference = await english_reference(self.backends.llm, question.messages)
        answer_now = False  # a round that only repeated calls: the next one must answer, with tools off
        for _ in range(self.options.max_tool_rounds + 1):
            request = self._after_tools(self._request(overrides=reply.overrides, reference=reference),
                                        answer_now=answer_now)
            if early is not None and early.request == request:
                events = early.events()  # started during the pause on exactly this prompt
            else:
                if early is not None:
                    await early.aclose()  # the conversation changed since: its answer would be to another prompt
                events = self.backends.llm.chat(list(request.messages), tools=request.tools,
                                                options=request.options)
            if request.translation is not None:
                events = kept_to_target(events, request.translation, partial(
                    self.backends.llm.chat, Interpreter.insisting(request.messages, request.translation),
                    options=request.options))
            elif reference is not None:
                events = kept_korean(self.backends.llm, events, request.messages, tools=request.tools,
                                     options=request.options)
            early = None
            async with closing(events):
                async for event in events:
                    self._on_llm_event(stream, event)
            made, stream.calls = stream.calls, []
            calls = new_calls(made, this_turn(self.conversation.items))
            if made and not calls and not answer_now:
                # Only calls already made this turn, whose results the model has: it is asked for its answer now.
                log.info("repeated tool calls not made again: %s", ", ".join(f"{c.name}({c.arguments})" for c in made))
                answer_now = True
                continue
            local = [c for c in calls if self._runs_here(c.name, reply.overrides)]
            for call in calls:
                if call not in local:  # only the client's calls are sent to it: it cannot run a built-in tool
                    self.emit(ToolCallRequested(at=self.clock.now(), reply_id=reply.handle.reply_id, call=call))
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
                self.emit(LLMFirstToken(at=self.clock.now(), reply_id=handle.reply_id))
            handle.text += event.text
            stream.reply.item.text = handle.text
            self.emit(ReplyTextDelta(at=self.clock.now(), reply_id=handle.reply_id, item_id=handle.item_id,
                                     text=event.text))
            for chunk in stream.chunker.push(event.text):
                self._queue_speech(handle, stream.chunks, chunk)

    def _after_tools(self, request: LLMRequest, *, answer_now: bool) -> LLMRequest:
        """A prompt that ends with tool results gets a note after them (:func:`omni.session.tools.after_results`):
        what to do with them, in the user's language; a correction of a call whose arguments failed must call that
        tool. ``answer_now`` (the last round only repeated calls) asks for the answer with the tools off."""
        messages = request.messages
        if request.translation is not None or not messages or messages[-1].role != "tool":
            return request
        question = next((m.content for m in reversed(messages) if m.role == "user"), "")
        language = _LANGUAGE_NAMES.get(self._user_language(None) or "", "the language of the user's question")
        after = after_results(question, language, this_turn(self.conversation.items), answer_now=answer_now)
        generation = request.options
        if answer_now:
            generation = replace(generation, tool_choice="none")
        elif after.correct is not None and any(t.name == after.correct for t in request.tools):
            generation = replace(generation, tool_choice=after.correct)  # the correction is a call to that tool
        return LLMRequest.of([*messages, ChatMessage("system", after.note)], request.tools, generation)

    async def _run_tools(self, reply: _Reply, calls: list[ToolCall], local: list[ToolCall]) -> None:
        """Record the round's ``calls``, run the ``local`` ones and record their results; when every call was local,
        continue the reply in a new assistant item (calls left to the client end it)."""
        handle, item = reply.handle, reply.item
        item.tool_calls = tuple(calls)
        for call in local:
            output = await self.toolbox.run(call)
            if not reply.overrides.out_of_band:
                self.conversation.add(Item(new_id("item"), "tool", output, tool_call_id=call.id))
            self.emit(ToolCallDone(at=self.clock.now(), reply_id=handle.reply_id, call=call, output=output))
        if len(local) < len(calls):
            return
        item.status = "completed"
        reply.item = Item(new_id("item"), "assistant", status="in_progress")
        if not reply.overrides.out_of_band:
            self.conversation.add(reply.item)
        handle.item_id = reply.item.id
        handle.text = ""

    def _queue_speech(
        self, handle: SpeechHandle, chunks: asyncio.Queue[_Chunk | None], text: str, *, last: bool = False
    ) -> None:
        self.emit(SpeakableChunk(at=self.clock.now(), reply_id=handle.reply_id, text=text))
        chunks.put_nowait(_Chunk(text, text if last else voiced(text)))

    async def _speak(self, reply: _Reply, chunks: asyncio.Queue[_Chunk | None], early: EarlyStream | None) -> None:
        tts = self.backends.tts
        assert tts is not None
        handle = reply.handle
        voice, speed = reply.overrides.voice or self.options.voice, self.options.speed
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
                        await self.output.write(out)
                        self.emit(ReplyAudio(at=self.clock.now(), reply_id=handle.reply_id, item_id=handle.item_id,
                                             chunk=out, first=first))

    def _for_output(self, chunk: AudioChunk) -> AudioChunk:
        rate = self.output.sample_rate
        if rate is None or rate == chunk.sample_rate:
            return chunk
        return AudioChunk(resample(chunk.samples, chunk.sample_rate, rate), rate)

    def _request(self, *, pending: Item | None = None, overrides: ReplyOverrides | None = None,
                 reminders: bool = True, reference: str | None = None) -> LLMRequest:
        """The LLM call a reply makes now, or would make once the ``pending`` user item is added. ``reminders``
        (how to answer about images, in which language, an English ``reference`` answer) go on the newest user
        message; a prefill leaves them out, since the next turn's message will be the newest, and a reminder on the
        one before would not be in the reply's prompt (the cached prefix would end there)."""
        overrides = overrides or ReplyOverrides()
        if self.options.interpreter is not None:
            return self._translation_request(self.options.interpreter, pending, overrides, next_turn=not reminders)
        instructions = self.options.instructions if overrides.instructions is None else overrides.instructions
        language = self._user_language(pending)
        if overrides.input is not None:
            messages = [ChatMessage("system", instructions), *overrides.input]
        else:
            messages = self.conversation.prompt(
                instructions,
                budget_tokens=self.options.context_budget_tokens,
                count_tokens=self.backends.llm.count_tokens,
                extra=[pending.message(language=language)] if pending is not None else (),
                language=language,
            )
        notes = []
        if reminders and overrides.input is None and self.conversation.images_since_reply():
            notes.append(describe.REMINDER)
        if reminders and reference is not None:
            notes += reference_notes(reference)
        if reminders and language and language != "en":
            notes.append(f"(Answer in {_LANGUAGE_NAMES.get(language, language)}.)")
        generation = overrides.generation or self.options.generation
        # A prefill (no reminders) is for the next turn, whose question is not known: an ordinary one, most likely.
        question = next((m.content for m in reversed(messages) if m.role == "user"), None) if reminders else None
        offered = self._offered_tools(overrides, question, language)
        if generation.tool_choice == "auto" and question is not None:
            generation = self._tool_policy(generation, question, language, overrides)
        if notes and messages[-1].role == "user":
            # Reminders on the newest message only, so the cached prompt prefix stays the same.
            messages[-1] = ChatMessage("user", with_notes(messages[-1].content, notes))
        return LLMRequest.of(messages, offered, generation)

    def _client_tools(self, overrides: ReplyOverrides) -> tuple[Tool, ...]:
        return self.options.tools if overrides.tools is None else overrides.tools

    def _has_client_tools(self, overrides: ReplyOverrides) -> bool:
        """Whether the client declared tools: its own, or tools the session runs for it (a Realtime MCP server's)."""
        return bool(self._client_tools(overrides) or self.toolbox.declared_schemas)

    def _own_tools_offered(self, overrides: ReplyOverrides) -> bool:
        """Whether the session's own tools (built-in, configured MCP servers') are offered: not to a client that
        brought tools or instructions of its own (unless ``local_tools_with_client_tools``). Under a client's
        "Answer in one complete sentence." the 1.5B model opens nearly every answer as a call, and when it may not
        call it writes the call out as text ("Here is a JSON object with the function name...")."""
        return self.options.local_tools_with_client_tools or not (
            self._has_client_tools(overrides) or self.options.client_instructions
            or overrides.instructions is not None)

    def _offered_tools(self, overrides: ReplyOverrides, question: str | None = None,
                       language: str | None = None) -> list[Tool]:
        """The local tools the user's ``question`` has cues for (none for an unknown one), then those the client
        declared for the session to run, then the client's; a client's tool hides a local one of the same name (a
        client's ``get_time`` is the client's). A local tool with no cue in the question is not in the prompt at
        all: offered there, the 1.5B model makes "What is the capital of France?" a ``get_time("Paris")`` call,
        refuses one story request in four ("I'm sorry, but I can't assist with that request."), or writes a call
        out as text when it may not make one (docs/tools.md, Built-in tools)."""
        client = self._client_tools(overrides)
        names = {t.name for t in client}
        declared = [t for t in self.toolbox.declared_schemas if t.name not in names]
        if not self._own_tools_offered(overrides):
            return [*declared, *client]
        names |= {t.name for t in declared} | self.toolbox.unasked(question or "", language if question else "en")
        return [*(t for t in self.toolbox.own_schemas if t.name not in names), *declared, *client]

    def _tool_policy(self, generation: GenerationOptions, question: str, language: str | None,
                     overrides: ReplyOverrides) -> GenerationOptions:
        """What the reply to ``question`` calls: a local tool it triggers (once a turn: after its result the model
        answers), unless the client has tools of its own, which the model must be free to choose."""
        triggered = [name for name in self.toolbox.triggered(question, language) if self._runs_here(name, overrides)]
        if (len(triggered) == 1 and not self._has_client_tools(overrides)
                and not any(item.tool_calls for item in this_turn(self.conversation.items))):
            return replace(generation, tool_choice=triggered[0])
        return generation

    def _runs_here(self, name: str, overrides: ReplyOverrides) -> bool:
        """Whether the session runs a call itself: a local tool it offers that no client tool of the same name
        hides, and that needs no approval (a call that does ends the reply as a client's call does)."""
        client = self._client_tools(overrides)
        if name not in self.toolbox or self.toolbox.needs_approval(name) or any(t.name == name for t in client):
            return False
        return self.toolbox.is_declared(name) or self._own_tools_offered(overrides)

    def _translation_request(self, interpreter: Interpreter, pending: Item | None, overrides: ReplyOverrides, *,
                             next_turn: bool) -> LLMRequest:
        """Interpreter mode: the newest utterance alone through the fixed translation prompt, greedy, no tools;
        ``next_turn``: the prompt up to where the next utterance goes (a prefill)."""
        if overrides.input is not None:
            items = [Item("input", m.role, m.content) for m in overrides.input]
        else:
            items = [*self.conversation.items, pending] if pending is not None else self.conversation.items
        messages = interpreter.conversation_prompt(items, next_turn=next_turn)
        generation = overrides.generation or self.options.generation
        said = messages[-1].content if messages[-1].role == "user" else ""
        limit = interpreter.max_tokens(self.backends.llm.count_tokens(said))
        generation = replace(generation, temperature=0.0, tool_choice="none",
                             max_tokens=min(generation.max_tokens or limit, limit))
        return LLMRequest.of(messages, (), generation, None if next_turn else interpreter.direction_of(items))

    def _by_way_of_english(self, overrides: ReplyOverrides, *, pending: Item | None = None) -> bool:
        """Whether this reply answers a Korean question by way of a hidden English answer: asked for, and nothing
        the English answer could not see (tools it might need, images, messages given instead of the
        conversation): no tool is offered to the question (a built-in tool it has no cue for is not)."""
        if not (self.options.korean_answers == "pivot" and self.options.interpreter is None
                and overrides.input is None):
            return False
        question = pending if pending is not None else next(
            (item for item in reversed(self.conversation.items) if item.role == "user"), None)
        language = self._user_language(pending)
        return (language in PIVOT_LANGUAGES and question is not None
                and not self._offered_tools(overrides, question.text, language)
                and not self.conversation.images_since_reply() and not (pending is not None and pending.images))

    def _user_language(self, pending: Item | None) -> str | None:
        items = [*self.conversation.items, pending] if pending is not None else self.conversation.items
        for item in reversed(items):
            if item.role == "user" and item.text:
                return item.language or detect_language(item.text)
        return None


async def _replay(audio: Sequence[AudioChunk]) -> AsyncIterator[AudioChunk]:
    for piece in audio:
        yield piece
