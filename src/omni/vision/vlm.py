"""What a vision-language model is asked about an image, and its answer as a scene.

With a VLM (local or remote) Omni still hands its chat LLM a note, as with the embedded perception: the VLM
describes the picture, focused on the user's question when it is known, and the chat model answers from that.
The chat model can be any model, the VLM only looks, and every vision backend reaches the conversation one way.
"""

from __future__ import annotations

import time

from omni.types import ImageFrame
from omni.vision.facts import measure
from omni.vision.scene import Scene

_ASK = (
    "Describe this image for someone who cannot see it, in at most five sentences: what it shows, all text in it "
    "word for word, and the people and objects with where they are. Say only what is really visible; if something "
    "is unclear, say so."
)


def prompt(question: str | None) -> str:
    if not question:
        return _ASK
    return f"{_ASK}\nThe person who sent it asks: {question.strip()}\nInclude what is needed to answer that."


def scene(frame: ImageFrame, description: str, started: float) -> Scene:
    """A VLM's description as a scene (with the image's simple facts, measured here)."""
    return Scene(facts=measure(frame.pixels), description=description.strip() or "(the model said nothing)",
                 timings={"vlm": time.perf_counter() - started})
