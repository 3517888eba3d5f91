"""The barge-in benchmark's client and summary, against a server on scripted backends (energy VAD, a slow scripted
LLM so the reply is still under way when the sound comes)."""

from __future__ import annotations

import numpy as np

from omni.bench import barge_in
from omni.bench.scale_client import WIRE_RATE, append_events
from omni.clock import RealClock
from omni.server.state import ServerState
from omni.session.session import Backends
from tests.fakes.backends import EnergyVAD, ScriptedLLM, ScriptedSTT, ScriptedTTS, speech
from tests.server.serving import fake_state, serving

STORY = " ".join(["Once upon a time there was a dog."] * 6)


def slow_story_state() -> ServerState:
    clock = RealClock()
    state = fake_state()
    backends = Backends(llm=ScriptedLLM(clock, [STORY, "Okay."], first_token=0.05, per_token=0.12),
                        vad=EnergyVAD(), stt=ScriptedSTT(clock, ["tell me a story", "stop"], latency=0.05),
                        tts=ScriptedTTS(clock, latency=0.02))
    return ServerState(state.settings, backends)


def at_wire_rate(seconds: float) -> np.ndarray:
    return speech(seconds, WIRE_RATE).samples


async def test_speaking_over_the_reply_stops_it_and_is_timed() -> None:
    request = append_events(np.concatenate([np.zeros(WIRE_RATE // 4, np.float32), at_wire_rate(0.6)]))
    async with serving(slow_story_state()) as url:
        trial = await barge_in.run_trial(url, request, barge_in.Sound(barge_in.BARGE_IN, at_wire_rate(0.5)))
    assert trial.error is None and trial.interrupted
    assert trial.speech_started is not None and 0 < trial.speech_started < 1.0
    assert trial.done is not None and trial.done >= trial.speech_started


async def test_a_sound_below_the_vad_leaves_the_reply_alone() -> None:
    request = append_events(np.concatenate([np.zeros(WIRE_RATE // 4, np.float32), at_wire_rate(0.6)]))
    quiet = barge_in.noise_burst(0.5, -60)
    async with serving(slow_story_state()) as url:
        trial = await barge_in.run_trial(url, request, barge_in.Sound("noise", quiet))
    assert trial.error is None and trial.status == "completed"
    assert trial.speech_started is None and trial.audio_after > 0


def test_the_summary_counts_stops_and_false_interruptions() -> None:
    trials = [
        barge_in.Trial("barge-in", "cancelled", 0.2, None, 0.0, 0.35),
        barge_in.Trial("barge-in", "cancelled", 0.3, 0.25, 0.4, 0.5),
        barge_in.Trial("barge-in", "cancelled", 0.4, None, 0.0, 0.6),
        barge_in.Trial("barge-in", "completed", None, 2.0, 3.0, 2.0),
        barge_in.Trial("mm-hm", "cancelled", 0.2, None, 0.0, 0.4),
        barge_in.Trial("mm-hm", "completed", None, 1.0, 2.0, 1.0),
        barge_in.Trial("noise", "completed", None, 1.0, 2.0, 1.0),
        barge_in.Trial("noise", None, None, None, 0.0, None, error="no reply finished within 90 s"),
    ]
    summary = barge_in.summarize(trials)
    assert (summary.barge_ins, summary.stopped) == (4, 3)
    started = summary.speech_started_ms
    assert started is not None and [round(v) for v in started] == [300, 380], "median and p90"
    last = summary.last_audio_ms
    assert last is not None and [round(v) for v in last] == [250, 250], "only the trial where audio still came"
    assert summary.false_interruptions["mm-hm"] == (1, 2)
    assert summary.false_interruptions["noise"] == (0, 1), "a failed trial is not counted"
    table = barge_in.format_summary(summary)
    assert "3 of 4 replies stopped" in table and "mm-hm    1 of 2 (50%)" in table
