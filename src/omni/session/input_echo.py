"""The echo of Omni's own voice taken out of a client's microphone audio, on the server.

A client that plays Omni's replies on open speakers and streams its raw microphone (``omni talk`` on a laptop, a
phone bridge) sends the replies back as echo, which would interrupt them. The session knows what it played and when
(:meth:`omni.session.playout.PacedOutput.played_between`, the client playing each piece as it arrives), so each
microphone chunk is paired with the audio that was playing while it was captured, and WebRTC's echo canceller
(:class:`omni.audio.echo_canceller.EchoCanceller`) removes it before the VAD hears it.

Each chunk is paired with what played while it was captured, as the server can know it: the microphone's samples
are a clock of their own, and the earliest any chunk arrived after its capture (by that clock) is when capture
began. Pairing each chunk with what played just before it arrived instead would shift every 20 ms chunk by its own
network and event-loop delay, and the echo, smeared over those shifts, correlated with the reference at 8-18 times
its RMS instead of 28-65 (the turns bench: found seconds late, or not at all). The canceller needs the reference no
later than the echo in it, and the echo is always later: the client played each piece after the server sent it. The
canceller finds that delay itself, up to about half a second. It starts with the first reply that plays, and its
output is used once the microphone is found to hear the speaker (:mod:`omni.audio.echo_presence`): before it has
found an echo, it suppresses a user who talks over the reply on headphones, where there is none to find.
"""

from __future__ import annotations

import logging
from typing import Protocol

import numpy as np

from omni.audio.echo_canceller import EchoCanceller
from omni.audio.echo_presence import EchoPresence
from omni.clock import Clock
from omni.types import AudioChunk, Samples

log = logging.getLogger(__name__)


class PlayedAudio(Protocol):
    def played_between(self, start: float, end: float, sample_rate: int = 16000) -> Samples: ...


DRIFT = 0.001
"""How fast the estimate of when capture began may move later (seconds per second of audio): far more than the two
clocks drift apart, far less than a delay that one late chunk would add."""
RESTART_SECONDS = 1.0
"""A chunk this much later than the microphone's clock says starts a new estimate: the client stopped sending for
a while (a push-to-talk client, a muted microphone)."""


class CaptureClock:
    """When each microphone chunk was captured, on the server's clock: the microphone's samples count time steadily,
    and the chunk that arrived soonest after its capture says best when capture began."""

    def __init__(self) -> None:
        self._began: float | None = None
        self._captured = 0.0  # seconds of audio so far

    def captured(self, arrived: float, seconds: float) -> tuple[float, float]:
        """(start, end) of the capture of a chunk of ``seconds`` that ``arrived`` now."""
        self._captured += seconds
        says = arrived - self._captured
        if self._began is None or says > self._began + RESTART_SECONDS:
            self._began = says
        else:
            self._began = min(says, self._began + DRIFT * seconds)
        end = self._began + self._captured
        return end - seconds, end


class InputEcho:
    """Cancels the echo of ``played``'s audio out of microphone chunks as they arrive on ``clock``."""

    def __init__(self, played: PlayedAudio, clock: Clock) -> None:
        self._played = played
        self._clock = clock
        self._capture = CaptureClock()
        self._canceller: EchoCanceller | None = None
        self._presence: EchoPresence | None = None

    @property
    def heard(self) -> bool:
        """Whether the microphone has been found to hear the speaker (the echo is being cancelled)."""
        return self._presence is not None and self._presence.present

    @property
    def undecided(self) -> bool:
        """Whether a reply has begun to play and too little of it was compared yet to say whether the microphone
        hears the speaker (about its first 1.2 s)."""
        return self._presence is not None and self._presence.undecided

    def cancel(self, chunk: AudioChunk) -> AudioChunk:
        """``chunk`` without the echo of what was playing while it was captured (whole 10 ms frames: a remainder
        comes out with the next chunk), once an echo has been heard; until then, ``chunk`` as it is."""
        start, end = self._capture.captured(self._clock.now(), chunk.duration)
        reference = self._played.played_between(start, end, chunk.sample_rate)
        canceller, presence = self._canceller, self._presence
        if canceller is None or presence is None or canceller.sample_rate != chunk.sample_rate:
            if not np.any(reference) or chunk.sample_rate % 100:
                return chunk  # nothing played yet (or a rate without 10 ms frames): nothing to cancel
            canceller = self._canceller = EchoCanceller(chunk.sample_rate)
            presence = self._presence = EchoPresence(chunk.sample_rate)
        was_heard = presence.present
        presence.add(reference, chunk.samples)
        if presence.present and not was_heard:
            log.info("the microphone hears the speaker: its echo is cancelled from now on")
        canceller.far(reference)
        cancelled = canceller.near(chunk.samples)  # run all along, so that it has converged when the echo is heard
        return AudioChunk(cancelled, chunk.sample_rate) if presence.present else chunk
