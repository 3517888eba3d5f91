"""The images of a chat-completions request, looked at before the LLM answers: each becomes the note of what vision
found in it (:mod:`omni.vision.describe`), in place of its ``image_url`` part."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from omni.backends.base import Vision
from omni.config import VisionSettings
from omni.errors import ImageInputError
from omni.server.rest_common import RequestError
from omni.session.vision import ItemImage, Viewer
from omni.text.language import detect_language
from omni.vision import image as images


@dataclass(frozen=True)
class ImageRef:
    """An ``image_url`` part: where it is in the request, its URL, and the text of its message."""

    message: int
    part: int
    url: str
    question: str | None


async def look_at_images(vision: Vision | None, refs: list[ImageRef], settings: VisionSettings) -> dict[
        tuple[int, int], str]:
    """Decode and look at every image; returns (message index, part index) → note. A bad image is a 400 naming
    its part."""
    per_message: dict[int, int] = {}
    for ref in refs:
        per_message[ref.message] = per_message.get(ref.message, 0) + 1
    for message, count in per_message.items():
        if count > settings.max_images_per_message:
            raise RequestError(f"a message may hold at most {settings.max_images_per_message} images; "
                               f"this one has {count}", param=f"messages[{message}].content")
    viewer = Viewer(vision)
    notes = {}
    for ref in refs:
        try:
            # Decoding a large PNG takes a while: off the loop, which serves every other request and session.
            frame = await asyncio.to_thread(images.from_data_url, ref.url, max_side=settings.max_side)
        except ImageInputError as exc:
            raise RequestError(str(exc), param=f"messages[{ref.message}].content[{ref.part}].image_url",
                               code="invalid_image") from exc
        image = ItemImage.of(frame)
        await viewer.look(image, question=ref.question)
        notes[(ref.message, ref.part)] = image.note(language=detect_language(ref.question or ""))
    return notes
