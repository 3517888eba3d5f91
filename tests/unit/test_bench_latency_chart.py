"""The latency chart, drawn from a small synthetic results document (matplotlib is a test dependency)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from omni.bench import latency_chart
from omni.bench.report import RunResult, pipeline_name

VARIANT = "engine [session.speculate_after_ms=50]"
ORDER = ["server", "engine", VARIANT, "cascade"]
STAGES = {
    "server": {"until speech_stopped arrives": 0.55, "speech_stopped → response.created": 0.3,
               "response.created → first audio delta": 0.6, "lead-in silence / playout": 0.05},
    "engine": {"end-of-speech wait": 0.5, "stt": 0.25, "llm first token": 0.4, "tts first audio": 0.2},
    VARIANT: {"end-of-speech wait": 0.5, "stt": 0.2, "llm first token": 0.4, "tts first audio": 0.2},
    "cascade": {"end-of-speech wait (silence_duration_ms)": 0.5, "stt, whole clip in a 30 s window": 1.2,
                "llm, whole reply": 1.5, "tts, whole reply": 0.4},
}


def document(*, korean_text: bool = False) -> dict[str, Any]:
    """English and Korean speech; with ``korean_text``, Korean from text as documents of earlier versions have it."""
    runs = []
    for number in range(1, 4):
        for pipeline in ORDER:
            stages = {name: seconds * (1 + 0.1 * number) for name, seconds in STAGES[pipeline].items()}
            runs.append(RunResult(pipeline, "voice", "en", "What is the capital of France?", number,
                                  sum(stages.values()), stages, heard_language="en"))
            if korean_text:
                text = {k: v for k, v in stages.items() if "stt" not in k and "speech" not in k}
                runs.append(RunResult(pipeline, "text", "ko", "일주일은 며칠인가요?", number, sum(text.values()), text))
            else:
                korean = {name: seconds * 1.2 for name, seconds in stages.items()}
                runs.append(RunResult(pipeline, "voice", "ko", "일주일은 며칠인가요?", number, sum(korean.values()),
                                      korean, heard_language="ja" if number == 3 else "ko"))
    runs.append(RunResult("server", "voice", "en", "q", 3, None, error="no reply finished within 90 s"))
    return {"date": "2026-01-01T00:00:00+00:00", "machine": {"cpu_model": "Test CPU", "nproc": 2},
            "pipelines": {key: pipeline_name(key) for key in ORDER}, "runs": [asdict(r) for r in runs]}


@pytest.mark.parametrize("korean_text", [False, True])
def test_the_chart_is_a_png_of_both_kinds_of_input(tmp_path: Path, korean_text: bool) -> None:
    pytest.importorskip("matplotlib", reason="matplotlib is in requirements/test.txt")
    path = tmp_path / "charts" / "latency.png"
    assert latency_chart.draw_or_explain(document(korean_text=korean_text), path) == f"wrote {path}"
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 20_000  # two rows of two panels, not an empty canvas
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width > 900 and height > 500


def test_stage_medians_and_the_order_of_pipelines_and_inputs() -> None:
    doc = document()
    assert latency_chart.kinds(doc) == [("voice", "en"), ("voice", "ko")]
    assert latency_chart.kinds(document(korean_text=True)) == [("voice", "en"), ("text", "ko")]
    assert latency_chart.row_title("voice", "ko").startswith("Korean speech in → first audible reply sample\n"
                                                              "from the true end of speech")
    assert latency_chart.row_title("text", "ko").startswith("Korean text in → first audible reply sample\n"
                                                             "from sending the text")
    korean = [r for r in doc["runs"] if r["language"] == "ko" and r["pipeline"] == "engine"]
    assert latency_chart.misheard(korean) == 1  # run 3 was heard as Japanese
    assert latency_chart.misheard([{k: v for k, v in r.items() if k != "heard_language"} for r in korean]) == 0
    assert [key for key, _ in latency_chart.pipelines(doc)] == ORDER
    server_runs = [r for r in doc["runs"] if (r["pipeline"], r["input"], r["language"]) == ("server", "voice", "en")]
    medians = latency_chart.stage_medians(server_runs)
    assert [name for name, _ in medians] == list(STAGES["server"])
    assert medians[0][1] == pytest.approx(0.55 * 1.2)  # runs 1-3 scale by 1.1, 1.2, 1.3; the failed run is out


def test_nothing_to_draw_is_said_not_drawn(tmp_path: Path) -> None:
    doc = document()
    doc["runs"] = [r for r in doc["runs"] if r["latency"] is None]
    path = tmp_path / "latency.png"
    assert latency_chart.draw_or_explain(doc, path) == "chart skipped: no run succeeded"
    assert not path.exists()
