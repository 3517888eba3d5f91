"""Resolving model settings to paths: existing paths of each kind, manifest names, and the errors between."""

from __future__ import annotations

from pathlib import Path

import pytest

from omni.config import load_settings
from omni.errors import ModelNotFoundError
from omni.models import store
from omni.models.manifest import MODELS, find


def _install_fake(root: Path, name: str) -> Path:
    """Put placeholder files where the manifest says model ``name`` lives (contents are not checked here)."""
    spec = find(name)
    assert spec is not None
    folder = root / name
    folder.mkdir(parents=True)
    for item in spec.files:
        (folder / item.target).write_bytes(b"GGUF" if spec.kind == "llm" else b"x")
    return folder


def test_models_dir_follows_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNI_MODELS_DIR", str(tmp_path / "elsewhere"))
    assert store.models_dir(load_settings()) == tmp_path / "elsewhere"


def test_existing_whisper_directory(tmp_path: Path) -> None:
    folder = tmp_path / "my-whisper"
    folder.mkdir()
    with pytest.raises(ModelNotFoundError, match=r"model\.bin"):
        store.resolve(str(folder), "stt", tmp_path / "models")
    (folder / "model.bin").write_bytes(b"weights")
    assert store.resolve(str(folder), "stt", tmp_path / "models") == folder
    with pytest.raises(ModelNotFoundError, match=r"directory containing model\.bin"):
        store.resolve(str(folder / "model.bin"), "stt", tmp_path / "models")


def test_existing_gguf_file(tmp_path: Path) -> None:
    good = tmp_path / "model.gguf"
    good.write_bytes(b"GGUF\x03\x00\x00\x00rest")
    assert store.resolve(str(good), "llm", tmp_path) == good

    bad = tmp_path / "notes.gguf"
    bad.write_text("hello")
    with pytest.raises(ModelNotFoundError, match="GGUF"):
        store.resolve(str(bad), "llm", tmp_path)
    with pytest.raises(ModelNotFoundError, match="not a file"):
        store.resolve(str(tmp_path), "llm", tmp_path)


def test_existing_piper_voice(tmp_path: Path) -> None:
    voice = tmp_path / "voice.onnx"
    voice.write_bytes(b"onnx")
    with pytest.raises(ModelNotFoundError, match=r"voice\.onnx\.json"):
        store.resolve(str(voice), "tts", tmp_path)
    (tmp_path / "voice.onnx.json").write_text("{}")
    assert store.resolve(str(voice), "tts", tmp_path) == voice

    other = tmp_path / "voice.txt"
    other.write_text("x")
    with pytest.raises(ModelNotFoundError, match=r"\.onnx file"):
        store.resolve(str(other), "tts", tmp_path)


def test_missing_path_says_what_was_expected(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="does not exist; expected a GGUF model file"):
        store.resolve(str(tmp_path / "nowhere.gguf"), "llm", tmp_path)


def test_unknown_name_lists_known_names(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError) as caught:
        store.resolve("whisper-enormous", "stt", tmp_path)
    message = str(caught.value)
    assert "whisper-enormous" in message
    assert "whisper-base" in message
    assert "whisper-tiny.en" in message
    assert "qwen" not in message


def test_manifest_name_not_installed_says_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError) as caught:
        store.resolve("qwen2.5-1.5b-instruct", "llm", tmp_path)
    message = str(caught.value)
    assert "make install" in message
    assert "omni models --install qwen2.5-1.5b-instruct" in message


def test_manifest_name_of_another_kind(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="is a tts model, not a llm model"):
        store.resolve("joe-us", "llm", tmp_path)


def test_installed_manifest_names_resolve_to_their_entry(tmp_path: Path) -> None:
    whisper = _install_fake(tmp_path, "whisper-base")
    voice = _install_fake(tmp_path, "joe-us")
    llm = _install_fake(tmp_path, "qwen2.5-0.5b-instruct")

    assert store.resolve("whisper-base", "stt", tmp_path) == whisper
    assert store.resolve("joe-us", "tts", tmp_path) == voice / "en_US-joe-medium.onnx"
    gguf = llm / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
    assert store.resolve("qwen2.5-0.5b-instruct", "llm", tmp_path) == gguf

    (whisper / "tokenizer.json").unlink()
    with pytest.raises(ModelNotFoundError, match=r"missing: tokenizer\.json"):
        store.resolve("whisper-base", "stt", tmp_path)


def test_status_reports_each_manifest_model(tmp_path: Path) -> None:
    _install_fake(tmp_path, "joe-us")
    rows = {row.name: row for row in store.status(tmp_path)}

    assert set(rows) == {m.name for m in MODELS}
    assert rows["joe-us"].installed is True
    assert rows["joe-us"].size == 2
    # Placeholder files were never hashed: no stamp, so not known to be verified either way.
    assert rows["joe-us"].verified is None
    assert rows["whisper-base"].installed is False
    assert rows["whisper-base"].size == 0
    assert rows["whisper-base"].path == tmp_path / "whisper-base"
    assert rows["qwen2.5-1.5b-instruct"].licence == "Apache-2.0"


def test_stale_stamp_is_not_trusted(tmp_path: Path) -> None:
    folder = _install_fake(tmp_path, "joe-us")
    spec = find("joe-us")
    assert spec is not None
    # A stamp claiming the pinned hashes for these placeholder files: trusted only while size and mtime match.
    store.write_stamps(folder, {f.target: store.stamp_file(folder / f.target, f.sha256) for f in spec.files})
    assert store.status(tmp_path, [spec])[0].verified is True
    (folder / "en_US-joe-medium.onnx").write_bytes(b"changed")
    assert store.status(tmp_path, [spec])[0].verified is False

    assert store.verify(spec, tmp_path) != []
    assert store.status(tmp_path, [spec])[0].verified is False
