"""``omni voice IN.wav -o OUT.wav``: one full voice turn from a file — VAD, STT, LLM, TTS — with stage timings.

By default the file is read as fast as possible. ``--realtime`` streams it at real-time pace and plays the answer
on the clock, as a live conversation would: a second utterance that starts while the answer plays interrupts it,
and OUT.wav then ends where the answer was cut.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import numpy as np

from omni.audio.io import read_audio, write_wav
from omni.audio.pacing import feed_in_real_time
from omni.audio.resample import resample
from omni.cli.common import add_global_flags, guarded, settings_from
from omni.clock import RealClock
from omni.config import Settings
from omni.errors import AudioInputError
from omni.events import ReplyDone, SessionEvent, SpeechStarted, StageError, TranscriptionDone
from omni.session.build import load_backends, open_session_toolbox, session_options
from omni.session.playout import CollectingOutput, PacedOutput
from omni.session.session import Backends, Session
from omni.session.timing import TimingObserver
from omni.types import AudioChunk

OUTPUT_RATE = 24000


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("voice", help="one voice turn from a WAV file: transcript, answer, spoken answer")
    parser.add_argument("input", type=Path, help="audio file with the user's speech (any rate libsndfile reads)")
    parser.add_argument("-o", "--output", type=Path, required=True, help="WAV file for the spoken answer")
    parser.add_argument("--realtime", action="store_true",
                        help="stream the input at real-time pace; speech during the answer interrupts it")
    add_global_flags(parser)
    parser.set_defaults(func=guarded(run))


def run(args: argparse.Namespace) -> int:
    audio = read_audio(args.input, sample_rate=16000)  # bad input fails here, before models load
    settings = settings_from(args)
    print("loading models…", file=sys.stderr, flush=True)
    backends = load_backends(settings)
    return asyncio.run(_turn(args, audio, backends, settings))


async def _turn(args: argparse.Namespace, audio: AudioChunk, backends: Backends, settings: Settings) -> int:
    clock = RealClock()
    # Read as fast as possible, the answer has no playback time: it is all "played" into the file.
    output: PacedOutput | CollectingOutput = (
        PacedOutput(clock, sample_rate=OUTPUT_RATE, record=True) if args.realtime else CollectingOutput(OUTPUT_RATE)
    )
    report = _Report()
    timing = TimingObserver()
    session = Session(backends, session_options(settings), clock=clock, output=output, observers=[report, timing],
                      toolbox=await open_session_toolbox(settings))
    await session.prefill()
    tail = AudioChunk.silence(settings.vad.silence_duration_ms / 1000 + 0.3, 16000)
    try:
        if args.realtime:
            timing.stream_start = clock.now()  # after the prefill: the input starts playing now
            await feed_in_real_time(session.push_audio, clock, audio)
            await feed_in_real_time(session.push_audio, clock, tail)
        else:
            session.push_audio(audio)
            session.push_audio(tail)
        await session.idle()
    finally:
        await session.aclose()
    if not report.heard_speech:
        raise AudioInputError(f"no speech found in {args.input}")
    for line in report.lines:
        print(line)
    for turn in timing.turns:
        print(turn.line())
    played = output.played_audio()
    samples = np.concatenate([resample(c.samples, c.sample_rate, OUTPUT_RATE) for c in played]) if played else None
    if samples is None:
        print("omni: no spoken answer was produced", file=sys.stderr)
        return 1
    write_wav(args.output, AudioChunk(samples, OUTPUT_RATE))
    print(f"wrote {args.output} ({len(samples) / OUTPUT_RATE:.1f} s)")
    return 1 if report.failed else 0


class _Report:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.heard_speech = False
        self.failed = False

    def __call__(self, event: SessionEvent) -> None:
        if isinstance(event, SpeechStarted):
            self.heard_speech = True
        elif isinstance(event, TranscriptionDone):
            language = event.transcript.language or "?"
            self.lines.append(f"you ({language}): {event.transcript.text.strip()}")
        elif isinstance(event, ReplyDone):
            if event.status == "interrupted":
                self.lines.append(f"omni (interrupted): {_one_line(event.heard_text)}  "
                                  f"[generated: {_one_line(event.text)}]")
            else:
                self.lines.append(f"omni: {_one_line(event.text)}")
        elif isinstance(event, StageError):
            self.failed = True
            self.lines.append(f"error in {event.stage}: {event.message}")


def _one_line(text: str) -> str:
    return " ".join(text.split())
