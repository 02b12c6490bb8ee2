"""The reviewer's side: scoring rules, bids, profile, blind review, conflicts, and every page."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, text

from awards import outbox, reviews
from awards.extensions import db
from awards.models import (
    Answer,
    Assignment,
    Attachment,
    AuditEvent,
    Bid,
    BidLevel,
    Category,
    CategoryState,
    Conflict,
    Criterion,
    Nomination,
    NominationState,
    Organisation,
    OutboxMessage,
    Question,
    QuestionKind,
    Review,
    ReviewState,
    Role,
    Score,
    User,
    utcnow,
)
from awards.uploads import upload_folder

from .factories import (
    PASSWORD,
    assign,
    conflict,
    grant,
    make_category,
    make_criterion,
    make_edition,
    make_nomination,
    make_org,
    make_user,
)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

# What a blind reviewer must never see.
NOMINEE = "Zanele Okonkwo-Lindqvist"
ORGANISATION = "Circuitry Renewal Collective"
NOMINEE_EMAIL = "zanele@renewal-collective.test"
FOUNDER = "Founded by Dr Amara Quistgaard"
WEBSITE = "https://renewal-collective.test/about-us"
EVIDENCE_NAME = "Okonkwo-annual-report-2026.pdf"
PHOTO_NAME = "team-photo-quistgaard.png"
NOMINATOR = "Bartholomew Nkemelu-Farsi"
SECRETS = [NOMINEE, ORGANISATION, NOMINEE_EMAIL, FOUNDER, WEBSITE, EVIDENCE_NAME, PHOTO_NAME]


@dataclass
class Panel:
    category: Category
    nomination: Nomination
    reviewer: User
    impact: Criterion
    innovation: Criterion
    evidence: Attachment
    photo: Attachment
    admins: list[User]
    nominator: User
    organisation: Organisation


def _attach(nomination, question, name, content, mime) -> Attachment:
    stored = f"{nomination.id:08d}{question.id:08d}{len(name):016d}"
    (upload_folder() / stored).write_bytes(content)
    attachment = Attachment(
        nomination=nomination,
        question_id=question.id,
        original_filename=name,
        stored_name=stored,
        content_type=mime,
        size_bytes=len(content),
        sha256="0" * 64,
    )
    db.session.add(attachment)
    db.session.flush()
    return attachment


def make_panel(*, blind: bool = True, reviews_close_in=timedelta(days=20)) -> Panel:
    """A category in review with a form, a rubric, one nomination and an assigned reviewer."""
    now = utcnow()
    reviews_close = now + reviews_close_in
    edition = make_edition(
        opens=reviews_close - timedelta(days=60),
        nominations_close_at=reviews_close - timedelta(days=30),
        reviews_close_at=reviews_close,
    )
    organisation = make_org("ITU", name="International Telecommunication Union")
    category = make_category(
        organisation,
        edition,
        title="ITU Award for Circular ICT",
        blind_review=blind,
        topics=["Repair", "Recycling", "Policy"],
        state=CategoryState.IN_REVIEW,
    )
    form = [
        (QuestionKind.SHORT_TEXT, "Title of the initiative", False),
        (QuestionKind.SHORT_TEXT, "Who founded it", True),
        (QuestionKind.URL, "Website", True),
        (QuestionKind.LONG_TEXT, "Summary", False),
        (QuestionKind.FILE, "Evidence", False),
        (QuestionKind.FILE, "Photo of the team", True),
    ]
    questions = []
    for position, (kind, label, identifies) in enumerate(form):
        question = Question(
            category=category,
            kind=kind,
            label=label,
            position=position,
            identifies_nominee=identifies,
            options={"allowed_types": ["pdf", "png"]} if kind is QuestionKind.FILE else {},
        )
        db.session.add(question)
        questions.append(question)
    db.session.flush()
    impact = make_criterion(category, "Impact", (1, 5))
    impact.guidance = "**5**: changes how a whole country handles e-waste."
    innovation = make_criterion(category, "Innovation", (0, 10), weight=2.0)
    nominator = make_user("bart@example.org", name=NOMINATOR)
    nomination = make_nomination(
        category,
        nominator,
        state=NominationState.ELIGIBLE,
        nominee_name=NOMINEE,
        nominee_organisation=ORGANISATION,
        nominee_email=NOMINEE_EMAIL,
        self_nomination=False,
        nominee_country="ZA",
        topics=["Repair"],
    )
    values = [
        f"Laptops for schools, run by {NOMINEE}",
        FOUNDER,
        WEBSITE,
        "We refurbish 4,000 laptops a year for rural schools.",
    ]
    for question, value in zip(questions, values, strict=False):
        db.session.add(Answer(nomination=nomination, question_id=question.id, value=value))
    evidence = _attach(nomination, questions[4], EVIDENCE_NAME, PDF, "application/pdf")
    photo = _attach(nomination, questions[5], PHOTO_NAME, PNG, "image/png")
    reviewer = make_user("rev.one@example.org", name="Rita Reviewer")
    grant(reviewer, Role.REVIEWER, category=category)
    assign(reviewer, nomination)
    admins = [make_user("focal@example.org"), make_user("deputy@example.org")]
    for admin in admins:
        grant(admin, Role.MEMBER_ADMIN, organisation=organisation)
    db.session.commit()
    return Panel(
        category,
        nomination,
        reviewer,
        impact,
        innovation,
        evidence,
        photo,
        admins,
        nominator,
        organisation,
    )


@pytest.fixture
def panel() -> Panel:
    return make_panel()


def login(browser, user: User):
    response = browser.login(user.email, PASSWORD)
    assert response.status_code == 302, response.get_data(as_text=True)
    return browser


def the_assignment(panel: Panel) -> Assignment:
    return db.session.execute(
        select(Assignment).where(
            Assignment.reviewer_id == panel.reviewer.id,
            Assignment.nomination_id == panel.nomination.id,
        )
    ).scalar_one()


def stored_scores(panel: Panel) -> dict[str, int]:
    db.session.expire_all()
    review = the_assignment(panel).review
    if review is None:
        return {}
    return {score.criterion.title: score.value for score in review.scores}


def save(panel, scores, *, version=None, submit=False, comments="", now=None):
    assignment = the_assignment(panel)
    if version is None:
        version = reviews.review_version(assignment.review)
    return reviews.save_review(
        assignment, scores, comments, version, submit, panel.reviewer, now=now
    )


# --- Score validation --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("3", 3), (" 4 ", 4), (5, 5), ("1", 1), ("+2", 2), ("", None), (None, None)],
)
def test_scores_within_the_scale_are_accepted(panel, raw, expected):
    assert reviews.check_score(panel.impact, raw) == (expected, None)


@pytest.mark.parametrize("raw", ["0", "6", "-1", 99, 0])
def test_scores_outside_the_scale_are_refused_with_the_bounds(panel, raw):
    value, problem = reviews.check_score(panel.impact, raw)
    assert value is None
    assert problem == "The score for “Impact” must be between 1 and 5."


@pytest.mark.parametrize("raw", ["3.5", "3,0", "three", "1e1", 2.5, True, "٣", "0x3", "9" * 20])
def test_scores_that_are_not_whole_numbers_are_refused(panel, raw):
    value, problem = reviews.check_score(panel.impact, raw)
    assert value is None
    assert problem == "“Impact” takes a whole number from 1 to 5."


def test_out_of_range_score_stores_nothing(panel):
    assert save(panel, {panel.impact.id: "3"}) == {}
    db.session.commit()
    version = the_assignment(panel).review.version
    problems = save(panel, {panel.impact.id: "9", panel.innovation.id: "4"}, comments="Changed")
    assert problems == {f"c-{panel.impact.id}": "The score for “Impact” must be between 1 and 5."}
    db.session.rollback()
    assert stored_scores(panel) == {"Impact": 3}
    review = the_assignment(panel).review
    assert review.version == version and review.comments == ""


def test_a_draft_may_leave_criteria_open_but_a_submission_may_not(panel):
    assert save(panel, {panel.impact.id: "4"}, comments="  Solid.  ") == {}
    db.session.commit()
    review = the_assignment(panel).review
    assert review.state is ReviewState.DRAFT and review.submitted_at is None
    assert review.comments == "Solid."
    assert stored_scores(panel) == {"Impact": 4}

    problems = save(panel, {panel.impact.id: "4"}, submit=True)
    assert problems == {
        f"c-{panel.innovation.id}": "Give a score for “Innovation” to submit the review."
    }
    db.session.rollback()
    assert the_assignment(panel).review.state is ReviewState.DRAFT

    assert save(panel, {panel.impact.id: "4", panel.innovation.id: "10"}, submit=True) == {}
    db.session.commit()
    review = the_assignment(panel).review
    assert review.state is ReviewState.SUBMITTED and review.submitted_at is not None
    assert stored_scores(panel) == {"Impact": 4, "Innovation": 10}
    # The scale is copied beside each score, so the database can check it too.
    scales = {(s.scale_min, s.scale_max) for s in review.scores}
    assert scales == {(1, 5), (0, 10)}


def test_clearing_a_score_in_a_draft_removes_it(panel):
    save(panel, {panel.impact.id: "2", panel.innovation.id: "7"})
    db.session.commit()
    assert save(panel, {panel.impact.id: "", panel.innovation.id: "7"}) == {}
    db.session.commit()
    assert stored_scores(panel) == {"Innovation": 7}


def test_a_submitted_review_can_be_revised_until_reviews_close(panel):
    full = {panel.impact.id: "2", panel.innovation.id: "3"}
    assert save(panel, full, submit=True) == {}
    db.session.commit()
    # Revised and resubmitted.
    assert save(panel, {panel.impact.id: "5", panel.innovation.id: "3"}, submit=True) == {}
    db.session.commit()
    assert stored_scores(panel) == {"Impact": 5, "Innovation": 3}
    # Taken back to a draft, then submitted again, one second before the close.
    close = panel.category.edition.reviews_close_at
    assert save(panel, full, now=close - timedelta(seconds=1)) == {}
    db.session.commit()
    assert the_assignment(panel).review.state is ReviewState.DRAFT
    assert save(panel, full, submit=True, now=close - timedelta(seconds=1)) == {}
    db.session.commit()
    # At the close (checked in UTC on the server) nothing changes any more.
    for moment in (close, close + timedelta(days=3)):
        with pytest.raises(reviews.ReviewError, match="Reviews closed on"):
            save(panel, {panel.impact.id: "1", panel.innovation.id: "1"}, submit=True, now=moment)
    db.session.rollback()
    assert stored_scores(panel) == {"Impact": 2, "Innovation": 3}
    assert the_assignment(panel).review.state is ReviewState.SUBMITTED


def test_a_category_without_rubric_cannot_be_submitted(panel):
    db.session.delete(panel.impact)
    db.session.delete(panel.innovation)
    db.session.commit()
    with pytest.raises(reviews.ReviewError, match="no scoring rubric"):
        save(panel, {}, submit=True)


def test_saving_refused_when_no_longer_assigned_or_conflicted(panel):
    assignment = the_assignment(panel)
    other = make_user()
    grant(other, Role.REVIEWER, category=panel.category)
    with pytest.raises(reviews.ReviewError, match="no longer review"):
        reviews.save_review(assignment, {}, "", 0, False, other)
    conflict(panel.reviewer, panel.nomination)
    db.session.commit()
    with pytest.raises(reviews.ReviewError, match="no longer review"):
        save(panel, {panel.impact.id: "3"})


def test_stale_version_is_refused_and_keeps_the_stored_review(panel):
    save(panel, {panel.impact.id: "3"}, comments="first")
    db.session.commit()
    with pytest.raises(reviews.ReviewConflict, match="saved elsewhere"):
        save(panel, {panel.impact.id: "1"}, version=0, comments="second")
    with pytest.raises(reviews.ReviewConflict):
        save(panel, {panel.impact.id: "1"}, version=99)
    db.session.rollback()
    assert stored_scores(panel) == {"Impact": 3}
    assert the_assignment(panel).review.comments == "first"


def test_a_write_between_read_and_save_is_caught_by_the_version_column(panel, app):
    """The race the form's version cannot see: the row changes after it was read."""
    save(panel, {panel.impact.id: "3"})
    db.session.commit()
    assignment = the_assignment(panel)
    loaded_version = assignment.review.version
    with db.engine.begin() as connection:  # another worker saves meanwhile
        connection.execute(
            text("UPDATE reviews SET version = version + 1, comments = 'theirs' WHERE id = :id"),
            {"id": assignment.review.id},
        )
    with pytest.raises(reviews.ReviewConflict):
        reviews.save_review(
            assignment, {panel.impact.id: "1"}, "mine", loaded_version, False, panel.reviewer
        )
    db.session.expire_all()
    review = the_assignment(panel).review
    assert review.comments == "theirs" and review.version == loaded_version + 1
    assert stored_scores(panel) == {"Impact": 3}


def test_every_save_is_audited(panel):
    save(panel, {panel.impact.id: "3"})
    db.session.commit()
    save(panel, {panel.impact.id: "3", panel.innovation.id: "6"}, submit=True)
    db.session.commit()
    save(panel, {panel.impact.id: "3", panel.innovation.id: "6"})
    db.session.commit()
    actions = db.session.execute(
        select(AuditEvent.action, AuditEvent.actor_id)
        .where(AuditEvent.action.like("review.%"))
        .order_by(AuditEvent.id)
    ).all()
    assert actions == [
        ("review.saved", panel.reviewer.id),
        ("review.submitted", panel.reviewer.id),
        ("review.reopened", panel.reviewer.id),
    ]


# --- The reviewer's assignments ------------------------------------------------------------


def test_assignments_with_progress_in_one_query(panel):
    category = panel.category
    second = make_nomination(category, state=NominationState.ELIGIBLE)
    third = make_nomination(category, state=NominationState.SHORTLISTED)
    withdrawn = make_nomination(category, state=NominationState.WITHDRAWN)
    conflicted = make_nomination(category, state=NominationState.ELIGIBLE)
    for nomination in (second, third, withdrawn, conflicted):
        assign(panel.reviewer, nomination)
    conflict(panel.reviewer, conflicted)
    elsewhere = make_nomination(make_category(), state=NominationState.ELIGIBLE)
    assign(panel.reviewer, elsewhere)  # not on that committee: not listed
    db.session.commit()
    save(panel, {panel.impact.id: "3"})
    db.session.commit()
    assignment = db.session.execute(
        select(Assignment).where(Assignment.nomination_id == second.id)
    ).scalar_one()
    reviews.save_review(
        assignment, {panel.impact.id: 2, panel.innovation.id: 2}, "", 0, True, panel.reviewer
    )
    db.session.commit()
    db.session.expire_all()
    # Loaded before counting, with the grants, as signing in loads them for every request.
    assert panel.reviewer.email and panel.reviewer.grants

    statements = []

    def count(*args):
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        rows, progress = reviews.assignments_with_progress(panel.reviewer)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 1
    assert progress == {category.id: reviews.ReviewProgress(assigned=3, submitted=1, drafts=1)}
    assert [(r.reference, r.state, r.scored) for r in rows] == [
        (panel.nomination.reference, "draft", 1),
        (second.reference, "submitted", 2),
        (third.reference, "not_started", 0),
    ]
    assert all(row.nominee_name is None for row in rows)  # blind category

    work = reviews.committee_work(panel.reviewer)
    assert [(w.category.id, w.criteria, w.submitted, len(w.reviews)) for w in work] == [
        (category.id, 2, 1, 3)
    ]


# --- Blind view ----------------------------------------------------------------------------


def test_blind_view_hides_identity_identifying_answers_and_file_names(panel):
    view = reviews.blind_view(panel.nomination, panel.reviewer)
    assert view.blind and view.nominee_name is None and view.nominee_organisation is None
    assert view.title == panel.nomination.reference
    shown = repr(view.answers) + repr(view.files) + view.title
    for secret in SECRETS:
        assert secret not in shown
    by_label = {a.question.label: a for a in view.answers}
    assert by_label["Who founded it"].hidden and by_label["Website"].hidden
    assert by_label["Photo of the team"].hidden and by_label["Photo of the team"].files == ()
    # The name is taken out of answers that were not marked as identifying, too.
    assert by_label["Title of the initiative"].text == "Laptops for schools, run by [hidden]"
    assert by_label["Summary"].text.startswith("We refurbish 4,000 laptops")
    ref = panel.nomination.reference
    assert [f.name for f in view.files] == [f"{ref}-evidence-5.pdf"]
    assert view.file(panel.photo.id) is None  # an identifying file is not offered at all


def test_neutral_names_number_several_files_of_one_question(panel):
    question = next(q for q in panel.category.questions if q.label == "Evidence")
    _attach(panel.nomination, question, "Zanele-second.png", PNG, "image/png")
    db.session.commit()
    db.session.expire_all()
    names = [f.name for f in reviews.blind_view(panel.nomination, panel.reviewer).files]
    ref = panel.nomination.reference
    assert names == [f"{ref}-evidence-5.pdf", f"{ref}-evidence-5-2.png"]


def test_open_review_shows_everything():
    panel = make_panel(blind=False)
    view = reviews.blind_view(panel.nomination, panel.reviewer)
    assert not view.blind
    assert view.nominee_name == NOMINEE and view.nominee_organisation == ORGANISATION
    assert {f.name for f in view.files} == {EVIDENCE_NAME, PHOTO_NAME}
    assert not any(answer.hidden for answer in view.answers)


def test_administrators_see_a_blind_nomination_whole(panel):
    view = reviews.blind_view(panel.nomination, panel.admins[0])
    assert not view.blind and view.nominee_name == NOMINEE


# --- Bids ----------------------------------------------------------------------------------


def test_committee_members_bid_on_eligible_nominations(panel):
    bid = reviews.set_bid(panel.reviewer, panel.nomination, "eager")
    db.session.commit()
    assert bid.level is BidLevel.EAGER
    reviews.set_bid(panel.reviewer, panel.nomination, BidLevel.NOT_WILLING)
    db.session.commit()
    assert db.session.scalar(select(Bid.level)) is BidLevel.NOT_WILLING
    assert reviews.set_bid(panel.reviewer, panel.nomination, None) is None
    db.session.commit()
    assert db.session.scalar(select(func.count(Bid.id))) == 0
    assert (
        db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "bid.set"))
        == 3
    )


def test_bid_rules(panel):
    outsider = make_user()
    grant(outsider, Role.REVIEWER, category=make_category())
    submitted = make_nomination(panel.category, state=NominationState.SUBMITTED)
    conflicted = make_nomination(panel.category, state=NominationState.ELIGIBLE)
    conflict(panel.reviewer, conflicted)
    db.session.commit()
    with pytest.raises(reviews.ReviewError, match="Only members"):
        reviews.set_bid(outsider, panel.nomination, "eager")
    with pytest.raises(reviews.ReviewError, match="Only members"):
        reviews.set_bid(panel.nominator, panel.nomination, "eager")
    with pytest.raises(reviews.ReviewError, match="found eligible"):
        reviews.set_bid(panel.reviewer, submitted, "eager")
    with pytest.raises(reviews.ReviewError, match="conflict of interest"):
        reviews.set_bid(panel.reviewer, conflicted, "eager")
    with pytest.raises(reviews.ReviewError, match="eager, willing or not willing"):
        reviews.set_bid(panel.reviewer, panel.nomination, "keen")
    listed = [n.id for n, _ in reviews.biddable_nominations(panel.reviewer, panel.category)]
    assert listed == [panel.nomination.id]
    assert reviews.count_biddable(panel.reviewer, panel.category) == 1


def test_bids_count_leaves_out_only_conflicts_among_biddable_nominations(panel):
    """The count is the category's biddable nominations less the reviewer's conflicts among
    them: a conflict on a nomination that is not biddable, in another category, or of
    another reviewer takes nothing off."""
    other_reviewer = make_user()
    grant(other_reviewer, Role.REVIEWER, category=panel.category)
    elsewhere = make_nomination(make_category(), state=NominationState.ELIGIBLE)
    submitted = make_nomination(panel.category, state=NominationState.SUBMITTED)
    shortlisted = make_nomination(panel.category, state=NominationState.SHORTLISTED)
    conflicted = make_nomination(panel.category, state=NominationState.ELIGIBLE)
    theirs = make_nomination(panel.category, state=NominationState.ELIGIBLE)
    for nomination in (elsewhere, submitted, conflicted):
        conflict(panel.reviewer, nomination)
    conflict(other_reviewer, theirs)
    db.session.commit()
    listed = {n.id for n, _ in reviews.biddable_nominations(panel.reviewer, panel.category)}
    assert listed == {panel.nomination.id, shortlisted.id, theirs.id}
    assert reviews.count_biddable(panel.reviewer, panel.category) == 3
    assert reviews.count_biddable(other_reviewer, panel.category) == 3


# --- Profile -------------------------------------------------------------------------------


def test_reviewer_profile_languages_and_topics(panel):
    other = make_category(topics=["Health", "Repair"])
    grant(panel.reviewer, Role.CHAIR, category=other)
    db.session.commit()
    assert reviews.known_topics(panel.reviewer) == ["Repair", "Recycling", "Policy", "Health"]
    reviews.update_reviewer_profile(panel.reviewer, ["fr", "en", "ar"], ["Health", "Repair"])
    db.session.commit()
    assert panel.reviewer.review_languages == ["en", "fr", "ar"]
    assert panel.reviewer.review_topics == ["Repair", "Health"]
    with pytest.raises(reviews.ReviewError, match="not: de"):
        reviews.update_reviewer_profile(panel.reviewer, ["en", "de"], [])
    with pytest.raises(reviews.ReviewError, match="not: Astrology"):
        reviews.update_reviewer_profile(panel.reviewer, ["en"], ["Astrology"])
    db.session.rollback()
    assert panel.reviewer.review_languages == ["en", "fr", "ar"]


# --- Pages and permissions -----------------------------------------------------------------


def nomination_urls(panel: Panel) -> list[str]:
    base = f"/review/nominations/{panel.nomination.id}"
    return [base, f"{base}/attachments/{panel.evidence.id}", f"{base}/conflict"]


def test_anonymous_visitors_are_asked_to_log_in(browser, panel):
    for url in [
        "/review/",
        "/review/profile",
        f"/review/categories/{panel.category.id}/bids",
        *nomination_urls(panel),
    ]:
        response = browser.get(url)
        assert response.status_code == 302, url
        assert "/account/login" in response.headers["Location"]


@pytest.mark.parametrize("who", ["nominator", "other_committee", "unassigned", "conflicted"])
def test_nomination_routes_are_404_to_anyone_who_may_not_review(browser, panel, who):
    if who == "nominator":
        person = panel.nominator
    else:
        person = make_user()
        if who == "other_committee":
            grant(person, Role.REVIEWER, category=make_category())
        else:
            grant(person, Role.REVIEWER, category=panel.category)
        if who == "conflicted":
            assign(person, panel.nomination)
            conflict(person, panel.nomination)
    db.session.commit()
    login(browser, person)
    base = f"/review/nominations/{panel.nomination.id}"
    urls = [base, f"{base}/attachments/{panel.evidence.id}"]
    if who != "unassigned":  # an unassigned committee member may still declare a conflict
        urls.append(f"{base}/conflict")
    for url in urls:
        assert browser.get(url).status_code == 404, url
    response = browser.post(base, {"version": "0", f"c-{panel.impact.id}": "3"}, page="/about")
    assert response.status_code == 404
    assert db.session.scalar(select(func.count(Review.id))) == 0
    if who == "unassigned":
        assert browser.get(f"{base}/conflict").status_code == 200
    if who in ("nominator", "other_committee"):
        bids = browser.get(f"/review/categories/{panel.category.id}/bids")
        assert bids.status_code == 404


def test_assigned_reviewer_reaches_every_page(browser, panel):
    login(browser, panel.reviewer)
    for url in [
        "/review/",
        "/review/profile",
        f"/review/categories/{panel.category.id}/bids",
        *nomination_urls(panel),
    ]:
        assert browser.get(url).status_code == 200, url
    # A file of an identifying question, or of another nomination, is not there.
    base = f"/review/nominations/{panel.nomination.id}"
    assert browser.get(f"{base}/attachments/{panel.photo.id}").status_code == 404
    assert browser.get(f"{base}/attachments/999999").status_code == 404


def test_profile_is_for_committee_members(browser, panel):
    login(browser, panel.nominator)
    assert browser.get("/review/profile").status_code == 403
    assert "not on any award committee" in browser.get("/review/").get_data(as_text=True)


def test_dashboard_links_to_reviews_and_bids(browser, panel):
    login(browser, panel.reviewer)
    page = browser.get("/dashboard/").get_data(as_text=True)
    assert 'href="/review/"' in page
    assert f'href="/review/categories/{panel.category.id}/bids"' in page


def test_review_dashboard_shows_progress_and_deadline(browser, panel):
    panel.reviewer.timezone = "Africa/Johannesburg"
    db.session.commit()
    save(panel, {panel.impact.id: "3"})
    db.session.commit()
    login(browser, panel.reviewer)
    page = browser.get("/review/").get_data(as_text=True)
    assert "0 of 1 reviews submitted" in page and "1 draft" in page
    assert f'href="/review/nominations/{panel.nomination.id}"' in page
    close = panel.category.edition.reviews_close_at
    assert close.strftime("%Y-%m-%d %H:%M UTC") in page
    assert "Africa/Johannesburg" in page
    assert "1 of 2" in page  # criteria scored
    assert 'progress id="progress-' in page


def test_open_review_dashboard_rows_show_names_escaped(browser):
    """The dashboard's rows are written in Python: an open review shows the nominee, escaped,
    with the review's state and how many criteria are scored."""
    panel = make_panel(blind=False)
    panel.nomination.nominee_name = "<b>Bold</b> & Co"
    panel.reviewer.language = "fr"
    db.session.commit()
    login(browser, panel.reviewer)
    page = browser.get("/review/").get_data(as_text=True)
    assert "<b>Bold</b>" not in page
    row = page[page.index(f"<code>{panel.nomination.reference}</code>") :]
    row = row[: row.index("</tr>")]
    assert '<td dir="auto">&lt;b&gt;Bold&lt;/b&gt; &amp; Co</td>' in row
    assert "Pas commencée" in row  # the review's state, in the reader's language
    assert "<td>0 sur 2</td>" in row and "<td>—</td>" in row


def _more_assignments(panel, count: int) -> list:
    """``count`` more eligible nominations of the panel's category, assigned to its reviewer."""
    more = [make_nomination(panel.category, state=NominationState.ELIGIBLE) for _ in range(count)]
    for nomination in more:
        assign(panel.reviewer, nomination)
    db.session.commit()
    return more


def test_assignments_with_progress_pages_each_committee_and_counts_all_of_it(panel):
    more = _more_assignments(panel, 4)  # five in all, in reference order
    other = make_category(title="Second committee")
    grant(panel.reviewer, Role.REVIEWER, category=other)
    elsewhere = [make_nomination(other, state=NominationState.ELIGIBLE) for _ in range(3)]
    for nomination in elsewhere:
        assign(panel.reviewer, nomination)
    db.session.commit()
    save(panel, {panel.impact.id: "3"})
    db.session.commit()
    first = [panel.nomination, *more]

    rows, progress = reviews.assignments_with_progress(panel.reviewer, limit=2)
    assert [r.nomination_id for r in rows] == [n.id for n in first[:2] + elsewhere[:2]]
    assert progress == {
        panel.category.id: reviews.ReviewProgress(assigned=5, submitted=0, drafts=1),
        other.id: reviews.ReviewProgress(assigned=3),
    }
    rows, _ = reviews.assignments_with_progress(
        panel.reviewer, panel.category.id, offset=2, limit=2
    )
    assert [r.nomination_id for r in rows] == [n.id for n in first[2:4]]
    assert reviews.assignments_with_progress(panel.reviewer, other.id, offset=3)[0] == []
    # The counts cover every assignment, however few rows are asked for.
    assert reviews.assignments_with_progress(panel.reviewer, limit=1)[1] == progress


def test_dashboard_shows_the_first_assignments_and_links_to_all_of_them(
    browser, panel, monkeypatch
):
    from awards.views import review as review_views

    monkeypatch.setattr(reviews, "DASHBOARD_REVIEWS", 2)
    monkeypatch.setattr(review_views, "ASSIGNED_PER_PAGE", 2)
    more = _more_assignments(panel, 2)
    login(browser, panel.reviewer)
    page = browser.get("/review/").get_data(as_text=True)
    assert "0 of 3 reviews submitted" in page  # counted over all three
    assert f"/review/nominations/{more[0].id}" in page
    assert f"/review/nominations/{more[1].id}" not in page
    committee = f"/review/categories/{panel.category.id}/assigned"
    assert f'href="{committee}"' in page and "All 3 nominations assigned to you in" in page

    first = browser.get(committee).get_data(as_text=True)
    assert "0 of 3 reviews submitted" in first and "Page 1 of 2" in first
    assert f"/review/nominations/{more[1].id}" not in first
    last = browser.get(f"{committee}?page=7").get_data(as_text=True)  # past the end: the last
    assert "Page 2 of 2" in last and f"/review/nominations/{more[1].id}" in last
    assert f"/review/nominations/{panel.nomination.id}" not in last
    # Another committee's list is not this reviewer's to see.
    elsewhere = make_category(title="Not theirs")
    db.session.commit()
    assert browser.get(f"/review/categories/{elsewhere.id}/assigned").status_code == 404


def test_scoring_page_shows_rubric_and_keyboard_friendly_inputs(browser, panel):
    login(browser, panel.reviewer)
    page = browser.get(f"/review/nominations/{panel.nomination.id}").get_data(as_text=True)
    assert page.count("<h1") == 1
    assert "<strong>5</strong>: changes how a whole country" in page  # markdown guidance
    assert re.search(r"<fieldset[^>]*>\s*<legend[^>]*>Impact", page)
    for value in range(1, 6):
        assert f'type="radio" name="c-{panel.impact.id}" id="c-{panel.impact.id}-{value}"' in page
    for value in range(0, 11):
        assert f'id="c-{panel.innovation.id}-{value}" value="{value}"' in page
    assert "Score from 1 (lowest) to 5 (highest)." in page
    assert "Score from 0 (lowest) to 10 (highest)." in page
    assert 'name="version" type="hidden" value="0"' in page
    assert "Save draft" in page and "Submit review" in page
    assert " style=" not in page and "<script>" not in page


def post_scores(browser, panel, version, impact, innovation, *, submit=False, comments=""):
    url = f"/review/nominations/{panel.nomination.id}"
    data = {
        "version": str(version),
        f"c-{panel.impact.id}": impact,
        f"c-{panel.innovation.id}": innovation,
        "comments": comments,
    }
    data["submit_review" if submit else "save_draft"] = "1"
    return browser.post(url, data, page=url)


def test_scoring_through_the_page(browser, panel):
    login(browser, panel.reviewer)
    response = post_scores(browser, panel, 0, "4", "", comments="Good evidence.")
    assert response.status_code == 302
    assert stored_scores(panel) == {"Impact": 4}
    url = f"/review/nominations/{panel.nomination.id}"
    page = browser.get(url).get_data(as_text=True)
    assert "Your draft is saved" in page
    assert f'id="c-{panel.impact.id}-4" value="4" checked' in page
    assert 'name="version" type="hidden" value="1"' in page

    # Out of range and not a number: the page says which, and nothing is stored.
    response = post_scores(browser, panel, 1, "7", "2.5", submit=True)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Please correct the following" in page
    assert "The score for “Impact” must be between 1 and 5." in page
    assert "“Innovation” takes a whole number from 0 to 10." in page
    assert f'href="#c-{panel.impact.id}-none"' in page
    assert stored_scores(panel) == {"Impact": 4}

    response = post_scores(browser, panel, 1, "5", "9", submit=True, comments="Excellent.")
    assert response.status_code == 302 and response.headers["Location"].endswith("/review/")
    review = the_assignment(panel).review
    assert review.state is ReviewState.SUBMITTED and review.comments == "Excellent."
    assert stored_scores(panel) == {"Impact": 5, "Innovation": 9}
    page = browser.get("/review/").get_data(as_text=True)
    assert "is submitted" in page and "1 of 1 reviews submitted" in page


def test_two_sessions_saving_the_same_review(make_browser, panel):
    first, second = make_browser(), make_browser()
    login(first, panel.reviewer)
    login(second, panel.reviewer)
    url = f"/review/nominations/{panel.nomination.id}"
    for browser in (first, second):
        assert 'name="version" type="hidden" value="0"' in browser.get(url).get_data(as_text=True)
    assert post_scores(first, panel, 0, "2", "8", comments="From the laptop").status_code == 302
    response = post_scores(second, panel, 0, "5", "1", comments="From the phone")
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "saved elsewhere (perhaps in another tab)" in page
    assert "your changes were not saved" in page
    assert "From the phone" in page  # what they typed is shown so it is not lost
    assert f'id="c-{panel.impact.id}-2" value="2" checked' in page  # the stored review
    assert 'name="version" type="hidden" value="1"' in page
    assert stored_scores(panel) == {"Impact": 2, "Innovation": 8}
    assert the_assignment(panel).review.comments == "From the laptop"

    # Starting again from the stored review works.
    assert post_scores(second, panel, 1, "5", "1").status_code == 302
    assert stored_scores(panel) == {"Impact": 5, "Innovation": 1}


def test_saving_after_reviews_close_is_refused(browser):
    panel = make_panel(reviews_close_in=timedelta(days=20))
    login(browser, panel.reviewer)
    post_scores(browser, panel, 0, "3", "3")
    edition = panel.category.edition
    now = utcnow()
    edition.announcement_at = now + timedelta(days=1)
    edition.ceremony_at = now + timedelta(days=2)
    edition.reviews_close_at = now - timedelta(seconds=1)
    edition.nominations_close_at = now - timedelta(days=1)
    db.session.commit()
    url = f"/review/nominations/{panel.nomination.id}"
    page = browser.get(url).get_data(as_text=True)
    assert "Reviews have closed" in page and "Submit review" not in page
    assert f'id="c-{panel.impact.id}-3" value="3" checked disabled' in page
    response = post_scores(browser, panel, 1, "5", "5", submit=True)
    assert response.status_code == 302
    assert "Reviews closed on" in browser.get(url).get_data(as_text=True)
    assert stored_scores(panel) == {"Impact": 3, "Innovation": 3}
    assert the_assignment(panel).review.state is ReviewState.DRAFT


def test_reviewers_never_see_each_others_scores(browser, panel):
    colleague = make_user(name="Colin Colleague")
    grant(colleague, Role.REVIEWER, category=panel.category)
    theirs = assign(colleague, panel.nomination)
    review = Review(
        assignment=theirs,
        state=ReviewState.SUBMITTED,
        comments="COLLEAGUE-SECRET-COMMENT",
        submitted_at=utcnow(),
        scores=[Score(criterion_id=panel.innovation.id, scale_min=0, scale_max=10, value=7)],
    )
    db.session.add(review)
    db.session.commit()
    login(browser, panel.reviewer)
    for url in ["/review/", f"/review/nominations/{panel.nomination.id}"]:
        page = browser.get(url).get_data(as_text=True)
        assert "COLLEAGUE-SECRET-COMMENT" not in page and "Colin Colleague" not in page
        assert f'id="c-{panel.innovation.id}-7" value="7" checked' not in page


def test_bids_through_the_page(browser, panel):
    second = make_nomination(panel.category, state=NominationState.ELIGIBLE, nominee_name="Other")
    make_nomination(panel.category, state=NominationState.SUBMITTED, nominee_name="Unscreened")
    db.session.commit()
    login(browser, panel.reviewer)
    url = f"/review/categories/{panel.category.id}/bids"
    page = browser.get(url).get_data(as_text=True)
    assert panel.nomination.reference in page and second.reference in page
    assert "Unscreened" not in page
    assert f'href="/review/nominations/{second.id}/conflict"' in page
    response = browser.post(
        url, {f"bid-{panel.nomination.id}": "eager", f"bid-{second.id}": "not_willing"}, page=url
    )
    assert response.status_code == 302
    bids = dict(db.session.execute(select(Bid.nomination_id, Bid.level)).all())
    assert bids == {panel.nomination.id: BidLevel.EAGER, second.id: BidLevel.NOT_WILLING}
    page = browser.get(url).get_data(as_text=True)
    assert f'id="bid-{panel.nomination.id}-eager" value="eager" checked' in page

    response = browser.post(url, {f"bid-{second.id}": "keen"}, page=url)
    assert response.status_code == 400
    assert "Choose eager, willing or not willing." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Bid.id))) == 2


def test_open_bids_page_shows_and_escapes_what_people_typed(browser):
    """The bids rows are written in Python: names, organisations, topics and the error of a
    refused bid are escaped there, and an open review shows the nominee's column."""
    panel = make_panel(blind=False)
    hostile = make_nomination(
        panel.category,
        state=NominationState.ELIGIBLE,
        nominee_name="<script>alert(1)</script>",
        nominee_organisation='Repair & "Reuse"',
        topics=["<b>Repair</b>"],
    )
    db.session.commit()
    login(browser, panel.reviewer)
    url = f"/review/categories/{panel.category.id}/bids"
    page = browser.get(url).get_data(as_text=True)
    assert 'scope="col">Nominee' in page and NOMINEE in page and ORGANISATION in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Repair &amp; &#34;Reuse&#34;" in page and "&lt;b&gt;Repair&lt;/b&gt;" in page
    assert f'<legend class="visually-hidden">Your bid on {hostile.reference}</legend>' in page
    response = browser.post(url, {f"bid-{hostile.id}": "keen"}, page=url)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'<fieldset aria-describedby="bid-{hostile.id}-error">' in page
    assert f'<div id="bid-{hostile.id}-error" class="invalid-feedback d-block">' in page


def test_profile_through_the_page(browser, panel):
    login(browser, panel.reviewer)
    page = browser.get("/review/profile").get_data(as_text=True)
    assert "Languages you read" in page and "Recycling" in page and "Français" in page
    response = browser.post(
        "/review/profile",
        {"languages": ["en", "fr"], "topics": ["Recycling"]},
        page="/review/profile",
    )
    assert response.status_code == 302
    db.session.expire_all()
    user = db.session.get(User, panel.reviewer.id)
    assert user.review_languages == ["en", "fr"] and user.review_topics == ["Recycling"]
    response = browser.post(
        "/review/profile", {"languages": ["xx"], "topics": []}, page="/review/profile"
    )
    assert response.status_code == 400
    assert "Choose languages from the list" in response.get_data(as_text=True)


# --- Conflicts -----------------------------------------------------------------------------


def test_conflict_declared_after_assignment_withdraws_it_and_tells_the_admins(browser, panel, smtp):
    save(panel, {panel.impact.id: "3"})
    db.session.commit()
    login(browser, panel.reviewer)
    url = f"/review/nominations/{panel.nomination.id}/conflict"
    page = browser.get(url).get_data(as_text=True)
    assert "Declare a conflict with" in page
    response = browser.post(url, {"reason": ""}, page=url)
    assert response.status_code == 400
    assert "Say briefly why" in response.get_data(as_text=True)

    response = browser.post(url, {"reason": "She was my doctoral student."}, page=url)
    assert response.status_code == 302 and response.headers["Location"].endswith("/review/")
    assert db.session.scalar(select(func.count(Assignment.id))) == 0
    assert db.session.scalar(select(func.count(Review.id))) == 0
    recorded = db.session.execute(select(Conflict)).scalar_one()
    assert recorded.reason == "She was my doctoral student."

    messages = list(
        db.session.execute(
            select(OutboxMessage).where(OutboxMessage.template == "assignment_withdrawn")
        ).scalars()
    )
    assert sorted(m.to_address for m in messages) == sorted(a.email for a in panel.admins)
    assert outbox.deliver_due().sent >= 2
    for admin in panel.admins:
        (mail,) = smtp.to(admin.email)
        assert panel.nomination.reference in mail["Subject"]
        assert "Rita Reviewer" in smtp.text_of(mail)
        assert "doctoral student" not in smtp.text_of(mail)

    # The nomination is gone from every page of the reviewer.
    page = browser.get("/review/").get_data(as_text=True)
    assert "is recorded" in page and f"/review/nominations/{panel.nomination.id}" not in page
    bids = browser.get(f"/review/categories/{panel.category.id}/bids").get_data(as_text=True)
    assert panel.nomination.reference not in bids
    for url in nomination_urls(panel):
        assert browser.get(url).status_code == 404, url


# --- Blind mode leaks nothing --------------------------------------------------------------


def _headers_text(response) -> str:
    return "\n".join(f"{name}: {value}" for name, value in response.headers.items())


def assert_no_secrets(where: str, response) -> None:
    content = response.get_data()
    body = content.decode("utf-8", "replace") if b"\x00" not in content else ""
    headers = _headers_text(response)
    for secret in [*SECRETS, NOMINATOR]:
        for haystack in (body, headers):
            assert secret.lower() not in haystack.lower(), f"{secret!r} leaks in {where}"
        assert secret.encode() not in content, f"{secret!r} leaks in {where}"


def test_blind_mode_leaks_nothing_a_reviewer_can_request(browser, panel):
    other = make_nomination(
        panel.category,
        state=NominationState.ELIGIBLE,
        nominee_name="Another Nominee Ltd",
        nominee_organisation=ORGANISATION,
    )
    db.session.commit()
    login(browser, panel.reviewer)
    nomination_url = f"/review/nominations/{panel.nomination.id}"
    pages = [
        "/dashboard/",
        "/review/",
        "/review/profile",
        f"/review/categories/{panel.category.id}/bids",
        nomination_url,
        f"{nomination_url}/conflict",
        f"/review/nominations/{other.id}/conflict",
    ]
    seen = 0
    for url in pages:
        response = browser.get(url)
        assert response.status_code == 200, url
        assert_no_secrets(url, response)
        seen += 1

    # Every download the scoring page offers, under its neutral name.
    page = browser.get(nomination_url).get_data(as_text=True)
    downloads = re.findall(r'href="(/review/nominations/\d+/attachments/\d+)"', page)
    assert downloads == [f"{nomination_url}/attachments/{panel.evidence.id}"]
    for url in downloads:
        response = browser.get(url)
        assert response.status_code == 200
        assert response.get_data() == PDF
        disposition = response.headers["Content-Disposition"]
        assert disposition == f"attachment; filename={panel.nomination.reference}-evidence-5.pdf"
        assert_no_secrets(url, response)
    # The identifying photo cannot be fetched even by guessing its id.
    hidden = browser.get(f"{nomination_url}/attachments/{panel.photo.id}")
    assert hidden.status_code == 404
    assert_no_secrets("the hidden photo", hidden)

    # Pages that answer a form: errors, a saved draft, a version conflict.
    responses = {
        "invalid scores": post_scores(browser, panel, 0, "9", "x"),
        "draft saved": post_scores(browser, panel, 0, "3", "4"),
        "version conflict": post_scores(browser, panel, 0, "1", "1"),
        "empty conflict reason": browser.post(
            f"{nomination_url}/conflict", {"reason": ""}, page=f"{nomination_url}/conflict"
        ),
        "bids saved": browser.post(
            f"/review/categories/{panel.category.id}/bids",
            {f"bid-{other.id}": "willing"},
            page=f"/review/categories/{panel.category.id}/bids",
        ),
    }
    for where, response in responses.items():
        assert_no_secrets(where, response)
    for url in [nomination_url, "/review/", f"/review/categories/{panel.category.id}/bids"]:
        assert_no_secrets(f"{url} after saving", browser.get(url))
    # And after declaring a conflict, with its confirmation message.
    response = browser.post(
        f"/review/nominations/{other.id}/conflict",
        {"reason": "Competitor."},
        page=f"/review/nominations/{other.id}/conflict",
    )
    assert_no_secrets("conflict declared", response)
    assert_no_secrets("dashboard after the conflict", browser.get("/review/"))
    assert seen == len(pages)


def test_blind_reviewer_cannot_open_the_nominators_pages(browser, panel):
    login(browser, panel.reviewer)
    base = f"/nominations/{panel.nomination.id}"
    for url in [base, f"{base}/attachments/{panel.evidence.id}"]:
        response = browser.get(url)
        if response.status_code == 200:
            assert_no_secrets(url, response)


def test_open_review_pages_name_the_nominee(browser):
    panel = make_panel(blind=False)
    login(browser, panel.reviewer)
    page = browser.get(f"/review/nominations/{panel.nomination.id}").get_data(as_text=True)
    assert NOMINEE in page and FOUNDER in page and EVIDENCE_NAME in page
    response = browser.get(
        f"/review/nominations/{panel.nomination.id}/attachments/{panel.evidence.id}"
    )
    assert EVIDENCE_NAME in response.headers["Content-Disposition"]
