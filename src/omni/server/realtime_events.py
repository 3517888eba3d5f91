"""Engine events → Realtime server events: the response lifecycle (items, content parts, deltas, ``response.done``),
input audio and transcription events, conversation item events, in the connection's dialect.

Omni's turn events, for a session that asked for them (``omni_turn_events``): speech during a reply that is held
until it is known to be a turn is ``omni.input_audio_buffer.speech_held`` (a player that can pause, pauses), and
held speech that was no turn is ``omni.input_audio_buffer.speech_ignored`` (it resumes); held speech that is a turn
is the usual ``input_audio_buffer.speech_started`` (it flushes). Every ``speech_held`` is answered by one of the two:
a hold the client itself ends (``input_audio_buffer.clear``, or a ``session.update`` that changes turn detection)
is ``speech_ignored`` with an empty transcript. Same names in both dialects."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from omni.events import (
    ImagesSeen,
    InputCleared,
    InputCommitted,
    ItemAdded,
    ReplyAudio,
    ReplyDone,
    ReplyStarted,
    ReplyTextDelta,
    SessionEvent,
    SpeechHeld,
    SpeechIgnored,
    SpeechStarted,
    SpeechStopped,
    StageError,
    ToolCallDone,
    ToolCallRequested,
    TranscriptionDone,
)
from omni.server.realtime_config import RealtimeConfig
from omni.server.realtime_items import (
    function_call_view,
    item_view,
    mcp_approval_request_view,
    mcp_call_view,
)
from omni.session.context import Item, new_id
from omni.session.session import Session
from omni.types import AudioChunk, ToolCall

ServerEvent = dict[str, Any]

_BETA_NAMES = {
    "response.output_text.delta": "response.text.delta",
    "response.output_text.done": "response.text.done",
    "response.output_audio.delta": "response.audio.delta",
    "response.output_audio.done": "response.audio.done",
    "response.output_audio_transcript.delta": "response.audio_transcript.delta",
    "response.output_audio_transcript.done": "response.audio_transcript.done",
    "conversation.item.added": "conversation.item.created",
}

SPEECH_HELD = "omni.input_audio_buffer.speech_held"
SPEECH_IGNORED = "omni.input_audio_buffer.speech_ignored"

AUDIO_DELTA_SECONDS = 0.2
_event_ids = itertools.count(1)


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


@dataclass(frozen=True)
class CallItem:
    """A function call the model made, shown to the client as an item of its own: the Realtime API has one item per
    call, the engine keeps a round's calls in one assistant item (``item_id``)."""

    item_id: str
    call: ToolCall


@dataclass
class Requested:
    """What a ``response.create`` asked for, waiting for the engine's ReplyStarted."""

    output_audio: bool
    in_conversation: bool
    metadata: Any
    max_output_tokens: int | None


class ServerEvents:
    """Sends server events for one connection; :meth:`on_event` is the session observer."""

    def __init__(self, session: Session, send: Callable[[ServerEvent], None], *, beta: bool,
                 config: Callable[[], RealtimeConfig]) -> None:
        self.session = session
        self.send_raw = send
        self.beta = beta
        self.current_config = config
        self._responses: dict[str, _Response] = {}
        self._requested: Requested | None = None
        self._speech_item: str | None = None
        self._held: int | None = None
        """Where held speech began (``SpeechHeld``), until it is known to be a turn or not."""
        self.input_ms = 0.0
        """The input audio appended so far, in ms: the timeline of ``audio_start_ms`` / ``audio_end_ms``."""
        self.audio_items: set[str] = set()
        """User items that came as audio and assistant items that were spoken."""
        self.call_items: dict[str, CallItem] = {}
        """The function call items the client was shown, by their ids, in the order they were made."""
        self._shown: set[str] = set()
        """Ids of the engine's items the client was told of (``conversation.item.added``)."""
        self.mcp_label: Callable[[str], str | None] = lambda name: None
        """The label of the client's MCP server a tool is of, else None (set by ``realtime_mcp``)."""
        self.approvals: dict[str, ToolCall] = {}
        """MCP calls waiting for the client's approval, by the id of their ``mcp_approval_request`` item."""

    @property
    def config(self) -> RealtimeConfig:
        return self.current_config()

    def send(self, kind: str, **fields: Any) -> None:
        name = _BETA_NAMES.get(kind, kind) if self.beta else kind
        self.send_raw({"type": name, "event_id": f"event_{next(_event_ids):08d}", **fields})

    def error(self, message: str, *, code: str, param: str | None = None, event_id: str | None = None,
              kind: str = "invalid_request_error") -> None:
        self.send("error", error={"type": kind, "code": code, "message": message, "param": param,
                                  "event_id": event_id})

    def expect(self, requested: Requested) -> None:
        """The next reply the engine starts is this ``response.create``'s."""
        self._requested = requested

    def has_item(self, item_id: str) -> bool:
        return any(item.id == item_id for item in self.session.conversation.items) or self.call(item_id) is not None

    def call(self, item_id: str) -> tuple[Item, ToolCall] | None:
        """The engine's item and the call behind a function call item the client was shown (None for other ids, and
        for a call whose item has left the conversation)."""
        shown = self.call_items.get(item_id)
        if shown is None:
            return None
        try:
            return self.session.conversation.get(shown.item_id), shown.call
        except KeyError:
            del self.call_items[item_id]  # its round's item was deleted: the id is unknown from now on
            return None

    def forget_call(self, item_id: str) -> None:
        self.call_items.pop(item_id, None)

    def engine_id(self, item_id: str) -> str:
        """The engine's item for an id the client knows: a function call item is kept in its round's item."""
        found = self.call(item_id)
        return found[0].id if found is not None else item_id

    def view(self, item: Item) -> dict[str, Any]:
        return item_view(item, audio=item.id in self.audio_items, beta=self.beta)

    def _previous_id(self, item_id: str) -> str | None:
        """The item before ``item_id`` as the client knows the conversation: the nearest earlier item it was shown.
        A round's function calls count as their own items; the engine's items the client never saw (a round's item
        that only holds calls, a built-in tool's result) are skipped, since a client places an item after its
        ``previous_item_id`` and has no place for an id it does not know (the Agents SDK puts it last)."""
        items = self.session.conversation.items
        ids = [item.id for item in items]
        index = ids.index(item_id) if item_id in ids else len(ids)
        for item in reversed(items[:index]):
            previous = self._last_shown_of(item.id)
            if previous is not None:
                return previous
        return None

    def _last_shown_of(self, engine_id: str) -> str | None:
        """The last item the client was shown of the engine's item ``engine_id``: its last function call, else the
        item itself."""
        calls = [view for view, shown in list(self.call_items.items())
                 if shown.item_id == engine_id and self.call(view) is not None]
        if calls:
            return calls[-1]
        return engine_id if engine_id in self._shown else None

    def hold_dropped(self) -> None:
        """The client ended held speech itself (cleared the input, changed turn detection): the reply goes on."""
        if self._held is not None:
            self._ignored(self._held, round(self.input_ms), "")

    def _ignored(self, audio_start_ms: int, audio_end_ms: int, text: str) -> None:
        self._held = None
        if self.config.turn_events:
            self.send(SPEECH_IGNORED, audio_start_ms=audio_start_ms, audio_end_ms=audio_end_ms, transcript=text)

    def on_event(self, event: SessionEvent) -> None:
        if isinstance(event, SpeechStarted):
            self._speech_item, self._held = event.item_id, None
            self.send("input_audio_buffer.speech_started", audio_start_ms=event.audio_start_ms,
                      item_id=event.item_id)
        elif isinstance(event, SpeechHeld):
            self._held = event.audio_start_ms
            if self.config.turn_events:
                self.send(SPEECH_HELD, audio_start_ms=event.audio_start_ms)
        elif isinstance(event, SpeechIgnored):
            self._ignored(event.audio_start_ms, event.audio_end_ms, event.text)
        elif isinstance(event, SpeechStopped):
            self.send("input_audio_buffer.speech_stopped", audio_end_ms=event.audio_end_ms,
                      item_id=self._speech_item or "")
        elif isinstance(event, InputCommitted):
            self.audio_items.add(event.item_id)
            previous = self._previous_id(event.item_id)
            self.send("input_audio_buffer.committed", previous_item_id=previous, item_id=event.item_id)
            self._item_added(event.item_id)
        elif isinstance(event, InputCleared):
            self.hold_dropped()
            self.send("input_audio_buffer.cleared")
        elif isinstance(event, TranscriptionDone):
            self._transcribed(event)
        elif isinstance(event, ItemAdded):
            self._item_added(event.item_id)
        elif isinstance(event, ImagesSeen):
            self._item_done(event.item_id)
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
        elif isinstance(event, ToolCallRequested | ToolCallDone) and self.mcp_label(event.call.name) is not None:
            self._mcp_item(event)
        elif isinstance(event, ToolCallRequested):
            self._function_call(self._responses[event.reply_id], event.call)
        elif isinstance(event, ReplyDone):
            self._response_done(event)
        elif isinstance(event, StageError):
            self.error(f"{event.stage} failed: {event.message}", code=f"{event.stage}_failed", kind="server_error")

    def _item_added(self, item_id: str) -> None:
        """``conversation.item.added``, and ``done`` with it when the item is complete already (one still being
        transcribed or looked at is done later)."""
        try:
            item = self.session.conversation.get(item_id)
        except KeyError:
            return
        self._shown.add(item_id)
        self.send("conversation.item.added", previous_item_id=self._previous_id(item_id), item=self.view(item))
        if item.status == "completed":
            self._item_done(item_id)

    def _item_done(self, item_id: str) -> None:
        if self.beta or not self.has_item(item_id):
            return
        item = self.session.conversation.get(item_id)
        self.send("conversation.item.done", previous_item_id=self._previous_id(item_id), item=self.view(item))

    def _transcribed(self, event: TranscriptionDone) -> None:
        text = event.transcript.text.strip()
        if self.config.transcription:
            if text:
                self.send("conversation.item.input_audio_transcription.delta", item_id=event.item_id,
                          content_index=0, delta=text)
            self.send("conversation.item.input_audio_transcription.completed", item_id=event.item_id,
                      content_index=0, transcript=text,
                      usage={"type": "duration", "seconds": round(event.seconds, 3)})
        if not self.has_item(event.item_id):
            self.send("conversation.item.deleted", item_id=event.item_id)  # nothing was said: no turn
        else:
            self._item_done(event.item_id)

    def _response_started(self, event: ReplyStarted) -> None:
        requested, self._requested = self._requested, None
        if requested is None:  # a reply the engine started itself, at the end of a turn
            requested = Requested(self.session.options.output_audio and self.session.backends.tts is not None,
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
            self.audio_items.add(item_id)
        item = self._message_view(response, item_id, "", "in_progress")
        item["content"] = []
        response.output.append(item)
        self.send("response.output_item.added", response_id=response.id, output_index=len(response.output) - 1,
                  item=item)
        if response.in_conversation:
            self._shown.add(item_id)
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
        current = self.session.current
        # The call is in the conversation as part of the reply's item (the session records the round's calls there
        # once it has told them); the client gets it as an item of its own, which it can retrieve, delete and name
        # as a previous_item_id.
        in_conversation = response.in_conversation and current is not None and current.reply_id == response.id
        previous = None
        if in_conversation and current is not None:
            previous = self._last_shown_of(current.item_id) or self._previous_id(current.item_id)
            self.call_items[item_id] = CallItem(current.item_id, call)
            self.send("conversation.item.added", previous_item_id=previous, item=added)
        where = {"response_id": response.id, "item_id": item_id, "output_index": index, "call_id": call.id}
        self.send("response.function_call_arguments.delta", **where, delta=call.arguments)
        self.send("response.function_call_arguments.done", **where, name=call.name, arguments=call.arguments)
        done = function_call_view(item_id, call, "completed")
        response.output[index] = done
        self.send("response.output_item.done", response_id=response.id, output_index=index, item=done)
        if in_conversation and not self.beta:
            self.send("conversation.item.done", previous_item_id=previous, item=done)

    def _mcp_item(self, event: ToolCallRequested | ToolCallDone) -> None:
        """A call to a tool of the client's MCP server: run here (ToolCallDone), an ``mcp_call`` item with its output
        or error; waiting for approval (ToolCallRequested), an ``mcp_approval_request`` item, which ends the
        response. These items are not the engine's (the call and its result are kept in its own items)."""
        response = self._responses.get(event.reply_id)
        label = self.mcp_label(event.call.name)
        if response is None or label is None:
            return
        self._close_message(response, "completed")
        if isinstance(event, ToolCallRequested):
            item_id = new_id("mcpr")
            self.approvals[item_id] = event.call
            request = mcp_approval_request_view(item_id, event.call, label)
            self._server_item_done(response, self._server_item_added(response, request), request)
            return
        item_id = new_id("mcp")
        done = mcp_call_view(item_id, event.call, label, event.output)
        index = self._server_item_added(response, mcp_call_view(item_id, replace(event.call, arguments=""), label,
                                                                None))
        where = {"response_id": response.id, "item_id": item_id, "output_index": index}
        self.send("response.mcp_call_arguments.delta", **where, delta=event.call.arguments)
        self.send("response.mcp_call_arguments.done", **where, arguments=event.call.arguments)
        self.send("response.mcp_call.in_progress", item_id=item_id, output_index=index)
        ended = "response.mcp_call.failed" if done["error"] is not None else "response.mcp_call.completed"
        self.send(ended, item_id=item_id, output_index=index)
        self._server_item_done(response, index, done)

    def _server_item_added(self, response: _Response, item: dict[str, Any]) -> int:
        response.output.append(item)
        index = len(response.output) - 1
        self.send("response.output_item.added", response_id=response.id, output_index=index, item=item)
        if response.in_conversation:
            self.send("conversation.item.added", previous_item_id=self._previous_id(item["id"]), item=item)
        return index

    def _server_item_done(self, response: _Response, index: int, item: dict[str, Any]) -> None:
        response.output[index] = item
        self.send("response.output_item.done", response_id=response.id, output_index=index, item=item)
        if response.in_conversation:
            self.send("conversation.item.done", previous_item_id=self._previous_id(item["id"]), item=item)

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
