"""What vision found in one image: the typed findings of each part, and the scene that gathers them.

Coordinates are fractions of the image (0..1 from the top left), so findings keep their meaning when the image
was downscaled before a part looked at it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Box:
    """A rectangle in fractions of the image's width and height, from the top left."""

    x: float
    y: float
    w: float
    h: float

    @property
    def centre(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h / 2


@dataclass(frozen=True)
class TextLine:
    """A line of text read in the image, in reading order with the others."""

    text: str
    box: Box
    confidence: float
    """0..1; how sure the recogniser is of the line's characters."""


@dataclass(frozen=True)
class SeenObject:
    """An object detected in the image (one of the detector's classes, e.g. COCO's 80)."""

    label: str
    box: Box
    confidence: float
    colours: tuple[str, ...] = ()
    """Its dominant colours (a person's: of the clothes on the upper body), most covering first."""


@dataclass(frozen=True)
class Guess:
    """A whole-image classification (ImageNet) with its probability."""

    label: str
    confidence: float


@dataclass(frozen=True)
class Face:
    """A face found in the image, with its facial expression when the expression model is sure enough."""

    box: Box
    expression: str | None = None
    expression_confidence: float = 0.0


@dataclass(frozen=True)
class ImageFacts:
    """Simple measurements of the whole image."""

    width: int
    height: int
    brightness: float
    """Mean luminance, 0 (black) .. 1 (white)."""
    colours: tuple[str, ...]
    """Dominant colour names, most covering first."""
    sharpness: float
    """Variance of the Laplacian of the grey image, at a fixed working size; low means blurry."""
    blurry: bool


@dataclass(frozen=True)
class Scene:
    """Everything one look at an image found; ``timings`` are the seconds each part took."""

    facts: ImageFacts
    text: tuple[TextLine, ...] = ()
    objects: tuple[SeenObject, ...] = ()
    gist: tuple[Guess, ...] = ()
    faces: tuple[Face, ...] = ()
    description: str | None = None
    """A vision-language model's own words about the image (the VLM backends); None for perception."""
    timings: dict[str, float] = field(default_factory=dict)
