"""VAD-based endpointing: turns per-frame speech probabilities into speech start and stop points.

A pure state machine on audio time (milliseconds from the start of the input stream), so it behaves the same on
virtual time, real time, or a file processed faster than real time. The fields are the Realtime API's ``server_vad``:
``threshold``, ``prefix_padding_ms``, ``silence_duration_ms``; ``min_speech_ms`` keeps clicks from starting a turn.
A prediction made during a pause (:mod:`omni.session.end_of_turn`) may set that pause's own silence wait
(:meth:`Endpointer.set_wait`); the next pause starts again from :attr:`TurnOptions.pause_wait_ms`.
"""

from __future__ import annotations

from dataclasses import dataclass

from omni.session.end_of_turn import WAITS


@dataclass(frozen=True)
class TurnOptions:
    threshold: float = 0.5
    prefix_padding_ms: int = 300
    silence_duration_ms: int = 500
    min_speech_ms: int = 64
    hysteresis: float = 0.15
    """Speech continues while the probability stays above ``threshold - hysteresis``."""
    eagerness: str | None = None
    """Omni's turn-taking (the Realtime API's ``semantic_vad``): the silence that ends a turn is predicted at each
    pause (:mod:`omni.session.end_of_turn`, by this key of its ``WAITS``), and a backchannel does not interrupt a
    reply. None: ``server_vad``, the fixed ``silence_duration_ms`` and every sound a turn."""
    prosody: bool = True
    """With ``eagerness``: a finished-looking statement whose voice does not end like one waits longer
    (:mod:`omni.audio.prosody`)."""

    @property
    def pause_wait_ms(self) -> int:
        """The silence that ends a turn at a pause no prediction has judged: ``silence_duration_ms`` under
        ``server_vad``, the eagerness's wait before a verdict under Omni's turn-taking."""
        return self.silence_duration_ms if self.eagerness is None else WAITS[self.eagerness].unknown


@dataclass(frozen=True)
class SpeechStart:
    audio_start_ms: int


@dataclass(frozen=True)
class SpeechEnd:
    audio_end_ms: int


TurnEvent = SpeechStart | SpeechEnd


class Endpointer:
    def __init__(self, options: TurnOptions) -> None:
        self.options = options
        self.in_speech = False
        self._run_start_ms: float | None = None  # first frame of the current run above threshold
        self._silence_start_ms: float | None = None
        self._wait_ms: int | None = None  # the current pause's own silence wait, when one was set

    @property
    def silence_start_ms(self) -> float | None:
        """Where the current pause inside speech began (None when not in a pause)."""
        return self._silence_start_ms if self.in_speech else None

    def set_wait(self, pause_start_ms: float, wait_ms: int) -> bool:
        """End the turn after ``wait_ms`` of silence at the pause that began at ``pause_start_ms``, if that pause is
        still going on (returns whether it was); a wait already passed ends it at the next frame."""
        if self.silence_start_ms is None or round(self.silence_start_ms) != round(pause_start_ms):
            return False
        self._wait_ms = wait_ms
        return True

    def reset(self) -> None:
        self.in_speech = False
        self._run_start_ms = None
        self._silence_start_ms = None
        self._wait_ms = None

    def process(self, probability: float, frame_start_ms: float, frame_end_ms: float) -> TurnEvent | None:
        opts = self.options
        if not self.in_speech:
            if probability >= opts.threshold:
                if self._run_start_ms is None:
                    self._run_start_ms = frame_start_ms
                if frame_end_ms - self._run_start_ms >= opts.min_speech_ms:
                    self.in_speech = True
                    self._silence_start_ms = None
                    return SpeechStart(max(0, round(self._run_start_ms - opts.prefix_padding_ms)))
            else:
                self._run_start_ms = None
            return None
        if probability >= opts.threshold - opts.hysteresis:
            self._silence_start_ms = None
            self._wait_ms = None
            return None
        if self._silence_start_ms is None:
            self._silence_start_ms = frame_start_ms
        wait = opts.pause_wait_ms if self._wait_ms is None else self._wait_ms
        if frame_end_ms - self._silence_start_ms >= wait:
            end = self._silence_start_ms
            self.reset()
            return SpeechEnd(round(end))
        return None
