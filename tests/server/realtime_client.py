"""The official ``openai`` SDK as a Realtime client, with every server event checked against the SDK's own model."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, get_args

import numpy as np
import openai.types.beta.realtime as beta_types
import openai.types.realtime as ga_types
from openai import AsyncOpenAI
from pydantic import BaseModel

from omni.audio.pcm import float_to_pcm16
from omni.audio.resample import resample
from omni.types import Samples


def _models_by_type(union: Any) -> dict[str, type[BaseModel]]:
    members = get_args(get_args(union)[0])
    return {get_args(cls.model_fields["type"].annotation)[0]: cls for cls in members}


GA_SERVER_EVENTS = _models_by_type(ga_types.RealtimeServerEvent)
BETA_SERVER_EVENTS = _models_by_type(beta_types.RealtimeServerEvent)
OMNI_SERVER_EVENTS = {
    "omni.input_audio_buffer.speech_held": {"type", "event_id", "audio_start_ms"},
    "omni.input_audio_buffer.speech_ignored": {"type", "event_id", "audio_start_ms", "audio_end_ms", "transcript"},
}
"""Omni's extension events (``omni_turn_events``) and their fields: the SDK has no models for them."""


class Wire:
    """One connection: send client events, read server events (validated), wait for a type."""

    def __init__(self, connection: Any, *, beta: bool = False, omni_events: bool = False) -> None:
        self.connection = connection
        self.beta = beta
        self.omni_events = omni_events
        """Whether Omni's extension events are expected (the session asked for them); else one is a failure."""
        self.models = BETA_SERVER_EVENTS if beta else GA_SERVER_EVENTS
        self.seen: list[dict[str, Any]] = []

    async def send(self, event: dict[str, Any]) -> None:
        if self.beta:
            await self.connection.send(event)  # the beta connection has no send_raw; its send takes a dict
        else:
            await self.connection.send_raw(json.dumps(event))  # as written, so malformed events reach the server

    async def next(self, wait: float = 30) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.connection.recv_bytes(), wait)
        event: dict[str, Any] = json.loads(raw)
        if self.omni_events and event["type"] in OMNI_SERVER_EVENTS:
            assert set(event) == OMNI_SERVER_EVENTS[event["type"]], event
            self.seen.append(event)
            return event
        model = self.models.get(event["type"])
        assert model is not None, f"{event['type']} is not a server event the SDK knows"
        model.model_validate(event)
        self.seen.append(event)
        return event

    async def until(self, kind: str, wait: float = 30) -> list[dict[str, Any]]:
        """Events up to and including the next one of type ``kind`` (each within ``wait`` seconds)."""
        events = []
        while True:
            event = await self.next(wait)
            events.append(event)
            if event["type"] == kind:
                return events

    async def append_audio(self, samples: Samples, rate: int, *, piece_seconds: float = 0.1) -> None:
        """Send audio as ``audio/pcm`` 24 kHz appends, as fast as the socket takes them."""
        pcm = float_to_pcm16(resample(samples, rate, 24000))
        step = round(piece_seconds * 24000) * 2
        for start in range(0, len(pcm), step):
            await self.send({"type": "input_audio_buffer.append",
                             "audio": base64.b64encode(pcm[start:start + step]).decode()})


    async def stream_audio(self, samples: Samples, rate: int) -> None:
        """Send audio as a microphone would: 20 ms pieces, each when its last sample has been spoken."""
        pcm = float_to_pcm16(resample(samples, rate, 24000))
        step = 480 * 2  # 20 ms of 24 kHz 16-bit samples
        loop = asyncio.get_running_loop()
        begin = loop.time()
        for index, start in enumerate(range(0, len(pcm), step)):
            await asyncio.sleep(max(0.0, begin + (index + 1) * 0.02 - loop.time()))
            await self.send({"type": "input_audio_buffer.append",
                             "audio": base64.b64encode(pcm[start:start + step]).decode()})


@asynccontextmanager
async def realtime(
    base_url: str, *, beta: bool = False, api_key: str = "unused", model: str = "omni-realtime",
    omni_events: bool = False,
) -> AsyncIterator[Wire]:
    websocket_url = base_url.replace("http", "ws", 1) + "/v1"  # the beta client would otherwise pick wss://
    client = AsyncOpenAI(base_url=base_url + "/v1", websocket_base_url=websocket_url, api_key=api_key)
    resource = client.beta.realtime if beta else client.realtime
    async with resource.connect(model=model) as connection:
        wire = Wire(connection, beta=beta, omni_events=omni_events)
        created = await wire.next()
        assert created["type"] == "session.created"
        yield wire


def types(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in events]


def pcm_audio(events: list[dict[str, Any]], kind: str = "response.output_audio.delta") -> np.ndarray:
    data = b"".join(base64.b64decode(e["delta"]) for e in events if e["type"] == kind)
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768
