"""Whether the sound of speech tells a finished turn from a pause inside one: :mod:`omni.audio.prosody` measured.

A kept set of English and Korean sentences, each with marked places where a speaker could pause ("I'd like a
coffee | with oat milk | please."), is spoken in one go by each voice at two speeds: English by the Piper voice and by
espeak-ng, Korean by the Kokoro voice (through the language-routing TTS, as Omni speaks) and by espeak-ng. Each
rendering gives one finished case (the whole sentence) and one unfinished case per mark: the same rendering cut where
whisper's word timestamps put that word boundary (moved to the quietest 20 ms nearby:
:func:`omni.bench.turn_audio.find_cuts`), so the speech before the cut keeps the continuing prosody of the sentence
and is not a finished fragment. Every case ends in :data:`PAUSE_S` of silence over a low noise floor, as the session
hands it over at a pause. The two human recordings the tests use (JFK's "ask not" sentence, CMU ARCTIC a0007) are cut
the same way when they are in the test fixture cache.

For each case the bench records the cues, the transcript whisper makes of the audio up to the pause (what the session
reads), the LLM's end-of-turn probability for it and the words' verdict (:func:`omni.session.end_of_turn.verdict`).
It reports, per voice and language: each cue's distribution for finished and unfinished cases, its AUC (0.5 is
chance; the direction expected of finished speech counts as above 0.5, so below 0.5 is the opposite) and the
balanced accuracy (the mean of the two classes' hit rates) at the best threshold in that direction; then the same
within the cases the words leave ``complete`` or ``unsure``, where prosody could change a decision; and what some ways
of combining the score with the verdict would do to the silence waited.

    python -m omni.bench.prosody_cues              # render (cached), transcribe (cached), report
    python -m omni.bench.prosody_cues --timing     # only the cost of one call on a 3 s utterance
    python -m omni.bench.prosody_cues --fit        # also fit the score's weights on the tuning sentences

TTS voices are not people: their prosody is learned (Piper, Kokoro) or rule-made (espeak-ng), the cut cases are the
rendering of a whole sentence cut in two (a person who pauses mid-sentence also lengthens or holds the word before the
pause, which a cut does not), and the renderings are clean. What holds here is what a cue can do at best on that kind
of voice; the two human recordings are too few to say more than whether they agree. Renderings, word timestamps,
transcripts and probabilities are cached (``--cache``), so a rerun after a change to the cues takes seconds; Piper
speaks with its random variation when ``tts.variation`` is on (the default), so a fresh cache hears slightly other
renderings. Espeak-ng's Korean is read by whisper as nonsense, so the words' verdicts of that voice mean little.

What it found (the first full run: 160 renderings, 380 cases): the score's AUC is 0.90 (77 finished / 60 cut) where
the words say ``complete`` or ``unsure`` and the transcript is not a question (0.90 on the tuning and the held-out
sentences alike); 0.90-0.91 over English statements; 0.66 over every case, since questions rise (AUC 0.25 on them)
and Korean voices fall at phrase ends inside a sentence (Kokoro 0.70). Of the cues, the final pitch against the median
(0.87 there) and the slope (0.85) carry most; lengthening nothing. Using the score only as a brake (``complete``
waits as ``unsure`` when it is below 0.5, questions left alone) cut the unfinished cases answered after the shortest
wait from 33 % to 19 % (held-out: 35 % to 22 %) and lengthened the wait of 2 of 160 finished cases. JFK's pause
after "And so my fellow Americans," scores 0.999: a person can end a phrase like a turn, so the score is not used to
shorten a wait.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import hashlib
import json
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import aclosing
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from omni.audio import prosody
from omni.audio.resample import resample
from omni.audio.silence import last_sound
from omni.backends.base import TTS
from omni.bench import turn_audio
from omni.bench.turn_audio import MARK, Word, find_cuts, spoken_text
from omni.types import Samples

RATE = prosody.SAMPLE_RATE
PAUSE_S = 0.4
"""Silence after the last word of every case: about what the session has heard when it reads a pause."""
NOISE_DBFS = -65.0
"""A quiet microphone's noise floor, under every case."""
SPEEDS = (1.0, 0.8)
"""Each voice at its own pace and slower (a multiple of the pace: 0.8 is 25 % longer)."""
FADE_S = 0.008
WINDOW_S = [prosody.WINDOW_S]
"""The analysis window the cues are measured with (``--window``)."""

SENTENCES: dict[str, tuple[str, ...]] = {
    "en": (
        "I'd like a coffee | with oat milk | please.",
        "Turn on the lights | in the kitchen.",
        "Can you remind me to call my mother | tomorrow morning?",
        "What's the weather like | in Seoul | this weekend?",
        "Book me a table at | the Italian restaurant | near the station.",
        "I need to buy eggs | and bread | and a bottle of milk.",
        "Do you know | when the next train | leaves for Busan?",
        "My flight lands at seven | so I will be home | around nine.",
        "Tell me a joke | about cats.",
        "Set a timer | for ten minutes.",
        "I was thinking | we could go to the beach | on Saturday.",
        "How long does it take | to drive to the airport?",
        "Send a message to Sarah | saying I will be late.",
        "Play some music | that helps me focus.",
    ),
    "ko": (
        "내일 아침 일곱 시에 | 깨워 주세요.",
        "커피 한 잔 | 주세요.",
        "저는 서울에서 태어났지만 | 지금은 부산에 | 살고 있어요.",
        "주말에 친구들이랑 | 영화를 보러 | 갈 거예요.",
        "이 근처에 | 지하철역이 있나요?",
        "비가 올 것 같으니까 | 우산을 꼭 | 챙기세요.",
        "오늘 날씨가 | 정말 좋네요.",
        "회의는 오후 세 시에 | 시작합니다.",
        "창문 좀 | 닫아 주실 수 있어요?",
        "어제 본 드라마가 | 너무 재미있었어요.",
        "배고파요 | 그래서 라면을 | 끓였어요.",
        "집에 왔어요 | 근데 아무도 없었어요.",
        "엄마한테 전화하라고 | 알려 줘.",
        "다음 주 화요일에 | 병원 예약이 | 있어요.",
    ),
}
"""The tuning set: requests, statements and questions; some cuts leave words that read as finished ("Turn on the
lights", "배고파요"), others plainly go on ("Book me a table at", "주말에 친구들이랑")."""

HELD_OUT: dict[str, tuple[str, ...]] = {
    "en": (
        "Open the window | in the bedroom.",
        "Is it going to rain | today?",
        "Call my brother | and tell him | I'm on my way.",
        "I want to learn Korean | because my wife is from Busan.",
        "Where did I park | my car?",
        "Add milk to the list | and remind me tonight.",
    ),
    "ko": (
        "도서관은 | 몇 시에 문을 닫나요?",
        "할머니 생신이라서 | 케이크를 | 주문했어요.",
        "길이 많이 막히니까 | 지하철을 타는 게 | 좋겠어요.",
        "오늘은 일이 많아요 | 그래서 늦게 들어갈 것 같아요.",
        "저녁에 | 뭐 먹고 싶어요?",
        "이 버스는 | 시청으로 가나요?",
    ),
}
"""Sentences the score's weights were not set on."""

HUMAN: tuple[tuple[str, str], ...] = (
    ("jfk.wav", "And so my fellow Americans, | ask not | what your country can do for you, | ask what you can do "
                "| for your country."),
    ("arctic_a0007.wav", "And you always want to see it | in the superlative degree."),
)
"""The tests' human recordings (tests/human_speech.py), read from its cache folder, and where they may be cut."""

CUE_NAMES = ("f0_slope", "f0_final", "f0_final_st", "energy_drop_db", "lengthening", "finished")
HIGHER_IS_FINISHED = {"f0_slope": False, "f0_final": False, "f0_final_st": False, "energy_drop_db": False,
                      "lengthening": True, "finished": True}
"""The direction expected of a finished turn: a fall, a low end, a quieter end, a drawn-out last syllable."""


@dataclass(frozen=True)
class Case:
    group: str
    """Voice and language ("piper en")."""
    speed: float
    sentence: str
    held_out: bool
    cut: int
    """Which mark the case is cut at (0 is the first); -1 for the whole sentence."""
    finished: bool
    said: str
    """The words up to the cut, as written."""
    transcript: str
    probability: float | None
    verdict: str
    cut_method: str
    cues: prosody.ProsodyCues


# ---- making the cases ------------------------------------------------------------------------------------------

def fade_out(samples: Samples) -> Samples:
    out = samples.astype(np.float32).copy()
    count = min(round(FADE_S * RATE), out.size)
    if count:
        out[-count:] *= np.linspace(1.0, 0.0, count, dtype=np.float32)
    return out


def with_pause(speech: Samples, seed: int) -> Samples:
    """``speech`` then :data:`PAUSE_S` of silence, all over the noise floor."""
    audio = np.concatenate([fade_out(speech), np.zeros(round(PAUSE_S * RATE), np.float32)])
    noise = np.random.default_rng(seed).standard_normal(audio.size) * 10 ** (NOISE_DBFS / 20)
    return (audio + noise).astype(np.float32)


def words_before(sentence: str, cut: int) -> str:
    parts = sentence.split(MARK)
    return spoken_text(MARK.join(parts[: cut + 1])) if cut >= 0 else spoken_text(sentence)


def split_rendering(sentence: str, language: str, audio: Samples, words: Sequence[Word],
                    seed: int) -> list[tuple[int, Samples, str]]:
    """(cut, case audio at 16 kHz, how the cut was placed) for the whole sentence (cut -1) and each mark."""
    level = turn_audio.at_level(resample(audio, RATE, turn_audio.RATE), turn_audio.USER_DBFS)
    end = last_sound(level)
    if end is None:
        raise ValueError(f"no audible speech in the rendering of {sentence!r}")
    cases: list[tuple[int, Samples, str]] = []
    whole = resample(level[: end + 1], turn_audio.RATE, RATE)
    cases.append((-1, with_pause(whole, seed), "end"))
    for index, cut in enumerate(find_cuts(sentence, language, level, words)):
        part = resample(level[: cut.at], turn_audio.RATE, RATE)
        cases.append((index, with_pause(part, seed + index + 1), f"{cut.method} {cut.quality:.2f}"))
    return cases


async def render(tts: TTS, text: str, language: str, speed: float) -> Samples:
    """All of ``text`` spoken by ``tts`` at ``speed``, at 16 kHz."""
    pieces: list[Samples] = []
    rate = tts.sample_rate
    async with aclosing(tts.synthesize(text, language=language, speed=speed)) as chunks:
        async for chunk in chunks:
            pieces.append(chunk.samples)
            rate = chunk.sample_rate
    if not pieces:
        raise ValueError(f"the TTS made no audio for {text!r}")
    return resample(np.concatenate(pieces), rate, RATE)


class Cache:
    """Renderings (``.npy``) and a JSON table of word timestamps, transcripts and LLM probabilities."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder.expanduser()
        self.folder.mkdir(parents=True, exist_ok=True)
        self._table_path = self.folder / "table.json"
        self.table: dict[str, Any] = (json.loads(self._table_path.read_text(encoding="utf-8"))
                                      if self._table_path.is_file() else {})

    @staticmethod
    def key(*parts: object) -> str:
        return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()[:24]

    def audio(self, key: str, make: Callable[[], Samples]) -> Samples:
        path = self.folder / f"{key}.npy"
        if path.is_file():
            return np.asarray(np.load(path), dtype=np.float32)
        audio = make()
        np.save(path, audio.astype(np.float32))
        return audio

    def value(self, key: str, make: Callable[[], Any]) -> Any:
        if key not in self.table:
            self.table[key] = make()
        return self.table[key]

    def save(self) -> None:
        self._table_path.write_text(json.dumps(self.table, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")


@dataclass
class Models:
    """What a run needs loaded; built lazily so a fully cached run loads no model."""

    settings: Any
    _voices: dict[str, TTS] | None = None
    _stt: Any = None
    _llm: Any = None

    def voice(self, name: str) -> TTS:
        if self._voices is None:
            from omni.backends import espeak_tts, language_tts

            routed = language_tts.create(self.settings)
            self._voices = {"piper": routed, "kokoro": routed, "espeak-ng": espeak_tts.create(self.settings)}
        return self._voices[name]

    @property
    def stt(self) -> Any:
        if self._stt is None:
            from omni.backends import registry

            self._stt = registry.create("stt", "whisper", self.settings)
        return self._stt

    def words(self, audio: Samples, language: str) -> list[list[Any]]:
        segments, _ = self.stt._whisper.transcribe(  # faster-whisper's own path: it times words
            audio, language=language, beam_size=1, vad_filter=False, condition_on_previous_text=False,
            word_timestamps=True)
        return [[w.word, float(w.start), float(w.end)] for segment in segments for w in (segment.words or ())]

    def transcript(self, audio: Samples, language: str) -> str:
        return str(self.stt.transcribe_blocking(audio, language).text)

    def probability(self, text: str) -> float | None:
        if self._llm is None:
            from omni.backends import registry

            self._llm = registry.create("llm", self.settings.llm.backend, self.settings)
        from omni.types import ChatMessage

        history = [ChatMessage("system", "You are Omni, a helpful voice assistant.")]
        result = asyncio.run(self._llm.end_of_turn(history, user_words=text)) if text.strip() else None
        return None if result is None else float(result)


VOICES = {"en": ("piper", "espeak-ng"), "ko": ("kokoro", "espeak-ng")}


def speak(models: Models, voice: str, sentence: str, language: str, speed: float) -> Samples:
    return asyncio.run(render(models.voice(voice), spoken_text(sentence), language, speed))


def build_cases(models: Models, cache: Cache, *, use_llm: bool, log: Callable[[str], None]) -> list[Case]:
    from omni.session.end_of_turn import verdict

    cases: list[Case] = []
    jobs = [(language, sentence, held_out, voice, speed)
            for held_out, table in ((False, SENTENCES), (True, HELD_OUT))
            for language, sentences in table.items() for sentence in sentences
            for voice in VOICES[language] for speed in SPEEDS]
    for number, (language, sentence, held_out, voice, speed) in enumerate(jobs):
        key = cache.key("render", voice, language, speed, sentence)
        audio = cache.audio(key, functools.partial(speak, models, voice, sentence, language, speed))
        cases += _cases_of(models, cache, key, f"{voice} {language}", language, sentence, held_out, speed, audio,
                           use_llm, verdict)
        if number % 10 == 9:
            cache.save()
            log(f"  {number + 1}/{len(jobs)} renderings")
    cases += human_cases(models, cache, use_llm, verdict)
    cache.save()
    return cases


def human_cases(models: Models, cache: Cache, use_llm: bool, verdict: Callable[..., str]) -> list[Case]:
    import os

    import soundfile as sf

    folder = Path(os.environ.get("OMNI_TEST_FIXTURES") or Path.home() / ".cache" / "omni" / "test-fixtures")
    cases: list[Case] = []
    for name, sentence in HUMAN:
        path = folder / name
        if not path.is_file():
            continue
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
        audio = resample(np.ascontiguousarray(data.mean(axis=1)), int(rate), RATE)
        key = cache.key("human", name)
        cases += _cases_of(models, cache, key, "human en", "en", sentence, True, 1.0, audio, use_llm, verdict)
    return cases


def _cases_of(models: Models, cache: Cache, key: str, group: str, language: str, sentence: str, held_out: bool,
              speed: float, audio: Samples, use_llm: bool, verdict: Callable[..., str]) -> list[Case]:
    raw = cache.value(f"{key}:words", lambda: models.words(audio, language))
    words = [Word(str(w), float(s), float(e)) for w, s, e in raw]
    out: list[Case] = []
    seed = int(key[:6], 16)
    for cut, case_audio, method in split_rendering(sentence, language, audio, words, seed):
        heard = str(cache.value(f"{key}:{cut}:transcript", functools.partial(models.transcript, case_audio, language)))
        probability = cache.value(f"llm:{heard}", functools.partial(models.probability, heard)) if use_llm else None
        out.append(Case(group, speed, sentence, held_out, cut, cut < 0, words_before(sentence, cut), heard,
                        probability, verdict(heard, probability), method,
                        prosody.prosody_cues(case_audio, window_s=WINDOW_S[0])))
    return out


# ---- statistics ------------------------------------------------------------------------------------------------

def auc(finished: Sequence[float], unfinished: Sequence[float], higher_is_finished: bool = True) -> float | None:
    """The probability that a finished case's value lies on the finished side of an unfinished one's (ties half)."""
    if not finished or not unfinished:
        return None
    a = np.asarray(finished, dtype=np.float64)[:, None]
    b = np.asarray(unfinished, dtype=np.float64)[None, :]
    wins = (a > b).mean() + 0.5 * (a == b).mean()
    return float(wins if higher_is_finished else 1.0 - wins)


def best_threshold(finished: Sequence[float], unfinished: Sequence[float],
                   higher_is_finished: bool = True) -> tuple[float, float] | None:
    """(threshold, balanced accuracy) of the best "finished when on that side of the threshold" rule."""
    if not finished or not unfinished:
        return None
    sign = 1.0 if higher_is_finished else -1.0
    a = sign * np.asarray(finished, dtype=np.float64)
    b = sign * np.asarray(unfinished, dtype=np.float64)
    candidates = np.unique(np.concatenate([a, b]))
    best = (float("nan"), 0.0)
    for threshold in candidates:
        accuracy = 0.5 * (float((a >= threshold).mean()) + float((b < threshold).mean()))
        if accuracy > best[1]:
            best = (float(sign * threshold), accuracy)
    return best


def values(cases: Iterable[Case], cue: str, finished: bool) -> list[float]:
    out = []
    for case in cases:
        if case.finished == finished:
            value = getattr(case.cues, cue)
            if value is not None:
                out.append(float(value))
    return out


def quartiles(xs: Sequence[float]) -> str:
    if not xs:
        return "—"
    q1, q2, q3 = np.percentile(xs, [25, 50, 75])
    return f"{q2:7.2f} [{q1:6.2f}, {q3:6.2f}]"


def cue_table(cases: Sequence[Case], title: str, out: Callable[[str], None]) -> dict[str, Any]:
    n_fin = sum(c.finished for c in cases)
    missing = sum(c.cues.finished is None for c in cases)
    out(f"\n{title}: {n_fin} finished, {len(cases) - n_fin} unfinished ({missing} without a score)")
    out(f"  {'cue':<15} {'finished: median [IQR]':>26} {'unfinished: median [IQR]':>26} {'AUC':>5} "
        f"{'best':>8} {'bal.acc':>7}")
    summary: dict[str, Any] = {}
    for cue in CUE_NAMES:
        fin, unf = values(cases, cue, True), values(cases, cue, False)
        direction = HIGHER_IS_FINISHED[cue]
        a = auc(fin, unf, direction)
        best = best_threshold(fin, unf, direction)
        summary[cue] = {"auc": a, "threshold": best[0] if best else None, "accuracy": best[1] if best else None,
                        "finished": len(fin), "unfinished": len(unf)}
        out(f"  {cue:<15} {quartiles(fin):>26} {quartiles(unf):>26} "
            f"{'—' if a is None else f'{a:.2f}':>5} {'—' if best is None else f'{best[0]:.2f}':>8} "
            f"{'—' if best is None else f'{best[1]:.2f}':>7}")
    return summary


# ---- combining the score with the words' verdict ---------------------------------------------------------------

BRAKE = 0.5
"""Below this score the voice has not ended: a brake on a verdict that would answer soon."""
PROMOTE = 0.8
"""At or above this score an ``unsure`` verdict is taken as ``complete`` (the policy shown for comparison)."""


def is_question(case: Case) -> bool:
    """A question rises at its end in both languages: its pitch says nothing about being finished."""
    return case.transcript.strip().endswith(("?", "？"))


def prosody_counts(case: Case) -> bool:
    """Where the score may change a decision: the words say ``complete`` or ``unsure``, and not of a question."""
    return case.verdict in ("complete", "unsure") and not is_question(case) and case.cues.finished is not None


@dataclass(frozen=True)
class Policy:
    name: str
    decide: Callable[[Case], str]
    """The verdict whose wait the case gets."""


def _brake(case: Case) -> str:
    if prosody_counts(case) and case.verdict == "complete" and case.cues.finished is not None \
            and case.cues.finished < BRAKE:
        return "unsure"
    return case.verdict


def _brake_both(case: Case) -> str:
    if prosody_counts(case) and case.cues.finished is not None and case.cues.finished < BRAKE:
        return "unsure" if case.verdict == "complete" else "unfinished"
    return case.verdict


def _promote(case: Case) -> str:
    if prosody_counts(case) and case.verdict == "unsure" and case.cues.finished is not None \
            and case.cues.finished >= PROMOTE:
        return "complete"
    return case.verdict


POLICIES = (
    Policy("words only", lambda case: case.verdict),
    Policy(f"brake: complete -> unsure when score < {BRAKE}", _brake),
    Policy(f"brake both: also unsure -> unfinished when < {BRAKE}", _brake_both),
    Policy(f"promote: unsure -> complete when score >= {PROMOTE}", _promote),
)
"""Ways to use the score beside the words; none touches a question or a verdict of ``unfinished``."""


def policy_table(cases: Sequence[Case], out: Callable[[str], None], eagerness: str = "medium") -> None:
    from omni.session.end_of_turn import WAITS

    waits = WAITS[eagerness]
    fin = [c for c in cases if c.finished]
    unf = [c for c in cases if not c.finished]
    out(f"  {'policy (' + eagerness + ' waits)':<56} {'finished: mean wait':>19} {'longer':>7} "
        f"{'unfinished: at ' + str(waits.complete) + ' ms':>22} {'<= ' + str(waits.unsure) + ' ms':>10}")
    base = {id(c): waits.for_verdict(c.verdict) for c in cases}  # type: ignore[arg-type]
    for policy in POLICIES:
        fin_waits = [waits.for_verdict(policy.decide(c)) for c in fin]  # type: ignore[arg-type]
        unf_waits = [waits.for_verdict(policy.decide(c)) for c in unf]  # type: ignore[arg-type]
        longer = sum(w > base[id(c)] for w, c in zip(fin_waits, fin, strict=True))
        soonest = sum(w <= waits.complete for w in unf_waits)
        early = sum(w <= waits.unsure for w in unf_waits)
        out(f"  {policy.name:<56} {statistics.mean(fin_waits) if fin_waits else 0:>16.0f} ms {longer:>7} "
            f"{soonest:>12}/{len(unf_waits):<4}({soonest / max(len(unf_waits), 1):4.0%}) "
            f"{early / max(len(unf_waits), 1):>8.0%}")


def verdict_table(cases: Sequence[Case], out: Callable[[str], None]) -> None:
    out(f"  {'verdict':<11} {'finished':>8} {'unfinished':>10}  score AUC there")
    for v in ("complete", "unsure", "unfinished"):
        these = [c for c in cases if c.verdict == v]
        fin, unf = values(these, "finished", True), values(these, "finished", False)
        a = auc(fin, unf)
        out(f"  {v:<11} {sum(c.finished for c in these):>8} {sum(not c.finished for c in these):>10}  "
            f"{'—' if a is None else f'{a:.2f}'}")
    asked = [c for c in cases if c.verdict in ("complete", "unsure") and is_question(c)]
    a = auc(values(asked, "finished", True), values(asked, "finished", False))
    out(f"  of complete and unsure, ending in '?': {sum(c.finished for c in asked)} finished, "
        f"{sum(not c.finished for c in asked)} unfinished, score AUC {'—' if a is None else f'{a:.2f}'} "
        "(questions rise)")
    bare = [c for c in cases if c.finished and not c.transcript.strip().endswith((".", "?", "!", "。", "？", "！"))]
    out(f"  finished cases whisper wrote without a final mark: {len(bare)} of {sum(c.finished for c in cases)}, "
        f"{sum(c.verdict == 'unfinished' for c in bare)} of them judged unfinished by the words")


# ---- fitting the score's weights -------------------------------------------------------------------------------

FIT_CUES = ("f0_slope", "f0_final", "energy_drop_db", "lengthening")
_WEIGHT_FIELD = {"f0_slope": "slope", "f0_final": "final", "energy_drop_db": "energy", "lengthening": "lengthening"}


def fit_weights(cases: Sequence[Case], *, l2: float = 1.0, steps: int = 3000) -> prosody.Weights:
    """Logistic regression of finished on the cues (standardised, a missing cue at its centre), classes balanced."""
    usable = [c for c in cases if c.cues.finished is not None]
    matrix = np.array([[getattr(c.cues, cue) if getattr(c.cues, cue) is not None else np.nan for cue in FIT_CUES]
                       for c in usable], dtype=np.float64)
    centre = np.nanmedian(matrix, axis=0)
    scale = np.nanstd(matrix, axis=0) + 1e-9
    x = np.nan_to_num((matrix - centre) / scale)
    y = np.array([c.finished for c in usable], dtype=np.float64)
    weight = np.where(y > 0, 0.5 / max(y.mean(), 1e-9), 0.5 / max(1 - y.mean(), 1e-9))
    w, b = np.zeros(x.shape[1]), 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(x @ w + b)))
        g = weight * (p - y)
        w -= 0.1 * (x.T @ g / len(y) + l2 * w / len(y))
        b -= 0.1 * float(g.mean())
    parts = {_WEIGHT_FIELD[cue]: (round(float(w[i]), 2), round(float(centre[i]), 2), round(float(scale[i]), 2))
             for i, cue in enumerate(FIT_CUES)}
    return prosody.Weights(bias=round(b, 2), **parts)


def rescored(cases: Sequence[Case], weights: prosody.Weights) -> list[Case]:
    out = []
    for case in cases:
        s = prosody.score(case.cues, weights)
        out.append(replace(case, cues=replace(case.cues, finished=None if s is None else round(s, 3))))
    return out


# ---- cost ------------------------------------------------------------------------------------------------------

def timing(seconds: float = 3.0, calls: int = 30) -> tuple[float, float]:
    """(median, 90th percentile) ms of one :func:`prosody.prosody_cues` call on ``seconds`` of espeak-ng speech."""
    from omni.backends.espeak_tts import EspeakTTS

    text = "I was thinking we could go to the beach on Saturday, if the weather is nice and warm."
    audio = asyncio.run(render(EspeakTTS(), text, "en", 1.0))
    clip = np.zeros(round(seconds * RATE), np.float32)
    clip[: min(clip.size, audio.size)] = audio[: clip.size]
    prosody.warm_up()
    spent = []
    for _ in range(calls):
        start = time.perf_counter()
        prosody.prosody_cues(clip)
        spent.append(1000 * (time.perf_counter() - start))
    return float(np.median(spent)), float(np.percentile(spent, 90))


# ---- the report ------------------------------------------------------------------------------------------------

def summary(cases: Sequence[Case], groups: Sequence[str], out: Callable[[str], None]) -> None:
    """The score's AUC by voice, tuning and held-out sentences together: every case, statements only (the
    sentence does not end in '?'), and where it may change a decision (:func:`prosody_counts`)."""
    out("\n=== summary: the score's AUC (finished / unfinished cases), tuning and held-out sentences together ===")
    out(f"  {'voice':<14} {'every case':>17} {'statements':>17} {'words complete/unsure, no ?':>29}")
    for group in [*groups, "all TTS voices"]:
        these = [c for c in cases if group == "all TTS voices" or c.group == group]
        cells = []
        for part in (these, [c for c in these if not c.sentence.strip().endswith("?")],
                     [c for c in these if prosody_counts(c)]):
            fin, unf = values(part, "finished", True), values(part, "finished", False)
            a = auc(fin, unf)
            cells.append(f"{'—' if a is None else f'{a:.2f}'} ({len(fin)}/{len(unf)})")
        out(f"  {group:<14} {cells[0]:>17} {cells[1]:>17} {cells[2]:>29}")


def report(cases: Sequence[Case], out: Callable[[str], None]) -> None:
    groups = sorted({c.group for c in cases if not c.group.startswith("human")})
    for held_out in (False, True):
        part = [c for c in cases if c.held_out == held_out and not c.group.startswith("human")]
        out(f"\n=== {'held-out' if held_out else 'tuning'} sentences: every case ===")
        for group in groups:
            these = [c for c in part if c.group == group]
            if these:
                cue_table(these, group, out)
        cue_table(part, "all TTS voices", out)
    for held_out in (False, True):
        part = [c for c in cases if c.held_out == held_out and not c.group.startswith("human") and prosody_counts(c)]
        out(f"\n=== {'held-out' if held_out else 'tuning'} sentences: where the words say complete or unsure, "
            "not of a question ===")
        for group in groups:
            these = [c for c in part if c.group == group]
            if these:
                cue_table(these, group, out)
        cue_table(part, "all TTS voices", out)
    tts = [c for c in cases if not c.group.startswith("human")]
    out("\n=== the words' verdict, and the score within each verdict (all TTS cases) ===")
    for group in groups:
        these = [c for c in tts if c.group == group]
        if these:
            out(f"{group}:")
            verdict_table(these, out)
    out("all TTS voices:")
    verdict_table(tts, out)
    for held_out in (False, True):
        out(f"\n=== combining with the words, {'held-out' if held_out else 'tuning'} sentences, all TTS voices ===")
        policy_table([c for c in tts if c.held_out == held_out], out)
    summary(tts, groups, out)
    human = [c for c in cases if c.group.startswith("human")]
    if human:
        out("\n=== the human recordings (too few for statistics: each case) ===")
        for c in human:
            braked, promoted = _brake(c), _promote(c)
            change = (f" -> brake: {braked}" if braked != c.verdict else "") + \
                     (f" -> promote: {promoted}" if promoted != c.verdict else "")
            out(f"  {'finished  ' if c.finished else 'unfinished'} {c.verdict:<10} score {c.cues.finished}  "
                f"slope {c.cues.f0_slope}  final {c.cues.f0_final}  energy {c.cues.energy_drop_db}{change}"
                f"  | {c.transcript}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m omni.bench.prosody_cues",
                                     description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "omni" / "prosody-cues",
                        help="renderings, word timestamps, transcripts and probabilities kept between runs")
    parser.add_argument("--no-llm", action="store_true",
                        help="verdicts from the rules and whisper's punctuation only (no LLM probability)")
    parser.add_argument("--fit", action="store_true", help="fit the score's weights on the tuning sentences")
    parser.add_argument("--timing", action="store_true", help="only time one call on a 3 s utterance")
    parser.add_argument("--window", type=float, default=prosody.WINDOW_S,
                        help="seconds of speech before the pause analysed (default: the module's)")
    parser.add_argument("--json", type=Path, help="write every case here")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    WINDOW_S[0] = args.window

    def out(line: str) -> None:
        print(line, flush=True)

    median, p90 = timing()
    out(f"cost: {median:.1f} ms a call on a 3 s utterance (90th percentile {p90:.1f} ms), "
        f"{prosody.WINDOW_S} s analysed")
    if args.timing:
        return 0
    from omni.config import load_settings

    settings = load_settings()
    cases = build_cases(Models(settings), Cache(args.cache), use_llm=not args.no_llm, log=out)
    out("TTS voices are not people: learned (Piper, Kokoro) or rule-made (espeak-ng) prosody, clean audio, and the "
        "unfinished cases are whole renderings cut at a word boundary.")
    if args.fit:
        weights = fit_weights([c for c in cases if not c.held_out])
        out(f"\nfitted on the tuning sentences: {weights}")
        cases = rescored(cases, weights)
    report(cases, out)
    if args.json:
        rows = [{**{f.name: getattr(c, f.name) for f in fields(c) if f.name != "cues"},
                 **{f"cue_{name}": value for name, value in asdict(c.cues).items()}} for c in cases]
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

