"""Benchmark runs as plain data, and the pure arithmetic over them: median, p90, stage shares, the printed table,
and where sound begins and ends in a clip (the points latency is measured between)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from omni.types import Samples

Pipeline = Literal["engine", "cascade"]
InputKind = Literal["voice", "text"]

SOUND_THRESHOLD = 0.01
"""A sample louder than this (-40 dBFS) is sound; Piper's and espeak-ng's silences stay far below it."""

PIPELINE_NAMES: dict[str, str] = {"engine": "omni streaming engine", "cascade": "naive cascade"}


@dataclass
class RunResult:
    """One measured turn. ``latency`` runs from the end of the user's input to the first audible reply sample."""

    pipeline: Pipeline
    input: InputKind
    language: str
    question: str
    run: int
    latency: float | None
    """Seconds; None when the turn failed."""
    stages: dict[str, float] = field(default_factory=dict)
    """Where the latency went, in seconds, in pipeline order; the values add up to ``latency``."""
    transcript: str = ""
    reply: str = ""
    load_average: float | None = None
    """The 1-minute load average when the turn started: other work on the machine skews the numbers."""
    error: str | None = None


@dataclass(frozen=True)
class Summary:
    count: int
    median: float
    p90: float
    minimum: float
    maximum: float


@dataclass(frozen=True)
class StageShare:
    stage: str
    median: float
    """Median seconds of this stage over the runs."""
    share: float
    """Median over the runs of this stage's fraction of the run's latency."""


@dataclass(frozen=True)
class Comparison:
    """Both pipelines on one kind of input (English speech, Korean text)."""

    input: InputKind
    language: str
    engine: Summary | None
    cascade: Summary | None
    engine_stages: tuple[StageShare, ...]
    cascade_stages: tuple[StageShare, ...]

    @property
    def ratio(self) -> float | None:
        """How many times longer the cascade takes than the engine (median over median)."""
        if self.engine is None or self.cascade is None or self.engine.median <= 0:
            return None
        return self.cascade.median / self.engine.median


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation between the closest ranks (numpy's default)."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0-100, got {q}")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summarize(values: Sequence[float]) -> Summary | None:
    if not values:
        return None
    return Summary(len(values), statistics.median(values), percentile(values, 90), min(values), max(values))


def stage_shares(runs: Sequence[RunResult]) -> tuple[StageShare, ...]:
    """Median seconds and median share of each stage, over the runs that succeeded, in the order stages happen."""
    done = [r for r in runs if r.latency is not None and r.latency > 0]
    names: list[str] = []
    for run in done:
        names.extend(name for name in run.stages if name not in names)
    shares = []
    for name in names:
        seconds = [r.stages[name] for r in done if name in r.stages]
        fractions = [r.stages[name] / r.latency for r in done if name in r.stages and r.latency]
        shares.append(StageShare(name, statistics.median(seconds), statistics.median(fractions)))
    return tuple(shares)


def compare(runs: Sequence[RunResult]) -> list[Comparison]:
    """One comparison per kind of input, in the order the runs first used it; failed runs do not count."""
    kinds: list[tuple[InputKind, str]] = []
    for run in runs:
        if (run.input, run.language) not in kinds:
            kinds.append((run.input, run.language))
    comparisons = []
    for kind, language in kinds:
        engine = [r for r in runs if (r.input, r.language, r.pipeline) == (kind, language, "engine")]
        cascade = [r for r in runs if (r.input, r.language, r.pipeline) == (kind, language, "cascade")]
        comparisons.append(Comparison(
            input=kind,
            language=language,
            engine=summarize([r.latency for r in engine if r.latency is not None]),
            cascade=summarize([r.latency for r in cascade if r.latency is not None]),
            engine_stages=stage_shares(engine),
            cascade_stages=stage_shares(cascade),
        ))
    return comparisons


def title(comparison: Comparison) -> str:
    language = {"en": "English", "ko": "Korean"}.get(comparison.language, comparison.language)
    if comparison.input == "voice":
        return f"{language} speech in → first audible reply (voice-to-voice, from the true end of speech)"
    return f"{language} text in → first audible reply (text-in latency, no speech recognition involved)"


def format_table(runs: Sequence[RunResult]) -> str:
    """The human-readable report: latency per pipeline, the ratio, and where each pipeline's time goes."""
    lines: list[str] = []
    failed = [r for r in runs if r.latency is None]
    for comparison in compare(runs):
        lines += [title(comparison), f"  {'':<24}{'runs':>6}{'median':>10}{'p90':>10}{'min':>10}{'max':>10}"]
        for pipeline, summary in (("engine", comparison.engine), ("cascade", comparison.cascade)):
            name = PIPELINE_NAMES[pipeline]
            if summary is None:
                lines.append(f"  {name:<24}{0:>6}{'-':>10}{'-':>10}{'-':>10}{'-':>10}")
            else:
                lines.append(
                    f"  {name:<24}{summary.count:>6}{_ms(summary.median):>10}{_ms(summary.p90):>10}"
                    f"{_ms(summary.minimum):>10}{_ms(summary.maximum):>10}"
                )
        ratio = comparison.ratio
        lines.append(f"  cascade / engine (median): {'-' if ratio is None else f'{ratio:.2f}x'}")
        for pipeline, shares in (("engine", comparison.engine_stages), ("cascade", comparison.cascade_stages)):
            if shares:
                lines.append(f"  {PIPELINE_NAMES[pipeline]} stages (median ms, median share of the run):")
                lines += [f"    {s.stage:<42}{_ms(s.median):>10}{s.share:>7.0%}" for s in shares]
        lines.append("")
    if failed:
        lines.append(f"{len(failed)} run(s) failed and are left out:")
        lines += [f"  {r.pipeline} {r.language} {r.question!r} run {r.run}: {r.error}" for r in failed]
    return "\n".join(lines).rstrip() + "\n"


def first_sound(samples: Samples, threshold: float = SOUND_THRESHOLD) -> int | None:
    """Index of the first sample louder than ``threshold``, or None when there is none."""
    loud = np.flatnonzero(np.abs(samples) > threshold)
    return int(loud[0]) if loud.size else None


def last_sound(samples: Samples, threshold: float = SOUND_THRESHOLD) -> int | None:
    """Index of the last sample louder than ``threshold``, or None when there is none."""
    loud = np.flatnonzero(np.abs(samples) > threshold)
    return int(loud[-1]) if loud.size else None


def cpu_model(cpuinfo: str) -> str | None:
    """The processor's name from the text of ``/proc/cpuinfo`` (x86 ``model name``, or ARM ``Hardware``/``Model``)."""
    for key in ("model name", "Hardware", "Model", "cpu model"):
        for line in cpuinfo.splitlines():
            name, _, value = line.partition(":")
            if name.strip() == key and value.strip():
                return value.strip()
    return None


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"
