"""The latency suite's chart: per kind of input (English speech, Korean speech; Korean text in documents of earlier
versions), each pipeline's latencies (box, every run as a dot, the median marked and written) and where its time goes
(the median of each stage, stacked).

Drawn from the results document alone, so a published JSON can be drawn again. matplotlib is optional, as for the
scale chart (:mod:`omni.bench.scale_chart`): without it the chart is skipped with the command that installs it.
"""

from __future__ import annotations

import importlib
import importlib.util
import statistics
from pathlib import Path
from typing import Any

from omni.bench.report import LANGUAGE_NAMES
from omni.bench.scale_chart import INSTALL

INPUTS = {"voice": "speech", "text": "text"}


def draw_or_explain(document: dict[str, Any], path: Path) -> str:
    """Draw the chart into ``path`` and say so, or say why not and how to get it."""
    if importlib.util.find_spec("matplotlib") is None:
        return f"chart skipped: matplotlib is not installed (optional; to draw it: {INSTALL}, then run again)"
    if not any(run["latency"] is not None for run in document["runs"]):
        return "chart skipped: no run succeeded"
    draw(document, path)
    return f"wrote {path}"


def kinds(document: dict[str, Any]) -> list[tuple[str, str]]:
    """(input, language) in the order the runs first used them."""
    found: list[tuple[str, str]] = []
    for run in document["runs"]:
        if (run["input"], run["language"]) not in found:
            found.append((run["input"], run["language"]))
    return found


def pipelines(document: dict[str, Any]) -> list[tuple[str, str]]:
    """(key, display name) in the order they took turns."""
    names: dict[str, str] = dict(document.get("pipelines") or {})
    for run in document["runs"]:
        names.setdefault(run["pipeline"], run["pipeline"])
    return list(names.items())


def row_title(kind: str, language: str) -> str:
    """What a row of the chart shows: which input, timed from when."""
    start = "the true end of speech" if kind == "voice" else "sending the text"
    what = f"{LANGUAGE_NAMES.get(language, language)} {INPUTS.get(kind, kind)} in"
    return f"{what} → first audible reply sample\nfrom {start} (label: median)"


def misheard(runs: list[dict[str, Any]]) -> int:
    """Successful spoken runs heard in another language than asked (documents before the field have none)."""
    return sum(r["input"] == "voice" and r["latency"] is not None and r.get("heard_language") is not None
               and r["heard_language"] != r["language"] for r in runs)


def stage_medians(runs: list[dict[str, Any]]) -> list[tuple[str, float]]:
    """Median seconds of each stage over the successful runs, in the order stages happen."""
    done = [r for r in runs if r["latency"] is not None]
    order: list[str] = []
    for run in done:
        order.extend(name for name in run["stages"] if name not in order)
    return [(name, statistics.median(r["stages"][name] for r in done if name in r["stages"])) for name in order]


def draw(document: dict[str, Any], path: Path) -> None:
    # Imported by name: an optional dependency that mypy may or may not find installed.
    matplotlib: Any = importlib.import_module("matplotlib")
    matplotlib.use("Agg")
    plt: Any = importlib.import_module("matplotlib.pyplot")

    rows, names = kinds(document), pipelines(document)
    height = 1.6 + 0.5 * len(names)
    figure, axes = plt.subplots(len(rows), 2, figsize=(13, height * len(rows)), dpi=90, squeeze=False,
                                gridspec_kw={"width_ratios": [1, 1.25]})
    colors: dict[str, Any] = {}
    palette = plt.get_cmap("tab20").colors
    for (kind, language), (spread, stacked) in zip(rows, axes, strict=True):
        labelled: set[str] = set()  # each row's legend names the stages drawn in it
        slowest = 0.0
        positions = list(range(len(names), 0, -1))  # the first pipeline on top
        for (key, _), y in zip(names, positions, strict=True):
            runs = [r for r in document["runs"]
                    if (r["pipeline"], r["input"], r["language"]) == (key, kind, language)]
            latencies = [r["latency"] * 1000 for r in runs if r["latency"] is not None]
            failed, wrong = len(runs) - len(latencies), misheard(runs)
            notes = ([f"{failed} failed"] if failed else []) + ([f"{wrong} misheard"] if wrong else [])
            note = f" ({', '.join(notes)})" if notes else ""
            if latencies:
                spread.boxplot([latencies], positions=[y], orientation="horizontal", widths=0.5, showfliers=False,
                               medianprops={"color": "black", "linewidth": 2})
                jitter = [y + 0.12 * ((i % 5) - 2) / 2 for i in range(len(latencies))]
                spread.scatter(latencies, jitter, s=12, color="C0", alpha=0.6, zorder=3)
                median = statistics.median(latencies)
                slowest = max(slowest, *latencies)
                spread.annotate(f"{median:.0f} ms{note}", (median, y + 0.3), ha="center", fontsize=7,
                                color="red" if notes else "black")
            elif runs:  # x in axes fractions: there is no latency to place it by
                spread.annotate(f"all {failed} failed", (0.01, y), xycoords=spread.get_yaxis_transform(),
                                va="center", fontsize=7, color="red")
            left = 0.0
            for stage, seconds in stage_medians(runs):
                label = stage if stage not in labelled else None
                labelled.add(stage)
                colors.setdefault(stage, palette[len(colors) % len(palette)])
                stacked.barh(y, seconds * 1000, left=left, height=0.55, color=colors[stage], label=label,
                             edgecolor="white", linewidth=0.5)
                left += seconds * 1000
        spread.set_xlim(0, slowest * 1.08 or 1)
        for axis in (spread, stacked):
            axis.set_yticks(positions, [name for _, name in names], fontsize=8)
            axis.set_ylim(0.4, len(names) + 0.6)
            axis.set_xlim(left=0)
            axis.grid(axis="x", alpha=0.3)
            axis.tick_params(axis="x", labelsize=8)
            axis.set_xlabel("ms", fontsize=8)
        spread.set_title(row_title(kind, language), fontsize=9)
        stacked.set_title("where the time goes: median of each stage, stacked", fontsize=9)
        stacked.tick_params(axis="y", labelleft=False)
        handles, labels = stacked.get_legend_handles_labels()
        if handles:
            stacked.legend(handles, labels, fontsize=6.5, loc="center left", bbox_to_anchor=(1.01, 0.5),
                           frameon=False)
    machine = document.get("machine") or {}
    figure.suptitle(f"omni bench --suite latency · {machine.get('cpu_model') or 'this machine'} "
                    f"({machine.get('nproc', '?')} cores) · {document.get('date', '')}", fontsize=9)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, bbox_inches="tight")
    plt.close(figure)
