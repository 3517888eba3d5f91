"""A scene in words for the LLM, and as plain data for clients.

The note says what each vision part found and, as plainly, what it did not: a small LLM that reads "objects: none
recognised" says it cannot tell, where a note that leaves the line out invites it to invent. Every line names its
source, so the model can say "the text in it reads ..." rather than claim to have seen the picture itself.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from omni.vision.scene import Box, Face, Guess, ImageFacts, Scene, SeenObject, TextLine

GIST_MIN_CONFIDENCE = 0.15
"""ImageNet guesses below this are left out: at 1000 classes, lower ones are mostly noise."""
MAX_TEXT_CHARS = 1200
"""Text read in an image beyond this is cut (a full screen of small text would fill the model's context)."""
MAX_LISTED = 8

_PLURALS = {"person": "people", "mouse": "mice", "knife": "knives", "bus": "buses", "skis": "skis",
            "scissors": "scissors", "sheep": "sheep", "wine glass": "wine glasses", "couch": "couches",
            "sandwich": "sandwiches", "toothbrush": "toothbrushes", "bench": "benches", "glass": "glasses"}

NOTE_HEADER = "[Image. Omni's vision found only what is listed here; anything else about the picture is unknown:"


def position(box: Box) -> str:
    """Where a box is, in words: "top left", "centre", "bottom right"..."""
    x, y = box.centre
    column = "left" if x < 0.36 else "right" if x > 0.64 else ""
    row = "top" if y < 0.36 else "bottom" if y > 0.64 else ""
    return " ".join(p for p in (row, column) if p) or "centre"


def note(scene: Scene) -> str:
    """The scene as the LLM reads it, inside the user's message."""
    lines = [NOTE_HEADER]
    if scene.description is not None:
        lines.append(f"- a vision model describes it: {scene.description.strip()}")
    else:
        lines += [_text_line(scene.text), _objects_line(scene.objects), _gist_line(scene.gist),
                  _faces_line(scene.faces)]
    lines.append(f"- the picture itself: {_facts(scene.facts)}]")
    return "\n".join(lines)


def short_note(scene: Scene) -> str:
    """One line for an older image, when the conversation has moved on."""
    parts = []
    if scene.description is not None:
        parts.append(_cut(scene.description.strip(), 160))
    if scene.text:
        parts.append("text " + _quote(_cut(" / ".join(t.text for t in scene.text), 120)))
    if scene.objects:
        parts.append(_counts(scene.objects))
    elif likely := [g.label for g in scene.gist if g.confidence >= GIST_MIN_CONFIDENCE][:1]:
        parts.append(f"maybe {likely[0]}")
    return f"[An earlier image: {'; '.join(parts) or 'nothing recognised'}.]"


def _text_line(text: tuple[TextLine, ...]) -> str:
    if not text:
        return "- text in it (OCR): none found"
    joined = "\n".join(t.text for t in text)
    return "- text in it (OCR), line by line:\n" + _quote(_cut(joined, MAX_TEXT_CHARS))


def _objects_line(objects: tuple[SeenObject, ...]) -> str:
    if not objects:
        return "- objects (detector of 80 common kinds): none recognised"
    return f"- objects (detector of 80 common kinds): {_counts(objects, where=True)}"


def _counts(objects: tuple[SeenObject, ...], *, where: bool = False) -> str:
    by_label: dict[str, list[SeenObject]] = {}
    for obj in objects:
        by_label.setdefault(obj.label, []).append(obj)
    parts = []
    for label, found in sorted(by_label.items(), key=lambda kv: -len(kv[1]))[:MAX_LISTED]:
        name = label if len(found) == 1 else _PLURALS.get(label, label + "s")
        part = f"{len(found)} {name}"
        if where:
            places = Counter(position(o.box) for o in found)
            part += " (" + ", ".join(p if n == 1 else f"{n} {p}" for p, n in places.items()) + ")"
        parts.append(part)
    return ", ".join(parts)


def _gist_line(gist: tuple[Guess, ...]) -> str:
    likely = [g for g in gist if g.confidence >= GIST_MIN_CONFIDENCE]
    if not likely:
        return "- what the whole picture shows (1000-class guess): unsure"
    guesses = ", ".join(f"{g.label} ({g.confidence:.0%})" for g in likely)
    return f"- what the whole picture may show (1000-class guess): {guesses}"


def _faces_line(faces: tuple[Face, ...]) -> str:
    if not faces:
        return "- faces: none found"
    described = []
    for face in faces[:MAX_LISTED]:
        mood = f", looks {face.expression}" if face.expression else ""
        described.append(f"{position(face.box)}{mood}")
    return f"- faces: {len(faces)} ({'; '.join(described)})"


def _facts(facts: ImageFacts) -> str:
    light = "dark" if facts.brightness < 0.3 else "bright" if facts.brightness > 0.7 else "medium brightness"
    colours = f", mostly {' and '.join(facts.colours)}" if facts.colours else ""
    focus = ", blurry" if facts.blurry else ""
    return f"{facts.width}×{facts.height} pixels, {light}{colours}{focus}"


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
                     "position": position(o.box)} for o in scene.objects],
        "gist": [{"label": g.label, "confidence": round(g.confidence, 3)} for g in scene.gist],
        "faces": [{"box": box(f.box), "expression": f.expression,
                   "expression_confidence": round(f.expression_confidence, 3)} for f in scene.faces],
        "facts": {"width": facts.width, "height": facts.height, "brightness": facts.brightness,
                  "colours": list(facts.colours), "sharpness": facts.sharpness, "blurry": facts.blurry},
        "description": scene.description,
        "timings_ms": {part: round(seconds * 1000, 1) for part, seconds in scene.timings.items()},
    }
