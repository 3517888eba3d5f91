"""API keys: every HTTP request and WebSocket handshake carries ``Authorization: Bearer KEY`` when keys are set,
except ``/healthz`` and reading the browser page (``/``, ``/web/...``), which holds no data.

Browsers cannot set headers on a WebSocket, so the handshake may instead offer the subprotocol
``openai-insecure-api-key.KEY``, as OpenAI's own Realtime API accepts. Keys are compared in constant time.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from omni.server.api_errors import error_response

SUBPROTOCOL_PREFIX = "openai-insecure-api-key."
OPEN_PATHS = frozenset({"/healthz"})
"""Liveness checks work without a key; they reveal nothing but "up"."""
PAGE_PATHS = frozenset({"/"})
PAGE_PREFIX = "/web/"
"""The browser page and its static files are read without a key: a browser cannot send one when it navigates, and
they hold no data. The page then asks for the key and offers it on the Realtime WebSocket."""


def is_open(scope: Scope) -> bool:
    """Whether a request may go through without a key."""
    path: str = scope["path"]
    if path in OPEN_PATHS:
        return True
    if scope["type"] != "http" or scope.get("method") not in ("GET", "HEAD"):
        return False
    if path in PAGE_PATHS:
        return True
    # ".." never leaves the folder anyway (StaticFiles refuses it), but an exemption should not even look like it could
    return path.startswith(PAGE_PREFIX) and ".." not in path.split("/")


def presented_key(headers: Headers) -> str | None:
    """The key a request offers, from the Authorization header or the WebSocket subprotocol list."""
    authorization = headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    for protocol in headers.get("sec-websocket-protocol", "").split(","):
        protocol = protocol.strip()
        if protocol.startswith(SUBPROTOCOL_PREFIX):
            return protocol[len(SUBPROTOCOL_PREFIX):]
    return None


def key_accepted(key: str | None, keys: Sequence[str]) -> bool:
    if not keys:
        return True
    if key is None:
        return False
    found = False
    for candidate in keys:  # no early exit: the time taken does not tell which key nearly matched
        found |= hmac.compare_digest(key.encode(), candidate.encode())
    return found


class RequireKey:
    """ASGI middleware: 401 with an OpenAI-style error for HTTP and for WebSocket handshakes without a valid key."""

    def __init__(self, app: ASGIApp, keys: Sequence[str]) -> None:
        self.app = app
        self.keys = tuple(keys)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not self.keys or is_open(scope):
            await self.app(scope, receive, send)
            return
        key = presented_key(Headers(scope=scope))
        if key_accepted(key, self.keys):
            await self.app(scope, receive, send)
            return
        message = "missing API key: send 'Authorization: Bearer KEY'" if key is None else "invalid API key"
        response = error_response(401, message, type="invalid_request_error", code="invalid_api_key")
        if scope["type"] == "http":
            await response(scope, receive, send)
            return
        # A refused WebSocket handshake answers with an HTTP response (the ASGI denial-response extension;
        # Starlette's response sends the websocket.http.* messages for a websocket scope).
        if "websocket.http.response" in scope.get("extensions", {}):
            await receive()  # websocket.connect
            await response(scope, receive, send)
        else:
            await send({"type": "websocket.close", "code": 1008, "reason": message})
