"""Sample formats on the wire: 16-bit little-endian PCM, G.711 μ-law and A-law, and signal level in dBFS."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from omni.types import Samples

_INT16_SCALE = 32768.0
_PCM16 = np.dtype("<i2")


def float_to_pcm16(samples: Samples) -> bytes:
    """float32 in [-1, 1] (clipped) to 16-bit little-endian PCM bytes."""
    return _to_int16(samples).astype(_PCM16).tobytes()


def pcm16_to_float(data: bytes | bytearray | memoryview) -> Samples:
    """16-bit little-endian PCM bytes to float32 in [-1, 1); a trailing odd byte is an error."""
    if len(data) % 2:
        raise ValueError(f"16-bit PCM needs an even number of bytes, got {len(data)}")
    ints = np.frombuffer(data, dtype=_PCM16)
    return (ints.astype(np.float32) / np.float32(_INT16_SCALE)).astype(np.float32)


def _to_int16(samples: Samples) -> npt.NDArray[np.int32]:
    """Samples scaled to 16-bit and rounded, held as int32 so the codec bit arithmetic has room."""
    scaled: npt.NDArray[np.float32] = np.asarray(samples, dtype=np.float32) * np.float32(_INT16_SCALE)
    return np.clip(np.rint(scaled), -32768, 32767).astype(np.int32)


# -- G.711 μ-law (ITU-T G.711 in the Sun reference layout, bit-exact with it) -----------------------------

_ULAW_BIAS = 0x84
_ULAW_BIAS14 = _ULAW_BIAS >> 2
_ULAW_CLIP14 = 8159


def _segment(magnitude: npt.NDArray[np.int32], first_bit: int) -> npt.NDArray[np.int32]:
    """Index of the highest set bit above ``first_bit``, clamped to the eight G.711 segments."""
    shifted = magnitude >> first_bit
    seg = np.zeros_like(magnitude)
    for bit in range(1, 8):
        seg = np.where(shifted >= (1 << bit), bit, seg)
    return seg


def ulaw_encode(samples: Samples) -> bytes:
    """float32 samples to G.711 μ-law bytes (``audio/pcmu``), one byte a sample."""
    pcm14 = _to_int16(samples) >> 2
    mask = np.where(pcm14 < 0, 0x7F, 0xFF)
    magnitude = np.minimum(np.minimum(np.abs(pcm14), _ULAW_CLIP14) + _ULAW_BIAS14, 0x1FFF)
    exponent = _segment(magnitude, 5)
    mantissa = (magnitude >> (exponent + 1)) & 0x0F
    code = ((exponent << 4) | mantissa) ^ mask
    return bytes(code.astype(np.uint8).tobytes())


def ulaw_decode(data: bytes | bytearray | memoryview) -> Samples:
    """G.711 μ-law bytes to float32 samples."""
    code = ~np.frombuffer(data, dtype=np.uint8).astype(np.int32) & 0xFF
    sign = code & 0x80
    exponent = (code >> 4) & 0x07
    mantissa = code & 0x0F
    magnitude = (((mantissa << 3) + _ULAW_BIAS) << exponent) - _ULAW_BIAS
    pcm = np.where(sign != 0, -magnitude, magnitude)
    return (pcm.astype(np.float32) / np.float32(_INT16_SCALE)).astype(np.float32)


# -- G.711 A-law -------------------------------------------------------------------------------------------

def alaw_encode(samples: Samples) -> bytes:
    """float32 samples to G.711 A-law bytes (``audio/pcma``), one byte a sample."""
    pcm = _to_int16(samples)
    # A-law works on 13-bit magnitudes; the sign bit is set for positive values before the 0x55 inversion.
    sign = np.where(pcm >= 0, 0x80, 0x00)
    magnitude = np.where(pcm >= 0, pcm, -pcm - 1) >> 3
    magnitude = np.minimum(magnitude, 0x0FFF)
    exponent = _segment(magnitude, 4)
    mantissa = np.where(exponent == 0, magnitude >> 1, magnitude >> exponent) & 0x0F
    code = (sign | (exponent << 4) | mantissa) ^ 0x55
    return bytes(code.astype(np.uint8).tobytes())


def alaw_decode(data: bytes | bytearray | memoryview) -> Samples:
    """G.711 A-law bytes to float32 samples."""
    code = np.frombuffer(data, dtype=np.uint8).astype(np.int32) ^ 0x55
    sign = code & 0x80
    exponent = (code >> 4) & 0x07
    mantissa = code & 0x0F
    magnitude = np.where(
        exponent == 0,
        (mantissa << 4) + 8,
        ((mantissa << 4) + 0x108) << np.maximum(exponent - 1, 0),
    )
    pcm = np.where(sign != 0, magnitude, -magnitude)
    return (pcm.astype(np.float32) / np.float32(_INT16_SCALE)).astype(np.float32)


# -- level -------------------------------------------------------------------------------------------------

SILENCE_DBFS = -120.0
"""What :func:`rms_dbfs` reports for digital silence or an empty clip, instead of minus infinity."""


def rms_dbfs(samples: Samples) -> float:
    """RMS level relative to full scale: a full-scale square wave is 0 dB, a full-scale sine about -3 dB."""
    audio = np.asarray(samples, dtype=np.float64)
    if audio.size == 0:
        return SILENCE_DBFS
    rms = float(np.sqrt(np.mean(audio * audio)))
    if rms <= 10 ** (SILENCE_DBFS / 20):
        return SILENCE_DBFS
    return 20.0 * float(np.log10(rms))
