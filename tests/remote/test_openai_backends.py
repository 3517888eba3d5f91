"""The OpenAI-compatible LLM, STT and TTS backends against a real loopback HTTP server."""

from __future__ import annotations

import asyncio
import io
import json
import wave
from collections.abc import AsyncIterator, Callable, Iterator

import numpy as np
import pytest

from omni.backends import openai_llm, openai_stt, openai_tts
from omni.backends.base import GenerationOptions
from omni.backends.openai_http import normalise_base_url, server_message, sse_data
from omni.backends.openai_llm import OpenAILLM
from omni.backends.openai_stt import OpenAISTT, language_code
from omni.backends.openai_tts import OpenAITTS
from omni.config import Settings, load_settings
from omni.errors import BackendError, ConfigError
from omni.types import AudioChunk, ChatMessage, LLMEvent, TextDelta, Tool, ToolCall, Usage
from tests.remote.openai_peer import (
    ChatScript,
    OpenAIPeer,
    ScriptedToolCall,
    SpeechScript,
    TranscriptionScript,
    unused_port,
)

KEY = "sk-omni-test-key"


@pytest.fixture(scope="module")
def peer() -> Iterator[OpenAIPeer]:
    with OpenAIPeer(api_key=KEY) as server:
        yield server


@pytest.fixture(autouse=True)
def fresh_scripts(peer: OpenAIPeer) -> None:
    peer.chat = ChatScript()
    peer.transcription = TranscriptionScript()
    peer.speech = SpeechScript()
    peer.stream_closed_early.clear()


def llm_for(peer: OpenAIPeer, *, key: str = KEY, timeout: float = 30.0) -> OpenAILLM:
    return OpenAILLM(peer.base_url, model="peer-chat", api_key=key, timeout=timeout)


async def collect(llm: OpenAILLM, messages: list[ChatMessage], **kwargs: object) -> list[LLMEvent]:
    try:
        return [event async for event in llm.chat(messages, **kwargs)]  # type: ignore[arg-type]
    finally:
        await llm.aclose()


HELLO = [ChatMessage("user", "Say hello.")]

# --- the shared HTTP layer ---


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://localhost:11434", "http://localhost:11434/v1"),
        ("http://localhost:11434/", "http://localhost:11434/v1"),
        ("https://api.openai.com/v1/", "https://api.openai.com/v1"),
        (" http://h:8000/openai/v1 ", "http://h:8000/openai/v1"),
    ],
)
def test_base_url_normalisation(given: str, expected: str) -> None:
    assert normalise_base_url(given) == expected


@pytest.mark.parametrize("bad", ["localhost:11434/v1", "ftp://host/v1", "http://"])
def test_base_url_without_http_scheme_or_host_is_a_config_error(bad: str) -> None:
    with pytest.raises(ConfigError, match="http://"):
        normalise_base_url(bad)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"error": {"message": "model not found", "type": "x", "code": 404}}', "model not found"),
        (
            b'{"error": "model \\"x\\" not found, try pulling it first"}',
            'model "x" not found, try pulling it first',
        ),
        (b'{"object": "error", "message": "bad temperature"}', "bad temperature"),
        (b'{"detail": "Not authenticated"}', "Not authenticated"),
        (b"Internal Server Error", "Internal Server Error"),
        (b"", "(empty body)"),
    ],
)
def test_server_message_reads_the_common_error_shapes(body: bytes, expected: str) -> None:
    assert server_message(body) == expected


async def test_sse_parser_joins_multiline_data_and_skips_comments() -> None:
    async def lines() -> AsyncIterator[str]:
        for line in [
            ": keep-alive",
            "",
            "data: one",
            "",
            "event: x",
            "data:two",
            "data: three",
            "",
            "data: tail",
        ]:
            yield line

    assert [d async for d in sse_data(lines())] == ["one", "two\nthree", "tail"]


# --- LLM ---


async def test_streamed_text_arrives_in_order_and_joins_to_the_answer(peer: OpenAIPeer) -> None:
    peer.chat = ChatScript(pieces=["The capital", " of France", " is", " Paris."], usage=(21, 7))
    events = await collect(llm_for(peer), HELLO)
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert deltas == ["The capital", " of France", " is", " Paris."]
    assert "".join(deltas) == "The capital of France is Paris."
    assert events[-1] == Usage(prompt_tokens=21, completion_tokens=7)
    assert not [e for e in events if isinstance(e, ToolCall)]


async def test_request_body_carries_history_tools_and_options(peer: OpenAIPeer) -> None:
    earlier_call = ToolCall("call_7", "get_time", '{"zone": "UTC"}')
    history = [
        ChatMessage("system", "Be brief."),
        ChatMessage("user", "What time is it?"),
        ChatMessage("assistant", "", tool_calls=(earlier_call,)),
        ChatMessage("tool", "12:00", tool_call_id="call_7"),
        ChatMessage("assistant", "It is noon."),
        ChatMessage("user", "And the weather?"),
    ]
    weather = Tool(
        "get_weather",
        "Weather for a city",
        {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    )
    options = GenerationOptions(temperature=0.25, max_tokens=77, tool_choice="get_weather")
    await collect(llm_for(peer), history, tools=[weather], options=options)

    sent = peer.last("/v1/chat/completions")
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    body = sent.json
    assert body is not None
    assert body["model"] == "peer-chat"
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["temperature"] == 0.25
    assert body["max_tokens"] == 77
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "What time is it?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_7",
                    "type": "function",
                    "function": {"name": "get_time", "arguments": '{"zone": "UTC"}'},
                }
            ],
        },
        {"role": "tool", "content": "12:00", "tool_call_id": "call_7"},
        {"role": "assistant", "content": "It is noon."},
        {"role": "user", "content": "And the weather?"},
    ]
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather for a city",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city"],
                },
            },
        }
    ]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}


async def test_no_tools_means_no_tool_fields(peer: OpenAIPeer) -> None:
    await collect(llm_for(peer), HELLO, options=GenerationOptions(max_tokens=None))
    body = peer.last("/v1/chat/completions").json
    assert body is not None
    assert "tools" not in body
    assert "tool_choice" not in body
    assert "max_tokens" not in body


async def test_tool_call_split_over_deltas_comes_out_whole(peer: OpenAIPeer) -> None:
    arguments = {"city": "Seoul", "unit": "celsius"}
    text = json.dumps(arguments)
    peer.chat = ChatScript(
        pieces=["Let me check."],
        tool_calls=[
            ScriptedToolCall("call_a", "get_weather", [text[:3], text[3:11], text[11:20], text[20:]]),
            ScriptedToolCall("call_b", "get_time", ['{"zone"', ': "KST"}']),
        ],
    )
    events = await collect(llm_for(peer), HELLO, tools=[Tool("get_weather", "w"), Tool("get_time", "t")])
    calls = [e for e in events if isinstance(e, ToolCall)]
    assert calls == [
        ToolCall("call_a", "get_weather", text),
        ToolCall("call_b", "get_time", '{"zone": "KST"}'),
    ]
    assert json.loads(calls[0].arguments) == arguments
    assert events[0] == TextDelta("Let me check.")
    assert isinstance(events[-1], Usage)


async def test_a_server_that_ignores_stream_still_works(peer: OpenAIPeer) -> None:
    peer.chat = ChatScript(
        pieces=["Whole", " answer"],
        tool_calls=[ScriptedToolCall("call_z", "lookup", ['{"q": 1}'])],
        ignore_stream=True,
        usage=(5, 2),
    )
    events = await collect(llm_for(peer), HELLO, tools=[Tool("lookup", "l")])
    assert events == [TextDelta("Whole answer"), ToolCall("call_z", "lookup", '{"q": 1}'), Usage(5, 2)]


async def test_breaking_out_mid_stream_closes_the_connection(peer: OpenAIPeer) -> None:
    total_pieces = 200
    peer.chat = ChatScript(pieces=[f"w{i} " for i in range(total_pieces)], delay_s=0.05)
    llm = llm_for(peer)
    received: list[LLMEvent] = []
    async for event in llm.chat(HELLO):
        received.append(event)
        if isinstance(event, TextDelta):
            break
    assert received == [TextDelta("w0 ")]
    # The server notices the closed connection and stops generating long before its script ends.
    assert await asyncio.to_thread(peer.stream_closed_early.wait, 8.0)
    assert peer.chunks_sent < total_pieces
    await llm.aclose()


async def test_wrong_api_key_is_a_backend_error_quoting_the_server(peer: OpenAIPeer) -> None:
    wrong = "sk-wrong-secret-123"
    with pytest.raises(BackendError) as caught:
        await collect(llm_for(peer, key=wrong), HELLO)
    message = str(caught.value)
    assert "401" in message
    assert "Incorrect API key provided." in message
    assert peer.base_url in message
    assert wrong not in message
    assert KEY not in message
    assert caught.value.stage == "llm"


async def test_server_error_status_is_a_backend_error_with_its_message(peer: OpenAIPeer) -> None:
    peer.chat = ChatScript(error=(500, "the model crashed: out of memory"))
    with pytest.raises(BackendError, match=r"500.*the model crashed: out of memory"):
        await collect(llm_for(peer), HELLO)


async def test_unknown_path_is_a_backend_error_naming_the_url(peer: OpenAIPeer) -> None:
    llm = OpenAILLM(peer.base_url.replace("/v1", "/v2"), model="m", api_key=KEY)
    with pytest.raises(BackendError) as caught:
        await collect(llm, HELLO)
    assert "404" in str(caught.value)
    assert f"http://127.0.0.1:{peer.port}/v2/chat/completions" in str(caught.value)


async def test_a_server_that_is_not_running_is_a_backend_error_naming_the_url() -> None:
    url = f"http://127.0.0.1:{unused_port()}/v1"
    with pytest.raises(BackendError) as caught:
        await collect(OpenAILLM(url, model="m", api_key=KEY), HELLO)
    assert f"{url}/chat/completions" in str(caught.value)
    assert "cannot connect" in str(caught.value)
    assert KEY not in str(caught.value)


async def test_a_server_slower_than_the_timeout_is_a_backend_error(peer: OpenAIPeer) -> None:
    peer.chat = ChatScript(delay_s=3.0)
    with pytest.raises(BackendError, match="did not answer in time"):
        await collect(llm_for(peer, timeout=0.3), HELLO)
    assert await asyncio.to_thread(peer.stream_closed_early.wait, 8.0)


def test_llm_create_without_base_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"set OMNI_LLM__BASE_URL or llm\.base_url"):
        openai_llm.create(load_settings({"llm": {"backend": "openai"}}))


def test_create_uses_the_settings() -> None:
    settings = load_settings(
        {
            "llm": {"base_url": "http://gpu-box:8000", "remote_model": "qwen", "api_key": "sk-secret"},
            "stt": {"base_url": "http://stt-box/v1", "remote_model": "whisper-large"},
            "tts": {"base_url": "http://tts-box/v1/", "remote_model": "tts-hd", "remote_voice": "nova"},
        }
    )
    llm = openai_llm.create(settings)
    assert (llm.endpoint.base_url, llm.model) == ("http://gpu-box:8000/v1", "qwen")
    assert "sk-secret" not in repr(llm)
    assert "sk-secret" not in repr(llm.endpoint)
    stt = openai_stt.create(settings)
    assert (stt.endpoint.base_url, stt.model) == ("http://stt-box/v1", "whisper-large")
    tts = openai_tts.create(settings)
    assert (tts.endpoint.base_url, tts.model, tts.voice) == ("http://tts-box/v1", "tts-hd", "nova")


@pytest.mark.parametrize(("create", "section"), [(openai_stt.create, "stt"), (openai_tts.create, "tts")])
def test_stt_and_tts_create_without_base_url_are_config_errors(
    create: Callable[[Settings], object], section: str
) -> None:
    with pytest.raises(ConfigError, match=rf"OMNI_{section.upper()}__BASE_URL"):
        create(Settings())


# --- STT ---


def tone(seconds: float, sample_rate: int = 16000) -> np.ndarray:
    t = np.arange(round(seconds * sample_rate)) / sample_rate
    return (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


async def test_stt_uploads_a_16khz_wav_and_returns_text_and_language(peer: OpenAIPeer) -> None:
    peer.transcription = TranscriptionScript(
        text=" Ask not what your country can do for you. ", language="english"
    )
    stt = OpenAISTT(peer.base_url, model="whisper-1", api_key=KEY)
    audio = tone(1.75)
    transcript = await stt.transcribe(audio)
    await stt.aclose()

    assert transcript.text == "Ask not what your country can do for you."
    assert transcript.language == "en"
    sent = peer.last("/v1/audio/transcriptions")
    assert sent.form["model"] == "whisper-1"
    assert sent.form["response_format"] == "verbose_json"
    assert "language" not in sent.form
    with wave.open(io.BytesIO(sent.files["file"])) as uploaded:
        assert uploaded.getframerate() == 16000
        assert uploaded.getnchannels() == 1
        assert uploaded.getsampwidth() == 2
        assert uploaded.getnframes() == len(audio) == 28000
        pcm = np.frombuffer(uploaded.readframes(uploaded.getnframes()), dtype="<i2")
    assert np.max(np.abs(pcm / 32767.0 - audio)) < 1e-4


async def test_stt_sends_the_language_hint(peer: OpenAIPeer) -> None:
    peer.transcription = TranscriptionScript(text="안녕하세요", language="korean")
    stt = OpenAISTT(peer.base_url, model="whisper-1", api_key=KEY)
    transcript = await stt.transcribe(tone(0.5), language="ko")
    await stt.aclose()
    assert transcript.text == "안녕하세요"
    assert transcript.language == "ko"
    assert peer.last("/v1/audio/transcriptions").form["language"] == "ko"
    assert "prompt" not in peer.last("/v1/audio/transcriptions").form


async def test_stt_sends_a_prompt_when_given_one(peer: OpenAIPeer) -> None:
    peer.transcription = TranscriptionScript(text="Mm-hm.", language="english")
    stt = OpenAISTT(peer.base_url, model="whisper-1", api_key=KEY)
    transcript = await stt.transcribe(tone(0.5), language="en", prompt="Mm-hm. Uh-huh.")
    await stt.aclose()
    assert transcript.text == "Mm-hm."
    assert peer.last("/v1/audio/transcriptions").form["prompt"] == "Mm-hm. Uh-huh."


async def test_stt_falls_back_to_json_when_verbose_json_is_rejected(peer: OpenAIPeer) -> None:
    peer.transcription = TranscriptionScript(text="plain answer", reject_verbose_json=True)
    stt = OpenAISTT(peer.base_url, model="whisper-1", api_key=KEY, language="en")
    first = await stt.transcribe(tone(0.5))
    second = await stt.transcribe(tone(0.5))
    await stt.aclose()
    assert first == second
    assert first.text == "plain answer"
    assert first.language == "en"  # no detection from plain json: the hint stands
    formats = [r.form["response_format"] for r in peer.requests if r.path == "/v1/audio/transcriptions"][-3:]
    assert formats == ["verbose_json", "json", "json"]


async def test_stt_wrong_key_is_a_backend_error(peer: OpenAIPeer) -> None:
    stt = OpenAISTT(peer.base_url, model="whisper-1", api_key="sk-nope")
    with pytest.raises(BackendError, match=r"401.*Incorrect API key provided") as caught:
        await stt.transcribe(tone(0.5))
    await stt.aclose()
    assert caught.value.stage == "stt"


def test_language_names_become_codes() -> None:
    assert language_code("English") == "en"
    assert language_code("korean") == "ko"
    assert language_code("ko") == "ko"
    assert language_code("klingon") == "klingon"


# --- TTS ---


async def synthesize_all(tts: OpenAITTS, text: str) -> list[AudioChunk]:
    try:
        return [chunk async for chunk in tts.synthesize(text)]
    finally:
        await tts.aclose()


async def test_tts_streams_the_servers_sine_at_24khz(peer: OpenAIPeer) -> None:
    peer.speech = SpeechScript(frequency_hz=330.0, seconds=0.4, piece_bytes=999)
    tts = OpenAITTS(peer.base_url, model="tts-1", voice="alloy", api_key=KEY)
    chunks = await synthesize_all(tts, "Hello there.")

    assert len(chunks) > 1  # pieces arrive as the server sends them, not as one buffer
    assert {c.sample_rate for c in chunks} == {24000}
    joined = np.concatenate([c.samples for c in chunks])
    expected = peer.speech.samples().astype(np.float32) / 32768.0
    assert joined.dtype == np.float32
    assert len(joined) == len(expected)
    assert np.max(np.abs(joined - expected)) <= 1 / 32768
    assert peer.last("/v1/audio/speech").json == {
        "model": "tts-1",
        "input": "Hello there.",
        "voice": "alloy",
        "response_format": "pcm",
    }


async def test_tts_voice_argument_and_speed_reach_the_server(peer: OpenAIPeer) -> None:
    tts = OpenAITTS(peer.base_url, model="tts-1", voice="alloy", api_key=KEY, speed=1.25)
    chunks = [c async for c in tts.synthesize("Hi.", voice="nova")]
    await tts.aclose()
    assert chunks
    body = peer.last("/v1/audio/speech").json
    assert body is not None
    assert (body["voice"], body["speed"]) == ("nova", 1.25)


async def test_tts_reads_a_wav_answer_instead_of_playing_its_header(peer: OpenAIPeer) -> None:
    peer.speech = SpeechScript(seconds=0.2, as_wav=True, piece_bytes=13, delay_s=0.0)
    chunks = await synthesize_all(OpenAITTS(peer.base_url, model="tts-1", voice="alloy", api_key=KEY), "Hi.")
    joined = np.concatenate([c.samples for c in chunks])
    expected = peer.speech.samples().astype(np.float32) / 32768.0
    assert len(joined) == len(expected)
    assert np.max(np.abs(joined - expected)) <= 1 / 32768


async def test_tts_server_error_is_a_backend_error(peer: OpenAIPeer) -> None:
    tts = OpenAITTS(peer.base_url, model="tts-1", voice="alloy", api_key=KEY)
    with pytest.raises(BackendError, match=r"400.*only speaks non-empty input") as caught:
        await synthesize_all(tts, "")
    assert caught.value.stage == "tts"


async def test_stt_of_no_audio_is_empty_without_a_request(peer: OpenAIPeer) -> None:
    before = len(peer.requests)
    stt = OpenAISTT(peer.base_url, model="whisper-1", api_key=KEY)
    transcript = await stt.transcribe(np.zeros(0, dtype=np.float32), language="en")
    assert (transcript.text, transcript.language) == ("", "en")
    assert len(peer.requests) == before
