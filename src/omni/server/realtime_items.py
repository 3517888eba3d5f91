"""Conversation items as the Realtime API shows them, from the engine's items, in the GA or the beta shape."""

from __future__ import annotations

import json
from typing import Any

from omni.session.context import Item
from omni.session.vision import ItemImage
from omni.types import ChatMessage, ToolCall
from omni.vision.describe import as_json


def item_view(item: Item, *, audio: bool, beta: bool) -> dict[str, Any]:
    """``audio``: a user item that came as audio, or an assistant item that was spoken."""
    status = "completed" if item.status == "completed" else "incomplete" if item.status == "incomplete" \
        else "in_progress"
    base: dict[str, Any] = {"id": item.id, "object": "realtime.item", "status": status}
    if item.role == "tool":
        return {**base, "type": "function_call_output", "call_id": item.tool_call_id or "", "output": item.text}
    if item.role == "assistant" and item.tool_calls and not item.text:  # a client's function_call item
        return function_call_view(item.id, item.tool_calls[0], status)
    if item.role == "user" and not audio:
        parts = [{"type": "input_text", "text": item.text}] if item.text or not item.images else []
        parts += [image_view(image, beta=beta) for image in item.images]
        return {**base, "type": "message", "role": "user", "content": parts}
    if item.role == "user":
        part = {"type": "input_audio", "transcript": item.text or None}
    elif item.role == "system":
        part = {"type": "input_text", "text": item.text}
    elif audio:
        part = {"type": "audio" if beta else "output_audio", "transcript": item.text}
    else:
        part = {"type": "text" if beta else "output_text", "text": item.text}
    return {**base, "type": "message", "role": item.role, "content": [part]}


def image_view(image: ItemImage, *, beta: bool) -> dict[str, Any]:
    """An image part as sent back: without its pixels, with what vision found under the ``omni_vision`` extension
    key (clients that do not know it ignore it). The beta protocol has no image parts: there it is the note the
    model reads, as text."""
    if beta:
        return {"type": "input_text", "text": image.note(short=True)}
    found = {"state": image.state, "problem": image.problem,
             "scene": as_json(image.scene) if image.scene is not None else None}
    return {"type": "input_image", "detail": "auto", "omni_vision": found}


def function_call_view(item_id: str, call: ToolCall, status: str) -> dict[str, Any]:
    return {"id": item_id, "object": "realtime.item", "type": "function_call", "status": status,
            "name": call.name, "call_id": call.id, "arguments": call.arguments}


def message_text(content: list[dict[str, Any]]) -> str:
    """The text of a client message's content parts (images are taken apart: :func:`message_images`)."""
    texts = []
    for part in content:
        kind = part.get("type")
        if kind in ("input_text", "text", "output_text"):
            texts.append(str(part.get("text") or ""))
        elif kind in ("input_audio", "audio", "output_audio") and part.get("transcript"):
            texts.append(str(part["transcript"]))
    return "\n".join(t for t in texts if t)


def message_images(content: list[dict[str, Any]]) -> list[tuple[int, str]]:
    """The ``input_image`` parts of a message: (content index, image URL)."""
    return [(index, str(part.get("image_url") or "")) for index, part in enumerate(content)
            if part.get("type") == "input_image"]


def input_messages(items: list[dict[str, Any]]) -> tuple[ChatMessage, ...]:
    """A ``response.create`` ``input`` list (messages and function call outputs) as chat messages."""
    messages = []
    for entry in items:
        if entry.get("type") == "function_call_output":
            messages.append(ChatMessage("tool", str(entry.get("output", "")), tool_call_id=entry.get("call_id")))
        elif entry.get("type", "message") == "message":
            role = entry.get("role", "user")
            messages.append(ChatMessage(role if role in ("system", "user", "assistant") else "user",
                                        message_text(entry.get("content") or [])))
    return tuple(messages)


def mcp_call_view(item_id: str, call: ToolCall, server_label: str, output: str | None,
                  approval_request_id: str | None = None) -> dict[str, Any]:
    """A call to a tool of a client's MCP server, run by this server: its ``output``, or its ``error`` when the
    result is an ``{"error": ...}`` (``output`` None: not run yet)."""
    error = _error_message(output) if output is not None else None
    return {"id": item_id, "type": "mcp_call", "server_label": server_label, "name": call.name,
            "arguments": call.arguments, "approval_request_id": approval_request_id,
            "output": None if error is not None else output,
            "error": {"type": "tool_execution_error", "message": error} if error is not None else None}


def mcp_approval_request_view(item_id: str, call: ToolCall, server_label: str) -> dict[str, Any]:
    return {"id": item_id, "type": "mcp_approval_request", "server_label": server_label, "name": call.name,
            "arguments": call.arguments}


def _error_message(output: str) -> str | None:
    try:
        value = json.loads(output)
    except ValueError:
        return None
    error = value.get("error") if isinstance(value, dict) else None
    return str(error) if error is not None else None
