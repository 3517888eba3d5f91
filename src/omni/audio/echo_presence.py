"""Whether the microphone hears the speaker: the echo canceller's output is used only once it does.

WebRTC's canceller, before it has found an echo path, suppresses the microphone whenever the reference plays: on a
client with headphones, or one whose browser already cancelled the echo, there is no echo to find, and a user
talking over the reply lost 14-34 dB of their voice for seconds (docs/echo.md). So the echo is first detected:
the generalised cross-correlation with phase transform (GCC-PHAT) of the microphone against the reference, over the
speech band, has a sharp peak at the echo's delay when the speaker's sound reaches the microphone (mostly 17-65
times the correlation's RMS, for echo 6-20 dB below the playback through a simulated room) and none otherwise (4-10
on unrelated speech; 15 at most). The echo counts as present when :data:`AGREEING` windows in a row peak above
:data:`PEAK_RATIO` at the same delay. Without the band limit, two espeak-ng voices correlated at 36-42 (their
synthesiser's own pulse), so it matters.
"""

from __future__ import annotations

import numpy as np

from omni.types import Samples

WINDOW_SECONDS = 0.5
"""Microphone audio compared at a time."""
MAX_DELAY_SECONDS = 0.4
"""The longest speaker-to-microphone delay looked for (a client's playback buffer and the room)."""
STEP_SECONDS = 0.2
PEAK_RATIO = 16.0
BAND_HZ = (200.0, 4000.0)
"""Where speech (and a loudspeaker's echo of it) has its energy; outside, the phase transform weighs hiss and a
synthesiser's artefacts as much as the voice."""
AGREEING = 3
DELAY_TOLERANCE_SECONDS = 0.002
DECIDING_WINDOWS = AGREEING + 1
"""Windows of playback compared before the echo counts as absent (:attr:`EchoPresence.undecided`): one more than
finding it takes, about 1.2 s of the first reply."""
MIN_RMS = 10 ** (-50 / 20)
"""Windows where the reference or the microphone is quieter than this (-50 dBFS) are not compared: nothing played
to echo, or nothing heard."""


class EchoPresence:
    """Fed the reference (what played) and the microphone in step, at one rate; :attr:`present` once the
    microphone is found to hear the reference, :attr:`undecided` until enough playback was compared to say."""

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self.present = False
        self._window = round(WINDOW_SECONDS * sample_rate)
        self._lags = round(MAX_DELAY_SECONDS * sample_rate)
        self._step = round(STEP_SECONDS * sample_rate)
        self._reference = np.zeros(0, dtype=np.float32)  # the last window + lags of it
        self._mic = np.zeros(0, dtype=np.float32)  # the last window of it
        self._since = 0
        self._delays: list[int] = []
        self._compared = 0  # windows in which something played

    @property
    def undecided(self) -> bool:
        """Whether too little has played yet to say that the microphone does not hear it: speech heard meanwhile
        may be the reference's echo, which one window cannot tell from other speech (unrelated voices peak up to
        :data:`PEAK_RATIO` now and then)."""
        return not self.present and self._compared < DECIDING_WINDOWS

    def add(self, reference: Samples, mic: Samples) -> None:
        if self.present:
            return
        self._reference = _last(self._reference, reference, self._window + self._lags)
        self._mic = _last(self._mic, mic, self._window)
        self._since += len(mic)
        if self._since < self._step or len(self._mic) < self._window:
            return
        self._since = 0
        found = self._echo_delay()
        if found is None:
            self._delays = []
            return
        tolerance = DELAY_TOLERANCE_SECONDS * self.sample_rate
        if self._delays and abs(found - self._delays[-1]) > tolerance:
            self._delays = []
        self._delays.append(found)
        self.present = len(self._delays) >= AGREEING

    def _echo_delay(self) -> int | None:
        """The delay (samples) at which the microphone window echoes the reference, or None."""
        reference, mic = self._reference, self._mic
        if _rms(reference) < MIN_RMS:
            return None
        self._compared += 1
        if _rms(mic) < MIN_RMS:
            return None
        size = 1 << int(np.ceil(np.log2(len(reference) + len(mic))))
        cross = np.fft.rfft(reference, size) * np.conj(np.fft.rfft(mic, size))
        frequencies = np.fft.rfftfreq(size, 1 / self.sample_rate)
        cross[(frequencies < BAND_HZ[0]) | (frequencies > BAND_HZ[1])] = 0
        cross /= np.abs(cross) + 1e-9
        correlation = np.fft.irfft(cross, size)
        # The microphone window ends where the reference does: an echo delayed by d sits at shift (lead - d).
        lead = len(reference) - len(mic)
        shifts = correlation[: lead + 1]
        rms = float(np.sqrt(np.mean(np.square(correlation)))) + 1e-12
        best = int(np.argmax(shifts))
        if shifts[best] / rms < PEAK_RATIO:
            return None
        return lead - best


def _last(kept: Samples, new: Samples, size: int) -> Samples:
    """The last ``size`` samples of ``kept`` followed by ``new``."""
    return np.concatenate([kept, np.asarray(new, dtype=np.float32)])[-size:]


def _rms(samples: Samples) -> float:
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
