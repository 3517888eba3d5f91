"""End-of-turn prediction: at a pause in the user's speech, how long a silence ends their turn.

A person pausing to think ("Please book me a table at … the Italian restaurant") must not be answered half-way,
and a finished question ("What time is it?") should be answered at once. At each pause the session transcribes
what was said so far (it does so anyway, to start the reply early), and this module reads two things from it:

- the LLM's probability that the user's message ends there: the probability of the token its chat template puts
  after a user message (:meth:`omni.backends.base.LLM.end_of_turn`), the method of LiveKit's turn detector without
  a model of its own. On the embedded model it is 0.9-0.99 after finished questions and requests, 0.14-0.46
  after a list or a phone number read out, and below 0.001 after "Please book me a table at" or "내일 아침에";
- cheap rules on the words: a trailing conjunction, article, filler or preposition ("and", "the", "um", "at"), a
  Korean connective or particle ("그리고", "아침에"), a trailing comma or ellipsis. Whisper writes "..." where
  speech trails off, and the LLM reads "Please book me a table at..." as finished (0.80): the rules catch it.

The sound can only hold a turn back (:func:`verdict`'s ``finished``, :mod:`omni.audio.prosody`): words that look
finished ("Please book me a table." is how whisper writes "Please book me a table at" cut short) but end without the
fall of a finished statement are taken as unsure. Measured on TTS voices where the words leave the decision open,
the prosodic score tells a finished statement from a cut one with an AUC of 0.90; taking a low score as unsure cut
the share of cut sentences answered at the shortest wait from 35% to 22% (held-out) and made 2 of 160 finished ones
wait 400 ms longer. It is not used to shorten a wait (a person may end a phrase mid-sentence with the fall of an
end), nor on questions, which rise.

The verdict picks the silence that ends the turn from the eagerness's :class:`Waits`: short when the words are
finished, long when they are not. ``semantic_vad`` in the Realtime API is this; ``server_vad`` keeps its fixed
silence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from omni.text.language import hangul_syllables

Verdict = Literal["complete", "unsure", "unfinished"]


@dataclass(frozen=True)
class Waits:
    """Milliseconds of silence that end a turn, by verdict; ``unknown`` before (or without) a verdict."""

    complete: int
    unsure: int
    unfinished: int
    unknown: int

    def for_verdict(self, verdict: Verdict | None) -> int:
        if verdict is None:
            return self.unknown
        return {"complete": self.complete, "unsure": self.unsure, "unfinished": self.unfinished}[verdict]


WAITS = {
    "high": Waits(complete=150, unsure=600, unfinished=1000, unknown=350),
    "medium": Waits(complete=200, unsure=1000, unfinished=2000, unknown=700),
    "auto": Waits(complete=200, unsure=1000, unfinished=2000, unknown=700),
    "low": Waits(complete=400, unsure=1500, unfinished=3000, unknown=1200),
}
"""``semantic_vad``'s ``eagerness``: high answers soonest, low lets the user take their time. ``unsure`` is mostly
lists and numbers read out in groups ("I need eggs." 0.46, "My number is 010." 0.14), whose pauses run to a second,
and a few finished requests without a question mark (3 of 12 in the turns bench): at 600 ms, 4 of 7 lists and
numbers were cut short."""

COMPLETE_PROBABILITY = 0.5
"""The LLM's end-of-turn probability at or above which the words are taken as finished."""
UNFINISHED_PROBABILITY = 0.05
"""Below this, the LLM expects more words."""
PROSODY_BRAKE = 0.5
"""A finished-looking statement whose prosodic score is below this is taken as unsure."""
SURE_PROBABILITY = 0.9
"""At or above this, a last word that often joins more (a preposition, a Korean particle) does not outweigh it."""

_TRAILING_OFF = re.compile(r"(\.\.\.|…|,|;|:|-|—)\s*$")
_ENDS_FINISHED = re.compile(r"[.?!。？！]\s*$")
_QUESTION = re.compile(r"[?？]\s*$")

_ALWAYS_GO_ON = frozenset({
    "and", "or", "but", "because", "the", "a", "an", "my", "your", "their", "our", "um", "uh", "er", "erm", "hmm",
    "whether", "than", "plus"})
"""English words a finished sentence does not end with, whatever punctuation whisper gave them."""
_GO_ON_UNLESS_ASKED = frozenset({
    "to", "at", "of", "in", "on", "for", "with", "from", "about", "into", "by", "as", "is", "are", "was", "were",
    "that", "so", "then", "like", "when", "if", "which", "his", "her"})
"""Words that end a question ("What are you looking at?") or some statements ("I think so.") but mostly go on."""
_KOREAN_GO_ON = frozenset({
    "그리고", "그래서", "그런데", "근데", "그러니까", "그러면", "그럼", "하지만", "그리고요", "음", "어", "저", "저기",
    "그", "뭐냐", "있잖아"})
_KOREAN_OPEN_ENDINGS = ("고", "는데", "은데", "인데", "면", "으면", "서", "니까", "지만", "거나", "에", "에서", "에게",
                        "한테", "를", "을", "는", "은", "이랑", "랑", "하고", "와", "과", "의", "로", "으로")
"""Endings of a Korean word that join it to more: connectives (먹고, 가는데, 오면), particles (아침에, 식당을)."""
_KOREAN_FINAL_ENDINGS = ("요", "다", "까", "니", "죠", "어", "아", "야", "래", "자", "네", "군", "게", "줘", "봐", "해",
                         "지", "냐", "나", "세요")
"""Endings that close a Korean sentence (있어요, 했다, 할까, 있어, 알려 줘, 좋네)."""
_WORD = re.compile(r"[\w']+")


def unfinished_words(text: str, probability: float | None = None) -> bool:
    """Whether the words so far plainly go on: a trailing comma or ellipsis, or a last word that needs more. A
    preposition or a Korean ending that usually joins more ("at", "아침에") counts only when the LLM does not
    find the message plainly finished (``probability`` below :data:`SURE_PROBABILITY`): "냉면." ends like "오면"."""
    stripped = text.strip()
    if not stripped:
        return False
    if _TRAILING_OFF.search(stripped):
        return True
    words = _WORD.findall(stripped.lower())
    if not words:
        return False
    last = words[-1]
    if last in _ALWAYS_GO_ON or last in _KOREAN_GO_ON:
        return True
    if (last.isdigit() and not asks(stripped)
            and (probability is None or probability < COMPLETE_PROBABILITY)):
        return True  # a number read in groups ("My number is 010." 0.14, "The code is 470." 0.15)
    if asks(stripped) or (probability is not None and probability >= SURE_PROBABILITY):
        return False
    korean_joining = hangul_syllables(last) > 0 and len(last) > 1 and last.endswith(_KOREAN_OPEN_ENDINGS)
    return last in _GO_ON_UNLESS_ASKED or korean_joining


def verdict(text: str, probability: float | None, finished: float | None = None) -> Verdict:
    """Whether the words ``text`` finish the user's turn, from the rules and the LLM's end-of-turn ``probability``
    (None when the LLM gives none: then the punctuation whisper wrote decides between finished and unsure), and
    the voice's prosodic ``finished`` score (None: not known), which can only make a finished statement unsure."""
    found = words_verdict(text, probability)
    if found == "complete" and finished is not None and finished < PROSODY_BRAKE and not asks(text):
        return "unsure"
    return found


def words_verdict(text: str, probability: float | None) -> Verdict:
    """The verdict of the words alone. A Korean sentence-final ending counts as a closing mark: whisper often
    leaves the question mark off a Korean question ("비 오는 날 듣기 좋은 노래 있어": 0.09)."""
    if unfinished_words(text, probability):
        return "unfinished"
    finished_korean = _ends_korean_sentence(text)
    if probability is None:
        return "complete" if _ENDS_FINISHED.search(text.strip()) or finished_korean else "unsure"
    if probability >= COMPLETE_PROBABILITY or (finished_korean and probability >= UNFINISHED_PROBABILITY):
        return "complete"
    return "unsure" if probability >= UNFINISHED_PROBABILITY or finished_korean else "unfinished"


def _ends_korean_sentence(text: str) -> bool:
    words = _WORD.findall(text.lower())
    return bool(words) and hangul_syllables(words[-1]) > 0 and words[-1].endswith(_KOREAN_FINAL_ENDINGS)


def asks(text: str) -> bool:
    """Whether ``text`` ends as a question (whose voice rises at the end)."""
    return bool(_QUESTION.search(text.strip()))

