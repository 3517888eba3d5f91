"""The latency suite's Realtime client: when the first audible sample plays, how a turn's stages add up, and an
English and a Korean spoken turn against a server on scripted backends (energy VAD, scripted STT, LLM and TTS)."""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np
import pytest

from omni.audio.pcm import float_to_pcm16
from omni.bench import realtime_turn
from omni.bench.realtime_turn import Playback, RealtimeTurns, TurnEvents, finish, voice_stages, wire_clip
from omni.bench.report import RunResult
from omni.bench.scale_client import PIECE_SAMPLES
from omni.config import load_settings
from omni.session.end_of_turn import WAITS
from tests.fakes.backends import silence, speech
from tests.server.serving import fake_state, serving


def pcm(*parts: tuple[int, float]) -> bytes:
    """16-bit PCM of (count, level) runs."""
    return float_to_pcm16(np.concatenate([np.full(n, level, np.float32) for n, level in parts]))


def test_audio_ahead_of_playback_plays_from_the_first_arrival_on() -> None:
    playback = Playback(rate=100)
    playback.add(pcm((50, 0.0)), 10.0)  # 0.5 s of silence, plays 10.0-10.5
    playback.add(pcm((20, 0.005), (30, 0.5)), 10.1)  # arrives early: waits for the silence, sound 0.2 s in
    playback.add(pcm((10, 0.5)), 10.2)
    assert playback.first_arrival == 10.0
    assert playback.first_sound_at == pytest.approx(10.7)
    assert playback.seconds == pytest.approx(1.1)


def test_a_delta_that_comes_after_the_last_one_has_played_starts_on_arrival() -> None:
    playback = Playback(rate=100)
    playback.add(pcm((10, 0.0)), 5.0)  # plays 5.0-5.1, then the player runs dry
    playback.add(pcm((5, 0.0), (5, -0.3)), 5.6)
    assert playback.first_sound_at == pytest.approx(5.65)


def test_quiet_audio_never_counts_as_the_first_sound() -> None:
    playback = Playback(rate=100)
    playback.add(pcm((100, 0.009)), 1.0)
    assert playback.first_arrival == 1.0 and playback.first_sound_at is None
    playback.add(pcm((1, 0.02)), 1.5)
    assert playback.first_sound_at == pytest.approx(2.0)  # after the second of quiet audio has played


def events_of_a_turn(*, status: str = "completed", audio: bytes | None = None) -> TurnEvents:
    """Arrivals of a spoken turn whose speech ended at 100.0 s (24 kHz audio)."""
    events = TurnEvents()
    audio = pcm((2400, 0.0), (2400, 0.2)) if audio is None else audio  # the sound starts 0.1 s in
    arrivals: list[tuple[float, dict[str, Any]]] = [
        (100.2, {"type": "input_audio_buffer.speech_stopped", "audio_end_ms": 2150}),
        (100.3, {"type": "conversation.item.input_audio_transcription.completed", "transcript": " Hi there. "}),
        (100.35, {"type": "response.created", "response": {}}),
        (100.5, {"type": "response.output_audio_transcript.delta", "delta": "Hello"}),
        (100.8, {"type": "response.output_audio.delta", "delta": base64.b64encode(audio).decode()}),
        (100.9, {"type": "response.output_audio_transcript.delta", "delta": " you."}),
        (101.0, {"type": "input_audio_buffer.speech_stopped", "audio_end_ms": 9999}),  # a later turn's
        (102.0, {"type": "response.done", "response": {"status": status}}),
    ]
    for at, event in arrivals:
        events.on_event(event, at)
    return events


def test_a_spoken_turn_is_timed_from_the_true_end_of_speech_and_its_stages_add_up() -> None:
    events = events_of_a_turn()
    stages = voice_stages(100.0, events)
    assert list(stages.values()) == pytest.approx([0.2, 0.15, 0.45, 0.1])
    result = finish(RunResult("server", "voice", "en", "Hi there?", 1, None), events, 100.0, 2.1)
    assert result.error is None and result.latency == pytest.approx(0.9)
    assert result.heard_language == "en"
    assert sum(result.stages.values()) == pytest.approx(result.latency)
    assert (result.transcript, result.reply) == ("Hi there.", "Hello you.")
    assert result.marks["speech_stopped"] == pytest.approx(0.2)
    assert result.marks["first_sound"] == pytest.approx(0.9)
    assert result.marks["vad_end_of_speech"] == pytest.approx(0.05)  # the VAD put the end 50 ms late
    assert result.marks["response_done"] == pytest.approx(2.0)
    assert result.marks["reply_audio_seconds"] == pytest.approx(0.2)


def test_a_korean_turn_records_the_language_its_transcript_is_in() -> None:
    events = events_of_a_turn()
    events.transcript = "1조일은 며칠인가요"  # as whisper heard the Kokoro voice
    result = finish(RunResult("server", "voice", "ko", "일주일은 며칠인가요?", 1, None), events, 100.0, 2.1)
    assert (result.language, result.heard_language, result.transcript) == ("ko", "ko", "1조일은 며칠인가요")
    assert list(result.stages) == [realtime_turn.UNTIL_STOPPED, realtime_turn.STOPPED_TO_CREATED,
                                   realtime_turn.CREATED_TO_AUDIO, realtime_turn.PLAYOUT]
    events.transcript = ""
    assert finish(RunResult("server", "voice", "ko", "q", 1, None), events, 100.0, 2.1).heard_language is None


def test_a_cancelled_silent_or_erroneous_turn_fails() -> None:
    cancelled = finish(RunResult("server", "voice", "en", "q", 1, None), events_of_a_turn(status="cancelled"),
                       100.0, 2.1)
    assert cancelled.latency is None and cancelled.error == "the reply ended cancelled"
    silent = finish(RunResult("server", "voice", "en", "q", 1, None), events_of_a_turn(audio=pcm((4800, 0.0))),
                    100.0, 2.1)
    assert silent.latency is None and silent.error is not None and "audible audio" in silent.error
    events = events_of_a_turn()
    events.on_event({"type": "error", "error": {"message": "boom"}}, 102.5)
    assert finish(RunResult("server", "voice", "en", "q", 1, None), events, 100.0, 2.1).error == "boom"


def test_a_question_cut_at_a_pause_inside_it_fails() -> None:
    events = events_of_a_turn()
    events.on_event({"type": "input_audio_buffer.speech_started", "audio_start_ms": 300}, 98.0)
    assert finish(RunResult("server", "voice", "ko", "q", 1, None), events, 100.0, 2.1).error is None
    events.on_event({"type": "input_audio_buffer.speech_started", "audio_start_ms": 1900}, 100.9)  # the rest of it
    cut = finish(RunResult("server", "voice", "ko", "q", 1, None), events, 100.0, 2.1)
    assert cut.latency is None and cut.error == "the turn ended at a pause inside the question (speech started 2 times)"
    early = finish(RunResult("server", "voice", "ko", "q", 1, None), events_of_a_turn(), 101.5, 2.1)
    assert early.latency is None and early.error is not None
    assert "the reply sounded 0.60 s before the question ended" in early.error


def test_the_clip_goes_out_at_the_wire_rate_in_20_ms_pieces() -> None:
    clip = np.concatenate([silence(0.5).samples, speech(0.31).samples])
    wired = wire_clip("q", clip, 16000, 0.81)
    assert wired.language == "en"
    assert wire_clip("일주일은 며칠인가요?", clip, 16000, 0.81).language == "ko"  # by its script, unless told
    assert wire_clip("q", clip, 16000, 0.81, language="ko").language == "ko"
    assert len(wired.messages) == 41  # 0.81 s at 24 kHz, the last piece padded
    assert all(len(base64.b64decode(m.split('"audio": "')[1][:-2])) == PIECE_SAMPLES * 2 for m in wired.messages)


def test_the_session_takes_the_settings_turn_detection_and_the_server_the_command_line_settings() -> None:
    settings = load_settings({"vad": {"silence_duration_ms": 420, "threshold": 0.6}, "llm": {"model": "/m.gguf"}})
    update = RealtimeTurns("http://127.0.0.1:1", settings).session_update()
    assert "turn_detection" not in update  # the server's own, from the same settings
    env = realtime_turn.server_env(settings)
    assert env["OMNI_VAD__SILENCE_DURATION_MS"] == "420" and env["OMNI_VAD__THRESHOLD"] == "0.6"
    assert env["OMNI_SESSION__TURN_DETECTION"] == "semantic_vad" and env["OMNI_SESSION__EAGERNESS"] == "auto"
    assert env["OMNI_LLM__MODEL"] == "/m.gguf" and env["OMNI_SERVER__HOST"] == "127.0.0.1"
    assert env["OMNI_SESSION__INSTRUCTIONS"] == settings.session.instructions
    assert "OMNI_LLM__BASE_URL" not in env  # unset stays unset
    # the session is not told the language: the server's STT detects it, English or Korean
    assert "audio" not in json.loads(update)["session"]
    assert "OMNI_STT__LANGUAGE" not in env
    pinned = realtime_turn.server_env(load_settings({"stt": {"language": "ko"}}))
    assert pinned["OMNI_STT__LANGUAGE"] == "ko"  # unless the benchmark's own settings pin it (--lang)


async def test_an_english_and_a_korean_spoken_turn_against_a_server() -> None:
    state = fake_state(["what time is it", "지금 몇 시예요"],
                       ["Okay.", "It is noon, more or less.", "Okay.", "정오쯤이에요."])
    clip = np.concatenate([silence(0.3).samples, speech(0.6).samples, silence(0.2).samples])
    async with serving(state) as url:
        turns = RealtimeTurns(url, state.settings)
        english = await turns.voice(wire_clip("What time is it?", clip, 16000, 0.9, language="en"), 1)
        korean = await turns.voice(wire_clip("지금 몇 시예요?", clip, 16000, 0.9, language="ko"), 1)
    for spoken in (english, korean):
        assert spoken.error is None, spoken.error
        assert spoken.input == "voice" and spoken.latency is not None and spoken.latency > 0
        assert sum(spoken.stages.values()) == pytest.approx(spoken.latency)
        # the silence wait is in the first stage: speech_stopped cannot come before the VAD heard the pause and
        # the shortest wait of the server's semantic_vad passed
        assert spoken.stages[realtime_turn.UNTIL_STOPPED] >= WAITS["auto"].complete / 1000 - 0.1
    assert (english.language, english.heard_language) == ("en", "en")
    assert (english.transcript, english.reply) == ("what time is it", "It is noon, more or less.")
    assert (korean.language, korean.heard_language, korean.question) == ("ko", "ko", "지금 몇 시예요?")
    assert (korean.transcript, korean.reply) == ("지금 몇 시예요", "정오쯤이에요.")
    llm = state.backends.llm
    primes = [p for p in llm.prompts if len(p) == 1]  # type: ignore[attr-defined]
    assert len(primes) == 2 and primes[0][0].content == state.settings.session.instructions
