"""``POST /v1/chat/completions``: OpenAI's chat-completions request on the LLM backend, whole or streamed as SSE.

The request is validated with the models below, turned into Omni's chat types, and answered from one
``llm.chat`` stream. Stop sequences are applied here, so every backend honours them; when one is hit, the
stream is closed at once (the model stops generating) and the usage is estimated from the text.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from omni.aio import closing
from omni.backends.base import LLM, GenerationOptions
from omni.errors import OmniError
from omni.server.api_errors import error_body
from omni.server.rest_common import ClosingStream, RequestError, RequestModel, read_json, unless_disconnected
from omni.server.rest_images import ImageRef, look_at_images
from omni.server.state import ServerState
from omni.types import ChatMessage, LLMEvent, TextDelta, Tool, ToolCall, Usage
from omni.vision import describe

log = logging.getLogger(__name__)


class ImageURL(RequestModel):
    url: str
    detail: str | None = None


class ContentPart(RequestModel):
    type: Literal["text", "image_url"]
    text: str | None = None
    image_url: ImageURL | None = None

    @model_validator(mode="after")
    def _has_its_field(self) -> ContentPart:
        if self.type == "text" and self.text is None:
            raise ValueError("a text part needs a 'text' string")
        if self.type == "image_url" and self.image_url is None:
            raise ValueError("an image_url part needs 'image_url': {'url': ...}")
        return self


class FunctionCallIn(RequestModel):
    name: str
    arguments: str


class ToolCallIn(RequestModel):
    id: str
    type: Literal["function"] = "function"
    function: FunctionCallIn


class MessageIn(RequestModel):
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None
    name: str | None = None
    tool_calls: list[ToolCallIn] | None = None
    tool_call_id: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> MessageIn:
        if self.role == "tool" and not self.tool_call_id:
            raise ValueError("a tool message needs the 'tool_call_id' it answers")
        if self.tool_calls and self.role != "assistant":
            raise ValueError("only assistant messages have 'tool_calls'")
        if self.content is None and not (self.role == "assistant" and self.tool_calls):
            raise ValueError(f"a {self.role} message needs 'content'")
        return self


class FunctionDef(RequestModel):
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})
    strict: bool | None = None


class ToolDef(RequestModel):
    type: Literal["function"]
    function: FunctionDef


class NamedFunction(RequestModel):
    name: str


class NamedToolChoice(RequestModel):
    type: Literal["function"]
    function: NamedFunction


class StreamOptions(RequestModel):
    include_usage: bool = False


class ResponseFormat(RequestModel):
    type: str


class ChatRequest(RequestModel):
    model: str = ""
    messages: Annotated[list[MessageIn], Field(min_length=1)]
    stream: bool = False
    stream_options: StreamOptions | None = None
    temperature: Annotated[float, Field(ge=0.0, le=2.0)] | None = None
    top_p: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    max_tokens: Annotated[int, Field(ge=1)] | None = None
    max_completion_tokens: Annotated[int, Field(ge=1)] | None = None
    n: int | None = None
    stop: str | Annotated[list[str], Field(max_length=4)] | None = None
    tools: list[ToolDef] | None = None
    tool_choice: Literal["auto", "none", "required"] | NamedToolChoice | None = None
    response_format: ResponseFormat | None = None
    logprobs: bool | None = None


@dataclass(frozen=True)
class ChatCall:
    """A validated request in Omni's terms: what the backend gets, and what shapes the answer."""

    messages: list[ChatMessage]
    tools: list[Tool]
    options: GenerationOptions
    stops: tuple[str, ...]
    stream: bool
    include_usage: bool


def image_refs(request: ChatRequest) -> list[ImageRef]:
    """The request's images, which only user messages may hold."""
    refs = []
    for m, message in enumerate(request.messages):
        if message.content is None or isinstance(message.content, str):
            continue
        question = "\n".join(part.text for part in message.content if part.text) or None
        for p, part in enumerate(message.content):
            if part.image_url is None:
                continue
            if message.role != "user":
                raise RequestError("images are accepted in user messages only", param=f"messages[{m}].content")
            refs.append(ImageRef(m, p, part.image_url.url, question))
    return refs


def chat_call(request: ChatRequest, default_temperature: float,
              image_notes: dict[tuple[int, int], str] | None = None) -> ChatCall:
    """Check what pydantic cannot (cross-field rules, unsupported options) and translate the request;
    ``image_notes`` stand for its images (:func:`image_refs`, looked at)."""
    if request.n is not None and request.n != 1:
        raise RequestError(f"n={request.n} is not supported: this server returns one choice (n=1)", param="n")
    if request.logprobs:
        raise RequestError("logprobs are not available from this server", param="logprobs")
    if request.response_format is not None and request.response_format.type != "text":
        raise RequestError(f"response_format {request.response_format.type!r} is not supported; only 'text' is",
                           param="response_format")
    if request.stream_options is not None and not request.stream:
        raise RequestError("stream_options is only allowed with stream: true", param="stream_options")
    tools = [Tool(t.function.name, t.function.description, t.function.parameters) for t in request.tools or ()]
    names = [tool.name for tool in tools]
    if len(set(names)) != len(names):
        raise RequestError("tools: each function name must be unique", param="tools")
    choice = _tool_choice(request.tool_choice, names)
    if choice not in ("auto", "none", "required"):
        tools = [tool for tool in tools if tool.name == choice]  # a named function: offer only that one
    stops = (request.stop,) if isinstance(request.stop, str) else tuple(request.stop or ())
    return ChatCall(
        messages=[_message(m, {p: n for (i, p), n in (image_notes or {}).items() if i == index})
                  for index, m in enumerate(request.messages)],
        tools=tools,
        options=GenerationOptions(
            temperature=default_temperature if request.temperature is None else request.temperature,
            # Unset means "until the model ends its answer", as at OpenAI; the context window bounds it.
            max_tokens=request.max_completion_tokens or request.max_tokens,
            tool_choice=choice,
        ),
        stops=tuple(s for s in stops if s),
        stream=request.stream,
        include_usage=request.stream_options is not None and request.stream_options.include_usage,
    )


def _tool_choice(choice: str | NamedToolChoice | None, names: Sequence[str]) -> str:
    if choice is None:
        return "auto"
    if not names:
        raise RequestError("tool_choice is only allowed when tools are given", param="tool_choice")
    if isinstance(choice, str):
        return choice
    if choice.function.name not in names:
        raise RequestError(f"tool_choice names function {choice.function.name!r}, which is not among the tools",
                           param="tool_choice")
    return choice.function.name


def _message(message: MessageIn, image_notes: dict[int, str]) -> ChatMessage:
    calls = tuple(ToolCall(c.id, c.function.name, c.function.arguments) for c in message.tool_calls or ())
    return ChatMessage(
        role="system" if message.role == "developer" else message.role,  # "developer" is the newer name
        content=_text(message.content, image_notes),
        tool_calls=calls,
        tool_call_id=message.tool_call_id,
        name=message.name,
    )


def _text(content: str | list[ContentPart] | None, image_notes: dict[int, str]) -> str:
    """The message as the LLM reads it: what vision found in its images first, then its text, then how to answer
    about images (as a session puts them, see :mod:`omni.vision.describe`)."""
    if content is None or isinstance(content, str):
        return content or ""
    notes = [image_notes[index] for index, part in enumerate(content) if index in image_notes]
    texts = [part.text for part in content if part.text is not None]
    return "\n".join([*notes, *texts, *([describe.REMINDER] if notes else [])])


class StopText:
    """Cuts streamed text at the first stop sequence. A tail that could be the start of one is held back until
    the next piece shows whether it is, so no part of a stop sequence is ever sent."""

    def __init__(self, stops: Sequence[str]) -> None:
        self.stops = tuple(stops)
        self.held = ""
        self.stopped = False

    def push(self, text: str) -> str:
        if self.stopped:
            return ""
        if not self.stops:
            return text
        seen = self.held + text
        found = [index for stop in self.stops if (index := seen.find(stop)) >= 0]
        if found:
            self.stopped, self.held = True, ""
            return seen[: min(found)]
        keep = max((n for stop in self.stops for n in range(1, len(stop)) if seen.endswith(stop[:n])), default=0)
        self.held = seen[len(seen) - keep:]
        return seen[: len(seen) - keep]

    def finish(self) -> str:
        """The text held back when the stream ended without a stop sequence."""
        tail, self.held = self.held, ""
        return tail


@dataclass
class Generation:
    """One ``llm.chat`` call with stop sequences applied; after :meth:`events`, the facts the answer reports."""

    llm: LLM
    call: ChatCall
    text: list[str] = field(default_factory=list)
    tool_calls: list[ToolCall] = field(default_factory=list)
    usage: Usage | None = None
    stopped: bool = False

    async def events(self) -> AsyncIterator[LLMEvent]:
        """Text deltas and tool calls as the model makes them (the usage is kept, not yielded)."""
        stop = StopText(self.call.stops)
        call = self.call
        async with closing(self.llm.chat(call.messages, tools=call.tools, options=call.options)) as events:
            async for event in events:
                if isinstance(event, TextDelta):
                    piece = stop.push(event.text)
                    if piece:
                        self.text.append(piece)
                        yield TextDelta(piece)
                    if stop.stopped:
                        self.stopped = True
                        break  # closing the stream stops the model
                elif isinstance(event, ToolCall):
                    self.tool_calls.append(event)
                    yield event
                else:
                    self.usage = event
        tail = stop.finish()
        if tail:
            self.text.append(tail)
            yield TextDelta(tail)
        if self.usage is None:  # cut short by a stop sequence: estimate with the model's own tokenizer
            self.usage = Usage(
                prompt_tokens=sum(self.llm.count_tokens(m.content) + 4 for m in call.messages),
                completion_tokens=self.llm.count_tokens("".join(self.text)) if self.text else 0,
            )

    @property
    def finish_reason(self) -> str:
        if self.tool_calls:
            return "tool_calls"
        limit = self.call.options.max_tokens
        if not self.stopped and limit is not None and self.usage is not None and \
                self.usage.completion_tokens >= limit:
            return "length"
        return "stop"

    def usage_body(self) -> dict[str, int]:
        usage = self.usage or Usage(0, 0)
        return {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
                "total_tokens": usage.prompt_tokens + usage.completion_tokens}


def _tool_call_body(call: ToolCall, index: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"id": call.id or f"call_{uuid.uuid4().hex[:24]}", "type": "function",
                            "function": {"name": call.name, "arguments": call.arguments}}
    return body if index is None else {"index": index, **body}


async def chat_completions(state: ServerState, request: Request) -> Response:
    body = await read_json(request, ChatRequest)
    chat_call(body, state.settings.llm.temperature)  # a request that is wrong anyway fails before images are looked at
    notes = await look_at_images(state.backends.vision, image_refs(body), state.settings.vision)
    call = chat_call(body, state.settings.llm.temperature, notes)
    generation = Generation(state.backends.llm, call)
    head = {"id": f"chatcmpl-{uuid.uuid4().hex}", "created": int(time.time()), "model": state.model_ids["chat"]}
    if call.stream:
        return ClosingStream(_sse(state, generation, head), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    await unless_disconnected(request, _drain(generation))
    message: dict[str, Any] = {"role": "assistant", "content": "".join(generation.text) or None, "refusal": None}
    if generation.tool_calls:
        message["tool_calls"] = [_tool_call_body(c) for c in generation.tool_calls]
    elif message["content"] is None:
        message["content"] = ""
    return JSONResponse({
        **head, "object": "chat.completion",
        "choices": [{"index": 0, "message": message, "finish_reason": generation.finish_reason, "logprobs": None}],
        "usage": generation.usage_body(),
    })


async def _drain(generation: Generation) -> None:
    async with closing(generation.events()) as events:
        async for _ in events:
            pass


async def _sse(state: ServerState, generation: Generation, head: dict[str, Any]) -> AsyncIterator[str]:
    """The answer as ``chat.completion.chunk`` events. When the client disconnects, the response closes this
    generator, and the ``closing`` blocks close the backend stream on the way out."""
    usage_field: dict[str, Any] = {"usage": None} if generation.call.include_usage else {}

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}
        return _event({**head, "object": "chat.completion.chunk", "choices": [choice], **usage_field})

    yield chunk({"role": "assistant", "content": ""})
    try:
        async with closing(generation.events()) as events:
            async for event in events:
                if isinstance(event, TextDelta):
                    yield chunk({"content": event.text})
                elif isinstance(event, ToolCall):
                    index = len(generation.tool_calls) - 1
                    yield chunk({"tool_calls": [_tool_call_body(event, index)]})
    except OmniError as exc:
        # The status line is long gone: the error travels as an event, which the OpenAI SDK raises as APIError.
        log.warning("chat completion stream failed: %s", exc)
        state.metrics.errors.labels("rest:chat").inc()
        yield _event(error_body(str(exc), type="server_error", code="backend_error"))
        return
    yield chunk({}, generation.finish_reason)
    if generation.call.include_usage:
        yield _event({**head, "object": "chat.completion.chunk", "choices": [], "usage": generation.usage_body()})
    yield "data: [DONE]\n\n"


def _event(data: dict[str, Any]) -> str:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"
