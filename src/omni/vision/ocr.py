"""Text in an image, in English and Korean: RapidOCR finds the lines and reads Latin text, Tesseract reads Hangul.

RapidOCR's PP-OCRv4 detector finds the text lines and its recogniser (Chinese and English, no Hangul) reads each
line. It skips Hangul or puts a few CJK signs for it, so a line where it left a word-wide run of ink unread, or put
a CJK sign, goes to Tesseract's Hangul script model (its C library through ctypes, the model loaded once): the words
with Hangul in them are kept, and the rest of the line's ink (Latin words, digits) is read again by RapidOCR piece
by piece, where it reads well.

Spaces: Tesseract splits Korean words into syllables and RapidOCR drops some spaces, so between two pieces of a line
(RapidOCR's characters, Tesseract's words) a space is put where RapidOCR put one, or where the widest ink-free gap
between the pieces is wider than a quarter of the text height (:func:`_space_width` has the measurements).

Without the Tesseract library or its Hangul data English is still read, :attr:`TextReader.korean_unavailable` says
what to install, and the signs RapidOCR puts for Hangul are dropped: a Korean line is left out, not garbled.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib
import itertools
import logging
import os
import threading
import unicodedata
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from omni.cores import CORES
from omni.errors import BackendUnavailableError
from omni.vision.onnx_session import cpu_session
from omni.vision.scene import Box, TextLine

log = logging.getLogger(__name__)

DETECT_SIDE = 960
"""The detector looks at the image with its longer side at most this many pixels; lines are cut from the original."""
MIN_SIDE = 640
"""Smaller images are enlarged to this longer side first: small text in them was missed, and its spaces lost."""
SPACE_GAP = 0.25
"""An ink-free gap wider than this share of the text height (and half a pixel) between two pieces is a space."""
UNREAD_WIDTH = 0.6
"""A run of ink at least this share of the text height wide with no character read on it is text left unread.

A Hangul syllable is about one text height wide. Measured on rendered lines of 12-32 px: the widest run left unread
on an English line was 0.22 (a lone "|"), the widest on a Korean line at least 1.8."""
MIN_CONFIDENCE = 0.5
"""Lines read with less confidence are dropped (RapidOCR's own default)."""
TESSERACT_HEIGHT = 40
"""Line crops are scaled to this height in pixels for Tesseract (32 to 48 read 180 lines of 12-32 px text alike)."""
INSTALL_HANGUL = "apt-get install tesseract-ocr tesseract-ocr-script-hang"

Image = NDArray[np.uint8]
Quad = NDArray[np.float32]
_Found = tuple[str, Quad, float]
"""A line's text, its quadrilateral in the image and its confidence."""

# A character's position from the recogniser may be off by about a frame, 8 of its 48 px: 1/6 of the line's height.
_FRAMES_PER_HEIGHT = 6
# Tesseract reads a line better with a margin of background around it (alone on 144 lines: CER 0.14 without, 0.07).
_TESSERACT_MARGIN = 0.3
_HANGUL_FIRST, _HANGUL_LAST = "\uac00", "\ud7a3"
# The text height is at least this share of the detector's line box (the box has a margin around the text).
_MIN_TEXT_HEIGHT = 0.65


@dataclass(frozen=True)
class _Ink:
    """Where a line crop has text pixels, and how tall its text is."""

    columns: NDArray[np.bool_]
    height: float
    dark_text: bool


@dataclass(frozen=True)
class _Piece:
    """Text read at one place of a line crop; ``left`` and ``right`` are crop pixels."""

    text: str
    left: float
    right: float
    confidence: float
    spaced: bool = False
    """Whether the recogniser itself put a space before this piece."""


@dataclass(frozen=True)
class _Line:
    """A detected line: where it is in the image, its pixels cut out upright, and their ink."""

    quad: Quad
    crop: Image
    ink: _Ink


class TextReader:
    """Reads the text lines of RGB images; calls are serialised, so one reader may serve several threads.

    ``threads`` is onnxruntime's thread count (0: every core). ``tesseract`` names the Tesseract C library as
    :func:`ctypes.util.find_library` takes it ("tesseract" finds libtesseract.so.5), or is the library's path.
    """

    def __init__(self, *, threads: int = 0, tesseract: str = "tesseract") -> None:
        rapidocr = _import_rapidocr()
        threads = threads or os.cpu_count() or 1
        config = _rapidocr_config(rapidocr)
        self._detector: Any = rapidocr.ch_ppocr_det.TextDetector(config["Det"])
        self._recogniser: Any = rapidocr.ch_ppocr_rec.TextRecognizer(config["Rec"])
        # RapidOCR's own sessions let idle threads spin (see cpu_session).
        self._detector.infer.session = cpu_session(Path(config["Det"]["model_path"]), threads, stage="ocr",
                                                   what="text detector")
        self._recogniser.session.session = cpu_session(Path(config["Rec"]["model_path"]), threads, stage="ocr",
                                                       what="text recogniser")
        self._hangul: _Tesseract | None = None
        self.korean_unavailable: BackendUnavailableError | None = None
        """Why Korean cannot be read (Tesseract or its Hangul data missing); None when it can."""
        try:
            self._hangul = _Tesseract(tesseract, "Hangul")
        except BackendUnavailableError as exc:
            log.warning("text is read in English only: %s", exc)
            self.korean_unavailable = exc
        self._lock = threading.Lock()

    def available_languages(self) -> tuple[str, ...]:
        """ISO 639-1 codes of the languages read: English always, Korean with Tesseract's Hangul model."""
        return ("en",) if self._hangul is None else ("en", "ko")

    def read(self, rgb: Image) -> list[TextLine]:
        """The text lines of an H x W x 3 uint8 RGB image, in reading order; boxes in fractions of the image."""
        if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3 or 0 in rgb.shape:
            raise ValueError(f"expected an H x W x 3 uint8 RGB image, got {rgb.dtype} {rgb.shape}")
        image = _enlarged(rgb)
        with self._lock:
            found = self._read(np.ascontiguousarray(image[:, :, ::-1]))
        height, width = image.shape[:2]
        return [
            TextLine(text, _box(quad, width, height), round(confidence, 3))
            for text, quad, confidence in _reading_order(found)
        ]

    def _read(self, bgr: Image) -> list[_Found]:
        CORES.wait_for_turn()
        lines = [_line(bgr, quad) for quad in self._detect(bgr)]
        pieces = self._recognise([line.crop for line in lines])
        for index, line in enumerate(lines):
            if self._hangul is None:
                # Without Tesseract the signs RapidOCR puts for Hangul are dropped; the Latin text on the line stays.
                pieces[index] = [piece for piece in pieces[index] if not _is_cjk(piece.text)]
            elif _has_hangul_signs(pieces[index], line.ink):
                CORES.wait_for_turn()
                pieces[index] = self._read_hangul_line(line, pieces[index])
        found: list[_Found] = []
        for line, line_pieces in zip(lines, pieces, strict=True):
            text, confidence = _joined(line_pieces, line.ink)
            if _worth_reporting(text, confidence):
                found.append((text, line.quad, confidence))
        return found

    def _detect(self, bgr: Image) -> list[Quad]:
        # Scaled here: RapidOCR's own "max" limit ignores the configured size (a 1280 px screenshot went in whole).
        scale = min(1.0, DETECT_SIDE / max(bgr.shape[:2]))
        small = bgr if scale == 1 else cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        boxes, _ = self._detector(np.asarray(small, dtype=np.uint8))
        return [] if boxes is None else [np.asarray(box, dtype=np.float32) / scale for box in boxes]

    def _recognise(self, crops: Sequence[Image]) -> list[list[_Piece]]:
        """RapidOCR's characters of each crop, each at the crop column where the recogniser emitted it."""
        pieces = []
        for crop in crops:
            CORES.wait_for_turn()  # a line takes tens of milliseconds: speech waits no longer than that
            results, _ = self._recogniser([crop], return_word_box=True)
            pieces.append(_characters(crop, results[0]))
        return pieces

    def _read_hangul_line(self, line: _Line, characters: Sequence[_Piece]) -> list[_Piece]:
        """Tesseract's Korean words, and RapidOCR's reading of the rest of the line's ink, piece by piece.

        A word of Tesseract's Hangul model is Korean when it has Hangul in it and does not lie where RapidOCR has
        read more Latin letters or digits with confidence than the word has syllables (it makes "Wi-Fi" "Wi-H티").
        """
        hangul = [
            word
            for word in self._hangul_words(line)
            if _syllables(word.text) > sum(_is_sure_latin(c) and word.left <= c.left <= word.right for c in characters)
        ]
        rest = _unclaimed_runs(line.ink, hangul)
        reread = self._recognise([_columns(line.crop, left, right) for left, right in rest])
        for (left, _), found in zip(rest, reread, strict=True):
            hangul += [_Piece(c.text, c.left + left, c.right + left, c.confidence, c.spaced) for c in found]
        return sorted(hangul, key=lambda piece: piece.left)

    def _hangul_words(self, line: _Line) -> list[_Piece]:
        assert self._hangul is not None
        image, scale, margin = _for_tesseract(line.crop, line.ink.dark_text)
        return [
            _Piece(text, (left - margin) / scale, (left + width - margin) / scale, confidence)
            for text, left, width, confidence in self._hangul.words(image)
        ]


def _import_rapidocr() -> Any:
    try:
        importlib.import_module("rapidocr_onnxruntime.ch_ppocr_det")
        importlib.import_module("rapidocr_onnxruntime.ch_ppocr_rec")
        return importlib.import_module("rapidocr_onnxruntime")
    except ImportError as exc:
        raise BackendUnavailableError(
            f"reading text needs rapidocr-onnxruntime ({exc}); install it with: make install"
        ) from exc


def _rapidocr_config(rapidocr: Any) -> dict[str, dict[str, Any]]:
    """RapidOCR's own config.yaml, with the models found in its package, and our detector and recogniser shapes."""
    utils = importlib.import_module("rapidocr_onnxruntime.utils")
    config: dict[str, dict[str, Any]] = utils.update_model_path(
        utils.read_yaml(Path(rapidocr.__file__).parent / "config.yaml")
    )
    # The default ("min", 736) blew a wide strip of text up to 2000 px; "max" keeps the image as it is given.
    config["Det"]["limit_type"] = "max"
    # One line at a time: in a batch every line is padded to the widest (at least 320 px), which cost 60 % more
    # work on a screenshot, and the padding changed what was read (spaces were lost).
    config["Rec"]["rec_batch_num"] = 1
    config["Rec"]["rec_img_shape"] = [3, 48, 48]
    return config


def _enlarged(rgb: Image) -> Image:
    """The image, or a larger copy when it is smaller than :data:`MIN_SIDE`."""
    scale = MIN_SIDE / max(rgb.shape[:2])
    if scale <= 1:
        return rgb
    return np.asarray(cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC), dtype=np.uint8)


def _line(bgr: Image, quad: Quad) -> _Line:
    crop = _straightened(bgr, quad)
    return _Line(quad, crop, _ink(crop))


def _straightened(bgr: Image, quad: Quad) -> Image:
    """The quadrilateral's pixels as an upright rectangle (the detector's boxes may be rotated)."""
    width = int(max(np.linalg.norm(quad[0] - quad[1]), np.linalg.norm(quad[2] - quad[3])))
    height = int(max(np.linalg.norm(quad[0] - quad[3]), np.linalg.norm(quad[1] - quad[2])))
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    transform = cv2.getPerspectiveTransform(quad.astype(np.float32), target)
    return np.asarray(
        cv2.warpPerspective(bgr, transform, (width, height), borderMode=cv2.BORDER_REPLICATE, flags=cv2.INTER_CUBIC),
        dtype=np.uint8,
    )


def _ink(crop: Image) -> _Ink:
    """Text pixels by Otsu's threshold; the text is the side the crop's border is not (the box has a margin)."""
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    threshold, _ = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    dark_text = bool(np.median(border) > threshold)
    text = grey < threshold if dark_text else grey > threshold
    rows = np.flatnonzero(text.any(axis=1))
    inked_rows = float(rows[-1] - rows[0] + 1) if rows.size else 0.0
    # Digits and small letters alone stand lower than a line with ascenders and descenders; the box keeps the scale.
    height = max(inked_rows, _MIN_TEXT_HEIGHT * crop.shape[0])
    return _Ink(np.asarray(text.any(axis=0)), height, dark_text)


def _characters(crop: Image, result: Sequence[Any]) -> list[_Piece]:
    """Pieces of one character each from RapidOCR's result with word boxes (text, score, [frames, ...])."""
    text, _, (frames, _, columns, _, confidences) = result
    if not text:
        return []
    scale = crop.shape[1] / frames
    positions = [column for word in columns for column in word]
    pieces, spaced = [], False
    for char, column, confidence in zip(text, positions, confidences, strict=True):
        if char.isspace():
            spaced = True
            continue
        x = (column + 0.5) * scale
        pieces.append(_Piece(_ascii_form(char), x, x, float(confidence), spaced))
        spaced = False
    return pieces


def _ascii_form(char: str) -> str:
    """The ASCII character for a full-width one (RapidOCR's Chinese alphabet has both: "，" for ",")."""
    return unicodedata.normalize("NFKC", char) if "\uff01" <= char <= "\uff5e" else char


def _has_hangul_signs(characters: Sequence[_Piece], ink: _Ink) -> bool:
    """Whether RapidOCR's reading shows Hangul it could not read: CJK signs, or a word of ink with nothing read."""
    return any(_is_cjk(piece.text) for piece in characters) or _has_unread_ink(characters, ink)


def _has_unread_ink(characters: Sequence[_Piece], ink: _Ink) -> bool:
    reach = ink.height / _FRAMES_PER_HEIGHT
    for left, right in _ink_runs(ink.columns, ink.height):
        if right - left < UNREAD_WIDTH * ink.height:
            continue
        if not any(left - reach <= piece.left <= right + reach for piece in characters):
            return True
    return False


def _ink_runs(columns: NDArray[np.bool_], height: float) -> list[tuple[int, int]]:
    """Runs of inked columns, [left, right) in crop pixels, joined across gaps narrower than a space."""
    inked = np.flatnonzero(columns)
    if inked.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(inked) - 1 >= _space_width(height))
    starts = np.concatenate([[inked[0]], inked[breaks + 1]])
    ends = np.concatenate([inked[breaks], [inked[-1]]]) + 1
    return [(int(start), int(end)) for start, end in zip(starts, ends, strict=True)]


def _is_cjk(char: str) -> bool:
    # RapidOCR's alphabet has CJK ideographs and kana but no Hangul: on our pages (English, Korean) they are Hangul.
    return unicodedata.east_asian_width(char) == "W" and unicodedata.category(char) == "Lo"


def _syllables(text: str) -> int:
    return sum(_HANGUL_FIRST <= char <= _HANGUL_LAST for char in text)


def _is_sure_latin(character: _Piece) -> bool:
    return character.text.isascii() and character.text.isalnum() and character.confidence >= 0.9


def _unclaimed_runs(ink: _Ink, words: Iterable[_Piece]) -> list[tuple[int, int]]:
    """Runs of ink outside the given words, wide enough to hold a character, as (left, right) crop columns."""
    columns = ink.columns.copy()
    for word in words:
        columns[max(int(word.left), 0) : int(np.ceil(word.right))] = False
    margin = int(ink.height * 0.15)
    return [
        (max(left - margin, 0), min(right + margin, columns.size))
        for left, right in _ink_runs(columns, ink.height)
        if right - left >= 0.3 * ink.height
    ]


def _columns(crop: Image, left: int, right: int) -> Image:
    return np.ascontiguousarray(crop[:, left:right])


def _for_tesseract(crop: Image, dark_text: bool) -> tuple[Image, float, int]:
    """The crop as dark text on light, at :data:`TESSERACT_HEIGHT`, with a margin; and its scale and margin."""
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    if not dark_text:
        grey = 255 - grey
    scale = TESSERACT_HEIGHT / grey.shape[0]
    interpolation = cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA
    grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=interpolation)
    margin = int(TESSERACT_HEIGHT * _TESSERACT_MARGIN)
    # The background's own level: a replicated edge would drag the text's edge pixels into the margin.
    background = int(np.median(np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])))
    padded = cv2.copyMakeBorder(grey, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=background)
    return np.asarray(padded, dtype=np.uint8), scale, margin


def _joined(pieces: Sequence[_Piece], ink: _Ink) -> tuple[str, float]:
    """The pieces' text with a space where the recogniser put one or the gap between two pieces is a space."""
    if not pieces:
        return "", 0.0
    text = pieces[0].text
    for before, after in itertools.pairwise(pieces):
        space = after.spaced or _gap_between(before, after, ink) >= _space_width(ink.height)
        text += (" " if space else "") + after.text
    weights = np.array([len(piece.text) for piece in pieces], dtype=np.float64)
    confidence = float(np.average([piece.confidence for piece in pieces], weights=weights))
    return text, confidence


def _space_width(height: float) -> float:
    """The narrowest ink-free gap, in whole pixels, that is a space; the half pixel keeps small text's letters whole.

    Measured between the pieces read on rendered lines of 12-32 px (Noto Sans/Serif CJK, DejaVu Sans/Serif, bold,
    condensed): no gap inside a Korean word counted and 9 of 436 spaces were missed; in English, with RapidOCR's
    own spaces as well, 3 of 7061 gaps inside words counted and 19 of 1674 spaces were missed. Tesseract's own word
    breaks (between most syllables) and its word boxes (off by up to a syllable) were no use for this.
    """
    return SPACE_GAP * height + 0.5


def _gap_between(before: _Piece, after: _Piece, ink: _Ink) -> int:
    """The widest run of ink-free columns between two pieces, in whole columns.

    Searched from a little inside each piece, since Tesseract's word boxes may end a few columns off the ink; a run
    that reaches into that window counts whole, but never past the pieces' own outer ends (a character's position
    from RapidOCR is a point, which may sit on the blank beside its letter).
    """
    low, high = int(before.left), int(np.ceil(after.right))
    blank = np.concatenate([[False], ~ink.columns[low:high], [False]]).astype(np.int8)
    runs = np.flatnonzero(np.diff(blank)).reshape(-1, 2) + low
    reach = SPACE_GAP * ink.height
    reaching = runs[(runs[:, 0] < min(after.right, after.left + reach)) & (runs[:, 1] > before.right - reach)]
    return int((reaching[:, 1] - reaching[:, 0]).max()) if reaching.size else 0


def _worth_reporting(text: str, confidence: float) -> bool:
    """Not junk: confident enough, with a letter or digit, and not a lone character read without certainty."""
    letters = sum(char.isalnum() for char in text)
    return confidence >= MIN_CONFIDENCE and letters > 0 and (len(text.strip()) > 1 or confidence >= 0.9)


def _box(quad: Quad, width: int, height: int) -> Box:
    left, top = np.clip(quad.min(axis=0), 0, None)
    right, bottom = quad.max(axis=0)
    right, bottom = min(float(right), width), min(float(bottom), height)
    return Box(
        round(float(left) / width, 4),
        round(float(top) / height, 4),
        round((right - float(left)) / width, 4),
        round((bottom - float(top)) / height, 4),
    )


def _reading_order(found: Sequence[_Found]) -> list[_Found]:
    """Columns left to right, each top to bottom; rows of a table or form (label and value side by side) row by row.

    A recursive cut of the page at its blank gaps: at a vertical gap wide enough for a column gutter, the two sides
    are columns unless most lines of one side have a line of the other at the same height (a form: read by rows);
    otherwise the page is cut at its horizontal gaps into bands, read top to bottom.
    """
    if len(found) <= 1:
        return list(found)
    extents = np.array([[*quad.min(axis=0), *quad.max(axis=0)] for _, quad, _ in found], dtype=np.float64)
    line_height = float(np.median(extents[:, 3] - extents[:, 1]))
    for side in _split(extents[:, 0], extents[:, 2], line_height):
        if not _rows_aligned(extents[side], extents[~side], line_height):
            return _ordered_parts(found, [side, ~side])
    bands = _bands(extents[:, 1], extents[:, 3])
    if len(bands) > 1:
        return _ordered_parts(found, bands)
    return [found[i] for i in _by_rows(extents, line_height)]


def _by_rows(extents: NDArray[np.float64], line_height: float) -> list[int]:
    """Indices top to bottom, and left to right among lines whose middles are within half a line of each other."""
    middles = (extents[:, 1] + extents[:, 3]) / 2
    rows: list[list[int]] = []
    for i in np.argsort(middles, kind="stable"):
        if rows and middles[i] - middles[rows[-1][0]] < line_height / 2:
            rows[-1].append(int(i))
        else:
            rows.append([int(i)])
    return [i for row in rows for i in sorted(row, key=lambda i: extents[i, 0])]


def _ordered_parts(found: Sequence[_Found], parts: Sequence[NDArray[np.bool_]]) -> list[_Found]:
    return [item for part in parts for item in _reading_order([found[int(i)] for i in np.flatnonzero(part)])]


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


def _rows_aligned(one: NDArray[np.float64], other: NDArray[np.float64], line_height: float) -> bool:
    """Whether most lines of the smaller side share a row (centre within a third of a line) with the other side."""
    smaller, larger = (one, other) if len(one) <= len(other) else (other, one)
    centres = (larger[:, 1] + larger[:, 3]) / 2
    matched = sum(bool(np.any(np.abs(centres - middle) < line_height / 3)) for middle in smaller[:, 1::2].mean(axis=1))
    return matched >= 0.6 * len(smaller)


class _Tesseract:
    """Tesseract's C API through ctypes: the model loads once (the program would load it, 0.4 s, on every call)."""

    def __init__(self, library: str, language: str) -> None:
        path = library if os.sep in library else ctypes.util.find_library(library)
        try:
            if path is None:
                raise OSError(f"no library named {library!r}")
            lib = ctypes.CDLL(path)
            self._api = _bind(lib)
        except (OSError, AttributeError) as exc:
            raise BackendUnavailableError(
                f"reading Korean needs the Tesseract library ({exc}); install it with: {INSTALL_HANGUL}"
            ) from exc
        handle = self._api.TessBaseAPICreate()
        if self._api.TessBaseAPIInit3(handle, None, language.encode()) != 0:
            self._api.TessBaseAPIDelete(handle)
            raise BackendUnavailableError(
                f"reading Korean needs Tesseract's {language} model, which is not installed; "
                f"install it with: {INSTALL_HANGUL}"
            )
        self._handle = handle
        weakref.finalize(self, self._api.TessBaseAPIDelete, handle)
        # Tesseract built with OpenMP (Debian's is) shares a line between threads, which on 2 busy cores made it
        # 3.3 times slower (140 ms a line instead of 43). Its loops ask for a fixed number of threads, which only
        # dynamic adjustment bounds (by the thread's own thread count); both settings belong to the calling thread,
        # so they are made before each line and leave other OpenMP users in the process (llama.cpp) alone.
        self._openmp = [getattr(lib, name, None) for name in ("omp_set_dynamic", "omp_set_num_threads")]
        self._api.TessBaseAPISetPageSegMode(handle, 7)  # one text line
        # Polarity is already made dark-on-light; Tesseract's second inverted pass would only cost time.
        self._api.TessBaseAPISetVariable(handle, b"tessedit_do_invert", b"0")

    def words(self, grey: Image) -> list[tuple[str, int, int, float]]:
        """(text, left, width, confidence 0..1) of each word Tesseract reads in a grey image of one line."""
        image = np.ascontiguousarray(grey)
        api, handle = self._api, self._handle
        for setting in self._openmp:
            if setting is not None:
                setting(1)
        api.TessBaseAPISetImage(handle, image.ctypes.data, image.shape[1], image.shape[0], 1, image.strides[0])
        api.TessBaseAPISetSourceResolution(handle, 300)
        if api.TessBaseAPIRecognize(handle, None) != 0:
            return []
        tsv = api.TessBaseAPIGetTsvText(handle, 0)
        try:
            rows = ctypes.string_at(tsv).decode("utf-8", errors="replace")
        finally:
            api.TessDeleteText(tsv)
        return [word for word in map(_tsv_word, rows.splitlines()) if word is not None]


def _tsv_word(row: str) -> tuple[str, int, int, float] | None:
    # level page block paragraph line word left top width height confidence text; level 5 is a word.
    fields = row.split("\t")
    if len(fields) < 12 or fields[0] != "5" or not fields[11].strip():
        return None
    return fields[11].strip(), int(fields[6]), int(fields[8]), max(float(fields[10]), 0.0) / 100


def _bind(lib: ctypes.CDLL) -> ctypes.CDLL:
    """Declare the C signatures used, so ctypes passes pointers and ints correctly."""
    handle, text = ctypes.c_void_p, ctypes.POINTER(ctypes.c_char)
    signatures: dict[str, tuple[Any, list[Any]]] = {
        "TessBaseAPICreate": (handle, []),
        "TessBaseAPIDelete": (None, [handle]),
        "TessBaseAPIInit3": (ctypes.c_int, [handle, ctypes.c_char_p, ctypes.c_char_p]),
        "TessBaseAPISetPageSegMode": (None, [handle, ctypes.c_int]),
        "TessBaseAPISetVariable": (ctypes.c_int, [handle, ctypes.c_char_p, ctypes.c_char_p]),
        "TessBaseAPISetImage": (None, [handle, ctypes.c_void_p] + [ctypes.c_int] * 4),
        "TessBaseAPISetSourceResolution": (None, [handle, ctypes.c_int]),
        "TessBaseAPIRecognize": (ctypes.c_int, [handle, ctypes.c_void_p]),
        "TessBaseAPIGetTsvText": (text, [handle, ctypes.c_int]),
        "TessDeleteText": (None, [text]),
    }
    for name, (result, arguments) in signatures.items():
        function: Callable[..., Any] = getattr(lib, name)
        function.restype = result  # type: ignore[attr-defined]
        function.argtypes = arguments  # type: ignore[attr-defined]
    return lib
