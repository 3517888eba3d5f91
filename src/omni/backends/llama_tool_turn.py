"""How the embedded LLM decides whether a reply is a tool call, and decodes one: the decision read from the model's
first-token probabilities on a prompt of its own, the call held to the offered tools' schemas by a grammar.

The measurements behind every number here are in docs/tools.md.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from omni.config import DEFAULT_INSTRUCTIONS
from omni.text.language import detect_language
from omni.text.prompt_notes import with_notes, without_notes
from omni.types import ChatMessage, Tool

log = logging.getLogger(__name__)

CALL_START = '<tool_call>\n{"name": "'
"""How a tool call begins in the Qwen/Hermes format the parser reads; a reply decided to be a call is given it."""

CALL_MASS = 0.2
"""A reply that may call a tool is a call when the model puts at least this much probability on opening one at the
first token of the decision prompt: ``<``, ``{`` or a code fence, which is how the 1.5B model starts a call (as
text: it writes ``<tools>``, ```` ```json ```` or ``{{`` as often as the trained ``<tool_call>``). Measured on the
decision prompt (:func:`decision_messages`) with five client tools, English questions: 0.18-0.82 for those a tool
answers, first turns and follow-ups ("And in Busan?" 0.35, "How about London?" 0.33), 0.01-0.38 for those that need
none ("Who wrote Romeo and Juliet?" 0.38). 0.2 is 0.95 right there, 0.25 0.97; 0.2 stays, as a missed call makes up
an answer (a needless one costs a tool round) and a held-out follow-up, "What about Busan?", is at 0.26."""

KOREAN_CALL_MASS = 0.45
"""The same for a question in Korean: the model opens a call more readily for every Korean question (0.49-0.87 for
those a tool answers, 0.30-0.70 for those that need none: "일주일은 며칠이에요?" 0.70). On the same probes 0.45 is
0.92 right, with no question that needs a tool under it (a call missed makes up an answer; one not needed costs a
tool round); 0.2 is 0.74 right."""


def call_mass(question: str) -> float:
    """The threshold for ``question``: :data:`KOREAN_CALL_MASS` for Korean, else :data:`CALL_MASS` (other
    languages were not measured)."""
    return KOREAN_CALL_MASS if detect_language(question) == "ko" else CALL_MASS


DECISION_INSTRUCTIONS = DEFAULT_INSTRUCTIONS
"""The system prompt a call is decided under, whatever the conversation's (Omni's default instructions). In the
conversation's own prompt the first token depends on everything but the question: under a client's "You are a
helpful voice assistant." the model opens a call for 0.93-0.99 of every question, needed or not, and after any
answer in plain words it opens one for almost none (0.000-0.001 for "What time is it in Tokyo?" after "The capital
of Italy is Rome.")."""


DECISION_SYSTEM = ChatMessage("system", DECISION_INSTRUCTIONS)


def decision_messages(question: str) -> list[ChatMessage]:
    """The prompt a call is decided on: :data:`DECISION_INSTRUCTIONS` and the user's newest message alone. The
    tools go with it; the call itself is then written in the conversation's prompt, which has the earlier turns'
    cities and amounts ("And 50 dollars?")."""
    return [DECISION_SYSTEM, ChatMessage("user", question)]


def decided_apart(messages: Sequence[ChatMessage]) -> str | None:
    """The question a reply to ``messages`` decides its call on apart from the conversation: the user's words in the
    newest message (without Omni's notes: "(Answer in Korean.)" after "도쿄는요?" takes the call's probability from
    0.49 to 0.02); None after tool results or without a new user message (the conversation's own prompt then)."""
    last = messages[-1] if messages else None
    words = without_notes(last.content).strip() if last is not None and last.role == "user" else ""
    return words or None


@dataclass(frozen=True)
class Decision:
    """The prompts of a reply whose call is decided apart: the decision prompt, and the conversation's prompt for
    an answer (:func:`answering`)."""

    prompt: str
    answer: str
    tools: tuple[Tool, ...] = ()
    """The tools offered: the decision is made in the context that keeps their decision prompt."""


ANSWER_NOTE = "(Answer it yourself in plain words: no tool is needed.)"
"""Put after the user's words when a call was decided against on the decision prompt, under a client's own
instructions. There the model, free to answer, still wrote the call out as prose or JSON for 9 of 16 questions that
need no tool ("To get the capital of France, you can use the `get_weather` function..."); with this note, for none.
Under Omni's instructions it never did, and the note is left out."""


def answering(messages: Sequence[ChatMessage]) -> list[ChatMessage]:
    """``messages`` as an answer decided on is asked for: under a client's instructions with :data:`ANSWER_NOTE`
    after the user's words in the newest message (before Omni's other notes, so that "(Answer in Korean.)" stays
    the last word)."""
    if messages[0].role == "system" and messages[0].content.startswith(DECISION_INSTRUCTIONS):
        return list(messages)
    last = messages[-1]
    words = without_notes(last.content)
    noted = with_notes(words, [ANSWER_NOTE]) + last.content[len(words):]
    return [*messages[:-1], ChatMessage(last.role, noted, last.tool_calls, last.tool_call_id, last.name)]


class ToolTurn:
    """The decoding policy of a reply that may call a tool, as llama.cpp logits processors.

    :meth:`decide` reads the first token's probabilities (of the decision prompt, or of the conversation's after
    tool results): the reply is a call when the model puts :attr:`threshold` (:func:`call_mass`) on opening one,
    or after tool results when opening one is its likeliest start (or the tool choice requires a call). A call is
    then decoded greedily, whatever the temperature (a call's name and arguments are no place for variety): under
    :attr:`grammar`, which admits only calls of the offered tools with arguments that fit their schemas, or else
    started in the format the parser reads (:data:`CALL_START`). An answer is sampled as asked, without the tokens
    that open a call at its start (a reply that starts with JSON or a tag is the call format gone wrong, never an
    answer)."""

    def __init__(self, opens: NDArray[np.bool_], start: list[int], grammar: Any, *, forced: bool,
                 after_results: bool = False, threshold: float = CALL_MASS) -> None:
        self.opens = opens
        self.threshold = threshold
        self.start = start
        self.grammar = grammar
        self.forced = forced
        self.after_results = after_results
        self.calling = forced
        self.mass = 1.0 if forced else 0.0
        self._step = 0

    def decide(self, input_ids: NDArray[np.intc], scores: NDArray[np.single]) -> NDArray[np.single]:
        probabilities = np.exp(scores - scores.max())
        self.mass = float(probabilities[self.opens].sum() / probabilities.sum())
        # After tool results the model leans the other way (it calls again what it has the result of): there a
        # call must be its likeliest start.
        self.calling = bool(self.opens[int(np.argmax(scores))]) if self.after_results else self.mass >= self.threshold
        return scores

    def generate(self, input_ids: NDArray[np.intc], scores: NDArray[np.single]) -> NDArray[np.single]:
        step, self._step = self._step, self._step + 1
        if not self.calling:
            if step > 0:
                return scores
            scores = scores.copy()
            scores[self.opens] = -np.inf
            return scores
        chosen = self.start[step] if step < len(self.start) else int(np.argmax(scores))
        only = np.full_like(scores, -np.inf)
        only[chosen] = scores[chosen]
        return only


def call_grammar(tools: Sequence[Tool]) -> str | None:
    """A GBNF grammar for a ``<tool_call>`` block of one to three calls of ``tools``, each with arguments that fit the
    tool's JSON schema (no properties it does not name); None when a schema is beyond llama.cpp's converter."""
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    calls = [{"type": "object", "additionalProperties": False, "required": ["name", "arguments"], "properties": {
        "name": {"const": t.name},
        "arguments": {"type": "object", **t.parameters, "additionalProperties": t.parameters.get(
            "additionalProperties", False)}}} for t in tools]
    try:
        rules = json_schema_to_gbnf(json.dumps(calls[0] if len(calls) == 1 else {"oneOf": calls}),
                                    prop_order=["name", "arguments"])
    except Exception as exc:  # a schema the converter does not know: calls are decoded without a grammar
        log.info("no grammar for the tools' schemas: %s", exc)
        return None
    rules = re.sub(r"^root ::=", "call ::=", rules, flags=re.MULTILINE)
    # Several calls go in one block, one JSON object a line: the way this model writes them when it is free to.
    return f'root ::= "<tool_call>\\n" call ("\\n" call){{0,2}} "\\n</tool_call>"\n{rules}'


def ends_with_results(messages: Sequence[ChatMessage]) -> bool:
    """Whether the newest message other than a system note is a tool result."""
    last = next((m for m in reversed(messages) if m.role != "system"), None)
    return last is not None and last.role == "tool"
