"""The order to read the text lines of a page in: columns left to right, each top to bottom; a form row by row.

A recursive cut of the page at its blank gaps: at a vertical gap wide enough for a column gutter, the two sides are
columns unless most lines of one side have a line of the other at the same height (a form, or a table: label and
value side by side, read by rows); otherwise the page is cut at its horizontal gaps into bands, read top to bottom.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

Boxes = NDArray[np.float64]
"""One row per line: left, top, right, bottom, in pixels."""


def reading_order(boxes: Boxes) -> list[int]:
    """The indices of the lines in reading order."""
    return _ordered(boxes, np.arange(len(boxes)))


def _ordered(boxes: Boxes, lines: NDArray[np.intp]) -> list[int]:
    if len(lines) <= 1:
        return [int(line) for line in lines]
    extents = boxes[lines]
    line_height = float(np.median(extents[:, 3] - extents[:, 1]))
    for side in _split(extents[:, 0], extents[:, 2], line_height):
        if not _rows_aligned(extents[side], extents[~side], line_height):
            return _ordered_parts(boxes, lines, [side, ~side])
    bands = _bands(extents[:, 1], extents[:, 3])
    if len(bands) > 1:
        return _ordered_parts(boxes, lines, bands)
    return [int(lines[i]) for i in _by_rows(extents, line_height)]


def _ordered_parts(boxes: Boxes, lines: NDArray[np.intp], parts: Sequence[NDArray[np.bool_]]) -> list[int]:
    return [line for part in parts for line in _ordered(boxes, lines[part])]


def _by_rows(extents: Boxes, line_height: float) -> list[int]:
    """Indices top to bottom, and left to right among lines whose middles are within half a line of each other."""
    middles = (extents[:, 1] + extents[:, 3]) / 2
    rows: list[list[int]] = []
    for i in np.argsort(middles, kind="stable"):
        if rows and middles[i] - middles[rows[-1][0]] < line_height / 2:
            rows[-1].append(int(i))
        else:
            rows.append([int(i)])
    return [i for row in rows for i in sorted(row, key=lambda i: extents[i, 0])]


def _split(starts: NDArray[np.float64], ends: NDArray[np.float64], line_height: float) -> list[NDArray[np.bool_]]:
    """Masks of the lines left of each blank vertical gap at least a line height wide, widest gap first."""
    gaps = sorted(_gaps(starts, ends), key=lambda gap: gap[1] - gap[0], reverse=True)
    return [starts < (left + right) / 2 for left, right in gaps if right - left >= line_height]


def _bands(starts: NDArray[np.float64], ends: NDArray[np.float64]) -> list[NDArray[np.bool_]]:
    """Masks of the lines between consecutive blank horizontal gaps, top to bottom."""
    cuts = [(start + end) / 2 for start, end in _gaps(starts, ends)]
    centres = (starts + ends) / 2
    bounds = [-np.inf, *cuts, np.inf]
    return [(centres >= low) & (centres < high) for low, high in itertools.pairwise(bounds)]


def _gaps(starts: NDArray[np.float64], ends: NDArray[np.float64]) -> list[tuple[float, float]]:
    """Blank intervals between the union of [start, end) intervals, in order."""
    gaps = []
    order = np.argsort(starts, kind="stable")
    reach = float(ends[order[0]])
    for i in order[1:]:
        if starts[i] > reach:
            gaps.append((reach, float(starts[i])))
        reach = max(reach, float(ends[i]))
    return gaps


def _rows_aligned(one: Boxes, other: Boxes, line_height: float) -> bool:
    """Whether most lines of the smaller side share a row (centre within a third of a line) with the other side."""
    smaller, larger = (one, other) if len(one) <= len(other) else (other, one)
    centres = (larger[:, 1] + larger[:, 3]) / 2
    matched = sum(bool(np.any(np.abs(centres - middle) < line_height / 3)) for middle in smaller[:, 1::2].mean(axis=1))
    return matched >= 0.6 * len(smaller)
