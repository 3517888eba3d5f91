"""The face reader: OpenCV's face finder with a stand-in expression model of fixed answers, then the real expression
model (``models``) on scikit-image's astronaut and on LFW faces (scikit-image's ``lfw_subset.npy``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import onnx
import pytest
from numpy.typing import NDArray
from onnx import TensorProto, helper, numpy_helper

from omni.types import Pixels
from omni.vision.faces import EXPRESSION_MIN_CONFIDENCE, EXPRESSIONS, FaceReader
from omni.vision.scene import Face
from tests.photos import photo

# Where the astronaut's face is, as fractions of the photo: centre and side.
ASTRONAUT_FACE = (0.436, 0.221)
ASTRONAUT_FACE_SIDE = 0.18
# LFW faces (indexes into lfw_subset.npy) that plainly smile, and one with the mouth wide open.
SMILING = (31, 37, 81, 85, 94)
SURPRISED = 29


def _stand_in_model(path: Path, probabilities: list[float]) -> Path:
    """An expression model that gives every face the same ``probabilities``."""
    face = helper.make_tensor_value_info("face", TensorProto.FLOAT, ["batch", 64, 64, 1])
    expressions = helper.make_tensor_value_info("expressions", TensorProto.FLOAT, ["batch", 7])
    nodes = [
        helper.make_node("ReduceMean", ["face", "axes"], ["mean"], keepdims=0),  # one number per face
        helper.make_node("Unsqueeze", ["mean", "one"], ["column"]),
        helper.make_node("Mul", ["column", "zero"], ["zeros"]),
        helper.make_node("Add", ["zeros", "answer"], ["expressions"]),
    ]
    constants: dict[str, NDArray[Any]] = {
        "axes": np.array([1, 2, 3], np.int64),
        "one": np.array([1], np.int64),
        "zero": np.zeros((1, 1), np.float32),
        "answer": np.array([probabilities], np.float32),
    }
    initializers = [numpy_helper.from_array(value, name) for name, value in constants.items()]
    graph = helper.make_graph(nodes, "stand-in", [face], [expressions], initializer=initializers)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=8), path)
    return path



def _assert_is_the_astronauts_face(face: Face) -> None:
    assert face.box.centre == pytest.approx(ASTRONAUT_FACE, abs=0.03)
    assert face.box.w == pytest.approx(ASTRONAUT_FACE_SIDE, abs=0.04)
    assert face.box.h == pytest.approx(ASTRONAUT_FACE_SIDE, abs=0.04)


@pytest.mark.parametrize(
    ("probabilities", "expression", "confidence"),
    [
        ([0.02, 0.02, 0.02, 0.85, 0.03, 0.03, 0.03], "happy", 0.85),
        ([0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.94], "neutral", 0.94),
        ([0.5, 0.0, 0.0, 0.0, 0.4, 0.0, 0.1], None, 0.0),  # not sure enough to say
    ],
)
def test_the_expression_is_named_only_when_clear(
    tmp_path: Path, skimage_photos: Path, probabilities: list[float], expression: str | None, confidence: float
) -> None:
    reader = FaceReader(_stand_in_model(tmp_path / "expressions.onnx", probabilities), threads=1)
    (face,) = reader.read(photo(skimage_photos, "astronaut.png"))
    _assert_is_the_astronauts_face(face)
    assert face.expression == expression
    assert face.expression_confidence == pytest.approx(confidence)


def test_faces_are_found_at_any_image_size_largest_first(tmp_path: Path, skimage_photos: Path) -> None:
    reader = FaceReader(_stand_in_model(tmp_path / "expressions.onnx", [1 / 7] * 7))
    astronaut = photo(skimage_photos, "astronaut.png")
    frame = np.full((1080, 1920, 3), 128, np.uint8)
    frame[40:1040, 60:1060] = cv2.resize(astronaut, (1000, 1000))
    frame[240:840, 1200:1800] = cv2.resize(astronaut, (600, 600))
    big, small = reader.read(frame)
    x, y = ASTRONAUT_FACE
    assert big.box.centre == pytest.approx(((60 + 1000 * x) / 1920, (40 + 1000 * y) / 1080), abs=0.02)
    assert small.box.centre == pytest.approx(((1200 + 600 * x) / 1920, (240 + 600 * y) / 1080), abs=0.02)
    assert big.box.w == pytest.approx(1000 / 600 * small.box.w, rel=0.15)
    assert big.expression is None and small.expression is None


def test_expression_threshold_is_a_probability() -> None:
    assert 0.5 < EXPRESSION_MIN_CONFIDENCE < 1
    assert EXPRESSIONS == ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


def test_read_refuses_what_is_not_an_rgb_image(tmp_path: Path) -> None:
    reader = FaceReader(_stand_in_model(tmp_path / "expressions.onnx", [1 / 7] * 7))
    with pytest.raises(ValueError, match="H x W x 3"):
        reader.read(np.zeros((64, 64), np.uint8))


# The real expression model.


def _lfw_face(folder: Path, index: int) -> Pixels:
    """One of LFW's 25 x 25 grey faces, enlarged and set in a frame (its edges drawn out) as a photo would hold it."""
    faces: NDArray[np.float64] = np.load(folder / "lfw_subset.npy")
    face = cv2.resize((faces[index] * 255).astype(np.uint8), (100, 100), interpolation=cv2.INTER_CUBIC)
    framed = cv2.copyMakeBorder(face, 40, 40, 40, 40, cv2.BORDER_REPLICATE)
    return np.asarray(cv2.cvtColor(framed, cv2.COLOR_GRAY2RGB), dtype=np.uint8)


@pytest.mark.models
def test_the_astronaut_smiles(reader: FaceReader, skimage_photos: Path) -> None:
    (face,) = reader.read(photo(skimage_photos, "astronaut.png"))
    _assert_is_the_astronauts_face(face)
    assert face.expression == "happy"
    assert face.expression_confidence > 0.9


@pytest.mark.models
@pytest.mark.parametrize("name", ["coffee.png", "chelsea.png", "motorcycle_left.png", "rocket.jpg", "horse.png"])
def test_no_face_where_there_is_none(reader: FaceReader, skimage_photos: Path, name: str) -> None:
    assert reader.read(photo(skimage_photos, name)) == []


@pytest.mark.models
@pytest.mark.parametrize(("index", "expression"), [*((index, "happy") for index in SMILING), (SURPRISED, "surprise")])
def test_lfw_expressions(reader: FaceReader, skimage_photos: Path, index: int, expression: str) -> None:
    (face,) = reader.read(_lfw_face(skimage_photos, index))
    assert face.expression == expression
