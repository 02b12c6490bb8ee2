"""The Secretariat's wording of the emails: registry, sandbox, outbox hook, pages, test sends."""

from __future__ import annotations

import functools
import html
import re
from pathlib import Path

import pytest
from sqlalchemy import event, func, select
from werkzeug.security import generate_password_hash

from awards import notices, outbox
from awards.extensions import db
from awards.models import (
    AuditEvent,
    NominationState,
    NoticeTemplate,
    OutboxMessage,
    Role,
    User,
)

from .conftest import Browser, csrf_token_from
from .factories import PASSWORD, grant, make_category, make_edition, make_nomination, make_user

ROOT = Path(__file__).resolve().parent.parent
SECRETARIAT_EMAIL = "sec@example.org"
SUBJECT = "Welcome, {{ recipient_name }}"
BODY = "Dear **{{ recipient_name }}**,\n\nplease confirm: {{ link }}\nThanks."


@functools.cache
def _password_hash() -> str:
    return generate_password_hash(PASSWORD, method="scrypt")


def account(email: str, **values) -> User:
    return make_user(email, password=None, password_hash=_password_hash(), **values)


@pytest.fixture
def secretariat() -> User:
    user = account(SECRETARIAT_EMAIL, name="Maria Rossi")
    grant(user, Role.SECRETARIAT)
    db.session.commit()
    return user


@pytest.fixture
def sec(browser, secretariat) -> Browser:
    assert browser.login(SECRETARIAT_EMAIL, PASSWORD).status_code == 302
    return browser


def edit_url(name: str = "verify_email", language: str = "en", **query) -> str:
    tail = "".join(f"&{k}={v}" for k, v in query.items())
    return f"/secretariat/notices/{name}/{language}" + (f"?{tail[1:]}" if tail else "")


def save(browser: Browser, name: str, language: str, subject: str, body: str, **extra):
    url = edit_url(name, language)
    data = {"subject": subject, "body": body, "source": "sample", "save": "Save", **extra}
    return browser.post(url, data, page=url)


def verify_email(to: str = "amina@example.org", language: str = "en", key: str = "verify:1"):
    user = db.session.execute(select(User).where(User.email == to)).scalar_one_or_none()
    user = user or make_user(to, name="Amina Diallo", language=language)
    return outbox.queue_email(
        key, "verify_email", to, language=language, user=user, link="https://x.test/verify/abc"
    )


def stored(name: str = "verify_email", language: str = "en") -> NoticeTemplate | None:
    db.session.expire_all()
    return notices.wording(name, language)


# --- The registry -------------------------------------------------------------------------


def test_registry_lists_every_email_template_set(app):
    shipped = {
        path.name.removesuffix(".subject.txt")
        for path in (ROOT / "templates" / "email").glob("*.subject.txt")
    }
    assert "nomination_received" in shipped and "announcement" in shipped
    listed = [notice.name for notice in notices.all_notices()]
    assert sorted(listed) == sorted(shipped)
    assert "base" not in listed and not any(name.startswith("_") for name in listed)
    for notice in notices.all_notices():
        assert str(notice.title) and str(notice.description)
        assert notice.placeholders, notice.name
        for placeholder in notice.placeholder_list():
            assert str(placeholder.description), (notice.name, placeholder.name)
        # Every notice can be previewed with sample data, and its starting wording (the
        # shipped text with placeholders) passes the checks made on save.
        preview = notices.preview(notice, "en", notices.sample_data())
        assert not preview.error, (notice.name, preview.error)
        assert preview.subject and preview.text and "<html" in preview.html
        subject, body = notices.starting_wording(notice, "en")
        notices.check_wording(notice, subject, body)
        assert "{{" in subject + body, notice.name


def test_a_new_template_set_is_listed_without_registering_it(app, monkeypatch):
    real = app.jinja_env.list_templates

    def with_a_new_one(*args, **kwargs):
        return [*real(*args, **kwargs), "email/ceremony_invitation.subject.txt"]

    monkeypatch.setattr(app.jinja_env, "list_templates", with_a_new_one)
    notice = notices.get_notice("ceremony_invitation")
    assert not notice.known
    assert "ceremony_invitation" in [n.name for n in notices.all_notices()]
    assert set(notices.GENERIC_PLACEHOLDERS) <= set(notice.placeholders)
    with pytest.raises(LookupError):
        notices.get_notice("no_such_notice")


def test_starting_wording_keeps_the_choice_between_nominee_and_nominator(app):
    subject, body = notices.starting_wording(notices.get_notice("winner"), "en")
    assert "{% if to_nominee %}" in body and "{% else %}" in body
    values = dict(notices.get_notice("winner").examples())
    for to_nominee, expected in ((True, "You have won"), (False, "whom you nominated")):
        template, _names = notices._compiled(False, body)
        assert expected in template.render({**values, "to_nominee": to_nominee})


# --- The sandbox --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("Hello {{ ''.__class__ }}", "not allowed"),
        ("Hello {{ recipient_name.__class__.__mro__ }}", "not allowed"),
        ("Hello {{ recipient_name", "Line 2"),
        ("{% if link %}open", "Line 2: Unexpected end of template"),
        ("Hello {{ password_hash }}", "Unknown placeholder: password_hash"),
        ("{% if x %}{{ secret }}{% endif %}", "Unknown placeholders: secret, x"),
        ("{{ recipient_name.upper() }}", "not called"),
        ("{{ range(10) }}", "not called"),
        ("{% macro m() %}x{% endmacro %}", "Macros"),
        ("{% include 'email/base.html' %}", "include or extend"),
        ("{% for c in 'abc' %}{{ c }}{% endfor %}", "list placeholder"),
        ("{% for c in recipient_name %}{{ c }}{% endfor %}", "list placeholder"),
        ("{% set x = 'a' %}{{ x }}", "cannot set variables"),
        ("{% with x = 'a' %}{{ x }}{% endwith %}", "cannot set variables"),
        ("{{ 'a' * 100000000 }}", "too long"),
        ("{{ 9 ** 9999 }}", "too large"),
        ("{{ recipient_name | center(100000000) }}", "No filter named"),
    ],
)
def test_wording_that_could_misbehave_is_refused(app, body, message):
    notice = notices.get_notice("verify_email")
    with pytest.raises(notices.NoticeError) as refused:
        notices.check_wording(notice, "Subject", body + "\n{{ link }}")
    assert message in str(refused.value)
    assert refused.value.field == "body"


def test_loops_go_over_the_awards_two_levels_deep(app):
    notice = notices.get_notice("announcement")
    body = (
        "{% for award in awards %}{% for winner in award.winners %}{{ winner.name }}"
        "{% endfor %}{% endfor %}\n{{ unsubscribe_link }}"
    )
    notices.check_wording(notice, "News", body)
    deeper = (
        "{% for award in awards %}{% for winner in award.winners %}"
        "{% for letter in winner.name %}{{ letter }}{% endfor %}{% endfor %}{% endfor %}"
        "\n{{ unsubscribe_link }}"
    )
    with pytest.raises(notices.NoticeError, match="nested too deeply"):
        notices.check_wording(notice, "News", deeper)


def test_announcement_wording_must_keep_the_unsubscribe_link(app):
    notice = notices.get_notice("announcement")
    with pytest.raises(notices.NoticeError, match="unsubscribe_link"):
        notices.check_wording(notice, "News", "The winners: {{ winners_link }}")
    notices.check_wording(notice, "News", "Winners: {{ winners_link }}\n{{ unsubscribe_link }}")


def test_values_never_become_markup_or_links_in_the_html_part(app):
    nominee = "[Verify your account](https://phish.example) <script>alert(1)</script> *x*"
    notice = notices.get_notice("nomination_ineligible")
    context = notice.context(notices.sample_data())
    context["nomination"].nominee_name = nominee
    subject, text, body_html = notices.render_wording(
        notice, "en", "For {{ nominee_name }}", "Dear {{ nominee_name }}, see {{ link }}", context
    )
    assert subject == f"For {nominee}"
    assert nominee in text  # the text part shows what was typed, as typed
    assert 'href="https://phish.example' not in body_html
    assert "[Verify your account](https://phish.example)" in html.unescape(body_html)
    assert f'href="{context["link"]}"' in body_html  # the platform's own link is a link
    assert "<script>" not in body_html
    assert "<em>" not in body_html
    assert "&lt;script&gt;" in body_html


# --- The outbox uses the wording ----------------------------------------------------------


def test_saved_wording_is_used_by_queue_email_in_its_language_only(app, secretariat):
    notice = notices.get_notice("verify_email")
    notices.save_wording(notice, "fr", SUBJECT, BODY, secretariat)
    db.session.commit()
    french = verify_email("claire@example.org", "fr", "verify:fr")
    english = verify_email("amina@example.org", "en", "verify:en")
    db.session.commit()
    assert french.subject == "Welcome, Amina Diallo"
    assert "Dear **Amina Diallo**," in french.body_text
    assert "https://x.test/verify/abc" in french.body_text
    assert "<strong>Amina Diallo</strong>" in french.body_html
    assert 'href="https://x.test/verify/abc"' in french.body_html
    # The branded layout, in the recipient's language.
    assert '<html lang="fr">' in french.body_html and "#073763" in french.body_html
    # A line break in the body is a line break in the email.
    assert re.search(r"abc</a><br>\s*Thanks", french.body_html)
    assert english.subject == "Confirm your email address for the E-waste Awards"


def test_bulk_queueing_reads_the_wording_once(app, secretariat):
    notice = notices.get_notice("verify_email")
    notices.save_wording(notice, "en", SUBJECT, BODY, secretariat)
    db.session.commit()
    people = [make_user(f"reader{n}@example.org", name=f"Reader {n}") for n in range(25)]
    db.session.commit()
    lookups = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if "notice_templates" in statement:
            lookups.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        queued = outbox.queue_emails(
            outbox.Email(
                f"verify:{p.id}",
                "verify_email",
                p.email,
                "en",
                context={"user": p, "link": "https://x.test/v"},
            )
            for p in people
        )
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    db.session.commit()
    assert queued == 25
    assert len(lookups) == 1
    subjects = set(db.session.execute(select(OutboxMessage.subject)).scalars())
    assert subjects == {f"Welcome, Reader {n}" for n in range(25)}


def test_without_wording_one_small_lookup_and_the_shipped_text(app):
    lookups = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if "notice_templates" in statement:
            lookups.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        first = verify_email("a@example.org", key="verify:a")
        second = verify_email("b@example.org", key="verify:b")
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(lookups) == 1
    assert first.subject == second.subject == "Confirm your email address for the E-waste Awards"


def test_wording_failing_on_a_real_message_falls_back_to_the_shipped_one(app, secretariat):
    # The generic placeholders of a notice: its code may pass fewer values than documented.
    notice = notices.get_notice("committee_thanks")
    notices.save_wording(notice, "en", "Thanks {{ recipient_name }}", "Hi {{ link }}", secretariat)
    db.session.commit()
    user = make_user("reviewer@example.org", name="Li Wei")
    edition = make_edition()
    category = make_category(edition=edition)
    context = {"user": user, "category": category, "edition": edition}  # no link
    subject, text, _html = outbox.render_notice("committee_thanks", "en", **context)
    assert subject == f"Thank you from the {edition.name}"
    context["link"] = "https://x.test/winners"
    subject, text, _html = outbox.render_notice("committee_thanks", "en", **context)
    assert subject == "Thanks Li Wei" and "https://x.test/winners" in text


def test_emails_carry_the_edition_branding(app):
    edition = make_edition(2031, name="E-waste Awards 2031 Geneva")
    category = make_category(edition=edition)
    user = make_user("admin@example.org")
    _subject, _text, body_html = outbox.render_notice(
        "category_approved",
        "en",
        user=user,
        category=category,
        actor=None,
        comment="",
        link="https://x.test/c",
    )
    assert "E-waste Awards 2031 Geneva 2031 · UN E-waste Coalition" not in body_html
    assert "E-waste Awards 2031 Geneva · UN E-waste Coalition" in body_html
    _subject, _text, plain = outbox.render_notice(
        "verify_email", "en", user=user, link="https://x.test/v"
    )
    assert "E-waste Awards · UN E-waste Coalition" in plain


# --- The pages ----------------------------------------------------------------------------


def test_only_the_secretariat_reaches_the_notice_pages(browser, make_browser, secretariat):
    for url in ("/secretariat/notices/", edit_url()):
        response = browser.get(url)
        assert response.status_code == 302 and "/account/login" in response.headers["Location"]
    account("nominator@example.org")
    db.session.commit()
    other = make_browser()
    assert other.login("nominator@example.org", PASSWORD).status_code == 302
    assert other.get("/secretariat/notices/").status_code == 403
    assert other.get(edit_url()).status_code == 403
    token = other.token("/about")
    for url in (edit_url(), edit_url() + "/test", edit_url() + "/reset"):
        data = {"csrf_token": token, "subject": "x", "body": "{{ link }}", "save": "1"}
        assert other.client.post(url, data=data).status_code == 403
    assert db.session.scalar(select(func.count(NoticeTemplate.id))) == 0
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0


def test_unknown_notices_and_languages_are_not_found(sec):
    assert sec.get(edit_url("no_such_notice")).status_code == 404
    assert sec.get(edit_url("verify_email", "de")).status_code == 404
    assert sec.get(edit_url("_button")).status_code == 404
    assert sec.get(edit_url("base")).status_code == 404


def test_the_list_names_each_email_its_placeholders_and_own_wordings(sec, secretariat):
    notices.save_wording(
        notices.get_notice("winner"), "ar", "{{ public_name }}", "{{ citation }}", secretariat
    )
    db.session.commit()
    page = sec.get("/secretariat/notices/").get_data(as_text=True)
    assert page.count("<h1>") == 1
    for notice in notices.all_notices():
        assert f"/secretariat/notices/{notice.name}/en" in page
    assert "{{ nominee_name }}" in page and "{{ unsubscribe_link }}" in page
    assert "your wording" in page


def test_editing_starts_from_the_shipped_wording_and_saves(sec, secretariat):
    page = sec.get(edit_url("nomination_received")).get_data(as_text=True)
    assert "Thank you for your nomination for the {{ category_title }}" in html.unescape(page)
    assert "{{ reference }}" in html.unescape(page)
    # The wording's fields say their language, whatever the page's.
    french = sec.get(edit_url("nomination_received", "fr")).get_data(as_text=True)
    for text, code in ((page, "en"), (french, "fr")):
        subject = re.search(r'<input[^>]*name="subject"[^>]*>', text).group(0)
        body = re.search(r'<textarea[^>]*name="body"[^>]*>', text).group(0)
        assert f'lang="{code}"' in subject and f'lang="{code}"' in body
    response = save(sec, "verify_email", "en", SUBJECT, BODY)
    assert response.status_code == 302
    row = stored()
    assert (row.subject, row.body.replace("\r\n", "\n")) == (SUBJECT, BODY)
    assert row.updated_by_id == secretariat.id
    page = sec.get(edit_url()).get_data(as_text=True)
    assert "uses your wording" in page and "Reset to the default" in page
    event_row = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "notice.saved")
    ).scalar_one()
    assert event_row.actor_id == secretariat.id and event_row.detail["notice"] == "verify_email"
    # Saving again updates the same row.
    assert save(sec, "verify_email", "en", "Again {{ recipient_name }}", BODY).status_code == 302
    assert db.session.scalar(select(func.count(NoticeTemplate.id))) == 1


def test_invalid_wording_is_refused_keeping_what_was_typed(sec):
    typed = "Hello {{ ''.__class__.__mro__ }} and {{ link }}"
    response = save(sec, "verify_email", "en", "Keep this subject", typed)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "This is not allowed in a notice" in page
    assert 'id="body-error"' in page  # next to the body field
    assert "Keep this subject" in page
    assert typed in html.unescape(page)
    response = save(sec, "verify_email", "en", "Hi {{ recipient_name", BODY)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="subject-error"' in page and "Line 1" in page
    assert stored() is None
    # Too long, and empty.
    response = save(sec, "verify_email", "en", "x" * 301, BODY)
    assert response.status_code == 200 and stored() is None
    response = save(sec, "verify_email", "en", "", "")
    assert response.status_code == 200 and stored() is None


def test_reset_goes_back_to_the_shipped_wording(sec, secretariat):
    save(sec, "verify_email", "en", SUBJECT, BODY)
    assert stored() is not None
    response = sec.post(edit_url() + "/reset", page=edit_url())
    assert response.status_code == 302
    assert stored() is None
    assert verify_email().subject == "Confirm your email address for the E-waste Awards"
    actions = set(db.session.execute(select(AuditEvent.action)).scalars())
    assert {"notice.saved", "notice.reset"} <= actions
    # A second reset changes nothing and says so.
    response = sec.post(edit_url() + "/reset", page=edit_url(), follow_redirects=True)
    assert "already uses the shipped wording" in response.get_data(as_text=True)


def test_preview_with_a_real_nomination_and_of_unsaved_text(sec, secretariat):
    category = make_category(title="UNEP Award for Clean Recycling")
    nomination = make_nomination(category, nominee_name="Kigali Repair Hub")
    make_nomination(category, state=NominationState.DRAFT, nominee_name="Secret Draft")
    db.session.commit()
    page = sec.get(edit_url("nomination_received", source=nomination.id)).get_data(as_text=True)
    assert "Kigali Repair Hub" in page and "UNEP Award for Clean Recycling" in page
    assert re.search(r"<iframe sandbox srcdoc=\"[^\"]*Kigali Repair Hub", page)
    assert "Secret Draft" not in page  # drafts are their nominator's alone
    # The preview button shows the typed wording with that nomination, and saves nothing.
    url = edit_url("nomination_received")
    response = sec.post(
        url,
        {
            "subject": "About {{ nominee_name }}",
            "body": "Award: {{ category_title }} ({{ reference }})",
            "source": str(nomination.id),
            "preview": "Preview",
        },
        page=url,
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "About Kigali Repair Hub" in page
    assert f"Award: UNEP Award for Clean Recycling ({nomination.reference})" in page
    assert "not saved" in page
    assert stored("nomination_received") is None
    # An unknown or draft nomination falls back to sample data, with a word of warning.
    page = sec.get(edit_url("nomination_received", source="99999")).get_data(as_text=True)
    assert "sample data are shown" in page and "Green Bytes Cooperative" in page


def test_send_a_test_to_myself_through_the_outbox(sec, secretariat, smtp):
    save(sec, "verify_email", "en", SUBJECT, BODY)
    for _click in range(2):
        response = sec.post(edit_url() + "/test", {"source": "sample"}, page=edit_url())
        assert response.status_code == 302
    messages = list(db.session.execute(select(OutboxMessage)).scalars())
    assert len(messages) == 2 and len({m.key for m in messages}) == 2
    assert {m.to_address for m in messages} == {SECRETARIAT_EMAIL}
    assert all(m.subject == "Welcome, Amina Diallo" for m in messages)
    assert outbox.deliver_due().sent == 2
    received = smtp.to(SECRETARIAT_EMAIL)
    assert len(received) == 2 and received[0]["Subject"] == "Welcome, Amina Diallo"
    tests = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "notice.test_sent")
    ).all()
    assert len(tests) == 2


def test_test_send_with_a_real_nomination(sec, secretariat):
    nomination = make_nomination(make_category(), nominee_name="Kigali Repair Hub")
    db.session.commit()
    response = sec.post(
        edit_url("nominee_informed") + "/test",
        {"source": str(nomination.id)},
        page=edit_url("nominee_informed"),
    )
    assert response.status_code == 302
    assert f"source={nomination.id}" in response.headers["Location"]
    message = db.session.execute(select(OutboxMessage)).scalar_one()
    assert message.to_address == SECRETARIAT_EMAIL
    assert "Kigali Repair Hub" in message.body_text


def test_forms_need_their_csrf_token(sec):
    url = edit_url()
    response = sec.client.post(url, data={"subject": SUBJECT, "body": BODY, "save": "1"})
    assert response.status_code == 400
    assert "Welcome, {{ recipient_name }}" in response.get_data(as_text=True)  # kept
    assert stored() is None
    assert sec.client.post(url + "/test", data={"source": "sample"}).status_code == 400
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0


def test_page_token_helper_reads_the_edit_form(sec):
    # The edit page's form carries the token the POSTs above rely on.
    assert csrf_token_from(sec.get(edit_url()).get_data(as_text=True))


@pytest.mark.parametrize("language", ["en", "fr", "es", "ar", "zh", "ru"])
def test_shipped_emails_render_as_flask_babel_renders_them(app, language):
    # render_shipped binds gettext and ngettext to the language's catalogue once per message
    # and skips the page's context processors; every notice must come out exactly as through
    # Flask's render_template and Flask-Babel's own callables, escaping and plurals included.
    from flask import render_template
    from flask_babel import force_locale

    sample = notices.sample_data()
    sample.category.title = 'Batteries <b>& "cells"</b> 100%'
    for notice in notices.REGISTRY.values():
        context = notice.context(sample)
        with app.test_request_context():
            with force_locale(language):
                subject = render_template(f"email/{notice.name}.subject.txt", **context)
                text = render_template(f"email/{notice.name}.txt", **context)
                html_body = render_template(f"email/{notice.name}.html", subject=subject, **context)
            expected = (" ".join(subject.split()), text, html_body)
            assert outbox.render_shipped(notice.name, language, context) == expected, notice.name
