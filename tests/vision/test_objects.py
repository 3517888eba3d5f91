"""The object detector: letterboxing and box decoding on a stand-in model with fixed outputs, then NanoDet itself
on scikit-image's photos (``models``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from numpy.typing import NDArray
from onnx import TensorProto, helper, numpy_helper

from omni.types import Pixels
from omni.vision.objects import COCO_LABELS, INPUT_SIZE, STRIDES, ObjectDetector, letterbox
from omni.vision.scene import SeenObject
from tests.photos import photo

# One prediction of the stand-in model: stride, cell row and column, class, score, and each side's distance (in
# strides) from the cell's centre: left, top, right, bottom.
Prediction = tuple[int, int, int, int, float, tuple[int, int, int, int]]


def _stand_in_model(path: Path, predictions: list[Prediction]) -> Path:
    """A model with NanoDet's input and outputs that ignores its input and always predicts ``predictions``."""
    outputs, nodes, initializers = [], [], []
    for stride in STRIDES:
        cells = (INPUT_SIZE // stride) ** 2
        scores = np.zeros((1, cells, len(COCO_LABELS)), np.float32)
        boxes = np.zeros((1, cells, 4, 11), np.float32)
        for where, row, column, label, score, sides in predictions:
            if where == stride:
                cell = row * (INPUT_SIZE // stride) + column
                scores[0, cell, label] = score
                boxes[0, cell, range(4), sides] = 30.0  # a softmax of one-hot logits: the expectation is the bin
        for name, value in ((f"scores_{stride}", scores), (f"boxes_{stride}", boxes.reshape(1, cells, 44))):
            initializers.append(numpy_helper.from_array(value, f"{name}_value"))
            nodes.append(helper.make_node("Identity", [f"{name}_value"], [name]))
            outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, list(value.shape)))
    image = helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, INPUT_SIZE, INPUT_SIZE])
    graph = helper.make_graph(nodes, "stand-in", [image], outputs, initializer=initializers)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=8), path)
    return path


def _in_image(corners: tuple[float, float, float, float], image: Pixels) -> tuple[float, float, float, float]:
    """Input-pixel corners as the fractions of ``image`` they cover: x, y, w, h."""
    box = letterbox(image)[1].box(np.array(corners, np.float32))
    return box.x, box.y, box.w, box.h


def _xywh(obj: SeenObject) -> tuple[float, float, float, float]:
    return obj.box.x, obj.box.y, obj.box.w, obj.box.h


def test_letterbox_centres_the_image_and_maps_boxes_back() -> None:
    rgb = np.zeros((300, 800, 3), np.uint8)
    rgb[60:240, 200:400] = 255  # a white block: x 0.25..0.5, y 0.2..0.8
    pixels, placement = letterbox(rgb)
    assert pixels.shape == (1, 3, INPUT_SIZE, INPUT_SIZE)
    assert pixels.dtype == np.float32
    white = np.argwhere(pixels[0, 0] > 0)
    (top, left), (bottom, right) = white.min(axis=0), white.max(axis=0) + 1
    box = placement.box(np.array([left, top, right, bottom], np.float32))
    assert (box.x, box.y, box.w, box.h) == pytest.approx((0.25, 0.2, 0.25, 0.6), abs=0.01)
    # The image is centred with a margin on every side, and the rest is black (BGR-normalised zero).
    content = np.argwhere(np.abs(pixels[0, 0] - pixels[0, 0, 0, 0]) > 1e-6)
    assert content.min(axis=0)[1] > 0 and content.max(axis=0)[1] < INPUT_SIZE - 1
    assert pixels[0, 0, 0, 0] == pytest.approx(-103.53 / 57.375)


@pytest.mark.parametrize("shape", [(10, 10), (10, 10, 4), (0, 10, 3)])
def test_letterbox_refuses_what_is_not_an_rgb_image(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="H x W x 3"):
        letterbox(np.zeros(shape, dtype=np.uint8))


def test_labels_are_cocos_80_in_order() -> None:
    assert len(COCO_LABELS) == len(set(COCO_LABELS)) == 80
    indexes = {label: COCO_LABELS.index(label) for label in ("person", "cat", "cup", "dining table", "toothbrush")}
    assert indexes == {"person": 0, "cat": 15, "cup": 41, "dining table": 60, "toothbrush": 79}


def test_predictions_decode_to_boxes_in_the_image(tmp_path: Path) -> None:
    model = _stand_in_model(
        tmp_path / "model.onnx",
        [
            (16, 10, 13, 15, 0.9, (3, 2, 3, 2)),  # a cat centred at (216, 168) in the input
            (16, 10, 13, 16, 0.5, (3, 2, 3, 2)),  # the same box as a dog: only the likelier label stays
            (8, 40, 10, 41, 0.6, (1, 1, 2, 2)),  # a cup centred at (84, 324)
            (32, 2, 2, 41, 0.3, (1, 1, 1, 1)),  # too unsure
        ],
    )
    image = np.zeros((480, 640, 3), np.uint8)
    cat, cup = ObjectDetector(model, threads=1).detect(image)
    assert (cat.label, cup.label) == ("cat", "cup")
    assert _xywh(cat) == pytest.approx(_in_image((168, 136, 264, 200), image), abs=1e-5)
    assert _xywh(cup) == pytest.approx(_in_image((76, 316, 100, 340), image), abs=1e-5)
    assert (cat.confidence, cup.confidence) == pytest.approx((0.9, 0.6))
    assert [obj.label for obj in ObjectDetector(model).detect(image, min_confidence=0.2)] == ["cat", "cup", "cup"]


def test_boxes_are_clipped_to_the_image(tmp_path: Path) -> None:
    model = _stand_in_model(tmp_path / "model.onnx", [(32, 0, 0, 0, 0.8, (10, 10, 2, 2))])  # past the top left
    (person,) = ObjectDetector(model).detect(np.zeros((200, 200, 3), np.uint8))
    assert (person.box.x, person.box.y) == (0.0, 0.0)
    assert 0 < person.box.w < 1 and 0 < person.box.h < 1


# NanoDet itself.



def _centre(obj: SeenObject) -> tuple[float, float]:
    return obj.box.centre


@pytest.mark.models
@pytest.mark.parametrize(
    ("name", "label", "centre"),
    [
        ("astronaut.png", "person", (0.37, 0.51)),
        ("chelsea.png", "cat", (0.48, 0.49)),
        ("motorcycle_left.png", "motorcycle", (0.53, 0.51)),
    ],
)
def test_the_photos_subject_and_nothing_else(
    detector: ObjectDetector, skimage_photos: Path, name: str, label: str, centre: tuple[float, float]
) -> None:
    found = detector.detect(photo(skimage_photos, name))
    assert [obj.label for obj in found] == [label]
    assert found[0].confidence > 0.6
    assert _centre(found[0]) == pytest.approx(centre, abs=0.05)


@pytest.mark.models
def test_the_close_up_cup_is_found_at_lower_confidence(detector: ObjectDetector, skimage_photos: Path) -> None:
    coffee = photo(skimage_photos, "coffee.png")
    assert {obj.label for obj in detector.detect(coffee)} <= {"dining table", "cup"}
    found = detector.detect(coffee, min_confidence=0.3)
    cups = [obj for obj in found if obj.label == "cup"]
    assert len(cups) == 1
    assert _centre(cups[0]) == pytest.approx((0.48, 0.34), abs=0.06)
    assert "person" not in {obj.label for obj in found}


@pytest.mark.models
@pytest.mark.parametrize("name", ["rocket.jpg", "brick.png", "grass.png", "gravel.png", "page.png", "text.png"])
def test_nothing_is_claimed_where_no_coco_object_is(detector: ObjectDetector, skimage_photos: Path, name: str) -> None:
    assert detector.detect(photo(skimage_photos, name)) == []


@pytest.mark.models
def test_a_wide_frame_with_two_subjects(detector: ObjectDetector, skimage_photos: Path) -> None:
    frame: NDArray[np.uint8] = np.full((720, 1280, 3), 90, np.uint8)
    frame[110:610, :741] = photo(skimage_photos, "motorcycle_left.png")
    frame[210:510, 800:1251] = photo(skimage_photos, "chelsea.png")
    found = {obj.label: obj for obj in detector.detect(frame)}
    assert set(found) == {"motorcycle", "cat"}
    assert _centre(found["motorcycle"]) == pytest.approx((0.31, 0.5), abs=0.06)
    assert _centre(found["cat"]) == pytest.approx((0.8, 0.5), abs=0.06)


@pytest.mark.models
def test_findings_are_ordered_and_inside_the_image(detector: ObjectDetector, skimage_photos: Path) -> None:
    found = detector.detect(photo(skimage_photos, "motorcycle_left.png"), min_confidence=0.2)
    assert len(found) > 3
    confidences = [obj.confidence for obj in found]
    assert confidences == sorted(confidences, reverse=True)
    for obj in found:
        assert obj.box.x >= 0 and obj.box.y >= 0 and obj.box.w > 0 and obj.box.h > 0
        assert obj.box.x + obj.box.w <= 1 + 1e-6 and obj.box.y + obj.box.h <= 1 + 1e-6
