"""Backchannels told apart from interruptions by their words."""

from __future__ import annotations

import pytest

from omni.session.backchannel import ECHO_HOLD_MS, MAX_HOLD_MS, TURN_MS, Hold, echoes, is_backchannel, not_a_turn


@pytest.mark.parametrize("text", [
    "Mm-hm.", "Mm-hmm.", "Yeah.", "Yeah, yeah.", "Right.", "Okay.", "OK", "Uh-huh.", "I see.", "Oh, I see.",
    "Mmmm.", "응.", "네.", "네네.", "아하.", "그렇구나.", "아 그렇구나", "응응응",
])
def test_acknowledgements_are_backchannels(text: str) -> None:
    assert is_backchannel(text)


@pytest.mark.parametrize("text", [
    "Wait.", "Stop, stop.", "No, I meant the other one.", "Hold on.", "잠깐만요.", "아니, 그게 아니라", "What?",
    "Yeah, but what about the cat?", "", "  ",
])
def test_interruptions_and_silence_are_not(text: str) -> None:
    assert not is_backchannel(text)


def test_a_hold_is_a_turn_once_the_speech_has_lasted() -> None:
    hold = Hold(audio_start_ms=700, detected_ms=1064)
    assert not hold.long_enough(1064 + TURN_MS - 1)
    assert hold.long_enough(1064 + TURN_MS)


def test_speech_that_may_be_the_replys_echo_is_held_until_the_echo_is_sure_or_it_lasts() -> None:
    hold = Hold(audio_start_ms=700, detected_ms=1064, maybe_echo=True)
    assert not hold.long_enough(1064 + MAX_HOLD_MS)
    assert hold.long_enough(1064 + ECHO_HOLD_MS)
    hold.maybe_echo = False  # the microphone no longer seems to hear the speaker
    assert hold.long_enough(1064 + TURN_MS)


@pytest.mark.parametrize(("text", "speech_ms", "turn"), [
    ("", 300, False),  # a cough
    ("Mm-hm.", 500, False),
    ("One more", 450, False),  # "Mm-hm." as whisper read it alone
    ("Ner", 300, False),  # "네"
    ("Wait.", 350, True),
    ("Stop, stop.", 500, True),
    ("잠깐만요.", 550, True),
    ("Sorry?", 400, True),
    ("Tell me about the cat", 550, True),  # more than a word or two
    ("Next one", 900, True),  # too long to be a sound in passing
])
def test_held_speech_is_a_turn_when_it_asks_for_something(text: str, speech_ms: float, turn: bool) -> None:
    assert not_a_turn(text, speech_ms) is not turn


def test_the_replys_own_words_heard_back_are_its_echo() -> None:
    saying = "Once upon a time, a brave little dog named Max lived by the sea."
    assert echoes("a brave little dog named", saying)
    assert echoes("Once upon a time.", saying)
    assert echoes("on at time.", saying)  # whisper's reading of the echo of "Once upon a time"
    assert not echoes("Wait, stop please.", saying)
    assert not echoes("No, I meant the other dog.", saying)  # a word or two of it, not its words
    assert not echoes("dog", saying)  # one word tells nothing
    assert not echoes("a brave little dog", "")
