"""Settings variants for a before/after in one run: ``--variant 'session.speculate_after_ms=50,vad.threshold=0.6'``.

A variant is the base settings with a few keys changed. It runs as one more in-process engine pipeline on the same
loaded backends, so only settings that a session reads at its start may change: the ``session`` and ``vad`` sections
(except ``vad.backend``, which would need another model). The keys and values are checked against the settings model
itself, so a setting added there is accepted here without a change.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel

from omni.bench.report import ENGINE_VARIANT_PREFIX
from omni.config import Settings, load_settings
from omni.errors import ConfigError

SECTIONS = ("session", "vad")
"""What a session reads when it starts; every other section belongs to a loaded model or to the server."""
REFUSED = frozenset({"vad.backend"})
_NEXT_KEY = re.compile(r",\s*(?=[A-Za-z_]\w*\.[A-Za-z_]\w*\s*=)")
"""A comma that starts the next ``KEY=`` (a value may hold commas: ``session.instructions=Be brief, please``)."""


@dataclass(frozen=True)
class Variant:
    name: str
    """The pipeline's key: ``engine [KEY=VALUE,…]``."""
    changes: tuple[tuple[str, str], ...]
    """The dotted keys and the values as given, in order."""
    settings: Settings


def parse_changes(text: str) -> tuple[tuple[str, str], ...]:
    """``KEY=VALUE[,KEY=VALUE…]`` as (key, value) pairs; a key is ``section.field``."""
    pairs: list[tuple[str, str]] = []
    for part in _NEXT_KEY.split(text.strip()):
        key, equals, value = part.partition("=")
        key = key.strip()
        if not equals or not key:
            raise ConfigError(f"--variant {text!r}: expected KEY=VALUE[,KEY=VALUE…], e.g. session.speculate=false")
        if any(key == seen for seen, _ in pairs):
            raise ConfigError(f"--variant {text!r}: {key} is given twice")
        pairs.append((key, value.strip()))
    return tuple(pairs)


def check_key(key: str) -> tuple[str, str]:
    """(section, field) of an allowed key; a ConfigError naming the key otherwise."""
    section, dot, name = key.partition(".")
    if not dot or "." in name:
        raise ConfigError(f"--variant: {key!r} is not a settings key (expected section.field, e.g. vad.threshold)")
    if section not in SECTIONS or key in REFUSED:
        raise ConfigError(
            f"--variant: {key} cannot change within one run: a variant runs on the models already loaded, so only "
            f"{' and '.join(SECTIONS)} settings may change (not {', '.join(sorted(REFUSED))})"
        )
    model = Settings.model_fields[section].annotation
    assert isinstance(model, type) and issubclass(model, BaseModel)
    if name not in model.model_fields:
        known = ", ".join(f"{section}.{field}" for field in model.model_fields if f"{section}.{field}" not in REFUSED)
        raise ConfigError(f"--variant: unknown setting {key} (the {section} settings are: {known})")
    return section, name


def build(base: Settings, text: str) -> Variant:
    """The variant ``text`` on top of ``base``, validated by the settings model (a bad value names its key)."""
    changes = parse_changes(text)
    tree = base.model_dump()
    for key, value in changes:
        section, name = check_key(key)
        tree[section][name] = value  # a string: the model parses it as it parses the environment's
    try:
        settings = load_settings(tree)
    except ConfigError as exc:
        raise ConfigError(f"--variant {text!r}: {exc}") from exc
    return Variant(ENGINE_VARIANT_PREFIX + ",".join(f"{k}={v}" for k, v in changes) + "]", changes, settings)


def build_all(base: Settings, texts: Sequence[str]) -> list[Variant]:
    variants = [build(base, text) for text in texts]
    names = [v.name for v in variants]
    for name in names:
        if names.count(name) > 1:
            raise ConfigError(f"--variant: {name} is given twice")
    return variants
