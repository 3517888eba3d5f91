"""Prosodic cues (omni.audio.prosody) on synthetic voiced signals whose pitch and energy are known."""

from __future__ import annotations

import numpy as np
import pytest

from omni.audio import prosody
from omni.audio.prosody import ProsodyCues, prosody_cues

RATE = 16000


def syllables(contour: list[tuple[float, float, float]], *, gap_s: float = 0.06,
              levels_db: list[float] | None = None) -> np.ndarray:
    """A harmonic "voice": one voiced syllable per (seconds, start Hz, end Hz), the pitch gliding in semitones
    from start to end, ``gap_s`` of silence between syllables, each at its level in ``levels_db`` (dB, 0 default)."""
    pieces = []
    phase = 0.0
    for index, (seconds, start_hz, end_hz) in enumerate(contour):
        n = round(seconds * RATE)
        f0 = start_hz * (end_hz / start_hz) ** (np.arange(n) / max(n - 1, 1))
        phases = phase + 2 * np.pi * np.cumsum(f0) / RATE
        phase = float(phases[-1])
        voice = sum(np.sin(k * phases) / k for k in range(1, 9))
        ramp = min(round(0.01 * RATE), n // 2)
        envelope = np.ones(n)
        envelope[:ramp] = np.linspace(0, 1, ramp)
        envelope[-ramp:] = np.linspace(1, 0, ramp)
        gain = 10 ** ((levels_db[index] if levels_db else 0.0) / 20)
        pieces += [0.2 * gain * voice * envelope, np.zeros(round(gap_s * RATE))]
    return np.concatenate(pieces).astype(np.float32)


LEVEL = [(0.2, 150.0, 150.0)] * 5
FALL = (0.3, 150.0, 150.0 * 2 ** (-6 / 12))
RISE = (0.3, 150.0, 150.0 * 2 ** (6 / 12))
FLAT = (0.3, 150.0, 150.0)


def cues_of(audio: np.ndarray) -> ProsodyCues:
    return prosody_cues(audio.astype(np.float32))


def test_a_falling_end_has_a_falling_slope_and_a_low_final_pitch() -> None:
    cues = cues_of(syllables([*LEVEL, FALL]))
    assert cues.f0_slope is not None and cues.f0_slope < -8, cues
    assert cues.f0_final is not None and cues.f0_final < 0.2, cues
    assert cues.f0_final_st is not None and cues.f0_final_st < -3, cues


def test_a_rising_end_has_a_rising_slope_and_a_high_final_pitch() -> None:
    cues = cues_of(syllables([*LEVEL, RISE]))
    assert cues.f0_slope is not None and cues.f0_slope > 8, cues
    assert cues.f0_final is not None and cues.f0_final > 0.8, cues
    assert cues.f0_final_st is not None and cues.f0_final_st > 3, cues


def test_a_level_end_has_about_no_slope() -> None:
    cues = cues_of(syllables([*LEVEL, FLAT]))
    assert cues.f0_slope is not None and abs(cues.f0_slope) < 2, cues
    assert cues.f0_final_st is not None and abs(cues.f0_final_st) < 1, cues


def test_the_slope_measures_the_glide_in_semitones_per_second() -> None:
    """6 semitones over 0.3 s is 20 st/s; the 300 ms measured is the glide itself."""
    cues = cues_of(syllables([*LEVEL, FALL]))
    assert cues.f0_slope == pytest.approx(-20, abs=5), cues


def test_silence_after_the_last_word_does_not_change_the_cues() -> None:
    speech = syllables([*LEVEL, FALL])  # ends in 60 ms of silence
    padded = np.concatenate([speech, np.zeros(round(1.0 * RATE), np.float32)])
    noisy = padded + (np.random.default_rng(0).standard_normal(padded.size) * 10 ** (-65 / 20)).astype(np.float32)
    plain, after = cues_of(speech), cues_of(noisy)
    assert after.f0_slope == pytest.approx(plain.f0_slope, abs=2)
    assert after.energy_drop_db == pytest.approx(plain.energy_drop_db, abs=1.5)


def test_a_quieter_last_syllable_shows_as_an_energy_drop() -> None:
    level = cues_of(syllables([*LEVEL, FLAT]))
    quiet = cues_of(syllables([*LEVEL, FLAT], levels_db=[0, 0, 0, 0, 0, -12]))
    assert level.energy_drop_db is not None and quiet.energy_drop_db is not None
    assert level.energy_drop_db > -3, level
    assert quiet.energy_drop_db < -8, quiet


def test_a_drawn_out_last_syllable_shows_as_lengthening() -> None:
    even = cues_of(syllables([(0.15, 150.0, 150.0)] * 6))
    long_end = cues_of(syllables([*[(0.15, 150.0, 150.0)] * 5, (0.45, 150.0, 150.0)]))
    assert even.lengthening == pytest.approx(1.0, abs=0.2), even
    assert long_end.lengthening is not None and long_end.lengthening > 2.4, long_end


def test_a_falling_quiet_end_scores_higher_than_a_rising_loud_one() -> None:
    finished = cues_of(syllables([*LEVEL, FALL], levels_db=[0, 0, 0, 0, 0, -8]))
    going_on = cues_of(syllables([*LEVEL, RISE]))
    assert finished.finished is not None and going_on.finished is not None
    assert 0.0 <= going_on.finished < finished.finished <= 1.0
    assert finished.finished > 0.5 > going_on.finished


@pytest.mark.parametrize("audio", [
    np.zeros(RATE, np.float32),
    (np.random.default_rng(1).standard_normal(RATE) * 0.1).astype(np.float32),
    syllables([(0.15, 150.0, 150.0)]),
    np.zeros(10, np.float32),
], ids=["silence", "noise", "one short syllable", "almost nothing"])
def test_too_little_voiced_audio_gives_no_score(audio: np.ndarray) -> None:
    cues = cues_of(audio)
    assert cues.finished is None
    assert cues.f0_slope is None and cues.f0_final is None
    assert cues.voiced_s < prosody.MIN_VOICED_S


def test_only_the_last_window_is_analysed() -> None:
    """A long utterance costs no more than its last WINDOW_S seconds: a rising start far back changes nothing."""
    end = syllables([*LEVEL, FALL])
    start = syllables([(0.3, 100.0, 300.0)] * 6)
    alone, after = cues_of(end), cues_of(np.concatenate([start, end]))
    assert after.f0_slope == pytest.approx(alone.f0_slope, abs=2)


def test_other_sample_rates_are_refused() -> None:
    with pytest.raises(ValueError, match="16000"):
        prosody_cues(np.zeros(24000, np.float32), 24000)


# ---- real speech ---------------------------------------------------------------------------------------------

STATEMENTS = (
    "I'd like a coffee with oat milk please.",
    "Turn on the lights in the kitchen.",
    "Book me a table at the Italian restaurant near the station.",
    "I need to buy eggs and bread and a bottle of milk.",
    "My flight lands at seven so I will be home around nine.",
    "Tell me a joke about cats.",
    "Set a timer for ten minutes.",
)
"""English statements from the measurement's kept set (omni.bench.prosody_cues); questions are left out, since
they rise at their end and the score reads a rise as going on."""


def espeak_with_word_gaps(text: str) -> np.ndarray:
    """``text`` spoken by espeak-ng (en-us) with 100 ms of silence between words (``-g 10``), at 16 kHz: the
    sentence's own intonation, with every word boundary a silence to cut at."""
    import subprocess
    import tempfile

    from tests import speech

    with tempfile.TemporaryDirectory() as folder:
        path = f"{folder}/s.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-g", "10", "-w", path, "--", text], check=True,
                       capture_output=True, timeout=60)
        samples, rate = speech.read_wav(path)
    return speech.resample_for_fixture(samples, rate, RATE)


def word_gaps(audio: np.ndarray) -> list[int]:
    """Where each silence of 60 ms or more inside the speech starts."""
    quiet = np.abs(audio) < 1e-3
    edges = np.diff(np.concatenate(([0], quiet.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [int(s) for s, e in zip(starts, ends, strict=True) if e - s >= 0.06 * RATE and s > 0 and e < audio.size]


def test_finished_espeak_statements_score_higher_than_the_same_statements_cut_between_words() -> None:
    """The measurement found this for English statements from both English voices (AUC 0.90-0.91, Piper and
    espeak-ng); with espeak-ng's words gapped by silence it is 0.96 over these seven (45 cuts). Any one cut can
    score high (the cut after "lights" falls like an end), so the claim is about the set: AUC at least 0.8."""
    pause = np.zeros(round(0.4 * RATE), np.float32)
    finished: list[float] = []
    cut: list[float] = []
    for text in STATEMENTS:
        audio = espeak_with_word_gaps(text)
        gaps = word_gaps(audio)
        # espeak-ng runs unstressed words together ("on the"), so not every boundary has a gap
        assert len(gaps) >= len(text.split()) // 2, f"espeak-ng left too few word gaps in {text!r}"
        whole = cues_of(np.concatenate([audio, pause])).finished
        assert whole is not None
        finished.append(whole)
        for at in gaps:
            score = cues_of(np.concatenate([audio[:at], pause])).finished
            if score is not None:
                cut.append(score)
    pairs = np.array(finished)[:, None] > np.array(cut)[None, :]
    auc = float(pairs.mean())
    assert auc >= 0.8, (auc, finished, cut)
    assert np.median(finished) - np.median(cut) > 0.25, (finished, cut)


# ---- the measurement's statistics (omni.bench.prosody_cues) ---------------------------------------------------

def test_auc_counts_the_pairs_on_the_finished_side_and_ties_as_half() -> None:
    from omni.bench.prosody_cues import auc

    assert auc([3.0, 4.0], [1.0, 2.0]) == 1.0
    assert auc([1.0, 2.0], [3.0, 4.0]) == 0.0
    assert auc([1.0], [1.0]) == 0.5
    assert auc([2.0, 0.0], [1.0]) == 0.5
    assert auc([-5.0], [0.0], higher_is_finished=False) == 1.0
    assert auc([], [1.0]) is None


def test_the_best_threshold_maximises_balanced_accuracy_in_the_expected_direction() -> None:
    from omni.bench.prosody_cues import best_threshold

    found = best_threshold([0.9, 0.8, 0.4], [0.1, 0.2, 0.3, 0.5])
    assert found is not None
    threshold, accuracy = found
    assert threshold == 0.4 and accuracy == pytest.approx(0.5 * (1.0 + 3 / 4))  # beats 0.8: (2/3 + 1) / 2
    falling = best_threshold([-10.0, -8.0], [0.0, 2.0], higher_is_finished=False)
    assert falling is not None and falling[1] == 1.0 and -8.0 <= falling[0] < 0.0
