"""Personal data: a person downloads everything held about them; the Secretariat erases it
after an edition, keeping counts and published results."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from awards import accounts, audit, privacy, uploads
from awards.extensions import db
from awards.models import (
    Answer,
    Attachment,
    AuditEvent,
    Bid,
    BidLevel,
    Category,
    CategoryState,
    Conflict,
    Decision,
    DecisionKind,
    DecisionState,
    Nomination,
    NominationState,
    OutboxMessage,
    OutboxState,
    Question,
    QuestionKind,
    Review,
    ReviewState,
    Role,
    RoleGrant,
    Score,
    User,
    utcnow,
)

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
AMINA = "Amina Diallo-Okafor"
AMINA_EMAIL = "amina@example.org"


@dataclass
class World:
    edition_past: object
    category: Category
    published: Category
    questions: dict[str, Question]
    amina: User
    bob: User
    rita: User
    sec: User
    own: Nomination  # Amina's self-nomination
    named: Nomination  # Bob's nomination of Amina, a published winner
    other: Nomination  # Bob's nomination of someone else
    attachment: Attachment


def _question(category, kind, label, *, identifies=False, options=None) -> Question:
    question = Question(
        category=category,
        kind=kind,
        label=label,
        identifies_nominee=identifies,
        options=options or {},
        position=len(category.questions),
    )
    db.session.add(question)
    db.session.flush()
    return question


def _answer(nomination, question, value) -> None:
    db.session.add(Answer(nomination=nomination, question_id=question.id, value=value))


def build_world(*, ceremony_passed: bool = True) -> World:
    now = utcnow()
    opens = now - timedelta(days=400) if ceremony_passed else now - timedelta(days=10)
    edition = make_edition(opens=opens)
    itu = make_org("ITU", name="International Telecommunication Union")
    category = make_category(itu, edition, title="ITU Award", state=CategoryState.IN_REVIEW)
    published = make_category(
        make_org("UNEP"), edition, title="UNEP Award", state=CategoryState.PUBLISHED
    )
    questions = {
        "title": _question(category, QuestionKind.SHORT_TEXT, "Title"),
        "founder": _question(category, QuestionKind.SHORT_TEXT, "Founder", identifies=True),
        "summary": _question(category, QuestionKind.LONG_TEXT, "Summary"),
        "sector": _question(
            category,
            QuestionKind.SINGLE_CHOICE,
            "Sector",
            options={"choices": ["Public", "Private"]},
        ),
        "country": _question(category, QuestionKind.COUNTRY, "Country"),
        "tonnes": _question(category, QuestionKind.NUMBER, "Tonnes"),
        "birthday": _question(category, QuestionKind.DATE, "Founded on", identifies=True),
        "evidence": _question(
            category,
            QuestionKind.FILE,
            "Evidence",
            options={"allowed_types": ["pdf"], "max_size_mb": 1},
        ),
    }
    amina = make_user(AMINA_EMAIL, name=AMINA)
    bob = make_user("bob@example.org", name="Bob Nominator")
    rita = make_user("rita@example.org", name="Rita Reviewer")
    sec = make_user("sec@example.org", name="Sam Secretariat")
    grant(sec, Role.SECRETARIAT)
    grant(rita, Role.REVIEWER, category=category)
    grant(amina, Role.REVIEWER, category=published)

    own = make_nomination(
        category,
        amina,
        state=NominationState.ELIGIBLE,
        nominee_name=AMINA,
        nominee_organisation="Circuit Menders",
        nominee_email=AMINA_EMAIL,
        nominee_country="SN",
        self_nomination=True,
        screening_reason=f"Checked with {AMINA} by phone",
    )
    _answer(own, questions["title"], f"Repair cafés run by {AMINA}")
    _answer(own, questions["founder"], AMINA)
    _answer(own, questions["summary"], "We repair phones in Dakar.")
    _answer(own, questions["sector"], "Private")
    _answer(own, questions["country"], "SN")
    _answer(own, questions["tonnes"], 42)
    _answer(own, questions["birthday"], "1990-04-01")
    attachment = uploads.save_upload(
        own, questions["evidence"], FileStorage(io.BytesIO(PDF), "amina-cv.pdf"), amina
    )
    named = make_nomination(
        published,
        bob,
        state=NominationState.WINNER,
        nominee_name=AMINA,
        nominee_email="Amina@Example.org",
        self_nomination=False,
    )
    db.session.add(
        Decision(
            nomination=named,
            kind=DecisionKind.WINNER,
            citation="For repairing a city's phones.",
            public_name=AMINA,
            public_organisation="Circuit Menders",
            public_country="SN",
            state=DecisionState.APPROVED,
            approved_at=now - timedelta(days=100),
        )
    )
    other = make_nomination(
        category,
        bob,
        nominee_name="Carla Someone",
        nominee_email="carla@example.org",
        self_nomination=False,
    )
    # A review, with comments naming the nominee, and a conflict declared about her.
    impact = make_criterion(category, "Impact", (1, 5))
    review = Review(
        assignment=assign(rita, own),
        state=ReviewState.SUBMITTED,
        comments=f"{AMINA} has real impact.",
        submitted_at=now - timedelta(days=200),
        scores=[Score(criterion_id=impact.id, scale_min=1, scale_max=5, value=4)],
    )
    db.session.add(review)
    item = conflict(make_user("colin@example.org"), own)
    item.reason = f"I worked with {AMINA}"
    # Amina's own committee work, in the published category.
    mine = make_nomination(published, make_user("dev@example.org"), nominee_name="Dev Other")
    assign(amina, mine)
    db.session.add(Bid(reviewer_id=amina.id, nomination_id=mine.id, level=BidLevel.EAGER))
    conflict(amina, other).reason = "Bob is my cousin"
    # Her own actions and emails: an audited change with an address, and a reset link.
    event = audit.record("account.registered", amina, f"{AMINA_EMAIL} registered", actor=amina)
    event.ip_address = "203.0.113.7"
    audit.record("role.granted", amina, f"{AMINA_EMAIL} is now a reviewer", actor=sec)
    accounts.request_password_reset(AMINA_EMAIL)
    db.session.commit()
    return World(
        edition,
        category,
        published,
        questions,
        amina,
        bob,
        rita,
        sec,
        own,
        named,
        other,
        attachment,
    )


@pytest.fixture
def world() -> World:
    return build_world()


def login(browser, email: str):
    response = browser.login(email, PASSWORD)
    assert response.status_code == 302, "log-in failed"
    return browser


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


# --- The download ----------------------------------------------------------------------------


def test_personal_data_holds_everything_about_the_person(world):
    data = privacy.personal_data(world.amina)
    assert data["account"]["email"] == AMINA_EMAIL and data["account"]["name"] == AMINA
    assert "password" not in json.dumps(data["account"])
    assert {r["role"] for r in data["roles"]} == {"reviewer"}
    [own] = data["nominations_you_made"]
    assert own["reference"] == world.own.reference and own["nominated_by"] == "you"
    answers = {a["question"]: a["answer"] for a in own["answers"]}
    assert answers["Founder"] == AMINA and answers["Tonnes"] == 42
    [file] = own["attachments"]
    assert file["file_name"] == "amina-cv.pdf" and file["size_bytes"] == len(PDF)
    [named] = data["nominations_naming_you"]
    assert named["nominated_by"] == "Bob Nominator"
    assert named["published_result"]["citation"] == "For repairing a city's phones."
    assert world.other.reference not in json.dumps(data["nominations_naming_you"])
    [review] = data["reviews_you_wrote"]
    assert review["review"] is None and review["category"] == "UNEP Award"
    assert data["bids"][0]["level"] == "eager"
    assert data["conflicts_you_declared"][0]["reason"] == "Bob is my cousin"
    about = data["audit_events_about_your_account"]
    assert {e["action"] for e in about} == {"account.registered", "role.granted"}
    mine = next(e for e in about if e["action"] == "account.registered")
    assert mine["ip_address"] == "203.0.113.7" and mine["by_you"]
    granted = next(e for e in about if e["action"] == "role.granted")
    assert granted["ip_address"] is None and not granted["by_you"]
    [email] = data["emails_sent_to_you"]
    assert email["notice"] == "reset_password" and "[link removed]" in email["text"]


def test_the_reset_token_never_reaches_the_download(world):
    message = db.session.execute(select(OutboxMessage)).scalar_one()
    [link] = [line for line in message.body_text.splitlines() if line.startswith("http")]
    token = link.rstrip("/").rsplit("/", 1)[-1]
    assert len(token) > 30 and token in message.body_text
    assert token not in json.dumps(privacy.personal_data(world.amina))


def test_an_embargoed_outcome_reads_as_eligible(world):
    world.published.state = CategoryState.DECIDED
    db.session.commit()
    [named] = privacy.personal_data(world.amina)["nominations_naming_you"]
    assert named["state"] == "eligible" and named["published_result"] is None


def test_an_unconfirmed_address_gets_only_its_own_nominations(world):
    world.amina.email_verified_at = None
    db.session.commit()
    data = privacy.personal_data(world.amina)
    assert data["nominations_naming_you"] == [] and data["emails_sent_to_you"] == []
    assert len(data["nominations_you_made"]) == 1
    assert any("confirm your email" in note for note in data["not_included"])


def test_drafts_naming_a_person_stay_with_their_nominator(world):
    world.named.state = NominationState.DRAFT
    world.named.submitted_at = None
    db.session.commit()
    assert privacy.personal_data(world.amina)["nominations_naming_you"] == []


def test_download_through_the_account_page(browser, world):
    login(browser, AMINA_EMAIL)
    profile = browser.get("/account/profile").get_data(as_text=True)
    assert 'href="/account/data"' in profile
    page = browser.get("/account/data")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Your personal data" in text and "1 nomination that names you" in text
    response = browser.post("/account/data/download", page="/account/data")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/zip"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "no-store" in response.headers["Cache-Control"]
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    data = json.loads(archive.read("personal-data.json"))
    assert data["account"]["email"] == AMINA_EMAIL
    path = data["nominations_you_made"][0]["attachments"][0]["file_in_this_zip"]
    assert path == f"attachments/{world.own.reference}/{world.attachment.id}-amina-cv.pdf"
    assert archive.read(path) == PDF
    assert "README.txt" in archive.namelist()
    [event] = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "privacy.exported")
    ).scalars()
    assert event.actor_id == world.amina.id and event.object_id == world.amina.id


def test_download_needs_an_account_and_a_form_from_this_site(browser, world):
    assert browser.get("/account/data").status_code == 302
    response = browser.post("/account/data/download")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]
    login(browser, "bob@example.org")
    response = browser.client.post("/account/data/download", data={})
    assert response.status_code == 400
    # Bob's download is Bob's: nothing of Amina's own nomination is in it.
    response = browser.post("/account/data/download", page="/account/data")
    data = json.loads(zipfile.ZipFile(io.BytesIO(response.data)).read("personal-data.json"))
    assert data["account"]["email"] == "bob@example.org"
    assert world.own.reference not in json.dumps(data)
    made = {n["reference"] for n in data["nominations_you_made"]}
    assert made == {world.named.reference, world.other.reference}


# --- Erasure ---------------------------------------------------------------------------------


def snapshot_counts() -> dict[str, int]:
    return {
        model.__tablename__: count(model)
        for model in (User, Nomination, Review, Score, Decision, Conflict, Answer)
    }


def test_erasure_erases_the_person_and_keeps_counts_and_published_results(app, world):
    before = snapshot_counts()
    stored = Path(app.config["UPLOAD_FOLDER"]) / world.attachment.stored_name
    assert stored.exists()
    erasure = privacy.erase_person(world.amina, world.sec)
    db.session.commit()
    privacy.remove_files(erasure)
    assert sorted(erasure.nominations) == sorted([world.own.reference, world.named.reference])
    assert erasure.attachments == 1 and erasure.published_kept == 1
    assert snapshot_counts() == before
    assert not stored.exists() and count(Attachment) == 0

    amina = db.session.get(User, world.amina.id)
    assert amina.name == "Erased person"
    assert amina.email == f"erased-{amina.id}@invalid.example"
    assert amina.password_hash is None and not amina.is_active_account
    assert amina.erased_at is not None and amina.email_verified_at is None
    assert amina.grants == []
    assert count(RoleGrant) == 2  # Rita's seat and the Secretariat remain

    own = db.session.get(Nomination, world.own.id)
    assert own.nominee_name == "Erased person" and own.nominee_organisation == ""
    assert own.nominee_email is None and own.erased_at is not None
    assert own.screening_reason == "" and own.nominee_country == "SN"
    answers = {a.question.label: a.value for a in own.answers}
    assert answers == {
        "Title": None,
        "Founder": None,
        "Summary": None,
        "Sector": "Private",
        "Country": "SN",
        "Tonnes": 42,
        "Founded on": None,
    }
    review = db.session.execute(select(Review)).scalar_one()
    assert review.comments == "" and [s.value for s in review.scores] == [4]
    reasons = {c.reason for c in db.session.execute(select(Conflict)).scalars()}
    assert reasons == {""}

    named = db.session.get(Nomination, world.named.id)
    assert named.nominee_name == "Erased person"
    assert named.nominee_email == f"erased-nomination-{named.id}@invalid.example"
    decision = db.session.execute(select(Decision)).scalar_one()
    assert decision.public_name == AMINA and decision.citation.startswith("For repairing")

    other = db.session.get(Nomination, world.other.id)
    assert other.nominee_name == "Carla Someone" and other.erased_at is None

    message = db.session.execute(select(OutboxMessage)).scalar_one()
    assert message.state is OutboxState.CANCELLED and message.body_text == ""
    assert message.to_address == amina.email and message.body_html is None

    for event in db.session.execute(select(AuditEvent)).scalars():
        text = f"{event.summary} {json.dumps(event.detail)}".lower()
        assert AMINA_EMAIL not in text and AMINA.lower() not in text, event.action
        if event.actor_id == amina.id:
            assert event.ip_address is None
    actions = {e.action for e in db.session.execute(select(AuditEvent)).scalars()}
    assert {"account.erased", "nomination.erased", "role.revoked"} <= actions


def test_an_unpublished_decision_is_erased_too(world):
    world.published.state = CategoryState.DECIDED
    db.session.commit()
    erasure = privacy.erase_person(world.amina, world.sec)
    db.session.commit()
    decision = db.session.execute(select(Decision)).scalar_one()
    assert erasure.published_kept == 0
    assert decision.public_name == "Erased person" and decision.citation == ""


def test_erasure_is_refused_before_the_ceremony():
    world = build_world(ceremony_passed=False)
    before = snapshot_counts()
    with pytest.raises(privacy.PrivacyError) as refused:
        privacy.erase_person(world.amina, world.sec)
    db.session.rollback()
    [reason] = refused.value.reasons
    assert "is not over: its ceremony is on" in reason
    assert world.edition_past.name in reason
    assert db.session.get(User, world.amina.id).email == AMINA_EMAIL
    assert snapshot_counts() == before


@pytest.mark.parametrize("who", ["self", "secretariat", "erased"])
def test_erasure_refuses_oneself_the_secretariat_and_twice(world, who):
    if who == "self":
        person, expected = world.sec, "your own"
    elif who == "secretariat":
        person = make_user("sec2@example.org")
        grant(person, Role.SECRETARIAT)
        db.session.commit()
        expected = "remove that role first"
    else:
        privacy.erase_person(world.amina, world.sec)
        db.session.commit()
        person, expected = world.amina, "already been erased"
    with pytest.raises(privacy.PrivacyError) as refused:
        privacy.erase_person(person, world.sec)
    assert expected in str(refused.value)


def test_erasure_through_the_page_ends_the_persons_sessions(browser, make_browser, world):
    amina = login(make_browser(), AMINA_EMAIL)
    assert amina.get("/account/profile").status_code == 200
    login(browser, "sec@example.org")
    user_page = browser.get(f"/secretariat/users/{world.amina.id}").get_data(as_text=True)
    url = f"/secretariat/users/{world.amina.id}/erase"
    assert f'href="{url}"' in user_page
    page = browser.get(url).get_data(as_text=True)
    assert "What will be erased" in page and world.own.reference in page
    assert "1 supporting file is deleted" in page and "1 published result is kept" in page

    response = browser.post(url, {"confirm_email": "someone@example.org"}, page=url)
    assert response.status_code == 400
    assert "not the person’s address" in response.get_data(as_text=True)
    assert db.session.get(User, world.amina.id).erased_at is None

    response = browser.post(url, {"confirm_email": AMINA_EMAIL.upper()}, page=url)
    assert response.status_code == 302
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "Personal data erased, with 2 nominations." in page
    assert "Personal data erased on" in page
    # Her session is over, and her old address and password open nothing.
    response = amina.get("/account/profile")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]
    assert amina.login(AMINA_EMAIL, PASSWORD).status_code == 200


def test_the_page_explains_why_erasure_must_wait(browser):
    world = build_world(ceremony_passed=False)
    login(browser, "sec@example.org")
    url = f"/secretariat/users/{world.amina.id}/erase"
    page = browser.get(url).get_data(as_text=True)
    assert "cannot be erased now" in page and "its ceremony is on" in page
    assert 'name="confirm_email"' not in page
    response = browser.post(url, {"confirm_email": AMINA_EMAIL}, page="/about")
    assert response.status_code == 409
    assert db.session.get(User, world.amina.id).erased_at is None


def test_only_the_secretariat_may_erase(browser, world):
    url = f"/secretariat/users/{world.amina.id}/erase"
    response = browser.get(url)
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]
    login(browser, "rita@example.org")
    assert browser.get(url).status_code == 403
    assert browser.post(url, {"confirm_email": AMINA_EMAIL}).status_code == 403
    assert db.session.get(User, world.amina.id).erased_at is None
    browser.logout()
    login(browser, "sec@example.org")
    assert browser.get("/secretariat/users/999999/erase").status_code == 404
