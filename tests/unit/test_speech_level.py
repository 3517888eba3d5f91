"""The level of speech and the user's running level: what sets another, quieter voice apart."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from omni.audio.speech_level import DISTANT_DB, VoiceLevel, speech_level_db
from omni.types import Samples
from tests import speech

RATE = 16000


def spoken(text: str, tmp_path: Path) -> Samples:
    samples, rate = speech.read_wav(speech.espeak_wav(text, tmp_path / "said.wav"))
    return speech.resample_for_fixture(samples, rate, RATE)


def test_a_few_hundred_milliseconds_give_the_level_of_the_whole_sentence(tmp_path: Path) -> None:
    said = spoken("The meeting moved to Thursday afternoon, so update the calendar.", tmp_path)
    whole = speech_level_db(said)
    start = int(np.argmax(np.abs(said) > 0.01))
    part = speech_level_db(np.concatenate([np.zeros(RATE * 3 // 10, np.float32), said[start : start + RATE // 2]]))
    assert whole is not None and part is not None
    assert abs(whole - part) < 3.0, (whole, part)
    assert speech_level_db(said * 0.1) == pytest.approx(whole - 20.0, abs=0.01)
    assert speech_level_db(said[:800]) is None, "50 ms says nothing"


def test_a_voice_is_measured_against_the_users_recent_turns(tmp_path: Path) -> None:
    said = spoken("Tell me a story about a cat.", tmp_path)
    voice = VoiceLevel()
    assert voice.below(said * 0.01) is None, "before the user has said anything there is nothing to compare with"
    for gain in (1.0, 0.8, 1.2, 0.05):  # one turn far off (a whisper, a cough) does not move the median
        voice.add(said * gain)
    level = speech_level_db(said)
    assert voice.level_db is not None and level is not None and abs(voice.level_db - level) < 2.0
    gain_apart = 10 ** (-(DISTANT_DB + 3) / 20)
    assert voice.below(said * gain_apart) == pytest.approx(DISTANT_DB + 3, abs=2.0)
    assert voice.below(said) == pytest.approx(0.0, abs=2.0)
    voice.add(np.zeros(RATE, np.float32))
    assert voice.level_db is not None, "silence is no turn's level"
