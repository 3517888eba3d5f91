"""Which IANA time zone a place name means, in English or Korean: "Tokyo", "도쿄", "New York", "런던", "Japan",
"일본", "Asia/Seoul".

The names come from data, not from a list written here: every IANA zone in the zone database (:mod:`zoneinfo`, with
the ``tzdata`` package where the OS has none) by its ID and by its city ("America/New_York" → New York), and from
the Unicode CLDR through Babel (as :mod:`omni.text.korean_names` reads it): the exemplar city of each zone in English
and Korean (Asia/Tokyo → 도쿄, Asia/Calcutta → Kolkata), and the countries and regions in English and Korean with
their zones (Japan, 일본 → Asia/Tokyo). A country with zones at different UTC offsets now (the United States,
Russia, Australia) is not one time: :func:`find_zone` says so and names a few of its cities to ask about.

Only cities that name a time zone are known (Seoul, Busan is not); anything else is :class:`UnknownPlace`.
"""

from __future__ import annotations

import re
import unicodedata
import zoneinfo
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path

from babel import Locale
from babel.core import get_global

_SHORT_NAMES = {
    # Everyday names CLDR does not have as names of a region (it has "South Korea", "대한민국", "United States"):
    # the ones a user says when asking what time it is there.
    "korea": "KR", "한국": "KR", "남한": "KR", "usa": "US", "us": "US", "america": "US", "미국": "US",
    "uk": "GB", "britain": "GB", "great britain": "GB", "england": "GB", "영국": "GB", "잉글랜드": "GB",
    "holland": "NL",
}

_DROPPED_WORDS = re.compile(r"\b(?:time|the|city|in|now|current|local)\b")
_KOREAN_SUFFIXES = ("시간", "특별시", "광역시", "시", "의")


class UnknownPlace(LookupError):
    """No time zone is known for a place; the message is what the model can tell the user."""


@dataclass(frozen=True)
class Place:
    """A place found: its name as the user may hear it, and its zone."""

    name: str
    zone: str


def normalise(name: str) -> str:
    """A place name as the index keeps it: NFKC, case-folded, accents off, ``_``/``-``/``.``/apostrophes as
    spaces, runs of spaces as one."""
    text = unicodedata.normalize("NFKC", name).casefold()
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = unicodedata.normalize("NFC", text)  # Hangul decomposed above is composed again
    text = re.sub(r"[_\-.,’']", " ", text)
    return " ".join(text.split())


def city_of(zone: str) -> str:
    """The city a zone ID ends in, as CLDR names it when it has no exemplar city: America/New_York → New York."""
    return zone.rsplit("/", 1)[-1].replace("_", " ")


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _usable(zone: str) -> str | None:
    """The current zone ID of a zone ID, where the zone database has it: CLDR and the database's backward links keep
    old IDs (Asia/Calcutta → Asia/Kolkata, Japan → Asia/Tokyo)."""
    alias = get_global("zone_aliases").get(zone)
    if alias in _zones():
        return str(alias)
    return zone if zone in _zones() else None


@cache
def _populous_first() -> dict[str, int]:
    """Zone ID → its row in the zone database's ``zone.tab``, which lists a country's zones "most populous first,
    where that does not contradict" geography (America/New_York before America/Chicago)."""
    try:
        table = resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text(encoding="utf-8")
    except (ModuleNotFoundError, OSError):
        try:
            table = Path("/usr/share/zoneinfo/zone.tab").read_text(encoding="utf-8")
        except OSError:
            return {}
    rows = [line.split("\t") for line in table.splitlines() if line and not line.startswith("#")]
    return {row[2]: index for index, row in enumerate(rows) if len(row) >= 3}


@cache
def _cities() -> dict[str, Place]:
    """Normalised city or zone name → the place: zone IDs, their cities, CLDR's English and Korean exemplar cities."""
    index: dict[str, Place] = {}
    english, korean = Locale("en").time_zones, Locale("ko").time_zones
    # Current IDs first, so that a city both an old and a current ID end in is found under the current one.
    for zone in sorted(_zones(), key=lambda z: (_usable(z) != z, z)):
        current = _usable(zone) or zone
        if "/" not in zone or zone.startswith(("Etc/", "SystemV/")):
            continue  # "Japan", "GB", "EST": the country or region names find these, or the ID itself
        index.setdefault(normalise(zone), Place(city_of(current), current))
        index.setdefault(normalise(zone.rsplit("/", 1)[-1]), Place(city_of(zone), current))
    for names in (english, korean):
        for cldr_zone, entry in names.items():
            usable, city = _usable(cldr_zone), entry.get("city")
            if usable is None or not city or usable.startswith("Etc/"):
                continue
            shown = english.get(cldr_zone, {}).get("city") or city_of(usable)
            index.setdefault(normalise(city), Place(shown, usable))
    for name in ("utc", "gmt", "협정 세계시", "세계시"):
        index[name] = Place("UTC", "UTC")
    return index


@cache
def _regions() -> dict[str, tuple[str, str]]:
    """Normalised country or region name → (its English name, its territory code)."""
    english, korean = Locale("en").territories, Locale("ko").territories
    index: dict[str, tuple[str, str]] = {}
    for code, name in english.items():
        for spoken in (name, korean.get(code, "")):
            if spoken:
                index.setdefault(normalise(spoken), (name, code))
    for name, code in _SHORT_NAMES.items():
        index.setdefault(normalise(name), (english.get(code, code), code))
    return index


def _region_place(name: str, code: str, at: datetime) -> Place:
    found = (_usable(z) for z in get_global("territory_zones").get(code, ()))
    zones = sorted(dict.fromkeys(z for z in found if z is not None), key=lambda z: _populous_first().get(z, 10**6))
    if not zones:
        raise UnknownPlace(f"no time zone is known for {name}")
    offsets = {at.astimezone(zoneinfo.ZoneInfo(z)).utcoffset() for z in zones}
    if len(offsets) == 1:
        return Place(name, zones[0])
    # One city for each offset, the way the zone database orders them, so the user can be asked which one.
    examples: dict[object, str] = {}
    for zone in zones:
        examples.setdefault(at.astimezone(zoneinfo.ZoneInfo(zone)).utcoffset(), city_of(zone))
    cities = ", ".join(list(examples.values())[:5])
    raise UnknownPlace(f"{name} has {len(offsets)} time zones; ask which city, for example {cities}")


def _candidates(place: str) -> list[str]:
    """The forms of a place name to look up, most literal first: "Tokyo, Japan" → "tokyo japan", "tokyo";
    "도쿄 시간" → "도쿄"; "New York City" → "new york"; at last its single words ("Seoul Korea" → "seoul")."""
    name = normalise(place)
    forms = [name]
    if "," in place:
        forms.append(normalise(place.split(",")[0]))
    stripped = " ".join(_DROPPED_WORDS.sub(" ", name).split())
    forms.append(stripped)
    for suffix in _KOREAN_SUFFIXES:
        if stripped.endswith(suffix) and len(stripped) > len(suffix):
            forms.append(stripped[: -len(suffix)].strip())
    forms.append(stripped.replace(" ", ""))
    forms += [word for word in stripped.split(" ") if len(word) >= 2 and word != stripped]
    return [f for f in dict.fromkeys(forms) if f]


def find_zone(place: str, at: datetime) -> Place:
    """The place and zone ``place`` names (a city, a country or region, an IANA zone ID; English or Korean), judged
    at the instant ``at`` where a country has several zones. Raises :class:`UnknownPlace`."""
    if not place.strip():
        raise UnknownPlace("no place was given")
    direct = place.strip().replace(" ", "_")
    if "/" in direct and (zone := _usable(direct)) is not None:  # an ID: "Japan" or "EST" are names, not IDs
        return Place(city_of(zone), zone)
    forms = _candidates(place)
    # A city before a country: "Singapore", "Panama" and "Mexico City" are cities; the country is the fallback.
    for form in forms:
        if form in _cities():
            return _cities()[form]
        if form in _regions():
            return _region_place(*_regions()[form], at)
    raise UnknownPlace(f"no time zone is known for {place.strip()!r}")
