"""Barge-in: how fast a reply stops when the user speaks over it, and how often it stops when they did not mean to.

A real ``omni serve`` on the configured models (the embedded ones by default) runs as a separate process. Each trial
is a fresh Realtime session over the official ``openai`` SDK: the client streams a spoken request for a story at
real-time pace (20 ms pieces, each sent when its last sample has been "spoken", as a microphone does), keeps
streaming silence, and once the reply's audio has been arriving for :data:`INJECT_AFTER` seconds it streams one
sound into the reply:

- ``barge-in``: "Wait, stop please." — the reply should stop. Measured from the moment the first audible sample of
  the interruption was spoken: ``speech_started`` arriving (the client's cue to stop playing), the last
  ``response.output_audio.delta`` arriving after that moment and how much audio still came (on loopback, arrival is
  sending plus well under a millisecond), and ``response.done`` with status ``cancelled`` (the server has stopped).
- sounds that are not a turn — a burst of noise, a cough-like burst, the backchannels "Mm-hm." (Piper) and "응"
  (espeak-ng): the reply should go on. The false-interruption rate is the share of these trials whose reply ended
  ``cancelled``.

The reply's audio is generated faster than real time (Piper's real-time factor is below 0.1), so the server has sent
audio ahead of what a listener has heard; what stops is the generation and the sending. A client also drops what it
has buffered (the browser page does so on ``speech_started``).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from openai import AsyncOpenAI

from omni.audio.silence import first_sound
from omni.backends.base import TTS
from omni.bench.report import percentile
from omni.bench.scale_client import PIECE_MS, SILENCE, WIRE_RATE, append_events, audio_seconds
from omni.bench.voice_latency import utterance
from omni.types import Samples

REQUEST = "Tell me a long story about a brave little dog who travels across the sea."
INSTRUCTIONS = "You are a storyteller. Tell long, detailed stories."
INTERRUPTION = "Wait, stop please."
INJECT_AFTER = 1.0
"""Seconds of reply audio received before the sound is injected: the reply is well under way."""
MAX_OUTPUT_TOKENS = 160
"""Long enough that the reply is still being generated when the sound comes, short enough to end a trial soon."""
AFTER_DONE = 0.5
TRIAL_TIMEOUT = 90.0
BARGE_IN = "barge-in"
NOT_INJECTED = "the reply ended before the sound came"
ATTEMPTS = 3
"""A trial whose reply was too short to speak over (the model chose to answer briefly) is run again."""
NOT_A_TURN = ("noise", "cough", "mm-hm", "응")

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Sound:
    kind: str
    samples: Samples
    """24 kHz, starting with its first audible sample."""


@dataclass(frozen=True)
class Trial:
    kind: str
    status: str | None
    """The reply's ``response.done`` status: ``cancelled`` means it was interrupted."""
    speech_started: float | None
    """Seconds from the injected sound's first audible sample to ``speech_started`` (None: not taken for speech)."""
    last_audio: float | None
    """Seconds from the sound's start to the last reply audio delta after it (None: no audio came after it)."""
    audio_after: float
    """Seconds of reply audio that arrived after the sound started."""
    done: float | None
    """Seconds from the sound's start to ``response.done``."""
    error: str | None = None

    @property
    def interrupted(self) -> bool:
        return self.status == "cancelled"


async def spoken(tts: TTS, text: str, language: str) -> Samples:
    """``text`` in the configured voice at 24 kHz, trimmed to start at its first audible sample."""
    samples = await utterance(tts, text, language, WIRE_RATE)
    start = first_sound(samples)
    if start is None:
        raise ValueError(f"the voice made no audible sound for {text!r}")
    return samples[start:]


def noise_burst(seconds: float, dbfs: float, *, decay: float | None = None, seed: int = 7) -> Samples:
    """White noise at ``dbfs`` RMS; with ``decay`` (seconds), an envelope that falls off like a cough."""
    samples = np.random.default_rng(seed).standard_normal(round(seconds * WIRE_RATE)).astype(np.float32)
    samples *= 10 ** (dbfs / 20)
    if decay is not None:
        samples *= np.exp(-np.arange(samples.size) / (decay * WIRE_RATE)).astype(np.float32)
    return samples


async def sounds(tts: TTS) -> tuple[Samples, list[Sound]]:
    """The request, and every sound a trial injects."""
    request = await spoken(tts, REQUEST, "en")
    injected = [
        Sound(BARGE_IN, await spoken(tts, INTERRUPTION, "en")),
        Sound("noise", noise_burst(0.6, -30)),
        Sound("cough", noise_burst(0.35, -12, decay=0.08)),
        Sound("mm-hm", await spoken(tts, "Mm-hm.", "en")),
        Sound("응", await spoken(tts, "응.", "ko")),
    ]
    return request, injected


class TrialClient:
    """One session: a paced microphone stream, and the arrival times of the server events that matter."""

    def __init__(self, connection: Any, request: list[str], sound: list[str]) -> None:
        self.connection = connection
        self.request = request
        self.sound = sound
        self.audio_after = 0.0
        self.first_audio_at: float | None = None
        self.last_audio_at: float | None = None
        self.sound_at: float | None = None
        """When the first sample of the injected sound was spoken (its piece went out, minus the piece)."""
        self.speech_started_at: float | None = None
        self.done_at: float | None = None
        self.status: str | None = None
        self.errors: list[str] = []

    async def stream(self) -> None:
        """Paced like a microphone: each piece when its last sample has been spoken; stops after response.done."""
        loop = asyncio.get_running_loop()
        queue = list(self.request)
        injected = False
        begin = loop.time()
        piece = 0
        while self.done_at is None or loop.time() < self.done_at + AFTER_DONE:
            piece += 1
            await asyncio.sleep(max(0.0, begin + piece * PIECE_MS / 1000 - loop.time()))
            if not queue and not injected and self.first_audio_at is not None \
                    and loop.time() >= self.first_audio_at + INJECT_AFTER:
                queue, injected = list(self.sound), True
                self.sound_at = loop.time() - PIECE_MS / 1000  # the first piece's first sample is spoken now
            await self.connection.send_raw(queue.pop(0) if queue else SILENCE)

    async def read(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            event = json.loads(await self.connection.recv_bytes())
            now = loop.time()
            kind = event.get("type")
            if kind == "response.output_audio.delta":
                self.first_audio_at = self.first_audio_at or now
                if self.sound_at is not None and now >= self.sound_at:
                    self.last_audio_at = now
                    self.audio_after += audio_seconds(event.get("delta", ""))
            elif kind == "input_audio_buffer.speech_started" and self.sound_at is not None:
                self.speech_started_at = self.speech_started_at or now
            elif kind == "response.done" and self.first_audio_at is not None and self.done_at is None:
                self.done_at, self.status = now, str(event["response"]["status"])
                return
            elif kind == "error":
                self.errors.append(str(event.get("error", {}).get("message")))

    def trial(self, kind: str) -> Trial:
        def since(at: float | None) -> float | None:
            return None if at is None or self.sound_at is None else at - self.sound_at

        error = "; ".join(self.errors) or (None if self.sound_at is not None else NOT_INJECTED)
        return Trial(kind, self.status, since(self.speech_started_at), since(self.last_audio_at), self.audio_after,
                     since(self.done_at), error)


async def run_trial(url: str, request: list[str], sound: Sound) -> Trial:
    client = AsyncOpenAI(base_url=url + "/v1", websocket_base_url=url.replace("http", "ws", 1) + "/v1",
                         api_key="unused")
    async with client.realtime.connect(model="omni-realtime") as connection:
        await connection.send_raw(_session_update())
        trial = TrialClient(connection, request, append_events(sound.samples))
        reader = asyncio.create_task(trial.read())
        try:
            async with asyncio.timeout(TRIAL_TIMEOUT):
                await trial.stream()
                await reader
        except TimeoutError:
            trial.errors.append(f"no reply finished within {TRIAL_TIMEOUT:.0f} s")
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
    return trial.trial(sound.kind)


def _session_update() -> str:
    return json.dumps({"type": "session.update", "session": {
        "type": "realtime", "instructions": INSTRUCTIONS, "max_output_tokens": MAX_OUTPUT_TOKENS}})


async def run(url: str, tts: TTS, *, runs: int, progress: Progress) -> list[Trial]:
    """``runs`` barge-in trials and ``runs`` of each sound that is not a turn, taking turns."""
    request_samples, injected = await sounds(tts)
    request = append_events(np.concatenate([np.zeros(WIRE_RATE // 2, np.float32), request_samples]))
    trials = []
    for index in range(runs):
        for sound in injected:
            for _ in range(ATTEMPTS):
                trial = await run_trial(url, request, sound)
                if trial.error != NOT_INJECTED:
                    break
            trials.append(trial)
            progress(f"{index + 1}/{runs} {sound.kind:8s} {trial.status or '-':9s} " + _describe(trial))
    return trials


def _describe(trial: Trial) -> str:
    parts = [f"{name} {value * 1000:.0f} ms" for name, value in
             (("speech_started", trial.speech_started), ("last audio", trial.last_audio), ("done", trial.done))
             if value is not None]
    return ", ".join(parts) + (f" ({trial.error})" if trial.error else "")


@dataclass(frozen=True)
class Summary:
    barge_ins: int
    stopped: int
    """Barge-in trials whose reply ended cancelled."""
    speech_started_ms: tuple[float, float] | None
    """Median and p90."""
    last_audio_ms: tuple[float, float] | None
    """Over the trials where audio still came after the interruption started."""
    audio_after_ms: tuple[float, float]
    """Reply audio that still came after the interruption started."""
    done_ms: tuple[float, float] | None
    false_interruptions: dict[str, tuple[int, int]]
    """Per kind of sound that is not a turn: (replies cancelled, trials)."""


def summarize(trials: Sequence[Trial]) -> Summary:
    barge = [t for t in trials if t.kind == BARGE_IN and t.error is None]
    stopped = [t for t in barge if t.interrupted]

    def spread(values: list[float | None]) -> tuple[float, float] | None:
        known = [v * 1000 for v in values if v is not None]
        return (statistics.median(known), percentile(known, 90)) if known else None

    return Summary(
        barge_ins=len(barge),
        stopped=len(stopped),
        speech_started_ms=spread([t.speech_started for t in stopped]),
        last_audio_ms=spread([t.last_audio for t in stopped]),
        audio_after_ms=spread([t.audio_after for t in stopped]) or (0.0, 0.0),
        done_ms=spread([t.done for t in stopped]),
        false_interruptions={kind: (sum(t.interrupted for t in trials if t.kind == kind and t.error is None),
                                    sum(1 for t in trials if t.kind == kind and t.error is None))
                             for kind in NOT_A_TURN},
    )


def format_summary(summary: Summary) -> str:
    def cell(values: tuple[float, float] | None) -> str:
        return "-" if values is None else f"{values[0]:.0f} ms (p90 {values[1]:.0f} ms)"

    lines = [f"barge-in: {summary.stopped} of {summary.barge_ins} replies stopped",
             f"  from the start of the interruption to speech_started      {cell(summary.speech_started_ms)}",
             f"  reply audio that still came after it                       {cell(summary.audio_after_ms)}",
             f"  ... the last of it, when some came                         {cell(summary.last_audio_ms)}",
             f"  ... to response.done (cancelled)                          {cell(summary.done_ms)}",
             "false interruptions (reply cancelled by a sound that is not a turn):"]
    for kind, (cancelled, total) in summary.false_interruptions.items():
        rate = f"{cancelled / total:.0%}" if total else "-"
        lines.append(f"  {kind:8s} {cancelled} of {total} ({rate})")
    return "\n".join(lines)


def document(trials: Sequence[Trial]) -> dict[str, Any]:
    return {"trials": [asdict(t) for t in trials], "summary": asdict(summarize(trials)),
            "inject_after_seconds": INJECT_AFTER, "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
