"""The gist of an image: what the whole picture is, as ImageNet-1k classes with probabilities (EfficientNet-Lite0).

The model is the ONNX file :mod:`omni.vision.convert.efficientnet` makes at install time; the labels are the JSON
list made beside it, one short name per model output.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from omni.errors import ModelNotFoundError
from omni.vision.onnx_session import cpu_session
from omni.vision.scene import Guess

INPUT_SIZE = 224
# The TF EfficientNet evaluation crop: the central 224/256 of the short side (resize to 256, crop 224).
_CROP_FRACTION = 224 / 256
# EfficientNet-Lite's own normalisation (TF lite builder: mean 127, stddev 128), which the weights were trained with.
_MEAN = 127.0
_STD = 128.0


class GistClassifier:
    """A loaded EfficientNet-Lite0 ImageNet classifier on onnxruntime (CPU)."""

    stage = "gist"

    def __init__(self, model_path: Path, labels_path: Path, *, threads: int = 0) -> None:
        self.labels = _read_labels(labels_path)
        self._session: Any = cpu_session(model_path, threads, stage=self.stage, what="image classifier")
        self._input = str(self._session.get_inputs()[0].name)
        outputs = int(self._session.get_outputs()[0].shape[-1])
        if outputs != len(self.labels):
            raise ModelNotFoundError(f"{labels_path} names {len(self.labels)} classes but the model has {outputs}")

    def classify(self, rgb: NDArray[np.uint8], *, top: int = 3) -> list[Guess]:
        """The ``top`` most likely classes of an H x W x 3 RGB image, most likely first."""
        if top < 1:
            raise ValueError(f"top must be at least 1, got {top}")
        logits = self._session.run(None, {self._input: preprocess(rgb)})[0][0]
        probabilities = _softmax(np.asarray(logits, dtype=np.float64))
        best = np.argsort(-probabilities, kind="stable")[:top]
        return [Guess(self.labels[i], float(probabilities[i])) for i in best]


def preprocess(rgb: NDArray[np.uint8]) -> NDArray[np.float32]:
    """The model's input (1 x 3 x 224 x 224): the central square of 224/256 of the short side, normalised."""
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3 or 0 in rgb.shape:
        raise ValueError(f"expected an H x W x 3 uint8 RGB image, got {rgb.dtype} {rgb.shape}")
    height, width = rgb.shape[:2]
    side = min(width, height) * _CROP_FRACTION
    box = ((width - side) / 2, (height - side) / 2, (width + side) / 2, (height + side) / 2)
    # Resizing just the crop's box matches resize-then-crop (to a fraction of a pixel) without scaling the discarded
    # edges, which is most of the work on a large photo.
    crop = Image.fromarray(rgb).resize((INPUT_SIZE, INPUT_SIZE), Image.Resampling.BILINEAR, box=box)
    pixels = (np.asarray(crop, dtype=np.float32) - _MEAN) / _STD
    return np.ascontiguousarray(pixels.transpose(2, 0, 1)[None])


def _softmax(logits: NDArray[np.float64]) -> NDArray[np.float64]:
    exps = np.exp(logits - logits.max())
    probabilities: NDArray[np.float64] = exps / exps.sum()
    return probabilities


def _read_labels(path: Path) -> list[str]:
    if not path.is_file():
        raise ModelNotFoundError(f"image classifier labels {path} do not exist; run `make install`")
    try:
        labels = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelNotFoundError(f"{path} is not a JSON list of labels: {exc}") from exc
    if not isinstance(labels, list) or not labels or not all(isinstance(label, str) for label in labels):
        raise ModelNotFoundError(f"{path} is not a JSON list of label strings")
    return labels
