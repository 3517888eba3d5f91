"""SpeechHandle: one per assistant reply. It owns the reply's task, knows which text became which audio, and
cuts the reply back to what the user actually heard when it is interrupted (truncate-to-heard)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field


@dataclass
class SpokenSegment:
    text: str
    start: float
    """Seconds into the reply's audio where this text starts."""
    duration: float = 0.0


@dataclass
class SpeechHandle:
    reply_id: str
    item_id: str
    with_audio: bool
    text: str = ""
    """Everything the LLM produced for the reply so far."""
    segments: list[SpokenSegment] = field(default_factory=list)
    audio_seconds: float = 0.0
    interrupted: bool = False
    task: asyncio.Task[None] | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def begin_segment(self, text: str) -> None:
        self.segments.append(SpokenSegment(text, self.audio_seconds))

    def add_audio(self, seconds: float) -> None:
        self.segments[-1].duration += seconds
        self.audio_seconds += seconds

    def interrupt(self) -> None:
        """Stop the reply: its task is cancelled; the session then cuts the item to what was heard.

        Only once: a reply already stopping is closing its LLM and TTS streams (waiting for their threads), and a
        second cancellation (a client's truncate right after the barge-in) would abort that cleanup before the reply
        is marked done, leaving whoever waits for it waiting for ever."""
        if self.done.is_set():
            return
        self.interrupted = True
        if self.task is not None and not self.task.cancelling():
            self.task.cancel()

    def heard_text(self, played_seconds: float) -> str:
        """The reply's text up to ``played_seconds`` of its audio, cut at a word boundary."""
        if not self.with_audio:
            return self.text
        heard: list[str] = []
        for segment in self.segments:
            if played_seconds >= segment.start + segment.duration and segment.duration > 0:
                heard.append(segment.text)
                continue
            if played_seconds > segment.start and segment.duration > 0:
                words = segment.text.split()
                fraction = (played_seconds - segment.start) / segment.duration
                heard.append(" ".join(words[: int(len(words) * fraction)]))
            break
        return " ".join(h for h in heard if h)
