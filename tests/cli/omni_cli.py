"""Run the installed ``omni`` console script as a user would, in a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path


def omni_bin() -> Path:
    candidate = Path(sys.executable).parent / "omni"
    if candidate.exists():
        return candidate
    found = shutil.which("omni")
    assert found, "the omni console script is not installed; run `make install`"
    return Path(found)


def run_omni(
    *args: str, models_dir: Path | None = None, stdin: str | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if models_dir is not None:
        env["OMNI_MODELS_DIR"] = str(models_dir)
    return subprocess.run(
        [str(omni_bin()), *args], capture_output=True, text=True, env=env, timeout=timeout,
        input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL, check=False,
    )


def assert_clean_failure(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    """A non-zero exit with ``omni: error:`` naming the problem, and no traceback."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    assert "omni: error:" in result.stderr, result.stderr
    for text in expected:
        assert text in result.stderr, result.stderr
