"""What the OpenAI-compatible backends share: base URL rules, the auth header, the HTTP client, error mapping.

Every failure of a remote server (refused connection, timeout, an HTTP error status) becomes a
:class:`BackendError` that names the URL and quotes the server's own message. The API key only ever
travels in the ``Authorization`` header; it never appears in a message, a repr or a log line.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import httpx

from omni.errors import BackendError, ConfigError

DEFAULT_TIMEOUT_S = 60.0
"""Longest wait for the next bytes of an answer: a remote model may take a while to start speaking."""
CONNECT_TIMEOUT_S = 10.0
_MAX_QUOTED_BODY = 500


def normalise_base_url(url: str) -> str:
    """``http://host:port`` → ``http://host:port/v1``; strip a trailing slash; insist on http(s).

    A URL without a path gets ``/v1`` because that is where OpenAI, Ollama, vLLM and the llama.cpp
    server all serve this API; a URL with a path is taken as the user wrote it.
    """
    text = url.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            f"invalid base URL {text!r}: it must start with http:// or https:// and name a host, "
            "e.g. http://localhost:11434/v1"
        )
    path = parts.path.rstrip("/") or "/v1"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def auth_headers(api_key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


def require_base_url(base_url: str | None, section: str) -> str:
    """The base URL set for ``section`` (llm, stt, tts), or a :class:`ConfigError` saying how to set it."""
    if not base_url:
        raise ConfigError(
            f"the openai {section} backend needs a server URL: set OMNI_{section.upper()}__BASE_URL "
            f"or {section}.base_url (e.g. http://localhost:11434/v1 for Ollama)"
        )
    return base_url


class HTTPEndpoint:
    """One remote server: its base URL, the auth header and a connection pool kept for the running loop.

    Keeping connections open saves a TCP and TLS handshake per turn. A pool belongs to the event loop
    that made it, so a call from another loop gets a fresh one.
    """

    def __init__(
        self, base_url: str, api_key: str | None = None, *, timeout: float = DEFAULT_TIMEOUT_S
    ) -> None:
        self.base_url = normalise_base_url(base_url)
        self._headers = auth_headers(api_key)
        self._timeout = httpx.Timeout(timeout, connect=min(timeout, CONNECT_TIMEOUT_S))
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return f"HTTPEndpoint({self.base_url!r}, authorised={bool(self._headers)})"

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._client.is_closed or self._loop is not loop:
            self._client = httpx.AsyncClient(headers=self._headers, timeout=self._timeout)
            self._loop = loop
        return self._client

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None and self._loop is asyncio.get_running_loop():
            await client.aclose()
        self._loop = None


def server_message(body: bytes) -> str:
    """The human part of an error body: OpenAI's ``{"error": {"message": ...}}`` and the shapes others use."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        for candidate in (error, data.get("message"), data.get("detail")):
            if isinstance(candidate, str) and candidate:
                return candidate
    if len(text) > _MAX_QUOTED_BODY:
        text = text[:_MAX_QUOTED_BODY] + "…"
    return text or "(empty body)"


async def check_status(response: httpx.Response, stage: str, url: str) -> None:
    """Raise a :class:`BackendError` quoting the server when ``response`` has an error status."""
    if response.status_code < 400:
        return
    body = await response.aread()
    raise BackendError(
        stage,
        f"{url} answered HTTP {response.status_code} {response.reason_phrase}: {server_message(body)}",
    )


@contextmanager
def transport_errors(stage: str, url: str) -> Iterator[None]:
    """Turn httpx's network failures into :class:`BackendError` naming ``url``."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise BackendError(
            stage,
            f"{url} did not answer in time ({type(exc).__name__}); is the server busy or still loading?",
        ) from exc
    except httpx.ConnectError as exc:
        raise BackendError(stage, f"cannot connect to {url} ({exc}); is the server running?") from exc
    except httpx.HTTPError as exc:
        raise BackendError(stage, f"request to {url} failed: {type(exc).__name__}: {exc}") from exc


def parse_json(body: bytes, stage: str, url: str) -> object:
    try:
        return json.loads(body)
    except ValueError as exc:
        quoted = body[:200].decode("utf-8", errors="replace")
        raise BackendError(stage, f"{url} answered with something that is not JSON: {quoted!r}") from exc


async def sse_data(lines: AsyncIterator[str]) -> AsyncIterator[str]:
    """The ``data`` payloads of a server-sent-event stream, one per event (multi-line data joined)."""
    data: list[str] = []
    async for line in lines:
        if not line:
            if data:
                yield "\n".join(data)
                data = []
            continue
        if line.startswith(":"):
            continue  # a comment; servers send these as keep-alives
        field, _, value = line.partition(":")
        if field == "data":
            data.append(value[1:] if value.startswith(" ") else value)
    if data:
        yield "\n".join(data)
