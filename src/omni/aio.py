"""Bridges between blocking inference and the event loop: worker threads that report back, cancellation awaited."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import TypeVar

T = TypeVar("T")

_DONE = object()


def model_thread(name: str) -> concurrent.futures.ThreadPoolExecutor:
    """One thread that does all of a model's work.

    llama.cpp and CTranslate2 parallelise with OpenMP, which keeps a pool of threads for every thread that calls
    it. Called from the event loop's shared executor, each of its threads gets a pool, and once the pools hold
    more threads than there are cores, OpenMP stops spinning between its many barriers and sleeps instead: on 2
    cores llama.cpp then decodes a token in 45 ms instead of 32 ms. One calling thread keeps one pool.
    """
    return concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)


async def iterate_in_thread(
    make: Callable[[threading.Event], Iterator[T]], executor: concurrent.futures.Executor | None = None
) -> AsyncIterator[T]:
    """Run a blocking generator in a worker thread (of ``executor``, or the loop's default) and yield its items
    on the loop.

    ``make`` receives a stop event; the generator should check it between items. When the consumer stops
    early (break, cancellation, error) the event is set and the thread is awaited, so the blocking
    resource (a model that is not thread-safe) is free again when this generator has closed.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[object] = asyncio.Queue()
    stop = threading.Event()

    def work() -> None:
        try:
            for item in make(stop):
                loop.call_soon_threadsafe(queue.put_nowait, item)
                if stop.is_set():
                    break
        except BaseException as exc:  # handed to the consumer, which re-raises it on the loop
            loop.call_soon_threadsafe(queue.put_nowait, _Failure(exc))
        finally:
            loop.call_soon_threadsafe(queue.put_nowait, _DONE)

    worker = loop.run_in_executor(executor, work)
    try:
        while True:
            item = await queue.get()
            if item is _DONE:
                break
            if isinstance(item, _Failure):
                raise item.exc
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        await asyncio.shield(worker)


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


@asynccontextmanager
async def closing(iterator: AsyncIterator[T]) -> AsyncGenerator[AsyncIterator[T], None]:
    """Close an async iterator when the block ends, if it can be closed (an async generator can)."""
    try:
        yield iterator
    finally:
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            await aclose()


class ModelLock:
    """One user of a model at a time, on whichever event loop is running.

    An ``asyncio.Lock`` belongs to the first loop that waits on it; a backend loaded once and used from several
    loops in turn (``asyncio.run`` per CLI command, one loop per test module) would then fail on the next. A
    fresh lock is made when the running loop changes: a loop's users exclude each other, and loops run one
    after another.
    """

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None

    @asynccontextmanager
    async def hold(self) -> AsyncGenerator[None, None]:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._lock, self._loop = asyncio.Lock(), loop
        async with self._lock:
            yield
