"""The Realtime WebSocket API on scripted fakes, with the official ``openai`` SDK as the client over a real socket."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
import websockets
from websockets.typing import Subprotocol

from omni.audio.pcm import ulaw_encode
from omni.audio.resample import resample
from omni.types import ToolCall
from tests.fakes.backends import silence, speech
from tests.server.realtime_client import pcm_audio, realtime, types
from tests.server.serving import fake_state, serving

ANSWER = "Paris is the capital of France. It is lovely in spring."


def spoken_turn(seconds: float = 1.0) -> np.ndarray:
    return np.concatenate([silence(0.3).samples, speech(seconds).samples, silence(1.0).samples])


async def test_a_voice_turn_streams_the_whole_event_sequence() -> None:
    async with serving(fake_state(["what is the capital of france"], [ANSWER])) as url, realtime(url) as wire:
        await wire.append_audio(spoken_turn(), 16000)
        events = await wire.until("response.done")
    kinds = types(events)
    order = ["input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped",
             "input_audio_buffer.committed", "conversation.item.input_audio_transcription.completed",
             "response.created", "response.output_item.added", "response.content_part.added",
             "response.output_audio_transcript.delta", "response.output_audio.delta", "response.output_audio.done",
             "response.output_audio_transcript.done", "response.content_part.done", "response.output_item.done",
             "response.done"]
    assert set(order) <= set(kinds)
    firsts = [kinds.index(kind) for kind in order]
    assert firsts == sorted(firsts), "each kind of event first appears in the protocol's order"
    started = next(e for e in events if e["type"] == "input_audio_buffer.speech_started")
    stopped = next(e for e in events if e["type"] == "input_audio_buffer.speech_stopped")
    committed = next(e for e in events if e["type"] == "input_audio_buffer.committed")
    assert 0 <= started["audio_start_ms"] <= 300 < stopped["audio_end_ms"] <= 1400
    assert started["item_id"] == stopped["item_id"] == committed["item_id"]
    transcript = next(e for e in events if e["type"] == "conversation.item.input_audio_transcription.completed")
    assert transcript["transcript"] == "what is the capital of france"
    assert "".join(e["delta"] for e in events if e["type"] == "response.output_audio_transcript.delta") == ANSWER
    audio = pcm_audio(events)
    assert len(audio) / 24000 == pytest.approx(len(ANSWER.split()) * 0.25, abs=0.05)  # ScriptedTTS: 0.25 s a word
    done = events[-1]["response"]
    assert done["status"] == "completed" and done["usage"]["output_tokens"] > 0
    assert done["output"][0]["content"][0] == {"type": "output_audio", "transcript": ANSWER}


async def test_session_update_answers_with_the_effective_session() -> None:
    async with serving(fake_state()) as url, realtime(url) as wire:
        await wire.send({"type": "session.update", "session": {
            "type": "realtime", "instructions": "Speak like a pirate.", "output_modalities": ["text"],
            "audio": {"input": {"format": {"type": "audio/pcmu"},
                                "turn_detection": {"type": "server_vad", "silence_duration_ms": 800}},
                      "output": {"voice": "marin"}},
            "tools": [{"type": "function", "name": "get_weather", "description": "Weather in a city",
                       "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}],
            "max_output_tokens": 100}})
        session = (await wire.until("session.updated"))[-1]["session"]
    assert session["instructions"] == "Speak like a pirate."
    assert session["output_modalities"] == ["text"]
    assert session["audio"]["input"]["format"] == {"type": "audio/pcmu"}
    assert session["audio"]["input"]["turn_detection"]["silence_duration_ms"] == 800
    assert session["audio"]["input"]["turn_detection"]["threshold"] == 0.5  # unchanged fields stay
    assert session["audio"]["output"]["voice"] == "marin"
    assert [t["name"] for t in session["tools"]] == ["get_weather"]
    assert session["max_output_tokens"] == 100


async def test_a_new_session_starts_from_the_servers_settings() -> None:
    state = fake_state(vad={"silence_duration_ms": 700, "threshold": 0.6}, llm={"temperature": 0.3},
                       session={"turn_detection": "server_vad"})
    async with serving(state) as url:
        async with realtime(url) as wire:
            await wire.send({"type": "session.update", "session": {"type": "realtime"}})
            detection = (await wire.until("session.updated"))[-1]["session"]["audio"]["input"]["turn_detection"]
        async with realtime(url, beta=True, model="gpt-4o-realtime-preview") as wire:
            await wire.send({"type": "session.update", "session": {}})
            beta = (await wire.until("session.updated"))[-1]["session"]
    assert (detection["type"], detection["silence_duration_ms"], detection["threshold"]) == ("server_vad", 700, 0.6)
    assert beta["turn_detection"]["silence_duration_ms"] == 700 and beta["temperature"] == 0.3


async def test_a_new_session_has_omnis_turn_taking_as_semantic_vad_by_default() -> None:
    async with serving(fake_state(session={"eagerness": "high"})) as url, realtime(url) as wire:
        await wire.send({"type": "session.update", "session": {"type": "realtime"}})
        detection = (await wire.until("session.updated"))[-1]["session"]["audio"]["input"]["turn_detection"]
        assert (detection["type"], detection["eagerness"]) == ("semantic_vad", "high")
        # a client that asks for server_vad gets its documented defaults
        await wire.send({"type": "session.update", "session": {"type": "realtime", "audio": {
            "input": {"turn_detection": {"type": "server_vad"}}}}})
        detection = (await wire.until("session.updated"))[-1]["session"]["audio"]["input"]["turn_detection"]
        assert (detection["type"], detection["silence_duration_ms"], detection["threshold"]) == (
            "server_vad", 500, 0.5)


async def test_output_speed_makes_the_spoken_answer_faster_and_is_checked() -> None:
    async with serving(fake_state([], [ANSWER])) as url, realtime(url) as wire:
        await wire.send({"type": "session.update", "event_id": "evt_fast", "session": {
            "type": "realtime", "audio": {"output": {"speed": 3.0}}}})
        error = (await wire.until("error"))[-1]["error"]
        await wire.send({"type": "session.update", "session": {
            "type": "realtime", "audio": {"output": {"speed": 1.25}}}})
        session = (await wire.until("session.updated"))[-1]["session"]
        await wire.send({"type": "conversation.item.create", "item": {
            "type": "message", "role": "user", "content": [{"type": "input_text", "text": "Where is Paris?"}]}})
        await wire.send({"type": "response.create"})
        events = await wire.until("response.done")
    assert (error["event_id"], error["param"]) == ("evt_fast", "session.audio.output.speed")
    assert session["audio"]["output"]["speed"] == 1.25
    assert len(pcm_audio(events)) / 24000 == pytest.approx(len(ANSWER.split()) * 0.25 / 1.25, abs=0.05)


async def test_bad_events_get_error_events_and_the_session_goes_on() -> None:
    async with serving(fake_state([], ["Still here."])) as url, realtime(url) as wire:
        await wire.connection.send_raw("{not json")
        await wire.send({"type": "no.such.event", "event_id": "evt_1"})
        await wire.send({"type": "session.update", "event_id": "evt_2",
                         "session": {"type": "realtime", "instructions": 42}})
        await wire.send({"type": "input_audio_buffer.append", "event_id": "evt_3", "audio": "%%%not base64"})
        await wire.send({"type": "conversation.item.delete", "event_id": "evt_4", "item_id": "item_nope"})
        await wire.send({"type": "response.cancel", "event_id": "evt_5"})
        await wire.send({"type": "session.update", "event_id": "evt_6", "session": {
            "type": "realtime", "audio": {"input": {"format": {"type": "audio/pcm", "rate": 16000}}}}})
        await wire.connection.send_raw(b"\x00\x01binary")
        await wire.send({"type": "input_audio_buffer.append", "event_id": "evt_9",
                         "audio": base64.b64encode(b"\x01\x02\x03").decode()})  # half a 16-bit sample
        await wire.send({"type": "conversation.item.truncate", "event_id": "evt_10", "item_id": "item_x",
                         "content_index": 0, "audio_end_ms": 10})  # before any reply exists
        errors = [(await wire.until("error"))[-1]["error"] for _ in range(10)]
        # still usable
        await wire.send({"type": "conversation.item.create", "item": {
            "type": "message", "role": "user", "content": [{"type": "input_text", "text": "hello?"}]}})
        await wire.send({"type": "response.create", "response": {"output_modalities": ["text"]}})
        done = (await wire.until("response.done"))[-1]["response"]
    assert errors[0]["code"] == "invalid_json"
    assert (errors[1]["code"], errors[1]["param"], errors[1]["event_id"]) == ("invalid_event_type", "type", "evt_1")
    assert errors[2]["event_id"] == "evt_2" and "instructions" in errors[2]["param"]
    assert errors[3]["event_id"] == "evt_3" and "base64" in errors[3]["message"]
    assert (errors[4]["code"], errors[4]["event_id"]) == ("item_not_found", "evt_4")
    assert (errors[5]["code"], errors[5]["event_id"]) == ("response_cancel_not_active", "evt_5")
    assert errors[6]["event_id"] == "evt_6" and "24000" in errors[6]["message"]
    assert "binary" in errors[7]["message"]
    assert errors[8]["event_id"] == "evt_9" and "16-bit" in errors[8]["message"]
    assert (errors[9]["event_id"], errors[9]["code"]) == ("evt_10", "item_not_found")
    assert done["status"] == "completed"
    assert done["output"][0]["content"][0] == {"type": "output_text", "text": "Still here."}


async def test_text_turn_with_manual_turns_and_item_management() -> None:
    async with serving(fake_state(["spoken words"], ["Okay then."])) as url, realtime(url) as wire:
        await wire.send({"type": "session.update", "session": {
            "type": "realtime", "output_modalities": ["text"], "audio": {"input": {"turn_detection": None}}}})
        await wire.until("session.updated")
        await wire.append_audio(spoken_turn(), 16000)
        await wire.send({"type": "input_audio_buffer.commit"})
        committed = (await wire.until("input_audio_buffer.committed"))[-1]
        transcribed = await wire.until("conversation.item.input_audio_transcription.completed")
        assert not any(e["type"] == "input_audio_buffer.speech_started" for e in transcribed), "no VAD in manual mode"
        assert transcribed[-1]["transcript"] == "spoken words"
        await wire.send({"type": "conversation.item.create", "item": {
            "id": "sys_1", "type": "message", "role": "system",
            "content": [{"type": "input_text", "text": "Answer in one word."}]}})
        await wire.until("conversation.item.done")
        await wire.send({"type": "conversation.item.retrieve", "item_id": committed["item_id"]})
        retrieved = (await wire.until("conversation.item.retrieved"))[-1]["item"]
        assert retrieved["content"][0] == {"type": "input_audio", "transcript": "spoken words"}
        await wire.send({"type": "response.create"})
        events = await wire.until("response.done")
        assert "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta") == "Okay then."
        await wire.send({"type": "conversation.item.delete", "item_id": "sys_1"})
        assert (await wire.until("conversation.item.deleted"))[-1]["item_id"] == "sys_1"
        await wire.send({"type": "input_audio_buffer.commit"})  # nothing buffered now
        assert (await wire.until("error"))[-1]["error"]["code"] == "input_audio_buffer_commit_empty"


async def test_out_of_band_response_leaves_the_conversation_alone() -> None:
    state = fake_state([], ["positive"])
    async with serving(state) as url, realtime(url) as wire:
        await wire.send({"type": "response.create", "response": {
            "conversation": "none", "output_modalities": ["text"], "metadata": {"purpose": "sentiment"},
            "instructions": "Classify the sentiment.",
            "input": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "I love it"}]}]}})
        events = await wire.until("response.done")
        done = events[-1]["response"]
        assert done["metadata"] == {"purpose": "sentiment"} and done["conversation_id"] is None
        assert not any(e["type"] == "conversation.item.added" for e in events)
        await wire.send({"type": "conversation.item.retrieve", "item_id": done["output"][0]["id"]})
        assert (await wire.until("error"))[-1]["error"]["code"] == "item_not_found"
    llm = state.backends.llm
    prompt = llm.prompts[0]  # type: ignore[attr-defined]
    assert prompt[0].content == "Classify the sentiment." and prompt[-1].content == "I love it"


async def test_function_calling_round_trip() -> None:
    call = ToolCall("call_1", "get_weather", '{"city": "Seoul"}')
    state = fake_state([], [[call], "It is sunny in Seoul."])
    async with serving(state) as url, realtime(url) as wire:
        await wire.send({"type": "session.update", "session": {"type": "realtime", "output_modalities": ["text"],
                         "tools": [{"type": "function", "name": "get_weather", "parameters": {"type": "object"}}]}})
        await wire.send({"type": "conversation.item.create", "item": {
            "type": "message", "role": "user", "content": [{"type": "input_text", "text": "Weather in Seoul?"}]}})
        await wire.send({"type": "response.create"})
        events = await wire.until("response.done")
        arguments = next(e for e in events if e["type"] == "response.function_call_arguments.done")
        assert (arguments["name"], arguments["call_id"], json.loads(arguments["arguments"])) == (
            "get_weather", "call_1", {"city": "Seoul"})
        output = events[-1]["response"]["output"]
        assert [o["type"] for o in output] == ["function_call"], "no empty message item before a pure tool call"
        await wire.send({"type": "conversation.item.create", "item": {
            "type": "function_call_output", "call_id": "call_1", "output": '{"sky": "sunny"}'}})
        await wire.send({"type": "response.create"})
        final = await wire.until("response.done")
    assert "".join(e["delta"] for e in final if e["type"] == "response.output_text.delta") == "It is sunny in Seoul."
    second_prompt = state.backends.llm.prompts[1]  # type: ignore[attr-defined]
    assert second_prompt[-2].role == "tool" and "sunny" in second_prompt[-2].content
    assert second_prompt[-3].tool_calls == (call,)
    assert second_prompt[-1].role == "system" and "Weather in Seoul?" in second_prompt[-1].content  # the note


async def test_cancel_barge_in_and_truncate() -> None:
    long = "One more word. " * 14  # short sentences: audio starts long before the text ends
    # server_vad: any speech is a turn at once (semantic_vad holds it until its words are read)
    state = fake_state(["first", "second"], [long, long, long], session={"turn_detection": "server_vad"})
    state.backends.llm.per_token = 0.1  # type: ignore[attr-defined]  # 4 s of generation: time to interrupt it
    async with serving(state) as url, realtime(url) as wire:
        await wire.send({"type": "conversation.item.create", "item": {
            "type": "message", "role": "user", "content": [{"type": "input_text", "text": "talk a lot"}]}})
        await wire.send({"type": "response.create"})
        await wire.until("response.output_audio_transcript.delta")
        await wire.send({"type": "response.cancel"})
        cancelled = (await wire.until("response.done"))[-1]["response"]
        assert cancelled["status"] == "cancelled"
        assert cancelled["status_details"]["reason"] == "client_cancelled"

        await wire.append_audio(spoken_turn(), 16000)  # a spoken turn: its answer starts playing
        await wire.until("response.output_audio.delta")
        await wire.append_audio(speech(0.5).samples, 16000)  # the user speaks again: barge-in
        barged = await wire.until("response.done")
        assert barged[-1]["response"]["status_details"]["reason"] == "turn_detected"
        assert any(e["type"] == "input_audio_buffer.speech_started" for e in barged)

        await wire.append_audio(silence(1.0).samples, 16000)
        await wire.until("response.output_audio.delta")  # the answer to the second turn
        done = (await wire.until("response.done"))[-1]["response"]
        item_id = done["output"][0]["id"]
        await wire.send({"type": "conversation.item.truncate", "item_id": item_id, "content_index": 0,
                         "audio_end_ms": 0})
        truncated = (await wire.until("conversation.item.truncated"))[-1]
        assert (truncated["item_id"], truncated["audio_end_ms"]) == (item_id, 0)
        await wire.send({"type": "conversation.item.retrieve", "item_id": item_id})
        item = (await wire.until("conversation.item.retrieved"))[-1]["item"]
        assert item["content"][0]["transcript"] == "" and item["status"] == "incomplete"
        await wire.send({"type": "conversation.item.truncate", "item_id": item_id, "content_index": 0,
                         "audio_end_ms": 999_999})
        assert (await wire.until("error"))[-1]["error"]["param"] == "audio_end_ms"


async def test_beta_dialect_names_and_session_shape() -> None:
    beta_model = "gpt-4o-realtime-preview"  # beta clients name an OpenAI model; the server echoes it
    async with serving(fake_state(["hello"], ["Hi there."])) as url, realtime(url, beta=True, model=beta_model) as wire:
        created = wire.seen[0]["session"]
        assert created["input_audio_format"] == "pcm16" and created["modalities"] == ["audio", "text"]
        await wire.send({"type": "session.update", "session": {"input_audio_format": "g711_ulaw",
                                                               "output_audio_format": "g711_ulaw"}})
        updated = (await wire.until("session.updated"))[-1]["session"]
        assert updated["input_audio_format"] == updated["output_audio_format"] == "g711_ulaw"
        turn = resample(spoken_turn(), 16000, 8000)
        for start in range(0, len(turn), 800):
            await wire.send({"type": "input_audio_buffer.append",
                             "audio": base64.b64encode(ulaw_encode(turn[start:start + 800])).decode()})
        events = await wire.until("response.done")
    kinds = set(types(events))
    assert {"conversation.item.created", "response.audio.delta", "response.audio_transcript.delta",
            "response.audio.done"} <= kinds
    assert not kinds & {"response.output_audio.delta", "conversation.item.added", "conversation.item.done"}
    audio = b"".join(base64.b64decode(e["delta"]) for e in events if e["type"] == "response.audio.delta")
    assert len(audio) / 8000 == pytest.approx(2 * 0.25, abs=0.05)  # μ-law: one byte a sample at 8 kHz


async def test_api_key_session_limit_and_idle_timeout() -> None:
    state = fake_state(server={"api_keys": ["secret"], "max_sessions": 1, "idle_timeout_seconds": 1.0})
    async with serving(state) as url:
        ws_url = url.replace("http", "ws", 1) + "/v1/realtime?model=omni-realtime"
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with websockets.connect(ws_url):
                pass
        assert refused.value.response.status_code == 401
        headers = {"Authorization": "Bearer secret"}
        async with realtime(url, api_key="secret") as first:
            async with websockets.connect(ws_url, additional_headers=headers) as second:
                refusal = json.loads(await second.recv())
                assert refusal["error"]["code"] == "session_limit_reached"
            error = (await first.until("error", wait=5))[-1]["error"]
            assert error["code"] == "idle_timeout"
        # a browser cannot set headers: it passes the key as a subprotocol
        offered = [Subprotocol("realtime"), Subprotocol("openai-insecure-api-key.secret")]
        async with websockets.connect(ws_url, subprotocols=offered) as browser:
            assert json.loads(await browser.recv())["type"] == "session.created"
