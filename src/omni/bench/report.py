"""Benchmark runs as plain data, and the pure arithmetic over them: median, p90, stage shares, the printed table,
and where sound begins and ends in a clip (the points latency is measured between).

Runs are grouped by their input and language: English speech, Korean speech (and, in results documents of earlier
versions, Korean text). A spoken run also records the language the STT heard it in, so a question heard in another
language (a broken transcription, not a slow one) shows in the table.

A run belongs to a pipeline, named by a short key: ``server`` (``omni serve`` over the Realtime WebSocket),
``engine`` (the streaming session in-process), ``engine [KEY=VALUE,…]`` (the same engine with other settings, for a
before/after in one run) and ``cascade`` (the naive baseline every streaming pipeline is compared with).
"""

from __future__ import annotations

import math
import os
import platform
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from omni import __version__
from omni.text.language import detect_language

Pipeline = str
"""A pipeline's key: one of :data:`PIPELINE_NAMES`, or a variant's ``engine [KEY=VALUE,…]``."""
InputKind = Literal["voice", "text"]
"""``voice``: a spoken question, timed from the true end of speech. ``text``: a typed one, timed from sending it
(earlier versions measured Korean so; today every question is spoken)."""
LANGUAGE_NAMES = {"en": "English", "ko": "Korean"}

BASELINE = "cascade"
PIPELINE_NAMES: dict[str, str] = {
    "server": "omni serve over Realtime WebSocket",
    "engine": "omni streaming engine",
    "cascade": "naive cascade",
}
ENGINE_VARIANT_PREFIX = "engine ["


def pipeline_name(pipeline: Pipeline) -> str:
    """What the table calls a pipeline: a variant is the engine's name with its settings."""
    if pipeline.startswith(ENGINE_VARIANT_PREFIX):
        return PIPELINE_NAMES["engine"] + pipeline[len("engine"):]
    return PIPELINE_NAMES.get(pipeline, pipeline)


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
    heard_language: str | None = None
    """The language of ``transcript`` by its script (Hangul is Korean; :func:`heard_language`); None when nothing
    was transcribed."""
    reply: str = ""
    load_average: float | None = None
    """The 1-minute load average when the turn started: other work on the machine skews the numbers."""
    error: str | None = None
    marks: dict[str, float] = field(default_factory=dict)
    """More about the turn, in seconds (the server pipeline: each event's arrival after the end of the input, and
    the length of the reply's audio)."""


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
class PipelineResult:
    """One pipeline on one kind of input: its latency over the runs that succeeded, and where the time went."""

    pipeline: Pipeline
    summary: Summary | None
    stages: tuple[StageShare, ...]
    failed: int = 0
    misheard: int = 0
    """Runs that succeeded with the question heard in another language than it was asked in."""


@dataclass(frozen=True)
class Comparison:
    """Every pipeline on one kind of input (English speech, Korean speech), in the order they ran."""

    input: InputKind
    language: str
    pipelines: tuple[PipelineResult, ...]

    def get(self, pipeline: Pipeline) -> PipelineResult | None:
        return next((p for p in self.pipelines if p.pipeline == pipeline), None)

    def ratio(self, pipeline: Pipeline) -> float | None:
        """How many times longer the cascade takes than ``pipeline`` (median over median)."""
        mine, baseline = self.get(pipeline), self.get(BASELINE)
        if mine is None or baseline is None or mine.summary is None or baseline.summary is None:
            return None
        if mine.summary.median <= 0:
            return None
        return baseline.summary.median / mine.summary.median

    @property
    def ratios(self) -> dict[Pipeline, float | None]:
        """The cascade's median over each streaming pipeline's."""
        return {p.pipeline: self.ratio(p.pipeline) for p in self.pipelines if p.pipeline != BASELINE}


def heard_language(transcript: str) -> str | None:
    """The language a transcript is written in, by its script; None for an empty one."""
    return detect_language(transcript) if transcript.strip() else None


def misheard(run: RunResult) -> bool:
    """A spoken run whose transcript is in another language than the question."""
    return run.input == "voice" and run.heard_language is not None and run.heard_language != run.language


def cut_question(speech_starts: int, latency: float | None) -> str | None:
    """Why a spoken turn did not measure the whole question, or None: the VAD heard its speech start again after
    the turn had ended (the endpointer took a pause inside the question for its end), or the reply sounded before
    the question was over. Such a turn is a failure, not a fast turn."""
    early = latency is not None and latency < 0
    if speech_starts <= 1 and not early:
        return None
    how = [f"speech started {speech_starts} times"] if speech_starts > 1 else []
    how += [f"the reply sounded {-latency:.2f} s before the question ended"] if early and latency is not None else []
    return f"the turn ended at a pause inside the question ({', '.join(how)})"


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


def compare(runs: Sequence[RunResult], pipelines: Sequence[Pipeline] = ()) -> list[Comparison]:
    """One comparison per kind of input, in the order the runs first used it; failed runs do not count.

    Pipelines come in the order given, then any others in the order they first ran; each kind lists every one
    of them (a pipeline without a run of that kind shows as having none)."""
    kinds: list[tuple[InputKind, str]] = []
    order = list(pipelines)
    for run in runs:
        if (run.input, run.language) not in kinds:
            kinds.append((run.input, run.language))
        if run.pipeline not in order:
            order.append(run.pipeline)
    comparisons = []
    for kind, language in kinds:
        results = []
        for pipeline in order:
            mine = [r for r in runs if (r.input, r.language, r.pipeline) == (kind, language, pipeline)]
            results.append(PipelineResult(
                pipeline=pipeline,
                summary=summarize([r.latency for r in mine if r.latency is not None]),
                stages=stage_shares(mine),
                failed=sum(r.latency is None for r in mine),
                misheard=sum(r.latency is not None and misheard(r) for r in mine),
            ))
        comparisons.append(Comparison(kind, language, tuple(results)))
    return comparisons


def title(comparison: Comparison) -> str:
    language = LANGUAGE_NAMES.get(comparison.language, comparison.language)
    if comparison.input == "voice":
        return f"{language} speech in → first audible reply (voice-to-voice, from the true end of speech)"
    return f"{language} text in → first audible reply (text-in latency, no speech recognition involved)"


def format_table(runs: Sequence[RunResult], pipelines: Sequence[Pipeline] = ()) -> str:
    """The human-readable report: latency per pipeline, the cascade's ratio to each streaming pipeline, and where
    each pipeline's time goes."""
    lines: list[str] = []
    failed = [r for r in runs if r.latency is None]
    comparisons = compare(runs, pipelines)
    width = max([24, *(len(pipeline_name(p.pipeline)) + 2 for c in comparisons for p in c.pipelines)])
    for comparison in comparisons:
        lines += [title(comparison), f"  {'':<{width}}{'runs':>6}{'median':>10}{'p90':>10}{'min':>10}{'max':>10}"]
        for result in comparison.pipelines:
            name, summary = pipeline_name(result.pipeline), result.summary
            notes = [f"{result.failed} failed"] if result.failed else []
            notes += [f"{result.misheard} heard in another language"] if result.misheard else []
            note = f"  ({', '.join(notes)})" if notes else ""
            if summary is None:
                lines.append(f"  {name:<{width}}{0:>6}{'-':>10}{'-':>10}{'-':>10}{'-':>10}{note}")
            else:
                lines.append(
                    f"  {name:<{width}}{summary.count:>6}{_ms(summary.median):>10}{_ms(summary.p90):>10}"
                    f"{_ms(summary.minimum):>10}{_ms(summary.maximum):>10}{note}"
                )
        for pipeline, ratio in comparison.ratios.items():
            shown = "-" if ratio is None else f"{ratio:.2f}x"
            lines.append(f"  cascade / {pipeline} (median): {shown}")
        for result in comparison.pipelines:
            if result.stages:
                lines.append(f"  {pipeline_name(result.pipeline)} stages (median ms, median share of the run):")
                lines += [f"    {s.stage:<42}{_ms(s.median):>10}{s.share:>7.0%}" for s in result.stages]
        lines.append("")
    if failed:
        lines.append(f"{len(failed)} run(s) failed and are left out:")
        lines += [f"  {r.pipeline} {r.language} {r.question!r} run {r.run}: {r.error}" for r in failed]
    wrong = [r for r in runs if r.latency is not None and misheard(r)]
    if wrong:
        lines.append(f"{len(wrong)} run(s) were heard in another language than asked (counted, but the reply answers "
                     "a broken transcription):")
        lines += [f"  {r.pipeline} {r.language} {r.question!r} run {r.run}: heard as {r.heard_language} "
                  f"{r.transcript!r}" for r in wrong]
    return "\n".join(lines).rstrip() + "\n"


def machine() -> dict[str, Any]:
    """The machine a benchmark ran on: cores, CPU model, platform, Python and Omni versions."""
    try:
        cpu = cpu_model(Path("/proc/cpuinfo").read_text(encoding="utf-8"))
    except OSError:
        cpu = None
    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu or platform.processor() or None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "omni": __version__,
    }


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
