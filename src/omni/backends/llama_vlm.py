"""Vision through a local vision-language model: any GGUF VLM with its multimodal projector (``mmproj``), run by
llama.cpp's libmtmd as llama-cpp-python ships it (Qwen2.5-VL, Gemma 3, MiniCPM-V, LLaVA...), no rebuild needed.

The model only looks: it describes the image (focused on the user's question when it is known), and the chat LLM
answers from the description, as with the embedded perception. The chat template comes from the model's own GGUF
metadata (``MTMDChatHandler``); ``vision.chat_handler`` picks another of llama-cpp-python's handlers for models
without one.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

from omni.aio import ModelLock, model_thread
from omni.backends.base import Vision
from omni.config import Settings
from omni.cores import CORES
from omni.errors import ConfigError, ModelNotFoundError
from omni.types import ImageFrame
from omni.vision import vlm
from omni.vision.image import to_data_url
from omni.vision.scene import Scene


class LlamaVLM(Vision):
    def __init__(self, model_path: Path, mmproj_path: Path, *, handler: str = "MTMDChatHandler", n_ctx: int = 4096,
                 threads: int = 0, max_tokens: int = 300) -> None:
        from llama_cpp import Llama, llama_chat_format

        for path, what in ((model_path, "vision model"), (mmproj_path, "multimodal projector (mmproj)")):
            if not path.is_file():
                raise ModelNotFoundError(f"{what} file not found: {path}")
        make_handler = getattr(llama_chat_format, handler, None)
        if make_handler is None or not handler.endswith("ChatHandler"):
            known = ", ".join(n for n in dir(llama_chat_format) if n.endswith("ChatHandler") and n[0].isupper())
            raise ConfigError(f"unknown vision.chat_handler {handler!r}; llama-cpp-python has: {known}")
        self.model_path = model_path
        self._llama = Llama(model_path=str(model_path), chat_handler=make_handler(clip_model_path=str(mmproj_path),
                                                                                    verbose=False),
                            n_ctx=n_ctx, n_threads=threads or os.cpu_count() or 2, verbose=False)
        self.max_tokens = max_tokens
        self._lock = ModelLock()
        self.thread = model_thread("vlm")

    async def _look(self, frame: ImageFrame, question: str | None) -> Scene:
        started = time.perf_counter()
        image = await asyncio.to_thread(to_data_url, frame)
        messages = [{"role": "user", "content": [{"type": "text", "text": vlm.prompt(question)},
                                                 {"type": "image_url", "image_url": {"url": image}}]}]
        async with self._lock.hold():
            text = await asyncio.get_running_loop().run_in_executor(self.thread, self._describe, messages)
        return vlm.scene(frame, text, started)

    def _describe(self, messages: Any) -> str:
        """``messages``: the OpenAI chat shape, which llama-cpp-python types as TypedDicts."""
        CORES.wait_for_turn()  # a transcription or a voice waited on goes first
        answer: Any = self._llama.create_chat_completion(messages=messages, max_tokens=self.max_tokens,
                                                         temperature=0.2)
        return str(answer["choices"][0]["message"]["content"] or "")


def mmproj_beside(model: Path) -> Path:
    """The projector file next to a VLM's GGUF: the one ``mmproj*.gguf`` in its folder."""
    found = sorted(model.parent.glob("mmproj*.gguf"))
    if len(found) != 1:
        what = "no mmproj*.gguf" if not found else f"{len(found)} mmproj*.gguf files"
        raise ModelNotFoundError(f"{what} beside {model}; set vision.mmproj (OMNI_VISION__MMPROJ) to the projector")
    return found[0]


def create(settings: Settings) -> LlamaVLM:
    vision = settings.vision
    if not vision.model:
        raise ConfigError("the llama-vlm vision backend needs vision.model (OMNI_VISION__MODEL): the GGUF of a "
                          "vision-language model, with its mmproj*.gguf beside it")
    model = Path(vision.model).expanduser()
    mmproj = Path(vision.mmproj).expanduser() if vision.mmproj else mmproj_beside(model)
    return LlamaVLM(model, mmproj, handler=vision.chat_handler, n_ctx=vision.n_ctx, threads=vision.threads,
                    max_tokens=vision.max_tokens)
