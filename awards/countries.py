"""The ISO 3166-1 country list, named in the reader's language."""

from __future__ import annotations

from functools import cache

import pycountry
from flask_babel import get_locale


@cache
def _codes() -> frozenset[str]:
    return frozenset(country.alpha_2 for country in pycountry.countries)


def is_country(code: str | None) -> bool:
    return bool(code) and code in _codes()


def country_name(code: str | None, locale: str | None = None) -> str:
    """The country's name in the given (or current) language, falling back to English."""
    if not is_country(code):
        return code or ""
    from babel import Locale

    try:
        names = Locale.parse(locale or str(get_locale() or "en")).territories
    except (ValueError, TypeError):
        names = {}
    return names.get(code) or pycountry.countries.get(alpha_2=code).name


def country_choices(locale: str | None = None) -> list[tuple[str, str]]:
    """(code, name) for every ISO country, sorted by name in the reader's language."""
    pairs = [(code, country_name(code, locale)) for code in _codes()]
    return sorted(pairs, key=lambda pair: pair[1].casefold())
