"""How the embedded LLM's call decision reads questions it was not tuned on: 32 questions written after the
thresholds were chosen (8 a group: English and Korean, needing one of the kept set's five client tools or none),
each decided on the decision prompt at its threshold (what the backend does) and, for comparison, read off the
conversation's own prompt at ``CALL_MASS`` (what it did before) in three situations, as the session sends it: a
first turn under Omni's instructions, a turn after a plain answer, a first turn under a client's short instructions.

Run with ``python -m omni.bench.tool_decision [--verbose]``. Results in docs/tools.md.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

from omni.backends.llama_llm import LlamaLLM
from omni.backends.llama_llm import create as create_llm
from omni.backends.llama_tool_turn import CALL_MASS, DECISION_INSTRUCTIONS, call_mass, decision_messages
from omni.bench.tool_conversations import TOOLS
from omni.config import Settings
from omni.text.language import detect_language
from omni.text.prompt_notes import with_notes
from omni.types import ChatMessage, Tool

NEED = (
    "Will it snow in Seoul today?", "What's the temperature in London?", "Give me Minji's email.",
    "Start a 10 minute timer.", "What's 300 euros in dollars?", "Is it night in Tokyo now?", "What about Busan?",
    "Find David.",
    "서울 지금 눈 와?", "런던 기온 몇 도야?", "민지 이메일 알려 줘.", "10분 타이머 시작해.", "300유로는 달러로 얼마야?",
    "도쿄는 지금 밤이야?", "부산은 어때?", "데이비드 찾아 줘.",
)
"""Questions one of the five tools answers (the follow-ups "What about Busan?" and "부산은 어때?" among them)."""

NONE = (
    "What's the largest ocean?", "Can you recommend a book?", "How do you say hello in Spanish?",
    "What is 9 times 7?", "Why do cats purr?", "Good morning!", "Explain photosynthesis simply.", "What's your name?",
    "가장 큰 바다는 어디야?", "책 한 권 추천해 줄래?", "스페인어로 안녕은 뭐야?", "9 곱하기 7은?",
    "고양이는 왜 골골거려?", "좋은 아침!", "광합성을 쉽게 설명해 줘.", "이름이 뭐야?",
)
"""Questions that need none of them."""

CLIENT_INSTRUCTIONS = "You are a helpful voice assistant."
EARLIER = (ChatMessage("user", "What is the capital of Italy?"),
           ChatMessage("assistant", "The capital of Italy is Rome."))

Prompt = Callable[[str], list[ChatMessage]]


def as_sent(question: str) -> ChatMessage:
    """The user message as the session sends it: a Korean question with its language note."""
    korean = detect_language(question) == "ko"
    return ChatMessage("user", with_notes(question, ["(Answer in Korean.)"]) if korean else question)


SITUATIONS: dict[str, Prompt] = {
    "decision prompt": decision_messages,
    "conversation, first turn": lambda q: [ChatMessage("system", DECISION_INSTRUCTIONS), as_sent(q)],
    "conversation, after an answer": lambda q: [ChatMessage("system", DECISION_INSTRUCTIONS), *EARLIER, as_sent(q)],
    "conversation, client's instructions": lambda q: [ChatMessage("system", CLIENT_INSTRUCTIONS), as_sent(q)],
}


def call_probability(llm: LlamaLLM, opens: NDArray[np.bool_], messages: Sequence[ChatMessage],
                     tools: Sequence[Tool]) -> float:
    """The probability the model puts on opening a call at the first token of ``messages``' reply."""
    from llama_cpp import LogitsProcessorList

    read: list[NDArray[np.single]] = []

    def keep(_ids: NDArray[np.intc], scores: NDArray[np.single]) -> NDArray[np.single]:
        read.append(scores.copy())
        return scores

    llm.llama.create_completion(llm.render(messages, tools), max_tokens=1, temperature=0.0,
                                logits_processor=LogitsProcessorList([keep]))
    probabilities = np.exp(read[0] - read[0].max())
    return float(probabilities[opens].sum() / probabilities.sum())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--verbose", action="store_true", help="print every question's probabilities")
    args = parser.parse_args(argv)
    llm = create_llm(Settings())
    opens = llm._call_openers()
    tools = [Tool(t["name"], t["description"], t["parameters"]) for t in TOOLS]
    right: dict[tuple[str, str], list[bool]] = {}
    for need, questions in ((True, NEED), (False, NONE)):
        for question in questions:
            language = "ko" if detect_language(question) == "ko" else "en"
            masses = {name: call_probability(llm, opens, prompt(question), tools)
                      for name, prompt in SITUATIONS.items()}
            for name, mass in masses.items():
                # The conversation's prompt at the threshold it was decided by before the decision prompt.
                threshold = call_mass(question) if name == "decision prompt" else CALL_MASS
                right.setdefault((name, language), []).append((mass >= threshold) == need)
            if args.verbose:
                shown = "  ".join(f"{mass:.3f}" for mass in masses.values())
                print(f"{'needs a tool' if need else 'needs none  '}  {shown}  {question}")
    print(f"{'decided right':40} {'en':>6} {'ko':>6}")
    for name in SITUATIONS:
        cells = [f"{sum(right[name, lang])}/{len(right[name, lang])}" for lang in ("en", "ko")]
        print(f"{name:40} {cells[0]:>6} {cells[1]:>6}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
