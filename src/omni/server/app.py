"""The ASGI app: routes, API keys, body limits and OpenAI-style errors around the REST and Realtime endpoints, and the
browser page (``/``, its files under ``/web/``) that talks to the Realtime endpoint like any other client."""

from __future__ import annotations

import html
import logging
import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Scope

from omni import __version__
from omni.server.api_errors import error_response
from omni.server.auth import RequireKey
from omni.server.connection import realtime_endpoint
from omni.server.limits import LimitBody
from omni.server.rest import rest_routes
from omni.server.state import ServerState

log = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
"""The browser page's static files (``omni/web``, shipped as package data)."""
_NO_CACHE = {"Cache-Control": "no-cache"}
"""The page's files change with each release of the package: browsers revalidate them instead of keeping stale ones."""


def create_app(state: ServerState) -> Starlette:
    server = state.settings.server

    async def index(request: Request) -> Response:
        return FileResponse(WEB_DIR / "index.html", media_type="text/html; charset=utf-8", headers=_NO_CACHE)

    async def about(request: Request) -> Response:
        return HTMLResponse(_about_page(state, str(request.base_url)))

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok", "version": __version__, "sessions": state.open_sessions})

    async def metrics(request: Request) -> Response:
        return Response(state.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    routes: list[BaseRoute] = [
        Route("/", index, methods=["GET", "HEAD"]),
        Route("/about", about, methods=["GET", "HEAD"]),
        Mount("/web", app=_NoCacheStatic(directory=WEB_DIR), name="web"),
        Route("/healthz", healthz),
        Route("/metrics", metrics),
        WebSocketRoute("/v1/realtime", realtime_endpoint(state)),
        *rest_routes(state),
    ]

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        state.metrics.errors.labels("http").inc()
        return error_response(exc.status_code, f"{exc.detail}: {request.method} {request.url.path}",
                              code=str(exc.status_code))

    async def server_error(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        state.metrics.errors.labels("server").inc()
        return error_response(500, f"internal error: {type(exc).__name__}", type="server_error")

    return Starlette(
        routes=routes,
        middleware=[Middleware(RequireKey, keys=server.api_keys),
                    Middleware(LimitBody, max_bytes=server.max_message_bytes)],
        exception_handlers={HTTPException: http_error, Exception: server_error},
    )


class _NoCacheStatic(StaticFiles):
    """The page's files, revalidated by the browser on each load (ETag / Last-Modified still spare the bytes)."""

    def file_response(self, full_path: PathLike, stat_result: os.stat_result, scope: Scope,
                      status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers.update(_NO_CACHE)
        return response


def _about_page(state: ServerState, base_url: str) -> str:
    ws_url = base_url.replace("http", "ws", 1) + "v1/realtime"
    ids = state.model_ids
    rows = "".join(f"<li><code>{html.escape(line)}</code></li>" for line in (
        f"GET {ws_url}?model={ids['realtime']} — OpenAI Realtime API (WebSocket)",
        "POST /v1/chat/completions — chat, streaming (SSE) or not",
        "POST /v1/audio/transcriptions — speech to text (multipart upload)",
        "POST /v1/audio/speech — text to speech",
        "GET /v1/models · GET /healthz · GET /metrics",
    ))
    key_note = "Every request needs <code>Authorization: Bearer KEY</code>." if state.settings.server.api_keys else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Omni</title></head>
<body style="font-family: sans-serif; max-width: 46rem; margin: 2rem auto; line-height: 1.5">
<h1>Omni {html.escape(__version__)}</h1>
<p>A local, real-time voice assistant that speaks the OpenAI Realtime and REST APIs. {key_note}
<a href="./">Talk to Omni in this browser</a>.</p>
<ul>{rows}</ul>
<p>Connect with the official SDK:</p>
<pre>from openai import AsyncOpenAI
client = AsyncOpenAI(base_url="{html.escape(base_url)}v1", api_key="unused-on-loopback")
async with client.realtime.connect(model="{html.escape(ids['realtime'])}") as connection:
    await connection.session.update(session={{"type": "realtime", "output_modalities": ["text"]}})
    ...</pre>
</body></html>
"""
