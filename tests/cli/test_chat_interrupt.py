"""``omni chat``: Ctrl-C during a reply stops that reply, and the program goes on to the next message."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import time
from collections.abc import Callable

import pytest

from tests.cli.omni_cli import omni_bin

pytestmark = pytest.mark.models


def read_until(
    process: subprocess.Popen[bytes], done: Callable[[], bool], seen: bytearray, timeout: float = 120
) -> None:
    """Read the program's output into ``seen`` until ``done()``."""
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"output so far: {seen.decode(errors='replace')}"
        if selector.select(timeout=1):
            data = os.read(process.stdout.fileno(), 4096)
            assert data, f"omni chat exited early: {seen.decode(errors='replace')}"
            seen.extend(data)


def test_ctrl_c_stops_the_reply_not_the_program() -> None:
    process = subprocess.Popen(
        [str(omni_bin()), "chat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdin is not None
    seen = bytearray()
    try:
        process.stdin.write(b"Write a very long story about a dragon, at least twenty sentences.\n")
        process.stdin.flush()
        read_until(process, lambda: b"omni> " in seen, seen)
        start = len(seen)
        read_until(process, lambda: len(seen) - start >= 40, seen)  # some of the story has streamed out
        process.send_signal(signal.SIGINT)
        read_until(process, lambda: b"[interrupted]" in seen, seen)
        story = seen[start : seen.index(b"[interrupted]")].decode(errors="replace")
        assert story.count(".") < 20, "the reply was cut, not finished"
        process.stdin.write(b"What is the capital of France?\n")
        process.stdin.flush()
        read_until(process, lambda: b"Paris" in seen[start:], seen)
        process.stdin.close()
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
