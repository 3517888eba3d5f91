"""Timers in a session on virtual time: a timer the model sets is said aloud when it is due, as a reply of the
session's own with audio; never over the user or over a reply; cancelled timers and those of a closed session are
never said; a session's idle wait does not wait for its timers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from omni.events import ReplyAudio, ReplyDone, ReplyStarted, ToolCallDone
from omni.session.tools import ToolBox
from omni.tools.timers import timers_tool
from omni.types import ToolCall
from tests.fakes.backends import silence, speech
from tests.session.harness import Harness, make_harness

START = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def timer_call(call_id: str, **arguments: str) -> ToolCall:
    return ToolCall(call_id, "timer", json.dumps(arguments))


def with_timers(answers: list[str | list[ToolCall]]) -> Harness:
    made: list[Harness] = []
    # The timers' wall clock moves with the virtual one.
    tool = timers_tool("UTC", now=lambda: START + timedelta(seconds=made[0].clock.now()))
    made.append(make_harness([], answers, toolbox=ToolBox([tool])))
    return made[0]


async def respond(h: Harness) -> None:
    count = len(h.of(ReplyDone))
    await h.session.create_reply()
    await h.clock.run_until(lambda: len(h.of(ReplyDone)) > count, limit=20)


async def test_a_timer_is_said_aloud_when_it_is_due() -> None:
    h = with_timers([[timer_call("t1", action="set", duration="10 minutes", label="pasta")],
                     "Your pasta timer is set for 10 minutes."])
    h.session.add_user_text("Set a timer for 10 minutes for the pasta.")
    await respond(h)
    set_at = h.of(ToolCallDone)[0].at
    await h.session.idle()  # the turn is over; the timer is not a turn
    assert len(h.of(ReplyDone)) == 1
    await h.clock.run_until(lambda: len(h.of(ReplyDone)) == 2, step=1.0, limit=700)
    done = h.of(ReplyDone)[-1]
    assert done.text == "Your pasta timer is done." and done.status == "completed"
    started = next(e.at for e in h.of(ReplyStarted) if e.reply_id == done.reply_id)
    assert 600 <= started - set_at < 600.5
    assert [e for e in h.of(ReplyAudio) if e.reply_id == done.reply_id], "it is spoken"
    assert len(h.llm.prompts) == 2, "the announcement is not the model's"
    assert h.session.conversation.items[-1].text == "Your pasta timer is done."


async def test_a_due_timer_waits_for_the_user_to_finish_speaking() -> None:
    h = with_timers([[timer_call("t1", action="set", duration="5 seconds")], "Set.", "Sure."])
    h.stt.texts.append("Tell me a story.")
    h.session.add_user_text("Set a timer for five seconds.")
    await respond(h)
    await h.feed(speech(6.0))  # the user talks through the moment it is due
    assert len(h.of(ReplyDone)) == 1, "not said over the user"
    await h.feed(silence(1.5))
    await h.clock.run_until(lambda: len(h.of(ReplyDone)) == 3, limit=30)
    texts = [d.text for d in h.of(ReplyDone)]
    assert texts[1] == "Sure." and texts[2] == "Your timer for 5 seconds is done.", texts


async def test_a_cancelled_timer_and_a_closed_sessions_timers_are_never_said() -> None:
    h = with_timers([[timer_call("t1", action="set", duration="1 minute", label="tea")], "Set.",
                     [timer_call("t2", action="cancel", label="tea")], "Cancelled.",
                     [timer_call("t3", action="set", duration="2 minutes")], "Set."])
    for text in ("Timer for tea, one minute.", "Cancel the tea timer.", "A two minute timer, please."):
        h.session.add_user_text(text)
        await respond(h)
    results = [json.loads(e.output) for e in h.of(ToolCallDone)]
    assert results[1]["cancelled"][0]["label"] == "tea", results
    await h.clock.advance(90)
    assert len(h.of(ReplyDone)) == 3, "the cancelled one is not said"
    await h.session.aclose()
    await h.clock.advance(60)
    assert len(h.of(ReplyDone)) == 3, "nor one of a closed session"
