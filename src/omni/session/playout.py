"""Where reply audio goes, and how much of it has been played — the fact that truncate-to-heard rests on.

:class:`PacedOutput` models a player that plays audio in real time on the session clock (virtual or real) and hands
each chunk to a sink as it is written (a socket, a device with its own buffer, a file). A player that knows better
(a sound card's callback) implements :class:`AudioOutput` itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from omni.clock import Clock
from omni.types import AudioChunk


class AudioOutput(Protocol):
    sample_rate: int | None
    """The rate the output wants (the session resamples to it), or None to take any rate."""

    def start_reply(self) -> None:
        """A new reply begins: :meth:`played_seconds` counts from here."""
        ...

    async def write(self, chunk: AudioChunk) -> None: ...

    def played_seconds(self) -> float:
        """Seconds of the current reply's audio that have been played out."""
        ...

    def clear(self) -> None:
        """Stop at once and drop what is queued."""
        ...

    def is_playing(self) -> bool: ...

    async def wait_done(self) -> None:
        """Return when everything written has been played (or cleared)."""
        ...


@dataclass
class _Span:
    start: float
    duration: float


class PacedOutput:
    """Plays in real time on ``clock``: a chunk written at time t starts when the previous one ends, or at t."""

    def __init__(
        self,
        clock: Clock,
        sink: Callable[[AudioChunk], None] | None = None,
        sample_rate: int | None = None,
        *,
        record: bool = False,
    ) -> None:
        self.clock = clock
        self.sink = sink
        self.sample_rate = sample_rate
        self._spans: list[_Span] = []
        self._end = clock.now()
        self._recorded: list[tuple[_Span, AudioChunk]] | None = [] if record else None

    def start_reply(self) -> None:
        self._spans = []

    async def write(self, chunk: AudioChunk) -> None:
        now = self.clock.now()
        start = max(now, self._end)
        span = _Span(start, chunk.duration)
        self._spans.append(span)
        self._end = start + chunk.duration
        if self._recorded is not None:
            self._recorded.append((span, chunk))
        if self.sink is not None:
            self.sink(chunk)

    def played_seconds(self) -> float:
        now = self.clock.now()
        return sum(min(max(0.0, now - s.start), s.duration) for s in self._spans)

    def clear(self) -> None:
        now = self.clock.now()
        for span in self._spans:
            span.duration = min(span.duration, max(0.0, now - span.start))
        self._end = min(self._end, now)

    def played_audio(self) -> list[AudioChunk]:
        """With ``record``: every chunk as far as it was played, so an interrupted answer ends where it stopped."""
        played = []
        for span, chunk in self._recorded or []:
            samples = chunk.samples[: round(min(span.duration, max(0.0, self.clock.now() - span.start))
                                           * chunk.sample_rate)]
            if len(samples):
                played.append(AudioChunk(samples, chunk.sample_rate))
        return played

    def is_playing(self) -> bool:
        return self.clock.now() < self._end

    async def wait_done(self) -> None:
        while self.is_playing():
            await self.clock.sleep(self._end - self.clock.now())


class CollectingOutput:
    """Collects audio with no playback time (a file being written): everything written counts as played."""

    def __init__(self, sample_rate: int | None = None) -> None:
        self.sample_rate = sample_rate
        self.chunks: list[AudioChunk] = []
        self._reply_seconds = 0.0

    def start_reply(self) -> None:
        self._reply_seconds = 0.0

    async def write(self, chunk: AudioChunk) -> None:
        self.chunks.append(chunk)
        self._reply_seconds += chunk.duration

    def played_seconds(self) -> float:
        return self._reply_seconds

    def clear(self) -> None:
        pass

    def played_audio(self) -> list[AudioChunk]:
        return list(self.chunks)

    def is_playing(self) -> bool:
        return False

    async def wait_done(self) -> None:
        return None
