"""Vision through any OpenAI-compatible chat endpoint that takes ``image_url`` parts (OpenAI, vLLM, Ollama, a
llama.cpp server): the image is passed through as a JPEG data URL and the model's description comes back."""

from __future__ import annotations

import asyncio
import time

from omni.backends.base import Vision
from omni.backends.openai_http import HTTPEndpoint, check_status, parse_json, require_base_url, transport_errors
from omni.config import Settings
from omni.errors import BackendError
from omni.types import ImageFrame
from omni.vision import vlm
from omni.vision.image import to_data_url
from omni.vision.scene import Scene


class OpenAIVision(Vision):
    def __init__(self, base_url: str, *, model: str, api_key: str | None = None, max_tokens: int = 300) -> None:
        self.endpoint = HTTPEndpoint(base_url, api_key)
        self.model = model
        self.max_tokens = max_tokens

    def __repr__(self) -> str:
        return f"OpenAIVision({self.endpoint.base_url!r}, model={self.model!r})"

    async def aclose(self) -> None:
        await self.endpoint.aclose()

    async def _look(self, frame: ImageFrame, question: str | None) -> Scene:
        started = time.perf_counter()
        url = self.endpoint.url("chat/completions")
        image = await asyncio.to_thread(to_data_url, frame)  # encoding a large image is too slow for the loop
        content = [{"type": "text", "text": vlm.prompt(question)}, {"type": "image_url", "image_url": {"url": image}}]
        body = {"model": self.model, "messages": [{"role": "user", "content": content}],
                "max_tokens": self.max_tokens, "temperature": 0.2, "stream": False}
        with transport_errors(self.stage, url):
            response = await self.endpoint.client().post(url, json=body)
            await check_status(response, self.stage, url)
        answer = parse_json(response.content, self.stage, url)
        try:
            text = answer["choices"][0]["message"]["content"]  # type: ignore[index]
        except (KeyError, IndexError, TypeError) as exc:
            raise BackendError(self.stage, f"{url} answered without a message: {answer!r:.200}") from exc
        return vlm.scene(frame, str(text or ""), started)


def create(settings: Settings) -> OpenAIVision:
    vision = settings.vision
    return OpenAIVision(require_base_url(vision.base_url, "vision"), model=vision.remote_model,
                        api_key=vision.api_key, max_tokens=vision.max_tokens)
