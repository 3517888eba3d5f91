"""Degenerate repetition in generated text: a small model decoding greedily can fall into a loop ("잠시 잠시 잠시 …",
one sentence of advice three times) and would otherwise run on to its token limit, spoken all the way.

A loop is the same stretch of one to :data:`MAX_UNIT_WORDS` words three times in a row at the end of the text
(punctuation and case ignored). Twice is left alone: "no, no" and a repeated short sentence happen in real speech.
"""

from __future__ import annotations

import re

MAX_UNIT_WORDS = 12
REPEATS = 3

_WORD = re.compile(r"\S+")
_NOT_WORD = re.compile(r"[^\w]+")


def looping(text: str) -> bool:
    """Whether ``text`` (generated so far) ends in a loop. A last word still being written is not counted."""
    words = [_NOT_WORD.sub("", word).lower() for word in _WORD.findall(text)[-(REPEATS * MAX_UNIT_WORDS + 1):]]
    if words and not text[-1:].isspace() and text[-1:].isalnum():
        words.pop()  # may be half a word: "잠시 잠시 잠" is two words so far
    words = [word for word in words if word]
    for size in range(1, MAX_UNIT_WORDS + 1):
        if len(words) < REPEATS * size:
            break
        unit = words[-size:]
        if all(words[len(words) - (k + 1) * size: len(words) - k * size] == unit for k in range(1, REPEATS)):
            return True
    return False
