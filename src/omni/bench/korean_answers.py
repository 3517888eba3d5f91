"""Korean answers against English ones on the kept question set, through several ways of asking the embedded LLM.

Each strategy turns a conversation (the user's turns so far, the assistant's replies to the earlier ones) into the
answer to its last turn, and says when the first word a user would hear was ready. The same items are asked in
English and in Korean; :mod:`omni.bench.bilingual_questions` judges them. Strategies:

- ``plain``: what Omni did before this study: the default instructions, "(Answer in Korean.)" after a Korean
  question, the session's temperature 0.7.
- ``greedy``: the same at temperature 0.
- ``korean-instructions``: the instructions written in Korean, greedy.
- ``few-shot``: three short Korean exchanges (a fact, a sum, advice) before the conversation, greedy.
- ``pivot``: translate the Korean question into English, answer it in English, then answer in Korean with the English
  answer given as a reference (three calls; the Korean answer starts after the first two).
- ``pivot-names``: ``pivot``, with the Korean names (CLDR, :mod:`omni.text.korean_names`) of the names the English
  reference uses given beside it: "Korean names: Italy = 이탈리아, Rome = 로마".
- ``pivot-direct`` (the session's pivot): ``pivot-names`` without the first call: the Korean question is answered in
  English, then in Korean with that answer as the reference.
- ``translate``: translate the question into English, answer in English, translate the answer into Korean.
- ``translate-names``: ``translate``, with the Korean names of the names in the English answer given to the
  translating call.
- ``translate-substitute``: ``translate``, with the names in the English answer written in Korean before it is
  translated ("The capital of 이탈리아 is 로마.").
- ``think-english``: one call that writes a short English answer first, then the Korean one; only the Korean is
  spoken, so the English tokens are the wait.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from omni.aio import closing
from omni.backends.base import LLM, GenerationOptions
from omni.bench.bilingual_questions import ITEMS, Item, right
from omni.session.english_pivot import english_reference, kept_korean, reference_notes
from omni.text.korean_names import glossary, names_for_prompt, substitute
from omni.types import ChatMessage, LLMEvent, TextDelta

Language = Literal["ko", "en"]
INSTRUCTIONS = "You are a helpful voice assistant. Answer briefly."
KOREAN_INSTRUCTIONS = "당신은 친절한 음성 비서입니다. 한국어로 짧고 정확하게 대답하세요."
MAX_TOKENS = 120


@dataclass(frozen=True)
class Reply:
    text: str
    first_word_s: float
    """From the call to the first token of the spoken answer."""
    total_s: float
    english: str = ""
    """The English answer the Korean one was made from, for the strategies that make one."""


Strategy = Callable[[LLM, list[ChatMessage], Language], Awaitable[Reply]]


def _options(temperature: float, max_tokens: int = MAX_TOKENS) -> GenerationOptions:
    return GenerationOptions(temperature=temperature, max_tokens=max_tokens)


async def _complete(llm: LLM, messages: Sequence[ChatMessage], temperature: float,
                    max_tokens: int = MAX_TOKENS) -> tuple[str, float]:
    """The whole text of one call and the seconds to its first token."""
    return await _timed(llm.chat(list(messages), options=_options(temperature, max_tokens)))


async def _timed(stream: AsyncIterator[LLMEvent]) -> tuple[str, float]:
    """The whole text of a stream of events and the seconds to its first text."""
    start = time.perf_counter()
    first = None
    pieces = []
    async with closing(stream) as events:
        async for event in events:
            if isinstance(event, TextDelta):
                first = first or time.perf_counter() - start
                pieces.append(event.text)
    return "".join(pieces).strip(), first if first is not None else time.perf_counter() - start


def _with_reminder(messages: list[ChatMessage], language: Language) -> list[ChatMessage]:
    if language == "en":
        return messages
    last = messages[-1]
    return [*messages[:-1], ChatMessage("user", f"{last.content}\n\n(Answer in Korean.)")]


EXAMPLES = (
    ChatMessage("user", "호주의 수도는 어디예요?"), ChatMessage("assistant", "호주의 수도는 캔버라입니다."),
    ChatMessage("user", "8 곱하기 7은 얼마예요?"), ChatMessage("assistant", "8 곱하기 7은 56입니다."),
    ChatMessage("user", "목이 아파요. 어떻게 하면 좋을까요?"),
    ChatMessage("assistant", "따뜻한 물을 자주 마시고 목을 쉬게 하세요. 며칠이 지나도 아프면 병원에 가 보세요."),
)
"""Short, right Korean answers, for the ``few-shot`` strategy: the form to copy, not facts the questions need."""


def _plain(temperature: float, instructions: str = INSTRUCTIONS,
           examples: Sequence[ChatMessage] = ()) -> Strategy:
    async def answer(llm: LLM, turns: list[ChatMessage], language: Language) -> Reply:
        start = time.perf_counter()
        shown = list(examples) if language == "ko" else []
        text, first = await _complete(llm, [ChatMessage("system", instructions), *shown,
                                            *_with_reminder(turns, language)], temperature)
        return Reply(text, first, time.perf_counter() - start)
    return answer


async def _english_answer(llm: LLM, turns: list[ChatMessage], translated: bool) -> str:
    """The last Korean turn translated into English, and the LLM's English answer to it (the session's own
    :func:`omni.session.english_pivot.english_reference`); not ``translated``: the Korean turn answered in
    English."""
    return await english_reference(llm, [ChatMessage("system", INSTRUCTIONS), *turns], translated=translated)


def _names_note(english: str) -> str:
    """The CLDR Korean names of the names an English text uses, as a note for a prompt; empty when it has none."""
    names = names_for_prompt(glossary(english))
    return f"(Korean names: {names}.)" if names else ""


def _pivot_prompt(question: str, reference: str, names: bool) -> str:
    """The Korean question with the English reference answer, and with the names it uses in Korean if asked (the
    session's notes, :func:`omni.session.english_pivot.reference_notes`)."""
    notes = reference_notes(reference)
    return "\n\n".join((question, *(notes if names else notes[:1]), "(Answer in Korean.)"))


def _pivot(names: bool = False, translated: bool = True) -> Strategy:
    async def answer(llm: LLM, turns: list[ChatMessage], language: Language) -> Reply:
        if language == "en":
            return await _plain(0.0)(llm, turns, language)
        start = time.perf_counter()
        reference = await _english_answer(llm, turns, translated)
        messages = [ChatMessage("system", INSTRUCTIONS), *turns[:-1],
                    ChatMessage("user", _pivot_prompt(turns[-1].content, reference, names))]
        before = time.perf_counter() - start
        options = _options(0.0)
        text, first = await _timed(kept_korean(llm, llm.chat(messages, options=options), messages, options=options))
        return Reply(text, before + first, time.perf_counter() - start, reference)
    return answer


TRANSLATE_TO_KOREAN = "Translate the user's English message into natural Korean. Write only the translation."
NameMode = Literal["none", "glossary", "substitute"]


def _translation_prompt(english: str, names: NameMode) -> list[ChatMessage]:
    """The call that turns the English answer into Korean: as it is, with a glossary of its names in the
    instructions, or with its names already in Korean."""
    if names == "substitute":
        return [ChatMessage("system", TRANSLATE_TO_KOREAN), ChatMessage("user", substitute(english))]
    note = _names_note(english) if names == "glossary" else ""
    return [ChatMessage("system", f"{TRANSLATE_TO_KOREAN} {note}".strip()), ChatMessage("user", english)]


def _translated(names: NameMode = "none") -> Strategy:
    async def answer(llm: LLM, turns: list[ChatMessage], language: Language) -> Reply:
        if language == "en":
            return await _plain(0.0)(llm, turns, language)
        start = time.perf_counter()
        english = await _english_answer(llm, turns, translated=True)
        before = time.perf_counter() - start
        text, first = await _complete(llm, _translation_prompt(english, names), 0.0)
        return Reply(text, before + first, time.perf_counter() - start, english)
    return answer


_KOREAN_PART = re.compile(r"(?:^|\s)(?:KO|Korean|한국어)\s*[:：]\s*", re.IGNORECASE)
_ENGLISH_LABEL = re.compile(r"^\s*(?:EN|English)\s*[:：]\s*", re.IGNORECASE)


async def _think_english(llm: LLM, turns: list[ChatMessage], language: Language) -> Reply:
    if language == "en":
        return await _plain(0.0)(llm, turns, language)
    start = time.perf_counter()
    last = turns[-1]
    messages = [ChatMessage("system", INSTRUCTIONS), *turns[:-1], ChatMessage("user", (
        f"{last.content}\n\n(First write a short English answer after \"EN:\", then the same answer in Korean "
        "after \"KO:\".)"))]
    started = None
    pieces: list[str] = []
    options = GenerationOptions(temperature=0.0, max_tokens=MAX_TOKENS * 2)
    async with closing(llm.chat(messages, options=options)) as events:
        async for event in events:
            if isinstance(event, TextDelta):
                pieces.append(event.text)
                if started is None and _KOREAN_PART.search("".join(pieces)):
                    started = time.perf_counter() - start
    whole = "".join(pieces)
    split = _KOREAN_PART.split(whole, maxsplit=1)
    text = split[1].strip() if len(split) == 2 else _ENGLISH_LABEL.sub("", whole).strip()
    return Reply(text, started if started is not None else time.perf_counter() - start, time.perf_counter() - start)


STRATEGIES: dict[str, Strategy] = {
    "plain": _plain(0.7),
    "greedy": _plain(0.0),
    "korean-instructions": _plain(0.0, KOREAN_INSTRUCTIONS),
    "few-shot": _plain(0.0, examples=EXAMPLES),
    "pivot": _pivot(),
    "pivot-names": _pivot(names=True),
    "pivot-direct": _pivot(names=True, translated=False),
    "think-english": _think_english,
    "translate": _translated(),
    "translate-names": _translated("glossary"),
    "translate-substitute": _translated("substitute"),
}


@dataclass(frozen=True)
class Answer:
    strategy: str
    language: Language
    kind: str
    question: str
    answer: str
    right: bool
    first_word_s: float
    english: str = ""
    """The English answer behind a Korean one (``translate``, ``pivot`` and their variants)."""


async def ask(llm: LLM, strategy: str, item: Item, language: Language) -> Answer:
    """One item through one strategy: earlier turns get the strategy's own replies, the last one is judged."""
    answer_with = STRATEGIES[strategy]
    history: list[ChatMessage] = []
    reply = Reply("", 0.0, 0.0)
    for turn in item.ko if language == "ko" else item.en:
        history.append(ChatMessage("user", turn))
        reply = await answer_with(llm, history, language)
        history.append(ChatMessage("assistant", reply.text))
    question = (item.ko if language == "ko" else item.en)[-1]
    return Answer(strategy, language, item.kind, question, reply.text, right(item, reply.text, language),
                  reply.first_word_s, reply.english)


async def run(llm: LLM, strategies: Sequence[str], languages: Sequence[Language],
              progress: Callable[[str], None], items: Sequence[Item] = ITEMS) -> list[Answer]:
    answers = []
    for strategy in strategies:
        for language in languages:
            for item in items:
                answers.append(await ask(llm, strategy, item, language))
                a = answers[-1]
                progress(f"  {'right' if a.right else 'WRONG'} {strategy:20} {a.question} → {a.answer[:100]!r}")
    return answers


def main() -> None:
    """``python -m omni.bench.korean_answers``: the table in docs/languages.md, one row per strategy and language."""
    import argparse
    import asyncio
    import json
    from dataclasses import asdict
    from pathlib import Path

    from omni.backends import registry
    from omni.config import Settings

    parser = argparse.ArgumentParser(description="Korean and English answers on the kept question set")
    parser.add_argument("--strategies", default="greedy", help=f"comma-separated, of: {', '.join(STRATEGIES)}")
    parser.add_argument("--languages", default="ko,en")
    parser.add_argument("--every", type=int, default=1, help="ask every Nth item (2: half the set)")
    parser.add_argument("--json", metavar="PATH", help="also write every answer to this file, as a JSON list")
    args = parser.parse_args()
    strategies = args.strategies.split(",")
    languages: list[Language] = [lang for lang in ("ko", "en") if lang in args.languages.split(",")]
    if unknown := [s for s in strategies if s not in STRATEGIES]:
        parser.error(f"unknown strategy {', '.join(unknown)}; known: {', '.join(STRATEGIES)}")
    settings = Settings()  # the embedded LLM, or any other: OMNI_LLM__BACKEND=openai OMNI_LLM__BASE_URL=...
    llm = registry.create("llm", settings.llm.backend, settings)
    answers = asyncio.run(run(llm, strategies, languages, print, ITEMS[:: max(1, args.every)]))
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(a) for a in answers], ensure_ascii=False, indent=1) + "\n")
    for strategy in strategies:
        for language in languages:
            done = [a for a in answers if a.strategy == strategy and a.language == language]
            kinds = ", ".join(f"{kind} {sum(a.right for a in done if a.kind == kind)}/"
                              f"{sum(a.kind == kind for a in done)}"
                              for kind in ("knowledge", "arithmetic", "advice", "follow-up"))
            print(f"{strategy} {language}: {sum(a.right for a in done)}/{len(done)} right ({kinds})")


if __name__ == "__main__":
    main()
