"""What every REST endpoint shares: request errors, body validation, backend error mapping, metrics, disconnects.

An endpoint raises :class:`RequestError` for anything wrong with the request; :func:`endpoint` turns it, and the
errors backends raise, into an OpenAI-style error response, and counts every request by endpoint and status.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from omni.errors import AudioInputError, BackendError, BackendUnavailableError, OmniError
from omni.server.api_errors import error_response
from omni.server.state import ServerState

log = logging.getLogger(__name__)

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
Handler = Callable[[Request], Awaitable[Response]]

CLIENT_GONE_STATUS = 499
"""Counted (never sent) when the client hung up before the answer was ready, as nginx logs it."""


class RequestError(Exception):
    """Something wrong with a request: answered with ``status`` and an OpenAI-style error naming ``param``."""

    def __init__(self, message: str, *, param: str | None = None, status: int = 400, code: str | None = None,
                 type: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.status = status
        self.code = code
        self.type = type

    def response(self) -> Response:
        return error_response(self.status, self.message, type=self.type, param=self.param, code=self.code)


class ClientGone(Exception):
    """The client disconnected while its request was being worked on."""


class RequestModel(BaseModel):
    """A request body. Strict types (a string is not a number); unknown fields are ignored because OpenAI clients
    send many this server has no use for (``user``, ``store``, ``metadata``, ...)."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


def unavailable(what: str, setting: str) -> RequestError:
    return RequestError(f"this server has no {what} backend configured (set {setting})", status=503,
                        code="backend_unavailable", type="server_error")


def param_path(loc: tuple[int | str, ...]) -> str:
    """A pydantic error location as a field path: ``("messages", 0, "content")`` → ``messages[0].content``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif _is_branch(part):
            continue
        else:
            path += f".{part}" if path else part
    return path


def _is_branch(part: str) -> bool:
    """A union branch or validator in a location (``str``, ``list[Part]``, ``NamedToolChoice``), not a field the
    client wrote: OpenAI's field names are lower-case words."""
    return part in {"str", "int", "float", "bool", "none"} or not re.fullmatch(r"[a-z_][a-z0-9_]*", part)


def validation_error(exc: ValidationError) -> RequestError:
    """What pydantic found, one line per field, most specific first; the first field is the error's ``param``.

    A value that fits no branch of a union fails every branch: the branch that got furthest into the value says
    the most, and the others are dropped.
    """
    errors = exc.errors(include_url=False)
    if errors and errors[0]["type"] == "json_invalid":
        detail = errors[0].get("ctx", {}).get("error", errors[0]["msg"])
        return RequestError(f"the request body is not valid JSON: {detail}", code="invalid_json")
    problems: dict[str, list[str]] = {}
    for error in sorted(errors, key=lambda e: -len(e["loc"])):
        path = param_path(tuple(error["loc"]))
        if any(_inside(kept, path) for kept in problems):
            continue
        messages = problems.setdefault(path, [])
        if error["msg"] not in messages:
            messages.append(error["msg"])
    described = [f"{path}: {' or '.join(msgs)}" if path else " or ".join(msgs) for path, msgs in problems.items()]
    message = "; ".join(described[:3]) + (f" (and {len(described) - 3} more)" if len(described) > 3 else "")
    first = next(iter(problems), "")
    return RequestError(f"invalid request: {message}", param=first or None)


def _inside(path: str, outer: str) -> bool:
    """Whether field ``path`` lies within field ``outer``."""
    return path != outer and (outer == "" or path.startswith((outer + ".", outer + "[")))


async def read_json(request: Request, model: type[M]) -> M:
    """The request body validated as ``model``; malformed JSON and wrong fields are a 400 naming the problem."""
    body = await request.body()
    if not body.strip():
        raise RequestError("the request body is empty; send a JSON object", code="invalid_json")
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise validation_error(exc) from None


async def unless_disconnected(request: Request, work: Coroutine[Any, Any, T]) -> T:
    """Await ``work``; if the client hangs up first, cancel it (freeing the model) and raise :class:`ClientGone`.

    The request body must have been read: after it, the next ASGI message is the disconnect.
    """
    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if not task.done():
            task.cancel()
        watcher.cancel()
        await asyncio.gather(task, watcher, return_exceptions=True)
    if task.cancelled():
        raise ClientGone
    return task.result()


async def _disconnected(request: Request) -> None:
    await _until_disconnect(request.receive)


class ClosingStream(StreamingResponse):
    """A streamed answer that stops, and closes its source, as soon as the client disconnects.

    Starlette's own disconnect handling cancels the body inside an anyio cancel scope, which cancels again at every
    await until the scope exits: a source that must wait for a model's worker thread to stop (``omni.aio``
    shields that wait) would be torn out of it, leaving llama.cpp running while the next request starts on it.
    Plain asyncio cancellation is delivered once, so the source's cleanup completes. ``also_close`` is a stream
    the body reads from that may not have been entered yet when the response ends.
    """

    def __init__(self, content: AsyncIterator[str] | AsyncIterator[bytes], *, media_type: str,
                 also_close: AsyncIterator[Any] | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(content, media_type=media_type, headers=headers)
        self._sources = (content, also_close)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        streaming = asyncio.ensure_future(self.stream_response(send))
        watcher = asyncio.ensure_future(_until_disconnect(receive))
        try:
            await asyncio.wait({streaming, watcher}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            streaming.cancel()
            watcher.cancel()
            await asyncio.gather(streaming, watcher, return_exceptions=True)
            for source in self._sources:
                aclose = getattr(source, "aclose", None)
                if aclose is not None:
                    await aclose()
        failure = None if streaming.cancelled() else streaming.exception()
        if failure is not None:
            raise failure


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def endpoint(state: ServerState, name: str, handler: Handler) -> Handler:
    """``handler`` with errors answered in OpenAI's shape and every request counted under ``name``."""

    async def handle(request: Request) -> Response:
        response = await _answer(name, handler, request)
        state.metrics.requests.labels(name, str(response.status_code)).inc()
        if response.status_code >= 500:
            state.metrics.errors.labels(f"rest:{name}").inc()
        return response

    return handle


async def _answer(name: str, handler: Handler, request: Request) -> Response:
    try:
        return await handler(request)
    except RequestError as exc:
        return exc.response()
    except ClientGone:
        log.info("%s: the client disconnected before the answer was ready", name)
        return Response(status_code=CLIENT_GONE_STATUS)
    except AudioInputError as exc:
        return error_response(400, str(exc), param="file", code="invalid_audio")
    except BackendUnavailableError as exc:
        return error_response(503, str(exc), type="server_error", code="backend_unavailable")
    except BackendError as exc:
        log.warning("%s: backend failed: %s", name, exc)
        return error_response(500, f"the {exc.stage} backend failed: {exc}", type="server_error",
                              code="backend_error")
    except OmniError as exc:
        log.warning("%s: %s", name, exc)
        return error_response(500, str(exc), type="server_error")
