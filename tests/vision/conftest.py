"""The vision tests' shared fixtures: sample photos, and the embedded vision models loaded once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from omni.backends.perception import EXPRESSION_MODEL, IMAGENET_LABELS
from omni.models import store
from omni.vision.faces import FaceReader
from omni.vision.gist import GistClassifier
from omni.vision.objects import ObjectDetector
from tests import photos, speech


@pytest.fixture(scope="session")
def skimage_photos() -> Path:
    return photos.photos_dir()


def _installed(name: str) -> Path:
    """An installed vision model of the manifest (a clear failure when it is not installed)."""
    return store.resolve(name, "vision", speech.models_dir())


@pytest.fixture(scope="session")
def detector() -> ObjectDetector:
    return ObjectDetector(_installed("human-vision"))


@pytest.fixture(scope="session")
def reader() -> FaceReader:
    return FaceReader(_installed("human-vision").with_name(EXPRESSION_MODEL))


@pytest.fixture(scope="session")
def classifier() -> GistClassifier:
    model = _installed("efficientnet-lite0")
    return GistClassifier(model, model.with_name(IMAGENET_LABELS))
