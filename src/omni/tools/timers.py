"""The built-in ``timer`` tool: timers and reminders that Omni says aloud when they are due, in a live session
("Set a timer for 10 minutes for the pasta", "Remind me at 3 PM to call Mom", "5분 타이머 맞춰 줘").

A timer is set with a duration from now, a reminder with a time of day (the next one to come, in the configured
zone). When one is due the session speaks it as a reply of its own, once no reply is playing and the user is not
speaking (:class:`omni.session.tools.ToolContext`), in the user's language; it is a fixed sentence, not the model's,
so that what is said is exactly what was set. Timers are the session's: they end with it, and nothing is kept.
"""

from __future__ import annotations

import itertools
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from omni.session.tools import FunctionTool, ToolContext
from omni.tools.clock import system_zone, twelve_hour
from omni.types import Tool

TOOL = Tool(
    "timer",
    "Set, list or cancel a timer or a reminder; it is said aloud when it is due. Only when the user asks for a "
    "timer, a reminder or an alarm.",
    {"type": "object", "properties": {
        "action": {"type": "string", "enum": ["set", "list", "cancel"]},
        "duration": {"type": "string", "description": "how long from now: '10 minutes', '1 hour 30 minutes'"},
        "at": {"type": "string", "description": "a time of day instead of a duration: '15:30', '7 AM'"},
        "label": {"type": "string", "description": "what it is for: 'pasta', 'call Mom'"}},
     "required": ["action"]},
)

CUES = {
    "en": re.compile(r"\b(timers?|remind\w*|alarms?|countdown|wake me|minutes?|seconds?|hours?|mins?|secs?)\b",
                     re.IGNORECASE),
    "ko": re.compile(r"타이머|알람|알림|리마인더|깨워|(분|초|시간)\s*(후|뒤|있다가)"),
}
"""What a request for a timer or a reminder (or for those set) has one of (:attr:`FunctionTool.cues`)."""
TRIGGERS = {
    "en": re.compile(r"\b(set|start) (a|an|the|my)?\s*([\w-]+\s+)?(timer|alarm)\b|\bremind me\b|\btimer for\b",
                     re.IGNORECASE),
    "ko": re.compile(r"타이머\s*(맞춰|설정|켜|시작|해)|알람\s*(맞춰|설정)|(분|초|시간)\s*(후|뒤)에?\s*(알려|깨워)"),
}
"""Requests that are for a timer and nothing else (:attr:`FunctionTool.triggers`)."""

MAX_TIMERS = 20
LONGEST = timedelta(hours=24)

_UNITS = {"h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600, "시간": 3600,
          "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60, "분": 60,
          "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1, "초": 1}
_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
          "nine": 9, "ten": 10, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40, "forty-five": 45,
          "sixty": 60, "ninety": 90}
_AMOUNT = re.compile(r"(\d+(?:\.\d+)?|" + "|".join(sorted(_WORDS, key=len, reverse=True)) + r")\s*"
                     r"(hours?|hrs?|h|minutes?|mins?|m|seconds?|secs?|s|시간|분|초)(?![a-z])", re.IGNORECASE)
_HALF = re.compile(r"half an hour|반\s*시간", re.IGNORECASE)
_AND_A_HALF = re.compile(r"(hours?|시간)\s*(and a half|반)", re.IGNORECASE)


class TimerError(ValueError):
    """What the model must fix in a call, in words it can act on."""


def parse_duration(text: str) -> timedelta:
    """"10 minutes", "1 hour 30 minutes", "1h30m", "90 seconds", "an hour and a half", "5분", "1시간 반"."""
    seconds = 1800.0 if _HALF.search(text) or _AND_A_HALF.search(text) else 0.0
    for amount, unit in _AMOUNT.findall(_HALF.sub(" ", text)):
        value = float(amount) if amount[0].isdigit() else _WORDS[amount.lower()]
        seconds += value * _UNITS[unit.lower()]
    if seconds <= 0:
        raise TimerError(f"no duration in {text!r}: give one such as '10 minutes' or '1 hour 30 minutes'")
    return timedelta(seconds=seconds)


_CLOCK = re.compile(r"(?:(오전|오후|아침|저녁|밤)\s*)?(\d{1,2})(?:\s*시\s*(반)|\s*[:시]\s*(\d{1,2})?\s*분?)?\s*"
                    r"(a\.?m\.?|p\.?m\.?)?", re.IGNORECASE)


def next_time_of_day(text: str, now: datetime) -> datetime:
    """The next moment after ``now`` (aware, in the zone meant) that ``text`` names: "15:30", "3:30 PM", "7 am",
    "noon", "오후 3시 30분", "7시 반". An hour with no AM or PM is whichever of the two comes first."""
    lowered = text.strip().lower()
    if lowered in ("noon", "midday", "정오"):
        return _next(now, [(12, 0)])
    if lowered in ("midnight", "자정"):
        return _next(now, [(0, 0)])
    match = _CLOCK.search(text)
    if match is None or not match.group(2):
        raise TimerError(f"no time of day in {text!r}: give one such as '15:30' or '7 AM'")
    part, hour, minute = match.group(1), int(match.group(2)), 30 if match.group(3) else int(match.group(4) or 0)
    suffix = (match.group(5) or "").replace(".", "").lower()
    if hour > 23 or minute > 59:
        raise TimerError(f"{text!r} is not a time of day")
    if suffix == "pm" or part in ("오후", "저녁", "밤"):
        candidates = [(hour % 12 + 12, minute)]
    elif suffix == "am" or part in ("오전", "아침"):
        candidates = [(hour % 12, minute)]
    elif hour <= 12:
        candidates = [(hour % 12, minute), (hour % 12 + 12, minute)]
    else:
        candidates = [(hour, minute)]
    return _next(now, candidates)


def _next(now: datetime, candidates: list[tuple[int, int]]) -> datetime:
    moments = []
    for hour, minute in candidates:
        moment = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
        moments.append(moment if moment > now else moment + timedelta(days=1))
    return min(moments)


def spoken_duration(span: timedelta, language: str | None = "en") -> str:
    """"1 hour 30 minutes", "45 seconds"; in Korean "1시간 30분"."""
    total = round(span.total_seconds())
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    if language == "ko":
        return " ".join(f"{n}{unit}" for n, unit in ((hours, "시간"), (minutes, "분"), (seconds, "초")) if n) or "0초"
    parts = [f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in ((hours, "hour"), (minutes, "minute"),
                                                                   (seconds, "second")) if n]
    return " ".join(parts) or "0 seconds"


@dataclass
class Timer:
    id: int
    label: str
    due: datetime
    """When it is due, on the wall clock (aware)."""
    length: timedelta | None
    """A timer's duration; None for a reminder (set for a time of day)."""
    cancel: Callable[[], None] = field(default=lambda: None, repr=False)

    def announcement(self, language: str | None) -> str:
        """What is said when it is due, in the user's ``language`` (Korean or English)."""
        if language == "ko":
            if self.length is None:
                return f"알림이에요. {self.label}." if self.label else "알림 시간이에요."
            return (f"{self.label} 타이머가 끝났어요." if self.label
                    else f"{spoken_duration(self.length, 'ko')} 타이머가 끝났어요.")
        if self.length is None:
            return f"Here is your reminder: {self.label}." if self.label else "This is your reminder."
        return (f"Your {self.label} timer is done." if self.label
                else f"Your timer for {spoken_duration(self.length)} is done.")


class Timers:
    """One session's timers and reminders. Unusable until :meth:`bind` gives it the session's clock and voice."""

    def __init__(self, zone: zoneinfo.ZoneInfo, now: Callable[[], datetime]) -> None:
        self._zone = zone
        self._now = now
        self._context: ToolContext | None = None
        self._timers: dict[int, Timer] = {}
        self._ids = itertools.count(1)

    def bind(self, context: ToolContext) -> None:
        self._context = context

    async def act(self, action: str, duration: str | None = None, at: str | None = None,
                  label: str | None = None) -> dict[str, object]:
        try:
            if action == "set":
                return self._set(duration, at, (label or "").strip())
            if action == "list":
                return {"timers": [self._describe(t) for t in self._timers.values()]}
            if action == "cancel":
                return self._cancel((label or "").strip())
            raise TimerError(f"unknown action {action!r}: use set, list or cancel")
        except TimerError as exc:
            return {"error": str(exc)}

    def _set(self, duration: str | None, at: str | None, label: str) -> dict[str, object]:
        if self._context is None:
            raise TimerError("timers need a live session to be said in")
        if len(self._timers) >= MAX_TIMERS:
            raise TimerError(f"{MAX_TIMERS} timers are set already; cancel one first")
        now = self._now().astimezone(self._zone)
        length: timedelta | None = None
        if duration and duration.strip():
            length = parse_duration(duration)
            due = now + length
        elif at and at.strip():
            due = next_time_of_day(at, now)
        else:
            raise TimerError("give a duration ('10 minutes') or a time of day ('15:30')")
        if due - now > LONGEST:
            raise TimerError("timers and reminders can be at most 24 hours ahead")
        timer = Timer(next(self._ids), label[:100], due, length)
        self._timers[timer.id] = timer

        def message(language: str | None) -> str:
            self._timers.pop(timer.id, None)
            return timer.announcement(language)

        timer.cancel = self._context.schedule((due - now).total_seconds(), message)
        return {"set": "timer" if length is not None else "reminder", **self._describe(timer),
                "note": "It will be said aloud when it is due."}

    def _cancel(self, label: str) -> dict[str, object]:
        chosen = [t for t in self._timers.values() if label.casefold() in t.label.casefold()] if label else []
        if not label and len(self._timers) == 1:
            chosen = list(self._timers.values())
        if not chosen:
            names = ", ".join(repr(t.label or spoken_duration(t.length or timedelta())) for t in self._timers.values())
            raise TimerError(f"no timer {label!r} is set; set: {names or 'none'}" if label
                             else f"which one? set: {names or 'none'}")
        for timer in chosen:
            timer.cancel()
            del self._timers[timer.id]
        return {"cancelled": [self._describe(t) for t in chosen]}

    def _describe(self, timer: Timer) -> dict[str, object]:
        left = max(timedelta(), timer.due - self._now().astimezone(self._zone))
        return {"label": timer.label, "due": twelve_hour(timer.due.astimezone(self._zone)),
                "remaining": spoken_duration(timedelta(seconds=round(left.total_seconds())))}


def timers_tool(timezone: str | None = None, *, now: Callable[[], datetime] = lambda: datetime.now(UTC)
                ) -> FunctionTool:
    """A ``timer`` tool with its own timers, for one session; reminders' times of day are in ``timezone`` (an IANA
    name; None: this machine's zone, else UTC)."""
    timers = Timers(zoneinfo.ZoneInfo(timezone or system_zone() or "UTC"), now)
    return FunctionTool(TOOL, timers.act, CUES, TRIGGERS, bind=timers.bind)
