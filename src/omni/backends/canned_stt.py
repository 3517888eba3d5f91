"""A canned STT for benchmarks and demos: every utterance is heard as the same fixed text, with no model behind it.

``omni bench --suite scale --stt canned`` uses it to measure the protocol, VAD and endpointing alone, without
whisper's cost; the text is ``stt.canned_transcript``, the language ``stt.language`` (English when unset).
"""

from __future__ import annotations

from omni.backends.base import STT
from omni.config import Settings
from omni.types import Samples, Transcript

DEFAULT_TRANSCRIPT = "What is the capital of France?"


class CannedSTT(STT):
    """Returns :attr:`text` for any audio, at once."""

    def __init__(self, text: str = DEFAULT_TRANSCRIPT, *, language: str | None = None) -> None:
        self.text = text
        self.language = language or "en"

    def __repr__(self) -> str:
        return f"CannedSTT({self.text!r}, language={self.language!r})"

    async def _transcribe(self, audio: Samples, language: str | None) -> Transcript:
        return Transcript(self.text, language or self.language, 1.0)


def create(settings: Settings) -> CannedSTT:
    return CannedSTT(settings.stt.canned_transcript, language=settings.stt.language)
