"""Every page, in English and in Arabic, checked by axe-core in real headless Chromium.

WCAG 2.1 A and AA rules must find nothing. The data is the demo edition, loaded once for the
module; one server and one browser serve every page, one signed-in browser context per person
and language. To check a new page, add one line to ``PAGES``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlalchemy import select, update

from awards import accounts, announcements, demo, tokens
from awards.extensions import db, limiter
from awards.models import (
    AnnouncementSubscriber,
    Assignment,
    Category,
    CategoryState,
    Criterion,
    Edition,
    Nomination,
    NominationState,
    Organisation,
    OutboxMessage,
    Question,
    Role,
    User,
    utcnow,
)

from .conftest import _empty_tables, csrf_token_from
from .factories import make_nomination, make_user

VISITOR = "visitor"
NOMINATOR = "nominator@example.org"
REVIEWER = "reviewer1.itu@example.org"
CHAIR = "chair.itu@example.org"
ADMIN = "admin.itu@example.org"
SECRETARIAT = "secretariat@example.org"
# The chair of a category in review whose proposal is still being written (set up below).
DECIDING_CHAIR = "chair.unep@example.org"

# Who looks at which page. Placeholders are filled from the demo data (see ``demo_site``).
# The winners pages show the demo's 2026 edition, published long ago.
PAGES: dict[str, list[str]] = {
    VISITOR: [
        "/",
        "/about",
        "/awards/EWA27/{itu_slug}",
        "/account/login",
        "/account/register",
        "/account/forgot",
        "/account/reset/{reset_token}",
        "/account/invitation/{invitation_token}",
        "/no/such/page",
        "/winners",
        "/editions/2026/winners",
        "/editions/2026/winners/{past_winner}",
        "/editions/2026/winners/{past_mention}",
        "/announcements/",
        "/announcements/confirm/{confirm_token}",
        "/announcements/unsubscribe/{unsubscribe_token}",
    ],
    NOMINATOR: [
        "/dashboard/",
        "/account/profile",
        "/account/password",
        "/nominations/",
        "/nominations/new/{itu_category}?for=other",
        "/nominations/{own_draft}/edit",
        "/nominations/{own_draft}",
        "/nominations/{own_eligible}",
        "/account/data",
    ],
    REVIEWER: [
        "/dashboard/",
        "/review/",
        "/review/profile",
        "/review/categories/{itu_category}/bids",
        "/review/nominations/{reviewed}",
        "/review/nominations/{reviewed}/conflict",
    ],
    CHAIR: [
        "/dashboard/",
        "/manage/categories/{itu_category}/results",
        "/manage/categories/{itu_category}/results/reviewers",
        "/manage/categories/{itu_category}/decisions",
    ],
    DECIDING_CHAIR: [
        "/manage/categories/{deciding}/decisions",
        "/manage/categories/{deciding}/decisions/{shortlisted}",
    ],
    ADMIN: [
        "/dashboard/",
        "/manage/organisations/{itu_org}",
        "/manage/invite",
        "/manage/categories/{itu_category}",
        "/manage/categories/{itu_category}/edit",
        "/manage/categories/{itu_category}/form",
        "/manage/categories/{itu_category}/questions/new?kind=single_choice",
        "/manage/categories/{itu_category}/questions/new?kind=file",
        "/manage/categories/{itu_category}/questions/{question}/edit",
        "/manage/categories/{itu_category}/questions/{question}/remove",
        "/manage/categories/{itu_category}/preview",
        "/manage/categories/{itu_category}/rubric",
        "/manage/categories/{itu_category}/criteria/new",
        "/manage/categories/{itu_category}/criteria/{criterion}/edit",
        "/manage/categories/{itu_category}/criteria/{criterion}/remove",
        "/manage/categories/{itu_category}/nominations",
        "/manage/categories/{itu_category}/nominations/{own_eligible}",
        "/manage/categories/{itu_category}/committee",
        "/manage/categories/{itu_category}/assignments",
        "/manage/categories/{itu_category}/results",
        "/manage/categories/{itu_category}/decisions",
    ],
    SECRETARIAT: [
        "/dashboard/",
        "/secretariat/",
        "/secretariat/editions",
        "/secretariat/editions/new",
        "/secretariat/editions/{edition}/edit",
        "/secretariat/organisations",
        "/secretariat/organisations/new",
        "/secretariat/organisations/{itu_org}/edit",
        "/secretariat/users",
        "/secretariat/users/{nominator}",
        "/secretariat/audit",
        "/secretariat/outbox/",
        "/secretariat/outbox/{message}",
        "/manage/categories/approvals",
        "/manage/categories/{awaiting}/approval",
        "/manage/categories/new/{partner_org}",
        "/manage/categories/{proposed}/decisions",
        "/secretariat/editions/{edition}/proposals",
        "/secretariat/editions/{edition}/overview",
        "/secretariat/editions/{edition}/publish",
        "/secretariat/editions/{past_edition}/publish",
        "/secretariat/notices/",
        "/secretariat/notices/winner/en",
        "/secretariat/notices/announcement/ar",
        "/secretariat/announcements",
        "/secretariat/users/{nominator}/erase",
        "/secretariat/users/{erasable}/erase",
    ],
}

# Forms sent empty, so that the error summary and the fields in error are checked too.
INVALID_FORMS: dict[str, list[str]] = {
    VISITOR: ["/account/register", "/account/login", "/announcements/"],
    NOMINATOR: ["/account/password"],
    DECIDING_CHAIR: ["/manage/categories/{deciding}/decisions/{shortlisted}"],
    SECRETARIAT: ["/secretariat/editions/new", "/secretariat/users/{erasable}/erase"],
}

LANGUAGES = ("en", "ar")
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE = Axe()


def _cases(pages: dict[str, list[str]]) -> list:
    return [
        pytest.param(language, who, url, id=f"{language}-{who.split('@')[0]}-{url}")
        for language in LANGUAGES
        for who, urls in pages.items()
        for url in urls
    ]


# --- One site for the module -------------------------------------------------------------


@pytest.fixture(autouse=True)
def _clean_database(app):
    """Replaces the per-test emptying: the demo is loaded once and emptied after the module."""
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture(scope="module")
def demo_site(app) -> Iterator[dict[str, str]]:
    with app.app_context():
        limiter.reset()
        demo.load()
        db.session.commit()
        yield _placeholders()
        db.session.remove()
        _empty_tables()
        limiter.reset()


def _one(statement):
    return db.session.execute(statement.limit(1)).scalar_one()


def _category_of(member: str, year: int = 2027) -> Category:
    return _one(
        select(Category)
        .join(Organisation)
        .join(Edition)
        .where(Organisation.short_name == member, Edition.year == year)
    )


def _past_award(state: NominationState) -> str:
    """The reference of a published 2026 award, as its page's address has it."""
    return _one(
        select(Nomination.reference)
        .join(Category)
        .join(Edition)
        .where(Edition.year == 2026, Nomination.state == state)
        .order_by(Nomination.id)
    )


def _placeholders() -> dict[str, str]:
    itu = _category_of("ITU")
    nominator = _one(select(User).where(User.email == NOMINATOR))
    reviewer = _one(select(User).where(User.email == REVIEWER))
    secretariat = _one(select(User).where(User.email == SECRETARIAT))
    partner = _one(select(Organisation).where(Organisation.short_name == "WEF"))
    # Test data, set rather than transitioned: the UNIDO category waits for the Secretariat's
    # approval; the UNEP one is in review, its committee writing the proposal for a shortlisted
    # nomination (the demo's WHO category has already sent its proposal to the Secretariat).
    awaiting = _category_of("UNIDO")
    awaiting.state = CategoryState.AWAITING_APPROVAL
    deciding = _category_of("UNEP")
    deciding.state = CategoryState.IN_REVIEW
    shortlisted = make_nomination(
        deciding,
        nominator,
        state=NominationState.SHORTLISTED,
        nominee_organisation="Lagos Repair Collective",
        nominee_country="NG",
    )
    # Someone whom nothing keeps from being erased: the erase page shows its form.
    erasable = make_user("former.nominator@example.org", name="Jun Tanaka")
    # Readers of the announcement list: one still to confirm, one on the list.
    joining = AnnouncementSubscriber(email="joining@example.org", language="en")
    reader = AnnouncementSubscriber(
        email="reader@example.org", language="en", confirmed_at=utcnow()
    )
    db.session.add_all([joining, reader])
    db.session.flush()
    invited = accounts.invite(
        "new.reviewer@example.org",
        "Ana Pereira",
        accounts.GrantScope(Role.REVIEWER, None, itu),
        invited_by=secretariat,
    )
    reviewed = _one(
        select(Assignment.nomination_id)
        .where(Assignment.reviewer_id == reviewer.id)
        .order_by(Assignment.nomination_id)
    )
    own = select(Nomination).where(Nomination.nominator_id == nominator.id)
    values = {
        "itu_slug": itu.slug,
        "itu_category": itu.id,
        "itu_org": itu.organisation_id,
        "partner_org": partner.id,
        "edition": itu.edition_id,
        "awaiting": awaiting.id,
        "deciding": deciding.id,
        "shortlisted": shortlisted.id,
        "proposed": _category_of("WHO").id,
        "past_edition": _one(select(Edition.id).where(Edition.year == 2026)),
        "past_winner": _past_award(NominationState.WINNER),
        "past_mention": _past_award(NominationState.HONOURABLE_MENTION),
        "erasable": erasable.id,
        "confirm_token": announcements.confirm_token(joining),
        "unsubscribe_token": announcements.unsubscribe_token(reader),
        "question": _one(select(Question.id).where(Question.category_id == itu.id)),
        "criterion": _one(select(Criterion.id).where(Criterion.category_id == itu.id)),
        "own_draft": _one(own.where(Nomination.state == NominationState.DRAFT)).id,
        "own_eligible": _one(own.where(Nomination.state == NominationState.ELIGIBLE)).id,
        "reviewed": reviewed,
        "nominator": nominator.id,
        "message": _one(select(OutboxMessage.id)),
        "reset_token": tokens.make_token(nominator, tokens.RESET_PASSWORD),
        "invitation_token": tokens.make_token(invited, tokens.ACCEPT_INVITATION),
    }
    db.session.commit()
    return {key: str(value) for key, value in values.items()}


@pytest.fixture(scope="module")
def contexts(chromium, running_server, demo_site) -> Iterator[dict]:
    """One browser context per (person, language), created on first use."""
    opened: dict = {}

    def context_for(who: str, language: str):
        if (who, language) not in opened:
            context = chromium.new_context(
                base_url=running_server.url, locale="ar-EG" if language == "ar" else "en-GB"
            )
            if who != VISITOR:
                _log_in(context, who)
            opened[who, language] = context
        return opened[who, language]

    yield context_for
    for context in opened.values():
        context.close()


def _log_in(context, email: str) -> None:
    page = context.new_page()
    page.goto("/account/login")
    response = context.request.post(
        "/account/login",
        form={
            "csrf_token": csrf_token_from(page.content()),
            "email": email,
            "password": demo.DEMO_PASSWORD,
        },
        max_redirects=0,
    )
    assert response.status == 302, f"{email} could not log in"
    page.close()


def _speak(who: str, language: str) -> None:
    """The profile's language wins over the browser's, so set it to the language under test."""
    if who != VISITOR:
        db.session.execute(update(User).where(User.email == who).values(language=language))
        db.session.commit()


# --- Checks --------------------------------------------------------------------------------


def _violations(page) -> str:
    results = AXE.run(page, options={"runOnly": {"type": "tag", "values": WCAG_21_AA}})
    return results.generate_report() if results.violations_count else ""


def _structure(page) -> dict:
    return page.evaluate(
        """() => ({
            h1: document.querySelectorAll('h1').length,
            lang: document.documentElement.lang,
            dir: document.documentElement.dir,
            firstLink: document.querySelector('body a')?.getAttribute('href'),
            main: document.querySelectorAll('main#main').length,
            ids: [...document.querySelectorAll('[id]')].map(e => e.id),
            rtlSheet: [...document.styleSheets].some(s => (s.href || '').includes('.rtl.')),
        })"""
    )


def _check_page(page, language: str, url: str) -> None:
    facts = _structure(page)
    assert facts["h1"] == 1, f"{url}: {facts['h1']} h1 elements"
    assert facts["firstLink"] == "#main" and facts["main"] == 1, f"{url}: no skip link to main"
    duplicates = {i for i in facts["ids"] if facts["ids"].count(i) > 1}
    assert not duplicates, f"{url}: duplicate ids {duplicates}"
    assert facts["lang"] == language
    assert facts["dir"] == ("rtl" if language == "ar" else "ltr")
    assert facts["rtlSheet"] == (language == "ar")
    report = _violations(page)
    assert not report, f"{url} ({language}):\n{report}"


@pytest.mark.parametrize(("language", "who", "url"), _cases(PAGES))
def test_page_has_no_accessibility_violation(
    contexts, demo_site, running_server, language, who, url
):
    _speak(who, language)
    page = contexts(who, language).new_page()
    try:
        address = url.format(**demo_site)
        response = page.goto(address)
        expected = 404 if url == "/no/such/page" else 200
        assert response.status == expected, f"{url}: {response.status}"
        # The page itself, not one it redirected to (a redirect would hide it from axe).
        assert page.url == running_server.url + address, f"{url}: redirected to {page.url}"
        _check_page(page, language, url)
    finally:
        page.close()


@pytest.mark.parametrize(("language", "who", "url"), _cases(INVALID_FORMS))
def test_form_errors_are_summarised_linked_and_accessible(contexts, demo_site, language, who, url):
    _speak(who, language)
    page = contexts(who, language).new_page()
    try:
        page.goto(url.format(**demo_site))
        # Submit without the browser's own checks, as a screen-reader user pressing Enter would
        # reach the server's messages.
        page.evaluate("document.querySelectorAll('form').forEach(f => f.noValidate = true)")
        page.locator("main form button[type=submit], main form input[type=submit]").first.click()
        page.wait_for_load_state()
        summary = page.locator(".error-summary")
        assert summary.count() == 1, f"{url}: no error summary"
        assert summary.get_attribute("role") == "alert"
        links = summary.locator("a")
        assert links.count() >= 1
        for index in range(links.count()):
            target = links.nth(index).get_attribute("href")
            assert re.fullmatch(r"#[\w-]+", target), target
            field = page.locator(target)
            assert field.count() == 1, f"{url}: the summary links to a missing field {target}"
            assert field.get_attribute("aria-invalid") == "true"
            described = (field.get_attribute("aria-describedby") or "").split()
            assert f"{target[1:]}-error" in described, f"{url}: {target} not tied to its error"
        _check_page(page, language, url)
    finally:
        page.close()


def test_the_skip_link_is_the_first_stop_and_moves_to_the_content(contexts, demo_site):
    page = contexts(VISITOR, "en").new_page()
    try:
        page.goto("/")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip-link"
        assert page.locator(".skip-link").is_visible()  # shown when focused
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
    finally:
        page.close()


def test_score_inputs_work_from_the_keyboard_in_arabic(contexts, demo_site):
    """Arrow keys move through a criterion's scores in a right-to-left page too."""
    _speak(REVIEWER, "ar")
    page = contexts(REVIEWER, "ar").new_page()
    try:
        page.goto(f"/review/nominations/{demo_site['reviewed']}")
        first = page.locator("fieldset.criterion input[type=radio]").first
        group = first.get_attribute("name")
        first.focus()
        page.keyboard.press("ArrowDown")
        focused = page.evaluate("[document.activeElement.name, document.activeElement.checked]")
        assert focused == [group, True]
        radios = page.locator(f"input[type=radio][name='{group}']")
        assert radios.nth(1).is_checked()
    finally:
        page.close()


def test_select_fields_write_options_as_wtforms_does(app):
    """The product's selects (OptionsSelect) write plain options themselves, faster; the HTML
    is WTForms' own, escaping and selection included, and options with attributes of their
    own are left to WTForms."""
    from wtforms import SelectField, SelectMultipleField, widgets
    from wtforms.fields.choices import SelectChoice

    from awards.forms import Form, OptionsSelect, options

    class Choices(Form):
        class Meta:
            csrf = False

        one = SelectField(
            "One",
            choices=options(
                [("", "Any"), ("a&b", 'A <&> "B"'), (3, "three"), (True, "yes"), ("n", "")]
            ),
        )
        many = SelectMultipleField(
            "Many", choices=options([("1", "one"), ("2", "two"), ("3", "three")])
        )
        marked = SelectField(
            "Marked",
            choices=[SelectChoice("x", "X", render_kw={"disabled": True}), SelectChoice("y", "Y")],
            default="y",
        )

    with app.test_request_context("/?one=3&many=1&many=3"):
        from flask import request

        form = Choices(request.args)
        ours = [form.one(), form.many(), form.marked()]
        assert all(isinstance(field.widget, OptionsSelect) for field in form)
        assert form.many.widget.multiple and not form.one.widget.multiple
        form.one.widget = widgets.Select()
        form.many.widget = widgets.Select(multiple=True)
        form.marked.widget = widgets.Select()
        assert ours == [form.one(), form.many(), form.marked()]
    assert '<option selected value="3">three</option>' in ours[0]
    assert '<option value="a&amp;b">A &lt;&amp;&gt; &#34;B&#34;</option>' in ours[0]
    assert '<option disabled value="x">X</option>' in ours[2]
