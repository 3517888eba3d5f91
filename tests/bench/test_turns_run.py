"""One short real run of ``omni bench --suite turns``: a real ``omni serve`` subprocess on the real VAD, STT and
voices (the LLM canned, so replies come at once), real Realtime sessions over the ``openai`` SDK, two scenarios in
one mode. Only the shape of the results and that a verdict can go either way are checked — never how fast anything
was (the machines are shared and noisy)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.omni_cli import run_omni

pytestmark = pytest.mark.models

STORY = " ".join(["Once upon a time a little fox lived at the edge of a quiet forest by the river."] * 4)


def test_a_short_turns_run_writes_every_trial_and_what_it_means(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMNI_LLM__BACKEND", "canned")  # the server inherits it
    path = tmp_path / "turns.json"
    result = run_omni("bench", "--suite", "turns", "--runs", "1", "--modes", "server_vad",
                      "--kinds", "pause-en-table,backchannel-en-mmhm", "--json", str(path), timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "false cut-offs (pause, list, number)" in result.stdout and "< 5 %" in result.stdout
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["benchmark"] == "turns" and document["machine"]["nproc"] >= 1
    assert document["method"]["modes"] == {"server_vad": {"type": "server_vad"}}
    assert document["method"]["turn_detection_shown"]["server_vad"]["silence_duration_ms"] > 0
    paused, backchannel = document["scenarios"]
    assert paused["id"] == "pause-en-table" and paused["pauses"] == [1.0]
    assert paused["cuts"][0]["after"] == "at" and 0 < paused["parts"][0] < paused["seconds"]
    assert backchannel["kind"] == "backchannel" and backchannel["expect"] == "no interruption"
    pause, mmhm = document["trials"]
    assert pause["error"] is None and mmhm["error"] is None, (pause, mmhm)
    # a one-second pause is twice server_vad's fixed silence wait: the sentence is heard as two turns
    assert pause["false_cutoff"] is True and pause["turns"] == 2, pause["events"]
    assert pause["transcripts"][0] and "table" in pause["transcripts"][0].lower()
    assert 0 < pause["cut_at"] < paused["parts"][0]
    assert pause["marks"]["speech_end"] > pause["marks"]["last_part"] > pause["marks"]["speech_start"] > 0
    assert isinstance(mmhm["took_floor"], bool) and mmhm["marks"]["sound_start"] > mmhm["marks"]["reply_audio_start"]
    assert {e["type"] for e in mmhm["events"]} >= {"input_audio_buffer.committed", "response.created"}
    summary = document["summary"]["server_vad"]
    assert summary["false_cutoffs"] == [1, 1] and summary["targets_met"]["false_cutoffs"] is False
    assert summary["backchannel"][1] == 1 and summary["failed"] == 0
    assert "server_vad   pause-en-table" in result.stdout, "the two turns' transcripts are printed"


def test_under_semantic_vad_a_quieter_voice_lets_the_reply_go_on_and_an_interruption_stops_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real VAD and whisper on a real server: another voice 18 dB under the user's request is held and set apart
    (``speech_held`` answered by ``speech_ignored``; the trial asks for Omni's turn events as the page does), while
    "No, I meant the other one." at the user's level is a turn."""
    monkeypatch.setenv("OMNI_LLM__BACKEND", "canned")
    monkeypatch.setenv("OMNI_LLM__CANNED_REPLY", STORY)  # long enough to speak over
    path = tmp_path / "turns.json"
    result = run_omni("bench", "--suite", "turns", "--runs", "1", "--modes", "semantic_vad",
                      "--kinds", "background-voice-en,interruption-en-other", "--json", str(path), timeout=300)
    assert result.returncode == 0, result.stderr
    trials = {t["kind"]: t for t in json.loads(path.read_text(encoding="utf-8"))["trials"]}
    background, interruption = trials["background"], trials["interruption"]
    assert background["error"] is None and interruption["error"] is None, (background, interruption)
    kinds = [e["type"] for e in background["events"] if e["at"] >= background["marks"]["sound_start"]]
    assert background["took_floor"] is False, background["events"]
    assert "omni.input_audio_buffer.speech_held" in kinds and "omni.input_audio_buffer.speech_ignored" in kinds
    assert "input_audio_buffer.speech_started" not in kinds
    assert interruption["took_floor"] is True, interruption["events"]
    assert interruption["paused"] is not None and interruption["speech_started"] >= interruption["paused"]
