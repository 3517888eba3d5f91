"""Guess the language of a piece of text from its script, to pick a voice for speaking it.

Scripts settle most cases (Hangul is Korean, kana is Japanese). Latin text is English unless a handful of
frequent function words or letters clearly point at Spanish, French, German, Italian or Portuguese. This is a
voice picker, not a classifier: a short or ambiguous Latin text stays English.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

# Script ranges (inclusive) of the letters that decide a language on their own.
_RANGES: tuple[tuple[int, int, str], ...] = (
    (0xAC00, 0xD7A3, "hangul"),  # syllables
    (0x1100, 0x11FF, "hangul"),  # jamo
    (0x3130, 0x318F, "hangul"),  # compatibility jamo
    (0xA960, 0xA97F, "hangul"),
    (0xD7B0, 0xD7FF, "hangul"),
    (0x3040, 0x309F, "kana"),  # hiragana
    (0x30A0, 0x30FF, "kana"),  # katakana
    (0x31F0, 0x31FF, "kana"),
    (0xFF66, 0xFF9F, "kana"),  # half-width katakana
    (0x4E00, 0x9FFF, "han"),
    (0x3400, 0x4DBF, "han"),
    (0xF900, 0xFAFF, "han"),
    (0x20000, 0x2FA1F, "han"),
    (0x0400, 0x052F, "cyrillic"),
    (0x0370, 0x03FF, "greek"),
    (0x1F00, 0x1FFF, "greek"),
    (0x0590, 0x05FF, "hebrew"),
    (0x0600, 0x06FF, "arabic"),
    (0x0750, 0x077F, "arabic"),
    (0x0900, 0x097F, "devanagari"),
    (0x0E00, 0x0E7F, "thai"),
)

_SCRIPT_LANGUAGE = {
    "hangul": "ko",
    "cyrillic": "ru",
    "greek": "el",
    "hebrew": "he",
    "arabic": "ar",
    "devanagari": "hi",
    "thai": "th",
}

# One CJK character carries about a syllable, two to three Latin letters; weight them so that a Korean
# sentence with one English brand name in it still counts as Korean.
_WEIGHT = {"hangul": 2.5, "kana": 2.5, "han": 2.5}

_UKRAINIAN_LETTERS = frozenset("іїєґІЇЄҐ")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_FUNCTION_WORDS: dict[str, frozenset[str]] = {
    "en": _words("the and is are you to of in it that what this with for was have be not my your do can"),
    "es": _words("el los las que y es está por para una con del cómo qué muy pero gracias hola"),
    "fr": _words("le les et est je vous nous une des du pas que qui c'est avec pour bonjour merci"),
    "de": _words("der die das und ist ich nicht ein eine sie du wie mit auch auf für danke"),
    "it": _words("il che di non è sono gli della per una come anche grazie ciao"),
    "pt": _words("o os que não é um uma você com para está obrigado olá muito"),
}

_LETTER_HINTS: dict[str, str] = {
    "ñ": "es", "¿": "es", "¡": "es",
    "ç": "fr", "œ": "fr", "ê": "fr", "è": "fr", "à": "fr", "ù": "fr", "î": "fr", "ë": "fr",
    "ß": "de", "ä": "de", "ö": "de", "ü": "de",
    "ì": "it", "ò": "it",
    "ã": "pt", "õ": "pt",
}

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def _script(char: str) -> str | None:
    code = ord(char)
    for low, high, name in _RANGES:
        if low <= code <= high:
            return name
    if char.isalpha() and unicodedata.name(char, "").startswith("LATIN"):
        return "latin"
    return None


def _latin_language(text: str) -> str:
    lowered = text.lower()
    words = _WORD.findall(lowered)
    scores: Counter[str] = Counter()
    for word in words:
        for language, vocabulary in _FUNCTION_WORDS.items():
            if word in vocabulary:
                scores[language] += 1
    for char in lowered:
        hinted = _LETTER_HINTS.get(char)
        if hinted is not None:
            scores[hinted] += 1
    english = scores.pop("en", 0)
    if not scores:
        return "en"
    best, score = scores.most_common(1)[0]
    # Another language must beat English clearly: loanwords and names bring stray accents and short words.
    return best if score >= 2 and score > english else "en"


def detect_language(text: str) -> str | None:
    """An ISO 639-1 code for ``text`` ("ko", "ja", "zh", "ru", "en", ...), or None when it has no letters."""
    weights: dict[str, float] = {}
    for char in text:
        script = _script(char)
        if script is not None:
            weights[script] = weights.get(script, 0.0) + _WEIGHT.get(script, 1.0)
    if not weights:
        return None
    if "kana" in weights:
        # Kana marks the Han characters around it as Japanese.
        weights["kana"] += weights.pop("han", 0.0)
    script = max(weights, key=lambda name: weights[name])
    if script == "latin":
        return _latin_language(text)
    if script == "kana":
        return "ja"
    if script == "han":
        return "zh"
    if script == "cyrillic" and any(char in _UKRAINIAN_LETTERS for char in text):
        return "uk"
    return _SCRIPT_LANGUAGE.get(script)


def hangul_syllables(text: str) -> int:
    """How many precomposed Hangul syllables (가-힣) ``text`` has: a Korean word's length as it is said."""
    return sum("\uac00" <= char <= "\ud7a3" for char in text)
