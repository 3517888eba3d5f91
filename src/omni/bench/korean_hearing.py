"""How well Omni hears Korean: the embedded whisper (language ``ko``) on Korean questions and on ten spoken digits.

Two kinds of Korean speech, both transcribed by the configured whisper model with the language fixed to Korean:

- **Questions, voiced by Kokoro** (synthetic speech): the first Korean turn of every item of
  :mod:`omni.bench.bilingual_questions` (what users ask Omni), each spoken by Omni's own Korean voice in several
  styles and at several speeds (:func:`omni.bench.korean_voice.kokoro_speaker`). Scored as the voice bench scores:
  character error rate over letters and digits, a number in words equal to the same number in digits
  (:func:`omni.bench.korean_voice.errors`), pooled over the questions; and the fraction of questions *understood*,
  heard with a CER of at most :data:`UNDERSTOOD_CER`.
- **Digits, spoken by a person**: the Debian package ``tuxpaint-stamps-default`` ships ten recordings of Korean
  digits (``stamps/symbols/math/{0..9}_ko.ogg``; their labels in the package are the native numerals 공, 하나, 둘 ...
  아홉). Each is heard alone (bare, and with silence around it as the turn detector hands a turn over), and all ten
  are heard in one clip with :data:`DIGIT_GAP_S` of silence between them, as a person reads out a number. A digit is
  right when whisper writes the digit or its Korean word, Sino-Korean (일, 이, 삼) or native (하나, 둘, 셋).

    python -m omni.bench.korean_hearing [--json FILE] [--verbose]

The questions are synthetic speech from a voice whisper was never trained on: they show whether Korean questions
get through whisper, not how well it hears Korean people. Ten digits are the only real Korean voice here.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from omni.audio.resample import resample
from omni.backends.kokoro_tts import DEFAULT_STYLE
from omni.bench.bilingual_questions import ITEMS, Item
from omni.bench.korean_voice import Heard, Result, Sentence, Speak, Variant, hangul, kokoro_speaker, measure
from omni.text.korean_normalize import normalize_korean
from omni.text.wer import edit_distance
from omni.types import Samples

RATE = 16000
STYLES = (DEFAULT_STYLE, "jf_nezumi", "jm_kumo")
"""Omni's Korean style and two other speakers of the Kokoro package (a second woman's voice, a man's)."""
SPEEDS = (0.9, 1.0, 1.15)
UNDERSTOOD_CER = 0.15
"""A question heard with at most this CER counts as understood (about one syllable in seven wrong)."""

DIGITS_PACKAGE = "tuxpaint-stamps-default"
DIGITS_DIR = Path("/usr/share/tuxpaint/stamps/symbols/math")
DIGIT_GAP_S = 0.4
TURN_PAD_S = 0.3
"""Silence before and after a single digit in the padded trial: the turn detector's prefix padding."""
READ_OUTS = ("0123456789", "0105551234", "7305194862")
"""The digits read out in one clip: counting (which whisper can guess), a mobile number (010 starts every Korean
one), and all ten in an order nothing predicts."""

SINO = ("영|공", "일", "이", "삼", "사", "오", "육|륙", "칠", "팔", "구")
NATIVE = ("공", "하나", "둘", "셋", "넷", "다섯", "여섯", "일곱", "여덟", "아홉")
"""The native numerals, as the package labels its recordings (0 is 공 there: Korean has no native zero)."""
DIGIT_WORDS: Mapping[str, str] = {
    word: str(digit) for digit in range(10) for word in (*SINO[digit].split("|"), NATIVE[digit])
}
_LONGEST_FIRST = sorted(DIGIT_WORDS, key=len, reverse=True)


def questions(items: Sequence[Item] = ITEMS) -> tuple[Sentence, ...]:
    """The first Korean turn of each item, once each; a turn with digits also counts when heard in words (as
    Kokoro says it: :func:`normalize_korean`)."""
    seen: dict[str, Sentence] = {}
    for item in items:
        text = item.ko[0]
        spoken = normalize_korean(text)
        seen.setdefault(text, Sentence(text, (spoken,) if spoken != text else ()))
    return tuple(seen.values())


QUESTIONS = questions()


def speakers(styles: Sequence[str] = STYLES, speeds: Sequence[float] = SPEEDS) -> list[Variant]:
    """The backend's voicing in every style at every speed; names are :func:`~omni.bench.korean_voice.parse_variant`
    names (``default+style=jm_kumo+speed=0.9``)."""
    return [Variant(f"default+style={style}+speed={speed:g}", style=style, speed=speed)
            for style in styles for speed in speeds]


def understood(heard: Sequence[Heard], limit: float = UNDERSTOOD_CER) -> float:
    """The fraction of sentences heard with a CER of at most ``limit``."""
    return sum(h.cer <= limit for h in heard) / max(len(heard), 1)


def digits_in(transcript: str) -> str:
    """The digits a transcript says, words read as digits (하나 → 1, 삼 → 3), longest word first (일곱 is 7, not
    1 and a stray 곱); a letter that is no digit's word stays as it is, so it counts as an error."""
    text = hangul(transcript)
    out: list[str] = []
    i = 0
    while i < len(text):
        word = next((w for w in _LONGEST_FIRST if text.startswith(w, i)), None)
        if word is None:
            out.append(text[i])
            i += 1
        else:
            out.append(DIGIT_WORDS[word])
            i += len(word)
    return "".join(out)


def heard_digit(digit: int, transcript: str) -> bool:
    """Whether the transcript is that digit and nothing else (``3``, ``삼``, ``셋!``)."""
    return digits_in(transcript) == str(digit)


def digit_accuracy(expected: str, transcript: str) -> float:
    """1 − the edit distance between the digits said and the digits heard, over the digits said (0 at worst)."""
    return max(0.0, 1 - edit_distance(expected, digits_in(transcript)) / max(len(expected), 1))


def missing_digits_message(folder: Path) -> str:
    return (f"the Korean digit recordings are not in {folder}: install them with "
            f"`apt-get install -y {DIGITS_PACKAGE}` (Debian) or pass --digits-dir; skipping the digits")


def load_digits(folder: Path = DIGITS_DIR) -> dict[int, Samples]:
    """The ten recordings ``{d}_ko.ogg``, mono at 16 kHz; :class:`FileNotFoundError` (with the install command)
    when any is missing."""
    import soundfile as sf

    paths = {digit: folder / f"{digit}_ko.ogg" for digit in range(10)}
    if not all(path.is_file() for path in paths.values()):
        raise FileNotFoundError(missing_digits_message(folder))
    clips: dict[int, Samples] = {}
    for digit, path in paths.items():
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
        clips[digit] = resample(data.mean(axis=1), int(rate), RATE)
    return clips


def silence(seconds: float) -> Samples:
    return np.zeros(round(seconds * RATE), dtype=np.float32)


def padded(clip: Samples, seconds: float = TURN_PAD_S) -> Samples:
    return np.concatenate([silence(seconds), clip, silence(seconds)])


def read_out(clips: Mapping[int, Samples], order: str, gap_s: float = DIGIT_GAP_S) -> Samples:
    """The digits of ``order`` one after another with ``gap_s`` of silence between them."""
    parts: list[Samples] = []
    for i, digit in enumerate(order):
        if i:
            parts.append(silence(gap_s))
        parts.append(clips[int(digit)])
    return np.concatenate(parts)


@dataclass
class Hearing:
    """One speaker's questions: the voice bench's result and the fraction understood."""

    name: str
    style: str
    speed: float
    cer: float
    understood: float
    heard: list[Heard] = field(default_factory=list)


@dataclass(frozen=True)
class DigitHeard:
    said: str
    heard: str
    right: bool
    accuracy: float


@dataclass
class Digits:
    alone: list[DigitHeard]
    padded: list[DigitHeard]
    read_outs: list[DigitHeard]


def hear_questions(speaker: Variant, speak: Speak, hear: Callable[[Samples], str],
                   sentences: Sequence[Sentence] = QUESTIONS) -> Hearing:
    result: Result = measure(speaker.name, speak, hear, sentences)
    return Hearing(speaker.name, speaker.style, speaker.speed, result.cer, round(understood(result.heard), 3),
                   result.heard)


def _judge(said: str, transcript: str) -> DigitHeard:
    accuracy = digit_accuracy(said, transcript)
    return DigitHeard(said, transcript, digits_in(transcript) == said, round(accuracy, 3))


def hear_digits(clips: Mapping[int, Samples], hear: Callable[[Samples], str]) -> Digits:
    """Each digit alone, each with the turn padding around it, and the read-outs of :data:`READ_OUTS`."""
    return Digits(
        alone=[_judge(str(d), hear(clips[d])) for d in range(10)],
        padded=[_judge(str(d), hear(padded(clips[d]))) for d in range(10)],
        read_outs=[_judge(order, hear(read_out(clips, order))) for order in READ_OUTS],
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m omni.bench.korean_hearing", description=__doc__.splitlines()[0])
    parser.add_argument("--styles", default=",".join(STYLES), help="comma-separated Kokoro styles")
    parser.add_argument("--speeds", default=",".join(f"{s:g}" for s in SPEEDS), help="comma-separated speeds")
    parser.add_argument("--questions", type=int, default=0, help="only the first N questions (0: all)")
    parser.add_argument("--digits-dir", type=Path, default=DIGITS_DIR,
                        help=f"where {{0..9}}_ko.ogg are (Debian package {DIGITS_PACKAGE})")
    parser.add_argument("--no-questions", action="store_true", help="only the digits")
    parser.add_argument("--json", type=Path, help="write every transcript and score here")
    parser.add_argument("--verbose", action="store_true", help="print each transcript")
    return parser


def _print_digits(digits: Digits) -> None:
    print(f"\n{'digit':<6} {'alone':<24} {'with ' + f'{TURN_PAD_S:g} s around':<24}")
    for alone, pad in zip(digits.alone, digits.padded, strict=True):
        print(f"{alone.said:<6} {('✓ ' if alone.right else '✗ ') + alone.heard:<24} "
              f"{('✓ ' if pad.right else '✗ ') + pad.heard:<24}")
    print(f"right: {sum(d.right for d in digits.alone)}/10 alone, {sum(d.right for d in digits.padded)}/10 padded")
    for r in digits.read_outs:
        print(f"read out {r.said} ({DIGIT_GAP_S:g} s gaps): accuracy {r.accuracy:.2f}  "
              f"heard {r.heard!r} → {digits_in(r.heard)}")


def main(argv: Sequence[str] | None = None) -> int:
    from omni.backends import kokoro_tts, registry
    from omni.backends.whisper_stt import WhisperSTT
    from omni.config import load_settings

    args = _parser().parse_args(argv)
    settings = load_settings()
    stt = registry.create("stt", "whisper", settings)
    assert isinstance(stt, WhisperSTT)

    def hear(audio: Samples) -> str:
        return stt.transcribe_blocking(audio, "ko").text

    report: dict[str, object] = {}
    if not args.no_questions:
        styles = [style.strip() for style in args.styles.split(",") if style.strip()]
        try:
            speeds = [float(speed) for speed in args.speeds.split(",")]
        except ValueError as exc:
            print(f"--speeds: {exc}", file=sys.stderr)
            return 2
        sentences = QUESTIONS[: args.questions or None]
        tts = kokoro_tts.KokoroTTS(kokoro_tts.resolve(settings.tts.korean_voice, settings.models_dir), speed=1.0)
        if unknown := sorted(set(styles) - set(tts.voices())):
            print(f"--styles: no style {', '.join(unknown)}; known: {', '.join(tts.voices())}", file=sys.stderr)
            return 2
        hearings: list[Hearing] = []
        print(f"{len(sentences)} questions; understood: CER ≤ {UNDERSTOOD_CER}")
        print(f"{'style':<16} {'speed':>5} {'CER':>6} {'understood':>11} {'audio s':>8}", flush=True)
        for speaker in speakers(styles, speeds):
            hearing = hear_questions(speaker, kokoro_speaker(tts, speaker), hear, sentences)
            hearings.append(hearing)
            seconds = sum(h.audio_s for h in hearing.heard) / max(len(hearing.heard), 1)
            print(f"{hearing.style:<16} {hearing.speed:>5g} {hearing.cer:>6.3f} {hearing.understood:>11.2f} "
                  f"{seconds:>8.2f}", flush=True)
            if args.verbose:
                for h in hearing.heard:
                    print(f"    CER {h.cer:.2f}  {h.text}  →  {h.transcript}")
        report["questions"] = [asdict(h) for h in hearings]
    try:
        clips = load_digits(args.digits_dir)
    except FileNotFoundError as exc:
        print(f"\n{exc}", file=sys.stderr)
    else:
        digits = hear_digits(clips, hear)
        _print_digits(digits)
        report["digits"] = asdict(digits)
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
