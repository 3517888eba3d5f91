"""Clocks: the real one, and a virtual one that tests advance by hand so session logic runs on scripted time."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds on a monotonic scale."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class RealClock:
    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class VirtualClock:
    """Time moves only when the test calls :meth:`advance`; sleepers wake in order of their deadlines.

    After each wake-up the event loop is drained, so every task that can run without time passing has
    run before the clock moves on: a scenario gives the same result on every run.
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._seq), fut))
        await fut

    async def advance(self, seconds: float) -> None:
        target = self._now + seconds
        await drain()
        while self._sleepers and self._sleepers[0][0] <= target:
            when, _, fut = heapq.heappop(self._sleepers)
            self._now = max(self._now, when)
            if not fut.done():
                fut.set_result(None)
            await drain()
        self._now = target
        await drain()

    async def run_until(self, predicate: object, *, step: float = 0.01, limit: float = 60.0) -> None:
        """Advance in steps until ``predicate()`` is true; fail if it is not within ``limit`` seconds."""
        assert callable(predicate)
        deadline = self._now + limit
        while not predicate():
            if self._now >= deadline:
                raise TimeoutError(f"condition not met within {limit} virtual seconds")
            await self.advance(step)


async def drain(rounds: int = 50) -> None:
    """Let every ready task run until the loop has nothing left to do without time passing."""
    for _ in range(rounds):
        await asyncio.sleep(0)
