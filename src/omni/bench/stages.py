"""Each stage on its own: speech recognition speed and accuracy, the LLM's prompt and generation speed through Omni
against llama.cpp called directly on the same loaded model, and the voices' time to first audio.

- **STT**: English sentences spoken by the configured voice at bench time (so they are reproducible), transcribed
  through the backend's fast path and through its timed path (for whisper: faster-whisper's own 30 s windows).
  Real-time factor = compute seconds / audio seconds; word error rate against the sentence.
- **LLM**: one prompt, greedy, a fixed number of tokens. Prompt speed = prompt tokens / time to the first token;
  generation speed = tokens after the first / the time they took. Before every run an unrelated prompt runs, so the
  prompt cache holds nothing of the measured prompt. Through Omni means ``LLM.chat`` — chat template, worker
  thread, event loop; "llama.cpp directly" is ``Llama.create_completion`` on the same model, in the model's own
  thread (a call from another thread would give OpenMP a second thread pool and slow both paths down, see
  :func:`omni.aio.model_thread`), so the difference is what Omni adds.
- **LLM, the next turn**: a reply is generated, the user cuts it short halfway (the prompt keeps what was heard), and
  asks again; the time to the next reply's first token, with the conversation as heard prefilled (what a session
  does after every reply, while the user listens and speaks) and without (the cache holds the reply as generated).
- **LLM, the user's words read ahead**: the first token of the answer to a question, after the system prompt was
  prefilled, with and without the question's words but the last decoded ahead (what a session does while the user
  speaks, :mod:`omni.session.listen_ahead`).
- **TTS**: sentences in English and Korean through the configured backend: time to the first audio chunk, and the
  real-time factor of the whole sentence.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from contextlib import aclosing
from dataclasses import asdict, dataclass
from typing import Any

from omni.backends.base import LLM, STT, TTS, GenerationOptions
from omni.backends.llama_llm import LlamaLLM
from omni.bench.voice_latency import INPUT_RATE, speak
from omni.session.listen_ahead import settled_words
from omni.text.wer import wer
from omni.types import ChatMessage, TextDelta, Usage

STT_SENTENCES = (
    "What is the capital of France?",
    "Please call my sister and tell her that dinner is ready.",
    "I would like to book a table for two people at seven o'clock tonight, near the river if possible.",
)
TTS_SENTENCES = (
    ("en", "The capital of France is Paris."),
    ("en", "Paris is the capital of France, and it is known for its museums, its cafés and the Eiffel Tower."),
    ("ko", "프랑스의 수도는 파리입니다."),
)
LLM_PROMPT = (
    "Here is a short passage. Read it and then answer the question after it.\n\n"
    "The river runs from the mountains in the north through three small towns before it reaches the sea. In "
    "spring the snow melts and the water rises quickly, so the towns built stone walls along the banks a long "
    "time ago. The oldest bridge, made of wood, was replaced by a steel one after a flood carried it away. "
    "Fishermen still use small boats near the mouth of the river, where the water is calm and wide. Every summer "
    "there is a festival with music, food and a race of rowing boats from the last town to the sea.\n\n"
    "Question: Describe the river and the towns in a few sentences."
)
UNRELATED = "Name three colours."
LLM_TOKENS = 48
NEXT_TURN = ("Answer briefly.", "Tell me about the history of Paris.", "And what about Lyon?")
"""System message, the question whose reply is cut short, and the next question."""
READ_AHEAD = ("Answer briefly.", "What is the capital city of France, and how many people live there?")
"""System message, and the question whose words are read ahead."""

Progress = Callable[[str], None]


@dataclass(frozen=True)
class SttRun:
    path: str
    """``fast`` (what a voice turn uses) or ``timed`` (segments with times; whisper's own 30 s windows)."""
    sentence: str
    transcript: str
    audio_seconds: float
    compute_seconds: float
    wer: float

    @property
    def real_time_factor(self) -> float:
        return self.compute_seconds / self.audio_seconds


@dataclass(frozen=True)
class LlmRun:
    path: str
    """``omni`` (``LLM.chat``) or ``llama.cpp`` (the runtime called directly)."""
    prompt_tokens: int
    first_token_seconds: float
    generated_tokens: int
    generation_seconds: float
    """From the first token to the last."""

    @property
    def prompt_tokens_per_second(self) -> float:
        return self.prompt_tokens / self.first_token_seconds

    @property
    def generation_tokens_per_second(self) -> float:
        return (self.generated_tokens - 1) / self.generation_seconds if self.generation_seconds > 0 else 0.0


@dataclass(frozen=True)
class PrefillRun:
    prefilled: bool
    """Whether the head start (the conversation as heard, the user's words) was prefilled before the question came."""
    first_token_seconds: float


@dataclass(frozen=True)
class TtsRun:
    language: str
    sentence: str
    first_audio_seconds: float
    compute_seconds: float
    audio_seconds: float

    @property
    def real_time_factor(self) -> float:
        return self.compute_seconds / self.audio_seconds


@dataclass(frozen=True)
class StageResults:
    stt: tuple[SttRun, ...]
    llm: tuple[LlmRun, ...]
    next_turn: tuple[PrefillRun, ...]
    words_ahead: tuple[PrefillRun, ...]
    tts: tuple[TtsRun, ...]

    def document(self) -> dict[str, Any]:
        """Every run, with the derived rates next to the raw times."""
        def rows(runs: Sequence[Any], *derived: str) -> list[dict[str, Any]]:
            return [{**asdict(run), **{name: getattr(run, name) for name in derived}} for run in runs]

        return {
            "stt": rows(self.stt, "real_time_factor"),
            "llm": rows(self.llm, "prompt_tokens_per_second", "generation_tokens_per_second"),
            "next_turn": rows(self.next_turn),
            "words_ahead": rows(self.words_ahead),
            "tts": rows(self.tts, "real_time_factor"),
        }


async def measure_stt(stt: STT, tts: TTS, *, runs: int, progress: Progress) -> list[SttRun]:
    results = []
    for sentence in STT_SENTENCES:
        spoken = await speak(tts, sentence, "en")
        audio = spoken.clip
        for path in ("fast", "timed"):
            await stt.transcribe(audio, language="en", timestamps=path == "timed")  # warm-up, not counted
            for _ in range(runs):
                start = time.perf_counter()
                transcript = await stt.transcribe(audio, language="en", timestamps=path == "timed")
                seconds = time.perf_counter() - start
                results.append(SttRun(path, sentence, transcript.text, len(audio) / INPUT_RATE, seconds,
                                      wer(sentence, transcript.text)))
            progress(f"stt {path:5s} {len(audio) / INPUT_RATE:4.1f} s of audio: "
                     f"{statistics.median(r.compute_seconds for r in results[-runs:]) * 1000:.0f} ms")
    return results


async def measure_llm(llm: LLM, *, runs: int, progress: Progress) -> list[LlmRun]:
    messages = [ChatMessage("user", LLM_PROMPT)]
    options = GenerationOptions(temperature=0.0, max_tokens=LLM_TOKENS)
    results = []
    for _ in range(runs):
        await _clear_cache(llm)
        results.append(await _through_omni(llm, messages, options))
        if isinstance(llm, LlamaLLM):
            await _clear_cache(llm)
            prompt = llm.render(messages)
            direct = asyncio.get_running_loop().run_in_executor(llm.thread, _direct, llm, prompt, options)
            results.append(await direct)
        latest = ", ".join(f"{r.path} {r.generation_tokens_per_second:.1f} tok/s" for r in results[-2:])
        progress(f"llm {latest}")
    return results


async def measure_next_turn(llm: LLM, *, runs: int, progress: Progress) -> list[PrefillRun]:
    system, question, follow_up = NEXT_TURN
    options = GenerationOptions(temperature=0.0, max_tokens=LLM_TOKENS)

    async def first_token(prefilled: bool) -> float:
        first = [ChatMessage("system", system), ChatMessage("user", question)]
        reply = "".join([e.text async for e in llm.chat(first, options=options) if isinstance(e, TextDelta)])
        words = reply.split()
        history = [*first, ChatMessage("assistant", " ".join(words[: len(words) // 2]))]  # as heard
        if prefilled:
            await llm.prefill(history)
        return (await _through_omni(llm, [*history, ChatMessage("user", follow_up)], options)).first_token_seconds

    return await _with_and_without(llm, first_token, runs=runs, progress=progress, label="llm next turn")


async def measure_words_ahead(llm: LLM, *, runs: int, progress: Progress) -> list[PrefillRun]:
    system, question = READ_AHEAD
    options = GenerationOptions(temperature=0.0, max_tokens=LLM_TOKENS)

    async def first_token(prefilled: bool) -> float:
        await llm.prefill([ChatMessage("system", system)])  # as every session does before its first turn
        if prefilled:
            await llm.prefill([ChatMessage("system", system)], user_words=settled_words(question))
        messages = [ChatMessage("system", system), ChatMessage("user", question)]
        return (await _through_omni(llm, messages, options)).first_token_seconds

    return await _with_and_without(llm, first_token, runs=runs, progress=progress, label="llm words read ahead")


async def _with_and_without(
    llm: LLM, first_token: Callable[[bool], Awaitable[float]], *, runs: int, progress: Progress, label: str
) -> list[PrefillRun]:
    """``first_token(prefilled)`` without and with its head start, ``runs`` times, each from a cleared cache."""
    results = []
    for _ in range(runs):
        for prefilled in (False, True):
            await _clear_cache(llm)
            results.append(PrefillRun(prefilled, await first_token(prefilled)))
        latest = ", ".join(f"{'prefilled' if r.prefilled else 'not prefilled'} {r.first_token_seconds * 1000:.0f} ms"
                           for r in results[-2:])
        progress(f"{label}: {latest}")
    return results


async def _clear_cache(llm: LLM) -> None:
    """An unrelated prompt, so the measured prompt is evaluated from its first token."""
    async with aclosing(llm.chat([ChatMessage("user", UNRELATED)], options=GenerationOptions(max_tokens=1))) as events:
        async for _ in events:
            pass


async def _through_omni(llm: LLM, messages: list[ChatMessage], options: GenerationOptions) -> LlmRun:
    start = time.perf_counter()
    first = last = None
    usage = Usage(0, 0)
    async with aclosing(llm.chat(messages, options=options)) as events:
        async for event in events:
            if isinstance(event, TextDelta):
                last = time.perf_counter()
                first = first or last
            elif isinstance(event, Usage):
                usage = event
    if first is None or last is None:
        raise RuntimeError("the LLM produced no text for the stage benchmark's prompt")
    return LlmRun("omni", usage.prompt_tokens, first - start, usage.completion_tokens, last - first)


def _direct(llm: LlamaLLM, prompt: str, options: GenerationOptions) -> LlmRun:
    start = time.perf_counter()
    stamps = []
    for _ in llm.llama.create_completion(prompt, max_tokens=options.max_tokens, temperature=options.temperature,
                                         stream=True):
        stamps.append(time.perf_counter())
    if not stamps:
        raise RuntimeError("llama.cpp produced no tokens for the stage benchmark's prompt")
    return LlmRun("llama.cpp", llm.count_tokens(prompt), stamps[0] - start, len(stamps), stamps[-1] - stamps[0])


async def measure_tts(tts: TTS, *, runs: int, progress: Progress) -> list[TtsRun]:
    results = []
    for language, sentence in TTS_SENTENCES:
        await _speak_timed(tts, language, sentence)  # warm-up, not counted
        for _ in range(runs):
            results.append(await _speak_timed(tts, language, sentence))
        progress(f"tts {language} {len(sentence)} characters: first audio "
                 f"{statistics.median(r.first_audio_seconds for r in results[-runs:]) * 1000:.0f} ms")
    return results


async def _speak_timed(tts: TTS, language: str, sentence: str) -> TtsRun:
    start = time.perf_counter()
    first: float | None = None
    audio = 0.0
    async with aclosing(tts.synthesize(sentence, language=language)) as chunks:
        async for chunk in chunks:
            first = first if first is not None else time.perf_counter() - start
            audio += chunk.duration
    if first is None or audio == 0:
        raise RuntimeError(f"the TTS produced no audio for {sentence!r}")
    return TtsRun(language, sentence, first, time.perf_counter() - start, audio)


async def run(
    stt: STT, llm: LLM, tts: TTS, *, runs: int, progress: Progress, voice: TTS | None = None
) -> StageResults:
    """``voice`` speaks the STT sentences (default ``tts``, the voice measured)."""
    return StageResults(
        stt=tuple(await measure_stt(stt, voice or tts, runs=runs, progress=progress)),
        llm=tuple(await measure_llm(llm, runs=runs, progress=progress)),
        next_turn=tuple(await measure_next_turn(llm, runs=runs, progress=progress)),
        words_ahead=tuple(await measure_words_ahead(llm, runs=runs, progress=progress)),
        tts=tuple(await measure_tts(tts, runs=runs, progress=progress)),
    )


def format_stages(results: StageResults) -> str:
    """The medians, one table per stage."""
    med = statistics.median
    lines = ["STT (English, spoken by the voice)       audio   compute    RTF    WER"]
    for sentence in STT_SENTENCES:
        for path in ("fast", "timed"):
            stt_runs = [r for r in results.stt if r.sentence == sentence and r.path == path]
            if stt_runs:
                lines.append(f"  {path:5s} {_cell(sentence, 32)} {stt_runs[0].audio_seconds:5.1f} s "
                             f"{med(r.compute_seconds for r in stt_runs) * 1000:6.0f} ms "
                             f"{med(r.real_time_factor for r in stt_runs):6.3f} {med(r.wer for r in stt_runs):6.2f}")
    lines.append("")
    lines.append("LLM (greedy)            prompt tok  first token  prompt tok/s  generation tok/s")
    for path in ("omni", "llama.cpp"):
        llm_runs = [r for r in results.llm if r.path == path]
        if llm_runs:
            first_ms = med(r.first_token_seconds for r in llm_runs) * 1000
            lines.append(f"  {path:20s} {llm_runs[0].prompt_tokens:10d} {first_ms:9.0f} ms"
                         f" {med(r.prompt_tokens_per_second for r in llm_runs):13.0f}"
                         f" {med(r.generation_tokens_per_second for r in llm_runs):17.1f}")
    lines.append("")
    for title, runs, head_start in (("LLM, the next turn after a reply cut short", results.next_turn,
                                     "history as heard prefilled"),
                                    ("LLM, a question after its words were read ahead", results.words_ahead,
                                     "all words but the last prefilled")):
        lines.append(f"{title:48s} first token")
        for prefilled in (False, True):
            turns = [r for r in runs if r.prefilled == prefilled]
            if turns:
                name = head_start if prefilled else "not prefilled"
                lines.append(f"  {name:42s} {med(r.first_token_seconds for r in turns) * 1000:8.0f} ms")
        lines.append("")
    lines.append("TTS                                      first audio   audio      RTF")
    for language, sentence in TTS_SENTENCES:
        tts_runs = [r for r in results.tts if r.sentence == sentence]
        if tts_runs:
            first_ms = med(r.first_audio_seconds for r in tts_runs) * 1000
            lines.append(f"  {language} {_cell(sentence, 36)} {first_ms:8.0f} ms"
                         f" {tts_runs[0].audio_seconds:5.1f} s {med(r.real_time_factor for r in tts_runs):8.3f}")
    return "\n".join(lines)


def _cell(text: str, width: int) -> str:
    """The text cut and padded to a terminal width, counting wide (Hangul, CJK) characters as two columns."""
    def columns(t: str) -> int:
        return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in t)

    if columns(text) > width:
        while columns(text) > width - 1:
            text = text[:-1]
        text += "…"
    return text + " " * (width - columns(text))
