"""How well Omni hears Korean: the embedded whisper (language ``ko``) on Korean questions and on ten spoken digits.

Two kinds of Korean speech, both transcribed by the configured whisper model (or vosk, below) with the language
fixed to Korean:

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

    python -m omni.bench.korean_hearing [--recognisers whisper,vosk] [--read-ahead] [--json FILE] [--verbose]

``--recognisers`` hears the same audio (each question voiced once) with several recognisers: ``whisper`` (the
configured model) and ``vosk`` (:mod:`omni.backends.vosk_stt`, streaming), each timed (real-time factor).
``--read-ahead`` also scores what each has heard when only :data:`READ_AHEAD_AT` of a question is in, as the session
reads a speaking user's words ahead (:mod:`omni.session.listen_ahead`): whisper transcribes the audio so far, vosk
says its partial result while the audio streams in.

The questions are synthetic speech from a voice whisper was never trained on: they show whether Korean questions
get through whisper, not how well it hears Korean people. Ten digits are the only real Korean voice here.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from omni.audio.resample import resample
from omni.backends.kokoro_tts import DEFAULT_STYLE
from omni.backends.vosk_stt import STEP_S
from omni.bench.bilingual_questions import ITEMS, Item
from omni.bench.korean_voice import Heard, Result, Sentence, Speak, Variant, errors, hangul, kokoro_speaker, measure
from omni.config import Settings
from omni.session.listen_ahead import settled_words
from omni.text.korean_normalize import normalize_korean
from omni.text.wer import edit_distance
from omni.types import Samples

RATE = 16000
STYLES = (DEFAULT_STYLE, "jf_nezumi", "jm_kumo")
"""Omni's Korean style and two other speakers of the Kokoro package (a second woman's voice, a man's)."""
SPEEDS = (0.9, 1.0, 1.15)
UNDERSTOOD_CER = 0.15
"""A question heard with at most this CER counts as understood (about one syllable in seven wrong)."""
RECOGNISERS = ("whisper", "vosk")
READ_AHEAD_AT = 0.7
"""The share of a question's audio in when its read-ahead is scored."""

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


def kinds(items: Sequence[Item] = ITEMS) -> dict[str, str]:
    """Each question's kind: that of the first item it opens (one follow-up opens with a knowledge question)."""
    seen: dict[str, str] = {}
    for item in items:
        seen.setdefault(item.ko[0], item.kind)
    return seen


KINDS = kinds()


def speakers(styles: Sequence[str] = STYLES, speeds: Sequence[float] = SPEEDS) -> list[Variant]:
    """The backend's voicing in every style at every speed; names are :func:`~omni.bench.korean_voice.parse_variant`
    names (``default+style=jm_kumo+speed=0.9``)."""
    return [Variant(f"default+style={style}+speed={speed:g}", style=style, speed=speed)
            for style in styles for speed in speeds]


def understood(heard: Sequence[Heard], limit: float = UNDERSTOOD_CER) -> float:
    """The fraction of sentences heard with a CER of at most ``limit``."""
    return sum(h.cer <= limit for h in heard) / max(len(heard), 1)


@dataclass(frozen=True)
class KindScore:
    questions: int
    cer: float
    """Pooled over the kind's questions, as the whole set's CER is."""
    understood: int


def by_kind(heard: Sequence[Heard], sentences: Sequence[Sentence] = QUESTIONS,
            kind_of: Mapping[str, str] = KINDS) -> dict[str, KindScore]:
    """CER and questions understood per kind of question (knowledge, arithmetic, advice, follow-up)."""
    sentence = {s.text: s for s in sentences}
    totals: dict[str, list[int]] = {}
    for h in heard:
        e, n = errors(sentence[h.text], h.transcript)
        edits, chars, right, count = totals.setdefault(kind_of[h.text], [0, 0, 0, 0])
        totals[kind_of[h.text]] = [edits + e, chars + n, right + (h.cer <= UNDERSTOOD_CER), count + 1]
    return {kind: KindScore(count, round(edits / max(chars, 1), 3), right)
            for kind, (edits, chars, right, count) in totals.items()}


def remembered(speak: Speak) -> Speak:
    """``speak`` that voices each text once and gives the same audio again, so that every recogniser hears the same
    clips (Kokoro is deterministic; this saves its time)."""
    said: dict[str, tuple[Samples, int, float]] = {}

    def again(text: str) -> tuple[Samples, int, float]:
        if text not in said:
            said[text] = speak(text)
        return said[text]
    return again


class Stream(Protocol):
    """An utterance heard as it arrives (:class:`omni.backends.vosk_stt.VoskStream`)."""

    def feed(self, audio: Samples) -> str: ...


def partial_at(stream: Stream, audio: Samples, fraction: float, step_s: float = STEP_S) -> str:
    """What ``stream`` has heard once ``fraction`` of ``audio`` is in, fed ``step_s`` at a time."""
    step = max(1, round(step_s * RATE))
    end = round(len(audio) * fraction)
    text = ""
    for start in range(0, end, step):
        text = stream.feed(audio[start: min(start + step, end)])
    return text


def kept(read: str, final: str) -> float:
    """The share of the letters read ahead that the final transcript starts with (spaces and punctuation aside):
    1.0 when the words read ahead are the start of the final words."""
    said, heard = hangul(read), hangul(final)
    common = 0
    for a, b in zip(said, heard, strict=False):
        if a != b:
            break
        common += 1
    return common / len(said) if said else 0.0


def prefix_cer(read: str, final: str) -> float:
    """Edit distance between the letters read ahead and as many letters of the final transcript, over their number."""
    said = hangul(read)
    return edit_distance(said, hangul(final)[: len(said)]) / len(said) if said else 0.0


@dataclass(frozen=True)
class Ahead:
    """One question read ahead: the settled words at :data:`READ_AHEAD_AT` against the transcripts of all of it."""

    text: str
    partial: str
    settled: str
    final: str
    kept: float
    cer: float
    kept_by_whisper: float | None
    """:func:`kept` against whisper's transcript of the whole question (what the turn's transcript is made with)."""
    seconds: float


@dataclass
class ReadAhead:
    recogniser: str
    name: str
    read: float
    """The share of questions with settled words to decode ahead."""
    whole: float
    """Of those, the share whose settled words are all the start of the recogniser's final transcript."""
    kept: float
    cer: float
    whole_by_whisper: float | None
    ms: float
    """Mean time to the read-ahead: whisper's transcription of the audio so far; vosk's streaming up to that point
    (spent while the user speaks, and its final transcript needs only the rest)."""
    questions: list[Ahead] = field(default_factory=list)


def score_ahead(recogniser: str, name: str, questions: Sequence[Ahead]) -> ReadAhead:
    read = [q for q in questions if q.settled]
    by_whisper = [q.kept_by_whisper for q in read if q.kept_by_whisper is not None]
    n = max(len(read), 1)
    return ReadAhead(
        recogniser, name, round(len(read) / max(len(questions), 1), 3),
        round(sum(q.kept == 1.0 for q in read) / n, 3), round(sum(q.kept for q in read) / n, 3),
        round(sum(q.cer for q in read) / n, 3),
        round(sum(k == 1.0 for k in by_whisper) / len(by_whisper), 3) if by_whisper else None,
        round(1000 * sum(q.seconds for q in questions) / max(len(questions), 1), 1), list(questions))


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
    """One speaker's questions through one recogniser: the voice bench's result and the fraction understood."""

    name: str
    style: str
    speed: float
    cer: float
    understood: float
    heard: list[Heard] = field(default_factory=list)
    recogniser: str = "whisper"
    rtf: float | None = None
    """Seconds spent hearing over seconds of audio heard."""
    kinds: dict[str, KindScore] = field(default_factory=dict)


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


@dataclass
class Ear:
    """A recogniser under test: how it hears a whole clip, how it reads ahead, and the time it spends hearing."""

    name: str
    hear: Callable[[Samples], str]
    ahead: Callable[[Samples, float], str]
    """What it has heard when only the given share of the clip is in."""
    busy_s: float = 0.0
    audio_s: float = 0.0

    def __call__(self, audio: Samples) -> str:
        start = time.perf_counter()
        text = self.hear(audio)
        self.busy_s += time.perf_counter() - start
        self.audio_s += len(audio) / RATE
        return text

    def rtf(self) -> float:
        return self.busy_s / self.audio_s if self.audio_s else 0.0


def hear_questions(speaker: Variant, speak: Speak, hear: Callable[[Samples], str],
                   sentences: Sequence[Sentence] = QUESTIONS, recogniser: str = "whisper") -> Hearing:
    result: Result = measure(speaker.name, speak, hear, sentences)
    return Hearing(speaker.name, speaker.style, speaker.speed, result.cer, round(understood(result.heard), 3),
                   result.heard, recogniser, kinds=by_kind(result.heard, sentences))


def read_ahead(speaker: Variant, speak: Speak, ear: Ear, hearing: Hearing, whisper: Hearing | None = None,
               at: float = READ_AHEAD_AT) -> ReadAhead:
    """Each question of ``hearing`` read ahead by ``ear``, scored against its final transcripts."""
    finals = {h.text: h.transcript for h in whisper.heard} if whisper is not None else {}
    questions: list[Ahead] = []
    for h in hearing.heard:
        audio, rate, _ = speak(h.text)
        clip = resample(audio, rate, RATE)
        start = time.perf_counter()
        partial = ear.ahead(clip, at)
        seconds = time.perf_counter() - start
        settled = settled_words(partial)
        by_whisper = kept(settled, finals[h.text]) if h.text in finals else None
        questions.append(Ahead(h.text, partial, settled, h.transcript, round(kept(settled, h.transcript), 3),
                               round(prefix_cer(settled, h.transcript), 3), by_whisper, round(seconds, 4)))
    return score_ahead(ear.name, speaker.name, questions)


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
    parser.add_argument("--recognisers", default="whisper",
                        help=f"comma-separated, each hears the same audio: {', '.join(RECOGNISERS)}")
    parser.add_argument("--styles", default=",".join(STYLES), help="comma-separated Kokoro styles")
    parser.add_argument("--speeds", default=",".join(f"{s:g}" for s in SPEEDS), help="comma-separated speeds")
    parser.add_argument("--questions", type=int, default=0, help="only the first N questions (0: all)")
    parser.add_argument("--read-ahead", action="store_true",
                        help=f"also score what is heard with {READ_AHEAD_AT:.0%} of each question in")
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


def _ears(names: Sequence[str], settings: Settings) -> list[Ear]:
    """The recognisers by name, each hearing Korean (the language fixed, as the session fixes it when told)."""
    from omni.backends import registry
    from omni.backends.vosk_stt import VoskSTT
    from omni.backends.whisper_stt import WhisperSTT

    ears: list[Ear] = []
    for name in names:
        stt = registry.create("stt", name, settings)
        if isinstance(stt, WhisperSTT):
            def whole(audio: Samples, stt: WhisperSTT = stt) -> str:
                return stt.transcribe_blocking(audio, "ko").text

            def so_far(audio: Samples, share: float, whole: Callable[[Samples], str] = whole) -> str:
                return whole(audio[: round(len(audio) * share)])  # the session's read-ahead: all the audio so far
            ears.append(Ear(name, whole, so_far))
        elif isinstance(stt, VoskSTT):
            def heard(audio: Samples, stt: VoskSTT = stt) -> str:
                return stt.transcribe_blocking(audio, "ko").text

            def partial(audio: Samples, share: float, stt: VoskSTT = stt) -> str:
                return partial_at(stt.stream(), audio, share)
            ears.append(Ear(name, heard, partial))
    return ears


def _print_hearing(hearing: Hearing, verbose: bool) -> None:
    seconds = sum(h.audio_s for h in hearing.heard) / max(len(hearing.heard), 1)
    print(f"{hearing.recogniser:<8} {hearing.style:<16} {hearing.speed:>5g} {hearing.cer:>6.3f} "
          f"{hearing.understood:>11.2f} {seconds:>8.2f} {hearing.rtf or 0:>6.3f}", flush=True)
    print("    " + " · ".join(f"{kind} {k.cer:.3f} {k.understood}/{k.questions}"
                              for kind, k in sorted(hearing.kinds.items())))
    if verbose:
        for h in hearing.heard:
            print(f"    CER {h.cer:.2f}  {h.text}  →  {h.transcript}")


def _print_ahead(ahead: ReadAhead, verbose: bool) -> None:
    whisper = "" if ahead.whole_by_whisper is None else f"{ahead.whole_by_whisper:.2f}"
    print(f"{ahead.recogniser:<8} {ahead.name:<40} {ahead.read:>5.2f} {ahead.whole:>6.2f} {ahead.kept:>5.2f} "
          f"{ahead.cer:>6.3f} {whisper:>8} {ahead.ms:>7.1f}", flush=True)
    if verbose:
        for q in ahead.questions:
            print(f"    kept {q.kept:.2f}  {q.settled!r}  /  {q.final}")


def main(argv: Sequence[str] | None = None) -> int:
    from omni.backends import kokoro_tts
    from omni.config import load_settings

    args = _parser().parse_args(argv)
    names = [name.strip() for name in args.recognisers.split(",") if name.strip()]
    if not names or (unknown := sorted(set(names) - set(RECOGNISERS))):
        print(f"--recognisers: unknown {', '.join(unknown) if names else '(none given)'}; "
              f"expected some of {', '.join(RECOGNISERS)}", file=sys.stderr)
        return 2
    settings = load_settings()
    ears = _ears(names, settings)
    report: dict[str, object] = {"recognisers": names}
    if not args.no_questions:
        styles = [style.strip() for style in args.styles.split(",") if style.strip()]
        try:
            speeds = [float(speed) for speed in args.speeds.split(",")]
        except ValueError as exc:
            print(f"--speeds: {exc}", file=sys.stderr)
            return 2
        sentences = QUESTIONS[: args.questions or None]
        tts = kokoro_tts.KokoroTTS(kokoro_tts.resolve(settings.tts.korean_voice, settings.models_dir), speed=1.0,
                                   threads=settings.tts.threads)
        if unknown := sorted(set(styles) - set(tts.voices())):
            print(f"--styles: no style {', '.join(unknown)}; known: {', '.join(tts.voices())}", file=sys.stderr)
            return 2
        hearings: list[Hearing] = []
        aheads: list[ReadAhead] = []
        print(f"{len(sentences)} questions; understood: CER ≤ {UNDERSTOOD_CER}")
        print(f"{'heard by':<8} {'style':<16} {'speed':>5} {'CER':>6} {'understood':>11} {'audio s':>8} {'RTF':>6}",
              flush=True)
        for speaker in speakers(styles, speeds):
            speak = remembered(kokoro_speaker(tts, speaker))
            heard: dict[str, Hearing] = {}
            for ear in ears:
                ear.busy_s = ear.audio_s = 0.0
                hearing = heard[ear.name] = hear_questions(speaker, speak, ear, sentences, ear.name)
                hearing.rtf = round(ear.rtf(), 3)
                hearings.append(hearing)
                _print_hearing(hearing, args.verbose)
            if args.read_ahead:
                aheads += [read_ahead(speaker, speak, ear, heard[ear.name], heard.get("whisper")) for ear in ears]
        report["questions"] = [asdict(h) for h in hearings]
        if aheads:
            print(f"\nread ahead with {READ_AHEAD_AT:.0%} of the audio in: read (settled words to decode), whole "
                  "(all of them start the final transcript), kept (letters that do), CER against the final's start, "
                  "whole against whisper's final, ms to the read-ahead")
            print(f"{'heard by':<8} {'speaker':<40} {'read':>5} {'whole':>6} {'kept':>5} {'CER':>6} {'whisper':>8} "
                  f"{'ms':>7}")
            for ahead in aheads:
                _print_ahead(ahead, args.verbose)
            report["read_ahead"] = [asdict(a) for a in aheads]
    try:
        clips = load_digits(args.digits_dir)
    except FileNotFoundError as exc:
        print(f"\n{exc}", file=sys.stderr)
    else:
        digits: dict[str, object] = {}
        for ear in ears:
            print(f"\ndigits heard by {ear.name}")
            result = hear_digits(clips, ear.hear)
            _print_digits(result)
            digits[ear.name] = asdict(result)
        report["digits"] = digits
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
