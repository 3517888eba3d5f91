"""STT backend for any OpenAI-compatible ``/audio/transcriptions`` server.

Uploads the utterance as a 16 kHz 16-bit WAV. Asks for ``verbose_json`` so the detected language comes
back; servers that only know plain ``json`` answer 400 to that, and then plain ``json`` is used from
then on.
"""

from __future__ import annotations

import io
import wave

import numpy as np

from omni.backends.base import STT
from omni.backends.openai_http import (
    DEFAULT_TIMEOUT_S,
    HTTPEndpoint,
    check_status,
    parse_json,
    require_base_url,
    transport_errors,
)
from omni.config import Settings
from omni.errors import BackendError
from omni.types import Samples, Segment, Transcript

# OpenAI's verbose_json names the language ("english"); Omni uses the codes Whisper uses ("en").
_WHISPER_LANGUAGES = """
en english zh chinese de german es spanish ru russian ko korean fr french ja japanese pt portuguese
tr turkish pl polish ca catalan nl dutch ar arabic sv swedish it italian id indonesian hi hindi
fi finnish vi vietnamese he hebrew uk ukrainian el greek ms malay cs czech ro romanian da danish
hu hungarian ta tamil no norwegian th thai ur urdu hr croatian bg bulgarian lt lithuanian la latin
mi maori ml malayalam cy welsh sk slovak te telugu fa persian lv latvian bn bengali sr serbian
az azerbaijani sl slovenian kn kannada et estonian mk macedonian br breton eu basque is icelandic
hy armenian ne nepali mn mongolian bs bosnian kk kazakh sq albanian sw swahili gl galician
mr marathi pa punjabi si sinhala km khmer sn shona yo yoruba so somali af afrikaans oc occitan
ka georgian be belarusian tg tajik sd sindhi gu gujarati am amharic yi yiddish lo lao uz uzbek
fo faroese ps pashto tk turkmen nn nynorsk mt maltese sa sanskrit lb luxembourgish my myanmar
bo tibetan tl tagalog mg malagasy as assamese tt tatar haw hawaiian ln lingala ha hausa
ba bashkir jw javanese su sundanese yue cantonese ht haitian
"""
_words = _WHISPER_LANGUAGES.split()
LANGUAGE_CODES: dict[str, str] = dict(zip(_words[1::2], _words[0::2], strict=True))


def language_code(name: str) -> str:
    """``"english"`` → ``"en"``; codes and names not in Whisper's list pass through lower-cased."""
    lowered = name.strip().lower()
    return LANGUAGE_CODES.get(lowered, lowered)


def wav_bytes(audio: Samples, sample_rate: int) -> bytes:
    """Mono float samples as a 16-bit PCM WAV file."""
    pcm = np.round(np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(pcm.tobytes())
    return buffer.getvalue()


class OpenAISTT(STT):
    """Transcription by a remote OpenAI-compatible server."""

    sample_rate = 16000

    def __init__(
        self,
        base_url: str,
        *,
        model: str,
        api_key: str | None = None,
        language: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.endpoint = HTTPEndpoint(base_url, api_key, timeout=timeout)
        self.model = model
        self.language = language
        self._verbose = True

    def __repr__(self) -> str:
        return f"OpenAISTT({self.endpoint.base_url!r}, model={self.model!r})"

    async def aclose(self) -> None:
        await self.endpoint.aclose()

    async def _transcribe(self, audio: Samples, language: str | None) -> Transcript:
        return await self._transcribe_prompted(audio, language, "")

    async def _transcribe_prompted(self, audio: Samples, language: str | None, prompt: str) -> Transcript:
        language = language or self.language
        if len(audio) == 0:
            return Transcript("", language)
        upload = wav_bytes(audio, self.sample_rate)
        fell_back = False
        if self._verbose:
            try:
                return await self._post(upload, language, "verbose_json", prompt)
            except _FormatRejectedError:
                fell_back = True
        try:
            transcript = await self._post(upload, language, "json", prompt)
        except _FormatRejectedError as rejected:
            raise rejected.error from None
        if fell_back:
            self._verbose = False  # plain json works where verbose_json did not: stop asking for it
        return transcript

    async def _post(self, upload: bytes, language: str | None, response_format: str, prompt: str) -> Transcript:
        url = self.endpoint.url("audio/transcriptions")
        form = {"model": self.model, "response_format": response_format}
        if language:
            form["language"] = language
        if prompt:
            form["prompt"] = prompt
        with transport_errors(self.stage, url):
            response = await self.endpoint.client().post(
                url, data=form, files={"file": ("audio.wav", upload, "audio/wav")}
            )
            try:
                await check_status(response, self.stage, url)
            except BackendError as error:
                if response.status_code == 400:
                    raise _FormatRejectedError(error) from error
                raise
        answer = parse_json(response.content, self.stage, url)
        if not isinstance(answer, dict) or not isinstance(answer.get("text"), str):
            raise BackendError(self.stage, f"{url} answered without a transcript text: {answer!r:.200}")
        detected = answer.get("language")
        return Transcript(
            text=answer["text"].strip(),
            language=language_code(detected) if isinstance(detected, str) and detected else language,
            segments=_segments(answer.get("segments")),
        )


def _segments(listed: object) -> tuple[Segment, ...]:
    """verbose_json's timed segments; anything malformed is left out rather than failing the transcript."""
    if not isinstance(listed, list):
        return ()
    found = []
    for entry in listed:
        if not isinstance(entry, dict):
            continue
        start, end, text = entry.get("start"), entry.get("end"), entry.get("text")
        if isinstance(start, int | float) and isinstance(end, int | float) and isinstance(text, str) and text.strip():
            found.append(Segment(float(start), float(end), text.strip()))
    return tuple(found)


class _FormatRejectedError(Exception):
    """A 400 answer, which may mean the server does not know the response format asked for."""

    def __init__(self, error: BackendError) -> None:
        super().__init__(str(error))
        self.error = error


def create(settings: Settings) -> OpenAISTT:
    stt = settings.stt
    return OpenAISTT(
        require_base_url(stt.base_url, "stt"),
        model=stt.remote_model,
        api_key=stt.api_key,
        language=stt.language,
    )
