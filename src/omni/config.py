"""The settings tree: defaults, then an optional TOML file, then ``OMNI_*`` environment variables, then CLI flags.

Validated once at the edge (:func:`load_settings`); components receive the frozen sub-tree they need.
Nested keys use ``__`` in the environment: ``OMNI_LLM__MODEL=/path/model.gguf``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from omni.errors import ConfigError


def default_models_dir() -> Path:
    return Path(os.environ.get("OMNI_MODELS_DIR") or Path.home() / ".cache" / "omni" / "models")


def default_config_file() -> Path:
    return Path(os.environ.get("OMNI_CONFIG") or Path.home() / ".config" / "omni" / "config.toml")


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class VADSettings(_Section):
    backend: str = "silero"
    threshold: float = Field(0.5, ge=0.0, le=1.0)
    prefix_padding_ms: int = Field(300, ge=0)
    silence_duration_ms: int = Field(500, ge=0)
    """The silence that ends a turn under ``session.turn_detection = "server_vad"`` (``semantic_vad`` predicts it)."""
    min_speech_ms: int = Field(64, ge=0)
    """Speech must last this long to start a turn (and to interrupt a reply): two 32 ms Silero frames. With it the
    client's cue to stop playing comes 102 ms after the user starts speaking (p90 115 ms, against 141/163 ms with 80,
    which takes a third frame), and noise and coughs still did not interrupt (docs/benchmarks.md, barge-in)."""


class STTSettings(_Section):
    backend: str = "whisper"
    model: str = "whisper-base"
    """A model name from the models directory, or a path to any CTranslate2 whisper directory."""
    language: str | None = None
    languages: list[str] = []
    """The languages the users speak, when ``language`` is not fixed: whisper picks the likeliest of these (empty:
    any language it knows). An accent is often taken for another language (Korean spoken with a Japanese accent is
    heard as Japanese, a short "네" as Hebrew); a bilingual deployment sets ``["en", "ko"]``."""
    beam_size: int = Field(1, ge=1)
    threads: int = Field(0, ge=0)
    base_url: str | None = None
    api_key: str | None = None
    remote_model: str = "whisper-1"
    canned_transcript: str = "What is the capital of France?"
    """What the ``canned`` STT (benchmarks, demos) hears in every utterance."""


class LLMSettings(_Section):
    backend: str = "llama"
    model: str = "qwen2.5-1.5b-instruct"
    """A model name from the models directory, or a path to any GGUF file."""
    n_ctx: int = Field(4096, ge=256)
    threads: int = Field(0, ge=0)
    temperature: float = Field(0.7, ge=0.0, le=2.0)
    max_tokens: int = Field(256, ge=1)
    context_budget_tokens: int = Field(3000, ge=64)
    base_url: str | None = None
    api_key: str | None = None
    remote_model: str = "gpt-4o-mini"
    canned_reply: str = Field("This is a canned reply from the benchmark backend.", min_length=1)
    """What the ``canned`` LLM (benchmarks, demos) answers to everything, streamed word by word."""


class TTSSettings(_Section):
    backend: str = "auto"
    """``auto`` speaks English with Piper, Korean with Kokoro (``korean_voice``) and other languages with
    espeak-ng."""
    voice: str = "joe-us"
    korean_voice: str = "kokoro-82m"
    """The Korean voice of ``auto`` and of the ``kokoro`` backend: a model name, or a folder holding any Kokoro ONNX
    model with its ``vocab.json`` and voice styles (``*.npz``). ``auto`` falls back to espeak-ng without it."""
    korean_style: str = "jf_gongitsune"
    """Which of the Kokoro voice styles speaks Korean; whisper understood this one best (docs/languages.md)."""
    threads: int = Field(0, ge=0)
    """ONNX threads of the Kokoro voice; 0: every core up to four."""
    espeak_voice: str | None = None
    speed: float = Field(1.0, gt=0.1, le=4.0)
    variation: bool = True
    """Piper's random variation in rhythm and tone, as the voice was trained; false: the same text always gives the
    same audio (the benchmarks speak their questions so, to be reproducible)."""
    base_url: str | None = None
    api_key: str | None = None
    remote_model: str = "tts-1"
    remote_voice: str = "alloy"


VisionPart = Literal["text", "objects", "gist", "faces"]


class VisionSettings(_Section):
    backend: str = "auto"
    """``perception`` (the embedded OCR, objects, gist and faces), ``llama-vlm`` (a local GGUF vision-language model),
    ``openai`` (a remote one), ``none``; ``auto`` takes llama-vlm when ``model`` is set, openai when ``base_url`` is,
    else perception."""
    parts: tuple[VisionPart, ...] = ("text", "objects", "gist", "faces")
    """What perception looks for."""
    threads: int = Field(0, ge=0)
    max_side: int = Field(2048, ge=64, le=8192)
    """Images larger than this on their longer side are downscaled when they arrive."""
    max_images_per_message: int = Field(4, ge=1, le=64)
    model: str | None = None
    """llama-vlm: the GGUF of a vision-language model (Qwen2.5-VL, MiniCPM-V, LLaVA, Gemma 3...)."""
    mmproj: str | None = None
    """llama-vlm: its multimodal projector GGUF; by default the ``mmproj*.gguf`` beside the model."""
    chat_handler: str = "MTMDChatHandler"
    """llama-vlm: llama-cpp-python's chat handler; the default uses the model's own chat template."""
    n_ctx: int = Field(4096, ge=512)
    base_url: str | None = None
    """openai: any OpenAI-compatible chat endpoint that takes ``image_url`` parts (vLLM, Ollama, OpenAI...)."""
    api_key: str | None = None
    remote_model: str = "gpt-4o-mini"
    max_tokens: int = Field(300, ge=16)
    """How long a vision-language model's description of one image may be."""

    @property
    def chosen_backend(self) -> str:
        if self.backend != "auto":
            return self.backend
        return "llama-vlm" if self.model else "openai" if self.base_url else "perception"


DEFAULT_INSTRUCTIONS = (
    "You are Omni, a helpful voice assistant. Answer briefly in one to three short sentences, "
    "in plain spoken language without lists or markdown. Always answer in the language the user speaks."
)


class SessionSettings(_Section):
    instructions: str = DEFAULT_INSTRUCTIONS
    turn_detection: Literal["semantic_vad", "server_vad", "manual"] = "semantic_vad"
    """``semantic_vad``: Omni's turn-taking — the silence that ends a turn is predicted from the words at each pause,
    and backchannels ("mm-hm", "응") do not interrupt a reply (docs/turn-taking.md); ``server_vad``: the fixed
    ``[vad] silence_duration_ms`` and every sound a turn; ``manual``: the client commits turns."""
    eagerness: Literal["low", "medium", "high", "auto"] = "auto"
    """``semantic_vad``: how soon a turn ends (high: soonest; low: the user may take their time)."""
    echo_cancellation: bool = True
    """The server takes the echo of its own voice out of a client's microphone audio (a client on open speakers
    that sends its raw microphone; docs/echo.md)."""
    interrupt_response: bool = True
    language: str | None = None
    speculate: bool = True
    """Transcribe and start the reply's LLM call during a pause that may end the turn (dropped if it does not)."""
    speculate_after_ms: int = Field(default=30, ge=0)
    """How long a pause must be before that work starts; 30 is the first silent VAD frame (32 ms)."""
    listen_ahead_ms: int = Field(default=600, ge=0)
    """While the user speaks, transcribe their words so far after each this many ms of speech, so the LLM can
    decode them before the turn ends; 0 turns it off."""
    voice_ahead: bool = True
    """Voice a reply's first words during the silence wait, when they are ready before it ends (fast models)."""
    first_chunk_at_phrase: bool = True
    """Start speaking the reply at its first English phrase boundary ("The capital of France" · "is Paris."), not
    only at a sentence end or a comma."""
    interpreter: tuple[str, str] | None = None
    """Interpreter mode for every session: translate each utterance between these two languages (``["ko", "en"]``;
    ``"ko,en"`` in the environment) instead of answering it (docs/interpreter.md)."""
    korean_answers: Literal["direct", "pivot"] = "direct"
    """How a Korean question is answered: ``direct``, or ``pivot``: by way of a hidden English answer, right more
    often on the embedded LLM and two LLM calls slower to start (docs/languages.md)."""

    @field_validator("interpreter", mode="before")
    @classmethod
    def _language_pair(cls, value: object) -> object:
        from omni.session.interpreter import parse_languages  # the session package imports this module

        if value is None or value == "":
            return None
        if not isinstance(value, str | list | tuple):
            raise ValueError("expected two languages, e.g. [\"ko\", \"en\"]")
        return parse_languages(value if isinstance(value, str) else [str(v) for v in value])


BuiltinTool = Literal["clock", "calculator", "notes", "timers"]


class McpServerSettings(_Section):
    """One MCP server whose tools every session is offered (``[[tools.mcp]]``): started as a ``command`` that speaks
    MCP on stdin/stdout, or reached at a streamable HTTP ``url``."""

    label: str = Field(min_length=1)
    """Names the server in logs and errors."""
    command: tuple[str, ...] = ()
    """The program and its arguments, e.g. ``["python", "-m", "my_server"]``."""
    env: dict[str, str] = Field(default_factory=dict)
    """Environment variables for the command, over the safe defaults the ``mcp`` package passes."""
    url: str | None = None
    """A streamable HTTP endpoint, e.g. ``http://127.0.0.1:8931/mcp``."""
    headers: dict[str, str] = Field(default_factory=dict)
    """HTTP headers for ``url`` (an ``Authorization`` header, say)."""
    allowed_tools: tuple[str, ...] | None = None
    """Offer only these of the server's tools; None: all of them."""
    connect_timeout: float = Field(10.0, gt=0)
    """Seconds to start or reach the server and list its tools."""
    call_timeout: float = Field(30.0, gt=0)
    """Seconds one tool call may take; past it the model gets an error result."""

    @model_validator(mode="after")
    def _one_transport(self) -> McpServerSettings:
        if bool(self.command) == bool(self.url):
            raise ValueError(f"MCP server {self.label!r}: give either command or url")
        if self.url is not None and not self.url.startswith(("http://", "https://")):
            raise ValueError(f"MCP server {self.label!r}: url must be http:// or https://")
        return self


class ToolsSettings(_Section):
    builtin: Annotated[tuple[BuiltinTool, ...], NoDecode] = ("clock", "calculator", "notes", "timers")
    """The tools Omni runs itself, offered to the model in every session: ``clock`` (``get_time``: the date and time
    here or in a city or time zone), ``calculator`` (``calculate``: exact arithmetic and unit conversion), ``notes``
    (``notes``: what the user asks to be remembered, for the session), ``timers`` (``timer``: timers and reminders
    said aloud when due). ``[]`` (``OMNI_TOOLS__BUILTIN=""``) turns them all off; a client's tool of the same name is
    the client's (docs/tools.md)."""
    timezone: str | None = None
    """The IANA time zone ``get_time`` tells the time of when no place is asked about, and reminders' times of day
    are in; by default the machine's."""
    with_client_tools: bool = False
    """Offer the built-in tools also to a client that brings tools or instructions of its own (a voice agent). Off
    by default: on the embedded 1.5B model more tools cost the client's tools their reliability, and under a
    client's instructions the model calls tools for questions that need none (docs/tools.md)."""
    mcp: tuple[McpServerSettings, ...] = ()
    """MCP servers whose tools each session is offered beside the built-in ones (and, like them, not beside a
    client's own tools unless ``with_client_tools``): ``[{label = "files", command = ["python", "-m", "x"]},
    {label = "web", url = "http://127.0.0.1:8931/mcp"}]``; in the environment as JSON
    (``OMNI_TOOLS__MCP='[{"label": "web", "url": "http://..."}]'``). Each session connects to them when it starts
    and closes them when it ends (docs/tools.md, MCP servers)."""
    client_mcp: Literal["auto", "any", "off"] = "auto"
    """Whether a Realtime client may name MCP servers of its own (``{"type": "mcp", "server_url": ...}`` in
    ``session.tools``) for this server to connect to: ``auto`` only while the server listens on a loopback address
    (a client there reaches what the server reaches anyway), ``any`` always (a client can then make the server send
    requests into its network: docs/security.md), ``off`` never."""

    @field_validator("builtin", mode="before")
    @classmethod
    def _names(cls, value: object) -> object:
        if isinstance(value, str):  # "clock,notes" or '["clock", "notes"]' in the environment
            if value.strip().startswith("["):
                return json.loads(value)
            return tuple(name.strip() for name in value.split(",") if name.strip())
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        import zoneinfo

        if value is not None:
            try:
                zoneinfo.ZoneInfo(value)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown time zone {value!r}: use an IANA name such as Asia/Seoul") from exc
        return value


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    """Anything other than a loopback address needs at least one API key."""
    port: int = Field(8000, ge=0, le=65535)
    api_keys: tuple[str, ...] = ()
    """When set, every endpoint wants ``Authorization: Bearer KEY`` (JSON list in the environment)."""
    max_sessions: int = Field(8, ge=1)
    """Realtime connections open at once."""
    max_message_bytes: int = Field(8 * 1024 * 1024, ge=1024)
    """Largest WebSocket message or request body."""
    max_audio_buffer_seconds: float = Field(300.0, gt=0)
    """Uncommitted input audio a session may hold (manual turns)."""
    max_session_seconds: float = Field(3600.0, gt=0)
    idle_timeout_seconds: float = Field(600.0, gt=0)
    """A Realtime connection with no client message for this long is closed."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="OMNI_", env_nested_delimiter="__", frozen=True, extra="ignore"
    )

    models_dir: Path = Field(default_factory=default_models_dir)
    vad: VADSettings = VADSettings()
    stt: STTSettings = STTSettings()
    llm: LLMSettings = LLMSettings()
    tts: TTSSettings = TTSSettings()
    vision: VisionSettings = VisionSettings()
    session: SessionSettings = SessionSettings()
    tools: ToolsSettings = ToolsSettings()
    server: ServerSettings = ServerSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=default_config_file())
        return (init_settings, env_settings, toml)


def load_settings(overrides: dict[str, Any] | None = None) -> Settings:
    """Build the settings tree; ``overrides`` (from CLI flags) win, as nested dicts: {"llm": {"model": ...}}."""
    try:
        return Settings(**(overrides or {}))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"invalid settings: {problems}") from exc
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read settings ({default_config_file()}): {exc}") from exc
