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
    item_id: str
    """The id the user item of this speech will have once it is committed."""
    """Where speech starts in the input audio, prefix padding included."""


@dataclass(frozen=True, kw_only=True)
class SpeechStopped(SessionEvent):
    audio_end_ms: int


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
