"""OCR on images drawn here with Pillow: an English sign in a camera frame, Korean and mixed sentences, a settings
screen of 13 px text in two columns, a 1280 x 720 screenshot, light text on dark, a Korean sign, a sign of lines
without descenders; and nothing read where there is no text (``models``).

Each case bounds the character error rate (spaces count) a few characters above what was measured, so fonts or
library versions that shift a character or two still pass, while losing Korean fails every case with Korean in it
(it is a quarter of the screenshot, half of the dark screen), and Korean words left split into syllables fail the
Korean, mixed and dark cases. Measured: 0 for the signs, the screenshot and the dark screen; 0.007 for the
settings ("Off" read "off"), 0.013 mixed ("OpenAI" read "OpenAl"), 0.019 Korean (Tesseract reads 아홉 as 아홈).
"""

from __future__ import annotations

from collections.abc import Sequence
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from omni.bench.vision import font, line_image
from omni.errors import BackendUnavailableError
from omni.text.wer import cer
from omni.types import Pixels
from omni.vision.ocr import TextReader
from omni.vision.scene import TextLine
from tests import photos

pytestmark = pytest.mark.models

INK = (20, 20, 20)

SIGN = ("Please keep the door", "closed at all times")
KOREAN = ("안녕하세요, 만나서 반갑습니다.", "오늘 날씨가 정말 좋네요.", "내일 아침 아홉 시에 회의가 있습니다.")
MIXED = (
    "회의는 오후 3시에 Zoom으로 진행합니다.",
    "Wi-Fi 비밀번호는 omni2024 입니다.",
    "OpenAI API 키를 설정에서 입력하세요.",
)
SETTINGS = (
    ("Display brightness", "80%"), ("Night mode", "Off"), ("Language", "English"), ("Notifications", "Enabled"),
    ("Auto-lock", "5 minutes"), ("Storage used", "12.4 GB of 64 GB"),
)
SIDEBAR = ("Inbox", "Today", "받은 편지함", "Projects", "설정")
NOTES = (
    "Meeting notes for Tuesday", "The design review moves to Thursday at 10 am.",
    "Please bring the latest prototype and the test results.", "다음 주 월요일까지 보고서를 제출해 주세요.",
    "질문이 있으면 언제든지 연락하세요.", "Budget: 1,250,000 KRW approved",
)
DARK = ("Dark mode is on", "다크 모드가 켜져 있습니다")
KOREAN_SIGN = ("비상구", "엘리베이터 이용 금지", "Emergency Exit")
# Lines that stand lower than an em: no descenders, capitals alone, small letters alone.
SHORT_SIGN = ("Trains to Busan", "EMERGENCY EXIT", "one more room")


@pytest.fixture(scope="module")
def text_reader() -> TextReader:
    return TextReader()


def _font(size: int, *, latin: bool = False) -> ImageFont.FreeTypeFont:
    """DejaVu, or Noto CJK (its Latin letters too); a missing font fails with the command that installs it."""
    return font(size, hangul=not latin)


def _pixels(image: Image.Image) -> Pixels:
    return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()


def _wall(width: int, height: int, low: float, high: float, seed: int) -> Image.Image:
    """A shaded, grainy background, like a wall in a camera frame."""
    shade = np.linspace(low, high, height)[:, None, None] * np.ones((height, width, 3))
    grain = np.random.default_rng(seed).normal(0, 6, shade.shape)
    return Image.fromarray((shade + grain).clip(0, 255).astype(np.uint8))


def _through_a_camera(image: Image.Image, angle: float) -> Pixels:
    """Tilted, a little blurred, unevenly lit, noisy and JPEG-compressed."""
    tilted = image.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=image.getpixel((0, 0)))
    blurred = np.asarray(tilted.filter(ImageFilter.GaussianBlur(0.8)), dtype=np.float64)
    lit = blurred * np.linspace(0.85, 1.1, image.height)[:, None, None]
    noisy = lit + np.random.default_rng(3).normal(0, 4, lit.shape)
    buffer = BytesIO()
    Image.fromarray(noisy.clip(0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=70)
    return _pixels(Image.open(buffer))


def _lines_on(size: tuple[int, int], lines: Sequence[str], font_size: int, step: int, *, colour: tuple[int, ...] = INK,
              background: tuple[int, int, int] = (255, 255, 255)) -> Pixels:
    image = Image.new("RGB", size, background)
    draw = ImageDraw.Draw(image)
    for row, text in enumerate(lines):
        draw.text((40, 40 + row * step), text, font=_font(font_size), fill=colour)
    return _pixels(image)


def _english_sign() -> Pixels:
    image = _wall(640, 480, 90, 160, seed=1)
    draw = ImageDraw.Draw(image)
    draw.rectangle((70, 150, 570, 330), fill=(20, 90, 40))
    for row, text in enumerate(SIGN):
        draw.text((95, 180 + row * 60), text, font=_font(34, latin=True), fill=(255, 255, 255))
    return _through_a_camera(image, angle=3.0)


def _korean_sign() -> Pixels:
    image = _wall(640, 480, 120, 190, seed=2)
    draw = ImageDraw.Draw(image)
    draw.rectangle((60, 120, 580, 360), fill=(30, 60, 160))
    for text, size, top in zip(KOREAN_SIGN, (56, 32, 30), (145, 235, 295), strict=True):
        width = draw.textlength(text, font=_font(size))
        draw.text(((640 - width) / 2, top), text, font=_font(size), fill=(255, 255, 255))
    return _through_a_camera(image, angle=-2.5)


def _short_sign(size: int) -> Pixels:
    """DejaVu Sans in dark blue on a light sign with a thick blue border, on a grainy wall (as a camera sees one)."""
    image = _wall(640, 480, 150, 190, seed=4)
    draw = ImageDraw.Draw(image)
    draw.rectangle((90, 110, 560, 370), fill=(245, 245, 240), outline=(30, 60, 140), width=8)
    for row, text in enumerate(SHORT_SIGN):
        draw.text((120, 140 + row * 75), text, font=_font(size, latin=True), fill=(20, 30, 80))
    return _pixels(image)


def _settings() -> Pixels:
    """A settings screen: a title, then rows of 13 px labels on the left and their values right-aligned."""
    image = Image.new("RGB", (640, 400), (242, 242, 247))
    draw = ImageDraw.Draw(image)
    draw.text((30, 20), "Settings", font=_font(18, latin=True), fill=(0, 0, 0))
    small = _font(13, latin=True)
    for row, (label, value) in enumerate(SETTINGS):
        top = 70 + row * 40
        draw.rectangle((20, top - 8, 620, top + 24), fill=(255, 255, 255))
        draw.text((36, top), label, font=small, fill=(0, 0, 0))
        draw.text((600 - draw.textlength(value, font=small), top), value, font=small, fill=(110, 110, 115))
    return _pixels(image)


def _screenshot() -> Pixels:
    """1280 x 720: a title bar, a sidebar, notes in English and Korean, and a button."""
    image = Image.new("RGB", (1280, 720), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 1280, 40), fill=(235, 235, 235))
    draw.text((16, 10), "Omni Assistant - Notes", font=_font(16, latin=True), fill=(0, 0, 0))
    draw.rectangle((0, 40, 240, 720), fill=(246, 246, 248))
    for row, text in enumerate(SIDEBAR):
        draw.text((24, 70 + row * 36), text, font=_font(15), fill=(40, 40, 40))
    top = 70
    for text, size in zip(NOTES, (26, 16, 16, 16, 16, 16), strict=True):
        draw.text((280, top), text, font=_font(size), fill=(0, 0, 0))
        top += int(size * 2.2)
    draw.rectangle((1080, 660, 1250, 700), fill=(0, 120, 215))
    draw.text((1130, 670), "Save", font=_font(16, latin=True), fill=(255, 255, 255))
    return _pixels(image)


def _photo_like() -> Pixels:
    """Smooth colour gradients, soft blobs and grain: edges everywhere, letters nowhere."""
    rng = np.random.default_rng(7)
    rows, columns = np.mgrid[0:480, 0:640]
    pixels = np.stack([columns / 640 * 200, rows / 480 * 180 + 30, (rows + columns) / 1120 * 150 + 50], axis=-1)
    image = Image.fromarray(pixels.astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y, size = (int(value) for value in rng.integers((0, 0, 20), (640, 480, 120)))
        draw.ellipse((x, y, x + size, y + size * 0.6), fill=tuple(int(c) for c in rng.integers(0, 255, 3)))
    soft = np.asarray(image.filter(ImageFilter.GaussianBlur(2)), dtype=np.float64)
    return _pixels(Image.fromarray((soft + rng.normal(0, 10, soft.shape)).clip(0, 255).astype(np.uint8)))


def _cer(lines: Sequence[TextLine], expected: Sequence[str]) -> float:
    return cer(" ".join(expected), " ".join(line.text for line in lines))


def _assert_in_order(lines: Sequence[TextLine], expected: Sequence[str]) -> None:
    """Every expected line is read, each best matched by a later line than the one before."""
    texts = [line.text for line in lines]
    found = [_best_match(texts, want) for want in expected]
    assert found == sorted(found) and len(set(found)) == len(found), texts
    for want, index in zip(expected, found, strict=True):
        assert cer(want, texts[index]) < 0.35, (want, texts[index])


def _best_match(texts: Sequence[str], want: str) -> int:
    return min(range(len(texts)), key=lambda i: cer(want, texts[i]))


def test_english_sign_in_a_camera_frame(text_reader: TextReader) -> None:
    lines = text_reader.read(_english_sign())
    assert _cer(lines, SIGN) <= 0.05
    _assert_in_order(lines, SIGN)
    first = lines[0].box
    # The sign's first line was drawn from x = 95 and y = 180 (of 640 x 480) before the small tilt.
    assert first.x == pytest.approx(95 / 640, abs=0.04) and first.y == pytest.approx(180 / 480, abs=0.04)
    assert all(line.confidence > 0.9 for line in lines)


@pytest.mark.parametrize("size", [36, 40, 44])
def test_lines_without_descenders_keep_their_words_whole(text_reader: TextReader, size: int) -> None:
    # A space was once a quarter of the ink's height, which on these lines is 0.54-0.75 of the font size: the gaps
    # DejaVu leaves between two stems ("ai", "in") counted, and they were read "Tra i ns to Busa n", "EM ERGENCY".
    lines = text_reader.read(_short_sign(size))
    assert _cer(lines, SHORT_SIGN) <= 0.05
    assert [len(line.text.split()) for line in lines] == [len(text.split()) for text in SHORT_SIGN], lines


def test_korean_sentences_with_their_spaces(text_reader: TextReader) -> None:
    lines = text_reader.read(_lines_on((800, 300), KOREAN, 28, 80))
    assert _cer(lines, KOREAN) <= 0.08
    _assert_in_order(lines, KOREAN)
    # Syllables Tesseract split apart are joined again, real word breaks kept.
    assert [len(line.text.split()) for line in lines] == [len(text.split()) for text in KOREAN]


@pytest.mark.parametrize("text", ["14번 승강장", "A동 301호", "5분 뒤에 출발", "3시에 만나요"])
def test_digits_joined_to_a_syllable_keep_it(text_reader: TextReader, text: str) -> None:
    # RapidOCR reads "14" of "14번" and drops the syllable: the word's ink beyond what it read goes to Tesseract,
    # and a re-read beside a Korean word does not take that word's edge for a digit ("3011호").
    read = " ".join(line.text for line in text_reader.read(line_image(text, 32)))
    assert read == text


def test_korean_mixed_with_english(text_reader: TextReader) -> None:
    lines = text_reader.read(_lines_on((900, 260), MIXED, 26, 75))
    assert _cer(lines, MIXED) <= 0.08
    _assert_in_order(lines, MIXED)


def test_small_settings_text_is_read_row_by_row(text_reader: TextReader) -> None:
    expected = ["Settings", *(text for row in SETTINGS for text in row)]
    lines = text_reader.read(_settings())
    assert _cer(lines, expected) <= 0.05
    _assert_in_order(lines, expected)


def test_screenshot_columns_are_read_one_after_the_other(text_reader: TextReader) -> None:
    expected = ["Omni Assistant - Notes", *SIDEBAR, *NOTES, "Save"]
    lines = text_reader.read(_screenshot())
    assert _cer(lines, expected) <= 0.05
    _assert_in_order(lines, expected)


def test_light_text_on_dark(text_reader: TextReader) -> None:
    lines = text_reader.read(_lines_on((800, 240), DARK, 30, 80, colour=(220, 220, 225), background=(30, 30, 35)))
    assert _cer(lines, DARK) <= 0.05
    _assert_in_order(lines, DARK)


def test_korean_sign_in_a_camera_frame(text_reader: TextReader) -> None:
    lines = text_reader.read(_korean_sign())
    assert _cer(lines, KOREAN_SIGN) <= 0.08
    _assert_in_order(lines, KOREAN_SIGN)


def test_no_text_is_claimed_in_a_photo_like_image(text_reader: TextReader) -> None:
    assert text_reader.read(_photo_like()) == []


@pytest.mark.parametrize("name", ["chelsea.png", "coffee.png", "brick.png", "gravel.png", "grass.png"])
def test_no_text_is_claimed_in_photos(text_reader: TextReader, skimage_photos: Path, name: str) -> None:
    assert text_reader.read(photos.photo(skimage_photos, name)) == []


def test_boxes_are_fractions_inside_the_image(text_reader: TextReader) -> None:
    for line in text_reader.read(_screenshot()):
        box = line.box
        assert box.x >= 0 and box.y >= 0 and box.w > 0 and box.h > 0
        assert box.x + box.w <= 1 and box.y + box.h <= 1


def test_without_tesseract_english_is_read_and_korean_is_reported_missing() -> None:
    english_only = TextReader(tesseract="/nonexistent/libtesseract.so.5")
    assert isinstance(english_only.korean_unavailable, BackendUnavailableError)
    assert "apt-get install" in str(english_only.korean_unavailable)
    assert english_only.available_languages() == ("en",)
    lines = english_only.read(_lines_on((900, 180), ("Wi-Fi password", "비밀번호를 입력하세요"), 26, 75))
    assert [line.text for line in lines] == ["Wi-Fi password"]  # no garbage for the Korean line


def test_both_languages_are_available(text_reader: TextReader) -> None:
    assert text_reader.korean_unavailable is None
    assert text_reader.available_languages() == ("en", "ko")


@pytest.mark.parametrize("shape", [(10, 10), (10, 10, 4), (0, 10, 3)])
def test_refuses_what_is_not_an_rgb_image(text_reader: TextReader, shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="RGB"):
        text_reader.read(np.zeros(shape, dtype=np.uint8))
