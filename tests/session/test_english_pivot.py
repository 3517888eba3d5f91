"""``session.korean_answers = "pivot"`` on virtual time: a Korean question is answered after a hidden call (the
question answered in English), with that answer and the Korean names in it as a reference; an English
question, a turn with tools it may need or the default setting make the one usual call; a Korean answer that copies
its English reference is asked again."""

from __future__ import annotations

from dataclasses import replace

from omni.config import ToolsSettings
from omni.events import ReplyDone
from omni.session.english_pivot import IN_ENGLISH, IN_KOREAN
from omni.session.tools import FunctionTool, ToolBox
from omni.tools.builtin import builtin_toolbox
from omni.types import Tool
from tests.fakes.backends import silence, speech
from tests.session.harness import Harness, make_harness

QUESTION = "이탈리아의 수도는 어디인가요?"
HIDDEN = ["The capital of Italy is Rome."]
ANSWER = "이탈리아의 수도는 로마입니다."


def pivoting(h: Harness) -> Harness:
    h.session.configure(replace(h.session.options, korean_answers="pivot"))
    return h


async def ask(h: Harness, text: str) -> list[str]:
    h.session.add_user_text(text)
    await h.session.create_reply()
    await h.clock.run_until(lambda: len(h.of(ReplyDone)) >= 1, limit=30)
    return [done.text for done in h.of(ReplyDone)]


async def test_a_korean_question_is_answered_with_the_english_answer_and_its_korean_names() -> None:
    h = pivoting(make_harness([], [*HIDDEN, ANSWER]))
    assert await ask(h, QUESTION) == [ANSWER]
    english, korean = h.llm.prompts
    assert english[0].content == h.session.options.instructions
    assert english[-1].content == f"{QUESTION}\n\n{IN_ENGLISH}", "the Korean question, answered in English"
    assert korean[:-1] == english[:-1], "the same conversation, only the last message differs"
    last = korean[-1].content
    assert last.startswith(QUESTION) and f'(A reference answer in English: "{HIDDEN[0]}".' in last
    assert "Rome = 로마" in last and "Italy = 이탈리아" in last and last.endswith("(Answer in Korean.)")
    assert h.llm.calls[0][1].temperature == 0.0, "the hidden call is greedy"
    assert ANSWER in " ".join(h.tts.texts) and "Rome" not in " ".join(h.tts.texts), "only the Korean is spoken"


async def test_a_spoken_korean_question_is_not_started_before_its_reference() -> None:
    h = pivoting(make_harness([QUESTION], [*HIDDEN, ANSWER]))
    h.stt.language = "ko"
    await h.feed(speech(1.0))
    await h.feed(silence(1.5))
    await h.clock.run_until(lambda: len(h.of(ReplyDone)) >= 1, limit=30)
    assert [done.text for done in h.of(ReplyDone)] == [ANSWER]
    assert len(h.llm.prompts) == 2, "no reply started during the pause on a prompt without the reference"


async def test_english_questions_tools_and_the_default_answer_directly() -> None:
    h = pivoting(make_harness([], ["Rome."]))
    assert await ask(h, "What is the capital of Italy?") == ["Rome."]
    clock = Tool("get_time", "The time now", {"type": "object", "properties": {}})
    with_tools = pivoting(make_harness([], [ANSWER], toolbox=ToolBox([FunctionTool(clock, lambda: "noon")])))
    assert await ask(with_tools, QUESTION) == [ANSWER]
    default = make_harness([], [ANSWER])
    assert await ask(default, QUESTION) == [ANSWER]
    for harness in (h, with_tools, default):
        assert len(harness.llm.prompts) == 1


async def test_a_korean_answer_that_copies_its_english_reference_is_asked_again_in_korean() -> None:
    h = pivoting(make_harness([], [*HIDDEN, HIDDEN[0], ANSWER]))
    assert await ask(h, QUESTION) == [ANSWER]
    assert len(h.llm.prompts) == 3
    *_, copied, again = h.llm.prompts
    assert again[:-1] == copied[:-1] and again[-1].content == f"{copied[-1].content}\n{IN_KOREAN}"
    assert "Rome" not in " ".join(h.tts.texts), "the English copy is never spoken"


async def test_built_in_tools_a_question_has_no_cues_for_do_not_stop_the_pivot() -> None:
    h = pivoting(make_harness([], [*HIDDEN, ANSWER], toolbox=builtin_toolbox(ToolsSettings())))
    assert await ask(h, QUESTION) == [ANSWER]
    assert len(h.llm.prompts) == 2, "by way of English, the built-in tools being no use to this question"
    assert h.llm.calls[0][0] == h.llm.calls[1][0] == (), "and not offered to either call"
    timely = pivoting(make_harness([], ["도쿄는 지금 오후 5시예요."], toolbox=builtin_toolbox(ToolsSettings())))
    await ask(timely, "도쿄는 지금 몇 시예요?")
    assert len(timely.llm.prompts) == 1, "a question for the clock is answered with it, directly"
