"""Throughput and scale: how many concurrent Realtime sessions one machine holds, with all audio flowing, before the
server falls behind real time; and what each session costs the server in CPU and memory.

A real ``omni serve`` runs as a separate process on a free port, with the ``canned`` LLM (a fixed reply, word by
word) and the ``tone`` TTS (audio made at once), so the figure is Omni's own cost — WebSocket and JSON, event
validation, base64 and resampling, Silero VAD, endpointing, transcription events, reply streaming — not a model's.
The STT is either the configured one (whisper by default: "with real STT") or the ``canned`` one ("protocol, VAD and
endpointing only"). N sessions (:mod:`omni.bench.scale_client`) each stream questions spoken by the Piper voice at
real-time pace, for a warm-up and then a measured window; N goes 1, 2, 4, ... until a step falls behind (defined in
:mod:`omni.bench.scale_report`), then bisects once or twice. Server CPU and memory come from ``/proc``
(:mod:`omni.bench.procfs`); the client runs on the same machine, and its own CPU and pacing are measured too.
"""

from __future__ import annotations

import asyncio
import datetime
import os
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from openai import AsyncOpenAI

from omni.backends.base import TTS
from omni.bench.procfs import ProcessProbe, busy_percent
from omni.bench.report import machine, percentile
from omni.bench.scale_client import PIECE_MS, WIRE_RATE, ClientSession, EncodedClip, encode_clip, pace
from omni.bench.scale_report import Limits, Step, Turn, capacity, judge, next_sessions, per_session, summarize_step
from omni.bench.server_process import omni_serve
from omni.bench.voice_latency import QUESTIONS, build_clip, question_voice, utterance
from omni.config import Settings
from omni.errors import BackendError, OmniError

SttMode = Literal["canned", "real"]
LEAD_SECONDS = 0.5
SETTLE_SECONDS = 1.0
"""A pause before the idle and after the closed-sessions memory readings."""
Progress = Callable[[str], None]


@dataclass(frozen=True)
class ScaleOptions:
    max_sessions: int = 128
    step_seconds: float = 30.0
    """The measured window of each step."""
    warmup_seconds: float = 6.0
    """Before the window: the sessions start one after another over this time, so they do not speak in step."""
    reply_timeout: float = 15.0
    limits: Limits = Limits()
    stt: tuple[SttMode, ...] = ("canned", "real")


@dataclass
class Ladder:
    """One STT mode, every step tried, each on a fresh server."""

    stt: SttMode
    stt_backend: str
    steps: list[Step] = field(default_factory=list)


async def speak_questions(tts: TTS) -> list[EncodedClip]:
    """The English questions spoken by the voice, trimmed to their sound, after 0.5 s of silence, at 24 kHz."""
    clips = []
    for text in QUESTIONS["en"]:
        speech = await utterance(tts, text, "en", WIRE_RATE)
        try:
            clip = build_clip(text, speech, WIRE_RATE, lead=LEAD_SECONDS, tail=0.0)
        except ValueError as exc:
            raise BackendError("tts", f"the TTS produced no audible speech for {text!r}") from exc
        clips.append(encode_clip(text, clip.clip, LEAD_SECONDS, clip.speech_end))
    return clips


def server_env(settings: Settings, stt: SttMode, max_sessions: int) -> dict[str, str]:
    """The server's settings, as environment variables (they win over its config file)."""
    env = {
        "OMNI_MODELS_DIR": str(settings.models_dir),
        "OMNI_LLM__BACKEND": "canned",
        "OMNI_TTS__BACKEND": "tone",
        "OMNI_STT__BACKEND": "canned" if stt == "canned" else settings.stt.backend,
        "OMNI_STT__MODEL": settings.stt.model,
        "OMNI_SERVER__HOST": "127.0.0.1",
        "OMNI_SERVER__MAX_SESSIONS": str(max_sessions),
    }
    if settings.stt.language:
        env["OMNI_STT__LANGUAGE"] = settings.stt.language
    return env


async def run(
    settings: Settings, options: ScaleOptions, progress: Progress
) -> tuple[list[Ladder], list[EncodedClip]]:
    """Every STT mode's ladder of steps, each on a server of its own; and the questions the sessions spoke."""
    progress("speaking the questions with the Piper voice…")
    clips = await speak_questions(question_voice(settings, "piper"))
    ladders = []
    for stt in options.stt:
        ladder = Ladder(stt, "canned" if stt == "canned" else settings.stt.backend)
        progress(f"stt {ladder.stt_backend} (llm canned, tts tone); a fresh omni serve for every step")
        while (sessions := next_sessions(ladder.steps, options.max_sessions)) is not None:
            async with omni_serve(env=server_env(settings, stt, sessions)) as server:
                probe = ProcessProbe(server.pid)
                await asyncio.sleep(SETTLE_SECONDS)
                idle = probe.sample().rss_bytes / 2**20
                step = await run_step(server.url, sessions, clips, options, probe, progress)
                await asyncio.sleep(SETTLE_SECONDS)
                step.idle_rss_mb, step.rss_after_mb = idle, probe.sample().rss_bytes / 2**20
            ladder.steps.append(step)
            progress(f"  {sessions} sessions: {step.verdict or 'kept up'} (server {step.server_cpu:.0f}% cpu, "
                     f"{step.server_rss_mb:.0f} MB; client {step.client_cpu:.0f}% cpu)")
        ladders.append(ladder)
    return ladders, clips


async def run_step(
    url: str, count: int, clips: Sequence[EncodedClip], options: ScaleOptions, probe: ProcessProbe,
    progress: Progress,
) -> Step:
    client = AsyncOpenAI(base_url=url + "/v1", websocket_base_url=url.replace("http", "ws", 1) + "/v1",
                         api_key="unused-on-loopback")
    stagger = round(options.warmup_seconds * 1000 / PIECE_MS)
    async with AsyncExitStack() as stack:
        sessions = []
        for index in range(count):
            connection = await stack.enter_async_context(client.realtime.connect(model="omni-realtime"))
            sessions.append(ClientSession(index, connection, clips, offset_pieces=index * stagger // count,
                                          reply_timeout=options.reply_timeout, first_clip=index))
        readers = [asyncio.create_task(s.read()) for s in sessions]
        lateness: list[float] = []
        pacer: asyncio.Task[None] | None = None
        try:
            async with asyncio.timeout(30):
                await asyncio.gather(*(s.created.wait() for s in sessions))
            pacer = asyncio.create_task(pace(sessions, lateness))
            progress(f"  {count} sessions streaming: {options.warmup_seconds:.0f} s warm-up, "
                     f"{options.step_seconds:.0f} s measured")
            await asyncio.sleep(options.warmup_seconds)
            window = await _measure(lateness, options, probe)
            for session in sessions:
                session.asking = False
            await _settle(sessions, window, options)
        finally:
            for task in (*readers, *([pacer] if pacer else [])):
                task.cancel()
            await asyncio.gather(*readers, *([pacer] if pacer else []), return_exceptions=True)
    return _finish(window, sessions, options)


@dataclass(frozen=True)
class Window:
    """The measured window of a step, and what the server, the client and the machine did in it."""

    start: float
    end: float
    server_cpu: float
    server_rss_mb: float
    server_rss_max_mb: float
    client_cpu: float
    machine_busy: float | None
    client_late_p99_ms: float
    load_average: tuple[float, float]


async def _measure(
    lateness: list[float], options: ScaleOptions, probe: ProcessProbe
) -> Window:
    load_start = os.getloadavg()[0]
    lateness.clear()
    start, server0, client0, machine0 = time.monotonic(), probe.sample(), time.process_time(), probe.machine()
    rss = [server0.rss_bytes]
    end = start + options.step_seconds
    while (now := time.monotonic()) < end:
        await asyncio.sleep(min(0.5, end - now))
        rss.append(probe.sample().rss_bytes)
    server1, client1, machine1 = probe.sample(), time.process_time(), probe.machine()
    stop = time.monotonic()
    elapsed = stop - start
    late = list(lateness)
    return Window(
        start, stop,
        server_cpu=100 * (server1.cpu_seconds - server0.cpu_seconds) / elapsed,
        server_rss_mb=float(np.mean(rss)) / 2**20,
        server_rss_max_mb=max(rss) / 2**20,
        client_cpu=100 * (client1 - client0) / elapsed,
        machine_busy=busy_percent(machine0, machine1),
        client_late_p99_ms=percentile(late, 99) * 1000 if late else 0.0,
        load_average=(load_start, os.getloadavg()[0]),
    )


def _counted(sessions: Sequence[ClientSession], window: Window) -> list[Turn]:
    """The questions whose speech ended inside the window."""
    return [t for s in sessions for t in s.turns
            if t.speech_end_at is not None and window.start <= t.speech_end_at < window.end]


async def _settle(sessions: Sequence[ClientSession], window: Window, options: ScaleOptions) -> None:
    """Let the questions asked inside the window get their replies (or time out)."""
    deadline = time.monotonic() + options.reply_timeout + 5
    while time.monotonic() < deadline:
        if all(t.done_at is not None or t.error is not None for t in _counted(sessions, window)):
            return
        await asyncio.sleep(0.1)


def _finish(window: Window, sessions: Sequence[ClientSession], options: ScaleOptions) -> Step:
    silence = sessions[0].silence_ms / 1000 if sessions else 0.5
    step = summarize_step(_counted(sessions, window), len(sessions), window.end - window.start, silence)
    step.server_cpu, step.server_rss_mb, step.server_rss_max_mb = (
        window.server_cpu, window.server_rss_mb, window.server_rss_max_mb)
    step.client_cpu, step.machine_busy = window.client_cpu, window.machine_busy
    step.client_late_p99_ms, step.load_average = window.client_late_p99_ms, window.load_average
    errors = [f"session {s.index}: {message}" for s in sessions for at, message in s.errors
              if window.start <= at < window.end]
    step.errors = (errors + step.errors)[:10]
    step.extra_speech = sum(1 for s in sessions for at in s.extra if window.start <= at < window.end)
    step.verdict, step.client_bound = judge(step, options.limits)
    return step


def results_document(
    ladders: Sequence[Ladder], settings: Settings, options: ScaleOptions, clips: Sequence[EncodedClip] | None,
    *, load: Sequence[float],
) -> dict[str, Any]:
    return {
        "benchmark": "scale",
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": " ".join(["omni", *sys.argv[1:]]),
        "machine": _machine(settings),
        "load_average": {"start": list(load), "end": list(os.getloadavg())},
        "method": {
            "note": "replies come from the canned LLM and the tone TTS, so the figures are Omni's own cost per "
                    "session (protocol, VAD, endpointing, transcription events, streaming), not a model's",
            "max_sessions": options.max_sessions,
            "step_seconds": options.step_seconds,
            "warmup_seconds": options.warmup_seconds,
            "reply_timeout_s": options.reply_timeout,
            "piece_ms": PIECE_MS,
            "limits": asdict(options.limits),
            "reply": settings.llm.canned_reply,
            "questions": [c.text for c in clips or ()],
            "speech_seconds": [round((c.speech_end_ms - c.speech_start_ms) / 1000, 3) for c in clips or ()],
        },
        "runs": [
            {
                "stt": ladder.stt,
                "stt_backend": ladder.stt_backend,
                "capacity": capacity(ladder.steps),
                "per_session": per_session(ladder.steps),
                "steps": [{**asdict(step), "kept_up": step.kept_up} for step in ladder.steps],
            }
            for ladder in ladders
        ],
    }


def _machine(settings: Settings) -> dict[str, Any]:
    return {
        **machine(),
        "memory_gib": _memory_gib(),
        "models": {"vad": settings.vad.backend, "llm": "canned (no model)", "tts": "tone (no model)",
                   "stt": f"canned, or {settings.stt.backend}: {settings.stt.model}"},
    }


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text(encoding="ascii").splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except (OSError, ValueError, IndexError):
        pass
    return None


def check_stt(choice: str) -> tuple[SttMode, ...]:
    modes: dict[str, tuple[SttMode, ...]] = {"canned": ("canned",), "real": ("real",), "both": ("canned", "real")}
    if choice not in modes:
        raise OmniError(f"unknown --stt {choice!r}; expected canned, real or both")
    return modes[choice]
