"""Text in an image, in English and Korean: RapidOCR finds the lines and reads Latin text, Tesseract reads Hangul.

RapidOCR's PP-OCRv4 detector finds the text lines and its recogniser (Chinese and English, no Hangul) reads each
line. It skips Hangul or puts a few CJK signs for it, so a line where it left a word-wide run of ink unread, or put
a CJK sign, goes to Tesseract's Hangul script model (:mod:`omni.vision.tesseract`): the words with Hangul in them are
kept, and the rest of the line's ink (Latin words, digits) is read again by RapidOCR piece by piece, where it reads
well. The pieces are joined with spaces by :mod:`omni.vision.spacing`, and the lines put in reading order by
:mod:`omni.vision.reading_order`.

The lines are read side by side, one a core, each on one thread, the longest first. On 2 cores (with another
process busy on and off) the 14 lines of a 1280 x 720 screenshot took 0.76 s that way, the whole read 0.97 s; with
both threads on each line in turn, which wait for each other at every layer of the recogniser, 0.92 s and 1.16 s.

Without the Tesseract library or its Hangul data English is still read, :attr:`TextReader.korean_unavailable` says
what to install, and the signs RapidOCR puts for Hangul are dropped: a Korean line is left out, not garbled.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from omni.cores import CORES
from omni.errors import BackendUnavailableError
from omni.text.language import hangul_syllables
from omni.vision.onnx_session import cpu_session
from omni.vision.reading_order import reading_order
from omni.vision.scene import Box, TextLine
from omni.vision.spacing import Ink, Piece, ink_runs, joined, line_ink
from omni.vision.tesseract import Tesseract

log = logging.getLogger(__name__)

DETECT_SIDE = 960
"""The detector looks at the image with its longer side at most this many pixels; lines are cut from the original."""
MIN_SIDE = 640
"""Smaller images are enlarged to this longer side first: small text in them was missed, and its spaces lost."""
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
NEAR_WORD = 0.25
"""Text heights from a Korean word within which a re-read character is taken for the edge of that word."""
UNREAD_TAIL = 1.0
"""A word's ink reaching this many text heights beyond the first or last character read on it holds unread text.
RapidOCR places a character where it emitted it, about its middle: from there to the word's end is at most half a
wide letter ("m", "W") in English, and half a character plus a syllable where Hangul follows digits ("14번")."""
_FRAMES_PER_HEIGHT = 6
# Tesseract reads a line better with a margin of background around it (alone on 144 lines: CER 0.14 without, 0.07).
_TESSERACT_MARGIN = 0.3


@dataclass(frozen=True)
class _Line:
    """A detected line: where it is in the image, its pixels cut out upright, and their ink."""

    quad: Quad
    crop: Image
    ink: Ink


class TextReader:
    """Reads the text lines of RGB images; calls are serialised, so one reader may serve several threads.

    ``threads`` is how many cores it uses (0: every core): the detector's onnxruntime threads, and how many lines
    are read at once. ``tesseract`` names the Tesseract C library as :func:`ctypes.util.find_library` takes it
    ("tesseract" finds libtesseract.so.5), or is the library's path.
    """

    def __init__(self, *, threads: int = 0, tesseract: str = "tesseract") -> None:
        rapidocr = _import_rapidocr()
        self._threads = threads or os.cpu_count() or 1
        config = _rapidocr_config(rapidocr)
        self._detector: Any = rapidocr.ch_ppocr_det.TextDetector(config["Det"])
        self._recogniser: Any = rapidocr.ch_ppocr_rec.TextRecognizer(config["Rec"])
        # RapidOCR's own sessions let idle threads spin (see cpu_session).
        self._detector.infer.session = cpu_session(Path(config["Det"]["model_path"]), self._threads, stage="ocr",
                                                   what="text detector")
        self._recogniser.session.session = cpu_session(Path(config["Rec"]["model_path"]), 1, stage="ocr",
                                                       what="text recogniser")
        self._hangul: Tesseract | None = None
        self.korean_unavailable: BackendUnavailableError | None = None
        """Why Korean cannot be read (Tesseract or its Hangul data missing); None when it can."""
        try:
            self._hangul = Tesseract(tesseract, "Hangul")
        except BackendUnavailableError as exc:
            self.korean_unavailable = BackendUnavailableError(
                f"reading Korean needs Tesseract and its Hangul model: {exc}; install them with: {INSTALL_HANGUL}"
            )
            log.warning("text is read in English only: %s", self.korean_unavailable)
        self._lock = threading.Lock()
        self._hangul_lock = threading.Lock()  # one Tesseract model, for the lines read side by side

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
        extents = np.array([[*quad.min(axis=0), *quad.max(axis=0)] for _, quad, _ in found], dtype=np.float64)
        height, width = image.shape[:2]
        return [
            TextLine(text, _box(quad, width, height), round(confidence, 3))
            for text, quad, confidence in (found[i] for i in reading_order(extents.reshape(-1, 4)))
        ]

    def _read(self, bgr: Image) -> list[_Found]:
        CORES.wait_for_turn()
        lines = [_line(bgr, quad) for quad in self._detect(bgr)]
        # The longest lines first, so that the last to start are short and no core idles long while another ends;
        # the order they come back in does not matter, the reading order is the lines' places alone.
        lines.sort(key=lambda line: line.crop.shape[1] / line.crop.shape[0], reverse=True)
        with ThreadPoolExecutor(self._threads, thread_name_prefix="ocr") as pool:
            return [found for found in pool.map(self._read_line, lines) if found is not None]

    def _detect(self, bgr: Image) -> list[Quad]:
        # Scaled here: RapidOCR's own "max" limit ignores the configured size (a 1280 px screenshot went in whole).
        scale = min(1.0, DETECT_SIDE / max(bgr.shape[:2]))
        small = bgr if scale == 1 else cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        boxes, _ = self._detector(np.asarray(small, dtype=np.uint8))
        return [] if boxes is None else [np.asarray(box, dtype=np.float32) / scale for box in boxes]

    def _read_line(self, line: _Line) -> _Found | None:
        """The line's text and confidence, or None for junk; in a thread of its own, beside other lines."""
        pieces = self._recognise(line.crop)
        if self._hangul is None:
            # Without Tesseract the signs RapidOCR puts for Hangul are dropped; the Latin text on the line stays.
            pieces = [piece for piece in pieces if not _is_cjk(piece.text)]
        elif _has_hangul_signs(pieces, line.ink):
            CORES.wait_for_turn()
            pieces = self._read_hangul_line(line, pieces)
        text, confidence = joined(pieces, line.ink)
        return (text, line.quad, confidence) if _worth_reporting(text, confidence) else None

    def _recognise(self, crop: Image) -> list[Piece]:
        """RapidOCR's characters of the crop, each at the crop column where the recogniser emitted it."""
        CORES.wait_for_turn()  # a line takes tens of milliseconds: speech waits no longer than that
        results, _ = self._recogniser([crop], return_word_box=True)
        return _characters(crop, results[0])

    def _read_hangul_line(self, line: _Line, characters: Sequence[Piece]) -> list[Piece]:
        """Tesseract's Korean words, and RapidOCR's reading of the rest of the line's ink, piece by piece.

        A word of Tesseract's Hangul model is kept when it has Hangul in it and either reads the Latin letters and
        digits in it as RapidOCR read them with confidence ("14번") or has more syllables than RapidOCR read such
        characters where it lies (otherwise it garbles Latin: "Wi-Fi" → "Wi-H티").
        """
        hangul = [word for word in self._hangul_words(line) if _is_korean_word(word, characters)]
        # The edge of a syllable beside a re-read stretch reads as a digit or a sign ("301호" → "3011호"): what the
        # recogniser places that close to a Korean word is left out.
        near = NEAR_WORD * line.ink.height
        rest = [
            Piece(c.text, c.left + left, c.right + left, c.confidence, c.spaced)
            for left, right in _unclaimed_runs(line.ink, hangul)
            for c in self._recognise(np.ascontiguousarray(line.crop[:, left:right]))
        ]
        hangul += [c for c in rest if not any(w.left - near <= c.left <= w.right + near for w in hangul)]
        return sorted(hangul, key=lambda piece: piece.left)

    def _hangul_words(self, line: _Line) -> list[Piece]:
        assert self._hangul is not None
        image, scale, margin = _for_tesseract(line.crop, line.ink.dark_text)
        with self._hangul_lock:
            words = self._hangul.words(image)
        return [
            Piece(text, (left - margin) / scale, (left + width - margin) / scale, confidence)
            for text, left, width, confidence in words
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
    return _Line(quad, crop, line_ink(crop))


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


def _characters(crop: Image, result: Sequence[Any]) -> list[Piece]:
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
        pieces.append(Piece(_ascii_form(char), x, x, float(confidence), spaced))
        spaced = False
    return pieces


def _ascii_form(char: str) -> str:
    """The ASCII character for a full-width one (RapidOCR's Chinese alphabet has both: "，" for ",")."""
    return unicodedata.normalize("NFKC", char) if "\uff01" <= char <= "\uff5e" else char


def _has_hangul_signs(characters: Sequence[Piece], ink: Ink) -> bool:
    """Whether RapidOCR's reading shows Hangul it could not read: CJK signs, or a word of ink with nothing read."""
    return any(_is_cjk(piece.text) for piece in characters) or _has_unread_ink(characters, ink)


def _has_unread_ink(characters: Sequence[Piece], ink: Ink) -> bool:
    """A run of ink (a word) with nothing read on it, or with a stretch left unread at its end ("14번": RapidOCR
    reads "14" and drops the syllable)."""
    reach = ink.height / _FRAMES_PER_HEIGHT
    for left, right in ink_runs(ink.columns, ink.height):
        if right - left < UNREAD_WIDTH * ink.height:
            continue
        read = [piece.left for piece in characters if left - reach <= piece.left <= right + reach]
        if not read or right - max(read) >= UNREAD_TAIL * ink.height or min(read) - left >= UNREAD_TAIL * ink.height:
            return True
    return False


def _is_cjk(char: str) -> bool:
    # RapidOCR's alphabet has CJK ideographs and kana but no Hangul: on our pages (English, Korean) they are Hangul.
    return unicodedata.east_asian_width(char) == "W" and unicodedata.category(char) == "Lo"


def _is_sure_latin(character: Piece) -> bool:
    return character.text.isascii() and character.text.isalnum() and character.confidence >= 0.9


def _is_korean_word(word: Piece, characters: Sequence[Piece]) -> bool:
    latin = "".join(c.text for c in characters if _is_sure_latin(c) and word.left <= c.left <= word.right)
    if latin and "".join(char for char in word.text if char.isascii() and char.isalnum()) == latin:
        return hangul_syllables(word.text) > 0
    return hangul_syllables(word.text) > len(latin)


def _unclaimed_runs(ink: Ink, words: Iterable[Piece]) -> list[tuple[int, int]]:
    """Runs of ink outside the given words, wide enough to hold a character, as (left, right) crop columns."""
    claimed = np.zeros_like(ink.columns)
    for word in words:
        claimed[max(int(word.left), 0) : int(np.ceil(word.right))] = True
    margin = int(ink.height * 0.15)
    runs = []
    for left, right in ink_runs(ink.columns & ~claimed, ink.height):
        if right - left < 0.3 * ink.height:
            continue
        # A margin of background helps the recogniser, but never into a word already read: the edge of a syllable
        # there reads as a digit ("301호" became "3013호").
        start, end = left, right
        while start > max(left - margin, 0) and not claimed[start - 1]:
            start -= 1
        while end < min(right + margin, claimed.size) and not claimed[end]:
            end += 1
        runs.append((start, end))
    return runs


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
