"""Session logic on virtual time: endpointing, streaming replies, barge-in at several moments, truncate-to-heard,
cancellation reaching every stage."""

from __future__ import annotations

from omni.events import (
    LLMFirstToken,
    ReplyAudio,
    ReplyDone,
    ReplyTextDelta,
    SpeakableChunk,
    SpeechStarted,
    SpeechStopped,
    TranscriptionDone,
)
from tests.fakes.backends import silence, speech
from tests.session.harness import make_harness

ANSWER = "Paris is the capital of France. It is known for the Eiffel Tower. Many people visit it every year."


async def test_endpointing_reports_speech_span_with_padding_and_silence_wait() -> None:
    h = make_harness(["hello"], ["Hi there."])
    await h.feed(silence(0.5))
    await h.feed(speech(2.0))
    await h.feed(silence(1.0))
    started, stopped = h.of(SpeechStarted), h.of(SpeechStopped)
    assert len(started) == 1 and len(stopped) == 1
    assert 150 <= started[0].audio_start_ms <= 250  # 500 ms minus 300 ms of prefix padding
    assert 2450 <= stopped[0].audio_end_ms <= 2550
    # the end is only known after the silence duration has passed
    assert 2.95 <= stopped[0].at <= 3.15
    # STT got the speech with its padding and a short tail (STT_TAIL_MS), not the rest of the silence around it
    assert 2.3 <= h.stt.heard[0] <= 2.5


async def test_short_click_does_not_start_a_turn() -> None:
    h = make_harness(["x"], ["y"])
    await h.feed(silence(0.3))
    await h.feed(speech(0.04))
    await h.feed(silence(1.0))
    assert h.of(SpeechStarted) == []
    assert h.stt.heard == []


async def test_full_turn_streams_audio_before_the_llm_finishes() -> None:
    h = make_harness(["what is the capital of france"], [ANSWER])
    await h.feed(speech(1.5))
    await h.feed(silence(0.6))
    await h.clock.run_until(lambda: bool(h.of(ReplyDone)), limit=30)
    done = h.of(ReplyDone)[0]
    assert done.status == "completed"
    assert done.text == ANSWER and done.heard_text == ANSWER
    first_audio = next(e for e in h.of(ReplyAudio) if e.first)
    last_delta = h.of(ReplyTextDelta)[-1]
    assert first_audio.at < last_delta.at, "speech must start while the LLM is still generating"
    transcribed = h.of(TranscriptionDone)[0]
    assert transcribed.at < h.of(LLMFirstToken)[0].at < first_audio.at
    # every sentence was spoken, each as its own chunk, in order
    assert h.tts.texts == [
        "Paris is the capital of France.",
        "It is known for the Eiffel Tower.",
        "Many people visit it every year.",
    ]
    # the reply completes only after its audio has played out
    total_audio = sum(e.chunk.duration for e in h.of(ReplyAudio))
    assert done.at >= first_audio.at + total_audio - 1e-6
    texts = [(i.role, i.text) for i in h.session.conversation.items]
    assert texts == [("user", "what is the capital of france"), ("assistant", ANSWER)]


async def test_user_who_goes_on_talking_before_the_reply_gets_one_reply_to_both_parts() -> None:
    # without speculative STT the reply to the first part cannot start before the user goes on
    h = make_harness(["first part", "second part"], ["One answer.", "Unused."], speculate_after_ms=None)
    await h.feed(speech(1.0))
    await h.feed(silence(0.55))  # end of turn detected; STT is working
    await h.feed(speech(0.8))  # the user goes on talking before any reply started
    await h.feed(silence(0.6))
    await h.clock.run_until(lambda: bool(h.of(ReplyDone)), limit=10)
    await h.clock.advance(3.0)
    assert [d.text for d in h.of(ReplyDone)] == ["One answer."]
    users = [m.content for m in h.llm.prompts[0] if m.role == "user"]
    assert users == ["first part", "second part"]


async def test_barge_in_before_first_audio_keeps_nothing_of_the_reply() -> None:
    h = make_harness(["first question", "second question"], [ANSWER, "Sure."])
    h.llm.first_token = 2.0
    await h.feed(speech(1.0))
    await h.feed(silence(0.8))  # end of turn detected, transcribed; the LLM is thinking
    assert len(h.llm.prompts) == 1 and not h.of(ReplyAudio)
    await h.feed(speech(0.8))  # the user goes on talking
    done = h.of(ReplyDone)[0]
    assert done.status == "interrupted"
    assert done.heard_text == ""
    assert h.llm.closed >= 1, "the LLM stream was closed, not left running"
    first_reply = h.session.conversation.get(done.item_id)
    assert first_reply.text == "" and first_reply.status == "incomplete"


async def test_barge_in_mid_sentence_keeps_only_what_was_heard() -> None:
    h = make_harness(["tell me about paris", "stop"], [ANSWER, "Okay."])
    await h.feed(speech(1.0))
    await h.feed(silence(0.6))
    await h.clock.run_until(lambda: any(e.first for e in h.of(ReplyAudio)), limit=10)
    first_audio_at = next(e for e in h.of(ReplyAudio) if e.first).at
    # first sentence: 6 words x 0.25 s = 1.5 s of audio; interrupt 2.0 s in, inside the second sentence
    await h.clock.advance(first_audio_at + 2.0 - h.clock.now() - 0.12)
    await h.feed(speech(0.3))  # VAD needs min_speech_ms (100 ms) to start a turn
    done = h.of(ReplyDone)[0]
    assert done.status == "interrupted"
    assert done.heard_text.startswith("Paris is the capital of France. It")
    assert "Eiffel" not in done.heard_text and "visit" not in done.heard_text
    assert h.output.played_seconds() < 2.2
    assert not h.output.is_playing(), "queued audio was dropped"
    # the next prompt carries the heard text, not the whole answer
    await h.feed(silence(0.6))
    await h.clock.run_until(lambda: len(h.of(ReplyDone)) == 2, limit=20)
    assistant_turns = [m.content for m in h.llm.prompts[-1] if m.role == "assistant"]
    assert assistant_turns == [done.heard_text]


async def test_speech_after_the_reply_ended_is_a_new_turn_not_an_interruption() -> None:
    h = make_harness(["hi", "how are you"], ["Hello!", "Fine, thanks."])
    await h.feed(speech(0.8))
    await h.feed(silence(0.6))
    await h.clock.run_until(lambda: bool(h.of(ReplyDone)), limit=10)
    await h.feed(silence(0.5))
    await h.feed(speech(0.8))
    await h.feed(silence(0.6))
    await h.clock.run_until(lambda: len(h.of(ReplyDone)) == 2, limit=10)
    assert [d.status for d in h.of(ReplyDone)] == ["completed", "completed"]
    assert [d.heard_text for d in h.of(ReplyDone)] == ["Hello!", "Fine, thanks."]


async def test_interrupt_during_tts_closes_the_tts_stream() -> None:
    h = make_harness(["go"], [ANSWER])
    h.tts.latency = 1.0
    await h.feed(speech(0.8))
    await h.feed(silence(0.6))
    await h.clock.run_until(lambda: bool(h.of(SpeakableChunk)), limit=10)
    await h.session.interrupt()
    assert h.tts.closed == 1
    assert h.of(ReplyDone)[0].status == "interrupted"


async def test_closing_the_session_during_stt_cancels_the_turn() -> None:
    h = make_harness(["never finished"], [ANSWER])
    h.stt.latency = 5.0
    await h.feed(speech(0.8))
    await h.feed(silence(0.6))
    assert h.of(SpeechStopped)
    await h.session.aclose()
    await h.clock.advance(6.0)
    assert h.of(TranscriptionDone) == [] and h.llm.prompts == []


async def test_noise_that_transcribes_to_nothing_gets_no_reply() -> None:
    h = make_harness([""], [ANSWER])
    await h.feed(speech(0.5))
    await h.feed(silence(0.6))
    await h.clock.advance(2.0)
    assert h.of(TranscriptionDone)[0].transcript.text == ""
    assert h.llm.prompts == [] and h.session.conversation.items == []


async def test_manual_turns_commit_and_respond_only_when_asked() -> None:
    h = make_harness(["manual question"], ["Manual answer."], turn_detection="manual")
    await h.feed(speech(1.0))
    await h.feed(silence(1.0))
    assert h.of(SpeechStarted) == [] and h.stt.heard == []
    item_id = h.session.commit_input()
    assert item_id is not None
    await h.clock.advance(0.5)
    assert h.session.conversation.get(item_id).text == "manual question"
    assert h.llm.prompts == []
    await h.session.create_reply()
    await h.clock.run_until(lambda: bool(h.of(ReplyDone)), limit=10)
    assert h.of(ReplyDone)[0].heard_text == "Manual answer."
    assert 1.9 <= h.stt.heard[0] <= 2.1


async def test_a_reply_asked_for_right_after_a_commit_waits_for_the_transcript() -> None:
    """Push-to-talk clients send commit and response.create back to back: the answer is to what was said."""
    h = make_harness(["manual question"], ["Manual answer."], turn_detection="manual")
    await h.feed(speech(1.0))
    h.session.commit_input()
    await h.session.create_reply()
    await h.clock.run_until(lambda: bool(h.of(ReplyDone)), limit=10)
    assert h.of(TranscriptionDone)[0].at <= h.of(LLMFirstToken)[0].at
    assert h.llm.prompts[0][-1].content == "manual question"


async def test_text_only_reply_keeps_the_whole_text_and_makes_no_audio() -> None:
    h = make_harness([], [ANSWER], output_audio=False)
    h.session.add_user_text("Tell me about Paris")
    await h.session.create_reply()
    await h.clock.run_until(lambda: bool(h.of(ReplyDone)), limit=10)
    assert h.of(ReplyAudio) == [] and h.tts.texts == []
    assert h.of(ReplyDone)[0].heard_text == ANSWER


async def test_korean_user_gets_a_language_reminder_on_the_newest_message_only() -> None:
    h = make_harness([], ["안녕하세요.", "네."])
    h.session.add_user_text("안녕하세요, 반갑습니다")
    await h.session.create_reply()
    await h.clock.run_until(lambda: bool(h.of(ReplyDone)), limit=10)
    h.session.add_user_text("오늘 날씨 어때요?")
    await h.session.create_reply()
    await h.clock.run_until(lambda: len(h.of(ReplyDone)) == 2, limit=10)
    first, second = h.llm.prompts
    assert first[-1].content.endswith("(Answer in Korean.)")
    # the earlier user message is sent as it was, so the prompt prefix is unchanged between turns
    assert second[1].content == "안녕하세요, 반갑습니다"
    assert second[: len(first) - 1] == first[:-1]


async def test_prefill_sends_the_exact_prompt_prefix_of_the_first_turn() -> None:
    h = make_harness([], ["Hello."], output_audio=False)
    await h.session.prefill()
    h.session.add_user_text("hi")
    await h.session.create_reply()
    await h.clock.run_until(lambda: bool(h.of(ReplyDone)), limit=10)
    prefix = h.llm.prefilled[0]
    assert h.llm.prompts[0][: len(prefix)] == prefix


async def test_after_a_reply_the_conversation_as_heard_is_prefilled_for_the_next_turn() -> None:
    h = make_harness(["tell me about paris", "and lyon"], [ANSWER, "Lyon is lovely."])
    await h.feed(speech(1.0))
    await h.feed(silence(0.6))
    await h.clock.run_until(lambda: any(e.first for e in h.of(ReplyAudio)), limit=10)
    await h.clock.advance(1.0)
    await h.feed(speech(0.3))  # interrupts the reply 1 s into it
    interrupted = h.of(ReplyDone)[0]
    await h.clock.run_until(lambda: len(h.llm.prefilled) == 1, limit=5)
    assert interrupted.status == "interrupted" and interrupted.heard_text != ANSWER
    history = h.llm.prefilled[0]
    assert [(m.role, m.content) for m in history[1:]] == [
        ("user", "tell me about paris"), ("assistant", interrupted.heard_text)]
    await h.feed(silence(0.6))
    await h.clock.run_until(lambda: len(h.of(ReplyDone)) == 2, limit=20)
    assert h.llm.prompts[-1][: len(history)] == history, "the next turn's prompt starts with what was prefilled"


async def test_speculative_stt_has_the_transcript_ready_when_the_turn_ends() -> None:
    h = make_harness(["what time is it"], ["Noon."])
    h.stt.latency = 0.3
    await h.feed(speech(1.0))
    await h.feed(silence(0.7))
    stopped, done = h.of(SpeechStopped)[0], h.of(TranscriptionDone)[0]
    assert done.at - stopped.at < 0.05, "transcribed during the silence wait, not after it"
    assert done.transcript.text == "what time is it"
    assert len(h.stt.heard) == 1


async def test_speculation_is_dropped_when_the_user_goes_on_after_a_pause() -> None:
    h = make_harness(["the whole sentence"], ["Answer."])  # a cancelled call takes no scripted text
    await h.feed(speech(1.0))
    await h.feed(silence(0.35))  # a pause long enough to speculate, too short to end the turn
    await h.feed(speech(1.0))
    await h.feed(silence(0.7))
    await h.clock.run_until(lambda: bool(h.of(ReplyDone)), limit=10)
    assert [e.transcript.text for e in h.of(TranscriptionDone)] == ["the whole sentence"]
    assert len(h.stt.heard) == 2 and h.stt.heard[1] > h.stt.heard[0] + 1.0
