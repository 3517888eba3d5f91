"""``omni bench`` flags: the latency suite's server and variants, and ``--suite all`` into one results folder.
Everything here fails (or is faked) before any model loads."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from omni.cli import bench_cmd
from omni.cli.main import build_parser, main
from omni.errors import ConfigError


def test_latency_flags_parse_and_variants_repeat() -> None:
    args = build_parser().parse_args(["bench", "--no-server", "--variant", "vad.threshold=0.6", "--variant",
                                      "session.speculate=false", "--chart", "c.png", "--out", "results"])
    assert args.no_server is True and args.variant == ["vad.threshold=0.6", "session.speculate=false"]
    assert (args.chart, args.out) == (Path("c.png"), Path("results"))
    plain = build_parser().parse_args(["bench"])
    assert plain.no_server is None and plain.variant is None


@pytest.mark.parametrize(("argv", "message"), [
    (["--suite", "stages", "--variant", "vad.threshold=0.6"], "--variant belongs to --suite latency, not --suite"),
    (["--suite", "scale", "--no-server"], "--no-server belongs to --suite latency, not --suite scale"),
    (["--suite", "barge-in", "--chart", "x.png"], "--chart belongs to --suite latency, scale, not --suite barge-in"),
    (["--suite", "all", "--questions", "en"], "--questions belongs to --suite latency, not --suite all"),
    (["--suite", "all", "--json", "x.json"], "only --runs and --out apply"),
    (["--suite", "all", "--max-sessions", "2"], "--max-sessions belongs to --suite scale, not --suite all"),
    (["--suite", "barge-in", "--kinds", "pause"], "--kinds belongs to --suite turns, not --suite barge-in"),
    (["--modes", "semantic_vad"], "--modes belongs to --suite turns, not --suite latency"),
    (["--suite", "turns", "--kinds", "pause,chatter"], "unknown scenario kind 'chatter'"),
    (["--suite", "turns", "--modes", "semantic"], "unknown turn-detection mode 'semantic'"),
    (["--variant", "llm.model=qwen2.5-0.5b-instruct"], "llm.model cannot change within one run"),
    (["--variant", "session.speculate_after_ms=soon"], "session.speculate_after_ms: Input should be a valid integer"),
    (["--lang", "en"], "the STT language is fixed to 'en' (--lang, stt.language or session.language), so the Korean "
     "questions would be transcribed as if they were in it"),
    (["--questions", "en", "--lang", "ko"], "so the English questions would be transcribed"),
    (["--questions", "en", "--variant", "session.language=ko"], "fixed to 'ko'"),
])
def test_flags_a_run_cannot_use_are_refused_before_anything_loads(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bench", "--out", str(tmp_path), *argv]) == 2
    err = capsys.readouterr().err
    assert "omni: error:" in err and message in err and "Traceback" not in err
    assert not list(tmp_path.iterdir())  # nothing measured, nothing written


def test_all_runs_every_suite_into_one_folder_and_goes_on_after_a_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ran: list[tuple[str, Path, int | None, Path | None]] = []

    def fake(suite: str, code: int) -> bench_cmd.Runner:
        def runner(args: argparse.Namespace, path: Path) -> int:
            ran.append((suite, path, args.runs, args.chart))
            if code == 2:
                raise ConfigError("the stage benchmark needs STT and TTS backends")
            print(f"{suite} table")
            return code
        return runner

    for suite, code in (("latency", 0), ("barge-in", 1), ("stages", 2), ("vision", 0), ("scale", 0), ("turns", 0)):
        monkeypatch.setitem(bench_cmd.RUNNERS, suite, fake(suite, code))
    out = tmp_path / "results"
    assert main(["bench", "--suite", "all", "--runs", "2", "--out", str(out)]) == 2
    assert ran == [
        ("latency", out / "voice-latency.json", 2, None), ("barge-in", out / "barge-in.json", 2, None),
        ("stages", out / "stages.json", 2, None), ("vision", out / "vision.json", 2, None),
        ("scale", out / "scale.json", 2, None), ("turns", out / "turns.json", 2, None),
    ]
    captured = capsys.readouterr()
    assert "latency table" in captured.out and "scale table" in captured.out
    assert "== omni bench --suite stages ==" in captured.out
    assert "omni: error: --suite stages: the stage benchmark needs STT and TTS backends" in captured.err
    assert out.is_dir()


def test_a_single_suite_writes_into_the_results_folder_unless_json_names_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths: list[Path] = []

    def runner(args: argparse.Namespace, path: Path) -> int:
        paths.append(path)
        return 0

    monkeypatch.setitem(bench_cmd.RUNNERS, "stages", runner)
    assert main(["bench", "--suite", "stages", "--out", str(tmp_path / "r")]) == 0
    assert main(["bench", "--suite", "stages", "--out", str(tmp_path / "r"), "--json", str(tmp_path / "s.json")]) == 0
    assert paths == [tmp_path / "r" / "stages.json", tmp_path / "s.json"]
