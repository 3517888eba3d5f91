"""Request body size limit for HTTP: a clear 413 instead of reading without end."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from omni.server.api_errors import error_response


class _TooLarge(Exception):
    pass


class LimitBody:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        message = f"request body too large: the limit is {self.max_bytes} bytes (server.max_message_bytes)"
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await error_response(413, message, code="request_too_large")(scope, receive, send)
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            received = await receive()
            if received["type"] == "http.request":
                seen += len(received.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge
            return received

        async def tracked(sent: Message) -> None:
            nonlocal started
            started = started or sent["type"] == "http.response.start"
            await send(sent)

        try:
            await self.app(scope, counted, tracked)
        except _TooLarge:
            if not started:
                await error_response(413, message, code="request_too_large")(scope, receive, send)
