"""The embedded LLM's decoding policy for a reply that may call a tool, on made-up logits: the call decided from the
model's probability of opening one, a call forced into the parser's format and decoded greedily, an answer kept
from opening with JSON; and the grammar that holds a call to the offered tools' schemas."""

from __future__ import annotations

import numpy as np

from omni.backends.llama_tool_turn import (
    ANSWER_NOTE,
    CALL_MASS,
    DECISION_INSTRUCTIONS,
    KOREAN_CALL_MASS,
    ToolTurn,
    answering,
    call_grammar,
    call_mass,
    decided_apart,
    ends_with_results,
)
from omni.types import ChatMessage, Tool, ToolCall

OPENS = np.array([False, False, True, True, False, False])
"""Tokens 2 and 3 open a tag or JSON; 0, 1, 4 and 5 are words."""


def logits(*probabilities: float) -> np.ndarray:
    return np.log(np.array(probabilities, dtype=np.single))


def test_a_reply_is_a_call_when_the_model_gives_opening_one_enough_probability() -> None:
    ids = np.zeros(0, dtype=np.intc)
    unlikely = ToolTurn(OPENS, [4, 5], None, forced=False)
    unlikely.decide(ids, logits(0.5, 0.4, 0.05, 0.04, 0.005, 0.005))
    assert not unlikely.calling and abs(unlikely.mass - 0.09) < 1e-4
    likely = ToolTurn(OPENS, [4, 5], None, forced=False)
    likely.decide(ids, logits(0.6, 0.1, 0.15, 0.15, 0.0001, 0.0001))  # a word is likeliest, a call likely enough
    assert likely.calling and likely.mass >= CALL_MASS


def test_an_answer_may_not_open_with_json_and_is_otherwise_left_as_sampled() -> None:
    ids = np.zeros(0, dtype=np.intc)
    answer = ToolTurn(OPENS, [4, 5], None, forced=False)
    first = answer.generate(ids, logits(0.1, 0.1, 0.5, 0.2, 0.05, 0.05))
    assert np.isneginf(first[2]) and np.isneginf(first[3]) and np.isfinite(first[[0, 1, 4, 5]]).all()
    later = logits(0.1, 0.1, 0.5, 0.2, 0.05, 0.05)
    assert np.array_equal(answer.generate(ids, later), later)


def test_a_call_is_started_in_the_parsers_format_then_decoded_greedily() -> None:
    ids = np.zeros(0, dtype=np.intc)
    call = ToolTurn(OPENS, [4, 5], None, forced=True)
    assert call.calling
    chosen = [int(np.argmax(call.generate(ids, logits(0.3, 0.3, 0.1, 0.1, 0.1, 0.1)))) for _ in range(2)]
    assert chosen == [4, 5]
    greedy = call.generate(ids, logits(0.1, 0.35, 0.3, 0.15, 0.05, 0.05))
    assert int(np.argmax(greedy)) == 1 and np.isneginf(np.delete(greedy, 1)).all()


def test_the_call_grammar_admits_only_the_offered_tools_and_their_properties() -> None:
    tools = [Tool("get_weather", "Weather", {"type": "object", "properties": {"city": {"type": "string"}},
                                             "required": ["city"]}),
             Tool("set_timer", "Timer", {"type": "object", "properties": {"minutes": {"type": "integer"}},
                                         "required": ["minutes"]})]
    grammar = call_grammar(tools)
    assert grammar is not None
    assert grammar.splitlines()[0] == 'root ::= "<tool_call>\\n" call ("\\n" call){0,2} "\\n</tool_call>"'
    assert '"\\"get_weather\\""' in grammar and '"\\"set_timer\\""' in grammar
    assert '"\\"minutes\\"" space ":" space integer' in grammar
    assert "additional" not in grammar, "no properties beyond the schema's"
    unsupported = Tool("f", "d", {"type": "object", "properties": {"x": {"$ref": "https://example.com/s.json"}}})
    assert call_grammar([unsupported]) is None


def test_after_tool_results_a_call_must_be_the_likeliest_start() -> None:
    """The model leans towards calling again what it has the result of: 0.3 for opening a call is not enough."""
    ids = np.zeros(0, dtype=np.intc)
    after = ToolTurn(OPENS, [4, 5], None, forced=False, after_results=True)
    after.decide(ids, logits(0.6, 0.1, 0.15, 0.15, 0.0001, 0.0001))
    assert after.mass >= CALL_MASS and not after.calling
    after.decide(ids, logits(0.2, 0.1, 0.5, 0.2, 0.0001, 0.0001))
    assert after.calling


def test_a_prompt_ends_with_results_when_its_last_message_but_notes_is_one() -> None:
    tool = ChatMessage("tool", "{}", tool_call_id="c")
    assert ends_with_results([ChatMessage("user", "q"), tool])
    assert ends_with_results([ChatMessage("user", "q"), tool, ChatMessage("system", "Answer from it.")])
    assert not ends_with_results([tool, ChatMessage("user", "and now?")])
    assert not ends_with_results([])


def test_a_call_is_decided_on_the_users_words_without_omnis_notes() -> None:
    omni, client = ChatMessage("system", DECISION_INSTRUCTIONS), ChatMessage("system", "You are a travel agent.")
    question = ChatMessage("user", "도쿄는요?\n\n(Answer in Korean.)")
    assert decided_apart([omni, question]) == "도쿄는요?"
    assert decided_apart([client, ChatMessage("user", "Tokyo?\n\n(not a note) and more")]) == (
        "Tokyo?\n\n(not a note) and more")
    after = [omni, question, ChatMessage("assistant", "", tool_calls=(ToolCall("c", "get_weather", "{}"),)),
             ChatMessage("tool", "{}", tool_call_id="c")]
    assert decided_apart(after) is None, "after results the conversation's prompt decides"
    assert decided_apart([client, ChatMessage("user", "  ")]) is None and decided_apart([]) is None


def test_a_korean_question_needs_more_probability_to_be_a_call() -> None:
    assert call_mass("What's the weather in Tokyo?") == CALL_MASS < call_mass("도쿄 날씨 어때요?") == KOREAN_CALL_MASS
    korean = ToolTurn(OPENS, [4, 5], None, forced=False, threshold=call_mass("도쿄는요?"))
    korean.decide(np.zeros(0, dtype=np.intc), logits(0.6, 0.1, 0.15, 0.15, 0.0001, 0.0001))
    assert korean.mass >= CALL_MASS and not korean.calling


def test_an_answer_decided_on_under_a_clients_instructions_gets_a_note_before_omnis_others() -> None:
    earlier = [ChatMessage("system", "You are a travel agent."), ChatMessage("user", "Hi"),
               ChatMessage("assistant", "Hello!")]
    noted = answering([*earlier, ChatMessage("user", "프랑스의 수도는?\n\n(Answer in Korean.)")])
    assert noted[:-1] == earlier
    assert noted[-1] == ChatMessage("user", f"프랑스의 수도는?\n\n{ANSWER_NOTE}\n\n(Answer in Korean.)")
    assert answering([ChatMessage("user", "Capital of France?")])[-1].content == f"Capital of France?\n\n{ANSWER_NOTE}"
    own = [ChatMessage("system", DECISION_INSTRUCTIONS), ChatMessage("user", "Capital of France?")]
    assert answering(own) == own, "under Omni's own instructions an answer needs no note"
