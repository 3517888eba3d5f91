"""Omni's turn-taking on virtual time (``semantic_vad``): the words at each pause set the silence that ends the turn,
and speech during a reply is held until it is known to be a turn, so that a backchannel or a cough lets the reply
go on while a real interruption still stops it. ``server_vad`` keeps its fixed wait and stops at any speech."""

from __future__ import annotations

from omni.events import ReplyDone, SpeechHeld, SpeechIgnored, SpeechStarted, SpeechStopped, TurnPredicted
from omni.session.backchannel import SPELLING, TURN_MS
from omni.session.end_of_turn import WAITS
from tests.fakes.backends import silence, speech
from tests.session.harness import Harness, make_harness

STORY = " ".join(["Once upon a time a little dog crossed the sea in a small red boat."] * 4)
BOOKING = "Please book me a table at the Italian restaurant near the station."
AUTO = WAITS["auto"]


async def pause_inside_a_request(h: Harness, pause: float) -> None:
    await h.feed(speech(1.2))
    await h.feed(silence(pause))
    await h.feed(speech(1.2))
    await h.feed(silence(1.0))
    await h.clock.run_until(lambda: bool(h.of(ReplyDone)), limit=30)
    await h.clock.advance(3.0)  # anything more would have come by now


async def test_a_thinking_pause_after_unfinished_words_does_not_end_the_turn() -> None:
    h = make_harness(["Please book me a table at", BOOKING], ["Booked.", "Unused."], eagerness="auto")
    await pause_inside_a_request(h, 0.9)
    predicted = h.of(TurnPredicted)
    assert [(p.verdict, p.wait_ms) for p in predicted] == [("unfinished", AUTO.unfinished),
                                                           ("complete", AUTO.complete)]
    users = [i.text for i in h.session.conversation.items if i.role == "user"]
    assert users == [BOOKING]
    assert [d.text for d in h.of(ReplyDone)] == ["Booked."]


async def test_under_server_vad_the_same_pause_ends_the_turn() -> None:
    h = make_harness(["Please book me a table at", "the Italian restaurant near the station."],
                     ["Booked.", "Unused."])
    await pause_inside_a_request(h, 0.9)
    assert h.of(TurnPredicted) == []
    assert len(h.of(SpeechStopped)) == 2  # the request became two turns


async def test_finished_words_end_the_turn_sooner_than_a_fixed_wait() -> None:
    async def stopped_after(eagerness: str | None) -> float:
        h = make_harness(["What time is it in Tokyo?"], ["It is noon."], eagerness=eagerness)
        await h.feed(speech(1.2))
        pause_at = h.clock.now()
        await h.feed(silence(1.0))
        return h.of(SpeechStopped)[0].at - pause_at

    semantic, fixed = await stopped_after("auto"), await stopped_after(None)
    assert fixed >= 0.5
    # the words are read 200 ms (speculation) + 200 ms (STT) into the pause; the 200 ms wait has passed by then
    assert semantic < fixed - 0.05, (semantic, fixed)


async def test_the_llms_end_of_turn_probability_weighs_in() -> None:
    listed = "I need eggs, milk and bread."
    h = make_harness([listed], ["Noted."], eagerness="auto")
    h.llm.turn_ends[listed] = 0.41  # what the embedded model gives this list (it may go on)
    await h.feed(speech(1.2))
    await h.feed(silence(1.2))
    assert h.llm.asked_turn_end == [listed]
    (predicted,) = h.of(TurnPredicted)
    assert (predicted.probability, predicted.verdict, predicted.wait_ms) == (0.41, "unsure", AUTO.unsure)
    assert h.of(SpeechStopped)[0].audio_end_ms + AUTO.unsure <= round(h.of(SpeechStopped)[0].at * 1000) + 40


async def story_under_way(h: Harness) -> float:
    """Ask for a story and wait until it has been speaking for a second, the microphone streaming silence all along
    as a client's does; returns that time."""
    await h.feed(speech(1.0))
    await h.feed(silence(0.8))
    while h.output.played_seconds() < 1.0:
        assert h.clock.now() < 30, "the story never played"
        await h.feed(silence(0.02))
    return h.clock.now()


async def test_a_backchannel_during_a_reply_lets_it_go_on() -> None:
    h = make_harness(["Tell me a story.", "Mm-hm."], [STORY], eagerness="auto")
    await story_under_way(h)
    await h.feed(speech(0.4))
    await h.feed(silence(0.8))
    await h.clock.run_until(lambda: bool(h.of(ReplyDone)), limit=60)
    assert len(h.of(SpeechHeld)) == 1
    assert [e.text for e in h.of(SpeechIgnored)] == ["Mm-hm."]
    assert len(h.of(SpeechStarted)) == 1  # the request's only: the backchannel was never announced
    done = h.of(ReplyDone)[0]
    assert done.status == "completed" and done.heard_text == STORY
    assert [i.text for i in h.session.conversation.items if i.role == "user"] == ["Tell me a story."]
    assert h.stt.prompts == [SPELLING["en"]], "held speech is read expecting an acknowledgement's spelling"


async def test_a_cough_during_a_reply_lets_it_go_on() -> None:
    h = make_harness(["Tell me a story.", ""], [STORY], eagerness="auto")
    await story_under_way(h)
    await h.feed(speech(0.2))
    await h.feed(silence(0.8))
    await h.clock.run_until(lambda: bool(h.of(ReplyDone)), limit=60)
    assert [e.text for e in h.of(SpeechIgnored)] == [""]
    assert h.of(ReplyDone)[0].status == "completed"


async def test_a_short_real_interruption_stops_the_reply_once_its_words_are_read() -> None:
    h = make_harness(["Tell me a story.", "Wait."], [STORY, "Yes?"], eagerness="auto")
    await story_under_way(h)
    onset = h.clock.now()
    await h.feed(speech(0.4))
    await h.feed(silence(1.5))  # "Wait." read while held: its full stop is the prompt's, so it is unsure (1 s)
    await h.clock.run_until(lambda: len(h.of(ReplyDone)) == 2, limit=30)
    first = h.of(ReplyDone)[0]
    assert first.status == "interrupted" and first.heard_text != STORY
    announced = h.of(SpeechStarted)[1]
    # held for the sound (0.4 s), the pause before its words are read (0.2 s) and their transcription (0.2 s)
    assert announced.at - onset <= 0.4 + 0.2 + 0.2 + 0.1
    assert h.of(SpeechIgnored) == []
    assert [i.text for i in h.session.conversation.items if i.role == "user"] == ["Tell me a story.", "Wait."]


async def test_speech_too_long_for_a_backchannel_stops_the_reply_before_its_words_are_read() -> None:
    h = make_harness(["Tell me a story.", "No, I meant a story about a cat who lives on the moon."],
                     [STORY, "Sure."], eagerness="auto")
    await story_under_way(h)
    onset = h.clock.now()
    await h.feed(speech(1.5))
    announced = h.of(SpeechStarted)[1]
    assert announced.at - onset <= (TURN_MS + 100 + 40) / 1000  # VAD onset (100 ms) + the hold, to a frame
    assert h.of(ReplyDone)[0].status == "interrupted"


async def test_under_server_vad_a_backchannel_stops_the_reply_at_once() -> None:
    h = make_harness(["Tell me a story.", "Mm-hm."], [STORY, "Okay."])
    await story_under_way(h)
    onset = h.clock.now()
    await h.feed(speech(0.4))
    assert h.of(SpeechHeld) == []
    assert h.of(SpeechStarted)[1].at - onset <= 0.15
    assert h.of(ReplyDone)[0].status == "interrupted"


async def test_a_long_acknowledgement_is_held_while_its_first_words_say_it_is_one() -> None:
    """Past TURN_MS, but its first words ("Mm") were short of a turn: held up to MAX_HOLD_MS, then read whole."""
    h = make_harness(["Tell me a story.", "Mm", "Mm-hm."], [STORY], eagerness="auto")
    await story_under_way(h)
    await h.feed(speech(0.9))  # longer than TURN_MS (0.7 s) from its detection
    await h.feed(silence(0.8))
    await h.clock.run_until(lambda: bool(h.of(ReplyDone)), limit=60)
    assert [e.text for e in h.of(SpeechIgnored)] == ["Mm-hm."]
    assert len(h.of(SpeechStarted)) == 1
    assert h.of(ReplyDone)[0].status == "completed"


async def test_the_replys_own_words_heard_back_before_the_echo_is_found_do_not_stop_it() -> None:
    h = make_harness(["Tell me a story.", "a little dog crossed the sea"], [STORY], eagerness="auto")
    await story_under_way(h)
    await h.feed(speech(0.6))  # the echo of the reply, transcribed at its first 0.4 s
    await h.feed(silence(0.8))
    await h.clock.run_until(lambda: bool(h.of(ReplyDone)), limit=60)
    assert len(h.of(SpeechIgnored)) == 1
    assert h.of(ReplyDone)[0].status == "completed"


async def test_a_held_interruptions_full_stop_from_the_spelling_prompt_does_not_end_its_turn() -> None:
    """"Wait, stop please." said over a reply: its first pause is read after how acknowledgements are spelled, which
    writes "Wait." with a full stop; that mark is not taken as the end of the turn, so "stop please" joins it."""
    h = make_harness(["Tell me a story.", "Wait.", "Wait, stop please."], [STORY, "Okay."], eagerness="auto")
    await story_under_way(h)
    await h.feed(speech(0.3))  # shorter than the look at the first words: its pause is read while it is held
    await h.feed(silence(0.6))  # read (0.2 s after 0.2 s of silence) and judged before the user goes on
    await h.feed(speech(0.8))
    await h.feed(silence(2.5))
    await h.clock.run_until(lambda: len(h.of(ReplyDone)) == 2, limit=30)
    first = h.of(TurnPredicted)[1]
    assert (first.text, first.verdict) == ("Wait", "unsure")
    assert h.stt.prompts[:1] == [SPELLING["en"]]
    assert [i.text for i in h.session.conversation.items if i.role == "user"] == ["Tell me a story.",
                                                                                   "Wait, stop please."]


async def test_another_voice_far_quieter_than_the_user_lets_the_reply_go_on() -> None:
    """A television 16 dB under the user's voice, talking on past the time that makes speech a turn: set apart at
    the look at its first words (a client that paused resumes), and its words at its pause make no turn."""
    said = "The meeting moved to Thursday afternoon, so update the calendar."
    h = make_harness(["Tell me a story.", "The meeting moved", said], [STORY], eagerness="auto")
    await story_under_way(h)
    onset = h.clock.now()
    await h.feed(speech(2.0, level_db=-16))
    await h.feed(silence(1.0))
    await h.clock.run_until(lambda: bool(h.of(ReplyDone)), limit=60)
    assert len(h.of(SpeechHeld)) == 1
    (ignored,) = h.of(SpeechIgnored)
    assert ignored.text == "" and ignored.at - onset <= 0.1 + 0.4 + 0.05  # VAD onset + the look, to a frame
    assert len(h.of(SpeechStarted)) == 1 and h.of(SpeechStopped)[-1].at < onset
    done = h.of(ReplyDone)[0]
    assert done.status == "completed" and done.heard_text == STORY
    assert [i.text for i in h.session.conversation.items if i.role == "user"] == ["Tell me a story."]


async def test_the_same_voice_at_the_users_level_stops_the_reply() -> None:
    h = make_harness(["Tell me a story.", "The meeting moved", "The meeting moved to Thursday."], [STORY, "Okay."],
                     eagerness="auto")
    await story_under_way(h)
    await h.feed(speech(2.0, level_db=-4))
    assert h.of(ReplyDone)[0].status == "interrupted"
    assert h.of(SpeechIgnored) == []


async def test_a_quiet_voice_that_says_stop_is_a_turn() -> None:
    """The user across the room: far quieter than before, but its first word stops the reply."""
    h = make_harness(["Tell me a story.", "Stop, please.", "Stop, please."], [STORY, "Okay."], eagerness="auto")
    await story_under_way(h)
    await h.feed(speech(0.8, level_db=-16))
    await h.feed(silence(1.5))
    await h.clock.run_until(lambda: len(h.of(ReplyDone)) == 2, limit=30)
    assert h.of(ReplyDone)[0].status == "interrupted"
    assert [i.text for i in h.session.conversation.items if i.role == "user"] == ["Tell me a story.",
                                                                                   "Stop, please."]
