"""``omni chat``: a streaming text chat with the LLM in the terminal. Ctrl-C during a reply stops the reply."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import threading

from omni.backends.registry import create
from omni.cli.common import add_global_flags, guarded, settings_from
from omni.clock import RealClock
from omni.config import Settings
from omni.events import ReplyDone, ReplyTextDelta, SessionEvent, StageError
from omni.session.build import open_session_toolbox, session_options
from omni.session.playout import CollectingOutput
from omni.session.session import Backends, Session


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("chat", help="text chat with the assistant in the terminal (streams tokens)")
    add_global_flags(parser)
    parser.set_defaults(func=guarded(run))


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    print("loading the language model…", file=sys.stderr, flush=True)
    llm = create("llm", settings.llm.backend, settings)
    return asyncio.run(_chat(Backends(llm=llm), settings))


async def _chat(backends: Backends, settings: Settings) -> int:
    interactive = sys.stdin.isatty()
    printer = _Printer()
    session = Session(
        backends,
        session_options(settings, output_audio=False),
        clock=RealClock(),
        output=CollectingOutput(),
        observers=[printer],
        toolbox=await open_session_toolbox(settings),
    )
    await session.prefill()
    lines = _stdin_lines()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, lambda: _on_interrupt(session, lines))
    if interactive:
        print("Omni chat — type a message; Ctrl-C stops a reply; Ctrl-D or Ctrl-C at the prompt quits.")
    try:
        while True:
            if interactive:
                print("you> ", end="", flush=True)
            line = await lines.get()
            if line is None:
                break
            if not line.strip():
                continue
            session.add_user_text(line.strip())
            print("omni> ", end="", flush=True)
            handle = await session.create_reply()
            await handle.done.wait()
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        await session.aclose()
    if interactive:
        print()
    return 1 if printer.failed else 0


def _on_interrupt(session: Session, lines: asyncio.Queue[str | None]) -> None:
    if session.reply_active and session.current is not None:
        session.current.interrupt()
    else:
        lines.put_nowait(None)


def _stdin_lines() -> asyncio.Queue[str | None]:
    """Read stdin in a daemon thread, so a blocked read never keeps the program from exiting."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def read() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(queue.put_nowait, line)
        loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=read, daemon=True, name="stdin").start()
    return queue


class _Printer:
    def __init__(self) -> None:
        self.failed = False

    def __call__(self, event: SessionEvent) -> None:
        if isinstance(event, ReplyTextDelta):
            print(event.text, end="", flush=True)
        elif isinstance(event, ReplyDone):
            print(" [interrupted]" if event.status in ("interrupted", "cancelled") else "", flush=True)
        elif isinstance(event, StageError):
            self.failed = True
            print(f"\nomni: error: {event.message}", file=sys.stderr, flush=True)
