"""Notes Omni writes after the user's words in the newest message of a prompt (how to answer about images, in which
language, a reference answer), and the user's words told apart from them again."""

from __future__ import annotations

from collections.abc import Sequence


def with_notes(words: str, notes: Sequence[str]) -> str:
    """``words`` followed by each note, a paragraph each; a note is written in parentheses."""
    return "\n\n".join((words, *notes))


def without_notes(content: str) -> str:
    """The user's words of a message :func:`with_notes` wrote: the paragraphs in parentheses at its end removed."""
    paragraphs = content.split("\n\n")
    while len(paragraphs) > 1 and paragraphs[-1].startswith("(") and paragraphs[-1].endswith(")"):
        paragraphs.pop()
    return "\n\n".join(paragraphs)
