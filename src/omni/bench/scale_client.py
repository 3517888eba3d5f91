"""The load generator of the throughput benchmark: many Realtime sessions, each a simulated user with a microphone.

Every session streams audio without pause, as a microphone does: a spoken question, silence while it waits for the
reply, silence while the reply "plays" (as long as the reply's audio), then the next question. One pacing task
sends every session's next 20 ms piece each 20 ms, pre-encoded once (base64 JSON made at start), so the client's
own cost stays small; each session reads its server events in its own task and notes when the ones that matter
arrive. The client is the official ``openai`` SDK (``client.realtime.connect``), sending and reading raw text.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np

from omni.audio.pcm import float_to_pcm16
from omni.bench.scale_report import Turn
from omni.types import Samples

WIRE_RATE = 24000
PIECE_MS = 20
PIECE_SAMPLES = WIRE_RATE * PIECE_MS // 1000

State = Literal["lead", "speaking", "waiting", "playing", "idle"]


class Connection(Protocol):
    """What the benchmark uses of the SDK's ``AsyncRealtimeConnection``."""

    async def send_raw(self, data: bytes | str) -> None: ...

    async def recv_bytes(self) -> bytes: ...


def append_event(pcm: bytes) -> str:
    return json.dumps({"type": "input_audio_buffer.append", "audio": base64.b64encode(pcm).decode("ascii")})


SILENCE = append_event(bytes(PIECE_SAMPLES * 2))


def append_events(samples: Samples) -> list[str]:
    """``samples`` (24 kHz) as 20 ms ``input_audio_buffer.append`` events, the last piece padded with silence."""
    padded = np.zeros(math.ceil(len(samples) / PIECE_SAMPLES) * PIECE_SAMPLES, dtype=np.float32)
    padded[: len(samples)] = samples
    pcm = float_to_pcm16(padded)
    step = PIECE_SAMPLES * 2
    return [append_event(pcm[i : i + step]) for i in range(0, len(pcm), step)]


@dataclass(frozen=True)
class EncodedClip:
    """A question as ready-made ``input_audio_buffer.append`` events of 20 ms each."""

    text: str
    messages: tuple[str, ...]
    speech_start_ms: float
    speech_end_ms: float
    """Where the speech starts and where its last audible sample ends, in ms from the clip's start."""


def encode_clip(text: str, samples: Samples, speech_start_s: float, speech_end_s: float) -> EncodedClip:
    """``samples`` (24 kHz) as 20 ms append events, the last piece padded with silence."""
    messages = tuple(append_events(samples))
    return EncodedClip(text, messages, speech_start_s * 1000, speech_end_s * 1000)


def audio_seconds(b64: str) -> float:
    """Duration of a base64 ``audio/pcm`` (24 kHz 16-bit) delta, without decoding it."""
    size = len(b64) * 3 // 4 - b64.count("=", max(0, len(b64) - 2))
    return size / 2 / WIRE_RATE


class ClientSession:
    """One simulated user: which piece to send next, and what the server's events say about each question."""

    def __init__(
        self,
        index: int,
        connection: Connection,
        clips: Sequence[EncodedClip],
        *,
        offset_pieces: int = 0,
        reply_timeout: float = 15.0,
        first_clip: int = 0,
    ) -> None:
        self.index = index
        self.connection = connection
        self.clips = clips
        self.reply_timeout = reply_timeout
        self.silence_ms = 500.0
        """The server's ``silence_duration_ms``, from ``session.created``."""
        self.created = asyncio.Event()
        self.state: State = "lead"
        self.asking = True
        """False: finish the current question, then stay silent."""
        self.turns: list[Turn] = []
        self.errors: list[tuple[float, str]] = []
        """``error`` events and read failures, with their arrival times."""
        self.extra: list[float] = []
        """Arrival times of ``speech_stopped`` events that match no question."""
        self.closed = False
        """Sending failed (the server closed the connection): the session sends nothing more."""
        self.sent_at: list[float] = []
        """When each 20 ms piece of this session's stream went out (index = piece number)."""
        self._lead = offset_pieces
        self._clip_number = first_clip
        self._pending: list[str] = []
        self._end_piece = -1
        self._end_offset_s = 0.0
        self._play_until = 0.0

    @property
    def current(self) -> Turn | None:
        return self.turns[-1] if self.turns else None

    # ---- sending --------------------------------------------------------------------------------------------

    def next_message(self, now: float) -> str:
        """The next 20 ms piece to send (called every 20 ms by the pacer)."""
        if self.state == "lead":
            self._lead -= 1
            if self._lead < 0:
                return self._ask()
        elif self.state == "speaking":
            message = self._pending.pop()
            if not self._pending:
                self.state = "waiting"
            return message
        elif self.state == "waiting":
            turn = self.current
            assert turn is not None
            if turn.done_at is not None:
                self.state, self._play_until = "playing", now + turn.reply_seconds
            elif turn.speech_end_at is not None and now - turn.speech_end_at > self.reply_timeout:
                turn.error = turn.error or f"no reply within {self.reply_timeout:.0f} s"
                self.state, self._play_until = "playing", now
        elif self.state == "playing" and now >= self._play_until:
            if self.asking:
                return self._ask()
            self.state = "idle"
        return SILENCE

    def _ask(self) -> str:
        clip = self.clips[self._clip_number % len(self.clips)]
        self._clip_number += 1
        start = len(self.sent_at) * PIECE_MS
        self.turns.append(Turn(self.index, len(self.turns), start + clip.speech_start_ms, start + clip.speech_end_ms))
        self._end_piece = len(self.sent_at) + math.ceil(clip.speech_end_ms / PIECE_MS) - 1
        self._end_offset_s = ((self._end_piece + 1) * PIECE_MS - (start + clip.speech_end_ms)) / 1000
        self._pending = list(reversed(clip.messages))
        self.state = "speaking"
        return self._pending.pop()

    def sent(self, at: float) -> None:
        """The piece from :meth:`next_message` went out at ``at``."""
        if len(self.sent_at) == self._end_piece and self.current is not None:
            # the last audible sample was "spoken" that far before the end of its piece
            self.current.speech_end_at = at - self._end_offset_s
        self.sent_at.append(at)

    def sent_time(self, position_ms: float) -> float | None:
        """When the audio at ``position_ms`` of this session's stream went out (None if it has not)."""
        piece = int(position_ms // PIECE_MS)
        if piece < 0 or piece >= len(self.sent_at):
            return None
        return self.sent_at[piece] - ((piece + 1) * PIECE_MS - position_ms) / 1000

    # ---- receiving ------------------------------------------------------------------------------------------

    def on_event(self, event: dict[str, Any], at: float) -> None:
        kind = event.get("type")
        turn = self.current
        if kind == "response.output_audio.delta":
            if turn is not None:
                turn.reply_audio_at = turn.reply_audio_at or at
                turn.reply_seconds += audio_seconds(event.get("delta", ""))
        elif kind == "input_audio_buffer.speech_stopped":
            self._stopped(float(event.get("audio_end_ms", -1)), at)
        elif kind == "conversation.item.input_audio_transcription.completed":
            if turn is not None and turn.transcript_at is None:
                turn.transcript_at = at
        elif kind == "response.done":
            if turn is not None and turn.done_at is None:
                turn.done_at = at
                turn.status = str((event.get("response") or {}).get("status"))
        elif kind == "error":
            self.errors.append((at, str((event.get("error") or {}).get("message"))))
        elif kind == "session.created":
            detection = (((event.get("session") or {}).get("audio") or {}).get("input") or {}).get("turn_detection")
            if isinstance(detection, dict) and isinstance(detection.get("silence_duration_ms"), int | float):
                self.silence_ms = float(detection["silence_duration_ms"])
            self.created.set()

    def _stopped(self, audio_end_ms: float, at: float) -> None:
        """Match ``speech_stopped`` to the question whose speech it ends (the VAD's end lies near the true one)."""
        for turn in reversed(self.turns):
            if turn.stopped_at is None and turn.speech_start_ms <= audio_end_ms <= turn.speech_end_ms + 1000:
                turn.stopped_at = at
                heard = self.sent_time(audio_end_ms + self.silence_ms)
                turn.lag = None if heard is None else at - heard
                return
        self.extra.append(at)

    async def read(self, clock: Callable[[], float] = time.monotonic) -> None:
        """Read server events until the connection closes."""
        try:
            while True:
                raw = await self.connection.recv_bytes()
                self.on_event(json.loads(raw), clock())
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the connection closed, or the server sent something unreadable
            self.errors.append((clock(), f"read: {type(exc).__name__}: {exc}"))
            self.created.set()


async def pace(
    sessions: Sequence[ClientSession], lateness: list[float], clock: Callable[[], float] = time.monotonic
) -> None:
    """Every 20 ms, send each session's next piece; ``lateness`` gets how late each round started. A round that
    starts late is not skipped: the stream stays aligned with real time on average, as a microphone's does."""
    due = clock()
    while True:
        due += PIECE_MS / 1000
        wait = due - clock()
        if wait > 0:
            await asyncio.sleep(wait)
        now = clock()
        lateness.append(now - due)
        for session in sessions:
            if session.closed:
                continue
            message = session.next_message(now)
            try:
                await session.connection.send_raw(message)
            except Exception as exc:  # one closed connection must not stop the others
                session.closed = True
                session.errors.append((clock(), f"send: {type(exc).__name__}: {exc}"))
                continue
            session.sent(clock())
