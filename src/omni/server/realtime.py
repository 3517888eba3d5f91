"""The Realtime protocol, sans-IO: client events in, engine calls made, server events out through ``send``.

One :class:`RealtimeProtocol` per connection. :meth:`receive` takes one client message (JSON text), validates it
with the ``openai`` package's own event model for its type, and drives the :class:`Session`; :meth:`on_event` is a
session observer that turns engine events into server events. The socket code (``connection.py``) only moves
the text. A connection speaks the GA dialect, or the beta one (``OpenAI-Beta: realtime=v1``): the beta names
(``response.audio.delta``, ``conversation.item.created``, ...) and session shape are used both ways.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

import openai.types.beta.realtime as beta_types
import openai.types.realtime as ga_types
from pydantic import BaseModel, ValidationError

from omni.config import ServerSettings
from omni.events import (
    InputCleared,
    InputCommitted,
    ItemAdded,
    ReplyAudio,
    ReplyDone,
    ReplyStarted,
    ReplyTextDelta,
    SessionEvent,
    SpeechStarted,
    SpeechStopped,
    StageError,
    ToolCallRequested,
    TranscriptionDone,
)
from omni.server.realtime_config import (
    ConfigProblem,
    RealtimeConfig,
    max_tokens,
    parse_tool_choice,
    parse_tools,
)
from omni.server.realtime_items import function_call_view, input_messages, item_view, message_text
from omni.session.context import Item, new_id
from omni.session.session import ReplyOverrides, Session, SessionOptions
from omni.types import AudioChunk, ToolCall

ServerEvent = dict[str, Any]

_CLIENT_EVENTS: dict[str, tuple[type[BaseModel], type[BaseModel]]] = {
    "session.update": (ga_types.SessionUpdateEvent, beta_types.SessionUpdateEvent),
    "input_audio_buffer.append": (ga_types.InputAudioBufferAppendEvent, beta_types.InputAudioBufferAppendEvent),
    "input_audio_buffer.commit": (ga_types.InputAudioBufferCommitEvent, beta_types.InputAudioBufferCommitEvent),
    "input_audio_buffer.clear": (ga_types.InputAudioBufferClearEvent, beta_types.InputAudioBufferClearEvent),
    "conversation.item.create": (ga_types.ConversationItemCreateEvent, beta_types.ConversationItemCreateEvent),
    "conversation.item.retrieve": (ga_types.ConversationItemRetrieveEvent,
                                   beta_types.ConversationItemRetrieveEvent),
    "conversation.item.delete": (ga_types.ConversationItemDeleteEvent, beta_types.ConversationItemDeleteEvent),
    "conversation.item.truncate": (ga_types.ConversationItemTruncateEvent,
                                   beta_types.ConversationItemTruncateEvent),
    "response.create": (ga_types.ResponseCreateEvent, beta_types.ResponseCreateEvent),
    "response.cancel": (ga_types.ResponseCancelEvent, beta_types.ResponseCancelEvent),
    "output_audio_buffer.clear": (ga_types.OutputAudioBufferClearEvent, ga_types.OutputAudioBufferClearEvent),
}

CLIENT_EVENT_TYPES = frozenset(_CLIENT_EVENTS)

_BETA_NAMES = {
    "response.output_text.delta": "response.text.delta",
    "response.output_text.done": "response.text.done",
    "response.output_audio.delta": "response.audio.delta",
    "response.output_audio.done": "response.audio.done",
    "response.output_audio_transcript.delta": "response.audio_transcript.delta",
    "response.output_audio_transcript.done": "response.audio_transcript.done",
    "conversation.item.added": "conversation.item.created",
}

log = logging.getLogger(__name__)

AUDIO_DELTA_SECONDS = 0.2
_event_ids = itertools.count(1)


class ClientError(Exception):
    """A client event that cannot be carried out; becomes an ``error`` event, and the session goes on."""

    def __init__(self, message: str, *, code: str = "invalid_value", param: str | None = None) -> None:
        super().__init__(message)
        self.code, self.param = code, param


@dataclass
class _Response:
    """What the protocol tracks of one response while it streams."""

    id: str
    output_audio: bool
    in_conversation: bool
    metadata: Any = None
    max_output_tokens: int | None = None
    message_id: str | None = None
    """The assistant message item open now (created at its first text or audio)."""
    output: list[dict[str, Any]] = field(default_factory=list)
    audio_ms: float = 0.0


@dataclass
class _Requested:
    """What a ``response.create`` asked for, waiting for the engine's ReplyStarted."""

    output_audio: bool
    in_conversation: bool
    metadata: Any
    max_output_tokens: int | None


class RealtimeProtocol:
    def __init__(
        self,
        session: Session,
        config: RealtimeConfig,
        base_options: SessionOptions,
        *,
        send: Callable[[ServerEvent], None],
        beta: bool,
        model: str,
        limits: ServerSettings,
    ) -> None:
        self.session = session
        self.config = config
        self.base_options = base_options
        self.send_raw = send
        self.beta = beta
        self.model = model
        self.limits = limits
        self.id = new_id("sess")
        self._responses: dict[str, _Response] = {}
        self._requested: _Requested | None = None
        self._speech_item: str | None = None
        self._audio_items: set[str] = set()
        """User items that came as audio and assistant items that were spoken."""
        self._handlers: dict[str, Callable[[dict[str, Any]], Awaitable[None]]] = {
            "session.update": self._session_update,
            "input_audio_buffer.append": self._append,
            "input_audio_buffer.commit": self._commit,
            "input_audio_buffer.clear": self._clear,
            "conversation.item.create": self._item_create,
            "conversation.item.retrieve": self._item_retrieve,
            "conversation.item.delete": self._item_delete,
            "conversation.item.truncate": self._item_truncate,
            "response.create": self._response_create,
            "response.cancel": self._response_cancel,
            "output_audio_buffer.clear": self._output_clear,
        }
        session.configure(config.session_options(base_options))

    # ---- out ------------------------------------------------------------------------------------------------

    def send(self, kind: str, **fields: Any) -> None:
        name = _BETA_NAMES.get(kind, kind) if self.beta else kind
        self.send_raw({"type": name, "event_id": f"event_{next(_event_ids):08d}", **fields})

    def error(self, message: str, *, code: str, param: str | None = None, event_id: str | None = None,
              kind: str = "invalid_request_error") -> None:
        self.send("error", error={"type": kind, "code": code, "message": message, "param": param,
                                  "event_id": event_id})

    def session_view(self) -> dict[str, Any]:
        return self.config.as_beta(self.id, self.model) if self.beta else self.config.as_ga(self.id, self.model)

    def start(self) -> None:
        self.send("session.created", session=self.session_view())

    # ---- in -------------------------------------------------------------------------------------------------

    async def receive(self, text: str) -> None:
        """Handle one client message; every problem with it becomes an ``error`` event."""
        try:
            data = json.loads(text)
        except ValueError as exc:
            self.error(f"the message is not valid JSON: {exc}", code="invalid_json")
            return
        if not isinstance(data, dict):
            self.error("a client event must be a JSON object", code="invalid_event")
            return
        event_id = data.get("event_id") if isinstance(data.get("event_id"), str) else None
        kind = data.get("type")
        models = _CLIENT_EVENTS.get(kind) if isinstance(kind, str) else None
        if models is None or not isinstance(kind, str):
            self.error(f"unknown client event type {kind!r}", code="invalid_event_type", param="type",
                       event_id=event_id)
            return
        try:
            models[1 if self.beta else 0].model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            param = ".".join(str(p) for p in first["loc"])
            self.error(f"{kind}: {param}: {first['msg']}", code="invalid_value", param=param, event_id=event_id)
            return
        try:
            await self._handlers[kind](data)
        except ClientError as exc:
            self.error(f"{kind}: {exc}", code=exc.code, param=exc.param, event_id=event_id)
        except ConfigProblem as exc:
            self.error(f"{kind}: {exc}", code="invalid_value", param=exc.param, event_id=event_id)
        except Exception:  # a bug of ours must not end the client's session; the log has the traceback
            log.exception("%s failed", kind)
            self.error(f"{kind}: internal error", code="internal_error", event_id=event_id, kind="server_error")

    async def _session_update(self, data: dict[str, Any]) -> None:
        update = data.get("session") or {}
        if not self.beta and update.get("type") not in (None, "realtime"):
            raise ClientError("only realtime sessions are supported here", param="session.type")
        config = self.config.updated_beta(update) if self.beta else self.config.updated_ga(update)
        self.config = config
        self.session.configure(config.session_options(self.base_options))
        self.send("session.updated", session=self.session_view())

    async def _append(self, data: dict[str, Any]) -> None:
        try:
            chunk = self.config.input_format.decode(data["audio"])
        except ValueError as exc:
            raise ClientError(str(exc), param="audio") from exc
        if self.session.buffered_input_seconds + chunk.duration > self.limits.max_audio_buffer_seconds:
            raise ClientError(
                f"the input audio buffer is full ({self.limits.max_audio_buffer_seconds:.0f} s): commit or clear it",
                code="input_audio_buffer_full", param="audio")
        self.session.push_audio(chunk)

    async def _commit(self, data: dict[str, Any]) -> None:
        if self.session.buffered_input_seconds < 0.1:
            raise ClientError("the input audio buffer holds less than 100 ms of audio",
                              code="input_audio_buffer_commit_empty")
        self.session.commit_input(respond=False)

    async def _clear(self, data: dict[str, Any]) -> None:
        self.session.clear_input()

    async def _item_create(self, data: dict[str, Any]) -> None:
        entry = data["item"]
        after = data.get("previous_item_id")
        if after is not None and after != "root" and not self._has_item(after):
            raise ClientError(f"previous_item_id {after!r} is not in the conversation", code="item_not_found",
                              param="previous_item_id")
        after = None if after == "root" else after  # "root" (insert first) is taken as "at the end"
        item_id = entry.get("id") or new_id("item")
        if self._has_item(item_id):
            raise ClientError(f"an item with id {item_id!r} exists already", param="item.id")
        kind = entry.get("type", "message")
        if kind == "function_call_output":
            self.session.add_tool_result(str(entry.get("call_id", "")), str(entry.get("output", "")), after=after,
                                         item_id=item_id)
        elif kind == "function_call":
            call = ToolCall(str(entry.get("call_id") or new_id("call")), str(entry.get("name", "")),
                            str(entry.get("arguments") or "{}"))
            self.session.add_item(Item(item_id, "assistant", tool_calls=(call,)), after)
        elif kind == "message":
            self._create_message(entry, item_id, after)
        else:
            raise ClientError(f"item type {kind!r} is not supported", param="item.type")

    def _create_message(self, entry: dict[str, Any], item_id: str, after: str | None) -> None:
        role, content = entry.get("role"), entry.get("content") or []
        audio = [part for part in content if part.get("type") == "input_audio" and part.get("audio")]
        if role == "user" and audio:
            try:
                chunk = self.config.input_format.decode(audio[0]["audio"])
            except ValueError as exc:
                raise ClientError(str(exc), param="item.content.audio") from exc
            self._audio_items.add(item_id)
            self.session.add_user_audio(chunk, after=after, item_id=item_id)
            return
        text = message_text(content)
        if role == "user":
            self.session.add_user_text(text, after=after, item_id=item_id)
        elif role in ("system", "assistant"):
            self.session.add_item(Item(item_id, role, text), after)
        else:
            raise ClientError(f"message role {role!r} is not supported", param="item.role")

    async def _item_retrieve(self, data: dict[str, Any]) -> None:
        item = self._item(data["item_id"])
        self.send("conversation.item.retrieved", item=self._view(item))

    async def _item_delete(self, data: dict[str, Any]) -> None:
        item = self._item(data["item_id"])
        self.session.conversation.delete(item.id)
        self.send("conversation.item.deleted", item_id=item.id)

    async def _item_truncate(self, data: dict[str, Any]) -> None:
        item = self._item(data["item_id"])
        current = self.session.current
        if current is not None and current.item_id == item.id:
            await self.session.interrupt()
        try:
            self.session.truncate(item.id, int(data["audio_end_ms"]))
        except KeyError as exc:
            raise ClientError(f"item {item.id!r} is not an assistant item with audio", param="item_id") from exc
        except ValueError as exc:
            raise ClientError(str(exc), param="audio_end_ms") from exc
        self.send("conversation.item.truncated", item_id=item.id, content_index=data["content_index"],
                  audio_end_ms=data["audio_end_ms"])

    async def _response_create(self, data: dict[str, Any]) -> None:
        spec = data.get("response") or {}
        overrides = ReplyOverrides()
        modalities = spec.get("output_modalities", spec.get("modalities"))
        output_audio = self.config.output_audio if modalities is None else "audio" in modalities
        if spec.get("instructions") is not None:
            overrides = replace(overrides, instructions=str(spec["instructions"]))
        if "tools" in spec:
            overrides = replace(overrides, tools=parse_tools(spec["tools"] or [], "response.tools"))
        limit = self.config.max_output_tokens
        tokens_field = "max_output_tokens" if "max_output_tokens" in spec else "max_response_output_tokens"
        if tokens_field in spec:
            limit = max_tokens(spec[tokens_field], f"response.{tokens_field}")
        generation = self.config.generation(self.session.options.generation)
        if "tool_choice" in spec:
            generation = replace(generation, tool_choice=parse_tool_choice(spec["tool_choice"], "response.tool_choice"))
        if spec.get("temperature") is not None:
            generation = replace(generation, temperature=float(spec["temperature"]))
        generation = replace(generation, max_tokens=limit or generation.max_tokens)
        voice = (spec.get("audio") or {}).get("output", {}).get("voice") or spec.get("voice")
        conversation = spec.get("conversation", "auto")
        if conversation not in ("auto", "none"):
            raise ClientError("conversation must be auto or none", param="response.conversation")
        if spec.get("input") is not None:
            overrides = replace(overrides, input=input_messages(spec["input"]))
        overrides = replace(overrides, output_audio=output_audio, generation=generation,
                            voice=str(voice) if voice and voice not in ("alloy",) else None,
                            out_of_band=conversation == "none")
        self._requested = _Requested(output_audio and self.session.backends.tts is not None, conversation == "auto",
                                     spec.get("metadata"), limit)
        await self.session.create_reply(overrides=overrides)

    async def _response_cancel(self, data: dict[str, Any]) -> None:
        current = self.session.current
        wanted = data.get("response_id")
        if current is None or current.done.is_set() or (wanted and wanted != current.reply_id):
            raise ClientError("there is no active response to cancel" + (f" with id {wanted!r}" if wanted else ""),
                              code="response_cancel_not_active")
        await self.session.cancel()

    async def _output_clear(self, data: dict[str, Any]) -> None:
        current = self.session.current
        if current is not None and not current.done.is_set():
            await self.session.interrupt()
        self.send("output_audio_buffer.cleared", response_id=current.reply_id if current else None)

    def _has_item(self, item_id: str) -> bool:
        return any(item.id == item_id for item in self.session.conversation.items)

    def _item(self, item_id: str) -> Item:
        try:
            return self.session.conversation.get(item_id)
        except KeyError:
            raise ClientError(f"no item with id {item_id!r} in the conversation", code="item_not_found",
                              param="item_id") from None

    def _view(self, item: Item) -> dict[str, Any]:
        return item_view(item, audio=item.id in self._audio_items, beta=self.beta)

    def _previous_id(self, item_id: str) -> str | None:
        ids = [item.id for item in self.session.conversation.items]
        index = ids.index(item_id) if item_id in ids else len(ids)
        return ids[index - 1] if index > 0 else None

    # ---- engine events → server events ----------------------------------------------------------------------

    def on_event(self, event: SessionEvent) -> None:
        if isinstance(event, SpeechStarted):
            self._speech_item = event.item_id
            self.send("input_audio_buffer.speech_started", audio_start_ms=event.audio_start_ms,
                      item_id=event.item_id)
        elif isinstance(event, SpeechStopped):
            self.send("input_audio_buffer.speech_stopped", audio_end_ms=event.audio_end_ms,
                      item_id=self._speech_item or "")
        elif isinstance(event, InputCommitted):
            self._audio_items.add(event.item_id)
            previous = self._previous_id(event.item_id)
            self.send("input_audio_buffer.committed", previous_item_id=previous, item_id=event.item_id)
            self._item_added(event.item_id)
        elif isinstance(event, InputCleared):
            self.send("input_audio_buffer.cleared")
        elif isinstance(event, TranscriptionDone):
            self._transcribed(event)
        elif isinstance(event, ItemAdded):
            self._item_added(event.item_id, done=event.role != "user" or event.item_id not in self._audio_items)
        elif isinstance(event, ReplyStarted):
            self._response_started(event)
        elif isinstance(event, ReplyTextDelta):
            response = self._responses[event.reply_id]
            self._open_message(response, event.item_id)
            kind = "response.output_audio_transcript.delta" if response.output_audio else "response.output_text.delta"
            self.send(kind, **self._where(response), delta=event.text)
        elif isinstance(event, ReplyAudio):
            response = self._responses[event.reply_id]
            self._open_message(response, event.item_id)
            response.audio_ms += event.chunk.duration * 1000
            # A sentence of speech arrives at once; small deltas let a client's player start and cut cleanly.
            step = round(AUDIO_DELTA_SECONDS * event.chunk.sample_rate)
            for start in range(0, len(event.chunk.samples), step):
                piece = AudioChunk(event.chunk.samples[start:start + step], event.chunk.sample_rate)
                self.send("response.output_audio.delta", **self._where(response),
                          delta=self.config.output_format.encode(piece))
        elif isinstance(event, ToolCallRequested):
            self._function_call(self._responses[event.reply_id], event.call)
        elif isinstance(event, ReplyDone):
            self._response_done(event)
        elif isinstance(event, StageError):
            self.error(f"{event.stage} failed: {event.message}", code=f"{event.stage}_failed", kind="server_error")

    def _item_added(self, item_id: str, *, done: bool = False) -> None:
        try:
            item = self.session.conversation.get(item_id)
        except KeyError:
            return
        self.send("conversation.item.added", previous_item_id=self._previous_id(item_id), item=self._view(item))
        if done and not self.beta:
            self.send("conversation.item.done", previous_item_id=self._previous_id(item_id), item=self._view(item))

    def _transcribed(self, event: TranscriptionDone) -> None:
        text = event.transcript.text.strip()
        if self.config.transcription:
            if text:
                self.send("conversation.item.input_audio_transcription.delta", item_id=event.item_id,
                          content_index=0, delta=text)
            self.send("conversation.item.input_audio_transcription.completed", item_id=event.item_id,
                      content_index=0, transcript=text,
                      usage={"type": "duration", "seconds": round(event.seconds, 3)})
        if not self._has_item(event.item_id):
            self.send("conversation.item.deleted", item_id=event.item_id)  # nothing was said: no turn
        elif not self.beta:
            item = self.session.conversation.get(event.item_id)
            self.send("conversation.item.done", previous_item_id=self._previous_id(item.id), item=self._view(item))

    def _response_started(self, event: ReplyStarted) -> None:
        requested, self._requested = self._requested, None
        if requested is None:  # a reply the engine started itself, at the end of a turn
            requested = _Requested(self.session.options.output_audio and self.session.backends.tts is not None,
                                   True, None, self.config.max_output_tokens)
        response = _Response(event.reply_id, requested.output_audio, requested.in_conversation,
                             requested.metadata, requested.max_output_tokens)
        self._responses[event.reply_id] = response
        self.send("response.created", response=self._response_view(response, "in_progress"))

    def _open_message(self, response: _Response, item_id: str) -> None:
        if response.message_id == item_id:
            return
        self._close_message(response, "completed")
        response.message_id = item_id
        if response.output_audio:
            self._audio_items.add(item_id)
        item = self._message_view(response, item_id, "", "in_progress")
        item["content"] = []
        response.output.append(item)
        self.send("response.output_item.added", response_id=response.id, output_index=len(response.output) - 1,
                  item=item)
        if response.in_conversation:
            self.send("conversation.item.added", previous_item_id=self._previous_id(item_id), item=item)
        self.send("response.content_part.added", **self._where(response), part=self._part(response, ""))

    def _close_message(self, response: _Response, status: str, text: str | None = None) -> None:
        item_id = response.message_id
        if item_id is None:
            return
        response.message_id = None
        if text is None:
            text = self._message_text(item_id)
        where = {"response_id": response.id, "item_id": item_id, "output_index": len(response.output) - 1,
                 "content_index": 0}
        if response.output_audio:
            self.send("response.output_audio.done", **where)
            self.send("response.output_audio_transcript.done", **where, transcript=text)
        else:
            self.send("response.output_text.done", **where, text=text)
        self.send("response.content_part.done", **where, part=self._part(response, text))
        item = self._message_view(response, item_id, text, status)
        response.output[-1] = item
        self.send("response.output_item.done", response_id=response.id, output_index=len(response.output) - 1,
                  item=item)
        if response.in_conversation and not self.beta:
            self.send("conversation.item.done", previous_item_id=self._previous_id(item_id), item=item)

    def _message_text(self, item_id: str) -> str:
        try:
            return self.session.conversation.get(item_id).text
        except KeyError:
            current = self.session.current
            return current.text if current is not None and current.item_id == item_id else ""

    def _function_call(self, response: _Response, call: ToolCall) -> None:
        self._close_message(response, "completed")
        item_id = new_id("item")
        added = function_call_view(item_id, replace(call, arguments=""), "in_progress")
        response.output.append(added)
        index = len(response.output) - 1
        self.send("response.output_item.added", response_id=response.id, output_index=index, item=added)
        where = {"response_id": response.id, "item_id": item_id, "output_index": index, "call_id": call.id}
        self.send("response.function_call_arguments.delta", **where, delta=call.arguments)
        self.send("response.function_call_arguments.done", **where, name=call.name, arguments=call.arguments)
        done = function_call_view(item_id, call, "completed")
        response.output[index] = done
        self.send("response.output_item.done", response_id=response.id, output_index=index, item=done)

    def _response_done(self, event: ReplyDone) -> None:
        response = self._responses.pop(event.reply_id, None)
        if response is None:
            return
        ended = "completed" if event.status == "completed" else "incomplete"
        self._close_message(response, ended, event.heard_text if response.output_audio else event.text)
        status, details = _status(event, response)
        view = self._response_view(response, status, details)
        usage = event.usage
        if usage is not None:
            view["usage"] = {
                "total_tokens": usage.prompt_tokens + usage.completion_tokens,
                "input_tokens": usage.prompt_tokens, "output_tokens": usage.completion_tokens,
                "input_token_details": {"text_tokens": usage.prompt_tokens, "audio_tokens": 0, "cached_tokens": 0},
                "output_token_details": {"text_tokens": usage.completion_tokens, "audio_tokens": 0},
            }
        self.send("response.done", response=view)

    def _response_view(self, response: _Response, status: str, details: dict[str, Any] | None = None
                       ) -> dict[str, Any]:
        modalities = ["audio"] if response.output_audio else ["text"]
        view: dict[str, Any] = {
            "id": response.id, "object": "realtime.response", "status": status, "status_details": details,
            "output": list(response.output), "metadata": response.metadata, "usage": None,
            "conversation_id": "auto" if response.in_conversation else None,
            "max_output_tokens": response.max_output_tokens or "inf",
        }
        if self.beta:
            view["modalities"] = ["audio", "text"] if response.output_audio else ["text"]
        else:
            view["output_modalities"] = modalities
            view["audio"] = {"output": {"format": self.config.output_format.as_dict(), "voice": self.config.voice}}
        return view

    def _message_view(self, response: _Response, item_id: str, text: str, status: str) -> dict[str, Any]:
        return {"id": item_id, "object": "realtime.item", "type": "message", "role": "assistant", "status": status,
                "content": [self._part(response, text, in_item=True)]}

    def _part(self, response: _Response, text: str, *, in_item: bool = False) -> dict[str, Any]:
        """A content part: ``audio``/``text`` in content_part events; inside a GA item, ``output_audio``/...."""
        prefix = "output_" if in_item and not self.beta else ""
        if response.output_audio:
            return {"type": f"{prefix}audio", "transcript": text}
        return {"type": f"{prefix}text", "text": text}

    def _where(self, response: _Response) -> dict[str, Any]:
        return {"response_id": response.id, "item_id": response.message_id, "output_index": len(response.output) - 1,
                "content_index": 0}


def _status(event: ReplyDone, response: _Response) -> tuple[str, dict[str, Any] | None]:
    if event.status == "completed":
        usage = event.usage
        limit = response.max_output_tokens
        if limit is not None and usage is not None and usage.completion_tokens >= limit:
            return "incomplete", {"type": "incomplete", "reason": "max_output_tokens"}
        return "completed", None
    if event.status == "interrupted":
        return "cancelled", {"type": "cancelled", "reason": "turn_detected"}
    if event.status == "cancelled":
        return "cancelled", {"type": "cancelled", "reason": "client_cancelled"}
    return "failed", {"type": "failed", "error": {"type": "server_error", "code": "reply_failed",
                                                  "message": event.error or "the reply failed"}}
