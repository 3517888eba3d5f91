"""A Realtime client's own MCP servers (``{"type": "mcp", "server_url": ...}`` in ``session.tools``): connected over
streamable HTTP for the session, listed as ``mcp_list_tools`` items, their tools run by this server (``mcp_call``
items, never ``function_call`` items for the client), and the approval round trip (``mcp_approval_request`` →
``mcp_approval_response``).

Only URLs come from clients, never a command to run. Whether a client may name one at all is ``[tools] client_mcp``
(docs/security.md: a URL a client names is a request this server makes).
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from typing import Any

from omni.config import ToolsSettings
from omni.server.realtime_config import ConfigProblem, McpEntry
from omni.server.realtime_events import ServerEvents
from omni.server.realtime_items import mcp_call_view
from omni.session.context import Item, new_id
from omni.session.session import Session
from omni.session.tools import FunctionTool
from omni.tools.mcp import McpConnection, McpTarget, open_all

log = logging.getLogger(__name__)


def client_mcp_allowed(tools: ToolsSettings, host: str) -> bool:
    """``[tools] client_mcp`` for a server listening on ``host``."""
    from omni.server.serve import is_loopback  # serve imports the app, which imports the connection code

    return tools.client_mcp == "any" or (tools.client_mcp == "auto" and is_loopback(host))


class ApprovalError(ValueError):
    """An ``mcp_approval_response`` that answers no waiting request."""


class RealtimeMcp:
    """One connection's MCP servers. Their connections belong to the session's toolbox, which closes them with the
    session; a server dropped from ``session.tools`` is closed at once."""

    def __init__(self, session: Session, events: ServerEvents, *, allowed: bool) -> None:
        self.session = session
        self.events = events
        self.allowed = allowed
        self._servers: dict[str, tuple[McpEntry, McpConnection]] = {}
        self._labels: dict[str, str] = {}
        events.mcp_label = self._labels.get

    @property
    def entries(self) -> tuple[McpEntry, ...]:
        """The servers connected now."""
        return tuple(entry for entry, _ in self._servers.values())

    def check(self, entries: tuple[McpEntry, ...]) -> None:
        if entries and not self.allowed:
            raise ConfigProblem("session.tools", "this server does not connect to MCP servers a client names "
                                                 "([tools] client_mcp); it may offer MCP tools of its own")

    async def update(self, entries: tuple[McpEntry, ...]) -> None:
        """Connect to the servers new in ``entries`` (each listed as an ``mcp_list_tools`` item, or failed with an
        ``error`` event), close those no longer there, and offer the model their tools."""
        wanted = {entry.label: entry for entry in entries}
        for label, (entry, connection) in list(self._servers.items()):
            if label not in wanted or (wanted[label].url, wanted[label].headers) != (entry.url, entry.headers):
                del self._servers[label]
                await connection.aclose()
        new = [entry for entry in entries if entry.label not in self._servers]
        listings = {entry.label: self._listing_started(entry) for entry in new}
        opened, failed = await open_all([McpTarget(e.label, url=e.url, headers=dict(e.headers)) for e in new])
        for connection in opened:
            self.session.toolbox.own(connection)
            self._servers[connection.label] = (wanted[connection.label], connection)
            item_id = listings[connection.label]
            self.events.send("mcp_list_tools.completed", item_id=item_id)
            self._send_item("conversation.item.done", self._listing(item_id, wanted[connection.label], connection))
        for target, error in failed:
            self.events.send("mcp_list_tools.failed", item_id=listings[target.label])
            index = [e.label for e in entries].index(target.label)
            self.events.error(str(error), code="mcp_connection_failed", param=f"session.tools[{index}]")
        self._servers = {label: (wanted[label], connection) for label, (_, connection) in self._servers.items()}
        self._declare()

    def _listing_started(self, entry: McpEntry) -> str:
        item_id = new_id("mcpl")
        self._send_item("conversation.item.added", {"id": item_id, "type": "mcp_list_tools",
                                                    "server_label": entry.label, "tools": []})
        self.events.send("mcp_list_tools.in_progress", item_id=item_id)
        return item_id

    @staticmethod
    def _listing(item_id: str, entry: McpEntry, connection: McpConnection) -> dict[str, Any]:
        tools = [{"name": tool.name, "description": tool.description, "input_schema": tool.parameters,
                  "annotations": connection.annotations.get(tool.name)}
                 for tool in connection.tools if entry.allowed_tools is None or tool.name in entry.allowed_tools]
        return {"id": item_id, "type": "mcp_list_tools", "server_label": entry.label, "tools": tools}

    def _declare(self) -> None:
        tools: list[FunctionTool] = []
        labels: dict[str, str] = {}
        for entry, connection in self._servers.values():
            for tool in connection.function_tools(entry.allowed_tools):
                name = tool.tool.name
                if name in labels:
                    log.warning("MCP server %r: a tool named %r is offered already", entry.label, name)
                    continue
                labels[name] = entry.label
                tools.append(replace(tool, needs_approval=entry.needs_approval(name)))
        self._labels.clear()
        self._labels.update(labels)
        self.session.toolbox.declare(tools)

    async def answer(self, entry: dict[str, Any], item_id: str) -> None:
        """An ``mcp_approval_response``: approved, the call is run now and shown as an ``mcp_call`` item; denied, the
        model is told so. Either way the result waits in the conversation for the next ``response.create``."""
        request_id = str(entry.get("approval_request_id") or "")
        call = self.events.approvals.pop(request_id, None)
        if call is None:
            raise ApprovalError(f"no MCP approval request {request_id!r} is waiting for an answer")
        approve, reason = bool(entry.get("approve")), entry.get("reason")
        self._send_item("conversation.item.added", {
            "id": item_id, "type": "mcp_approval_response", "approval_request_id": request_id, "approve": approve,
            "reason": reason})
        self._send_item("conversation.item.done", {
            "id": item_id, "type": "mcp_approval_response", "approval_request_id": request_id, "approve": approve,
            "reason": reason})
        if approve:
            output = await self.session.toolbox.run(call)
            view = mcp_call_view(new_id("mcp"), call, self._labels.get(call.name, ""), output, request_id)
            self._send_item("conversation.item.added", view)
            self._send_item("conversation.item.done", view)
        else:
            why = f" ({reason})" if reason else ""
            output = json.dumps({"error": f"the user did not approve calling {call.name}{why}"})
        self.session.conversation.add(Item(new_id("item"), "tool", output, tool_call_id=call.id))

    def _send_item(self, kind: str, item: dict[str, Any]) -> None:
        self.events.send(kind, previous_item_id=self.events._previous_id(item["id"]), item=item)
