"""Voicing a reply's first words during the silence wait: ready when the wait ends, dropped if the user goes on."""

from __future__ import annotations

from omni.events import ReplyAudio, ReplyDone, SpeechStopped
from tests.fakes.backends import silence, speech
from tests.session.harness import Harness, make_harness

ANSWER = "Paris is the capital of France. It is known for the Eiffel Tower."


def _fast(h: Harness) -> Harness:
    """Models fast enough that the first words exist before the 500 ms silence wait ends."""
    h.stt.latency, h.llm.first_token, h.llm.per_token, h.tts.latency = 0.05, 0.05, 0.01, 0.3
    return h


async def test_first_words_voiced_during_the_wait_play_when_it_ends() -> None:
    first_audio = {}
    for ahead in (True, False):
        h = _fast(make_harness(["where is paris"], [ANSWER], speculate_after_ms=30, voice_ahead=ahead))
        await h.feed(speech(1.0))
        await h.feed(silence(0.7))
        await h.clock.run_until(lambda h=h: bool(h.of(ReplyDone)), limit=10)
        stopped = h.of(SpeechStopped)[0].at
        first_audio[ahead] = next(e for e in h.of(ReplyAudio) if e.first).at - stopped
        assert h.tts.texts == ["Paris is the capital of France.", "It is known for the Eiffel Tower."]
        assert h.of(ReplyDone)[0].heard_text == ANSWER
    assert first_audio[True] < 0.05, "the first chunk's audio was there when the turn was confirmed"
    assert first_audio[False] >= 0.3, "without it the voice starts after the wait"


async def test_first_words_voiced_ahead_are_dropped_when_the_user_goes_on() -> None:
    h = _fast(make_harness(["where is", "where is paris"], ["Unheard answer.", ANSWER], speculate_after_ms=30))
    await h.feed(speech(1.0))
    await h.feed(silence(0.4))  # the first draft is transcribed, answered and voiced during this pause
    assert h.tts.texts == ["Unheard answer."]
    await h.feed(speech(0.5))
    await h.feed(silence(0.7))
    await h.clock.run_until(lambda: bool(h.of(ReplyDone)), limit=10)
    assert len(h.of(ReplyDone)) == 1 and h.of(ReplyDone)[0].heard_text == ANSWER
    assert all(e.at >= h.of(SpeechStopped)[0].at for e in h.of(ReplyAudio)), "nothing of the draft was played"
