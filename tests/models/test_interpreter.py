"""Interpreter mode on the embedded LLM, through a real session: an English question comes out as a Korean question
(not its answer), and a Korean request as an English request (not carried out)."""

from __future__ import annotations

import re

import pytest

from omni.backends.base import LLM
from omni.bench.interpreter_pairs import PAIRS, judge
from omni.clock import RealClock
from omni.events import ReplyDone, SessionEvent
from omni.session.interpreter import Interpreter, translate
from omni.session.playout import CollectingOutput
from omni.session.session import Backends, Session, SessionOptions

pytestmark = pytest.mark.models

HANGUL = re.compile(r"[\uac00-\ud7a3]")
CAPITAL = PAIRS[0]
LIGHT = next(p for p in PAIRS if p.en == "Turn off the light.")


async def test_questions_and_requests_are_translated_both_ways_not_answered(llm: LLM) -> None:
    done: list[ReplyDone] = []

    def keep(event: SessionEvent) -> None:
        if isinstance(event, ReplyDone):
            done.append(event)

    options = SessionOptions(output_audio=False, interpreter=Interpreter(("ko", "en")), tools=())
    session = Session(Backends(llm=llm), options, clock=RealClock(), output=CollectingOutput(), observers=[keep])
    try:
        for said in (CAPITAL.en, LIGHT.ko):
            session.add_user_text(said)
            await (await session.create_reply()).done.wait()
    finally:
        await session.aclose()
    korean, english = (d.text for d in done)
    assert len(HANGUL.findall(korean)) >= 5 and "프랑스" in korean and "수도" in korean, korean
    assert "파리" not in korean and "paris" not in korean.lower(), f"answered, not translated: {korean}"
    assert judge(CAPITAL, "ko", korean).question_kept, korean
    assert not HANGUL.search(english) and judge(LIGHT, "en", english).ok, english


async def test_a_translation_that_falls_into_a_loop_is_stopped_there(llm: LLM) -> None:
    # Greedy decoding turns this request into "물론, 문을 잠시 잠시 잠시 …" up to the length bound (the interpreter
    # benchmark's run); the backend stops at the third time. If the model does not loop, nothing repeats anyway.
    translation = await translate(llm, Interpreter(("ko", "en")), "Don't forget to lock the door.", "en")
    words = translation.split()
    assert HANGUL.search(translation), translation
    assert not any(words[i] == words[i + 1] == words[i + 2] == words[i + 3] for i in range(len(words) - 3)), translation
