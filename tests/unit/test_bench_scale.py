"""The scale benchmark's logic without a server: /proc parsing, the stop rule, the step ladder, the client's
session state machine, the results document and the CLI's suite flags. No timing is asserted."""

from __future__ import annotations

import asyncio
import base64
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from omni.bench import procfs, scale
from omni.bench.scale_client import PIECE_SAMPLES, SILENCE, ClientSession, audio_seconds, encode_clip, pace
from omni.bench.scale_report import (
    Limits,
    Spread,
    Step,
    Turn,
    capacity,
    format_table,
    judge,
    next_sessions,
    per_session,
    spread,
    summarize_step,
)
from omni.bench.server_process import find_url, serve_command
from omni.cli.main import build_parser, main
from omni.config import Settings

# ---- /proc ---------------------------------------------------------------------------------------------------

STAT = ("4242 (omni (serve) x) S 1 4242 4242 0 -1 4194560 9000 0 12 0 1500 250 0 0 20 0 9 0 777 "
        "1000000 30000 18446744073709551615 1 1 0 0 0 0 0 16781312 16386 0 0 0 17 1 0 0 0 0 0")


def test_cpu_seconds_counts_fields_after_the_command_name() -> None:
    assert procfs.cpu_seconds(STAT, ticks=100) == pytest.approx(17.5)
    with pytest.raises(ValueError, match="stat"):
        procfs.cpu_seconds("garbage", ticks=100)


def test_rss_and_machine_times() -> None:
    status = "Name:\tomni\nVmPeak:\t  9999 kB\nVmRSS:\t  123456 kB\nThreads:\t9\n"
    assert procfs.rss_bytes(status) == 123456 * 1024
    with pytest.raises(ValueError, match="VmRSS"):
        procfs.rss_bytes("Name:\tkthreadd\n")
    stat = "cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 50 0 25 400 25 0 0 0 0 0\n"
    assert procfs.machine_times(stat) == (150.0, 1000.0)
    assert procfs.busy_percent((150.0, 1000.0), (250.0, 1200.0)) == pytest.approx(50.0)
    assert procfs.busy_percent((1.0, 1.0), (1.0, 1.0)) is None


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="Linux /proc")
def test_probe_reads_a_live_process() -> None:
    probe = procfs.ProcessProbe(os.getpid())
    sample = probe.sample()
    assert sample.cpu_seconds >= 0 and sample.rss_bytes > 1 << 20
    busy, total = probe.machine()
    assert 0 <= busy <= total


# ---- the stop rule and the ladder ----------------------------------------------------------------------------

def _step(sessions: int, *, delay: float = 100, reply: float = 120, turns: int = 10, complete: int | None = None,
          late: float = 2, client_cpu: float = 5, cpu: float | None = None, rss: float | None = None) -> Step:
    step = Step(sessions, 20.0, turns, turns if complete is None else complete, Spread(turns, delay, delay, delay),
                Spread(turns, 50, 50, 50), Spread(turns, reply, reply, reply))
    step.client_late_p99_ms, step.client_cpu = late, client_cpu
    step.server_cpu = 2.0 * sessions if cpu is None else cpu
    step.idle_rss_mb = 100.0
    step.server_rss_mb = 100.0 + 10 * sessions if rss is None else rss
    step.verdict, step.client_bound = judge(step, Limits())
    return step


def test_judge_names_why_a_step_fell_behind() -> None:
    assert judge(_step(4), Limits()) == ("", False)
    assert "end-of-speech delay p90 300 ms > 250 ms" in judge(_step(4, delay=300), Limits())[0]
    assert "reply delay p90 900 ms > 500 ms" in judge(_step(4, reply=900), Limits())[0]
    assert "2 of 10 turns failed" in judge(_step(4, complete=8), Limits())[0]
    assert "no turn ended" in judge(_step(4, turns=0), Limits())[0]
    verdict, bound = judge(_step(4, late=90, client_cpu=95), Limits())
    assert bound and verdict.startswith("client-bound")
    verdict, bound = judge(_step(4, late=90, client_cpu=20), Limits())
    assert not bound and "held it up" in verdict
    assert judge(_step(4, delay=300), Limits(max_delay_ms=400)) == ("", False)


def test_ladder_doubles_to_the_cap_then_stops() -> None:
    steps: list[Step] = []
    counts = []
    while (count := next_sessions(steps, 6)) is not None:
        counts.append(count)
        steps.append(_step(count))
    assert counts == [1, 2, 4, 6]
    assert capacity(steps) == 6


def test_ladder_bisects_after_the_first_failure() -> None:
    limit = 40
    steps: list[Step] = []
    while (count := next_sessions(steps, 128)) is not None:
        steps.append(_step(count, delay=100 if count <= limit else 400))
    assert [s.sessions for s in steps] == [1, 2, 4, 8, 16, 32, 64, 48, 40]
    assert capacity(steps) == 40


def test_ladder_stops_at_a_client_bound_step_or_a_first_failure() -> None:
    assert next_sessions([_step(1), _step(2, late=99, client_cpu=99)], 64) is None
    assert next_sessions([_step(1, delay=999)], 64) is None
    assert next_sessions([_step(1), _step(2, delay=999)], 64) is None
    assert capacity([_step(1, delay=999)]) == 0


def test_capacity_ignores_a_good_step_above_a_bad_one() -> None:
    assert capacity([_step(8), _step(16, delay=999), _step(24)]) == 8


def test_per_session_cost_is_the_slope() -> None:
    steps = [_step(n, cpu=5 + 1.5 * n, rss=100 + 10 * n) for n in (1, 2, 4, 8)]
    cost = per_session([*steps, _step(16, delay=999, cpu=500)])
    assert cost["cpu_percent"] == pytest.approx(1.5)
    assert cost["rss_mb"] == pytest.approx(10.0)
    assert per_session([_step(4, cpu=8)])["cpu_percent"] == pytest.approx(2.0)
    assert per_session([_step(4, delay=999)]) == {"cpu_percent": None, "rss_mb": None}


def test_spread_and_turn_delays() -> None:
    assert spread([]) is None
    measured = spread([0.1, 0.2, 0.3])
    assert measured is not None and measured.median == pytest.approx(200) and measured.maximum == pytest.approx(300)
    turn = Turn(0, 0, 500, 2000, speech_end_at=10.0, stopped_at=10.62, reply_audio_at=10.7, done_at=10.8,
                status="completed")
    assert turn.delay(0.5) == pytest.approx(0.12)
    assert turn.reply_delay(0.5) == pytest.approx(0.2)
    assert turn.complete
    lost = Turn(0, 1, 5000, 7000, speech_end_at=20.0, error="no reply within 15 s")
    step = summarize_step([turn, lost], 1, 20.0, 0.5)
    assert (step.turns, step.complete) == (2, 1)
    assert step.errors == ["session 0 turn 1: no reply within 15 s"]
    assert step.delay is not None and step.delay.count == 1


def test_table_has_a_row_per_step_and_the_capacity() -> None:
    text = format_table("title", [_step(1), _step(2), _step(4, delay=400)], Limits())
    assert "title" in text and "capacity: 2 sessions" in text and "per session:" in text
    assert text.count("kept up") >= 3 and "end-of-speech delay p90 400 ms" in text


# ---- the client ----------------------------------------------------------------------------------------------

def test_clips_are_encoded_in_20_ms_appends() -> None:
    samples = np.full(PIECE_SAMPLES * 2 + 10, 0.5, dtype=np.float32)
    clip = encode_clip("q", samples, 0.5, 1.0)
    assert len(clip.messages) == 3 and (clip.speech_start_ms, clip.speech_end_ms) == (500, 1000)
    event = json.loads(clip.messages[2])
    assert event["type"] == "input_audio_buffer.append"
    assert len(base64.b64decode(event["audio"])) == PIECE_SAMPLES * 2
    assert audio_seconds(event["audio"]) == pytest.approx(0.02)
    assert audio_seconds(base64.b64encode(bytes(4801)).decode()) == pytest.approx(4801 / 2 / 24000)


class FakeConnection:
    async def send_raw(self, data: bytes | str) -> None: ...

    async def recv_bytes(self) -> bytes:
        return b"{}"


def _clip() -> Any:
    # 0.1 s of lead silence, speech to 0.25 s: pieces 0-12, the last audible sample in piece 12 (ends at 260 ms)
    return encode_clip("q", np.zeros(round(0.26 * 24000), dtype=np.float32), 0.1, 0.25)


def _state(session: ClientSession) -> str:
    return session.state  # as a plain str: the state changes behind mypy's narrowing


def test_a_session_speaks_waits_for_the_reply_plays_it_and_asks_again() -> None:
    session = ClientSession(0, FakeConnection(), [_clip()], offset_pieces=2, reply_timeout=5)
    now = 100.0
    sent: list[str] = []

    def tick(count: int = 1) -> None:
        nonlocal now
        for _ in range(count):
            sent.append(session.next_message(now))
            session.sent(now)
            now += 0.02

    tick(2)
    assert sent == [SILENCE, SILENCE] and _state(session) == "lead" and not session.turns
    tick(13)
    turn = session.turns[0]
    assert (turn.speech_start_ms, turn.speech_end_ms) == (140, 290)
    assert _state(session) == "waiting" and turn.speech_end_at is not None
    assert turn.speech_end_at == pytest.approx(100.0 + 14 * 0.02 - 0.01)  # piece 14 ends 10 ms after the speech
    assert session.sent_time(290) == pytest.approx(turn.speech_end_at)
    tick(30)
    heard = session.sent_time(280 + 500)  # the audio that completed the server's silence wait
    assert heard is not None
    session.on_event({"type": "input_audio_buffer.speech_stopped", "audio_end_ms": 280}, heard + 0.05)
    assert turn.stopped_at == heard + 0.05 and turn.lag == pytest.approx(0.05)
    session.on_event({"type": "response.output_audio.delta", "delta": base64.b64encode(bytes(4800)).decode()}, now)
    session.on_event({"type": "response.done", "response": {"status": "completed"}}, now)
    assert turn.complete and turn.reply_seconds == pytest.approx(0.1)
    tick()
    assert _state(session) == "playing"
    tick(6)
    assert _state(session) == "speaking" and len(session.turns) == 2
    session.asking = False
    for _ in range(400):
        tick()
    assert session.turns[1].error == "no reply within 5 s" and _state(session) == "idle"


def test_speech_stopped_that_matches_no_question_is_counted_apart() -> None:
    session = ClientSession(0, FakeConnection(), [_clip()])
    session.on_event({"type": "session.created", "session": {"audio": {"input": {"turn_detection": {
        "type": "server_vad", "silence_duration_ms": 700}}}}}, 1.0)
    assert session.created.is_set() and session.silence_ms == 700
    session.on_event({"type": "input_audio_buffer.speech_stopped", "audio_end_ms": 99999}, 2.0)
    session.on_event({"type": "error", "error": {"message": "boom"}}, 3.0)
    assert session.extra == [2.0] and session.errors == [(3.0, "boom")]


class ClosedConnection(FakeConnection):
    async def send_raw(self, data: bytes | str) -> None:
        raise ConnectionError("closed by the server")


class CountingConnection(FakeConnection):
    def __init__(self, enough: int) -> None:
        self.count, self.enough, self.done = 0, enough, asyncio.Event()

    async def send_raw(self, data: bytes | str) -> None:
        self.count += 1
        if self.count >= self.enough:
            self.done.set()


async def test_pacing_skips_a_session_whose_connection_closed() -> None:
    counting = CountingConnection(3)
    sessions = [ClientSession(0, ClosedConnection(), [_clip()]), ClientSession(1, counting, [_clip()])]
    lateness: list[float] = []
    task = asyncio.create_task(pace(sessions, lateness))
    await asyncio.wait_for(counting.done.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sessions[0].closed and "closed by the server" in sessions[0].errors[0][1]
    assert not sessions[0].sent_at and len(lateness) >= 3 and len(sessions[1].sent_at) >= 2


# ---- the server process, the document, the CLI ---------------------------------------------------------------

def test_the_server_url_is_read_from_what_it_prints() -> None:
    line = "Omni is listening on http://127.0.0.1:40123 — Realtime: ws://127.0.0.1:40123/v1/realtime, REST: ..."
    assert find_url(line) == "http://127.0.0.1:40123"
    assert find_url("loading models…") is None
    command = serve_command("--verbose")
    assert command[1:] == ["-m", "omni.cli.main", "serve", "--port", "0", "--verbose"]


def test_results_document_has_the_figures_and_the_method() -> None:
    ladder = scale.Ladder("canned", "canned", [_step(1), _step(2), _step(4, delay=999)])
    document = scale.results_document([ladder], Settings.model_construct(), scale.ScaleOptions(), None,
                                      load=(0.5, 0.4, 0.3))
    json.dumps(document)
    assert document["benchmark"] == "scale" and document["machine"]["nproc"] == os.cpu_count()
    assert "not a model's" in document["method"]["note"]
    run = document["runs"][0]
    assert run["capacity"] == 2 and run["per_session"]["cpu_percent"] == pytest.approx(2.0)
    assert [s["kept_up"] for s in run["steps"]] == [True, True, False]
    assert scale.check_stt("both") == ("canned", "real")


def test_server_environment_picks_the_benchmark_backends() -> None:
    env = scale.server_env(Settings.model_construct(), "canned", 16)
    assert env["OMNI_LLM__BACKEND"] == "canned" and env["OMNI_TTS__BACKEND"] == "tone"
    assert env["OMNI_STT__BACKEND"] == "canned" and env["OMNI_SERVER__MAX_SESSIONS"] == "16"
    assert scale.server_env(Settings.model_construct(), "real", 1)["OMNI_STT__BACKEND"] == "whisper"


def test_bench_suites_take_only_their_own_flags(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    args = build_parser().parse_args(["bench", "--suite", "scale", "--max-sessions", "4", "--step-seconds", "5",
                                      "--stt", "canned"])
    assert (args.suite, args.max_sessions, args.step_seconds, args.stt) == ("scale", 4, 5.0, "canned")
    assert build_parser().parse_args(["bench"]).suite == "latency"
    assert main(["bench", "--suite", "scale", "--runs", "3", "--json", str(tmp_path / "x.json")]) == 2
    refused = "--runs belongs to --suite latency, barge-in, turns, stages, vision, not --suite scale"
    assert refused in capsys.readouterr().err
    assert main(["bench", "--max-sessions", "3", "--json", str(tmp_path / "x.json")]) == 2
    assert "--max-sessions belongs to --suite scale" in capsys.readouterr().err
    assert main(["bench", "--suite", "stages", "--questions", "en", "--json", str(tmp_path / "x.json")]) == 2
    assert "--questions belongs to --suite latency, not --suite stages" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        build_parser().parse_args(["bench", "--suite", "scale", "--step-seconds", "0"])
