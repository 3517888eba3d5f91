"""The stage benchmark on scripted backends: every stage is measured, rates are derived, the table shows them."""

from __future__ import annotations

import json
import unicodedata

from omni.bench import stages
from omni.clock import RealClock
from tests.fakes.backends import ScriptedLLM, ScriptedSTT, ScriptedTTS


async def test_every_stage_is_measured_and_reported() -> None:
    clock = RealClock()
    heard = [sentence for sentence in stages.STT_SENTENCES for _ in range(4)]  # warm-up + 1 run, two paths each
    stt = ScriptedSTT(clock, heard, latency=0.01)
    llm = ScriptedLLM(clock, ["Three colours.", "The river runs to the sea past three towns."], first_token=0.02,
                      per_token=0.005)
    tts = ScriptedTTS(clock, latency=0.01, seconds_per_word=0.1)
    lines: list[str] = []
    results = await stages.run(stt, llm, tts, runs=1, progress=lines.append)
    document = json.loads(json.dumps(results.document()))
    assert {run["path"] for run in document["stt"]} == {"fast", "timed"}
    assert all(run["wer"] == 0.0 and 0 < run["real_time_factor"] < 1 for run in document["stt"])
    assert [run["path"] for run in document["llm"]] == ["omni"], "the scripted LLM is not llama.cpp"
    (llm_run,) = document["llm"]
    assert llm_run["generated_tokens"] > 1 and llm_run["generation_tokens_per_second"] > 0
    assert len(document["tts"]) == len(stages.TTS_SENTENCES)
    assert all(run["first_audio_seconds"] >= 0.01 and run["audio_seconds"] > 0 for run in document["tts"])
    table = stages.format_stages(results)
    assert "STT" in table and "LLM" in table and "TTS" in table and "omni" in table
    assert [turn["prefilled"] for turn in document["next_turn"]] == [False, True]
    assert all(turn["first_token_seconds"] >= 0.02 for turn in document["next_turn"])
    assert "not prefilled" in table and "history as heard prefilled" in table
    assert [turn["prefilled"] for turn in document["words_ahead"]] == [False, True]
    assert llm.prefilled_words[-1] == stages.READ_AHEAD[1].rsplit(" ", 1)[0], "all the words but the last"
    assert "all words but the last prefilled" in table
    assert len(lines) == 2 * len(stages.STT_SENTENCES) + 3 + len(stages.TTS_SENTENCES)
    tts_rows = [line for line in table.splitlines() if line.startswith(("  en ", "  ko "))]
    assert len({_display_columns(line.split(" ms")[0]) for line in tts_rows}) == 1, "Korean rows line up"


def _display_columns(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
