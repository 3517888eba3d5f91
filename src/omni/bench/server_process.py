"""``omni serve`` as a separate process, the way a user runs it: on a free port, its URL read from what it prints,
stopped with Ctrl-C (SIGINT).

The benchmark measures the server from outside, so it runs in its own process with its own CPU time and memory.
Its stderr is read to the end in the background (a full pipe would block the server) and the last lines are kept
for the error message if it dies; with ``OMNI_BENCH_SERVER_LOG`` set to a path, every line is also written there
(the server then runs verbose: what it decided, e.g. each pause's end-of-turn prediction, for a run to be looked
into).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import re
import signal
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field

from omni.errors import OmniError

LISTENING = re.compile(r"listening on (http://[\w.\-\[\]:]+:\d+)")


@dataclass
class ServerProcess:
    url: str
    """``http://127.0.0.1:PORT``"""
    pid: int
    log: collections.deque[str] = field(default_factory=lambda: collections.deque(maxlen=50))
    """The last lines the server wrote to stderr."""


def serve_command(*args: str, verbose: bool = False) -> list[str]:
    """``omni serve --port 0 ARGS`` with this interpreter, so the server runs the same Omni as the benchmark;
    ``verbose``: ``omni -v``, which logs what happens inside."""
    return [sys.executable, "-m", "omni.cli.main", *(["-v"] if verbose else []), "serve", "--port", "0", *args]


def find_url(line: str) -> str | None:
    found = LISTENING.search(line)
    return found.group(1) if found else None


@contextlib.asynccontextmanager
async def omni_serve(
    args: Sequence[str] = (), *, env: Mapping[str, str] | None = None, start_timeout: float = 300
) -> AsyncIterator[ServerProcess]:
    """Start ``omni serve --port 0 ARGS`` (``env`` added to this process's environment) and yield it once it says
    it is listening; stop it with SIGINT on the way out (SIGKILL if it has not ended 30 s later)."""
    copy_to = os.environ.get("OMNI_BENCH_SERVER_LOG")
    process = await asyncio.create_subprocess_exec(
        *serve_command(*args, verbose=bool(copy_to)), stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, env={**os.environ, **(env or {})},
    )
    assert process.stderr is not None
    stderr = process.stderr
    server = ServerProcess("", process.pid)
    drain: asyncio.Task[None] | None = None
    try:
        try:
            async with asyncio.timeout(start_timeout):
                while not server.url:
                    line = (await stderr.readline()).decode("utf-8", "replace")
                    if not line:
                        await process.wait()
                        raise OmniError(f"omni serve exited with status {process.returncode} before it listened:\n"
                                        + "".join(server.log))
                    server.log.append(line)
                    server.url = find_url(line) or ""
        except TimeoutError:
            raise OmniError(f"omni serve did not listen within {start_timeout:.0f} s:\n"
                            + "".join(server.log)) from None

        async def read_rest() -> None:
            while line := await stderr.readline():
                text = line.decode("utf-8", "replace")
                server.log.append(text)
                if copy_to:
                    _append(copy_to, text)

        drain = asyncio.create_task(read_rest())
        yield server
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()
        if drain is not None:
            await asyncio.gather(drain, return_exceptions=True)


def _append(path: str, text: str) -> None:
    with open(path, "a", encoding="utf-8") as file:
        file.write(text)
