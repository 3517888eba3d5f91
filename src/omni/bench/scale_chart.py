"""The scale benchmark's chart: server CPU and memory, and the end-of-speech delay, against the number of sessions.

matplotlib is not one of Omni's runtime dependencies: a voice assistant should not install a plotting library (and
its half-dozen dependencies) for one chart in a benchmark. When it is missing the chart is skipped with the command
that installs it; the table and the JSON do not need it.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from typing import Any

INSTALL = ".venv/bin/pip install matplotlib==3.11.2"
"""The version the published chart was drawn with."""
STT_LABELS = {"canned": "protocol + VAD + endpointing (canned STT)", "real": "with real STT"}


def draw_or_explain(document: dict[str, Any], path: Path) -> str:
    """Draw the chart into ``path`` and say so, or say why not and how to get it."""
    if importlib.util.find_spec("matplotlib") is None:
        return f"chart skipped: matplotlib is not installed (optional; to draw it: {INSTALL}, then run again)"
    draw(document, path)
    return f"wrote {path}"


def draw(document: dict[str, Any], path: Path) -> None:
    # Imported by name: an optional dependency that mypy may or may not find installed.
    matplotlib: Any = importlib.import_module("matplotlib")
    matplotlib.use("Agg")
    plt: Any = importlib.import_module("matplotlib.pyplot")

    limits = document["method"]["limits"]
    figure, (cost, memory, delay) = plt.subplots(1, 3, figsize=(11, 3.4), dpi=90)
    for number, run in enumerate(document["runs"]):
        steps = sorted(run["steps"], key=lambda s: s["sessions"])
        label = STT_LABELS.get(run["stt"], run["stt"])
        sessions = [s["sessions"] for s in steps]
        color = f"C{number}"
        cost.plot(sessions, [s["server_cpu"] for s in steps], "o-", color=color, label=label)
        memory.plot(sessions, [s["server_rss_mb"] for s in steps], "o-", color=color)
        for key, style in (("delay", "o-"), ("reply_delay", "^:")):
            points = [(s["sessions"], max(1.0, s[key]["p90"])) for s in steps if s[key]]
            delay.plot([p[0] for p in points], [p[1] for p in points], style, color=color)
        if run["capacity"]:
            for axis in (cost, memory, delay):
                axis.axvline(run["capacity"], color=color, linestyle="--", alpha=0.6, linewidth=1)
    delay.axhline(limits["max_delay_ms"], color="red", linewidth=0.8)
    delay.axhline(limits["max_reply_delay_ms"], color="red", linewidth=0.8, linestyle=":")
    for axis in (cost, memory, delay):
        axis.set_xlabel("concurrent sessions (dashed: capacity)", fontsize=8)
        axis.set_xlim(left=0)
        axis.grid(alpha=0.3)
        axis.tick_params(labelsize=8)
    cost.set_ylim(bottom=0)
    memory.set_ylim(bottom=0)
    cost.set_title("server CPU, % of one core", fontsize=9)
    cost.legend(fontsize=7, loc="lower right")
    memory.set_title("server memory (RSS), MB", fontsize=9)
    delay.set_yscale("log")
    delay.set_title("p90 delay beyond the silence wait, ms\n"
                    "speech_stopped (solid), reply audio (dotted); red: limits", fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
