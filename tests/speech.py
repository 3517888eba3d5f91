"""The shared fixture maker: speech and silence for tests, made at test time by espeak-ng or a Piper voice.

Fixtures are built with the tools directly (the ``espeak-ng`` program, the ``piper`` Python API), never
through Omni's own backends, so a test's input does not depend on the code it tests. Import it as
``from tests import speech``.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import soundfile as sf

Samples = npt.NDArray[np.float32]

PIPER_VOICE_NAME = "joe-us"
PIPER_VOICE_FILE = "en_US-joe-medium.onnx"


def models_dir() -> Path:
    """Where the embedded models live: ``OMNI_MODELS_DIR`` or ``~/.cache/omni/models``."""
    return Path(os.environ.get("OMNI_MODELS_DIR") or Path.home() / ".cache" / "omni" / "models").expanduser()


def piper_voice_path() -> Path:
    """The joe-us Piper voice; a clear failure if it has not been installed."""
    path = models_dir() / PIPER_VOICE_NAME / PIPER_VOICE_FILE
    if not path.is_file() or not path.with_name(path.name + ".json").is_file():
        raise FileNotFoundError(
            f"Piper voice {PIPER_VOICE_NAME!r} is not installed at {path}; run `make install` "
            "or set OMNI_MODELS_DIR to a models directory that has it"
        )
    return path


def read_wav(path: Path | str) -> tuple[Samples, int]:
    """Read any file libsndfile reads as mono float32 and its sample rate."""
    data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    return np.ascontiguousarray(data.mean(axis=1), dtype=np.float32), int(rate)


def write_wav(path: Path | str, samples: npt.ArrayLike, sample_rate: int) -> Path:
    """Write mono 16-bit PCM WAV."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    audio = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0)
    sf.write(str(path), audio, sample_rate, subtype="PCM_16")
    return path


def resample_for_fixture(samples: Samples, from_rate: int, to_rate: int) -> Samples:
    """Change a fixture's sample rate with soxr directly (not through Omni's resampler)."""
    import soxr

    if from_rate == to_rate:
        return np.asarray(samples, dtype=np.float32)
    out = soxr.resample(np.asarray(samples, dtype=np.float32), from_rate, to_rate, quality="HQ")
    return np.asarray(out, dtype=np.float32)


def silence(seconds: float, sample_rate: int) -> Samples:
    return np.zeros(round(seconds * sample_rate), dtype=np.float32)


def with_silence(samples: Samples, sample_rate: int, before_s: float = 0.0, after_s: float = 0.0) -> Samples:
    """``samples`` with ``before_s`` seconds of silence in front and ``after_s`` behind."""
    return np.concatenate(
        [silence(before_s, sample_rate), np.asarray(samples, dtype=np.float32), silence(after_s, sample_rate)]
    )


def concat(*parts: Samples | float, sample_rate: int) -> Samples:
    """Join clips in order; a number among the parts is that many seconds of silence.

    ``concat(hello, 0.5, world, sample_rate=16000)`` is hello, half a second of silence, world.
    """
    pieces = [
        silence(part, sample_rate) if isinstance(part, (int, float)) else np.asarray(part, dtype=np.float32)
        for part in parts
    ]
    return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)


def white_noise(seconds: float, sample_rate: int, *, dbfs: float = -50.0, seed: int = 0) -> Samples:
    """Gaussian white noise whose RMS level is ``dbfs``."""
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal(round(seconds * sample_rate)).astype(np.float32)
    return (noise * np.float32(10 ** (dbfs / 20))).astype(np.float32)


def sine(freq: float, seconds: float, sample_rate: int, *, amplitude: float = 0.5) -> Samples:
    t = np.arange(round(seconds * sample_rate)) / sample_rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def espeak_wav(text: str, path: Path, *, voice: str = "en-us", rate_wpm: int | None = None) -> Path:
    """Speak ``text`` with espeak-ng into a WAV file (22050 Hz mono) at ``path``."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise FileNotFoundError("espeak-ng is not installed (apt-get install espeak-ng)")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    command = [exe, "-v", voice, "-w", str(path)]
    if rate_wpm is not None:
        command += ["-s", str(rate_wpm)]
    subprocess.run([*command, "--", text], check=True, capture_output=True, timeout=60)
    return path


@functools.cache
def _piper_voice() -> Any:
    from piper import PiperVoice

    return PiperVoice.load(piper_voice_path())


def piper_samples(text: str) -> tuple[Samples, int]:
    """Speak ``text`` with the joe-us Piper voice; returns the samples and the voice's rate (22050).

    The voice's random variation is turned off: with it, one run in a few said a sentence that whisper misheard,
    and a failing test must fail again when rerun. Without it, a slightly slower pace keeps every test sentence
    clear ("France" was heard as "friends" at the normal pace).
    """
    from piper import SynthesisConfig

    voice = _piper_voice()
    steady = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0, length_scale=1.1)
    chunks = [np.asarray(c.audio_float_array, dtype=np.float32) for c in voice.synthesize(text, steady)]
    return concat(*chunks, sample_rate=voice.config.sample_rate), int(voice.config.sample_rate)


def piper_wav(text: str, path: Path) -> Path:
    """Speak ``text`` with the joe-us Piper voice into a 16-bit WAV file at ``path``."""
    samples, rate = piper_samples(text)
    return write_wav(path, samples, rate)
