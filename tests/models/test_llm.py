"""The embedded LLM (llama.cpp, Qwen2.5 1.5B) on real prompts: streaming, tool calls, Korean, cancellation."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from omni.backends.base import LLM, GenerationOptions
from omni.backends.llama_llm import PREFIX_PIECE_CHARS, LlamaLLM
from omni.backends.llama_side_context import SideContext
from omni.backends.llama_tool_turn import DECISION_SYSTEM
from omni.types import ChatMessage, TextDelta, Tool, ToolCall, Usage

pytestmark = pytest.mark.models

GREEDY = GenerationOptions(temperature=0.0, max_tokens=80)
WEATHER = Tool(
    "get_weather",
    "Get the current weather for a city",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


async def collect(llm: LLM, messages: list[ChatMessage], tools: list[Tool] | None = None) -> list[object]:
    return [event async for event in llm.chat(messages, tools=tools or [], options=GREEDY)]


async def test_streams_an_english_answer_in_several_deltas(llm: LLM) -> None:
    events = await collect(llm, [ChatMessage("system", "Answer briefly."),
                                 ChatMessage("user", "What is the capital of France?")])
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert len(deltas) > 3
    assert "Paris" in "".join(deltas)
    usage = events[-1]
    assert isinstance(usage, Usage) and usage.completion_tokens >= len(deltas) and usage.prompt_tokens > 10


async def test_a_weather_question_becomes_a_tool_call(llm: LLM) -> None:
    events = await collect(llm, [ChatMessage("system", "You are a helpful assistant."),
                                 ChatMessage("user", "What's the weather in Seoul right now?")], [WEATHER])
    calls = [e for e in events if isinstance(e, ToolCall)]
    assert [c.name for c in calls] == ["get_weather"]
    assert json.loads(calls[0].arguments)["city"].lower() == "seoul"
    # the call's JSON is not also spoken as text
    assert "get_weather" not in "".join(e.text for e in events if isinstance(e, TextDelta))


def test_a_side_context_reads_the_same_next_token_as_the_models_own(llm: LLM) -> None:
    """The call decision's context: the model's weights, a cache of its own (the conversation's stays whole). Its
    logits are the model's own context's for the same prompts in the same order, a prompt that starts like the one
    before decoded from where they differ (which moves the logits a little, in both: llama.cpp's batches)."""
    from llama_cpp import LogitsProcessorList

    assert isinstance(llm, LlamaLLM)
    side = SideContext(llm.llama)
    llm.llama.reset()  # both start from an empty cache
    tokyo = llm.render([ChatMessage("user", "What's the weather in Tokyo?")], [WEATHER])
    busan = tokyo.replace("Tokyo", "Busan")

    def own(prompt: str) -> np.ndarray:
        read: list[np.ndarray] = []

        def keep(_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
            read.append(scores.copy())
            return scores

        llm.llama.create_completion(prompt, max_tokens=1, temperature=0.0,
                                    logits_processor=LogitsProcessorList([keep]))
        return read[0]

    for prompt in (tokyo, busan, tokyo):
        assert np.allclose(side.logits(prompt), own(prompt), atol=1e-4)
        assert side.holds(prompt)
    assert not side.holds(busan)
    assert side.fits(tokyo) and not side.fits("word " * side.n_ctx), "too long: decided on the conversation instead"


async def test_a_tool_question_after_an_answered_one_is_still_a_call(llm: LLM) -> None:
    """In the conversation's own prompt, an answer in plain words before takes the call away (0.000-0.001 on
    opening one); the call is decided on a prompt of the question alone."""
    events = await collect(llm, [ChatMessage("system", "You are a helpful assistant."),
                                 ChatMessage("user", "What is the capital of Italy?"),
                                 ChatMessage("assistant", "The capital of Italy is Rome."),
                                 ChatMessage("user", "What's the weather in Tokyo right now?")], [WEATHER])
    calls = [e for e in events if isinstance(e, ToolCall)]
    assert [c.name for c in calls] == ["get_weather"]
    assert json.loads(calls[0].arguments)["city"].lower() == "tokyo"


async def test_a_short_follow_up_calls_with_the_earlier_turns_subject(llm: LLM) -> None:
    events = await collect(llm, [
        ChatMessage("system", "You are a helpful voice assistant."),
        ChatMessage("user", "What's the weather in Seoul?"),
        ChatMessage("assistant", "", tool_calls=(ToolCall("call_1", "get_weather", '{"city": "Seoul"}'),)),
        ChatMessage("tool", json.dumps({"city": "Seoul", "sky": "snowing", "celsius": -3}), tool_call_id="call_1"),
        ChatMessage("assistant", "It's minus 3 degrees and snowing in Seoul."),
        ChatMessage("user", "And in Busan?")], [WEATHER])
    calls = [e for e in events if isinstance(e, ToolCall)]
    assert [c.name for c in calls] == ["get_weather"]
    assert json.loads(calls[0].arguments)["city"].lower() == "busan"


@pytest.mark.parametrize("question", ["What is the capital of France?", "Who wrote Romeo and Juliet?"])
async def test_a_clients_own_instructions_do_not_make_every_question_a_call(llm: LLM, question: str) -> None:
    """Under "You are a helpful voice assistant." the conversation's first token opens a call for 0.87-0.98 of
    these; the decision prompt puts 0.17 and 0.38 there."""
    events = await collect(llm, [ChatMessage("system", "You are a helpful voice assistant."),
                                 ChatMessage("user", question)], [WEATHER])
    assert not [e for e in events if isinstance(e, ToolCall)]
    answer = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert re.search(r"Paris|Shakespeare", answer) and not re.search(r"[{}<>`]|get_weather", answer)


async def test_tool_result_is_used_in_the_answer(llm: LLM) -> None:
    call = ToolCall("call_1", "get_weather", json.dumps({"city": "Seoul"}))
    events = await collect(llm, [
        ChatMessage("system", "You are a helpful assistant. Answer in one sentence."),
        ChatMessage("user", "What's the weather in Seoul right now?"),
        ChatMessage("assistant", "", tool_calls=(call,)),
        ChatMessage("tool", json.dumps({"city": "Seoul", "sky": "snowing", "celsius": -3}), tool_call_id="call_1"),
    ], [WEATHER])
    answer = "".join(e.text for e in events if isinstance(e, TextDelta)).lower()
    assert "snow" in answer or "-3" in answer


async def test_korean_question_gets_a_korean_answer(llm: LLM) -> None:
    events = await collect(llm, [ChatMessage("system", "Always answer in the language the user speaks."),
                                 ChatMessage("user", "안녕하세요, 오늘 기분이 어때요?")])
    answer = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert len(re.findall(r"[\uac00-\ud7a3]", answer)) >= 5


async def test_stopping_early_frees_the_model_for_the_next_call(llm: LLM) -> None:
    messages = [ChatMessage("user", "Count from one to one hundred in words.")]
    received = 0
    async for event in llm.chat(messages, options=GenerationOptions(temperature=0.0, max_tokens=300)):
        if isinstance(event, TextDelta):
            received += 1
            if received == 5:
                break
    events = await collect(llm, [ChatMessage("user", "Say just: ready")])
    assert "ready" in "".join(e.text for e in events if isinstance(e, TextDelta)).lower()


def test_prompt_uses_the_model_chat_template(llm: LLM) -> None:
    assert isinstance(llm, LlamaLLM)
    prompt = llm.render([ChatMessage("system", "S"), ChatMessage("user", "U")])
    assert prompt.startswith("<|im_start|>system\nS<|im_end|>") and prompt.endswith("<|im_start|>assistant\n")
    assert llm.count_tokens("hello world") in (2, 3)


async def test_generation_pauses_while_speech_work_holds_the_cores(llm: LLM) -> None:
    """While a voice is synthesising (or STT transcribing) the LLM waits between tokens: at most the tokens already
    under way when the hold began arrive during it (0.6 s is 15-20 tokens otherwise), and generation goes on
    afterwards."""
    import asyncio

    from omni.cores import CORES

    messages = [ChatMessage("user", "Count from one to forty, in words, separated by commas.")]
    arrivals: list[float] = []
    hold: list[float] = []
    third_token = asyncio.Event()

    async def hold_the_cores() -> None:
        await third_token.wait()
        with CORES.speech():
            hold.append(asyncio.get_running_loop().time())
            await asyncio.sleep(0.6)
            hold.append(asyncio.get_running_loop().time())

    holder = asyncio.create_task(hold_the_cores())
    options = GenerationOptions(temperature=0.0, max_tokens=60)
    async for event in llm.chat(messages, options=options):
        if isinstance(event, TextDelta):
            arrivals.append(asyncio.get_running_loop().time())
            if len(arrivals) == 3:
                third_token.set()
    await holder
    during = [t for t in arrivals if hold[0] < t < hold[1]]
    assert len(during) <= 2, f"{len(during)} tokens arrived while speech held the cores"
    assert any(t > hold[1] for t in arrivals), "generation did not go on after the hold"


async def test_prefill_leaves_only_the_users_words_to_decode(llm: LLM) -> None:
    """After ``prefill(history)`` llama.cpp's cache holds every token of the next prompt before the user's words."""
    assert isinstance(llm, LlamaLLM)
    history = [ChatMessage("system", "Answer briefly."), ChatMessage("user", "Tell me about Paris."),
               ChatMessage("assistant", "Paris is the capital of France. It is known for")]  # cut short, as heard
    await collect(llm, [ChatMessage("user", "Something unrelated to clear the cache.")])
    await llm.prefill(history)
    prompt = llm.render([*history, ChatMessage("user", "And Lyon?")])
    prefix = llm.next_turn_prefix(history)
    assert prompt.startswith(prefix + "And Lyon?") and prefix.endswith("user\n")
    rest = llm.count_tokens(prompt[len(prefix):])  # the words and the template's end of the turn
    left = _tokens_left_to_decode(llm, prompt)
    assert left <= rest, f"{left} tokens left to decode, expected {rest}"


async def test_prefill_with_the_users_first_words_leaves_only_the_rest_to_decode(llm: LLM) -> None:
    """Words read ahead while the user speaks are in the cache; the turn decodes its last words and the template."""
    assert isinstance(llm, LlamaLLM) and llm.caches_prompts
    history = [ChatMessage("system", "Answer briefly.")]
    await collect(llm, [ChatMessage("user", "Something unrelated to clear the cache.")])
    await llm.prefill(history, user_words="What is the capital")
    prompt = llm.render([*history, ChatMessage("user", "What is the capital of France?")])
    rest = llm.count_tokens(prompt[prompt.index(" of France?"):])
    left = _tokens_left_to_decode(llm, prompt)
    assert left <= rest, f"{left} tokens left to decode, expected {rest}"


async def test_a_prefix_already_in_the_cache_is_not_decoded_again(llm: LLM) -> None:
    """A prefill of a prompt the cache holds (the next turn's, after a reply) decodes its last piece only: decoding a
    shorter piece first would cut the cache back to it, and the rest would be decoded again."""
    assert isinstance(llm, LlamaLLM)
    history = [ChatMessage("system", "You are a careful assistant. " * 20), ChatMessage("user", "Say hello."),
               ChatMessage("assistant", "Hello there! How can I help you today?")]
    assert len(llm.next_turn_prefix(history)) > 2 * PREFIX_PIECE_CHARS  # decoded in several pieces
    await llm.prefill(history)
    decoded: list[str] = []
    complete = llm.llama.create_completion

    def counting(prompt: str, **kwargs: object) -> object:
        decoded.append(prompt)
        return complete(prompt, **kwargs)

    llm.llama.create_completion = counting
    try:
        await llm.prefill(history)
        await llm.prefill(history[:1])  # a shorter prompt than the cache holds: cut back to it, once
    finally:
        del llm.llama.create_completion
    assert decoded == [llm.next_turn_prefix(history), llm.next_turn_prefix(history[:1])]
    prompt = llm.render([*history[:1], ChatMessage("user", "Hi")])
    rest = llm.count_tokens(prompt[len(llm.next_turn_prefix(history[:1])):])
    assert _tokens_left_to_decode(llm, prompt) <= rest


def _tokens_left_to_decode(llm: LlamaLLM, prompt: str) -> int:
    """The tokens of ``prompt`` after the part llama.cpp's cache already holds."""
    tokens = llm.llama.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
    cached = list(llm.llama._input_ids[: llm.llama.n_tokens])
    common = 0
    while common < min(len(tokens), len(cached)) and tokens[common] == cached[common]:
        common += 1
    return len(tokens) - common


@pytest.mark.parametrize(("words", "finished"), [
    ("What is the capital of France?", True),
    ("Please book me a table at the Italian restaurant near the station.", True),
    ("내일 아침에 엄마한테 전화하라고 알려 줘.", True),
    ("What is the capital of France", True),  # whisper left the question mark off
    ("Please book me a table at", False),
    ("My number is 010 1234", False),
    ("내일 아침에", False),
])
async def test_the_models_end_of_turn_probability_tells_finished_words_from_unfinished(
        llm: LLM, words: str, finished: bool) -> None:
    history = [ChatMessage("system", "You are Omni, a helpful voice assistant.")]
    probability = await llm.end_of_turn(history, user_words=words)
    assert probability is not None
    assert probability > 0.5 if finished else probability < 0.05, probability


async def test_the_end_of_turn_probability_leaves_the_words_in_the_cache(llm: LLM) -> None:
    """It reads the next token after the words on the prompt a prefill decodes: the reply then decodes only the
    template's end of the turn."""
    assert isinstance(llm, LlamaLLM)
    history = [ChatMessage("system", "Answer briefly.")]
    await collect(llm, [ChatMessage("user", "Something unrelated to clear the cache.")])
    await llm.end_of_turn(history, user_words="What is the capital of France?")
    prompt = llm.render([*history, ChatMessage("user", "What is the capital of France?")])
    rest = llm.count_tokens(prompt[prompt.index("France?") + len("France?"):])
    left = _tokens_left_to_decode(llm, prompt)
    assert left <= rest + 1, f"{left} tokens left to decode, expected {rest}"


async def test_an_answer_decided_on_apart_is_written_on_the_prompt_the_prefill_decoded(llm: LLM) -> None:
    """A question a tool is offered to but that needs none is answered on the conversation's prompt without the tool
    schemas: the prompt a prefill decoded, so the answer did not decode the whole prompt again (the schemas sit in
    the system message, before everything else)."""
    assert isinstance(llm, LlamaLLM)
    history = [ChatMessage("system", "You are a helpful assistant. Answer briefly.")]
    asked = [*history, ChatMessage("user", "How many hours a day does a cat sleep?")]
    await collect(llm, [ChatMessage("user", "Something unrelated to clear the cache.")])
    await llm.prefill(history)
    events = await collect(llm, asked, [WEATHER])
    assert not [e for e in events if isinstance(e, ToolCall)]
    assert "".join(e.text for e in events if isinstance(e, TextDelta)).strip()
    prompt = llm.render(asked)
    rest = llm.count_tokens(prompt[prompt.index("sleep?") + len("sleep?"):])  # after the words: a note, the template
    # + 1: the question mark may be one token with the note's line break after it
    assert _tokens_left_to_decode(llm, prompt) <= rest + 1, "the answer came from the prompt without tools"
    assert _tokens_left_to_decode(llm, llm.render(asked, [WEATHER])) > llm.count_tokens(prompt)


async def test_each_set_of_tools_keeps_its_call_decision_prompt_decoded(llm: LLM) -> None:
    """Questions that offer other tools than the last one no longer decode the decision prompt again: each set has
    a context of its own, made ready ahead by ``prepare_decisions``."""
    assert isinstance(llm, LlamaLLM)
    timer = Tool("timer", "Set a timer", {"type": "object", "properties": {"seconds": {"type": "integer"}}})
    await llm.prepare_decisions([[WEATHER], [timer]])
    for tools in ([WEATHER], [timer]):
        assert llm._decision_context(tools).holds(llm.next_turn_prefix([DECISION_SYSTEM], tools))
    events = await collect(llm, [ChatMessage("system", "You are a helpful assistant."),
                                 ChatMessage("user", "What's the weather in Seoul right now?")], [WEATHER])
    assert [e.name for e in events if isinstance(e, ToolCall)] == ["get_weather"]
    assert llm._decision_context([timer]).holds(llm.next_turn_prefix([DECISION_SYSTEM], [timer]))
