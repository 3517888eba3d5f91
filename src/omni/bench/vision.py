"""``omni bench --suite vision``: how fast and how well Omni sees on this machine.

- **Parts**: the embedded perception on a camera frame (640×480) and a screenshot (1280×720), both rendered here
  with Pillow so every run looks at the same pixels: the time of each part (facts, text, objects, gist, faces) and
  of the whole look, warm, over ``runs`` looks.
- **OCR**: character error rate of the text part on English and Korean sentences rendered at small and large
  sizes, dark on light and light on dark (:func:`omni.text.wer.cer`; whitespace runs count as one space).
- **Voice**: a spoken question about the current camera frame, voice to voice over the Realtime WebSocket of a real
  ``omni serve``: the frame goes as an image item when the question starts (as the page sends one when the user
  starts speaking), the question is streamed at real-time pace, and latency runs from the end of speech to the
  first audible sample of the answer (:mod:`omni.bench.realtime_turn`). The same question without a frame is the
  baseline, in the same run.
"""

from __future__ import annotations

import base64
import io
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from omni.backends.base import TTS
from omni.backends.perception import Perception
from omni.bench.report import RunResult
from omni.config import Settings
from omni.text.wer import cer
from omni.types import Pixels

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/opentype/noto"))
LATIN_FONT = "DejaVuSans.ttf"
HANGUL_FONT = "NotoSansCJK-Regular.ttc"
KOREAN_FONT_HINT = "apt-get install fonts-noto-cjk"

SIGN = ("Trains to Busan", "leave from platform 14")
SCREEN_LINES = (
    "Settings", "Display    Brightness 80%    Night light: off", "Sound      Output: Speakers (Realtek Audio)",
    "Network    Wi-Fi connected: HomeNet-5G", "알림 설정     방해 금지 모드: 켜짐",
    "언어 및 지역     한국어 (대한민국)",
    "Battery    72% remaining, about 3 hours", "Updates    Version 14.2 is ready to install",
    "개인 정보 보호     위치 서비스: 사용 안 함", "Accounts   minji.kim@example.com",
)
ENGLISH_LINES = (
    "Trains to Busan leave from platform 14.",
    "The meeting moved to Thursday at 3:30 pm.",
    "Keep this door closed at all times.",
    "Total: 42,500 won (tax included)",
    "Press the green button to start the machine.",
)
KOREAN_LINES = (
    "오늘은 날씨가 정말 좋네요.",
    "부산행 열차는 14번 승강장에서 출발합니다.",
    "회의는 목요일 오후 세 시로 옮겨졌습니다.",
    "이 문은 항상 닫아 두세요.",
    "합계 42,500원 (부가세 포함)",
)
OCR_SIZES = (18, 32)


def font(size: int, *, hangul: bool = False) -> ImageFont.FreeTypeFont:
    name = HANGUL_FONT if hangul else LATIN_FONT
    for folder in FONT_DIRS:
        if (folder / name).is_file():
            return ImageFont.truetype(str(folder / name), size)
    hint = f" ({KOREAN_FONT_HINT})" if hangul else ""
    raise FileNotFoundError(f"the font {name} is not installed{hint}")


def camera_frame() -> Pixels:
    """A 640×480 "camera" view of a sign on a wall: a soft gradient, sensor noise, the sign slightly off-centre."""
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:480, 0:640]
    wall = np.stack([150 + 40 * x / 640, 140 + 30 * y / 480, 120 + 20 * (x + y) / 1120], axis=-1)
    image = Image.fromarray(np.clip(wall + rng.normal(0, 4, wall.shape), 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    draw.rectangle((90, 140, 560, 330), fill=(245, 245, 240), outline=(30, 60, 140), width=8)
    for row, line in enumerate(SIGN):
        draw.text((120, 175 + row * 70), line, font=font(40), fill=(20, 30, 80))
    return np.asarray(image, dtype=np.uint8)


def screenshot() -> Pixels:
    """A 1280×720 settings window with small English and Korean text in two columns."""
    image = Image.new("RGB", (1280, 720), (250, 250, 252))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 1280, 40), fill=(40, 44, 52))
    draw.text((16, 10), "System Preferences", font=font(16), fill=(230, 230, 230))
    for row, line in enumerate(SCREEN_LINES):
        hangul = any("\uac00" <= c <= "\ud7a3" for c in line)
        draw.text((60, 80 + row * 58), line, font=font(16 if row else 22, hangul=hangul), fill=(25, 25, 25))
    return np.asarray(image, dtype=np.uint8)


def line_image(text: str, size: int, *, dark_on_light: bool = True) -> Pixels:
    hangul = any("\uac00" <= c <= "\ud7a3" for c in text)
    face = font(size, hangul=hangul)
    left, top, right, bottom = (round(v) for v in face.getbbox(text))
    ink, paper = ((20, 20, 20), (250, 250, 250)) if dark_on_light else ((245, 245, 245), (30, 34, 40))
    image = Image.new("RGB", (right - left + 2 * size, bottom - top + 2 * size), paper)
    ImageDraw.Draw(image).text((size - left, size - top), text, font=face, fill=ink)
    return np.asarray(image, dtype=np.uint8)


def png_data_url(pixels: Pixels) -> str:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")


@dataclass(frozen=True)
class PartTiming:
    image: str
    part: str
    seconds: tuple[float, ...]


@dataclass(frozen=True)
class OcrReading:
    language: str
    size: int
    dark_on_light: bool
    text: str
    read: str
    cer: float
    seconds: float


@dataclass
class VisionResults:
    parts: list[PartTiming] = field(default_factory=list)
    ocr: list[OcrReading] = field(default_factory=list)
    found: dict[str, Any] = field(default_factory=dict)
    """What the look found in each rendered image (the text read), to check the timings are of real work."""

    def document(self) -> dict[str, Any]:
        return {"parts": [asdict(p) for p in self.parts], "ocr": [asdict(o) for o in self.ocr],
                "found": self.found}


def measure_parts(perception: Perception, images: dict[str, Pixels], runs: int,
                  progress: Callable[[str], None]) -> tuple[list[PartTiming], dict[str, Any]]:
    """Every part's time on each image over ``runs`` warm looks (one look first, not counted, loads the caches)."""
    timings: list[PartTiming] = []
    found: dict[str, Any] = {}
    for name, pixels in images.items():
        perception.see(pixels)
        looks = []
        for run in range(runs):
            start = time.perf_counter()
            scene = perception.see(pixels)
            looks.append({**scene.timings, "whole": time.perf_counter() - start})
            progress(f"  {name} look {run + 1}/{runs}: {looks[-1]['whole'] * 1000:.0f} ms")
        found[name] = [line.text for line in scene.text]
        for part in looks[0]:
            timings.append(PartTiming(name, part, tuple(look[part] for look in looks)))
    return timings, found


def measure_ocr(read: Callable[[Pixels], str], progress: Callable[[str], None]) -> list[OcrReading]:
    readings = []
    for language, lines in (("en", ENGLISH_LINES), ("ko", KOREAN_LINES)):
        for size in OCR_SIZES:
            for dark in (True, False):
                for text in lines:
                    pixels = line_image(text, size, dark_on_light=dark)
                    start = time.perf_counter()
                    got = read(pixels)
                    readings.append(OcrReading(language, size, dark, text, got, cer(text, got),
                                               time.perf_counter() - start))
        mean = statistics.mean(r.cer for r in readings if r.language == language)
        progress(f"  OCR {language}: mean CER {mean:.3f}")
    return readings


def format_vision(results: VisionResults, voice: Sequence[Any] = ()) -> str:
    """Median and p90 per part and image, OCR error rates, and the voice turns' latency."""
    lines = ["Perception (warm)                      median     p90"]
    for timing in results.parts:
        ms = sorted(s * 1000 for s in timing.seconds)
        p90 = ms[min(len(ms) - 1, round(0.9 * (len(ms) - 1)))]
        lines.append(f"  {timing.image:22s} {timing.part:8s} {statistics.median(ms):6.0f} ms {p90:6.0f} ms")
    lines.append("OCR character error rate            mean     max   lines")
    for language in ("en", "ko"):
        for size in OCR_SIZES:
            rows = [r for r in results.ocr if r.language == language and r.size == size]
            if rows:
                mean, worst = statistics.mean(r.cer for r in rows), max(r.cer for r in rows)
                lines.append(f"  {language} {size:3d} px, both polarities    {mean:5.3f}   {worst:5.3f}   "
                             f"{len(rows):3d}")
    for label, latencies in voice:
        good = sorted(latency for latency in latencies if latency is not None)
        if good:
            lines.append(f"Voice to voice, {label}: median {statistics.median(good) * 1000:.0f} ms over "
                         f"{len(good)} turns ({len(latencies) - len(good)} failed)")
    return "\n".join(lines)


QUESTION = "What does the sign say?"


async def voice_about_a_frame(settings: Settings, tts: TTS, runs: int,
                              progress: Callable[[str], None]) -> dict[str, list[RunResult]]:
    """The spoken question with the camera frame and, in the same run, without one."""
    from omni.bench.realtime_turn import RealtimeTurns, serve, wire_clip
    from omni.bench.voice_latency import INPUT_RATE, speak

    spoken = await speak(tts, QUESTION, "en")
    clip = wire_clip(spoken.text, spoken.clip, INPUT_RATE, spoken.speech_end)
    frame = png_data_url(camera_frame())
    results: dict[str, list[RunResult]] = {WITH_FRAME: [], WITHOUT_FRAME: []}
    progress("starting omni serve (it loads its own models)…")
    async with serve(settings) as server:
        turns = RealtimeTurns(server.url, settings)
        for run in range(runs):
            for label, image in ((WITH_FRAME, frame), (WITHOUT_FRAME, None)):
                result = await turns.voice(clip, run, image=image)
                results[label].append(result)
                shown = f"{result.latency * 1000:.0f} ms" if result.latency is not None else result.error
                progress(f"  {label} {run + 1}/{runs}: {shown} — {result.reply[:80]!r}")
    return results


WITH_FRAME = "with the camera frame"
WITHOUT_FRAME = "without an image"
