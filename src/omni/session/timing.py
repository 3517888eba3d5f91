"""Per-turn stage timings from session events: endpointing, STT, LLM first token, TTS first audio, total."""

from __future__ import annotations

from dataclasses import dataclass, field

from omni.events import (
    LLMFirstToken,
    ReplyAudio,
    ReplyStarted,
    SessionEvent,
    SpeakableChunk,
    SpeechStopped,
    TranscriptionDone,
)


@dataclass(frozen=True)
class TurnTiming:
    endpoint: float | None
    """From the end of speech in the input to its detection (the silence wait; None when not known)."""
    stt: float | None
    llm_first_token: float | None
    """From the reply's start to the LLM's first token."""
    tts_first_audio: float | None
    """From the first speakable chunk to its first audio."""
    total: float | None
    """From the end of speech (true end in real time, else its detection; or the reply's start) to first audio."""

    def line(self) -> str:
        parts = [
            ("end-of-speech wait", self.endpoint),
            ("stt", self.stt),
            ("llm first token", self.llm_first_token),
            ("tts first audio", self.tts_first_audio),
            ("total to first audio", self.total),
        ]
        return "timing: " + " | ".join(f"{name} {_fmt(value)}" for name, value in parts)


@dataclass
class TimingObserver:
    """Collects the events of each turn and computes its :class:`TurnTiming` when its first audio arrives."""

    stream_start: float | None = None
    """Clock time of the input stream's first sample, when the input arrives in real time: the true end of
    speech is then known, and the endpointing wait can be measured."""
    turns: list[TurnTiming] = field(default_factory=list)
    _speech_end: float | None = None
    _stopped: float | None = None
    _stt: float | None = None
    _reply: float | None = None
    _first_token: float | None = None
    _first_chunk: float | None = None
    _audio_seen: bool = False

    def __call__(self, event: SessionEvent) -> None:
        if isinstance(event, SpeechStopped):
            self._speech_end = (
                None if self.stream_start is None else self.stream_start + event.audio_end_ms / 1000
            )
            self._stopped, self._stt, self._first_token, self._first_chunk = event.at, None, None, None
        elif isinstance(event, TranscriptionDone):
            self._stt = event.seconds
        elif isinstance(event, ReplyStarted):
            self._reply, self._first_token, self._first_chunk, self._audio_seen = event.at, None, None, False
        elif isinstance(event, LLMFirstToken):
            self._first_token = event.at
        elif isinstance(event, SpeakableChunk) and self._first_chunk is None:
            self._first_chunk = event.at
        elif isinstance(event, ReplyAudio) and event.first and not self._audio_seen:
            self._audio_seen = True
            self.turns.append(self._timing(event.at))
            # the user's speech and its transcript belong to this reply only, not to a follow-up (after a tool call)
            self._stopped = self._stt = None

    def _timing(self, first_audio: float) -> TurnTiming:
        start = self._stopped if self._stopped is not None else self._reply
        endpoint = None
        if self._speech_end is not None and self._stopped is not None:
            endpoint = self._stopped - self._speech_end
            start = self._speech_end
        return TurnTiming(
            endpoint=endpoint,
            stt=self._stt,
            llm_first_token=_diff(self._first_token, self._reply),
            tts_first_audio=_diff(first_audio, self._first_chunk),
            total=_diff(first_audio, start),
        )


def _diff(end: float | None, start: float | None) -> float | None:
    return None if end is None or start is None else end - start


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.0f} ms"
