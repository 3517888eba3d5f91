"""Listening: microphone audio in, up to "the user's turn ended" and the user item it becomes.

Audio → VAD frames → :class:`Endpointer` (speech start/stop) → STT on the committed span → user item → the session
is asked for a reply. During a pause that may end the turn the transcript, and the reply's LLM call on it, are
started early (speculation); while the user speaks their words so far are read ahead for the LLM to decode
(:mod:`omni.session.listen_ahead`). Speech that starts while a reply is active interrupts it (barge-in).

Under Omni's turn-taking (``TurnOptions.eagerness``, the Realtime API's ``semantic_vad``) the pause's transcript also
predicts whether the user is done (:mod:`omni.session.end_of_turn`), which sets the silence that ends that pause's
turn, and speech during a reply is held until it is known to be a turn and not a backchannel
(:mod:`omni.session.backchannel`) nor another voice far quieter than the user's (:mod:`omni.audio.speech_level`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from omni.audio.prosody import prosody_cues
from omni.audio.resample import resample
from omni.audio.speech_level import DISTANT_DB, VoiceLevel
from omni.backends.base import STT
from omni.clock import Clock
from omni.cores import CORES
from omni.errors import OmniError
from omni.events import (
    InputCleared,
    InputCommitted,
    ItemAdded,
    SessionEvent,
    SpeechHeld,
    SpeechIgnored,
    SpeechStarted,
    SpeechStopped,
    StageError,
    TranscriptionDone,
    TurnPredicted,
)
from omni.session.backchannel import ECHO_HOLD_MS, SPELLING, Hold, echoes, not_a_turn, stops
from omni.session.context import Conversation, Item, new_id
from omni.session.early_stream import EarlyStream
from omni.session.end_of_turn import WAITS, asks, verdict, words_verdict
from omni.session.input_audio import InputAudio
from omni.session.input_echo import InputEcho
from omni.session.listen_ahead import ListenAhead, settled_words
from omni.session.options import Backends, ReplyOverrides, SessionOptions
from omni.session.prompting import Prompts
from omni.session.speech import SpeechHandle
from omni.session.turns import Endpointer, SpeechEnd, SpeechStart, TurnOptions
from omni.types import AudioChunk, Samples, Transcript

log = logging.getLogger(__name__)

STT_TAIL_MS = 100
"""Audio after the detected end of speech that STT still gets: the VAD calls soft word endings silence, and
Whisper misreads a clipped "France" as "friends"."""
HELD_PAUSE_MS = 5000
"""The silence wait of a pause in held speech: its turn ends when its words have been read, not before."""


@dataclass
class _Speculation:
    """Work started during a pause that may end the user's turn: its transcript, then the reply's LLM call."""

    pause_ms: int
    audio: Samples
    """The speech up to the pause (16 kHz)."""
    transcript: asyncio.Task[Transcript]
    spelled: bool = False
    """Read after how acknowledgements are spelled (held speech): that prompt, a full stop after each, puts one after
    whatever is said ("Wait," came out "Wait."), so the transcript's last mark says nothing of the turn's end."""
    reply: EarlyStream | None = None
    prediction: asyncio.Task[None] | None = None
    """Whether the words so far end the turn (Omni's turn-taking), then the early reply."""

    def cancel(self) -> None:
        self.transcript.cancel()
        if self.prediction is not None:
            self.prediction.cancel()
        if self.reply is not None:
            self.reply.cancel()


class ListenerHost(Protocol):
    """What listening needs of its session: the options and requests as they are now, whether a reply is under way
    (no early reply starts while one is) or still playing (speech that is a turn stops it), a reply begun for a
    finished turn, a prefill of the next turn with the words read ahead, and a task the session owns."""

    @property
    def options(self) -> SessionOptions: ...

    @property
    def prompts(self) -> Prompts: ...

    @property
    def reply_active(self) -> bool: ...

    @property
    def speaking(self) -> bool: ...

    @property
    def saying(self) -> str: ...

    def stop_speaking(self) -> None: ...

    def spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]: ...

    async def begin_reply(self, overrides: ReplyOverrides, early: EarlyStream | None) -> SpeechHandle: ...

    async def prefill_next_turn(self, user_words: str = "") -> None: ...


class Listener:
    """A session's input side: the input audio, its own VAD stream and endpointer, the speech so far, the work
    started ahead of the turn's end, and the transcription of committed audio into user items."""

    def __init__(self, session: ListenerHost, backends: Backends, *, clock: Clock, conversation: Conversation,
                 emit: Callable[[SessionEvent], None], echo: InputEcho | None = None) -> None:
        self._session = session
        self._backends = backends
        self._clock = clock
        self._conversation = conversation
        self._emit = emit
        self._endpointer = Endpointer(session.options.turn)
        self._vad = backends.vad.fork() if backends.vad is not None else None
        """This session's own VAD stream: the model's recurrent state must not mix with other sessions' audio."""
        self._input = InputAudio(backends.vad.frame_samples if backends.vad else 512)
        self._speech_start_ms: int | None = None
        self._speech_count = 0  # speech starts so far: a turn whose user went on talking gets no reply of its own
        self._pending_user_id = new_id("item")  # the id of the user item the current speech will become
        self._transcribing: set[asyncio.Task[None]] = set()  # user audio items whose text is not known yet
        self._speculation: _Speculation | None = None
        self._listen_ahead = ListenAhead()
        self._hold: Hold | None = None  # speech during a reply, not yet known to be a turn
        self._echo = echo
        self._voice = VoiceLevel()
        """How loud the user's turns have been: speech during a reply far quieter is someone else's."""

    @property
    def _options(self) -> SessionOptions:
        return self._session.options

    @property
    def in_speech(self) -> bool:
        """Whether the user is speaking (by the endpointer)."""
        return self._endpointer.in_speech

    @property
    def transcribing(self) -> frozenset[asyncio.Task[None]]:
        """The transcriptions of user audio items in progress."""
        return frozenset(self._transcribing)

    @property
    def buffered_input_seconds(self) -> float:
        """Input audio held and not yet committed."""
        return (self._input.end_ms - self._input.start_ms) / 1000

    def new_turn_options(self, turn: TurnOptions) -> None:
        """Turn detection changed: endpointing starts over with ``turn``; the speech so far and the work started on it
        are dropped."""
        self._endpointer = Endpointer(turn)
        self._drop_speculation()
        self._speech_start_ms = None
        self._hold = None

    def close(self) -> None:
        """Drop the work started ahead of a turn's end."""
        self._drop_speculation()
        self._listen_ahead.cancel()

    def push_audio(self, chunk: AudioChunk) -> None:
        """Add microphone audio (any sample rate). Runs VAD and endpointing when turn detection is on."""
        if self._echo is not None and self._options.echo_cancellation:
            heard = self._echo.heard
            chunk = self._echo.cancel(chunk)
            if self._echo.heard and not heard and self._hold is not None:
                # The speech held was most likely the speaker's own voice, heard before the echo was found.
                self._ignore_held(self._input.end_ms, "")
            if self._hold is not None:
                was, self._hold.maybe_echo = self._hold.maybe_echo, self._echo.undecided
                if was and not self._hold.maybe_echo:
                    self._reconsider_hold(self._hold)
        frames = self._input.append(chunk)
        vad = self._vad
        if vad is None or self._options.turn_detection == "manual":
            return
        for frame, start_ms, end_ms in frames:
            turn = self._endpointer.process(vad.probability(frame), start_ms, end_ms)
            if isinstance(turn, SpeechStart):
                self._on_speech_start(turn.audio_start_ms, end_ms)
                self._listen_ahead.restart(end_ms)
            elif isinstance(turn, SpeechEnd):
                self._on_speech_end(turn.audio_end_ms)
            else:
                if self._hold is not None and self._endpointer.silence_start_ms is None:
                    self._watch_held(self._hold, end_ms)
                self._speculate(end_ms)
                self._read_ahead(end_ms)
        if not self._endpointer.in_speech:
            # Outside speech only the prefix padding (plus the minimum speech run) can still join a turn.
            keep = self._options.turn.prefix_padding_ms + self._options.turn.min_speech_ms + 1000
            self._input.discard_before(self._input.end_ms - keep)

    def _on_speech_start(self, audio_start_ms: int, now_ms: float) -> None:
        self._speech_start_ms = max(audio_start_ms, self._input.start_ms)
        if self._holds_speech():
            self._hold = Hold(self._speech_start_ms, now_ms, self._options.turn.min_speech_ms)
            self._emit(SpeechHeld(at=self._clock.now(), audio_start_ms=self._speech_start_ms))
            return
        self._announce_speech()

    def _holds_speech(self) -> bool:
        """Whether speech that starts now waits to be known as a turn before it interrupts: Omni's turn-taking, a
        reply it would interrupt (under way, or still playing: a client plays what was sent ahead), and the words of
        a pause to tell a backchannel by."""
        return (self._options.turn.eagerness is not None and self._options.interrupt_response
                and self._session.speaking and self._backends.stt is not None
                and self._options.speculate_after_ms is not None)

    def _announce_speech(self) -> None:
        """The speech is a turn: ``speech_started``, and the reply in progress stops."""
        assert self._speech_start_ms is not None
        self._speech_count += 1
        self._emit(SpeechStarted(at=self._clock.now(), audio_start_ms=self._speech_start_ms,
                                 item_id=self._pending_user_id))
        if self._options.interrupt_response:
            self._session.stop_speaking()

    def _watch_held(self, hold: Hold, now_ms: float) -> None:
        """Held speech going on: a turn once it is too long for a backchannel; its first words are read meanwhile."""
        if hold.long_enough(now_ms):
            self._release_hold(f"speech for {now_ms - hold.detected_ms:.0f} ms")
            return
        stt = self._backends.stt
        if stt is None or not hold.due_for_peek(now_ms):
            return
        audio = self._input.peek(hold.audio_start_ms, round(now_ms))
        below = self._voice.below(audio)
        if below is not None and below >= DISTANT_DB:
            self._set_apart(hold, now_ms, below)
        language, prompt = self._held_reading()

        async def first_words() -> str:
            return (await stt.transcribe(audio, language=language, prompt=prompt)).text

        hold.peek = asyncio.ensure_future(first_words())
        hold.peek.add_done_callback(lambda task: self._on_first_words(hold, task))

    def _set_apart(self, hold: Hold, now_ms: float, below_db: float) -> None:
        """Held speech far quieter than the user's voice: another voice's, which lets the reply go on (a client that
        paused, resumes) unless its words stop it; it stays held to its end, so that it makes no turn of its own."""
        log.info("held speech is another voice: %.0f dB under the user's", below_db)
        hold.distant = True
        self._emit(SpeechIgnored(at=self._clock.now(), audio_start_ms=hold.audio_start_ms, audio_end_ms=round(now_ms),
                                 text=""))

    def _on_first_words(self, hold: Hold, task: asyncio.Task[str]) -> None:
        if hold is not self._hold or task.cancelled() or task.exception() is not None:
            return
        words = task.result()
        if hold.distant:
            if stops(words):
                self._release_hold(f"another voice's first words {words!r}")
            return
        if echoes(words, self._session.saying):
            log.info("held speech is the reply's own voice: %r", words)
            self._ignore_held(self._input.end_ms, "")  # the reply's own voice, before the canceller has it
            return
        hold.sounds_short = not_a_turn(words, 0)
        if not hold.sounds_short and not hold.maybe_echo:
            self._release_hold(f"its first words {words!r}")  # "No, I meant…": a turn as soon as its words say so

    def _reconsider_hold(self, hold: Hold) -> None:
        """The microphone was found not to hear the speaker: held speech whose words were read meanwhile is decided
        by them now."""
        if hold.peek is not None and hold.peek.done():
            self._on_first_words(hold, hold.peek)
        speculation = self._speculation
        if hold is self._hold and speculation is not None and speculation.transcript.done():
            self._on_pause_transcript(speculation)

    def _held_reading(self) -> tuple[str | None, str | None]:
        """The language held speech is read in, and the prompt it is read after: a short sound heard alone is often
        taken for another language ("네" read as Hebrew), so the one the user has been speaking; and how
        acknowledgements are spelled in it (:data:`omni.session.backchannel.SPELLING`)."""
        language = self._options.language or self._session.prompts.user_language(None)
        return language, SPELLING.get(language or "")

    def _release_hold(self, why: str) -> None:
        log.info("held speech is a turn: %s", why)
        self._hold = None
        self._announce_speech()

    def _ignore_held(self, pause_ms: int, text: str) -> None:
        """Held speech was a backchannel, no words or another voice: no turn, and the reply goes on."""
        assert self._hold is not None
        hold, self._hold = self._hold, None
        log.info("held speech is no turn: %r", text)
        self._drop_speculation()  # no reply starts from its words
        self._endpointer.reset()
        self._speech_start_ms = None
        if not hold.distant:  # another voice's was answered when it was set apart
            self._emit(SpeechIgnored(at=self._clock.now(), audio_start_ms=hold.audio_start_ms,
                                     audio_end_ms=pause_ms, text=text))

    def _on_speech_end(self, audio_end_ms: int) -> None:
        if self._hold is not None:
            if self._hold.distant:
                self._ignore_held(audio_end_ms, "")  # another voice's: no turn
                return
            self._release_hold("its words were not read in time")  # a turn, as under server_vad
        self._emit(SpeechStopped(at=self._clock.now(), audio_end_ms=audio_end_ms))
        start = self._speech_start_ms if self._speech_start_ms is not None else self._input.start_ms
        self._speech_start_ms = None
        early, self._speculation = self._speculation, None
        if early is not None and early.pause_ms != audio_end_ms:
            early.cancel()
            early = None
        self._commit(start, audio_end_ms, respond=self._options.create_response, early=early, tail_ms=STT_TAIL_MS)

    def _drop_speculation(self) -> None:
        if self._speculation is not None:
            self._speculation.cancel()
            self._speculation = None

    def _speculate(self, now_ms: float) -> None:
        """Transcribe during a pause in speech; drop that work when the user goes on talking."""
        pause = self._endpointer.silence_start_ms
        if self._speculation is not None and (pause is None or round(pause) != self._speculation.pause_ms):
            self._drop_speculation()
        wait = self._options.speculate_after_ms
        stt = self._backends.stt
        if pause is None or wait is None or stt is None or self._speculation is not None or now_ms - pause < wait:
            return
        self._listen_ahead.cancel()  # the pause's transcript has every word; the LLM will be wanted for them
        start = self._speech_start_ms if self._speech_start_ms is not None else self._input.start_ms
        audio = self._input.peek(start, min(round(now_ms), round(pause) + STT_TAIL_MS))
        language, prompt = self._held_reading() if self._hold is not None else (self._options.language, None)
        task = asyncio.ensure_future(stt.transcribe(audio, language=language, prompt=prompt))
        speculation = _Speculation(round(pause), audio, task, spelled=prompt is not None)
        task.add_done_callback(lambda _: self._on_pause_transcript(speculation))
        self._speculation = speculation
        if self._hold is not None:
            self._endpointer.set_wait(pause, HELD_PAUSE_MS)

    def _on_pause_transcript(self, speculation: _Speculation) -> None:
        """The pause's transcript is there: held speech is told apart from a backchannel; under Omni's turn-taking
        the words predict the end of the turn; the reply's LLM call starts."""
        task = speculation.transcript
        if task.cancelled() or speculation is not self._speculation:
            return
        if task.exception() is not None:
            if self._hold is not None and self._hold.distant:
                self._ignore_held(speculation.pause_ms, "")
            elif self._hold is not None:
                # The words cannot be read: the user may stop the reply, as under server_vad.
                self._release_hold("its words could not be read")
            return
        transcript = task.result()
        text = transcript.text.strip()
        if self._hold is not None:
            if not_a_turn(text, self._hold.speech_ms(speculation.pause_ms)) or echoes(text, self._session.saying) \
                    or (self._hold.distant and not stops(text)):
                self._ignore_held(speculation.pause_ms, text)
                return
            if self._hold.maybe_echo:
                # The echo detector decides; speech that goes on, or a silence this long, makes it a turn.
                self._endpointer.set_wait(speculation.pause_ms, ECHO_HOLD_MS)
                return
            self._release_hold(f"its words {text!r}")
        if self._options.turn.eagerness is None:
            self._start_early_reply(speculation, transcript)
        else:
            speculation.prediction = self._session.spawn(self._predict(speculation, transcript))

    async def _predict(self, speculation: _Speculation, transcript: Transcript) -> None:
        """How long this pause's silence must last to end the turn, from the words so far; then the early reply."""
        eagerness = self._options.turn.eagerness
        assert eagerness is not None
        text = transcript.text.strip()
        if speculation.spelled:
            text = text.rstrip(".!。")
        probability = None
        if text and not self._session.reply_active:  # while a reply speaks, the LLM is busy with it
            request = self._session.prompts.request(reminders=False)  # the prompt a prefill decodes
            try:
                probability = await self._backends.llm.end_of_turn(request.messages, request.tools, user_words=text)
            except OmniError as exc:
                log.warning("the end-of-turn probability failed: %s", exc)
        finished = None
        if self._options.turn.prosody and words_verdict(text, probability) == "complete" and not asks(text):
            finished = await self._finished_sound(speculation.audio)
        if speculation is not self._speculation:
            return
        found = verdict(text, probability, finished)
        wait = WAITS[eagerness].for_verdict(found)
        self._endpointer.set_wait(speculation.pause_ms, wait)
        self._emit(TurnPredicted(at=self._clock.now(), pause_ms=speculation.pause_ms, text=text,
                                 probability=probability, finished=finished, verdict=found, wait_ms=wait))
        log.info("pause at %d ms: %r, end probability %s, prosody %s: %s, %d ms wait", speculation.pause_ms, text,
                 "-" if probability is None else f"{probability:.2f}", "-" if finished is None else f"{finished:.2f}",
                 found, wait)
        if found != "unfinished":  # the user most likely goes on: the LLM and the cores are better left to them
            self._start_early_reply(speculation, transcript)

    async def _finished_sound(self, audio: Samples) -> float | None:
        """The prosodic score that the speech before the pause ends a turn (:mod:`omni.audio.prosody`)."""
        try:
            return (await asyncio.to_thread(prosody_cues, audio)).finished
        except OmniError as exc:  # only a brake is lost: the words decide alone
            log.warning("prosody cues failed: %s", exc)
            return None

    def _start_early_reply(self, speculation: _Speculation, transcript: Transcript) -> None:
        """Start the LLM on the prompt the reply would send if the turn ends at this pause."""
        text = transcript.text.strip()
        if not text or not self._options.create_response or self._session.reply_active:
            return  # no reply would follow, or the LLM is still busy with the last one
        user = Item("pending", "user", text, language=transcript.language)
        if self._session.prompts.by_way_of_english(ReplyOverrides(), pending=user):
            return  # its prompt waits for the English reference, which is worth starting only once the turn is sure
        speculation.reply = early = EarlyStream(self._backends.llm, self._session.prompts.request(pending=user))
        if self._options.voice_ahead and self._options.output_audio and self._backends.tts is not None:
            early.voice_first_chunk(self._backends.tts, first_phrase=self._options.first_chunk_at_phrase,
                                    voice=self._options.voice, speed=self._options.speed)

    def _read_ahead(self, now_ms: float) -> None:
        """While the user speaks, now and then transcribe their words so far for the LLM to decode ahead."""
        every, stt, llm = self._options.listen_ahead_ms, self._backends.stt, self._backends.llm
        start = self._speech_start_ms
        if (every is None or stt is None or not llm.caches_prompts or start is None or self._session.reply_active
                or self._endpointer.silence_start_ms is not None or not self._listen_ahead.due(now_ms, every)):
            return  # a pause is the speculation's: it transcribes everything said
        if CORES.busy:
            return  # other sessions' speech work has the cores: a head start must not take them from it
        audio = self._input.peek(start, round(now_ms))
        self._listen_ahead.start(now_ms, self._decode_words_ahead(stt, audio))

    async def _decode_words_ahead(self, stt: STT, audio: Samples) -> None:
        try:
            words = settled_words((await stt.transcribe(audio, language=self._options.language)).text)
        except OmniError as exc:  # only a head start is lost; the turn transcribes its words itself
            log.warning("transcribing the user's words ahead failed: %s", exc)
            return
        if words and not self._session.reply_active:
            await self._session.prefill_next_turn(words)

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
        self._hold = None
        self._emit(InputCleared(at=self._clock.now()))

    def _commit(
        self, start_ms: int, end_ms: int, *, respond: bool, early: _Speculation | None = None, tail_ms: int = 0
    ) -> str:
        audio = self._input.take(start_ms, min(end_ms + tail_ms, self._input.end_ms))
        self._voice.add(audio)
        item_id, self._pending_user_id = self._pending_user_id, new_id("item")
        item = self._conversation.add(Item(item_id, "user", status="in_progress"))
        self._emit(InputCommitted(at=self._clock.now(), item_id=item.id, audio_start_ms=start_ms, audio_end_ms=end_ms))
        self._spawn_transcription(self._transcribe(item, audio, respond, self._speech_count, early))
        return item.id

    def add_user_audio(self, chunk: AudioChunk, *, after: str | None = None, item_id: str | None = None) -> Item:
        """A user message given as audio: added now, its text filled in when transcribed (no reply follows)."""
        audio = resample(chunk.samples, chunk.sample_rate, 16000) if chunk.sample_rate != 16000 else chunk.samples
        item = self._conversation.add(Item(item_id or new_id("item"), "user", status="in_progress"), after=after)
        self._emit(ItemAdded(at=self._clock.now(), item_id=item.id, role="user", text=""))
        self._spawn_transcription(self._transcribe(item, audio, False, self._speech_count, None))
        return item

    def _spawn_transcription(self, coro: Coroutine[Any, Any, None]) -> None:
        task = self._session.spawn(coro)
        self._transcribing.add(task)
        task.add_done_callback(self._transcribing.discard)

    async def _transcribe(
        self, item: Item, audio: Samples, respond: bool, speech_count: int, early: _Speculation | None
    ) -> None:
        stt = self._backends.stt
        if stt is None:
            self._emit(StageError(at=self._clock.now(), stage="stt", message="no STT backend configured"))
            return
        started = self._clock.now()
        try:
            if early is not None:
                transcript = await early.transcript  # started during the pause, on exactly this audio
            else:
                transcript = await stt.transcribe(audio, language=self._options.language)
        except OmniError as exc:
            self._conversation.delete(item.id)
            self._emit(StageError(at=self._clock.now(), stage="stt", message=str(exc)))
            return
        early_reply = early.reply if early is not None else None  # set by the transcript's done callback
        try:
            item.text, item.language, item.status = transcript.text.strip(), transcript.language, "completed"
            self._emit(TranscriptionDone(at=self._clock.now(), item_id=item.id, transcript=transcript,
                                         seconds=self._clock.now() - started))
            if not item.text:
                self._conversation.delete(item.id)  # noise or a cough: no turn
                return
            if respond and not (self._options.interrupt_response and speech_count != self._speech_count):
                await self._session.begin_reply(ReplyOverrides(), early_reply)
                early_reply = None  # the reply owns it now
        finally:
            if early_reply is not None:
                await early_reply.aclose()
