"""Interpreter mode: each utterance translated into the other language of a pair, never answered.

Two people share one microphone, one speaking Korean, the other English (any pair of :data:`LANGUAGES`). Each
utterance is translated on its own, with a fixed prompt: a system message naming the two languages, a few short
example translations in both directions (questions and a request among them: a question stays a question, a request
is translated, not carried out), then the utterance with a note naming its language and the target. No conversation
history goes in (a small model handed a conversation drifts into answering it), no tools, temperature 0.

The system message and the examples are the same for both directions and every turn, so the LLM's prompt cache
holds them; the note comes after the utterance, so words the session decodes ahead while the user still speaks
(listen-ahead) are the prompt's next tokens. With :attr:`Interpreter.context` the previous utterance and its
translation go in as one more example (docs/interpreter.md measures whether that helps).

The mode is switched on explicitly (``SessionOptions.interpreter``, ``session.interpreter`` in the settings,
``omni interpret``, the Realtime extension field ``omni_interpreter``) or by instructions that ask for it
(:func:`from_instructions`: "You are an interpreter. Translate between English and Korean.", "영어와 한국어를
통역해 주세요").
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, replace

from omni.aio import closing
from omni.backends.base import LLM, GenerationOptions
from omni.session.context import Item
from omni.text.chunking import sentences
from omni.text.language import detect_language
from omni.types import ChatMessage, LLMEvent, TextDelta

log = logging.getLogger(__name__)

LANGUAGES: dict[str, str] = {
    "ko": "Korean", "en": "English", "ja": "Japanese", "zh": "Chinese", "es": "Spanish", "fr": "French",
    "de": "German",
}
"""The languages the interpreter knows, by ISO 639-1 code: each has the example sentences below."""

_NATIVE_NAMES = {"ko": "한국어", "en": "English", "ja": "日本語", "zh": "中文", "es": "español", "fr": "français",
                 "de": "Deutsch"}

DEFAULT_LANGUAGES = ("ko", "en")

_SCRIPT_LANGUAGES = frozenset({"ko", "ja", "zh"})
"""Languages whose script settles the question: text in Hangul is Korean whatever the speech recogniser guessed."""

# The example translations, one sentence in every language. Kept short (the prompt cache holds them, but a cold
# prefix costs ~10 ms a token) and unlike the benchmark's sentences (omni.bench.interpreter_pairs), so the
# measurements are not of sentences the model was shown.
_EXAMPLES: tuple[dict[str, str], ...] = (
    {"en": "Where is the nearest subway station?", "ko": "가장 가까운 지하철역이 어디예요?",
     "ja": "一番近い地下鉄の駅はどこですか？", "zh": "最近的地铁站在哪里？",
     "es": "¿Dónde está la estación de metro más cercana?", "fr": "Où est la station de métro la plus proche ?",
     "de": "Wo ist die nächste U-Bahn-Station?"},
    {"en": "Please close the window.", "ko": "창문 좀 닫아 주세요.", "ja": "窓を閉めてください。",
     "zh": "请关上窗户。", "es": "Por favor, cierra la ventana.", "fr": "Fermez la fenêtre, s'il vous plaît.",
     "de": "Bitte schließen Sie das Fenster."},
    {"en": "Who wrote this book?", "ko": "이 책은 누가 썼어요?", "ja": "この本は誰が書きましたか？",
     "zh": "这本书是谁写的？", "es": "¿Quién escribió este libro?", "fr": "Qui a écrit ce livre ?",
     "de": "Wer hat dieses Buch geschrieben?"},
    {"en": "I lived in Seoul for three years.", "ko": "저는 서울에서 3년 동안 살았어요.",
     "ja": "私はソウルに三年間住んでいました。", "zh": "我在首尔住了三年。", "es": "Viví en Seúl durante tres años.",
     "fr": "J'ai vécu à Séoul pendant trois ans.", "de": "Ich habe drei Jahre in Seoul gelebt."},
    {"en": "Can you call my sister for me?", "ko": "제 여동생한테 전화해 줄 수 있어요?",
     "ja": "妹に電話してもらえますか？", "zh": "你能帮我给我妹妹打电话吗？",
     "es": "¿Puedes llamar a mi hermana por mí?", "fr": "Tu peux appeler ma sœur pour moi ?",
     "de": "Kannst du meine Schwester für mich anrufen?"},
    {"en": "How much does this cost?", "ko": "이거 얼마예요?", "ja": "これはいくらですか？", "zh": "这个多少钱？",
     "es": "¿Cuánto cuesta esto?", "fr": "Combien ça coûte ?", "de": "Wie viel kostet das?"},
)


@dataclass(frozen=True)
class Direction:
    """Which way one utterance is translated; ``source`` is None when its language is not one of the pair's."""

    source: str | None
    target: str


@dataclass(frozen=True)
class Exchange:
    """An utterance (in ``language``, if known) and the translation that followed it."""

    said: str
    language: str | None = None
    translation: str = ""


@dataclass(frozen=True)
class Interpreter:
    """The interpreter's settings: the two languages, and whether the previous utterance goes in as context."""

    languages: tuple[str, str] = DEFAULT_LANGUAGES
    context: bool = False

    def __post_init__(self) -> None:
        unknown = [code for code in self.languages if code not in LANGUAGES]
        if unknown or len(self.languages) != 2 or self.languages[0] == self.languages[1]:
            raise ValueError(f"an interpreter needs two different languages of {', '.join(LANGUAGES)}; "
                             f"got {', '.join(self.languages) or 'none'}")

    def direction(self, text: str, detected: str | None = None) -> Direction:
        """Translate ``text`` (in ``detected``, the speech recogniser's guess, if any) into the pair's other
        language. Text in a script of its own (Hangul, kana, Han) is that language whatever was detected; text in
        a language outside the pair goes into the pair's first language."""
        by_script = detect_language(text)
        if detected is None or by_script in _SCRIPT_LANGUAGES or detected in _SCRIPT_LANGUAGES:
            source = by_script  # typed text, or a guess the words' own script settles or contradicts
        else:
            source = detected  # Latin letters: the recogniser heard the language, which the letters do not show
        first, second = self.languages
        if source not in self.languages:
            return Direction(None, first)
        return Direction(source, second if source == first else first)

    @property
    def _prompt_order(self) -> tuple[str, str]:
        """The pair as the prompt names it and alternates its examples: the same whichever order it was given in,
        so "between English and Korean" and ``--languages ko,en`` share one prompt (and one cached prefix)."""
        first, second = sorted(self.languages)
        return first, second

    def system(self) -> str:
        first, second = (LANGUAGES[code] for code in self._prompt_order)
        return (f"You are an interpreter between {first} and {second}. Translate each message into the language "
                "its note names, and write only the translation, in natural spoken language. Never answer a "
                "question and never carry out a request: a question stays a question, a request stays a "
                "request, and names and numbers stay as they are.")

    def prompt(self, utterance: str | None, language: str | None = None,
               previous: Exchange | None = None, direction: Direction | None = None) -> list[ChatMessage]:
        """The messages that translate ``utterance`` (detected as ``language``, or the way ``direction`` says);
        with ``previous`` (an earlier utterance and its translation) as the last example when :attr:`context` is
        on. Without an utterance: the prompt up to where the next one goes (what the LLM can decode ahead)."""
        messages = [ChatMessage("system", self.system())]
        first, second = self._prompt_order
        for index, example in enumerate(_EXAMPLES):
            source, target = (second, first) if index % 2 else (first, second)
            messages += [ChatMessage("user", self.note(example[source], Direction(source, target))),
                         ChatMessage("assistant", example[target])]
        if self.context and previous is not None and previous.translation:
            messages += [ChatMessage("user", self.note(previous.said, self.direction(previous.said,
                                                                                     previous.language))),
                         ChatMessage("assistant", previous.translation)]
        if utterance is not None:
            direction = direction or self.direction(utterance, language)
            messages.append(ChatMessage("user", self.note(utterance, direction)))
        return messages

    @staticmethod
    def note(text: str, direction: Direction) -> str:
        """The utterance as the model reads it: its words first, then which way to translate them."""
        target = LANGUAGES[direction.target]
        if direction.source is None:
            return f"{text}\n\n(Translate into {target}.)"
        return f"{text}\n\n(Translate this {LANGUAGES[direction.source]} into {target}.)"

    def conversation_prompt(self, items: Sequence[Item], *, next_turn: bool = False) -> list[ChatMessage]:
        """The prompt for the newest user utterance among ``items`` (the conversation); ``next_turn``: for the
        utterance after it, which is not there yet."""
        exchanges: list[Exchange] = []
        for item in items:
            if item.role == "user" and item.text:
                exchanges.append(Exchange(item.text, item.language))
            elif item.role == "assistant" and item.text and exchanges and not exchanges[-1].translation:
                exchanges[-1] = replace(exchanges[-1], translation=item.text)
        if next_turn or not exchanges:
            return self.prompt(None, previous=exchanges[-1] if exchanges else None)
        newest = exchanges[-1]
        return self.prompt(newest.said, newest.language, exchanges[-2] if len(exchanges) > 1 else None)

    def direction_of(self, items: Sequence[Item]) -> Direction | None:
        """The way the newest user utterance among ``items`` goes, if there is one."""
        said = next((item for item in reversed(items) if item.role == "user" and item.text), None)
        return self.direction(said.text, said.language) if said is not None else None

    @staticmethod
    def insisting(messages: Sequence[ChatMessage], direction: Direction) -> list[ChatMessage]:
        """``messages`` (a translation's prompt) with its last note asking once more for the target language: the
        second try after the model copied the utterance back (:func:`kept_to_target`)."""
        target = f"{LANGUAGES[direction.target]} ({_NATIVE_NAMES[direction.target]})"
        source = f", not in {LANGUAGES[direction.source]}" if direction.source is not None else ""
        last = messages[-1]
        return [*messages[:-1], ChatMessage(last.role, f"{last.content}\n(Write the translation in {target}{source}.)")]

    @staticmethod
    def max_tokens(source_tokens: int) -> int:
        """A bound on a translation's length: a model that starts answering is cut off (Korean takes about twice
        the tokens of the same English)."""
        return 3 * source_tokens + 16


COPIED_LETTERS = 6
"""How many letters in the utterance's own script (Hangul, kana, Han) a translation may start with before it counts
as copied back: a translation into a Latin-script language never starts with them."""
COPIED_LATIN_LETTERS = 16
"""The same for Latin letters, more of them: a Korean translation may start with a name ("Professor Choi의 ...")."""


async def kept_to_target(events: AsyncIterator[LLMEvent], direction: Direction,
                         again: Callable[[], AsyncIterator[LLMEvent]]) -> AsyncIterator[LLMEvent]:
    """A translation's events as they come, unless it starts in the utterance's own script (the model copied the
    utterance back, as the 1.5B model does with about one English sentence in seven); then the events of
    ``again()``, a second try (:meth:`Interpreter.insisting`). The first letters are held until the script shows,
    which only a pair with a language of its own script (Korean, Japanese, Chinese) can tell."""
    source, target = direction.source, direction.target
    if source is None or not {source, target} & _SCRIPT_LANGUAGES:
        async with closing(events):
            async for event in events:
                yield event
        return
    held: list[LLMEvent] | None = []
    text = ""
    async with closing(events):
        async for event in events:
            if held is None:
                yield event
                continue
            held.append(event)
            text += event.text if isinstance(event, TextDelta) else ""
            verdict = _copied_back(text, source, target, finished=False)
            if verdict is False:
                for kept in held:
                    yield kept
                held = None
            elif verdict:
                break
    if held is None:
        return
    if not _copied_back(text, source, target, finished=True):
        for kept in held:
            yield kept
        return
    log.info("the translation into %s came back in %s (%r); asking again", target, source, text)
    async with closing(again()) as retried:
        async for event in retried:
            yield event


def _copied_back(text: str, source: str, target: str, *, finished: bool) -> bool | None:
    """Whether a translation that starts with ``text`` is in the source's script, not the target's; None while
    too few letters tell."""
    letters = [char for char in text if char.isalpha()]
    in_target = sum(_kind(char) == _kind_of(target) for char in letters)
    in_source = sum(_kind(char) == _kind_of(source) for char in letters)
    if in_target >= 2 or (finished and in_source <= in_target):
        return False
    enough = COPIED_LATIN_LETTERS if _kind_of(source) == "latin" else COPIED_LETTERS
    return True if finished or in_source >= enough else None


def _kind_of(language: str) -> str:
    return language if language in _SCRIPT_LANGUAGES else "latin"


def _kind(char: str) -> str | None:
    """The letter's script as :func:`_kind_of` names it: a language of its own script, or "latin"."""
    language = detect_language(char)
    if language in _SCRIPT_LANGUAGES:
        return language
    return "latin" if char.isascii() or unicodedata.name(char, "").startswith("LATIN") else None


async def translate(llm: LLM, interpreter: Interpreter, text: str, language: str | None = None, *,
                    on_text: Callable[[str], None] | None = None, direction: Direction | None = None) -> str:
    """Translate one utterance outside a session (the benchmark; ``omni translate`` through
    :func:`translate_text`); ``on_text`` sees each piece as it streams."""
    direction = direction or interpreter.direction(text, language)
    messages = interpreter.prompt(text, language, direction=direction)
    limit = interpreter.max_tokens(llm.count_tokens(messages[-1].content))
    options = GenerationOptions(temperature=0.0, max_tokens=limit, tool_choice="none")
    pieces: list[str] = []

    def again() -> AsyncIterator[LLMEvent]:
        return llm.chat(interpreter.insisting(messages, direction), options=options)

    async with closing(kept_to_target(llm.chat(messages, options=options), direction, again)) as events:
        async for event in events:
            if isinstance(event, TextDelta):
                pieces.append(event.text)
                if on_text is not None:
                    on_text(event.text)
    return "".join(pieces).strip()


async def translate_text(llm: LLM, interpreter: Interpreter, text: str, language: str | None = None, *,
                         on_text: Callable[[str], None] | None = None) -> str:
    """Translate a text of any length sentence by sentence, all in the direction of the whole text: the small
    model keeps a sentence's meaning better than a page's, and a long text would outgrow the length bound.
    Paragraphs (blank lines) are kept; ``on_text`` sees each piece, and the spaces between, as they stream."""
    direction = interpreter.direction(text, language)
    paragraphs = [sentences(p) for p in _PARAGRAPH_BREAK.split(text.strip())]
    done: list[str] = []
    for paragraph in filter(None, paragraphs):
        for index, sentence in enumerate(paragraph):
            if done:
                done.append(" " if index else "\n\n")
                if on_text is not None:
                    on_text(done[-1])
            done.append(await translate(llm, interpreter, sentence, language, on_text=on_text, direction=direction))
    return "".join(done)


_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def parse_languages(value: str | Sequence[str]) -> tuple[str, str]:
    """``"ko,en"`` or ``["ko", "en"]`` (codes or English names) as a pair of codes; ValueError names the problem."""
    parts = [p.strip().lower() for p in (value.split(",") if isinstance(value, str) else value)]
    by_name = {name.lower(): code for code, name in LANGUAGES.items()}
    codes = tuple(by_name.get(part, part) for part in parts if part)
    if len(codes) != 2 or codes[0] == codes[1] or any(code not in LANGUAGES for code in codes):
        raise ValueError(f"expected two different languages of {', '.join(LANGUAGES)} (e.g. ko,en), "
                         f"got {','.join(parts) or 'nothing'}")
    return codes[0], codes[1]


# ---- instructions that ask for an interpreter --------------------------------------------------------------------

# Each language's names in English and in Korean (the instructions a client writes are in one of the two).
_NAMES: dict[str, str] = {
    "ko": r"korean|한국어|한국말|한글", "en": r"english|영어", "ja": r"japanese|일본어|일어",
    "zh": r"chinese|mandarin|중국어", "es": r"spanish|스페인어", "fr": r"french|프랑스어|불어", "de": r"german|독일어",
}
_ANY_NAME = "|".join(_NAMES.values())
_NAME = re.compile(rf"(?<![a-z])(?:{_ANY_NAME})(?![a-z])", re.IGNORECASE)
_TARGET = re.compile(rf"\b(?:into|to)\s+({_ANY_NAME})\b|({_ANY_NAME})\s*(?:으로|로)(?!\w)", re.IGNORECASE)
_ROLE = re.compile(
    r"\b(?:you\s+are|you're|act\s+as|acting\s+as|be|work\s+as|serve\s+as)\s+(?:an?\s+|my\s+|the\s+)?"
    r"(?:[\w-]+\s+){0,3}(?:interpreter|translator)\b"
    r"|\byour\s+(?:only\s+|sole\s+)?(?:job|task|role|purpose)\s+is\s+to\s+(?:\w+\s+)?(?:translate|interpret)\b"
    r"|통역사|번역가|통역가|통역기|번역기",
    re.IGNORECASE,
)
_IMPERATIVE = re.compile(
    r"^(?:please\s+|just\s+|only\s+|always\s+|now\s+|simply\s+)*(?:translate|interpret)\b"
    r"|(?:통역|번역)(?:을|만)?\s*(?:해\s*(?:주세요|줘|주십시오|주실래요|라|요)|하세요|하십시오|하라|해(?:$|[.!])|합니다)",
    re.IGNORECASE,
)
_ONLY_IF_ASKED = re.compile(
    r"\b(?:when|if|whenever)\s+(?:the\s+user\s+|they\s+|i\s+|you\s+are\s+)?"
    r"(?:asks?|asked|requests?|requested|wants?)\b"
    r"|\b(?:up)?on\s+request\b|요청하면|요청할\s*때|원하면|부탁하면|물어보면",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?。])\s+|\n+")


def from_instructions(instructions: str) -> tuple[str, str] | None:
    """The pair of languages, when ``instructions`` ask for an interpreter ("You are an interpreter...",
    "Translate what I say into Korean", "영어와 한국어를 통역해 주세요"); None for any other instructions, including
    an assistant that may translate when asked. A target ("into Korean", "한국어로") comes first; one language named
    is paired with English (or English with Korean); none named means Korean and English."""
    sentences = [s.strip() for s in _SENTENCE_END.split(instructions.strip())]
    if not any(s and not _ONLY_IF_ASKED.search(s) and (_ROLE.search(s) or _IMPERATIVE.search(s))
               for s in sentences):
        return None
    targets = [_code(m.group(1) or m.group(2)) for m in _TARGET.finditer(instructions)]
    named = list(dict.fromkeys([*targets, *(_code(m.group(0)) for m in _NAME.finditer(instructions))]))
    if not named:
        return DEFAULT_LANGUAGES
    if len(named) == 1:
        return (named[0], "en") if named[0] != "en" else ("en", "ko")
    return named[0], named[1]


def _code(name: str) -> str:
    return next(code for code, names in _NAMES.items() if re.fullmatch(names, name, re.IGNORECASE))
