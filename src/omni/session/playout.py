"""Where reply audio goes, and how much of it has been played — the fact that truncate-to-heard rests on.

:class:`PacedOutput` models a player that plays audio in real time on the session clock (virtual or real) and hands
each chunk to a sink as it is written (a socket, a device with its own buffer, a file). A player that knows better
(a sound card's callback) implements :class:`AudioOutput` itself.

:meth:`PacedOutput.played_between` gives back what was playing at given times: the reference an echo canceller
(:mod:`omni.audio.echo_canceller`) needs where the audio is played elsewhere, by a client that plays Omni's voice as it
arrives while it sends its microphone.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from omni.audio.resample import resample
from omni.clock import Clock
from omni.types import AudioChunk, Samples


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

    @property
    def end(self) -> float:
        return self.start + self.duration


@dataclass
class _Heard:
    """A written chunk kept for :meth:`PacedOutput.played_between`, with its samples at the rates asked for."""

    span: _Span
    chunk: AudioChunk
    at_rate: dict[int, Samples] = field(default_factory=dict)

    def samples(self, rate: int) -> Samples:
        if rate not in self.at_rate:
            self.at_rate[rate] = resample(self.chunk.samples, self.chunk.sample_rate, rate)
        return self.at_rate[rate]


class PacedOutput:
    """Plays in real time on ``clock``: a chunk written at time t starts when the previous one ends, or at t."""

    def __init__(
        self,
        clock: Clock,
        sink: Callable[[AudioChunk], None] | None = None,
        sample_rate: int | None = None,
        *,
        record: bool = False,
        history_seconds: float = 5.0,
    ) -> None:
        self.clock = clock
        self.sink = sink
        self.sample_rate = sample_rate
        self.history_seconds = history_seconds
        """How long chunks stay for :meth:`played_between` after they have played."""
        self._spans: list[_Span] = []
        self._end = clock.now()
        self._recorded: list[tuple[_Span, AudioChunk]] | None = [] if record else None
        self._history: deque[_Heard] = deque()

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
        self._forget_old(now)
        self._history.append(_Heard(span, chunk))
        if self.sink is not None:
            self.sink(chunk)

    def played_seconds(self) -> float:
        now = self.clock.now()
        return sum(min(max(0.0, now - s.start), s.duration) for s in self._spans)

    def clear(self) -> None:
        now = self.clock.now()
        for span in [*self._spans, *(heard.span for heard in self._history)]:
            span.duration = min(span.duration, max(0.0, now - span.start))
        self._end = min(self._end, now)

    def played_between(self, start: float, end: float, sample_rate: int = 16000) -> Samples:
        """The audio that was playing from clock time ``start`` to ``end``, at ``sample_rate``: silence where nothing
        played, and from now on (what is queued has not played yet, and a clear may still drop it).

        Only the last :attr:`history_seconds` are kept; earlier times read as silence.
        """
        now = self.clock.now()
        self._forget_old(now)
        out = np.zeros(max(0, round((end - start) * sample_rate)), dtype=np.float32)
        until = min(end, now)
        for heard in self._history:
            span = heard.span
            lo, hi = max(start, span.start), min(until, span.end)
            if hi <= lo:
                continue
            samples = heard.samples(sample_rate)
            first = round((lo - start) * sample_rate)
            offset = round((lo - span.start) * sample_rate)
            count = min(round((hi - start) * sample_rate) - first, len(out) - first, len(samples) - offset)
            if count > 0:
                out[first : first + count] = samples[offset : offset + count]
        return out

    def _forget_old(self, now: float) -> None:
        """Drop chunks that ended more than :attr:`history_seconds` ago (they are kept in playing order)."""
        while self._history and self._history[0].span.end < now - self.history_seconds:
            self._history.popleft()

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
