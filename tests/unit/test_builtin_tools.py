"""The built-in tools on their own: the clock's places and zones (English and Korean names), the calculator's exact
arithmetic, rounding for speech and unit conversion, the notes, and the settings that switch them."""

from __future__ import annotations

import json
import zoneinfo
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

import pytest

from omni.config import ToolsSettings, load_settings
from omni.errors import ConfigError
from omni.session.tools import Message, ToolBox, ToolContext
from omni.text.language import detect_language
from omni.tools.builtin import builtin_toolbox, builtin_tools
from omni.tools.calculator import MAX_LENGTH, calculate, speakable
from omni.tools.clock import clock_tool, current_time, spoken, spoken_korean
from omni.tools.notes import Notes, notes_tool
from omni.tools.timers import Timer, TimerError, next_time_of_day, parse_duration, spoken_duration, timers_tool
from omni.tools.zones import UnknownPlace, find_zone
from omni.types import ToolCall

# 2026-07-15 03:04 UTC: northern summer, so daylight saving time is on in New York and London.
SUMMER = datetime(2026, 7, 15, 3, 4, tzinfo=UTC)
WINTER = datetime(2026, 1, 15, 3, 4, tzinfo=UTC)


# ---- places and zones -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("place", "zone"), [
    ("Tokyo", "Asia/Tokyo"), ("도쿄", "Asia/Tokyo"), ("서울", "Asia/Seoul"), ("Seoul", "Asia/Seoul"),
    ("New York", "America/New_York"), ("뉴욕", "America/New_York"), ("런던", "Europe/London"),
    ("london", "Europe/London"), ("Japan", "Asia/Tokyo"), ("일본", "Asia/Tokyo"), ("한국", "Asia/Seoul"),
    ("Korea", "Asia/Seoul"), ("Asia/Kolkata", "Asia/Kolkata"), ("asia/tokyo", "Asia/Tokyo"),
    ("Calcutta", "Asia/Kolkata"), ("São Paulo", "America/Sao_Paulo"), ("Sao Paulo", "America/Sao_Paulo"),
    ("New York City", "America/New_York"), ("Tokyo, Japan", "Asia/Tokyo"), ("도쿄 시간", "Asia/Tokyo"),
    ("서울시", "Asia/Seoul"), ("로스앤젤레스", "America/Los_Angeles"), ("Germany", "Europe/Berlin"),
    ("독일", "Europe/Berlin"), ("Singapore", "Asia/Singapore"), ("UK", "Europe/London"), ("UTC", "UTC"),
])
def test_places_in_english_and_korean_find_their_zone(place: str, zone: str) -> None:
    assert find_zone(place, SUMMER).zone == zone


def test_a_korean_name_is_reported_by_its_english_name() -> None:
    assert find_zone("도쿄", SUMMER).name == "Tokyo"
    assert find_zone("Asia/Seoul", SUMMER).name == "Seoul"


@pytest.mark.parametrize("place", ["Gotham City", "Atlantis", "", "EST"])
def test_unknown_places_are_errors(place: str) -> None:
    with pytest.raises(UnknownPlace):
        find_zone(place, SUMMER)


def test_a_country_with_several_offsets_asks_for_a_city() -> None:
    with pytest.raises(UnknownPlace) as caught:
        find_zone("United States", SUMMER)
    assert "New York" in str(caught.value) and "Chicago" in str(caught.value)
    with pytest.raises(UnknownPlace, match="time zones"):
        find_zone("미국", SUMMER)


def test_the_time_in_a_place_is_computed_from_the_zone_database() -> None:
    here = zoneinfo.ZoneInfo("Asia/Seoul")
    tokyo = current_time("Tokyo", here=here, here_name="here", now=lambda: SUMMER)
    assert tokyo == {"place": "Tokyo", "time": "2026-07-15T12:04+09:00", "weekday": "Wednesday",
                     "timezone": "Asia/Tokyo", "utc_offset": "+09:00",
                     "spoken": "12:04 PM on Wednesday, July 15, 2026",
                     "spoken_ko": "2026년 7월 15일 수요일 오후 12시 4분"}
    # Daylight saving time: New York is UTC-4 in July and UTC-5 in January, the day before in both.
    summer = current_time("New York", here=here, here_name="here", now=lambda: SUMMER)
    winter = current_time("뉴욕", here=here, here_name="here", now=lambda: WINTER)
    assert (summer["utc_offset"], summer["time"]) == ("-04:00", "2026-07-14T23:04-04:00")
    assert (winter["utc_offset"], winter["time"]) == ("-05:00", "2026-01-14T22:04-05:00")
    assert winter["weekday"] == "Wednesday"


def test_no_place_is_here() -> None:
    here = zoneinfo.ZoneInfo("Asia/Seoul")
    for place in (None, "", "here"):
        result = current_time(place, here=here, here_name="here (Seoul)", now=lambda: SUMMER)
        assert result["place"] == "here (Seoul)" and result["time"] == "2026-07-15T12:04+09:00"


def test_the_clock_tool_uses_the_configured_zone_and_answers_errors_as_results() -> None:
    tool = clock_tool("Asia/Seoul", now=lambda: SUMMER)
    assert tool.tool.name == "get_time"
    assert tool.function()["utc_offset"] == "+09:00"  # type: ignore[index]
    assert "Gotham" in tool.function(place="Gotham City")["error"]  # type: ignore[index]
    with pytest.raises(zoneinfo.ZoneInfoNotFoundError):
        clock_tool("Mars/Olympus_Mons")


@pytest.mark.parametrize(("moment", "said"), [
    (datetime(2026, 3, 1, 0, 5), "12:05 AM on Sunday, March 1, 2026"),
    (datetime(2026, 3, 1, 12, 0), "12:00 PM on Sunday, March 1, 2026"),
    (datetime(2026, 3, 1, 23, 59), "11:59 PM on Sunday, March 1, 2026"),
])
def test_spoken_time(moment: datetime, said: str) -> None:
    assert spoken(moment) == said


def test_spoken_time_in_korean() -> None:
    assert spoken_korean(datetime(2026, 3, 1, 0, 5)) == "2026년 3월 1일 일요일 오전 12시 5분"
    assert spoken_korean(datetime(2026, 12, 3, 15, 0)) == "2026년 12월 3일 목요일 오후 3시"


# ---- the calculator -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("expression", "result"), [
    ("37*43", "1591"), ("37 x 43", "1591"), ("37 × 43", "1591"), ("37 times 43", "1591"), ("37*43=", "1591"),
    ("0.1+0.2", "0.3"), ("10/4", "2.5"), ("1/8", "0.125"), ("10/3", "3.33"), ("2/7", "0.286"), ("100/7", "14.29"),
    ("2**10", "1024"), ("2^10", "1024"), ("15% of 80", "12"), ("15%*80", "12"), ("17 % 5", "2"),
    ("1,000*3", "3000"), ("(12.5+7)/3", "6.5"), ("sqrt(2.25)", "1.5"), ("sqrt(2)", "1.41"), ("-5/2", "-2.5"),
    ("round(3.14159, 2)", "3.14"), ("1e3*2", "2000"), ("0.000012345*1", "0.0000123"), ("max(3, 7)", "7"),
    ("2 to the power of 10", "1024"), ("15 percent of 80", "12"), ("3 squared plus 4 squared", "25"),
    ("100 divided by 8", "12.5"),
])
def test_arithmetic_is_exact_and_rounded_for_speech(expression: str, result: str) -> None:
    assert calculate(expression)["result"] == result


def test_a_rounded_fraction_comes_with_its_exact_value() -> None:
    assert calculate("10/3") == {"expression": "10/3", "result": "3.33", "exact": "10/3"}
    assert "exact" not in calculate("10/4")
    assert calculate("12345678*87654321") == {"expression": "12345678*87654321", "result": "1.082e+15",
                                              "exact": "1082152022374638"}


@pytest.mark.parametrize(("expression", "error"), [
    ("1/0", "division by zero"), ("9999999**4000000", "more than 1000 digits"), ("10**10**10", "digits"),
    ("__import__('os').system('true')", "invalid expression"), ("what is 2+2?", "invalid expression"),
    ("'a'*10", "only numbers"), ("(-8)**(1/3)", "not a real number"), ("1e308*10", "too large"),
    ("1+" * MAX_LENGTH + "1", "longer than"),
])
def test_what_cannot_be_calculated_is_an_error_result(expression: str, error: str) -> None:
    result = calculate(expression)
    assert set(result) == {"error"} and error in str(result["error"])


@pytest.mark.parametrize(("value", "said"), [
    (Fraction(1591), "1591"), (Fraction(5, 2), "2.5"), (Fraction(1, 3), "0.333"), (Fraction(200, 3), "66.67"),
    (21.111111111111143, "21.11"), (-40.000000000000064, "-40"), (Fraction(2) ** 100, "1.268e+30"),
])
def test_speakable_numbers(value: Fraction | float, said: str) -> None:
    assert speakable(value) == said


@pytest.mark.parametrize(("expression", "result"), [
    ("5 miles to km", "8.05 kilometers"), ("70 F to C", "21.11 degrees Celsius"),
    ("100 fahrenheit in celsius", "37.78 degrees Celsius"), ("-40 C to F", "-40 degrees Fahrenheit"),
    ("30 °C to °F", "86 degrees Fahrenheit"), ("10 kg to lb", "22.05 pounds"), ("2 liters to cups", "8.45 cups"),
    ("60 mph to km/h", "96.56 kilometers per hour"), ("100 km/h to mph", "62.14 miles per hour"),
    ("1 mile to feet", "5280 feet"), ("12 inches to feet", "1 foot"), ("1/2 cup to mL", "118.29 milliliters"),
    ("5 마일 to 킬로미터", "8.05 kilometers"), ("30 섭씨 to 화씨", "86 degrees Fahrenheit"),
])
def test_unit_conversions(expression: str, result: str) -> None:
    assert calculate(expression)["result"] == result


def test_impossible_conversions_are_errors() -> None:
    assert calculate("5 meters to kg") == {"error": "cannot convert meter to kilogram"}
    assert "unknown unit" in str(calculate("5 blargs to km")["error"])


# ---- notes ----------------------------------------------------------------------------------------------------

def test_notes_remember_recall_and_forget() -> None:
    notes = Notes()
    assert notes.act("recall") == {"notes": [], "message": "nothing has been remembered in this conversation"}
    assert notes.act("remember", "My locker is number 42") == {"remembered": "My locker is number 42", "notes": 1}
    notes.act("remember", "주차 위치는 B2 17번")
    notes.act("remember", "my locker is NUMBER 42")  # the same note again is not a second one
    assert notes.act("recall", "parking") == {"notes": ["My locker is number 42", "주차 위치는 B2 17번"]}
    assert notes.act("recall", "주차 위치는?")["notes"] == ["주차 위치는 B2 17번", "My locker is number 42"]
    assert notes.act("forget", "locker") == {"forgotten": ["My locker is number 42"], "notes": 1}
    assert "no note matches" in str(notes.act("forget", "locker")["error"])
    assert notes.act("forget") == {"forgotten": ["주차 위치는 B2 17번"], "notes": 0}


def test_notes_errors_name_what_the_model_must_fix() -> None:
    notes = Notes()
    assert "required" in str(notes.act("remember")["error"])
    assert "invalid action" in str(notes.act("delete", "x")["error"])
    assert "longer than" in str(notes.act("remember", "x" * 501)["error"])


async def test_each_toolbox_has_its_own_notes() -> None:
    first, second = builtin_toolbox(ToolsSettings()), builtin_toolbox(ToolsSettings())
    remember = ToolCall("c1", "notes", json.dumps({"action": "remember", "text": "the code is 1234"}))
    recall = ToolCall("c2", "notes", json.dumps({"action": "recall"}))
    await first.run(remember)
    assert json.loads(await first.run(recall))["notes"] == ["the code is 1234"]
    assert json.loads(await second.run(recall))["notes"] == []


async def test_a_notes_tool_runs_as_a_coroutine_through_the_toolbox() -> None:
    notes = Notes()
    box = ToolBox([notes_tool(notes)])
    output = await box.run(ToolCall("c", "notes", json.dumps({"action": "remember", "text": "milk"})))
    assert json.loads(output) == {"remembered": "milk", "notes": 1} and notes.items == ["milk"]


# ---- settings -------------------------------------------------------------------------------------------------

def test_all_built_in_tools_are_on_by_default() -> None:
    assert [t.tool.name for t in builtin_tools(ToolsSettings())] == ["get_time", "calculate", "notes", "timer"]


def test_each_built_in_tool_can_be_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNI_TOOLS__BUILTIN", "clock,notes")
    assert [t.tool.name for t in builtin_tools(load_settings().tools)] == ["get_time", "notes"]
    monkeypatch.setenv("OMNI_TOOLS__BUILTIN", '["calculator"]')
    assert [t.tool.name for t in builtin_tools(load_settings().tools)] == ["calculate"]
    monkeypatch.setenv("OMNI_TOOLS__BUILTIN", "")
    assert builtin_tools(load_settings().tools) == []
    monkeypatch.setenv("OMNI_TOOLS__BUILTIN", "clock,weather")
    with pytest.raises(ConfigError, match=r"tools\.builtin"):
        load_settings()


def test_the_time_zone_setting_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNI_TOOLS__TIMEZONE", "Asia/Seoul")
    assert load_settings().tools.timezone == "Asia/Seoul"
    monkeypatch.setenv("OMNI_TOOLS__TIMEZONE", "Mars/Olympus_Mons")
    with pytest.raises(ConfigError, match="unknown time zone"):
        load_settings()


# ---- cues: which questions may call which built-in tool -----------------------------------------------------------

@pytest.mark.parametrize(("question", "tools"), [
    ("What is the capital of France?", set()),
    ("Who wrote Romeo and Juliet?", set()),
    ("Hello! How are you today?", set()),
    ("Tell me a joke about cats.", set()),
    ("How many legs does a spider have?", set()),
    ("How many feet are in a mile?", {"calculate"}),
    ("일주일은 며칠이에요?", set()),
    ("프랑스의 수도는 어디인가요?", set()),
    ("What time is it in Tokyo?", {"get_time"}),
    ("What day is it today?", {"get_time"}),
    ("Is it Friday?", {"get_time"}),
    ("도쿄는 지금 몇 시예요?", {"get_time"}),
    ("오늘 며칠이야?", {"get_time"}),
    ("오늘 무슨 요일이야?", {"get_time"}),
    ("What is 37 times 43?", {"calculate"}),
    ("What is seven times eight?", {"calculate"}),
    ("Convert five miles to kilometers.", {"calculate"}),
    ("삼십칠 곱하기 사십삼은?", {"calculate"}),
    ("5마일은 몇 킬로미터예요?", {"calculate"}),
    ("Please remember that my locker number is 42.", {"notes", "calculate"}),
    ("What did I ask you to remember?", {"notes"}),
    ("내 주차 위치 기억해 줘", {"notes"}),
])
def test_cues_decide_which_built_in_tools_a_question_may_call(question: str, tools: set[str]) -> None:
    box = builtin_toolbox(ToolsSettings())
    everything = {"get_time", "calculate", "notes"}
    assert everything - box.unasked(question, detect_language(question)) == tools


@pytest.mark.parametrize(("question", "tool"), [
    ("뉴욕은 지금 몇 시야.", "get_time"), ("도쿄는 지금 몇 시예요?", "get_time"), ("오늘 무슨 요일이에요.", "get_time"),
    ("오늘 며칠이야?", "get_time"), ("What time is it in Tokyo?", "get_time"), ("What day is it today?", "get_time"),
    ("Set a timer for five minutes.", "timer"), ("Set a pasta timer for 10 minutes", "timer"),
    ("Remind me at 7 PM to call Mom.", "timer"), ("5분 타이머 맞춰 줘", "timer"), ("10분 뒤에 알려 줘", "timer"),
    ("Please remember that my locker number is 42.", "notes"), ("내 주차 위치 기억해 줘", "notes"),
    ("What is the capital of France?", None), ("몇 시간 자야 해요?", None), ("몇 시에 일어나야 해요?", None),
    ("What is 37 times 43?", "calculate"), ("37 곱하기 43은 얼마예요?", "calculate"),
    ("80의 15퍼센트는 얼마야?", "calculate"), ("5마일은 몇 킬로미터예요?", "calculate"),
    ("What's 15 percent of 80?", "calculate"), ("Convert 5 miles to kilometers.", "calculate"),
    ("How many legs does a spider have?", None),
    ("I was born in 1990.", None), ("잠을 잘 자는 방법을 알려 주세요.", None), ("Do you remember me?", None),
])
def test_triggers_make_a_question_a_call_of_one_built_in_tool(question: str, tool: str | None) -> None:
    box = builtin_toolbox(ToolsSettings())
    language = detect_language(question)
    assert box.triggered(question, language) == ([tool] if tool else [])
    if tool:
        assert tool not in box.unasked(question, language), "a trigger is a cue"


def test_a_language_without_cues_may_call_every_built_in_tool() -> None:
    box = builtin_toolbox(ToolsSettings())
    assert box.unasked("Quelle heure est-il à Tokyo ?", "fr") == set()


# ---- timers ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "seconds"), [
    ("10 minutes", 600), ("1 hour 30 minutes", 5400), ("1h30m", 5400), ("90 seconds", 90), ("an hour", 3600),
    ("half an hour", 1800), ("an hour and a half", 5400), ("2.5 min", 150), ("five minutes", 300),
    ("5분", 300), ("1시간 반", 5400), ("30초", 30), ("2 hours", 7200),
])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["soon", "", "0 minutes", "later today"])
def test_what_is_no_duration_is_an_error(text: str) -> None:
    with pytest.raises(TimerError):
        parse_duration(text)


MORNING = datetime(2026, 12, 3, 9, 10, tzinfo=UTC)


@pytest.mark.parametrize(("text", "due"), [
    ("15:30", datetime(2026, 12, 3, 15, 30)), ("3:30 PM", datetime(2026, 12, 3, 15, 30)),
    ("7 am", datetime(2026, 12, 4, 7, 0)), ("9:05", datetime(2026, 12, 3, 21, 5)),
    ("10", datetime(2026, 12, 3, 10, 0)), ("noon", datetime(2026, 12, 3, 12, 0)),
    ("오후 3시 30분", datetime(2026, 12, 3, 15, 30)), ("7시 반", datetime(2026, 12, 3, 19, 30)),
    ("오전 8시", datetime(2026, 12, 4, 8, 0)), ("midnight", datetime(2026, 12, 4, 0, 0)),
])
def test_times_of_day_are_the_next_to_come(text: str, due: datetime) -> None:
    assert next_time_of_day(text, MORNING) == due.replace(tzinfo=UTC)


def test_spoken_durations() -> None:
    assert spoken_duration(timedelta(minutes=90)) == "1 hour 30 minutes"
    assert spoken_duration(timedelta(seconds=1)) == "1 second"
    assert spoken_duration(timedelta(minutes=90), "ko") == "1시간 30분"


def test_announcements_in_english_and_korean() -> None:
    timer = Timer(1, "pasta", MORNING, timedelta(minutes=10))
    assert timer.announcement("en") == "Your pasta timer is done."
    assert timer.announcement("ko") == "pasta 타이머가 끝났어요."
    assert Timer(2, "", MORNING, timedelta(minutes=5)).announcement(None) == "Your timer for 5 minutes is done."
    assert Timer(3, "call Mom", MORNING, None).announcement("en") == "Here is your reminder: call Mom."
    assert Timer(4, "엄마한테 전화", MORNING, None).announcement("ko") == "알림이에요. 엄마한테 전화."


class Scheduled:
    """A session's :attr:`ToolContext.schedule`, recording instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[tuple[float, Message]] = []
        self.cancelled: list[int] = []

    def __call__(self, seconds: float, message: Message) -> object:
        index = len(self.waits)
        self.waits.append((seconds, message))
        return lambda: self.cancelled.append(index)


async def test_timers_set_list_and_cancel() -> None:
    tool = timers_tool("Asia/Seoul", now=lambda: MORNING)
    scheduled = Scheduled()
    assert tool.bind is not None
    tool.bind(ToolContext(schedule=scheduled))  # type: ignore[arg-type]
    box = ToolBox([tool])

    async def call(**arguments: str) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(await box.run(ToolCall("c", "timer", json.dumps(arguments))))
        return result

    made = await call(action="set", duration="10 minutes", label="pasta")
    assert made["set"] == "timer" and made["remaining"] == "10 minutes" and made["due"] == "6:20 PM"
    reminder = await call(action="set", at="7 PM", label="call Mom")
    assert reminder["set"] == "reminder" and reminder["remaining"] == "50 minutes"
    assert [round(s) for s, _ in scheduled.waits] == [600, 3000]
    assert [t["label"] for t in (await call(action="list"))["timers"]] == ["pasta", "call Mom"]
    assert "which one" in str((await call(action="cancel"))["error"])
    assert (await call(action="cancel", label="PASTA"))["cancelled"] == [
        {"label": "pasta", "due": "6:20 PM", "remaining": "10 minutes"}]
    assert scheduled.cancelled == [0]
    assert scheduled.waits[1][1]("en") == "Here is your reminder: call Mom."
    assert (await call(action="list"))["timers"] == [], "said: no longer set"
    assert "24 hours" in str((await call(action="set", duration="30 hours"))["error"])
    assert "duration" in str((await call(action="set"))["error"])


async def test_timers_without_a_session_say_so() -> None:
    box = ToolBox([timers_tool("UTC")])
    result = json.loads(await box.run(ToolCall("c", "timer", json.dumps({"action": "set", "duration": "1 minute"}))))
    assert "live session" in result["error"]
