"""Nothing a client sends crashes the Realtime protocol: arbitrary events (known types with random fields, random
JSON) each get handled or answered with ``error`` events, and the session still answers afterwards."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omni.config import ServerSettings
from omni.server.realtime import CLIENT_EVENT_TYPES, RealtimeProtocol
from omni.server.realtime_config import RealtimeConfig
from tests.session.harness import make_harness

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
FIELDS = st.sampled_from(["session", "item", "item_id", "audio", "response", "response_id", "previous_item_id",
                          "audio_end_ms", "content_index", "event_id", "type", "instructions", "tools", "input"])


TEXT = st.text(max_size=10)
INT = st.integers(-(10**9), 10**9)
CONTENT = st.fixed_dictionaries({
    "type": st.sampled_from(["input_text", "input_audio", "output_text", "input_image", "text"]),
    "text": TEXT, "audio": st.binary(max_size=64).map(lambda b: base64.b64encode(b).decode()) | TEXT,
})
ITEM = st.fixed_dictionaries({
    "type": st.sampled_from(["message", "function_call", "function_call_output"]),
    "role": st.sampled_from(["user", "assistant", "system"]), "content": st.lists(CONTENT, max_size=2),
    "call_id": TEXT, "output": TEXT, "name": TEXT, "arguments": TEXT,
})
SHAPED = st.one_of(
    st.fixed_dictionaries({"type": st.just("conversation.item.truncate"), "item_id": TEXT, "content_index": INT,
                           "audio_end_ms": INT}),
    st.fixed_dictionaries({"type": st.just("conversation.item.create"), "item": ITEM,
                           "previous_item_id": st.none() | TEXT}),
    st.fixed_dictionaries({"type": st.just("response.create"), "response": st.fixed_dictionaries({
        "conversation": st.sampled_from(["auto", "none"]),
        "output_modalities": st.sampled_from([["text"], ["audio"]]),
        "max_output_tokens": INT | st.just("inf"), "input": st.lists(ITEM, max_size=2)})}),
    st.fixed_dictionaries({"type": st.just("session.update"), "session": st.fixed_dictionaries({
        "type": st.just("realtime"), "audio": st.fixed_dictionaries({"input": st.fixed_dictionaries({
            "turn_detection": st.none() | st.fixed_dictionaries({
                "type": st.sampled_from(["server_vad", "semantic_vad"]), "threshold": st.floats(-1, 2),
                "silence_duration_ms": INT, "eagerness": st.sampled_from(["low", "high", "auto", "x"])}),
            "format": st.fixed_dictionaries({"type": st.sampled_from(["audio/pcm", "audio/pcmu", "x"])})})})})}),
    st.fixed_dictionaries({"type": st.just("input_audio_buffer.append"),
                           "audio": st.binary(max_size=4000).map(lambda b: base64.b64encode(b).decode())}),
    st.sampled_from([{"type": t} for t in ("response.cancel", "output_audio_buffer.clear",
                                           "input_audio_buffer.commit", "input_audio_buffer.clear")]),
)


@st.composite
def client_events(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        return json.dumps(draw(SHAPED))  # valid shapes with edge values: they reach the handlers
    if draw(st.booleans()):
        event: dict[str, Any] = {"type": draw(st.sampled_from(sorted(CLIENT_EVENT_TYPES)))}
        event.update(draw(st.dictionaries(FIELDS.filter(lambda f: f != "type"), JSON, max_size=4)))
        return json.dumps(event)
    return draw(st.one_of(JSON.map(json.dumps), st.text(max_size=30)))


async def exchange(messages: list[str], beta: bool) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The server events for ``messages``, and for a plain text turn after them."""
    h = make_harness(["hello"] * 5, ["Fine."] * 8)
    sent: list[dict[str, Any]] = []
    protocol = RealtimeProtocol(h.session, RealtimeConfig(instructions="Be brief.", transcription_model="whisper"),
                                h.session.options, send=sent.append, beta=beta, model="omni-realtime",
                                limits=ServerSettings())
    h.session.observers.append(protocol.on_event)
    for message in messages:
        await protocol.receive(message)
        await h.clock.advance(0.05)
    await h.session.aclose()
    after = len(sent)
    await protocol.receive(json.dumps({"type": "session.update", "session": {
        "type": "realtime", "output_modalities": ["text"]} if not beta else {"modalities": ["text"]}}))
    await protocol.receive(json.dumps({"type": "conversation.item.create", "item": {
        "type": "message", "role": "user", "content": [{"type": "input_text", "text": "still there?"}]}}))
    await protocol.receive(json.dumps({"type": "response.create"}))
    await h.clock.run_until(lambda: any(e["type"] == "response.done" for e in sent[after:]), limit=30)
    return sent[:after], sent[after:]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(client_events(), min_size=1, max_size=6), st.booleans())
def test_any_client_messages_leave_the_session_usable(messages: list[str], beta: bool) -> None:
    fuzzed, events = asyncio.run(exchange(messages, beta))
    internal = [e["error"]["message"] for e in fuzzed + events if e["type"] == "error"
                and e["error"]["code"] == "internal_error"]
    assert not internal, "every bad event is a client error, not a bug of ours"
    done = [e for e in events if e["type"] == "response.done"]
    assert done and done[-1]["response"]["status"] in ("completed", "incomplete")
    assert all(isinstance(e.get("type"), str) and e.get("event_id") for e in events)
