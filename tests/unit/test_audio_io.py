"""Audio files, resampling, PCM and G.711 codecs, levels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from omni.audio.io import decode_audio, encode_wav, read_audio, write_wav
from omni.audio.pcm import (
    SILENCE_DBFS,
    alaw_decode,
    alaw_encode,
    float_to_pcm16,
    pcm16_to_float,
    rms_dbfs,
    ulaw_decode,
    ulaw_encode,
)
from omni.audio.resample import StreamResampler, resample
from omni.errors import AudioInputError
from omni.types import AudioChunk, Samples
from tests import speech


def peak_frequency(samples: Samples, rate: int) -> float:
    window = np.hanning(len(samples))
    spectrum = np.abs(np.fft.rfft(samples * window))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))])


def sine_residual(samples: Samples, freq: float, rate: int) -> float:
    """RMS of what is left after removing the best-fitting sine of ``freq``: clicks and gaps show up here."""
    t = np.arange(len(samples)) / rate
    basis = np.stack([np.sin(2 * np.pi * freq * t), np.cos(2 * np.pi * freq * t)], axis=1)
    coeffs, *_ = np.linalg.lstsq(basis, samples.astype(np.float64), rcond=None)
    return float(np.sqrt(np.mean((samples - basis @ coeffs) ** 2)))


# -- files -------------------------------------------------------------------------------------------------

def test_wav_round_trip_keeps_samples_to_16_bit_precision(tmp_path: Path) -> None:
    original = speech.sine(440.0, 0.5, 16000, amplitude=0.7)
    path = write_wav(tmp_path / "tone.wav", AudioChunk(original, 16000))
    info = sf.info(str(path))
    assert (info.subtype, info.channels, info.samplerate) == ("PCM_16", 1, 16000)
    chunk = read_audio(path)
    assert chunk.sample_rate == 16000
    assert chunk.samples.dtype == np.float32
    assert len(chunk.samples) == len(original)
    assert np.max(np.abs(chunk.samples - original)) <= 1.0 / 32768 + 1e-7


def test_write_wav_clips_out_of_range_samples(tmp_path: Path) -> None:
    loud = np.array([0.0, 1.7, -2.5, 0.25], dtype=np.float32)
    chunk = read_audio(write_wav(tmp_path / "loud.wav", AudioChunk(loud, 8000)))
    assert chunk.samples[1] == pytest.approx(32767 / 32768)
    assert chunk.samples[2] == pytest.approx(-1.0)
    assert chunk.samples[3] == pytest.approx(0.25, abs=1e-4)


def test_stereo_is_averaged_to_mono(tmp_path: Path) -> None:
    left = speech.sine(300.0, 0.2, 22050, amplitude=0.6)
    stereo = np.stack([left, 0.5 * left], axis=1)
    sf.write(str(tmp_path / "stereo.wav"), stereo, 22050, subtype="FLOAT")
    chunk = read_audio(tmp_path / "stereo.wav")
    np.testing.assert_allclose(chunk.samples, 0.75 * left, atol=1e-6)


@pytest.mark.parametrize(("extension", "subtype"), [("flac", "PCM_16"), ("ogg", "VORBIS")])
def test_reads_compressed_formats(tmp_path: Path, extension: str, subtype: str) -> None:
    original = speech.sine(500.0, 1.0, 24000, amplitude=0.5)
    path = tmp_path / f"tone.{extension}"
    sf.write(str(path), original, 24000, subtype=subtype)
    chunk = read_audio(str(path))
    assert chunk.sample_rate == 24000
    assert abs(len(chunk.samples) - len(original)) <= 1024
    assert peak_frequency(chunk.samples, 24000) == pytest.approx(500.0, abs=2.0)


def test_read_resamples_to_the_requested_rate(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "tone48k.wav", AudioChunk(speech.sine(1000.0, 1.0, 48000), 48000))
    chunk = read_audio(path, sample_rate=16000)
    assert chunk.sample_rate == 16000
    assert abs(len(chunk.samples) - 16000) <= 2
    assert peak_frequency(chunk.samples, 16000) == pytest.approx(1000.0, abs=2.0)


def test_read_speech_made_by_espeak(tmp_path: Path) -> None:
    path = speech.espeak_wav("Testing one two three.", tmp_path / "espeak.wav")
    chunk = read_audio(path, sample_rate=16000)
    assert 0.8 < chunk.duration < 4.0
    assert rms_dbfs(chunk.samples) > -40


def test_encode_and_decode_wav_in_memory() -> None:
    original = speech.sine(250.0, 0.3, 16000)
    data = encode_wav(AudioChunk(original, 16000))
    assert data[:4] == b"RIFF"
    chunk = decode_audio(data)
    assert chunk.sample_rate == 16000
    assert np.max(np.abs(chunk.samples - original)) <= 1.0 / 32768 + 1e-7


def test_missing_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.wav"
    with pytest.raises(AudioInputError, match="no such file") as info:
        read_audio(missing)
    assert str(missing) in str(info.value)


def test_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AudioInputError, match="is a directory"):
        read_audio(tmp_path)


def test_text_file_is_not_audio(tmp_path: Path) -> None:
    path = tmp_path / "notes.wav"
    path.write_text("these are notes, not sound\n" * 20)
    with pytest.raises(AudioInputError, match="is not an audio file libsndfile can read") as info:
        read_audio(path)
    assert str(path) in str(info.value)


def test_empty_file_contains_no_audio(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(AudioInputError, match="contains no audio"):
        read_audio(path)


def test_wav_with_zero_samples_contains_no_audio(tmp_path: Path) -> None:
    path = tmp_path / "zero.wav"
    sf.write(str(path), np.zeros(0, dtype=np.float32), 16000, subtype="PCM_16")
    assert path.stat().st_size > 0
    with pytest.raises(AudioInputError, match="contains no audio"):
        read_audio(path)


def test_bad_bytes_in_memory_are_refused() -> None:
    with pytest.raises(AudioInputError, match="not an audio file"):
        decode_audio(b"\x00\x01garbage" * 50, name="upload.wav")
    with pytest.raises(AudioInputError, match="contains no audio"):
        decode_audio(b"")


# -- PCM and G.711 -----------------------------------------------------------------------------------------

def test_pcm16_is_little_endian_and_round_trips_every_value() -> None:
    assert float_to_pcm16(np.array([0.5, -1.0], dtype=np.float32)) == b"\x00\x40\x00\x80"
    every = np.arange(-32768, 32768, dtype=np.int32).astype("<i2").tobytes()
    assert float_to_pcm16(pcm16_to_float(every)) == every


def test_pcm16_clips_and_rejects_odd_lengths() -> None:
    clipped = pcm16_to_float(float_to_pcm16(np.array([3.0, -3.0], dtype=np.float32)))
    assert clipped.tolist() == [32767 / 32768, -1.0]
    with pytest.raises(ValueError, match="even number of bytes"):
        pcm16_to_float(b"\x00\x01\x02")


@pytest.mark.parametrize(
    ("encode", "decode", "silence_code"),
    [(ulaw_encode, ulaw_decode, 0xFF), (alaw_encode, alaw_decode, 0xD5)],
    ids=["mu-law", "a-law"],
)
def test_g711_round_trip_error_is_bounded(encode, decode, silence_code) -> None:  # type: ignore[no-untyped-def]
    assert encode(np.zeros(3, dtype=np.float32)) == bytes([silence_code]) * 3
    ramp = np.linspace(-1.0, 1.0, 20001, dtype=np.float32)
    data = encode(ramp)
    assert len(data) == len(ramp)
    back = decode(data)
    assert back.dtype == np.float32
    # G.711 steps are 1/16 of their segment: the error is a few percent of the value, plus a floor near zero.
    error = np.abs(back - ramp)
    assert np.all(error <= 0.035 * np.abs(ramp) + 20 / 32768)
    # Decoding is exact on what it produced (codes are fixed points).
    assert encode(back) == data
    # Companding keeps a speech-level sine at telephone quality (G.711 is about 38 dB SNR).
    tone = speech.sine(700.0, 0.5, 8000, amplitude=0.3)
    noise = decode(encode(tone)) - tone
    snr = 10 * np.log10(np.mean(tone**2) / np.mean(noise**2))
    assert snr > 30


def test_g711_laws_differ() -> None:
    tone = speech.sine(700.0, 0.05, 8000, amplitude=0.3)
    assert ulaw_encode(tone) != alaw_encode(tone)


def test_rms_dbfs_levels() -> None:
    assert rms_dbfs(speech.sine(1000.0, 1.0, 48000, amplitude=1.0)) == pytest.approx(-3.01, abs=0.02)
    assert rms_dbfs(np.full(100, 0.1, dtype=np.float32)) == pytest.approx(-20.0, abs=1e-4)
    assert rms_dbfs(speech.white_noise(1.0, 16000, dbfs=-45.0)) == pytest.approx(-45.0, abs=0.2)
    assert rms_dbfs(np.zeros(10, dtype=np.float32)) == SILENCE_DBFS
    assert rms_dbfs(np.zeros(0, dtype=np.float32)) == SILENCE_DBFS


# -- resampling --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("to_rate", [16000, 24000, 48000])
def test_resample_keeps_the_frequency(to_rate: int) -> None:
    tone = speech.sine(440.0, 1.0, 22050)
    out = resample(tone, 22050, to_rate)
    assert out.dtype == np.float32
    assert abs(len(out) - to_rate) <= 2
    assert peak_frequency(out, to_rate) == pytest.approx(440.0, abs=1.5)
    assert rms_dbfs(out) == pytest.approx(rms_dbfs(tone), abs=0.2)


def test_resample_same_rate_is_identity_and_rejects_bad_rates() -> None:
    tone = speech.sine(440.0, 0.1, 16000)
    np.testing.assert_array_equal(resample(tone, 16000, 16000), tone)
    with pytest.raises(ValueError, match="positive"):
        resample(tone, 0, 16000)


def test_stream_resampler_joins_chunks_without_clicks() -> None:
    rate_in, rate_out, freq = 22050, 24000, 440.0
    tone = speech.sine(freq, 2.0, rate_in)
    rng = np.random.default_rng(7)
    cuts = np.sort(rng.choice(np.arange(1, len(tone)), size=60, replace=False))
    resampler = StreamResampler(rate_in, rate_out)
    pieces = [resampler.process(piece) for piece in np.split(tone, cuts)]
    pieces.append(resampler.flush())
    streamed = np.concatenate(pieces)
    assert abs(len(streamed) - len(tone) * rate_out / rate_in) <= 0.002 * len(streamed)

    middle = slice(rate_out // 10, len(streamed) - rate_out // 10)
    assert sine_residual(streamed[middle], freq, rate_out) < 2e-3
    # The same cuts resampled one by one do click: the check above would see it.
    naive = np.concatenate([resample(piece, rate_in, rate_out) for piece in np.split(tone, cuts)])
    assert sine_residual(naive[middle], freq, rate_out) > 5 * sine_residual(streamed[middle], freq, rate_out)


def test_stream_resampler_passes_through_at_equal_rates_and_restarts_after_flush() -> None:
    same = StreamResampler(16000, 16000)
    tone = speech.sine(300.0, 0.1, 16000)
    np.testing.assert_array_equal(same.process(tone), tone)
    assert same.flush().size == 0

    resampler = StreamResampler(16000, 8000)
    first = np.concatenate([resampler.process(tone), resampler.flush()])
    second = np.concatenate([resampler.process(tone), resampler.flush()])
    assert abs(len(first) - 800) <= 2
    np.testing.assert_allclose(first, second, atol=1e-6)
