"""The kept set of conversational scenarios of ``omni bench --suite turns``, and how each is made into sound.

Nothing is recorded or committed: every scenario is spoken at bench time by one of several voices — the Piper voice
(English; one speaker, so it speaks at three paces), the Korean voice (Kokoro through the language-routing TTS, in
five of its styles) and espeak-ng (English and Korean, in a few of its voices) — without random variation, so a run
hears the same audio as the last one. Every user utterance is set to the same speech level (:data:`USER_DBFS`);
background sounds and echoes are given in dB relative to it or to the playback.

A sentence with a pause (``pause``, ``list``, ``number``) is rendered in one go and cut where the pause mark falls
(:func:`omni.bench.turn_audio.find_cuts`, on whisper's word timestamps), so the words before the pause carry the
prosody of a sentence that goes on, not of a finished fragment.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from omni.audio.resample import resample
from omni.audio.silence import first_sound, last_sound
from omni.backends.base import TTS
from omni.backends.espeak_tts import EspeakTTS
from omni.bench.turn_audio import (
    MARK,
    RATE,
    USER_DBFS,
    Cut,
    Word,
    at_level,
    cough,
    cuts_at_gaps,
    find_cuts,
    insert_pauses,
    mix,
    pink_noise,
    spoken_text,
    white_noise,
    word_gaps,
)
from omni.config import Settings
from omni.errors import BackendError, ConfigError
from omni.types import Samples

Kind = Literal["pause", "list", "number", "complete", "backchannel", "interruption", "echo", "background"]
KINDS: tuple[Kind, ...] = ("pause", "list", "number", "complete", "backchannel", "interruption", "echo",
                           "background")
TURN_KINDS: tuple[Kind, ...] = ("pause", "list", "number", "complete")
"""The user takes a turn; the rest are sounds during the assistant's reply."""
PAUSED_KINDS: tuple[Kind, ...] = ("pause", "list", "number")
Expect = Literal["one turn", "no interruption", "interruption"]
ONE_TURN: Expect = "one turn"
NO_INTERRUPTION: Expect = "no interruption"
INTERRUPTION: Expect = "interruption"


@dataclass(frozen=True)
class Voice:
    engine: Literal["piper", "kokoro", "espeak"]
    name: str | None = None
    """Kokoro: the style; espeak-ng: the voice (``en-us+f3``: a variant); Piper: its one speaker."""
    speed: float = 1.0

    @property
    def label(self) -> str:
        name = {"piper": "piper", "kokoro": "kokoro", "espeak": "espeak-ng"}[self.engine]
        pace = f" x{self.speed:g}" if self.speed != 1.0 else ""
        return f"{name}{' ' + self.name if self.name else ''}{pace}"


PIPER, PIPER_SLOW, PIPER_FAST = Voice("piper"), Voice("piper", speed=0.85), Voice("piper", speed=1.2)
ESPEAK_US, ESPEAK_GB, ESPEAK_F = Voice("espeak", "en-us"), Voice("espeak", "en-gb"), Voice("espeak", "en-us+f3")
ESPEAK_KO = Voice("espeak", "ko")
KO_GONGITSUNE, KO_ALPHA, KO_KUMO = Voice("kokoro", "jf_gongitsune"), Voice("kokoro", "jf_alpha"), \
    Voice("kokoro", "jm_kumo")
KO_NEZUMI, KO_TEBUKURO = Voice("kokoro", "jf_nezumi"), Voice("kokoro", "jf_tebukuro")


@dataclass(frozen=True)
class Said:
    """Words a voice says; ``|`` in ``text`` marks a pause, ``pauses`` their lengths in seconds."""

    text: str
    language: str
    voice: Voice
    pauses: tuple[float, ...] = ()


@dataclass(frozen=True)
class Spec:
    """One scenario, as plain data."""

    id: str
    kind: Kind
    said: tuple[Said, ...] = ()
    """The user's words; a ``background`` voice or babble (several, mixed); empty for a noise or a bare echo."""
    noise: Literal["white", "pink", "cough"] | None = None
    seconds: float = 0.0
    """How long a noise lasts."""
    level_db: float | None = None
    """``background``: dB relative to the user's speech level; ``echo``: dB relative to the playback."""
    delay_ms: float | None = None
    """``echo``: how much later the microphone hears the playback."""

    @property
    def expect(self) -> Expect:
        if self.kind in TURN_KINDS:
            return ONE_TURN
        if self.kind == "interruption" or (self.kind == "echo" and self.said):
            return INTERRUPTION
        return NO_INTERRUPTION


def _said(text: str, language: str, voice: Voice, *pauses: float) -> tuple[Said, ...]:
    if text.count(MARK) != len(pauses):
        raise ValueError(f"{text!r}: one pause per mark")
    return (Said(text, language, voice, tuple(pauses)),)


SCENARIOS: tuple[Spec, ...] = (
    # a thinking pause mid-sentence: one turn
    Spec("pause-en-table", "pause", _said(
        "Please book me a table at | the Italian restaurant near the station.", "en", PIPER, 1.0)),
    Spec("pause-en-sister", "pause", _said(
        "Can you remind me to call | my sister tomorrow morning?", "en", PIPER_SLOW, 0.8)),
    Spec("pause-en-airport", "pause", _said(
        "I was wondering if you could | tell me how to get to the airport.", "en", ESPEAK_US, 1.2)),
    Spec("pause-en-weekend", "pause", _said(
        "What I really want to know is | whether it will rain this weekend.", "en", PIPER_FAST, 1.5)),
    Spec("pause-en-alarm", "pause", _said(
        "Could you set an alarm for | six thirty tomorrow?", "en", ESPEAK_GB, 0.6)),
    Spec("pause-ko-mom", "pause", _said("내일 아침에 | 엄마한테 전화하라고 알려 줘.", "ko", KO_GONGITSUNE, 1.0)),
    Spec("pause-ko-train", "pause", _said("이번 주말에 | 부산 가는 기차표 좀 찾아 줄래?", "ko", KO_KUMO, 0.7)),
    Spec("pause-ko-cook", "pause", _said("오늘 저녁에 먹을 | 간단한 요리 하나 추천해 줘.", "ko", KO_TEBUKURO, 1.3)),
    # lists said with pauses between the items: one turn
    Spec("list-en-groceries", "list", _said("I need eggs, | milk, | and bread.", "en", PIPER, 0.8, 1.0)),
    Spec("list-en-fruit", "list", _said(
        "Add apples, | bananas, | and some orange juice to my list.", "en", ESPEAK_F, 0.7, 1.2)),
    Spec("list-ko-market", "list", _said("장 볼 거는 계란, | 우유, | 그리고 빵이야.", "ko", KO_ALPHA, 0.8, 1.1)),
    # numbers read in groups: one turn
    Spec("number-en-phone", "number", _said(
        "My number is oh one oh, | one two three four, | five six seven eight.", "en", PIPER_SLOW, 0.8, 0.9)),
    Spec("number-en-code", "number", _said(
        "The code is four seven, | two nine, | one five.", "en", ESPEAK_GB, 1.0, 0.7)),
    Spec("number-ko-phone", "number", _said(
        "제 번호는 공일공, | 일이삼사, | 오육칠팔이에요.", "ko", KO_NEZUMI, 0.9, 1.1)),
    Spec("number-ko-espeak", "number", _said("공일공, | 일이삼사, | 오육칠팔.", "ko", ESPEAK_KO, 0.8, 1.0)),
    # complete short questions, then silence: timed
    Spec("complete-en-moon", "complete", _said("How far away is the moon?", "en", PIPER)),
    Spec("complete-en-flight", "complete", _said("What should I read on a long flight?", "en", PIPER_SLOW)),
    Spec("complete-en-leaves", "complete", _said("Why do leaves turn red in autumn?", "en", PIPER_FAST)),
    Spec("complete-en-dinner", "complete", _said("What's a quick dinner I can cook tonight?", "en", ESPEAK_US)),
    Spec("complete-en-cold", "complete", _said("Will it be cold tomorrow morning?", "en", ESPEAK_GB)),
    Spec("complete-en-owls", "complete", _said("Do owls sleep during the day?", "en", ESPEAK_F)),
    Spec("complete-ko-song", "complete", _said("비 오는 날에 듣기 좋은 노래 있어?", "ko", KO_GONGITSUNE)),
    Spec("complete-ko-cat", "complete", _said("고양이는 하루에 몇 시간 자?", "ko", KO_KUMO)),
    Spec("complete-ko-mountain", "complete", _said("서울에서 제일 높은 산이 뭐야?", "ko", KO_ALPHA)),
    Spec("complete-ko-flu", "complete", _said("감기에 걸렸을 때 뭘 먹으면 좋아?", "ko", KO_TEBUKURO)),
    Spec("complete-ko-sport", "complete", _said("주말에 할 만한 운동 하나 알려 줄래?", "ko", KO_NEZUMI)),
    Spec("complete-ko-espeak", "complete", _said("지금 밖에 비가 와?", "ko", ESPEAK_KO)),
    # backchannels about 1 s into the reply: the reply goes on
    Spec("backchannel-en-mmhm", "backchannel", _said("Mm-hm.", "en", PIPER)),
    Spec("backchannel-en-yeah", "backchannel", _said("Yeah.", "en", PIPER_FAST)),
    Spec("backchannel-en-right", "backchannel", _said("Right.", "en", ESPEAK_US)),
    Spec("backchannel-en-okay", "backchannel", _said("Okay.", "en", ESPEAK_GB)),
    Spec("backchannel-ko-eung", "backchannel", _said("응.", "ko", KO_GONGITSUNE)),
    Spec("backchannel-ko-ne", "backchannel", _said("네.", "ko", KO_KUMO)),
    Spec("backchannel-ko-aha", "backchannel", _said("아하.", "ko", KO_ALPHA)),
    Spec("backchannel-ko-geureokuna", "backchannel", _said("그렇구나.", "ko", ESPEAK_KO)),
    # real interruptions: the reply stops
    Spec("interruption-en-wait", "interruption", _said("Wait.", "en", PIPER)),
    Spec("interruption-en-other", "interruption", _said("No, I meant the other one.", "en", PIPER_SLOW)),
    Spec("interruption-en-stop", "interruption", _said("Stop, stop.", "en", ESPEAK_US)),
    Spec("interruption-en-long", "interruption", _said(
        "Hold on, I actually wanted to ask you about the weather for tomorrow instead.", "en", PIPER_FAST)),
    Spec("interruption-ko-wait", "interruption", _said("잠깐만요.", "ko", KO_NEZUMI)),
    Spec("interruption-ko-no", "interruption", _said("아니, 그게 아니라…", "ko", KO_KUMO)),
    # the reply's own sound through open speakers: the reply goes on (unless someone really interrupts)
    Spec("echo-6db", "echo", level_db=-6, delay_ms=80),
    Spec("echo-12db", "echo", level_db=-12, delay_ms=40),
    Spec("echo-20db", "echo", level_db=-20, delay_ms=120),
    Spec("echo-12db-interruption", "echo", _said("Wait, that's not what I asked.", "en", PIPER), level_db=-12,
         delay_ms=60),
    # someone else talking, and noise: the reply goes on
    Spec("background-voice-en", "background", _said(
        "The meeting moved to Thursday afternoon, so update the calendar.", "en", ESPEAK_GB), level_db=-18),
    Spec("background-voice-ko", "background", _said(
        "어제 그 영화 진짜 재밌었는데 너도 봤어?", "ko", KO_TEBUKURO), level_db=-15),
    Spec("background-babble", "background", (
        Said("I think the train leaves at nine, but it might be late again.", "en", PIPER_SLOW),
        Said("Did you remember to bring the umbrella from the car?", "en", ESPEAK_US),
        Said("점심은 회사 앞 식당에서 먹자.", "ko", KO_ALPHA),
        Said("They said the shop closes early on Sundays.", "en", ESPEAK_F),
    ), level_db=-20),
    Spec("background-white", "background", noise="white", seconds=0.8, level_db=-10),
    Spec("background-pink", "background", noise="pink", seconds=1.5, level_db=-8),
    Spec("background-cough", "background", noise="cough", level_db=8),
)
"""The kept set. Levels: ``background`` relative to the user's speech level (-10 dB white noise is -30 dBFS RMS;
the cough's +8 dB is -12 dBFS at its loudest, the barge-in suite's); ``echo`` relative to the playback."""


@dataclass(frozen=True, eq=False)
class Scenario:
    """A :class:`Spec` made into sound (24 kHz)."""

    spec: Spec
    samples: Samples
    """Turn kinds: the utterance from its first to its last audible sample, pauses in; sounds during a reply: the
    sound from its first audible sample; ``echo``: the interruption over it, or nothing."""
    parts: tuple[float, ...] = ()
    """Where each part after a pause starts, in seconds into :attr:`samples` (its first sample after the pause)."""
    cuts: tuple[Cut, ...] = ()
    voices: tuple[str, ...] = ()
    """Who speaks (several in babble)."""
    transcript: str = ""
    """What whisper heard of the sentence before it was cut (pause kinds), for the results."""
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def kind(self) -> Kind:
        return self.spec.kind

    @property
    def language(self) -> str:
        languages = {said.language for said in self.spec.said}
        return languages.pop() if len(languages) == 1 else ("mixed" if languages else "-")

    @property
    def seconds(self) -> float:
        return self.samples.size / RATE

    @property
    def last_part(self) -> float:
        """Seconds into :attr:`samples` where the last part (after the last pause) starts; 0 without pauses."""
        return self.parts[-1] if self.parts else 0.0

    def describe(self) -> dict[str, Any]:
        spec = self.spec
        return {
            "id": spec.id, "kind": spec.kind, "expect": spec.expect, "language": self.language,
            "text": " / ".join(said.text for said in spec.said), "voices": list(self.voices),
            "pauses": [p for said in spec.said for p in said.pauses], "seconds": round(self.seconds, 3),
            "parts": [round(p, 3) for p in self.parts],
            "cuts": [{"after": c.before, "at": round(c.at / RATE, 3), "method": c.method, "quality": c.quality}
                     for c in self.cuts],
            "heard_before_cutting": self.transcript or None,
            "noise": spec.noise, "level_db": spec.level_db, "delay_ms": spec.delay_ms, **self.notes,
        }


def select(kinds: Sequence[str]) -> list[Spec]:
    return [spec for spec in SCENARIOS if spec.kind in kinds]


def choose(text: str) -> list[Spec]:
    """``--kinds pause,complete`` → the scenarios of those kinds; a scenario's id picks that one alone
    (``pause-en-table``); ``all`` (or nothing) → every scenario. In the kept set's order."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names or names == ["all"]:
        return list(SCENARIOS)
    ids = {spec.id for spec in SCENARIOS}
    unknown = [name for name in names if name not in KINDS and name not in ids]
    if unknown:
        raise ConfigError(f"unknown scenario kind {', '.join(map(repr, unknown))}; expected some of "
                          f"{', '.join(KINDS)} or scenario ids such as {SCENARIOS[0].id} (comma-separated), or all")
    return [spec for spec in SCENARIOS if spec.kind in names or spec.id in names]


WordTimer = Callable[[Samples, str], Sequence[Word]]
"""24 kHz speech and its language → whisper's words with their times."""


def whisper_words(settings: Settings) -> WordTimer:
    """Whisper (the configured STT model, through faster-whisper) writing the words it hears with their times;
    loaded on first use (a sentence the voice itself aligned needs none)."""
    loaded: list[Any] = []

    def words(samples: Samples, language: str) -> list[Word]:
        if not loaded:
            from faster_whisper import WhisperModel

            from omni.models.store import resolve

            path = resolve(settings.stt.model, "stt", settings.models_dir.expanduser())
            loaded.append(WhisperModel(str(path), device="cpu", compute_type="int8", cpu_threads=2,
                                       local_files_only=True))
        segments, _ = loaded[0].transcribe(resample(samples, RATE, 16000), language=language, word_timestamps=True,
                                           beam_size=1, vad_filter=False, condition_on_previous_text=False)
        return [Word(w.word.strip(), float(w.start), float(w.end)) for s in segments for w in (s.words or [])]

    return words


class AlignedPiper:
    """The Piper voice (the configured model, no random variation) with the length of every phoneme it speaks, so
    the gaps between its words are known exactly (piper-tts patches the model in memory to report them; the
    ``onnx`` package does that)."""

    def __init__(self, settings: Settings) -> None:
        from piper import PiperVoice

        from omni.models.store import resolve

        path = resolve(settings.tts.voice, "tts", settings.models_dir.expanduser())
        self.voice: Any = PiperVoice.load(str(path), include_alignments=True)
        self.pace = settings.tts.speed

    def speak(self, text: str, speed: float) -> tuple[Samples, int, list[tuple[str, int]] | None]:
        """The audio, its rate, and each phoneme with its length in samples (None if the voice could not say)."""
        from piper.config import SynthesisConfig

        config = SynthesisConfig(length_scale=float(self.voice.config.length_scale) / (self.pace * speed),
                                 noise_scale=0.0, noise_w_scale=0.0)
        audio: list[Samples] = []
        phonemes: list[tuple[str, int]] | None = []
        for chunk in self.voice.synthesize(text, syn_config=config, include_alignments=True):
            audio.append(np.asarray(chunk.audio_float_array, dtype=np.float32))
            if chunk.phoneme_alignments is None or phonemes is None:
                phonemes = None
            else:
                phonemes += [(a.phoneme, int(a.num_samples)) for a in chunk.phoneme_alignments]
        return np.concatenate(audio), int(self.voice.config.sample_rate), phonemes


class Voices:
    """The voices that speak the scenarios: Piper and Kokoro through ``tts`` (the language-routing voice, without
    random variation), espeak-ng on its own; ``piper``: the Piper voice with its phoneme lengths, for sentences cut
    at a pause."""

    def __init__(self, tts: TTS, piper: AlignedPiper | None = None) -> None:
        self.tts = tts
        self.piper = piper
        self._espeak: dict[str, EspeakTTS] = {}

    def espeak(self, name: str) -> EspeakTTS:
        if name not in self._espeak:
            self._espeak[name] = EspeakTTS(voice=name)
        return self._espeak[name]

    async def say(self, text: str, language: str, voice: Voice) -> Samples:
        """``text`` spoken, at 24 kHz, from its first to its last audible sample, at the user's speech level."""
        if voice.engine == "espeak":
            tts: TTS = self.espeak(voice.name or language)
            name = None
        else:
            tts, name = self.tts, voice.name
        pieces: list[Samples] = []
        rate = tts.sample_rate
        async with aclosing(tts.synthesize(text, voice=name, language=language, speed=voice.speed)) as chunks:
            async for chunk in chunks:
                pieces.append(chunk.samples)
                rate = chunk.sample_rate
        return _spoken(np.concatenate(pieces) if pieces else np.zeros(1, np.float32), rate, voice, text)[0]

    async def say_cut(self, said: Said, words: WordTimer | None) -> tuple[Samples, list[Cut], str]:
        """A sentence with pause marks spoken in one go, where each pause goes, and what whisper heard of it when
        whisper placed the cuts."""
        text = spoken_text(said.text)
        if said.voice.engine == "piper" and self.piper is not None:
            raw, rate, phonemes = await asyncio.to_thread(self.piper.speak, text, said.voice.speed)
            speech, start = _spoken(raw, rate, said.voice, text)
            if phonemes is not None:
                gaps = [(round(a * RATE / rate) - start, round(b * RATE / rate) - start)
                        for a, b in word_gaps(phonemes)]
                cuts = cuts_at_gaps(said.text, speech, gaps)
                if cuts is not None:
                    return speech, cuts, ""
        else:
            speech = await self.say(text, said.language, said.voice)
        if said.voice.engine == "espeak" and said.language == "ko":
            return speech, find_cuts(said.text, said.language, speech, []), ""  # whisper cannot read it (Thai)
        if words is None:
            raise ValueError(f"{said.text!r}: a sentence with pauses needs whisper's word times")
        heard = await asyncio.to_thread(words, speech, said.language)
        return speech, find_cuts(said.text, said.language, speech, heard), " ".join(w.text for w in heard)


def _spoken(samples: Samples, rate: int, voice: Voice, text: str) -> tuple[Samples, int]:
    """At 24 kHz, from the first to the last audible sample, at the user's level; and where it started."""
    audio = resample(samples, rate, RATE)
    start, end = first_sound(audio), last_sound(audio)
    if start is None or end is None:
        raise BackendError("tts", f"{voice.label} made no audible sound for {text!r}")
    return at_level(audio[start : end + 1], USER_DBFS), start


async def build(specs: Sequence[Spec], voices: Voices, words: WordTimer | None) -> list[Scenario]:
    """Every scenario made into sound; ``words`` is needed when one has pauses."""
    return [await build_one(spec, voices, words) for spec in specs]


async def build_one(spec: Spec, voices: Voices, words: WordTimer | None) -> Scenario:
    labels = tuple(said.voice.label for said in spec.said)
    if spec.kind in TURN_KINDS or spec.kind in ("backchannel", "interruption") \
            or (spec.kind == "echo" and spec.said):
        (said,) = spec.said
        if not said.pauses:
            return Scenario(spec, await voices.say(spoken_text(said.text), said.language, said.voice), voices=labels)
        speech, cuts, heard = await voices.say_cut(said, words)
        samples, parts = insert_pauses(speech, [c.at for c in cuts], said.pauses)
        return Scenario(spec, samples, tuple(parts), tuple(cuts), labels, heard)
    if spec.kind == "echo":
        return Scenario(spec, np.zeros(0, np.float32))
    level = USER_DBFS + (spec.level_db or 0.0)
    if spec.noise is not None:
        seed = sum(map(ord, spec.id))
        noise = {"white": lambda: white_noise(spec.seconds, level, seed=seed),
                 "pink": lambda: pink_noise(spec.seconds, level, seed=seed),
                 "cough": lambda: cough(level, seed=seed)}[spec.noise]()
        return Scenario(spec, noise, voices=(spec.noise + " noise",))
    spoken = [await voices.say(spoken_text(s.text), s.language, s.voice) for s in spec.said]
    together = mix(spoken, offsets=[0.35 * i for i in range(len(spoken))])
    return Scenario(spec, at_level(together, level), voices=labels)
