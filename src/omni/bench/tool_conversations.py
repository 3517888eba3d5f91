"""A kept set of tool conversations, English and Korean, with the client's side of them and a judge.

Five tools as a client app would declare them (JSON schemas, the Realtime API's ``{"type": "function", ...}``
shape): ``get_weather``, ``get_time``, ``search_contacts``, ``set_timer`` and ``convert_currency``; every item
offers all five. Their results come from :func:`client_result`, the client's side: canned data (the weather in four
cities, the time in four zones, two contacts, fixed exchange rates) looked up from the call's arguments the way the
client's own functions would, with the errors a client returns for an unknown city or arguments that fail the
schema. Nothing of Omni is stubbed: the model's calls go to this "client" and its results come back as
``function_call_output`` items.

Twenty-seven scenarios, each asked in English and in Korean (54 items), of seven kinds:

- ``one``: a question that needs one call;
- ``none``: a question that needs no tool (calling one is wrong);
- ``two``: a question that needs two calls in one turn (in one response or one after the other);
- ``follow-up``: a second turn that needs an earlier turn's result or subject ("What's the weather where she
  lives?" after a contact's address);
- ``error``: the call's result is an error ({"error": "city not found"}): the answer says it could not be found,
  and the same call is not made again;
- ``schema``: the conversation already holds a call whose arguments failed the schema and the client's error
  for it (a client replaying its history): the next call must be corrected, once, and then answered;
- ``later``: a question that needs a tool after a first turn that needed none ("What is the capital of Italy?",
  then "What's the weather in Tokyo?").

The judge (:func:`judge_turn`) checks each user turn: the calls made (right names, key argument values,
case-insensitive, either language; no repeated identical call; none when none is needed) and the final answer
(one of the result's key contents, in the user's language, no JSON or talk of formats and functions).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from omni.bench.bilingual_questions import holds, in_korean

Kind = Literal["one", "none", "two", "follow-up", "error", "schema", "later"]
KINDS: tuple[Kind, ...] = ("one", "none", "two", "follow-up", "error", "schema", "later")
Language = Literal["en", "ko"]

TOOLS: tuple[dict[str, Any], ...] = (
    {"type": "function", "name": "get_weather", "description": "Get the current weather for a city.",
     "parameters": {"type": "object", "properties": {
         "city": {"type": "string", "description": "The city name, e.g. Seoul"}}, "required": ["city"]}},
    {"type": "function", "name": "get_time", "description": "Get the current local time in a city or time zone.",
     "parameters": {"type": "object", "properties": {
         "timezone": {"type": "string", "description": "A city name or an IANA time zone, e.g. Asia/Tokyo"}},
         "required": ["timezone"]}},
    {"type": "function", "name": "search_contacts",
     "description": "Look up a person in the user's contacts: phone number, email and home city.",
     "parameters": {"type": "object", "properties": {
         "name": {"type": "string", "description": "The person's name"}}, "required": ["name"]}},
    {"type": "function", "name": "set_timer", "description": "Start a countdown timer.",
     "parameters": {"type": "object", "properties": {
         "minutes": {"type": "integer", "description": "Length of the timer in minutes"},
         "label": {"type": "string", "description": "An optional name for the timer"}}, "required": ["minutes"]}},
    {"type": "function", "name": "convert_currency", "description": "Convert an amount of money between currencies.",
     "parameters": {"type": "object", "properties": {
         "amount": {"type": "number"},
         "from_currency": {"type": "string", "description": "ISO 4217 code, e.g. USD"},
         "to_currency": {"type": "string", "description": "ISO 4217 code, e.g. KRW"}},
         "required": ["amount", "from_currency", "to_currency"]}},
)
TOOL_NAMES = frozenset(t["name"] for t in TOOLS)

# ---- the client's side: canned data behind the tools ---------------------------------------------------------

SEOUL = ("seoul", "서울")
BUSAN = ("busan", "pusan", "부산")
TOKYO = ("tokyo", "도쿄", "동경")
LONDON = ("london", "런던")
ATLANTIS = ("atlantis", "아틀란티스")
GOTHAM = ("gotham", "고담")
MINJI = ("minji", "민지")
DAVID = ("david", "데이비드")
HONG = ("hong", "gildong", "홍길동", "길동")

WEATHER: dict[str, dict[str, Any]] = {
    "Seoul": {"city": "Seoul", "condition": "snow", "temperature_c": -3},
    "Busan": {"city": "Busan", "condition": "fog", "temperature_c": 14},
    "Tokyo": {"city": "Tokyo", "condition": "sunny", "temperature_c": 21},
    "London": {"city": "London", "condition": "cloudy", "temperature_c": 12},
}
TIMES: dict[str, dict[str, Any]] = {
    "Seoul": {"timezone": "Asia/Seoul", "local_time": "14:05", "date": "2025-03-14"},
    "Tokyo": {"timezone": "Asia/Tokyo", "local_time": "14:05", "date": "2025-03-14"},
    "London": {"timezone": "Europe/London", "local_time": "05:05", "date": "2025-03-14"},
    "Busan": {"timezone": "Asia/Seoul", "local_time": "14:05", "date": "2025-03-14"},
}
CONTACTS: dict[str, dict[str, Any]] = {
    "Minji": {"name": "Kim Minji", "phone": "010-4821-7730", "email": "minji.kim@example.com", "city": "Busan"},
    "David": {"name": "David Park", "phone": "010-2957-1164", "email": "david.park@example.com", "city": "London"},
}
_CITY_ALIASES = {"Seoul": (*SEOUL, "asia/seoul", "korea", "한국"), "Busan": BUSAN,
                 "Tokyo": (*TOKYO, "asia/tokyo", "japan", "일본"), "London": (*LONDON, "europe/london", "영국")}
_CONTACT_ALIASES = {"Minji": MINJI, "David": DAVID}
_CURRENCIES = {
    "USD": ("usd", "dollar", "달러", "$", "us$"), "KRW": ("krw", "won", "원", "₩"),
    "JPY": ("jpy", "yen", "엔", "¥"), "EUR": ("eur", "euro", "유로", "€"), "GBP": ("gbp", "pound", "파운드", "£"),
}
RATES = {("USD", "KRW"): 1365.4, ("USD", "JPY"): 149.2, ("USD", "EUR"): 0.921, ("EUR", "KRW"): 1482.5}


def _lookup(value: object, aliases: Mapping[str, Sequence[str]]) -> str | None:
    text = str(value).strip().lower()
    if not text:
        return None
    for key, names in aliases.items():
        if any(name in text for name in names):
            return key
    return None


def _schema(name: str) -> dict[str, Any]:
    return next(t["parameters"] for t in TOOLS if t["name"] == name)


def schema_errors(name: str, arguments: Mapping[str, Any]) -> list[str]:
    """What a client's validation says of the arguments: missing required properties, wrong basic types."""
    schema = _schema(name)
    errors = [f"missing required property {key!r}" for key in schema["required"] if key not in arguments]
    for key, value in arguments.items():
        spec = schema["properties"].get(key)
        if spec is None:
            errors.append(f"unknown property {key!r}")
        elif spec["type"] == "string" and not isinstance(value, str):
            errors.append(f"{key!r} must be a string")
        elif spec["type"] == "integer" and (isinstance(value, bool) or not isinstance(value, int)):
            errors.append(f"{key!r} must be an integer")
        elif spec["type"] == "number" and (isinstance(value, bool) or not isinstance(value, int | float)):
            errors.append(f"{key!r} must be a number")
    return errors


def client_result(name: str, arguments: str) -> dict[str, Any]:
    """The client's function for a call: its result, or the error the client reports."""
    try:
        args = json.loads(arguments or "{}")
    except ValueError:
        return {"error": "arguments are not valid JSON"}
    if name not in TOOL_NAMES:
        return {"error": f"unknown function {name!r}"}
    if not isinstance(args, dict):
        return {"error": "arguments must be a JSON object"}
    if errors := schema_errors(name, args):
        return {"error": "invalid arguments: " + "; ".join(errors)}
    if name == "get_weather":
        city = _lookup(args["city"], _CITY_ALIASES)
        return WEATHER[city] if city else {"error": "city not found"}
    if name == "get_time":
        city = _lookup(args["timezone"], _CITY_ALIASES)
        return TIMES[city] if city else {"error": "unknown time zone"}
    if name == "search_contacts":
        person = _lookup(args["name"], _CONTACT_ALIASES)
        return CONTACTS[person] if person else {"error": "no contact found"}
    if name == "set_timer":
        minutes = args["minutes"]
        if minutes <= 0:
            return {"error": "minutes must be positive"}
        return {"status": "started", "minutes": minutes, "label": args.get("label") or ""}
    source = _lookup(args["from_currency"], _CURRENCIES)
    target = _lookup(args["to_currency"], _CURRENCIES)
    if source is None or target is None:
        return {"error": "unknown currency"}
    rate = 1.0 if source == target else RATES.get((source, target)) or 1 / RATES[(target, source)]
    result = round(args["amount"] * rate, 2)
    return {"amount": args["amount"], "from": source, "to": target,
            "result": int(result) if result == int(result) else result, "rate": rate}


# ---- the conversations ---------------------------------------------------------------------------------------

Value = str | float


@dataclass(frozen=True)
class Expected:
    """A right call: the tool and, per key argument, the values that count (strings: any alias is contained in
    the value, case-insensitive; numbers: equal)."""

    name: str
    args: Mapping[str, tuple[Value, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Seeded:
    """A call already in the conversation before the reply is asked for, with the client's result for it."""

    name: str
    arguments: str


@dataclass(frozen=True)
class Turn:
    text: str
    calls: tuple[Expected, ...]
    """The calls this turn needs; empty: it needs none, and any call is wrong."""
    expect: tuple[str, ...]
    """Groups that must all be in the final answer; ``a|b`` within a group: either."""
    seeded: Seeded | None = None


@dataclass(frozen=True)
class Item:
    id: str
    kind: Kind
    language: Language
    turns: tuple[Turn, ...]


@dataclass(frozen=True)
class _Step:
    en: str
    ko: str
    calls: tuple[Expected, ...]
    expect: tuple[str, ...]
    seeded: Seeded | None = None


def _weather(city: tuple[str, ...]) -> Expected:
    return Expected("get_weather", {"city": city})


def _time(city: tuple[str, ...]) -> Expected:
    return Expected("get_time", {"timezone": city})


def _contact(person: tuple[str, ...]) -> Expected:
    return Expected("search_contacts", {"name": person})


def _timer(minutes: int) -> Expected:
    return Expected("set_timer", {"minutes": (float(minutes),)})


def _convert(amount: float, source: str, target: str) -> Expected:
    return Expected("convert_currency", {"amount": (float(amount),), "from_currency": _CURRENCIES[source],
                                         "to_currency": _CURRENCIES[target]})


SEOUL_WEATHER = "-3|영하 3|마이너스 3|minus 3|snow|눈"
BUSAN_WEATHER = "14|fog|안개"
TOKYO_WEATHER = "21|sunny|맑"
LONDON_WEATHER = "12|cloud|흐림|흐리|흐려|구름"
TOKYO_TIME = "14:05|2:05|2시 5분|2시 05분|14시 5분|14시 05분|오후 2시|오후 두 시"
LONDON_TIME = "5:05|05:05|5시 5분|5시 05분|오전 5시|새벽 5시|다섯 시"
NOT_FOUND = ("not found|couldn't find|could not find|can't find|cannot find|be found|could not get|couldn't get"
             "|unable|no information|not available"
             "|doesn't exist|does not exist|don't have|do not have|no contact|unknown|not recognized|not a real"
             "|찾을 수 없|찾지 못|확인할 수 없|알 수 없|없습니다|없어요|없네요|없는|존재하지")
KRW_100 = "136,540|136540|13만 6540|13만 6,540|136540원|136,540원"

_SCENARIOS: tuple[tuple[Kind, tuple[_Step, ...]], ...] = (
    ("one", (_Step("What's the weather like in Seoul right now?", "서울 날씨 어때?",
                   (_weather(SEOUL),), (SEOUL_WEATHER,)),)),
    ("one", (_Step("What time is it in Tokyo?", "도쿄는 지금 몇 시예요?", (_time(TOKYO),), (TOKYO_TIME,)),)),
    ("one", (_Step("What's Minji's phone number?", "민지 전화번호 좀 알려 줘.", (_contact(MINJI),), ("4821",)),)),
    ("one", (_Step("Set a timer for 10 minutes.", "10분 타이머 맞춰 줘.", (_timer(10),), ("10|십 분|열 분",)),)),
    ("one", (_Step("How much is 100 US dollars in Korean won?", "100달러는 한국 돈으로 얼마예요?",
                   (_convert(100, "USD", "KRW"),), (KRW_100,)),)),
    ("one", (_Step("How's the weather in Busan right now?", "지금 부산 날씨 어때요?",
                   (_weather(BUSAN),), (BUSAN_WEATHER,)),)),
    ("none", (_Step("What is the capital of France?", "프랑스의 수도는 어디예요?", (), ("paris|파리",)),)),
    ("none", (_Step("How many days are there in a week?", "일주일은 며칠이에요?", (),
                    ("7|seven|일곱|칠 일|이레",)),)),
    ("none", (_Step("How do you say thank you in Japanese?", "일본어로 고맙습니다는 뭐라고 해요?", (),
                    ("arigat|아리가|ありがと",)),)),
    ("none", (_Step("What colour is the sky on a clear day?", "맑은 날 하늘은 무슨 색이에요?", (),
                    ("blue|파란|파랗|푸른|푸르|하늘색",)),)),
    ("two", (_Step("What's the weather in Seoul and in Busan?", "서울이랑 부산 날씨 알려 줘.",
                   (_weather(SEOUL), _weather(BUSAN)), (SEOUL_WEATHER, BUSAN_WEATHER)),)),
    ("two", (_Step("What time is it in Tokyo, and what's the weather there?", "도쿄는 지금 몇 시고 날씨는 어때요?",
                   (_time(TOKYO), _weather(TOKYO)), (TOKYO_TIME, TOKYO_WEATHER)),)),
    ("two", (_Step("Convert 100 dollars to Korean won and to Japanese yen.", "100달러를 원화랑 엔화로 각각 바꿔 줘.",
                   (_convert(100, "USD", "KRW"), _convert(100, "USD", "JPY")),
                   (KRW_100, "14,920|14920|1만 4920|1만 4,920")),)),
    ("two", (_Step("Find David's phone number and set a timer for 5 minutes.",
                   "데이비드 전화번호 찾아 주고 5분 타이머도 맞춰 줘.",
                   (_contact(DAVID), _timer(5)), ("2957", "5|five|다섯|오 분")),)),
    ("follow-up", (_Step("What's Minji's phone number?", "민지 전화번호 뭐야?", (_contact(MINJI),), ("4821",)),
                   _Step("What's the weather like where she lives?", "민지가 사는 곳 날씨는 어때?",
                         (_weather(BUSAN),), (BUSAN_WEATHER,)))),
    ("follow-up", (_Step("What's the weather in London?", "런던 날씨 어때요?", (_weather(LONDON),), (LONDON_WEATHER,)),
                   _Step("And what time is it there?", "거기는 지금 몇 시예요?", (_time(LONDON),), (LONDON_TIME,)))),
    ("follow-up", (_Step("How much is 100 dollars in Korean won?", "100달러는 원화로 얼마예요?",
                         (_convert(100, "USD", "KRW"),), (KRW_100,)),
                   _Step("And 250 dollars?", "그럼 250달러는요?", (_convert(250, "USD", "KRW"),),
                         ("341,350|341350|34만 1350|34만 1,350",)))),
    ("follow-up", (_Step("What's the weather in Seoul?", "서울 날씨 알려 줘.", (_weather(SEOUL),), (SEOUL_WEATHER,)),
                   _Step("How about Tokyo?", "도쿄는요?", (_weather(TOKYO),), (TOKYO_WEATHER,)))),
    ("error", (_Step("What's the weather in Atlantis?", "아틀란티스 날씨 어때?", (_weather(ATLANTIS),),
                     (NOT_FOUND,)),)),
    ("error", (_Step("What's Hong Gildong's phone number?", "홍길동 전화번호 알려 줘.", (_contact(HONG),),
                     (NOT_FOUND,)),)),
    ("error", (_Step("What time is it in Gotham City?", "고담 시티는 지금 몇 시야?", (_time(GOTHAM),), (NOT_FOUND,)),)),
    ("schema", (_Step("Set a timer for 7 minutes.", "7분 타이머 맞춰 줘.", (_timer(7),), ("7|seven|일곱|칠 분",),
                      Seeded("set_timer", '{"duration": "7 minutes"}')),)),
    ("schema", (_Step("Convert 20 dollars to euros.", "20달러를 유로로 바꿔 줘.", (_convert(20, "USD", "EUR"),),
                      ("18.42|18,42|18.4",), Seeded("convert_currency", '{"amount": 20, "from_currency": "USD"}')),)),
    ("schema", (_Step("What's the weather in Busan?", "부산 날씨 어때요?", (_weather(BUSAN),), (BUSAN_WEATHER,),
                      Seeded("get_weather", '{"location": "Busan"}')),)),
    ("later", (_Step("What is the capital of Italy?", "이탈리아의 수도는 어디예요?", (), ("rome|로마",)),
               _Step("What's the weather in Tokyo?", "도쿄 날씨 어때요?", (_weather(TOKYO),), (TOKYO_WEATHER,)))),
    ("later", (_Step("How many days are in a week?", "일주일은 며칠이에요?", (), ("7|seven|일곱|칠",)),
               _Step("What time is it in London?", "런던은 지금 몇 시예요?", (_time(LONDON),), (LONDON_TIME,)))),
    ("later", (_Step("What colour is a banana?", "바나나는 무슨 색이에요?", (), ("yellow|노란|노랑",)),
               _Step("What's David's phone number?", "데이비드 전화번호 알려 줘.", (_contact(DAVID),), ("2957",)))),
)


def _items() -> tuple[Item, ...]:
    """Each scenario in both languages; the first language alternates, so every other item (``--every 2``) is
    half English, half Korean, and holds every kind."""
    items = []
    for index, (kind, steps) in enumerate(_SCENARIOS):
        for language in (("en", "ko") if index % 2 == 0 else ("ko", "en")):
            turns = tuple(Turn(s.en if language == "en" else s.ko, s.calls, s.expect, s.seeded) for s in steps)
            items.append(Item(f"{kind}-{index:02d}-{language}", kind, language, turns))
    return tuple(items)


ITEMS: tuple[Item, ...] = _items()

# ---- the judge -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """A call the model made: the tool's name and its arguments as the JSON text it wrote."""

    name: str
    arguments: str

    def parsed(self) -> dict[str, Any] | None:
        try:
            value = json.loads(self.arguments or "{}")
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def key(self) -> str:
        """The call, normalised: the same tool with the same arguments (case and spacing aside) is one call."""
        args = self.parsed()
        shown = json.dumps(args, sort_keys=True, ensure_ascii=False).lower() if args is not None else self.arguments
        return self.name + ":" + re.sub(r"\s+", " ", shown.strip())


def matches(call: Call, expected: Expected) -> bool:
    if call.name != expected.name:
        return False
    args = call.parsed()
    if args is None:
        return False
    for key, values in expected.args.items():
        if key not in args:
            return False
        if not any(_value_matches(args[key], value) for value in values):
            return False
    return True


def _value_matches(given: object, wanted: Value) -> bool:
    if not isinstance(wanted, str):
        try:
            return float(str(given).replace(",", "")) == wanted
        except ValueError:
            return False
    return wanted.lower() in str(given).lower()


_FORMAT_TALK = re.compile(r"[{}<>`]|json|tool_call|tool_response|\bformat\b|\bfunction\b|함수|형식|"
                          + "|".join(TOOL_NAMES), re.IGNORECASE)
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_LATIN = re.compile(r"[A-Za-z]")


def in_language(answer: str, language: Language) -> bool:
    if language == "ko":
        return bool(_HANGUL.search(answer)) and in_korean(answer)
    return bool(_LATIN.search(answer)) and len(_HANGUL.findall(answer)) * 3 < len(_LATIN.findall(answer))


@dataclass(frozen=True)
class Verdict:
    called_right: bool
    answered_right: bool
    problems: tuple[str, ...] = ()

    @property
    def right(self) -> bool:
        return self.called_right and self.answered_right


def judge_calls(turn: Turn, calls: Sequence[Call]) -> list[str]:
    """What is wrong with the calls one turn made (empty: they are right)."""
    problems = []
    seen = {Call(turn.seeded.name, turn.seeded.arguments).key()} if turn.seeded else set()
    for call in calls:
        if call.key() in seen:
            problems.append(f"repeated call {call.name}({call.arguments})")
        seen.add(call.key())
    if not turn.calls and calls:
        problems.append(f"called {', '.join(c.name for c in calls)} for a question that needs no tool")
        return problems
    unmatched = list(calls)
    for expected in turn.calls:
        found = next((c for c in unmatched if matches(c, expected)), None)
        if found is None:
            problems.append(f"no right call to {expected.name}")
        else:
            unmatched.remove(found)
    matched = {c.key() for c in calls if c not in unmatched}
    # A repeat of a right call is reported as a repeat above, not again as a wrong call.
    problems += [f"wrong call {c.name}({c.arguments})" for c in unmatched if c.key() not in matched]
    return list(dict.fromkeys(problems))


def _holds(text: str, word: str) -> bool:
    """``word`` in the answer (a number as a whole number); spacing aside for words with spaces ("14시05분")."""
    if holds(text, word):
        return True
    return " " in word and word.replace(" ", "") in text.replace(" ", "").lower()


def judge_answer(turn: Turn, answer: str, language: Language) -> list[str]:
    """What is wrong with the final answer of one turn (empty: it is right)."""
    text = answer.strip()
    if not text:
        return ["no answer"]
    problems = []
    if not in_language(text, language):
        problems.append(f"not in {'Korean' if language == 'ko' else 'English'}")
    if found := _FORMAT_TALK.search(text):
        problems.append(f"format talk ({found.group(0)!r})")
    missing = [group for group in turn.expect if not any(_holds(text, word) for word in group.split("|"))]
    if missing:
        problems.append("missing " + "; ".join(missing))
    return problems


def judge_turn(turn: Turn, calls: Sequence[Call], answer: str, language: Language) -> Verdict:
    call_problems = judge_calls(turn, calls)
    answer_problems = judge_answer(turn, answer, language)
    return Verdict(not call_problems, not answer_problems, (*call_problems, *answer_problems))
