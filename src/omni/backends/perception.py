"""The embedded vision backend: OCR, an object detector, a whole-image classifier and faces, run on the CPU.

No vision-language model can be installed from the package registries, so the embedded stack looks at an image
with specialised models and reports their findings (:class:`~omni.vision.scene.Scene`), which the LLM reads as a
note. Each part is optional (``vision.parts``). The parts run one after another on one worker thread, every part
with all the cores (two at once on 2 cores are each slower than one after the other), and between parts speech
work goes first (:mod:`omni.cores`): looking at a picture must not delay a voice.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from omni.aio import model_thread
from omni.backends.base import Vision
from omni.config import Settings
from omni.cores import CORES
from omni.errors import ConfigError
from omni.types import ImageFrame, Pixels
from omni.vision.facts import measure, with_colours
from omni.vision.scene import Scene

PARTS = ("text", "objects", "gist", "faces")
IMAGENET_LABELS = "imagenet-labels.json"
"""Beside the classifier's model file: its 1000 class names."""
EXPRESSION_MODEL = "emotion.onnx"
"""Beside the object detector (both come from one npm package): the facial expression classifier."""


Step = Callable[[Pixels], dict[str, Any]]
"""One part: pixels in, its findings out as Scene fields (``{"objects": (...)}``)."""


class Perception(Vision):
    def __init__(self, steps: Sequence[tuple[str, Step]]) -> None:
        self.steps = tuple(steps)
        self.thread = model_thread("vision")

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.steps)

    async def _look(self, frame: ImageFrame, question: str | None) -> Scene:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.thread, self.see, frame.pixels)

    def see(self, pixels: Pixels) -> Scene:
        """Every enabled part on ``pixels``, in this thread."""
        timings: dict[str, float] = {}
        start = time.perf_counter()
        facts = measure(pixels)
        timings["facts"] = time.perf_counter() - start
        found: dict[str, Any] = {}
        for name, step in self.steps:
            CORES.wait_for_turn()  # a transcription or a voice waited on goes first
            start = time.perf_counter()
            found.update(step(pixels))
            timings[name] = time.perf_counter() - start
        return Scene(facts=facts, timings=timings, **found)


def load_step(name: str, models_dir: Path, *, threads: int = 0) -> Step:
    """Load part ``name``'s model from the models directory (a clear error names what is missing)."""
    from omni.models import store

    def path(model: str) -> Path:
        return store.resolve(model, "vision", models_dir)

    if name == "text":
        from omni.vision.ocr import TextReader

        reader = TextReader(threads=threads)
        return lambda pixels: {"text": tuple(reader.read(pixels))}
    if name == "objects":
        from omni.vision.objects import ObjectDetector

        detector = ObjectDetector(path("human-vision"), threads=threads)
        return lambda pixels: {"objects": tuple(with_colours(pixels, detector.detect(pixels)))}
    if name == "gist":
        from omni.vision.gist import GistClassifier

        model = path("efficientnet-lite0")
        classifier = GistClassifier(model, model.with_name(IMAGENET_LABELS), threads=threads)
        return lambda pixels: {"gist": tuple(classifier.classify(pixels))}
    if name == "faces":
        from omni.vision.faces import FaceReader

        faces = FaceReader(path("human-vision").with_name(EXPRESSION_MODEL), threads=threads)
        return lambda pixels: {"faces": tuple(faces.read(pixels))}
    raise ConfigError(f"unknown vision part {name!r}; known: {', '.join(PARTS)}")


def create(settings: Settings) -> Perception:
    models_dir, threads = settings.models_dir.expanduser(), settings.vision.threads
    return Perception([(name, load_step(name, models_dir, threads=threads)) for name in settings.vision.parts])
