"""The nominator's journey, from the public call to the receipt in a real mailbox."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from awards import outbox
from awards.extensions import db
from awards.models import (
    Answer,
    Attachment,
    CategoryState,
    Nomination,
    NominationState,
    OutboxMessage,
    Question,
    QuestionKind,
    utcnow,
)

from .factories import PASSWORD, make_category, make_edition, make_org, make_user

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def call():
    """An open ITU category with a form of several kinds, and a nominator who can log in."""
    now = utcnow()
    edition = make_edition(
        2027,
        code="EWA27",
        opens=now - timedelta(days=10),
        nominations_close_at=now + timedelta(days=30),
    )
    category = make_category(
        make_org("ITU", name="International Telecommunication Union"),
        edition,
        slug="itu-award",
        title="ITU Award for Circular ICT",
        description="**Circular** ICT.",
        eligibility="Anyone.",
        state=CategoryState.OPEN,
    )
    kinds = [
        (QuestionKind.SHORT_TEXT, "Title of the initiative", True, {"max_length": 100}),
        (QuestionKind.LONG_TEXT, "Summary", True, {"word_limit": 10}),
        (QuestionKind.SINGLE_CHOICE, "Sector", False, {"choices": ["Public", "Private"]}),
        (QuestionKind.MULTIPLE_CHOICE, "Themes", False, {"choices": ["Reuse", "Recycling"]}),
        (QuestionKind.COUNTRY, "Country", True, {}),
        (QuestionKind.NUMBER, "Tonnes collected", False, {"minimum": 0, "integer": True}),
        (QuestionKind.FILE, "Evidence", False, {"allowed_types": ["pdf"], "max_size_mb": 1}),
        (QuestionKind.CONSENT, "I agree to be contacted", True, {}),
    ]
    for position, (kind, label, required, options) in enumerate(kinds):
        db.session.add(
            Question(
                category=category,
                kind=kind,
                label=label,
                required=required,
                options=options,
                position=position,
            )
        )
    make_user("kwame@example.org", name="Kwame Mensah")
    db.session.commit()
    return category


def q(category, kind: QuestionKind) -> Question:
    return next(question for question in category.questions if question.kind is kind)


def start(browser, category, **overrides):
    data = {
        "self_nomination": "self",
        "nominee_name": "Green Bytes",
        "nominee_organisation": "",
        "nominee_country": "KE",
        "nominee_email": "",
        "language": "en",
        **overrides,
    }
    url = f"/nominations/new/{category.id}"
    return browser.post(url, data, page=url)


def complete_answers(category) -> dict[str, object]:
    return {
        f"q-{q(category, QuestionKind.SHORT_TEXT).id}": "Refurbish to reuse",
        f"q-{q(category, QuestionKind.LONG_TEXT).id}": "We repair laptops for schools.",
        f"q-{q(category, QuestionKind.COUNTRY).id}": "KE",
        f"q-{q(category, QuestionKind.CONSENT).id}": "yes",
    }


def save(browser, nomination_id, answers, *, review=False, files=None, page=None, **nominee):
    url = f"/nominations/{nomination_id}/edit"
    data = {
        "self_nomination": "self",
        "nominee_name": "Green Bytes",
        "nominee_organisation": "",
        "nominee_country": "KE",
        "nominee_email": "",
        "language": "en",
        **nominee,
        **answers,
        **(files or {}),
    }
    data["review" if review else "save"] = "1"
    return browser.post(url, data, page=page or url, content_type="multipart/form-data")


def only_nomination() -> Nomination:
    return db.session.execute(select(Nomination)).scalar_one()


# --- The public call -----------------------------------------------------------------------


def test_public_call_lists_the_category_with_its_deadline(browser, call):
    page = browser.get("/").get_data(as_text=True)
    assert "ITU Award for Circular ICT" in page and "/awards/EWA27/itu-award" in page
    page = browser.get("/awards/EWA27/itu-award").get_data(as_text=True)
    assert "Issued by International Telecommunication Union" in page
    assert "<strong>Circular</strong>" in page  # Markdown rendered
    assert "UTC" in page and "data-countdown" in page
    assert "Summary" in page and "At most 10 words." in page
    assert f"/nominations/new/{call.id}" in page


@pytest.mark.parametrize("state", [CategoryState.DRAFT, CategoryState.AWAITING_APPROVAL])
def test_unapproved_category_does_not_exist_publicly(browser, call, state):
    call.state = state
    db.session.commit()
    assert browser.get("/awards/EWA27/itu-award").status_code == 404
    assert "ITU Award" not in browser.get("/").get_data(as_text=True)


def test_description_markdown_cannot_carry_scripts(browser, call):
    call.description = "<script>alert(1)</script> [x](javascript:alert(1)) **ok**"
    db.session.commit()
    page = browser.get("/awards/EWA27/itu-award").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and 'href="javascript:' not in page
    assert "<strong>ok</strong>" in page


# --- Starting and drafting -----------------------------------------------------------------


def test_starting_requires_an_account(browser, call):
    response = browser.get(f"/nominations/new/{call.id}")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_start_creates_a_draft_with_a_reference(browser, call):
    browser.login("kwame@example.org", PASSWORD)
    response = start(browser, call)
    assert response.status_code == 302
    nomination = only_nomination()
    assert nomination.reference == "EWA27-ITU-0001"
    assert nomination.state is NominationState.DRAFT
    assert response.headers["Location"].endswith(f"/nominations/{nomination.id}/edit")


def test_on_behalf_nomination_needs_the_nominees_email(browser, call):
    browser.login("kwame@example.org", PASSWORD)
    response = start(browser, call, self_nomination="other")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "give their email address" in page and 'value="Green Bytes"' in page
    assert db.session.scalar(select(func.count(Nomination.id))) == 0


def test_draft_keeps_everything_typed_even_when_invalid(browser, call):
    browser.login("kwame@example.org", PASSWORD)
    start(browser, call)
    nomination = only_nomination()
    long_text = "word " * 15
    answers = {
        f"q-{q(call, QuestionKind.SHORT_TEXT).id}": "<script>alert('x')</script>",
        f"q-{q(call, QuestionKind.LONG_TEXT).id}": long_text,
        f"q-{q(call, QuestionKind.NUMBER).id}": "twelve",
        f"q-{q(call, QuestionKind.MULTIPLE_CHOICE).id}": ["Reuse", "Recycling"],
    }
    response = save(browser, nomination.id, answers)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Use at most 10 words (now 15)" in page
    assert "Enter a number." in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page  # shown as text
    stored = {a.question_id: a.value for a in db.session.execute(select(Answer)).scalars()}
    assert stored[q(call, QuestionKind.LONG_TEXT).id] == long_text.strip()
    assert stored[q(call, QuestionKind.NUMBER).id] == "twelve"
    assert stored[q(call, QuestionKind.MULTIPLE_CHOICE).id] == ["Reuse", "Recycling"]
    # Reloading shows the same, and the draft cannot be submitted yet.
    page = browser.get(f"/nominations/{nomination.id}/edit").get_data(as_text=True)
    assert "twelve" in page
    view = browser.get(f"/nominations/{nomination.id}").get_data(as_text=True)
    assert "Before you can submit" in view and "Submit the nomination" not in view


def test_right_to_left_and_cjk_answers_are_kept(browser, call):
    browser.login("kwame@example.org", PASSWORD)
    start(browser, call)
    nomination = only_nomination()
    arabic, chinese = "إعادة تدوير الأجهزة", "电子废物回收"
    save(
        browser,
        nomination.id,
        {
            f"q-{q(call, QuestionKind.SHORT_TEXT).id}": arabic,
            f"q-{q(call, QuestionKind.LONG_TEXT).id}": chinese,
        },
    )
    page = browser.get(f"/nominations/{nomination.id}").get_data(as_text=True)
    assert arabic in page and chinese in page and 'dir="auto"' in page


# --- Files ---------------------------------------------------------------------------------


def test_pdf_upload_is_stored_privately_and_served_as_attachment(app, browser, call):
    browser.login("kwame@example.org", PASSWORD)
    start(browser, call)
    nomination = only_nomination()
    question = q(call, QuestionKind.FILE)
    save(browser, nomination.id, {}, files={f"q-{question.id}": (io.BytesIO(PDF), "report.pdf")})
    attachment = db.session.execute(select(Attachment)).scalar_one()
    assert attachment.content_type == "application/pdf"
    assert attachment.original_filename == "report.pdf"
    stored = Path(app.config["UPLOAD_FOLDER"]) / attachment.stored_name
    assert stored.read_bytes() == PDF and "report" not in attachment.stored_name
    response = browser.get(f"/nominations/{nomination.id}/attachments/{attachment.id}")
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"just text pretending", "report.pdf", "not one of the accepted types"),
        (b"\x89PNG\r\n\x1a\n" + b"0" * 100, "image.pdf", "not one of the accepted types"),
        (PDF, "report.exe", "not one of the accepted types"),
        (PDF + b"0" * (1024 * 1024), "big.pdf", "larger than 1 MB"),
        (b"", "empty.pdf", "is empty"),
    ],
)
def test_bad_files_are_refused_and_answers_kept(app, browser, call, content, name, message):
    browser.login("kwame@example.org", PASSWORD)
    start(browser, call)
    nomination = only_nomination()
    question = q(call, QuestionKind.FILE)
    title = f"q-{q(call, QuestionKind.SHORT_TEXT).id}"
    response = save(
        browser,
        nomination.id,
        {title: "Kept title"},
        files={f"q-{question.id}": (io.BytesIO(content), name)},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and message in page
    assert db.session.scalar(select(func.count(Attachment.id))) == 0
    assert list(Path(app.config["UPLOAD_FOLDER"]).glob("*")) == []  # nothing left on disk
    stored = db.session.execute(select(Answer).where(Answer.question_id == int(title[2:])))
    assert stored.scalar_one().value == "Kept title"


def test_request_larger_than_the_limit_gets_a_friendly_413(app, browser, call):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    try:
        browser.login("kwame@example.org", PASSWORD)
        start(browser, call)
        nomination = only_nomination()
        question = q(call, QuestionKind.FILE)
        response = save(
            browser,
            nomination.id,
            {},
            files={f"q-{question.id}": (io.BytesIO(PDF * 200), "big.pdf")},
        )
        assert response.status_code == 413
        assert "too large" in response.get_data(as_text=True)
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 25 * 1024 * 1024


# --- Submitting ----------------------------------------------------------------------------


def test_submit_sends_a_receipt_with_the_answers(browser, call, smtp):
    browser.login("kwame@example.org", PASSWORD)
    start(browser, call)
    nomination = only_nomination()
    response = save(browser, nomination.id, complete_answers(call), review=True)
    assert response.status_code == 302
    view = browser.get(f"/nominations/{nomination.id}").get_data(as_text=True)
    assert "Submit the nomination" in view and "Refurbish to reuse" in view
    response = browser.post(f"/nominations/{nomination.id}/submit")
    assert response.status_code == 302
    db.session.refresh(nomination)
    assert nomination.state is NominationState.SUBMITTED and nomination.submitted_at
    assert outbox.deliver_due().sent == 1
    receipt = smtp.to("kwame@example.org")[0]
    assert "EWA27-ITU-0001" in receipt["Subject"]
    text = smtp.text_of(receipt)
    assert "Refurbish to reuse" in text and "Kenya" in text and "We repair laptops" in text


def test_on_behalf_submission_tells_the_nominee(browser, call, smtp):
    browser.login("kwame@example.org", PASSWORD)
    start(browser, call, self_nomination="other", nominee_email="Lucia@Example.org")
    nomination = only_nomination()
    save(
        browser,
        nomination.id,
        complete_answers(call),
        self_nomination="other",
        nominee_email="lucia@example.org",
    )
    browser.post(f"/nominations/{nomination.id}/submit")
    outbox.deliver_due()
    told = smtp.to("lucia@example.org")
    assert len(told) == 1 and "You have been nominated" in told[0]["Subject"]
    assert "Kwame Mensah" in smtp.text_of(told[0])


def test_incomplete_nomination_cannot_be_submitted(browser, call):
    browser.login("kwame@example.org", PASSWORD)
    start(browser, call)
    nomination = only_nomination()
    response = browser.post(f"/nominations/{nomination.id}/submit", follow_redirects=True)
    assert "missing or need correcting" in response.get_data(as_text=True)
    db.session.refresh(nomination)
    assert nomination.state is NominationState.DRAFT
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0


def test_unverified_nominator_must_confirm_email_first(browser, call):
    make_user("new@example.org", verified=False)
    db.session.commit()
    browser.login("new@example.org", PASSWORD)
    start(browser, call)
    nomination = db.session.execute(
        select(Nomination).where(Nomination.nominee_name == "Green Bytes")
    ).scalar_one()
    save(browser, nomination.id, complete_answers(call))
    response = browser.post(f"/nominations/{nomination.id}/submit", follow_redirects=True)
    assert "Confirm your email address first" in response.get_data(as_text=True)


def test_submission_after_the_deadline_is_refused(browser, call):
    browser.login("kwame@example.org", PASSWORD)
    start(browser, call)
    nomination = only_nomination()
    save(browser, nomination.id, complete_answers(call))
    # The deadline passes while the form is open.
    call.nominations_close_at = utcnow() - timedelta(seconds=1)
    call.nominations_open_at = utcnow() - timedelta(days=5)
    db.session.commit()
    response = browser.post(f"/nominations/{nomination.id}/submit", follow_redirects=True)
    assert "deadline for this category has passed" in response.get_data(as_text=True)
    db.session.refresh(nomination)
    assert nomination.state is NominationState.DRAFT
    # Saving is refused too, with the same explanation, and what was typed is shown again.
    answers = complete_answers(call)
    answers[f"q-{q(call, QuestionKind.SHORT_TEXT).id}"] = "Typed after the deadline"
    response = save(browser, nomination.id, answers, page="/about")
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "deadline for this category has passed" in page
    assert 'value="Typed after the deadline"' in page and "Save draft" not in page
    stored = db.session.execute(
        select(Answer).where(Answer.question_id == q(call, QuestionKind.SHORT_TEXT).id)
    ).scalar_one()
    assert stored.value == "Refurbish to reuse"
    assert browser.get(f"/nominations/{nomination.id}/edit").status_code == 302


def test_submitted_nomination_can_be_edited_but_must_stay_complete(browser, call):
    browser.login("kwame@example.org", PASSWORD)
    start(browser, call)
    nomination = only_nomination()
    save(browser, nomination.id, complete_answers(call))
    browser.post(f"/nominations/{nomination.id}/submit")
    answers = complete_answers(call)
    answers[f"q-{q(call, QuestionKind.SHORT_TEXT).id}"] = ""
    response = save(browser, nomination.id, answers)
    assert "Nothing was changed" in response.get_data(as_text=True)
    stored = db.session.execute(
        select(Answer).where(Answer.question_id == q(call, QuestionKind.SHORT_TEXT).id)
    ).scalar_one()
    assert stored.value == "Refurbish to reuse"
    answers[f"q-{q(call, QuestionKind.SHORT_TEXT).id}"] = "A better title"
    assert save(browser, nomination.id, answers).status_code == 302
    db.session.refresh(stored)
    assert stored.value == "A better title"


def test_withdraw(browser, call):
    browser.login("kwame@example.org", PASSWORD)
    start(browser, call)
    nomination = only_nomination()
    browser.post(f"/nominations/{nomination.id}/withdraw")
    db.session.refresh(nomination)
    assert nomination.state is NominationState.WITHDRAWN and nomination.withdrawn_at
    # The form is gone; the nominator is sent back to the nomination and told why.
    page = browser.get(f"/nominations/{nomination.id}/edit", follow_redirects=True)
    assert page.request.path == f"/nominations/{nomination.id}"
    assert "no longer a draft" in page.get_data(as_text=True)


# --- Privacy -------------------------------------------------------------------------------


def test_another_nominator_cannot_see_or_touch_it(browser, make_browser, call):
    browser.login("kwame@example.org", PASSWORD)
    start(browser, call)
    nomination = only_nomination()
    save(
        browser,
        nomination.id,
        {},
        files={f"q-{q(call, QuestionKind.FILE).id}": (io.BytesIO(PDF), "report.pdf")},
    )
    attachment = db.session.execute(select(Attachment)).scalar_one()
    make_user("other@example.org")
    db.session.commit()
    other = make_browser()
    other.login("other@example.org", PASSWORD)
    for url in (
        f"/nominations/{nomination.id}",
        f"/nominations/{nomination.id}/edit",
        f"/nominations/{nomination.id}/attachments/{attachment.id}",
    ):
        assert other.get(url).status_code == 404, url
    for url in (
        f"/nominations/{nomination.id}/submit",
        f"/nominations/{nomination.id}/withdraw",
        f"/nominations/{nomination.id}/attachments/{attachment.id}/remove",
    ):
        assert other.post(url).status_code == 404, url
    assert "EWA27-ITU-0001" not in other.get("/nominations/").get_data(as_text=True)
    db.session.refresh(nomination)
    assert nomination.state is NominationState.DRAFT


def test_attachment_id_of_another_nomination_is_404(browser, call):
    browser.login("kwame@example.org", PASSWORD)
    start(browser, call)
    first = only_nomination()
    save(
        browser,
        first.id,
        {},
        files={f"q-{q(call, QuestionKind.FILE).id}": (io.BytesIO(PDF), "report.pdf")},
    )
    attachment = db.session.execute(select(Attachment)).scalar_one()
    start(browser, call, nominee_name="Second")
    second = db.session.execute(
        select(Nomination).where(Nomination.nominee_name == "Second")
    ).scalar_one()
    assert browser.get(f"/nominations/{second.id}/attachments/{attachment.id}").status_code == 404


def test_remove_attachment(app, browser, call):
    browser.login("kwame@example.org", PASSWORD)
    start(browser, call)
    nomination = only_nomination()
    save(
        browser,
        nomination.id,
        {},
        files={f"q-{q(call, QuestionKind.FILE).id}": (io.BytesIO(PDF), "report.pdf")},
    )
    attachment = db.session.execute(select(Attachment)).scalar_one()
    path = Path(app.config["UPLOAD_FOLDER"]) / attachment.stored_name
    browser.post(f"/nominations/{nomination.id}/attachments/{attachment.id}/remove")
    assert db.session.scalar(select(func.count(Attachment.id))) == 0
    assert not path.exists()


def test_nominator_picks_topics_from_the_categorys_list(browser, call):
    call.topics = ["Repair", "Collection", "Policy"]
    db.session.commit()
    browser.login("kwame@example.org", PASSWORD)
    start(browser, call)
    nomination = only_nomination()
    page = browser.get(f"/nominations/{nomination.id}/edit").get_data(as_text=True)
    assert 'name="topics"' in page and "Collection" in page
    save(browser, nomination.id, {"topics": ["Policy", "Repair", "Invented"]})
    db.session.refresh(nomination)
    assert nomination.topics == ["Repair", "Policy"]  # the category's order, nothing invented


def _version_on(page: str) -> str:
    match = re.search(r'name="version"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="version"', page)
    assert match, "the form carries the version it was opened on"
    return match.group(1) or match.group(2)


def test_two_sessions_editing_the_same_draft_cannot_overwrite_each_other(make_browser, call):
    """Two windows open on one draft: the second save is refused and keeps what it typed."""
    first, second = make_browser(), make_browser()
    for window in (first, second):
        window.login("kwame@example.org", PASSWORD)
    start(first, call)
    nomination = only_nomination()
    url = f"/nominations/{nomination.id}/edit"
    opened_first = _version_on(first.get(url).get_data(as_text=True))
    opened_second = _version_on(second.get(url).get_data(as_text=True))
    title = f"q-{q(call, QuestionKind.SHORT_TEXT).id}"

    answers = {**complete_answers(call), title: "Typed in the first window"}
    assert save(first, nomination.id, answers, version=opened_first).status_code == 302

    answers = {**complete_answers(call), title: "Typed in the second window"}
    response = save(second, nomination.id, answers, version=opened_second)
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "saved elsewhere" in page
    assert 'value="Typed in the second window"' in page  # nothing typed is lost
    stored = db.session.execute(select(Answer).where(Answer.question_id == int(title[2:])))
    assert stored.scalar_one().value == "Typed in the first window"

    # Having seen the warning, the second window saves on purpose.
    assert save(second, nomination.id, answers, version=_version_on(page)).status_code == 302
    stored = db.session.execute(select(Answer).where(Answer.question_id == int(title[2:])))
    assert stored.scalar_one().value == "Typed in the second window"


def test_a_forged_version_is_not_a_crash(browser, call):
    browser.login("kwame@example.org", PASSWORD)
    start(browser, call)
    nomination = only_nomination()
    for version in ("abc", "-1", "9" * 40):
        response = save(browser, nomination.id, complete_answers(call), version=version)
        assert response.status_code in (302, 409)
