"""The CLDR name glossary: what Babel's data gives for the names the Korean study's answers use."""

from __future__ import annotations

from omni.text.korean_names import (
    city_names,
    currency_names,
    glossary,
    korean_names,
    language_names,
    names_for_prompt,
    substitute,
    territory_names,
)


def test_each_source_gives_what_cldr_has() -> None:
    assert territory_names()["Japan"] == "일본" and territory_names()["Italy"] == "이탈리아"
    assert city_names()["Rome"] == "로마" and city_names()["Paris"] == "파리"  # English falls back to the zone ID
    assert city_names()["Kolkata"] == "콜카타"  # English has its own exemplar city for Asia/Calcutta
    assert language_names()["Portuguese"] == "포르투갈어"
    currencies = currency_names()
    assert currencies["Japanese yen"] == currencies["Japanese Yen"] == "일본 엔화"
    assert currencies["euros"] == "유로" and currencies["US dollars"] == "미국 달러"


def test_what_is_left_out() -> None:
    names = korean_names()
    assert "world" not in names  # not a proper name
    assert "yen" not in names  # CLDR has no bare short currency name
    assert "Gold" not in names and "Testing Currency Code" not in names  # not legal tender anywhere
    assert "Slave" not in names  # a three-letter language code's name, also an English word
    assert "Beijing" not in names  # no time zone is named after it
    assert all(names.values())


def test_parenthesised_other_names_count_on_their_own() -> None:
    assert korean_names()["Myanmar"] == korean_names()["Burma"] == "미얀마"


def test_glossary_finds_names_in_order_once() -> None:
    assert glossary("The capital of Italy is Rome. Rome is old.") == [("Italy", "이탈리아"), ("Rome", "로마")]
    assert glossary("Most people in Brazil speak Portuguese.") == [("Brazil", "브라질"), ("Portuguese", "포르투갈어")]
    assert glossary("Add two and two.") == []


def test_the_longest_name_wins() -> None:
    assert glossary("The capital of the United Kingdom is London.") == [("United Kingdom", "영국"), ("London", "런던")]
    assert glossary("The currency of Japan is the Japanese yen.") == [("Japan", "일본"), ("Japanese yen", "일본 엔화")]


def test_whole_words_and_case() -> None:
    assert glossary("Chadwick went to Chad.") == [("Chad", "차드")]
    assert glossary("Chadwick and china plates") == []
    assert glossary("Italy's capital") == [("Italy", "이탈리아")]


def test_prompt_and_substitution() -> None:
    pairs = glossary("The capital of Italy is Rome.")
    assert names_for_prompt(pairs) == "Italy = 이탈리아, Rome = 로마"
    assert names_for_prompt([]) == ""
    assert substitute("The capital of Italy is Rome.") == "The capital of 이탈리아 is 로마."
    assert substitute("Chadwick") == "Chadwick"
