"""``omni look IMAGE ["question"]``: what vision finds in an image, and the assistant's answer about it."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from omni.backends.registry import create
from omni.cli.common import add_global_flags, guarded, settings_from
from omni.clock import RealClock
from omni.config import Settings
from omni.errors import ConfigError, ImageInputError, OmniError
from omni.events import ReplyDone, SessionEvent
from omni.session.build import open_session_toolbox, session_options
from omni.session.playout import CollectingOutput
from omni.session.session import Backends, Session
from omni.types import ImageFrame
from omni.vision import describe
from omni.vision.image import decode
from omni.vision.scene import Scene

DEFAULT_QUESTION = "What can you tell about this image?"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("look", help="look at an image and answer a question about it")
    parser.add_argument("image", type=Path, help="PNG, JPEG, GIF, WebP or BMP file")
    parser.add_argument("question", nargs="?", help=f"what to ask about it (default: {DEFAULT_QUESTION!r})")
    parser.add_argument("--json", action="store_true", help="print the findings and the answer as one JSON object")
    parser.add_argument("--no-answer", action="store_true", help="only what vision finds; no language model")
    add_global_flags(parser)
    parser.set_defaults(func=guarded(run))


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    try:
        data = args.image.read_bytes()
    except OSError as exc:
        raise ImageInputError(f"cannot read {args.image}: {exc.strerror or exc}") from exc
    frame = decode(data, max_side=settings.vision.max_side)
    return asyncio.run(_look(settings, frame, args))


async def _look(settings: Settings, frame: ImageFrame, args: argparse.Namespace) -> int:
    chosen = settings.vision.chosen_backend
    if chosen == "none":
        raise ConfigError("vision is off (vision.backend = none); choose perception, llama-vlm or openai")
    print("loading the vision models…", file=sys.stderr, flush=True)
    vision = create("vision", chosen, settings)
    if args.no_answer:
        scene, answer = await vision.look(frame, question=args.question), None
    else:
        print("loading the language model…", file=sys.stderr, flush=True)
        scene, answer = await _ask(Backends(llm=create("llm", settings.llm.backend, settings), vision=vision),
                                   settings, frame, args.question or DEFAULT_QUESTION)
    if args.json:
        print(json.dumps({"scene": describe.as_json(scene), "answer": answer}, ensure_ascii=False))
    else:
        print(describe.note(scene))
        if answer is not None:
            print(f"\nomni: {answer}")
    return 0


async def _ask(backends: Backends, settings: Settings, frame: ImageFrame, question: str) -> tuple[Scene, str]:
    """One turn of a session: the question with the image, answered from what vision found."""
    done: list[ReplyDone] = []

    def collect(event: SessionEvent) -> None:
        if isinstance(event, ReplyDone):
            done.append(event)

    session = Session(backends, session_options(settings, output_audio=False), clock=RealClock(),
                      output=CollectingOutput(), observers=[collect], toolbox=await open_session_toolbox(settings))
    item = session.add_user_message(question, [frame])
    handle = await session.create_reply()
    await handle.done.wait()
    await session.aclose()
    image = item.images[0]
    if image.scene is None:
        raise OmniError(image.note())
    reply = done[-1]
    if reply.status != "completed":
        raise OmniError(f"the answer {reply.status}: {reply.error}")
    return image.scene, reply.text.strip()
