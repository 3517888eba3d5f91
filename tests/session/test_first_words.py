"""The first words of a reply, on virtual time: spoken at the first phrase boundary, with the voice's lead-in
silence left out and the pause after a mid-sentence cut kept to a speaker's pause."""

from __future__ import annotations

import pytest

from omni.audio.silence import LEAD_KEEP_SECONDS, first_sound
from omni.events import ReplyAudio, ReplyDone, SpeakableChunk
from omni.session.session import PHRASE_PAUSE_SECONDS
from tests.fakes.backends import silence, speech
from tests.session.harness import Harness, make_harness

ANSWER = "The capital of France is Paris. It is a big city."
LEAD, TAIL = 0.05, 0.3


async def _reply(first_chunk_at_phrase: bool = True) -> Harness:
    h = make_harness(["what is the capital of france"], [ANSWER], first_chunk_at_phrase=first_chunk_at_phrase,
                     tts_silence=(LEAD, TAIL))
    await h.feed(speech(1.2))
    await h.feed(silence(0.6))
    await h.clock.run_until(lambda: bool(h.of(ReplyDone)), limit=30)
    return h


async def test_the_reply_starts_speaking_at_its_first_phrase_said_as_unfinished() -> None:
    h = await _reply()
    assert [c.text for c in h.of(SpeakableChunk)] == ["The capital of France", "is Paris.", "It is a big city."]
    assert h.tts.texts == ["The capital of France,", "is Paris.", "It is a big city."]
    done = h.of(ReplyDone)[0]
    assert done.status == "completed" and done.text == ANSWER and done.heard_text == ANSWER


async def test_no_lead_in_silence_before_the_first_word_and_a_short_pause_after_the_phrase() -> None:
    h = await _reply()
    audio = h.of(ReplyAudio)
    assert len(audio) == 3
    first = audio[0].chunk
    assert first_sound(first.samples) == round(LEAD_KEEP_SECONDS * first.sample_rate)
    # four words of tone, the kept 10 ms before them, and the phrase pause instead of the voice's 0.3 s
    assert first.duration == pytest.approx(LEAD_KEEP_SECONDS + 4 * 0.25 + PHRASE_PAUSE_SECONDS, abs=1e-3)
    # later chunks keep the voice's own silences: only the reply's start and a phrase cut are trimmed
    assert audio[1].chunk.duration == pytest.approx(LEAD + 2 * 0.25 + TAIL, abs=1e-3)
    assert audio[2].chunk.duration == pytest.approx(LEAD + 5 * 0.25 + TAIL, abs=1e-3)


async def test_without_phrase_cuts_the_first_chunk_is_the_sentence() -> None:
    h = await _reply(first_chunk_at_phrase=False)
    assert h.tts.texts == ["The capital of France is Paris.", "It is a big city."]
    first = h.of(ReplyAudio)[0].chunk
    assert first.duration == pytest.approx(LEAD_KEEP_SECONDS + 6 * 0.25 + TAIL, abs=1e-3)
