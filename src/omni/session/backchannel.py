"""Backchannels: the short acknowledgements a listener makes while someone talks ("mm-hm", "yeah", "응", "네"), which
must not stop the assistant's reply, told apart from a real interruption ("wait", "no, I meant…").

Under Omni's turn-taking (``semantic_vad``) speech that starts during a reply is held (:class:`Hold`): it becomes a
turn, and interrupts the reply, once it has lasted :data:`TURN_MS`, or when it ends sooner and :func:`not_a_turn`
says its words are a turn. Speech that ends sooner as a backchannel, as nothing the recogniser can read (a cough, a
knock), or as a word or two that ask for nothing, is dropped and the reply goes on. The last is because whisper
misreads acknowledgements heard alone: in the turns bench "Mm-hm." came out as "One more", "네" as "Ner" (and as
Hebrew without a language hint), "아하" as "I heard"; a short interruption says what it wants ("Wait.", "Stop.",
"잠깐만요.", "Sorry?"). Speech far quieter than the user's own (:attr:`Hold.distant`) is someone else's: a turn only
if its first word stops the reply (:func:`stops`). The Realtime API has no way to resume a reply a client has
stopped playing, so ``speech_started`` waits for that decision: a real interruption is announced later than under
``server_vad`` (the trade-off, measured in docs/turn-taking.md).
"""

from __future__ import annotations

import asyncio
import difflib
import re
from dataclasses import dataclass, field

from omni.session.end_of_turn import asks

TURN_MS = 700
"""Speech this long from its detection is a turn, unless a look at its first words (:data:`PEEK_MS`) found them
short of one: longer than most acknowledgements, shorter than a request."""
PEEK_MS = 400
"""Held speech this long is transcribed so far: a real interruption ("No, I meant…", "Wait, stop") is a turn as soon
as its first words say so; an acknowledgement that is still going ("Mm-hm." in the Piper voice lasts 0.9 s,
"그렇구나." in the Korean voice 0.8 s) is held up to :data:`MAX_HOLD_MS`."""
MAX_HOLD_MS = 1200
"""The longest speech is held, whatever its words."""

MAX_WORDS = 3
"""A backchannel is a few words at most ("oh, I see", "아 그렇구나")."""
ECHO_HOLD_MS = 2000
"""Speech held while it is not yet known whether the microphone hears the speaker (the first 1.2 s of playback:
:mod:`omni.audio.echo_presence`) is held up to this long whatever its words: whisper reads the reply's own voice in
a room often as other words than the reply's, which would make it a turn."""
SHORT_MS = 600
"""Speech up to this long, of at most :data:`SHORT_WORDS` words that neither stop nor ask, is no turn."""
SHORT_WORDS = 2

_ENGLISH = frozenset({
    "mm", "mmm", "mhm", "mm-hm", "mm-hmm", "mmhmm", "uh-huh", "uh-hm", "uhhuh", "hm", "hmm", "yeah", "yea", "yep",
    "yes", "yup", "right", "okay", "ok", "sure", "alright", "cool", "nice", "wow", "oh", "ah", "aha", "ha", "true",
    "exactly", "indeed", "gotcha", "great", "interesting"})
_KOREAN = frozenset({
    "응", "응응", "으응", "네", "네네", "예", "예예", "어", "어어", "음", "흠", "아", "아아", "아하", "오", "와",
    "우와", "그래", "그래요", "그렇구나", "그렇군요", "그렇죠", "그치", "맞아", "맞아요", "진짜", "정말",
    "대박", "헐", "좋아", "좋아요", "알겠어", "알겠어요", "알았어", "오케이"})
_WORDS = _ENGLISH | _KOREAN
SPELLING = {"en": "Mm-hm. Uh-huh. Yeah. Okay. Right.", "ko": "응. 네. 아하. 그렇구나."}
"""How acknowledgements are written, given to the recogniser as the text before held speech (its prompt): heard
alone, whisper wrote Piper's "Mm-hm." as "Emma Maychan" and its first 0.4 s as "MMA", the Korean voice's "네" as
"No" and "응" as "1"; after this text, "Mm-hm.", "네." and "응.", while "Wait.", "No, I meant the other one.",
"잠깐…" and "아니…" stayed what they were."""
_REPEATED = _WORDS | {"m", "h"}
"""What an acknowledgement said over is made of ("mmmm", "응응응")."""
_STOPPING = frozenset({
    "wait", "stop", "no", "nope", "hold", "hang", "pause", "sorry", "excuse", "hey", "what", "actually", "but",
    "again", "repeat", "louder", "slower", "quiet", "enough", "shut", "cancel", "omni",
    "잠깐", "잠깐만", "잠깐만요", "그만", "그만해", "그만해요", "아니", "아니요", "아뇨", "멈춰", "스톱", "저기",
    "저기요", "야", "뭐", "뭐라고", "다시", "근데"})
"""Words a short interruption is made of: a sound with one of them is a turn, however short."""
_PHRASES = frozenset({"i see", "got it", "uh huh", "mm hm", "mm hmm", "that's right", "of course", "go on"})
_WORD = re.compile(r"[\w'-]+")


def _words(text: str) -> list[str]:
    return [word for word in (w.strip("-'") for w in _WORD.findall(text.lower())) if word]


def is_backchannel(text: str) -> bool:
    """Whether the words ``text`` are only an acknowledgement (an empty transcript is not: nothing was said)."""
    joined = " ".join(_words(text))
    for phrase in _PHRASES:  # "oh, I see": a phrase counts as one word of it
        joined = re.sub(rf"\b{re.escape(phrase)}\b", "ok", joined)
    words = joined.split()
    return 0 < len(words) <= MAX_WORDS and all(w in _WORDS or _repeats_a_word(w) for w in words)


def not_a_turn(text: str, speech_ms: float) -> bool:
    """Whether held speech of ``speech_ms`` whose words were read as ``text`` lets the reply go on: no words, a
    backchannel, or a short sound of a word or two that neither stops the reply nor asks anything."""
    words = _words(text)
    if not words or is_backchannel(text):
        return True
    return (speech_ms <= SHORT_MS and len(words) <= SHORT_WORDS and not asks(text)
            and not any(w in _STOPPING for w in words))


def stops(text: str) -> bool:
    """Whether the words ``text`` begin by stopping the reply ("Wait, …", "Stop.", "잠깐만요"): what makes a voice far
    quieter than the user's a turn (the user across the room; anyone else's words seldom begin so)."""
    words = _words(text)
    return bool(words) and words[0] in _STOPPING


ECHO_SHARE = 0.6
"""Held words of which at least this share (of their letters, in runs of :data:`ECHO_RUN` or more that the reply's
text has in the same order) are the reply's are its echo."""
ECHO_RUN = 3


def echoes(heard: str, saying: str) -> bool:
    """Whether the words ``heard`` are the reply's own (``saying``: its text so far) coming back through the
    microphone: a backstop for the moments before the echo canceller has found the echo (``omni.audio.
    echo_presence``), when the VAD hears the reply as speech and whisper writes down its words. Compared letter by
    letter, since whisper mishears the echo ("Once upon a time" came back as "on at time.")."""
    heard_words = _words(heard)
    said = "".join(_words(saying))
    if len(heard_words) < 2 or not said:
        return False
    letters = "".join(heard_words)
    blocks = difflib.SequenceMatcher(None, letters, said, autojunk=False).get_matching_blocks()
    shared = sum(block.size for block in blocks if block.size >= ECHO_RUN)
    return shared >= ECHO_SHARE * len(letters)


def _repeats_a_word(word: str) -> bool:
    """"mmmm", "yeah-yeah", "응응응": one acknowledgement said over."""
    for size in range(1, len(word) // 2 + 1):
        unit = word[:size]
        if len(word) % size == 0 and unit * (len(word) // size) == word and unit in _REPEATED:
            return True
    return False


@dataclass
class Hold:
    """Speech that began during a reply, not yet known to be a turn."""

    audio_start_ms: int
    """Where the speech starts in the input stream (the ``speech_started`` it will announce if it is a turn)."""
    detected_ms: float
    """Where the VAD detected it."""
    speech_before_ms: int = 0
    """How much speech the VAD had heard when it detected it (its minimum run)."""
    peek: asyncio.Task[str] | None = field(default=None, repr=False)
    """The transcription of its first :data:`PEEK_MS`."""
    sounds_short: bool = False
    """The first words were no turn (an acknowledgement, or a word that asks nothing)."""
    maybe_echo: bool = False
    """Whether the microphone hears the speaker is not known yet: the speech may be the reply's own voice."""
    distant: bool = False
    """Far quieter than the user's voice (:mod:`omni.audio.speech_level`): someone else's, a turn only if its first
    word stops the reply (:func:`stops`)."""

    def long_enough(self, now_ms: float) -> bool:
        """Whether the speech has gone on long enough to be a turn, whatever its words: :data:`TURN_MS`,
        :data:`MAX_HOLD_MS` while its first words are being read or were short of a turn, :data:`ECHO_HOLD_MS`
        while it may be echo."""
        if self.distant:
            return False
        waiting = self.peek is not None and not self.peek.done()
        limit = ECHO_HOLD_MS if self.maybe_echo else MAX_HOLD_MS if waiting or self.sounds_short else TURN_MS
        return now_ms - self.detected_ms >= limit

    def due_for_peek(self, now_ms: float) -> bool:
        return self.peek is None and now_ms - self.detected_ms >= PEEK_MS

    def speech_ms(self, pause_ms: float) -> float:
        """How long the speech lasted if it paused at ``pause_ms``."""
        return pause_ms - self.detected_ms + self.speech_before_ms
