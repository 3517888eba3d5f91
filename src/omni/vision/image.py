"""Images from clients: data URLs and bytes decoded into RGB pixels, in the formats and sizes Omni accepts.

Every image is checked before it is decoded (its header tells the format and size), so a corrupt file, an
unsupported format or a decompression bomb is a clear :class:`ImageInputError` and never reaches a model. Images
larger than ``max_side`` on their longer side are downscaled on decode; a screenshot at 2048 px keeps its text
readable, and nothing larger helps the embedded models, which work at 416–1280 px.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from omni.errors import ImageInputError
from omni.types import ImageFrame

FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "BMP")
MAX_SIDE = 2048
"""Longer side, in pixels, an image is downscaled to."""
MAX_PIXELS = 40_000_000
"""The largest image accepted at all (width × height as sent): larger ones are refused before decoding."""

_LARGEST = f"the largest accepted is {MAX_PIXELS // 1_000_000} megapixels"
_DATA_URL = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(;[^;,]*)*?)(?P<b64>;base64)?,", re.I)


def from_data_url(url: str, *, max_side: int = MAX_SIDE) -> ImageFrame:
    """Decode a ``data:image/...;base64,...`` URL. A remote URL is refused: this server works offline."""
    stripped = url.strip()
    if stripped.lower().startswith(("http://", "https://")):
        raise ImageInputError(
            "this server does not fetch images from URLs (it works offline); send the image itself as a data URL: "
            "data:image/png;base64,..."
        )
    match = _DATA_URL.match(stripped)
    if match is None:
        raise ImageInputError("an image must be a data URL (data:image/png;base64,...)")
    mime = (match["mime"] or "").lower()
    if mime and not mime.startswith("image/"):
        raise ImageInputError(f"the data URL holds {mime}, not an image")
    if not match["b64"]:
        raise ImageInputError("an image data URL must be base64-encoded (data:image/png;base64,...)")
    try:
        data = base64.b64decode(stripped[match.end():], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImageInputError(f"the image's base64 data is invalid: {exc}") from exc
    return decode(data, max_side=max_side)


def decode(data: bytes, *, max_side: int = MAX_SIDE) -> ImageFrame:
    """Decode image file bytes (PNG, JPEG, GIF's first frame, WebP, BMP) into RGB pixels, upright."""
    if not data:
        raise ImageInputError("the image is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image: Image.Image = Image.open(io.BytesIO(data))
            image_format = image.format or ""
            if image_format not in FORMATS:
                raise ImageInputError(
                    f"unsupported image format {image_format or 'unknown'}; send {', '.join(FORMATS)}")
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ImageInputError(f"the image is {width}×{height} pixels; {_LARGEST}")
            image.draft("RGB", (max_side, max_side))  # JPEG decodes at a fraction of the size: much faster
            image = ImageOps.exif_transpose(image)
            image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
            rgb = _flatten(image)
    except ImageInputError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageInputError(f"the image is too large ({exc}); {_LARGEST}") from exc
    except UnidentifiedImageError as exc:
        raise ImageInputError(f"not a readable image (not {', '.join(FORMATS)} data)") from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ImageInputError(f"the image is corrupt or truncated ({exc})") from exc
    return ImageFrame(np.asarray(rgb, dtype=np.uint8), width, height, image_format)


def _flatten(image: Image.Image) -> Image.Image:
    """RGB, with any transparency laid over white (a transparent screenshot region reads as a light page)."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def to_jpeg(frame: ImageFrame, *, quality: int = 90) -> bytes:
    """The frame as JPEG bytes (what a remote vision model is sent)."""
    out = io.BytesIO()
    Image.fromarray(frame.pixels).save(out, format="JPEG", quality=quality)
    return out.getvalue()


def to_data_url(frame: ImageFrame) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(to_jpeg(frame)).decode("ascii")
