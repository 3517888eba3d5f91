"""espeak-ng TTS: every language espeak-ng knows, robotic but instant.

Runs ``espeak-ng --stdout`` as an asyncio subprocess (the event loop never blocks), reads the WAV it
streams and yields audio as it arrives. The voice follows the language of each call; when the consumer
stops early the process is killed and reaped.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import struct
from collections.abc import AsyncIterator, Sequence

import numpy as np

from omni.backends.base import TTS
from omni.config import Settings
from omni.errors import BackendError, BackendUnavailableError
from omni.types import AudioChunk, Samples

SAMPLE_RATE = 22050
"""What espeak-ng produces; the WAV header of each run is still read rather than trusted to match."""
DEFAULT_WPM = 175
_READ_BYTES = 1 << 14
_MIN_CHUNK_S = 0.1

_LANGUAGE_VOICES = {"en": "en-us", "ko": "ko", "ja": "ja", "zh": "cmn"}


def _clamped_wpm(wpm: float) -> int:
    """Words a minute within what espeak-ng speaks intelligibly."""
    return max(80, min(450, round(wpm)))


def voice_for(language: str | None, default: str = "en-us") -> str:
    """The espeak-ng voice for an ISO 639-1 code: ``ko`` → ``ko``, ``zh`` → ``cmn``, others as given."""
    if not language:
        return default
    code = language.strip().lower().replace("_", "-")
    return _LANGUAGE_VOICES.get(code, code)


class _WavReader:
    """Bytes of a streamed 16-bit PCM WAV in, float32 samples out."""

    def __init__(self) -> None:
        self.sample_rate: int | None = None
        self._channels = 1
        self._pending = b""
        self._in_data = False

    def feed(self, data: bytes) -> Samples | None:
        self._pending += data
        if not self._in_data and not self._parse_header():
            return None
        frame = 2 * self._channels
        usable = len(self._pending) - len(self._pending) % frame
        if usable == 0:
            return None
        ints = np.frombuffer(self._pending[:usable], dtype="<i2").reshape(-1, self._channels)
        self._pending = self._pending[usable:]
        samples: Samples = (ints.mean(axis=1) / 32768.0).astype(np.float32)
        return samples

    def _parse_header(self) -> bool:
        data = self._pending
        if len(data) < 12:
            return False
        if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
            raise ValueError("espeak-ng did not write a WAV stream")
        offset = 12
        while len(data) >= offset + 8:
            chunk_id = data[offset : offset + 4]
            size = struct.unpack_from("<I", data, offset + 4)[0]
            body = offset + 8
            if chunk_id == b"data":
                if self.sample_rate is None:
                    raise ValueError("espeak-ng wrote WAV data before its format")
                self._pending = data[body:]
                self._in_data = True
                return True
            if chunk_id == b"fmt ":
                if len(data) < body + 16:
                    return False
                fmt, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", data, body)
                if fmt != 1 or bits != 16:
                    raise ValueError(f"espeak-ng wrote WAV format {fmt} with {bits} bits, not 16-bit PCM")
                self.sample_rate, self._channels = int(rate), max(1, int(channels))
            offset = body + size + (size & 1)
        return False


class EspeakTTS(TTS):
    """Speech from the espeak-ng program. ``voice`` in :meth:`synthesize` is an espeak-ng voice name."""

    sample_rate = SAMPLE_RATE

    def __init__(
        self, *, voice: str | None = None, speed: float = 1.0, executable: str = "espeak-ng"
    ) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        found = shutil.which(executable)
        if found is None:
            raise BackendUnavailableError(
                f"the espeak TTS needs the {executable!r} program, which is not installed; "
                "install it with: apt-get install espeak-ng"
            )
        self.executable = found
        self.voice = voice
        """A fixed espeak-ng voice for every call; None follows each call's language."""
        self.wpm = _clamped_wpm(DEFAULT_WPM * speed)
        self._known: frozenset[str] | None = None

    def __repr__(self) -> str:
        return f"EspeakTTS(voice={self.voice!r}, wpm={self.wpm})"

    def voices(self) -> Sequence[str]:
        return sorted(self._known or ())

    async def load_voices(self) -> Sequence[str]:
        """Ask espeak-ng which voices it has (once); :meth:`voices` lists them afterwards."""
        if self._known is None:
            process = await asyncio.create_subprocess_exec(
                self.executable, "--voices",
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
            )
            out, _ = await process.communicate()
            self._known = frozenset(_voice_names(out.decode("utf-8", "replace")))
        return self.voices()

    def choose_voice(self, voice: str | None, language: str | None) -> str:
        """A fixed voice wins, then an espeak-ng voice name given for the call, then the language's voice."""
        if self.voice:
            return self.voice
        known = self._known or frozenset()
        # Names meant for other backends ("alloy") are not espeak voices; only names espeak-ng has are taken.
        if voice and voice.lower() in known:
            return voice
        chosen = voice_for(language)
        if chosen in known or not known:
            return chosen
        base = chosen.split("-")[0]
        if base in known:
            return base
        raise BackendError(
            self.stage,
            f"espeak-ng has no voice for language {language!r}; set tts.espeak_voice "
            "to one of `espeak-ng --voices`",
        )

    async def _synthesize(
        self, text: str, voice: str | None, language: str | None, speed: float
    ) -> AsyncIterator[AudioChunk]:
        if not text.strip():
            return
        await self.load_voices()
        chosen = self.choose_voice(voice, language)
        process = await asyncio.create_subprocess_exec(
            self.executable, "--stdout", "-b", "1", "-v", chosen, "-s", str(_clamped_wpm(self.wpm * speed)),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        assert process.stdin is not None and process.stdout is not None and process.stderr is not None
        # Text goes through stdin so that a text starting with "-" is never read as an option; a task feeds
        # it so that a long text cannot deadlock against audio waiting to be read.
        feeder = asyncio.ensure_future(_feed(process.stdin, text.encode("utf-8")))
        try:
            reader = _WavReader()
            held: list[Samples] = []
            held_samples = 0
            while piece := await process.stdout.read(_READ_BYTES):
                try:
                    samples = reader.feed(piece)
                except ValueError as exc:
                    raise BackendError(self.stage, str(exc)) from exc
                if samples is None or samples.size == 0:
                    continue
                held.append(samples)
                held_samples += samples.size
                rate = reader.sample_rate or SAMPLE_RATE
                if held_samples >= _MIN_CHUNK_S * rate:
                    yield AudioChunk(np.concatenate(held), rate)
                    held, held_samples = [], 0
            code = await process.wait()
            if code != 0:
                errors = (await process.stderr.read()).decode("utf-8", "replace").strip()
                raise BackendError(
                    self.stage, f"espeak-ng -v {chosen} failed with exit code {code}: {errors or 'no message'}"
                )
            if held:
                yield AudioChunk(np.concatenate(held), reader.sample_rate or SAMPLE_RATE)
        finally:
            if process.returncode is None:
                process.kill()
                await asyncio.shield(process.wait())
            feeder.cancel()
            await asyncio.gather(feeder, return_exceptions=True)


async def _feed(stdin: asyncio.StreamWriter, data: bytes) -> None:
    try:
        stdin.write(data)
        await stdin.drain()
        stdin.close()
    except (BrokenPipeError, ConnectionResetError):
        pass  # the process ended (or was killed) before reading everything; its exit code tells why


def _voice_names(listing: str) -> set[str]:
    """Voice names and their aliases from ``espeak-ng --voices``: "cmn", "zh", "zh-cmn", "en-us", ..."""
    names: set[str] = set()
    for line in listing.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 2:
            continue
        names.add(fields[1].lower())
        names.update(alias.lower() for alias in re.findall(r"\(([^\s()]+) \d+\)", line))
    return names


def create(settings: Settings) -> EspeakTTS:
    return EspeakTTS(voice=settings.tts.espeak_voice, speed=settings.tts.speed)
