"""The ISO 3166-1 country list, named in the reader's language."""

from __future__ import annotations

from functools import cache, lru_cache

import pycountry
from flask_babel import get_locale


@cache
def _codes() -> frozenset[str]:
    return frozenset(country.alpha_2 for country in pycountry.countries)


def is_country(code: str | None) -> bool:
    return bool(code) and code in _codes()


@lru_cache(maxsize=32)
def _names(locale: str) -> dict[str, str]:
    """Every ISO country's name in one language, with English where Babel has none. Kept per
    language: a table names a country on every row."""
    from babel import Locale

    try:
        territories = Locale.parse(locale).territories
    except (ValueError, TypeError):
        territories = {}
    return {
        country.alpha_2: territories.get(country.alpha_2) or country.name
        for country in pycountry.countries
    }


def country_name(code: str | None, locale: str | None = None) -> str:
    """The country's name in the given (or current) language, falling back to English."""
    if not is_country(code):
        return code or ""
    return _names(locale or str(get_locale() or "en"))[code]


def country_choices(locale: str | None = None) -> list[tuple[str, str]]:
    """(code, name) for every ISO country, sorted by name in the reader's language."""
    return list(_sorted_choices(locale or str(get_locale() or "en")))


@lru_cache(maxsize=32)
def _sorted_choices(locale: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(_names(locale).items(), key=lambda pair: pair[1].casefold()))
