"""Typed session events. Every stage reports through these, stamped with the session clock; observers consume them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from omni.types import AudioChunk, ToolCall, Transcript, Usage


@dataclass(frozen=True, kw_only=True)
class SessionEvent:
    at: float
    """Session clock time when the event happened."""


@dataclass(frozen=True, kw_only=True)
class SpeechStarted(SessionEvent):
    audio_start_ms: int
    """Where speech starts in the input audio, prefix padding included."""
    item_id: str
    """The id the user item of this speech will have once it is committed."""


@dataclass(frozen=True, kw_only=True)
class SpeechStopped(SessionEvent):
    audio_end_ms: int


@dataclass(frozen=True, kw_only=True)
class SpeechHeld(SessionEvent):
    """Speech began during a reply and is held until it is known to be a turn (:mod:`omni.session.backchannel`):
    a player that can pause, pauses."""

    audio_start_ms: int


@dataclass(frozen=True, kw_only=True)
class SpeechIgnored(SessionEvent):
    """Held speech was a backchannel or no words at all: the reply goes on (a paused player resumes)."""

    audio_start_ms: int
    audio_end_ms: int
    text: str
    """What the recogniser heard ("Mm-hm."; empty for a cough)."""


@dataclass(frozen=True, kw_only=True)
class TurnPredicted(SessionEvent):
    """At a pause in the user's speech: whether their words are finished, and the silence that now ends the turn
    (:mod:`omni.session.end_of_turn`)."""

    pause_ms: int
    """Where the pause began in the input audio."""
    text: str
    probability: float | None
    """The LLM's probability that the message ends here (None: it gives none, or it is busy with a reply)."""
    finished: float | None
    """The voice's prosodic score that it ends a turn here (None: not asked, or too little voiced audio)."""
    verdict: Literal["complete", "unsure", "unfinished"]
    wait_ms: int


@dataclass(frozen=True, kw_only=True)
class InputCommitted(SessionEvent):
    item_id: str
    audio_start_ms: int
    audio_end_ms: int


@dataclass(frozen=True, kw_only=True)
class InputCleared(SessionEvent):
    pass


@dataclass(frozen=True, kw_only=True)
class TranscriptionDone(SessionEvent):
    item_id: str
    transcript: Transcript
    seconds: float
    """Time the STT call took."""


@dataclass(frozen=True, kw_only=True)
class ItemAdded(SessionEvent):
    item_id: str
    role: str
    text: str


@dataclass(frozen=True, kw_only=True)
class ImagesSeen(SessionEvent):
    """The images of a user item have been looked at (or could not be): the item is complete."""

    item_id: str


@dataclass(frozen=True, kw_only=True)
class ReplyStarted(SessionEvent):
    reply_id: str
    item_id: str


@dataclass(frozen=True, kw_only=True)
class LLMFirstToken(SessionEvent):
    reply_id: str


@dataclass(frozen=True, kw_only=True)
class ReplyTextDelta(SessionEvent):
    reply_id: str
    item_id: str
    text: str


@dataclass(frozen=True, kw_only=True)
class SpeakableChunk(SessionEvent):
    reply_id: str
    text: str


@dataclass(frozen=True, kw_only=True)
class ReplyAudio(SessionEvent):
    reply_id: str
    item_id: str
    chunk: AudioChunk
    first: bool


@dataclass(frozen=True, kw_only=True)
class ToolCallRequested(SessionEvent):
    reply_id: str
    call: ToolCall


@dataclass(frozen=True, kw_only=True)
class ToolCallDone(SessionEvent):
    reply_id: str
    call: ToolCall
    output: str


ReplyStatus = Literal["completed", "cancelled", "interrupted", "failed"]


@dataclass(frozen=True, kw_only=True)
class ReplyDone(SessionEvent):
    reply_id: str
    item_id: str
    status: ReplyStatus
    text: str
    """All the text the LLM produced."""
    heard_text: str
    """What stays in the conversation: the text whose audio was played (all of it for text-only replies)."""
    usage: Usage | None = None
    error: str | None = None


@dataclass(frozen=True, kw_only=True)
class StageError(SessionEvent):
    stage: str
    message: str


Observer = Callable[[SessionEvent], None]
