"""Languages: every visible string marked and translated, the language chosen in the right order,
and dates, numbers and countries written the reader's way.

The catalogue checks read the source (templates and Python) afresh, so a string added without
``make translations-extract`` and a translation fails here, not in front of a user.
"""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime
from fnmatch import fnmatch
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import jinja2
import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from flask_babel import force_locale, format_datetime, refresh
from flask_login import login_user
from sqlalchemy import select

from awards import i18n
from awards.countries import country_choices, country_name
from awards.extensions import db
from awards.models import AuditEvent, NominationState, Question, QuestionKind
from awards.templating import file_size, local_datetime, question_hint

from .factories import PASSWORD, make_category, make_edition, make_nomination, make_user

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
TRANSLATED = [code for code in i18n.LANGUAGES if code != "en"]  # English is the source

# French is complete: with English, the Secretariat's working languages. Spanish, Arabic,
# Chinese and Russian cover what the public and nominators meet: these files.
PUBLIC_SOURCES = (
    "templates/base.html",
    "templates/macros/*",
    "templates/partials/*",
    "templates/errors/*",
    "templates/public/*",
    "templates/auth/*",
    "templates/account/*",
    "templates/nominate/*",
    "templates/dashboard/*",
    "templates/email/base.html",
    "templates/email/_button.html",
    "templates/email/verify_email.*",
    "templates/email/reset_password.*",
    "templates/email/nomination_received.*",
    "templates/email/nominee_informed.*",
    "templates/email/nomination_ineligible.*",
    "templates/email/winner.*",
    "templates/email/honourable_mention.*",
    "templates/email/not_selected.*",
    "templates/email/announcement.*",
    "templates/email/subscription_confirm.*",
    "templates/winners/index.html",
    "templates/winners/edition.html",
    "templates/winners/winner.html",
    "templates/winners/_award.html",
    "templates/winners/feed.xml",
    "templates/announcements/subscribe.html",
    "templates/announcements/check_email.html",
    "templates/announcements/confirm.html",
    "templates/announcements/confirmed.html",
    "templates/announcements/link_problem.html",
    "templates/announcements/unsubscribe.html",
    "templates/announcements/unsubscribed.html",
    "templates/privacy/mine.html",
    "awards/__init__.py",
    "awards/errors.py",
    "awards/accounts.py",
    "awards/forms.py",
    "awards/lifecycle.py",
    "awards/nominations.py",
    "awards/questions.py",
    "awards/uploads.py",
    "awards/templating.py",
    "awards/views/public.py",
    "awards/views/auth.py",
    "awards/views/account.py",
    "awards/views/nominate.py",
    "awards/views/dashboard.py",
    "awards/views/announcements.py",
    "awards/certificates.py",
    "awards/feeds.py",
)
# The announcement's starting wording (awards/notices.py) is written in each language for the
# Secretariat to edit and send to the list: these sentences reach the public as they are.
PUBLIC_MESSAGES = frozenset(
    {
        "The winners of %(edition)s were announced at %(event)s.",
        "You receive this email because you subscribed to the news of the E-waste Awards.",
        "Unsubscribe:",
    }
)
PLURAL_FORMS = {"fr": 2, "es": 2, "ar": 6, "zh": 1, "ru": 3}


# --- (a) Nothing visible is left unmarked ------------------------------------------------

JINJA = jinja2.Environment(extensions=["jinja2.ext.i18n"], autoescape=True)
LETTER = re.compile(r"[^\W\d_]")
# Attributes a person reads or hears; the others (class, id, href, name...) are for machines.
VISIBLE_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "aria-description"}
# Elements whose text is code, not language: examples of references, file names, commands;
# an Atom feed's generator names the software for feed readers.
UNTRANSLATED_ELEMENTS = {"script", "style", "code", "kbd", "samp", "generator"}
# Text that reads the same in every language, so is not sent to translators. Keep it short and
# say why: symbols and punctuation need no entry, as only letters count.
ALLOWED_TEXT = frozenset({"CSV", "XLSX"})  # file formats, named so on every computer


def _without_jinja(source: str) -> str:
    """Template text outside Jinja's tags, each tag replaced by an ellipsis, lines kept.

    Jinja's own lexer finds the tags, so strings inside them (even ones holding "}}") stay out.
    """
    kept, line = [], 1
    for lineno, kind, value in JINJA.lex(source):
        if kind == "data":
            kept.append("\n" * (lineno - line))
            kept.append(value)
            line = lineno + value.count("\n")
        elif kind in {"variable_begin", "block_begin", "comment_begin"}:
            kept.append("…")
    return "".join(kept)


class _TextFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str]] = []
        self.code_depth = 0

    def handle_starttag(self, tag, attrs):
        if tag in UNTRANSLATED_ELEMENTS:
            self.code_depth += 1
        shown = dict(attrs)
        names = set(VISIBLE_ATTRIBUTES)
        if tag == "input" and shown.get("type") in {"submit", "button", "reset"}:
            names.add("value")
        for name in names & shown.keys():
            self._check(f'{name}="{shown[name]}"', shown[name] or "")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in UNTRANSLATED_ELEMENTS:
            self.code_depth -= 1

    def handle_endtag(self, tag):
        if tag in UNTRANSLATED_ELEMENTS and self.code_depth:
            self.code_depth -= 1

    def handle_data(self, data):
        if not self.code_depth:
            self._check(data.strip(), data)

    def _check(self, shown: str, text: str) -> None:
        if LETTER.search(text) and text.strip() not in ALLOWED_TEXT:
            self.found.append((self.getpos()[0], shown))


def unmarked_template_text(path: Path) -> list[str]:
    source = _without_jinja(path.read_text(encoding="utf-8"))
    if path.suffix in {".html", ".xml"}:  # markup: its text nodes and read attributes
        finder = _TextFinder()
        finder.feed(source)
        finder.close()
        found = finder.found
    else:  # plain-text email bodies and subjects: any letter outside {{ }} and {% %}
        found = [(n, line.strip()) for n, line in enumerate(source.splitlines(), 1)]
        found = [(n, text) for n, text in found if LETTER.search(text)]
    name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
    return [f"{name}:{line}: {text[:80]!r}" for line, text in found]


def all_templates() -> list[Path]:
    suffixes = {".html", ".txt", ".xml"}  # pages, email bodies and subjects, the Atom feed
    return sorted(path for path in TEMPLATES.rglob("*") if path.suffix in suffixes)


def test_every_template_marks_its_visible_text_for_translation():
    problems = [problem for path in all_templates() for problem in unmarked_template_text(path)]
    assert not problems, "Wrap these in {{ _('...') }}:\n" + "\n".join(problems)


def test_the_template_check_finds_what_it_should(tmp_path):
    """The heuristic itself: text nodes and read attributes count, code and markup do not."""
    page = tmp_path / "page.html"
    page.write_text(
        "{% block x %}<h1>Hello</h1>{% endblock %}\n"
        '<img alt="A logo" src="logo.png"><input type="submit" value="Send">\n'
        '<a class="btn" href="/x" title="{{ _(\'Fine\') }}">{{ _("Fine") }}</a>\n'
        "<p>{{ name }} · {{ count }}</p><code>EWA27-ITU-0007</code>\n"
        "{# <p>a comment</p> #}<p>{% if x %}Yes{% endif %}</p>\n",
        encoding="utf-8",
    )
    email = tmp_path / "mail.txt"
    email.write_text("{{ _('Hello') }}\n\nRegards,\n{{ link }}\n", encoding="utf-8")
    found = [p.split(":", 2)[2] for p in unmarked_template_text(page)]
    assert found == [" 'Hello'", " 'alt=\"A logo\"'", " 'value=\"Send\"'", " '…Yes…'"]
    assert [p.split(":")[-1] for p in unmarked_template_text(email)] == [" 'Regards,'"]


def _called(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    return node.attr if isinstance(node, ast.Attribute) else ""


def unmarked_python_text(path: Path) -> list[str]:
    """Literal strings handed to people: flash messages, validation errors, form labels."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = _called(node.func)
        shown = []
        if name in {"flash", "ValidationError"} or name.endswith("Field"):
            shown += node.args[:1]
            shown += [k.value for k in node.keywords if k.arg in {"label", "description"}]
        if name.endswith("Field") or name in {"EqualTo", "Length", "Regexp", "NumberRange"}:
            shown += [k.value for k in node.keywords if k.arg == "message"]
        for value in shown:
            literal = isinstance(value, ast.Constant) and isinstance(value.value, str)
            if isinstance(value, ast.JoinedStr) or (literal and LETTER.search(value.value)):
                found.append(f"{path.relative_to(ROOT)}:{value.lineno}: {name}(...)")
    return found


def test_python_strings_shown_to_people_are_marked():
    problems = [
        problem
        for path in sorted((ROOT / "awards").rglob("*.py"))
        for problem in unmarked_python_text(path)
    ]
    assert not problems, "Wrap these in _() or _l():\n" + "\n".join(problems)


TRANSLATING_CALLS = {"_", "_l", "gettext", "ngettext", "lazy_gettext", "lazy_ngettext"}


def translations_inside_fstrings(source: str) -> list[int]:
    """The lines of calls of _() and the like inside an f-string's braces: on Python 3.11
    pybabel reads an f-string as one token and never finds them, so their words would drop
    out of the catalogues."""
    return [
        call.lineno
        for joined in ast.walk(ast.parse(source))
        if isinstance(joined, ast.JoinedStr)
        for call in ast.walk(joined)
        if isinstance(call, ast.Call)
        and isinstance(call.func, ast.Name)
        and call.func.id in TRANSLATING_CALLS
    ]


def test_no_translated_words_hide_inside_fstrings():
    problems = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in sorted((ROOT / "awards").rglob("*.py"))
        for line in translations_inside_fstrings(path.read_text())
    ]
    assert not problems, "Translate these outside the f-string:\n" + "\n".join(problems)
    assert translations_inside_fstrings('y = _("fine")\nx = f"<b>{_(\'none\')}</b>"\n') == [2]


# --- (b) Catalogues complete, not fuzzy, placeholders intact ---------------------------


@cache
def source_messages() -> dict[str | tuple[str, ...], frozenset[str]]:
    """Every marked message in the source now, with the files it comes from."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2)}
    found: dict = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        found.setdefault(message, set()).add(filename.replace("\\", "/"))
    return {message: frozenset(files) for message, files in found.items()}


def is_public(files: frozenset[str]) -> bool:
    return any(fnmatch(name, pattern) for name in files for pattern in PUBLIC_SOURCES)


@cache
def catalogue(language: str):
    path = i18n.TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po:
        return read_po(po, locale=language)


PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[#0 +-]?\d*(?:\.\d+)?[sdifr%]")


def placeholders(text: str) -> list[str]:
    return sorted(match.group(0) for match in PLACEHOLDER.finditer(text))


def translation_problems(language: str, message, translation) -> list[str]:
    singular = message if isinstance(message, str) else message[0]
    if translation is None:
        return [f"{language}: missing {singular!r}"]
    if translation.fuzzy:
        return [f"{language}: fuzzy {singular!r}"]
    if isinstance(message, str):
        if not translation.string:
            return [f"{language}: untranslated {singular!r}"]
        if placeholders(translation.string) != placeholders(message):
            return [f"{language}: placeholders differ in {singular!r}: {translation.string!r}"]
        return []
    forms = translation.string if isinstance(translation.string, tuple | list) else ()
    if len(forms) != PLURAL_FORMS[language] or not all(forms):
        return [f"{language}: needs {PLURAL_FORMS[language]} plural forms for {singular!r}"]
    # A form may say "one" or "two" in words instead of the number; every other placeholder
    # must be there, and none may be invented.
    expected = set(placeholders(message[1])) | set(placeholders(message[0]))
    problems = []
    for form in forms:
        found = set(placeholders(form))
        if not found <= expected or (expected - found) - {"%(num)d", "%(num)s"}:
            problems.append(f"{language}: placeholders differ in {singular!r}: {form!r}")
    return problems


def test_the_source_has_public_messages_and_the_sets_are_sane():
    messages = source_messages()
    public = [m for m, files in messages.items() if is_public(files)]
    assert len(messages) > 500 and len(public) > 250
    assert "Log in" in public and "Skip to main content" in public
    assert messages.keys() >= PUBLIC_MESSAGES, "a public message left the source: update the list"
    assert "%(name)s: winner of the %(award)s" in public  # only in the Atom feed, feed.xml


@pytest.mark.parametrize("language", TRANSLATED)
def test_catalogue_has_every_message_it_must(language):
    translations = catalogue(language)
    assert translations.num_plurals == PLURAL_FORMS[language]
    assert not translations.fuzzy, "the catalogue's header is marked fuzzy"
    problems = []
    for message, files in source_messages().items():
        if language == "fr" or is_public(files) or message in PUBLIC_MESSAGES:
            key = message if isinstance(message, str) else message[0]
            problems += translation_problems(language, message, translations.get(key))
    assert not problems, (
        f"{len(problems)} problems: run `make translations-extract` and translate.\n"
        + "\n".join(problems[:60])
    )


@pytest.mark.parametrize("language", TRANSLATED)
def test_no_translation_breaks_its_placeholders(language):
    """Also for messages outside the required set: a wrong translation is worse than none."""
    problems = []
    for translation in catalogue(language):
        strings = translation.string if translation.pluralizable else [translation.string]
        if translation.id and any(strings) and not translation.fuzzy:
            problems += translation_problems(language, translation.id, translation)
    assert not problems, "\n".join(problems)


def test_placeholder_check_catches_mistakes():
    from babel.messages.catalog import Message

    ok = Message("Issued by %(org)s", "Décerné par %(org)s")
    renamed = Message("Issued by %(org)s", "Décerné par %(organisation)s")
    plural = ("%(num)d winner", "%(num)d winners")
    assert translation_problems("fr", ok.id, ok) == []
    assert translation_problems("fr", renamed.id, renamed)
    short = Message(plural, ("%(num)d lauréat", "%(num)d lauréats"))
    assert translation_problems("ar", plural, short)  # Arabic needs six forms
    invented = Message(plural, ("فائز واحد", "%(count)d فائز", "فائزان", "a", "b", "c"))
    assert translation_problems("ar", plural, invented)[0].startswith("ar: placeholders")
    words = Message(plural, ("لا فائزين", "فائز واحد", "فائزان", *["%(num)d فائزين"] * 3))
    assert translation_problems("ar", plural, words) == []


def test_compiled_catalogues_are_current():
    """Compiling again writes nothing: the app serves what the .po files say."""
    assert i18n.compile_catalogues() == []
    for language in TRANSLATED:
        assert (i18n.TRANSLATIONS / language / "LC_MESSAGES" / "messages.mo").exists()


# --- (c) Which language a request gets -------------------------------------------------


def html_lang(response) -> str:
    match = re.search(r'<html lang="([^"]+)" dir="(\w+)"', response.get_data(as_text=True))
    assert match, "no <html lang dir>"
    return f"{match.group(1)}/{match.group(2)}"


def test_browser_language_then_session_then_profile(browser):
    spanish = {"Accept-Language": "es-ES,es;q=0.9,en;q=0.5"}
    assert html_lang(browser.get("/about", headers=spanish)) == "es/ltr"
    assert html_lang(browser.get("/about", headers={"Accept-Language": "de-CH"})) == "en/ltr"

    browser.post("/language", {"language": "ar", "return_to": "/about"})
    assert html_lang(browser.get("/about", headers=spanish)) == "ar/rtl"  # choice beats browser

    make_user("mei@example.org", language="zh")
    db.session.commit()
    browser.login("mei@example.org", PASSWORD)
    assert html_lang(browser.get("/about", headers=spanish)) == "zh/ltr"  # profile beats both
    browser.logout()
    assert html_lang(browser.get("/about", headers=spanish)) == "ar/rtl"  # the visitor’s again


def test_pages_are_translated(browser):
    expectations = {
        "fr": ("Se connecter", "Aller au contenu principal"),
        "es": ("Iniciar sesión", "Ir al contenido principal"),
        "ar": ("تسجيل الدخول", "الانتقال إلى المحتوى الرئيسي"),
        "zh": ("登录", "跳到主要内容"),
        "ru": ("Войти", "Перейти к основному содержанию"),
    }
    for language, texts in expectations.items():
        page = browser.get("/account/login", headers={"Accept-Language": language})
        html = page.get_data(as_text=True)
        for text in texts:
            assert text in html, (language, text)


def test_the_language_chooser_is_in_the_page_header_and_needs_its_token(browser, client):
    page = browser.get("/").get_data(as_text=True)
    assert 'action="/language"' in page and 'name="csrf_token"' in page
    for code, name in i18n.LANGUAGES.items():
        assert f'value="{code}" lang="{code}"' in page and name in page
    forged = client.post("/language", data={"language": "ar", "return_to": "/"})
    assert forged.status_code == 400
    assert html_lang(client.get("/", headers={"Accept-Language": "en"})) == "en/ltr"


@pytest.mark.parametrize(
    ("language", "return_to", "location"),
    [
        ("fr", "/about?x=1", "/about?x=1"),
        ("fr", "https://evil.example/", "/"),
        ("fr", "//evil.example/", "/"),
        ("fr", "", "/"),
        ("xx", "/about", "/about"),  # an unknown language changes nothing
    ],
)
def test_the_language_chooser_redirects_only_home(browser, language, return_to, location):
    response = browser.post("/language", {"language": language, "return_to": return_to})
    assert response.status_code == 302 and response.headers["Location"] == location
    expected = "fr/ltr" if language == "fr" else "en/ltr"
    assert html_lang(browser.get("/about", headers={"Accept-Language": "en"})) == expected


def test_choosing_a_language_when_signed_in_updates_the_profile_with_an_audit(browser):
    user = make_user("olga@example.org", language="en")
    db.session.commit()
    browser.login("olga@example.org", PASSWORD)
    browser.post("/language", {"language": "ru", "return_to": "/dashboard/"})
    db.session.refresh(user)
    assert user.language == "ru"
    event = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "account.profile_updated")
    ).scalar_one()
    assert event.detail["changes"]["language"] == ["en", "ru"]


# --- (d) Dates, numbers and countries the reader's way ---------------------------------


@pytest.fixture
def reader(app):
    """Act as a signed-in person with a language and a time zone, outside any page."""

    def as_reader(language: str, timezone: str):
        user = make_user(language=language, timezone=timezone)
        context = app.test_request_context("/")
        context.push()
        login_user(user)
        refresh()
        return context

    contexts = []
    yield lambda language, timezone: contexts.append(as_reader(language, timezone))
    for context in reversed(contexts):
        context.pop()


MOMENT = datetime(2027, 1, 31, 23, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("language", "timezone", "expected"),
    [
        ("en", "UTC", "Jan 31, 2027, 11:30:00\u202fPM (UTC)"),
        ("fr", "Europe/Paris", "1 févr. 2027, 00:30:00 (Europe/Paris)"),
        ("es", "America/Mexico_City", "31 ene 2027, 17:30:00 (America/Mexico_City)"),
        ("ru", "Europe/Moscow", "1 февр. 2027\u202fг., 02:30:00 (Europe/Moscow)"),
        ("zh", "Asia/Shanghai", "2027年2月1日 07:30:00 (Asia/Shanghai)"),
    ],
)
def test_times_are_in_the_readers_zone_and_language(reader, language, timezone, expected):
    reader(language, timezone)
    assert local_datetime(MOMENT) == expected


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_dates_read_as_babel_writes_them(reader, language):
    """local_datetime keeps Babel's patterns parsed; what it prints is Babel's own
    format_datetime, for every language and named format, across a change of summer time,
    and for a naive (UTC) value as SQLite may return one."""
    reader(language, "America/New_York")
    moments = [
        datetime(2027, 3, 14, 6, 59, tzinfo=UTC),  # 01:59 EST, the night clocks go forward
        datetime(2027, 3, 14, 7, 0, tzinfo=UTC),  # 03:00 EDT
        datetime(2027, 11, 7, 5, 30, tzinfo=UTC),  # 01:30 EDT, before they go back
        datetime(2027, 11, 7, 6, 30),  # naive: 01:30 EST
    ]
    for moment in moments:
        for format in ("full", "long", "medium", "short"):
            expected = format_datetime(moment, format)
            assert local_datetime(moment, format) == f"{expected} (America/New_York)"
    assert local_datetime(moments[0], "yyyy-MM-dd HH:mm") == "2027-03-14 01:59 (America/New_York)"


def test_state_badges_follow_the_language_of_each_request(app):
    """The badges are made once per language and state, never once for all languages."""
    from awards.nominations import STATE_LABELS
    from awards.templating import nomination_state_badge

    shown = {}
    for language in ("fr", "en", "fr", "es"):
        with app.test_request_context("/"), force_locale(language):
            badge = nomination_state_badge(NominationState.SUBMITTED)
            assert str(STATE_LABELS[NominationState.SUBMITTED]) in badge
            shown.setdefault(language, badge)
            assert badge == shown[language]
    assert len(set(shown.values())) == 3


def test_a_page_formats_with_its_readers_language_and_zone_found_once(app, reader):
    """A page's context carries the reader's language and zone (found once per page); the
    filter, country names, state badges and ``_`` give what the functions give, in a loop
    too. An email, rendered without the page's context, finds them itself."""
    from flask import render_template_string

    from awards.templating import nomination_state_badge

    reader("fr", "Europe/Paris")
    page = render_template_string(
        "{% set shown = 1 %}{% for m in moments %}{{ m | local_datetime('short') }}|"
        "{{ country_name('KE') }}|{{ nomination_state_badge(state) }}|{{ _('Language') }}|"
        "{{ ngettext('%(num)d nomination', '%(num)d nominations', 2) }}{% endfor %}",
        moments=[MOMENT],
        state=NominationState.SUBMITTED,
    )
    badge = nomination_state_badge(NominationState.SUBMITTED)
    assert page == (
        f"{local_datetime(MOMENT, 'short')}|{country_name('KE')}|{badge}|Langue|2 candidatures"
    )
    assert page.startswith("01/02/2027 00:30 (Europe/Paris)|Kenya|")
    email = app.jinja_env.from_string("{{ m | local_datetime }}").render(m=MOMENT)
    assert email == local_datetime(MOMENT) == "1 févr. 2027, 00:30:00 (Europe/Paris)"


def test_gettext_escapes_values_where_the_template_escapes(app, reader):
    reader("en", "UTC")
    from flask import render_template_string

    values = {"title": "<b>Bold</b>"}
    html = render_template_string(
        "{% for x in [1] %}{{ _('Nominations of %(title)s', title=title) }}{% endfor %}", **values
    )
    assert html == "Nominations of &lt;b&gt;Bold&lt;/b&gt;"
    text = app.jinja_env.from_string(
        "{% autoescape false %}{{ _('Nominations of %(title)s', title=title) }}{% endautoescape %}"
    ).render(_=i18n.catalogue_callables()["_"], **values)
    assert text == "Nominations of <b>Bold</b>"


def test_arabic_dates_read_in_arabic(reader):
    reader("ar", "Asia/Riyadh")
    shown = local_datetime(MOMENT)
    assert shown == "01\u200f/02\u200f/2027، 2:30:00 ص (Asia/Riyadh)"  # ص: before noon


def test_numbers_sizes_and_countries_follow_the_language(reader):
    question = Question(kind=QuestionKind.NUMBER, options={"minimum": 1000, "maximum": 2500.5})
    reader("fr", "Europe/Paris")
    assert question_hint(question) == "Entre 1\u202f000 et 2\u202f500,5."
    assert file_size(1536 * 1024) == "1,5\u202fMo"
    assert country_name("DE") == "Allemagne" and country_name("CI") == "Côte d’Ivoire"
    names = [name for _code, name in country_choices()]
    assert names == sorted(names, key=str.casefold) and "Allemagne" in names
    for language, germany in [("ar", "ألمانيا"), ("zh", "德国"), ("ru", "Германия")]:
        with force_locale(language):
            assert country_name("DE") == germany


def test_a_nomination_page_shows_the_deadline_in_utc_and_in_the_readers_zone(browser):
    edition = make_edition(
        2027, opens=datetime(2026, 10, 1, tzinfo=UTC), nominations_close_at=MOMENT
    )
    category = make_category(edition=edition)
    nominator = make_user("kenji@example.org", language="fr", timezone="Asia/Tokyo")
    nomination = make_nomination(category, nominator, nominee_country="JP")
    db.session.commit()
    browser.login("kenji@example.org", PASSWORD)
    page = browser.get(f"/nominations/{nomination.id}").get_data(as_text=True)
    assert "2027-01-31 23:30 UTC" in page
    assert "1 févr. 2027, 08:30:00 (Asia/Tokyo)" in page
    assert "Japon" in page


def test_templates_format_dates_with_the_shared_filters():
    """strftime in a template writes English-only, zone-less dates: use the filters."""
    offenders = [
        str(path.relative_to(ROOT))
        for path in all_templates()
        if ".strftime(" in path.read_text(encoding="utf-8")
    ]
    assert not offenders, "use | local_datetime or | utc_datetime in " + ", ".join(offenders)


# --- Right to left ---------------------------------------------------------------------


def test_arabic_pages_are_right_to_left_with_bootstraps_rtl_build(browser):
    page = browser.get("/account/login", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page
    assert "vendor/bootstrap/bootstrap.rtl.min.css" in page and "bootstrap.min.css" not in page
    css = browser.get("/static/vendor/bootstrap/bootstrap.rtl.min.css")
    assert css.status_code == 200 and b"Bootstrap" in css.data[:200]
    english = browser.get("/account/login", headers={"Accept-Language": "en"})
    assert "rtl" not in english.get_data(as_text=True).split("</head>")[0]


def test_names_typed_by_people_keep_their_direction(browser):
    category = make_category(title="Prix «Réemploi» 2027.")
    nominator = make_user("amal@example.org", language="ar", name="Amal O'Neil")
    nomination = make_nomination(category, nominator, state=NominationState.DRAFT)
    db.session.commit()
    browser.login("amal@example.org", PASSWORD)
    page = browser.get(f"/nominations/{nomination.id}").get_data(as_text=True)
    assert f'<bdi dir="auto">{nomination.reference}</bdi>' in page
    assert '<bdi dir="auto">Prix «Réemploi» 2027.</bdi>' in page
    dashboard = browser.get("/dashboard/").get_data(as_text=True)
    assert '<bdi dir="auto">Amal O&#39;Neil</bdi>' in dashboard
    profile = browser.get("/account/profile").get_data(as_text=True)
    assert re.search(r'<input[^>]*dir="auto"[^>]*id="name"|id="name"[^>]*dir="auto"', profile)


def test_stylesheet_uses_logical_properties():
    """Physical left/right in app.css would not flip for Arabic: use the logical properties."""
    css = (ROOT / "static" / "css" / "app.css").read_text(encoding="utf-8")
    physical = re.findall(
        r"[\w-]*(?:-left|-right)\s*:|(?<![\w-])(?:left|right)\s*:|"
        r"text-align\s*:\s*(?:left|right)|float\s*:\s*(?:left|right)",
        css,
    )
    assert not physical, f"use margin-inline-start, inset-inline-end... instead of {physical}"


def test_wtforms_messages_follow_the_reader_from_a_catalogue_read_once(app):
    """WTForms' own messages are in the reader's language; each language's catalogue is read
    once, not on every request that builds a form."""
    from flask_babel import force_locale
    from wtforms import SelectField

    from awards.forms import Form, _wtforms_catalogue, options

    class Choice(Form):
        class Meta:
            csrf = False

        pick = SelectField("Pick", choices=options([("a", "A")]))

    _wtforms_catalogue.cache_clear()
    said = {}
    for language in ("fr", "en", "fr", "es"):
        with app.test_request_context("/?pick=z"), force_locale(language):
            from flask import request

            form = Choice(request.args)
            assert not form.validate()
            said[language] = form.pick.errors[0]
    assert said == {
        "fr": "N'est pas un choix valide.",
        "en": "Not a valid choice.",
        "es": "Opción inválida.",
    }
    assert _wtforms_catalogue.cache_info().misses == 3
