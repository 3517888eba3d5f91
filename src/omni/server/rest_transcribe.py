"""``POST /v1/audio/transcriptions``: a multipart upload transcribed by the STT backend, in OpenAI's five formats.

``verbose_json``, ``srt`` and ``vtt`` ask the STT backend for timed segments (whisper's own 30 s windows); a backend
that cannot time its text gives one segment spanning the clip. ``stream=true`` answers with OpenAI's transcription
events: the text as one delta, then ``transcript.text.done``.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator, Sequence
from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse

from omni.backends.openai_stt import LANGUAGE_CODES, language_code
from omni.errors import ConfigError
from omni.server.rest_audio import decode_upload
from omni.server.rest_common import RequestError, unavailable, unless_disconnected
from omni.server.state import ServerState
from omni.types import Segment, Transcript

RESPONSE_FORMATS = ("json", "text", "srt", "verbose_json", "vtt")
TIMED_FORMATS = ("srt", "verbose_json", "vtt")
_LANGUAGE_NAMES = {code: name for name, code in LANGUAGE_CODES.items()}
_TEXT_FIELDS = ("model", "language", "prompt", "response_format", "temperature", "stream")


async def transcriptions(state: ServerState, request: Request) -> Response:
    stt = state.backends.stt
    if stt is None:
        raise unavailable("speech-to-text", "stt.backend")
    form = await _form(request)
    fields = {name: _text_field(form, name) for name in _TEXT_FIELDS}
    response_format = fields["response_format"] or "json"
    if response_format not in RESPONSE_FORMATS:
        raise RequestError(f"response_format {response_format!r} is not supported; use one of "
                           f"{', '.join(RESPONSE_FORMATS)}", param="response_format")
    _check_temperature(fields["temperature"])
    if "word" in [_text_field_value(v) for v in form.getlist("timestamp_granularities[]")]:
        raise RequestError("word timestamps are not available from this server; ask for 'segment'",
                           param="timestamp_granularities")
    stream = _flag(fields["stream"], "stream")
    language = language_code(fields["language"]) if fields["language"] else None
    upload = form.get("file")
    if upload is None:
        raise RequestError("file is required: upload the audio as the multipart field 'file'", param="file")
    if not isinstance(upload, UploadFile):
        raise RequestError("file must be an uploaded file (a multipart part with a filename), not a text field",
                           param="file")
    data = await upload.read()
    name = f"the uploaded file {upload.filename!r}" if upload.filename else "the uploaded file"
    clip = await asyncio.to_thread(decode_upload, data, stt.sample_rate, name)
    try:
        timed = response_format in TIMED_FORMATS and not stream
        transcript = await unless_disconnected(
            request, stt.transcribe(clip.samples, language=language, timestamps=timed)
        )
    except ConfigError as exc:
        if language is None:
            raise
        raise RequestError(str(exc), param="language", code="unsupported_language") from exc
    duration = clip.duration
    if stream:
        return StreamingResponse(_events(transcript), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})
    return _formatted(transcript, duration, response_format, language)


async def _form(request: Request) -> FormData:
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise RequestError(f"this endpoint takes multipart/form-data with the audio as 'file', not "
                           f"{content_type.split(';')[0] or 'a body without a Content-Type'}", param="file")
    try:
        return await request.form(max_files=1, max_fields=32)
    except HTTPException as exc:  # malformed multipart, or too many parts
        raise RequestError(f"the multipart body cannot be read: {exc.detail}", param="file") from exc


def _text_field_value(value: str | UploadFile) -> str:
    if isinstance(value, UploadFile):
        raise RequestError(f"{value.filename or 'a file'} was sent where a text field was expected")
    return value.strip()


def _text_field(form: FormData, name: str) -> str | None:
    value = form.get(name)
    if value is None:
        return None
    if isinstance(value, UploadFile):
        raise RequestError(f"{name} must be a text field, not a file", param=name)
    return value.strip() or None


def _check_temperature(value: str | None) -> None:
    """Validated for compatibility, then unused: the STT decodes greedily."""
    if value is None:
        return
    try:
        temperature = float(value)
    except ValueError:
        raise RequestError(f"temperature must be a number, got {value!r}", param="temperature") from None
    if not 0.0 <= temperature <= 1.0:
        raise RequestError(f"temperature must be between 0 and 1, got {temperature}", param="temperature")


def _flag(value: str | None, name: str) -> bool:
    if value is None or value.lower() == "false":
        return False
    if value.lower() == "true":
        return True
    raise RequestError(f"{name} must be true or false, got {value!r}", param=name)


def _formatted(transcript: Transcript, duration: float, response_format: str, language: str | None) -> Response:
    text = transcript.text.strip()
    usage = {"type": "duration", "seconds": math.ceil(duration)}
    if response_format == "json":
        return JSONResponse({"text": text, "usage": usage})
    if response_format == "text":
        return PlainTextResponse(text)
    timed = _timed_segments(transcript, duration)
    if response_format == "srt":
        return PlainTextResponse(srt(timed))
    if response_format == "vtt":
        return PlainTextResponse(vtt(timed), media_type="text/vtt")
    code = transcript.language or language or ""
    return JSONResponse({
        "task": "transcribe",
        "language": _LANGUAGE_NAMES.get(code, code),  # OpenAI names the language ("english")
        "duration": round(duration, 3),
        "text": text,
        "segments": [segment(index, part) for index, part in enumerate(timed)],
        "usage": usage,
    })


def _timed_segments(transcript: Transcript, duration: float) -> tuple[Segment, ...]:
    """The backend's segments, or, from a backend that cannot time its text, one spanning the clip."""
    if transcript.segments:
        return transcript.segments
    text = transcript.text.strip()
    return (Segment(0.0, duration, text),) if text else ()


def segment(index: int, part: Segment) -> dict[str, Any]:
    """A verbose_json segment; the scores whisper would report are not known here and are given as neutral."""
    return {"id": index, "seek": 0, "start": round(part.start, 3), "end": round(part.end, 3), "text": part.text,
            "tokens": [], "temperature": 0.0, "avg_logprob": 0.0, "compression_ratio": 1.0, "no_speech_prob": 0.0}


def timestamp(seconds: float, separator: str) -> str:
    """``01:02:03,456`` (SubRip, separator ``,``) or ``01:02:03.456`` (WebVTT, ``.``)."""
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def srt(segments: Sequence[Segment]) -> str:
    return "".join(f"{number}\n{timestamp(part.start, ',')} --> {timestamp(part.end, ',')}\n{part.text}\n\n"
                   for number, part in enumerate(segments, 1))


def vtt(segments: Sequence[Segment]) -> str:
    return "WEBVTT\n\n" + "".join(f"{timestamp(part.start, '.')} --> {timestamp(part.end, '.')}\n{part.text}\n\n"
                                    for part in segments)


async def _events(transcript: Transcript) -> AsyncIterator[str]:
    text = transcript.text.strip()
    for event in ({"type": "transcript.text.delta", "delta": text}, {"type": "transcript.text.done", "text": text}):
        yield f"data: {json.dumps(event, ensure_ascii=False)}\n\n"
