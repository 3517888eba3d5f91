"""The embedded LLM: any GGUF chat model through llama-cpp-python, streamed token by token from a worker thread.

The prompt is rendered with the model's own chat template (from the GGUF metadata), so the conversation prefix is
byte-identical across turns and llama.cpp reuses its KV cache for it. Tool calls are parsed from the model's
``<tool_call>`` blocks (see :mod:`omni.backends.tool_call_parser`).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from omni.aio import ModelLock, closing, iterate_in_thread, model_thread
from omni.backends.base import LLM, GenerationOptions
from omni.backends.llama_side_context import SideContext
from omni.backends.llama_tool_turn import (
    CALL_START,
    DECISION_SYSTEM,
    Decision,
    ToolTurn,
    answering,
    call_grammar,
    call_mass,
    decided_apart,
    decision_messages,
    ends_with_results,
)
from omni.backends.tool_call_parser import ToolCallParser
from omni.config import Settings
from omni.cores import CORES
from omni.errors import ModelNotFoundError
from omni.text.repetition import looping
from omni.types import ChatMessage, LLMEvent, TextDelta, Tool, Usage

log = logging.getLogger(__name__)

_USER_WORDS = "\x00user words\x00"
"""Stands for the next user message in a rendered prompt: the chat template puts it where the words go."""


PREFILL_WORDS = 2
"""A user's words read ahead are decoded this many at a time, each piece after any speech work waiting for the
cores: a transcription that starts meanwhile shares them with one short piece at most. Measured on 2 cores for
eight words: 50-70 ms per piece and 240 ms in all, against 190 ms in one piece that nothing can interrupt."""


CLOSING_MARKS = ".?!"
"""Marks that close a sentence; words without one may still be finished (whisper leaves some off)."""
MIN_MARK_PROBABILITY = 0.01
"""A closing mark less likely than this next is not worth a second decode: it adds at most this much."""


DECISION_CONTEXTS = 6
"""Call-decision prompts kept decoded, one context per set of tools offered (the ones used last): with one context,
each question that offered other tools than the last decoded the decision prompt again (230-240 tokens for the
clock's or the calculator's alone, 1.2-1.9 s on 2 cores; 630 tokens and 4 s for all four built-in tools)."""
DECISION_CTX = 2048
"""A decision context's window: the decision prompt is the instructions, the tools and one question (about 60 MB of
KV cache each, against 120 MB at the model's 4096)."""


PREFIX_PIECE_CHARS = 200
"""A long prompt prefix (an image's note, a long history) is decoded in pieces of about this many characters, each
after any speech work waiting for the cores, so that a transcription never waits for a whole prefix (one piece is
about 50 tokens: 0.5 s on 2 cores) and a prefill that is no longer wanted stops soon."""


def prefix_pieces(prefix: str) -> list[str]:
    """Starts of ``prefix``, cut before a space or a line break every :data:`PREFIX_PIECE_CHARS` or so, then the
    whole: the tokens of a start are the tokens that begin the whole (a word's token starts with its space)."""
    cuts: list[int] = []
    at = PREFIX_PIECE_CHARS
    while at < len(prefix):
        found = max(prefix.rfind(" ", 0, at), prefix.rfind("\n", 0, at))
        if found <= (cuts[-1] if cuts else 0):
            found = at
        cuts.append(found)
        at = found + PREFIX_PIECE_CHARS
    return [prefix[:cut] for cut in cuts] + [prefix]


class LlamaLLM(LLM):
    caches_prompts = True

    def __init__(self, model_path: Path, *, n_ctx: int = 4096, threads: int = 0) -> None:
        from llama_cpp import Llama
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        if not model_path.is_file():
            raise ModelNotFoundError(f"GGUF model file not found: {model_path}")
        self.model_path = model_path
        self._llama = Llama(
            model_path=str(model_path),
            n_ctx=n_ctx,
            n_threads=threads or os.cpu_count() or 2,
            verbose=False,
        )
        template = self._llama.metadata.get("tokenizer.chat_template")
        if not template:
            raise ModelNotFoundError(f"{model_path} has no chat template in its metadata; Omni needs a chat model")
        self._eos = self._token_text(self._llama.token_eos())
        bos = self._token_text(self._llama.token_bos())
        self._format = Jinja2ChatFormatter(template=template, eos_token=self._eos, bos_token=bos)
        # An empty stop string would end every completion at once.
        self._stops = [s for s in {self._eos, "<|im_end|>", "<|endoftext|>"} if s]
        self._lock = ModelLock()  # llama.cpp contexts are not thread-safe: one generation at a time
        self.thread = model_thread("llama")
        self._opens: NDArray[np.bool_] | None = None
        self._grammars: dict[str, Any] = {}
        self._deciders: OrderedDict[str, SideContext] = OrderedDict()
        self._end_token: int | None = None
        self._marks: dict[str, int] | None = None

    def _decision_context(self, tools: Sequence[Tool]) -> SideContext:
        """The context the call is decided in when ``tools`` are offered, created at its first use: it keeps the
        decision prompt's prefix (the instructions and these tools) in its own cache, and the conversation's stays
        whole. One per set of tools, the :data:`DECISION_CONTEXTS` used last kept (call it in the model's thread)."""
        key = json.dumps([_tool(t) for t in tools], sort_keys=True)
        context = self._deciders.pop(key, None)
        if context is None:
            context = SideContext(self._llama, n_ctx=min(DECISION_CTX, self._llama.n_ctx()))
        self._deciders[key] = context
        while len(self._deciders) > DECISION_CONTEXTS:
            self._deciders.popitem(last=False)[1].close()
        return context

    def _call_openers(self) -> NDArray[np.bool_]:
        """The tokens that open a tool call, a JSON object or a code fence (not the chat template's ``<|...|>``)."""
        if self._opens is None:
            size = self._llama.n_vocab()
            opens = np.zeros(size, dtype=np.bool_)
            for token in range(size):
                text = self._llama.detokenize([token], special=True).decode("utf-8", "ignore").lstrip()
                opens[token] = text[:1] in ("<", "{", "`") and not text.startswith("<|")
            self._opens = opens
        return self._opens

    def _tool_turn(self, tools: Sequence[Tool], choice: str, *, after_results: bool = False,
                   question: str | None = None) -> ToolTurn | None:
        """The decoding policy of a reply that may call one of ``tools`` (none when it may not); ``after_results``:
        the prompt ends with tool results; ``question``: the call is decided on the decision prompt of it."""
        if not tools or choice == "none":
            return None
        named = [t for t in tools if t.name == choice] if choice not in ("auto", "required") else []
        start = CALL_START + (f'{choice}", "arguments": ' if named else "")
        tokens = self._llama.tokenize(start.encode("utf-8"), add_bos=False, special=False)
        return ToolTurn(self._call_openers(), tokens, self._grammar(named or tools), forced=choice != "auto",
                        after_results=after_results, threshold=call_mass(question or ""))

    def _grammar(self, tools: Sequence[Tool]) -> Any:
        from llama_cpp.llama_grammar import LlamaGrammar

        key = json.dumps([_tool(t) for t in tools], sort_keys=True)
        if key not in self._grammars:
            text = call_grammar(tools)
            self._grammars[key] = LlamaGrammar.from_string(text, verbose=False) if text else None
        return self._grammars[key]

    @property
    def llama(self) -> Any:
        """The loaded ``llama_cpp.Llama``, for benchmarks that compare Omni with the runtime itself."""
        return self._llama

    def _token_text(self, token: int) -> str:
        if token < 0:
            return ""
        return self._llama.detokenize([token], special=True).decode("utf-8", "ignore")

    def count_tokens(self, text: str) -> int:
        return len(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def render(self, messages: Sequence[ChatMessage], tools: Sequence[Tool] = ()) -> str:
        """The exact prompt text the model sees."""
        wire: Any = [_wire(m) for m in messages]  # llama_cpp's TypedDicts describe the same OpenAI shape
        offered: Any = [_tool(t) for t in tools] or None
        rendered = self._format(messages=wire, tools=offered)
        return rendered.prompt

    async def prefill(
        self, messages: Sequence[ChatMessage], tools: Sequence[Tool] = (), *, user_words: str = ""
    ) -> None:
        """Decode the prompt up to where the next user message's words go — the messages, the tools and the start
        of a user turn — and the ``user_words`` already known, so that the turn only pays for the rest."""
        prefix = self.next_turn_prefix(messages, tools)
        words = user_words.split()
        ends = range(PREFILL_WORDS, len(words) + PREFILL_WORDS, PREFILL_WORDS)  # the last piece ends at the last word
        starts = prefix_pieces(prefix)
        pieces = [*starts[:-1], *(prefix + " ".join(words[:end]) for end in ends)] if words else starts
        # Cancelled, it stops after the piece being decoded, and returns once the model is free.
        decoding = iterate_in_thread(lambda stop: self._prefill(pieces, stop, tools), self.thread)
        async with self._lock.hold(), closing(decoding) as done:
            async for _ in done:
                pass

    async def prepare_decisions(self, tool_sets: Sequence[Sequence[Tool]]) -> None:
        """Decode the call-decision prompt of each set of tools up to the question, each in its own context, so
        that the first question a set is offered to decides at once (the clock's took 1.9 s more the first time)."""
        for tools in tool_sets:
            decoding = iterate_in_thread(partial(self._prepare_decision, tools), self.thread)
            async with self._lock.hold(), closing(decoding) as done:
                async for _ in done:
                    pass

    def _prepare_decision(self, tools: Sequence[Tool], stop: threading.Event) -> Iterator[None]:
        """The call decision's prompt up to the question, when tools are offered: a call is decided on it
        (llama_tool_turn.decided_apart), and its instructions and tools are the same every turn."""
        if not tools:
            return
        context = self._decision_context(tools)
        for prompt in prefix_pieces(self.next_turn_prefix([DECISION_SYSTEM], tools)):
            if context.holds(prompt):
                continue
            CORES.wait_for_turn(stop)
            if stop.is_set():
                return
            context.logits(prompt)
            yield None

    def _prefill(self, prompts: list[str], stop: threading.Event, tools: Sequence[Tool] = ()) -> Iterator[None]:
        cached = self._cached_prefix(prompts[-1]) if prompts else 0
        for index, prompt in enumerate(prompts):
            if index < len(prompts) - 1 and self._token_count(prompt) <= cached:
                # Already in the cache, and the next piece keeps it there: decoding this piece alone would cut the
                # cache back to it (llama.cpp drops what follows a shorter prompt) and the rest be decoded again.
                continue
            CORES.wait_for_turn(stop)  # a head start for later must not slow down a transcript or voice waited on
            if stop.is_set():
                return
            # One generated token through the normal completion path: the cache then holds exactly the tokens a
            # later prompt starting with this one will have.
            self._llama.create_completion(prompt, max_tokens=1, temperature=0.0)
            yield None
        yield from self._prepare_decision(tools, stop)

    def _token_count(self, prompt: str) -> int:
        return len(self._llama.tokenize(prompt.encode("utf-8"), add_bos=False, special=True))

    def _cached_prefix(self, prompt: str) -> int:
        """How many of ``prompt``'s first tokens llama.cpp's cache holds now."""
        tokens = self._llama.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
        held = self._llama.n_tokens
        common = 0
        for token, cached in zip(tokens, self._llama._input_ids[:held], strict=False):
            if token != cached:
                break
            common += 1
        return common

    async def end_of_turn(self, messages: Sequence[ChatMessage], tools: Sequence[Tool] = (), *,
                          user_words: str) -> float | None:
        """The model's probability that the next user message ends after ``user_words``: the probability of the
        token the chat template puts after a user message's words (LiveKit's turn detector reads the same from a
        model of its own). The prompt is the one :meth:`prefill` decodes, so the words are in the cache after it.

        Whisper leaves the full stop off some finished sentences, after which the model all but never ends the
        message ("Play some music that helps me focus": 0.000, and 0.946 with the full stop). So words without a
        closing mark are read as they would end with the mark the model finds likeliest next, weighed by its
        probability (an unfinished "…a table at" gives a full stop almost none)."""
        words = user_words.strip()
        if not words:
            return None
        prefix = self.next_turn_prefix(messages, tools)
        end, marks = self._message_end_token(), self._closing_marks()
        read: list[NDArray[np.single]] = []  # what the logits processor saw (llama.cpp may call it more than once)
        after: list[NDArray[np.single]] = []  # the next token's probabilities after each decode
        added: list[str] = []  # the closing mark the second decode added

        def keep(_: Any, scores: NDArray[np.single]) -> NDArray[np.single]:
            shifted = np.exp(scores - scores.max())
            read.append(shifted / shifted.sum())
            return scores

        def decode(stop: threading.Event) -> Iterator[None]:
            from llama_cpp import LogitsProcessorList

            for prompt in (prefix + words, None):
                if prompt is None:  # the words with the likeliest closing mark, when they have none
                    if words[-1] in CLOSING_MARKS or not after or not marks:
                        return
                    mark = max(marks, key=lambda m: after[0][marks[m]])
                    if after[0][marks[mark]] < MIN_MARK_PROBABILITY:
                        return
                    added.append(mark)
                    prompt = prefix + words + mark
                CORES.wait_for_turn(stop)
                if stop.is_set():
                    return
                self._llama.create_completion(prompt, max_tokens=1, temperature=0.0,
                                              logits_processor=LogitsProcessorList([keep]))
                after.append(read[-1])
                yield None

        decoding = iterate_in_thread(decode, self.thread)
        async with self._lock.hold(), closing(decoding) as done:
            async for _ in done:
                pass
        if not after:
            return None
        probability = float(after[0][end])
        if added:
            probability += float(after[0][marks[added[0]]] * after[1][end])
        return min(1.0, probability)

    def _message_end_token(self) -> int:
        """The first token the chat template writes after a user message's words."""
        if self._end_token is None:
            rendered = self.render([ChatMessage("user", _USER_WORDS)])
            after = rendered[rendered.index(_USER_WORDS) + len(_USER_WORDS):]
            self._end_token = self._llama.tokenize(after.encode("utf-8"), add_bos=False, special=True)[0]
        return self._end_token

    def _closing_marks(self) -> dict[str, int]:
        """The closing marks that are one token each in this model's vocabulary, by token."""
        if self._marks is None:
            self._marks = {}
            for mark in CLOSING_MARKS:
                tokens = self._llama.tokenize(mark.encode("utf-8"), add_bos=False, special=False)
                if len(tokens) == 1:
                    self._marks[mark] = tokens[0]
        return self._marks

    def next_turn_prefix(self, messages: Sequence[ChatMessage], tools: Sequence[Tool] = ()) -> str:
        """The prompt text of ``messages`` followed by a user message, up to where that message's words begin."""
        rendered = self.render([*messages, ChatMessage("user", _USER_WORDS)], tools)
        return rendered[: rendered.index(_USER_WORDS)]

    async def _chat(
        self, messages: Sequence[ChatMessage], tools: Sequence[Tool], options: GenerationOptions
    ) -> AsyncIterator[LLMEvent]:
        offered = tools if options.tool_choice != "none" else ()
        prompt = self.render(messages, offered)
        async with self._lock.hold():
            parser = ToolCallParser(frozenset(t.name for t in offered))
            completion_tokens = 0
            written = ""
            # Closed before the lock is released: the worker thread has stopped when the next call starts.
            question = decided_apart(messages)
            policy = self._tool_turn(offered, options.tool_choice, after_results=ends_with_results(messages),
                                     question=question)
            decision = None
            if question is not None and policy is not None and not policy.forced:
                # An answer decided on needs no tool schemas. Without them its prompt is the one the prefills and
                # the end-of-turn probability decoded; with them the system message (where the template puts the
                # tools) changes and the whole prompt is decoded again: 1.2-3.8 s on 2 cores for "고양이는 하루에
                # 몇 시간 자?", whose "시간" offers the clock.
                decision = Decision(self.render(decision_messages(question), offered),
                                    self.render(answering(messages)), tuple(offered))
            generating = iterate_in_thread(lambda stop: self._generate(prompt, options, stop, policy, decision),
                                           self.thread)
            async with closing(generating) as pieces:
                async for piece in pieces:
                    completion_tokens += 1
                    text = parser.push(piece)
                    if text:
                        written += text
                        if looping(written):  # greedy decoding can loop to the token limit: stop after the third
                            log.info("the model repeats itself; generation stopped: %r", written[-80:])
                            break  # this piece starts a fourth time: not said
                        yield TextDelta(text)
            tail = parser.finish()
            if tail:
                yield TextDelta(tail)
            for call in parser.calls:
                yield call
            yield Usage(prompt_tokens=self.count_tokens(prompt), completion_tokens=completion_tokens)

    def _generate(self, prompt: str, options: GenerationOptions, stop: threading.Event,
                  policy: ToolTurn | None = None, decision: Decision | None = None) -> Iterator[str]:
        """Stream the reply to ``prompt``; with a ``policy``, a call decided first on the ``decision``'s prompt (in
        its own context; an answer then to its ``answer`` prompt) or else on ``prompt`` itself."""
        from llama_cpp import LogitsProcessorList

        temperature, grammar, processors = options.temperature, None, LogitsProcessorList()
        if policy is not None:
            CORES.wait_for_turn(stop)
            if stop.is_set():
                return
            if decision is not None and (deciding := self._decision_context(decision.tools)).fits(decision.prompt):
                policy.decide(np.empty(0, dtype=np.intc), deciding.logits(decision.prompt))
                prompt = prompt if policy.calling else decision.answer
            elif not policy.forced:
                # The first token's probabilities read; the generation below samples from the cache.
                self._llama.create_completion(prompt, max_tokens=1, temperature=0.0,
                                              logits_processor=LogitsProcessorList([policy.decide]))
            if policy.calling and policy.grammar is not None:
                temperature, grammar = 0.0, policy.grammar
            else:
                processors.append(policy.generate)
        stream = self._llama.create_completion(
            prompt,
            max_tokens=options.max_tokens,
            temperature=temperature,
            stop=self._stops,
            stream=True,
            logits_processor=processors or None,
            grammar=grammar,
        )
        try:
            CORES.wait_for_turn(stop)
            for chunk in stream:
                if stop.is_set():
                    return
                text: str = chunk["choices"][0]["text"]  # type: ignore[index]
                if text:
                    yield text
                CORES.wait_for_turn(stop)  # before the next token: speech being transcribed or spoken goes first
        finally:
            # Close llama.cpp's generator here, in the worker thread that holds the model. Left to the garbage
            # collector it would finish on another thread, possibly while the next generation runs: llama.cpp
            # aborts the process on such concurrent use.
            stream.close()  # type: ignore[union-attr]


def _wire(message: ChatMessage) -> dict[str, Any]:
    wire: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        wire["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": _json_or_text(c.arguments)}}
            for c in message.tool_calls
        ]
    if message.tool_call_id:
        wire["tool_call_id"] = message.tool_call_id
    if message.name:
        wire["name"] = message.name
    return wire


def _tool(tool: Tool) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {"name": tool.name, "description": tool.description, "parameters": tool.parameters},
    }


def _json_or_text(arguments: str) -> object:
    try:
        return json.loads(arguments)
    except ValueError:
        return arguments


def create(settings: Settings) -> LlamaLLM:
    from omni.models import store

    path = store.resolve(settings.llm.model, "llm", settings.models_dir)
    return LlamaLLM(path, n_ctx=settings.llm.n_ctx, threads=settings.llm.threads)
