"""The latency suite's server pipeline against a real ``omni serve`` subprocess: a Piper-spoken question streamed at
real-time pace over the Realtime WebSocket, the server on the scale benchmark's fast backends (canned STT and LLM,
tone TTS) so the test is quick. Only the shape and sanity of the result are checked, never how fast it was. (Korean
questions through a server with the real STT: ``test_latency_korean.py``.)"""

from __future__ import annotations

import pytest

from omni.bench import realtime_turn, scale
from omni.bench.realtime_turn import RealtimeTurns
from omni.bench.server_process import omni_serve
from omni.bench.voice_latency import INPUT_RATE, build_clip, wire_question
from omni.config import load_settings
from tests import speech
from tests.conftest import ENGLISH_SENTENCE

pytestmark = pytest.mark.models


async def test_a_spoken_question_through_omni_serve_is_timed_to_its_first_audible_sample(
    english_speech_16k: speech.Samples,
) -> None:
    question = build_clip(ENGLISH_SENTENCE, english_speech_16k, INPUT_RATE)
    settings = load_settings()
    async with omni_serve(env=scale.server_env(settings, "canned", 2)) as server:
        turns = RealtimeTurns(server.url, settings)
        result = await turns.voice(wire_question(question), 1)
    assert result.error is None, result.error
    assert (result.input, result.language, result.question) == ("voice", "en", ENGLISH_SENTENCE)
    assert result.latency is not None and result.latency > 0
    assert list(result.stages) == [realtime_turn.UNTIL_STOPPED, realtime_turn.STOPPED_TO_CREATED,
                                   realtime_turn.CREATED_TO_AUDIO, realtime_turn.PLAYOUT]
    assert sum(result.stages.values()) == pytest.approx(result.latency)
    assert result.transcript == settings.stt.canned_transcript
    assert result.reply == settings.llm.canned_reply
    # the VAD heard the speech end near its true end, and the reply came after that
    assert abs(result.marks["vad_end_of_speech"]) < 0.5
    assert 0 < result.marks["speech_stopped"] < result.marks["first_sound"] == pytest.approx(result.latency)
