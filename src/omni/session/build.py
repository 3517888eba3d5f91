"""Wire a session from the settings tree: the backends a command needs, and the session options."""

from __future__ import annotations

from typing import Any

from omni.backends.base import GenerationOptions
from omni.backends.registry import create
from omni.config import Settings
from omni.session.interpreter import Interpreter
from omni.session.session import Backends, SessionOptions
from omni.session.tools import ToolBox
from omni.session.turns import TurnOptions
from omni.tools.builtin import builtin_toolbox, builtin_tools


def session_options(settings: Settings, **overrides: Any) -> SessionOptions:
    vad, llm, session = settings.vad, settings.llm, settings.session
    semantic = session.turn_detection == "semantic_vad"
    options = SessionOptions(
        instructions=session.instructions,
        turn_detection="manual" if session.turn_detection == "manual" else "server_vad",
        turn=TurnOptions(
            threshold=vad.threshold,
            prefix_padding_ms=vad.prefix_padding_ms,
            silence_duration_ms=vad.silence_duration_ms,
            min_speech_ms=vad.min_speech_ms,
            eagerness=session.eagerness if semantic else None,
        ),
        interrupt_response=session.interrupt_response,
        language=session.language or settings.stt.language,
        voice=None,
        generation=GenerationOptions(temperature=llm.temperature, max_tokens=llm.max_tokens),
        context_budget_tokens=llm.context_budget_tokens,
        speculate_after_ms=session.speculate_after_ms if session.speculate else None,
        first_chunk_at_phrase=session.first_chunk_at_phrase,
        listen_ahead_ms=session.listen_ahead_ms or None,
        voice_ahead=session.voice_ahead,
        echo_cancellation=session.echo_cancellation,
        interpreter=Interpreter(session.interpreter) if session.interpreter else None,
        korean_answers=session.korean_answers,
        local_tools_with_client_tools=settings.tools.with_client_tools,
    )
    return SessionOptions(**{**options.__dict__, **overrides})


async def open_session_toolbox(settings: Settings) -> ToolBox:
    """The tools a session runs itself, built for this session alone (the notes one user asks to be remembered are
    not another's): the built-in ones ``[tools]`` enables, and the tools of the MCP servers ``[tools] mcp`` names,
    connected for this session (a server that cannot be reached is logged and left out); the toolbox owns the
    connections, and the session closes them when it ends. A built-in tool's name wins over an MCP tool's."""
    if not settings.tools.mcp:
        return builtin_toolbox(settings.tools)
    from omni.tools.mcp import mcp_tools

    tools, connections = await mcp_tools(settings.tools.mcp)
    builtin = builtin_tools(settings.tools)
    taken = {t.tool.name for t in builtin}
    return ToolBox([*builtin, *(t for t in tools if t.tool.name not in taken)], owned=connections)


def load_backends(settings: Settings, *, listen: bool = True, speak: bool = True, see: bool = True) -> Backends:
    """Load the LLM, plus VAD and STT when the session listens, TTS when it speaks and vision when it sees."""
    vision = settings.vision.chosen_backend
    return Backends(
        llm=create("llm", settings.llm.backend, settings),
        vad=create("vad", settings.vad.backend, settings) if listen else None,
        stt=create("stt", settings.stt.backend, settings) if listen else None,
        tts=create("tts", settings.tts.backend, settings) if speak else None,
        vision=create("vision", vision, settings) if see and vision != "none" else None,
    )
