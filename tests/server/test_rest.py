"""The OpenAI-compatible REST endpoints on scripted fakes, with the official SDK (and raw httpx for what the SDK will
not send) over a real loopback socket."""

from __future__ import annotations

import asyncio
import io
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import av
import httpx
import numpy as np
import openai
import pytest
import soundfile as sf
from openai import AsyncOpenAI

from omni.aio import closing, iterate_in_thread
from omni.audio.io import encode_wav
from omni.backends.base import LLM, TTS, GenerationOptions
from omni.backends.openai_llm import OpenAILLM
from omni.backends.openai_stt import OpenAISTT
from omni.backends.openai_tts import OpenAITTS
from omni.clock import RealClock
from omni.server.rest_chat import StopText
from omni.server.rest_transcribe import srt, timestamp, vtt
from omni.server.state import ServerState
from omni.types import AudioChunk, ChatMessage, LLMEvent, Segment, TextDelta, Tool, ToolCall, Usage
from tests.fakes.backends import ScriptedLLM, ScriptedSTT, speech
from tests.server.serving import fake_state, serving

WEATHER_TOOL: Any = {"type": "function", "function": {
    "name": "get_weather", "description": "Weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}


def client(base_url: str, key: str = "x") -> AsyncOpenAI:
    return AsyncOpenAI(base_url=base_url + "/v1", api_key=key, max_retries=0)


@dataclass
class RecordingLLM(ScriptedLLM):
    """A scripted LLM that also keeps the tools and options of each call."""

    options: list[GenerationOptions] = field(default_factory=list)
    offered: list[list[Tool]] = field(default_factory=list)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when a call's stream has ended, finished or closed early (then ``closed`` has counted it)."""

    async def _chat(
        self, messages: Sequence[ChatMessage], tools: Sequence[Tool], options: GenerationOptions
    ) -> AsyncIterator[LLMEvent]:
        self.options.append(options)
        self.offered.append(list(tools))
        try:
            async with closing(super()._chat(messages, tools, options)) as events:
                async for event in events:
                    yield event
        finally:
            self.ended.set()


class ThreadedLLM(LLM):
    """Generates in a worker thread through ``omni.aio.iterate_in_thread``, as llama.cpp does, and notes whether
    that thread was still running when a stream finished closing (llama.cpp crashes if the next call overlaps)."""

    def __init__(self) -> None:
        self.working = threading.Event()
        self.overlapped: list[bool] = []
        self.ended = asyncio.Event()

    def _words(self, stop: threading.Event) -> Iterator[str]:
        self.working.set()
        try:
            for _ in range(400):
                if stop.is_set():
                    return
                time.sleep(0.02)
                yield "word "
        finally:
            time.sleep(0.2)  # freeing the model takes a while
            self.working.clear()

    async def _chat(
        self, messages: Sequence[ChatMessage], tools: Sequence[Tool], options: GenerationOptions
    ) -> AsyncIterator[LLMEvent]:
        try:
            async with closing(iterate_in_thread(self._words)) as words:
                async for word in words:
                    yield TextDelta(word)
        finally:
            self.overlapped.append(self.working.is_set())
            self.ended.set()


class BrokenLLM(LLM):
    async def _chat(
        self, messages: Sequence[ChatMessage], tools: Sequence[Tool], options: GenerationOptions
    ) -> AsyncIterator[LLMEvent]:
        if not messages:  # never true: the yield makes this an async generator, like every backend stream
            yield TextDelta("")
        raise RuntimeError("the model crashed")


def with_llm(backend: LLM, **settings: Any) -> ServerState:
    state = fake_state(**settings)
    return ServerState(state.settings, replace(state.backends, llm=backend))


def recording(answers: list[str | list[ToolCall]], per_token: float = 0.01) -> RecordingLLM:
    return RecordingLLM(RealClock(), answers, first_token=0.01, per_token=per_token)


def requests_counted(state: ServerState, endpoint: str, status: int) -> float:
    value = state.metrics.registry.get_sample_value(
        "omni_http_requests_total", {"endpoint": endpoint, "status": str(status)})
    return value or 0.0


# -- models ------------------------------------------------------------------------------------------------

async def test_models_are_listed_and_retrieved_and_an_unknown_one_is_a_404() -> None:
    state = fake_state()
    async with serving(state) as url:
        api = client(url)
        listed = [model.id for model in (await api.models.list()).data]
        assert state.model_ids["chat"] in listed and "omni-realtime" in listed
        assert (await api.models.retrieve(state.model_ids["chat"])).id == state.model_ids["chat"]
        with pytest.raises(openai.NotFoundError) as missing:
            await api.models.retrieve("gpt-9")
    assert "gpt-9" in missing.value.message
    assert isinstance(missing.value.body, dict) and missing.value.body["code"] == "model_not_found"


# -- chat completions --------------------------------------------------------------------------------------

async def test_a_chat_completion_returns_the_answer_with_usage() -> None:
    llm = recording(["The capital of France is Paris."])
    async with serving(with_llm(llm)) as url:
        answer = await client(url).chat.completions.create(
            model="gpt-4o-mini", temperature=0.2, max_tokens=40,
            messages=[{"role": "developer", "content": "Be brief."}, {"role": "user", "content": "Capital?"}])
    choice = answer.choices[0]
    assert choice.message.content == "The capital of France is Paris."
    assert choice.finish_reason == "stop" and answer.object == "chat.completion"
    assert answer.usage is not None and answer.usage.completion_tokens == 5
    assert answer.usage.total_tokens == answer.usage.prompt_tokens + 5
    assert [(m.role, m.content) for m in llm.prompts[0]] == [("system", "Be brief."), ("user", "Capital?")]
    assert llm.options[0].temperature == 0.2 and llm.options[0].max_tokens == 40


async def test_unset_options_take_the_servers_temperature_and_no_token_limit() -> None:
    llm = recording(["Fine."])
    async with serving(with_llm(llm, llm={"temperature": 0.3})) as url:
        await client(url).chat.completions.create(model="m", messages=[{"role": "user", "content": "Hi"}])
    assert llm.options[0].temperature == 0.3 and llm.options[0].max_tokens is None


async def test_hitting_max_tokens_finishes_with_length() -> None:
    async with serving(fake_state(answers=["one two three four five six"])) as url:
        answer = await client(url).chat.completions.create(
            model="m", max_completion_tokens=5, messages=[{"role": "user", "content": "Count"}])
    assert answer.choices[0].finish_reason == "length"


async def test_a_streamed_chat_completion_assembles_to_the_answer_and_ends_with_usage() -> None:
    answer = "Streaming works one word at a time."
    async with serving(fake_state(answers=[answer])) as url:
        stream = await client(url).chat.completions.create(
            model="m", stream=True, stream_options={"include_usage": True},
            messages=[{"role": "user", "content": "Go"}])
        chunks = [chunk async for chunk in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == answer
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 5
    assert all(c.usage is None for c in chunks[:-1])


async def test_a_stream_without_include_usage_has_no_usage_chunk() -> None:
    async with serving(fake_state(answers=["Short."])) as url:
        stream = await client(url).chat.completions.create(
            model="m", stream=True, messages=[{"role": "user", "content": "Go"}])
        chunks = [chunk async for chunk in stream]
    assert all(c.choices and c.usage is None for c in chunks)


async def test_tool_calls_come_back_as_tool_calls_and_the_results_reach_the_model() -> None:
    call = ToolCall("call_1", "get_weather", '{"city": "Paris"}')
    llm = recording([[call], "It is sunny in Paris."])
    async with serving(with_llm(llm)) as url:
        api = client(url)
        first = await api.chat.completions.create(
            model="m", tools=[WEATHER_TOOL], messages=[{"role": "user", "content": "Weather in Paris?"}])
        message = first.choices[0].message
        assert first.choices[0].finish_reason == "tool_calls" and message.content is None
        assert message.tool_calls is not None
        made = message.tool_calls[0]
        assert made.type == "function"
        assert (made.id, made.function.name, made.function.arguments) == ("call_1", "get_weather", call.arguments)
        second = await api.chat.completions.create(model="m", tools=[WEATHER_TOOL], messages=[
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "call_1", "type": "function",
                 "function": {"name": "get_weather", "arguments": call.arguments}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "sunny, 24 C"},
        ])
    assert second.choices[0].message.content == "It is sunny in Paris."
    assert llm.offered[0] == [Tool("get_weather", "Weather in a city", WEATHER_TOOL["function"]["parameters"])]
    assistant, tool = llm.prompts[1][1], llm.prompts[1][2]
    assert assistant.tool_calls == (call,)
    assert (tool.role, tool.tool_call_id, tool.content) == ("tool", "call_1", "sunny, 24 C")


async def test_tool_calls_stream_as_deltas() -> None:
    calls = [ToolCall("call_a", "get_weather", '{"city": "Oslo"}'),
             ToolCall("call_b", "get_weather", '{"city": "Rome"}')]
    async with serving(fake_state(answers=[calls])) as url:
        stream = await client(url).chat.completions.create(
            model="m", stream=True, tools=[WEATHER_TOOL], messages=[{"role": "user", "content": "Oslo and Rome?"}])
        chunks = [chunk async for chunk in stream]
    deltas = [d for c in chunks for d in (c.choices[0].delta.tool_calls or [])]
    assert [(d.index, d.id) for d in deltas] == [(0, "call_a"), (1, "call_b")]
    assert [d.function.arguments for d in deltas if d.function] == ['{"city": "Oslo"}', '{"city": "Rome"}']
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


async def test_a_named_tool_choice_offers_only_that_tool_and_none_offers_nothing_to_call() -> None:
    other: Any = {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}}
    llm = recording(["a", "b"])
    async with serving(with_llm(llm)) as url:
        api = client(url)
        await api.chat.completions.create(model="m", tools=[WEATHER_TOOL, other], messages=[
            {"role": "user", "content": "?"}], tool_choice={"type": "function", "function": {"name": "get_time"}})
        await api.chat.completions.create(model="m", tools=[WEATHER_TOOL, other], tool_choice="none",
                                          messages=[{"role": "user", "content": "?"}])
        with pytest.raises(openai.BadRequestError) as unknown:
            await api.chat.completions.create(model="m", tools=[WEATHER_TOOL], messages=[
                {"role": "user", "content": "?"}], tool_choice={"type": "function", "function": {"name": "nope"}})
    assert [t.name for t in llm.offered[0]] == ["get_time"] and llm.options[0].tool_choice == "get_time"
    assert llm.options[1].tool_choice == "none"
    assert "'nope'" in unknown.value.message and unknown.value.param == "tool_choice"


async def test_a_stop_sequence_cuts_the_answer_and_stops_the_model() -> None:
    llm = recording(["one two three STOP four five six seven"])
    async with serving(with_llm(llm)) as url:
        api = client(url)
        whole = await api.chat.completions.create(model="m", stop=["STOP"], messages=[
            {"role": "user", "content": "Count"}])
        assert whole.choices[0].message.content == "one two three "
        assert whole.choices[0].finish_reason == "stop"
        assert whole.usage is not None and whole.usage.completion_tokens == 3  # estimated: cut before the usage
    assert llm.closed == 1


async def test_a_stop_sequence_split_across_deltas_is_never_streamed() -> None:
    async with serving(fake_state(answers=["alpha beta gamma delta"])) as url:
        stream = await client(url).chat.completions.create(
            model="m", stream=True, stop="ta gam", messages=[{"role": "user", "content": "Go"}])
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text == "alpha be"


def test_stop_text_holds_back_only_what_could_start_a_stop_sequence() -> None:
    stop = StopText(["</end>", "##"])
    assert stop.push("Hello <") == "Hello "
    assert stop.push("b>") == "<b>"
    assert stop.push(" done #") == " done "
    assert stop.finish() == "#"
    cut = StopText(["</end>"])
    assert (cut.push("x </e"), cut.push("nd> more"), cut.push("ignored")) == ("x ", "", "")
    assert cut.stopped


async def test_a_client_that_disconnects_mid_stream_stops_the_generation() -> None:
    llm = recording(["word " * 400], per_token=0.02)
    body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "Talk"}]}
    async with serving(with_llm(llm)) as url, httpx.AsyncClient() as http:
        async with http.stream("POST", url + "/v1/chat/completions", json=body) as response:
            lines = response.aiter_lines()
            while "word" not in await anext(lines):
                pass
        await asyncio.wait_for(llm.ended.wait(), 5)  # the server notices the disconnect, not the answer's end
        assert llm.closed == 1


async def test_after_a_disconnect_the_stream_closes_only_once_the_worker_thread_has_stopped() -> None:
    llm = ThreadedLLM()
    body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "Talk"}]}
    async with serving(with_llm(llm)) as url, httpx.AsyncClient() as http:
        async with http.stream("POST", url + "/v1/chat/completions", json=body) as response:
            async for line in response.aiter_lines():
                if "word" in line:
                    break
        await asyncio.wait_for(llm.ended.wait(), 5)
    assert llm.overlapped == [False]


async def test_a_client_that_gives_up_on_a_whole_completion_stops_the_generation() -> None:
    llm = recording(["word " * 400], per_token=0.02)
    state = with_llm(llm)
    async with serving(state) as url:
        with pytest.raises(openai.APITimeoutError):
            await AsyncOpenAI(base_url=url + "/v1", api_key="x", max_retries=0, timeout=0.5).chat.completions.create(
                model="m", messages=[{"role": "user", "content": "Talk"}])
        await asyncio.wait_for(llm.ended.wait(), 5)
        assert llm.closed == 1
    assert requests_counted(state, "chat", 499) == 1  # the server has finished with every request on leaving


async def test_a_failing_model_is_a_500_with_its_error_and_in_a_stream_an_error_event() -> None:
    state = with_llm(BrokenLLM())
    async with serving(state) as url:
        api = client(url)
        with pytest.raises(openai.InternalServerError) as whole:
            await api.chat.completions.create(model="m", messages=[{"role": "user", "content": "Hi"}])
        stream = await api.chat.completions.create(model="m", stream=True, messages=[{"role": "user", "content": "Hi"}])
        with pytest.raises(openai.APIError) as streamed:
            async for _ in stream:
                pass
    assert "the model crashed" in whole.value.message
    assert "the model crashed" in streamed.value.message
    assert requests_counted(state, "chat", 500) == 1


@pytest.mark.parametrize(("extra", "param", "words"), [
    ({"n": 2}, "n", "n=2"),
    ({"temperature": 3}, "temperature", "less than or equal to 2"),
    ({"logprobs": True}, "logprobs", "logprobs"),
    ({"response_format": {"type": "json_object"}}, "response_format", "json_object"),
    ({"tool_choice": "auto"}, "tool_choice", "only allowed when tools"),
    ({"messages": []}, "messages", "at least 1"),
    ({"messages": [{"role": "user", "content": [{"type": "audio"}]}]}, "messages[0].content[0].type", "'image_url'"),
    ({"messages": [{"role": "tool", "content": "x"}]}, "messages[0]", "tool_call_id"),
    ({"messages": [{"role": "user"}]}, "messages[0]", "needs 'content'"),
    ({"messages": [{"role": "robot", "content": "x"}]}, "messages[0].role", "'assistant'"),
])
async def test_bad_chat_requests_are_a_400_naming_the_field(extra: dict[str, Any], param: str, words: str) -> None:
    request: dict[str, Any] = {"model": "m", "messages": [{"role": "user", "content": "Hi"}], **extra}
    async with serving(fake_state()) as url:
        with pytest.raises(openai.BadRequestError) as error:
            await client(url).chat.completions.create(**request)
    assert error.value.param == param
    assert words in error.value.message


@pytest.mark.parametrize(("body", "param", "words"), [
    (b'{"model": "m", "messages": [', None, "not valid JSON"),
    (b"", None, "empty"),
    (b"[1, 2]", None, "should be an object"),
    (b'{"model": "m"}', "messages", "Field required"),
    (b'{"messages": [{"role": "user", "content": "x"}], "temperature": "hot"}', "temperature", "valid number"),
    (b'{"messages": [{"role": "user", "content": "x"}], "stream": "yes"}', "stream", "valid boolean"),
    (b'{"messages": [{"role": "user", "content": 5}]}', "messages[0].content", "valid string or"),
])
async def test_malformed_bodies_are_a_400_not_a_500(body: bytes, param: str | None, words: str) -> None:
    async with serving(fake_state()) as url, httpx.AsyncClient() as http:
        response = await http.post(url + "/v1/chat/completions", content=body,
                                   headers={"content-type": "application/json"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param
    assert words in error["message"]


# -- transcriptions ----------------------------------------------------------------------------------------

def wav_upload(seconds: float = 1.5) -> bytes:
    return encode_wav(speech(seconds))


async def test_transcription_in_every_response_format() -> None:
    text = "Hello from the scripted recogniser."
    state = fake_state([text] * 5)
    async with serving(state) as url:
        api = client(url).audio.transcriptions
        upload = ("clip.wav", wav_upload(1.5), "audio/wav")
        as_json = await api.create(model="whisper-1", file=upload)
        as_text = await api.create(model="whisper-1", file=upload, response_format="text")
        verbose = await api.create(model="whisper-1", file=upload, response_format="verbose_json")
        as_srt = await api.create(model="whisper-1", file=upload, response_format="srt")
        as_vtt = await api.create(model="whisper-1", file=upload, response_format="vtt")
    assert as_json.text == text
    assert as_text.strip() == text
    assert verbose.text == text and verbose.language == "english" and verbose.duration == pytest.approx(1.5)
    assert verbose.segments is not None and len(verbose.segments) == 1
    assert verbose.segments[0].start == 0.0 and verbose.segments[0].end == pytest.approx(1.5)
    assert as_srt == f"1\n00:00:00,000 --> 00:00:01,500\n{text}\n\n"
    assert as_vtt == f"WEBVTT\n\n00:00:00.000 --> 00:00:01.500\n{text}\n\n"
    stt = state.backends.stt
    assert isinstance(stt, ScriptedSTT) and stt.heard == [pytest.approx(1.5)] * 5


def test_timestamps_for_subtitles() -> None:
    assert timestamp(3723.4567, ",") == "01:02:03,457"
    assert timestamp(0.0, ".") == "00:00:00.000"
    assert srt(()) == "" and vtt(()) == "WEBVTT\n\n"
    parts = (Segment(0.0, 1.25, "One."), Segment(1.5, 3.0, "Two."))
    assert srt(parts) == "1\n00:00:00,000 --> 00:00:01,250\nOne.\n\n2\n00:00:01,500 --> 00:00:03,000\nTwo.\n\n"
    assert vtt(parts) == "WEBVTT\n\n00:00:00.000 --> 00:00:01.250\nOne.\n\n00:00:01.500 --> 00:00:03.000\nTwo.\n\n"


async def test_a_given_language_reaches_the_recogniser() -> None:
    async with serving(fake_state(["안녕하세요"])) as url:
        verbose = await client(url).audio.transcriptions.create(
            model="whisper-1", file=("a.wav", wav_upload()), language="ko", response_format="verbose_json")
    assert (verbose.language, verbose.text) == ("korean", "안녕하세요")


def compressed(fmt: str, codec: str, seconds: float) -> bytes:
    """``seconds`` of the test tone in a container libsndfile cannot read, made with FFmpeg (through PyAV)."""
    rate = 48000
    samples = speech(seconds, rate).samples
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=fmt) as container:
        stream = container.add_stream(codec, rate=rate, layout="mono")
        assert isinstance(stream, av.AudioStream)
        frame = av.AudioFrame.from_ndarray(samples[np.newaxis, :], format="flt", layout="mono")
        frame.sample_rate = rate
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    return buffer.getvalue()


@pytest.mark.parametrize(("name", "make"), [
    ("clip.mp3", lambda: sf_bytes(speech(2.0).samples, 16000, "MP3", "MPEG_LAYER_III")),
    ("clip.ogg", lambda: sf_bytes(speech(2.0).samples, 16000, "OGG", "VORBIS")),
    ("clip.webm", lambda: compressed("webm", "libopus", 2.0)),
    ("clip.m4a", lambda: compressed("ipod", "aac", 2.0)),
])
async def test_compressed_uploads_are_decoded(name: str, make: Any) -> None:
    state = fake_state(["ok"])
    async with serving(state) as url:
        result = await client(url).audio.transcriptions.create(model="whisper-1", file=(name, make()))
    stt = state.backends.stt
    assert result.text == "ok" and isinstance(stt, ScriptedSTT)
    assert stt.heard[0] == pytest.approx(2.0, abs=0.1)


def sf_bytes(samples: Any, rate: int, container: str, subtype: str) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format=container, subtype=subtype)
    return buffer.getvalue()


async def test_a_streamed_transcription_ends_with_the_done_event() -> None:
    async with serving(fake_state(["streamed text"])) as url:
        stream = await client(url).audio.transcriptions.create(
            model="gpt-4o-transcribe", file=("a.wav", wav_upload()), stream=True)
        events = [event async for event in stream]
    assert [e.type for e in events] == ["transcript.text.delta", "transcript.text.done"]
    assert events[-1].type == "transcript.text.done" and events[-1].text == "streamed text"


@pytest.mark.parametrize(("upload", "words"), [
    (("notes.txt", b"this is not audio at all, just some words\n" * 20), "is not audio"),
    (("empty.wav", b""), "contains no audio"),
    (("silent.wav", encode_wav(AudioChunk(np.zeros(0, np.float32), 16000))), "contains no audio"),
])
async def test_an_upload_that_is_not_audio_is_a_400(upload: tuple[str, bytes], words: str) -> None:
    async with serving(fake_state(["never"])) as url:
        with pytest.raises(openai.BadRequestError) as error:
            await client(url).audio.transcriptions.create(model="whisper-1", file=upload)
    assert words in error.value.message and upload[0] in error.value.message
    assert error.value.param == "file"


@pytest.mark.parametrize(("data", "files", "param", "words"), [
    ({"model": "whisper-1"}, None, "file", "file is required"),
    ({"model": "whisper-1", "file": "text"}, {"other": ("a.wav", b"x")}, "file", "not a text field"),
    ({"response_format": "docx"}, {"file": ("a.wav", wav_upload())}, "response_format", "'docx'"),
    ({"temperature": "warm"}, {"file": ("a.wav", wav_upload())}, "temperature", "a number"),
    ({"timestamp_granularities[]": "word"}, {"file": ("a.wav", wav_upload())}, "timestamp_granularities", "word"),
])
async def test_bad_transcription_requests_are_a_400(
    data: dict[str, str], files: dict[str, tuple[str, bytes]] | None, param: str, words: str
) -> None:
    async with serving(fake_state(["never"])) as url, httpx.AsyncClient() as http:
        response = await http.post(url + "/v1/audio/transcriptions", data=data, files=files or {"x": ("x", b"")})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == param and words in error["message"]


async def test_a_json_body_for_a_transcription_is_a_400_saying_multipart() -> None:
    async with serving(fake_state()) as url, httpx.AsyncClient() as http:
        response = await http.post(url + "/v1/audio/transcriptions", json={"file": "clip.wav"})
    assert response.status_code == 400 and "multipart/form-data" in response.json()["error"]["message"]


# -- speech ------------------------------------------------------------------------------------------------

SENTENCE = "one two three four five six"
"""Six words: the scripted TTS speaks 1.5 seconds of tone at 24 kHz."""


async def test_speech_as_wav_and_pcm_has_the_spoken_length_at_24_khz() -> None:
    async with serving(fake_state()) as url:
        api = client(url).audio.speech
        wav = await api.create(model="tts-1", voice="alloy", input=SENTENCE, response_format="wav")
        pcm = await api.create(model="tts-1", voice="alloy", input=SENTENCE, response_format="pcm")
    samples, rate = sf.read(io.BytesIO(wav.content), dtype="float32")
    assert rate == 24000 and len(samples) == pytest.approx(1.5 * 24000, abs=2)
    assert float(np.mean(samples)) == pytest.approx(0.1, abs=0.001)
    assert wav.response.headers["content-type"] == "audio/wav"
    ints = np.frombuffer(pcm.content, dtype="<i2")
    assert len(ints) == pytest.approx(1.5 * 24000, abs=2)
    assert float(np.mean(ints[100:-100])) / 32768 == pytest.approx(0.1, abs=0.001)


async def test_speech_speed_multiplies_the_pace() -> None:
    async with serving(fake_state()) as url:
        api = client(url).audio.speech
        fast = await api.create(model="tts-1", voice="alloy", input=SENTENCE, response_format="pcm", speed=2.0)
        slow = await api.create(model="tts-1", voice="alloy", input=SENTENCE, response_format="wav", speed=0.5)
    assert len(fast.content) // 2 == pytest.approx(0.75 * 24000, abs=2)
    assert sf.info(io.BytesIO(slow.content)).duration == pytest.approx(3.0, abs=0.01)


def decoded_seconds(data: bytes) -> float:
    """Length of any audio file, decoded by FFmpeg (PyAV), so every format is measured the same way."""
    with av.open(io.BytesIO(data), mode="r") as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        return samples / stream.rate


@pytest.mark.parametrize("fmt", ["mp3", "opus", "flac", "aac"])
async def test_speech_in_a_compressed_format_decodes_to_the_spoken_length(fmt: Any) -> None:
    async with serving(fake_state()) as url:
        speech_file = await client(url).audio.speech.create(
            model="tts-1", voice="nova", input=SENTENCE, response_format=fmt)
    # Encoders add up to a frame of priming and padding.
    assert decoded_seconds(speech_file.content) == pytest.approx(1.5, abs=0.1)


async def test_the_default_speech_format_is_mp3() -> None:
    async with serving(fake_state()) as url, httpx.AsyncClient() as http:
        response = await http.post(url + "/v1/audio/speech", json={"model": "tts-1", "input": SENTENCE})
    assert response.status_code == 200 and response.headers["content-type"] == "audio/mpeg"
    assert decoded_seconds(response.content) == pytest.approx(1.5, abs=0.1)


class MuteTTS(TTS):
    """Says nothing, as a voice does for input that is only punctuation."""

    sample_rate = 22050

    async def _synthesize(
        self, text: str, voice: str | None, language: str | None, speed: float
    ) -> AsyncIterator[AudioChunk]:
        nothing: tuple[AudioChunk, ...] = ()
        for chunk in nothing:
            yield chunk


@pytest.mark.parametrize("fmt", ["mp3", "opus", "aac", "flac", "wav", "pcm"])
async def test_input_with_nothing_to_say_is_still_a_valid_file(fmt: str) -> None:
    state = fake_state()
    async with serving(ServerState(state.settings, replace(state.backends, tts=MuteTTS()))) as url, \
            httpx.AsyncClient() as http:
        response = await http.post(url + "/v1/audio/speech", json={"input": "...", "response_format": fmt})
    assert response.status_code == 200
    if fmt == "pcm":
        assert response.content == b""
    else:
        assert decoded_seconds(response.content) < 0.2


@pytest.mark.parametrize(("body", "param", "words"), [
    ({"input": ""}, "input", "at least 1 character"),
    ({"input": "   "}, "input", "no text to speak"),
    ({"input": "x" * 4097}, "input", "at most 4096"),
    ({"input": "hi", "response_format": "ogg"}, "response_format", "mp3, opus, aac, flac, wav, pcm"),
    ({"input": "hi", "speed": 5}, "speed", "less than or equal to 4"),
    ({"input": "hi", "voice": 7}, "voice", "valid string"),
    ({"input": "hi", "stream_format": "sse"}, "stream_format", "'sse' is not supported"),
    ({"voice": "alloy"}, "input", "Field required"),
])
async def test_bad_speech_requests_are_a_400_naming_the_field(body: dict[str, Any], param: str, words: str) -> None:
    async with serving(fake_state()) as url, httpx.AsyncClient() as http:
        response = await http.post(url + "/v1/audio/speech", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == param and words in error["message"]


async def test_a_missing_backend_is_a_503_naming_the_setting() -> None:
    state = fake_state()
    bare = ServerState(state.settings, replace(state.backends, stt=None, tts=None))
    async with serving(bare) as url:
        api = client(url)
        with pytest.raises(openai.InternalServerError) as no_stt:
            await api.audio.transcriptions.create(model="whisper-1", file=("a.wav", wav_upload()))
        with pytest.raises(openai.InternalServerError) as no_tts:
            await api.audio.speech.create(model="tts-1", voice="alloy", input="hi")
    assert no_stt.value.status_code == 503 and "stt.backend" in no_stt.value.message
    assert no_tts.value.status_code == 503 and "tts.backend" in no_tts.value.message


# -- keys, limits, metrics ---------------------------------------------------------------------------------

async def test_api_keys_guard_every_endpoint_but_healthz() -> None:
    async with serving(fake_state(answers=["Yes."], server={"api_keys": ["k"]})) as url, \
            httpx.AsyncClient() as http:
        with pytest.raises(openai.AuthenticationError) as wrong:
            await client(url, key="wrong").chat.completions.create(model="m", messages=[
                {"role": "user", "content": "Hi"}])
        bare = await http.post(url + "/v1/chat/completions", json={"messages": [{"role": "user", "content": "Hi"}]})
        right = await client(url, key="k").chat.completions.create(model="m", messages=[
            {"role": "user", "content": "Hi"}])
        health = await http.get(url + "/healthz")
    assert wrong.value.status_code == 401 and "invalid API key" in wrong.value.message
    assert bare.status_code == 401 and "missing API key" in bare.json()["error"]["message"]
    assert right.choices[0].message.content == "Yes."
    assert health.status_code == 200


async def test_a_body_over_the_size_limit_is_a_413() -> None:
    async with serving(fake_state(server={"max_message_bytes": 4096})) as url:
        api = client(url)
        with pytest.raises(openai.APIStatusError) as chat:
            await api.chat.completions.create(model="m", messages=[{"role": "user", "content": "x" * 5000}])
        with pytest.raises(openai.APIStatusError) as upload:
            await api.audio.transcriptions.create(model="whisper-1", file=("a.wav", wav_upload(1.0)))
    assert chat.value.status_code == 413 and upload.value.status_code == 413
    assert "4096" in chat.value.message


async def test_requests_are_counted_by_endpoint_and_status() -> None:
    state = fake_state(answers=["Hi."])
    async with serving(state) as url, httpx.AsyncClient() as http:
        await client(url).chat.completions.create(model="m", messages=[{"role": "user", "content": "Hi"}])
        await http.post(url + "/v1/chat/completions", content=b"{")
        await http.post(url + "/v1/audio/speech", json={"input": "one two", "response_format": "wav"})
        metrics = (await http.get(url + "/metrics")).text
    assert requests_counted(state, "chat", 200) == 1 and requests_counted(state, "chat", 400) == 1
    assert requests_counted(state, "speech", 200) == 1
    assert 'omni_http_requests_total{endpoint="chat",status="400"} 1.0' in metrics


async def test_an_error_body_has_openais_four_fields() -> None:
    async with serving(fake_state()) as url, httpx.AsyncClient() as http:
        response = await http.post(url + "/v1/audio/speech", json={"input": ""})
    assert set(response.json()["error"]) == {"message", "type", "param", "code"}
    assert json.loads(response.content)["error"]["type"] == "invalid_request_error"


# -- Omni as another Omni's remote backend -----------------------------------------------------------------

async def test_omnis_own_remote_backends_work_against_these_endpoints() -> None:
    call = ToolCall("call_9", "get_weather", '{"city": "Seoul"}')
    state = fake_state(["remote words"], ["Hello from afar.", [call]])
    async with serving(state) as url:
        base = url + "/v1"
        llm, stt, tts = (OpenAILLM(base, model="m"), OpenAISTT(base, model="whisper-1"),
                         OpenAITTS(base, model="tts-1", voice="alloy"))
        try:
            async with closing(llm.chat([ChatMessage("user", "Hi")])) as events:
                first = [event async for event in events]
            tools = [Tool("get_weather", "Weather", {"type": "object", "properties": {}})]
            async with closing(llm.chat([ChatMessage("user", "Seoul?")], tools=tools)) as events:
                second = [event async for event in events]
            heard = await stt.transcribe(speech(1.0).samples)
            async with closing(tts.synthesize("one two three four")) as chunks:
                spoken = [chunk async for chunk in chunks]
        finally:
            for backend in (llm, stt, tts):
                await backend.aclose()
    assert "".join(e.text for e in first if isinstance(e, TextDelta)) == "Hello from afar."
    assert any(isinstance(e, Usage) for e in first)
    assert [e for e in second if isinstance(e, ToolCall)] == [call]
    assert (heard.text, heard.language) == ("remote words", "en")
    assert {c.sample_rate for c in spoken} == {24000}
    assert sum(len(c.samples) for c in spoken) == pytest.approx(24000, abs=2)
