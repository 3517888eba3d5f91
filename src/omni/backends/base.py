"""The backend protocols: VAD, STT, LLM, TTS and Vision.

A backend author implements one method (``_transcribe``, ``_chat``, ``_synthesize``, ``_look`` or ``probability``);
the base classes own error wrapping so that a failing model surfaces as a :class:`BackendError` naming
the stage, never as a bare traceback. Streams are closed deterministically (``omni.aio.closing``) so that cancelling a
consumer stops the backend's work at once rather than whenever the garbage collector gets to it.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from omni.aio import closing
from omni.errors import BackendError, OmniError
from omni.types import AudioChunk, ChatMessage, ImageFrame, LLMEvent, Samples, Tool, Transcript
from omni.vision.scene import Scene


class VAD(Protocol):
    """Frame-level voice activity: cheap enough (well under a millisecond) to run on the event loop."""

    sample_rate: int
    frame_samples: int

    def probability(self, frame: Samples) -> float:
        """Speech probability of exactly ``frame_samples`` samples at ``sample_rate``."""
        ...

    def reset(self) -> None: ...

    def fork(self) -> VAD:
        """A VAD of its own for another audio stream: the same model with fresh state. A recurrent model keeps
        state between frames, so concurrent streams (the server's sessions) must not share one."""
        ...


class STT(abc.ABC):
    """Speech to text on a whole utterance."""

    stage = "stt"
    sample_rate: int = 16000

    async def transcribe(
        self, audio: Samples, *, language: str | None = None, timestamps: bool = False, prompt: str | None = None
    ) -> Transcript:
        """Transcribe mono float32 audio at :attr:`sample_rate`; ``language`` None means detect it.

        ``timestamps`` asks for the transcript's segments with their times (subtitles), which can be slower; a
        backend that cannot time its text returns no segments. ``prompt``: text in the style and words the speech
        likely has (whisper's previous-text prompt, the ``prompt`` of OpenAI's transcriptions), which steers how
        sounds are spelled; a backend that cannot take one transcribes without it.
        """
        try:
            if timestamps:
                return await self._transcribe_timed(audio, language)
            if prompt:
                return await self._transcribe_prompted(audio, language, prompt)
            return await self._transcribe(audio, language)
        except OmniError:
            raise
        except Exception as exc:
            raise BackendError(self.stage, f"{type(exc).__name__}: {exc}") from exc

    @abc.abstractmethod
    async def _transcribe(self, audio: Samples, language: str | None) -> Transcript: ...

    async def _transcribe_timed(self, audio: Samples, language: str | None) -> Transcript:
        return await self._transcribe(audio, language)

    async def _transcribe_prompted(self, audio: Samples, language: str | None, prompt: str) -> Transcript:
        return await self._transcribe(audio, language)


ToolChoice = Literal["auto", "none", "required"] | str


@dataclass(frozen=True)
class GenerationOptions:
    temperature: float = 0.7
    max_tokens: int | None = 512
    tool_choice: ToolChoice = "auto"


class LLM(abc.ABC):
    """A chat model that streams text deltas, tool calls and a final usage count."""

    stage = "llm"

    async def chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        tools: Sequence[Tool] = (),
        options: GenerationOptions = GenerationOptions(),
    ) -> AsyncGenerator[LLMEvent, None]:
        try:
            async with closing(self._chat(messages, tools, options)) as events:
                async for event in events:
                    yield event
        except OmniError:
            raise
        except Exception as exc:
            raise BackendError(self.stage, f"{type(exc).__name__}: {exc}") from exc

    @abc.abstractmethod
    def _chat(
        self, messages: Sequence[ChatMessage], tools: Sequence[Tool], options: GenerationOptions
    ) -> AsyncIterator[LLMEvent]: ...

    caches_prompts: bool = False
    """:meth:`prefill` does work a later call reuses (a local runtime's prompt cache); with a remote LLM it is a
    no-op, and the session does not transcribe ahead for it."""

    async def prefill(
        self, messages: Sequence[ChatMessage], tools: Sequence[Tool] = (), *, user_words: str = ""
    ) -> None:
        """Process the start of a prompt ahead of time: ``messages`` and ``tools``, then the start of a next user
        message that begins with ``user_words`` (a runtime with a prompt cache keeps it); default: nothing."""
        return None

    async def prepare_decisions(self, tool_sets: Sequence[Sequence[Tool]]) -> None:
        """Get ready to decide, for a question each set of tools is offered to, whether to call one (a runtime that
        decides calls on a prompt of their own decodes those prompts ahead); default: nothing."""
        return None

    async def end_of_turn(self, messages: Sequence[ChatMessage], tools: Sequence[Tool] = (), *,
                          user_words: str) -> float | None:
        """The probability that a next user message that begins with ``user_words`` ends there, after the
        ``messages`` and ``tools``; None where the model cannot say (default: a remote LLM gives no such number)."""
        return None

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` takes in this model's prompt; the default estimates 4 characters a token."""
        return max(1, len(text) // 4)


class TTS(abc.ABC):
    """Text to speech; yields audio as it is made (one or more chunks per call)."""

    stage = "tts"
    sample_rate: int

    async def synthesize(
        self, text: str, *, voice: str | None = None, language: str | None = None, speed: float = 1.0
    ) -> AsyncGenerator[AudioChunk, None]:
        """Speak ``text``; ``speed`` is a multiple of the backend's own pace (its configured ``tts.speed``)."""
        if not 0.1 <= speed <= 10.0:
            raise ValueError(f"speed must be between 0.1 and 10, got {speed}")
        try:
            async with closing(self._synthesize(text, voice, language, speed)) as chunks:
                async for chunk in chunks:
                    yield chunk
        except OmniError:
            raise
        except Exception as exc:
            raise BackendError(self.stage, f"{type(exc).__name__}: {exc}") from exc

    @abc.abstractmethod
    def _synthesize(
        self, text: str, voice: str | None, language: str | None, speed: float
    ) -> AsyncIterator[AudioChunk]: ...

    def voices(self) -> Sequence[str]:
        """Names accepted as ``voice``."""
        return ()


class Vision(abc.ABC):
    """Looks at one image and says what is in it: findings (text, objects, faces...) or a model's own words."""

    stage = "vision"

    async def look(self, frame: ImageFrame, *, question: str | None = None) -> Scene:
        """What is in ``frame``; ``question`` (what the user asked about it, when known) may focus the look."""
        try:
            return await self._look(frame, question)
        except OmniError:
            raise
        except Exception as exc:
            raise BackendError(self.stage, f"{type(exc).__name__}: {exc}") from exc

    @abc.abstractmethod
    async def _look(self, frame: ImageFrame, question: str | None) -> Scene: ...
