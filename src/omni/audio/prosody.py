"""Prosodic cues that a speaker's turn is finished: how the voice ends at a pause, beside what the words say.

At each pause in the user's speech the session decides how long a silence ends the turn (:mod:`omni.session.
end_of_turn`). The words are the strong signal; this module reads the sound of the last stretch before the pause:

- the pitch movement over the last ~300 ms of voicing (a final fall ends statements; a level or rising end goes on,
  but questions rise at their end too), in semitones per second;
- where the final pitch sits in the speaker's range over the analysed stretch (0 at its bottom, 1 at its top), and
  against the median pitch in semitones;
- the energy of the last ~200 ms against the median voiced energy, in dB (voices fade at the end of a sentence);
- the length of the last voiced run against the mean voiced run (final lengthening).

:func:`prosody_cues` returns them in a :class:`ProsodyCues`, with a combined :attr:`ProsodyCues.finished` score in
[0, 1], or None where there is too little voiced audio to say. It runs at every pause while speech recognition runs on
a 2-core machine, so only the last :data:`WINDOW_S` seconds of speech are analysed and the median pitch and energy
compared with are those of that stretch: 8-12 ms a call on a 3 s utterance here (a longer window measured no better
on sentences the score was not set on).

What the cues are worth, measured on TTS voices (``python -m omni.bench.prosody_cues``, where the details are): where
the words leave the decision open (verdict ``complete`` or ``unsure``, not a question) the score separates a finished
sentence from the same rendering cut between words with an AUC of 0.90 (77 finished, 60 cut cases, English mostly);
over English statements 0.90; over every case 0.66, because questions rise (the score reads them as going on) and
Korean voices fall at phrase ends inside a sentence. Lengthening told nothing on these voices (AUC 0.50) and has no
weight. TTS voices are not people: a person who pauses mid-sentence may well end the phrase with a fall (JFK's "And
so my fellow Americans," scores 0.999), so a high score is weak evidence of an end, a low one better evidence of more.

Pitch comes from SwiftF0 (``swift-f0``, MIT): a 135 kB convolutional model on ONNX Runtime, which Omni runs anyway,
in a pure-Python wheel, with a voicing confidence calibrated at 0.5. It took 9-10 ms for 1.5 s of speech on one
thread here, as fast as WORLD's DIO from ``pyworld-prebuilt`` (10-16 ms with its StoneMask refinement; WORLD's
accurate tracker, Harvest, 250 ms), and unlike DIO it says how sure it is that a frame is voiced, which the cues rest
on.
"""

from __future__ import annotations

import functools
import math
import threading
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from omni.errors import BackendUnavailableError
from omni.types import Samples

SAMPLE_RATE = 16000
"""The rate :func:`prosody_cues` takes (SwiftF0's own)."""
HOP = 256
"""SwiftF0's frame step: 16 ms at 16 kHz."""
FRAME_S = HOP / SAMPLE_RATE
WINDOW_S = 1.5
"""Seconds of speech before the pause that are analysed."""
SLOPE_S = 0.3
"""The voiced stretch at the end whose pitch movement is measured."""
SLOPE_REACH_S = 0.6
"""How far back from the end of speech that stretch may reach, across unvoiced gaps."""
TAIL_S = 0.2
"""The stretch at the end whose energy is compared."""
F0_MIN, F0_MAX = 60.0, 500.0
"""The pitch range searched: low male to high child voices."""
VOICED = 0.5
"""SwiftF0's confidence at or above which a frame is voiced (its calibration point)."""
MIN_VOICED_S = 0.25
"""Less voiced audio than this in the window gives no pitch cues and no score."""
MIN_RUN_FRAMES = 3
"""Voiced runs shorter than this (48 ms) are dropped as stray frames."""
SPEECH_BELOW_PEAK_DB = 35.0
"""Where speech ends: the last 16 ms frame within this many dB of the loudest one (and above -60 dBFS)."""
FLOOR_DBFS = -60.0
SEARCH_S = 10.0
"""Seconds at the end of the audio in which the end of speech is looked for."""
LOOKAHEAD_FRAMES = 10
"""SwiftF0 sees 10 frames ahead: that much silence follows the end of speech in what it analyses."""
OCTAVE_GUARD_ST = 10.0
"""Voiced frames further than this from the median pitch are taken as octave errors and left out."""


@dataclass(frozen=True)
class ProsodyCues:
    """How the speech before a pause ends. A cue is None where the audio does not allow it."""

    voiced_s: float
    """Seconds of voiced audio in the analysed window."""
    f0_slope: float | None
    """Pitch movement over the last :data:`SLOPE_S` s of voicing, in semitones per second (negative: falling)."""
    f0_final: float | None
    """The final pitch in the window's pitch range: 0 at its 5th percentile, 1 at its 95th (may fall outside)."""
    f0_final_st: float | None
    """The final pitch against the window's median, in semitones."""
    energy_drop_db: float | None
    """The energy of the last :data:`TAIL_S` s against the median voiced energy, in dB (negative: quieter)."""
    lengthening: float | None
    """The last voiced run's length over the mean length of the runs before it (above 1: drawn out)."""
    finished: float | None
    """The combined score in [0, 1] that the voice ends a turn here; None when there is too little voiced audio."""


# ---- the combined score ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Weights:
    """A logistic combination of the cues: ``finished = 1 / (1 + exp(-z))`` with ``z = bias + sum(weight *
    (cue - centre) / scale)``; a missing cue adds nothing."""

    bias: float = 0.0
    slope: tuple[float, float, float] = (-1.0, 0.0, 20.0)
    """(weight, centre, scale) of :attr:`ProsodyCues.f0_slope`: a fall raises the score."""
    final: tuple[float, float, float] = (-1.0, 0.4, 0.3)
    energy: tuple[float, float, float] = (-1.0, -6.0, 4.0)
    lengthening: tuple[float, float, float] = (0.0, 1.0, 0.5)
    """No weight: voiced runs are not syllables, and the measurement found nothing in it."""


WEIGHTS = Weights()
"""The weights :func:`prosody_cues` uses: set from the cues' expected ranges before any measurement, not fitted.
Weights fitted on the bench's tuning sentences (``--fit``) did worse on its held-out ones (AUC 0.80 against 0.90
where the words leave the decision open)."""


def score(cues: ProsodyCues, weights: Weights = WEIGHTS) -> float | None:
    """The combined :attr:`ProsodyCues.finished` score of ``cues`` under ``weights``."""
    if cues.f0_slope is None and cues.f0_final is None:
        return None
    z = weights.bias
    for value, (weight, centre, scale) in (
        (cues.f0_slope, weights.slope),
        (cues.f0_final, weights.final),
        (cues.energy_drop_db, weights.energy),
        (cues.lengthening, weights.lengthening),
    ):
        if value is not None and weight:
            z += weight * (value - centre) / scale
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


# ---- the pitch tracker -----------------------------------------------------------------------------------------

_LOCK = threading.Lock()


@functools.cache
def _detector() -> Any:
    """One SwiftF0 model for the process: one thread, and no spinning between calls (the cores are shared)."""
    try:
        import swift_f0
    except ImportError as exc:
        raise BackendUnavailableError(
            f"prosody cues need swift-f0 ({exc}); install it with: make install "
            "(or: .venv/bin/pip install -r requirements/runtime.txt)"
        ) from exc
    return swift_f0.SwiftF0(threads=1, spin=False)


def warm_up() -> None:
    """Load the pitch model now (about 20 ms), not at the first pause."""
    prosody_cues(np.zeros(SAMPLE_RATE // 2, dtype=np.float32))


# ---- the cues --------------------------------------------------------------------------------------------------

def frame_db(samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """The level of each whole :data:`HOP`-sample frame, in dBFS (frames counted from the end)."""
    count = samples.size // HOP
    if count == 0:
        return np.zeros(0)
    frames = samples[samples.size - count * HOP:].astype(np.float64).reshape(count, HOP)
    power = np.einsum("ij,ij->i", frames, frames) / HOP
    levels: npt.NDArray[np.float64] = 10.0 * np.log10(np.maximum(power, 1e-12))
    return levels


def speech_end(samples: Samples) -> int:
    """The sample after the last frame of speech: trailing silence (a VAD's hangover) is left out."""
    levels = frame_db(samples)
    if levels.size == 0:
        return samples.size
    threshold = max(float(levels.max()) - SPEECH_BELOW_PEAK_DB, FLOOR_DBFS)
    loud = np.flatnonzero(levels > threshold)
    if loud.size == 0:
        return samples.size
    offset = samples.size - levels.size * HOP
    return offset + (int(loud[-1]) + 1) * HOP


def _runs(voiced: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """(start, end) frame spans of voicing; one-frame gaps are bridged, runs under :data:`MIN_RUN_FRAMES` dropped."""
    filled = voiced.copy()
    gaps = np.flatnonzero(~voiced[1:-1] & voiced[:-2] & voiced[2:]) + 1
    filled[gaps] = True
    edges = np.diff(np.concatenate(([0], filled.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [(int(s), int(e)) for s, e in zip(starts, ends, strict=True) if e - s >= MIN_RUN_FRAMES]


def _slope(times: npt.NDArray[np.float64], values: npt.NDArray[np.float64]) -> float:
    """Least-squares slope of ``values`` over ``times``."""
    t = times - times.mean()
    denominator = float(t @ t)
    return float(t @ (values - values.mean())) / denominator if denominator > 0 else 0.0


def prosody_cues(samples: Samples, sample_rate: int = SAMPLE_RATE, *, window_s: float = WINDOW_S,
                 weights: Weights = WEIGHTS) -> ProsodyCues:
    """The cues of the speech in ``samples`` (mono float32 at 16 kHz, the user's speech so far up to a pause;
    silence after the last word is skipped). Only the last ``window_s`` seconds of speech are analysed."""
    if sample_rate != SAMPLE_RATE:
        raise ValueError(f"prosody cues take {SAMPLE_RATE} Hz audio, got {sample_rate} Hz")
    # Where speech ends is looked for in the last SEARCH_S only, so a long turn costs no more than a short one.
    audio = np.asarray(samples, dtype=np.float32).reshape(-1)[-round(SEARCH_S * SAMPLE_RATE):]
    end = speech_end(audio)
    start = max(0, end - round(window_s * SAMPLE_RATE))
    if end - start < 4 * HOP:
        return _without_pitch(0.0)
    # Silence after the end gives the model's last frames their right-hand context, the same whatever the caller
    # sent after the last word.
    window = np.concatenate([audio[start:end], np.zeros(LOOKAHEAD_FRAMES * HOP, dtype=np.float32)])
    detector = _detector()
    with _LOCK:  # one ONNX session; concurrent calls would only contend for the same core
        result = detector.detect(window, SAMPLE_RATE, F0_MIN, F0_MAX)
    last = min(len(result.pitch_hz), (end - start) // HOP + 1)
    pitch = np.asarray(result.pitch_hz[:last], dtype=np.float64)
    voiced = np.asarray(result.confidence[:last]) >= VOICED
    loudness = np.asarray(result.loudness_db[:last], dtype=np.float64)
    voiced_s = float(voiced.sum()) * FRAME_S
    if voiced_s < MIN_VOICED_S:
        return _without_pitch(voiced_s)

    semitones = 12.0 * np.log2(np.where(voiced, pitch, 1.0) / 100.0)
    median = float(np.median(semitones[voiced]))
    voiced &= np.abs(semitones - median) <= OCTAVE_GUARD_ST
    runs = _runs(voiced)
    if not runs:
        return _without_pitch(voiced_s)
    is_run = np.zeros(voiced.size, dtype=bool)
    for s, e in runs:
        is_run[s:e] = True
    usable = is_run & voiced
    relative = semitones - float(np.median(semitones[usable]))

    # the last SLOPE_S of voicing, reaching back no more than SLOPE_REACH_S from the last voiced frame
    index = np.flatnonzero(usable)
    tail = index[index >= index[-1] - round(SLOPE_REACH_S / FRAME_S)][-round(SLOPE_S / FRAME_S):]
    f0_slope = _slope(tail * FRAME_S, relative[tail]) if tail.size >= MIN_RUN_FRAMES else None
    final = float(np.median(relative[index[-3:]]))
    low, high = np.percentile(relative[usable], [5.0, 95.0])
    f0_final = (final - float(low)) / float(high - low) if high - low >= 1.0 else 0.5

    tail_frames = max(1, round(TAIL_S / FRAME_S))
    power = np.mean(10.0 ** (loudness[-tail_frames:] / 10.0))
    energy_drop = 10.0 * math.log10(max(float(power), 1e-12)) - float(np.median(loudness[usable]))

    lengths = [e - s for s, e in runs]
    lengthening = lengths[-1] / float(np.mean(lengths[:-1])) if len(lengths) >= 2 else None

    cues = ProsodyCues(
        voiced_s=round(voiced_s, 3),
        f0_slope=None if f0_slope is None else round(f0_slope, 2),
        f0_final=round(f0_final, 3),
        f0_final_st=round(final, 2),
        energy_drop_db=round(energy_drop, 2),
        lengthening=None if lengthening is None else round(lengthening, 3),
        finished=None,
    )
    finished = score(cues, weights)
    return replace(cues, finished=None if finished is None else round(finished, 3))


def _without_pitch(voiced_s: float) -> ProsodyCues:
    return ProsodyCues(round(voiced_s, 3), None, None, None, None, None, None)
