"""Omni's turn events over the Realtime API, on scripted fakes: a session that asks (``omni_turn_events``) is told when
speech during a reply is held (``omni.input_audio_buffer.speech_held``) and when it turns out to be no turn
(``omni.input_audio_buffer.speech_ignored``), so a player can pause and resume; one that does not ask never sees
them. Speech is streamed at a microphone's pace: the hold is decided on the audio's own time."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest

from omni.server.state import ServerState
from tests.fakes.backends import silence, speech
from tests.server.realtime_client import Wire, realtime, types
from tests.server.serving import fake_state, serving

STORY = " ".join(["Once upon a time a little dog crossed the sea."] * 5)
"""50 words: 5 s of generation at 0.1 s a word, time to speak over it."""
HELD = "omni.input_audio_buffer.speech_held"
IGNORED = "omni.input_audio_buffer.speech_ignored"


def story_state(transcripts: list[str]) -> ServerState:
    state = fake_state(transcripts, [STORY, "Yes?"], session={"turn_detection": "semantic_vad"})
    state.backends.llm.per_token = 0.1  # type: ignore[attr-defined]
    return state


def sound(seconds: float, then: float = 1.0) -> np.ndarray:
    """A short sound, then ``then`` seconds of silence (16 kHz)."""
    return np.concatenate([speech(seconds).samples, silence(then).samples])


async def ask_for_turn_events(wire: Wire, value: Any = True) -> dict[str, Any]:
    session = {"omni_turn_events": value} if wire.beta else {"type": "realtime", "omni_turn_events": value}
    await wire.send({"type": "session.update", "session": session})
    shown: dict[str, Any] = (await wire.until("session.updated"))[-1]["session"]
    return shown


async def story_under_way(wire: Wire) -> None:
    await wire.send({"type": "conversation.item.create", "item": {
        "type": "message", "role": "user", "content": [{"type": "input_text", "text": "Tell me a story."}]}})
    await wire.send({"type": "response.create"})
    await wire.until("response.audio.delta" if wire.beta else "response.output_audio.delta")


async def speak_over(wire: Wire, samples: np.ndarray, until: str) -> list[dict[str, Any]]:
    """Stream ``samples`` as a microphone would while reading events up to ``until``."""
    streaming = asyncio.create_task(wire.stream_audio(samples, 16000))
    try:
        return await wire.until(until)
    finally:
        await streaming


async def test_a_session_that_did_not_ask_never_gets_the_omni_events() -> None:
    async with serving(story_state(["Mm-hm."])) as url, realtime(url) as wire:
        assert wire.seen[0]["session"]["omni_turn_events"] is False
        await story_under_way(wire)
        # the Wire fails on any event the SDK does not know: an omni.* event would end the test here
        events = await speak_over(wire, sound(0.4), "response.done")
    assert not [kind for kind in types(wire.seen) if kind.startswith("omni.")]
    assert "input_audio_buffer.speech_started" not in types(events), "the backchannel was held and dropped"
    assert events[-1]["response"]["status"] == "completed"


@pytest.mark.parametrize("beta", [False, True], ids=["ga", "beta"])
async def test_a_backchannel_is_held_then_ignored_and_the_reply_goes_on(beta: bool) -> None:
    model = "gpt-4o-realtime-preview" if beta else "omni-realtime"
    async with (serving(story_state(["Mm-hm."])) as url,
                realtime(url, beta=beta, model=model, omni_events=True) as wire):
        shown = await ask_for_turn_events(wire)
        await story_under_way(wire)
        backchannel = await speak_over(wire, sound(0.4), IGNORED)
        # held speech the client drops itself (input_audio_buffer.clear) is ignored too: the player resumes
        await wire.append_audio(speech(0.3).samples, 16000)
        await wire.until(HELD)
        await wire.send({"type": "input_audio_buffer.clear"})
        dropped = await wire.until("input_audio_buffer.cleared")
        rest = await wire.until("response.done")
    assert shown["omni_turn_events"] is True
    kinds = types(backchannel)
    assert kinds.count(HELD) == 1 and "input_audio_buffer.speech_started" not in kinds
    held, ignored = backchannel[kinds.index(HELD)], backchannel[-1]
    assert ignored["transcript"] == "Mm-hm."
    assert ignored["audio_start_ms"] == held["audio_start_ms"] < ignored["audio_end_ms"]
    assert ignored["audio_end_ms"] - ignored["audio_start_ms"] < 700, "the hold ended at the sound's pause"
    assert [e["type"] for e in dropped[-2:]] == [IGNORED, "input_audio_buffer.cleared"]
    assert dropped[-2]["transcript"] == "" and dropped[-2]["audio_end_ms"] > dropped[-2]["audio_start_ms"]
    assert "input_audio_buffer.speech_started" not in types(rest)
    done = rest[-1]["response"]
    assert done["status"] == "completed", "the reply went on to its end"
    transcript = done["output"][0]["content"][0]["transcript"]
    assert transcript == STORY


async def test_an_interruption_is_held_then_started_and_the_reply_is_cancelled() -> None:
    async with serving(story_state(["Wait."])) as url, realtime(url, omni_events=True) as wire:
        await ask_for_turn_events(wire)
        await story_under_way(wire)
        # the silence after it is long enough to end the turn it becomes (the end is found on the audio's time)
        interrupted = await speak_over(wire, sound(0.4, then=2.5), "response.done")
        answer = await wire.until("response.done")
    kinds = types(interrupted)
    assert IGNORED not in kinds
    held = interrupted[kinds.index(HELD)]
    started = interrupted[kinds.index("input_audio_buffer.speech_started")]
    assert kinds.index(HELD) < kinds.index("input_audio_buffer.speech_started")
    assert started["audio_start_ms"] == held["audio_start_ms"]
    cancelled = interrupted[-1]["response"]
    assert (cancelled["status"], cancelled["status_details"]["reason"]) == ("cancelled", "turn_detected")
    heard = next(e for e in interrupted + answer
                 if e["type"] == "conversation.item.input_audio_transcription.completed")
    assert heard["transcript"] == "Wait."
    assert answer[-1]["response"]["status"] == "completed"
    assert answer[-1]["response"]["output"][0]["content"][0]["transcript"] == "Yes?"


async def test_a_bad_value_is_an_error_naming_the_field_and_null_is_off() -> None:
    async with serving(fake_state()) as url:
        async with realtime(url) as wire:
            await wire.send({"type": "session.update", "event_id": "evt_bad", "session": {
                "type": "realtime", "omni_turn_events": "yes"}})
            error = (await wire.until("error"))[-1]["error"]
            off = await ask_for_turn_events(wire, None)
        async with realtime(url, beta=True, model="gpt-4o-realtime-preview") as wire:
            beta_on = await ask_for_turn_events(wire, True)
            await wire.send({"type": "session.update", "session": {"omni_turn_events": 1}})
            beta_error = (await wire.until("error"))[-1]["error"]
    assert (error["code"], error["param"], error["event_id"]) == (
        "invalid_value", "session.omni_turn_events", "evt_bad")
    assert "true" in error["message"] and "false" in error["message"]
    assert off["omni_turn_events"] is False
    assert beta_on["omni_turn_events"] is True
    assert (beta_error["code"], beta_error["param"]) == ("invalid_value", "session.omni_turn_events")
