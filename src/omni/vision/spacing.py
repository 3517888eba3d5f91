"""Where a text line read in pieces has its spaces: the line's ink, the font size, and the gaps that are spaces.

A line is read in pieces (RapidOCR's characters, Tesseract's Korean words). Tesseract splits Korean words into
syllables and RapidOCR drops about a fifth of the spaces in English, so between two pieces a space is put where
RapidOCR put one, or where the widest ink-free gap between them is at least :data:`SPACE_GAP` of the font size.

The font size (an em, in pixels) is the line's ink height over the share of an em its letters span (:func:`em`): a
line without descenders ("Trains to Busan") stands 0.75 em tall, one of small letters alone ("one more room") 0.54,
and a quarter of the ink height split such lines' words where DejaVu leaves 0.2 em between two letters.
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

SPACE_GAP = 0.26
"""An ink-free gap at least this share of the font size between two pieces is a space (:func:`space_width`)."""

# The text height before reading is at least this share of the detector's line box (it has a margin around the text).
_MIN_TEXT_HEIGHT = 0.65
# How far letters reach above and below the baseline, in ems, in DejaVu Sans/Serif and Noto Sans/Serif CJK: capitals
# 0.73, digits 0.74, ascenders and the dots of i and j 0.74-0.81, x-height 0.52-0.56, descenders 0.21-0.26; Hangul
# 0.83-0.85 above and 0.08-0.12 below (a final consonant, or a vowel under the initial one).
_TALL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789bdfhijklt!?#$%&()/@[]{}|\\'\"")
_DESCENDING = frozenset("gjpqy()[]{}|@,;")
_TALL_TOP, _SMALL_TOP, _DESCENDER = 0.75, 0.54, 0.21
_SQUARE_TOP, _SQUARE_BOTTOM = 0.84, 0.1


@dataclass(frozen=True)
class Ink:
    """Where a line crop has text pixels, and how tall its text is."""

    columns: NDArray[np.bool_]
    height: float
    """The text's height in pixels, to go by before it is read: the ink's, or more if the line box is taller."""
    extent: float
    """Pixel rows from the top of the highest ink to the bottom of the lowest."""
    dark_text: bool


@dataclass(frozen=True)
class Piece:
    """Text read at one place of a line crop; ``left`` and ``right`` are crop pixels."""

    text: str
    left: float
    right: float
    confidence: float
    spaced: bool = False
    """Whether the recogniser itself put a space before this piece."""


def line_ink(crop: NDArray[np.uint8]) -> Ink:
    """Text pixels of a BGR line crop by Otsu's threshold; the text is the side the crop's border is not."""
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    threshold, _ = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    dark_text = bool(np.median(border) > threshold)
    text = grey < threshold if dark_text else grey > threshold
    rows = np.flatnonzero(text.any(axis=1))
    extent = float(rows[-1] - rows[0] + 1) if rows.size else 0.0
    # Digits and small letters alone stand lower than a line with ascenders and descenders; the box keeps the scale.
    height = max(extent, _MIN_TEXT_HEIGHT * crop.shape[0])
    return Ink(np.asarray(text.any(axis=0)), height, extent, dark_text)


def ink_runs(columns: NDArray[np.bool_], em: float) -> list[tuple[int, int]]:
    """Runs of inked columns, [left, right) in crop pixels, joined across gaps narrower than a space."""
    inked = np.flatnonzero(columns)
    if inked.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(inked) - 1 >= space_width(em))
    starts = np.concatenate([[inked[0]], inked[breaks + 1]])
    ends = np.concatenate([inked[breaks], [inked[-1]]]) + 1
    return [(int(start), int(end)) for start, end in zip(starts, ends, strict=True)]


def joined(pieces: Sequence[Piece], ink: Ink) -> tuple[str, float]:
    """The pieces' text with a space where the recogniser put one or the gap between two pieces is a space."""
    if not pieces:
        return "", 0.0
    size = em("".join(piece.text for piece in pieces), ink)
    text = pieces[0].text
    for before, after in itertools.pairwise(pieces):
        space = after.spaced or _gap_between(before, after, ink, size) >= space_width(size)
        text += (" " if space else "") + after.text
    weights = np.array([len(piece.text) for piece in pieces], dtype=np.float64)
    confidence = float(np.average([piece.confidence for piece in pieces], weights=weights))
    return text, confidence


def em(text: str, ink: Ink) -> float:
    """The font size in pixels: the ink's extent over the share of an em that the letters of ``text`` span.

    Without a letter to go by (a lone "-") it is the text height before reading.
    """
    top = bottom = 0.0
    for char in text:
        if unicodedata.east_asian_width(char) == "W":
            top, bottom = max(top, _SQUARE_TOP), max(bottom, _SQUARE_BOTTOM)
        elif char in _TALL:
            top = max(top, _TALL_TOP)
        elif char.isalpha():
            top = max(top, _SMALL_TOP)
        if char in _DESCENDING:
            bottom = max(bottom, _DESCENDER)
    return ink.extent / (top + bottom) if top else ink.height


def space_width(em: float) -> float:
    """The narrowest ink-free gap, in pixels, that is a space in text of this font size.

    Measured between the pieces read on 1212 lines rendered at 16-64 px (DejaVu Sans, Bold, Serif, Condensed and
    ExtraLight; Noto Sans CJK, Bold and Noto Serif CJK, in English and Korean; on a screen, and on a sign through a
    camera, tilted up to 3 degrees): RapidOCR's own spaces were all right, but it missed 479 of 2400. With this rule
    as well, 25 of 14195 gaps inside words counted (ExtraLight "E M" and "l :") and 35 of 3102 spaces were missed
    (Noto's narrow space, blurred): 9 and 24 with the true font size, 148 and 27 with a quarter of the ink height
    (and half a pixel) instead. On 605 lines at 10-14 px (some enlarged by the reader) 8 and 62 of 8552 gaps were
    wrong, against 27 and 101. Tesseract's own word breaks (between most syllables) and its word boxes (off by up to
    a syllable) were no use for this.
    """
    return SPACE_GAP * em


def _gap_between(before: Piece, after: Piece, ink: Ink, em: float) -> int:
    """The widest run of ink-free columns between two pieces, in whole columns.

    Searched from a little inside each piece, since Tesseract's word boxes may end a few columns off the ink; a run
    that reaches into that window counts whole, but never past the pieces' own outer ends (a character's position
    from RapidOCR is a point, which may sit on the blank beside its letter).
    """
    low, high = int(before.left), int(np.ceil(after.right))
    blank = np.concatenate([[False], ~ink.columns[low:high], [False]]).astype(np.int8)
    runs = np.flatnonzero(np.diff(blank)).reshape(-1, 2) + low
    reach = space_width(em)
    reaching = runs[(runs[:, 0] < min(after.right, after.left + reach)) & (runs[:, 1] > before.right - reach)]
    return int((reaching[:, 1] - reaching[:, 0]).max()) if reaching.size else 0
