"""One measured turn against a running ``omni serve``, over the Realtime WebSocket, as a real client has it.

Each turn is a fresh Realtime session (official ``openai`` SDK, ``client.realtime.connect``). A spoken question (the
16 kHz clip of :func:`omni.bench.voice_latency.speak`, English or Korean, resampled to the wire's 24 kHz) is
streamed as a microphone delivers it: 20 ms pieces, each sent when its last sample has been "spoken"; then silence,
until ``response.done`` and a short tail. The turn is labelled with the clip's language; the session is not told
it (the server's STT detects it, as for any client that leaves ``transcription.language`` unset).

Latency runs from the true end of speech (stream start + the clip's known end of speech) to the moment the first
audible sample plays, for a client that plays each ``output_audio.delta`` as soon as it has arrived and the delta
before it has played (:class:`Playback`; the in-process pipelines' player does the same). Its stages are the gaps
between the events that arrive, so they add up to it.

Before each turn the server's LLM is put in the state the in-process pipelines start from
(:meth:`omni.bench.voice_latency.Bench.prepare_llm`: nothing of the last turn cached, the system prompt decoded). A
Realtime session does not prefill (``omni serve`` decodes the system prompt once, at start), so the client does it
through the same model: ``POST /v1/chat/completions`` with the system message alone, ``max_tokens`` 1. The server's
first-turn prompt is the chat template over [system: instructions, user: transcript], with no tools (a fresh session
has none), so llama.cpp's cache then holds what that prompt starts with: the system block and the next turn's
opening token; the in-process prefill holds the system block. The previous question is gone from the cache either
way, since the call's prompt leaves the shared prefix right there. A ``[system, user: "Say OK."]`` call would keep
three more tokens of the next prompt (``<|im_start|>user\\n``): a head start the in-process pipelines do not get. With
``cold_prompt`` the call is an unrelated prompt, as in-process.

The session is configured with ``session.update`` to the turn detection of the benchmark's settings
(``vad.threshold``, ``prefix_padding_ms``, ``silence_duration_ms``). A new session starts from the server's own
settings, which are the same here; saying so keeps the measurement right against a server configured otherwise.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from openai import AsyncOpenAI
from openai.types.chat import ChatCompletionMessageParam

from omni.audio.pcm import pcm16_to_float
from omni.audio.resample import resample
from omni.audio.silence import SOUND_THRESHOLD, first_sound
from omni.bench.report import RunResult, cut_question, heard_language
from omni.bench.scale_client import PIECE_MS, SILENCE, WIRE_RATE, append_events
from omni.bench.server_process import ServerProcess, omni_serve
from omni.config import Settings
from omni.text.language import detect_language
from omni.types import Samples

PIPELINE = "server"
TURN_TIMEOUT = 90.0
AFTER_DONE = 0.5
"""Silence streamed after ``response.done``, as a microphone would go on."""
UNRELATED: list[ChatCompletionMessageParam] = [
    {"role": "system", "content": "Benchmark pause."}, {"role": "user", "content": "Say OK."}]

UNTIL_STOPPED = "until speech_stopped arrives (vad, silence wait)"
STOPPED_TO_CREATED = "speech_stopped → response.created"
CREATED_TO_AUDIO = "response.created → first audio delta"
PLAYOUT = "lead-in silence / playout"


@dataclass(frozen=True)
class WireClip:
    """A spoken question as ready-made 20 ms ``input_audio_buffer.append`` events."""

    text: str
    messages: tuple[str, ...]
    speech_end: float
    """Seconds into the clip where its speech ends."""
    language: str
    """The language it is spoken in, which the turn is labelled with."""


def wire_clip(text: str, clip: Samples, rate: int, speech_end: float, *, language: str | None = None) -> WireClip:
    """``clip`` at the wire's rate, cut into 20 ms pieces (the last padded with silence) and encoded once.
    ``language``: what ``text`` is spoken in (None: what its script says, English for Latin letters)."""
    spoken_in = language or detect_language(text) or "en"
    return WireClip(text, tuple(append_events(resample(clip, rate, WIRE_RATE))), speech_end, spoken_in)


class Playback:
    """A client's player: each audio delta starts when it has arrived and the one before it has played.

    Sample ``k`` of the reply plays at ``first arrival + k / rate`` while the audio arrives ahead of playback, as
    it does from a server faster than real time; a delta that comes late starts on arrival and shifts what follows.
    """

    def __init__(self, rate: int = WIRE_RATE, threshold: float = SOUND_THRESHOLD) -> None:
        self.rate = rate
        self.threshold = threshold
        self.first_arrival: float | None = None
        self.first_sound_at: float | None = None
        """When the first sample louder than the threshold plays."""
        self.seconds = 0.0
        self._cursor = -math.inf

    def add(self, pcm: bytes, arrival: float) -> None:
        start = max(arrival, self._cursor)
        if self.first_arrival is None:
            self.first_arrival = arrival
        count = len(pcm) // 2
        if self.first_sound_at is None:
            onset = first_sound(pcm16_to_float(pcm[: count * 2]), self.threshold)
            if onset is not None:
                self.first_sound_at = start + onset / self.rate
        self._cursor = start + count / self.rate
        self.seconds += count / self.rate


@dataclass
class TurnEvents:
    """Arrival times (event-loop clock) of the server events a turn is timed by, and what they said."""

    speech_starts: int = 0
    speech_stopped: float | None = None
    audio_end_ms: float | None = None
    transcribed: float | None = None
    transcript: str = ""
    created: float | None = None
    done: float | None = None
    status: str | None = None
    reply: str = ""
    errors: list[str] = field(default_factory=list)
    playback: Playback = field(default_factory=Playback)

    def on_event(self, event: dict[str, Any], at: float) -> None:
        kind = event.get("type")
        if kind == "response.output_audio.delta":
            self.playback.add(base64.b64decode(event.get("delta", "")), at)
        elif kind in ("response.output_audio_transcript.delta", "response.output_text.delta"):
            self.reply += str(event.get("delta", ""))
        elif kind == "input_audio_buffer.speech_started":
            self.speech_starts += 1
        elif kind == "input_audio_buffer.speech_stopped" and self.speech_stopped is None:
            self.speech_stopped, self.audio_end_ms = at, float(event.get("audio_end_ms", math.nan))
        elif kind == "conversation.item.input_audio_transcription.completed" and self.transcribed is None:
            self.transcribed, self.transcript = at, str(event.get("transcript", "")).strip()
        elif kind == "response.created" and self.created is None:
            self.created = at
        elif kind == "response.done" and self.done is None:
            self.done, self.status = at, str((event.get("response") or {}).get("status"))
        elif kind == "error":
            self.errors.append(str((event.get("error") or {}).get("message")))


def voice_stages(end_of_speech: float, events: TurnEvents) -> dict[str, float]:
    """A spoken turn's latency split at the events that arrived; the stages add up to it."""
    at = events.playback
    if events.speech_stopped is None or events.created is None or at.first_arrival is None \
            or at.first_sound_at is None:
        raise ValueError("the turn is missing speech_stopped, response.created or audible audio")
    return {
        UNTIL_STOPPED: events.speech_stopped - end_of_speech,
        STOPPED_TO_CREATED: events.created - events.speech_stopped,
        CREATED_TO_AUDIO: at.first_arrival - events.created,
        PLAYOUT: at.first_sound_at - at.first_arrival,
    }


def marks(end: float, events: TurnEvents, speech_end: float) -> dict[str, float]:
    """Every event's arrival in seconds after the end of the input, and the length of the reply's audio, for the
    JSON (a reply done long after its audio could have been made says where to look)."""
    times = {"speech_stopped": events.speech_stopped, "transcription_completed": events.transcribed,
             "response_created": events.created, "first_audio_delta": events.playback.first_arrival,
             "first_sound": events.playback.first_sound_at, "response_done": events.done}
    found = {name: at - end for name, at in times.items() if at is not None}
    found["reply_audio_seconds"] = events.playback.seconds  # not a time: how long the reply's audio is
    if events.audio_end_ms is not None and not math.isnan(events.audio_end_ms):
        found["vad_end_of_speech"] = events.audio_end_ms / 1000 - speech_end  # the VAD's end vs the true one
    return found


def server_env(settings: Settings) -> dict[str, str]:
    """What the benchmark's own settings took from its command line, for the server (which reads the same
    environment and config file, but not the flags); on loopback, where the benchmark connects."""
    values = {
        "OMNI_MODELS_DIR": settings.models_dir, "OMNI_LLM__BACKEND": settings.llm.backend,
        "OMNI_LLM__MODEL": settings.llm.model, "OMNI_LLM__BASE_URL": settings.llm.base_url,
        "OMNI_STT__MODEL": settings.stt.model, "OMNI_STT__LANGUAGE": settings.stt.language,
        "OMNI_TTS__BACKEND": settings.tts.backend, "OMNI_TTS__VOICE": settings.tts.voice,
        "OMNI_SESSION__INSTRUCTIONS": settings.session.instructions, "OMNI_SERVER__HOST": "127.0.0.1",
        "OMNI_SESSION__TURN_DETECTION": settings.session.turn_detection,
        "OMNI_SESSION__EAGERNESS": settings.session.eagerness, "OMNI_VAD__THRESHOLD": settings.vad.threshold,
        "OMNI_VAD__PREFIX_PADDING_MS": settings.vad.prefix_padding_ms,
        "OMNI_VAD__SILENCE_DURATION_MS": settings.vad.silence_duration_ms,
    }
    return {name: str(value) for name, value in values.items() if value is not None}


@asynccontextmanager
async def serve(settings: Settings) -> AsyncIterator[ServerProcess]:
    """``omni serve`` for the latency suite, on the benchmark's settings."""
    async with omni_serve(env=server_env(settings)) as server:
        yield server


class RealtimeTurns:
    """Turns against one server: a fresh Realtime session each, the LLM primed before each."""

    def __init__(self, url: str, settings: Settings, *, cold_prompt: bool = False) -> None:
        self.settings = settings
        self.cold_prompt = cold_prompt
        key = settings.server.api_keys[0] if settings.server.api_keys else "unused"
        self.client = AsyncOpenAI(base_url=url + "/v1", websocket_base_url=url.replace("http", "ws", 1) + "/v1",
                                  api_key=key, max_retries=0)

    def session_update(self) -> str:
        """The instructions; the turn detection stays the server's own, which it took from the benchmark's settings
        (:func:`server_env`) as the in-process engine does: ``semantic_vad`` unless they say otherwise."""
        return json.dumps({"type": "session.update", "session": {
            "type": "realtime", "instructions": self.settings.session.instructions}})

    async def prime(self) -> None:
        """The server's LLM as the in-process pipelines have theirs before a turn (see the module's notes)."""
        primed: list[ChatCompletionMessageParam] = [{"role": "system", "content": self.settings.session.instructions}]
        await self.client.chat.completions.create(
            model="omni", messages=UNRELATED if self.cold_prompt else primed, max_tokens=1, temperature=0.0)

    async def voice(self, clip: WireClip, run: int, *, image: str | None = None) -> RunResult:
        """A spoken turn, labelled with the clip's language; with ``image`` (a data URL), that image is sent as a
        user item when the speech starts, as a camera frame is (the question is then about it)."""
        result = RunResult(PIPELINE, "voice", clip.language, clip.text, run, None, load_average=os.getloadavg()[0])
        events = TurnEvents()
        try:
            async with asyncio.timeout(TURN_TIMEOUT), self.client.realtime.connect(model="omni-realtime") as link:
                await link.send_raw(self.session_update())
                await _until(link, "session.updated", events)
                await self.prime()
                reader = asyncio.create_task(_read(link, events))
                try:
                    if image is not None:
                        await link.send_raw(_image_item(image))
                    end = await _stream(link, clip.messages, clip.speech_end, events, reader)
                    await reader
                finally:
                    reader.cancel()
                    await asyncio.gather(reader, return_exceptions=True)
        except TimeoutError:
            result.error = f"no reply finished within {TURN_TIMEOUT:.0f} s"
            return result
        except Exception as exc:  # a refused connection or a closed socket: this run failed, the benchmark goes on
            result.error = f"{type(exc).__name__}: {exc}"
            return result
        return finish(result, events, end, clip.speech_end)


def finish(result: RunResult, events: TurnEvents, end: float, speech_end: float) -> RunResult:
    """``result`` filled from the turn's events; ``end`` is the end of the speech on the event-loop clock."""
    result.transcript, result.reply = events.transcript, events.reply.strip()
    result.heard_language = heard_language(events.transcript)
    result.marks = marks(end, events, speech_end)
    if events.errors:
        result.error = "; ".join(events.errors)
    elif events.status != "completed":
        result.error = f"the reply ended {events.status}"
    else:
        try:
            stages = voice_stages(end, events)
        except ValueError as exc:
            result.error = str(exc)
            return result
        assert events.playback.first_sound_at is not None
        latency = events.playback.first_sound_at - end
        result.error = cut_question(events.speech_starts, latency)
        if result.error is None:
            result.latency, result.stages = latency, stages
    return result


async def _until(link: Any, kind: str, events: TurnEvents) -> None:
    while (event := json.loads(await link.recv_bytes())).get("type") != kind:
        if event.get("type") == "error":
            raise OSError(f"the server refused the session: {event.get('error')}")


async def _read(link: Any, events: TurnEvents) -> None:
    """Until ``response.done``."""
    loop = asyncio.get_running_loop()
    while events.done is None:
        events.on_event(json.loads(await link.recv_bytes()), loop.time())


async def _stream(
    link: Any, messages: Sequence[str], speech_end: float, events: TurnEvents, reader: asyncio.Task[None]
) -> float:
    """Send the clip at real-time pace, then silence until ``response.done`` and :data:`AFTER_DONE` (or until the
    reader fails); returns when the speech ended: the first sample is "spoken" when streaming starts, and each piece
    is sent when its last sample has been."""
    loop = asyncio.get_running_loop()
    begin = loop.time()
    piece = 0
    while not reader.done() or (events.done is not None and loop.time() < events.done + AFTER_DONE):
        await asyncio.sleep(max(0.0, begin + (piece + 1) * PIECE_MS / 1000 - loop.time()))
        await link.send_raw(messages[piece] if piece < len(messages) else SILENCE)
        piece += 1
    return begin + speech_end


def _image_item(data_url: str) -> str:
    return json.dumps({"type": "conversation.item.create", "item": {
        "type": "message", "role": "user", "content": [{"type": "input_image", "image_url": data_url}]}})
