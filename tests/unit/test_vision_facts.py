"""Simple image facts, frame change detection and the note the LLM reads."""

from __future__ import annotations

import numpy as np

from omni.vision import describe
from omni.vision.change import same_view, signature
from omni.vision.facts import measure, with_colours
from omni.vision.scene import Box, Face, Guess, ImageFacts, Scene, SeenObject, TextLine


def solid(rgb: tuple[int, int, int], size: tuple[int, int] = (120, 160)) -> np.ndarray:
    return np.full((*size, 3), rgb, dtype=np.uint8)


def test_colours_and_brightness_of_plain_pictures() -> None:
    assert measure(solid((255, 255, 255))).colours == ("white",)
    assert measure(solid((0, 0, 0))).brightness == 0.0
    assert measure(solid((220, 20, 20))).colours == ("red",)
    assert measure(solid((20, 40, 220))).colours == ("blue",)
    assert measure(solid((200, 180, 150))).colours == ("beige",)
    assert measure(solid((120, 70, 30))).colours == ("brown",)
    half = solid((20, 160, 30))
    half[:, 80:] = (250, 220, 20)
    assert set(measure(half).colours) == {"green", "yellow"}


def test_a_flat_picture_is_blurry_and_a_checkerboard_is_sharp() -> None:
    assert measure(solid((128, 128, 128))).blurry
    board = (np.indices((120, 160)).sum(axis=0) // 4 % 2 * 255).astype(np.uint8)
    assert not measure(np.repeat(board[:, :, None], 3, axis=2)).blurry


def test_noise_is_the_same_view_and_new_text_is_not() -> None:
    rng = np.random.default_rng(1)
    base = solid((200, 200, 200), (480, 640))
    noisy = np.clip(base.astype(int) + rng.integers(-6, 7, base.shape), 0, 255).astype(np.uint8)
    assert same_view(signature(base), signature(noisy))
    changed = base.copy()
    changed[200:260, 100:400] = 20  # a dark line of "text" appears
    assert not same_view(signature(base), signature(changed))
    assert not same_view(signature(base), signature(solid((200, 200, 200), (480, 480))))


FACTS = ImageFacts(width=640, height=480, brightness=0.8, colours=("white",), sharpness=300.0, blurry=False)


def test_the_note_lists_what_was_found_and_says_what_was_not() -> None:
    scene = Scene(FACTS, text=(TextLine("Platform 14", Box(0.1, 0.1, 0.3, 0.1), 0.9),),
                  objects=(SeenObject("person", Box(0.0, 0.3, 0.2, 0.6), 0.8, ("red",)),
                           SeenObject("person", Box(0.7, 0.3, 0.2, 0.6), 0.7)),
                  gist=(Guess("street sign", 0.4), Guess("traffic light", 0.05)))
    note = describe.note(scene)
    assert '"Platform 14"' in note
    assert "2 people (left, clothes mostly red; right)" in note
    assert "perhaps shows: street sign." in note and "traffic light" not in note
    assert "No faces were found." in note and "640×480" in note
    assert note.endswith("Nothing else about the image is known.]")
    empty = describe.note(Scene(FACTS))
    assert "No text was found" in empty and "No objects were recognised" in empty and "is unsure" in empty


def test_korean_users_get_the_korean_names_of_objects() -> None:
    scene = Scene(FACTS, objects=(SeenObject("cat", Box(0.3, 0.3, 0.4, 0.4), 0.8),))
    assert "1 cat (고양이)" in describe.note(scene, language="ko")
    assert "고양이" not in describe.note(scene, language="en")
    assert "고양이" in describe.short_note(scene, language="ko")


def test_faces_and_a_description_in_the_note() -> None:
    assert "looking happy" in describe.note(Scene(FACTS, faces=(Face(Box(0.4, 0.4, 0.2, 0.2), "happy", 0.9),)))
    described = describe.note(Scene(FACTS, description="A red bicycle against a wall."))
    assert "A red bicycle against a wall." in described and "No text" not in described


def test_positions() -> None:
    assert describe.position(Box(0.0, 0.0, 0.1, 0.1)) == "top left"
    assert describe.position(Box(0.45, 0.45, 0.1, 0.1)) == "centre"
    assert describe.position(Box(0.8, 0.45, 0.1, 0.1)) == "right"
    assert describe.position(Box(0.45, 0.9, 0.1, 0.1)) == "bottom"


def test_the_json_view_has_every_finding() -> None:
    scene = Scene(FACTS, text=(TextLine("Hi", Box(0, 0, 0.5, 0.5), 0.99),), timings={"text": 0.25})
    view = describe.as_json(scene)
    assert view["text"] == [{"text": "Hi", "box": [0, 0, 0.5, 0.5], "confidence": 0.99}]
    assert view["facts"]["width"] == 640 and view["timings_ms"] == {"text": 250.0}


def test_an_objects_colour_is_measured_in_its_middle() -> None:
    picture = solid((240, 240, 240), (200, 200))
    picture[50:150, 50:150] = (200, 20, 20)  # a red object on a white wall
    (found,) = with_colours(picture, [SeenObject("car", Box(0.2, 0.2, 0.6, 0.6), 0.9)])
    assert found.colours == ("red",)
