"""Korean answers by way of English: the embedded LLM answers an English question far better than the same question
in Korean (docs/languages.md: 31 of 32 against 13), because it knows the facts but writes Korean names wrong.

For a Korean turn, two hidden calls first: the question translated into English, and the English answer to it in
the conversation so far. The spoken Korean answer is then written with that answer as a reference, and with the
Korean names (CLDR, :mod:`omni.text.korean_names`) of the names it uses: "Rome" is given as 로마, so the answer does
not say 뉴욕. On the kept question set this is right 20 times in 32 against 13 for answering directly; the two calls
are the price, paid before the first Korean word (``session.korean_answers = "pivot"`` switches it on).
"""

from __future__ import annotations

from collections.abc import Sequence

from omni.aio import closing
from omni.backends.base import LLM, GenerationOptions
from omni.text.korean_names import glossary, names_for_prompt
from omni.types import ChatMessage, TextDelta

LANGUAGES = frozenset({"ko"})
"""Languages answered this way: those the names table is in."""
QUESTION_TOKENS = 80
ANSWER_TOKENS = 120
TO_ENGLISH = "Translate the user's Korean message into English. Write only the translation."


async def english_reference(llm: LLM, messages: Sequence[ChatMessage]) -> str:
    """The English answer to the newest user message of ``messages`` (a conversation prompt whose last message is
    the Korean question, without reminders), asked in English after the same history."""
    question = messages[-1].content
    english = await _complete(llm, [ChatMessage("system", TO_ENGLISH), ChatMessage("user", question)],
                              QUESTION_TOKENS)
    return await _complete(llm, [*messages[:-1], ChatMessage("user", english or question)], ANSWER_TOKENS)


def reference_notes(reference: str) -> list[str]:
    """What the Korean answer's prompt gets after the question: the English answer, and the Korean names of the
    names in it."""
    if not reference:
        return []
    names = names_for_prompt(glossary(reference))
    return [f'(A reference answer in English: "{reference}". Use it if it is right.)',
            *([f"(Korean names: {names}.)"] if names else [])]


async def _complete(llm: LLM, messages: list[ChatMessage], max_tokens: int) -> str:
    options = GenerationOptions(temperature=0.0, max_tokens=max_tokens, tool_choice="none")
    pieces: list[str] = []
    async with closing(llm.chat(messages, options=options)) as events:
        async for event in events:
            if isinstance(event, TextDelta):
                pieces.append(event.text)
    return "".join(pieces).strip()
