"""A small MCP server for tests, on the ``mcp`` package's own server side, with deterministic tools.

``python -m tests.fakes.mcp_server stdio`` serves over stdin/stdout; ``python -m tests.fakes.mcp_server http PORT``
serves streamable HTTP on ``http://127.0.0.1:PORT/mcp``. :func:`http_server` starts the latter in a subprocess on a
free port for a test and stops it afterwards.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ORDERS = {"A-100": {"order_id": "A-100", "status": "shipped", "items": 2},
          "B-200": {"order_id": "B-200", "status": "processing", "items": 1}}
ROOT = Path(__file__).resolve().parents[2]
STDIO_COMMAND = [sys.executable, "-m", "tests.fakes.mcp_server", "stdio"]


def build() -> object:
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError

    server = MCPServer("omni-test")

    @server.tool()
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @server.tool()
    def lookup_order(order_id: str) -> dict[str, object]:
        """Look up an order by its id (such as A-100)."""
        if order_id not in ORDERS:
            raise ToolError(f"no order {order_id}")
        return ORDERS[order_id]

    @server.tool()
    async def wait(seconds: float) -> str:
        """Wait this many seconds, then say so."""
        await asyncio.sleep(seconds)
        return f"waited {seconds}"

    return server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def http_server() -> Iterator[str]:
    """This server on streamable HTTP in a subprocess; yields its URL (``http://127.0.0.1:PORT/mcp``)."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "tests.fakes.mcp_server", "http", str(port)], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the test MCP server did not start") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(10)


if __name__ == "__main__":
    server = build()
    if sys.argv[1] == "stdio":
        server.run("stdio")  # type: ignore[attr-defined]
    else:
        server.run("streamable-http", port=int(sys.argv[2]))  # type: ignore[attr-defined]
