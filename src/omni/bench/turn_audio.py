"""The audio of the turn-taking benchmark (:mod:`omni.bench.turns`): pure signal work, no models and no server.

- Levels: a user's speech is set to :data:`USER_DBFS` of active RMS (the RMS of its 20 ms frames above -40 dBFS), so
  "-18 dB" for a background voice or an echo means the same thing whichever voice spoke.
- Noises: white and pink bursts, a cough-like burst (seeded, so every run hears the same sound).
- Word boundaries: a sentence rendered in one go is cut where the words meet (:func:`find_cuts`), found by aligning
  the text with whisper's word timestamps character by character, then moved to the quietest 20 ms nearby; silence
  is put in at the cut (:func:`insert_pauses`), so the words before a pause keep the continuing prosody of the whole
  sentence.
- Echo: :class:`Player` is a client's player (each audio delta played in real time from the first, one after the
  other, no jitter buffer); :class:`Echo` is what its microphone hears of it — the playback delayed, through a short
  synthetic room response (:func:`room_response`), at a level relative to the playback, over a low noise floor.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from omni.audio.silence import SOUND_THRESHOLD, first_sound, last_sound
from omni.types import Samples

RATE = 24000
"""Every sound here is at the wire's rate."""
USER_DBFS = -20.0
"""The active RMS a user's speech is set to (the voices speak at -16 to -21 dBFS on their own)."""
PEAK = 0.95
FRAME = RATE // 50
"""20 ms: the frames active RMS is measured over."""
FADE = round(0.008 * RATE)
"""A cut fades out and in over 8 ms, so the silence put in does not click."""
DIGITS = {
    "en": ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
    "ko": ("공", "일", "이", "삼", "사", "오", "육", "칠", "팔", "구"),
}
"""Digits as they are read one by one (a phone number): whisper writes "공일공" as "010"."""
MIN_QUALITY = 0.5
"""Below this share of matching characters, whisper's words are not trusted for where a cut falls."""
WHISPER_REACH = 0.08
"""How far from whisper's word boundary the quietest 20 ms is looked for: its times are good to about a tenth of a
second, and a wider search finds the closure of a stop inside a word ("ca|ll") rather than the boundary."""
COMMA_REACH = 0.25
"""After a comma (or other punctuation) the voice makes a pause of its own, which is where the cut goes: looked for
this far from whisper's boundary."""
ESTIMATE_REACH = 0.3


# ---- levels and sounds ----------------------------------------------------------------------------------------

def db(gain: float) -> float:
    return 20 * math.log10(gain) if gain > 0 else -math.inf


def gain_of(decibels: float) -> float:
    return float(10 ** (decibels / 20))


def active_rms(samples: Samples) -> float:
    """RMS over the 20 ms frames louder than -40 dBFS (0 when none is)."""
    usable = samples[: samples.size - samples.size % FRAME].astype(np.float64).reshape(-1, FRAME)
    if usable.size == 0:
        return 0.0
    frames = np.sqrt((usable**2).mean(axis=1))
    loud = frames[frames > SOUND_THRESHOLD]
    return float(np.sqrt((loud**2).mean())) if loud.size else 0.0


def at_level(samples: Samples, dbfs: float, *, peak: float = PEAK) -> Samples:
    """``samples`` scaled to ``dbfs`` of active RMS, and down further if that would take a peak over ``peak``."""
    level = active_rms(samples)
    if level == 0:
        return samples.astype(np.float32)
    gain = gain_of(dbfs) / level
    top = float(np.abs(samples).max()) * gain
    if top > peak:
        gain *= peak / top
    return (samples * gain).astype(np.float32)


def white_noise(seconds: float, dbfs: float, *, seed: int) -> Samples:
    """White noise at ``dbfs`` RMS."""
    noise = np.random.default_rng(seed).standard_normal(round(seconds * RATE))
    return (noise * gain_of(dbfs)).astype(np.float32)


def pink_noise(seconds: float, dbfs: float, *, seed: int) -> Samples:
    """Noise falling 3 dB per octave (1/f power), at ``dbfs`` RMS."""
    count = round(seconds * RATE)
    spectrum = np.fft.rfft(np.random.default_rng(seed).standard_normal(count))
    frequencies = np.fft.rfftfreq(count, 1 / RATE)
    spectrum[1:] /= np.sqrt(frequencies[1:])
    spectrum[0] = 0
    noise = np.fft.irfft(spectrum, count)
    rms = float(np.sqrt((noise**2).mean())) or 1.0
    return (noise / rms * gain_of(dbfs)).astype(np.float32)


def cough(dbfs: float, *, seed: int, bursts: int = 2) -> Samples:
    """``bursts`` cough-like bursts 0.3 s apart: noise through a falling envelope, each 0.35 s, ``dbfs`` RMS at
    its loudest."""
    rng = np.random.default_rng(seed)
    one = round(0.35 * RATE)
    envelope = np.exp(-np.arange(one) / (0.08 * RATE))
    gap = np.zeros(round(0.3 * RATE))
    pieces: list[Samples] = []
    for index in range(bursts):
        pieces.append((rng.standard_normal(one) * envelope * gain_of(dbfs)).astype(np.float32))
        if index < bursts - 1:
            pieces.append(gap.astype(np.float32))
    return np.concatenate(pieces).astype(np.float32)


def mix(voices: Sequence[Samples], *, offsets: Sequence[float] = ()) -> Samples:
    """The sum of ``voices``, each starting ``offsets[i]`` seconds in (0 when not given)."""
    starts = [round((offsets[i] if i < len(offsets) else 0.0) * RATE) for i in range(len(voices))]
    total = np.zeros(max((s + v.size for s, v in zip(starts, voices, strict=True)), default=0), np.float32)
    for start, voice in zip(starts, voices, strict=True):
        total[start : start + voice.size] += voice
    return total


def audible(samples: Samples) -> Samples:
    """``samples`` from their first to their last audible sample."""
    start, end = first_sound(samples), last_sound(samples)
    if start is None or end is None:
        raise ValueError("no audible sample")
    return samples[start : end + 1]


# ---- cutting a sentence at word boundaries -------------------------------------------------------------------

MARK = "|"
"""Where a scenario's text pauses: "Please book me a table at | the Italian restaurant near the station."."""


@dataclass(frozen=True)
class Word:
    text: str
    start: float
    end: float


@dataclass(frozen=True)
class Cut:
    at: int
    """The sample the pause goes in before."""
    before: str
    """The word the pause follows."""
    method: str
    """``alignment``: in the gap between the words the voice itself reported (Piper's phoneme lengths);
    ``whisper``: by whisper's word timestamps; ``estimate``: by where the characters fall in the speech (whisper
    could not read the voice); each then at the quietest 20 ms nearby."""
    quality: float
    """The share of the text's characters whisper wrote the same."""


def spoken_text(text: str) -> str:
    """The text a voice speaks: the pause marks left out."""
    return re.sub(r"\s+", " ", text.replace(MARK, " ")).strip()


def letters(text: str, language: str) -> str:
    """What alignment compares: letters and Hangul, digits read one by one, no spaces or punctuation."""
    digits = DIGITS.get(language, DIGITS["en"])
    read = re.sub(r"\d", lambda found: digits[int(found.group())], text.lower())
    return "".join(re.findall(r"[^\W\d_]", read))


def marked_positions(text: str, language: str) -> tuple[str, list[int], list[str]]:
    """The text's :func:`letters`, where each pause mark falls in them, and the word before each mark."""
    parts = text.split(MARK)
    positions, before, joined = [], [], ""
    for part in parts[:-1]:
        joined += letters(part, language)
        positions.append(len(joined))
        words = part.split()
        before.append(words[-1] if words else "")
    return joined + letters(parts[-1], language), positions, before


def timed_letters(words: Sequence[Word], language: str) -> tuple[str, list[tuple[float, float]]]:
    """Whisper's words as :func:`letters`, each letter with the span of time it takes (a word's time shared
    evenly among its letters)."""
    chars, spans = "", []
    for word in words:
        these = letters(word.text, language)
        step = (word.end - word.start) / max(len(these), 1)
        for index, char in enumerate(these):
            chars += char
            spans.append((word.start + index * step, word.start + (index + 1) * step))
    return chars, spans


def align(reference: str, heard: str) -> tuple[list[int], int]:
    """For each boundary ``k`` between the letters of ``reference`` (0 to len), the boundary of ``heard`` it falls
    on in a least-edits alignment; and the number of edits."""
    n, m = len(reference), len(heard)
    cost = np.zeros((n + 1, m + 1), dtype=np.int32)
    cost[:, 0] = np.arange(n + 1)
    cost[0, :] = np.arange(m + 1)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            same = 0 if reference[i - 1] == heard[j - 1] else 1
            cost[i, j] = min(cost[i - 1, j] + 1, cost[i, j - 1] + 1, cost[i - 1, j - 1] + same)
    boundary = [0] * (n + 1)
    boundary[n] = m
    i, j = n, m
    while i > 0:
        if j > 0 and cost[i, j] == cost[i - 1, j - 1] + (0 if reference[i - 1] == heard[j - 1] else 1):
            i, j = i - 1, j - 1
        elif cost[i, j] == cost[i - 1, j] + 1:
            i -= 1
        else:
            j -= 1
            continue
        boundary[i] = j
    return boundary, int(cost[n, m])


def quietest(samples: Samples, around: int, reach: int) -> int:
    """The middle of the quietest 20 ms within ``reach`` samples of ``around`` (inside the clip)."""
    low, high = max(FRAME, around - reach), min(samples.size - FRAME, around + reach)
    if high <= low:
        return around
    hop = RATE // 200
    centres = np.arange(low, high + 1, hop)
    energy = np.array([float(np.square(samples[c - FRAME // 2 : c + FRAME // 2], dtype=np.float64).sum())
                       for c in centres])
    return int(centres[int(energy.argmin())])


PUNCTUATION = frozenset(" ,.?!;:…—-")
"""Phonemes between words in a Piper alignment: the word break, and the punctuation espeak-ng keeps."""


def word_gaps(phonemes: Sequence[tuple[str, int]]) -> list[tuple[int, int]]:
    """The spans (first sample, end) between words in a Piper phoneme alignment (each phoneme with its length in
    samples; ``^`` and ``$`` the start and end of the sentence)."""
    gaps: list[tuple[int, int]] = []
    position, start, voiced = 0, None, False
    for phoneme, count in phonemes:
        if phoneme in ("^", "$"):
            start = None
        elif phoneme in PUNCTUATION:
            if voiced and start is None:
                start = position
        else:
            if start is not None:
                gaps.append((start, position))
            start, voiced = None, True
        position += count
    return gaps


def text_words(text: str) -> list[str]:
    """The words of ``text`` (pause marks and bare punctuation left out)."""
    return [word for word in spoken_text(text).split() if any(ch.isalnum() for ch in word)]


def cuts_at_gaps(text: str, samples: Samples, gaps: Sequence[tuple[int, int]]) -> list[Cut] | None:
    """Cuts at the gaps between words a voice reported (one gap per pair of neighbouring words of ``text``), each at
    the quietest 20 ms of its gap; None when the voice's words do not match the text's."""
    if len(gaps) != len(text_words(text)) - 1:
        return None
    cuts, counted = [], 0
    parts = text.split(MARK)
    for part in parts[:-1]:
        counted += len(text_words(part))
        low, high = gaps[counted - 1]
        middle, reach = (low + high) // 2, (high - low) // 2 + round(0.01 * RATE)
        words = text_words(part)
        cuts.append(Cut(quietest(samples, middle, reach), words[-1] if words else "", "alignment", 1.0))
    return cuts


def find_cuts(text: str, language: str, samples: Samples, words: Sequence[Word]) -> list[Cut]:
    """Where each pause mark of ``text`` falls in ``samples`` (the whole sentence, spoken in one go, at
    :data:`RATE`), given whisper's ``words`` for it (times in seconds into ``samples``)."""
    reference, positions, before = marked_positions(text, language)
    heard, spans = timed_letters(words, language)
    boundary, edits = align(reference, heard) if heard else ([0] * (len(reference) + 1), len(reference))
    quality = max(0.0, 1 - edits / max(len(reference), 1))
    start, end = first_sound(samples) or 0, last_sound(samples) or samples.size - 1
    cuts = []
    for position, word in zip(positions, before, strict=True):
        j = boundary[position]
        comma = bool(word) and word[-1] in ",.;:…"
        if quality >= MIN_QUALITY and 0 < j < len(spans):
            seconds = (spans[j - 1][1] + spans[j][0]) / 2
            reach = COMMA_REACH if comma else WHISPER_REACH
            guess, method = round(seconds * RATE), "whisper"
        else:
            guess = start + round((end - start) * position / max(len(reference), 1))
            reach, method = ESTIMATE_REACH, "estimate"
        cut = quietest(samples, min(max(guess, start), end), round(reach * RATE))
        cuts.append(Cut(cut, word, method, round(quality, 3)))
    return cuts


def insert_pauses(samples: Samples, cuts: Sequence[int], pauses: Sequence[float]) -> tuple[Samples, list[float]]:
    """``samples`` with ``pauses[i]`` seconds of silence put in at sample ``cuts[i]`` (in order), faded out and in
    around each cut; and where each part after a pause starts, in seconds into the result."""
    if len(cuts) != len(pauses) or list(cuts) != sorted(cuts):
        raise ValueError("one pause per cut, cuts in order")
    pieces: list[Samples] = []
    starts: list[float] = []
    previous, length = 0, 0
    for cut, pause in zip(cuts, pauses, strict=True):
        part = samples[previous:cut].astype(np.float32).copy()
        if previous > 0:
            _fade_in(part)
        _fade_out(part)
        pieces += [part, np.zeros(round(pause * RATE), np.float32)]
        length += part.size + round(pause * RATE)
        starts.append(length / RATE)
        previous = cut
    tail = samples[previous:].astype(np.float32).copy()
    if previous > 0:
        _fade_in(tail)
    pieces.append(tail)
    return np.concatenate(pieces).astype(np.float32), starts


def _fade_out(part: Samples) -> None:
    count = min(FADE, part.size)
    if count:
        part[-count:] *= np.linspace(1.0, 0.0, count, dtype=np.float32)


def _fade_in(part: Samples) -> None:
    count = min(FADE, part.size)
    if count:
        part[:count] *= np.linspace(0.0, 1.0, count, dtype=np.float32)


# ---- a client's player, and the echo of it its microphone hears ----------------------------------------------

def room_response(*, seconds: float = 0.06, rt60: float = 0.25, reverb_db: float = -3.0, seed: int = 3) -> Samples:
    """A short synthetic room impulse response: the direct sound, then from 2 ms on reflections decaying by 60 dB
    over ``rt60`` seconds, ``reverb_db`` below the direct sound in energy (a speaker about a metre from the
    microphone); scaled to unit energy, so an echo through it keeps a broadband playback's level (before its gain)."""
    count = round(seconds * RATE)
    time = np.arange(count) / RATE
    tail = np.random.default_rng(seed).standard_normal(count) * np.exp(-6.9 * time / rt60)
    tail[: round(0.002 * RATE)] = 0.0
    tail *= np.sqrt(gain_of(reverb_db) ** 2 / float((tail**2).sum()))
    tail[0] = 1.0
    response: Samples = (tail / np.sqrt(float((tail**2).sum()))).astype(np.float32)
    return response


class Player:
    """A client's player: each delta starts when it has arrived and the one before it has played (no jitter
    buffer); :meth:`stop` drops what has not played yet (what the browser page does on ``speech_started``).
    Positions are samples from the first delta's arrival."""

    def __init__(self) -> None:
        self.first_at: float | None = None
        self.stopped_at: float | None = None
        self._audio = np.zeros(RATE * 8, np.float32)
        self._end = 0

    @property
    def end_at(self) -> float | None:
        """When the last sample that was kept stops playing."""
        return None if self.first_at is None else self.first_at + self._end / RATE

    def add(self, samples: Samples, at: float) -> None:
        if self.stopped_at is not None:
            return
        if self.first_at is None:
            self.first_at = at
        start = max(self._end, round((at - self.first_at) * RATE))
        end = start + samples.size
        if end > self._audio.size:
            grown = np.zeros(max(end, self._audio.size * 2), np.float32)
            grown[: self._end] = self._audio[: self._end]
            self._audio = grown
        self._audio[self._end : start] = 0
        self._audio[start:end] = samples
        self._end = end

    def stop(self, at: float) -> None:
        if self.first_at is None or self.stopped_at is not None:
            return
        self.stopped_at = at
        self._end = min(self._end, max(0, round((at - self.first_at) * RATE)))

    def played(self, start: int, count: int) -> Samples:
        """Samples ``start`` to ``start + count`` of what plays (silence before the first and after the last)."""
        out = np.zeros(count, np.float32)
        low, high = max(start, 0), min(start + count, self._end)
        if high > low:
            out[low - start : high - start] = self._audio[low:high]
        return out


class Echo:
    """What the microphone hears of :class:`Player`: its sound ``delay`` seconds later, through ``response``, at
    ``level_db`` relative to the playback, over white noise at ``noise_dbfs``."""

    def __init__(self, player: Player, *, delay: float, level_db: float, noise_dbfs: float = -60.0,
                 response: Samples | None = None, seed: int = 11) -> None:
        self.player = player
        self.delay = delay
        self.level_db = level_db
        self.noise_dbfs = noise_dbfs
        self.response = room_response() if response is None else response
        self._gain = gain_of(level_db)
        self._noise = np.random.default_rng(seed)

    def heard(self, start_at: float, count: int) -> Samples:
        """The ``count`` samples the microphone takes in from ``start_at`` (the client's clock)."""
        noise = (self._noise.standard_normal(count) * gain_of(self.noise_dbfs)).astype(np.float32)
        if self.player.first_at is None:
            return noise
        start = round((start_at - self.delay - self.player.first_at) * RATE)
        taps = self.response.size
        source = self.player.played(start - taps + 1, count + taps - 1)
        if not source.any():
            return noise
        echo: Samples = np.convolve(source, self.response, mode="valid").astype(np.float32)
        return (echo * np.float32(self._gain) + noise).astype(np.float32)
