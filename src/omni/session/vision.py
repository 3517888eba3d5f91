"""A session's eyes: the images of user messages looked at by the vision backend, each once, in the background.

A camera or a shared screen sends a frame every second or so while the user talks. A frame showing the same view as
the last one looked at (:mod:`omni.vision.change`) reuses that look at once: a still scene or a screen where only
the cursor moved costs nothing, and a reply asked about it never waits. At most :data:`MAX_WAITING` looks wait at a
time; a flood of images beyond that is not looked at, and the note says so rather than pretend.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Literal

from omni.backends.base import Vision
from omni.errors import OmniError
from omni.types import ImageFrame
from omni.vision import describe
from omni.vision.change import Signature, same_view, signature
from omni.vision.scene import Scene

log = logging.getLogger(__name__)

MAX_WAITING = 4
"""Looks queued per session; more images than that at once are skipped (a client flooding frames)."""

ImageState = Literal["pending", "seen", "failed", "skipped", "blind"]


@dataclass
class ItemImage:
    """An image in a user message, and what was found in it once looked at."""

    frame: ImageFrame | None
    """The pixels, until they have been looked at (then dropped: an hour of camera frames would fill memory)."""
    signature: Signature
    state: ImageState = "pending"
    scene: Scene | None = None
    problem: str | None = None

    @staticmethod
    def of(frame: ImageFrame) -> ItemImage:
        return ItemImage(frame, signature(frame.pixels))

    def note(self, *, short: bool = False, language: str | None = None) -> str:
        """The image as the LLM reads it (``language``: the user's, which may name things in it)."""
        if self.scene is not None:
            if short:
                return describe.short_note(self.scene, language=language)
            return describe.note(self.scene, language=language)
        if self.state == "blind":
            return "[Image: this assistant has no vision backend, so it cannot see images; say so if it matters.]"
        if self.state == "failed":
            return f"[Image: looking at it failed ({self.problem}); nothing about it is known.]"
        if self.state == "skipped":
            return "[Image: not looked at (too many images at once); nothing about it is known.]"
        return "[Image: still being looked at; nothing about it is known yet.]"


class Viewer:
    """Looks at images for one session with a shared vision backend; :meth:`look` fills in an :class:`ItemImage`."""

    def __init__(self, vision: Vision | None) -> None:
        self.vision = vision
        self._last: tuple[Signature, Scene] | None = None
        self._waiting = 0
        self._one_at_a_time = asyncio.Semaphore(1)

    async def look(self, image: ItemImage, *, question: str | None = None) -> None:
        """Look at ``image`` (or reuse the last look when it shows the same view); never raises a backend error:
        the image's state says what happened."""
        frame, image.frame = image.frame, None
        if self.vision is None or frame is None:
            image.state = "blind" if self.vision is None else image.state
            return
        if self._waiting >= MAX_WAITING:
            image.state = "skipped"
            return
        self._waiting += 1
        try:
            async with self._one_at_a_time:
                scene = self._reused(image.signature)
                if scene is None:
                    scene = await self.vision.look(frame, question=question)
                    self._last = (image.signature, scene)
            image.scene, image.state = scene, "seen"
        except OmniError as exc:
            log.warning("looking at an image failed: %s", exc)
            image.state, image.problem = "failed", str(exc)
        finally:
            self._waiting -= 1

    def _reused(self, view: Signature) -> Scene | None:
        """The last look's scene if ``view`` shows the same (its timings cleared: nothing was computed)."""
        if self._last is None or not same_view(self._last[0], view):
            return None
        last = self._last[1]
        return Scene(last.facts, last.text, last.objects, last.gist, last.faces, last.description, {})
