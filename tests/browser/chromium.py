"""Debian's Chromium under Playwright, as the browser tests use it: a fake microphone that plays a WAV the test
made, a fake camera (its test pattern, or a video the test made), no permission prompts, and a log of every Realtime
frame the page sends and receives."""

from __future__ import annotations

import base64
import io
import json
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont
from playwright.async_api import Page, WebSocket, async_playwright

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--no-first-run", "--use-fake-device-for-media-stream", "--autoplay-policy=no-user-gesture-required",
]
ALLOW_MEDIA = "--use-fake-ui-for-media-stream"
"""Grants camera and microphone without a prompt; without it, every prompt is denied."""


def screenshot_dir() -> Path:
    """Where the tests leave screenshots of the page's main states (``OMNI_SCREENSHOTS`` overrides)."""
    default = Path(__file__).resolve().parents[2] / "build" / "screenshots"
    path = Path(os.environ.get("OMNI_SCREENSHOTS") or default)
    path.mkdir(parents=True, exist_ok=True)
    return path


BOLD_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


def sign(text: str, size: tuple[int, int] = (640, 360), *, shift: int = 0) -> Image.Image:
    """A sign: ``text`` large and dark on white, centred and at most 80 % of the width (``shift`` pixels to the
    right, as a hand-held camera wobbles). Its top-left pixel is white, which the fake vision backend keys on."""
    picture = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(picture)
    height = size[1] // 4
    font = ImageFont.truetype(BOLD_FONT, height)
    while draw.textlength(text, font=font) > 0.8 * size[0] and height > 8:
        height -= 2
        font = ImageFont.truetype(BOLD_FONT, height)
    draw.text((size[0] // 2 + shift, size[1] // 2), text, fill=(20, 20, 30), font=font, anchor="mm")
    return picture


def write_y4m(path: Path, pictures: Sequence[Image.Image], *, fps: int = 10) -> Path:
    """A YUV4MPEG2 (4:2:0) video of ``pictures`` for the fake camera, which plays it in a loop. Chromium reads only
    this raw format; the pictures must share one size, with even sides."""
    width, height = pictures[0].size
    if width % 2 or height % 2 or any(picture.size != (width, height) for picture in pictures):
        raise ValueError("the fake camera's pictures need one size with even sides")
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for picture in pictures:
            luma, blue, red = picture.convert("YCbCr").split()
            out.write(b"FRAME\n" + luma.tobytes())
            for chroma in (blue, red):  # 4:2:0: a quarter-size plane for each colour difference
                out.write(chroma.resize((width // 2, height // 2), Image.Resampling.BOX).tobytes())
    return path


@dataclass
class Frames:
    """The Realtime events on the page's WebSocket(s), decoded, in order."""

    sent: list[dict[str, Any]] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)

    def watch(self, socket: WebSocket) -> None:
        socket.on("framesent", lambda payload: self.sent.append(_decode(payload)))
        socket.on("framereceived", lambda payload: self.received.append(_decode(payload)))

    def sent_of(self, kind: str) -> list[dict[str, Any]]:
        return [event for event in self.sent if event.get("type") == kind]

    def received_of(self, kind: str) -> list[dict[str, Any]]:
        return [event for event in self.received if event.get("type") == kind]


def _decode(payload: str | bytes) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(payload)
    return event


GIVE_IMAGE = """async ([png, how]) => {
  const bytes = Uint8Array.from(atob(png), c => c.charCodeAt(0));
  const data = new DataTransfer();
  data.items.add(new File([bytes], 'card.png', {type: 'image/png'}));
  if (how === 'drop') {
    for (const type of ['dragenter', 'dragover', 'drop']) {
      document.body.dispatchEvent(new DragEvent(type, {dataTransfer: data, bubbles: true, cancelable: true}));
    }
  } else {
    document.querySelector('#text-input').dispatchEvent(
      new ClipboardEvent('paste', {clipboardData: data, bubbles: true, cancelable: true}));
  }
}"""


async def give_image(page: Page, picture: Image.Image, *, how: str = "paste") -> None:
    """Paste (``how="paste"``) or drop (``"drop"``) ``picture`` on the page as a PNG file named card.png."""
    out = io.BytesIO()
    picture.save(out, format="PNG")
    await page.evaluate(GIVE_IMAGE, [base64.b64encode(out.getvalue()).decode(), how])


@dataclass
class Browser:
    page: Page
    frames: Frames
    console: list[str]


@asynccontextmanager
async def chromium(
    url: str,
    *,
    microphone: Path | None = None,
    camera: Path | None = None,
    viewport: tuple[int, int] = (1280, 860),
    allow_media: bool = True,
) -> AsyncIterator[Browser]:
    """A page open at ``url``; ``microphone`` is a WAV the fake microphone plays once, then silence; ``camera`` is a
    .y4m video (:func:`write_y4m`) the fake camera plays in a loop instead of its test pattern;
    ``allow_media=False`` is a person who says no to the microphone and camera prompt."""
    args = [*FLAGS, ALLOW_MEDIA if allow_media else "--deny-permission-prompts"]
    if microphone is not None:
        args.append(f"--use-file-for-fake-audio-capture={microphone}%noloop")
    if camera is not None:
        args.append(f"--use-file-for-fake-video-capture={camera}")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            page = await browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
            frames = Frames()
            console: list[str] = []
            page.on("websocket", frames.watch)
            page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
            page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
            await page.goto(url)
            yield Browser(page, frames, console)
        finally:
            await browser.close()
