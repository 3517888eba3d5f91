"""Realtime audio on the wire: base64 ``audio/pcm`` (24 kHz 16-bit LE mono), ``audio/pcmu`` and ``audio/pcma``
(G.711 at 8 kHz), decoded into engine audio and encoded from it."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Literal

from omni.audio.pcm import alaw_decode, alaw_encode, float_to_pcm16, pcm16_to_float, ulaw_decode, ulaw_encode
from omni.audio.resample import resample
from omni.types import AudioChunk

FormatType = Literal["audio/pcm", "audio/pcmu", "audio/pcma"]
BETA_NAMES: dict[str, FormatType] = {"pcm16": "audio/pcm", "g711_ulaw": "audio/pcmu", "g711_alaw": "audio/pcma"}


@dataclass(frozen=True)
class WireFormat:
    type: FormatType = "audio/pcm"

    @property
    def rate(self) -> int:
        return 24000 if self.type == "audio/pcm" else 8000

    @property
    def beta_name(self) -> str:
        return next(name for name, kind in BETA_NAMES.items() if kind == self.type)

    def as_dict(self) -> dict[str, object]:
        return {"type": self.type, "rate": 24000} if self.type == "audio/pcm" else {"type": self.type}

    def decode(self, data: str) -> AudioChunk:
        """Base64 text to audio; raises ValueError naming what is wrong."""
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError(f"audio is not valid base64: {exc}") from exc
        if self.type == "audio/pcm":
            if len(raw) % 2:
                raise ValueError("audio/pcm must be 16-bit samples: an even number of bytes")
            return AudioChunk(pcm16_to_float(raw), self.rate)
        decode = ulaw_decode if self.type == "audio/pcmu" else alaw_decode
        return AudioChunk(decode(raw), self.rate)

    def encode(self, chunk: AudioChunk) -> str:
        samples = chunk.samples if chunk.sample_rate == self.rate else resample(chunk.samples, chunk.sample_rate,
                                                                                 self.rate)
        if self.type == "audio/pcm":
            raw = float_to_pcm16(samples)
        else:
            raw = (ulaw_encode if self.type == "audio/pcmu" else alaw_encode)(samples)
        return base64.b64encode(raw).decode("ascii")


def parse_format(value: object) -> WireFormat:
    """A GA format object (``{"type": "audio/pcm", "rate": 24000}``) or a beta name (``"pcm16"``)."""
    if isinstance(value, str) and value in BETA_NAMES:
        return WireFormat(BETA_NAMES[value])
    if isinstance(value, dict) and value.get("type") in ("audio/pcm", "audio/pcmu", "audio/pcma"):
        if value.get("type") == "audio/pcm" and value.get("rate", 24000) != 24000:
            raise ValueError("audio/pcm is supported at rate 24000 only")
        return WireFormat(value["type"])
    raise ValueError(f"unsupported audio format {value!r}: use audio/pcm (24 kHz), audio/pcmu or audio/pcma")
