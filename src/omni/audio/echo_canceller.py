"""Acoustic echo cancellation: Omni's own voice, played on open speakers and picked up again by the microphone, is
taken out of the microphone audio before the VAD hears it, so the assistant cannot interrupt itself, while a user
talking over it (double talk) still comes through and starts a turn.

:class:`EchoCanceller` is fed two streams: :meth:`EchoCanceller.far`, the audio just sent to the speaker (the
reference), and :meth:`EchoCanceller.near`, the microphone audio, which it returns with the echo removed. Both may
come in chunks of any length; the canceller works on 10 ms frames and pairs each microphone frame with the next 10 ms
of reference, so the reference plays out at the microphone's pace from when it arrives, and is silence whenever none
is waiting. The reference must reach :meth:`far` before its echo reaches :meth:`near` (a speaker callback reports a
block before the sound card plays it), by at most about half a second: the canceller finds that delay itself.

The canceller is WebRTC's AEC3 (Chrome's) in LiveKit's Python SDK (``livekit``, Apache-2.0): its
``AudioProcessingModule`` runs in-process, with no server and no network, and LiveKit releases the SDK every few
weeks with manylinux wheels. On simulated open-speaker echo (espeak-ng and Piper speech, 30-500 ms delay, a 50 ms
room, -10 to 0 dB) it removed 34-44 dB of echo and the cancelled echo started no turn; a user talking over the reply
at the echo's level still started one (64-384 ms later than without the echo), and it costs about 1% of a core.
pywebrtc-audio (the same AEC3, 3 releases so far) removed 1-2 dB less and lost more of a user talking over the
reply; Speex (speexaec) removed 17-22 dB, and its residual echo still started turns. Numbers: docs/echo.md.

The level gate that came before (a microphone frame no louder than the playback was muted) is gone: behind the
canceller there was no echo left for it to stop, and it muted every frame of a user talking over the reply at the
echo's level (docs/echo.md).
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

import numpy as np
import numpy.typing as npt

from omni.errors import BackendUnavailableError, ConfigError
from omni.types import Samples

FRAME_SECONDS = 0.01
"""WebRTC's audio processing works on 10 ms frames."""


class EchoCanceller:
    """Cancel the echo of what :meth:`far` was given out of what :meth:`near` is given.

    ``sample_rate`` is the microphone's rate (and the output's); ``far_rate`` the reference's when it differs (the
    speaker's; the module converts it). Both need whole 10 ms frames (8000, 16000, 24000, 48000 Hz...).
    :meth:`far` may be called from one thread (a speaker callback) while :meth:`near` is called from another (a
    microphone callback), each from one thread only. ``max_far_seconds`` bounds the reference waiting for microphone
    audio: beyond it the oldest is dropped.
    """

    def __init__(self, sample_rate: int = 16000, *, far_rate: int | None = None, max_far_seconds: float = 5.0) -> None:
        far_rate = far_rate or sample_rate
        for rate in (sample_rate, far_rate):
            if rate <= 0 or rate % 100:
                raise ConfigError(f"the echo canceller needs rates with whole 10 ms frames, not {rate} Hz")
        try:
            from livekit import rtc
        except ImportError as exc:
            raise BackendUnavailableError(
                f"echo cancellation needs livekit ({exc}); install it with: make install "
                "(or: .venv/bin/pip install -r requirements/runtime.txt)"
            ) from exc
        self.sample_rate = sample_rate
        self.far_rate = far_rate
        self.frame_samples = round(sample_rate * FRAME_SECONDS)
        self._far_frame_samples = round(far_rate * FRAME_SECONDS)
        self._apm: Any = rtc.AudioProcessingModule(echo_cancellation=True, high_pass_filter=True)
        self._apm.set_stream_delay_ms(0)  # only a starting point: AEC3 finds the delay itself
        # Two frames reused for every call: the module reads and writes their buffers in place.
        self._near_frame: Any = rtc.AudioFrame.create(sample_rate, 1, self.frame_samples)
        self._far_frame: Any = rtc.AudioFrame.create(far_rate, 1, self._far_frame_samples)
        self._near_pcm = np.frombuffer(self._near_frame.data, dtype=np.int16)
        self._far_pcm = np.frombuffer(self._far_frame.data, dtype=np.int16)
        self._far = _Fifo(round(max_far_seconds * far_rate))
        self._near = _Fifo(None)
        self._lock = threading.Lock()

    def far(self, samples: Samples) -> None:
        """Report audio just sent to the speaker, in playback order (at ``far_rate``)."""
        with self._lock:
            self._far.push(np.asarray(samples, dtype=np.float32))

    def near(self, samples: Samples) -> Samples:
        """Microphone audio in, echo-cancelled audio out: every whole 10 ms frame so far (a remainder waits for the
        next call, so the output may be up to 10 ms shorter or longer than this call's input)."""
        self._near.push(np.asarray(samples, dtype=np.float32))
        count = len(self._near) // self.frame_samples
        if count == 0:
            return np.zeros(0, dtype=np.float32)
        near = self._near.pop(count * self.frame_samples)
        m = self._far_frame_samples
        with self._lock:
            far = self._far.pop(count * m)
        out = np.empty(len(near), dtype=np.float32)
        n = self.frame_samples
        for k, i in enumerate(range(0, len(near), n)):
            self._far_pcm[:] = _to_pcm(far[k * m : (k + 1) * m])
            self._apm.process_reverse_stream(self._far_frame)
            self._near_pcm[:] = _to_pcm(near[i : i + n])
            self._apm.process_stream(self._near_frame)
            out[i : i + n] = self._near_pcm
        out *= np.float32(1 / 32768)
        return out

    def pending_far_seconds(self) -> float:
        """Reference audio waiting for microphone audio to pair with."""
        with self._lock:
            return len(self._far) / self.far_rate


def _to_pcm(samples: Samples) -> npt.NDArray[np.int16]:
    pcm: npt.NDArray[np.int16] = np.clip(np.rint(samples * 32768.0), -32768, 32767).astype(np.int16)
    return pcm


class _Fifo:
    """Samples in, samples out in order; ``pop`` pads with silence when it has fewer. Bounded: the oldest go."""

    def __init__(self, limit: int | None) -> None:
        self._chunks: deque[Samples] = deque()
        self._size = 0
        self._limit = limit

    def __len__(self) -> int:
        return self._size

    def push(self, samples: Samples) -> None:
        if len(samples):
            self._chunks.append(samples)
            self._size += len(samples)
        if self._limit is not None and self._size > self._limit:
            self._drop(self._size - self._limit)

    def pop(self, count: int) -> Samples:
        out = np.zeros(count, dtype=np.float32)
        filled = 0
        while filled < count and self._chunks:
            head = self._chunks[0]
            take = min(count - filled, len(head))
            out[filled : filled + take] = head[:take]
            filled += take
            self._consume(take)
        return out

    def _drop(self, count: int) -> None:
        while count > 0 and self._chunks:
            take = min(count, len(self._chunks[0]))
            self._consume(take)
            count -= take

    def _consume(self, count: int) -> None:
        head = self._chunks[0]
        if count == len(head):
            self._chunks.popleft()
        else:
            self._chunks[0] = head[count:]
        self._size -= count
