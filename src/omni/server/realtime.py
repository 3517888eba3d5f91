"""The Realtime protocol, sans-IO: client events in, engine calls made, server events out through ``send``.

One :class:`RealtimeProtocol` per connection. :meth:`receive` takes one client message (JSON text), validates it
with the ``openai`` package's own event model for its type, and drives the :class:`Session`; its
:class:`ServerEvents` (``realtime_events.py``) observes the session and turns engine events into server events.
The socket code (``connection.py``) only moves the text. A connection speaks the GA dialect, or the beta one
(``OpenAI-Beta: realtime=v1``): the beta names (``response.audio.delta``, ``conversation.item.created``, ...) and
session shape are used both ways.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import openai.types.beta.realtime as beta_types
import openai.types.realtime as ga_types
from pydantic import BaseModel, ValidationError

from omni.config import ServerSettings, VisionSettings
from omni.errors import ImageInputError
from omni.server.realtime_config import (
    ConfigProblem,
    RealtimeConfig,
    max_tokens,
    parse_tool_choice,
    parse_tools,
)
from omni.server.realtime_events import Requested, ServerEvent, ServerEvents
from omni.server.realtime_items import function_call_view, input_messages, message_images, message_text
from omni.server.realtime_mcp import ApprovalError, RealtimeMcp
from omni.session.context import Item, new_id
from omni.session.session import ReplyOverrides, Session, SessionOptions
from omni.types import ImageFrame, ToolCall
from omni.vision import image as images

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

log = logging.getLogger(__name__)



class ClientError(Exception):
    """A client event that cannot be carried out; becomes an ``error`` event, and the session goes on."""

    def __init__(self, message: str, *, code: str = "invalid_value", param: str | None = None) -> None:
        super().__init__(message)
        self.code, self.param = code, param


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
        vision: VisionSettings | None = None,
        client_mcp: bool = False,
    ) -> None:
        self.session = session
        self.config = config
        self.base_options = base_options
        self.beta = beta
        self.model = model
        self.limits = limits
        self.vision = vision or VisionSettings()
        self.id = new_id("sess")
        self.events = ServerEvents(session, send, beta=beta, config=lambda: self.config)
        self.on_event = self.events.on_event
        self.mcp = RealtimeMcp(session, self.events, allowed=client_mcp)
        """The MCP servers the client names (``client_mcp``: whether it may)."""
        self.send = self.events.send
        self.error = self.events.error
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
            models[1 if self.beta else 0].model_validate(_beta_images_as_text(data) if self.beta else data)
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
        self.mcp.check(config.mcp)
        self.config = config
        turn_before = (self.session.options.turn, self.session.options.turn_detection)
        self.session.configure(config.session_options(self.base_options))
        if (self.session.options.turn, self.session.options.turn_detection) != turn_before:
            self.events.hold_dropped()  # the session dropped held speech with its old turn detection
        self.send("session.updated", session=self.session_view())
        if config.mcp != self.mcp.entries:
            await self.mcp.update(config.mcp)  # listed after session.updated, as the Realtime API does
            self.config = replace(self.config, mcp=self.mcp.entries)  # those that failed are left out

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
        self.events.input_ms += chunk.duration * 1000

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
        if after is not None and after != "root" and not self.events.has_item(after):
            raise ClientError(f"previous_item_id {after!r} is not in the conversation", code="item_not_found",
                              param="previous_item_id")
        # "root" (insert first) is taken as "at the end"; a function call item is kept in its round's item
        after = None if after in (None, "root") else self.events.engine_id(after)
        item_id = entry.get("id") or new_id("item")
        if self.events.has_item(item_id):
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
            await self._create_message(entry, item_id, after)
        elif kind == "mcp_approval_response":
            try:
                await self.mcp.answer(entry, item_id)
            except ApprovalError as exc:
                raise ClientError(str(exc), code="item_not_found", param="item.approval_request_id") from exc
        else:
            raise ClientError(f"item type {kind!r} is not supported", param="item.type")

    async def _create_message(self, entry: dict[str, Any], item_id: str, after: str | None) -> None:
        role, content = entry.get("role"), entry.get("content") or []
        if message_images(content):
            if role != "user":
                raise ClientError("images are accepted in user messages only", param="item.content")
            frames = await self._decode_images(content)
            self.session.add_user_message(message_text(content), frames, after=after, item_id=item_id)
            return
        audio = [part for part in content if part.get("type") == "input_audio" and part.get("audio")]
        if role == "user" and audio:
            try:
                chunk = self.config.input_format.decode(audio[0]["audio"])
            except ValueError as exc:
                raise ClientError(str(exc), param="item.content.audio") from exc
            self.events.audio_items.add(item_id)
            self.session.add_user_audio(chunk, after=after, item_id=item_id)
            return
        text = message_text(content)
        if role == "user":
            self.session.add_user_text(text, after=after, item_id=item_id)
        elif role in ("system", "assistant"):
            self.session.add_item(Item(item_id, role, text), after)
        else:
            raise ClientError(f"message role {role!r} is not supported", param="item.role")

    async def _decode_images(self, content: list[dict[str, Any]]) -> list[ImageFrame]:
        found = message_images(content)
        limit = self.vision.max_images_per_message
        if len(found) > limit:
            raise ClientError(f"a message may hold at most {limit} images; this one has {len(found)}",
                              param="item.content")
        frames = []
        for index, url in found:
            try:
                # Decoding a large PNG takes a while: off the loop, which carries every session's audio.
                frames.append(await asyncio.to_thread(images.from_data_url, url, max_side=self.vision.max_side))
            except ImageInputError as exc:
                raise ClientError(str(exc), code="invalid_image", param=f"item.content[{index}].image_url") from exc
        return frames

    async def _item_retrieve(self, data: dict[str, Any]) -> None:
        call = self.events.call(data["item_id"])
        if call is not None:
            view = function_call_view(data["item_id"], call[1], "completed")
            self.send("conversation.item.retrieved", item=view)
            return
        item = self._item(data["item_id"])
        self.send("conversation.item.retrieved", item=self.events.view(item))

    async def _item_delete(self, data: dict[str, Any]) -> None:
        call = self.events.call(data["item_id"])
        if call is not None:  # one call out of its round's item; the item goes when nothing is left in it
            item, made = call
            item.tool_calls = tuple(c for c in item.tool_calls if c != made)
            if not item.tool_calls and not item.text:
                self.session.conversation.delete(item.id)
            self.events.forget_call(data["item_id"])
            self.send("conversation.item.deleted", item_id=data["item_id"])
            return
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
            if any(message_images(entry.get("content") or []) for entry in spec["input"]):
                raise ClientError("images in response.input are not looked at; add them to the conversation with "
                                  "conversation.item.create", param="response.input")
            overrides = replace(overrides, input=input_messages(spec["input"]))
        overrides = replace(overrides, output_audio=output_audio, generation=generation,
                            voice=str(voice) if voice and voice not in ("alloy",) else None,
                            out_of_band=conversation == "none")
        self.events.expect(Requested(output_audio and self.session.backends.tts is not None, conversation == "auto",
                                     spec.get("metadata"), limit))
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

    def _item(self, item_id: str) -> Item:
        try:
            return self.session.conversation.get(item_id)
        except KeyError:
            raise ClientError(f"no item with id {item_id!r} in the conversation", code="item_not_found",
                              param="item_id") from None


def _beta_images_as_text(data: dict[str, Any]) -> dict[str, Any]:
    """The beta event models predate images: an ``input_image`` part is validated as if it were text (it is
    accepted as in the GA protocol)."""
    item = data.get("item")
    if data.get("type") != "conversation.item.create" or not isinstance(item, dict):
        return data
    content = item.get("content")
    if not isinstance(content, list) or not any(isinstance(p, dict) and p.get("type") == "input_image"
                                                for p in content):
        return data
    parts = [{"type": "input_text", "text": ""} if isinstance(p, dict) and p.get("type") == "input_image" else p
             for p in content]
    return {**data, "item": {**item, "content": parts}}
