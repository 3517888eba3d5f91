"""``--variant``: parsing, the settings it builds on top of the base, and what it refuses."""

from __future__ import annotations

import pytest

from omni.bench import variants
from omni.config import load_settings
from omni.errors import ConfigError
from omni.session.build import session_options


def test_a_variant_changes_only_its_keys_and_is_named_after_them() -> None:
    base = load_settings({"session": {"speculate_after_ms": 100, "turn_detection": "server_vad"},
                          "llm": {"temperature": 0.3}})
    variant = variants.build(base, "session.speculate_after_ms=50, vad.silence_duration_ms=400")
    assert variant.name == "engine [session.speculate_after_ms=50,vad.silence_duration_ms=400]"
    assert variant.changes == (("session.speculate_after_ms", "50"), ("vad.silence_duration_ms", "400"))
    assert variant.settings.session.speculate_after_ms == 50
    assert variant.settings.vad.silence_duration_ms == 400
    # everything else is the base's, including what came from elsewhere than the defaults
    assert variant.settings.llm.temperature == 0.3
    assert variant.settings.vad.threshold == base.vad.threshold
    options = session_options(variant.settings)
    assert options.speculate_after_ms == 50 and options.turn.silence_duration_ms == 400


def test_values_are_parsed_by_the_settings_model_and_may_hold_commas() -> None:
    base = load_settings()
    off = variants.build(base, "session.speculate=false")
    assert off.settings.session.speculate is False and session_options(off.settings).speculate_after_ms is None
    brief = variants.build(base, "session.instructions=Be brief, please,vad.threshold=0.6")
    assert brief.settings.session.instructions == "Be brief, please"
    assert brief.settings.vad.threshold == 0.6


def test_every_field_of_the_session_and_vad_sections_is_accepted() -> None:
    base = load_settings()
    for section in ("session", "vad"):
        for name in type(getattr(base, section)).model_fields:
            if f"{section}.{name}" == "vad.backend":
                continue
            value = getattr(getattr(base, section), name)
            if value is None:
                continue  # nothing to write for "unset"
            text = str(value).lower() if isinstance(value, bool) else str(value)
            assert variants.build(base, f"{section}.{name}={text}").settings == base


@pytest.mark.parametrize(("text", "named"), [
    ("llm.model=qwen2.5-0.5b-instruct", "llm.model"),
    ("stt.beam_size=5", "stt.beam_size"),
    ("vad.backend=energy", "vad.backend"),
    ("server.max_sessions=2", "server.max_sessions"),
])
def test_keys_that_need_other_models_or_a_server_are_refused(text: str, named: str) -> None:
    with pytest.raises(ConfigError, match=f"{named} cannot change within one run"):
        variants.build(load_settings(), text)


@pytest.mark.parametrize(("text", "message"), [
    ("session.no_such_thing=1", "unknown setting session.no_such_thing"),
    ("session.speculate_after_ms=-5", "session.speculate_after_ms: Input should be greater than or equal to 0"),
    ("vad.threshold=loud", "vad.threshold: Input should be a valid number"),
    ("session.turn_detection=auto", "session.turn_detection"),
    ("speculate=false", "'speculate' is not a settings key"),
    ("session.speculate", "expected KEY=VALUE"),
    ("models_dir=/tmp", "not a settings key"),
    ("session.speculate=false,session.speculate=true", "session.speculate is given twice"),
])
def test_bad_keys_and_values_are_clear_errors(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        variants.build(load_settings(), text)


def test_the_same_variant_twice_is_refused() -> None:
    base = load_settings()
    assert [v.name for v in variants.build_all(base, ["vad.threshold=0.6", "vad.threshold=0.4"])] == [
        "engine [vad.threshold=0.6]", "engine [vad.threshold=0.4]"]
    with pytest.raises(ConfigError, match="given twice"):
        variants.build_all(base, ["vad.threshold=0.6", " vad.threshold = 0.6 "])
