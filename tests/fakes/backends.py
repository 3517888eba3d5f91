"""Fake VAD, STT, LLM, TTS and vision. Each takes its "compute time" on the injected clock and records what it was
asked."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from omni.backends.base import LLM, STT, TTS, GenerationOptions, Vision
from omni.clock import Clock
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
from omni.vision.facts import measure
from omni.vision.scene import Box, Scene, TextLine

SPEECH_LEVEL = 0.3
"""Amplitude of the synthetic "speech" tone the fake VAD hears as speech."""


def speech(seconds: float, rate: int = 16000, *, level_db: float = 0.0) -> AudioChunk:
    """A tone: a browser's noise suppression lets it through, where it takes noise away. ``level_db``: relative to
    the usual speech level (another voice in the room is quieter)."""
    t = np.arange(round(seconds * rate)) / rate
    amplitude = SPEECH_LEVEL * 10 ** (level_db / 20)
    return AudioChunk((amplitude * np.sin(2 * np.pi * 220 * t)).astype(np.float32), rate)


def silence(seconds: float, rate: int = 16000) -> AudioChunk:
    return AudioChunk.silence(seconds, rate)


class EnergyVAD:
    """Speech probability from frame energy: the synthetic tone is speech down to 26 dB under its usual level, silence
    is not."""

    sample_rate = 16000
    frame_samples = 512

    def probability(self, frame: Samples) -> float:
        return 1.0 if float(np.sqrt(np.mean(frame**2))) > SPEECH_LEVEL / 20 else 0.0

    def reset(self) -> None:
        pass

    def fork(self) -> EnergyVAD:
        return self


@dataclass
class ScriptedSTT(STT):
    clock: Clock
    texts: list[str]
    latency: float = 0.2
    language: str = "en"
    heard: list[float] = field(default_factory=list)
    """Duration in seconds of each clip it was given."""
    prompts: list[str] = field(default_factory=list)
    """The prompt of each call given one."""

    async def _transcribe(self, audio: Samples, language: str | None) -> Transcript:
        self.heard.append(len(audio) / self.sample_rate)
        await self.clock.sleep(self.latency)
        return Transcript(self.texts.pop(0) if self.texts else "", language or self.language)

    async def _transcribe_prompted(self, audio: Samples, language: str | None, prompt: str) -> Transcript:
        self.prompts.append(prompt)
        return await self._transcribe(audio, language)


class WordsSoFarSTT(ScriptedSTT):
    """Hears the words of one sentence spoken at ``words_per_second``: as many as each clip holds, the last one
    ending in a full stop as whisper writes a cut-off clip."""

    def __init__(self, clock: Clock, sentence: str, words_per_second: float = 4.0) -> None:
        super().__init__(clock, [])
        self.words = sentence.split()
        self.words_per_second = words_per_second

    async def _transcribe(self, audio: Samples, language: str | None) -> Transcript:
        seconds = len(audio) / self.sample_rate
        self.heard.append(seconds)
        await self.clock.sleep(self.latency)
        words = self.words[: round(seconds * self.words_per_second)]
        return Transcript(" ".join(words) + "." if words else "", language or self.language)


@dataclass
class ScriptedLLM(LLM):
    """Answers each call with the next script entry: a string (streamed word by word) or tool calls."""

    clock: Clock
    script: list[str | list[ToolCall]]
    first_token: float = 0.3
    per_token: float = 0.05
    prompts: list[list[ChatMessage]] = field(default_factory=list)
    calls: list[tuple[tuple[Tool, ...], GenerationOptions]] = field(default_factory=list)
    """The tools offered and the options of each call, beside its prompt."""
    prefilled: list[list[ChatMessage]] = field(default_factory=list)
    prefilled_words: list[str] = field(default_factory=list)
    """The ``user_words`` of each prefill."""
    caches_prompts: bool = False
    closed: int = 0
    """How many streams were closed before they finished (cancellation reached the backend)."""
    turn_ends: dict[str, float] = field(default_factory=dict)
    """The end-of-turn probability it gives after these words (none after others, as a remote LLM)."""
    asked_turn_end: list[str] = field(default_factory=list)

    async def _chat(
        self, messages: Sequence[ChatMessage], tools: Sequence[Tool], options: GenerationOptions
    ) -> AsyncIterator[LLMEvent]:
        self.prompts.append(list(messages))
        self.calls.append((tuple(tools), options))
        answer = self.script.pop(0) if self.script else "Okay."
        finished = False
        try:
            await self.clock.sleep(self.first_token)
            if isinstance(answer, list):
                for call in answer:
                    yield call
            else:
                words = answer.split(" ")
                for index, word in enumerate(words):
                    yield TextDelta(word if index == 0 else " " + word)
                    await self.clock.sleep(self.per_token)
            yield Usage(prompt_tokens=sum(len(m.content.split()) for m in messages), completion_tokens=5)
            finished = True
        finally:
            if not finished:
                self.closed += 1

    async def prefill(
        self, messages: Sequence[ChatMessage], tools: Sequence[Tool] = (), *, user_words: str = ""
    ) -> None:
        self.prefilled.append(list(messages))
        self.prefilled_words.append(user_words)

    async def end_of_turn(self, messages: Sequence[ChatMessage], tools: Sequence[Tool] = (), *,
                          user_words: str) -> float | None:
        self.asked_turn_end.append(user_words)
        return self.turn_ends.get(user_words)

    def count_tokens(self, text: str) -> int:
        return len(text.split())


@dataclass
class ScriptedTTS(TTS):
    """Speaks 0.25 s of tone per word after ``latency``, between ``lead`` and ``tail`` seconds of silence (a real
    voice has both); records the texts it was given."""

    clock: Clock
    latency: float = 0.1
    seconds_per_word: float = 0.25
    sample_rate: int = 24000
    lead: float = 0.0
    tail: float = 0.0
    texts: list[str] = field(default_factory=list)
    closed: int = 0

    async def _synthesize(
        self, text: str, voice: str | None, language: str | None, speed: float
    ) -> AsyncIterator[AudioChunk]:
        self.texts.append(text)
        finished = False
        try:
            await self.clock.sleep(self.latency)
            rate = self.sample_rate
            tone = np.full(round(len(text.split()) * self.seconds_per_word / speed * rate), 0.1, np.float32)
            yield AudioChunk(np.concatenate([np.zeros(round(self.lead * rate), np.float32), tone,
                                             np.zeros(round(self.tail * rate), np.float32)]), rate)
            finished = True
        finally:
            if not finished:
                self.closed += 1


@dataclass
class ColourReadingVision(Vision):
    """Reads the text ``texts`` gives for the colour of the image's top-left pixel (keyed by what it is shown, so
    the order of calls does not matter); records each look's question."""

    clock: Clock
    texts: dict[tuple[int, int, int], str] = field(default_factory=dict)
    latency: float = 0.3
    questions: list[str | None] = field(default_factory=list)

    async def _look(self, frame: ImageFrame, question: str | None) -> Scene:
        self.questions.append(question)
        await self.clock.sleep(self.latency)
        red, green, blue = (int(c) for c in frame.pixels[0, 0])
        text = self.texts.get((red, green, blue))
        lines = (TextLine(text, Box(0.1, 0.1, 0.8, 0.2), 0.9),) if text else ()
        return Scene(measure(frame.pixels), text=lines, timings={"text": self.latency})
