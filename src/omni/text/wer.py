"""Word and character error rates: how far a transcript or an OCR reading is from the truth (benchmarks, tests)."""

from __future__ import annotations

import re
from collections.abc import Sequence


def words(text: str) -> list[str]:
    """Lower-case words without punctuation, in any script; hyphens split words."""
    return re.findall(r"[^\W_]+(?:'[^\W_]+)*", text.lower().replace("-", " "))


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate: word-level edit distance over the reference length."""
    ref = words(reference)
    return edit_distance(ref, words(hypothesis)) / max(len(ref), 1)


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate: character-level edit distance over the reference length, with every run of
    whitespace counted as one space (a line break read as a space is no error)."""
    ref, hyp = (" ".join(text.split()) for text in (reference, hypothesis))
    return edit_distance(ref, hyp) / max(len(ref), 1)


def edit_distance(ref: Sequence[str], hyp: Sequence[str]) -> int:
    """Levenshtein distance between two sequences (of words or characters)."""
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        diagonal, row[0] = row[0], i
        for j, h in enumerate(hyp, start=1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (r != h))
    return row[len(hyp)]
