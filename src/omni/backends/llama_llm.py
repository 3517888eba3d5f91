"""The embedded LLM: any GGUF chat model through llama-cpp-python, streamed token by token from a worker thread.

The prompt is rendered with the model's own chat template (from the GGUF metadata), so the conversation prefix is
byte-identical across turns and llama.cpp reuses its KV cache for it. Tool calls are parsed from the model's
``<tool_call>`` blocks (see :mod:`omni.backends.tool_call_parser`).
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from omni.aio import ModelLock, closing, iterate_in_thread, model_thread
from omni.backends.base import LLM, GenerationOptions
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


CALL_START = '<tool_call>\n{"name": "'
"""How a tool call begins in the Qwen/Hermes format the parser reads; a reply decided to be a call is given it."""

CALL_MASS = 0.2
"""A reply that may call a tool is a call when the model puts at least this much probability on opening one at its
first token: ``<``, ``{`` or a code fence, which is how the 1.5B model starts a call (as text: it writes ``<tools>``,
```` ```json ```` or ``{{`` as often as the trained ``<tool_call>``). Measured on first turns with five client
tools (docs/tools.md): 0.22-0.82 for the kept set's questions a tool answers and 0.00-0.17 for those that need none;
on 22 questions outside the set, 0.24-0.80 against 0.00-0.38 (a question about a play, sums, a greeting)."""


class _ToolTurn:
    """The decoding policy of a reply that may call a tool, as llama.cpp logits processors.

    :meth:`decide` reads the first token's probabilities: the reply is a call when the model puts
    :data:`CALL_MASS` on opening one, or after tool results when opening one is its likeliest start (or the tool
    choice requires a call). A call is then decoded greedily,
    whatever the temperature (a call's name and arguments are no place for variety): under :attr:`grammar`, which
    admits only calls of the offered tools with arguments that fit their schemas, or else started in the format the
    parser reads (:data:`CALL_START`). An answer is sampled as asked, without the tokens that open a call at its
    start (a reply that starts with JSON or a tag is the call format gone wrong, never an answer)."""

    def __init__(self, opens: NDArray[np.bool_], start: list[int], grammar: Any, *, forced: bool,
                 after_results: bool = False) -> None:
        self.opens = opens
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
        self.calling = bool(self.opens[int(np.argmax(scores))]) if self.after_results else self.mass >= CALL_MASS
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

    def _tool_turn(self, tools: Sequence[Tool], choice: str, *, after_results: bool = False) -> _ToolTurn | None:
        """The decoding policy of a reply that may call one of ``tools`` (none when it may not); ``after_results``:
        the prompt ends with tool results."""
        if not tools or choice == "none":
            return None
        named = [t for t in tools if t.name == choice] if choice not in ("auto", "required") else []
        start = CALL_START + (f'{choice}", "arguments": ' if named else "")
        tokens = self._llama.tokenize(start.encode("utf-8"), add_bos=False, special=False)
        return _ToolTurn(self._call_openers(), tokens, self._grammar(named or tools), forced=choice != "auto",
                         after_results=after_results)

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
        decoding = iterate_in_thread(lambda stop: self._prefill(pieces, stop), self.thread)
        async with self._lock.hold(), closing(decoding) as done:
            async for _ in done:
                pass

    def _prefill(self, prompts: list[str], stop: threading.Event) -> Iterator[None]:
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
            policy = self._tool_turn(offered, options.tool_choice,
                                     after_results=_ends_with_results(messages))
            generating = iterate_in_thread(lambda stop: self._generate(prompt, options, stop, policy), self.thread)
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
                  policy: _ToolTurn | None = None) -> Iterator[str]:
        from llama_cpp import LogitsProcessorList

        temperature, grammar, processors = options.temperature, None, LogitsProcessorList()
        if policy is not None:
            CORES.wait_for_turn(stop)
            if stop.is_set():
                return
            if not policy.forced:
                # The prompt decoded and the first token's probabilities read; the next call samples from the cache.
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


def _ends_with_results(messages: Sequence[ChatMessage]) -> bool:
    """Whether the newest message other than a system note is a tool result."""
    last = next((m for m in reversed(messages) if m.role != "system"), None)
    return last is not None and last.role == "tool"


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
