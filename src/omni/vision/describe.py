"""A scene in words for the LLM, and as plain data for clients.

The note is prose, says what each vision part found and as plainly what it did not, and ends by saying nothing
else is known: measured on the embedded 1.5B model (docs/vision.md), a model that reads "no objects were
recognised" says it cannot tell where a note that leaves the line out invites it to invent. The session puts the
note before the user's words and a reminder after them (:data:`REMINDER`): the question last, then how to answer
it, is what a small model follows best.
"""

from __future__ import annotations

from typing import Any

from omni.vision.scene import Box, Face, Guess, ImageFacts, Scene, SeenObject, TextLine

GIST_MIN_CONFIDENCE = 0.15
"""ImageNet guesses below this are left out: at 1000 classes, lower ones are mostly noise."""
MAX_TEXT_CHARS = 1200
"""Text read in an image beyond this is cut (a full screen of small text would fill the model's context)."""
MAX_LISTED = 8

REMINDER = ("(Answer the question. For details of the image that the image description above does not give, say you "
            "can't tell from the image.)")
"""Appended to the newest user message when it comes with images (never stored, like the language reminder)."""

_PLURALS = {"person": "people", "mouse": "mice", "knife": "knives", "bus": "buses", "skis": "skis",
            "scissors": "scissors", "sheep": "sheep", "wine glass": "wine glasses", "couch": "couches",
            "sandwich": "sandwiches", "toothbrush": "toothbrushes", "bench": "benches"}

KOREAN_NAMES = {
    "person": "사람", "bicycle": "자전거", "car": "자동차", "motorcycle": "오토바이", "airplane": "비행기",
    "bus": "버스", "train": "기차", "truck": "트럭", "boat": "배", "traffic light": "신호등", "fire hydrant": "소화전",
    "stop sign": "정지 표지판", "parking meter": "주차 요금기", "bench": "벤치", "bird": "새", "cat": "고양이",
    "dog": "개", "horse": "말", "sheep": "양", "cow": "소", "elephant": "코끼리", "bear": "곰", "zebra": "얼룩말",
    "giraffe": "기린", "backpack": "배낭", "umbrella": "우산", "handbag": "핸드백", "tie": "넥타이",
    "suitcase": "여행 가방", "frisbee": "원반", "skis": "스키", "snowboard": "스노보드", "sports ball": "공",
    "kite": "연", "baseball bat": "야구 방망이", "baseball glove": "야구 글러브", "skateboard": "스케이트보드",
    "surfboard": "서핑보드", "tennis racket": "테니스 라켓", "bottle": "병", "wine glass": "와인 잔", "cup": "컵",
    "fork": "포크", "knife": "칼", "spoon": "숟가락", "bowl": "그릇", "banana": "바나나", "apple": "사과",
    "sandwich": "샌드위치", "orange": "오렌지", "broccoli": "브로콜리", "carrot": "당근", "hot dog": "핫도그",
    "pizza": "피자", "donut": "도넛", "cake": "케이크", "chair": "의자", "couch": "소파", "potted plant": "화분",
    "bed": "침대", "dining table": "식탁", "toilet": "변기", "tv": "텔레비전", "laptop": "노트북",
    "mouse": "마우스", "remote": "리모컨", "keyboard": "키보드", "cell phone": "휴대폰", "microwave": "전자레인지",
    "oven": "오븐", "toaster": "토스터", "sink": "싱크대", "refrigerator": "냉장고", "book": "책", "clock": "시계",
    "vase": "꽃병", "scissors": "가위", "teddy bear": "곰 인형", "hair drier": "헤어드라이어", "toothbrush": "칫솔",
}
"""The detector's 80 classes in Korean: the embedded LLM turns English labels into Korean badly ("cat" → "카우")."""


def position(box: Box) -> str:
    """Where a box is, in words: "top left", "centre", "bottom right"..."""
    x, y = box.centre
    column = "left" if x < 0.36 else "right" if x > 0.64 else ""
    row = "top" if y < 0.36 else "bottom" if y > 0.64 else ""
    return " ".join(p for p in (row, column) if p) or "centre"


def note(scene: Scene, *, language: str | None = None) -> str:
    """The scene as the LLM reads it; ``language`` "ko" adds the Korean names of objects."""
    if scene.description is not None:
        found = f"A vision model describes it: {scene.description.strip()}"
    else:
        found = " ".join((_text(scene.text), _objects(scene.objects, language), _gist(scene.gist),
                          _faces(scene.faces)))
    return (f"[Image the user showed. An image-analysis tool found: {found} The picture as a whole: "
            f"{_facts(scene.facts)}. Nothing else about the image is known.]")


def short_note(scene: Scene, *, language: str | None = None) -> str:
    """One line for an older image, when the conversation has moved on."""
    parts = []
    if scene.description is not None:
        parts.append(_cut(scene.description.strip(), 160))
    if scene.text:
        parts.append("text " + _quote(_cut(" / ".join(t.text for t in scene.text), 120)))
    if scene.objects:
        parts.append(_counts(scene.objects, language))
    elif likely := [g.label for g in scene.gist if g.confidence >= GIST_MIN_CONFIDENCE][:1]:
        parts.append(f"perhaps {likely[0]}")
    return f"[An earlier image: {'; '.join(parts) or 'nothing recognised'}.]"


def _text(text: tuple[TextLine, ...]) -> str:
    if not text:
        return "No text was found in it."
    joined = " / ".join(_quote(t.text) for t in text)
    return f"It contains this text (line by line): {_cut(joined, MAX_TEXT_CHARS)}."


def _objects(objects: tuple[SeenObject, ...], language: str | None) -> str:
    if not objects:
        return "No objects were recognised."
    return f"Objects recognised: {_counts(objects, language, details=True)}."


def _counts(objects: tuple[SeenObject, ...], language: str | None, *, details: bool = False) -> str:
    by_label: dict[str, list[SeenObject]] = {}
    for obj in objects:
        by_label.setdefault(obj.label, []).append(obj)
    parts = []
    for label, found in sorted(by_label.items(), key=lambda kv: -len(kv[1]))[:MAX_LISTED]:
        name = label if len(found) == 1 else _PLURALS.get(label, label + "s")
        if language == "ko" and label in KOREAN_NAMES:
            name += f" ({KOREAN_NAMES[label]})"
        part = f"{len(found)} {name}"
        if details:
            part += " (" + "; ".join(_where_and_colour(o) for o in found[:MAX_LISTED]) + ")"
        parts.append(part)
    return ", ".join(parts)


def _where_and_colour(obj: SeenObject) -> str:
    if not obj.colours:
        return position(obj.box)
    colours = " and ".join(obj.colours)
    return f"{position(obj.box)}, {'clothes ' if obj.label == 'person' else ''}mostly {colours}"


def _gist(gist: tuple[Guess, ...]) -> str:
    likely = [g for g in gist if g.confidence >= GIST_MIN_CONFIDENCE]
    if not likely:
        return "What the whole picture shows is unsure."
    sure = "probably" if likely[0].confidence >= 0.5 else "perhaps"
    return f"As a whole it {sure} shows: {' or '.join(g.label for g in likely)}."


def _faces(faces: tuple[Face, ...]) -> str:
    if not faces:
        return "No faces were found."
    described = [f"{position(f.box)}{', looking ' + f.expression if f.expression else ''}" for f in faces[:MAX_LISTED]]
    return f"Faces: {len(faces)} ({'; '.join(described)})."


def _facts(facts: ImageFacts) -> str:
    light = "dark" if facts.brightness < 0.3 else "bright" if facts.brightness > 0.7 else "medium brightness"
    colours = f", its overall colours {' and '.join(facts.colours)}" if facts.colours else ""
    focus = ", blurry" if facts.blurry else ""
    return f"{light}{colours}{focus} ({facts.width}×{facts.height} pixels)"


def _quote(text: str) -> str:
    return '"' + text.replace('"', "'") + '"'


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def as_json(scene: Scene) -> dict[str, Any]:
    """The findings as plain data (clients, ``omni look --json``); boxes as [x, y, w, h] fractions."""
    def box(b: Box) -> list[float]:
        return [round(b.x, 4), round(b.y, 4), round(b.w, 4), round(b.h, 4)]

    facts = scene.facts
    return {
        "text": [{"text": t.text, "box": box(t.box), "confidence": round(t.confidence, 3)} for t in scene.text],
        "objects": [{"label": o.label, "box": box(o.box), "confidence": round(o.confidence, 3),
                     "position": position(o.box), "colours": list(o.colours)} for o in scene.objects],
        "gist": [{"label": g.label, "confidence": round(g.confidence, 3)} for g in scene.gist],
        "faces": [{"box": box(f.box), "expression": f.expression,
                   "expression_confidence": round(f.expression_confidence, 3)} for f in scene.faces],
        "facts": {"width": facts.width, "height": facts.height, "brightness": facts.brightness,
                  "colours": list(facts.colours), "sharpness": facts.sharpness, "blurry": facts.blurry},
        "description": scene.description,
        "timings_ms": {part: round(seconds * 1000, 1) for part, seconds in scene.timings.items()},
    }
