"""Reply audio that leaves over a socket: the client plays it, so how much was heard is an estimate.

Audio is sent as fast as it is made (the Realtime API does the same) and the client plays it in real time from when
each piece arrives: :class:`~omni.session.playout.PacedOutput`'s model, which also says what was playing at any
moment (the reference the session cancels the echo of, when a client on open speakers sends it back). A client that
knows better says so with ``conversation.item.truncate``. A reply is done when its audio has been sent, not when the
client has played it.
"""

from __future__ import annotations

from omni.clock import Clock
from omni.session.playout import PacedOutput


class WireOutput(PacedOutput):
    def __init__(self, clock: Clock) -> None:
        super().__init__(clock, sample_rate=24000)

    async def wait_done(self) -> None:
        """Nothing to wait for: the audio was sent (the bytes leave as ``response.output_audio.delta`` events)."""
