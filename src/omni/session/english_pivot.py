"""Korean answers by way of English: the embedded LLM answers an English question far better than the same question
in Korean (docs/languages.md: 31 of 32 against 13), because it knows the facts but writes Korean names wrong.

For a Korean turn, one hidden call first: the Korean question answered in English, in the conversation so far
(translating the question first, by the interpreter's prompt, is the other way, one call more; it measured worse:
17 of 32 against 20). The spoken Korean answer is then written with that answer as a reference, and with the Korean
names (CLDR, :mod:`omni.text.korean_names`) of the names it uses: "Rome" is given as 로마, so the answer does not
say 뉴욕. An answer that starts by copying the English reference is asked again, in Korean (:func:`kept_korean`).
The hidden call is the price, paid before the first Korean word (``session.korean_answers = "pivot"`` switches it
on; docs/languages.md measures it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from omni.aio import closing
from omni.backends.base import LLM, GenerationOptions
from omni.session.interpreter import Direction, Interpreter, kept_to_target, translate
from omni.text.korean_names import glossary, names_for_prompt
from omni.types import ChatMessage, LLMEvent, TextDelta, Tool

LANGUAGES = frozenset({"ko"})
"""Languages answered this way: those the names table is in."""
ANSWER_TOKENS = 120
INTERPRETER = Interpreter(("ko", "en"))
TO_ENGLISH = Direction("ko", "en")
IN_ENGLISH = "(Answer in English.)"
IN_KOREAN = "(Answer in Korean (한국어), not in English.)"
KOREAN_ANSWER = Direction("en", "ko")
"""The Korean answer is checked as a translation of the English reference would be: it must not come out in
English (the 1.5B model copies its reference word for word about one time in eight)."""


async def english_reference(llm: LLM, messages: Sequence[ChatMessage], *, translated: bool = False) -> str:
    """The English answer to the newest user message of ``messages`` (a conversation prompt whose last message is
    the Korean question, without reminders): the Korean question answered in English, or (``translated``) the
    question translated into English first and asked in English after the same history, one call more."""
    question = messages[-1].content
    if translated:
        asked = await translate(llm, INTERPRETER, question, direction=TO_ENGLISH) or question
    else:
        asked = f"{question}\n\n{IN_ENGLISH}"
    return await _complete(llm, [*messages[:-1], ChatMessage("user", asked)], ANSWER_TOKENS)


def reference_notes(reference: str) -> list[str]:
    """What the Korean answer's prompt gets after the question: the English answer, and the Korean names of the
    names in it."""
    if not reference:
        return []
    names = names_for_prompt(glossary(reference))
    return [f'(A reference answer in English: "{reference}". Use it if it is right.)',
            *([f"(Korean names: {names}.)"] if names else [])]


def kept_korean(llm: LLM, events: AsyncIterator[LLMEvent], messages: Sequence[ChatMessage], *,
                tools: Sequence[Tool] = (), options: GenerationOptions) -> AsyncIterator[LLMEvent]:
    """The Korean answer's ``events`` (to ``messages``), unless it starts in English: then a second try, with the
    last message asking once more for Korean."""
    last = messages[-1]
    insisting = [*messages[:-1], ChatMessage(last.role, f"{last.content}\n{IN_KOREAN}")]
    return kept_to_target(events, KOREAN_ANSWER, lambda: llm.chat(insisting, tools=tools, options=options))


async def _complete(llm: LLM, messages: list[ChatMessage], max_tokens: int) -> str:
    options = GenerationOptions(temperature=0.0, max_tokens=max_tokens, tool_choice="none")
    pieces: list[str] = []
    async with closing(llm.chat(messages, options=options)) as events:
        async for event in events:
            if isinstance(event, TextDelta):
                pieces.append(event.text)
    return "".join(pieces).strip()
