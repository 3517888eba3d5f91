"""Reading a speaking user's words ahead: partial transcripts during speech, decoded into the LLM's prompt cache."""

from __future__ import annotations

from omni.cores import CORES
from omni.events import ReplyDone, SpeechStopped
from omni.session.listen_ahead import settled_words
from tests.fakes.backends import silence, speech
from tests.session.harness import make_harness

SENTENCE = "what is the capital city of france please"


def test_settled_words_leave_out_the_word_that_may_be_cut_off() -> None:
    assert settled_words("What is the cap?") == "What is the"
    assert settled_words("Give me one tip for sleeping.") == "Give me one tip for"
    assert settled_words("Hello.") == ""
    assert settled_words("") == ""


async def test_while_the_user_speaks_the_words_so_far_are_decoded_ahead() -> None:
    h = make_harness([], ["Paris."], listen_ahead_ms=600, spoken_sentence=SENTENCE)
    await h.feed(speech(2.0))
    assert h.of(SpeechStopped) == []
    # transcribed during speech, on the growing clip, one read at a time
    assert len(h.stt.heard) >= 2 and h.stt.heard == sorted(h.stt.heard) and h.stt.heard[-1] < 2.0
    assert h.llm.prefilled_words, "the words so far were given to the LLM before the turn ended"
    for words in h.llm.prefilled_words:
        assert words and SENTENCE.startswith(words) and not words.endswith("."), words
    assert len(h.llm.prefilled_words[-1].split()) > len(h.llm.prefilled_words[0].split())
    # the conversation before the words: the same prefix the reply's prompt will have
    read_ahead = h.llm.prefilled[-1]
    assert [(m.role, m.content) for m in read_ahead] == [("system", "Be brief.")]

    await h.feed(silence(0.7))
    await h.clock.run_until(lambda: bool(h.of(ReplyDone)), limit=10)
    prompt = h.llm.prompts[-1]
    assert prompt[-1].content == SENTENCE + ".", "the turn itself is transcribed from all of its audio"
    assert prompt[:-1] == read_ahead


async def test_no_reading_ahead_without_a_prompt_cache_or_when_turned_off() -> None:
    for listen_ahead_ms in (None, 600):
        h = make_harness([], ["Paris."], listen_ahead_ms=listen_ahead_ms, spoken_sentence=SENTENCE)
        if listen_ahead_ms is not None:
            h.llm.caches_prompts = False  # a remote LLM: the words would be transcribed for nothing
        await h.feed(speech(2.0))
        assert h.stt.heard == [] and h.llm.prefilled_words == []


async def test_a_read_still_running_when_the_pause_is_transcribed_is_dropped() -> None:
    h = make_harness([], ["Paris."], listen_ahead_ms=600, spoken_sentence=SENTENCE, speculate_after_ms=30)
    h.stt.latency = 0.5
    await h.feed(speech(1.0))  # a read starts at ~0.7 s and ends at ~1.2 s; the pause is transcribed from ~1.03 s
    await h.feed(silence(0.7))
    await h.clock.run_until(lambda: bool(h.of(ReplyDone)), limit=10)
    assert len(h.stt.heard) == 2 and h.stt.heard[0] < h.stt.heard[1]
    assert not any(h.llm.prefilled_words), "the speculation's transcript has every word: no decoding of fewer"


async def test_no_reading_ahead_while_other_speech_work_has_the_cores() -> None:
    h = make_harness([], ["Paris."], listen_ahead_ms=600, spoken_sentence=SENTENCE)
    with CORES.speech():  # another session's transcription or voice, on a shared server
        await h.feed(speech(2.0))
    assert h.stt.heard == [] and h.llm.prefilled_words == []
