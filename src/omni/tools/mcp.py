"""MCP servers as local tools: a connection to one server, over stdio (a command Omni starts) or streamable HTTP (a
URL), whose tools become :class:`FunctionTool` entries. A call's result reaches the model as JSON; an MCP error, a
timeout or a dead server becomes an ``{"error": ...}`` result, never an exception in the session."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from omni.config import McpServerSettings
from omni.errors import OmniError
from omni.session.tools import FunctionTool
from omni.types import Tool

log = logging.getLogger(__name__)


class McpError(OmniError):
    """An MCP server could not be started, reached or listed."""


@dataclass(frozen=True)
class McpTarget:
    """Where an MCP server is and how long to wait for it."""

    label: str
    command: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    url: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    connect_timeout: float = 10.0
    call_timeout: float = 30.0

    @classmethod
    def of(cls, settings: McpServerSettings) -> McpTarget:
        return cls(settings.label, settings.command, settings.env, settings.url, settings.headers,
                   settings.connect_timeout, settings.call_timeout)


def _client(target: McpTarget) -> Any:
    """An unopened ``mcp.Client`` for ``target`` (imported here: only sessions with MCP servers pay for it)."""
    from mcp import Client, StdioServerParameters
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    if target.url is not None:
        http = create_mcp_http_client(headers=dict(target.headers))
        # The transport closes an http client it made itself; one given to it is left open, so close it with it.
        return Client(_closing_http(streamable_http_client(target.url, http_client=http), http))
    program, *args = target.command
    return Client(StdioServerParameters(command=program, args=args, env=dict(target.env) or None))


def _closing_http(transport: Any, http: Any) -> Any:
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def both() -> Any:
        async with http, transport as streams:
            yield streams

    return both()


class McpConnection:
    """One open MCP server. The ``mcp`` client runs in a task of its own (its anyio task groups must be left in the
    task that entered them), which :meth:`aclose` ends: that stops a stdio server's process and ends an HTTP
    session."""

    def __init__(self, target: McpTarget) -> None:
        self.target = target
        self.label = target.label
        self.tools: list[Tool] = []
        """The server's tools, as listed when it connected."""
        self.annotations: dict[str, Any] = {}
        self._client: Any = None
        self._closed = asyncio.Event()
        self._owner: asyncio.Task[None] | None = None
        self._dead: str | None = None

    @classmethod
    async def open(cls, target: McpTarget) -> McpConnection:
        """Start or reach the server and list its tools, within ``target.connect_timeout``; :class:`McpError` if
        that fails."""
        connection = cls(target)
        ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        connection._owner = asyncio.create_task(connection._own(ready), name=f"mcp-{target.label}")
        try:
            await asyncio.wait_for(asyncio.shield(ready), target.connect_timeout)
        except BaseException as exc:
            await connection.aclose()
            if isinstance(exc, TimeoutError):
                raise McpError(f"MCP server {target.label!r} did not answer within {target.connect_timeout:g} s") \
                    from None
            raise
        return connection

    async def _own(self, ready: asyncio.Future[None]) -> None:
        try:
            async with _client(self.target) as client:
                listed = await _list_tools(client)
                self.tools = [Tool(t.name, t.description or "", dict(t.input_schema)) for t in listed]
                self.annotations = {t.name: t.annotations.model_dump(exclude_none=True) if t.annotations else None
                                    for t in listed}
                self._client = client
                ready.set_result(None)
                await self._closed.wait()
        except asyncio.CancelledError:
            if not ready.done():
                ready.cancel()
            raise
        except BaseException as exc:  # the mcp package raises exception groups from its task groups
            reason = _reason(exc)
            if not ready.done():
                ready.set_exception(McpError(f"MCP server {self.label!r} could not be reached: {reason}"))
            else:
                log.warning("MCP server %r stopped: %s", self.label, reason)
        finally:
            self._client = None
            self._dead = self._dead or "the connection is closed"

    @property
    def alive(self) -> bool:
        return self._client is not None

    async def call(self, name: str, arguments: Mapping[str, Any]) -> str:
        """Call the server's tool ``name``: its structured result (else its text) as JSON; failures as
        ``{"error": ...}``."""
        client = self._client
        if client is None:
            return _error(f"MCP server {self.label!r} is not connected ({self._dead or 'not started'})")
        timeout = self.target.call_timeout
        try:
            result = await asyncio.wait_for(client.call_tool(name, dict(arguments)), timeout)
        except TimeoutError:
            return _error(f"{name} on MCP server {self.label!r} took longer than {timeout:g} s")
        except Exception as exc:  # a dead server, a protocol error: the model's to say, not the session's to end
            return _error(f"{name} on MCP server {self.label!r} failed: {_reason(exc)}")
        return result_json(result)

    def function_tools(self, allowed: Sequence[str] | None = None) -> list[FunctionTool]:
        """The server's tools (only those ``allowed``, when given) as local tools."""
        return [FunctionTool(tool, self._caller(tool.name)) for tool in self.tools
                if allowed is None or tool.name in allowed]

    def _caller(self, name: str) -> Callable[..., Awaitable[str]]:
        async def call(**arguments: Any) -> str:
            return await self.call(name, arguments)

        return call

    async def aclose(self) -> None:
        self._closed.set()
        owner = self._owner
        if owner is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(owner), 10)
        except TimeoutError:
            owner.cancel()
            await asyncio.gather(owner, return_exceptions=True)
        except BaseException:  # ended with an error already logged; or our caller is cancelled
            if not owner.done():
                owner.cancel()
                await asyncio.gather(owner, return_exceptions=True)


async def _list_tools(client: Any) -> list[Any]:
    tools: list[Any] = []
    cursor = None
    for _ in range(100):  # a bound on pages, against a server that hands out cursors forever
        page = await client.list_tools(cursor=cursor)
        tools += page.tools
        cursor = page.next_cursor
        if not cursor:
            break
    return tools


def result_json(result: Any) -> str:
    """A ``CallToolResult`` as the JSON text the model reads."""
    texts = [str(getattr(block, "text", "")) or f"[{block.type}]" for block in result.content]
    if result.is_error:
        return _error(" ".join(texts) or "the tool reported an error")
    if result.structured_content is not None:
        return json.dumps(result.structured_content, ensure_ascii=False, default=str)
    return json.dumps({"result": "\n".join(texts)}, ensure_ascii=False)


def _error(message: str) -> str:
    return json.dumps({"error": message}, ensure_ascii=False)


def _reason(exc: BaseException) -> str:
    """The first leaf of an exception group, as ``Type: message``."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


async def open_all(targets: Sequence[McpTarget]) -> tuple[list[McpConnection], list[tuple[McpTarget, McpError]]]:
    """Connect to every target at once: the connections made, and the targets that failed with why."""
    results = await asyncio.gather(*(McpConnection.open(t) for t in targets), return_exceptions=True)
    opened: list[McpConnection] = []
    failed: list[tuple[McpTarget, McpError]] = []
    for target, result in zip(targets, results, strict=True):
        if isinstance(result, McpConnection):
            opened.append(result)
        elif isinstance(result, McpError):
            failed.append((target, result))
        elif isinstance(result, BaseException):
            failed.append((target, McpError(f"MCP server {target.label!r}: {_reason(result)}")))
    return opened, failed


async def mcp_tools(servers: Sequence[McpServerSettings]) -> tuple[list[FunctionTool], list[McpConnection]]:
    """The tools of the configured ``servers`` (each one's ``allowed_tools``) and their open connections, which the
    caller closes. A server that cannot be reached is logged and left out; a tool whose name an earlier server
    already gave is left out too."""
    connections, failed = await open_all([McpTarget.of(s) for s in servers])
    for _, error in failed:
        log.warning("%s; its tools are not offered", error)
    allowed = {s.label: s.allowed_tools for s in servers}
    tools: dict[str, FunctionTool] = {}
    for connection in connections:
        for tool in connection.function_tools(allowed.get(connection.label)):
            if tool.tool.name in tools:
                log.warning("MCP server %r: a tool named %r is offered already; this one is left out",
                            connection.label, tool.tool.name)
                continue
            tools[tool.tool.name] = tool
    return list(tools.values()), connections
