"""Omni's notes after the user's words, and the words told apart from them again."""

from __future__ import annotations

from omni.text.prompt_notes import with_notes, without_notes


def test_the_users_words_come_back_without_the_notes() -> None:
    written = with_notes("이게 뭐예요?", ["(Answer the question.)", "(Answer in Korean.)"])
    assert written == "이게 뭐예요?\n\n(Answer the question.)\n\n(Answer in Korean.)"
    assert without_notes(written) == "이게 뭐예요?"


def test_paragraphs_of_the_users_own_stay() -> None:
    assert without_notes("First.\n\nSecond (with a note-like end)") == "First.\n\nSecond (with a note-like end)"
    assert without_notes("(All in parentheses.)") == "(All in parentheses.)", "the words themselves are never removed"
    assert without_notes("Hi.\n\n(aside)\n\nThen more.") == "Hi.\n\n(aside)\n\nThen more."
