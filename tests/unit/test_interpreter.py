"""Interpreter mode's logic: which way an utterance goes, the fixed prompt, and instructions that ask for it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from omni.clock import RealClock
from omni.session.context import Item
from omni.session.interpreter import (
    Direction,
    Interpreter,
    from_instructions,
    kept_to_target,
    parse_languages,
    translate_text,
)
from omni.types import LLMEvent, TextDelta
from tests.fakes.backends import ScriptedLLM

KO_EN = Interpreter(("ko", "en"))


@pytest.mark.parametrize(
    ("text", "detected", "expected"),
    [
        ("What is the capital city of France?", "en", Direction("en", "ko")),
        ("프랑스의 수도는 어디예요?", "ko", Direction("ko", "en")),
        ("Turn off the light.", None, Direction("en", "ko")),  # typed: the letters decide
        ("불 좀 꺼 주세요.", None, Direction("ko", "en")),
        ("불 좀 꺼 주세요.", "en", Direction("ko", "en")),  # Hangul is Korean whatever the recogniser guessed
        ("Turn off the light.", "ko", Direction("en", "ko")),  # and Latin letters are not Korean
        ("Bonjour tout le monde.", "fr", Direction(None, "ko")),  # neither language: into the pair's first
        ("12 34", None, Direction(None, "ko")),
    ],
)
def test_each_utterance_goes_into_the_other_language(text: str, detected: str | None, expected: Direction) -> None:
    assert KO_EN.direction(text, detected) == expected


def test_a_latin_script_pair_trusts_the_recogniser() -> None:
    spanish = Interpreter(("es", "en"))
    assert spanish.direction("Hola", "es") == Direction("es", "en")  # too short for the letters to tell
    assert spanish.direction("Hello there", "en") == Direction("en", "es")
    assert Interpreter(("en", "ko")).direction("Bonjour", "fr") == Direction(None, "en")


def test_the_prompt_names_the_languages_and_shows_both_directions_with_questions_and_a_request() -> None:
    messages = KO_EN.prompt("What is the capital city of France?", "en")
    system, *examples, utterance = messages
    assert system.role == "system" and "Korean" in system.content and "English" in system.content
    assert "Never answer a question" in system.content and "request" in system.content
    assert [m.role for m in examples] == ["user", "assistant"] * (len(examples) // 2)
    notes = [m.content for m in examples if m.role == "user"]
    assert any("(Translate this English into Korean.)" in n for n in notes)
    assert any("(Translate this Korean into English.)" in n for n in notes)
    asked = [m.content for m in examples if m.role == "assistant" and m.content.endswith(("?", "？"))]
    assert len(asked) >= 2, "questions among the examples are translated as questions"
    assert utterance.content == "What is the capital city of France?\n\n(Translate this English into Korean.)"


def test_the_prompt_before_the_utterance_is_the_same_for_every_utterance() -> None:
    """What the LLM decodes ahead (the prompt without an utterance) starts every translation's prompt, both ways;
    the utterance's words come first in its message, so words read ahead while it is spoken are the next tokens."""
    prefix = KO_EN.prompt(None)
    for text in ("Where is Gangnam Station?", "강남버스 정류장은 어디예요?"):
        messages = KO_EN.prompt(text)
        assert messages[:-1] == prefix and messages[-1].content.startswith(text)


def test_the_prompt_does_not_depend_on_the_order_the_languages_were_given_in() -> None:
    assert Interpreter(("en", "ko")).prompt("Hello", "en") == KO_EN.prompt("Hello", "en")
    assert Interpreter(("en", "ko")).direction("12") == Direction(None, "en")  # the order says where others go


def test_no_history_goes_in_unless_context_is_asked_for() -> None:
    items = [Item("1", "user", "버스 정류장은 어디예요?", language="ko"),
             Item("2", "assistant", "Where is the bus stop?"), Item("3", "user", "Is it far?", language="en")]
    plain = KO_EN.conversation_prompt(items)
    assert "정류장" not in "".join(m.content for m in plain) and plain[-1].content.startswith("Is it far?")
    with_context = Interpreter(("ko", "en"), context=True).conversation_prompt(items)
    assert [m.content for m in with_context[-3:-1]] == [
        "버스 정류장은 어디예요?\n\n(Translate this Korean into English.)", "Where is the bus stop?"]
    # decoded ahead for the next utterance: the newest exchange becomes its context
    ahead = Interpreter(("ko", "en"), context=True).conversation_prompt([*items, Item("4", "assistant", "멀어요?")],
                                                                         next_turn=True)
    assert ahead[-1].content == "멀어요?" and ahead[-2].content.startswith("Is it far?")


def test_other_pairs_have_examples_in_both_languages() -> None:
    japanese = Interpreter(("ja", "en")).prompt("こんにちは")
    assert "Japanese" in japanese[0].content and any("？" in m.content for m in japanese)
    assert japanese[-1].content.endswith("(Translate this Japanese into English.)")


def test_a_translation_may_not_run_on_into_an_answer() -> None:
    assert KO_EN.max_tokens(10) < 60


@pytest.mark.parametrize(
    ("instructions", "languages"),
    [
        ("You are an interpreter. Translate everything the user says between English and Korean.", ("en", "ko")),
        ("Translate what I say into Korean", ("ko", "en")),
        ("Please translate into English everything I say in Japanese.", ("en", "ja")),
        ("영어와 한국어를 통역해 주세요", ("en", "ko")),
        ("한국어로 번역해 줘.", ("ko", "en")),
        ("당신은 영어-한국어 통역사입니다.", ("en", "ko")),
        ("You are a professional simultaneous interpreter.", ("ko", "en")),
        ("Act as my translator for a trip to Seoul. I speak English.", ("en", "ko")),
        ("Interpret between Spanish and English.", ("es", "en")),
        ("Your only job is to translate the user's words into French.", ("fr", "en")),
    ],
)
def test_instructions_that_ask_for_an_interpreter(instructions: str, languages: tuple[str, str]) -> None:
    assert from_instructions(instructions) == languages


@pytest.mark.parametrize(
    "instructions",
    [
        "You are Omni, a helpful voice assistant. Answer briefly. Always answer in the language the user speaks.",
        "You are a helpful assistant who can translate between English and Korean.",
        "You are a helpful assistant. If the user asks, translate their message into French.",
        "Don't translate anything; answer in English.",
        "요청하면 영어로 번역해 주세요.",
        "Answer questions about translation software.",
        "",
    ],
)
def test_other_instructions_leave_the_mode_off(instructions: str) -> None:
    assert from_instructions(instructions) is None


def test_languages_are_parsed_from_codes_or_names_and_checked() -> None:
    assert parse_languages("ko,en") == ("ko", "en")
    assert parse_languages(["English", "korean"]) == ("en", "ko")
    for bad in ("ko", "ko,ko", "ko,xx", "ko,en,ja", ""):
        with pytest.raises(ValueError, match="two different languages"):
            parse_languages(bad)
    with pytest.raises(ValueError, match="two different languages"):
        Interpreter(("en", "en"))


async def test_a_long_text_is_translated_sentence_by_sentence_in_one_direction() -> None:
    llm = ScriptedLLM(RealClock(), ["Hello.", "Where is it?", "OK.", "Thanks."], first_token=0, per_token=0)
    pieces: list[str] = []
    text = "안녕하세요. 어디예요?\n\nOK. 고마워요."
    translation = await translate_text(llm, KO_EN, text, on_text=pieces.append)
    assert translation == "Hello. Where is it?\n\nOK. Thanks." == "".join(pieces)
    said = [prompt[-1].content for prompt in llm.prompts]
    assert said[0].startswith("안녕하세요.\n") and said[1].startswith("어디예요?\n") and said[3].startswith("고마워요.")
    assert all(note.endswith("(Translate this Korean into English.)") for note in said), "even the English 'OK.'"


@pytest.mark.parametrize(
    ("pieces", "direction", "copied"),
    [
        (["Why", " is", " the", " sky", " blue?"], Direction("en", "ko"), True),
        (["We need three", " bottles of water."], Direction("en", "ko"), True),
        (["하늘은", " 왜 파란가요?"], Direction("en", "ko"), False),
        (["Professor Choi", "의 강의실은", " 204호예요."], Direction("en", "ko"), False),
        (["204."], Direction("en", "ko"), False),  # nothing in either script: left alone
        (["불 좀", " 꺼 주세요."], Direction("ko", "en"), True),
        (["Please", " turn off the light."], Direction("ko", "en"), False),
        (["Hola,", " ¿qué tal?"], Direction("es", "en"), False),  # two Latin-script languages: not checked
    ],
)
async def test_a_translation_in_the_utterances_own_script_is_asked_again(
        pieces: list[str], direction: Direction, copied: bool) -> None:
    retried = "다시 번역했어요." if direction.target == "ko" else "Translated again."

    async def stream(texts: list[str]) -> AsyncIterator[LLMEvent]:
        for text in texts:
            yield TextDelta(text)

    events = kept_to_target(stream(pieces), direction, lambda: stream([retried]))
    text = "".join([event.text async for event in events if isinstance(event, TextDelta)])
    assert text == (retried if copied else "".join(pieces))
