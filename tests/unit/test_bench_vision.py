"""The vision benchmark's pieces: the rendered images, the part timings, the answer judge, the summary table."""

from __future__ import annotations

import numpy as np
import pytest

from omni.backends.perception import Perception
from omni.bench import vision, vision_answers
from omni.bench.vision import OcrReading, PartTiming, VisionResults
from omni.types import Pixels
from omni.vision.scene import Box, TextLine


def test_the_rendered_images_have_their_sizes_and_text() -> None:
    assert vision.camera_frame().shape == (480, 640, 3)
    assert vision.screenshot().shape == (720, 1280, 3)
    line = vision.line_image("안녕하세요 Omni", 24)
    assert line.shape[0] > 24 and line.min() < 60  # dark ink on a light line


def test_every_part_is_timed_on_every_image() -> None:
    def read(pixels: Pixels) -> dict[str, object]:
        return {"text": (TextLine("EXIT", Box(0, 0, 1, 1), 1.0),)}

    images = {"a": np.zeros((40, 60, 3), np.uint8), "b": np.full((30, 30, 3), 255, np.uint8)}
    timings, found = vision.measure_parts(Perception([("text", read)]), images, 2, lambda _: None)
    assert {(t.image, t.part) for t in timings} == {(i, p) for i in images for p in ("facts", "text", "whole")}
    assert all(len(t.seconds) == 2 and min(t.seconds) >= 0 for t in timings)
    assert found == {"a": ["EXIT"], "b": ["EXIT"]}


@pytest.mark.parametrize(("scene", "question", "answer", "expected"), [
    ("sign", "What does the sign say?", "It says trains to Busan leave from platform 14.", True),
    ("sign", "What does the sign say?", "It says trains leave from platform 4.", False),
    ("cat", "What colour are its eyes?", "I can't tell from the image.", True),
    ("cat", "What colour are its eyes?", "Its eyes are brown.", False),
    ("cat", "이 사진에 뭐가 있어요?", "고양이가 있어요.", True),
    ("street", "How many people are there?", "There are two people.", True),
    ("nothing", "What colour is the car?", "There is no car in the description.", True),
    ("nothing", "What is in this picture?", "A grey picture with no visible text, objects or faces.", True),
    ("nothing", "What colour is the car?", "The car is grey.", False),
])
def test_the_judge(scene: str, question: str, answer: str, expected: bool) -> None:
    (asked,) = [q for q in vision_answers.QUESTIONS if q.scene == scene and q.text == question]
    assert vision_answers.right(asked, answer) is expected


def test_every_question_has_its_scene() -> None:
    assert {q.scene for q in vision_answers.QUESTIONS} == set(vision_answers.SCENES)


def test_the_summary_table() -> None:
    results = VisionResults(
        parts=[PartTiming("camera frame", "text", (0.2, 0.3, 0.25))],
        ocr=[OcrReading("ko", 18, True, "안녕", "안녕", 0.0, 0.1), OcrReading("ko", 18, False, "안녕", "안", 0.5, 0.1)])
    table = vision.format_vision(results, [("with the camera frame", [0.9, None, 1.1])])
    assert "camera frame" in table and "250 ms" in table
    assert "ko  18 px, both polarities    0.250   0.500     2" in table
    assert "median 1000 ms over 2 turns (1 failed)" in table
