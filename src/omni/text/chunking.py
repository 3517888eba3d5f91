"""Cut streamed LLM text into speakable chunks as it arrives, so speech can start before the reply is complete.

The first chunk may end at a clause (a comma after a few words) or, in English, at a phrase boundary ("The capital
of France" · "is Paris.") to get audio out early; later chunks end at sentence boundaries so the voice keeps a natural
rhythm. A Korean phrase cut (after a topic or adverbial particle: "고양이는 하루에" · "열두 시간 자요.") brings the
Kokoro voice's first audio forward but makes it harder to understand, so it is off unless asked for
(``korean_phrase``; docs/languages.md measures it). Decimal points, common abbreviations and list numbers do not end
a sentence. Markdown that a voice should not read aloud is removed.

A chunk cut inside a sentence is spoken with a comma after it (:func:`voiced`): a voice reads text without final
punctuation as a finished statement, with falling pitch; the comma makes it an unfinished phrase.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from omni.text.language import hangul_syllables

# Western sentence ends need a space after them ("3.14" is not one); Chinese and Japanese write none.
_SENTENCE_END = re.compile(r"([.!?…]+[\"'”’)\]]*)(\s+|$)|([。！？]+[」』\"'”’)\]]*)|(\n+)")
_CLAUSE_END = re.compile(r"([,;:，、])(\s+)")
_ABBREVIATIONS = frozenset(
    {"mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "e.g", "i.e", "no", "approx", "fig", "u.s"}
)
_WORD = re.compile(r"\S+")
# Words that start a new phrase: the first chunk may end just before one. Words that bind to what follows ("of",
# "to", "that") are left out, so "The capital of | France" or "I would like | to go" never happen.
_PHRASE_STARTERS = frozenset({
    "is", "are", "was", "were", "has", "have", "had", "will", "would",
    "in", "on", "at", "for", "with", "from", "by", "about", "during", "after", "before", "until",
    "and", "but", "or", "so", "because", "since", "while", "when", "where", "which", "who", "if", "than",
})
# Words a phrase does not end on: they need the word after them ("the | capital", "very | good").
_NEEDS_NEXT = frozenset({
    "a", "an", "the", "of", "to", "in", "on", "at", "for", "with", "by", "from", "about", "as", "and", "or", "but",
    "is", "are", "was", "were", "be", "been", "will", "would", "can", "could", "should", "has", "have", "had", "do",
    "does", "did", "not", "no", "very", "so", "too", "my", "your", "his", "her", "its", "our", "their", "this",
    "that", "these", "those", "some", "any", "it", "i", "you", "we", "they", "he", "she", "there", "what", "which",
    "who", "how", "when", "where", "if", "than", "because",
})
_KOREAN_PHRASE_ENDS = ("은", "는", "에", "에서", "에게", "한테", "까지", "부터", "으로는", "로는")
"""Korean particles that close a phrase: the topic (수도는, 산은) and where, when or to whom (하루에, 서울에서)."""
_KOREAN_MODIFIERS = ("하는", "되는", "있는", "없는", "않는", "좋은", "높은", "많은", "작은", "같은", "넓은", "깊은",
                     "짧은", "낮은", "적은", "밝은", "맑은", "괜찮은", "싶은")
"""Verb and adjective forms ending like a topic particle that bind to the noun after them (높은 | 산): no cut."""
KOREAN_PHRASE_MIN_SYLLABLES = 5
"""A Korean first phrase has at least this many syllables: shorter ones sound clipped, and save little."""
_FINAL_PUNCTUATION = re.compile(r"[.!?…。！？,;:，、\"'”’)\]」』]$")
_MARKDOWN = re.compile(r"(\*\*|__|`+|^#+\s*|^\s*[-*•]\s+)", re.MULTILINE)


def clean_for_speech(text: str) -> str:
    """Remove markdown markup and collapse whitespace."""
    return re.sub(r"\s+", " ", _MARKDOWN.sub("", text)).strip()


@dataclass
class SpeakableChunker:
    """Feed text deltas with :meth:`push`; take finished chunks from its return value; :meth:`flush` at the end."""

    first_clause_min_words: int = 2
    """The first chunk may end at a comma after this many words ("I'm sorry," · "Of course,"): a voice pauses there
    anyway; a single word ("Well,") would be said alone before the next words exist."""
    first_phrase_min_words: int = 4
    first_phrase: bool = True
    """The first chunk may end at an English phrase boundary after ``first_phrase_min_words`` words."""
    korean_phrase: bool = False
    """The first chunk may end at a Korean phrase boundary too (measured and not taken: see the module's notes)."""
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
        clause = self._first_cut() if self._emitted == 0 else None
        for match in _SENTENCE_END.finditer(self._buffer):
            if clause is not None and match.start() >= clause:
                break
            if match.group(4) is not None:  # newline
                return match.end()
            if match.end() == len(self._buffer):
                return None  # the next delta may continue this token ("3." → "3.5")
            if _is_real_sentence_end(self._buffer, match.start()):
                return match.end()
        return clause

    def _first_cut(self) -> int | None:
        clause = self._first_clause()
        phrase = self._first_phrase() if self.first_phrase else None
        return min((cut for cut in (clause, phrase) if cut is not None), default=None)

    def _first_phrase(self) -> int | None:
        """Where the first phrase ends: before a phrase-starting word, with enough words before it.

        A starter at the very end of the text so far counts as a whole word, although the next delta could still
        continue it ("is" → "island"): an LLM streams whole tokens, and a common word is one token (" island" is
        not " is" + "land"), while waiting for the next token to be sure would delay the first words by one token.
        """
        words = list(_WORD.finditer(self._buffer))
        korean = _korean_phrase_end(words) if self.korean_phrase else None
        if korean is not None:
            return korean
        for index in range(self.first_phrase_min_words, len(words)):
            word = words[index]
            before = words[index - 1].group()
            if (word.group().lower() in _PHRASE_STARTERS and before.lower() not in _NEEDS_NEXT
                    and before[-1].isalnum()):  # after punctuation the sentence and clause rules decide
                return word.start()
        return None

    def _first_clause(self) -> int | None:
        for match in _CLAUSE_END.finditer(self._buffer):
            if len(self._buffer[: match.start()].split()) >= self.first_clause_min_words:
                return match.end()
        return None


def _korean_phrase_end(words: list[re.Match[str]]) -> int | None:
    """Where a Korean first phrase ends: after a word of two or more before it that ends in a phrase-closing particle,
    once the next word has begun (so the particle is the word's end, not 에 of 에서)."""
    syllables = 0
    for index, match in enumerate(words[:-1]):
        word = match.group()
        if hangul_syllables(word) < len(word):
            return None  # punctuation or another script: the clause and sentence rules decide
        syllables += len(word)
        if (index >= 1 and syllables >= KOREAN_PHRASE_MIN_SYLLABLES and word.endswith(_KOREAN_PHRASE_ENDS)
                and not word.endswith(_KOREAN_MODIFIERS)):
            return match.end()
    return None


def sentences(text: str) -> list[str]:
    """``text`` cut into its sentences (by the same rules as the chunker's, without the first-chunk shortcuts), each
    stripped; a line break ends a sentence too. Markdown and whitespace are left as they are."""
    pieces, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        if match.group(4) is not None or match.end() == len(text) or _is_real_sentence_end(text, match.start()):
            pieces.append(text[start:match.end()])
            start = match.end()
    pieces.append(text[start:])
    return [piece.strip() for piece in pieces if _speakable(piece)]


def _is_real_sentence_end(text: str, index: int) -> bool:
    before = text[:index]
    words = before.split()
    last = words[-1].lower() if words else ""
    line = before.rsplit("\n", 1)[-1].strip()
    if text[index] == "." and (last in _ABBREVIATIONS or (line == last and last.isdigit())):
        # "Dr. Smith", "e.g. this", a list number "1. first": not the end of a sentence
        return False
    return not (len(last) == 1 and last.isalpha() and text[index] == ".")  # initials: "J. R."


def voiced(chunk: str) -> str:
    """The text to give the voice for a chunk that more of the reply follows: a comma closes a chunk cut inside
    a sentence, so it is said as an unfinished phrase."""
    return chunk if _FINAL_PUNCTUATION.search(chunk) else chunk + ","


def _join(first: str, second: str) -> str:
    return f"{first} {second}" if first and second else first or second


def _speakable(text: str) -> bool:
    return any(ch.isalnum() for ch in text)
