"""The kept Korean/English question set and its judge: parallel items, whole numbers, answers in the asked language."""

from __future__ import annotations

from omni.backends.canned_llm import CannedLLM
from omni.bench.bilingual_questions import ITEMS, Item, holds, in_korean, right
from omni.bench.korean_answers import TRANSLATE_TO_KOREAN, _pivot_prompt, _translation_prompt, ask
from omni.bench.token_cost import measure, openai_counters, texts
from omni.clock import RealClock
from tests.fakes.backends import ScriptedLLM


def item_asking(question: str) -> Item:
    return next(item for item in ITEMS if question in item.en)


def test_the_set_is_large_and_parallel() -> None:
    assert len(ITEMS) >= 60
    assert {item.kind for item in ITEMS} == {"knowledge", "arithmetic", "advice", "follow-up"}
    for item in ITEMS:
        assert len(item.ko) == len(item.en) and item.expect, item
        assert all(in_korean(turn) for turn in item.ko), item.ko
        assert not any(in_korean(turn) for turn in item.en), item.en
    assert all(len(item.ko) > 1 for item in ITEMS if item.kind == "follow-up")


def test_a_number_counts_only_as_a_whole_number() -> None:
    assert holds("15 곱하기 4는 60입니다.", "60")
    assert not holds("The answer is 600.", "60")
    assert not holds("It is 1.5 metres.", "5")
    assert holds("정답은 1,000입니다", "1,000") and not holds("정답은 1,000입니다", "1")


def test_a_right_fact_in_the_wrong_language_is_wrong() -> None:
    capital = item_asking("What is the capital of France?")
    assert right(capital, "프랑스의 수도는 파리입니다.", "ko")
    assert not right(capital, "The capital of France is Paris.", "ko")
    assert right(capital, "The capital of France is Paris.", "en")
    assert not right(capital, "프랑스의 수도는 뉴욕입니다.", "ko")


def test_digits_alone_are_an_answer_in_either_language() -> None:
    subtraction = item_asking("What is 100 minus 37?")
    assert right(subtraction, "63", "ko") and right(subtraction, "63", "en")
    assert not right(subtraction, "100 빼기 37은 73입니다.", "ko")


def test_korean_costs_more_tokens_than_english_and_o200k_narrows_the_gap() -> None:
    korean, english = texts()
    assert len(korean) == len(english)
    costs = {cost.tokenizer: cost for cost in measure(openai_counters())}
    assert costs["cl100k_base"].ratio > costs["o200k_base"].ratio > 1.0, costs


async def test_thinking_in_english_speaks_only_the_korean_part() -> None:
    capital = item_asking("What is the capital of France?")
    llm = CannedLLM("EN: The capital of France is Paris. KO: 프랑스의 수도는 파리입니다.")
    korean = await ask(llm, "think-english", capital, "ko")
    assert korean.answer == "프랑스의 수도는 파리입니다." and korean.right
    english = await ask(CannedLLM("The capital of France is Paris."), "think-english", capital, "en")
    assert english.right and english.answer == "The capital of France is Paris."


async def test_a_follow_up_is_asked_after_the_earlier_turns() -> None:
    follow_up = item_asking("What did I say my name is?")
    answer = await ask(CannedLLM("제 이름은 민지라고 하셨어요."), "greedy", follow_up, "ko")
    assert answer.question == "제 이름이 뭐라고 했죠?" and answer.right


def test_the_names_strategies_give_the_translating_call_the_cldr_names() -> None:
    assert _translation_prompt("The capital of Italy is Rome.", "none")[0].content == TRANSLATE_TO_KOREAN
    glossed = _translation_prompt("The capital of Italy is Rome.", "glossary")
    assert glossed[0].content.endswith("(Korean names: Italy = 이탈리아, Rome = 로마.)")
    assert glossed[1].content == "The capital of Italy is Rome."
    assert _translation_prompt("Rest and drink water.", "glossary")[0].content == TRANSLATE_TO_KOREAN
    assert _translation_prompt("The capital of Italy is Rome.", "substitute")[1].content == (
        "The capital of 이탈리아 is 로마.")
    pivot = _pivot_prompt("이탈리아의 수도는 어디인가요?", "The capital of Italy is Rome.", names=True)
    assert "(Korean names: Italy = 이탈리아, Rome = 로마.)" in pivot and pivot.endswith("(Answer in Korean.)")
    assert "Korean names" not in _pivot_prompt("이탈리아의 수도는 어디인가요?", "Rome.", names=False)


async def test_translate_names_keeps_the_english_answer_it_translated() -> None:
    capital = item_asking("What is the capital of Italy?")
    llm = ScriptedLLM(RealClock(), ["What is the capital of Italy?", "The capital of Italy is Rome.",
                                    "이탈리아의 수도는 로마입니다."], first_token=0, per_token=0)
    answer = await ask(llm, "translate-names", capital, "ko")
    assert answer.right and answer.english == "The capital of Italy is Rome."
    assert "Rome = 로마" in llm.prompts[-1][0].content
