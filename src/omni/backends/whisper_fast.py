"""Whisper decoding sized to the utterance: log-mel of the real audio, a short pad, one encode, one generate.

faster-whisper's ``transcribe()`` pads every input to a 30 s window, so a two-second utterance pays for
encoding thirty. The CTranslate2 encoder accepts fewer frames, and its cost grows faster than linearly with
them, so here the features cover the audio padded up to :data:`MIN_FRAMES` (10 s). Measured on Piper and
human English clips, shorter windows make whisper base repeat the sentence after it has finished ("Turn
off the lights. Turn off the lights. Turn off the ..."), while a 10 s floor removed every such loop and
matched the 30 s transcripts. A decode that still loops or runs out of length is flagged so the caller can
redo it the slow way.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from omni.types import Samples

SAMPLE_RATE = 16000
HOP = 160
MAX_FRAMES = 3000
"""The encoder's window: 30 s of 10 ms frames."""
MIN_FRAMES = 1000
"""Shorter inputs are padded to this many frames (10 s) with the same zeros ``transcribe()`` pads with."""
MAX_SAMPLES = MAX_FRAMES * HOP
MAX_LENGTH = 448
"""Whisper's decoder context, prompt included."""
MAX_PROMPT_TOKENS = 64
"""The most of a prompt the decoder is given (its last tokens): whisper was trained with up to half its context."""
TOKENS_PER_SECOND = 24
"""Generation bound per second of audio: fast English is ~8 tokens/s, Korean up to ~15."""
NO_SPEECH_THRESHOLD = 0.6
LOG_PROB_THRESHOLD = -1.0
COMPRESSION_RATIO_THRESHOLD = 2.4


@dataclass(frozen=True)
class Decoded:
    text: str
    language: str
    language_probability: float
    no_speech_prob: float
    avg_logprob: float
    suspect: bool
    """The output loops or hit the length bound: worth redoing with the full 30 s window."""

    @property
    def is_silence(self) -> bool:
        """Whisper's own rule: likely no speech, and the text it produced is not confident either.

        Requiring both matters for Korean, whose real speech often gets a high no-speech probability
        from the small models while its text is confident.
        """
        return self.no_speech_prob > NO_SPEECH_THRESHOLD and self.avg_logprob < LOG_PROB_THRESHOLD


def normalise_language(language: str) -> str:
    """``"en-US"`` → ``"en"``: whisper knows languages by their ISO 639-1 code."""
    return language.strip().lower().replace("_", "-").split("-")[0]


def pad_features(features: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Trim to the encoder window, pad up to :data:`MIN_FRAMES` with zeros (as ``transcribe()`` does)."""
    features = features[:, :MAX_FRAMES]
    missing = MIN_FRAMES - features.shape[1]
    if missing > 0:
        features = np.pad(features, ((0, 0), (0, missing)))
    return np.ascontiguousarray(features[None], dtype=np.float32)


def likeliest(scored: Iterable[tuple[str, float]], among: frozenset[str] = frozenset()) -> tuple[str, float]:
    """The first (language, probability) of ``scored`` (likeliest first) whose language is in ``among``; with
    ``among`` empty, or none of it scored, the first."""
    ranked = list(scored)
    return next((pair for pair in ranked if pair[0] in among), ranked[0])


_WORD = re.compile(r"\w+")


def repeats_at_end(text: str) -> bool:
    """The words end in a block repeated right after itself (possibly cut short): whisper's decoding loop."""
    words = _WORD.findall(text.lower())
    n = len(words)
    for period in range(1, n // 2 + 1):
        run = 0
        for i in range(n - 1, period - 1, -1):
            if words[i] != words[i - period]:
                break
            run += 1
        if run >= period:
            return True
    return False


def compression_ratio(text: str) -> float:
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


class FastDecoder:
    """Encode and decode one utterance of at most 30 s with a faster-whisper ``WhisperModel``'s parts."""

    def __init__(self, whisper: Any) -> None:
        from faster_whisper.tokenizer import _LANGUAGE_CODES, Tokenizer

        self._whisper = whisper
        self._model = whisper.model  # ctranslate2.models.Whisper
        self._features = whisper.feature_extractor
        self._tokenizer_class = Tokenizer
        self.multilingual: bool = bool(self._model.is_multilingual)
        self.languages: frozenset[str] = frozenset(_LANGUAGE_CODES) if self.multilingual else frozenset({"en"})

    def decode(self, audio: Samples, language: str | None, beam_size: int,
               among: frozenset[str] = frozenset(), prompt: str | None = None) -> Decoded:
        """``language`` None: detected, as the likeliest of ``among`` (empty: of every language). ``prompt``: text
        given to the decoder as what came before, which steers the spelling (:meth:`omni.backends.base.STT.
        transcribe`)."""
        import ctranslate2
        from faster_whisper.transcribe import get_suppressed_tokens

        features = pad_features(self._features(audio))
        encoded = self._model.encode(ctranslate2.StorageView.from_array(features))
        probability = 1.0
        if language is None and self.multilingual:
            language, probability = likeliest(
                ((str(token)[2:-2], float(p)) for token, p in self._model.detect_language(encoded)[0]), among)
        language = language if self.multilingual and language else "en"
        tokenizer = self._tokenizer_class(
            self._whisper.hf_tokenizer, self.multilingual, task="transcribe", language=language
        )
        before = [tokenizer.sot_prev, *tokenizer.encode(" " + prompt.strip())[-MAX_PROMPT_TOKENS:]] if prompt else []
        start = [*tokenizer.sot_sequence, tokenizer.no_timestamps]
        seconds = len(audio) / SAMPLE_RATE
        max_length = min(MAX_LENGTH, len(before) + len(start) + 16 + int(TOKENS_PER_SECOND * seconds))
        result = self._model.generate(
            encoded,
            [before + start],
            beam_size=beam_size,
            max_length=max_length,
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=list(get_suppressed_tokens(tokenizer, [-1])),
        )[0]
        tokens: list[int] = list(result.sequences_ids[0])
        text = str(tokenizer.decode(tokens)).strip()
        # ctranslate2 returns the length-normalised cumulative log-probability (length_penalty 1).
        avg_logprob = float(result.scores[0]) * len(tokens) / (len(tokens) + 1)
        hit_bound = len(before) + len(start) + len(tokens) >= max_length
        suspect = hit_bound or repeats_at_end(text) or compression_ratio(text) > COMPRESSION_RATIO_THRESHOLD
        return Decoded(
            text=text,
            language=language,
            language_probability=float(probability),
            no_speech_prob=float(result.no_speech_prob),
            avg_logprob=avg_logprob,
            suspect=suspect,
        )
