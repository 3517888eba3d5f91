"""TimingObserver: per-turn stage timings computed from a scripted sequence of session events."""

from __future__ import annotations

from dataclasses import astuple

import numpy as np
import pytest

from omni.events import (
    LLMFirstToken,
    ReplyAudio,
    ReplyStarted,
    SessionEvent,
    SpeakableChunk,
    SpeechStarted,
    SpeechStopped,
    TranscriptionDone,
)
from omni.session.timing import TimingObserver
from omni.types import AudioChunk, Transcript

AUDIO = AudioChunk(np.zeros(240, dtype=np.float32), 24000)


def spoken_turn(reply: str = "r1", *, stopped: float = 3.0, audio_end_ms: int = 2500) -> list[SessionEvent]:
    return [
        SpeechStarted(at=1.0, audio_start_ms=700, item_id="item"),
        SpeechStopped(at=stopped, audio_end_ms=audio_end_ms),
        TranscriptionDone(at=stopped + 0.4, item_id="u1", transcript=Transcript("hi"), seconds=0.4),
        ReplyStarted(at=stopped + 0.5, reply_id=reply, item_id="a1"),
        LLMFirstToken(at=stopped + 0.8, reply_id=reply),
        SpeakableChunk(at=stopped + 1.0, reply_id=reply, text="Hello there."),
        ReplyAudio(at=stopped + 1.25, reply_id=reply, item_id="item", chunk=AUDIO, first=True),
        SpeakableChunk(at=stopped + 1.5, reply_id=reply, text="How are you?"),
        ReplyAudio(at=stopped + 1.6, reply_id=reply, item_id="item", chunk=AUDIO, first=False),
        # a later segment's first audio
        ReplyAudio(at=stopped + 1.9, reply_id=reply, item_id="item", chunk=AUDIO, first=True),
    ]


def observe(events: list[SessionEvent], stream_start: float | None = None) -> TimingObserver:
    observer = TimingObserver(stream_start=stream_start)
    for event in events:
        observer(event)
    return observer


def test_real_time_input_measures_the_endpointing_wait_from_the_true_end_of_speech() -> None:
    observer = observe(spoken_turn(), stream_start=0.2)
    assert len(observer.turns) == 1
    timing = observer.turns[0]
    # speech truly ended at 0.2 + 2.5 = 2.7 s; it was detected at 3.0 s; first audio at 4.25 s
    assert timing.endpoint == pytest.approx(0.3)
    assert timing.stt == pytest.approx(0.4)
    assert timing.llm_first_token == pytest.approx(0.3)
    assert timing.tts_first_audio == pytest.approx(0.25)
    assert timing.total == pytest.approx(1.55)
    assert timing.line() == (
        "timing: end-of-speech wait 300 ms | stt 400 ms | llm first token 300 ms | tts first audio 250 ms"
        " | total to first audio 1550 ms"
    )


def test_without_a_stream_start_the_total_runs_from_the_detection() -> None:
    timing = observe(spoken_turn()).turns[0]
    assert timing.endpoint is None
    assert timing.stt == pytest.approx(0.4)
    assert timing.llm_first_token == pytest.approx(0.3)
    assert timing.tts_first_audio == pytest.approx(0.25)
    assert timing.total == pytest.approx(1.25)
    assert timing.line().startswith("timing: end-of-speech wait - | stt 400 ms |")


def test_typed_turn_counts_from_the_reply_start_and_shows_unknown_stages_as_dashes() -> None:
    events: list[SessionEvent] = [
        ReplyStarted(at=10.0, reply_id="r", item_id="a"),
        SpeakableChunk(at=10.5, reply_id="r", text="Hi."),
        ReplyAudio(at=10.7, reply_id="r", item_id="item", chunk=AUDIO, first=True),
    ]
    timing = observe(events, stream_start=0.0).turns[0]
    assert astuple(timing) == (None, None, None, pytest.approx(0.2), pytest.approx(0.7))
    assert timing.line() == (
        "timing: end-of-speech wait - | stt - | llm first token - | tts first audio 200 ms"
        " | total to first audio 700 ms"
    )


def test_a_reply_without_audio_records_no_turn() -> None:
    events = spoken_turn()[:6]
    assert observe(events).turns == []


def test_each_turn_is_measured_on_its_own() -> None:
    second = spoken_turn("r2", stopped=20.0, audio_end_ms=19000)
    observer = observe([*spoken_turn(), *second], stream_start=0.5)
    assert len(observer.turns) == 2
    later = observer.turns[1]
    assert later.endpoint == pytest.approx(0.5)  # 20.0 - (0.5 + 19.0)
    assert later.total == pytest.approx(1.75)


def test_a_reply_after_a_spoken_turn_does_not_repeat_that_turns_stages() -> None:
    follow_up: list[SessionEvent] = [
        ReplyStarted(at=30.0, reply_id="r2", item_id="a2"),
        LLMFirstToken(at=30.1, reply_id="r2"),
        SpeakableChunk(at=30.3, reply_id="r2", text="Done."),
        ReplyAudio(at=30.4, reply_id="r2", item_id="item", chunk=AUDIO, first=True),
    ]
    observer = observe([*spoken_turn(), *follow_up], stream_start=0.2)
    # endpoint, stt, llm first token, tts first audio, total
    assert astuple(observer.turns[1]) == (None, None, pytest.approx(0.1), pytest.approx(0.1), pytest.approx(0.4))


def test_an_interrupted_turn_without_audio_is_replaced_by_the_next_one() -> None:
    first = spoken_turn()[:5]  # speech, transcript, reply start, first token; no audio: barge-in
    observer = observe([*first, *spoken_turn("r2", stopped=8.0, audio_end_ms=7600)], stream_start=0.0)
    assert len(observer.turns) == 1
    timing = observer.turns[0]
    assert timing.endpoint == pytest.approx(0.4)
    assert timing.total == pytest.approx(1.65)
