"""What a session is made of and told: its backends, its options, and what one reply may change of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from omni.backends.base import LLM, STT, TTS, VAD, GenerationOptions, Vision
from omni.session.interpreter import Interpreter
from omni.session.turns import TurnOptions
from omni.types import ChatMessage, Tool


@dataclass(frozen=True)
class Backends:
    llm: LLM
    vad: VAD | None = None
    stt: STT | None = None
    tts: TTS | None = None
    vision: Vision | None = None


@dataclass(frozen=True)
class SessionOptions:
    instructions: str = "You are a helpful voice assistant. Answer briefly."
    turn_detection: Literal["server_vad", "manual"] = "server_vad"
    turn: TurnOptions = TurnOptions()
    create_response: bool = True
    interrupt_response: bool = True
    output_audio: bool = True
    language: str | None = None
    """Fix the input language for STT; None detects it."""
    voice: str | None = None
    speed: float = 1.0
    """How fast replies are spoken, as a multiple of the voice's own pace."""
    generation: GenerationOptions = GenerationOptions()
    context_budget_tokens: int = 3000
    max_tool_rounds: int = 4
    tools: tuple[Tool, ...] = ()
    """Tools the client runs: the model may call them; the calls end the reply and are left to the client."""
    local_tools_with_client_tools: bool = False
    """Offer the session's own tools (the built-in ones) also to a client that brings tools or instructions of its
    own. Off: such a client gets only its own tools, since the 1.5B model's call decision holds only under Omni's
    instructions and tools (docs/tools.md measures what they cost otherwise)."""
    client_instructions: bool = False
    """The instructions are the client's own (a Realtime ``session.update``), not Omni's configured ones."""
    first_chunk_at_phrase: bool = True
    """The first spoken chunk may end at an English phrase boundary ("The capital of France" · "is Paris."), so
    speech starts a few tokens sooner; off, it ends at a sentence end or a comma after two words."""
    speculate_after_ms: int | None = 30
    """Start transcribing once a pause inside speech lasts this long, so the transcript is ready when the
    silence wait confirms the end of the turn, and start the reply's LLM call on it as soon as it is there; the
    work is dropped if the user goes on. None turns it off."""
    listen_ahead_ms: int | None = 600
    """While the user speaks, transcribe their words so far after each this many ms of speech and let the LLM
    decode them ahead (:mod:`omni.session.listen_ahead`), when it keeps a prompt cache. None turns it off."""
    echo_cancellation: bool = True
    """Take the echo of the session's own replies out of the microphone audio (:mod:`omni.session.input_echo`),
    when the session knows when they played (a :class:`~omni.session.playout.PacedOutput`: the server's)."""
    voice_ahead: bool = True
    """Voice the first chunk of a reply started during the pause before the turn is confirmed, so that its audio is
    ready when the silence wait ends (it is dropped with the reply if the user goes on)."""
    interpreter: Interpreter | None = None
    """Interpreter mode: every user utterance is translated into the other language of a pair, never answered
    (:mod:`omni.session.interpreter`); the instructions, tools and history are then not in the prompt."""
    korean_answers: Literal["direct", "pivot"] = "direct"
    """``pivot``: a Korean question is answered with a hidden English answer as a reference
    (:mod:`omni.session.english_pivot`); not when tools are offered or images are asked about."""


@dataclass(frozen=True)
class ReplyOverrides:
    """What one reply may change (the Realtime API's ``response.create``); None keeps the session's setting."""

    instructions: str | None = None
    output_audio: bool | None = None
    voice: str | None = None
    generation: GenerationOptions | None = None
    tools: tuple[Tool, ...] | None = None
    out_of_band: bool = False
    """The reply is not added to the conversation (``conversation: "none"``)."""
    input: tuple[ChatMessage, ...] | None = None
    """The messages the reply answers instead of the conversation."""
    say: str | None = None
    """The reply is these words, not the LLM's (a timer that is due)."""
