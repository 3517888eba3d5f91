"""``omni serve`` on the embedded models sees: images sent with the official SDK over the Realtime API and REST, and
asked about in English and Korean, get answers from what is in them — and an honest one when nothing is. Greedy
decoding, as in the other model tests: at the default temperature the same question gets a different answer each run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from openai import AsyncOpenAI
from PIL import Image, ImageDraw

from omni.bench.vision import camera_frame, font, png_data_url
from omni.bench.vision_answers import ABSTAIN
from tests import photos
from tests.server.realtime_client import realtime

pytestmark = pytest.mark.models


def korean_sign() -> np.ndarray:
    """A platform sign: white Korean text on blue, as in a station."""
    image = Image.new("RGB", (800, 300), (20, 60, 150))
    draw = ImageDraw.Draw(image)
    draw.text((60, 70), "부산행 열차", font=font(64, hangul=True), fill=(255, 255, 255))
    draw.text((60, 170), "14번 승강장", font=font(64, hangul=True), fill=(255, 255, 255))
    return np.asarray(image, dtype=np.uint8)


def noise() -> np.ndarray:
    return np.random.default_rng(3).integers(0, 256, (480, 640, 3), dtype=np.uint8)


async def ask_realtime(url: str, image: np.ndarray, question: str) -> tuple[str, dict[str, Any]]:
    """The answer to a question about ``image``, and what vision found in it, over one Realtime session."""
    async with realtime(url) as wire:
        await wire.send({"type": "session.update", "session": {"type": "realtime", "output_modalities": ["text"]}})
        await wire.until("session.updated")
        await wire.send({"type": "conversation.item.create", "item": {"type": "message", "role": "user", "content": [
            {"type": "input_image", "image_url": png_data_url(image)}, {"type": "input_text", "text": question}]}})
        done = (await wire.until("conversation.item.done", wait=120))[-1]["item"]
        await wire.send({"type": "response.create", "response": {"temperature": 0.0}})
        events = await wire.until("response.done", wait=180)
    assert events[-1]["response"]["status"] == "completed"
    answer = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    image_part = next(part for part in done["content"] if part["type"] == "input_image")
    return answer, image_part["omni_vision"]


@pytest.mark.asyncio(loop_scope="module")
async def test_a_sign_shown_over_the_realtime_api_is_read_and_answered(server_url: str) -> None:
    answer, seen = await ask_realtime(server_url, camera_frame(), "Which platform do trains to Busan leave from?")
    assert seen["state"] == "seen"
    assert "platform 14" in " ".join(line["text"] for line in seen["scene"]["text"]).lower()
    assert "14" in answer, answer


@pytest.mark.asyncio(loop_scope="module")
async def test_a_korean_sign_asked_about_in_korean(server_url: str) -> None:
    answer, seen = await ask_realtime(server_url, korean_sign(), "이 표지판에 뭐라고 써 있어요?")
    read = " ".join(line["text"] for line in seen["scene"]["text"])
    assert "부산행" in read and "14번" in read
    assert "14" in answer and "부산" in answer, answer


@pytest.mark.asyncio(loop_scope="module")
async def test_a_photo_gets_the_right_animal(server_url: str) -> None:
    cat = photos.photo(photos.photos_dir(), "chelsea.png")
    answer, seen = await ask_realtime(server_url, cat, "What animal is in this photo?")
    assert [obj["label"] for obj in seen["scene"]["objects"]] == ["cat"]
    assert "cat" in answer.lower(), answer


@pytest.mark.asyncio(loop_scope="module")
async def test_where_nothing_is_recognisable_the_answer_says_so(server_url: str) -> None:
    answer, seen = await ask_realtime(server_url, noise(), "What is in this picture?")
    scene = seen["scene"]
    assert scene["text"] == [] and scene["objects"] == [] and scene["faces"] == []
    assert ABSTAIN.search(answer), answer


@pytest.mark.asyncio(loop_scope="module")
async def test_rest_chat_reads_the_sign(server_url: str, tmp_path: Path) -> None:
    client = AsyncOpenAI(base_url=server_url + "/v1", api_key="unused", max_retries=0)
    reply = await client.chat.completions.create(model="omni", temperature=0.0, messages=[{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": png_data_url(camera_frame())}},
        {"type": "text", "text": "What does the sign say?"}]}])
    answer = reply.choices[0].message.content or ""
    assert "busan" in answer.lower() and "14" in answer, answer
