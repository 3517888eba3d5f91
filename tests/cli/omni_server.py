"""``omni serve`` as a user starts it: a subprocess on a free port, stopped with Ctrl-C, which must end cleanly."""

from __future__ import annotations

import asyncio
import os
import re
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tests.cli.omni_cli import omni_bin


@asynccontextmanager
async def omni_serve(*args: str, start_timeout: float = 300, env: dict[str, str] | None = None,
                     ) -> AsyncIterator[str]:
    """Start ``omni serve --port 0 ARGS`` (with ``env`` added to the environment) and yield its base URL once it
    says it is listening."""
    process = await asyncio.create_subprocess_exec(
        str(omni_bin()), "serve", "--port", "0", *args, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, env={**os.environ, **(env or {})},
    )
    assert process.stderr is not None
    lines = []
    try:
        while True:
            line = (await asyncio.wait_for(process.stderr.readline(), start_timeout)).decode()
            lines.append(line)
            assert line, f"omni serve exited early: {''.join(lines)}"
            found = re.search(r"listening on (http://[\d.]+:\d+)", line)
            if found:
                break
        yield found.group(1)
    finally:
        try:
            if process.returncode is None:
                process.send_signal(signal.SIGINT)
            rest = (await asyncio.wait_for(process.stderr.read(), 30)).decode()
            code = await asyncio.wait_for(process.wait(), 30)
        finally:
            if process.returncode is None:  # never leave a server (and its 2 GB of models) running
                process.kill()
    assert code in (0, 130) and "Traceback" not in rest, f"Ctrl-C stops the server cleanly: {code} {rest}"
