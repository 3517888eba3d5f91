"""SpeechHandle: which text the user heard, given how much of the reply's audio was played; interrupting a reply."""

from __future__ import annotations

import asyncio

from omni.session.speech import SpeechHandle


def handle_with(*segments: tuple[str, list[float]]) -> SpeechHandle:
    """A reply whose segments got the given pieces of audio (seconds each)."""
    handle = SpeechHandle(reply_id="r1", item_id="i1", with_audio=True)
    for text, pieces in segments:
        handle.text += ("" if not handle.text else " ") + text
        handle.begin_segment(text)
        for seconds in pieces:
            handle.add_audio(seconds)
    return handle


def test_segments_know_where_their_audio_starts() -> None:
    handle = handle_with(("Hello there.", [0.4, 0.6]), ("How are you today?", [0.5, 0.5]))
    assert [(s.start, s.duration) for s in handle.segments] == [(0.0, 1.0), (1.0, 1.0)]
    assert handle.audio_seconds == 2.0


def test_whole_segments_are_heard_once_their_audio_has_played() -> None:
    handle = handle_with(("Hello there.", [1.0]), ("How are you today?", [1.0]))
    assert handle.heard_text(1.0) == "Hello there."
    assert handle.heard_text(2.0) == "Hello there. How are you today?"
    assert handle.heard_text(9.0) == "Hello there. How are you today?"


def test_a_partly_played_segment_is_cut_at_a_word_boundary() -> None:
    handle = handle_with(("Hello there.", [1.0]), ("How are you today?", [1.0]))
    assert handle.heard_text(1.5) == "Hello there. How are"
    assert handle.heard_text(1.74) == "Hello there. How are"
    assert handle.heard_text(1.76) == "Hello there. How are you"
    assert handle.heard_text(0.5) == "Hello"
    assert handle.heard_text(1.1) == "Hello there."  # not a whole word of the second segment yet


def test_korean_text_is_cut_at_spaces() -> None:
    handle = handle_with(("안녕하세요 만나서 정말 반갑습니다.", [2.0]))
    assert handle.heard_text(1.0) == "안녕하세요 만나서"


def test_nothing_is_heard_before_audio_plays() -> None:
    handle = handle_with(("Hello there.", [1.0]))
    assert handle.heard_text(0.0) == ""
    assert handle_with().heard_text(3.0) == ""


def test_a_segment_without_audio_yet_is_not_heard_nor_anything_after_it() -> None:
    handle = handle_with(("Hello there.", [1.0]), ("Still being spoken.", []))
    assert handle.heard_text(5.0) == "Hello there."


def test_text_only_reply_is_heard_whole() -> None:
    handle = SpeechHandle(reply_id="r1", item_id="i1", with_audio=False, text="The whole answer, as text.")
    assert handle.heard_text(0.0) == "The whole answer, as text."


async def test_interrupt_cancels_the_replys_task() -> None:
    handle = SpeechHandle(reply_id="r1", item_id="i1", with_audio=True)
    handle.task = asyncio.create_task(asyncio.sleep(60))
    handle.interrupt()
    await asyncio.gather(handle.task, return_exceptions=True)
    assert handle.interrupted
    assert handle.task.cancelled()


async def test_interrupting_a_finished_reply_changes_nothing() -> None:
    handle = SpeechHandle(reply_id="r1", item_id="i1", with_audio=True)
    handle.task = asyncio.create_task(asyncio.sleep(60))
    handle.done.set()
    handle.interrupt()
    await asyncio.sleep(0)
    assert not handle.interrupted
    assert not handle.task.done()
    handle.task.cancel()
    await asyncio.gather(handle.task, return_exceptions=True)


async def test_a_second_interrupt_does_not_cut_the_reply_cleanup_short() -> None:
    """A truncate right after a barge-in interrupts a reply that is already stopping: its cleanup must finish."""
    handle = SpeechHandle(reply_id="r1", item_id="i1", with_audio=True)

    async def reply() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            pass
        finally:
            await asyncio.sleep(0.05)  # closing the LLM and TTS streams takes a moment
            handle.done.set()

    handle.task = asyncio.ensure_future(reply())
    await asyncio.sleep(0)
    handle.interrupt()
    await asyncio.sleep(0.01)  # the reply is in its cleanup now
    handle.interrupt()
    await asyncio.wait_for(handle.done.wait(), 2)
    assert handle.interrupted
