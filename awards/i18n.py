"""Languages and time zones: what people can choose and how a request picks one."""

from __future__ import annotations

import os
import zoneinfo
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from flask import has_request_context, request, session
from flask_babel import get_translations
from flask_login import current_user
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup

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

# Hand-written catalogues (messages.po) live here; their compiled .mo files are build products.
TRANSLATIONS = Path(__file__).resolve().parent / "translations"

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


def compile_catalogues(directory: Path = TRANSLATIONS) -> list[Path]:
    """Compile each ``messages.po`` whose ``.mo`` is missing or older; return those written.

    ``make install`` does this with pybabel; tests and fresh checkouts call it so that a clone
    never shows English because nobody compiled. Fuzzy entries are left out, as pybabel does.
    """
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalog = read_po(source, locale=po.parent.parent.name)
        partial = mo.with_name(f".messages.{os.getpid()}.mo")  # atomic when runs overlap
        with partial.open("wb") as target:
            write_mo(target, catalog)
        partial.replace(mo)
        written.append(mo)
    return written


def catalogue_callables() -> dict[str, Callable[..., str]]:
    """``gettext`` and ``ngettext`` bound to the current language's catalogue, for one
    rendering (a page, an email).

    Jinja's ``_()``, ``gettext()``, ``ngettext()`` and ``{% trans %}`` look these names up in
    the template's context before its globals. The globals Flask-Babel installs find the
    catalogue again on every call: a quarter of a long table's rendering time, a third of an
    email's. These behave as Jinja's "newstyle" ones do: the translation is marked safe where
    the template autoescapes, then always formatted with the call's values (``num``
    included).
    """
    catalogue = get_translations()
    # The catalogue's text is ours, trusted as Jinja trusts it; ``%`` on Markup escapes the
    # values put into it. They take the evaluation context, not the template context: Jinja
    # copies the whole template context for a ``pass_context`` callable called in a loop or
    # in a block that sets a variable, and a page calls these dozens of times.

    @pass_eval_context
    def gettext(eval_context: EvalContext, string: str, **values: Any) -> str:
        text = catalogue.ugettext(string)
        return (Markup(text) if eval_context.autoescape else text) % values  # noqa: S704

    @pass_eval_context
    def ngettext(
        eval_context: EvalContext, singular: str, plural: str, num: int, **values: Any
    ) -> str:
        values.setdefault("num", num)
        text = catalogue.ungettext(singular, plural, num)
        return (Markup(text) if eval_context.autoescape else text) % values  # noqa: S704

    # ``_`` too: the global one Jinja installs is a ``pass_context`` alias that looks
    # ``gettext`` up again on every call.
    return {"gettext": gettext, "ngettext": ngettext, "_": gettext}
