"""The built-in ``get_time`` tool: the current date and time here, or in a city, country or IANA time zone named in
English or Korean ("What time is it in Tokyo?", "뉴욕은 지금 몇 시야?").

The model's own idea of the time is whatever its training data said; this reads the clock. The result has the ISO
time, the weekday, the zone and its UTC offset, and a ``spoken`` string the model can say as it is (or translate).
A place no zone is known for is an ``error`` result that says so, for the model to tell the user.
"""

from __future__ import annotations

import contextlib
import os
import re
import zoneinfo
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from omni.session.tools import FunctionTool
from omni.tools.zones import UnknownPlace, city_of, find_zone
from omni.types import Tool

Now = Callable[[], datetime]
"""The current instant, timezone-aware (tests pass a fixed one)."""

TOOL = Tool(
    "get_time",
    "The current time, date or weekday, here or in a city, country or time zone. Only when the user asks what time "
    "or day it is now.",
    {"type": "object", "properties": {
        "place": {"type": "string", "description": "a city, country or IANA time zone; leave out for here"}}},
)

CUES = {
    "en": re.compile(r"\b(time|timezone|date|day|weekday|clock|o'?clock|hours?|year|month|calendar|noon|midnight|"
                     r"(mon|tues|wednes|thurs|fri|satur|sun)day)\b", re.IGNORECASE),
    "ko": re.compile(r"몇\s*시|시간|시각|날짜|요일|몇\s*월|몇\s*년|연도|올해|달력|시계|"
                     r"(오늘|내일|어제|모레|지금)[은는이가도]?\s*(몇\s*월\s*)?며칠"),
}
"""What a question about the time has one of (:attr:`FunctionTool.cues`): "What is the capital of France?" has none,
and is not answered with a ``get_time("Paris")`` call; "일주일은 며칠이에요?" (how many days) neither."""
TRIGGERS = {
    "en": re.compile(r"\bwhat time is it\b|\bwhat(?:'s| is) the (?:time|date)\b|"
                     r"\bwhat day (?:of the week )?is (?:it|today)\b|\bwhat(?:'s| is) today'?s date\b", re.IGNORECASE),
    "ko": re.compile(r"(지금|현재)\s*(은\s*)?몇\s*시|몇\s*시(예요|에요|야|니|지|인가요|입니까|냐)|무슨\s*요일|"
                     r"(오늘|지금)\s*(은|이)?\s*(몇\s*월\s*)?(며칠|날짜)"),
}
"""Questions that are for the clock and nothing else (:attr:`FunctionTool.triggers`): "뉴욕은 지금 몇 시야." as whisper
writes it (a full stop, not a question mark) leaves the model's first token at 0.06 for a call."""


def system_zone() -> str | None:
    """The IANA name of this machine's time zone: ``TZ``, ``/etc/timezone``, or where ``/etc/localtime`` points."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    with contextlib.suppress(OSError):
        candidates.append(Path("/etc/timezone").read_text(encoding="utf-8").strip())
    try:
        target = os.readlink("/etc/localtime")
        candidates.append(target.split("zoneinfo/", 1)[1] if "zoneinfo/" in target else "")
    except OSError:
        pass
    for name in candidates:
        if name and name in zoneinfo.available_timezones():
            return name
    return None


def _offset(moment: datetime) -> str:
    offset = moment.utcoffset()
    minutes = round(offset.total_seconds() / 60) if offset is not None else 0
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def twelve_hour(moment: datetime) -> str:
    """"3:05 PM": the time of day on the 12-hour clock."""
    return f"{moment.hour % 12 or 12}:{moment.minute:02d} {'AM' if moment.hour < 12 else 'PM'}"


def spoken(moment: datetime) -> str:
    """"3:05 PM on Thursday, December 3, 2026": the 12-hour clock and the date, as a voice says them."""
    return f"{twelve_hour(moment)} on {moment:%A}, {moment:%B} {moment.day}, {moment.year}"


KOREAN_WEEKDAYS = ("월요일", "화요일", "수요일", "목요일", "금요일", "토요일", "일요일")


def spoken_korean(moment: datetime) -> str:
    """"2026년 12월 3일 목요일 오후 3시 5분": given beside the English, since the 1.5B model turns "Thursday" into
    금요일 and drops 오전/오후 when it translates them itself."""
    minute = f" {moment.minute}분" if moment.minute else ""
    return (f"{moment.year}년 {moment.month}월 {moment.day}일 {KOREAN_WEEKDAYS[moment.weekday()]} "
            f"{'오전' if moment.hour < 12 else '오후'} {moment.hour % 12 or 12}시{minute}")


def current_time(place: str | None, *, here: tzinfo, here_name: str, now: Now) -> dict[str, object]:
    """The ``get_time`` result for ``place`` (None or blank: ``here``, called ``here_name``)."""
    instant = now()
    if place is None or not place.strip() or place.strip().casefold() in ("here", "local", "여기"):
        zone, name = here, here_name
    else:
        try:
            found = find_zone(place, instant)
        except UnknownPlace as exc:
            return {"error": str(exc)}
        zone, name = zoneinfo.ZoneInfo(found.zone), found.name
    moment = instant.astimezone(zone)
    return {"place": name, "time": moment.isoformat(timespec="minutes"), "weekday": f"{moment:%A}",
            "timezone": str(zone), "utc_offset": _offset(moment), "spoken": spoken(moment),
            "spoken_ko": spoken_korean(moment)}


def clock_tool(timezone: str | None = None, *, now: Now = lambda: datetime.now(UTC)) -> FunctionTool:
    """``get_time``, with "here" in ``timezone`` (an IANA name; None: this machine's zone, else UTC)."""
    name = timezone or system_zone() or "UTC"
    here = zoneinfo.ZoneInfo(name)  # a wrong configured name fails here, at start, not when the user asks
    label = f"here ({city_of(name)})" if "/" in name else "here"

    def get_time(place: str | None = None) -> dict[str, object]:
        return current_time(place, here=here, here_name=label, now=now)

    return FunctionTool(TOOL, get_time, CUES, TRIGGERS)
