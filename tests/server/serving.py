"""A real server for tests: the app on uvicorn on a free loopback port, in the test's own event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import uvicorn

from omni.clock import RealClock
from omni.config import load_settings
from omni.server.serve import uvicorn_config
from omni.server.state import ServerState
from omni.session.session import Backends
from omni.types import ToolCall
from tests.fakes.backends import ColourReadingVision, EnergyVAD, ScriptedLLM, ScriptedSTT, ScriptedTTS


@asynccontextmanager
async def serving(state: ServerState, port: int = 0) -> AsyncIterator[str]:
    """Yields the base URL, ``http://127.0.0.1:PORT`` (a free port unless given); the server stops when the block
    ends."""
    server = uvicorn.Server(uvicorn_config(state, port=port))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # startup failed: raise its error
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def fake_state(
    transcripts: Sequence[str] = (),
    answers: Sequence[str | list[ToolCall]] = (),
    *,
    image_texts: dict[tuple[int, int, int], str] | None = None,
    **settings: Any,
) -> ServerState:
    """A server state on scripted fakes (real clock, short latencies): for fast protocol and REST logic tests.
    ``image_texts``: a vision backend that reads these texts off images of these colours (no vision without it).
    ``settings`` are settings-tree overrides, e.g. ``server={"api_keys": ["k"]}``."""
    clock = RealClock()
    backends = Backends(
        llm=ScriptedLLM(clock, list(answers), first_token=0.05, per_token=0.01),
        vad=EnergyVAD(),
        stt=ScriptedSTT(clock, list(transcripts), latency=0.05),
        tts=ScriptedTTS(clock, latency=0.02),
        vision=ColourReadingVision(clock, image_texts, latency=0.05) if image_texts is not None else None,
    )
    return ServerState(load_settings(settings), backends)
