"""Images from clients: the formats accepted, downscaling, and a clear error for everything else."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from omni.errors import ImageInputError
from omni.vision import image as images


def encoded(img: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    img.save(out, format=fmt, **params)
    return out.getvalue()


def data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP", "BMP"])
def test_every_accepted_format_decodes_to_rgb(fmt: str) -> None:
    frame = images.decode(encoded(Image.new("RGB", (40, 30), (200, 30, 30)), fmt))
    assert frame.pixels.shape == (30, 40, 3) and frame.pixels.dtype == np.uint8
    assert frame.format == fmt
    assert abs(int(frame.pixels[15, 20, 0]) - 200) < 12 and int(frame.pixels[15, 20, 2]) < 60


def test_transparency_is_laid_over_white() -> None:
    frame = images.decode(encoded(Image.new("RGBA", (10, 10), (0, 0, 0, 0)), "PNG"))
    assert frame.pixels.min() == 255


def test_a_large_image_is_downscaled_and_keeps_its_original_size() -> None:
    frame = images.decode(encoded(Image.new("RGB", (4000, 1000), "white"), "PNG"), max_side=1000)
    assert (frame.width, frame.height) == (1000, 250)
    assert (frame.original_width, frame.original_height) == (4000, 1000)


def test_exif_orientation_is_applied() -> None:
    img = Image.new("RGB", (60, 20), "white")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90°: the camera was held upright
    frame = images.decode(encoded(img, "JPEG", exif=exif))
    assert (frame.width, frame.height) == (20, 60)


@pytest.mark.parametrize("size", [(8000, 6000), (10000, 10000)])
def test_an_image_beyond_the_pixel_limit_is_refused_before_decoding(size: tuple[int, int]) -> None:
    big = encoded(Image.new("1", size), "PNG")  # small as a file; its header alone says what it would cost
    with pytest.raises(ImageInputError, match="largest accepted is 40 megapixels"):
        images.decode(big)


@pytest.mark.parametrize(("data", "message"), [
    (b"", "empty"),
    (b"not an image at all", "not a readable image"),
    (encoded(Image.new("RGB", (10, 10)), "TIFF"), "unsupported image format TIFF"),
    (encoded(Image.new("RGB", (64, 64), "red"), "PNG")[:60], "corrupt or truncated"),
])
def test_bad_bytes_are_a_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(ImageInputError, match=message):
        images.decode(data)


def test_a_data_url_decodes() -> None:
    png = encoded(Image.new("RGB", (8, 8), "blue"), "PNG")
    assert images.from_data_url(data_url(png)).pixels[0, 0].tolist() == [0, 0, 255]


@pytest.mark.parametrize(("url", "message"), [
    ("https://example.com/cat.png", "does not fetch images from URLs"),
    ("file:///etc/passwd", "must be a data URL"),
    ("data:text/plain;base64,aGVsbG8=", "not an image"),
    ("data:image/png,rawbytes", "base64"),
    ("data:image/png;base64,@@@@", "base64 data is invalid"),
])
def test_bad_urls_are_a_clear_error(url: str, message: str) -> None:
    with pytest.raises(ImageInputError, match=message):
        images.from_data_url(url)


def test_jpeg_round_trip_keeps_the_picture() -> None:
    frame = images.decode(encoded(Image.new("RGB", (32, 32), (10, 200, 10)), "PNG"))
    again = images.from_data_url(images.to_data_url(frame))
    assert np.abs(again.pixels.astype(int) - frame.pixels.astype(int)).max() < 8
