"""LLM backend for any OpenAI-compatible ``/chat/completions`` server (OpenAI, Ollama, vLLM, llama.cpp).

Streams with server-sent events: text deltas as they arrive, tool calls once their arguments are
complete (servers split them over many deltas), and the usage count when the server reports it.
Stopping the iteration closes the HTTP stream, so the server stops generating.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from omni.backends.base import LLM, GenerationOptions
from omni.backends.openai_http import (
    DEFAULT_TIMEOUT_S,
    HTTPEndpoint,
    check_status,
    parse_json,
    require_base_url,
    sse_data,
    transport_errors,
)
from omni.config import Settings
from omni.errors import BackendError
from omni.types import ChatMessage, LLMEvent, TextDelta, Tool, ToolCall, Usage

Json = dict[str, Any]


def wire_message(message: ChatMessage) -> Json:
    """One history entry in the chat-completions shape."""
    wire: Json = {"role": message.role, "content": message.content}
    if message.role == "assistant" and message.tool_calls:
        wire["content"] = message.content or None
        wire["tool_calls"] = [
            {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}
            for call in message.tool_calls
        ]
    if message.role == "tool" and message.tool_call_id is not None:
        wire["tool_call_id"] = message.tool_call_id
    if message.name is not None:
        wire["name"] = message.name
    return wire


def wire_tool(tool: Tool) -> Json:
    return {
        "type": "function",
        "function": {"name": tool.name, "description": tool.description, "parameters": tool.parameters},
    }


def wire_tool_choice(choice: str) -> str | Json:
    if choice in ("auto", "none", "required"):
        return choice
    return {"type": "function", "function": {"name": choice}}


def request_body(
    model: str, messages: Sequence[ChatMessage], tools: Sequence[Tool], options: GenerationOptions
) -> Json:
    body: Json = {
        "model": model,
        "messages": [wire_message(m) for m in messages],
        "stream": True,
        "stream_options": {"include_usage": True},
        "temperature": options.temperature,
    }
    if options.max_tokens is not None:
        body["max_tokens"] = options.max_tokens
    if tools:  # servers reject tool_choice without tools
        body["tools"] = [wire_tool(t) for t in tools]
        body["tool_choice"] = wire_tool_choice(options.tool_choice)
    return body


@dataclass
class _PartialCall:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)

    def finish(self) -> ToolCall:
        return ToolCall(
            id=self.id or f"call_{uuid.uuid4().hex[:24]}",
            name=self.name,
            arguments="".join(self.arguments) or "{}",
        )


class _ToolCallAssembler:
    """Joins tool-call fragments by their ``index`` across deltas."""

    def __init__(self) -> None:
        self._calls: dict[int, _PartialCall] = {}

    def add(self, fragment: Json) -> None:
        index = fragment.get("index")
        call_id = fragment.get("id")
        if not isinstance(index, int):
            # Some servers omit the index: a new id starts a new call, anything else continues the last.
            index = next((i for i, c in self._calls.items() if call_id and c.id == call_id), None)
            if index is None:
                last = max(self._calls, default=-1)
                index = last + 1 if call_id or last < 0 else last
        call = self._calls.setdefault(index, _PartialCall())
        if call_id:
            call.id = str(call_id)
        function = fragment.get("function") or {}
        if function.get("name"):
            call.name = str(function["name"])
        if function.get("arguments"):
            call.arguments.append(str(function["arguments"]))

    def drain(self) -> list[ToolCall]:
        calls = [self._calls[i].finish() for i in sorted(self._calls)]
        self._calls.clear()
        return calls


def _usage(data: object) -> Usage | None:
    if not isinstance(data, dict):
        return None
    return Usage(int(data.get("prompt_tokens") or 0), int(data.get("completion_tokens") or 0))


def _raise_on_error(chunk: Json, stage: str, url: str) -> None:
    """Servers report failures that happen mid-stream as an ``error`` object inside the stream."""
    error = chunk.get("error")
    if error:
        message = error.get("message") if isinstance(error, dict) else error
        raise BackendError(stage, f"{url} reported an error while streaming: {message}")


class OpenAILLM(LLM):
    """Chat completions from a remote OpenAI-compatible server."""

    def __init__(
        self, base_url: str, *, model: str, api_key: str | None = None, timeout: float = DEFAULT_TIMEOUT_S
    ) -> None:
        self.endpoint = HTTPEndpoint(base_url, api_key, timeout=timeout)
        self.model = model

    def __repr__(self) -> str:
        return f"OpenAILLM({self.endpoint.base_url!r}, model={self.model!r})"

    async def aclose(self) -> None:
        await self.endpoint.aclose()

    async def _chat(
        self, messages: Sequence[ChatMessage], tools: Sequence[Tool], options: GenerationOptions
    ) -> AsyncIterator[LLMEvent]:
        url = self.endpoint.url("chat/completions")
        body = request_body(self.model, messages, tools, options)
        with transport_errors(self.stage, url):
            async with self.endpoint.client().stream("POST", url, json=body) as response:
                await check_status(response, self.stage, url)
                if response.headers.get("content-type", "").startswith("application/json"):
                    # The server ignored ``stream``; take the whole answer at once.
                    completion = parse_json(await response.aread(), self.stage, url)
                    for event in self._completion_events(completion, url):
                        yield event
                    return
                async for event in self._stream_events(response.aiter_lines(), url):
                    yield event

    async def _stream_events(self, lines: AsyncIterator[str], url: str) -> AsyncIterator[LLMEvent]:
        calls = _ToolCallAssembler()
        usage: Usage | None = None
        async for data in sse_data(lines):
            if data.strip() == "[DONE]":
                break
            chunk = parse_json(data.encode(), self.stage, url)
            if not isinstance(chunk, dict):
                continue
            _raise_on_error(chunk, self.stage, url)
            # Some servers repeat a running usage on every chunk; the last one is the total.
            usage = _usage(chunk.get("usage")) or usage
            for choice in chunk.get("choices") or ():
                delta = choice.get("delta") or {}
                if delta.get("content"):
                    yield TextDelta(str(delta["content"]))
                for fragment in delta.get("tool_calls") or ():
                    calls.add(fragment)
                if choice.get("finish_reason"):
                    for call in calls.drain():
                        yield call
        for call in calls.drain():
            yield call
        if usage is not None:
            yield usage

    def _completion_events(self, completion: object, url: str) -> list[LLMEvent]:
        if not isinstance(completion, dict):
            raise BackendError(self.stage, f"{url} answered with an unexpected shape: {completion!r:.200}")
        _raise_on_error(completion, self.stage, url)
        events: list[LLMEvent] = []
        for choice in completion.get("choices") or ():
            message = choice.get("message") or {}
            if message.get("content"):
                events.append(TextDelta(str(message["content"])))
            calls = _ToolCallAssembler()
            for position, fragment in enumerate(message.get("tool_calls") or ()):
                calls.add({"index": position, **fragment})
            events.extend(calls.drain())
        usage = _usage(completion.get("usage"))
        if usage is not None:
            events.append(usage)
        return events


def create(settings: Settings) -> OpenAILLM:
    llm = settings.llm
    return OpenAILLM(require_base_url(llm.base_url, "llm"), model=llm.remote_model, api_key=llm.api_key)
