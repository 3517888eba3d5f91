"""``omni talk``: a live voice conversation with the microphone and speaker."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Callable

from omni.audio.devices import Microphone, SpeakerOutput, require_devices
from omni.audio.echo_canceller import EchoCanceller
from omni.cli.common import add_global_flags, guarded, settings_from
from omni.clock import RealClock
from omni.config import Settings
from omni.events import (
    InputCleared,
    ReplyDone,
    SessionEvent,
    SpeechHeld,
    SpeechIgnored,
    SpeechStarted,
    StageError,
    TranscriptionDone,
)
from omni.session.build import load_backends, open_session_toolbox, session_options
from omni.session.session import Backends, Session, SessionOptions
from omni.session.timing import TimingObserver
from omni.session.tools import ToolBox

OUTPUT_RATE = 24000
INPUT_RATE = 16000


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("talk", help="live voice conversation with the microphone and speaker")
    add_global_flags(parser)
    parser.set_defaults(func=guarded(run))


def run(args: argparse.Namespace) -> int:
    require_devices()  # before loading models: say at once when there is nothing to talk with
    settings = settings_from(args)
    print("loading models…", file=sys.stderr, flush=True)
    backends = load_backends(settings)
    asyncio.run(_talk(backends, settings))
    return 0


async def _talk(backends: Backends, settings: Settings) -> None:
    await converse(backends, session_options(settings),
                   "Listening — speak any time, interrupt the answer by talking; Ctrl-C quits.",
                   toolbox=await open_session_toolbox(settings))


async def converse(backends: Backends, options: SessionOptions, banner: str, *, toolbox: ToolBox | None = None) -> None:
    """A live session on the microphone and speaker until Ctrl-C (``omni talk``, ``omni interpret``; an interpreter
    offers no tools). What the speaker plays is cancelled out of the microphone (omni.audio.echo_canceller), so the
    reply coming back through the microphone does not interrupt it, while the user still can. Speech held as maybe an
    interruption pauses the reply at once, which goes on if it was none (:func:`pause_while_held`)."""
    echo = EchoCanceller(INPUT_RATE, far_rate=OUTPUT_RATE)
    speaker = SpeakerOutput(OUTPUT_RATE, on_played=echo.far)
    timing = TimingObserver()
    session = Session(backends, options, clock=RealClock(), output=speaker, toolbox=toolbox,
                      observers=[_show, timing, lambda e: _show_timing(e, timing), pause_while_held(speaker)])
    await session.prefill()
    microphone = Microphone(session.push_audio, process=echo.near, sample_rate=INPUT_RATE)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGINT, stop.set)
    print(banner, flush=True)
    try:
        await stop.wait()
    finally:
        microphone.close()
        await session.aclose()
        speaker.close()


def pause_while_held(speaker: SpeakerOutput) -> Callable[[SessionEvent], None]:
    """The speaker pauses while speech during the reply is held (a backchannel, or an interruption whose
    ``speech_started`` waits for its words: omni.session.backchannel) and resumes when it was no turn; a turn stops
    the reply, which clears the speaker. So an interruption is silent as soon as it is heard, as on the page."""

    def on_event(event: SessionEvent) -> None:
        if isinstance(event, SpeechHeld):
            speaker.pause()
        elif isinstance(event, (SpeechIgnored, InputCleared)):
            speaker.resume()

    return on_event


def _show(event: SessionEvent) -> None:
    if isinstance(event, SpeechStarted):
        print("… listening", flush=True)
    elif isinstance(event, TranscriptionDone) and event.transcript.text:
        language = f" ({event.transcript.language})" if event.transcript.language else ""
        print(f"you{language}: {event.transcript.text}", flush=True)
    elif isinstance(event, ReplyDone):
        cut = " [interrupted]" if event.status == "interrupted" else ""
        print(f"omni: {event.heard_text}{cut}", flush=True)
    elif isinstance(event, StageError):
        print(f"omni: error in {event.stage}: {event.message}", file=sys.stderr, flush=True)


def _show_timing(event: SessionEvent, timing: TimingObserver) -> None:
    if isinstance(event, ReplyDone) and timing.turns:
        print(f"  {timing.turns[-1].line()}", flush=True)
