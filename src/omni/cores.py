"""Sharing the CPU cores between the embedded models: speech first, text generation when the cores are free.

On a small machine two models side by side are each much slower than alone (on 2 cores, Piper needs 74 ms for a
short phrase with both cores to itself, 190 ms while llama.cpp decodes beside it), and at the moments a user waits
on — the transcript at the end of their turn, the first words of a reply — it is speech recognition or synthesis
that is waited on, while the LLM is usually ahead of the voice. So while speech work runs, the LLM waits between
tokens, and the speech models use every core.

The LLM never waits longer than :data:`MAX_WAIT_SECONDS` per token, so that a stream of speech work (many sessions
on one server) cannot starve replies.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

MAX_WAIT_SECONDS = 0.5


class SpeechFirst:
    """Counts speech work in progress; text generation calls :meth:`wait_for_turn` between tokens."""

    def __init__(self) -> None:
        self._busy = 0
        self._changed = threading.Condition()

    @contextmanager
    def speech(self) -> Iterator[None]:
        """Hold the cores for speech work (a transcription, a synthesis) in this thread."""
        with self._changed:
            self._busy += 1
        try:
            yield
        finally:
            with self._changed:
                self._busy -= 1
                self._changed.notify_all()

    def run_speech(self, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``work(*args, **kwargs)`` as speech work, in the calling thread."""
        with self.speech():
            return work(*args, **kwargs)

    @property
    def busy(self) -> bool:
        return self._busy > 0

    def wait_for_turn(self, stop: threading.Event | None = None, max_wait: float = MAX_WAIT_SECONDS) -> float:
        """Block until no speech work runs (or ``stop`` is set, or ``max_wait`` has passed); returns the wait."""
        start = time.monotonic()
        with self._changed:
            while self._busy and not (stop is not None and stop.is_set()):
                left = max_wait - (time.monotonic() - start)
                if left <= 0:
                    break
                # A short timeout, so that a stop set without a notification is noticed soon.
                self._changed.wait(min(left, 0.02))
        return time.monotonic() - start


CORES = SpeechFirst()
"""The process's cores: one machine, one schedule, whichever sessions the models serve."""
