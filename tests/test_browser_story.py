"""In real Chromium, one whole award: from a new edition to the public winners page.

The Secretariat opens an edition; a member administrator builds a category with its form and
rubric, which the Secretariat approves; two nominators submit, one in French and one in Arabic
(right to left); nominations close; the administrator screens both and has reviewers assigned
automatically; two reviewers score with the keyboard; the chair proposes a winner, which the
Secretariat approves and publishes. Every email goes through the outbox to a real SMTP server
on loopback, and the winners page answers 404 to visitors until the results are published.

Each person has their own browser context (cookies, language); screenshots of every step go
to test-artifacts/screenshots/<this test>/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from urllib.parse import urlsplit

import pytest
from flask_babel import force_locale, gettext, ngettext
from playwright.sync_api import expect
from sqlalchemy import select

from awards import assigning, lifecycle, outbox
from awards.extensions import db
from awards.models import (
    Category,
    CategoryState,
    Edition,
    Nomination,
    NominationState,
    Review,
    ReviewState,
    Role,
    User,
    utcnow,
)

from .browser import SCREENSHOTS
from .factories import PASSWORD, grant, make_org, make_user

SECRETARIAT = "sofia.lindqvist@example.org"
ADMIN = "amina.diallo@example.org"
NOMINATOR_FR = "camille.martin@example.org"
NOMINATOR_AR = "layla.haddad@example.org"
REVIEWERS = {"ravi.menon@example.org": "Ravi Menon", "ingrid.olsen@example.org": "Ingrid Olsen"}
CHAIR = "chen.wei@example.org"

TITLE = "UNEP Award for Circular Electronics"
NOMINEE_FR = "Atelier du Réemploi Numérique"
NOMINEE_AR = "جمعية الحاسوب الأخضر"
CITATION = "For giving **four thousand laptops** a second life in the schools of the Nile Delta."


def t(language: str, message: str, **values) -> str:
    """The interface text as someone reading ``language`` sees it."""
    with force_locale(language):
        return gettext(message, **values)


def utc_input(moment: datetime) -> str:
    """A moment as the edition page's datetime-local inputs take it (in UTC)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def reread() -> None:
    """End the test's own transaction, so that it reads what the live server committed."""
    db.session.rollback()


class People:
    """A browser context per person, in their language; screenshots in the test's folder."""

    def __init__(self, chromium, base_url: str, shots) -> None:
        self.chromium = chromium
        self.base_url = base_url
        self.shots = shots
        self.contexts = []

    def page(self, locale: str = "en-GB"):
        context = self.chromium.new_context(base_url=self.base_url, locale=locale)
        self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        shots = self.shots

        def snap(step: str) -> None:
            page.screenshot(path=str(shots / f"{step}.png"), full_page=True)

        page.snap = snap
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def people(chromium, running_server, request) -> Iterator[People]:
    shots = SCREENSHOTS / request.node.name
    shots.mkdir(parents=True, exist_ok=True)
    crowd = People(chromium, running_server.url, shots)
    yield crowd
    crowd.close()


def log_in(page, email: str, language: str = "en") -> None:
    page.goto("/account/login")
    page.get_by_label(t(language, "Email address")).fill(email)
    page.get_by_label(t(language, "Password"), exact=True).fill(PASSWORD)
    page.get_by_role("button", name=t(language, "Log in")).click()
    welcome = t(language, "Welcome, %(name)s", name="").strip()
    page.get_by_role("heading", level=1, name=welcome).wait_for()


def deliver(smtp) -> list[EmailMessage]:
    """Deliver what the outbox holds, as its worker's round would (new assignments announced
    first); the messages the server received."""
    before = len(smtp.messages)
    assigning.notify_new_assignments()
    db.session.commit()
    report = outbox.deliver_due()
    assert report.failed == 0 and report.retried == 0, report.errors
    reread()
    return smtp.messages[before:]


def to(messages: list[EmailMessage], address: str) -> list[EmailMessage]:
    return [message for message in messages if address in message["To"]]


def subjects(messages: list[EmailMessage], address: str) -> list[str]:
    return [" ".join(message["Subject"].split()) for message in to(messages, address)]


def dashboard(page) -> None:
    page.get_by_role("link", name="Dashboard", exact=True).click()
    page.get_by_role("heading", level=1).wait_for()


def nominate(page, language: str, email: str, nominee: str, answers: dict[str, str]) -> str:
    """From the public call to a submitted nomination, in ``language``; returns its reference."""
    page.goto("/")
    page.get_by_role("link", name=TITLE).click()
    page.get_by_role("link", name=t(language, "Nominate yourself")).click()
    page.get_by_label(t(language, "Nominee’s name")).fill(nominee)
    page.get_by_label(t(language, "Nominee’s country")).select_option(answers["country"])
    written_in = page.get_by_label(t(language, "Language of the nomination"))
    assert written_in.input_value() == language  # the profile's language comes first
    page.get_by_role("button", name=t(language, "Start the nomination")).click()
    page.get_by_role("button", name=t(language, "Save and review")).wait_for()
    heading = page.get_by_role("heading", level=1).inner_text()
    reference = re.search(r"EWA\d\d-UNEP-\d{4}", heading).group(0)

    page.get_by_label("Name of the initiative").fill(answers["name"])
    page.get_by_label("Summary of the results").fill(answers["summary"])
    page.get_by_label(answers["stage"], exact=True).check()
    page.snap(f"03-{language}-nomination-form")
    page.get_by_role("button", name=t(language, "Save and review")).click()
    submit = page.get_by_role("button", name=t(language, "Submit the nomination"))
    submit.wait_for()
    assert page.get_by_text(answers["summary"]).is_visible()
    submit.click()
    thanks = "Thank you. %(ref)s is submitted; a receipt is on its way to %(email)s."
    page.get_by_text(t(language, thanks, ref=reference, email=email)).wait_for()
    page.snap(f"03-{language}-submitted")
    return reference


def invite(page, email: str, role: str) -> None:
    """The administrator gives a committee seat from the category's committee page."""
    dashboard(page)
    page.get_by_role("link", name=f"Committee — {TITLE}").click()
    page.get_by_role("link", name="Invite a reviewer").click()
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Role", exact=True).select_option(label=role)
    assert page.get_by_label("Category (for committee roles)").input_value() != "0"
    page.get_by_role("button", name="Send invitation").click()
    page.get_by_text(f"{email} is now").wait_for()


def score(page, who: str, reference: str, scores: list[int], comment: str) -> None:
    """Score one assigned nomination with the keyboard alone, then submit the review."""
    page.get_by_role("link", name=reference).click()
    page.get_by_role("heading", level=1, name=f"Review of {reference}").wait_for()
    criteria = page.locator("fieldset.criterion")
    assert criteria.count() == len(scores)
    for index, value in enumerate(scores):
        # "Not scored yet" takes the focus; each arrow press moves one score up the scale.
        criteria.nth(index).get_by_label("Not scored yet").focus()
        for _ in range(value):
            page.keyboard.press("ArrowRight")
        assert criteria.nth(index).locator("input:checked").get_attribute("value") == str(value)
    page.keyboard.press("Tab")  # from the last criterion on to the comments
    page.keyboard.type(comment)
    page.snap(f"06-{who}-scores-{reference}")
    page.get_by_role("button", name="Submit review").click()
    page.get_by_text(f"Your review of {reference} is submitted").wait_for()


def test_the_whole_award_in_the_browser(tab, people, smtp):
    now = utcnow()
    year = now.year + 1
    code = f"EWA{year % 100:02d}"
    edition_name = f"E-waste Awards {year}"
    unep = make_org("UNEP", name="United Nations Environment Programme")
    secretariat = make_user(SECRETARIAT, name="Sofia Lindqvist")
    grant(secretariat, Role.SECRETARIAT)
    admin = make_user(ADMIN, name="Amina Diallo")
    grant(admin, Role.MEMBER_ADMIN, organisation=unep)
    make_user(NOMINATOR_FR, name="Camille Martin", language="fr", timezone="Europe/Paris")
    for email, name in REVIEWERS.items():
        make_user(email, name=name)
    make_user(CHAIR, name="Chen Wei")
    db.session.commit()

    # 1. The Secretariat opens the edition: nominations open since yesterday.
    log_in(tab, SECRETARIAT)
    tab.get_by_role("link", name="Editions and key dates").click()
    tab.get_by_role("link", name="Create an edition").click()
    tab.get_by_label("Name", exact=True).fill(edition_name)
    tab.get_by_label("Year", exact=True).fill(str(year))
    tab.get_by_label("Reference prefix").fill(code)
    tab.get_by_label("Event", exact=True).fill("World Economic Forum annual meeting")
    tab.get_by_label("Venue").fill("Davos")
    key_dates = {
        "Nominations open (UTC)": now - timedelta(days=1),
        "Nominations close (UTC)": now + timedelta(days=30),
        "Reviews close (UTC)": now + timedelta(days=60),
        "Announcement (UTC)": now + timedelta(days=90),
        "Ceremony (UTC)": now + timedelta(days=90, hours=3),
    }
    for label, moment in key_dates.items():
        tab.get_by_label(label).fill(utc_input(moment))
    tab.snap("01-edition")
    tab.get_by_role("button", name="Save edition").click()
    tab.get_by_text(f"Edition {edition_name} saved.").wait_for()
    reread()
    edition = db.session.execute(select(Edition)).scalar_one()
    assert (edition.code, edition.year) == (code, year)
    assert edition.nominations_open_at < utcnow() < edition.nominations_close_at

    # 2. The member administrator builds the category: details, form, rubric; submits it.
    admin_page = people.page()
    log_in(admin_page, ADMIN)
    admin_page.get_by_role("link", name=f"Create your category for {edition_name}").click()
    admin_page.get_by_label("Title", exact=True).fill(TITLE)
    admin_page.get_by_label("Theme", exact=True).fill("Electronics kept in use, out of dumps")
    admin_page.get_by_label("Description", exact=True).fill(
        "Recognises initiatives that give **electronics** a longer life."
    )
    admin_page.get_by_label("Eligibility", exact=True).fill("Organisations of any country.")
    admin_page.get_by_label("Reviewers per nomination").fill("2")
    admin_page.snap("02-category-details")
    admin_page.get_by_role("button", name="Create category").click()
    admin_page.get_by_text("Category created.").wait_for()
    reread()
    category = db.session.execute(select(Category)).scalar_one()
    assert category.state is CategoryState.DRAFT

    admin_page.get_by_role("link", name="Nomination form", exact=True).click()
    questions = [
        ("Short text", "Name of the initiative", {}),
        ("Long text", "Summary of the results", {"Word limit": "150"}),
        ("Single choice", "Stage of the initiative", {"Choices": "Pilot\nScaled up\nNationwide"}),
    ]
    for kind, label, settings in questions:
        admin_page.get_by_role("link", name=kind, exact=True).click()
        admin_page.get_by_label("Question", exact=True).fill(label)
        admin_page.get_by_label("An answer is required").check()
        for setting, value in settings.items():
            admin_page.get_by_label(setting, exact=True).fill(value)
        admin_page.get_by_role("button", name="Save question").click()
        expect(admin_page.get_by_role("table")).to_contain_text(label)
    admin_page.snap("02-category-form")

    admin_page.get_by_role("link", name="Rubric", exact=True).click()
    rubric = [("Environmental impact", "2"), ("Social inclusion", "1")]
    for title, weight in rubric:
        admin_page.get_by_role("link", name="Add a criterion").click()
        admin_page.get_by_label("Criterion", exact=True).fill(title)
        admin_page.get_by_label("Guidance for reviewers").fill("1: little evidence; 5: proven.")
        admin_page.get_by_label("Weight", exact=True).fill(weight)
        admin_page.get_by_role("button", name="Save criterion").click()
        expect(admin_page.get_by_role("table")).to_contain_text(title)
    admin_page.get_by_role("link", name="Preview", exact=True).click()
    assert admin_page.get_by_label("Scaled up").is_disabled()
    admin_page.snap("02-category-preview")
    admin_page.get_by_role("link", name="Overview", exact=True).click()
    admin_page.get_by_role("button", name="Submit for approval").click()
    admin_page.get_by_role("heading", level=1).wait_for()
    reread()
    assert db.session.get(Category, category.id).state is CategoryState.AWAITING_APPROVAL

    # ... and the Secretariat approves it: it opens.
    dashboard(tab)
    tab.get_by_role("link", name="Categories awaiting approval").click()
    tab.get_by_role("link", name=f"Approve or return {TITLE}").click()
    tab.snap("02-category-approval")
    tab.get_by_role("button", name="Approve and open").click()
    tab.get_by_role("heading", level=1, name="Categories awaiting approval").wait_for()
    reread()
    category = db.session.get(Category, category.id)
    assert category.state is CategoryState.OPEN
    assert lifecycle.accepting_nominations(category)
    approved = deliver(smtp)
    assert subjects(approved, ADMIN) and "approved" in subjects(approved, ADMIN)[0].lower()

    # 3. A French nominator logs in; an Arabic one registers, confirms the address, submits.
    french = people.page("fr-FR")
    log_in(french, NOMINATOR_FR, "fr")
    assert french.locator("html").get_attribute("lang") == "fr"
    reference_fr = nominate(
        french,
        "fr",
        NOMINATOR_FR,
        NOMINEE_FR,
        {
            "country": "FR",
            "name": "Ordinateurs pour tous",
            "summary": "Nous reconditionnons des ordinateurs pour les écoles de Lyon.",
            "stage": "Scaled up",
        },
    )

    (receipt_fr,) = to(deliver(smtp), NOMINATOR_FR)
    assert receipt_fr["Subject"] == t("fr", "Nomination %(ref)s received", ref=reference_fr)
    body_fr = smtp.text_of(receipt_fr)
    assert t("fr", "Hello %(name)s,", name="Camille Martin") in body_fr
    assert t("fr", "A copy of your answers:") in body_fr
    assert "Nous reconditionnons des ordinateurs pour les écoles de Lyon." in body_fr

    arabic = people.page("ar")
    arabic.goto("/account/register")
    assert arabic.locator("html").get_attribute("dir") == "rtl"
    arabic.get_by_label(t("ar", "Full name")).fill("ليلى حداد")
    arabic.get_by_label(t("ar", "Email address")).fill(NOMINATOR_AR)
    arabic.get_by_label(t("ar", "Password"), exact=True).fill(PASSWORD)
    arabic.get_by_label(t("ar", "Repeat the password")).fill(PASSWORD)
    arabic.snap("03-ar-register")
    arabic.get_by_role("button", name=t("ar", "Create account")).click()
    welcome = t("ar", "Welcome, %(name)s", name="ليلى حداد")
    arabic.get_by_role("heading", level=1, name=welcome).wait_for()
    reread()
    layla = db.session.execute(select(User).where(User.email == NOMINATOR_AR)).scalar_one()
    assert layla.language == "ar"  # from the browser's language, as she registered
    verification = to(deliver(smtp), NOMINATOR_AR)
    assert len(verification) == 1
    link = re.search(r"https?://\S+/verify/\S+", smtp.text_of(verification[0])).group(0)
    arabic.goto(urlsplit(link).path)
    arabic.get_by_text(
        t("ar", "Thank you, your email address %(email)s is confirmed.", email=NOMINATOR_AR)
    ).wait_for()
    assert arabic.locator("html").get_attribute("dir") == "rtl"
    reference_ar = nominate(
        arabic,
        "ar",
        NOMINATOR_AR,
        NOMINEE_AR,
        {
            "country": "EG",
            "name": "الحاسوب للجميع",
            "summary": "أعدنا تأهيل أربعة آلاف حاسوب محمول لمدارس دلتا النيل.",
            "stage": "Nationwide",
        },
    )
    assert arabic.locator("html").get_attribute("dir") == "rtl"
    assert reference_fr != reference_ar

    (receipt_ar,) = to(deliver(smtp), NOMINATOR_AR)
    assert receipt_ar["Subject"] == t("ar", "Nomination %(ref)s received", ref=reference_ar)
    by_reference = {n.reference: n for n in db.session.execute(select(Nomination)).scalars()}
    assert by_reference[reference_fr].language == "fr"
    assert by_reference[reference_ar].language == "ar"
    assert {n.state for n in by_reference.values()} == {NominationState.SUBMITTED}

    # 4. Time moves on: the Secretariat closes nominations on the edition's page.
    dashboard(tab)
    tab.get_by_role("link", name="Editions and key dates").click()
    tab.get_by_role("link", name=f"Edit {edition_name}").click()
    tab.get_by_label("Nominations close (UTC)").fill(utc_input(utcnow()))  # this minute
    tab.snap("04-nominations-closed")
    tab.get_by_role("button", name="Save edition").click()
    tab.get_by_text(f"Edition {edition_name} saved.").wait_for()
    reread()
    category = db.session.get(Category, category.id)
    assert not lifecycle.accepting_nominations(category)
    french.goto("/")
    french.get_by_role("link", name=TITLE).click()
    french.get_by_text(t("fr", "Nominations for this award are closed.")).wait_for()

    # The administrator screens both nominations as eligible.
    for reference in (reference_fr, reference_ar):
        dashboard(admin_page)
        admin_page.get_by_role("link", name=f"Nominations — {TITLE}").click()
        admin_page.get_by_role("link", name=reference).click()
        if reference == reference_ar:
            # An Arabic name in an English page stays on the line of its label.
            nominee = admin_page.locator("dl.row").first
            label, value = nominee.locator("dt").first, nominee.locator("dd").first
            assert value.get_attribute("dir") == "auto"
            assert abs(label.bounding_box()["y"] - value.bounding_box()["y"]) < 2
        admin_page.get_by_label("Eligible: the nomination goes on to the committee").check()
        admin_page.snap(f"04-screening-{reference}")
        admin_page.get_by_role("button", name="Record the decision").click()
        admin_page.get_by_text(f"{reference} is marked eligible.").wait_for()
    reread()
    assert {n.state for n in db.session.execute(select(Nomination)).scalars()} == {
        NominationState.ELIGIBLE
    }

    # Nominations closed and all screened: the administrator starts the review.
    admin_page.goto(f"/manage/categories/{category.id}")
    admin_page.snap("04-start-review")
    admin_page.get_by_role("button", name="Start the review").click()
    admin_page.get_by_text("The review has started").wait_for()
    reread()
    assert db.session.get(Category, category.id).state is CategoryState.IN_REVIEW

    # 5. The committee: two reviewers, assigned automatically (compute, then approve) ...
    for email in REVIEWERS:
        invite(admin_page, email, "Committee reviewer")
    dashboard(admin_page)
    admin_page.get_by_role("link", name=f"Assignments — {TITLE}").click()
    admin_page.get_by_role("button", name="Compute a proposal").click()
    admin_page.get_by_text("4 new assignments are proposed.").wait_for()
    admin_page.snap("05-assignment-proposal")
    admin_page.get_by_role("button", name="Approve and save").click()
    admin_page.get_by_text("4 assignment(s) saved").wait_for()
    admin_page.snap("05-assignments")
    # ... and a chair, who leads the decisions without reviewing.
    invite(admin_page, CHAIR, "Committee chair")
    committee_mail = deliver(smtp)
    for email in REVIEWERS:
        assert ngettext(
            "%(num)d nomination to review for %(title)s",
            "%(num)d nominations to review for %(title)s",
            2,
            title=TITLE,
        ) in subjects(committee_mail, email)
    assert to(committee_mail, CHAIR)  # told of the new role

    # 6. Each reviewer scores both nominations with the keyboard and submits.
    marks = {
        "ravi.menon@example.org": {reference_ar: [5, 4], reference_fr: [3, 3]},
        "ingrid.olsen@example.org": {reference_ar: [4, 5], reference_fr: [3, 2]},
    }
    for email, their_marks in marks.items():
        page = people.page()
        log_in(page, email)
        page.get_by_role("link", name="Your reviews").first.click()
        for reference, scores in their_marks.items():
            score(page, email.split(".")[0], reference, scores, f"Evidence for {reference}.")
        page.get_by_text("2 of 2 reviews submitted").wait_for()
    reread()
    reviews = list(db.session.execute(select(Review)).scalars())
    assert len(reviews) == 4 and {r.state for r in reviews} == {ReviewState.SUBMITTED}

    # 7. The chair shortlists the best ranked, proposes it with a citation, sends it on.
    chair_page = people.page()
    log_in(chair_page, CHAIR)
    chair_page.get_by_role("link", name=f"Decisions — {TITLE}").click()
    ranking = chair_page.locator("#ranking tbody tr")
    expect(ranking.first).to_contain_text(reference_ar)
    chair_page.snap("07-decisions-ranking")
    chair_page.get_by_role("button", name=f"Shortlist {reference_ar}").click()
    chair_page.get_by_role("link", name=f"Propose {reference_ar}").click()
    assert chair_page.get_by_label("Winner", exact=True).is_checked()
    assert chair_page.get_by_label("Public name").input_value() == NOMINEE_AR
    chair_page.get_by_label("Citation").fill(CITATION)
    chair_page.snap("07-proposal")
    chair_page.get_by_role("button", name="Save the proposal").click()
    chair_page.get_by_text(f"Proposal for {reference_ar} saved.").wait_for()
    chair_page.get_by_role("button", name="Send the proposal to the Secretariat").click()
    chair_page.get_by_text("The proposal is with the Secretariat; we emailed it.").wait_for()
    chair_page.snap("07-proposal-sent")
    assert to(deliver(smtp), SECRETARIAT)  # the proposal, by email too

    # The Secretariat approves the proposal: the results are decided, still under embargo.
    dashboard(tab)
    tab.get_by_role("link", name="Proposals of winners to approve").click()
    expect(tab.locator(".proposal-review")).to_contain_text("four thousand laptops")
    tab.snap("07-proposal-to-approve")
    tab.get_by_role("button", name="Approve the results").click()
    tab.get_by_text(f"The results of {TITLE} are approved.").wait_for()
    reread()
    assert db.session.get(Category, category.id).state is CategoryState.DECIDED
    assert to(deliver(smtp), CHAIR)  # the committee learns of the approval

    visitor = people.page()
    assert visitor.goto(f"/editions/{year}/winners").status == 404
    visitor.snap("07-embargo-visitor-404")
    assert arabic.goto(f"/editions/{year}/winners").status == 404  # the winner too
    visitor.goto("/winners")
    assert NOMINEE_AR not in visitor.content()

    # 8. The Secretariat reviews the preview and publishes.
    tab.goto(f"/editions/{year}/winners")
    tab.get_by_text("Embargoed until").wait_for()
    tab.snap("08-embargoed-preview")
    tab.get_by_role("link", name="Review and publish the results").click()
    tab.get_by_role("heading", level=1, name=f"Publish the results of {edition_name}").wait_for()
    tab.snap("08-publish")
    tab.get_by_role("button", name="Publish the results now").click()
    tab.get_by_text("1 category published;").wait_for()
    tab.snap("08-published")
    reread()
    assert db.session.get(Category, category.id).state is CategoryState.PUBLISHED
    states = {n.reference: n.state for n in db.session.execute(select(Nomination)).scalars()}
    assert states == {
        reference_ar: NominationState.WINNER,
        reference_fr: NominationState.NOT_SELECTED,
    }

    # 9. The emails of the results: congratulations, thanks to the others and the committee.
    results = deliver(smtp)
    assert subjects(results, NOMINATOR_AR) == [
        t("ar", "Congratulations: %(name)s wins the %(award)s", name=NOMINEE_AR, award=TITLE)
    ]
    assert subjects(results, NOMINATOR_FR) == [
        t("fr", "The winners of the %(award)s are announced", award=TITLE)
    ]
    (congratulations,) = to(results, NOMINATOR_AR)
    assert "four thousand laptops" in smtp.text_of(congratulations)
    winner_link = re.search(
        r"https?://\S+/editions/\d+/winners/[A-Z0-9-]+(?=\s)", smtp.text_of(congratulations)
    )
    (thanks_fr,) = to(results, NOMINATOR_FR)
    assert reference_fr in smtp.text_of(thanks_fr)
    assert t("fr", "See the winners:") in smtp.text_of(thanks_fr)
    for email in (*REVIEWERS, CHAIR):
        assert subjects(results, email) == [f"Thank you from the {edition_name}"]
    assert not to(results, ADMIN) and not to(results, SECRETARIAT)

    # 10. The public winners page, for a visitor: the winner and the citation.
    assert visitor.goto(f"/editions/{year}/winners").status == 200
    visitor.get_by_text(NOMINEE_AR).first.wait_for()
    assert visitor.locator("strong", has_text="four thousand laptops").first.is_visible()
    assert "Embargoed" not in visitor.content()
    visitor.snap("10-public-winners")
    # The page the congratulations link to, to share.
    assert visitor.goto(urlsplit(winner_link.group(0)).path).status == 200
    visitor.get_by_role("heading", level=1, name=NOMINEE_AR).wait_for()
    visitor.snap("10-public-winner")
