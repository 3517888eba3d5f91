"""Backend registry: names resolve to factories lazily; unknown names and missing modules are clear errors.

Settings come from ``Settings.model_construct()``: the field defaults, whatever the environment of the test run.
"""

from __future__ import annotations

import ast
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import pytest

from omni.backends import registry
from omni.backends.registry import BACKENDS, BackendSpec, Kind, create, spec
from omni.config import Settings
from omni.errors import BackendUnavailableError, ConfigError


@dataclass
class FakeBackend:
    settings: Settings


def make_fake(settings: Settings) -> FakeBackend:
    return FakeBackend(settings)


FAKE = BackendSpec("llm", "fake", f"{__name__}:make_fake", ("json",), "pip install omni-fake", "a test backend")
NEEDS_MISSING = BackendSpec(
    "tts", "ghost", f"{__name__}:make_fake", ("json", "omni_no_such_module_xyz"), "pip install omni-ghost", "missing"
)


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "BACKENDS", (*BACKENDS, FAKE, NEEDS_MISSING))


def test_unknown_backend_lists_the_known_ones_of_its_kind() -> None:
    with pytest.raises(ConfigError) as caught:
        create("llm", "gpt5-local", Settings.model_construct())
    message = str(caught.value)
    assert "'gpt5-local'" in message and "llm" in message
    assert "llama" in message and "openai" in message
    assert "whisper" not in message and "piper" not in message


def test_a_name_of_another_kind_is_unknown() -> None:
    with pytest.raises(ConfigError, match=r"known: .*whisper"):
        spec("stt", "piper")


@pytest.mark.usefixtures("table")
def test_known_backend_is_built_by_its_factory_with_the_settings() -> None:
    settings = Settings.model_construct()
    backend = create("llm", "fake", settings)
    assert isinstance(backend, FakeBackend)
    assert backend.settings is settings


@pytest.mark.usefixtures("table")
def test_missing_module_names_the_module_and_the_install_command() -> None:
    with pytest.raises(BackendUnavailableError) as caught:
        create("tts", "ghost", Settings.model_construct())
    message = str(caught.value)
    assert "'omni_no_such_module_xyz'" in message
    assert "pip install omni-ghost" in message
    assert "'ghost'" in message and "tts" in message


def test_default_backends_are_registered() -> None:
    defaults = Settings.model_construct()
    chosen: list[tuple[Kind, str]] = [
        ("vad", defaults.vad.backend), ("stt", defaults.stt.backend),
        ("llm", defaults.llm.backend), ("tts", defaults.tts.backend),
    ]
    for kind, name in chosen:
        assert spec(kind, name).name == name


def test_names_are_unique_within_a_kind() -> None:
    keys = [(s.kind, s.name) for s in BACKENDS]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("entry", BACKENDS, ids=lambda s: f"{s.kind}-{s.name}")
def test_every_factory_path_points_at_a_function_that_exists(entry: BackendSpec) -> None:
    # read the source instead of importing it: importing would load the backend's heavy dependencies
    module, _, function = entry.factory.partition(":")
    found = importlib.util.find_spec(module)
    assert found is not None and found.origin is not None, f"no module {module}"
    tree = ast.parse(Path(found.origin).read_text(encoding="utf-8"))
    names = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert function in names
    assert entry.install_hint and entry.description
