"""Interpreter mode in the session, on virtual time: each utterance goes through the fixed translation prompt (no
history, no tools, greedy), the translation is spoken, and the prompt's fixed part is decoded ahead."""

from __future__ import annotations

from dataclasses import replace

from omni.events import ReplyDone, ReplyStarted
from omni.session.interpreter import Direction, Interpreter
from omni.session.tools import FunctionTool, ToolBox
from omni.types import Tool
from tests.fakes.backends import silence, speech
from tests.session.harness import Harness, make_harness

QUESTION = "What is the capital city of France?"
REQUEST = "불 좀 꺼 주세요."
CLOCK = Tool("get_time", "The time now", {"type": "object", "properties": {}})


def interpreting(h: Harness, interpreter: Interpreter | None = None) -> Harness:
    h.session.configure(replace(h.session.options, interpreter=interpreter or Interpreter(("ko", "en"))))
    return h


async def type_in(h: Harness, text: str) -> None:
    """A typed utterance, translated to the end (and the next turn's prefill done)."""
    h.session.add_user_text(text)
    count = len(h.of(ReplyDone)) + 1
    await h.session.create_reply()
    await replies(h, count)
    await h.clock.advance(0.1)


async def replies(h: Harness, count: int) -> list[str]:
    await h.clock.run_until(lambda: len(h.of(ReplyDone)) >= count, limit=20)
    return [done.text for done in h.of(ReplyDone)]


async def test_two_speakers_get_each_utterance_translated_with_the_fixed_prompt() -> None:
    toolbox = ToolBox([FunctionTool(CLOCK, lambda: "noon")])
    h = interpreting(make_harness([QUESTION, REQUEST], ["프랑스의 수도는 어디예요?", "Please turn off the light."],
                                  toolbox=toolbox))
    # The recogniser guesses English for both; the second utterance's Hangul says it is Korean.
    for _ in range(2):
        await h.feed(speech(1.0))
        await h.feed(silence(1.0))
        await replies(h, len(h.of(ReplyStarted)))
    assert await replies(h, 2) == ["프랑스의 수도는 어디예요?", "Please turn off the light."]
    interpreter = Interpreter(("ko", "en"))
    assert [p[-1].content for p in h.llm.prompts] == [
        interpreter.note(QUESTION, Direction("en", "ko")), interpreter.note(REQUEST, Direction("ko", "en"))]
    first, second = h.llm.prompts
    assert first[:-1] == second[:-1] == interpreter.prompt(None), "the same fixed prefix for both directions"
    assert QUESTION not in "".join(m.content for m in second), "no history: the earlier utterance is not there"
    assert first[0].content == interpreter.system() and "Korean" in first[0].content
    for tools, options in h.llm.calls:
        assert tools == () and options.temperature == 0.0 and options.tool_choice == "none"
    # spoken by the voice, clause by clause as any reply
    assert "프랑스의 수도는 어디예요?" in h.tts.texts and "Please turn off the light." in " ".join(h.tts.texts)


async def test_the_fixed_prompt_is_decoded_before_the_first_utterance_and_after_each_translation() -> None:
    h = interpreting(make_harness([], ["Hello."]))
    await h.clock.advance(0.1)
    prefix = Interpreter(("ko", "en")).prompt(None)
    assert h.llm.prefilled == [prefix], "switching the mode on decodes the translation prompt ahead"
    await type_in(h, "안녕하세요")
    assert h.llm.prefilled[-1] == prefix and h.llm.prompts[-1][:-1] == prefix


async def test_with_context_the_previous_utterance_and_its_translation_come_first() -> None:
    h = interpreting(make_harness([], ["Where is the station?", "역은 멀어요?"], output_audio=False),
                     Interpreter(("ko", "en"), context=True))
    for said in ("역이 어디예요?", "Is the station far?"):
        await type_in(h, said)
    previous = h.llm.prompts[1][-3:-1]
    assert [m.role for m in previous] == ["user", "assistant"]
    assert previous[0].content.startswith("역이 어디예요?") and previous[1].content == "Where is the station?"


async def test_speaking_over_a_translation_stops_it() -> None:
    long = "이것은 아주 긴 번역입니다 " * 8
    h = interpreting(make_harness(["Tell them the whole story please."], [long.strip()]))
    await h.feed(speech(1.0))
    await h.feed(silence(1.2))
    await h.clock.run_until(lambda: h.output.played_seconds() > 0.5, limit=20)
    await h.feed(speech(0.5))
    await replies(h, 1)
    done = h.of(ReplyDone)[0]
    assert done.status == "interrupted" and 0 < len(done.heard_text) < len(long.strip())


async def test_switching_the_mode_off_brings_back_the_conversation() -> None:
    h = interpreting(make_harness([], ["번역.", "An answer."], output_audio=False))
    await type_in(h, "Hello there.")
    h.session.configure(replace(h.session.options, interpreter=None))
    await type_in(h, "How are you?")
    conversation = h.llm.prompts[-1]
    assert conversation[0].content == "Be brief." and [m.content for m in conversation[1:]] == [
        "Hello there.", "번역.", "How are you?"]


async def test_a_translation_copied_back_in_the_source_language_is_asked_again_before_anything_is_said() -> None:
    # The model copies the English question back; the second try, which insists on Korean, is what gets said.
    h = interpreting(make_harness([], ["Why is the sky blue?", "하늘은 왜 파란가요?"]))
    await type_in(h, "Why is the sky blue?")
    assert [done.text for done in h.of(ReplyDone)] == ["하늘은 왜 파란가요?"]
    assert "Why is the sky blue?" not in " ".join(h.tts.texts), "the copy was never spoken"
    first, second = h.llm.prompts[-2:]
    assert second[:-1] == first[:-1]
    assert second[-1].content == first[-1].content + "\n(Write the translation in Korean (한국어), not in English.)"
    # A translation that starts with a name in Latin letters is not a copy.
    h2 = interpreting(make_harness([], ["Professor Choi의 강의실은 204호예요."]))
    await type_in(h2, "Professor Choi's class is in room 204.")
    assert [done.text for done in h2.of(ReplyDone)] == ["Professor Choi의 강의실은 204호예요."]
    assert len(h2.llm.prompts) == 1
