"""The LLM request a reply makes: its prompt (the conversation, reminders, the note after tool results), the tools
offered to it, which call it must make, the interpreter's translation request, and whether a Korean question is
answered by way of English.

:class:`Prompts` reads the session's options, conversation and tools as they are when it is asked; the session
makes one for each use, so an update to the options applies to the next request built.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from omni.backends.base import LLM, GenerationOptions
from omni.session.context import Conversation, Item
from omni.session.early_stream import LLMRequest
from omni.session.english_pivot import LANGUAGES as PIVOT_LANGUAGES
from omni.session.english_pivot import reference_notes
from omni.session.interpreter import Interpreter
from omni.session.options import ReplyOverrides, SessionOptions
from omni.session.tools import ToolBox, after_results, this_turn
from omni.text.language import detect_language
from omni.text.prompt_notes import with_notes
from omni.types import ChatMessage, Tool
from omni.vision import describe

_LANGUAGE_NAMES = {"ko": "Korean", "ja": "Japanese", "zh": "Chinese", "en": "English", "ru": "Russian"}


@dataclass(frozen=True)
class Prompts:
    """Builds a session's LLM requests from its options, conversation and toolbox, and the LLM's token count."""

    options: SessionOptions
    conversation: Conversation
    toolbox: ToolBox
    llm: LLM

    def request(self, *, pending: Item | None = None, overrides: ReplyOverrides | None = None,
                reminders: bool = True, reference: str | None = None) -> LLMRequest:
        """The LLM call a reply makes now, or would make once the ``pending`` user item is added. ``reminders``
        (how to answer about images, in which language, an English ``reference`` answer) go on the newest user
        message; a prefill leaves them out, since the next turn's message will be the newest, and a reminder on the
        one before would not be in the reply's prompt (the cached prefix would end there)."""
        overrides = overrides or ReplyOverrides()
        if self.options.interpreter is not None:
            return self._translation_request(self.options.interpreter, pending, overrides, next_turn=not reminders)
        instructions = self.options.instructions if overrides.instructions is None else overrides.instructions
        language = self.user_language(pending)
        if overrides.input is not None:
            messages = [ChatMessage("system", instructions), *overrides.input]
        else:
            messages = self.conversation.prompt(
                instructions,
                budget_tokens=self.options.context_budget_tokens,
                count_tokens=self.llm.count_tokens,
                extra=[pending.message(language=language)] if pending is not None else (),
                language=language,
            )
        notes = []
        if reminders and overrides.input is None and self.conversation.images_since_reply():
            notes.append(describe.REMINDER)
        if reminders and reference is not None:
            notes += reference_notes(reference)
        if reminders and language and language != "en":
            notes.append(f"(Answer in {_LANGUAGE_NAMES.get(language, language)}.)")
        generation = overrides.generation or self.options.generation
        # A prefill (no reminders) is for the next turn, whose question is not known: an ordinary one, most likely.
        question = next((m.content for m in reversed(messages) if m.role == "user"), None) if reminders else None
        offered = self.offered_tools(overrides, question, language)
        if generation.tool_choice == "auto" and question is not None:
            generation = self._tool_policy(generation, question, language, overrides)
        if notes and messages[-1].role == "user":
            # Reminders on the newest message only, so the cached prompt prefix stays the same.
            messages[-1] = ChatMessage("user", with_notes(messages[-1].content, notes))
        return LLMRequest.of(messages, offered, generation)

    def after_tools(self, request: LLMRequest, *, answer_now: bool) -> LLMRequest:
        """A prompt that ends with tool results gets a note after them (:func:`omni.session.tools.after_results`):
        what to do with them, in the user's language; a correction of a call whose arguments failed must call that
        tool. ``answer_now`` (the last round only repeated calls) asks for the answer with the tools off."""
        messages = request.messages
        if request.translation is not None or not messages or messages[-1].role != "tool":
            return request
        question = next((m.content for m in reversed(messages) if m.role == "user"), "")
        language = _LANGUAGE_NAMES.get(self.user_language(None) or "", "the language of the user's question")
        after = after_results(question, language, this_turn(self.conversation.items), answer_now=answer_now)
        generation = request.options
        if answer_now:
            generation = replace(generation, tool_choice="none")
        elif after.correct is not None and any(t.name == after.correct for t in request.tools):
            generation = replace(generation, tool_choice=after.correct)  # the correction is a call to that tool
        return LLMRequest.of([*messages, ChatMessage("system", after.note)], request.tools, generation)

    def _client_tools(self, overrides: ReplyOverrides) -> tuple[Tool, ...]:
        return self.options.tools if overrides.tools is None else overrides.tools

    def _has_client_tools(self, overrides: ReplyOverrides) -> bool:
        """Whether the client declared tools: its own, or tools the session runs for it (a Realtime MCP server's)."""
        return bool(self._client_tools(overrides) or self.toolbox.declared_schemas)

    def _own_tools_offered(self, overrides: ReplyOverrides) -> bool:
        """Whether the session's own tools (built-in, configured MCP servers') are offered: not to a client that
        brought tools or instructions of its own (unless ``local_tools_with_client_tools``). Under a client's
        "Answer in one complete sentence." the 1.5B model opens nearly every answer as a call, and when it may not
        call it writes the call out as text ("Here is a JSON object with the function name...")."""
        return self.options.local_tools_with_client_tools or not (
            self._has_client_tools(overrides) or self.options.client_instructions
            or overrides.instructions is not None)

    def offered_tools(self, overrides: ReplyOverrides, question: str | None = None,
                      language: str | None = None) -> list[Tool]:
        """The local tools the user's ``question`` has cues for (none for an unknown one), then those the client
        declared for the session to run, then the client's; a client's tool hides a local one of the same name (a
        client's ``get_time`` is the client's). A local tool with no cue in the question is not in the prompt at
        all: offered there, the 1.5B model makes "What is the capital of France?" a ``get_time("Paris")`` call,
        refuses one story request in four ("I'm sorry, but I can't assist with that request."), or writes a call
        out as text when it may not make one (docs/tools.md, Built-in tools)."""
        client = self._client_tools(overrides)
        names = {t.name for t in client}
        declared = [t for t in self.toolbox.declared_schemas if t.name not in names]
        if not self._own_tools_offered(overrides):
            return [*declared, *client]
        names |= {t.name for t in declared} | self.toolbox.unasked(question or "", language if question else "en")
        return [*(t for t in self.toolbox.own_schemas if t.name not in names), *declared, *client]

    def _tool_policy(self, generation: GenerationOptions, question: str, language: str | None,
                     overrides: ReplyOverrides) -> GenerationOptions:
        """What the reply to ``question`` calls: a local tool it triggers (once a turn: after its result the model
        answers), unless the client has tools of its own, which the model must be free to choose."""
        triggered = [name for name in self.toolbox.triggered(question, language) if self.runs_here(name, overrides)]
        if (len(triggered) == 1 and not self._has_client_tools(overrides)
                and not any(item.tool_calls for item in this_turn(self.conversation.items))):
            return replace(generation, tool_choice=triggered[0])
        return generation

    def runs_here(self, name: str, overrides: ReplyOverrides) -> bool:
        """Whether the session runs a call itself: a local tool it offers that no client tool of the same name
        hides, and that needs no approval (a call that does ends the reply as a client's call does)."""
        client = self._client_tools(overrides)
        if name not in self.toolbox or self.toolbox.needs_approval(name) or any(t.name == name for t in client):
            return False
        return self.toolbox.is_declared(name) or self._own_tools_offered(overrides)

    def _translation_request(self, interpreter: Interpreter, pending: Item | None, overrides: ReplyOverrides, *,
                             next_turn: bool) -> LLMRequest:
        """Interpreter mode: the newest utterance alone through the fixed translation prompt, greedy, no tools;
        ``next_turn``: the prompt up to where the next utterance goes (a prefill)."""
        if overrides.input is not None:
            items = [Item("input", m.role, m.content) for m in overrides.input]
        else:
            items = [*self.conversation.items, pending] if pending is not None else self.conversation.items
        messages = interpreter.conversation_prompt(items, next_turn=next_turn)
        generation = overrides.generation or self.options.generation
        said = messages[-1].content if messages[-1].role == "user" else ""
        limit = interpreter.max_tokens(self.llm.count_tokens(said))
        generation = replace(generation, temperature=0.0, tool_choice="none",
                             max_tokens=min(generation.max_tokens or limit, limit))
        return LLMRequest.of(messages, (), generation, None if next_turn else interpreter.direction_of(items))

    def by_way_of_english(self, overrides: ReplyOverrides, *, pending: Item | None = None) -> bool:
        """Whether this reply answers a Korean question by way of a hidden English answer: asked for, and nothing
        the English answer could not see (tools it might need, images, messages given instead of the
        conversation): no tool is offered to the question (a built-in tool it has no cue for is not)."""
        if not (self.options.korean_answers == "pivot" and self.options.interpreter is None
                and overrides.input is None):
            return False
        question = pending if pending is not None else next(
            (item for item in reversed(self.conversation.items) if item.role == "user"), None)
        language = self.user_language(pending)
        return (language in PIVOT_LANGUAGES and question is not None
                and not self.offered_tools(overrides, question.text, language)
                and not self.conversation.images_since_reply() and not (pending is not None and pending.images))

    def user_language(self, pending: Item | None) -> str | None:
        items = [*self.conversation.items, pending] if pending is not None else self.conversation.items
        for item in reversed(items):
            if item.role == "user" and item.text:
                return item.language or detect_language(item.text)
        return None
