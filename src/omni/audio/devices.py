"""Microphone and speaker through PortAudio (sounddevice): the live input and an :class:`AudioOutput` that counts
what the sound card has really played.

For open speakers the two meet in an echo canceller (:mod:`omni.audio.echo_canceller`): the speaker reports each
block it plays (``on_played``) as the reference, and the microphone passes each block through it (``process``)
before handing it on."""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np

from omni.errors import NoAudioDeviceError
from omni.types import AudioChunk, Samples


def _sounddevice() -> Any:
    try:
        import sounddevice
    except (ImportError, OSError) as exc:  # OSError: the PortAudio library itself is missing
        raise NoAudioDeviceError(
            f"cannot use audio devices: {exc}; install PortAudio with 'apt-get install libportaudio2'"
        ) from exc
    return sounddevice


def require_devices(command: str = "omni talk", instead: str = "omni voice IN.wav -o OUT.wav") -> None:
    """Raise :class:`NoAudioDeviceError` unless a default microphone and speaker exist; the message names the
    ``command`` that needs them and what to run ``instead``."""
    sd = _sounddevice()
    try:
        devices = sd.query_devices()
    except Exception as exc:  # PortAudio reports a missing audio system in several ways
        raise NoAudioDeviceError(f"no audio system available: {exc}") from exc
    has_input = any(d.get("max_input_channels", 0) > 0 for d in devices)
    has_output = any(d.get("max_output_channels", 0) > 0 for d in devices)
    if not (has_input and has_output):
        missing = " and ".join(n for n, ok in (("microphone", has_input), ("speaker", has_output)) if not ok)
        raise NoAudioDeviceError(f"no {missing} found on this machine; '{command}' needs both "
                                 f"(try '{instead}' to go through files)")


class SpeakerOutput:
    """Plays reply audio on the default output device; ``played_seconds`` counts frames the device consumed.

    ``on_played`` gets each block the device is given while something plays (on the audio thread, before the device
    plays it); it is not called for the silence between replies. :meth:`pause` holds what is queued (speech that
    may be an interruption: ``omni talk``) until :meth:`resume`, or :meth:`clear` drops it."""

    def __init__(self, sample_rate: int, on_played: Callable[[Samples], None] | None = None,
                 block: int = 480) -> None:
        self.sample_rate: int | None = sample_rate
        self._on_played = on_played
        self._queue: deque[Samples] = deque()
        self._lock = threading.Lock()
        self._played = 0
        self._paused = False
        self._idle = asyncio.Event()
        self._idle.set()
        self._loop = asyncio.get_running_loop()
        self._stream = _sounddevice().OutputStream(
            samplerate=sample_rate, channels=1, dtype="float32", blocksize=block, callback=self._callback
        )
        self._stream.start()

    def _callback(self, out: Any, frames: int, _time: Any, _status: Any) -> None:
        buffer = np.zeros(frames, dtype=np.float32)
        filled = 0
        with self._lock:
            while not self._paused and filled < frames and self._queue:
                head = self._queue[0]
                take = min(frames - filled, len(head))
                buffer[filled : filled + take] = head[:take]
                filled += take
                if take == len(head):
                    self._queue.popleft()
                else:
                    self._queue[0] = head[take:]
            self._played += filled
            empty = not self._queue
        out[:, 0] = buffer
        if filled and self._on_played is not None:
            self._on_played(buffer)
        if empty:
            self._loop.call_soon_threadsafe(self._idle.set)

    def start_reply(self) -> None:
        with self._lock:
            self._played = 0
            self._paused = False

    def pause(self) -> None:
        """Play silence, keeping what is queued (a paused reply is not done: :meth:`wait_done` waits on)."""
        with self._lock:
            self._paused = True

    def resume(self) -> None:
        with self._lock:
            self._paused = False

    async def write(self, chunk: AudioChunk) -> None:
        with self._lock:
            self._queue.append(np.asarray(chunk.samples, dtype=np.float32))
        self._idle.clear()

    def played_seconds(self) -> float:
        assert self.sample_rate
        with self._lock:
            return self._played / self.sample_rate

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
            self._paused = False
        self._idle.set()

    def is_playing(self) -> bool:
        with self._lock:
            return bool(self._queue)

    async def wait_done(self) -> None:
        await self._idle.wait()

    def close(self) -> None:
        self._stream.stop()
        self._stream.close()


class Microphone:
    """Captures 16 kHz mono from the default input; hands each block, through ``process`` (the echo canceller's
    :meth:`~omni.audio.echo_canceller.EchoCanceller.near`) when given, to ``on_audio`` on the event loop."""

    def __init__(self, on_audio: Callable[[AudioChunk], Any], process: Callable[[Samples], Samples] | None = None,
                 sample_rate: int = 16000, block: int = 320) -> None:
        loop = asyncio.get_running_loop()

        def callback(data: Any, _frames: int, _time: Any, _status: Any) -> None:
            samples = np.array(data[:, 0], dtype=np.float32)
            if process is not None:
                samples = process(samples)
            if len(samples):
                loop.call_soon_threadsafe(on_audio, AudioChunk(samples, sample_rate))

        self._stream = _sounddevice().InputStream(
            samplerate=sample_rate, channels=1, dtype="float32", blocksize=block, callback=callback
        )
        self._stream.start()

    def close(self) -> None:
        self._stream.stop()
        self._stream.close()
