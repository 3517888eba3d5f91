"""Voice-to-voice latency: ``omni serve`` over the Realtime WebSocket and the streaming session engine in-process,
against the naive cascade, on the same models.

Every question is spoken at bench time by Omni's own voices, with their random variation off: English by the Piper
voice, Korean by the Kokoro voice (``tts.backend`` ``auto`` routes each language to its voice). Both are synthetic
speech, not people: the numbers say how fast a turn goes, and the transcripts in the results say what the STT made
of that speech (whisper base writes Piper's English questions word for word, and the Kokoro voice's Korean ones with
a syllable or two wrong). A voice that whisper cannot read is refused, not measured: Korean from espeak-ng (``auto``
falls back to it without the Kokoro model) comes out as Thai.

Each clip is streamed into a fresh :class:`Session` the way a microphone delivers it (20 ms pieces on the real
clock, each handed over when its last sample has been "spoken"). The session is not told the question's language:
the STT detects it, as it does for a user (a language pinned by ``stt.language`` or ``session.language`` that is
not the question's is refused, see :func:`check_language_setting`). The latency of a turn runs from the true end of
speech in the clip (known, because the clip was built around it) to the first audible sample the paced output
plays. The cascade gets the same clip and is timed from the same point. The server pipeline streams the same clip
into a real ``omni serve`` process, as a client would (:mod:`omni.bench.realtime_turn`); variants
(:mod:`omni.bench.variants`) run the in-process engine with other settings on the same loaded backends. The
pipelines take turns on every question, so a slower stretch of the machine falls on all of them. Each run records
the question's language and, from the script of what the STT wrote, the language it was heard in; a turn heard in
another language is flagged in the table. A question the endpointer cut at a pause inside it (its speech started
twice, or the reply sounded before it ended) is a failed run, not a fast one. On a Korean turn the session adds its
reminder to answer in Korean to the prompt (the engine and the server alike); the cascade sends the transcript alone,
as a first voice assistant does, so its prompt is a few tokens shorter.

Earlier versions measured Korean from text, while no packaged voice spoke Korean that whisper could read; the results
documents of those runs hold ``text`` runs, which :mod:`omni.bench.report` and the chart still read.

Every pipeline starts every measured turn from the same LLM state. First an unrelated prompt runs, so the prompt
cache never holds the previous run's question (llama.cpp would skip work already done); then, as ``omni voice``,
``talk`` and ``chat`` do before the user speaks, the system prompt is prefilled. ``cold_prompt`` leaves the prefill
out: a first turn of a process that just started, for every pipeline alike.
"""

from __future__ import annotations

import datetime
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from omni.audio.pacing import STEP_SECONDS, feed_in_real_time
from omni.audio.resample import resample
from omni.audio.silence import first_sound, last_sound
from omni.backends.base import TTS, GenerationOptions
from omni.backends.espeak_tts import EspeakTTS
from omni.backends.language_tts import LanguageTTS
from omni.bench import cascade
from omni.bench.realtime_turn import RealtimeTurns, WireClip, wire_clip
from omni.bench.report import (
    LANGUAGE_NAMES,
    RunResult,
    compare,
    cut_question,
    heard_language,
    machine,
    misheard,
    pipeline_name,
)
from omni.bench.variants import Variant
from omni.clock import Clock, RealClock
from omni.config import Settings
from omni.errors import BackendError, ConfigError, OmniError
from omni.events import ReplyAudio, ReplyDone, SessionEvent, SpeechStarted, StageError, TranscriptionDone
from omni.session.build import session_options
from omni.session.playout import PacedOutput
from omni.session.session import Backends, Session, SessionOptions
from omni.session.timing import TimingObserver, TurnTiming
from omni.text.language import detect_language
from omni.types import AudioChunk, ChatMessage, Samples

QUESTIONS: dict[str, tuple[str, ...]] = {
    "en": (
        "What is the capital of France?",
        "How many days are in a week?",
        "Give me one tip for sleeping better.",
    ),
    "ko": (
        "프랑스의 수도는 어디인가요?",
        "일주일은 며칠인가요?",
        "숙면을 위한 팁을 하나 알려 주세요.",
    ),
}
"""The Korean questions say what the English ones do. The third was "잠을 잘 자기 위한 팁을 하나 알려 주세요." while
Korean was typed; the Kokoro voice pauses half a second inside "잠을 잘", longer than the silence wait, so the turn
ended there and the question was measured in two halves. "숙면을 위한" (for sound sleep) is said in one breath."""
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

Progress = Callable[[str], None]


@dataclass(frozen=True)
class SpokenQuestion:
    text: str
    clip: Samples
    """16 kHz: lead-in silence, the speech, trailing silence."""
    speech_end: float
    """Seconds into the clip where the speech ends (its last audible sample)."""
    language: str
    """The language it is spoken in: what the turn is labelled with, never told to the session."""


def build_clip(
    text: str, speech: Samples, rate: int, *, language: str | None = None, lead: float = LEAD_SECONDS,
    tail: float = TAIL_SECONDS,
) -> SpokenQuestion:
    """Trim ``speech`` to its audible part and put silence around it; the end of speech is then known exactly.
    ``language``: what ``text`` is in (None: what its script says, English for Latin letters)."""
    start, end = first_sound(speech), last_sound(speech)
    if start is None or end is None:
        raise ValueError("the spoken question has no audible sample")
    voiced = speech[start : end + 1]
    before = np.zeros(round(lead * rate), dtype=np.float32)
    after = np.zeros(round(tail * rate), dtype=np.float32)
    clip = np.concatenate([before, voiced, after]).astype(np.float32)
    spoken_in = language or detect_language(text) or "en"
    return SpokenQuestion(text, clip, (before.size + voiced.size) / rate, spoken_in)


def question_voice(settings: Settings, backend: str | None = None) -> TTS:
    """The configured voice (or ``backend``) without its random variation: the benchmarks' spoken questions are the
    same audio in every run (with it, one rendering in a few was misheard, and a run's numbers could not be
    repeated). With ``auto``, Piper speaks English and Kokoro Korean."""
    from omni.backends.registry import create

    steady = settings.model_copy(update={"tts": settings.tts.model_copy(update={"variation": False})})
    voice: TTS = create("tts", backend or settings.tts.backend, steady)
    return voice


def speaker(voice: TTS, language: str) -> TTS:
    """The voice that speaks ``language``: a per-language router's route for it, else ``voice`` itself."""
    return voice.route("", language) if isinstance(voice, LanguageTTS) else voice


def check_question_voice(voice: TTS, languages: Sequence[str]) -> None:
    """Refuse Korean questions spoken by espeak-ng: whisper cannot read its Korean (it hears Thai), so the turn would
    measure a broken transcription. ``auto`` falls back to espeak-ng when the Kokoro model is missing."""
    if "ko" in languages and isinstance(speaker(voice, "ko"), EspeakTTS):
        raise ConfigError(
            "the Korean questions would be spoken by espeak-ng, whose Korean whisper cannot read (it hears Thai): "
            "install Omni's Korean voice (`omni models --install kokoro-82m`, or `make install`), or measure the "
            "English questions only with --questions en")


def check_language_setting(languages: Sequence[str], settings: Sequence[Settings]) -> None:
    """Refuse an STT language pinned (``stt.language``/``--lang`` or ``session.language``) to something other than
    a question's language: those questions would be transcribed as if spoken in the pinned one. Unpinned, the STT
    detects each question's language, as it does for a user."""
    for each in settings:
        pinned = session_options(each).language
        if not pinned:
            continue
        code = pinned.strip().lower().replace("_", "-").split("-")[0]
        others = [language for language in languages if language != code]
        if others:
            names = " and ".join(LANGUAGE_NAMES.get(language, language) for language in others)
            only = f", or measure those questions alone with --questions {code}" if code in QUESTIONS else ""
            raise ConfigError(
                f"the STT language is fixed to {pinned!r} (--lang, stt.language or session.language), so the {names} "
                f"questions would be transcribed as if they were in it: leave it unset, and the STT detects each "
                f"question's language as it does for a user{only}")


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
    """The question spoken by the configured voice in ``language``, as a 16 kHz clip."""
    speech = await utterance(tts, text, language, INPUT_RATE)
    try:
        return build_clip(text, speech, INPUT_RATE, language=language)
    except ValueError as exc:
        raise BackendError("tts", f"the TTS produced no audible speech for the question {text!r}") from exc


def wire_question(question: SpokenQuestion) -> WireClip:
    """The question as the server pipeline streams it."""
    return wire_clip(question.text, question.clip, INPUT_RATE, question.speech_end, language=question.language)


class TurnProbe:
    """Session observer: when the first audible reply sample plays, and what was heard, said and broken.

    The output plays each chunk when the previous one ends, or at once if the player is idle (as
    :class:`PacedOutput` does); the first audible sample plays that far into its chunk. One question is one stretch
    of speech; a question the endpointer cut at a pause inside it starts speech twice, and is heard in parts.
    """

    def __init__(self) -> None:
        self.first_sound_at: float | None = None
        self.heard: list[str] = []
        self.speech_starts = 0
        self.reply = ""
        self.errors: list[str] = []
        self._cursor = float("-inf")

    @property
    def transcript(self) -> str:
        """What the STT heard; the parts of a question cut into turns, joined by ``|``."""
        return " | ".join(part for part in self.heard if part)

    def __call__(self, event: SessionEvent) -> None:
        if isinstance(event, ReplyAudio):
            start = max(event.at, self._cursor)
            self._cursor = start + event.chunk.duration
            onset = first_sound(event.chunk.samples) if self.first_sound_at is None else None
            if onset is not None:
                self.first_sound_at = start + onset / event.chunk.sample_rate
        elif isinstance(event, TranscriptionDone):
            self.heard.append(event.transcript.text.strip())
        elif isinstance(event, SpeechStarted):
            self.speech_starts += 1
        elif isinstance(event, ReplyDone) and not self.reply:  # a cut question's first reply, as it was timed
            self.reply = event.text.strip()
        elif isinstance(event, StageError):
            self.errors.append(f"{event.stage}: {event.message}")


def engine_stages(timing: TurnTiming, latency: float) -> dict[str, float]:
    """Split an engine turn's latency into stages that add up to it.

    The observer's stages leave out the LLM's wait from its first token to the first speakable chunk (a clause
    long enough to speak): that is what remains of its total. What the total leaves out of the latency is the
    difference between the VAD's end of speech and the true one, and the silence the voice puts before speaking.
    """
    if timing.total is None or timing.llm_first_token is None or timing.tts_first_audio is None:
        raise ValueError(f"incomplete turn timing: {timing}")
    if timing.endpoint is None or timing.stt is None:
        raise ValueError(f"a spoken turn without endpoint or stt timing: {timing}")
    stages = {ENDPOINT: timing.endpoint, STT: timing.stt, LLM_FIRST_TOKEN: timing.llm_first_token}
    stages[LLM_FIRST_CHUNK] = timing.total - sum(stages.values()) - timing.tts_first_audio
    stages[TTS_FIRST_AUDIO] = timing.tts_first_audio
    stages[OTHER] = latency - timing.total
    return stages


class Bench:
    """The loaded backends and the options every turn shares; one method per pipeline's spoken turn."""

    def __init__(
        self, backends: Backends, settings: Settings, *, cold_prompt: bool = False, clock: Clock | None = None
    ) -> None:
        if backends.tts is None or backends.stt is None or backends.vad is None:
            raise ConfigError("the voice latency benchmark needs VAD, STT and TTS backends")
        self.llm = backends.llm
        self.backends = Backends(llm=self.llm, vad=backends.vad, stt=backends.stt, tts=backends.tts)
        self.settings = settings
        self.options: SessionOptions = session_options(settings)
        self.silence_wait = settings.vad.silence_duration_ms / 1000
        self.cold_prompt = cold_prompt
        self.clock: Clock = clock or RealClock()

    async def prepare_llm(self, session: Session | None = None) -> None:
        """Before a turn: an unrelated prompt, so no turn reuses the previous turn's work; then the prefill.

        The engine's session prefills itself; the cascade gets the same head start through the same LLM call.
        """
        unrelated = [ChatMessage("system", "Benchmark pause."), ChatMessage("user", "Say OK.")]
        one_token = GenerationOptions(temperature=0.0, max_tokens=1)
        async with aclosing(self.llm.chat(unrelated, options=one_token)) as events:
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
        result = RunResult(pipeline, "voice", question.language, question.text, run, None,
                           load_average=os.getloadavg()[0])
        probe = TurnProbe()
        timing = TimingObserver()
        session = await self._session(probe, timing, variant)
        start = timing.stream_start = self.clock.now()
        try:
            await feed_in_real_time(session.push_audio, self.clock, AudioChunk(question.clip, INPUT_RATE), start=start)
            await session.idle()
        finally:
            await session.aclose()
        return _finish(result, probe, timing, start + question.speech_end)

    async def cascade_voice(self, question: SpokenQuestion, run: int) -> RunResult:
        await self.prepare_llm()
        result = RunResult("cascade", "voice", question.language, question.text, run, None,
                           load_average=os.getloadavg()[0])
        # What a recorder stopped by an endpointer holds: the clip up to the silence wait after the speech.
        recording = question.clip[: round((question.speech_end + self.silence_wait) * INPUT_RATE)]
        try:
            turn = await cascade.speech_turn(
                self.backends.stt, self.llm, self.backends.tts, recording,
                instructions=self.options.instructions, generation=self.options.generation,
                language=self.options.language, silence_wait=self.silence_wait,
            )
        except OmniError as exc:
            result.error = str(exc)
            return result
        result.latency, result.stages = turn.latency, turn.stages
        result.transcript, result.reply = turn.transcript, turn.reply
        result.heard_language = heard_language(turn.transcript)
        return result


def _finish(result: RunResult, probe: TurnProbe, timing: TimingObserver, start: float) -> RunResult:
    result.transcript, result.reply = probe.transcript, probe.reply
    result.heard_language = heard_language(probe.transcript)
    if probe.errors:
        result.error = "; ".join(probe.errors)
    elif probe.first_sound_at is None or not timing.turns:
        result.error = "no audible reply" + ("" if probe.transcript else " (nothing was transcribed)")
    elif (cut := cut_question(probe.speech_starts, probe.first_sound_at - start)) is not None:
        result.error = cut
    else:
        latency = probe.first_sound_at - start
        try:
            result.stages = engine_stages(timing.turns[0], latency)
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
    voice: TTS | None = None,
    clock: Clock | None = None,
) -> list[RunResult]:
    """Every question of ``languages`` ``runs`` times through every pipeline, taking turns in the order of
    :func:`pipelines`; first one warm-up turn per language through each (not counted: the first Korean reply also
    wakes the Kokoro voice). ``server_url``: the ``omni serve`` of the server pipeline (None: no server pipeline).
    ``voice`` speaks the questions (default :func:`question_voice`)."""
    check_language_setting(languages, [settings, *(v.settings for v in variants)])
    voice = voice or question_voice(settings)
    check_question_voice(voice, languages)
    bench = Bench(backends, settings, cold_prompt=cold_prompt, clock=clock)
    server = None if server_url is None else RealtimeTurns(server_url, settings, cold_prompt=cold_prompt)
    spoken = [await speak(voice, text, language) for language in languages for text in QUESTIONS[language]]
    wired = [wire_question(question) for question in spoken]

    async def turn(index: int, number: int) -> list[RunResult]:
        question, done = spoken[index], []
        if server is not None:
            done.append(await server.voice(wired[index], number))
        done.append(await bench.engine_voice(question, number))
        done += [await bench.engine_voice(question, number, variant) for variant in variants]
        done.append(await bench.cascade_voice(question, number))
        return done

    progress("warming up (one turn per language through each pipeline, not counted)")
    for language in languages:
        await turn(next(i for i, question in enumerate(spoken) if question.language == language), 0)
    results: list[RunResult] = []
    for number in range(1, runs + 1):
        for index in range(len(spoken)):
            for result in await turn(index, number):
                results.append(result)
                progress(_line(result, runs))
    return results


def pipelines(*, server: bool, variants: Sequence[Variant] = ()) -> list[str]:
    """The pipelines of a run, in the order they take turns."""
    return [*(["server"] if server else []), "engine", *(v.name for v in variants), "cascade"]


def _line(result: RunResult, runs: int) -> str:
    outcome = f"{result.latency * 1000:.0f} ms" if result.latency is not None else f"FAILED: {result.error}"
    heard = f" heard {result.transcript!r}" if result.transcript else ""
    if misheard(result):
        heard += f" (as {result.heard_language}, not {result.language})"
    return (f"[{result.run}/{runs}] {result.pipeline:<8} {result.language} {result.question!r}: {outcome};"
            f"{heard} reply {result.reply!r}")


def question_voices(voice: TTS, languages: Sequence[str]) -> dict[str, str]:
    """Which voice speaks each language's questions, for the results."""
    return {language: _describe(speaker(voice, language)) for language in languages}


def machine_info(settings: Settings, backends: Backends) -> dict[str, Any]:
    tts = settings.tts
    korean = f"; Korean {tts.korean_voice} ({tts.korean_style})" if tts.backend == "auto" else ""
    return {
        **machine(),
        "models": {
            "vad": settings.vad.backend,
            "stt": f"{settings.stt.backend}: {settings.stt.model}",
            "llm": f"{settings.llm.backend}: {settings.llm.model}",
            "tts": f"{tts.backend}: {tts.voice}{korean}",
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
    voices: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Everything a reader needs to judge the numbers: when, where, how, every run, and the summary.
    ``order``: the pipelines in the order they took turns; ``voices``: who spoke each language's questions
    (:func:`question_voices`)."""
    comparisons = compare(results, order)
    names = [p.pipeline for p in comparisons[0].pipelines] if comparisons else list(order)
    voices = voices or {}
    languages = [lang for lang in dict.fromkeys([*voices, *(r.language for r in results)]) if lang in QUESTIONS]
    pinned = session_options(settings).language
    return {
        "benchmark": "voice-latency",
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": " ".join(["omni", *sys.argv[1:]]),
        "machine": machine_info(settings, backends),
        "load_average": {"start": list(load), "end": list(os.getloadavg())},
        "method": {
            "runs": runs,
            "questions": {lang: {"texts": list(QUESTIONS[lang]), "spoken_by": voices.get(lang)} for lang in languages},
            "speech": "synthetic: Omni's own voices speak the questions at bench time (Piper for English, Kokoro "
                      "for Korean with tts.backend auto), without random variation; every pipeline gets the same clip",
            "stt_language": pinned or "not told: the STT detects each question's language",
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
