"""The benchmark's pure parts: statistics, stage shares, the table, clip building, the first-sound probe."""

from __future__ import annotations

import numpy as np
import pytest

from omni.audio.silence import first_sound, last_sound
from omni.bench.report import (
    InputKind,
    Pipeline,
    RunResult,
    compare,
    cpu_model,
    format_table,
    heard_language,
    misheard,
    percentile,
    pipeline_name,
    stage_shares,
    summarize,
    title,
)
from omni.bench.voice_latency import (
    OTHER,
    TurnProbe,
    build_clip,
    check_languages,
    engine_stages,
)
from omni.cli.main import build_parser
from omni.errors import ConfigError
from omni.events import ReplyAudio, ReplyDone, StageError, TranscriptionDone
from omni.session.timing import TurnTiming
from omni.types import AudioChunk, Transcript


def _run(
    pipeline: Pipeline,
    latency: float | None,
    stages: dict[str, float] | None = None,
    *,
    input: InputKind = "voice",
    language: str = "en",
    question: str = "q",
    error: str | None = None,
    heard: str | None = None,
) -> RunResult:
    return RunResult(pipeline, input, language, question, 1, latency, stages or {}, heard_language=heard, error=error)


def test_percentile_interpolates_like_numpy() -> None:
    values = [5.0, 1.0, 4.0, 2.0, 3.0]
    for q in (0, 10, 50, 90, 100):
        assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))
    assert percentile([7.0], 90) == 7.0


def test_percentile_rejects_nothing_and_out_of_range() -> None:
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)
    with pytest.raises(ValueError, match="0-100"):
        percentile([1.0], 101)


def test_summarize_median_p90_and_extremes() -> None:
    summary = summarize([1.0, 2.0, 3.0, 4.0, 10.0])
    assert summary is not None
    assert (summary.count, summary.median, summary.minimum, summary.maximum) == (5, 3.0, 1.0, 10.0)
    assert summary.p90 == pytest.approx(7.6)  # between 4 and 10, 60% of the way
    assert summarize([]) is None


def test_stage_shares_are_medians_in_pipeline_order_and_skip_failed_runs() -> None:
    runs = [
        _run("engine", 1.0, {"stt": 0.2, "llm": 0.8}),
        _run("engine", 2.0, {"stt": 1.0, "llm": 1.0}),
        _run("engine", 4.0, {"stt": 0.4, "llm": 3.6}),
        _run("engine", None, {"stt": 99.0}, error="broke"),
    ]
    shares = stage_shares(runs)
    assert [s.stage for s in shares] == ["stt", "llm"]
    assert shares[0].median == pytest.approx(0.4)
    assert shares[0].share == pytest.approx(0.2)  # fractions 0.2, 0.5, 0.1 → median 0.2
    assert shares[1].median == pytest.approx(1.0)
    assert shares[1].share == pytest.approx(0.8)


def test_compare_groups_by_input_and_gives_the_ratio_of_medians() -> None:
    runs = [
        _run("engine", 1.0), _run("cascade", 3.0), _run("engine", 2.0), _run("cascade", 5.0),
        _run("engine", 0.5, input="text", language="ko"), _run("cascade", 0.5, input="text", language="ko"),
    ]
    voice, text = compare(runs)
    assert (voice.input, voice.language, text.input, text.language) == ("voice", "en", "text", "ko")
    engine = voice.get("engine")
    assert engine is not None and engine.summary is not None and engine.summary.median == pytest.approx(1.5)
    assert voice.ratio("engine") == pytest.approx(4.0 / 1.5)
    assert text.ratio("engine") == pytest.approx(1.0)


def test_english_and_korean_speech_are_compared_apart_and_titled_as_speech() -> None:
    runs = [
        _run("engine", 1.0, heard="en"), _run("engine", 1.4, language="ko", heard="ko"),
        _run("cascade", 3.0, heard="en"), _run("cascade", 4.2, language="ko", heard="ko"),
    ]
    english, korean = compare(runs)
    assert (english.input, english.language, korean.input, korean.language) == ("voice", "en", "voice", "ko")
    assert korean.ratio("engine") == pytest.approx(3.0)
    assert title(korean) == "Korean speech in → first audible reply (voice-to-voice, from the true end of speech)"
    table = format_table(runs)
    assert "English speech in" in table and "Korean speech in" in table and "text in" not in table
    # documents of earlier versions measured Korean from text: still read and titled as what they were
    (old,) = compare([_run("engine", 0.7, input="text", language="ko")])
    assert title(old).startswith("Korean text in → first audible reply (text-in latency")


def test_a_question_heard_in_another_language_is_flagged_not_hidden() -> None:
    assert heard_language("프랑스위, 소돈은 어디인가요?") == "ko"
    assert heard_language("What is the capital?") == "en" and heard_language("  ") is None
    wrong = _run("engine", 1.1, language="ko", question="일주일은 며칠인가요?", heard="ja")
    wrong.transcript = "一週間は何日ですか"
    runs = [_run("engine", 1.0, language="ko", heard="ko"), wrong, _run("cascade", 2.0, language="ko", heard=None)]
    assert [misheard(r) for r in runs] == [False, True, False]
    assert not misheard(_run("engine", 1.0, input="text", language="ko", heard="en"))
    (korean,) = compare(runs)
    engine = korean.get("engine")
    assert engine is not None and engine.misheard == 1
    table = format_table(runs)
    engine_line = next(line for line in table.splitlines() if line.startswith("  omni streaming engine  "))
    assert "(1 heard in another language)" in engine_line
    assert "1 run(s) were heard in another language than asked" in table
    assert "heard as ja '一週間は何日ですか'" in table


def test_ratio_is_missing_when_one_pipeline_has_no_successful_run() -> None:
    (only,) = compare([_run("engine", 1.0), _run("cascade", None, error="stt: empty")])
    cascade = only.get("cascade")
    assert cascade is not None and cascade.summary is None and cascade.failed == 1
    assert only.ratio("engine") is None
    assert only.ratios == {"engine": None}


def test_three_pipelines_keep_their_order_and_each_gets_the_cascades_ratio() -> None:
    runs = [
        _run("server", 1.5, {"until speech_stopped": 0.6, "rest": 0.9}), _run("engine", 1.0), _run("cascade", 4.0),
        _run("server", 2.5, {"until speech_stopped": 0.6, "rest": 1.9}), _run("engine", 2.0), _run("cascade", 6.0),
        _run("server", None, error="no reply finished within 90 s"),
    ]
    (voice,) = compare(runs)
    assert [p.pipeline for p in voice.pipelines] == ["server", "engine", "cascade"]
    server = voice.get("server")
    assert server is not None and server.summary is not None
    assert (server.summary.count, server.summary.median, server.failed) == (2, 2.0, 1)
    assert [s.stage for s in server.stages] == ["until speech_stopped", "rest"]
    assert voice.ratios == {"server": pytest.approx(2.5), "engine": pytest.approx(5.0 / 1.5)}
    assert voice.get("nothing") is None and voice.ratio("nothing") is None


def test_the_order_given_comes_first_and_a_pipeline_without_runs_of_a_kind_shows_none() -> None:
    variant = "engine [session.speculate=false]"
    runs = [
        _run("cascade", 3.0), _run(variant, 2.0), _run("engine", 1.0),
        _run("engine", 0.5, input="text", language="ko"),
    ]
    voice, text = compare(runs, ["server", "engine", variant, "cascade"])
    assert [p.pipeline for p in voice.pipelines] == ["server", "engine", variant, "cascade"]
    assert voice.ratios == {"server": None, "engine": pytest.approx(3.0), variant: pytest.approx(1.5)}
    text_cascade = text.get("cascade")
    assert text_cascade is not None and text_cascade.summary is None and text_cascade.failed == 0
    assert [p.pipeline for p in compare(runs)[0].pipelines] == ["cascade", variant, "engine"]


def test_table_shows_both_pipelines_ratio_stages_and_failures() -> None:
    runs = [
        _run("engine", 1.2, {"stt": 0.3, "llm first token": 0.9}),
        _run("cascade", 3.6, {"stt, whole clip": 1.6, "llm, whole reply": 2.0}),
        _run("cascade", None, question="How many days?", error="tts: no audio"),
    ]
    table = format_table(runs)
    assert "English speech in" in table
    engine_line = next(line for line in table.splitlines() if "omni streaming engine  " in line)
    assert "1200 ms" in engine_line
    assert "cascade / engine (median): 3.00x" in table
    assert "llm, whole reply" in table and "2000 ms" in table
    assert "1 run(s) failed" in table and "tts: no audio" in table
    cascade_line = next(line for line in table.splitlines() if line.startswith("  naive cascade  "))
    assert "(1 failed)" in cascade_line and "3600 ms" in cascade_line


def test_table_names_the_server_and_variants_and_gives_a_ratio_for_each() -> None:
    variant = "engine [vad.silence_duration_ms=400]"
    runs = [
        _run("server", 1.6, {"until speech_stopped arrives": 0.7, "lead-in silence / playout": 0.9}),
        _run("engine", 1.2), _run(variant, 0.8), _run("cascade", 4.8),
    ]
    table = format_table(runs, ["server", "engine", variant, "cascade"])
    lines = table.splitlines()
    rows = [line.split("  ")[1].strip() for line in lines[2:6]]
    assert rows == [pipeline_name(p) for p in ("server", "engine", variant, "cascade")]
    assert rows[0] == "omni serve over Realtime WebSocket"
    assert rows[2] == "omni streaming engine [vad.silence_duration_ms=400]"
    assert "cascade / server (median): 3.00x" in table
    assert "cascade / engine (median): 4.00x" in table
    assert f"cascade / {variant} (median): 6.00x" in table
    assert "cascade / cascade" not in table
    assert "omni serve over Realtime WebSocket stages" in table and "until speech_stopped arrives" in table
    # the columns line up however long the longest name is
    assert len({line.index(" ms") for line in lines[2:6]}) == 1


def test_cpu_model_from_proc_cpuinfo_text() -> None:
    x86 = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\nflags\t\t: fpu\n"
    assert cpu_model(x86) == "AMD EPYC 7B13"
    assert cpu_model("processor\t: 0\nHardware\t: BCM2835\n") == "BCM2835"
    assert cpu_model("processor\t: 0\n") is None


def test_first_and_last_sound_ignore_quiet_samples() -> None:
    samples = np.array([0.0, 0.005, -0.2, 0.0, 0.3, 0.004, 0.0], dtype=np.float32)
    assert first_sound(samples) == 2
    assert last_sound(samples) == 4
    assert first_sound(np.full(10, 0.001, dtype=np.float32)) is None


def test_build_clip_puts_the_known_end_of_speech_after_trimmed_speech() -> None:
    rate = 1000
    speech = np.concatenate([np.zeros(30), np.full(200, 0.5), np.zeros(70)]).astype(np.float32)
    question = build_clip("hi", speech, rate, lead=0.5, tail=1.5)
    assert question.speech_end == pytest.approx(0.7)  # 0.5 s lead-in + 0.2 s of sound; Piper's own silence dropped
    assert question.text == "hi" and question.clip.size == 500 + 200 + 1500 and question.language == "en"
    assert last_sound(question.clip) == 699
    with pytest.raises(ValueError, match="no audible"):
        build_clip("hi", np.zeros(100, dtype=np.float32), rate)


def test_probe_times_the_first_audible_sample_on_a_paced_player() -> None:
    probe = TurnProbe()
    rate = 100
    silent = AudioChunk(np.zeros(50, dtype=np.float32), rate)  # 0.5 s of silence
    voiced = AudioChunk(np.concatenate([np.zeros(20), np.full(30, 0.5)]).astype(np.float32), rate)
    probe(TranscriptionDone(at=9.0, item_id="i", transcript=Transcript(" hi "), seconds=0.1))
    probe(ReplyAudio(at=10.0, reply_id="r", item_id="item", chunk=silent, first=True))
    # Written at 10.1 while the silent chunk still plays until 10.5: it starts at 10.5, its sound 0.2 s later.
    probe(ReplyAudio(at=10.1, reply_id="r", item_id="item", chunk=voiced, first=False))
    probe(ReplyAudio(at=20.0, reply_id="r", item_id="item", chunk=voiced, first=False))
    probe(ReplyDone(at=21.0, reply_id="r", item_id="a", status="completed", text=" Hello. ", heard_text="Hello."))
    assert probe.first_sound_at == pytest.approx(10.7)
    assert (probe.transcript, probe.reply, probe.errors) == ("hi", "Hello.", [])
    probe(StageError(at=22.0, stage="tts", message="boom"))
    assert probe.errors == ["tts: boom"]


def test_engine_stages_add_up_to_the_latency() -> None:
    timing = TurnTiming(endpoint=0.52, stt=0.22, llm_first_token=0.65, tts_first_audio=0.12, total=1.80)
    stages = engine_stages(timing, 1.90)
    assert sum(stages.values()) == pytest.approx(1.90)
    assert stages["llm, first token to speakable chunk"] == pytest.approx(0.29)
    assert stages[OTHER] == pytest.approx(0.10)
    with pytest.raises(ValueError, match="endpoint or stt"):
        engine_stages(TurnTiming(None, None, 0.7, 0.01, 1.2), 1.25)
    with pytest.raises(ValueError, match="incomplete"):
        engine_stages(TurnTiming(0.5, 0.2, None, 0.01, 1.2), 1.25)


def test_question_sets_and_run_count_are_checked() -> None:
    assert check_languages("all") == ("en", "ko")
    assert check_languages("ko") == ("ko",)
    with pytest.raises(ConfigError, match="fr"):
        check_languages("fr")
    parser = build_parser()
    assert parser.parse_args(["bench", "--runs", "3", "--questions", "en"]).runs == 3
    with pytest.raises(SystemExit):
        parser.parse_args(["bench", "--runs", "0"])
