"""Server limits over a real socket: each ends with a clear error event or close code, never a crash."""

from __future__ import annotations

import asyncio
import base64
import json

import httpx
import pytest
import websockets

from tests.fakes.backends import speech
from tests.server.realtime_client import realtime
from tests.server.serving import fake_state, serving


async def test_a_full_input_buffer_is_refused_until_committed_or_cleared() -> None:
    async with serving(fake_state(server={"max_audio_buffer_seconds": 1.0})) as url, realtime(url) as wire:
        await wire.send({"type": "session.update", "session": {
            "type": "realtime", "audio": {"input": {"turn_detection": None}}}})
        await wire.until("session.updated")
        await wire.append_audio(speech(1.5).samples, 16000, piece_seconds=0.5)
        error = (await wire.until("error"))[-1]["error"]
        assert error["code"] == "input_audio_buffer_full" and "commit or clear" in error["message"]
        await wire.send({"type": "input_audio_buffer.clear"})
        await wire.until("input_audio_buffer.cleared")
        await wire.append_audio(speech(0.5).samples, 16000)
        await wire.send({"type": "input_audio_buffer.commit"})
        assert (await wire.until("input_audio_buffer.committed"))[-1]["type"] == "input_audio_buffer.committed"


async def test_a_session_ends_at_its_maximum_length() -> None:
    async with serving(fake_state(server={"max_session_seconds": 1.0})) as url, realtime(url) as wire:
        error = (await wire.until("error", wait=5))[-1]["error"]
        assert error["code"] == "session_expired"
        with pytest.raises(websockets.ConnectionClosed):
            await wire.next(wait=5)


async def test_a_message_over_the_size_limit_closes_with_1009_and_the_server_goes_on() -> None:
    async with serving(fake_state(server={"max_message_bytes": 4096})) as url:
        ws_url = url.replace("http", "ws", 1) + "/v1/realtime"
        async with websockets.connect(ws_url, max_size=None) as big:
            await big.recv()  # session.created
            audio = base64.b64encode(bytes(8000)).decode()
            await big.send(json.dumps({"type": "input_audio_buffer.append", "audio": audio}))
            await big.wait_closed()
            assert big.close_code == 1009
        async with realtime(url) as wire:  # a new session works
            await wire.send({"type": "input_audio_buffer.clear"})
            assert (await wire.until("input_audio_buffer.cleared"))[-1]["type"] == "input_audio_buffer.cleared"


async def test_a_client_that_vanishes_mid_response_leaves_the_server_serving_others() -> None:
    state = fake_state([], ["One more word. " * 30, "Fine."])
    state.backends.llm.per_token = 0.05  # type: ignore[attr-defined]  # a reply that takes seconds
    async with serving(state) as url:
        ws_url = url.replace("http", "ws", 1) + "/v1/realtime"
        async with realtime(url) as other:
            async with websockets.connect(ws_url) as vanishing:
                await vanishing.recv()  # session.created
                await vanishing.send(json.dumps({"type": "conversation.item.create", "item": {
                    "type": "message", "role": "user", "content": [{"type": "input_text", "text": "talk"}]}}))
                await vanishing.send(json.dumps({"type": "response.create"}))
                while json.loads(await vanishing.recv())["type"] != "response.output_audio.delta":
                    pass
                vanishing.transport.abort()  # gone without a close frame, mid-response
            await other.send({"type": "conversation.item.create", "item": {
                "type": "message", "role": "user", "content": [{"type": "input_text", "text": "you there?"}]}})
            await other.send({"type": "response.create", "response": {"output_modalities": ["text"]}})
            done = (await other.until("response.done"))[-1]["response"]
            assert done["status"] == "completed"
        async with httpx.AsyncClient(base_url=url) as client:
            for _ in range(100):  # the server notices the vanished socket on its own time
                if (await client.get("/healthz")).json()["sessions"] == 0:
                    break
                await asyncio.sleep(0.05)
            assert (await client.get("/healthz")).json()["sessions"] == 0


async def test_metrics_count_sessions_client_events_and_errors() -> None:
    async with serving(fake_state()) as url:
        async with realtime(url) as wire:
            await wire.connection.send_raw("{oops")
            await wire.until("error")
            await wire.send({"type": "input_audio_buffer.clear"})
            await wire.until("input_audio_buffer.cleared")
        async with httpx.AsyncClient(base_url=url) as client:
            metrics = (await client.get("/metrics")).text
    assert 'omni_errors_total{where="realtime:invalid_json"} 1.0' in metrics
    assert 'omni_realtime_client_events_total{type="input_audio_buffer.clear"} 1.0' in metrics
    assert "omni_realtime_sessions_opened_total 1.0" in metrics


async def test_shutdown_does_not_wait_forever_for_a_client_that_never_finishes() -> None:
    """A request whose body never comes keeps its connection open; Ctrl-C still ends the server (after the
    graceful-shutdown timeout) instead of waiting for it."""
    async with asyncio.timeout(30):  # without the timeout, the server would wait for this client forever
        async with serving(fake_state()) as url:
            host, port = url.removeprefix("http://").split(":")
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(b"POST /v1/chat/completions HTTP/1.1\r\nHost: omni\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 1000\r\n\r\n{\"messages\":")
            await writer.drain()
            await asyncio.sleep(0.2)
        closed = await reader.read()  # the server has gone: the connection is closed
        writer.close()
    assert b"200 OK" not in closed
