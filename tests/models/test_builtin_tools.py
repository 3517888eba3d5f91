"""The built-in tools through the voice path on the real embedded models: a question spoken by Piper (English) or
Kokoro (Korean) is heard by VAD and Whisper, the LLM calls the built-in tool, the session runs it, and the spoken
answer carries the tool's exact result; a timer set by voice is said aloud when due. Greedy decoding, as in the other
model tests."""

from __future__ import annotations

import asyncio
import json
import re
import zoneinfo
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from omni.backends.base import LLM, STT, TTS, VAD
from omni.clock import RealClock
from omni.config import Settings, ToolsSettings
from omni.events import ReplyAudio, ReplyDone, SessionEvent, ToolCallDone, TranscriptionDone
from omni.session.build import session_options
from omni.session.playout import CollectingOutput
from omni.session.session import Backends, Session
from omni.tools.builtin import builtin_toolbox
from omni.tools.timers import parse_duration
from omni.types import AudioChunk
from tests import speech

pytestmark = pytest.mark.models

HANGUL = re.compile(r"[\uac00-\ud7a3]")


class Turn:
    """What one voice turn produced: what was heard, the tools run, the answer and its audio."""

    def __init__(self, events: list[SessionEvent]) -> None:
        self.heard = " ".join(e.transcript.text for e in events if isinstance(e, TranscriptionDone))
        self.tools = [(e.call.name, json.loads(e.call.arguments), json.loads(e.output))
                      for e in events if isinstance(e, ToolCallDone)]
        self.done = [e for e in events if isinstance(e, ReplyDone)][-1]
        self.audio_seconds = sum(e.chunk.duration for e in events if isinstance(e, ReplyAudio))

    @property
    def answer(self) -> str:
        return self.done.text


def make_session(settings: Settings, backends: Backends, events: list[SessionEvent]) -> Session:
    base = session_options(settings)
    options = replace(base, generation=replace(base.generation, temperature=0.0), language=None)
    return Session(backends, options, clock=RealClock(), output=CollectingOutput(24000), observers=[events.append],
                   toolbox=builtin_toolbox(ToolsSettings()))


async def voice_turn(settings: Settings, backends: Backends, samples: np.ndarray, rate: int) -> Turn:
    """One spoken question, pushed at once with a silence after it long enough to end the turn, answered in voice."""
    events: list[SessionEvent] = []
    session = make_session(settings, backends, events)
    try:
        session.push_audio(AudioChunk(speech.concat(0.3, samples, 1.2, sample_rate=rate), rate))
        await asyncio.wait_for(session.idle(), timeout=180)
    finally:
        await session.aclose()
    return Turn(events)


@pytest.fixture(scope="module")
def backends(llm: LLM, stt: STT, vad: VAD, auto_tts: TTS) -> Backends:
    return Backends(llm=llm, stt=stt, vad=vad, tts=auto_tts)


async def test_a_spoken_multiplication_is_answered_with_the_exact_product(
        settings: Settings, backends: Backends) -> None:
    samples, rate = speech.piper_samples("What is 37 times 43?")
    turn = await voice_turn(settings, backends, samples, rate)
    assert [name for name, _, _ in turn.tools] == ["calculate"], (turn.heard, turn.tools, turn.answer)
    assert turn.tools[0][2]["result"] == "1591"
    assert re.search(r"1,?591", turn.answer), turn.answer
    assert turn.done.status == "completed" and turn.audio_seconds > 0.5


def hours_in(zone: str, *moments: datetime) -> set[str]:
    """The hour in ``zone`` at each moment, as a 12-hour and a 24-hour clock write it."""
    hours = set()
    for moment in moments:
        local = moment.astimezone(zoneinfo.ZoneInfo(zone))
        hours |= {str(local.hour % 12 or 12), f"{local.hour:02d}", str(local.hour)}
    return hours


async def test_a_spoken_question_about_the_time_in_tokyo_is_answered_from_the_clock(
        settings: Settings, backends: Backends) -> None:
    samples, rate = speech.piper_samples("What time is it in Tokyo?")
    before = datetime.now(UTC)
    turn = await voice_turn(settings, backends, samples, rate)
    after = datetime.now(UTC)
    assert [name for name, _, _ in turn.tools] == ["get_time"], (turn.heard, turn.tools, turn.answer)
    assert turn.tools[0][2]["timezone"] == "Asia/Tokyo"
    said_hours = set(re.findall(r"\b(\d{1,2}):\d{2}\b", turn.answer))
    assert said_hours and said_hours <= hours_in("Asia/Tokyo", before, after), turn.answer
    assert turn.done.status == "completed" and turn.audio_seconds > 0.5


async def test_a_korean_question_about_the_time_in_tokyo_is_answered_in_korean(
        settings: Settings, backends: Backends, auto_tts: TTS) -> None:
    chunks = [chunk async for chunk in auto_tts.synthesize("도쿄는 지금 몇 시예요?", language="ko")]
    samples = np.concatenate([c.samples for c in chunks])
    before = datetime.now(UTC)
    turn = await voice_turn(settings, backends, samples, chunks[0].sample_rate)
    after = datetime.now(UTC)
    assert [name for name, _, _ in turn.tools] == ["get_time"], (turn.heard, turn.tools, turn.answer)
    assert turn.tools[0][2]["timezone"] == "Asia/Tokyo"
    said_hours = set(re.findall(r"(\d{1,2})\s*(?:시|:\d{2})", turn.answer))
    assert said_hours and said_hours <= hours_in("Asia/Tokyo", before, after), turn.answer
    assert len(HANGUL.findall(turn.answer)) >= 3, turn.answer


async def test_an_ordinary_spoken_question_is_answered_without_a_tool(
        settings: Settings, backends: Backends) -> None:
    """Without cues the model's own decision made this a ``get_time("Paris")`` call (docs/tools.md)."""
    samples, rate = speech.piper_samples("What is the capital of France?")
    turn = await voice_turn(settings, backends, samples, rate)
    assert turn.tools == [], turn.tools
    assert "paris" in turn.answer.lower(), turn.answer


async def test_a_note_is_remembered_and_recalled_in_the_same_session(settings: Settings, llm: LLM) -> None:
    events: list[SessionEvent] = []
    session = make_session(settings, Backends(llm=llm), events)
    try:
        for text in ("Please remember that my locker number is 42.", "What is my locker number?"):
            session.add_user_text(text)
            handle = await session.create_reply()
            await asyncio.wait_for(handle.done.wait(), timeout=180)
    finally:
        await session.aclose()
    calls = [(e.call.name, json.loads(e.call.arguments)) for e in events if isinstance(e, ToolCallDone)]
    assert calls[0][0] == "notes" and calls[0][1]["action"] == "remember" and "42" in calls[0][1]["text"], calls
    answers = [e.text for e in events if isinstance(e, ReplyDone)]
    assert "42" in answers[-1], answers


async def test_a_spoken_timer_is_set_and_said_aloud_when_due(settings: Settings, backends: Backends) -> None:
    samples, rate = speech.piper_samples("Set a timer for five seconds.")
    events: list[SessionEvent] = []
    second_reply = asyncio.Event()

    def watch(event: SessionEvent) -> None:
        if sum(isinstance(e, ReplyDone) for e in events) >= 2:
            second_reply.set()

    session = make_session(settings, backends, events)
    session.observers.append(watch)
    try:
        session.push_audio(AudioChunk(speech.concat(0.3, samples, 1.2, sample_rate=rate), rate))
        await asyncio.wait_for(session.idle(), timeout=180)
        calls = [(e.call.name, json.loads(e.call.arguments), e.at) for e in events if isinstance(e, ToolCallDone)]
        assert [name for name, _, _ in calls] == ["timer"], calls
        arguments, set_at = calls[0][1], calls[0][2]
        assert arguments["action"] == "set" and parse_duration(arguments["duration"]) == timedelta(seconds=5)
        await asyncio.wait_for(second_reply.wait(), timeout=60)
    finally:
        await session.aclose()
    said = [e for e in events if isinstance(e, ReplyDone)][-1]
    assert said.text == "Your timer for 5 seconds is done." and said.status == "completed"
    assert said.at - set_at >= 5
    assert sum(e.chunk.duration for e in events if isinstance(e, ReplyAudio) and e.reply_id == said.reply_id) > 1
