"""A Realtime session's settings: updated from ``session.update`` (GA or beta shape), shown back in either shape,
and turned into the engine's :class:`SessionOptions`.

``semantic_vad`` is Omni's turn-taking (:mod:`omni.session.end_of_turn`): at each pause the words so far decide how
long a silence ends the turn, within bounds its ``eagerness`` picks, and backchannels do not interrupt a reply; it is
the server's default. ``server_vad`` keeps its documented fixed ``silence_duration_ms``.

Interpreter mode (:mod:`omni.session.interpreter`) is switched by the extension field ``omni_interpreter`` (an object
with ``languages``, ``false`` for off, ``null`` to leave it to the instructions), or by instructions that ask for an
interpreter; ``session.updated`` shows which, as ``omni_interpreter``.

The extension field ``omni_turn_events`` (``true``/``false``) asks for Omni's turn events
(``omni.input_audio_buffer.speech_held`` / ``speech_ignored``, sent by ``realtime_events``): a client that can pause
its playback pauses while speech during a reply is held, and resumes when it is not a turn. Off unless asked for, so
a client that does not know them never sees them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from omni.backends.base import GenerationOptions
from omni.server.wire_audio import WireFormat, parse_format
from omni.session.end_of_turn import WAITS
from omni.session.interpreter import Interpreter, from_instructions, parse_languages
from omni.session.session import SessionOptions
from omni.session.turns import TurnOptions
from omni.types import Tool

OPENAI_VOICES = frozenset({"alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar"})
"""OpenAI's voice names: a client written for OpenAI sends one; they all mean this server's default voice."""
MAX_OUTPUT_TOKENS = 4096
INTERPRETER_FIELD = "omni_interpreter"
"""The Omni extension in ``session.update`` that switches interpreter mode (clients that do not know it never send
it; the SDK's models accept it, as they accept ``omni_vision`` on image parts)."""

TURN_EVENTS_FIELD = "omni_turn_events"
"""The Omni extension in ``session.update`` that asks for the ``omni.input_audio_buffer.*`` turn events."""

InterpreterSwitch = tuple[str, str] | Literal["auto", "off"]
"""Two languages: on, whatever the instructions say; ``off``: never; ``auto``: when the instructions ask for it."""


class ConfigProblem(ValueError):
    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param


@dataclass(frozen=True)
class TurnDetection:
    type: Literal["server_vad", "semantic_vad"] = "server_vad"
    threshold: float = 0.5
    prefix_padding_ms: int = 300
    silence_duration_ms: int = 500
    create_response: bool = True
    interrupt_response: bool = True
    eagerness: str = "auto"
    idle_timeout_ms: int | None = None

    def as_dict(self) -> dict[str, Any]:
        common = {"type": self.type, "create_response": self.create_response,
                  "interrupt_response": self.interrupt_response}
        if self.type == "semantic_vad":
            return {**common, "eagerness": self.eagerness}
        return {**common, "threshold": self.threshold, "prefix_padding_ms": self.prefix_padding_ms,
                "silence_duration_ms": self.silence_duration_ms, "idle_timeout_ms": self.idle_timeout_ms}

    def turn_options(self, base: TurnOptions) -> TurnOptions:
        if self.type == "semantic_vad":
            return replace(base, eagerness=self.eagerness)
        return replace(base, eagerness=None, threshold=self.threshold, prefix_padding_ms=self.prefix_padding_ms,
                       silence_duration_ms=self.silence_duration_ms)


@dataclass(frozen=True)
class RealtimeConfig:
    instructions: str
    transcription_model: str
    output_audio: bool = True
    voice: str = "alloy"
    speed: float = 1.0
    input_format: WireFormat = WireFormat()
    output_format: WireFormat = WireFormat()
    turn_detection: TurnDetection | None = TurnDetection()
    transcription: bool = True
    """Send ``conversation.item.input_audio_transcription.*`` events (the engine transcribes either way: its LLM
    reads text)."""
    transcription_language: str | None = None
    tools: tuple[Tool, ...] = ()
    mcp: tuple[McpEntry, ...] = ()
    """The MCP servers ``session.tools`` names (``{"type": "mcp", ...}``), connected by ``realtime_mcp``."""
    tool_choice: str = "auto"
    temperature: float = 0.8
    max_output_tokens: int | None = None
    interpreter: InterpreterSwitch = "auto"
    turn_events: bool = False
    """Send Omni's ``omni.input_audio_buffer.speech_held`` / ``speech_ignored`` (the client asked for them)."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Accepted fields with no effect here (tracing, truncation, noise_reduction, ...), echoed back."""

    @classmethod
    def initial(cls, base: SessionOptions, transcription_model: str) -> RealtimeConfig:
        """A new session's configuration: the server's own settings (turn detection, temperature), which a
        client's ``session.update`` may then change."""
        turn = base.turn
        detection = TurnDetection(type="server_vad" if turn.eagerness is None else "semantic_vad",
                                  threshold=turn.threshold, prefix_padding_ms=turn.prefix_padding_ms,
                                  silence_duration_ms=turn.silence_duration_ms, eagerness=turn.eagerness or "auto",
                                  create_response=base.create_response, interrupt_response=base.interrupt_response)
        return cls(instructions=base.instructions, transcription_model=transcription_model,
                   turn_detection=detection if base.turn_detection == "server_vad" else None,
                   temperature=base.generation.temperature, speed=base.speed,
                   interpreter=base.interpreter.languages if base.interpreter else "auto")

    # ---- updates ----------------------------------------------------------------------------------------------

    def updated_ga(self, session: dict[str, Any]) -> RealtimeConfig:
        """Apply a GA ``session`` object (only the fields it sets)."""
        config = self._common(session)
        audio = session.get("audio") or {}
        audio_in, audio_out = audio.get("input") or {}, audio.get("output") or {}
        changes: dict[str, Any] = {}
        if "output_modalities" in session:
            changes["output_audio"] = _output_audio(session["output_modalities"], "session.output_modalities")
        if "format" in audio_in:
            changes["input_format"] = _format(audio_in["format"], "session.audio.input.format")
        if "format" in audio_out:
            changes["output_format"] = _format(audio_out["format"], "session.audio.output.format")
        if "voice" in audio_out:
            changes["voice"] = _voice(audio_out["voice"])
        if audio_out.get("speed") is not None:
            changes["speed"] = _speed(audio_out["speed"], "session.audio.output.speed")
        if "turn_detection" in audio_in:
            changes["turn_detection"] = _turn_detection(audio_in["turn_detection"], config.turn_detection)
        if "transcription" in audio_in:
            changes.update(_transcription(audio_in["transcription"], config))
        for name in ("tracing", "truncation", "include", "prompt"):
            if name in session:
                changes["extra"] = {**config.extra, name: session[name]}
        if "noise_reduction" in audio_in:
            changes["extra"] = {**changes.get("extra", config.extra), "noise_reduction": audio_in["noise_reduction"]}
        if "max_output_tokens" in session:
            changes["max_output_tokens"] = max_tokens(session["max_output_tokens"], "session.max_output_tokens")
        return replace(config, **changes)

    def updated_beta(self, session: dict[str, Any]) -> RealtimeConfig:
        """Apply a beta (``OpenAI-Beta: realtime=v1``) ``session`` object."""
        config = self._common(session)
        if config.mcp:
            raise ConfigProblem("session.tools", "mcp tools are served on the GA protocol only (without OpenAI-Beta)")
        changes: dict[str, Any] = {}
        if "modalities" in session:
            changes["output_audio"] = "audio" in (session["modalities"] or [])
        if "input_audio_format" in session:
            changes["input_format"] = _format(session["input_audio_format"], "session.input_audio_format")
        if "output_audio_format" in session:
            changes["output_format"] = _format(session["output_audio_format"], "session.output_audio_format")
        if "voice" in session:
            changes["voice"] = _voice(session["voice"])
        if session.get("speed") is not None:
            changes["speed"] = _speed(session["speed"], "session.speed")
        if "turn_detection" in session:
            changes["turn_detection"] = _turn_detection(session["turn_detection"], config.turn_detection)
        if "input_audio_transcription" in session:
            changes.update(_transcription(session["input_audio_transcription"], config))
        if "max_response_output_tokens" in session:
            changes["max_output_tokens"] = max_tokens(session["max_response_output_tokens"],
                                                      "session.max_response_output_tokens")
        return replace(config, **changes)

    def _common(self, session: dict[str, Any]) -> RealtimeConfig:
        changes: dict[str, Any] = {}
        if session.get("instructions") is not None:
            changes["instructions"] = session["instructions"]
        if "tools" in session:
            changes["tools"], changes["mcp"] = parse_session_tools(session["tools"] or [], "session.tools")
        if "tool_choice" in session:
            changes["tool_choice"] = parse_tool_choice(session["tool_choice"], "session.tool_choice")
        if session.get("temperature") is not None:
            changes["temperature"] = float(session["temperature"])
        if INTERPRETER_FIELD in session:
            changes["interpreter"] = _interpreter(session[INTERPRETER_FIELD], f"session.{INTERPRETER_FIELD}")
        if TURN_EVENTS_FIELD in session:
            changes["turn_events"] = _turn_events(session[TURN_EVENTS_FIELD], f"session.{TURN_EVENTS_FIELD}")
        return replace(self, **changes)

    def interpreter_languages(self) -> tuple[str, str] | None:
        """The languages interpreter mode translates between now, or None when it is off."""
        if self.interpreter == "off":
            return None
        if self.interpreter == "auto":
            return from_instructions(self.instructions)
        return self.interpreter

    def interpreter_view(self) -> dict[str, Any] | bool | None:
        languages = self.interpreter_languages()
        if languages is None:
            return False if self.interpreter == "off" else None
        return {"languages": list(languages), "set_by": "instructions" if self.interpreter == "auto" else "session"}

    # ---- views --------------------------------------------------------------------------------------------------

    def as_ga(self, session_id: str, model: str) -> dict[str, Any]:
        transcription = ({"model": self.transcription_model, "language": self.transcription_language}
                         if self.transcription else None)
        return {
            "type": "realtime", "object": "realtime.session", "id": session_id, "model": model,
            "output_modalities": ["audio"] if self.output_audio else ["text"],
            "instructions": self.instructions,
            "tools": [*(tool_dict(t) for t in self.tools), *(entry.view() for entry in self.mcp)],
            "tool_choice": self.tool_choice, "max_output_tokens": self.max_output_tokens or "inf",
            "audio": {
                "input": {"format": self.input_format.as_dict(), "transcription": transcription,
                          "turn_detection": self.turn_detection.as_dict() if self.turn_detection else None,
                          "noise_reduction": self.extra.get("noise_reduction")},
                "output": {"format": self.output_format.as_dict(), "voice": self.voice, "speed": self.speed},
            },
            "tracing": self.extra.get("tracing"), "truncation": self.extra.get("truncation", "auto"),
            "include": self.extra.get("include"), "prompt": self.extra.get("prompt"),
            INTERPRETER_FIELD: self.interpreter_view(), TURN_EVENTS_FIELD: self.turn_events,
        }

    def as_beta(self, session_id: str, model: str) -> dict[str, Any]:
        return {
            "id": session_id, "object": "realtime.session", "model": model,
            "modalities": ["audio", "text"] if self.output_audio else ["text"],
            "instructions": self.instructions, "voice": self.voice, "speed": self.speed,
            "input_audio_format": self.input_format.beta_name, "output_audio_format": self.output_format.beta_name,
            "input_audio_transcription": ({"model": self.transcription_model, "language": self.transcription_language}
                                          if self.transcription else None),
            "turn_detection": self.turn_detection.as_dict() if self.turn_detection else None,
            "tools": [tool_dict(t) for t in self.tools], "tool_choice": self.tool_choice,
            "temperature": self.temperature, "max_response_output_tokens": self.max_output_tokens or "inf",
            INTERPRETER_FIELD: self.interpreter_view(), TURN_EVENTS_FIELD: self.turn_events,
        }

    def session_options(self, base: SessionOptions) -> SessionOptions:
        detection = self.turn_detection
        languages = self.interpreter_languages()
        return replace(
            base,
            instructions=self.instructions,
            client_instructions=self.instructions != base.instructions,
            turn_detection="server_vad" if detection else "manual",
            turn=detection.turn_options(base.turn) if detection else base.turn,
            create_response=detection.create_response if detection else False,
            interrupt_response=detection.interrupt_response if detection else True,
            output_audio=self.output_audio,
            language=self.transcription_language or base.language,
            voice=None if self.voice in OPENAI_VOICES else self.voice,
            speed=self.speed,
            generation=self.generation(base.generation),
            tools=self.tools,
            interpreter=replace(base.interpreter or Interpreter(), languages=languages) if languages else None,
        )

    def generation(self, base: GenerationOptions) -> GenerationOptions:
        return replace(base, temperature=self.temperature, tool_choice=self.tool_choice,
                       max_tokens=self.max_output_tokens or base.max_tokens)


# ---- field parsers (each raises ConfigProblem naming the field) ----------------------------------------------------


def _speed(value: object, param: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.25 <= value <= 1.5:
        raise ConfigProblem(param, f"{param} must be a number from 0.25 to 1.5, got {value!r}")
    return float(value)


def _format(value: object, param: str) -> WireFormat:
    try:
        return parse_format(value)
    except ValueError as exc:
        raise ConfigProblem(param, str(exc)) from exc


def _output_audio(modalities: object, param: str) -> bool:
    if modalities not in (["audio"], ["text"]):
        raise ConfigProblem(param, f"{param} must be [\"audio\"] (audio with its transcript) or [\"text\"]")
    return modalities == ["audio"]


def _interpreter(value: object, param: str) -> InterpreterSwitch:
    if value is None:
        return "auto"
    if value is False:
        return "off"
    if isinstance(value, dict) and value.get("set_by") == "instructions":
        return "auto"  # a client sending back the session it was shown: the instructions still decide
    if isinstance(value, dict) and "languages" in value:
        try:
            return parse_languages(value["languages"] if isinstance(value["languages"], list | str) else "")
        except ValueError as exc:
            raise ConfigProblem(f"{param}.languages", f"{param}.languages: {exc}") from exc
    raise ConfigProblem(param, f"{param} must be {{\"languages\": [\"ko\", \"en\"]}}, false (off) or null (as the "
                               "instructions ask)")


def _turn_events(value: object, param: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ConfigProblem(param, f"{param} must be true (send omni.input_audio_buffer.speech_held and "
                                   f"speech_ignored) or false, got {value!r}")
    return value


def _voice(value: object) -> str:
    if isinstance(value, dict):
        return str(value.get("id", "alloy"))
    return str(value)


def _turn_detection(value: object, current: TurnDetection | None) -> TurnDetection | None:
    if value is None:
        return None
    if not isinstance(value, dict) or value.get("type") not in ("server_vad", "semantic_vad"):
        raise ConfigProblem("turn_detection", "turn_detection.type must be server_vad or semantic_vad (or null)")
    base = current if current is not None and current.type == value["type"] else TurnDetection(type=value["type"])
    fields = {k: v for k, v in value.items() if k in TurnDetection.__dataclass_fields__ and v is not None}
    detection = replace(base, **fields)
    if not 0.0 <= detection.threshold <= 1.0:
        raise ConfigProblem("turn_detection.threshold", "turn_detection.threshold must be between 0 and 1")
    if detection.silence_duration_ms < 0 or detection.prefix_padding_ms < 0:
        raise ConfigProblem("turn_detection", "turn_detection durations must not be negative")
    if detection.eagerness not in WAITS:
        raise ConfigProblem("turn_detection.eagerness", "eagerness must be low, medium, high or auto")
    return detection


def _transcription(value: object, config: RealtimeConfig) -> dict[str, Any]:
    if value is None:
        return {"transcription": False}
    if not isinstance(value, dict):
        raise ConfigProblem("transcription", "transcription must be an object or null")
    return {"transcription": True, "transcription_language": value.get("language") or None}


def max_tokens(value: object, param: str) -> int | None:
    if value == "inf" or value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_OUTPUT_TOKENS:
        return value
    raise ConfigProblem(param, f"{param} must be an integer from 1 to {MAX_OUTPUT_TOKENS}, or \"inf\"")


def parse_tools(tools: object, param: str) -> tuple[Tool, ...]:
    if not isinstance(tools, list):
        raise ConfigProblem(param, f"{param} must be a list")
    for index, tool in enumerate(tools):
        if isinstance(tool, dict) and tool.get("type") == "mcp":
            raise ConfigProblem(f"{param}[{index}]", "mcp tools are accepted in session.tools only (session.update)")
    return tuple(_function_tool(tool, f"{param}[{index}]") for index, tool in enumerate(tools))


def _function_tool(tool: object, param: str) -> Tool:
    if not isinstance(tool, dict) or tool.get("type", "function") != "function" or not tool.get("name"):
        raise ConfigProblem(param, "only function tools with a name, and mcp tools, are supported")
    parameters = tool.get("parameters") or {"type": "object", "properties": {}}
    return Tool(str(tool["name"]), str(tool.get("description") or ""), dict(parameters))


@dataclass(frozen=True)
class McpEntry:
    """A ``{"type": "mcp"}`` tool of ``session.tools``: a streamable HTTP MCP server this server connects to for the
    session. ``require_approval`` as given (``"always"``, also when not given, ``"never"``, or
    ``{"never": {"tool_names": [...]}, "always": {...}}``)."""

    label: str
    url: str
    headers: tuple[tuple[str, str], ...] = ()
    allowed_tools: tuple[str, ...] | None = None
    require_approval: Any = "always"
    description: str | None = None

    def needs_approval(self, name: str) -> bool:
        rule = self.require_approval
        if rule == "never":
            return False
        if isinstance(rule, dict):
            return name not in _tool_names(rule.get("never"))  # "always" lists and unlisted tools ask
        return True

    def view(self) -> dict[str, Any]:
        """As shown back in ``session.updated``: without the headers, which may hold a key."""
        return {"type": "mcp", "server_label": self.label, "server_url": self.url,
                "allowed_tools": list(self.allowed_tools) if self.allowed_tools is not None else None,
                "require_approval": self.require_approval, "server_description": self.description}


def _tool_names(value: object) -> tuple[str, ...]:
    names = value.get("tool_names") if isinstance(value, dict) else value
    return tuple(str(n) for n in names) if isinstance(names, list) else ()


def _mcp_entry(tool: dict[str, Any], param: str) -> McpEntry:
    label, url = tool.get("server_label"), tool.get("server_url")
    if not isinstance(label, str) or not label:
        raise ConfigProblem(f"{param}.server_label", f"{param}.server_label must be a non-empty string")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ConfigProblem(f"{param}.server_url", f"{param}.server_url must be an http:// or https:// URL of a "
                            "streamable HTTP MCP server (connectors and tunnels are not available here)")
    headers = tool.get("headers") or {}
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise ConfigProblem(f"{param}.headers", f"{param}.headers must be an object of strings")
    if tool.get("authorization"):
        headers = {**headers, "Authorization": f"Bearer {tool['authorization']}"}
    allowed = tool.get("allowed_tools")
    approval = tool.get("require_approval") or "always"
    if approval not in ("always", "never") and not isinstance(approval, dict):
        raise ConfigProblem(f"{param}.require_approval", f"{param}.require_approval must be always, never or a "
                            "filter object")
    return McpEntry(label, url, tuple((str(k), v) for k, v in headers.items()),
                    _tool_names(allowed) if allowed is not None else None, approval,
                    tool.get("server_description"))


def parse_session_tools(tools: object, param: str) -> tuple[tuple[Tool, ...], tuple[McpEntry, ...]]:
    """``session.tools``: the function tools, and the MCP servers (labels unique)."""
    if not isinstance(tools, list):
        raise ConfigProblem(param, f"{param} must be a list")
    functions: list[Tool] = []
    servers: list[McpEntry] = []
    for index, tool in enumerate(tools):
        if isinstance(tool, dict) and tool.get("type") == "mcp":
            entry = _mcp_entry(tool, f"{param}[{index}]")
            if any(s.label == entry.label for s in servers):
                raise ConfigProblem(f"{param}[{index}].server_label", f"two MCP servers are labelled {entry.label!r}")
            servers.append(entry)
        else:
            functions.append(_function_tool(tool, f"{param}[{index}]"))
    return tuple(functions), tuple(servers)


def parse_tool_choice(value: object, param: str) -> str:
    if value in ("auto", "none", "required"):
        return str(value)
    if isinstance(value, dict) and value.get("type") in ("function", "mcp") and value.get("name"):
        return str(value["name"])  # an MCP tool by its name (its server's label aside)
    raise ConfigProblem(param, f"{param} must be auto, none, required or a function")


def tool_dict(tool: Tool) -> dict[str, Any]:
    return {"type": "function", "name": tool.name, "description": tool.description, "parameters": tool.parameters}
