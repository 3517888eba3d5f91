"""Tesseract's C API through ctypes: one model loaded once, then the words of one line image at a time.

The C library rather than the ``tesseract`` program, which would load the model (0.4 s) on every call.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from omni.errors import BackendUnavailableError

Word = tuple[str, int, int, float]
"""A word's text, its left edge and width in pixels, and Tesseract's confidence from 0 to 1."""


class Tesseract:
    """One Tesseract model (``language`` names its traineddata, "Hangul" the Hangul script's) reading text lines.

    ``library`` names the C library as :func:`ctypes.util.find_library` takes it ("tesseract" finds
    libtesseract.so.5), or is its path. Without the library or the model it raises :class:`BackendUnavailableError`.
    Not for several threads at once.
    """

    def __init__(self, library: str, language: str) -> None:
        path = library if os.sep in library else ctypes.util.find_library(library)
        try:
            if path is None:
                raise OSError(f"no library named {library!r}")
            lib = ctypes.CDLL(path)
            self._api = _bind(lib)
        except (OSError, AttributeError) as exc:
            raise BackendUnavailableError(f"the Tesseract library cannot be loaded ({exc})") from exc
        handle = self._api.TessBaseAPICreate()
        if self._api.TessBaseAPIInit3(handle, None, language.encode()) != 0:
            self._api.TessBaseAPIDelete(handle)
            raise BackendUnavailableError(f"Tesseract's {language} model is not installed")
        self._handle = handle
        weakref.finalize(self, self._api.TessBaseAPIDelete, handle)
        # Tesseract built with OpenMP (Debian's is) shares a line between threads, which on 2 busy cores made it
        # 3.3 times slower (140 ms a line instead of 43). Its loops ask for a fixed number of threads, which only
        # dynamic adjustment bounds (by the thread's own thread count); both settings belong to the calling thread,
        # so they are made before each line and leave other OpenMP users in the process (llama.cpp) alone.
        self._openmp = [getattr(lib, name, None) for name in ("omp_set_dynamic", "omp_set_num_threads")]
        self._api.TessBaseAPISetPageSegMode(handle, 7)  # one text line
        # The caller makes the text dark on light; Tesseract's second, inverted pass would only cost time.
        self._api.TessBaseAPISetVariable(handle, b"tessedit_do_invert", b"0")

    def words(self, grey: NDArray[np.uint8]) -> list[Word]:
        """The words Tesseract reads in a grey image of one line of dark text on a light background."""
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


def _tsv_word(row: str) -> Word | None:
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
