"""The scale chart still draws with the matplotlib the tests pin (a small synthetic results document)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from omni.bench import scale_chart


def step(sessions: int, cpu: float, delay: float | None) -> dict[str, Any]:
    spread = None if delay is None else {"p90": delay}
    return {"sessions": sessions, "server_cpu": cpu, "server_rss_mb": 150 + 10 * sessions, "delay": spread,
            "reply_delay": None if delay is None else {"p90": delay * 1.5}}


def test_the_scale_chart_is_a_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="matplotlib is in requirements/test.txt")
    document = {
        "method": {"limits": {"max_delay_ms": 250, "max_reply_delay_ms": 500}},
        "runs": [
            {"stt": "canned", "capacity": 4, "steps": [step(1, 5, 110), step(2, 9, 120), step(4, 18, 140),
                                                       step(8, 40, 900)]},
            {"stt": "real", "capacity": 1, "steps": [step(1, 30, 130), step(2, 70, None)]},
        ],
    }
    path = tmp_path / "scale.png"
    assert scale_chart.draw_or_explain(document, path) == f"wrote {path}"
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
