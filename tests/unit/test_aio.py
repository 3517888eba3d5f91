"""omni.aio: blocking generators in worker threads, consumed on the loop, their end awaited; the model lock."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest

from omni.aio import ModelLock, closing, iterate_in_thread


class Producer:
    """A blocking generator that records how it was used and finishes slowly, like a model releasing itself."""

    def __init__(self, count: int | None = None, *, fail_after: int | None = None) -> None:
        self.count = count
        self.fail_after = fail_after
        self.stop: threading.Event | None = None
        self.thread_ids: set[int] = set()
        self.finished = threading.Event()

    def __call__(self, stop: threading.Event) -> Iterator[int]:
        self.stop = stop
        try:
            i = 0
            while not stop.is_set() and (self.count is None or i < self.count):
                self.thread_ids.add(threading.get_ident())
                if self.fail_after is not None and i == self.fail_after:
                    raise ValueError(f"model failed at item {i}")
                yield i
                i += 1
                time.sleep(0.001)
        finally:
            time.sleep(0.05)  # a generator that is slow to let go: closing must still wait for it
            self.finished.set()


async def test_items_arrive_in_order_from_a_worker_thread() -> None:
    producer = Producer(200)
    items = [item async for item in iterate_in_thread(producer)]
    assert items == list(range(200))
    assert threading.get_ident() not in producer.thread_ids
    assert producer.finished.is_set()


async def test_breaking_early_stops_the_worker_and_waits_for_it() -> None:
    producer = Producer()  # endless until stopped
    seen = []
    async with closing(iterate_in_thread(producer)) as items:
        async for item in items:
            seen.append(item)
            if item == 3:
                break
    assert seen == [0, 1, 2, 3]
    assert producer.stop is not None and producer.stop.is_set()
    assert producer.finished.is_set()


async def test_cancelling_the_consumer_stops_the_worker_and_waits_for_it() -> None:
    producer = Producer()
    first = asyncio.Event()

    async def consume() -> None:
        async for _ in iterate_in_thread(producer):
            first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), timeout=5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert producer.stop is not None and producer.stop.is_set()
    assert producer.finished.is_set()


async def test_an_exception_in_the_worker_is_raised_in_the_consumer() -> None:
    producer = Producer(10, fail_after=2)
    seen = []

    async def consume() -> None:
        async for item in iterate_in_thread(producer):
            seen.append(item)

    with pytest.raises(ValueError, match="model failed at item 2"):
        await consume()
    assert seen == [0, 1]
    assert producer.finished.is_set()


async def test_the_loop_keeps_running_while_the_worker_blocks() -> None:
    def slow(stop: threading.Event) -> Iterator[str]:
        time.sleep(0.2)
        yield "done"

    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        assert [item async for item in iterate_in_thread(slow)] == ["done"]
    finally:
        task.cancel()
    assert ticks > 0


def test_a_model_lock_serves_one_loop_after_another() -> None:
    """A backend loaded once is used by several event loops in turn (a CLI command each, a test module each)."""
    lock = ModelLock()
    order: list[str] = []

    async def user(name: str) -> None:
        async with lock.hold():
            order.append(f"{name} in")
            await asyncio.sleep(0.01)
            order.append(f"{name} out")

    async def two_users(prefix: str) -> None:
        await asyncio.gather(user(prefix + "1"), user(prefix + "2"))  # the second waits on the lock

    asyncio.run(two_users("a"))
    asyncio.run(two_users("b"))  # an asyncio.Lock would be bound to the first loop and fail here
    assert order == ["a1 in", "a1 out", "a2 in", "a2 out", "b1 in", "b1 out", "b2 in", "b2 out"]
