"""Simple facts about a whole image: size, brightness, dominant colours, sharpness. Cheap (a few ms) and certain,
so the assistant can always say something true about a picture even when no model recognises anything in it."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from omni.types import Pixels
from omni.vision.scene import Box, ImageFacts, SeenObject

WORKING_SIDE = 512
"""Sharpness is measured at this longer side, so it means the same for a thumbnail and a screenshot."""
BLURRY_BELOW = 60.0
"""Laplacian variance under which the picture is called blurry (sharp photos and screenshots measure hundreds)."""
COLOUR_SHARE = 0.12
"""A colour is named when it covers at least this share of the picture."""

# Hue ranges on OpenCV's 0..180 scale, for pixels that are saturated and bright enough to have a hue.
_HUES: tuple[tuple[int, str], ...] = (
    (8, "red"), (20, "orange"), (33, "yellow"), (78, "green"), (96, "cyan"), (130, "blue"), (150, "purple"),
    (170, "pink"), (181, "red"),
)


def measure(pixels: Pixels) -> ImageFacts:
    height, width = pixels.shape[:2]
    small = _fit(pixels, WORKING_SIDE)
    grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    sharpness = float(cv2.Laplacian(grey, cv2.CV_64F).var())
    return ImageFacts(
        width=int(width),
        height=int(height),
        brightness=round(float(grey.mean()) / 255.0, 3),
        colours=dominant_colours(_fit(small, 64)),
        sharpness=round(sharpness, 1),
        blurry=sharpness < BLURRY_BELOW,
    )


def dominant_colours(pixels: Pixels, *, limit: int = 3, share: float = COLOUR_SHARE) -> tuple[str, ...]:
    """Colour names covering at least ``share`` of the picture, most covering first."""
    names = _colour_names(np.asarray(cv2.cvtColor(pixels, cv2.COLOR_RGB2HSV), dtype=np.uint8).reshape(-1, 3))
    labels, counts = np.unique(names, return_counts=True)
    order = np.argsort(-counts, kind="stable")
    total = names.size
    return tuple(str(labels[i]) for i in order[:limit] if counts[i] / total >= share)


OBJECT_COLOUR_SHARE = 0.3
"""An object's colour is named when it covers this share of the object's middle (the rest is often background)."""


def with_colours(pixels: Pixels, objects: list[SeenObject]) -> list[SeenObject]:
    """``objects`` with their dominant colours: measured, so that "what colour is the car?" has a true answer."""
    return [SeenObject(o.label, o.box, o.confidence, _object_colours(pixels, o)) for o in objects]


def _object_colours(pixels: Pixels, obj: SeenObject) -> tuple[str, ...]:
    # The middle of the box holds the object more than its corners do; of a person, the middle of the upper body
    # is the clothes (the face and hair are above it, the background beside it).
    inner = Box(obj.box.x + obj.box.w * 0.25, obj.box.y + obj.box.h * 0.25, obj.box.w * 0.5, obj.box.h * 0.5)
    if obj.label == "person":
        inner = Box(obj.box.x + obj.box.w * 0.3, obj.box.y + obj.box.h * 0.3, obj.box.w * 0.4, obj.box.h * 0.25)
    height, width = pixels.shape[:2]
    top, left = round(inner.y * height), round(inner.x * width)
    crop = pixels[top:max(top + 1, round((inner.y + inner.h) * height)),
                  left:max(left + 1, round((inner.x + inner.w) * width))]
    return dominant_colours(_fit(np.ascontiguousarray(crop), 48), limit=2, share=OBJECT_COLOUR_SHARE)


def _colour_names(hsv: npt.NDArray[np.uint8]) -> npt.NDArray[np.str_]:
    hue, sat, val = (hsv[:, i].astype(np.int32) for i in range(3))
    names = np.full(hue.shape, "grey", dtype="<U8")
    for limit, name in reversed(_HUES):
        names[hue < limit] = name
    # Dark oranges and reds read as brown, pale ones as beige; unsaturated pixels are black, grey or white by
    # their brightness.
    warm = (names == "orange") | (names == "yellow")
    names[warm & (sat < 110) & (val >= 150)] = "beige"
    names[(names == "orange") & (val < 150)] = "brown"
    names[(names == "red") & (val < 110) & (sat < 200)] = "brown"
    grey = sat < 45
    names[grey] = "grey"
    names[grey & (val > 200)] = "white"
    names[val < 45] = "black"
    return names


def _fit(pixels: Pixels, side: int) -> Pixels:
    height, width = pixels.shape[:2]
    scale = side / max(height, width)
    if scale >= 1:
        return pixels
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(cv2.resize(pixels, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)
