"""SpeakableChunker: where streamed reply text is cut into chunks for the voice, and what is removed from them."""

from __future__ import annotations

from collections.abc import Iterable

from hypothesis import given, settings
from hypothesis import strategies as st

from omni.text.chunking import SpeakableChunker, clean_for_speech, sentences, voiced


def chunks_of(deltas: Iterable[str], *, first_phrase: bool = True, korean_phrase: bool = False) -> list[str]:
    chunker = SpeakableChunker(first_phrase=first_phrase, korean_phrase=korean_phrase)
    out: list[str] = []
    for delta in deltas:
        out += chunker.push(delta)
    return out + chunker.flush()


def test_first_chunk_may_end_at_a_clause_after_four_words() -> None:
    chunker = SpeakableChunker()
    assert chunker.push("Well, I think that is fine, ") == ["Well, I think that is fine,"]
    assert chunker.push("really. ") == []
    assert chunker.push("Next") == ["really."]


def test_a_comma_after_one_word_does_not_cut_and_after_two_it_does() -> None:
    assert chunks_of(["Well, that is it. Ok then."]) == ["Well, that is it.", "Ok then."]
    assert chunks_of(["I'm sorry, I cannot tell. Ok."]) == ["I'm sorry,", "I cannot tell.", "Ok."]


def test_later_chunks_end_only_at_sentence_ends() -> None:
    text = "At the very start, this is it. Then we go on, and on, and on, until the end. Last"
    assert chunks_of([text]) == [
        "At the very start,", "this is it.", "Then we go on, and on, and on, until the end.", "Last"
    ]


def test_sentence_end_waits_for_the_next_delta() -> None:
    chunker = SpeakableChunker()
    assert chunker.push("The answer is 42.") == []
    assert chunker.push(" It") == ["The answer is 42."]
    assert chunker.push(" is known.") == []
    assert chunker.flush() == ["It is known."]


def test_question_and_exclamation_marks_cut() -> None:
    assert chunks_of(["Is it raining? Yes! Take an umbrella."]) == ["Is it raining?", "Yes!", "Take an umbrella."]


def test_abbreviations_do_not_cut() -> None:
    assert chunks_of(["I met Dr. Smith today. He said hi."]) == ["I met Dr. Smith today.", "He said hi."]
    assert chunks_of(["Use a tool, e.g. this one here. Done."]) == ["Use a tool,", "e.g. this one here.", "Done."]
    assert chunks_of(["Mr. and Mrs. Jones came. They left."]) == ["Mr. and Mrs. Jones came.", "They left."]


def test_decimal_split_across_deltas_does_not_cut() -> None:
    chunker = SpeakableChunker(first_phrase=False)  # else "Pi is about 3.14" · "and e is 2.72." (a phrase cut)
    assert chunker.push("Pi is about 3.") == []
    assert chunker.push("14 and e is 2.") == []
    assert chunker.push("72. Both are ") == ["Pi is about 3.14 and e is 2.72."]
    assert chunker.push("irrational.") == []
    assert chunker.flush() == ["Both are irrational."]


def test_list_numbers_at_a_line_start_do_not_cut() -> None:
    text = "Steps:\n1. First do this\n2. Then that\n"
    assert chunks_of([text]) == ["Steps:", "1. First do this", "2. Then that"]


def test_number_at_the_end_of_a_sentence_cuts() -> None:
    assert chunks_of(["The answer is 42. It is well known."]) == ["The answer is 42.", "It is well known."]


def test_korean_sentences_cut_at_their_periods() -> None:
    text = "안녕하세요. 오늘 날씨가 좋네요! 산책 갈까요? 네"
    assert chunks_of([text]) == ["안녕하세요.", "오늘 날씨가 좋네요!", "산책 갈까요?", "네"]


def test_japanese_full_width_punctuation_cuts_without_spaces() -> None:
    text = "こんにちは。元気ですか？はい！またね"
    assert chunks_of([text]) == ["こんにちは。", "元気ですか？", "はい！", "またね"]


def test_markdown_is_removed() -> None:
    text = "This is **bold** and `code` here.\n# Heading\n- item one\n- item two"
    assert chunks_of([text]) == ["This is bold and code here.", "Heading", "item one", "item two"]


def test_clean_for_speech_collapses_whitespace_and_strips_markup() -> None:
    assert clean_for_speech("  **Note:**\n\n  use   `pip`  __now__  ") == "Note: use pip now"


def test_flush_returns_the_rest_and_empties_the_buffer() -> None:
    chunker = SpeakableChunker()
    assert chunker.push("No sentence end here") == []
    assert chunker.flush() == ["No sentence end here"]
    assert chunker.flush() == []


def test_nothing_unspeakable_is_emitted() -> None:
    assert chunks_of(["... !!! ?\n---\n** **"]) == []
    assert chunks_of(["Hi there. ... Bye now."]) == ["Hi there.", "Bye now."]


_WORDS = st.sampled_from(
    ["hello", "world", "the", "answer", "is", "42", "3.14", "Dr.", "Smith", "e.g.", "this", "**bold**", "`code`",
     "안녕하세요", "날씨", "こんにちは", "J.", "R.", "x", "I"]
)
_SEPARATORS = st.sampled_from(
    [" ", " ", " ", ", ", ". ", "! ", "? ", "... ", "\n", "\n1. ", "\n- ", "\n# ", "。", "？", ".", ",", "  "]
)


@st.composite
def replies(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.tuples(_WORDS, _SEPARATORS), min_size=1, max_size=30))
    return "".join(word + sep for word, sep in parts)


def _alnum(text: str) -> str:
    return "".join(ch for ch in text if ch.isalnum())


@settings(max_examples=300, deadline=None)
@given(replies())
def test_one_character_at_a_time_gives_the_same_chunks_as_whole_text(text: str) -> None:
    # Without phrase cuts: a phrase-starting word at the end of a delta is taken as a whole token (see
    # SpeakableChunker._first_phrase), so "is" + "." may cut where "is." does not.
    whole = chunks_of([text], first_phrase=False)
    assert chunks_of(list(text), first_phrase=False) == whole
    assert _alnum("".join(chunks_of(list(text)))) == _alnum(text)
    # nothing is lost or repeated, and every chunk can be spoken
    assert _alnum("".join(whole)) == _alnum(text)
    assert all(_alnum(chunk) and chunk == chunk.strip() for chunk in whole)
    assert not any("**" in chunk or "`" in chunk for chunk in whole)


@settings(max_examples=300, deadline=None)
@given(replies(), st.lists(st.integers(min_value=0), max_size=8))
def test_any_split_into_deltas_gives_the_same_chunks(text: str, cuts: list[int]) -> None:
    points = sorted({cut % (len(text) + 1) for cut in cuts})
    deltas = [text[a:b] for a, b in zip([0, *points], [*points, len(text)], strict=True)]
    assert "".join(deltas) == text
    assert chunks_of(deltas, first_phrase=False) == chunks_of([text], first_phrase=False)
    assert _alnum("".join(chunks_of(deltas))) == _alnum(text)


def test_a_chunk_too_short_to_say_alone_goes_with_the_next_one() -> None:
    assert chunks_of(["5\nThat is the count. Bye."]) == ["5 That is the count.", "Bye."]
    assert chunks_of(["Count them:\n5\n"]) == ["Count them:", "5"]


def test_the_first_chunk_may_end_before_a_phrase_starting_word() -> None:
    assert chunks_of(["The capital of France is Paris."]) == ["The capital of France", "is Paris."]
    assert chunks_of(["There are 7 days in a week."]) == ["There are 7 days", "in a week."]
    assert chunks_of(["One tip for sleeping better is to keep a regular schedule. Try it."]) == [
        "One tip for sleeping better", "is to keep a regular schedule.", "Try it."]


def test_a_phrase_cut_needs_four_words_a_complete_next_word_and_no_dangling_word() -> None:
    chunker = SpeakableChunker()
    assert chunker.push("The capital of") == []
    assert chunker.push(" France") == []
    assert chunker.push(" is") == ["The capital of France"], "a starter token ends the phrase at once"
    assert chunks_of(["Paris is in France."]) == ["Paris is in France."], "fewer than four words before 'in'"
    assert chunks_of(["I think that is fine."]) == ["I think that is fine."], "never end on 'that'"
    assert chunks_of(["I would like to go to the park with you."]) == ["I would like to go to the park", "with you."]


def test_only_the_first_chunk_is_cut_at_a_phrase_and_only_when_asked() -> None:
    assert chunks_of(["Sure! I can help you with that for sure."]) == ["Sure!", "I can help you with that for sure."]
    assert chunks_of(["The capital of France is Paris."], first_phrase=False) == ["The capital of France is Paris."]
    assert chunks_of(["프랑스의 수도는 파리이고 인구는 많습니다."]) == ["프랑스의 수도는 파리이고 인구는 많습니다."], (
        "a Korean phrase cut costs the Kokoro voice's clarity: off by default")
    assert chunks_of(["La capital de Francia es París y es bonita."]) == ["La capital de Francia es París y es bonita."]


def test_a_korean_first_chunk_may_end_after_a_topic_or_adverbial_particle() -> None:
    assert chunks_of(["프랑스의 수도는 파리이고 인구는 많습니다."], korean_phrase=True) == [
        "프랑스의 수도는", "파리이고 인구는 많습니다."]
    assert chunks_of(list("고양이는 하루에 약 12 시간 자요. 많이 자죠."), korean_phrase=True) == [
        "고양이는 하루에", "약 12 시간 자요.", "많이 자죠."]
    assert chunks_of(["저는 서울에서 태어났어요."], korean_phrase=True) == ["저는 서울에서", "태어났어요."]


def test_a_korean_phrase_needs_two_words_five_syllables_and_the_next_word_begun() -> None:
    chunker = SpeakableChunker(korean_phrase=True)
    assert chunker.push("고양이는 하루에") == [], "에 may still be the start of 에서"
    assert chunker.push(" ") == []
    assert chunker.push("약") == ["고양이는 하루에"]
    korean = SpeakableChunker(korean_phrase=True)
    assert chunks_of(["일주일은 칠 일이에요."], korean_phrase=True) == ["일주일은 칠 일이에요."], "one word first"
    assert chunks_of(["나는 밥을 먹어요."], korean_phrase=True) == ["나는 밥을 먹어요."], "too short"
    assert korean.push("한국에서 제일 높은 산은 한라산이에요.") == ["한국에서 제일 높은 산은"], "높은 binds to 산"
    assert chunks_of(["제가 좋아하는 음식은 김치예요."], korean_phrase=True) == ["제가 좋아하는 음식은", "김치예요."]
    assert chunks_of(["네, 알겠습니다. 서울은 지금 맑아요."], korean_phrase=True) == [
        "네, 알겠습니다.", "서울은 지금 맑아요."]


def test_a_chunk_cut_inside_a_sentence_is_voiced_as_an_unfinished_phrase() -> None:
    assert voiced("The capital of France") == "The capital of France,"
    assert voiced("At the very start,") == "At the very start,"
    assert voiced("Is it Paris?") == "Is it Paris?"
    assert voiced("He said \"yes.\"") == "He said \"yes.\""
    assert voiced("파리입니다.") == "파리입니다."


def test_a_text_is_cut_into_its_sentences_by_the_chunkers_rules() -> None:
    text = "Dr. Smith paid 3.5 dollars. Is it far? Yes!\n\n오늘은 날씨가 좋네요. 어디 가요?\n1. First item\nno end"
    assert sentences(text) == ["Dr. Smith paid 3.5 dollars.", "Is it far?", "Yes!", "오늘은 날씨가 좋네요.",
                               "어디 가요?", "1. First item", "no end"]
    assert sentences("你好。我很好！") == ["你好。", "我很好！"]
    assert sentences(" ... \n ") == []
