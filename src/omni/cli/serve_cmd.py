"""``omni serve``: the OpenAI-Realtime-compatible WebSocket API and OpenAI-compatible REST on the loaded models."""

from __future__ import annotations

import argparse
import asyncio
import sys

import uvicorn

from omni.cli.common import add_global_flags, guarded, settings_from
from omni.server.serve import check_exposure, uvicorn_config
from omni.server.state import ServerState
from omni.session.build import load_backends
from omni.tools.builtin import builtin_tools
from omni.types import ChatMessage


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the server: Realtime API over WebSocket and OpenAI-compatible REST",
        description="Serve Omni to OpenAI clients. Listens on 127.0.0.1:8000 unless told otherwise; any other "
        "address needs an API key.",
    )
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default 8000; 0 picks a free one)")
    parser.add_argument("--api-key", action="append", dest="api_keys", metavar="KEY",
                        help="require 'Authorization: Bearer KEY' (repeat for several keys)")
    add_global_flags(parser)
    parser.set_defaults(func=guarded(run))


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    check_exposure(settings.server)  # before minutes of model loading
    print("loading models…", file=sys.stderr, flush=True)
    state = ServerState(settings, load_backends(settings))
    return asyncio.run(_serve(state))


async def _serve(state: ServerState) -> int:
    # The system prompt decoded before the first client waits for it, and the call decision of each built-in tool
    # before the first question that offers it.
    await state.backends.llm.prepare_decisions([[t.tool] for t in builtin_tools(state.settings.tools)])
    await state.backends.llm.prefill([ChatMessage("system", state.settings.session.instructions)])
    server = uvicorn.Server(uvicorn_config(state))
    task = asyncio.create_task(server.serve())
    while not server.started and not task.done():  # noqa: ASYNC110 - uvicorn offers no event for this
        await asyncio.sleep(0.05)
    if server.started:
        host, port = server.servers[0].sockets[0].getsockname()[:2]
        base = f"http://{host}:{port}"
        print(f"Omni is listening on {base} — Realtime: {base.replace('http', 'ws', 1)}/v1/realtime, "
              f"REST: {base}/v1 (Ctrl-C stops)", file=sys.stderr, flush=True)
    await task
    return 0 if server.started else 1
