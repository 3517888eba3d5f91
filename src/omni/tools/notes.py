"""The built-in ``notes`` tool: what the user asks the assistant to remember, for this session only ("Remember that
my locker is 42", "내 주차 위치 기억해 줘: B2 17번", "What did I ask you to remember?").

The conversation holds what was said, but it is cut to the context budget in a long session and the model does not
reliably find a fact twenty turns back; a note stays until the session ends or the user asks to forget it. Each
session builds its own :class:`Notes` (:func:`omni.tools.builtin.builtin_tools`), so nothing one user said is seen in
another session; nothing is written to disk.

One tool with an ``action`` (remember, recall, forget) rather than three: one schema in every prompt, and the model
picks the action from the user's verb.
"""

from __future__ import annotations

import re

from omni.session.tools import FunctionTool
from omni.types import Tool

TOOL = Tool(
    "notes",
    "Only when the user asks you to remember something, to recall what you were asked to remember, or to forget it.",
    {"type": "object", "properties": {
        "action": {"type": "string", "enum": ["remember", "recall", "forget"]},
        "text": {"type": "string", "description": "what to remember, or which note to forget"}},
     "required": ["action"]},
)

CUES = {
    "en": re.compile(r"\b(remember\w*|remind\w*|memori\w*|memo|notes?|noted|forget|forgot\w*|recall|"
                     r"write (it|that|this) down|keep in mind|did i (say|tell|ask)|i (told|asked) you)\b",
                     re.IGNORECASE),
    "ko": re.compile(r"기억|메모|적어|잊어|잊지|외워|까먹|노트|저장"),
}
"""What a request to remember, recall or forget has one of (:attr:`FunctionTool.cues`)."""
TRIGGERS = {
    "en": re.compile(r"\b(please )?remember (that|this)\b|\bwhat did i ask you to remember\b|\bmake a note\b",
                     re.IGNORECASE),
    "ko": re.compile(r"기억해\s*(줘|주세요|둬|두세요)|메모해\s*(줘|주세요|둬)|잊지\s*마"),
}
"""Requests that are for the notes and nothing else (:attr:`FunctionTool.triggers`)."""

MAX_NOTES = 50
MAX_CHARS = 500
"""A note's length; the notes go back into the prompt when recalled, so they must stay small."""


class Notes:
    """One session's notes. The tool's function is a coroutine (:func:`notes_tool`): the session runs it on its event
    loop, not in a worker thread, so the list is only ever touched from one thread."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def act(self, action: str, text: str = "") -> dict[str, object]:
        action, text = action.strip().casefold(), " ".join(text.split())
        if action == "remember":
            return self.remember(text)
        if action == "recall":
            return self.recall(text)
        if action == "forget":
            return self.forget(text)
        return {"error": f"invalid action {action!r}: must be remember, recall or forget"}

    def remember(self, text: str) -> dict[str, object]:
        if not text:
            return {"error": "invalid arguments: 'text' is required to remember something"}
        if len(text) > MAX_CHARS:
            return {"error": f"the note is longer than {MAX_CHARS} characters"}
        if text.casefold() not in (n.casefold() for n in self.items):
            self.items.append(text)
        while len(self.items) > MAX_NOTES:  # the oldest goes: a session's notes must not grow without end
            self.items.pop(0)
        return {"remembered": text, "notes": len(self.items)}

    def recall(self, text: str = "") -> dict[str, object]:
        """Every note; with ``text``, the notes that share a word with it first (all of them are still given: the
        model, not a word match, tells which one answers the question)."""
        if not self.items:
            return {"notes": [], "message": "nothing has been remembered in this conversation"}
        words = set(text.casefold().split())
        ranked = sorted(self.items, key=lambda note: not words & set(note.casefold().split()))
        return {"notes": ranked}

    def forget(self, text: str = "") -> dict[str, object]:
        """Forget the notes that contain ``text`` (case aside); with no text, all of them."""
        wanted = text.casefold()
        gone = [n for n in self.items if wanted in n.casefold()]
        if not gone:
            return {"error": f"no note matches {text!r}", "notes": list(self.items)}
        self.items = [n for n in self.items if n not in gone]
        return {"forgotten": gone, "notes": len(self.items)}


def notes_tool(notes: Notes | None = None) -> FunctionTool:
    """A ``notes`` tool with its own notes (new, empty ones by default): call once per session."""
    kept = notes if notes is not None else Notes()

    async def take_notes(action: str, text: str = "") -> dict[str, object]:
        return kept.act(action, text)

    return FunctionTool(TOOL, take_notes, CUES, TRIGGERS)
