"""Debian's Chromium under Playwright, as the browser tests use it: a fake microphone that plays a WAV the test
made, fake camera, no permission prompts, and a log of every Realtime frame the page sends and receives."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


@dataclass
class Browser:
    page: Page
    frames: Frames
    console: list[str]


@asynccontextmanager
async def chromium(
    url: str, *, microphone: Path | None = None, viewport: tuple[int, int] = (1280, 860), allow_media: bool = True
) -> AsyncIterator[Browser]:
    """A page open at ``url``; ``microphone`` is a WAV the fake microphone plays once, then silence;
    ``allow_media=False`` is a person who says no to the microphone and camera prompt."""
    args = [*FLAGS, ALLOW_MEDIA if allow_media else "--deny-permission-prompts"]
    if microphone is not None:
        args.append(f"--use-file-for-fake-audio-capture={microphone}%noloop")
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
