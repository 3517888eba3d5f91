"""One short real run of ``omni bench --suite scale``: a real ``omni serve`` subprocess, real Realtime sessions over
the ``openai`` SDK, the Piper voice speaking the questions. Only the shape and sanity of the results are checked —
never how fast anything was (the machines are shared and noisy)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.omni_cli import run_omni

pytestmark = pytest.mark.models


def test_a_tiny_scale_run_writes_its_results(tmp_path: Path) -> None:
    path = tmp_path / "scale.json"
    result = run_omni("bench", "--suite", "scale", "--max-sessions", "2", "--step-seconds", "6",
                      "--warmup-seconds", "1", "--stt", "canned", "--json", str(path), "--chart",
                      str(tmp_path / "scale.png"), timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "capacity:" in result.stdout and "not a model's" in result.stdout
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["benchmark"] == "scale" and document["machine"]["nproc"] >= 1
    assert "canned LLM and the tone TTS" in document["method"]["note"]
    assert len(document["method"]["questions"]) == 3
    (run,) = document["runs"]
    assert run["stt"] == "canned" and run["steps"]
    assert 0 <= run["capacity"] <= 2
    for step in run["steps"]:
        assert step["sessions"] in (1, 2)
        assert step["server_cpu"] >= 0 and step["client_cpu"] >= 0
        assert step["idle_rss_mb"] > 10 and step["server_rss_mb"] > 10
        assert step["turns"] >= step["complete"] >= 0
        assert isinstance(step["kept_up"], bool) and isinstance(step["verdict"], str)
    first = run["steps"][0]
    assert first["sessions"] == 1 and first["turns"] >= 1, first
    assert first["delay"] is not None and first["delay"]["count"] >= 1
