"""Settings: defaults, then the TOML file, then OMNI_* variables, then CLI flags; invalid values are clear errors."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pydantic
import pytest

from omni.cli.common import add_global_flags, settings_from
from omni.config import Settings, load_settings
from omni.errors import ConfigError
from omni.session.build import session_options


@pytest.fixture(autouse=True)
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No OMNI_* variables from the outside, no config file, and a home folder of the test's own."""
    for name in list(os.environ):
        if name.upper().startswith("OMNI_"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


def write_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> Path:
    path = tmp_path / "omni.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("OMNI_CONFIG", str(path))
    return path


def test_defaults(clean_env: Path) -> None:
    settings = load_settings()
    assert settings.models_dir == clean_env / ".cache" / "omni" / "models"
    assert (settings.vad.backend, settings.vad.threshold) == ("silero", 0.5)
    assert (settings.vad.prefix_padding_ms, settings.vad.silence_duration_ms) == (300, 500)
    assert (settings.stt.backend, settings.stt.model, settings.stt.language) == ("whisper", "whisper-base", None)
    assert (settings.llm.backend, settings.llm.model) == ("llama", "qwen2.5-1.5b-instruct")
    assert (settings.tts.backend, settings.tts.voice) == ("auto", "joe-us")
    assert (settings.session.turn_detection, settings.session.eagerness) == ("semantic_vad", "auto")
    assert settings.session.interrupt_response is True


def test_environment_variables_set_nested_fields(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OMNI_LLM__MODEL", "/models/other.gguf")
    monkeypatch.setenv("OMNI_VAD__SILENCE_DURATION_MS", "800")
    monkeypatch.setenv("OMNI_MODELS_DIR", str(tmp_path / "models"))
    settings = load_settings()
    assert settings.llm.model == "/models/other.gguf"
    assert settings.llm.backend == "llama"
    assert settings.vad.silence_duration_ms == 800
    assert settings.models_dir == tmp_path / "models"


def test_toml_file_named_by_omni_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    write_config(tmp_path, monkeypatch, '[llm]\nmodel = "from-file"\nmax_tokens = 99\n\n[tts]\nvoice = "en-us"\n')
    settings = load_settings()
    assert (settings.llm.model, settings.llm.max_tokens, settings.tts.voice) == ("from-file", 99, "en-us")
    assert settings.llm.temperature == 0.7


def test_environment_wins_over_the_file_field_by_field(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    write_config(tmp_path, monkeypatch, '[llm]\nmodel = "from-file"\nmax_tokens = 99\n')
    monkeypatch.setenv("OMNI_LLM__MODEL", "from-env")
    settings = load_settings()
    assert (settings.llm.model, settings.llm.max_tokens) == ("from-env", 99)


def test_overrides_win_and_keep_the_rest_of_the_section(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    write_config(tmp_path, monkeypatch, '[llm]\nmodel = "from-file"\nmax_tokens = 99\n')
    monkeypatch.setenv("OMNI_LLM__MODEL", "from-env")
    monkeypatch.setenv("OMNI_LLM__TEMPERATURE", "0.3")
    settings = load_settings({"llm": {"model": "from-flag"}})
    assert settings.llm.model == "from-flag"
    assert settings.llm.temperature == 0.3
    assert settings.llm.max_tokens == 99
    assert settings.llm.n_ctx == 4096


def test_command_line_flags_become_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OMNI_LLM__TEMPERATURE", "0.2")
    monkeypatch.setenv("OMNI_TTS__BACKEND", "espeak")
    parser = argparse.ArgumentParser()
    add_global_flags(parser)
    args = parser.parse_args(
        ["--llm-model", "tiny.gguf", "--voice", "ko", "--lang", "ko", "--models-dir", str(tmp_path / "m")]
    )
    settings = settings_from(args)
    assert (settings.llm.model, settings.llm.temperature) == ("tiny.gguf", 0.2)
    assert (settings.tts.voice, settings.tts.backend) == ("ko", "espeak")
    assert settings.stt.language == "ko"
    assert settings.models_dir == tmp_path / "m"
    backends = settings_from(parser.parse_args(["--stt-backend", "canned", "--llm-backend", "canned",
                                                "--tts-backend", "tone"]))
    assert (backends.stt.backend, backends.llm.backend, backends.tts.backend) == ("canned", "canned", "tone")


def test_settings_are_frozen() -> None:
    settings = load_settings()
    with pytest.raises(pydantic.ValidationError):
        settings.llm.model = "other"  # type: ignore[misc]
    assert isinstance(settings, Settings)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"llm": {"temperature": 5}}, "llm.temperature"),
        ({"vad": {"threshold": -0.1}}, "vad.threshold"),
        ({"stt": {"beam_size": 0}}, "stt.beam_size"),
        ({"session": {"turn_detection": "sometimes"}}, "session.turn_detection"),
        ({"tts": {"colour": "blue"}}, "tts.colour"),
    ],
)
def test_invalid_override_names_the_field(overrides: dict[str, dict[str, object]], field: str) -> None:
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        load_settings(overrides)


def test_invalid_environment_value_names_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNI_VAD__THRESHOLD", "loud")
    with pytest.raises(ConfigError, match=r"vad\.threshold"):
        load_settings()


def test_unknown_key_in_the_file_names_the_field(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    write_config(tmp_path, monkeypatch, '[llm]\nmodle = "typo"\n')
    with pytest.raises(ConfigError, match=r"llm\.modle"):
        load_settings()


def test_unreadable_file_names_the_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = write_config(tmp_path, monkeypatch, "[llm\nmodel = 1\n")
    with pytest.raises(ConfigError, match="cannot read settings") as caught:
        load_settings()
    assert str(path) in str(caught.value)


def test_speculation_settings_reach_the_session_options(monkeypatch: pytest.MonkeyPatch) -> None:
    assert session_options(load_settings()).speculate_after_ms == 30
    monkeypatch.setenv("OMNI_SESSION__SPECULATE_AFTER_MS", "250")
    assert session_options(load_settings()).speculate_after_ms == 250
    monkeypatch.setenv("OMNI_SESSION__SPECULATE", "false")
    assert session_options(load_settings()).speculate_after_ms is None
