"""Korean names for the English names of countries, languages, currencies and cities, from CLDR (Babel).

The embedded LLM knows, in English, that the capital of Italy is Rome, but writes the Korean name wrong ("뉴욕",
"로ndon"). The Unicode CLDR has the names a Korean locale displays for the same things, and Babel ships CLDR, so a
translation prompt can be told the right ones: :func:`glossary` finds the names an English text uses and
:func:`names_for_prompt` writes them as ``Rome = 로마, Italy = 이탈리아``; :func:`substitute` writes the Korean names
into the English text itself.

Where the names come from, all CLDR through Babel's public data (nothing is written by hand here):

- territories: ``Locale("en").territories`` against ``Locale("ko").territories`` (Italy → 이탈리아, Europe → 유럽);
- languages with a two-letter ISO 639-1 code, the widely used ones (Portuguese → 포르투갈어); the three-letter codes
  bring hundreds of small languages whose English names are also English words ("Slave", "Fang", "Ga");
- currencies that are or were legal tender (CLDR's territory currencies: not gold or accounting units): the display
  name and the English singular and plural unit names (``get_currency_name`` with a count: "Japanese yen",
  "US dollars", "euros"); names that need "(PLZ)" to tell an old currency apart are left out; Korean has no
  plural, so all take the Korean display name. CLDR has no bare short name such as "yen" → 엔, so there is none here;
- cities: the exemplar city of each CLDR time zone (``Locale("ko").time_zones[zone]["city"]``); where English has no
  exemplar city, CLDR's own rule applies: the zone ID's last part with spaces for underscores ("Europe/Rome" →
  Rome). So only cities that name a time zone are here: Rome and Cairo, not Beijing or Ottawa.

Normalisation, kept small: names that start with a lower-case letter in English are not proper names and are left
out ("world"; currency units such as "euros" stay); an English name's parenthesised other name counts on its own too
("Myanmar (Burma)": Myanmar, Burma); Korean names are taken as CLDR writes them, and ones with Latin letters are left
out. Where two sources give one English name, the first wins: territory, city, language, currency. A language name
is also the English adjective ("Korean alphabet" finds Korean = 한국어): the glossary names things, it does not parse.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from babel import Locale
from babel.core import get_global
from babel.numbers import get_currency_name

Names = dict[str, str]
"""English name → Korean name."""

_PARENTHESISED = re.compile(r"^(?P<name>[^()]+?)\s*\((?P<other>[^()]+)\)$")
_LATIN = re.compile(r"[A-Za-z]")


def _english_forms(name: str) -> list[str]:
    """The forms an English CLDR name is matched in: itself, and both halves of "Myanmar (Burma)"."""
    found = _PARENTHESISED.match(name)
    return [found["name"], found["other"]] if found else [name]


def _add(table: Names, english: str, korean: str, *, proper: bool = True) -> None:
    """One entry, if it is usable: a Korean name in Hangul, an English proper name; the first source wins."""
    if not korean or _LATIN.search(korean) or (proper and not english[:1].isupper()):
        return
    for form in _english_forms(english):
        table.setdefault(form.strip(), korean)


def territory_names() -> Names:
    english, korean = Locale("en").territories, Locale("ko").territories
    table: Names = {}
    for code, name in english.items():
        _add(table, name, korean.get(code, ""))
    return table


def city_names() -> Names:
    """Time zone exemplar cities; English falls back to the zone ID, as CLDR says (Asia/Ho_Chi_Minh → Ho Chi Minh)."""
    english, korean = Locale("en").time_zones, Locale("ko").time_zones
    table: Names = {}
    for zone, names in korean.items():
        city = names.get("city")
        if not city or zone.startswith("Etc/"):
            continue
        english_city = english.get(zone, {}).get("city") or zone.rsplit("/", 1)[-1].replace("_", " ")
        _add(table, english_city, city)
    return table


def language_names() -> Names:
    english, korean = Locale("en").languages, Locale("ko").languages
    table: Names = {}
    for code, name in english.items():
        if len(code) == 2:
            _add(table, name, korean.get(code, ""))
    return table


def _tender() -> set[str]:
    """Currencies that are or were legal tender somewhere (CLDR's territory currencies): not gold, test codes or
    accounting units."""
    return {code for used in get_global("territory_currencies").values() for code, *_, tender in used if tender}


def currency_names() -> Names:
    """Display names and English unit names, singular and plural: "Japanese Yen", "Japanese yen", "euros"."""
    english, korean = Locale("en"), Locale("ko")
    tender = _tender()
    table: Names = {}
    for code in english.currencies:
        if code not in tender:
            continue
        forms = {english.currencies[code], get_currency_name(code, 1, english), get_currency_name(code, 2, english)}
        for form in sorted(form for form in forms if "(" not in form):  # "(PLZ)" tells old currencies apart
            _add(table, form, korean.currencies.get(code, ""), proper=False)
    return table


def _merged(tables: Iterable[Names]) -> Names:
    merged: Names = {}
    for table in tables:
        for english, korean in table.items():
            merged.setdefault(english, korean)
    return merged


@cache
def korean_names() -> Names:
    """The whole table, built once: territories, cities, languages, currencies, in that order of precedence."""
    return _merged((territory_names(), city_names(), language_names(), currency_names()))


@cache
def _pattern() -> re.Pattern[str]:
    """Every English name as a whole word, the longest first, so "United Kingdom" is found before "Kingdom"."""
    names = sorted(korean_names(), key=lambda name: (-len(name), name))
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(name) for name in names) + r")(?!\w)")


def glossary(text: str) -> list[tuple[str, str]]:
    """The (English, Korean) names an English text uses, in the order they first occur, each once.

    Whole words and case-sensitive ("Chad" is not in "Chadwick", "china" is not China); at one place the longest
    name wins ("United Kingdom", not "Kingdom").
    """
    table = korean_names()
    found: dict[str, str] = {}
    for match in _pattern().finditer(text):
        found.setdefault(match[0], table[match[0]])
    return list(found.items())


def names_for_prompt(pairs: Iterable[tuple[str, str]]) -> str:
    """``Rome = 로마, Italy = 이탈리아``; empty when there are no names."""
    return ", ".join(f"{english} = {korean}" for english, korean in pairs)


def substitute(text: str) -> str:
    """The English text with its names written in Korean: "The capital of Italy is 로마." for Rome."""
    table = korean_names()
    return _pattern().sub(lambda match: table[match[0]], text)
