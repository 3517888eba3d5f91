"""Read numbers the Korean way: Sino-Korean numerals (일, 이, 삼) and native Korean ones (하나, 둘, 셋).

Korean has two sets of numerals, and the word counted decides which one a number is read with: counters for things,
people, ages and hours take native numbers (세 개, 두 명, 다섯 살, 일곱 시), while calendar words, money, measures
and numbered things take Sino-Korean ones (이천이십육 년, 백 원, 십사 도, 십사 번 승강장). Native numerals stop at
99; a larger count reads its hundreds in Sino-Korean and the rest natively (백스무 명), as people say it.

Sino-Korean numbers group digits by four (만, 억, 조, 경) and put a space between the groups, as Korean spelling
does (만 이천오백). 일 is not said before 십, 백, 천 or a lone 만 (천 원, 만 원) but is before 억 and up (일억).
"""

from __future__ import annotations

MAX_SINO = 10**20 - 1
"""The largest number :func:`sino_korean` reads (9999경); longer digit strings are read digit by digit."""

_SINO_DIGITS = "영일이삼사오육칠팔구"
_IN_GROUP = ((1000, "천"), (100, "백"), (10, "십"))
_GROUP_NAMES = ("", "만", "억", "조", "경")

_NATIVE_ONES = ("", "하나", "둘", "셋", "넷", "다섯", "여섯", "일곱", "여덟", "아홉")
_NATIVE_TENS = ("", "열", "스물", "서른", "마흔", "쉰", "예순", "일흔", "여든", "아흔")
# Before a counter these shorten: 한 개, 두 명, 세 시, 네 살, 스무 살 (스무 only alone: 스물한 살).
_COUNTER_FORMS = {"하나": "한", "둘": "두", "셋": "세", "넷": "네", "스물": "스무"}

NATIVE_COUNTERS = frozenset({
    "개", "명", "사람", "살", "시", "시간", "마리", "번째", "째", "잔", "병", "권", "대", "장", "그루", "달",
    "가지", "곳", "군데", "벌", "켤레", "송이", "채", "척", "자루", "통", "판", "그릇", "접시", "조각", "봉지",
    "배", "바퀴", "끼", "곡", "편", "줄", "알", "상자", "박스", "캔", "컵", "숟가락", "스푼", "걸음", "문장",
    "문제", "단어", "세트", "팀", "쌍", "칸", "모금", "포기", "골", "경기",
})
"""Counters read with native numbers: 세 개, 두 명, 다섯 살, 일곱 시, 세 시간, 두 번째."""

SINO_COUNTERS = frozenset({
    "년", "년생", "년도", "월", "일", "주", "주년", "주일", "주차", "개월", "분", "분기", "초", "세", "세기", "세대",
    "원", "달러", "엔", "유로", "위안", "파운드", "도", "층", "번", "번지", "호", "호선", "호실", "등", "등급",
    "위", "점", "회", "차", "페이지", "쪽", "학년", "학기", "교시", "단계", "급", "인", "인분", "개국", "박",
    "강", "과", "기", "화", "부", "평", "퍼센트", "시즌", "라운드", "승", "패", "동",
    "킬로미터", "킬로그램", "킬로", "미터", "센티미터", "센티", "밀리미터", "그램", "리터", "밀리리터", "칼로리",
})
"""Counters read with Sino-Korean numbers: 이천이십육 년, 십이 월, 십 분, 백 원, 십사 도, 삼 층, 일 등."""

COUNTERS = NATIVE_COUNTERS | SINO_COUNTERS

# Two months drop a consonant: 육월 is said 유월, 십월 시월.
_MONTHS = {6: "유월", 10: "시월"}
# 째 makes an ordinal noun; the first four keep their full forms (첫째, 둘째, 셋째, 넷째; then 다섯째, 열두째).
_ORDINAL_NOUNS = {1: "첫째", 2: "둘째", 3: "셋째", 4: "넷째"}


def _group(n: int) -> str:
    """1..9999 in Sino-Korean, without 일 before 천, 백 and 십."""
    words = []
    for value, name in _IN_GROUP:
        digit = n // value % 10
        if digit:
            words.append(("" if digit == 1 else _SINO_DIGITS[digit]) + name)
    if n % 10:
        words.append(_SINO_DIGITS[n % 10])
    return "".join(words)


def sino_korean(n: int) -> str:
    """``n`` in Sino-Korean numerals: 0 → 영, 14 → 십사, 12500 → 만 이천오백, -3 → 마이너스 삼."""
    if n < 0:
        return "마이너스 " + sino_korean(-n)
    if n > MAX_SINO:
        raise ValueError(f"{n} is too large to read (the largest is {MAX_SINO})")
    if n == 0:
        return "영"
    groups = []
    level = 0
    while n:
        n, value = divmod(n, 10_000)
        if value:
            head = "" if value == 1 and level == 1 else _group(value)  # 만, not 일만; but 일억
            groups.append(head + _GROUP_NAMES[level])
        level += 1
    return " ".join(reversed(groups))


def native_korean(n: int, *, counter: bool = False) -> str:
    """``n`` (1..99) in native Korean numerals: 3 → 셋, 21 → 스물하나; before a counter 3 → 세, 20 → 스무."""
    if not 1 <= n <= 99:
        raise ValueError(f"native Korean numerals go from 1 to 99, not {n}")
    tens, ones = _NATIVE_TENS[n // 10], _NATIVE_ONES[n % 10]
    if counter:
        if ones:
            ones = _COUNTER_FORMS.get(ones, ones)
        else:
            tens = _COUNTER_FORMS.get(tens, tens)
    return tens + ones


def read_digits(digits: str, *, zero: str = "공") -> str:
    """Digit by digit, as phone numbers and codes are read: "010" → 공일공 (or 영일영 with ``zero="영"``)."""
    return "".join(zero if char == "0" else _SINO_DIGITS[int(char)] for char in digits if "0" <= char <= "9")


def _integer_part(digits: str) -> str:
    if not (digits.isascii() and digits.isdigit()):
        raise ValueError(f"not a number: {digits!r}")
    if (len(digits) > 1 and digits.startswith("0")) or len(digits) > len(str(MAX_SINO)):
        return read_digits(digits)  # 007, 0123: a code, not a quantity; or too long to say as one number
    value = int(digits)
    return sino_korean(value) if value <= MAX_SINO else read_digits(digits)


def read_number(text: str) -> str:
    """A written number in Sino-Korean: "1,234" → 천이백삼십사, "3.5" → 삼 점 오, "-2" → 마이너스 이.

    Digits after the decimal point are read one by one (3.05 → 삼 점 영오); a number with several points, a
    version or an address, reads each part (1.2.3 → 일 점 이 점 삼).
    """
    text = text.strip().replace(",", "")
    sign = ""
    if text[:1] in ("-", "−"):
        sign, text = "마이너스 ", text[1:]
    parts = text.split(".")
    if len(parts) > 2:
        return sign + " 점 ".join(_integer_part(part) for part in parts)
    reading = _integer_part(parts[0])
    if len(parts) == 2:
        if not (parts[1].isascii() and parts[1].isdigit()):
            raise ValueError(f"not a number: {text!r}")
        reading += " 점 " + read_digits(parts[1], zero="영")
    return sign + reading


def takes_native(counter: str) -> bool:
    """Whether ``counter`` is read with native numbers (개, 명, 살, 시 ...) rather than Sino-Korean ones."""
    return counter in NATIVE_COUNTERS


def _native_count(n: int) -> str:
    rest = n % 100
    if not rest:
        return sino_korean(n)  # 백 개, 천 명
    if n < 100:
        return native_korean(rest, counter=True)
    head = sino_korean(n - rest)
    # A space after a four-digit group name, or 10003명 would read 만세 명.
    return head + (" " if head[-1] in "만억조경" else "") + native_korean(rest, counter=True)


def read_counted(number: int, counter: str, *, native: bool | None = None) -> str:
    """``number`` of ``counter``, read as Korean says it: (3, "개") → 세 개, (14, "번") → 십사 번, (6, "월") → 유월.

    ``native`` overrides the counter's own choice, for the words whose reading depends on the sentence (세 번
    "three times" but 십사 번 "number fourteen"). Numbers below one and counters not listed are read in Sino-Korean.
    """
    if number < 0:
        return f"{sino_korean(number)} {counter}"
    if counter == "월" and number in _MONTHS:
        return _MONTHS[number]
    if counter == "째":  # a suffix, written on: 둘째, 열두째
        return _ORDINAL_NOUNS.get(number) or _native_count(number) + "째"
    if counter == "번째" and number == 1:
        return "첫 번째"
    if native is None:
        native = takes_native(counter)
    if number == 0 or not native:
        return f"{sino_korean(number)} {counter}"
    return f"{_native_count(number)} {counter}"
