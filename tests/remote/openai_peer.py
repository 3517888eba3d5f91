"""A real OpenAI-compatible HTTP server for tests: scripted answers, recorded requests.

A Starlette app served by uvicorn on 127.0.0.1 (a free port) in a background thread. Tests set what
it answers (``peer.chat``, ``peer.transcription``, ``peer.speech``), call Omni's backends against
``peer.base_url``, then read ``peer.requests`` to check what Omni sent.

    with OpenAIPeer(api_key="sk-test") as peer:
        peer.chat = ChatScript(pieces=["Hel", "lo"])
        ...
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import json
import math
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import numpy as np
import numpy.typing as npt
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

Json = dict[str, Any]


@dataclass
class ScriptedToolCall:
    id: str
    name: str
    arguments_pieces: list[str]
    """The arguments JSON text, split the way the server streams it."""


@dataclass
class ChatScript:
    """What ``/v1/chat/completions`` answers next."""

    pieces: list[str] = field(default_factory=lambda: ["Hello", " there", "!"])
    tool_calls: list[ScriptedToolCall] = field(default_factory=list)
    usage: tuple[int, int] | None = (12, 3)
    delay_s: float = 0.0
    """Pause before each streamed chunk, to keep a stream open while a test acts."""
    ignore_stream: bool = False
    """Answer with one JSON completion even when the request asked for a stream."""
    error: tuple[int, str] | None = None
    """(HTTP status, message) to answer with instead."""


@dataclass
class TranscriptionScript:
    text: str = " The quick brown fox."
    language: str = "english"
    reject_verbose_json: bool = False
    """Answer 400 to response_format=verbose_json, as servers that only know json do."""


@dataclass
class SpeechScript:
    frequency_hz: float = 440.0
    seconds: float = 0.5
    amplitude: float = 0.5
    piece_bytes: int = 1001
    """Odd on purpose: pieces then split samples between them."""
    delay_s: float = 0.01
    as_wav: bool = False
    """Send a WAV file instead of raw pcm, as some servers do whatever was asked."""

    def samples(self) -> npt.NDArray[np.int16]:
        t = np.arange(round(self.seconds * 24000)) / 24000
        wave = self.amplitude * np.sin(2 * math.pi * self.frequency_hz * t)
        return np.round(wave * 32767).astype(np.int16)


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    json: Json | None = None
    form: dict[str, str] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def unused_port() -> int:
    """A port nothing listens on (bound once, then released)."""
    with _free_socket() as sock:
        return int(sock.getsockname()[1])


def _parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, bytes]]:
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    form: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        assert isinstance(name, str)
        assert isinstance(payload, bytes)
        if part.get_filename() is not None:
            files[name] = payload
        else:
            form[name] = payload.decode()
    return form, files


def _error(
    status: int, message: str, kind: str = "invalid_request_error", code: str | None = None
) -> Response:
    return JSONResponse({"error": {"message": message, "type": kind, "code": code}}, status_code=status)


class OpenAIPeer:
    """The server; a context manager that starts it on enter and stops it on exit."""

    def __init__(self, api_key: str | None = None) -> None:
        self.api_key = api_key
        self.chat = ChatScript()
        self.transcription = TranscriptionScript()
        self.speech = SpeechScript()
        self.requests: list[RecordedRequest] = []
        self.chunks_sent = 0
        self.stream_closed_early = threading.Event()
        self._sock = _free_socket()
        self.port = int(self._sock.getsockname()[1])
        self._server = uvicorn.Server(
            uvicorn.Config(
                self._app(),
                log_level="warning",
                lifespan="off",
                http="h11",
                access_log=False,
                timeout_graceful_shutdown=1,
            )
        )
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> OpenAIPeer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()

    def last(self, path: str) -> RecordedRequest:
        """The most recent request to ``path`` (e.g. ``/v1/chat/completions``)."""
        matching = [r for r in self.requests if r.path == path]
        assert matching, f"no request to {path}; got {[r.path for r in self.requests]}"
        return matching[-1]

    # --- the app ---

    def _app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/chat/completions", self._chat, methods=["POST"]),
                Route("/v1/audio/transcriptions", self._transcriptions, methods=["POST"]),
                Route("/v1/audio/speech", self._speech, methods=["POST"]),
            ]
        )

    def _unauthorised(self, request: Request) -> Response | None:
        if self.api_key is None or request.headers.get("authorization") == f"Bearer {self.api_key}":
            return None
        return _error(401, "Incorrect API key provided.", code="invalid_api_key")

    async def _record(self, request: Request) -> RecordedRequest:
        recorded = RecordedRequest(path=request.url.path, headers=dict(request.headers))
        body = await request.body()
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("application/json"):
            recorded.json = json.loads(body)
        elif content_type.startswith("multipart/form-data"):
            recorded.form, recorded.files = _parse_multipart(content_type, body)
        self.requests.append(recorded)
        return recorded

    async def _chat(self, request: Request) -> Response:
        recorded = await self._record(request)
        if (denied := self._unauthorised(request)) is not None:
            return denied
        script = self.chat
        if script.error is not None:
            return _error(script.error[0], script.error[1], kind="server_error")
        assert recorded.json is not None
        if recorded.json.get("stream") and not script.ignore_stream:
            include_usage = bool((recorded.json.get("stream_options") or {}).get("include_usage"))
            return StreamingResponse(self._chat_stream(script, include_usage), media_type="text/event-stream")
        return JSONResponse(self._completion(script))

    @staticmethod
    def _completion(script: ChatScript) -> Json:
        message: Json = {"role": "assistant", "content": "".join(script.pieces) or None}
        if script.tool_calls:
            message["tool_calls"] = [
                {
                    "id": c.id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": "".join(c.arguments_pieces)},
                }
                for c in script.tool_calls
            ]
        answer: Json = {
            "id": "chatcmpl-peer",
            "object": "chat.completion",
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": "tool_calls" if script.tool_calls else "stop",
                }
            ],
        }
        if script.usage is not None:
            answer["usage"] = {
                "prompt_tokens": script.usage[0],
                "completion_tokens": script.usage[1],
                "total_tokens": sum(script.usage),
            }
        return answer

    def _chat_chunks(self, script: ChatScript, include_usage: bool) -> Iterator[Json]:
        def chunk(delta: Json, finish: str | None = None) -> Json:
            return {
                "id": "chatcmpl-peer",
                "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }

        yield chunk({"role": "assistant", "content": ""})
        for piece in script.pieces:
            yield chunk({"content": piece})
        for index, call in enumerate(script.tool_calls):
            yield chunk(
                {
                    "tool_calls": [
                        {
                            "index": index,
                            "id": call.id,
                            "type": "function",
                            "function": {"name": call.name, "arguments": ""},
                        }
                    ]
                }
            )
            for piece in call.arguments_pieces:
                yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
        yield chunk({}, "tool_calls" if script.tool_calls else "stop")
        if include_usage and script.usage is not None:
            prompt, completion = script.usage
            yield {
                "id": "chatcmpl-peer",
                "object": "chat.completion.chunk",
                "choices": [],
                "usage": {
                    "prompt_tokens": prompt,
                    "completion_tokens": completion,
                    "total_tokens": prompt + completion,
                },
            }

    async def _chat_stream(self, script: ChatScript, include_usage: bool) -> AsyncIterator[str]:
        finished = False
        self.chunks_sent = 0
        try:
            for chunk in self._chat_chunks(script, include_usage):
                if script.delay_s:
                    await asyncio.sleep(script.delay_s)
                yield f"data: {json.dumps(chunk)}\n\n"
                self.chunks_sent += 1
            yield "data: [DONE]\n\n"
            finished = True
        finally:
            if not finished:
                self.stream_closed_early.set()

    async def _transcriptions(self, request: Request) -> Response:
        recorded = await self._record(request)
        if (denied := self._unauthorised(request)) is not None:
            return denied
        script = self.transcription
        response_format = recorded.form.get("response_format", "json")
        if "file" not in recorded.files or "model" not in recorded.form:
            return _error(400, "file and model are required")
        if response_format == "verbose_json":
            if script.reject_verbose_json:
                return _error(400, "response_format verbose_json is not supported")
            return JSONResponse({"task": "transcribe", "language": script.language, "text": script.text})
        if response_format != "json":
            return _error(400, f"unknown response_format {response_format}")
        return JSONResponse({"text": script.text})

    async def _speech(self, request: Request) -> Response:
        recorded = await self._record(request)
        if (denied := self._unauthorised(request)) is not None:
            return denied
        assert recorded.json is not None
        if recorded.json.get("response_format") != "pcm" or not recorded.json.get("input"):
            return _error(400, "this server only speaks non-empty input as pcm")
        script = self.speech
        data = script.samples().astype("<i2").tobytes()
        if script.as_wav:
            data = _wav_header(len(data)) + data

        async def pieces() -> AsyncIterator[bytes]:
            for start in range(0, len(data), script.piece_bytes):
                await asyncio.sleep(script.delay_s)
                yield data[start : start + script.piece_bytes]

        return StreamingResponse(pieces(), media_type="audio/pcm")


def _wav_header(data_bytes: int) -> bytes:
    """A 24 kHz 16-bit mono WAV header with an extra chunk before ``data``, as some encoders write."""
    fmt = (1).to_bytes(2, "little") + (1).to_bytes(2, "little") + (24000).to_bytes(4, "little")
    fmt += (48000).to_bytes(4, "little") + (2).to_bytes(2, "little") + (16).to_bytes(2, "little")
    extra = b"LIST" + (3).to_bytes(4, "little") + b"abc\x00"  # odd size: padded to even
    chunks = (
        b"fmt " + len(fmt).to_bytes(4, "little") + fmt + extra + b"data" + data_bytes.to_bytes(4, "little")
    )
    return b"RIFF" + (4 + len(chunks) + data_bytes).to_bytes(4, "little") + b"WAVE" + chunks
