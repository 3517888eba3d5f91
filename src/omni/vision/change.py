"""Whether a video frame shows something new: a cheap signature of each frame and a difference between two.

A camera pointed at the same scene, or a screen where only the cursor moved, should not be looked at again: OCR of
a full screen costs about a second. The signature is a small grey thumbnail; two frames differ when enough of its
pixels changed by more than sensor noise does.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from omni.types import Pixels

SIDE = 64
PIXEL_STEP = 16
"""Grey levels (of 255) a thumbnail pixel must move by to count as changed; camera noise averages below this."""
CHANGED_SHARE = 0.004
"""Share of thumbnail pixels that must change for a new frame (16 of 4096: a line of new text on a screen)."""


@dataclass(frozen=True, eq=False)
class Signature:
    thumbnail: npt.NDArray[np.int16]
    aspect: float


def signature(pixels: Pixels) -> Signature:
    height, width = pixels.shape[:2]
    grey = cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY)
    thumb = cv2.resize(grey, (SIDE, SIDE), interpolation=cv2.INTER_AREA)
    return Signature(thumb.astype(np.int16), round(width / height, 2))


def changed_share(a: Signature, b: Signature) -> float:
    """Share of the thumbnail that differs (1.0 for frames of different shapes)."""
    if a.aspect != b.aspect:
        return 1.0
    return float(np.mean(np.abs(a.thumbnail - b.thumbnail) > PIXEL_STEP))


def same_view(a: Signature, b: Signature) -> bool:
    return changed_share(a, b) < CHANGED_SHARE
