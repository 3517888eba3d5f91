"""A session wired to scripted fakes on a virtual clock, with every event recorded."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from omni.backends.base import GenerationOptions, Vision
from omni.clock import VirtualClock
from omni.events import SessionEvent
from omni.session.playout import PacedOutput
from omni.session.session import Backends, Session, SessionOptions
from omni.session.tools import ToolBox
from omni.session.turns import TurnOptions
from omni.types import AudioChunk, ToolCall
from tests.fakes.backends import EnergyVAD, ScriptedLLM, ScriptedSTT, ScriptedTTS, WordsSoFarSTT

E = TypeVar("E", bound=SessionEvent)

FRAME = 0.02


@dataclass
class Harness:
    clock: VirtualClock
    session: Session
    stt: ScriptedSTT
    llm: ScriptedLLM
    tts: ScriptedTTS
    output: PacedOutput
    events: list[SessionEvent] = field(default_factory=list)

    def of(self, kind: type[E]) -> list[E]:
        return [e for e in self.events if isinstance(e, kind)]

    async def feed(self, chunk: AudioChunk) -> None:
        """Stream ``chunk`` in 20 ms pieces at real-time pace on the virtual clock."""
        step = round(FRAME * chunk.sample_rate)
        for start in range(0, len(chunk.samples), step):
            self.session.push_audio(AudioChunk(chunk.samples[start : start + step], chunk.sample_rate))
            await self.clock.advance(FRAME)


def make_harness(
    transcripts: list[str],
    answers: list[str | list[ToolCall]],
    *,
    turn_detection: str = "server_vad",
    budget: int = 3000,
    toolbox: ToolBox | None = None,
    output_audio: bool = True,
    speculate_after_ms: int | None = 200,
    first_chunk_at_phrase: bool = True,
    tts_silence: tuple[float, float] = (0.0, 0.0),
    listen_ahead_ms: int | None = None,
    spoken_sentence: str | None = None,
    voice_ahead: bool = True,
    vision: Callable[[VirtualClock], Vision] | None = None,
    eagerness: str | None = None,
) -> Harness:
    """``tts_silence``: the silence the scripted voice puts before and after each text. ``listen_ahead_ms``: the
    LLM keeps a prompt cache and the session reads the user's words ahead. ``spoken_sentence``: STT hears the words
    of this sentence that fit in each clip, instead of ``transcripts`` one by one. ``vision``: makes the vision
    backend on the harness's clock. ``eagerness``: Omni's turn-taking (``semantic_vad``) instead of a fixed
    500 ms silence."""
    clock = VirtualClock()
    stt = ScriptedSTT(clock, list(transcripts)) if spoken_sentence is None else WordsSoFarSTT(clock, spoken_sentence)
    llm = ScriptedLLM(clock, list(answers), caches_prompts=listen_ahead_ms is not None)
    tts = ScriptedTTS(clock, lead=tts_silence[0], tail=tts_silence[1])
    output = PacedOutput(clock, sample_rate=24000)
    options = SessionOptions(
        instructions="Be brief.",
        turn_detection=turn_detection,  # type: ignore[arg-type]
        turn=TurnOptions(threshold=0.5, prefix_padding_ms=300, silence_duration_ms=500, min_speech_ms=100,
                         eagerness=eagerness, prosody=False),  # the fakes' flat tone has no prosody to read
        generation=GenerationOptions(temperature=0.0),
        context_budget_tokens=budget,
        output_audio=output_audio,
        speculate_after_ms=speculate_after_ms,
        first_chunk_at_phrase=first_chunk_at_phrase,
        listen_ahead_ms=listen_ahead_ms,
        voice_ahead=voice_ahead,
        # The fake voice's constant tone and the fake speech's sine are no test of echo cancelling (they correlate in
        # places as no voices do): tests/unit/test_input_echo.py has real voices for it.
        echo_cancellation=False,
    )
    events: list[SessionEvent] = []
    session = Session(
        Backends(llm=llm, vad=EnergyVAD(), stt=stt, tts=tts, vision=vision(clock) if vision else None),
        options,
        clock=clock,
        output=output,
        observers=[events.append],
        toolbox=toolbox,
    )
    return Harness(clock, session, stt, llm, tts, output, events)
