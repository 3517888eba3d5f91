"""Where models live and what state they are in: resolving a name or path, listing, verifying.

A model named in the manifest lives in ``<models_dir>/<name>/``. After a file's SHA-256 has been checked, a
small JSON stamp in that folder records its size, modification time and hash, so later checks only need a
``stat`` unless someone asks to recompute (:func:`verify`).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omni.config import Settings
from omni.errors import ModelNotFoundError
from omni.models.manifest import MODELS, ModelKind, ModelSpec, find

STAMP_NAME = ".omni-verified.json"
_CHUNK = 1 << 20
_GGUF_MAGIC = b"GGUF"


@dataclass(frozen=True)
class FileStamp:
    size: int
    mtime_ns: int
    sha256: str


@dataclass(frozen=True)
class ModelStatus:
    name: str
    kind: ModelKind
    path: Path
    """What a backend loads: the model folder, or the entry file inside it."""
    installed: bool
    """Every file of the model is present."""
    size: int
    """Bytes on disk of the files that are present."""
    verified: bool | None
    """True: the stamp matches the files and the pinned hashes; False: it does not; None: never verified."""
    description: str
    licence: str
    default: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "path": str(self.path),
            "installed": self.installed,
            "size": self.size,
            "verified": self.verified,
            "description": self.description,
            "licence": self.licence,
            "default": self.default,
        }


def models_dir(settings: Settings) -> Path:
    return settings.models_dir.expanduser()


def model_folder(spec: ModelSpec, root: Path) -> Path:
    return root / spec.name


def entry_path(spec: ModelSpec, root: Path) -> Path:
    folder = model_folder(spec, root)
    return folder if spec.entry == "." else folder / spec.entry


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# -- stamps -----------------------------------------------------------------------------------------------

def read_stamps(folder: Path) -> dict[str, FileStamp]:
    """The stamps recorded in ``folder``; an unreadable or malformed stamp counts as none."""
    try:
        raw = json.loads((folder / STAMP_NAME).read_text(encoding="utf-8"))
        return {
            name: FileStamp(int(entry["size"]), int(entry["mtime_ns"]), str(entry["sha256"]))
            for name, entry in raw["files"].items()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def stamp_file(path: Path, sha256: str) -> FileStamp:
    info = path.stat()
    return FileStamp(info.st_size, info.st_mtime_ns, sha256)


def write_stamps(folder: Path, stamps: dict[str, FileStamp]) -> None:
    """Record ``stamps`` in ``folder`` (merged into what is there), replacing the file atomically."""
    merged = read_stamps(folder) | stamps
    payload = {
        "files": {
            name: {"size": s.size, "mtime_ns": s.mtime_ns, "sha256": s.sha256}
            for name, s in sorted(merged.items())
        }
    }
    tmp = folder / (STAMP_NAME + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, folder / STAMP_NAME)


def stamp_matches(path: Path, stamp: FileStamp | None, expected_sha256: str) -> bool:
    """The file is unchanged since it was hashed, and that hash is the pinned one."""
    if stamp is None or stamp.sha256 != expected_sha256:
        return False
    try:
        info = path.stat()
    except OSError:
        return False
    return info.st_size == stamp.size and info.st_mtime_ns == stamp.mtime_ns


# -- queries ----------------------------------------------------------------------------------------------

def _model_status(spec: ModelSpec, root: Path) -> ModelStatus:
    folder = model_folder(spec, root)
    stamps = read_stamps(folder)
    present = [folder / f.target for f in spec.files if (folder / f.target).is_file()]
    installed = len(present) == len(spec.files)
    verified: bool | None = None
    if installed and stamps:
        verified = all(stamp_matches(folder / f.target, stamps.get(f.target), f.sha256) for f in spec.files)
    return ModelStatus(
        name=spec.name,
        kind=spec.kind,
        path=entry_path(spec, root),
        installed=installed,
        size=sum(p.stat().st_size for p in present),
        verified=verified,
        description=spec.description,
        licence=spec.licence,
        default=spec.default,
    )


def status(root: Path, specs: Iterable[ModelSpec] = MODELS) -> list[ModelStatus]:
    return [_model_status(spec, root) for spec in specs]


def verify(spec: ModelSpec, root: Path) -> list[str]:
    """Recompute every file's SHA-256; return the problems found (empty when all match).

    The stamps are rewritten with the hashes actually found, so :func:`status` reports the outcome
    without hashing again.
    """
    folder = model_folder(spec, root)
    problems: list[str] = []
    fresh: dict[str, FileStamp] = {}
    for item in spec.files:
        path = folder / item.target
        if not path.is_file():
            problems.append(f"{path} is missing")
            continue
        actual = file_sha256(path)
        fresh[item.target] = stamp_file(path, actual)
        if actual != item.sha256:
            problems.append(f"{path}: SHA-256 {actual}, expected {item.sha256}")
    if fresh:
        write_stamps(folder, fresh)
    return problems


# -- resolving what a setting names ----------------------------------------------------------------------

_EXPECTED: dict[str, str] = {
    "stt": "a CTranslate2 whisper directory containing model.bin",
    "llm": "a GGUF model file",
    "tts": "a Piper voice .onnx file with its .onnx.json beside it",
}


def _check_path(path: Path, kind: ModelKind) -> Path:
    expected = _EXPECTED[kind]
    if kind == "stt":
        if path.is_dir() and (path / "model.bin").is_file():
            return path
        raise ModelNotFoundError(f"{path} is not {expected}")
    if kind == "llm":
        if not path.is_file():
            raise ModelNotFoundError(f"{path} is not a file; expected {expected}")
        with path.open("rb") as handle:
            if handle.read(4) != _GGUF_MAGIC:
                raise ModelNotFoundError(f"{path} is not {expected} (it does not start with 'GGUF')")
        return path
    config = path.with_name(path.name + ".json")
    if path.is_file() and path.suffix == ".onnx" and config.is_file():
        return path
    if path.is_file() and path.suffix == ".onnx":
        raise ModelNotFoundError(f"{path} has no {config.name} beside it; expected {expected}")
    raise ModelNotFoundError(f"{path} is not {expected}")


def _looks_like_path(text: str) -> bool:
    return os.sep in text or text.startswith(("~", ".")) or text.endswith((".gguf", ".onnx", ".bin"))


def resolve(name_or_path: str, kind: ModelKind, models_dir: Path) -> Path:
    """Turn a model setting into a path a backend can load.

    An existing path is checked for the shape ``kind`` needs; a manifest name maps to its assembled
    copy under ``models_dir``. Anything else is a :class:`ModelNotFoundError` saying what to do.
    """
    candidate = Path(name_or_path).expanduser()
    if name_or_path and candidate.exists():
        return _check_path(candidate, kind)
    spec = find(name_or_path)
    if spec is not None:
        if spec.kind != kind:
            raise ModelNotFoundError(f"{name_or_path!r} is a {spec.kind} model, not a {kind} model")
        folder = model_folder(spec, models_dir)
        missing = [f.target for f in spec.files if not (folder / f.target).is_file()]
        if missing:
            raise ModelNotFoundError(
                f"model {name_or_path!r} is not installed in {models_dir} (missing: {', '.join(missing)}); "
                f"run `make install` or `omni models --install {name_or_path}`"
            )
        return entry_path(spec, models_dir)
    known = ", ".join(m.name for m in MODELS if m.kind == kind)
    if _looks_like_path(name_or_path):
        raise ModelNotFoundError(f"{name_or_path} does not exist; expected {_EXPECTED[kind]}")
    raise ModelNotFoundError(
        f"unknown {kind} model {name_or_path!r}: not a path that exists and not a known model name "
        f"(known {kind} models: {known}); or give the path to {_EXPECTED[kind]}"
    )
