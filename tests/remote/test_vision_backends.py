"""The vision-language model backends: a remote one against a real OpenAI-compatible HTTP server (scripted), and the
local one's loading errors (no VLM GGUF can be installed here to run it for real)."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from omni.backends import registry
from omni.backends.llama_vlm import LlamaVLM, mmproj_beside
from omni.backends.openai_vision import OpenAIVision
from omni.config import Settings
from omni.errors import BackendError, ConfigError, ModelNotFoundError
from omni.types import ImageFrame
from tests.remote.openai_peer import ChatScript, OpenAIPeer

KEY = "sk-vision"


@pytest.fixture(scope="module")
def peer() -> Iterator[OpenAIPeer]:
    with OpenAIPeer(api_key=KEY) as server:
        yield server


def frame() -> ImageFrame:
    pixels = np.zeros((60, 80, 3), np.uint8)
    pixels[:, :40] = (220, 30, 30)
    return ImageFrame(pixels, 80, 60, "PNG")


async def test_the_image_is_passed_through_with_the_question(peer: OpenAIPeer) -> None:
    peer.chat = ChatScript(pieces=["A red square beside a black one."])
    vision = OpenAIVision(peer.base_url, model="qwen2.5vl", api_key=KEY, max_tokens=123)
    scene = await vision.look(frame(), question="What colour is the left half?")
    await vision.aclose()
    assert scene.description == "A red square beside a black one."
    assert (scene.facts.width, scene.facts.height) == (80, 60) and "vlm" in scene.timings
    body = peer.last("/v1/chat/completions").json
    assert body is not None and body["model"] == "qwen2.5vl" and body["max_tokens"] == 123
    text, image = body["messages"][0]["content"]
    assert "What colour is the left half?" in text["text"]
    url = image["image_url"]["url"]
    assert url.startswith("data:image/jpeg;base64,")
    sent = np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))))
    assert sent.shape == (60, 80, 3) and sent[30, 10, 0] > 180 and sent[30, 70].max() < 40


async def test_a_server_error_is_a_backend_error(peer: OpenAIPeer) -> None:
    peer.chat = ChatScript(error=(500, "the model is not loaded"))
    vision = OpenAIVision(peer.base_url, model="m", api_key=KEY)
    with pytest.raises(BackendError, match="the model is not loaded"):
        await vision.look(frame())
    await vision.aclose()


def test_one_setting_points_omni_at_a_vlm() -> None:
    assert Settings().vision.chosen_backend == "perception"
    assert Settings(vision={"base_url": "http://localhost:11434/v1"}).vision.chosen_backend == "openai"
    assert Settings(vision={"model": "/models/vlm.gguf"}).vision.chosen_backend == "llama-vlm"
    remote = registry.create("vision", "openai", Settings(vision={"base_url": "http://localhost:11434"}))
    assert isinstance(remote, OpenAIVision) and remote.endpoint.base_url == "http://localhost:11434/v1"


def test_the_local_vlm_needs_its_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"vision\.model"):
        registry.create("vision", "llama-vlm", Settings())
    model = tmp_path / "vlm.gguf"
    model.write_bytes(b"GGUF")
    with pytest.raises(ModelNotFoundError, match="no mmproj"):
        mmproj_beside(model)
    projector = tmp_path / "mmproj-vlm-f16.gguf"
    projector.write_bytes(b"GGUF")
    assert mmproj_beside(model) == projector
    with pytest.raises(ModelNotFoundError, match="vision model file not found"):
        LlamaVLM(tmp_path / "missing.gguf", projector)
    with pytest.raises(ConfigError, match=r"unknown vision\.chat_handler 'Nope'"):
        LlamaVLM(model, projector, handler="Nope")
