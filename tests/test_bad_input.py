"""Bad input everywhere a person can send some: never a 500, a clear message, nothing stored.

Over-long fields, null bytes, HTML and script, SQL-looking text, right-to-left and combining
characters, numbers no database column holds, files whose content does not match their name,
requests above the size limit, and ZIP bombs disguised as office documents. The forms the
other test files already try this way (nominations, categories, organisations, editions,
invitations) are not repeated here.
"""

from __future__ import annotations

import io
import struct
import zipfile
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import func, select
from werkzeug.routing import IntegerConverter

from awards.extensions import db
from awards.models import (
    Attachment,
    AuditEvent,
    CategoryState,
    Conflict,
    Nomination,
    NominationState,
    OutboxMessage,
    Question,
    QuestionKind,
    Role,
    User,
    utcnow,
)
from awards.outbox import queue_email
from awards.views.helpers import TextConverter

from .conftest import csrf_token_from
from .factories import (
    PASSWORD,
    assign,
    grant,
    make_category,
    make_criterion,
    make_edition,
    make_nomination,
    make_org,
    make_user,
)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
NASTY = [
    "\x00",
    "a\x00b",
    "x" * 20_000,
    "<script>alert(1)</script>",
    "' OR 1=1; DROP TABLE users; --",
    "\u202eevil\u202c",
    "e\u0301\u0301\u0301",
    "-1",
    "99999999999999999999999",
    "%00",
    "../../etc/passwd",
]


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def login(browser, email: str):
    assert browser.login(email, PASSWORD).status_code == 302
    return browser


# --- A world with one of everything ----------------------------------------------------------


@pytest.fixture
def world():
    now = utcnow()
    edition = make_edition(
        2031,
        code="EWA31",
        opens=now - timedelta(days=10),
        nominations_close_at=now + timedelta(days=30),
    )
    organisation = make_org("ITU")
    category = make_category(
        organisation, edition, slug="itu-award", state=CategoryState.OPEN, topics=["Repair"]
    )
    question = Question(
        category=category,
        kind=QuestionKind.FILE,
        label="Evidence",
        options={"allowed_types": ["pdf", "docx", "xlsx"], "max_size_mb": 5},
    )
    title = Question(category=category, kind=QuestionKind.SHORT_TEXT, label="Title", position=1)
    db.session.add_all([question, title])
    criterion = make_criterion(category)
    secretariat = make_user("sec@example.org")
    grant(secretariat, Role.SECRETARIAT)
    nominator = make_user("nina@example.org", name="Nina")
    reviewer = make_user("rex@example.org", name="Rex")
    grant(reviewer, Role.REVIEWER, category=category)
    nomination = make_nomination(category, nominator, state=NominationState.ELIGIBLE)
    assign(reviewer, nomination)
    draft = make_nomination(category, nominator, state=NominationState.DRAFT)
    message = queue_email(
        "test:1", "verify_email", "nina@example.org", user=nominator, link="https://x.example"
    )
    db.session.commit()
    return {
        "category": category,
        "nomination": nomination,
        "draft": draft,
        "question": question,
        "title": title,
        "ids": {
            "category_id": category.id,
            "nomination_id": nomination.id,
            "edition_id": edition.id,
            "organisation_id": organisation.id,
            "question_id": question.id,
            "criterion_id": criterion.id,
            "user_id": nominator.id,
            "grant_id": reviewer.grants[0].id,
            "message_id": message.id,
            "attachment_id": 1,
            "year": edition.year,
        },
        "text": {
            "code": edition.code,
            "slug": category.slug,
            "reference": nomination.reference,
            "token": "not-a-token",
            "direction": "up",
            "extension": "csv",
            "language": "fr",
            "name": "verify_email",
        },
    }


def _get_rules(app):
    return [
        rule
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and rule.endpoint not in ("static", "bootstrap.static")
    ]


def _is_number(rule, argument: str) -> bool:
    return isinstance(rule._converters[argument], IntegerConverter)


def _path(app, rule, values: dict) -> str:
    """The rule's URL with these values (1 or "x" for arguments the world has no value for)."""
    filled = {
        argument: values.get(argument, 1 if _is_number(rule, argument) else "x")
        for argument in rule.arguments
    }
    return app.url_map.bind("localhost").build(rule.endpoint, filled, method="GET")


def _ask(browser, url: str):
    try:
        return browser.get(url)
    except Exception as exc:  # the app raises unexpected errors in tests: name the URL
        pytest.fail(f"GET {url} failed on the server: {exc!r}")


def test_ids_no_database_column_holds_and_null_bytes_in_urls_are_404(app, browser, world):
    login(browser, "sec@example.org")
    tried = 0
    for rule in _get_rules(app):
        if not any(
            _is_number(rule, a) or type(rule._converters[a]) is TextConverter
            for a in rule.arguments
        ):
            continue
        for bad_int, bad_text in ((2**31, "x\x00"), (10**20, "\x00")):
            values = {**world["ids"], **world["text"]}
            for argument in rule.arguments:
                if _is_number(rule, argument):
                    values[argument] = bad_int
                elif type(rule._converters[argument]) is TextConverter:
                    values[argument] = bad_text
            url = _path(app, rule, values)
            response = _ask(browser, url)
            assert response.status_code == 404, (url, response.status_code)
            tried += 1
    assert tried > 40


@pytest.mark.parametrize("who", ["visitor", "sec@example.org"])
def test_nasty_query_strings_never_fail(app, browser, world, who):
    if who != "visitor":
        login(browser, who)
    for nasty in ("\x00\u202e", "x" * 5000, "-5' OR 1=1 --", "99999999999999999999"):
        query = "&".join(
            f"{name}={quote(nasty, safe='')}"
            for name in (
                "q",
                "page",
                "sort",
                "direction",
                "dir",
                "state",
                "country",
                "language",
                "duplicates",
                "action",
                "object_type",
                "actor",
                "for",
                "next",
                "by",
                "kind",
                "edition",
                "category",
                "year",
            )
        )
        for rule in _get_rules(app):
            url = _path(app, rule, {**world["ids"], **world["text"]}) + "?" + query
            response = _ask(browser, url)
            assert response.status_code < 500, (url[:120], response.status_code)


# --- Accounts --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["a\x00b", "x" * 201, "\x00"])
def test_registration_refuses_null_bytes_and_over_long_names(browser, name):
    response = browser.post(
        "/account/register",
        {
            "name": name,
            "email": "new@example.org",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
        page="/account/register",
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "null character" in page or "200 characters" in page
    assert 'value="new@example.org"' in page  # what was typed stays
    assert count(User) == 0


@pytest.mark.parametrize(
    "email",
    ["a\x00@example.org", "' OR 1=1 --@example.org", "x" * 300 + "@example.org", "<b>@x"],
)
def test_registration_explains_bad_addresses(browser, email):
    response = browser.post(
        "/account/register",
        {"name": "Ann", "email": email, "password": PASSWORD, "confirm": PASSWORD},
        page="/account/register",
    )
    assert response.status_code == 200 and "invalid-feedback" in response.get_data(as_text=True)
    assert count(User) == 0


def test_script_in_a_name_is_stored_as_text_and_shown_escaped(browser):
    name = "<script>alert('x')</script> \u202eRTL e\u0301"
    response = browser.post(
        "/account/register",
        {"name": name, "email": "new@example.org", "password": PASSWORD, "confirm": PASSWORD},
        page="/account/register",
    )
    assert response.status_code == 302
    assert db.session.execute(select(User.name)).scalar_one() == name
    page = browser.get("/account/profile").get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#39;x&#39;)" in page


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("nina@example.org\x00", PASSWORD),
        ("nina@example.org", "x" * 10_000),
        ("' OR '1'='1", "' OR '1'='1"),
        ("nina@example.org", PASSWORD + "\x00"),
        ("\u202enina@example.org", PASSWORD),
    ],
)
def test_login_with_bad_input_is_refused_calmly(browser, world, email, password):
    response = browser.login(email, password)
    assert response.status_code == 200
    assert 'name="email"' in response.get_data(as_text=True)
    assert browser.get("/account/profile").status_code == 302  # not logged in


@pytest.mark.parametrize("email", ["\x00", "a\x00@example.org", "x" * 400])
def test_password_reset_request_with_bad_addresses(browser, world, email):
    response = browser.post("/account/forgot", {"email": email}, page="/account/forgot")
    assert response.status_code == 200
    assert count(OutboxMessage) == 1  # only the world's message


@pytest.mark.parametrize("password", ["short\x00passwordxx", "x" * 300])
def test_a_new_password_with_bad_input_is_refused(browser, world, password):
    login(browser, "nina@example.org")
    stored = select(User.password_hash).where(User.email == "nina@example.org")
    before = db.session.execute(stored).scalar()
    response = browser.post(
        "/account/password",
        {"current": PASSWORD, "password": password, "confirm": password},
        page="/account/password",
    )
    assert response.status_code == 200 and "invalid-feedback" in response.get_data(as_text=True)
    assert db.session.execute(stored).scalar() == before


@pytest.mark.parametrize("name", ["Nina\x00", "x" * 201, ""])
def test_profile_refuses_bad_names_and_keeps_the_old_one(browser, world, name):
    login(browser, "nina@example.org")
    response = browser.post(
        "/account/profile",
        {"name": name, "language": "en", "timezone": "UTC"},
        page="/account/profile",
    )
    assert response.status_code == 200 and "invalid-feedback" in response.get_data(as_text=True)
    assert db.session.execute(
        select(User.name).where(User.email == "nina@example.org")
    ).scalar() == ("Nina")


@pytest.mark.parametrize(
    "data",
    [
        {"language": "xx\x00"},
        {"language": "fr", "return_to": "javascript:alert(1)"},
        {"language": "fr", "return_to": "//evil.example/"},
        {"language": "fr", "return_to": "https://evil.example/"},
        {"language": "fr", "return_to": "/\x00"},
    ],
)
def test_language_switch_with_bad_input_stays_on_the_site(browser, data):
    response = browser.post("/language", data)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith("//")
    assert "\x00" not in location


# --- Committee forms -------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["\x00", "colleague\x00", "x" * 2001, "   "])
def test_conflict_reason_is_checked_and_nothing_stored(browser, world, reason):
    login(browser, "rex@example.org")
    url = f"/review/nominations/{world['nomination'].id}/conflict"
    response = browser.post(url, {"reason": reason}, page=url)
    assert response.status_code == 400
    assert "invalid-feedback" in response.get_data(as_text=True)
    assert count(Conflict) == 0


@pytest.mark.parametrize("reason", ["\x00", "x" * 5001, "<script>alert(1)</script>\x00"])
def test_screening_reason_is_checked_and_nothing_changes(browser, world, reason):
    world["nomination"].state = NominationState.SUBMITTED
    db.session.commit()
    login(browser, "sec@example.org")
    category, nomination = world["category"], world["nomination"]
    page = f"/manage/categories/{category.id}/nominations/{nomination.id}"
    events = count(AuditEvent)
    response = browser.post(
        f"{page}/screen", {"decision": "ineligible", "reason": reason}, page=page
    )
    assert response.status_code in (200, 400)
    assert "invalid-feedback" in response.get_data(as_text=True)
    assert db.session.get(Nomination, nomination.id).state is NominationState.SUBMITTED
    assert count(AuditEvent) == events and count(OutboxMessage) == 1


# --- Files -----------------------------------------------------------------------------------


def _office(kind: str, *, extra: dict[str, bytes] | None = None) -> bytes:
    """A minimal Word or Excel file: a ZIP with the parts office programs look for."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("word/document.xml" if kind == "docx" else "xl/workbook.xml", "<x/>")
        for name, content in (extra or {}).items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _zip_bomb() -> bytes:
    """A .docx whose one part expands from about 100 KB to 100 MB."""
    return _office("docx", extra={"word/media/padding.bin": bytes(100 * 1024 * 1024)})


def _many_parts() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        for number in range(5001):
            archive.writestr(f"word/p{number}.xml", "")
    return buffer.getvalue()


def _lying_sizes() -> bytes:
    """A small .docx whose directory claims that a part expands to nearly 4 GB."""
    content = bytearray(_office("docx"))
    header = content.index(b"PK\x01\x02")  # the first central directory entry
    struct.pack_into("<I", content, header + 24, 0xFFFFFFF0)  # its uncompressed size
    return bytes(content)


def _plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "not an office document")
    return buffer.getvalue()


def upload(browser, world, content: bytes, name: str):
    draft = world["draft"]
    url = f"/nominations/{draft.id}/edit"
    data = {
        "self_nomination": "self",
        "nominee_name": "Green Bytes",
        "nominee_organisation": "",
        "nominee_country": "KE",
        "nominee_email": "",
        "language": "en",
        "save": "1",
        f"q-{world['title'].id}": "Kept title",
        f"q-{world['question'].id}": (io.BytesIO(content), name),
    }
    data["version"] = str(db.session.get(Nomination, draft.id).version)
    token = csrf_token_from(browser.get(url).get_data(as_text=True))
    return browser.client.post(
        url, data={**data, "csrf_token": token}, content_type="multipart/form-data"
    )


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (_office("docx"), "report.pdf", "not one of the accepted types"),
        (PDF, "report.docx", "not one of the accepted types"),
        (_office("xlsx"), "figures.docx", "not one of the accepted types"),
        (_plain_zip(), "archive.docx", "not one of the accepted types"),
        (b"MZ\x90\x00" + bytes(200), "setup.pdf", "not one of the accepted types"),
        (b"<html><script>alert(1)</script></html>", "page.pdf", "not one of the accepted types"),
        (_zip_bomb(), "bomb.docx", "would expand to far more than a document"),
        (_many_parts(), "parts.docx", "would expand to far more than a document"),
        (_lying_sizes(), "liar.docx", "would expand to far more than a document"),
    ],
    ids=[
        "docx-named-pdf",
        "pdf-named-docx",
        "xlsx-named-docx",
        "zip-named-docx",
        "exe-named-pdf",
        "html-named-pdf",
        "zip-bomb",
        "too-many-parts",
        "lying-sizes",
    ],
)
def test_files_are_judged_by_their_content(app, browser, world, content, name, message):
    login(browser, "nina@example.org")
    response = upload(browser, world, content, name)
    assert response.status_code == 200, response.status_code
    assert message in response.get_data(as_text=True)
    assert count(Attachment) == 0
    folder = Path(app.config["UPLOAD_FOLDER"])
    assert not folder.exists() or list(folder.iterdir()) == []
    # The rest of the form was still saved.
    answers = {
        a.question_id: a.value for a in db.session.get(Nomination, world["draft"].id).answers
    }
    assert answers[world["title"].id] == "Kept title"


@pytest.mark.parametrize(
    ("content", "name", "stored_name"),
    [
        (_office("docx"), "report.docx", "report.docx"),
        (_office("xlsx"), "figures.xlsx", "figures.xlsx"),
        (PDF, "../../etc/pass\u202ewd.pdf", "passwd.pdf"),
        (PDF, "C:\\Users\\x\\a\x00b.pdf", None),
    ],
)
def test_real_documents_pass_with_safe_names(browser, world, content, name, stored_name):
    login(browser, "nina@example.org")
    response = upload(browser, world, content, name)
    assert response.status_code in (200, 302)
    attachment = db.session.execute(select(Attachment)).scalar_one()
    shown = attachment.original_filename
    assert shown == (stored_name or shown) and shown.endswith(name[-4:])
    assert not {"/", "\\", "\x00", "\u202e"} & set(shown)


def test_requests_above_the_size_limit_get_a_friendly_413(app, browser, world):
    login(browser, "rex@example.org")
    url = f"/review/nominations/{world['nomination'].id}/conflict"
    token = csrf_token_from(browser.get(url).get_data(as_text=True))
    app.config["MAX_CONTENT_LENGTH"] = 4096
    try:
        for target, data in (
            (url, {"reason": "x" * 10_000, "csrf_token": token}),
            ("/account/profile", {"name": "x" * 10_000, "csrf_token": token}),
            ("/account/register", {"name": "x" * 10_000, "csrf_token": token}),
        ):
            response = browser.client.post(target, data=data)
            assert response.status_code == 413, target
            assert "too large" in response.get_data(as_text=True)
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 25 * 1024 * 1024
    assert count(Conflict) == 0


def test_a_huge_upload_is_stopped_at_the_limit(app, browser, world):
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    try:
        login(browser, "nina@example.org")
        response = upload(browser, world, PDF + bytes(200 * 1024), "big.pdf")
        assert response.status_code == 413
        assert "too large" in response.get_data(as_text=True)
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 25 * 1024 * 1024
    assert count(Attachment) == 0
