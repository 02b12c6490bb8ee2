"""Languages and time zones: what people can choose and how a request picks one."""

from __future__ import annotations

import zoneinfo
from functools import cache

from flask import has_request_context, request, session
from flask_login import current_user

# The six official UN languages, each named in itself.
LANGUAGES: dict[str, str] = {
    "en": "English",
    "fr": "Français",
    "es": "Español",
    "ar": "العربية",
    "zh": "中文",
    "ru": "Русский",
}
RTL_LANGUAGES = frozenset({"ar"})

# Legacy aliases and POSIX zones clutter the list without adding any place.
_SKIPPED_ZONE_PREFIXES = ("Etc/", "SystemV/", "US/", "Canada/", "Brazil/", "Chile/", "Mexico/")


@cache
def timezone_choices() -> tuple[str, ...]:
    zones = {
        name
        for name in zoneinfo.available_timezones()
        if "/" in name and not name.startswith(_SKIPPED_ZONE_PREFIXES)
    }
    return ("UTC", *sorted(zones))


def is_valid_timezone(name: str) -> bool:
    return name in timezone_choices()


def select_locale() -> str | None:
    if not has_request_context():
        return None  # commands and workers: the default, unless force_locale says otherwise
    if current_user.is_authenticated and current_user.language in LANGUAGES:
        return current_user.language
    chosen = session.get("language")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(list(LANGUAGES)) or "en"


def select_timezone() -> str | None:
    if not has_request_context():
        return None
    if current_user.is_authenticated and is_valid_timezone(current_user.timezone):
        return current_user.timezone
    return "UTC"


def text_direction(locale: str) -> str:
    return "rtl" if locale in RTL_LANGUAGES else "ltr"
