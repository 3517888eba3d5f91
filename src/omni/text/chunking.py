"""Cut streamed LLM text into speakable chunks as it arrives, so speech can start before the reply is complete.

The first chunk may end at a clause (a comma after a few words) to get audio out early; later chunks end at sentence
boundaries so the voice keeps a natural rhythm. Decimal points, common abbreviations and list numbers do not end a
sentence. Markdown that a voice should not read aloud is removed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

# Western sentence ends need a space after them ("3.14" is not one); Chinese and Japanese write none.
_SENTENCE_END = re.compile(r"([.!?…]+[\"'”’)\]]*)(\s+|$)|([。！？]+[」』\"'”’)\]]*)|(\n+)")
_CLAUSE_END = re.compile(r"([,;:，、])(\s+)")
_ABBREVIATIONS = frozenset(
    {"mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "e.g", "i.e", "no", "approx", "fig", "u.s"}
)
_MARKDOWN = re.compile(r"(\*\*|__|`+|^#+\s*|^\s*[-*•]\s+)", re.MULTILINE)


def clean_for_speech(text: str) -> str:
    """Remove markdown markup and collapse whitespace."""
    return re.sub(r"\s+", " ", _MARKDOWN.sub("", text)).strip()


@dataclass
class SpeakableChunker:
    """Feed text deltas with :meth:`push`; take finished chunks from its return value; :meth:`flush` at the end."""

    first_clause_min_words: int = 4
    min_chars: int = 2
    _buffer: str = ""
    _emitted: int = 0
    _carry: str = ""

    def push(self, delta: str) -> list[str]:
        self._buffer += delta
        return list(self._take())

    def flush(self) -> list[str]:
        rest = _join(self._carry, clean_for_speech(self._buffer))
        self._buffer = self._carry = ""
        return [rest] if _speakable(rest) else []

    def _take(self) -> Iterator[str]:
        while True:
            cut = self._boundary()
            if cut is None:
                return
            chunk, self._buffer = clean_for_speech(self._buffer[:cut]), self._buffer[cut:]
            if not _speakable(chunk):
                continue
            chunk = _join(self._carry, chunk)
            if len(chunk) < self.min_chars:
                self._carry = chunk  # too short to say alone ("5" on its own line): it goes with the next chunk
                continue
            self._carry = ""
            self._emitted += 1
            yield chunk

    def _boundary(self) -> int | None:
        # The earliest boundary in the text wins, so the chunks do not depend on how the text was split into deltas.
        clause = self._first_clause() if self._emitted == 0 else None
        for match in _SENTENCE_END.finditer(self._buffer):
            if clause is not None and match.start() >= clause:
                break
            if match.group(4) is not None:  # newline
                return match.end()
            if match.end() == len(self._buffer):
                return None  # the next delta may continue this token ("3." → "3.5")
            if self._is_real_sentence_end(match.start()):
                return match.end()
        return clause

    def _first_clause(self) -> int | None:
        for match in _CLAUSE_END.finditer(self._buffer):
            if len(self._buffer[: match.start()].split()) >= self.first_clause_min_words:
                return match.end()
        return None

    def _is_real_sentence_end(self, index: int) -> bool:
        before = self._buffer[:index]
        words = before.split()
        last = words[-1].lower() if words else ""
        line = before.rsplit("\n", 1)[-1].strip()
        if self._buffer[index] == "." and (last in _ABBREVIATIONS or (line == last and last.isdigit())):
            # "Dr. Smith", "e.g. this", a list number "1. first": not the end of a sentence
            return False
        return not (len(last) == 1 and last.isalpha() and self._buffer[index] == ".")  # initials: "J. R."


def _join(first: str, second: str) -> str:
    return f"{first} {second}" if first and second else first or second


def _speakable(text: str) -> bool:
    return any(ch.isalnum() for ch in text)
