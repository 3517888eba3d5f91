"""Reply audio that leaves over a socket: the client plays it, so how much was heard is an estimate.

Audio is sent as fast as it is made (the Realtime API does the same) and the client plays it in real time from
the first chunk on; so what has been heard is the elapsed time since that chunk, at most what was sent. A client
that knows better says so with ``conversation.item.truncate``.
"""

from __future__ import annotations

from omni.clock import Clock
from omni.types import AudioChunk


class WireOutput:
    sample_rate: int | None = 24000

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._first_write: float | None = None
        self._sent = 0.0

    def start_reply(self) -> None:
        self._first_write, self._sent = None, 0.0

    async def write(self, chunk: AudioChunk) -> None:
        if self._first_write is None:
            self._first_write = self.clock.now()
        self._sent += chunk.duration  # the bytes themselves leave as response.output_audio.delta events

    def played_seconds(self) -> float:
        if self._first_write is None:
            return 0.0
        return min(self._sent, self.clock.now() - self._first_write)

    def clear(self) -> None:
        """What was sent is the client's now; nothing is queued here."""

    def is_playing(self) -> bool:
        return self._first_write is not None and self.played_seconds() < self._sent

    async def wait_done(self) -> None:
        """A reply is done when its audio has been sent, not when the client has played it."""
