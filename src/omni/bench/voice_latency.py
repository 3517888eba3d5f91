"""Voice-to-voice latency: ``omni serve`` over the Realtime WebSocket and the streaming session engine in-process,
against the naive cascade, on the same models.

English questions are spoken by the TTS voice at bench time and streamed into a fresh :class:`Session` the way a
microphone delivers them (20 ms pieces on the real clock, each handed over when its last sample has been "spoken").
The latency of a turn runs from the true end of speech in the clip (known, because the clip was built around it) to
the first audible sample the paced output plays. The cascade gets the same clip and is timed from the same point.
The server pipeline streams the same clip into a real ``omni serve`` process, as a client would
(:mod:`omni.bench.realtime_turn`); variants (:mod:`omni.bench.variants`) run the in-process engine with other
settings on the same loaded backends. The pipelines take turns on every question, so a slower stretch of the
machine falls on all of them.

Korean is measured from text, not speech: whisper cannot read espeak-ng's Korean, and no natural Korean voice is
packaged, so a Korean speech-in number would measure a broken transcription. The Korean figure is the time from a
text message to the first audible reply sample, labelled as such.

Every pipeline starts every measured turn from the same LLM state. First an unrelated prompt runs, so the prompt
cache never holds the previous run's question (llama.cpp would skip work already done); then, as ``omni voice``,
``talk`` and ``chat`` do before the user speaks, the system prompt is prefilled. ``cold_prompt`` leaves the prefill
out: a first turn of a process that just started, for every pipeline alike.
"""

from __future__ import annotations

import datetime
import os
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import aclosing
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

import numpy as np

from omni.audio.pacing import STEP_SECONDS, feed_in_real_time
from omni.audio.resample import resample
from omni.audio.silence import first_sound, last_sound
from omni.backends.base import LLM, TTS, GenerationOptions
from omni.bench import cascade
from omni.bench.realtime_turn import RealtimeTurns, wire_clip
from omni.bench.report import RunResult, compare, machine, pipeline_name
from omni.bench.variants import Variant
from omni.clock import RealClock
from omni.config import Settings
from omni.errors import BackendError, ConfigError, OmniError
from omni.events import ReplyAudio, ReplyDone, SessionEvent, StageError, TranscriptionDone
from omni.session.build import session_options
from omni.session.playout import PacedOutput
from omni.session.session import Backends, Session, SessionOptions
from omni.session.timing import TimingObserver, TurnTiming
from omni.types import AudioChunk, ChatMessage, LLMEvent, Samples, Tool

QUESTIONS: dict[str, tuple[str, ...]] = {
    "en": (
        "What is the capital of France?",
        "How many days are in a week?",
        "Give me one tip for sleeping better.",
    ),
    "ko": (
        "프랑스의 수도는 어디인가요?",
        "일주일은 며칠인가요?",
        "잠을 잘 자기 위한 팁을 하나 알려 주세요.",
    ),
}
INPUT_RATE = 16000
OUTPUT_RATE = 24000
LEAD_SECONDS = 0.5
TAIL_SECONDS = 1.5

ENDPOINT = "end-of-speech wait"
STT = "stt"
LLM_FIRST_TOKEN = "llm first token"
LLM_FIRST_CHUNK = "llm, first token to speakable chunk"
TTS_FIRST_AUDIO = "tts first audio"
OTHER = "other (vad vs true end, lead-in silence)"
OTHER_TEXT = "other (lead-in silence)"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class SpokenQuestion:
    text: str
    clip: Samples
    """16 kHz: lead-in silence, the speech, trailing silence."""
    speech_end: float
    """Seconds into the clip where the speech ends (its last audible sample)."""


def build_clip(
    text: str, speech: Samples, rate: int, *, lead: float = LEAD_SECONDS, tail: float = TAIL_SECONDS
) -> SpokenQuestion:
    """Trim ``speech`` to its audible part and put silence around it; the end of speech is then known exactly."""
    start, end = first_sound(speech), last_sound(speech)
    if start is None or end is None:
        raise ValueError("the spoken question has no audible sample")
    voiced = speech[start : end + 1]
    before = np.zeros(round(lead * rate), dtype=np.float32)
    after = np.zeros(round(tail * rate), dtype=np.float32)
    clip = np.concatenate([before, voiced, after]).astype(np.float32)
    return SpokenQuestion(text, clip, (before.size + voiced.size) / rate)


def question_voice(settings: Settings, backend: str | None = None) -> TTS:
    """The configured voice (or ``backend``) without its random variation: the benchmarks' spoken questions are the
    same audio in every run (with it, one rendering in a few was misheard, and a run's numbers could not be
    repeated)."""
    from omni.backends.registry import create

    steady = settings.model_copy(update={"tts": settings.tts.model_copy(update={"variation": False})})
    voice: TTS = create("tts", backend or settings.tts.backend, steady)
    return voice


async def utterance(tts: TTS, text: str, language: str, rate: int) -> Samples:
    """All of ``text`` spoken by ``tts``, at ``rate``."""
    pieces: list[Samples] = []
    voice_rate = tts.sample_rate
    async with aclosing(tts.synthesize(text, language=language)) as chunks:
        async for chunk in chunks:
            pieces.append(chunk.samples)
            voice_rate = chunk.sample_rate  # one call speaks at one rate
    return resample(np.concatenate(pieces), voice_rate, rate) if pieces else np.zeros(0, dtype=np.float32)


async def speak(tts: TTS, text: str, language: str) -> SpokenQuestion:
    """The question spoken by the configured voice, as a 16 kHz clip."""
    speech = await utterance(tts, text, language, INPUT_RATE)
    try:
        return build_clip(text, speech, INPUT_RATE)
    except ValueError as exc:
        raise BackendError("tts", f"the TTS produced no audible speech for the question {text!r}") from exc


class TurnProbe:
    """Session observer: when the first audible reply sample plays, and what was heard, said and broken.

    The output plays each chunk when the previous one ends, or at once if the player is idle (as
    :class:`PacedOutput` does); the first audible sample plays that far into its chunk.
    """

    def __init__(self) -> None:
        self.first_sound_at: float | None = None
        self.transcript = ""
        self.reply = ""
        self.errors: list[str] = []
        self._cursor = float("-inf")

    def __call__(self, event: SessionEvent) -> None:
        if isinstance(event, ReplyAudio):
            start = max(event.at, self._cursor)
            self._cursor = start + event.chunk.duration
            onset = first_sound(event.chunk.samples) if self.first_sound_at is None else None
            if onset is not None:
                self.first_sound_at = start + onset / event.chunk.sample_rate
        elif isinstance(event, TranscriptionDone):
            self.transcript = event.transcript.text.strip()
        elif isinstance(event, ReplyDone):
            self.reply = event.text.strip()
        elif isinstance(event, StageError):
            self.errors.append(f"{event.stage}: {event.message}")


class PromptRecorder(LLM):
    """Passes everything to ``inner`` and keeps the last prompt, so the cascade can send the engine's exact prompt."""

    def __init__(self, inner: LLM) -> None:
        self.inner = inner
        self.caches_prompts = inner.caches_prompts
        self.last: list[ChatMessage] = []

    def _chat(
        self, messages: Sequence[ChatMessage], tools: Sequence[Tool], options: GenerationOptions
    ) -> AsyncIterator[LLMEvent]:
        self.last = list(messages)
        return self.inner.chat(messages, tools=tools, options=options)

    async def prefill(
        self, messages: Sequence[ChatMessage], tools: Sequence[Tool] = (), *, user_words: str = ""
    ) -> None:
        await self.inner.prefill(messages, tools, user_words=user_words)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)


def engine_stages(timing: TurnTiming, latency: float, *, spoken: bool) -> dict[str, float]:
    """Split an engine turn's latency into stages that add up to it.

    The observer's stages leave out the LLM's wait from its first token to the first speakable chunk (a clause
    long enough to speak): that is what remains of its total. What the total leaves out of the latency is the
    difference between the VAD's end of speech and the true one, and the silence the voice puts before speaking.
    """
    if timing.total is None or timing.llm_first_token is None or timing.tts_first_audio is None:
        raise ValueError(f"incomplete turn timing: {timing}")
    stages: dict[str, float] = {}
    if spoken:
        if timing.endpoint is None or timing.stt is None:
            raise ValueError(f"a spoken turn without endpoint or stt timing: {timing}")
        stages[ENDPOINT] = timing.endpoint
        stages[STT] = timing.stt
    stages[LLM_FIRST_TOKEN] = timing.llm_first_token
    stages[LLM_FIRST_CHUNK] = timing.total - sum(stages.values()) - timing.tts_first_audio
    stages[TTS_FIRST_AUDIO] = timing.tts_first_audio
    stages[OTHER if spoken else OTHER_TEXT] = latency - timing.total
    return stages


class Bench:
    """The loaded backends and the options every turn shares; one method per kind of measured turn."""

    def __init__(self, backends: Backends, settings: Settings, *, cold_prompt: bool = False) -> None:
        if backends.tts is None or backends.stt is None or backends.vad is None:
            raise ConfigError("the voice latency benchmark needs VAD, STT and TTS backends")
        self.llm = PromptRecorder(backends.llm)
        self.backends = Backends(llm=self.llm, vad=backends.vad, stt=backends.stt, tts=backends.tts)
        self.settings = settings
        self.options: SessionOptions = session_options(settings)
        self.silence_wait = settings.vad.silence_duration_ms / 1000
        self.cold_prompt = cold_prompt
        self.clock = RealClock()

    async def prepare_llm(self, session: Session | None = None) -> None:
        """Before a turn: an unrelated prompt, so no turn reuses the previous turn's work; then the prefill.

        The engine's session prefills itself; the cascade gets the same head start through the same LLM call.
        """
        unrelated = [ChatMessage("system", "Benchmark pause."), ChatMessage("user", "Say OK.")]
        one_token = GenerationOptions(temperature=0.0, max_tokens=1)
        async with aclosing(self.llm.inner.chat(unrelated, options=one_token)) as events:
            async for _ in events:
                pass
        if self.cold_prompt:
            return
        if session is not None:
            await session.prefill()
        else:
            await self.llm.prefill([ChatMessage("system", self.options.instructions)])

    async def _session(self, probe: TurnProbe, timing: TimingObserver, variant: Variant | None) -> Session:
        output = PacedOutput(self.clock, sample_rate=OUTPUT_RATE)
        options = self.options if variant is None else session_options(variant.settings)
        session = Session(self.backends, options, clock=self.clock, output=output, observers=[probe, timing])
        await self.prepare_llm(session)
        return session

    async def engine_voice(self, question: SpokenQuestion, run: int, variant: Variant | None = None) -> RunResult:
        """One spoken turn through the engine; with ``variant``, on that variant's settings."""
        pipeline = "engine" if variant is None else variant.name
        result = RunResult(pipeline, "voice", "en", question.text, run, None, load_average=os.getloadavg()[0])
        probe = TurnProbe()
        timing = TimingObserver()
        session = await self._session(probe, timing, variant)
        start = timing.stream_start = self.clock.now()
        try:
            await feed_in_real_time(session.push_audio, self.clock, AudioChunk(question.clip, INPUT_RATE), start=start)
            await session.idle()
        finally:
            await session.aclose()
        return _finish(result, probe, timing, start + question.speech_end, spoken=True)

    async def engine_text(
        self, text: str, language: str, run: int, variant: Variant | None = None
    ) -> tuple[RunResult, list[ChatMessage]]:
        pipeline = "engine" if variant is None else variant.name
        result = RunResult(pipeline, "text", language, text, run, None, load_average=os.getloadavg()[0])
        probe = TurnProbe()
        timing = TimingObserver()
        session = await self._session(probe, timing, variant)
        start = self.clock.now()
        try:
            session.add_user_text(text)
            await session.create_reply()
            await session.idle()
        finally:
            await session.aclose()
        return _finish(result, probe, timing, start, spoken=False), self.llm.last

    async def cascade_voice(self, question: SpokenQuestion, run: int) -> RunResult:
        await self.prepare_llm()
        result = RunResult("cascade", "voice", "en", question.text, run, None, load_average=os.getloadavg()[0])
        # What a recorder stopped by an endpointer holds: the clip up to the silence wait after the speech.
        recording = question.clip[: round((question.speech_end + self.silence_wait) * INPUT_RATE)]
        try:
            turn = await cascade.speech_turn(
                self.backends.stt, self.llm.inner, self.backends.tts, recording,
                instructions=self.options.instructions, generation=self.options.generation,
                language=self.options.language, silence_wait=self.silence_wait,
            )
        except OmniError as exc:
            result.error = str(exc)
            return result
        result.latency, result.stages = turn.latency, turn.stages
        result.transcript, result.reply = turn.transcript, turn.reply
        return result

    async def cascade_text(self, text: str, language: str, prompt: list[ChatMessage], run: int) -> RunResult:
        await self.prepare_llm()
        result = RunResult("cascade", "text", language, text, run, None, load_average=os.getloadavg()[0])
        try:
            turn = await cascade.text_turn(self.llm.inner, self.backends.tts, prompt, self.options.generation)
        except OmniError as exc:
            result.error = str(exc)
            return result
        result.latency, result.stages, result.reply = turn.latency, turn.stages, turn.reply
        return result


def _finish(result: RunResult, probe: TurnProbe, timing: TimingObserver, start: float, *, spoken: bool) -> RunResult:
    result.transcript, result.reply = probe.transcript, probe.reply
    if probe.errors:
        result.error = "; ".join(probe.errors)
    elif probe.first_sound_at is None or not timing.turns:
        result.error = "no audible reply" + ("" if probe.transcript else " (nothing was transcribed)")
    else:
        latency = probe.first_sound_at - start
        try:
            result.stages = engine_stages(timing.turns[0], latency, spoken=spoken)
            result.latency = latency
        except ValueError as exc:
            result.error = str(exc)
    return result


async def run(
    backends: Backends,
    settings: Settings,
    *,
    runs: int,
    languages: Sequence[str],
    progress: Progress,
    cold_prompt: bool = False,
    server_url: str | None = None,
    variants: Sequence[Variant] = (),
) -> list[RunResult]:
    """Every question ``runs`` times through every pipeline, taking turns in the order of :func:`pipelines`; one
    warm-up turn each first. ``server_url``: the ``omni serve`` of the server pipeline (None: no server pipeline)."""
    bench = Bench(backends, settings, cold_prompt=cold_prompt)
    server = None if server_url is None else RealtimeTurns(server_url, settings, cold_prompt=cold_prompt)
    assert backends.tts is not None
    steady = question_voice(settings)
    spoken = [await speak(steady, q, "en") for q in QUESTIONS["en"]] if "en" in languages else []
    wired = [wire_clip(q.text, q.clip, INPUT_RATE, q.speech_end) for q in spoken]
    korean = QUESTIONS["ko"] if "ko" in languages else ()

    async def voice(index: int, number: int) -> list[RunResult]:
        question, done = spoken[index], []
        if server is not None:
            done.append(await server.voice(wired[index], number))
        done.append(await bench.engine_voice(question, number))
        done += [await bench.engine_voice(question, number, variant) for variant in variants]
        done.append(await bench.cascade_voice(question, number))
        return done

    async def text(text: str, number: int) -> list[RunResult]:
        done = [await server.text(text, "ko", number)] if server is not None else []
        engine, prompt = await bench.engine_text(text, "ko", number)
        done.append(engine)
        done += [(await bench.engine_text(text, "ko", number, variant))[0] for variant in variants]
        if engine.error is None:  # the cascade sends the engine's exact prompt
            done.append(await bench.cascade_text(text, "ko", prompt, number))
        return done

    progress("warming up (one turn through each pipeline, not counted)")
    await (voice(0, 0) if spoken else text(korean[0], 0))
    results: list[RunResult] = []
    for number in range(1, runs + 1):
        jobs = [partial(voice, i, number) for i in range(len(spoken))] + [partial(text, t, number) for t in korean]
        for job in jobs:
            for result in await job():
                results.append(result)
                progress(_line(result, runs))
    return results


def pipelines(*, server: bool, variants: Sequence[Variant] = ()) -> list[str]:
    """The pipelines of a run, in the order they take turns."""
    return [*(["server"] if server else []), "engine", *(v.name for v in variants), "cascade"]


def _line(result: RunResult, runs: int) -> str:
    outcome = f"{result.latency * 1000:.0f} ms" if result.latency is not None else f"FAILED: {result.error}"
    heard = f" heard {result.transcript!r}" if result.transcript else ""
    return (f"[{result.run}/{runs}] {result.pipeline:<8} {result.language} {result.question!r}: {outcome};"
            f"{heard} reply {result.reply!r}")


def machine_info(settings: Settings, backends: Backends) -> dict[str, Any]:
    return {
        **machine(),
        "models": {
            "vad": settings.vad.backend,
            "stt": f"{settings.stt.backend}: {settings.stt.model}",
            "llm": f"{settings.llm.backend}: {settings.llm.model}",
            "tts": f"{settings.tts.backend}: {settings.tts.voice}",
        },
        "backends": {name: _describe(getattr(backends, name)) for name in ("vad", "stt", "llm", "tts")},
    }


def _describe(backend: object) -> str:
    """A backend's own repr when it has one, else its class and the model file it loaded."""
    if type(backend).__repr__ is not object.__repr__:
        return repr(backend)
    path = getattr(backend, "model_path", None)
    return type(backend).__name__ + (f"({str(path)!r})" if path is not None else "")


def results_document(
    results: Sequence[RunResult],
    settings: Settings,
    backends: Backends,
    *,
    runs: int,
    load: Sequence[float],
    cold_prompt: bool = False,
    order: Sequence[str] = (),
    variants: Sequence[Variant] = (),
) -> dict[str, Any]:
    """Everything a reader needs to judge the numbers: when, where, how, every run, and the summary.
    ``order``: the pipelines in the order they took turns."""
    comparisons = compare(results, order)
    names = [p.pipeline for p in comparisons[0].pipelines] if comparisons else list(order)
    return {
        "benchmark": "voice-latency",
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": " ".join(["omni", *sys.argv[1:]]),
        "machine": machine_info(settings, backends),
        "load_average": {"start": list(load), "end": list(os.getloadavg())},
        "method": {
            "runs": runs,
            "input_step_ms": STEP_SECONDS * 1000,
            "lead_silence_s": LEAD_SECONDS,
            "trailing_silence_s": TAIL_SECONDS,
            "silence_duration_ms": settings.vad.silence_duration_ms,
            "output_rate": OUTPUT_RATE,
            "prompt_cache": (
                "cold: an unrelated prompt runs before every measured turn" if cold_prompt else
                "warm system prompt: an unrelated prompt, then the system prompt prefilled, before every turn"
            ),
            "server": (
                "a fresh Realtime session per turn on one `omni serve` process, streamed at real-time pace over "
                "the WebSocket; the first audible sample as played by a client that plays each audio delta on "
                "arrival; before each turn the server's LLM is primed through POST /v1/chat/completions "
                "(the system message, max_tokens 1; an unrelated prompt with --cold-prompt)"
            ) if "server" in names else None,
            "variants": {v.name: dict(v.changes) for v in variants},
        },
        "pipelines": {name: pipeline_name(name) for name in names},
        "summary": [{**asdict(c), "ratios": c.ratios} for c in comparisons],
        "runs": [asdict(r) for r in results],
    }


def check_languages(choice: str) -> tuple[str, ...]:
    if choice == "all":
        return ("en", "ko")
    if choice in QUESTIONS:
        return (choice,)
    raise ConfigError(f"unknown question set {choice!r}; expected en, ko or all")

