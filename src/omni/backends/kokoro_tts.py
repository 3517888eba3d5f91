"""Kokoro-82M neural TTS speaking Korean: any Kokoro ONNX export with its vocab and voice styles, in one folder.

Kokoro takes phonemes, not text: a reply is first written the way it is read (numbers, dates, units and letters
in Hangul, markdown and emoji out: :func:`omni.text.korean_normalize.normalize_korean`), then
:mod:`omni.text.korean_ipa` writes it in the phonemes Kokoro knows. Kokoro is not a streaming model, so a sentence
is voiced clause by clause (split after commas and sentence ends) and each clause becomes one :class:`AudioChunk`
as soon as it is made: the first audio of a long sentence comes after its first clause, not after all of it.
Synthesis runs in a worker thread and stops between clauses when the consumer goes away. Audio is 24 kHz, Kokoro's
rate.

A Kokoro voice style is a table of 510 style vectors, one per input length; the row for the clause's own phoneme
count is taken, as Kokoro was trained.
"""

from __future__ import annotations

import importlib
import itertools
import json
import os
import re
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from omni.aio import closing, iterate_in_thread
from omni.backends.base import TTS
from omni.config import Settings
from omni.cores import CORES
from omni.errors import BackendError, BackendUnavailableError, ModelNotFoundError
from omni.text import korean_ipa
from omni.text.korean_normalize import normalize_korean
from omni.text.language import hangul_syllables
from omni.types import AudioChunk, Samples

SAMPLE_RATE = 24000
MAX_PHONEMES = 510
"""Kokoro's context is 512 tokens, two of which are the pads around the phonemes."""
DEFAULT_STYLE = "jf_gongitsune"
"""The style whisper understood best in Korean (docs/languages.md, "Korean voice")."""
KOREAN_SPEED = 1.0
"""Kokoro's pace for Korean, before ``tts.speed``; the measured best (docs/languages.md)."""

CONNECTIVES = ("지만", "는데", "은데", "니까", "면서", "어서", "아서", "해서", "라서", "려고", "도록")
"""Verb endings that close a clause inside a sentence ("-지만" but, "-는데", "-니까" so, "-어서" and then...);
"-고" is left out, since many nouns end in 고 (냉장고)."""
MIN_SPLIT_SYLLABLES = 6
_CLAUSE_END = re.compile(r"(?<=[,.!?;:…。、，！？])\s+|\n+")
_SOUND = 0.01
"""Samples louder than this (-40 dBFS) are sound; Kokoro's silences stay below it."""
_KEEP = int(0.03 * SAMPLE_RATE)
"""Kept around the first and last sound of a clause, so onsets and releases are not cut."""
LONGEST_PAUSE = 0.15
"""The longest silence kept inside a clause. Kokoro stops for up to half a second at some spaces between words
(잠을 잘 | 자기: 560 ms), which breaks a phrase that should flow and is longer than the 500 ms a listener's turn
detector waits; such a pause is shortened to this (docs/languages.md measures what it changes)."""
_FRAME = int(0.01 * SAMPLE_RATE)
PAUSES = {",": 0.12, ";": 0.15, ":": 0.15, "—": 0.12, ".": 0.3, "!": 0.3, "?": 0.3, "…": 0.35}
"""Silence after a clause that ends in this mark (Kokoro's own trailing silence is trimmed); none after the last."""

Phonemizer = Callable[[str], str]
Normalizer = Callable[[str], str]


def default_threads() -> int:
    """ONNX intra-op threads: every core up to four; the LLM waits while speech is synthesised (:mod:`omni.cores`)."""
    return max(1, min(os.cpu_count() or 1, 4))


def clauses(text: str, *, connectives: bool = False) -> list[str]:
    """``text`` split after each comma, clause or sentence end (a mark followed by a space) and at line breaks.

    ``connectives`` also splits a long clause after a word with a connective ending ("태어났지만 지금은"), when
    both sides keep :data:`MIN_SPLIT_SYLLABLES` syllables.
    """
    pieces = [piece.strip() for piece in _CLAUSE_END.split(text) if piece.strip()]
    if not connectives:
        return pieces
    return [part for piece in pieces for part in _at_connectives(piece)]


def _at_connectives(clause: str) -> list[str]:
    words = clause.split(" ")
    parts: list[str] = []
    start = 0
    for i, word in enumerate(words[:-1]):
        before = hangul_syllables(" ".join(words[start:i + 1]))
        after = hangul_syllables(" ".join(words[i + 1:]))
        if word.endswith(CONNECTIVES) and before >= MIN_SPLIT_SYLLABLES and after >= MIN_SPLIT_SYLLABLES:
            parts.append(" ".join(words[start:i + 1]))
            start = i + 1
    parts.append(" ".join(words[start:]))
    return parts


@dataclass(frozen=True)
class KokoroFiles:
    """The three files of a Kokoro voice: the ONNX model, its phoneme vocabulary, its voice styles."""

    model: Path
    vocab: Path
    voices: Path

    @staticmethod
    def find(folder: Path) -> KokoroFiles:
        """The files in ``folder``: one ``*.onnx``, ``vocab.json`` (or a ``config.json`` with a ``vocab``), and the
        styles as a NumPy archive (``*.npz``, or kokoro-onnx's ``voices*.bin``, which is one)."""
        if not folder.is_dir():
            raise ModelNotFoundError(
                f"{folder} is not a Kokoro voice folder (a *.onnx model, vocab.json and a voices .npz)"
            )
        models = sorted(folder.glob("*.onnx"))
        vocab = next((p for p in (folder / "vocab.json", folder / "config.json") if p.is_file()), None)
        voices = sorted(folder.glob("*.npz")) or sorted(folder.glob("voices*.bin"))
        missing = [what for what, found in (("a *.onnx model", models), ("vocab.json", vocab),
                                            ("a voices .npz", voices)) if not found]
        if missing:
            raise ModelNotFoundError(f"the Kokoro voice folder {folder} has no {', '.join(missing)}")
        if len(models) > 1:
            raise ModelNotFoundError(f"{folder} holds several ONNX models ({', '.join(p.name for p in models)})")
        assert vocab is not None
        return KokoroFiles(models[0], vocab, voices[0])


def load_vocab(path: Path) -> dict[str, int]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        table = data.get("vocab", data) if isinstance(data, dict) else None
        if not isinstance(table, dict) or not table:
            raise ValueError("no phoneme table")
        return {str(symbol): int(index) for symbol, index in table.items()}
    except (OSError, ValueError, TypeError) as exc:
        raise ModelNotFoundError(f"{path} is not a Kokoro vocabulary: {exc}") from exc


def load_styles(path: Path) -> dict[str, npt.NDArray[np.float32]]:
    """Voice name → its (rows, 256) style table."""
    try:
        with np.load(path) as archive:
            styles = {name: np.asarray(archive[name], dtype=np.float32).reshape(-1, 256) for name in archive.files}
    except (OSError, ValueError) as exc:
        raise ModelNotFoundError(f"{path} is not a Kokoro voices archive: {exc}") from exc
    if not styles:
        raise ModelNotFoundError(f"{path} holds no voice styles")
    return styles


class KokoroTTS(TTS):
    """A loaded Kokoro voice. ``voice`` in :meth:`synthesize` picks a style of the model (``jf_alpha``...); other
    names (an OpenAI voice such as "alloy") keep the configured one."""

    sample_rate = SAMPLE_RATE
    language = "ko"
    """What the phonemizer reads; the language router sends this language here."""

    def __init__(
        self,
        folder: Path | str,
        *,
        style: str = DEFAULT_STYLE,
        speed: float = 1.0,
        threads: int = 0,
        phonemize: Phonemizer = korean_ipa.phonemize,
        normalize: Normalizer = normalize_korean,
    ) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        try:
            onnxruntime = importlib.import_module("onnxruntime")  # untyped; used through a few calls
            importlib.import_module("ko_pron")
        except ImportError as exc:
            raise BackendUnavailableError(
                f"the kokoro TTS needs onnxruntime and ko-pron ({exc}); install them with: "
                "make install (or: .venv/bin/pip install -r requirements/runtime.txt)"
            ) from exc
        self.files = KokoroFiles.find(Path(folder).expanduser())
        self._vocab = load_vocab(self.files.vocab)
        self._styles = load_styles(self.files.voices)
        if style not in self._styles:
            raise ModelNotFoundError(
                f"the Kokoro voices in {self.files.voices} have no style {style!r}; "
                f"known: {', '.join(sorted(self._styles))}"
            )
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or default_threads()
        options.inter_op_num_threads = 1
        # Idle ONNX threads would otherwise spin for a while after each clause, on the cores the LLM resumes on.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self._session: Any = onnxruntime.InferenceSession(
                str(self.files.model), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:
            raise BackendError(self.stage, f"cannot load Kokoro model {self.files.model}: {exc}") from exc
        self.style = style
        self.speed = speed
        self.threads = options.intra_op_num_threads
        self.phonemize = phonemize
        self.normalize = normalize
        # The first run sets up the ONNX session's buffers and the first phonemization loads ko-pron's tables: the
        # first Korean reply of a fresh server came 0.5 s later than the same reply after it. Paid here, at load.
        self.infer(self.tokens(self.phonemize(self.normalize("안녕하세요."))), style, speed)

    def __repr__(self) -> str:
        return (f"KokoroTTS({str(self.files.model.parent)!r}, style={self.style!r}, speed={self.speed}, "
                f"threads={self.threads})")

    def voices(self) -> Sequence[str]:
        return tuple(self._styles)

    @property
    def vocab(self) -> Mapping[str, int]:
        return self._vocab

    def tokens(self, phonemes: str) -> list[int]:
        """Kokoro's token ids for ``phonemes``; symbols it does not know are left out."""
        return [self._vocab[symbol] for symbol in phonemes if symbol in self._vocab]

    def infer(self, tokens: Sequence[int], style: str, speed: float, *, style_row: int | None = None,
              longest_pause: float | None = LONGEST_PAUSE) -> Samples:
        """One run of the model: the audio of ``tokens`` (at most :data:`MAX_PHONEMES`), silence trimmed at the
        edges and shortened to ``longest_pause`` inside (None: kept as Kokoro made it)."""
        table = self._styles[style]
        row = min(len(tokens) if style_row is None else style_row, len(table)) - 1
        audio = self._session.run(None, {
            "tokens": np.array([[0, *tokens[:MAX_PHONEMES], 0]], dtype=np.int64),
            "style": table[max(row, 0)].reshape(1, 256),
            "speed": np.array([speed], dtype=np.float32),
        })[0]
        return tighten(trim(np.asarray(audio, dtype=np.float32).ravel()), longest_pause)

    def _style_for(self, voice: str | None) -> str:
        return voice if voice is not None and voice in self._styles else self.style

    def _clauses(self, text: str, style: str, speed: float, stop: threading.Event) -> Iterator[AudioChunk]:
        with CORES.speech():
            # Written as it is read before the split: an emoji or a markdown line is no clause of its own.
            pieces = clauses(self.normalize(text))
            for i, clause in enumerate(pieces):
                if stop.is_set():
                    return
                parts = [tokens for part in fit_phonemes(self.phonemize(clause)) if (tokens := self.tokens(part))]
                for j, tokens in enumerate(parts):
                    audio = self.infer(tokens, style, speed)
                    if j == len(parts) - 1 and i < len(pieces) - 1:
                        pause = PAUSES.get(clause[-1], 0.0)
                        audio = np.concatenate([audio, np.zeros(round(pause * SAMPLE_RATE), dtype=np.float32)])
                    if audio.size:
                        yield AudioChunk(audio, SAMPLE_RATE)

    async def _synthesize(
        self, text: str, voice: str | None, language: str | None, speed: float
    ) -> AsyncIterator[AudioChunk]:
        if not text.strip():
            return
        style = self._style_for(voice)
        pace = self.speed * speed
        # When the consumer stops, the worker thread is stopped and awaited before this returns.
        async with closing(iterate_in_thread(lambda stop: self._clauses(text, style, pace, stop))) as chunks:
            async for chunk in chunks:
                yield chunk


def trim(audio: Samples) -> Samples:
    """``audio`` without the silence before its first and after its last sound (a little of it kept)."""
    loud = np.flatnonzero(np.abs(audio) > _SOUND)
    if not len(loud):
        return audio[:0]
    return audio[max(0, int(loud[0]) - _KEEP): int(loud[-1]) + _KEEP]


def tighten(audio: Samples, longest: float | None = LONGEST_PAUSE) -> Samples:
    """``audio`` with each silence between two sounds shortened to ``longest`` seconds, its middle cut out (both
    ends of the silence are kept, so a sound's release and the next onset are not touched)."""
    frames = len(audio) // _FRAME
    if longest is None or frames < 3:
        return audio
    loud = np.abs(audio[:frames * _FRAME]).reshape(frames, _FRAME).max(axis=1) > _SOUND
    bounds = [0, *(np.flatnonzero(np.diff(loud.astype(np.int8))) + 1).tolist(), frames]
    kept = round(longest * SAMPLE_RATE)
    keep = np.ones(len(audio), dtype=bool)
    for start, end in itertools.pairwise(bounds):
        if loud[start] or start == 0 or end == frames:
            continue  # a sound, or the silence at an edge (trim's business)
        extra = (end - start) * _FRAME - kept
        if extra > 0:
            cut = start * _FRAME + kept // 2
            keep[cut: cut + extra] = False
    return audio[keep]


def fit_phonemes(phonemes: str) -> list[str]:
    """Phonemes cut at spaces into pieces Kokoro takes in one run (a clause is almost always one)."""
    if not any(symbol.isalpha() for symbol in phonemes):
        return []  # punctuation alone: Kokoro would make a short noise of it
    if len(phonemes) <= MAX_PHONEMES:
        return [phonemes]
    pieces: list[str] = []
    current = ""
    for word in phonemes.split(" "):
        if current and len(current) + 1 + len(word) > MAX_PHONEMES:
            pieces.append(current)
            current = word[:MAX_PHONEMES]
        else:
            current = f"{current} {word}".strip()[:MAX_PHONEMES]
    if current:
        pieces.append(current)
    return pieces


def resolve(name_or_path: str, models_dir: Path) -> Path:
    """The folder of the Kokoro voice a setting names: a path to one, or a model name from the manifest."""
    from omni.models import store

    candidate = Path(name_or_path).expanduser()
    if name_or_path and candidate.is_dir():
        return candidate
    return store.resolve(name_or_path, "tts", models_dir)


def create(settings: Settings) -> KokoroTTS:
    tts = settings.tts
    return KokoroTTS(
        resolve(tts.korean_voice, settings.models_dir),
        style=tts.korean_style,
        speed=KOREAN_SPEED * tts.speed,
        threads=tts.threads,
    )
