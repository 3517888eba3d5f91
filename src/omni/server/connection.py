"""The Realtime WebSocket: accept, wire a session and its protocol, move text both ways, enforce the limits.

Everything the client sends goes through :class:`RealtimeProtocol`; everything it emits is queued and written by
one sender task, so events leave in the order they were made. A connection ends when the client leaves, after
``idle_timeout_seconds`` without a client message, or after ``max_session_seconds``; either limit is announced
with an ``error`` event before the close.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from omni.clock import RealClock
from omni.server.realtime import CLIENT_EVENT_TYPES, RealtimeProtocol
from omni.server.realtime_config import RealtimeConfig
from omni.server.realtime_events import ServerEvent
from omni.server.realtime_mcp import client_mcp_allowed
from omni.server.state import ServerState
from omni.server.wire_output import WireOutput
from omni.session.build import open_session_toolbox, session_options
from omni.session.session import Session
from omni.session.timing import TimingObserver

log = logging.getLogger(__name__)

_CLOSE_TRY_AGAIN = 1013


def realtime_endpoint(state: ServerState) -> Callable[[WebSocket], Awaitable[None]]:
    async def endpoint(websocket: WebSocket) -> None:
        offered = [p.strip() for p in websocket.headers.get("sec-websocket-protocol", "").split(",") if p.strip()]
        # Browsers offer "realtime" next to the key subprotocol; answering with it completes their handshake.
        subprotocol = "realtime" if "realtime" in offered else None
        await websocket.accept(subprotocol=subprotocol)
        if state.open_sessions >= state.settings.server.max_sessions:
            await _refuse(websocket, f"the server holds {state.settings.server.max_sessions} sessions already "
                                     "(server.max_sessions); try again later")
            return
        state.open_sessions += 1
        state.metrics.sessions_open.inc()
        state.metrics.sessions_total.inc()
        try:
            await _converse(websocket, state)
        finally:
            state.open_sessions -= 1
            state.metrics.sessions_open.dec()

    return endpoint


async def _refuse(websocket: WebSocket, message: str) -> None:
    error = {"type": "error", "event_id": "event_refused", "error": {
        "type": "invalid_request_error", "code": "session_limit_reached", "message": message, "param": None,
        "event_id": None}}
    await websocket.send_text(json.dumps(error))
    await websocket.close(code=_CLOSE_TRY_AGAIN, reason="too many sessions")


async def _converse(websocket: WebSocket, state: ServerState) -> None:
    settings = state.settings
    clock = RealClock()
    outgoing: asyncio.Queue[ServerEvent | None] = asyncio.Queue()
    timing = TimingObserver()
    turns_seen = 0

    def measure(event: Any) -> None:
        nonlocal turns_seen
        state.metrics.observe(event)
        timing(event)
        for turn in timing.turns[turns_seen:]:
            state.metrics.turn(turn)
        turns_seen = len(timing.turns)

    base = session_options(settings)
    session = Session(state.backends, base, clock=clock, output=WireOutput(clock), observers=[measure],
                      toolbox=await open_session_toolbox(settings))
    config = RealtimeConfig.initial(base, state.model_ids["transcription"])
    beta = websocket.headers.get("openai-beta", "").replace(" ", "").lower().startswith("realtime=v1")
    def send(event: ServerEvent) -> None:
        if event["type"] == "error":
            state.metrics.errors.labels(f"realtime:{event['error']['code']}").inc()
        outgoing.put_nowait(event)

    protocol = RealtimeProtocol(session, config, base, send=send, beta=beta,
                                model=websocket.query_params.get("model") or state.model_ids["realtime"],
                                limits=settings.server, vision=settings.vision,
                                client_mcp=client_mcp_allowed(settings.tools, settings.server.host))
    session.observers.append(protocol.on_event)
    sender = asyncio.create_task(_send_all(websocket, outgoing))
    protocol.start()
    deadline = clock.now() + settings.server.max_session_seconds
    try:
        while True:
            wait = min(settings.server.idle_timeout_seconds, deadline - clock.now())
            if wait <= 0:
                protocol.error("the session reached its maximum length (server.max_session_seconds)",
                               code="session_expired")
                break
            try:
                message = await asyncio.wait_for(websocket.receive(), timeout=wait)
            except TimeoutError:
                if clock.now() < deadline:
                    protocol.error("no client event for too long (server.idle_timeout_seconds)", code="idle_timeout")
                    break
                continue
            if message["type"] == "websocket.disconnect":
                break
            text = message.get("text")
            if text is None:
                protocol.error("binary messages are not supported: send JSON text", code="invalid_event")
                continue
            state.metrics.client_events.labels(_event_type(text)).inc()
            await protocol.receive(text)
    except WebSocketDisconnect:
        pass
    finally:
        await session.aclose()
        outgoing.put_nowait(None)
        await asyncio.gather(sender, return_exceptions=True)
        if websocket.client_state.name == "CONNECTED":
            await websocket.close(code=1000)


async def _send_all(websocket: WebSocket, outgoing: asyncio.Queue[ServerEvent | None]) -> None:
    while (event := await outgoing.get()) is not None:
        try:
            await websocket.send_text(json.dumps(event, ensure_ascii=False))
        except (WebSocketDisconnect, RuntimeError, OSError):
            return  # the client is gone; the receive loop sees it too


def _event_type(text: str) -> str:
    """The event type for the metrics label, from a cheap look at the message (validation comes later)."""
    start = text.find('"type"')
    if start < 0:
        return "unknown"
    rest = text[start + 6:].lstrip(" :")
    if not rest.startswith('"'):
        return "unknown"
    name = rest[1:rest.find('"', 1)]
    return name if name in CLIENT_EVENT_TYPES else "unknown"

