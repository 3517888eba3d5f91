"""Korean text → the phonemes Kokoro-82M reads: Hangul through ko-pron's IPA, then onto Kokoro's symbols.

Kokoro was not trained on Korean, so a Korean sentence has to be written in sounds it knows. ko-pron (a port of
Wiktionary's ko-pron module) applies the Korean sound rules — liaison, nasalisation, tensing, palatalisation
(같이 → [kat͡ɕʰi], 학교 → [hak̚k͈jo]) — and writes narrow IPA; :class:`KokoroMapping` then turns that IPA into
Kokoro's symbols: affricates as the single letters Kokoro's Japanese uses (t͡ɕ → ʨ), diacritics dropped, and a few
choices the round-trip measurement settled (docs/languages.md, "Korean voice").

Only Hangul syllables go through ko-pron (it fails on anything else). Punctuation becomes Kokoro's pause marks.
:func:`phonemize` takes text that :func:`omni.text.korean_normalize.normalize_korean` has already written the way
it is read (numbers, dates, units and acronyms in Hangul); what is left is handled simply: an all-capital word is
spelled in Korean letter names ("KTX" → 케이티엑스), other Latin words pass through (Kokoro reads Latin letters
roughly as they sound), a stray digit is read on its own.
"""

from __future__ import annotations

import functools
import importlib
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

_HANGUL_RUN = re.compile(r"[가-힣]+(?: +[가-힣]+)*")
_TOKEN = re.compile(r"[가-힣]+(?: +[가-힣]+)*|[A-Za-z]+|\s+|.", re.DOTALL)

# What a punctuation mark becomes for Kokoro: its own marks where it has them, a comma for a few more that pause;
# quotes, brackets and other symbols are left out.
_PUNCTUATION = {
    ",": ",", ".": ".", "!": "!", "?": "?", ";": ";", ":": ":", "…": "…", "—": "—",
    "、": ",", "。": ".", "，": ",", "！": "!", "？": "?", "·": ",", "~": ",", "-": " ", "/": " ",
}

_LETTER_NAMES = {
    "A": "에이", "B": "비", "C": "씨", "D": "디", "E": "이", "F": "에프", "G": "지", "H": "에이치", "I": "아이",
    "J": "제이", "K": "케이", "L": "엘", "M": "엠", "N": "엔", "O": "오", "P": "피", "Q": "큐", "R": "알",
    "S": "에스", "T": "티", "U": "유", "V": "브이", "W": "더블유", "X": "엑스", "Y": "와이", "Z": "지",
}
_DIGITS = dict(zip("0123456789", ("공", "일", "이", "삼", "사", "오", "육", "칠", "팔", "구"), strict=True))

# Marks with no sound of their own in Kokoro: unreleased (̚), lowered (̞), retracted (̠), more rounded (̹), the
# affricate tie (͡), syllabic and length marks. Tenseness (͈) and aspiration (ʰ) are handled by the mapping.
_DROPPED = "\u031a\u031e\u0320\u0339\u0361\u0329\u02d0\u02b7"
_TENSE = "\u0348"
_VOICED = {"p": "b", "t": "d", "k": "ɡ"}
# ko-pron's narrow allophones of ㅎ (its tidy_ipa), back to the phoneme: [kç] [kx] are its aspirated ㅋ.
_H_ALLOPHONES = (("kç", "kʰ"), ("kx", "kʰ"), ("ç", "h"), ("x", "h"), ("ɸʷ", "h"), ("ɸ", "h"),
                 ("β", "ɦ"), ("ʝ", "ɦ"), ("ɣ", "ɦ"))
_UNRELEASED = "\u031a"


@dataclass(frozen=True)
class KokoroMapping:
    """How ko-pron's IPA is written for Kokoro; the defaults are the measured best (docs/languages.md)."""

    aspirated: str = "ʰ"
    """What the aspiration mark of ㅋ ㅌ ㅍ ㅊ becomes: ``ʰ`` (Kokoro has it), ``h``, or ``""`` (plain)."""
    tense: str = "double"
    """ㄲ ㄸ ㅃ ㅆ ㅉ: ``double`` (written twice inside a word, held as Kokoro's Japanese holds a doubled consonant;
    the plain letter at a word's start), ``plain`` (the plain consonant), or ``glottal`` (ʔ before it inside a word,
    as Kokoro's Japanese writes っ)."""
    eo: str = "ɔ"
    """ㅓ: ``ɔ``, or ``ʌ`` as ko-pron writes it (the Japanese voices say it as [a]: 걸어서 was heard as 가라서), or
    ``o``, ``ə``, ``ɤ``."""
    eu: str = "ɯ"
    """ㅡ."""
    weak_h: str = "h"
    """ㅎ voiced between vowels and after a sonorant ([ɦ], which Kokoro lacks): ``h`` or ``""`` (dropped, as often
    said)."""
    front_rounded: bool = False
    """Keep ㅚ ㅟ as [ø] [ɥi]; otherwise the common modern [we] [wi]."""
    sibilant_aspiration: bool = False
    """Keep the aspiration ko-pron writes on ㅅ ([sʰ]); Korean ㅅ is lightly aspirated, but ``sʰ`` is rare in what
    Kokoro learnt."""
    spaces: bool = True
    """Keep the spaces between words."""
    h_allophones: bool = False
    """Keep the sounds ko-pron writes for ㅎ before some vowels ([ç] 히, [x] 흐, [ɸ] 호 후 화, [β] [ʝ] [ɣ] between
    vowels); otherwise plain h (Kokoro's Japanese voices say [ɸ] as the f-like ふ: 회의 was heard as 후에)."""
    unreleased: str = "stop"
    """A final ㄱ ㄷ ㅂ before the next word's consonant ([k̚ t̚ p̚], never released in Korean): ``stop`` (Kokoro
    releases it), ``glottal`` (ʔ, as Kokoro's Japanese holds a consonant), or ``drop``."""
    ch: str = "ʨ"
    """The affricate of ㅊ (before its aspiration): ``ʨ`` as in ㅈ, or English-like ``ʧ``."""
    ye_after_consonant: str = "e"
    """ㅖ after a consonant (계, 폐): ``e`` as it is commonly said ([게]), or ``je`` as written."""
    ui: str = "ɯi"
    """ㅢ where ko-pron keeps it (의사, 회의): ``ɯi``, ``ɰi`` as ko-pron writes it (a sound the Japanese
    voices never say), or ``i``."""
    stress_high_onsets: bool = False
    """Mark a word that starts with an aspirated or tense consonant, ㅅ or ㅎ with Kokoro's stress mark (ˈ), since in
    Seoul Korean such a word starts high (measured worse)."""
    initial_lenis: str = "voiceless"
    """ㄱ ㄷ ㅂ ㅈ at the start of a word: ``voiceless`` as ko-pron writes them ([k t p t͡ɕ]), or ``voiced``
    ([ɡ d b d͡ʑ], as they sound inside a word; whisper heard 두 병 as 투 평, but voiced measured worse)."""


DEFAULT_MAPPING = KokoroMapping()


def _ko_pron() -> Callable[..., str]:
    module = importlib.import_module("ko_pron")  # untyped; one function used
    romanise: Callable[..., str] = module.romanise
    return romanise


@functools.lru_cache(maxsize=4096)
def hangul_ipa(words: str) -> str:
    """ko-pron's IPA for Hangul words separated by single spaces (the sound rules apply within each word).

    ko-pron offers variants for some vowels ("외" [we] ~ [ø]) joined by "] ~ ["; the first is the common one.
    """
    try:
        ipa = _ko_pron()(words, "ipa")
    except (IndexError, KeyError, ValueError):
        # A syllable pair its tables lack: the words one at a time, then syllable by syllable, lose only sandhi.
        if " " in words:
            return " ".join(hangul_ipa(word) for word in words.split(" "))
        if len(words) > 1:
            return "".join(hangul_ipa(syllable) for syllable in words)
        return ""
    return ipa.split("] ~ [")[0]


def ipa_to_kokoro(ipa: str, mapping: KokoroMapping = DEFAULT_MAPPING) -> str:
    """ko-pron's IPA in Kokoro's symbols."""
    text = unicodedata.normalize("NFC", ipa)
    if not mapping.h_allophones:
        for allophone, plain in _H_ALLOPHONES:
            text = text.replace(allophone, plain)
    # Decomposed, every diacritic is a character of its own (ç too), to be kept or dropped one by one.
    text = unicodedata.normalize("NFD", text)
    text = text.replace("t\u0361ɕʰ", mapping.ch + "ʰ")
    if mapping.initial_lenis == "voiced":
        text = re.sub(r"(^| )t\u0361ɕ(?![ʰ\u0348])", "\\1d\u0361ʑ", text)
        text = re.sub(r"(^| )([ptk])(?![ʰ\u0348\u0361])", lambda m: m[1] + _VOICED[m[2]], text)
    text = text.replace("t\u0361ɕ", "ʨ").replace("d\u0361ʑ", "ʥ")
    if not mapping.sibilant_aspiration:
        text = text.replace("sʰ", "s").replace("ɕʰ", "ɕ").replace("ʃʰ", "ʃ")
    if mapping.stress_high_onsets:
        text = re.sub(r"(^| )(?=\S[ʰ\u0348]|[sɕh])", "\\1ˈ", text)
    text = _tense(text, mapping.tense)
    if mapping.unreleased != "stop":
        text = re.sub(r"[ptk]" + _UNRELEASED + r"(?= [^aeiouɯʌjwøɥ])", "ʔ" if mapping.unreleased == "glottal" else "",
                      text)
    text = text.replace("ʰ", mapping.aspirated)
    if not mapping.front_rounded:
        text = text.replace("ø", "we").replace("ɥi", "wi").replace("y", "wi")
    if mapping.ye_after_consonant != "je":
        text = re.sub(r"(?<=[^\s aeiouɯʌɾɭjw\u031e\u0320\u0339])je(?=\u031e)", mapping.ye_after_consonant, text)
    text = text.replace("ɰi", mapping.ui)
    text = text.replace("ʌ", mapping.eo).replace("ɯ", mapping.eu)
    text = text.replace("ɦ", mapping.weak_h).replace("ɭ", "l").replace("ɘ", mapping.eo)
    text = "".join(ch for ch in text if ch not in _DROPPED)
    return unicodedata.normalize("NFC", text)


def _tense(text: str, how: str) -> str:
    if how == "plain":
        return text.replace(_TENSE, "")
    tense = r"(?:ʨ|[ptksɕ])" + _TENSE
    vowel = r"[aeiouɯʌjw\u031e\u0320\u0339]"
    if how == "glottal":
        # As Kokoro's Japanese writes a held consonant (っ): ʔ before it, after a vowel or in place of the stop
        # before it. At the start of a word a tense consonant is only stronger, which the plain letter says best.
        text = re.sub(r"[ptk]" + _UNRELEASED + f"(?={tense})", "ʔ", text)
        return re.sub(f"(?<={vowel})(?={tense})", "ʔ", text).replace(_TENSE, "")
    if how == "double":
        # A stop before a tense consonant of its own place (or ㄷ before any coronal) is the same closure held on:
        # [k̚k͈] [t̚s͈] → kk, ss. Of another place, the stop stays and the tense consonant is said once: [ik̚t͈a] → ikta.
        text = re.sub(r"([ptk])" + _UNRELEASED + r"(?=\1" + _TENSE + ")", "", text)
        text = re.sub(r"t" + _UNRELEASED + r"(?=(?:ʨ|[sɕ])" + _TENSE + ")", "", text)
        text = re.sub(f"(?<={vowel})(ʨ|[ptksɕ])" + _TENSE, r"\1\1", text)
        return text.replace(_TENSE, "")
    raise ValueError(f"unknown tense mapping {how!r}; expected plain, glottal or double")


def spell_latin(word: str) -> str:
    """A Latin word for the Korean front end: an all-capital word (an acronym) in Korean letter names, any other
    as it is (Kokoro reads Latin letters roughly as they sound)."""
    if word.isupper() and len(word) <= 6:
        return "".join(_LETTER_NAMES[ch] for ch in word)
    return word


def _plain_unicode(text: str) -> str:
    """Unicode forms made plain (decomposed Hangul composed, full-width letters and digits as ASCII), "..." as "…".

    Reading numbers, dates and units is :mod:`omni.text.korean_normalize`'s work, which runs before this.
    """
    return re.sub(r"\.{3,}", "…", unicodedata.normalize("NFKC", text))


def _in_hangul(text: str) -> str:
    """Acronyms and stray digits written in Hangul, so that they join the syllables around them ("KTX를")."""
    text = re.sub(r"[A-Za-z]+", lambda m: spell_latin(m[0]), text)
    return re.sub(r"[0-9]", lambda m: _DIGITS[m[0]], text)


def _pieces(text: str, mapping: KokoroMapping) -> Iterator[str]:
    for match in _TOKEN.finditer(_in_hangul(text)):
        token = match.group()
        if _HANGUL_RUN.fullmatch(token):
            yield ipa_to_kokoro(hangul_ipa(" ".join(token.split())), mapping)
        elif token.isascii() and token.isalpha():
            yield token.lower()
        elif token.isspace():
            yield " "
        elif token in _PUNCTUATION:
            yield _PUNCTUATION[token]


def phonemize(text: str, mapping: KokoroMapping = DEFAULT_MAPPING) -> str:
    """Kokoro phonemes for Korean ``text``: words separated by spaces, punctuation kept as Kokoro's pause marks."""
    joined = "".join(_pieces(_plain_unicode(text), mapping))
    joined = re.sub(r"\s*([,.!?;:…—])\s*", r"\1 ", joined)  # marks sit on the word before, a space after
    joined = " ".join(joined.split())
    joined = re.sub(r"(?<=[,.!?;:…—]) (?=[,.!?;:…—])", "", joined)  # "?!" stays together
    joined = re.sub(r"[,;:—]+(?=[,.!?;:…—])", "", joined)  # of a pause and another mark, the other: "요,." → "요."
    joined = re.sub(r"^[,;:—] ?", "", joined)
    if not mapping.spaces:
        joined = re.sub(r"(?<=[^\s,.!?;:…—]) (?=[^\s])", "", joined)
    return joined


def with_mapping(**changes: object) -> KokoroMapping:
    """The default mapping with some fields changed (the benchmark's variants)."""
    return replace(DEFAULT_MAPPING, **changes)  # type: ignore[arg-type]
