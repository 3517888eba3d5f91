"""The reply's LLM call starts on the speculative transcript during the silence wait, and is dropped when unused."""

from __future__ import annotations

from dataclasses import replace

from omni.events import LLMFirstToken, ReplyDone, ReplyStarted, ReplyTextDelta, SpeechStopped
from tests.fakes.backends import silence, speech
from tests.session.harness import make_harness


async def test_the_llm_starts_during_the_silence_wait_and_the_reply_uses_it() -> None:
    h = make_harness(["what time is it"], ["It is noon."])
    await h.feed(speech(1.0))
    await h.feed(silence(0.45))  # 200 ms pause → STT (0.2 s) → LLM started; the turn has not ended yet
    assert not h.of(SpeechStopped) and not h.of(ReplyStarted)
    assert len(h.llm.prompts) == 1 and h.llm.prompts[0][-1].content == "what time is it"
    await h.feed(silence(0.6))
    await h.clock.run_until(lambda: bool(h.of(ReplyDone)), limit=10)
    assert [d.text for d in h.of(ReplyDone)] == ["It is noon."]
    assert len(h.llm.prompts) == 1, "the early call answered the turn; no second call"
    stopped, first = h.of(SpeechStopped)[0], h.of(LLMFirstToken)[0]
    assert first.at - stopped.at < h.llm.first_token - 0.1, "part of the LLM's wait was hidden in the pause"


async def test_the_early_reply_is_dropped_when_the_user_goes_on() -> None:
    h = make_harness(["first part", "first part and the rest"], ["Early answer.", "Final answer."])
    await h.feed(speech(1.0))
    await h.feed(silence(0.45))
    assert len(h.llm.prompts) == 1  # the early call is running
    await h.feed(speech(1.0))  # the user goes on
    assert h.llm.closed == 1, "the early LLM stream was closed"
    await h.feed(silence(0.7))
    await h.clock.run_until(lambda: bool(h.of(ReplyDone)), limit=10)
    assert [d.text for d in h.of(ReplyDone)] == ["Final answer."]
    assert len(h.of(ReplyStarted)) == 1
    assert "Early" not in "".join(d.text for d in h.of(ReplyTextDelta)), "nothing of the dropped call was shown"
    assert h.llm.prompts[1][-1].content == "first part and the rest"


async def test_the_early_reply_is_not_used_when_the_conversation_changed_during_the_pause() -> None:
    h = make_harness(["and the weather"], ["Stale.", "Fresh."])
    await h.feed(speech(1.0))
    await h.feed(silence(0.45))
    assert len(h.llm.prompts) == 1
    h.session.add_user_text("I am in Seoul.")  # e.g. a client added an item over the wire
    await h.feed(silence(0.6))
    await h.clock.run_until(lambda: bool(h.of(ReplyDone)), limit=10)
    assert [d.text for d in h.of(ReplyDone)] == ["Fresh."]
    assert h.llm.closed == 1
    assert [m.content for m in h.llm.prompts[1] if m.role == "user"] == ["I am in Seoul.", "and the weather"]


async def test_the_early_request_matches_a_korean_turn_with_its_language_reminder() -> None:
    h = make_harness(["지금 몇 시예요"], ["정오입니다."])
    h.stt.language = "ko"
    await h.feed(speech(1.0))
    await h.feed(silence(1.0))
    await h.clock.run_until(lambda: bool(h.of(ReplyDone)), limit=10)
    assert [d.text for d in h.of(ReplyDone)] == ["정오입니다."]
    assert len(h.llm.prompts) == 1
    assert h.llm.prompts[0][-1].content == "지금 몇 시예요\n\n(Answer in Korean.)"


async def test_no_early_reply_when_responses_are_not_created_automatically() -> None:
    h = make_harness(["just listen"], ["Unwanted."])
    h.session.options = replace(h.session.options, create_response=False)
    await h.feed(speech(1.0))
    await h.feed(silence(1.0))
    await h.clock.advance(2.0)
    assert h.llm.prompts == [] and not h.of(ReplyStarted)
