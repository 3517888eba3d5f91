"""Turn-taking: ``omni bench --suite turns`` — when does the user's turn end, and what stops the assistant's reply.

A real ``omni serve`` runs as a separate process on the benchmark's settings. Each trial is a fresh Realtime session
over the official ``openai`` SDK, in one turn-detection mode — ``server_vad`` (a fixed silence wait) or
``semantic_vad`` with eagerness ``auto`` — and every scenario of the kept set (:mod:`omni.bench.turn_scenarios`)
runs in every mode, the modes taking turns scenario by scenario, so both meet the same machine. The client streams
its "microphone" at real-time pace (20 ms ``input_audio_buffer.append`` pieces, each sent when its last sample has
been spoken) for the whole trial and records the server's events (:mod:`omni.bench.turns_report` says what they
mean):

- a user turn (``pause``, ``list``, ``number``, ``complete``): half a second of silence, the utterance, then silence
  until the server has committed the turn, transcribed it and begun to answer. Before each, the server's LLM is
  primed with the system prompt, as the latency suite does, so every voice-to-voice time starts from the same state.
- a sound during a reply (``backchannel``, ``interruption``, ``background``): the spoken request for a long story
  (the barge-in suite's), silence, and :data:`INJECT_AFTER` seconds after the reply's audio began to arrive, the
  sound; then silence until :data:`DECIDE` seconds after the sound ended with no user turn in progress.
- ``echo``: the same request, and from the first audio delta the client plays the reply in real time, one delta
  after the other (no jitter buffer), and its microphone hears that playback back, delayed and through a short room
  response, at a level relative to the playback, over a low noise floor (:class:`omni.bench.turn_audio.Echo`), for
  up to :data:`ECHO_LISTEN` seconds of playback; one scenario also speaks a real interruption over the echo. The
  player stops on ``speech_started``, as the browser page does.

A reply too short to speak over (the model chose to answer briefly) is tried again, up to :data:`ATTEMPTS` times.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from openai import AsyncOpenAI

from omni.audio.pcm import float_to_pcm16, pcm16_to_float
from omni.backends.base import TTS
from omni.backends.espeak_tts import EspeakTTS
from omni.bench import turns_report
from omni.bench.barge_in import INSTRUCTIONS, MAX_OUTPUT_TOKENS, REQUEST
from omni.bench.report import machine
from omni.bench.scale_client import PIECE_MS, PIECE_SAMPLES, SILENCE, append_event, append_events
from omni.bench.turn_audio import RATE, USER_DBFS, Echo, Player
from omni.bench.turn_scenarios import (
    INTERRUPTION,
    PAUSED_KINDS,
    PIPER,
    TURN_KINDS,
    AlignedPiper,
    Scenario,
    Spec,
    Voices,
    build,
    whisper_words,
)
from omni.bench.turns_report import (
    AUDIO,
    COMMITTED,
    CREATED,
    DELETED,
    DONE,
    SPEECH_STARTED,
    SPEECH_STOPPED,
    TARGETS,
    TRANSCRIBED,
    ModeSummary,
    Seen,
    Trial,
    TurnMarks,
    classify_reply,
    classify_turn,
    seen,
    summarize,
)
from omni.bench.voice_latency import speaker
from omni.config import Settings
from omni.errors import ConfigError
from omni.server.realtime_config import TURN_EVENTS_FIELD

MODES = ("server_vad", "semantic_vad")
DETECTION = {"server_vad": {"type": "server_vad"}, "semantic_vad": {"type": "semantic_vad", "eagerness": "auto"}}
"""What each mode sends. ``server_vad`` is a fixed silence wait: the server's own ``server_vad`` settings when that
is what it runs, else the API's defaults (500 ms); the results keep what the server showed back."""
LEAD = 0.5
"""Silence streamed before the first sound of a trial."""
PIECE = PIECE_MS / 1000
TURN_TOKENS = 60
"""A user turn's reply is cut short: only its first audio is timed."""
INJECT_AFTER = 1.0
"""Seconds of reply audio received before a sound is injected: the reply is well under way."""
DECIDE = 2.5
"""After a sound during the reply ends, how long the server has to stop the reply or take the sound as a turn."""
ECHO_LISTEN = 10.0
"""Seconds of the reply's playback an echo trial listens to (less when the reply is shorter)."""
SETTLE = 0.4
"""Silence streamed after a user turn's outcome is known."""
WAIT = 30.0
"""How long after the speech ended a user turn waits for the server to commit, transcribe and answer it."""
TRIAL_TIMEOUT = 120.0
ATTEMPTS = 3
TOO_SHORT = "the reply was too short to speak over"
NOT_HEARD = "no turn was committed"
PREEMPTED = "the reply had already stopped, or a user turn begun, before the sound came"

Progress = Callable[[str], None]


def check_modes(text: str) -> tuple[str, ...]:
    """``--modes server_vad,semantic_vad`` → those modes, in this order."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in MODES]
    if not names or unknown:
        raise ConfigError(f"unknown turn-detection mode {', '.join(map(repr, unknown)) or repr(text)}; expected "
                          f"{' and/or '.join(MODES)}, comma-separated")
    return tuple(mode for mode in MODES if mode in names)


def check_korean_voice(tts: TTS, scenarios: Sequence[Spec]) -> None:
    """Refuse Korean scenarios meant for Kokoro when only espeak-ng would speak them: the voices would not be the
    kept set's, and whisper cannot read espeak-ng's Korean."""
    wanted = any(said.voice.engine == "kokoro" for spec in scenarios for said in spec.said)
    if wanted and isinstance(speaker(tts, "ko"), EspeakTTS):
        raise ConfigError("the Korean scenarios are spoken by Omni's Korean voice (Kokoro), which is not installed: "
                          "`omni models --install kokoro-82m` (or `make install`), or leave the Korean scenarios "
                          "out with --kinds")


# ---- one Realtime session --------------------------------------------------------------------------------------

class Stream:
    """A trial's session: the paced microphone, the events that arrived (:class:`Seen`, seconds after the first
    piece's first sample), and the reply's playback."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.events: list[Seen] = []
        self.sent: list[float] = []
        """When each 20 ms piece went out."""
        self.player = Player()
        self.reply_audio = 0.0
        self.audio_after = 0.0
        self.sound_from: float | None = None
        """Set when a sound starts: reply audio arriving after it is counted in :attr:`audio_after`."""
        self.begin = 0.0
        self._audio_of: set[str] = set()

    def now(self) -> float:
        return asyncio.get_running_loop().time() - self.begin

    def spoken_at(self, position: float) -> float | None:
        """When the sample ``position`` seconds into the stream was spoken: its piece went out, less the rest of
        the piece (None: not sent yet)."""
        piece = int(position / PIECE + 1e-9)
        if piece >= len(self.sent):
            return None
        return self.sent[piece] - ((piece + 1) * PIECE - position)

    def record(self, event: dict[str, Any], at: float) -> None:
        kind = event.get("type")
        if kind == AUDIO:
            samples = pcm16_to_float(base64.b64decode(str(event.get("delta", ""))))
            self.player.add(samples, at)
            self.reply_audio += samples.size / RATE
            if self.sound_from is not None and at >= self.sound_from:
                self.audio_after += samples.size / RATE
            response = str(event.get("response_id", ""))
            if response in self._audio_of:
                return
            self._audio_of.add(response)
        elif kind == SPEECH_STARTED:
            self.player.stop(at)  # the browser page drops what it has not played
        kept = seen(event, at)
        if kept is not None:
            self.events.append(kept)

    async def read(self) -> None:
        while True:
            event = json.loads(await self.connection.recv_bytes())
            self.record(event, self.now())

    async def pump(self, piece: Callable[[int, float], str], finished: Callable[[float], bool]) -> None:
        """Send ``piece(k, now)`` every 20 ms (each when its last sample has been spoken) until ``finished(now)``."""
        loop = asyncio.get_running_loop()
        self.begin = loop.time()
        k = 0
        while True:
            await asyncio.sleep(max(0.0, self.begin + (k + 1) * PIECE - loop.time()))
            now = self.now()
            if finished(now):
                return
            await self.connection.send_raw(piece(k, now))
            self.sent.append(self.now())
            k += 1

    def since(self, at: float, *kinds: str) -> list[Seen]:
        return [e for e in self.events if e.at >= at and e.type in kinds]


def session_update(mode: str, *, instructions: str | None, max_output_tokens: int) -> str:
    session: dict[str, Any] = {"type": "realtime", "max_output_tokens": max_output_tokens,
                               "audio": {"input": {"turn_detection": DETECTION[mode]}}}
    if mode == "semantic_vad":  # as the page asks: when it would pause is measured (turns_report)
        session[TURN_EVENTS_FIELD] = True
    if instructions is not None:
        session["instructions"] = instructions
    return json.dumps({"type": "session.update", "session": session})


async def configure(connection: Any, update: str) -> dict[str, Any]:
    """Send the session's settings; the turn detection the server shows back."""
    await connection.send_raw(update)
    while True:
        event = json.loads(await connection.recv_bytes())
        if event.get("type") == "error":
            raise OSError(f"the server refused the session: {event.get('error')}")
        if event.get("type") == "session.updated":
            shown = (((event.get("session") or {}).get("audio") or {}).get("input") or {}).get("turn_detection")
            return dict(shown) if isinstance(shown, dict) else {}


class Client:
    """Trials against one server."""

    def __init__(self, url: str, settings: Settings) -> None:
        self.settings = settings
        key = settings.server.api_keys[0] if settings.server.api_keys else "unused"
        self.openai = AsyncOpenAI(base_url=url + "/v1", websocket_base_url=url.replace("http", "ws", 1) + "/v1",
                                  api_key=key, max_retries=0)
        self.shown: dict[str, dict[str, Any]] = {}
        """The turn detection the server showed for each mode."""

    async def prime(self) -> None:
        """The server's LLM with the system prompt decoded and nothing of the last turn (as the latency suite)."""
        await self.openai.chat.completions.create(
            model="omni", messages=[{"role": "system", "content": self.settings.session.instructions}],
            max_tokens=1, temperature=0.0)

    async def session(self, trial: Trial, update: str, body: Callable[[Stream], Any], *,
                      prime: bool = False) -> Stream | None:
        """A fresh session in ``trial.mode`` running ``body``; a failure is kept on ``trial``."""
        stream: Stream | None = None
        try:
            async with asyncio.timeout(TRIAL_TIMEOUT), \
                    self.openai.realtime.connect(model="omni-realtime") as connection:
                self.shown[trial.mode] = await configure(connection, update)
                if prime:
                    await self.prime()
                stream = Stream(connection)
                reader = asyncio.create_task(stream.read())
                try:
                    await body(stream)
                finally:
                    reader.cancel()
                    await asyncio.gather(reader, return_exceptions=True)
        except TimeoutError:
            trial.error = f"the trial did not finish within {TRIAL_TIMEOUT:.0f} s"
        except Exception as exc:  # a refused connection or a closed socket: this trial failed, the run goes on
            trial.error = f"{type(exc).__name__}: {exc}"
        if stream is not None:
            trial.events = [e.view() for e in stream.events]
            trial.reply_audio = round(stream.reply_audio, 3)
            errors = [e.message or "" for e in stream.events if e.type == turns_report.ERROR]
            if errors and trial.error is None:
                trial.error = "; ".join(errors)
        return stream

    # ---- a user's turn ---------------------------------------------------------------------------------------

    async def turn(self, scenario: Scenario, mode: str, run: int) -> Trial:
        trial = new_trial(scenario, mode, run)
        pieces = append_events(np.concatenate([np.zeros(round(LEAD * RATE), np.float32), scenario.samples]))
        end_position = LEAD + scenario.seconds
        settled_at: list[float] = []

        def piece(k: int, now: float) -> str:
            return pieces[k] if k < len(pieces) else SILENCE

        async def body(stream: Stream) -> None:
            def finished(now: float) -> bool:
                end = stream.spoken_at(end_position)
                if end is None or now < end + 0.2:
                    return False
                if not settled_at and (turn_settled(stream.events) or now > end + WAIT):
                    settled_at.append(now)
                return bool(settled_at) and now >= settled_at[0] + SETTLE

            await stream.pump(piece, finished)
            end = stream.spoken_at(end_position)
            assert end is not None
            trial.marks = {"speech_start": _round(stream.spoken_at(LEAD)), "speech_end": round(end, 4),
                           "last_part": _round(stream.spoken_at(LEAD + scenario.last_part))}
            outcome = classify_turn(stream.events, TurnMarks(end, (LEAD + scenario.last_part) * 1000, LEAD * 1000))
            trial.apply_turn(outcome)
            if outcome.turns == 0:
                trial.error = NOT_HEARD

        update = session_update(mode, instructions=None, max_output_tokens=TURN_TOKENS)
        await self.session(trial, update, body, prime=True)
        return trial

    # ---- a sound during the reply ----------------------------------------------------------------------------

    async def reply(self, request: Sequence[str], scenario: Scenario, mode: str, run: int) -> Trial:
        for attempt in range(1, ATTEMPTS + 1):
            trial = await self._reply_once(request, scenario, mode, run)
            trial.attempts = attempt
            if trial.error != TOO_SHORT:
                break
        return trial

    async def _reply_once(self, request: Sequence[str], scenario: Scenario, mode: str, run: int) -> Trial:
        trial = new_trial(scenario, mode, run)
        echo_level = scenario.spec.level_db if scenario.kind == "echo" else None
        sound = scenario.samples
        encoded = append_events(sound) if echo_level is None and sound.size else []
        started: list[int] = []
        """The piece the sound starts in."""

        async def body(stream: Stream) -> None:
            echo = None if echo_level is None else Echo(stream.player, delay=(scenario.spec.delay_ms or 80) / 1000,
                                                         level_db=echo_level)

            def piece(k: int, now: float) -> str:
                first = stream.player.first_at
                if not started and sound.size and first is not None and now >= first + INJECT_AFTER \
                        and k >= len(request):
                    started.append(k)
                    stream.sound_from = now - PIECE
                offset = k - started[0] if started else -1
                if echo is None:
                    if k < len(request):
                        return request[k]
                    return encoded[offset] if 0 <= offset < len(encoded) else SILENCE
                heard = echo.heard(k * PIECE, PIECE_SAMPLES)
                if offset >= 0 and offset * PIECE_SAMPLES < sound.size:
                    part = sound[offset * PIECE_SAMPLES : (offset + 1) * PIECE_SAMPLES]
                    heard[: part.size] += part
                return request[k] if k < len(request) else append_event(float_to_pcm16(heard))

            def finished(now: float) -> bool:
                first = stream.player.first_at
                if first is None:
                    return False
                if sound.size and not started:
                    end_at = stream.player.end_at or first
                    return now > max(end_at, first + INJECT_AFTER) + 1.0  # the reply ended before the sound came
                if started:
                    sound_end = stream.spoken_at(started[0] * PIECE + sound.size / RATE)
                    if sound_end is None:
                        return False
                    listen = sound_end
                else:  # an echo alone: listen while the reply plays (its length is known once it is done)
                    done = any(e.type == DONE for e in stream.events)
                    listen = min(stream.player.end_at or first, first + ECHO_LISTEN) if done \
                        else first + ECHO_LISTEN
                return now >= listen + DECIDE and not user_turn_pending(stream.events, first, now)

            await stream.pump(piece, finished)
            first = stream.player.first_at
            if first is None:
                trial.error = "no reply audio came"
                return
            if sound.size and not started:
                trial.error = TOO_SHORT
                return
            sound_start = stream.spoken_at(started[0] * PIECE) if started else first
            assert sound_start is not None
            trial.marks = {"reply_audio_start": round(first, 4), "sound_start": round(sound_start, 4)}
            if started:
                sound_end = stream.spoken_at(started[0] * PIECE + sound.size / RATE)
                trial.marks["sound_end"] = _round(sound_end)
                if sound_end is not None and (stream.player.end_at or 0) < sound_end \
                        and stream.player.stopped_at is None:
                    trial.error = TOO_SHORT
            outcome = classify_reply(stream.events, sound_start)
            trial.apply_reply(outcome)
            if outcome.preempted:
                trial.error = PREEMPTED
            trial.audio_after = round(stream.audio_after, 3) if started else None

        update = session_update(mode, instructions=INSTRUCTIONS, max_output_tokens=MAX_OUTPUT_TOKENS)
        await self.session(trial, update, body)
        return trial


def turn_settled(events: Sequence[Seen]) -> bool:
    """No speech in progress, every committed turn transcribed (or dropped), and, when there is one turn, its
    answer begun (a sentence cut into turns is judged by then; the answer to its last part is not waited for)."""
    commits = [e for e in events if e.type == COMMITTED]
    starts = sum(e.type == SPEECH_STARTED for e in events)
    if not commits or starts > sum(e.type == SPEECH_STOPPED for e in events):
        return False
    done = {e.item_id for e in events if e.type in (TRANSCRIBED, DELETED)}
    if any(c.item_id not in done for c in commits):
        return False
    return len(commits) > 1 or any(e.type in (AUDIO, DONE) and e.at >= commits[0].at for e in events)


def user_turn_pending(events: Sequence[Seen], since: float, now: float) -> bool:
    """The user is speaking (a ``speech_started`` not yet stopped), or a turn ended less than :data:`DECIDE` ago
    and nothing answered it yet."""
    starts = [e for e in events if e.type == SPEECH_STARTED and e.at >= since]
    stops = [e for e in events if e.type == SPEECH_STOPPED and e.at >= since]
    if len(starts) > len(stops):
        return True
    if not stops:
        return False
    return now < stops[-1].at + DECIDE and not any(e.type == CREATED and e.at >= stops[-1].at for e in events)


def new_trial(scenario: Scenario, mode: str, run: int) -> Trial:
    return Trial(scenario.id, scenario.kind, mode, run, scenario.spec.expect, scenario.language,
                 list(scenario.voices))


def _round(value: float | None) -> float:
    return float("nan") if value is None else round(value, 4)


# ---- the run -----------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Material:
    scenarios: list[Scenario]
    request: Sequence[str]
    """The spoken request for a long story, as append events (half a second of silence first)."""
    request_seconds: float


async def prepare(settings: Settings, tts: TTS, specs: Sequence[Spec], progress: Progress) -> Material:
    """The scenarios made into sound (before the server starts: the voices and whisper take the cores a
    while)."""
    check_korean_voice(tts, specs)
    cut = any(spec.kind in PAUSED_KINDS for spec in specs)
    progress(f"speaking {len(specs)} scenarios" + (" (whisper finds the word boundaries to pause at)" if cut else ""))
    voices = Voices(tts, await asyncio.to_thread(AlignedPiper, settings) if cut else None)
    words = whisper_words(settings) if cut else None
    scenarios = await build(specs, voices, words)
    request = await voices.say(REQUEST, "en", PIPER)
    events = append_events(np.concatenate([np.zeros(round(LEAD * RATE), np.float32), request]))
    return Material(scenarios, events, request.size / RATE)


async def run(url: str, settings: Settings, material: Material, *, modes: Sequence[str], runs: int,
              progress: Progress) -> tuple[list[Trial], dict[str, dict[str, Any]]]:
    """Every scenario ``runs`` times in every mode, the modes taking turns; first one warm-up turn per language
    (not counted). Returns the trials and the turn detection the server showed for each mode."""
    client = Client(url, settings)
    warm: dict[str, Scenario] = {}
    for scenario in material.scenarios:
        if scenario.kind == "complete":
            warm.setdefault(scenario.language, scenario)
    for scenario in warm.values():
        progress(f"warming up: {scenario.id} (not counted)")
        await client.turn(scenario, modes[0], 0)
    trials: list[Trial] = []
    for number in range(1, runs + 1):
        for scenario in material.scenarios:
            for mode in modes:
                if scenario.kind in TURN_KINDS:
                    trial = await client.turn(scenario, mode, number)
                else:
                    trial = await client.reply(material.request, scenario, mode, number)
                trials.append(trial)
                progress(f"[{number}/{runs}] {mode:12s} {scenario.id:28s} {describe(trial)}")
    return trials, client.shown


def describe(trial: Trial) -> str:
    if trial.error is not None:
        return f"FAILED: {trial.error}"
    if trial.false_cutoff is not None:
        heard = " | ".join(repr(t) for t in trial.transcripts)
        if trial.false_cutoff:
            where = f" at {trial.cut_at:.2f} s" if trial.cut_at is not None else ""
            return f"CUT OFF{where} ({trial.turns} turns) {heard}"
        timing = ", ".join(f"{name} {value * 1000:.0f} ms" for name, value in
                           (("speech_stopped", trial.end_of_turn), ("committed", trial.committed),
                            ("first audio", trial.voice_to_voice)) if value is not None)
        return f"one turn: {timing} {heard}"
    outcome = ("stopped" if trial.expect == INTERRUPTION else "INTERRUPTED") if trial.took_floor else \
        ("NOT STOPPED" if trial.expect == INTERRUPTION else "went on")
    how = " (cancelled)" if trial.cancelled else " (answered as a turn)" if trial.answered else ""
    started = f", speech_started {trial.speech_started * 1000:.0f} ms" if trial.speech_started is not None else ""
    if trial.paused is not None and trial.paused != trial.speech_started:
        started += f", held at {trial.paused * 1000:.0f} ms"
    if trial.held_for is not None:
        started += f", held for {trial.held_for * 1000:.0f} ms"
    return f"{outcome}{how if trial.took_floor else ''}{started}"


def summaries(trials: Sequence[Trial], modes: Sequence[str]) -> list[ModeSummary]:
    return [summarize(trials, mode) for mode in modes]


def cut_offs(trials: Sequence[Trial]) -> list[str]:
    """The sentences heard as more than one turn, with what the server transcribed of each."""
    return [f"  {t.mode:12s} {t.scenario:28s} " + " | ".join(repr(x) for x in t.transcripts)
            for t in trials if t.false_cutoff and t.error is None and t.kind in PAUSED_KINDS]


def document(trials: Sequence[Trial], material: Material, *, modes: Sequence[str], runs: int,
             shown: dict[str, dict[str, Any]], settings: Settings, load: Sequence[float]) -> dict[str, Any]:
    return {
        "benchmark": "turns",
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": " ".join(["omni", *sys.argv[1:]]),
        "machine": {**machine(), "models": {
            "vad": settings.vad.backend, "stt": f"{settings.stt.backend}: {settings.stt.model}",
            "llm": f"{settings.llm.backend}: {settings.llm.model}",
            "tts": f"{settings.tts.backend}: {settings.tts.voice}"}},
        "load_average": {"start": list(load), "end": list(os.getloadavg())},
        "method": {
            "runs": runs, "modes": {mode: DETECTION[mode] for mode in modes},
            "turn_detection_shown": shown,
            "user_speech_dbfs": USER_DBFS, "lead_silence_s": LEAD, "inject_after_s": INJECT_AFTER,
            "decide_after_s": DECIDE, "echo_listen_s": ECHO_LISTEN, "request": REQUEST,
            "request_seconds": round(material.request_seconds, 3),
            "targets": {name: target.text for name, target in TARGETS.items()},
            "times": "seconds after the trial's first streamed sample (marks, events); latencies from the last "
                     "audible sample of the user's turn, or from the first audible sample of a sound",
        },
        "scenarios": [s.describe() for s in material.scenarios],
        "summary": {s.mode: {**asdict(s), "targets_met": turns_report.met(s)} for s in summaries(trials, modes)},
        "trials": [asdict(t) for t in trials],
    }
