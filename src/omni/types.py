"""The typed messages that cross a stage boundary: audio, images, transcripts, text, tool calls, chat history."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

Samples = npt.NDArray[np.float32]
"""Mono audio as float32 in [-1, 1]."""


@dataclass(frozen=True, eq=False)
class AudioChunk:
    """A piece of mono audio. ``samples`` is float32 in [-1, 1]."""

    samples: Samples
    sample_rate: int

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate

    @staticmethod
    def silence(seconds: float, sample_rate: int) -> AudioChunk:
        return AudioChunk(np.zeros(round(seconds * sample_rate), dtype=np.float32), sample_rate)


Pixels = npt.NDArray[np.uint8]
"""An RGB image as a height × width × 3 array."""


@dataclass(frozen=True, eq=False)
class ImageFrame:
    """An image a client sent, decoded: RGB pixels (downscaled when it was larger than the accepted size)."""

    pixels: Pixels
    original_width: int
    original_height: int
    format: str
    """What it was sent as: PNG, JPEG, GIF, WEBP or BMP."""

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])


@dataclass(frozen=True)
class Segment:
    """A stretch of a transcript with its place in the audio, in seconds from the start."""

    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Transcript:
    """What the user said, as recognised by STT; ``segments`` when the backend was asked for timestamps."""

    text: str
    language: str | None = None
    language_probability: float | None = None
    segments: tuple[Segment, ...] = ()


@dataclass(frozen=True)
class TextDelta:
    """A piece of streamed LLM output text."""

    text: str


@dataclass(frozen=True)
class ToolCall:
    """A function call requested by the LLM. ``arguments`` is the JSON text the model produced."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class Usage:
    """Token counts of one LLM call."""

    prompt_tokens: int
    completion_tokens: int


LLMEvent = TextDelta | ToolCall | Usage
Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True)
class ChatMessage:
    """One entry of the conversation history, in the shape chat-completion APIs use."""

    role: Role
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class Tool:
    """A function the LLM may call: its name, description and JSON-schema parameters."""

    name: str
    description: str
    parameters: dict[str, object] = field(default_factory=lambda: {"type": "object", "properties": {}})
