"""``omni bench``: measured performance on this machine, one suite at a time.

``--suite latency`` (the default): voice-to-voice latency of ``omni serve`` over the Realtime WebSocket and of the
streaming engine in-process, against a naive cascade, on English and Korean spoken questions (Omni's own voices speak
them); ``--variant`` adds the engine on other settings, in the same run.
``--suite scale``: how many concurrent Realtime sessions one ``omni serve`` holds before it falls behind real time,
and the server's CPU and memory per session.
``--suite barge-in``: how fast a reply stops when the user speaks over it, and which sounds stop it by mistake.
``--suite turns``: turn-taking, ``server_vad`` against ``semantic_vad`` on the same scenarios: sentences with a
thinking pause cut off too early, end-of-turn and voice-to-voice latency, and which sounds during a reply
(backchannels, its own echo, background voices and noise) stop it, against real interruptions.
``--suite stages``: each stage alone — STT speed and accuracy, LLM speed through Omni and llama.cpp directly, TTS.
``--suite vision``: the embedded perception's parts on a camera frame and a screenshot, OCR error rates in English
and Korean, and a spoken question about the camera frame voice to voice.
``--suite all``: all six, one after the other, into one results folder.

Each prints a table and writes every measurement, with the machine it ran on, to a JSON file (and a PNG chart, for
latency and scale).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import asdict
from pathlib import Path
from typing import Any

from omni.backends.base import TTS
from omni.bench import voice_latency
from omni.bench.report import RunResult, format_table
from omni.bench.variants import Variant, build_all
from omni.cli.common import add_global_flags, guarded, settings_from
from omni.config import Settings
from omni.errors import ConfigError, OmniError
from omni.session.build import load_backends
from omni.session.session import Backends

RESULTS = Path("bench-results")
FILE_NAMES = {"latency": "voice-latency.json", "scale": "scale.json", "barge-in": "barge-in.json",
              "stages": "stages.json", "vision": "vision.json", "turns": "turns.json"}
ALL = ("latency", "barge-in", "stages", "vision", "scale", "turns")
"""What ``--suite all`` runs, in this order: the longest suites, scale and turns, come last."""
SCALE_FLAGS = ("max_sessions", "step_seconds", "warmup_seconds", "stt", "max_delay_ms", "max_reply_delay_ms", "chart")
SUITE_FLAGS = {  # the flags each suite reads; any other suite's flag is refused rather than silently ignored
    "latency": ("runs", "questions", "cold_prompt", "no_server", "variant", "chart", "json"),
    "scale": (*SCALE_FLAGS, "json"),
    "barge-in": ("runs", "json"),
    "turns": ("runs", "kinds", "modes", "json"),
    "stages": ("runs", "json"),
    "vision": ("runs", "json"),
    "all": ("runs",),
}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "bench", help="measure this machine: voice-to-voice latency (default), sessions per server, barge-in, stages",
        description="Benchmarks on this machine. --suite latency (default): omni serve over the Realtime WebSocket "
        "and the streaming engine in-process against a naive cascade, voice to voice, on English and Korean spoken "
        "questions (--variant: the engine on other settings too, before/after in one run). --suite scale: "
        "concurrent Realtime sessions against a real `omni serve` until it falls behind real time, with its CPU and "
        "memory per session. --suite barge-in: how fast a reply stops when the user speaks over it, and which sounds "
        "stop it by mistake. --suite turns: turn-taking, server_vad against semantic_vad on the same spoken "
        "scenarios (pauses mid-sentence, complete questions, backchannels, interruptions, echo, background). "
        "--suite stages: STT, LLM and TTS alone. "
        "--suite vision: perception's parts on a camera frame and a screenshot, OCR error rates, and a spoken "
        "question about the camera frame. "
        "--suite all: every suite, one after the other, into one results folder (--out).",
    )
    parser.add_argument("--suite", choices=("latency", "scale", "barge-in", "turns", "stages", "vision", "all"),
                        default="latency",
                        help="what to measure (default latency); all: every suite, one after the other")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="the results folder (default bench-results/): <suite>.json, voice-latency.json for "
                        "latency, and the charts next to them")
    parser.add_argument("--json", type=Path, default=None,
                        help="where to write every measurement and the machine info (default "
                        "<out>/<suite>.json, voice-latency.json for latency)")
    parser.add_argument("--chart", type=Path, default=None,
                        help="latency, scale: where to draw the PNG chart (default next to the JSON; needs "
                        "matplotlib)")
    latency = parser.add_argument_group("--suite latency")
    parser.add_argument("--runs", type=_positive, default=None,
                        help="latency: turns per question and pipeline (default 5); barge-in: trials of each sound "
                        "(default 3); turns: trials of each scenario in each mode (default 3); stages: runs of each "
                        "measurement (default 3); vision: looks per image, samples of each answer and voice turns "
                        "(default 3); all: each of these")
    latency.add_argument("--questions", choices=("en", "ko", "all"), default=None,
                         help="the spoken questions: English (Piper's voice), Korean (Kokoro's voice), or both "
                         "(default all)")
    latency.add_argument("--cold-prompt", action="store_true", default=None,
                         help="skip the system-prompt prefill before each turn (a process that has just started)")
    latency.add_argument("--no-server", action="store_true", default=None,
                         help="leave out the omni serve pipeline (no server subprocess; in-process pipelines only)")
    latency.add_argument("--variant", action="append", default=None, metavar="KEY=VALUE[,KEY=VALUE…]",
                         help="also run the engine with these settings changed, on the same models, in the same "
                         "run (before/after); keys from the session and vad sections, e.g. "
                         "session.speculate_after_ms=50,vad.silence_duration_ms=400; repeatable")
    scale = parser.add_argument_group("--suite scale")
    scale.add_argument("--max-sessions", type=_positive, default=None,
                       help="stop doubling the sessions here (default 128)")
    scale.add_argument("--step-seconds", type=_positive_number, default=None,
                       help="measured time of each step (default 30)")
    scale.add_argument("--warmup-seconds", type=_positive_number, default=None,
                       help="time over which a step's sessions start, before it is measured (default 6)")
    scale.add_argument("--stt", choices=("canned", "real", "both"), default=None,
                       help="the server's STT: canned (protocol, VAD and endpointing only), real (the configured "
                       "STT, whisper by default) or both, one after the other (default both)")
    scale.add_argument("--max-delay-ms", type=_positive_number, default=None,
                       help="a step falls behind when speech_stopped's p90 delay beyond the silence wait exceeds "
                       "this (default 250)")
    scale.add_argument("--max-reply-delay-ms", type=_positive_number, default=None,
                       help="... or when the reply's first audio's p90 delay beyond the silence wait exceeds this "
                       "(default 500)")
    turns = parser.add_argument_group("--suite turns")
    turns.add_argument("--kinds", default=None, metavar="KIND[,KIND…]",
                       help="the scenario kinds to run: pause, list, number, complete, backchannel, interruption, "
                       "echo, background, or all (default all); a scenario's id (pause-en-table) runs that one")
    turns.add_argument("--modes", default=None, metavar="MODE[,MODE…]",
                       help="the turn detection to compare: server_vad (a fixed silence wait: the server's "
                       "server_vad settings, or the API's defaults when it runs semantic_vad) and/or semantic_vad "
                       "(eagerness auto) (default both)")
    add_global_flags(parser)
    parser.set_defaults(func=guarded(run))


def run(args: argparse.Namespace) -> int:
    suite: str = args.suite
    for flag in sorted({f for flags in SUITE_FLAGS.values() for f in flags} - set(SUITE_FLAGS[suite])):
        if getattr(args, flag, None) is not None:
            owners = ", ".join(name for name, flags in SUITE_FLAGS.items() if flag in flags and name != "all")
            hint = " (--suite all runs every suite on its defaults; only --runs and --out apply)" \
                if suite == "all" else ""
            raise ConfigError(f"--{flag.replace('_', '-')} belongs to --suite {owners}, not --suite {suite}{hint}")
    out: Path = args.out or RESULTS
    if suite == "all":
        return _run_all(args, out)
    path: Path = args.json or out / FILE_NAMES[suite]
    _check_writable(path)
    return RUNNERS[suite](args, path)


def _run_all(args: argparse.Namespace, out: Path) -> int:
    """Every suite in turn, each writing into ``out``; one that fails does not stop the others."""
    _check_writable(out / FILE_NAMES["latency"])
    status = 0
    for suite in ALL:
        print(f"== omni bench --suite {suite} ==", flush=True)
        try:
            code = RUNNERS[suite](args, out / FILE_NAMES[suite])
        except OmniError as exc:
            print(f"omni: error: --suite {suite}: {exc}", file=sys.stderr, flush=True)
            code = 2
        status = max(status, code)
        print(flush=True)
    return status


def _run_latency(args: argparse.Namespace, path: Path) -> int:
    from omni.bench import latency_chart

    runs = args.runs or 5
    cold = bool(args.cold_prompt)
    server = not args.no_server
    languages = voice_latency.check_languages(args.questions or "all")
    settings = settings_from(args)
    variants = build_all(settings, args.variant or ())  # a bad variant fails now, before the models load
    voice_latency.check_language_setting(languages, [settings, *(v.settings for v in variants)])
    chart: Path = args.chart or path.with_suffix(".png")
    load = os.getloadavg()
    _progress(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    voice = voice_latency.question_voice(settings)  # no Korean voice fails now, before the server starts
    voice_latency.check_question_voice(voice, languages)
    results, backends = asyncio.run(_measure_latency(
        settings, runs=runs, languages=languages, cold=cold, server=server, variants=variants, voice=voice))
    order = voice_latency.pipelines(server=server, variants=variants)
    document = voice_latency.results_document(results, settings, backends, runs=runs, load=load, cold_prompt=cold,
                                              order=order, variants=variants,
                                              voices=voice_latency.question_voices(voice, languages))
    _write(path, document)
    end = document["load_average"]["end"]
    print(format_table(results, order), end="")
    print(f"load average: {load[0]:.2f} at the start, {end[0]:.2f} at the end (1-minute; {os.cpu_count()} cores)")
    print(f"wrote {path}")
    print(latency_chart.draw_or_explain(document, chart))
    return 1 if any(r.latency is None for r in results) else 0


async def _measure_latency(
    settings: Settings, *, runs: int, languages: Sequence[str], cold: bool, server: bool, variants: Sequence[Variant],
    voice: TTS,
) -> tuple[list[RunResult], Backends]:
    """One ``omni serve`` for the whole run (unless ``server`` is False), this process's own models, the turns."""
    from omni.bench.realtime_turn import serve

    async with AsyncExitStack() as stack:
        url = None
        if server:
            _progress("starting omni serve on the same settings (it loads its own models)…")
            url = (await stack.enter_async_context(serve(settings))).url
            _progress(f"omni serve is listening on {url}")
        _progress("loading models…")
        backends = await asyncio.to_thread(load_backends, settings)
        results = await voice_latency.run(backends, settings, runs=runs, languages=languages, cold_prompt=cold,
                                          progress=_progress, server_url=url, variants=variants, voice=voice)
        return results, backends


def _run_scale(args: argparse.Namespace, path: Path) -> int:
    from omni.bench import scale, scale_chart
    from omni.bench.scale_report import Limits
    from omni.bench.scale_report import format_table as scale_table

    limits = Limits(
        max_delay_ms=args.max_delay_ms if args.max_delay_ms is not None else Limits.max_delay_ms,
        max_reply_delay_ms=args.max_reply_delay_ms if args.max_reply_delay_ms is not None
        else Limits.max_reply_delay_ms,
    )
    defaults = scale.ScaleOptions()
    options = scale.ScaleOptions(
        max_sessions=args.max_sessions or defaults.max_sessions,
        step_seconds=args.step_seconds or defaults.step_seconds,
        warmup_seconds=args.warmup_seconds if args.warmup_seconds is not None else defaults.warmup_seconds,
        limits=limits,
        stt=scale.check_stt(args.stt or "both"),
    )
    chart: Path = args.chart or path.with_suffix(".png")
    settings = settings_from(args)
    load = os.getloadavg()
    _progress(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    ladders, clips = asyncio.run(scale.run(settings, options, _progress))
    document = scale.results_document(ladders, settings, options, clips, load=load)
    _write(path, document)
    for ladder in ladders:
        title = ("with real STT" if ladder.stt == "real" else "protocol + VAD + endpointing only") + \
            f" (stt {ladder.stt_backend}; llm canned, tts tone: Omni's own cost, not a model's)"
        print(scale_table(title, ladder.steps, limits))
    end = document["load_average"]["end"]
    print(f"load average: {load[0]:.2f} at the start, {end[0]:.2f} at the end (1-minute; {os.cpu_count()} cores)")
    print(f"wrote {path}")
    print(scale_chart.draw_or_explain(document, chart))
    return 0 if all(ladder.steps for ladder in ladders) else 1


def _run_barge_in(args: argparse.Namespace, path: Path) -> int:
    from omni.bench import barge_in
    from omni.bench.server_process import omni_serve

    settings = settings_from(args)
    tts = voice_latency.question_voice(settings)

    async def measure() -> list[barge_in.Trial]:
        async with omni_serve() as server:  # the server reads the same settings (environment, config file)
            return await barge_in.run(server.url, tts, runs=args.runs or 3, progress=_progress)

    trials = asyncio.run(measure())
    _write(path, barge_in.document(trials))
    print(barge_in.format_summary(barge_in.summarize(trials)))
    print(f"wrote {path}")
    return 0 if any(t.kind == barge_in.BARGE_IN and t.error is None for t in trials) else 1


def _run_turns(args: argparse.Namespace, path: Path) -> int:
    from omni.bench import realtime_turn, turns
    from omni.bench.turn_scenarios import choose
    from omni.bench.turns_report import Trial, format_summary

    scenarios = choose(args.kinds or "all")
    modes = turns.check_modes(args.modes or ",".join(turns.MODES))
    runs = args.runs or 3
    settings = settings_from(args)
    load = os.getloadavg()
    _progress(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    tts = voice_latency.question_voice(settings)

    async def measure() -> tuple[turns.Material, list[Trial], dict[str, dict[str, Any]]]:
        material = await turns.prepare(settings, tts, scenarios, _progress)
        _progress("starting omni serve on the same settings (it loads its own models)…")
        async with realtime_turn.serve(settings) as server:
            _progress(f"omni serve is listening on {server.url}")
            trials, shown = await turns.run(server.url, settings, material, modes=modes, runs=runs,
                                            progress=_progress)
        return material, trials, shown

    material, trials, shown = asyncio.run(measure())
    _write(path, turns.document(trials, material, modes=modes, runs=runs, shown=shown, settings=settings,
                                load=load))
    print(format_summary(turns.summaries(trials, modes)))
    if cut := turns.cut_offs(trials):
        print("sentences heard as more than one turn (what the server transcribed of each):")
        print("\n".join(cut))
    print(f"wrote {path}")
    return 0 if any(t.error is None for t in trials) else 1


def _run_stages(args: argparse.Namespace, path: Path) -> int:
    from omni.bench import stages

    settings = settings_from(args)
    backends = load_backends(settings)
    if backends.stt is None or backends.tts is None:
        raise ConfigError("the stage benchmark needs STT and TTS backends")
    results = asyncio.run(stages.run(backends.stt, backends.llm, backends.tts, runs=args.runs or 3,
                                     voice=voice_latency.question_voice(settings),
                                     progress=_progress))
    _write(path, results.document())
    print(stages.format_stages(results))
    print(f"wrote {path}")
    return 0


def _run_vision(args: argparse.Namespace, path: Path) -> int:
    from omni.backends.perception import PARTS, Perception, load_step
    from omni.backends.registry import create
    from omni.bench import vision, vision_answers
    from omni.session.build import session_options

    settings = settings_from(args)
    runs = args.runs or 3
    _progress("loading the vision models…")
    models, threads = settings.models_dir.expanduser(), settings.vision.threads
    perception = Perception([(part, load_step(part, models, threads=threads)) for part in PARTS])
    results = vision.VisionResults()
    images = {"camera frame 640×480": vision.camera_frame(), "screenshot 1280×720": vision.screenshot()}
    results.parts, results.found = vision.measure_parts(perception, images, runs, _progress)
    read_text = dict(perception.steps)["text"]
    results.ocr = vision.measure_ocr(lambda pixels: "\n".join(line.text for line in read_text(pixels)["text"]),
                                     _progress)
    _progress("answers from what vision found (loading the language model)…")
    llm = create("llm", settings.llm.backend, settings)
    answers = asyncio.run(vision_answers.run(llm, session_options(settings, output_audio=False), runs, _progress))
    voice = asyncio.run(vision.voice_about_a_frame(settings, voice_latency.question_voice(settings), runs, _progress))
    _write(path, {**results.document(), "answers": [asdict(a) for a in answers],
                  "voice": {label: [asdict(r) for r in turns] for label, turns in voice.items()}, "runs": runs})
    print(vision.format_vision(results, [(label, [r.latency for r in turns]) for label, turns in voice.items()]))
    print(f"Answers from the findings: {sum(a.right for a in answers)} of {len(answers)} right or honestly unsure")
    print(f"wrote {path}")
    return 0 if all(r.latency is not None for turns in voice.values() for r in turns) else 1


Runner = Callable[[argparse.Namespace, Path], int]
RUNNERS: dict[str, Runner] = {
    "latency": _run_latency, "scale": _run_scale, "barge-in": _run_barge_in, "turns": _run_turns,
    "stages": _run_stages, "vision": _run_vision}


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _check_writable(path: Path) -> None:
    try:  # a bad path fails now, not after minutes of measuring
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot write the results file {path}: {exc}") from exc
    if path.is_dir() or not os.access(path.parent, os.W_OK):
        raise ConfigError(f"cannot write the results file {path}")


def _write(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {value}")
    return value


def _positive_number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value}")
    return value
