"""How well Korean speech output can be understood: Korean sentences voiced, then heard back by Omni's whisper.

Each sentence is spoken by a voice variant (the Kokoro voice with one phoneme mapping, style, pace and way of
splitting, or espeak-ng for comparison), resampled to 16 kHz and transcribed by the configured whisper model with
the language fixed to Korean. The score is the character error rate over the Hangul (and digits) of all sentences
together — spaces and punctuation are left out, because whisper's spacing of Korean is its own and no listener
hears a comma. A sentence with a number written in words is also right when whisper writes the number in digits
(its ``alternates``). First-audio time is how long the voice took to its first chunk.

    python -m omni.bench.korean_voice                  # the default Kokoro voice and espeak-ng
    python -m omni.bench.korean_voice --variants all   # every variant (docs/languages.md, "Korean voice")

This is a measurement of the voice through one recogniser, not of how people hear it: whisper base knows Korean
from real speakers and forgives some sounds and not others.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from omni.audio.resample import resample
from omni.backends.kokoro_tts import DEFAULT_STYLE, KOREAN_SPEED, LONGEST_PAUSE, PAUSES, KokoroTTS, clauses
from omni.text import korean_ipa
from omni.text.chunking import SpeakableChunker, voiced
from omni.text.korean_ipa import KokoroMapping, with_mapping
from omni.text.korean_normalize import normalize_korean
from omni.text.wer import edit_distance
from omni.types import Samples


@dataclass(frozen=True)
class Sentence:
    text: str
    alternates: tuple[str, ...] = ()
    """The same words as whisper may write them (numbers in digits); the closest one counts."""


SENTENCES: tuple[Sentence, ...] = (
    Sentence("안녕하세요, 만나서 반갑습니다."),
    Sentence("오늘 날씨가 정말 좋네요."),
    Sentence("지금 몇 시예요?"),
    Sentence("내일 아침 일곱 시에 깨워 주세요.", ("내일 아침 7시에 깨워 주세요.",)),
    Sentence("이 근처에 지하철역이 있나요?"),
    Sentence("커피 한 잔 주세요."),
    Sentence("저는 서울에서 태어났지만, 지금은 부산에 살고 있어요."),
    Sentence("감사합니다."),
    Sentence("사과 세 개하고 우유 두 병을 샀어요.", ("사과 3개하고 우유 2병을 샀어요.",)),
    Sentence("주말에 친구들이랑 영화를 보러 갈 거예요."),
    Sentence("회의는 오후 세 시 삼십 분에 시작합니다.", ("회의는 오후 3시 30분에 시작합니다.",)),
    Sentence("배가 고픈데 뭐 먹을까요?"),
    Sentence("창문 좀 닫아 주실 수 있어요?"),
    Sentence("우리 집에서 학교까지 걸어서 이십 분쯤 걸려요.", ("우리 집에서 학교까지 걸어서 20분쯤 걸려요.",)),
    Sentence("어제 본 드라마가 너무 재미있었어요."),
    Sentence("전화번호를 다시 한 번 말씀해 주시겠어요?"),
    Sentence("죄송하지만 잘 못 알아들었어요."),
    Sentence("올해 여름에는 가족과 함께 제주도로 여행을 가고 싶어요."),
    Sentence("비가 올 것 같으니까 우산을 꼭 챙기세요."),
    Sentence("이 책은 만 오천 원입니다.",
             ("이 책은 15,000원입니다.", "이 책은 1만 5천 원입니다.", "이 책은 만 5천 원입니다.")),
)
"""The tuning set: greetings, questions and statements, short and long, numbers in words."""

HELD_OUT: tuple[Sentence, ...] = (
    Sentence("도서관은 몇 시에 문을 닫나요?"),
    Sentence("요즘 운동을 시작해서 매일 아침 공원을 달려요."),
    Sentence("할머니 생신이라서 케이크를 주문했어요."),
    Sentence("길이 많이 막히니까 지하철을 타는 게 좋겠어요."),
    Sentence("저는 매운 음식을 잘 못 먹어요."),
    Sentence("다음 주 화요일에 병원 예약이 있어요."),
    Sentence("이 버스는 시청으로 가나요?"),
    Sentence("냉장고에 계란이 열두 개 남아 있어요.", ("냉장고에 계란이 12개 남아 있어요.",)),
    Sentence("저녁에 뭐 먹고 싶어요?"),
    Sentence("엘리베이터가 고장 나서 계단으로 올라갔어요."),
    Sentence("이 옷은 조금 작아서 한 치수 큰 걸로 바꾸고 싶어요."),
    Sentence("오늘은 일이 많아서 늦게 들어갈 것 같아요."),
)
"""Sentences no variant was tuned on: whether a mapping that helps the tuning set helps speech in general."""

Speak = Callable[[str], tuple[Samples, int, float]]
"""A voice under test: text → (audio, sample rate, seconds to its first chunk)."""



def hangul(text: str) -> str:
    """What the score compares: letters and digits, no spaces or punctuation."""
    return "".join(re.findall(r"[^\W_]", text.lower()))


def errors(sentence: Sentence, heard: str) -> tuple[int, int]:
    """(character edits, reference characters) against the closest way of writing ``sentence``."""
    said = hangul(heard)
    best = min((sentence.text, *sentence.alternates),
               key=lambda ref: edit_distance(hangul(ref), said) / max(len(hangul(ref)), 1))
    return edit_distance(hangul(best), said), len(hangul(best))


@dataclass(frozen=True)
class Variant:
    """One way of voicing Korean with Kokoro; the defaults are the backend's."""

    name: str
    mapping: KokoroMapping = KokoroMapping()
    style: str = DEFAULT_STYLE
    speed: float = KOREAN_SPEED
    split: str = "clauses"
    """``clauses`` (what the backend does: after commas and sentence ends), ``sentence`` (the sentence in one run),
    ``connectives`` (clauses, and long ones also after a connective verb ending), or ``first_phrase`` (the reply's
    first chunk cut at a phrase as the reply's chunker cuts it, said as unfinished, then the rest by clauses)."""
    style_row: str = "clause"
    """Which row of the style table: ``clause`` (the phoneme count of what is voiced, as Kokoro was trained),
    ``sentence`` (of the whole sentence), or a fixed number."""
    longest_pause: float | None = LONGEST_PAUSE
    """Silences inside a clause shortened to this many seconds; None (``longest_pause=none``): as Kokoro made them."""


_MAPPING_FIELDS = {f.name: f.type for f in fields(KokoroMapping)}


STARTING_POINT = "eo=ʌ+tense=plain+ye_after_consonant=je+ui=ɰi+h_allophones=true"
"""The mapping the issue started from: ko-pron's IPA with affricates as ʨ ʥ, tense consonants plain, ɭ as l,
aspiration as ʰ and the other diacritics dropped. ``start`` in a variant's name stands for it."""


def parse_variant(text: str) -> Variant:
    """A variant from its name: ``default`` (the backend's), or changes to it joined by ``+``
    (``eo=ʌ+speed=0.9``); a name that starts with ``start`` changes :data:`STARTING_POINT` instead.

    Keys are the fields of :class:`KokoroMapping` and ``style``, ``speed``, ``style_row``, ``split``,
    ``longest_pause``.
    """
    mapping: dict[str, object] = {}
    other: dict[str, object] = {}
    changes = [c for c in text.split("+") if c not in ("default", "start")]
    if text.split("+")[0] == "start":
        changes = [*STARTING_POINT.split("+"), *changes]
    for change in changes:
        key, equals, value = change.partition("=")
        key = key.strip()
        if not equals:
            raise ValueError(f"variant {text!r}: {change!r} is not KEY=VALUE")
        if key in _MAPPING_FIELDS:
            mapping[key] = value.lower() == "true" if _MAPPING_FIELDS[key] in (bool, "bool") else value
        elif key == "speed":
            try:
                other[key] = float(value)
            except ValueError:
                raise ValueError(f"variant {text!r}: speed {value!r} is not a number") from None
        elif key == "longest_pause":
            try:
                other[key] = None if value.lower() == "none" else float(value)
            except ValueError:
                raise ValueError(f"variant {text!r}: longest_pause {value!r} is not a number or none") from None
        elif key in ("style", "style_row", "split"):
            other[key] = value
        else:
            raise ValueError(f"variant {text!r}: unknown key {key!r}")
    return Variant(text, mapping=with_mapping(**mapping), **other)  # type: ignore[arg-type]


ROUND_ONE = ("start", *(f"start+{change}" for change in (
    "aspirated=h", "aspirated=", "tense=glottal", "tense=double", "eo=ɔ", "eo=o", "eo=ə", "eo=ɤ", "eu=ɨ", "weak_h=",
    "front_rounded=true", "sibilant_aspiration=true", "initial_lenis=voiced", "spaces=false", "split=sentence",
    "style_row=sentence", "style_row=50", "style_row=150", "speed=0.85", "speed=0.92", "speed=1.1",
    "style=jf_alpha", "style=jf_nezumi", "style=jf_tebukuro", "style=jm_kumo",
)))
"""The first round: each change alone, from the issue's starting point."""
ROUND_TWO = tuple(f"start+eo=ɔ+tense=double+{change}" for change in (
    "speed=0.9", "aspirated=h", "initial_lenis=voiced", "eu=ɨ", "h_allophones=false", "unreleased=glottal", "ch=ʧ",
    "ye_after_consonant=e", "ui=ɯi", "stress_high_onsets=true",
))
"""The second: the two changes that helped most, then one more at a time."""
ROUND_THREE = ("default", *(f"default+{change}" for change in (
    "ch=ʧ", "unreleased=glottal", "speed=0.95", "speed=1.05", "aspirated=h", "initial_lenis=voiced",
    "style_row=150", "split=connectives", "split=sentence", "style=jf_nezumi", "style=jm_kumo",
)))
"""The third: from the backend's defaults (the best of round two together), one change at a time."""
ROUNDS = {"round1": ROUND_ONE, "round2": ROUND_TWO, "round3": ROUND_THREE}
ESPEAK = "espeak-ng"


def pieces_of(text: str, split: str) -> list[str]:
    """What is voiced in one run each, by the variant's ``split``."""
    if split == "sentence":
        return [text]
    if split == "first_phrase":
        chunker = SpeakableChunker(korean_phrase=True)
        chunks = [*chunker.push(text), *chunker.flush()]
        return [voiced(chunks[0]), *(piece for chunk in chunks[1:] for piece in clauses(chunk))] if chunks else []
    return clauses(text, connectives=split == "connectives")


def kokoro_speaker(tts: KokoroTTS, variant: Variant) -> Speak:
    """The backend's way of voicing (clause by clause, its pauses between them) with the variant's changes."""
    def speak(text: str) -> tuple[Samples, int, float]:
        start = time.perf_counter()
        text = normalize_korean(text)
        pieces = pieces_of(text, variant.split)
        sentence_tokens = len(tts.tokens(korean_ipa.phonemize(text, variant.mapping)))
        row = {"clause": None, "sentence": sentence_tokens}.get(variant.style_row)
        if variant.style_row not in ("clause", "sentence"):
            row = int(variant.style_row)
        audio: list[Samples] = []
        first = 0.0
        for i, piece in enumerate(pieces):
            tokens = tts.tokens(korean_ipa.phonemize(piece, variant.mapping))
            if not tokens:
                continue
            audio.append(tts.infer(tokens, variant.style, variant.speed, style_row=row,
                                   longest_pause=variant.longest_pause))
            first = first or time.perf_counter() - start
            if i < len(pieces) - 1:
                audio.append(np.zeros(round(PAUSES.get(piece[-1], 0.0) * tts.sample_rate), dtype=np.float32))
        return np.concatenate(audio or [np.zeros(1, np.float32)]), tts.sample_rate, first
    return speak


def espeak_speaker() -> Speak:
    from omni.backends.espeak_tts import EspeakTTS

    tts = EspeakTTS()

    def speak(text: str) -> tuple[Samples, int, float]:
        async def run() -> tuple[Samples, int, float]:
            start = time.perf_counter()
            chunks = []
            first = 0.0
            async for chunk in tts.synthesize(text, language="ko"):
                first = first or time.perf_counter() - start
                chunks.append(chunk)
            return np.concatenate([c.samples for c in chunks]), chunks[0].sample_rate, first
        return asyncio.run(run())
    return speak


@dataclass(frozen=True)
class Heard:
    text: str
    transcript: str
    cer: float
    first_audio_s: float
    """Seconds from the call to the voice's first chunk."""
    audio_s: float
    synthesis_s: float
    """Seconds the whole sentence took to voice (``synthesis_s / audio_s`` is the real-time factor)."""


@dataclass
class Result:
    name: str
    cer: float
    """Over the tuning sentences (:data:`SENTENCES`), all characters together."""
    held_out_cer: float | None
    first_audio_s: float
    """The median over the tuning sentences."""
    heard: list[Heard] = field(default_factory=list)


def _score(speak: Speak, hear: Callable[[Samples], str], group: Sequence[Sentence], heard: list[Heard]) -> float:
    edits = total = 0
    for sentence in group:
        start = time.perf_counter()
        audio, rate, first = speak(sentence.text)
        spent = time.perf_counter() - start
        said = hear(resample(audio, rate, 16000))
        e, n = errors(sentence, said)
        edits, total = edits + e, total + n
        heard.append(Heard(sentence.text, said, round(e / max(n, 1), 3), round(first, 3), round(len(audio) / rate, 2),
                           round(spent, 3)))
    return edits / max(total, 1)


def measure(name: str, speak: Speak, hear: Callable[[Samples], str], sentences: Sequence[Sentence],
            held_out: Sequence[Sentence] = ()) -> Result:
    """Speak every sentence, hear it back, score it."""
    heard: list[Heard] = []
    cer = _score(speak, hear, sentences, heard)
    firsts = [h.first_audio_s for h in heard]
    held = _score(speak, hear, held_out, heard) if held_out else None
    return Result(name, round(cer, 3), None if held is None else round(held, 3),
                  round(statistics.median(firsts), 2), heard)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m omni.bench.korean_voice", description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default=f"default,{ESPEAK}",
                        help="comma-separated variants: 'default', 'espeak-ng', or changes such as "
                             "'default+eo=ʌ+speed=0.9' (see parse_variant); or round1, round2, round3, all "
                             "(docs/languages.md)")
    parser.add_argument("--held-out", action="store_true", help="also score the held-out sentences")
    parser.add_argument("--json", type=Path, help="write every transcript and score here")
    parser.add_argument("--verbose", action="store_true", help="print each transcript")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from omni.backends import kokoro_tts, registry
    from omni.backends.whisper_stt import WhisperSTT
    from omni.config import load_settings

    args = _parser().parse_args(argv)
    names: list[str] = []
    for item in args.variants.split(","):
        item = item.strip()
        if item == "all":
            names += [ESPEAK, *ROUND_ONE, *ROUND_TWO, *ROUND_THREE]
        else:
            names += ROUNDS.get(item, (item,))
    try:
        variants = {name: parse_variant(name) for name in names if name != ESPEAK}
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    settings = load_settings()
    stt = registry.create("stt", "whisper", settings)
    assert isinstance(stt, WhisperSTT)
    # At speed 1: each variant sets its own pace and style.
    tts = KokoroTTS(kokoro_tts.resolve(settings.tts.korean_voice, settings.models_dir), speed=1.0)

    def hear(audio: Samples) -> str:
        return stt.transcribe_blocking(audio, "ko").text

    results: list[Result] = []
    print(f"{'variant':<40} {'CER':>6} {'held-out':>9} {'first audio':>12}", flush=True)
    for name in names:
        speak = espeak_speaker() if name == ESPEAK else kokoro_speaker(tts, variants[name])
        result = measure(name, speak, hear, SENTENCES, HELD_OUT if args.held_out else ())
        results.append(result)
        held = "" if result.held_out_cer is None else f"{result.held_out_cer:.3f}"
        print(f"{name:<40} {result.cer:>6.3f} {held:>9} {result.first_audio_s:>10.2f} s", flush=True)
        if args.verbose:
            for h in result.heard:
                print(f"    CER {h.cer:.2f}  first {h.first_audio_s:4.2f} s  RTF {h.synthesis_s / h.audio_s:4.2f}  "
                      f"{h.text}  →  {h.transcript}")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], ensure_ascii=False, indent=1) + "\n",
                             encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
