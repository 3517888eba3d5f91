"""The held-out questions of the call decision's bench, and the prompts it reads them in."""

from __future__ import annotations

from collections import Counter

from omni.backends.llama_tool_turn import DECISION_INSTRUCTIONS, decision_messages
from omni.bench.tool_decision import CLIENT_INSTRUCTIONS, NEED, NONE, SITUATIONS
from omni.text.language import detect_language


def test_each_group_has_eight_questions_in_each_language() -> None:
    for questions in (NEED, NONE):
        assert Counter(detect_language(q) == "ko" for q in questions) == {True: 8, False: 8}
    assert not set(NEED) & set(NONE)


def test_the_situations_are_the_decision_prompt_and_the_conversation_as_the_session_sends_it() -> None:
    assert SITUATIONS["decision prompt"]("도쿄는요?") == decision_messages("도쿄는요?")
    first = SITUATIONS["conversation, first turn"]("도쿄는요?")
    assert first[0].content == DECISION_INSTRUCTIONS and first[-1].content == "도쿄는요?\n\n(Answer in Korean.)"
    assert SITUATIONS["conversation, first turn"]("And Tokyo?")[-1].content == "And Tokyo?"
    later = SITUATIONS["conversation, after an answer"]("And Tokyo?")
    assert [m.role for m in later] == ["system", "user", "assistant", "user"]
    assert SITUATIONS["conversation, client's instructions"]("And Tokyo?")[0].content == CLIENT_INSTRUCTIONS
