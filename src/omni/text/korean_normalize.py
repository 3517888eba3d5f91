"""Turn the text an LLM writes into the text a Korean voice reads: numbers, dates, times, units, letters, symbols.

A Korean voice reads what it is given, and digits, Latin letters and markdown are not what it should be given:
"3개" has to become 세 개, "14:05" 오후 두 시 오 분, "010-1234-5678" 공일공 일이삼사 오육칠팔, "20%" 이십 퍼센트,
"AI" 에이아이; emoji and markdown are not read at all. :func:`normalize_korean` rewrites a reply before it is spoken.

The rules run in order, most specific first (a date before the numbers in it, a unit before a bare number), and
each one turns digits and Latin letters into Hangul, so a later rule never reads an earlier one's output again.
Which numeral a counter takes is :mod:`omni.text.korean_numbers`' business; this module finds numbers and what
they count. Latin words with no Korean reading here are left as they are, for the voice router to hand on.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable

from omni.text.korean_numbers import COUNTERS, MAX_SINO, read_counted, read_digits, read_number, sino_korean

Replacement = str | Callable[[re.Match[str]], str]

# -- numbers --------------------------------------------------------------------------------------------------------

# 1,234 / 12,500.5 / 3.5 / 1.2.3; the comma form first, so "1,234" is one number and not "1" and "234".
_NUM = r"(?:\d{1,3}(?:,\d{3})+(?!\d)(?:\.\d+)?|\d+(?:\.\d+)*)"
# A number starts after no letter or digit, nor after "v1." or "X-" (the 2 of v1.2 and the 4 of GPT-4 belong to
# their word).
_START = r"(?<![A-Za-z\d])(?<![A-Za-z\d]\.)(?<![A-Za-z]-)"
# A minus sign, where it cannot be a dash between two words or numbers.
_SIGN = r"(?P<sign>(?<![\w)])[-−])?"

# Latin and symbol units, case-sensitive (g is a gram, G is not), read in Sino-Korean unless the Korean word is a
# native counter (3h → 세 시간).
_UNITS = {
    "km": "킬로미터", "m": "미터", "cm": "센티미터", "mm": "밀리미터", "nm": "나노미터", "㎞": "킬로미터",
    "㎝": "센티미터", "㎜": "밀리미터", "km²": "제곱킬로미터", "㎢": "제곱킬로미터", "m²": "제곱미터",
    "㎡": "제곱미터", "kg": "킬로그램", "g": "그램", "mg": "밀리그램", "㎏": "킬로그램", "㎎": "밀리그램",
    "L": "리터", "l": "리터", "ℓ": "리터", "mL": "밀리리터", "ml": "밀리리터", "㎖": "밀리리터",
    "kcal": "킬로칼로리", "cal": "칼로리", "KB": "킬로바이트", "MB": "메가바이트", "GB": "기가바이트",
    "TB": "테라바이트", "Mbps": "메가비피에스", "Gbps": "기가비피에스", "Hz": "헤르츠", "kHz": "킬로헤르츠",
    "MHz": "메가헤르츠", "GHz": "기가헤르츠", "W": "와트", "kW": "킬로와트", "kWh": "킬로와트시", "V": "볼트",
    "mAh": "밀리암페어시", "dB": "데시벨", "h": "시간", "min": "분", "ms": "밀리초", "px": "픽셀",
    "%": "퍼센트", "%p": "퍼센트포인트", "°C": "도", "℃": "도", "°": "도", "°F": "도", "℉": "도",
}
# Fahrenheit is said before the number: 화씨 팔십 도.
_UNIT_PREFIXES = {"°F": "화씨 ", "℉": "화씨 "}
# What a unit is "per" after a slash: km/h → 킬로미터 매 시.
_PER = {"h": "시", "hr": "시", "s": "초", "sec": "초", "min": "분"}
# Below zero is 영하 for temperatures, 마이너스 for the rest.
_BELOW_ZERO = frozenset({"도"})
# Currency signs written before the number.
_CURRENCIES = {"$": "달러", "₩": "원", "€": "유로", "£": "파운드", "¥": "엔"}


def _alternatives(words: Iterable[str]) -> str:
    # Longest first, so 개월 wins over 개 and kWh over kW.
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


_COUNTER = f"(?:{_alternatives(COUNTERS)})"
_UNIT = f"(?:{_alternatives(_UNITS)})(?![A-Za-z])"

# 번 counts times after a frequency (하루에 세 번) or before a word about a count (세 번 더); otherwise it
# numbers something (십사 번 승강장, 삼 번 출구).
_TIMES_BEFORE = re.compile(r"(?:에|하루|매일|매주|매달|매년|총|연속)\s*$")
_TIMES_AFTER = re.compile(r"\s?(?:씩|더|이나|정도|쯤|밖에|만에|만|이상|이하|연속|반복)")


def _native_by_context(counter: str, value: int, before: str, after: str) -> bool | None:
    """Whether the sentence around it overrides the counter's numeral: None when it does not."""
    if counter == "번" and (_TIMES_BEFORE.search(before) or _TIMES_AFTER.match(after)):
        return True
    if counter == "대" and value >= 10 and value % 10 == 0:
        return False  # 이십 대 (one's twenties), not 스무 대 (twenty cars)
    if counter == "편" and value >= 100:
        return False  # KTX 백일 편 (a train's number), not 백한 편 (a hundred and one films)
    return None


def _whole(number: str) -> int | None:
    """The integer a written number stands for, or None for decimals and numbers too long to say."""
    digits = number.replace(",", "")
    if not (digits.isascii() and digits.isdigit()) or len(digits) > len(str(MAX_SINO)):
        return None
    value = int(digits)
    return value if value <= MAX_SINO else None


def _minus(match: re.Match[str], counter: str) -> str | None:
    """How the number's minus sign is said, or None when it has none: 영하 for a temperature (unless the text
    says 영하 already, as in 영하 -3°C), 마이너스 for the rest."""
    if not match["sign"]:
        return None
    if counter not in _BELOW_ZERO:
        return "마이너스 "
    return "" if match.string[: match.start()].rstrip().endswith("영하") else "영하 "


def _say(number: str, counter: str, *, minus: str | None = None, native: bool | None = None) -> str:
    """A number and what it counts: ("3", "개") → 세 개; ("5", "도", minus "영하 ") → 영하 오 도."""
    value = _whole(number)
    if minus is not None or value is None:
        return f"{minus or ''}{read_number(number)} {counter}"  # decimals are always Sino-Korean: 일 점 오 배
    return read_counted(value, counter, native=native)


def _counter(match: re.Match[str]) -> str:
    number, counter = match["num"], match["counter"]
    value = _whole(number)
    native: bool | None = False if match["ordinal"] else None  # 제3장 → 제삼 장
    if native is None and value is not None:
        before, after = match.string[max(0, match.start() - 12) : match.start()], match.string[match.end() :]
        native = _native_by_context(counter, value, before, after)
    reading = (match["ordinal"] or "") + _say(number, counter, minus=_minus(match, counter), native=native)
    # 7시30분: keep the next number apart from this counter (일곱 시 삼십 분).
    return reading + " " if match.string[match.end() : match.end() + 1].isdigit() else reading


def _unit(match: re.Match[str]) -> str:
    unit, counter = match["unit"], _UNITS[match["unit"]]
    reading = _UNIT_PREFIXES.get(unit, "") + _say(match["num"], counter, minus=_minus(match, counter))
    return reading + (f" 매 {_PER[match['per']]}" if match["per"] else "")


def _currency(match: re.Match[str]) -> str:
    return f"{read_number(match['num'])} {_CURRENCIES[match['currency']]}"


def _magnitude(match: re.Match[str]) -> str:
    # 1만 → 만, 1천 → 천, but 1억 → 일억 (the same rule as in a written-out number).
    number, magnitude = match["num"], match["magnitude"]
    unit = f" {_UNITS[match['unit']]}" if match["unit"] else ""  # 30만 km → 삼십만 킬로미터
    if number == "1" and (magnitude[0] in "백천" or magnitude == "만"):
        return magnitude + unit
    return read_number(number) + magnitude + unit


def _range(match: re.Match[str]) -> str:
    low, high, unit, counter = match["low"], match["high"], match["unit"], match["counter"]
    if unit is not None:  # 삼에서 오 킬로미터
        return f"{read_number(low)}에서 {_say(high, _UNITS[unit])}"
    if counter is None:
        if match["dash"] in "-–" and not _years(low, high):
            return match.group()  # 3-5 alone is not a range (a score, a room, a code), 2020-2024 is
        return f"{read_number(low)}에서 {read_number(high)}"
    value = _whole(high)
    before = match.string[max(0, match.start() - 12) : match.start()]
    native = None if value is None else _native_by_context(counter, value, before, "")
    # A counter is said with both numbers: 세 개에서 다섯 개, since 한, 두, 세 cannot stand alone.
    return f"{_say(low, counter, native=native)}에서 {_say(high, counter, native=native)}"


def _years(low: str, high: str) -> bool:
    return len(low) == len(high) == 4 and 1000 <= int(low) < int(high) <= 2999


def _date(match: re.Match[str]) -> str:
    year, month, day = int(match["year"]), int(match["month"]), int(match["day"])
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return match.group()
    return f"{read_counted(year, '년')} {read_counted(month, '월')} {read_counted(day, '일')}"


def _time(match: re.Match[str]) -> str:
    hour, minute = int(match["hour"]), int(match["minute"])
    second = int(match["second"] or 0)
    if hour > 24 or minute > 59 or second > 59:
        return match.group()  # not a time; the ratio rule reads it
    period = match["period"]
    # In conversation Korean gives times on the twelve-hour clock (오후 두 시); 열네 시 sounds like a timetable
    # announcement. 1:00 to 11:59 get no 오전: people write 7:30 for the evening too.
    if period is None and hour not in range(1, 12):
        period = "오전" if hour in (0, 24) else "오후"
    if hour > 12 or hour == 0:
        hour = hour - 12 if hour > 12 else 12
    words = [period] if period else []
    words.append(read_counted(hour, "시"))
    if minute:
        words.append(read_counted(minute, "분"))
    if second:
        words.append(read_counted(second, "초"))
    return " ".join(words)


def _slash_date_or_fraction(match: re.Match[str]) -> str:
    first, second = int(match["first"]), int(match["second"])
    if 0 < first < second <= 10:
        return f"{sino_korean(second)} 분의 {sino_korean(first)}"  # 1/2 → 이 분의 일
    if 1 <= first <= 12 and 1 <= second <= 31:
        return f"{read_counted(first, '월')} {read_counted(second, '일')}"  # 12/25 → 십이 월 이십오 일
    return match.group()


def _phone(match: re.Match[str]) -> str:
    country, number = match["country"], match["number"]
    groups = [read_digits(group) for group in re.split(r"[ -]", number)]
    if country:
        groups.insert(0, "플러스 " + read_digits(country))
    return " ".join(groups)


def _event_date(match: re.Match[str]) -> str:
    # 3·1절 → 삼일절, 6·25 → 육이오, 5·18 → 오일팔: the month as a number, the day digit by digit.
    return sino_korean(int(match["month"])) + read_digits(match["day"], zero="영")


def _bare_number(match: re.Match[str]) -> str:
    return ("마이너스 " if match["sign"] else "") + read_number(match["num"])


# -- Latin letters --------------------------------------------------------------------------------------------------

_LETTERS = dict(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ", (
    "에이", "비", "씨", "디", "이", "에프", "지", "에이치", "아이", "제이", "케이", "엘", "엠", "엔", "오", "피",
    "큐", "알", "에스", "티", "유", "브이", "더블유", "엑스", "와이", "제트",
), strict=True))
# A single digit in a model name is said in English (GPT-4 → 지피티 포, MP3 → 엠피 쓰리, 5G → 파이브 지).
_ENGLISH_DIGITS = ("제로", "원", "투", "쓰리", "포", "파이브", "식스", "세븐", "에잇", "나인")
# Words and brands as Korean speakers say them, keyed lowercase without hyphens, dots or apostrophes.
_WORDS = {
    "ok": "오케이", "okay": "오케이", "wifi": "와이파이", "email": "이메일", "app": "앱", "apps": "앱",
    "bluetooth": "블루투스", "youtube": "유튜브", "google": "구글", "apple": "애플", "iphone": "아이폰",
    "ipad": "아이패드", "android": "안드로이드", "samsung": "삼성", "galaxy": "갤럭시", "kakao": "카카오",
    "kakaotalk": "카카오톡", "naver": "네이버", "netflix": "넷플릭스", "instagram": "인스타그램",
    "facebook": "페이스북", "chatgpt": "챗지피티", "openai": "오픈에이아이", "microsoft": "마이크로소프트",
    "windows": "윈도우", "mac": "맥", "macbook": "맥북", "ios": "아이오에스", "macos": "맥오에스",
    "amazon": "아마존", "tesla": "테슬라", "excel": "엑셀", "zoom": "줌", "login": "로그인", "logout": "로그아웃",
    "online": "온라인", "offline": "오프라인", "internet": "인터넷", "web": "웹", "website": "웹사이트",
    "server": "서버", "cloud": "클라우드", "update": "업데이트", "download": "다운로드", "upload": "업로드",
    "file": "파일", "pro": "프로", "max": "맥스", "plus": "플러스", "mini": "미니", "ultra": "울트라",
    "air": "에어", "watch": "워치", "pay": "페이", "phone": "폰", "smart": "스마트", "python": "파이썬",
    "java": "자바", "javascript": "자바스크립트", "github": "깃허브", "linux": "리눅스", "chrome": "크롬",
    "covid": "코로나", "nasa": "나사", "nato": "나토", "unesco": "유네스코", "unicef": "유니세프",
    "kospi": "코스피", "kosdaq": "코스닥", "pin": "핀", "ram": "램", "lan": "랜", "jpeg": "제이펙",
    "iot": "아이오티", "kpop": "케이팝", "mcdonalds": "맥도날드", "starbucks": "스타벅스", "vs": "대",
}
_LATIN_TOKEN = r"\d*[A-Za-z][A-Za-z\d]*(?:[-.&'][A-Za-z\d]+)*"  # a word with a letter in it: AI, 5G, GPT-4o
# Pieces of a token: a capital run (an acronym), a word, a number, an ampersand (R&D).
_SEGMENT = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+(?:\.\d+)*|&")


def _word_key(text: str) -> str:
    return re.sub(r"[-.'&]", "", text.lower())


def _read_segment(segment: str) -> str | None:
    if segment[0].isdigit():
        parts = segment.split(".")
        if all(len(part) == 1 for part in parts):
            return " 점 ".join(_ENGLISH_DIGITS[int(part)] for part in parts)
        return read_number(segment)
    known = _WORDS.get(segment.lower())
    if known is not None:
        return known
    if (segment.isupper() and len(segment) <= 5) or len(segment) == 1:
        return "".join(_LETTERS[letter] for letter in segment.upper())
    return None  # an English word: the voice router's business


def _read_latin_token(token: str) -> str | None:
    """A Korean reading of one Latin token, or None when part of it is an English word with none."""
    known = _WORDS.get(_word_key(token))
    if known is not None:
        return known
    words: list[str] = []
    for part in token.split("-"):
        known = _WORDS.get(_word_key(part))
        if known is not None:
            words.append(known)
            continue
        segments = _SEGMENT.findall(part)
        if "".join(segments) != part:
            return None
        glue = False
        for segment in segments:
            if segment == "&":  # R&D → 알앤디, said as one word
                words[-1:] = [(words[-1] if words else "") + "앤"]
                glue = True
                continue
            reading = _read_segment(segment)
            if reading is None:
                return None
            if glue:
                words[-1] += reading
                glue = False
            else:
                words.append(reading)
    return " ".join(words)


def _latin_run(match: re.Match[str]) -> str:
    # A run of Latin words is read only if every word in it has a reading: "OK Google" is 오케이 구글, but in
    # "I love you" the I stays English with the rest.
    readings = [_read_latin_token(token) for token in match.group().split()]
    if any(reading is None for reading in readings):
        return match.group()
    return " ".join(reading for reading in readings if reading is not None)


# -- markdown, emoji and symbols ------------------------------------------------------------------------------------

def _list_number(match: re.Match[str]) -> str:
    # "1. 물을 끓입니다" is said 첫째, ...: a voice reading "일." would end a sentence there.
    return f"{match['indent']}{read_counted(int(match['n']), '째')}, "


_EMOJI = (
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff\u2190-\u21ff"
    "\ufe00-\ufe0f\u200d\u20e3\U000e0020-\U000e007f\u00a9\u00ae\u2122\u3030\u303d]"
)


def _topic_particle(match: re.Match[str]) -> str:
    # "=" reads as the topic particle, 은 after a final consonant and 는 after a vowel (일 더하기 일은 이).
    before = match.string[: match.start()].rstrip()
    last = before[-1:] if before else ""
    has_final = "가" <= last <= "힣" and (ord(last) - ord("가")) % 28 != 0
    return ("은" if has_final else "는") + " "


_SYMBOLS = {"&": " 앤드 ", "+": " 플러스 ", "×": " 곱하기 ", "÷": " 나누기 ", "@": " 앳 ", "%": " 퍼센트 "}


def _rule(pattern: str, replacement: Replacement, flags: int = 0) -> tuple[re.Pattern[str], Replacement]:
    return re.compile(pattern, flags), replacement


_MARKDOWN = (
    _rule(r"^[ \t]*```.*$", "", re.MULTILINE),  # code fences, with their language tag
    _rule(r"!\[[^\]]*\]\([^)]*\)", ""),  # images
    _rule(r"\[([^\]]+)\]\([^)]*\)", r"\1"),  # links keep their text
    _rule(r"</?[A-Za-z][^>]*>", " "),  # html tags
    _rule(r"^[ \t]{0,3}#{1,6}[ \t]*", "", re.MULTILINE),  # headings
    _rule(r"^[ \t]*>[ \t]?", "", re.MULTILINE),  # quotes
    _rule(r"^[ \t]*[-*_=|:][-*_=|: \t]{2,}$", "", re.MULTILINE),  # rules and table separators
    _rule(r"^(?P<indent>[ \t]*)(?P<n>\d{1,2})[.)][ \t]+", _list_number, re.MULTILINE),
    _rule(r"^[ \t]*[-*+•◦▪●][ \t]+", "", re.MULTILINE),  # bullets
    _rule(r"(\*\*|__|~~)(.+?)\1", r"\2"),  # bold, strikethrough
    _rule(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])", r"\1"),  # italics
    _rule(r"(?<![A-Za-z\d_])_(?=\S)(.+?)(?<=\S)_(?![A-Za-z\d_])", r"\1"),  # not in snake_case
    _rule(r"`+", ""),
    _rule(r"^[ \t]*\||\|[ \t]*$", "", re.MULTILINE),  # table rows: the outer bars go, the inner ones pause
    _rule(r"\s*\|\s*", ", "),
    _rule(_EMOJI, " "),
)

_NUMBERS = (
    _rule(r"(?<![^\s(])[~〜](?=\d)", "약 "),  # ~5분 → 약 오 분
    # 2026-12-02, 2026.12.02, 2026. 12. 2.에 (the last point belongs to the date when a particle follows it)
    _rule(
        r"(?<![\d.])(?P<year>\d{4})(?P<sep>[-./])\s?(?P<month>\d{1,2})(?P=sep)\s?(?P<day>\d{1,2})(?!\d)"
        r"(?:\.(?=[가-힣]))?",
        _date,
    ),
    _rule(r"(?<![\d+-])(?:\+(?P<country>\d{1,3})[ -])?(?P<number>\d{2,4}(?:-\d{3,4}){1,2}-\d{4})(?![\d-])", _phone),
    _rule(r"(?<![\d-])(?P<country>)(?P<number>1[568]\d{2}-\d{4})(?![\d-])(?!\s?년)", _phone),  # 1588-1234
    # An account number or a code is read digit by digit: 계좌번호 110-123-456789, 인증번호 482913.
    _rule(r"(번호|코드|PIN|OTP)(\s?(?:는|은|:)?\s?)(\d{4,}|\d+(?:-\d+)+)(?![\d-])",
          lambda m: m[1] + m[2] + " ".join(read_digits(group) for group in m[3].split("-"))),
    _rule(
        r"(?:(?P<period>오전|오후|아침|저녁|밤|낮|새벽)\s?)?(?<![\d:])"
        r"(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?(?![\d:])",
        _time,
    ),
    # A ratio or a score, 16:9 or 3 : 2; not the "1: 2개" of a numbered step.
    _rule(r"(?<![\d:])(\d+)(?::| : )(\d+)(?![\d:])", lambda m: f"{read_number(m[1])} 대 {read_number(m[2])}"),
    # 3·1절, 6·25, and 3.1절 and 8.15 광복절 written with a point
    _rule(r"(?<!\d)(?P<month>\d{1,2})(?:[·ㆍ]|\.(?=\d{1,2}\s?[가-힣]*절))(?P<day>\d{1,2})(?!\d)", _event_date),
    _rule(r"(?<![\d/.])(?P<first>\d{1,2})/(?P<second>\d{1,2})(?![\d/])", _slash_date_or_fraction),
    _rule(rf"(?P<currency>[$₩€£¥])\s?(?P<num>{_NUM})", _currency),
    _rule(
        rf"{_START}(?P<low>{_NUM})\s?(?P<dash>[~〜\-–])\s?(?P<high>{_NUM})"
        rf"(?:(?P<counter>{_COUNTER})|\s?(?P<unit>{_UNIT}))?",
        _range,
    ),
    _rule(rf"{_START}{_SIGN}(?P<num>{_NUM})\s?(?P<unit>{_UNIT})(?:/(?P<per>{_alternatives(_PER)})(?![A-Za-z]))?",
          _unit),
    # 5만 원, 3억 5천만 원; not the 1만 of 3분의 1만 ("only a third").
    _rule(rf"(?<!의 ){_START}(?P<num>{_NUM})(?P<magnitude>[백천]?[만억조]|[백천])(?:\s?(?P<unit>{_UNIT}))?",
          _magnitude),
    _rule(rf"(?P<ordinal>(?<![가-힣])제\s?)?{_START}{_SIGN}(?P<num>{_NUM})(?P<counter>{_COUNTER})", _counter),
    _rule(rf"(?<![A-Za-z\d]){_LATIN_TOKEN}(?:[ \t]+{_LATIN_TOKEN})*(?![A-Za-z\d])", _latin_run),
    # A number between English words is part of the English ("5 more minutes"): the Latin rule has read every
    # word it could, so what Latin is left is English.
    _rule(rf"(?<![A-Za-z] ){_START}{_SIGN}(?P<num>{_NUM})(?![A-Za-z\d])(?! [A-Za-z])", _bare_number),
)

_SYMBOL_RULES = (
    # A tilde between two words is a range (서울~부산 → 서울에서 부산); elsewhere it is a tone mark (좋아요~).
    _rule(r"(?<=[가-힣\d])(?: [~〜] |[~〜])(?=[가-힣\d])", "에서 "),
    _rule(r"[~〜]+", ""),
    _rule(r"(?<=[시분초])-(?=[가-힣])", "에서 "),  # 9:00-18:00 → 아홉 시에서 오후 여섯 시
    _rule(r"(?<=[가-힣])-(?=[가-힣])", " "),  # 삼-이: what is left of a hyphen between numbers
    _rule(r"\s*=\s*", _topic_particle),
    _rule("[" + re.escape("".join(_SYMBOLS)) + "]", lambda m: _SYMBOLS[m.group()]),
    _rule(r"[*#`^\\]", ""),
    _rule(r"[ \t\u00a0\u3000]+", " "),
    _rule(r" *\n[ \n]*", "\n"),
    _rule(r" +([,.!?…])", r"\1"),
)

# Web and mail addresses are kept as written, for the voice router: the number, letter and markdown rules would
# tear them apart.
_PROTECTED = re.compile(r"https?://[^\s)\]]+|www\.[^\s)\]]+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Private-use characters stand in for the protected text while the rules run.
_PLACEHOLDER, _PLACEHOLDERS = 0xE000, 0xF8FF - 0xE000 + 1


def _fullwidth_to_ascii(text: str) -> str:
    # Full-width digits, letters and signs (１２％) are the ASCII ones; Hangul itself must not go through NFKC.
    return "".join(unicodedata.normalize("NFKC", char) if "\uff01" <= char <= "\uff5e" else char for char in text)


def normalize_korean(text: str) -> str:
    """``text`` as a Korean voice should read it: numbers, dates, times, units and letters written in Hangul;
    markdown, emoji and symbols a voice should not say removed or spelled out."""
    text = re.sub("[\ue000-\uf8ff]", "", _fullwidth_to_ascii(text))
    protected: list[str] = []

    def protect(match: re.Match[str]) -> str:
        if len(protected) == _PLACEHOLDERS:
            return match.group()
        protected.append(match.group())
        return chr(_PLACEHOLDER + len(protected) - 1)

    text = _PROTECTED.sub(protect, text)
    for pattern, replacement in (*_MARKDOWN, *_NUMBERS, *_SYMBOL_RULES):
        text = pattern.sub(replacement, text)
    text = re.sub("[\ue000-\uf8ff]", lambda m: protected[ord(m.group()) - _PLACEHOLDER], text)
    return text.strip()
