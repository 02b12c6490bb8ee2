"""Request tests for the Secretariat's outbox page: who sees it, filters, pages, retry, cancel."""

from __future__ import annotations

import functools
import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from awards import outbox
from awards.extensions import db
from awards.models import AuditEvent, OutboxMessage, OutboxState, Role, User, utcnow

from .conftest import Browser
from .factories import PASSWORD, grant, make_org, make_user
from .test_query_counts import counting_statements

SECRETARIAT_EMAIL = "sec@example.org"
MESSAGE_LINK = re.compile(r'href="/secretariat/outbox/(\d+)"')


@functools.cache
def _password_hash() -> str:
    return generate_password_hash(PASSWORD, method="scrypt")


def account(email: str) -> User:
    return make_user(email, password=None, password_hash=_password_hash())


def signed_in(browser: Browser, email: str) -> Browser:
    assert browser.login(email, PASSWORD).status_code == 302, "log-in failed"
    return browser


_numbers = iter(range(1, 1_000_000))


def make_message(state: OutboxState = OutboxState.QUEUED, **values) -> OutboxMessage:
    number = next(_numbers)
    now = utcnow()
    message = OutboxMessage(
        key=values.pop("key", f"notice:{number}"),
        template=values.pop("template", "nomination_received"),
        to_address=values.pop("to_address", f"person{number}@example.org"),
        subject=values.pop("subject", f"Nomination received {number}"),
        body_text=values.pop("body_text", f"Dear person {number},\nthank you."),
        body_html=values.pop("body_html", f"<p>Dear person {number},</p><p>thank you.</p>"),
        headers=values.pop("headers", {}),
        state=state,
        attempts=values.pop("attempts", 0),
        next_attempt_at=values.pop("next_attempt_at", now),
        created_at=values.pop("created_at", now),
        last_error=values.pop("last_error", ""),
        **values,
    )
    db.session.add(message)
    db.session.flush()
    return message


def reload(message_id: int) -> OutboxMessage:
    db.session.expire_all()
    return db.session.get(OutboxMessage, message_id)


def events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(
        db.session.execute(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        ).scalars()
    )


@pytest.fixture
def secretariat() -> User:
    user = account(SECRETARIAT_EMAIL)
    grant(user, Role.SECRETARIAT)
    db.session.commit()
    return user


@pytest.fixture
def sec(browser, secretariat) -> Browser:
    return signed_in(browser, SECRETARIAT_EMAIL)


# --- Who may enter -------------------------------------------------------------------------


@pytest.fixture
def failed_and_queued(secretariat) -> dict[str, int]:
    failed = make_message(OutboxState.FAILED, attempts=8, last_error="550 5.1.1 no such user")
    queued = make_message(OutboxState.QUEUED)
    db.session.commit()
    return {"failed": failed.id, "queued": queued.id}


def test_anonymous_visitors_are_sent_to_log_in(browser, failed_and_queued):
    for url in ("/secretariat/outbox/", f"/secretariat/outbox/{failed_and_queued['failed']}"):
        response = browser.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/account/login"), url
    response = browser.post(f"/secretariat/outbox/{failed_and_queued['failed']}/retry")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/login")
    assert reload(failed_and_queued["failed"]).state is OutboxState.FAILED


@pytest.mark.parametrize("who", ["nominator", "member admin"])
def test_other_people_are_refused(make_browser, failed_and_queued, who):
    person = account("someone@example.org")
    if who == "member admin":
        grant(person, Role.MEMBER_ADMIN, organisation=make_org("ITU"))
    db.session.commit()
    browser = signed_in(make_browser(), "someone@example.org")
    failed, queued = failed_and_queued["failed"], failed_and_queued["queued"]
    for url in ("/secretariat/outbox/", "/secretariat/outbox/?state=failed"):
        assert browser.get(url).status_code == 403, url
    assert browser.get(f"/secretariat/outbox/{failed}").status_code == 403
    assert browser.post(f"/secretariat/outbox/{failed}/retry").status_code == 403
    assert browser.post(f"/secretariat/outbox/{queued}/cancel").status_code == 403
    assert browser.post("/secretariat/outbox/retry-failed").status_code == 403
    assert reload(failed).state is OutboxState.FAILED
    assert reload(queued).state is OutboxState.QUEUED
    assert events("outbox.retried") == [] and events("outbox.cancelled") == []


def test_the_secretariat_sees_the_outbox_and_links_to_it(sec, failed_and_queued):
    response = sec.get("/secretariat/outbox/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count("<h1") == 1 and ' style="' not in html and "<script>" not in html
    assert "<caption>" in html and 'scope="col"' in html
    assert "550 5.1.1 no such user" in html
    assert sec.get(f"/secretariat/outbox/{failed_and_queued['failed']}").status_code == 200
    assert sec.get("/secretariat/outbox/999999").status_code == 404
    assert 'href="/secretariat/outbox/"' in sec.get("/dashboard/").get_data(as_text=True)
    assert 'href="/secretariat/outbox/"' in sec.get("/secretariat/").get_data(as_text=True)


# --- Listing -------------------------------------------------------------------------------


def test_messages_are_filtered_by_state_with_counts(sec, secretariat):
    ids = {
        state: [make_message(state).id for _ in range(number)]
        for state, number in [
            (OutboxState.QUEUED, 3),
            (OutboxState.SENDING, 1),
            (OutboxState.SENT, 4),
            (OutboxState.FAILED, 2),
            (OutboxState.CANCELLED, 1),
        ]
    }
    db.session.commit()

    html = sec.get("/secretariat/outbox/").get_data(as_text=True)
    shown = [int(found) for found in MESSAGE_LINK.findall(html)]
    assert sorted(shown) == sorted(sum(ids.values(), []))
    assert shown == sorted(shown, reverse=True)  # newest first
    tabs = html.split('aria-label="Emails by state"')[1].split("</nav>")[0]
    # The states that need attention are counted; sent and cancelled emails only pile up and
    # are not (nor is the whole list).
    for label, number in [("Queued", 3), ("Being sent", 1), ("Failed", 2)]:
        assert re.search(rf"{label} <span class=\"badge[^\"]*\">{number}</span>", tabs), label
    for label in ("All", "Sent", "Cancelled"):
        assert re.search(rf">{label}</a>", tabs), label

    for state, expected in ids.items():
        response = sec.get(f"/secretariat/outbox/?state={state.value}")
        page = response.get_data(as_text=True)
        assert sorted(int(found) for found in MESSAGE_LINK.findall(page)) == sorted(expected)
        assert 'aria-current="page" href="/secretariat/outbox/?state=' + state.value in page

    # An unknown state shows everything rather than an error.
    page = sec.get("/secretariat/outbox/?state=nonsense").get_data(as_text=True)
    assert len(MESSAGE_LINK.findall(page)) == 11


def test_messages_are_paginated_fifty_to_a_page(sec, secretariat):
    start = utcnow() - timedelta(days=1)
    ids = [
        make_message(OutboxState.SENT, created_at=start + timedelta(minutes=n)).id
        for n in range(120)
    ]
    db.session.commit()
    newest_first = list(reversed(ids))
    seen = []
    for number, size in [(1, 50), (2, 50), (3, 20)]:
        with counting_statements() as statements:
            html = sec.get(f"/secretariat/outbox/?state=sent&page={number}").get_data(as_text=True)
        rows = [int(found) for found in MESSAGE_LINK.findall(html)]
        assert len(rows) == size
        # Not counted: "Page N" with the neighbours that exist.
        assert f"Page {number}</span>" in html and " of 3" not in html
        assert ("page=" + str(number + 1) in html) == (number < 3)
        assert ("page=" + str(number - 1) in html) == (number > 1)
        # One count: the attention states', grouped.
        counts = [sql for sql in statements if "count(" in sql.lower()]
        assert len(counts) == 1 and "group by" in counts[0].lower()
        seen += rows
    assert seen == newest_first
    # The page links keep the filter.
    html = sec.get("/secretariat/outbox/?state=sent").get_data(as_text=True)
    assert "/secretariat/outbox/?state=sent&amp;page=2" in html
    # Out of range or nonsense pages do not fail.
    assert sec.get("/secretariat/outbox/?page=99").status_code == 200
    assert sec.get("/secretariat/outbox/?page=x").status_code == 200


# --- One message, rendered -----------------------------------------------------------------


def test_html_body_is_shown_only_inside_a_sandboxed_frame(sec, secretariat):
    evil = '<script>alert("owned")</script><p onclick="steal()">Dear winner</p>'
    message = make_message(
        OutboxState.SENT,
        subject="Congratulations <b>winner</b>",
        body_text="Dear winner,\n<script>alert(1)</script>\nSee you in Davos.",
        body_html=evil,
        headers={"List-Unsubscribe": "<https://awards.example.org/unsubscribe/x>"},
    )
    db.session.commit()
    html = sec.get(f"/secretariat/outbox/{message.id}").get_data(as_text=True)
    frames = re.findall(r"<iframe[^>]*>", html)
    assert len(frames) == 1
    frame = frames[0]
    assert re.search(r"\ssandbox(\s|=\"\")", frame), "the frame must be sandboxed"
    assert "allow-scripts" not in frame and "allow-same-origin" not in frame
    srcdoc = re.search(r'srcdoc="([^"]*)"', frame).group(1)
    assert "&lt;script&gt;alert(&#34;owned&#34;)&lt;/script&gt;" in srcdoc
    # Nothing of the message reaches the page as markup.
    main = html.split("<main")[1].split("</main>")[0]
    assert "<script" not in main and 'onclick="steal' not in html and "<b>winner" not in html
    text = re.search(r"<pre[^>]*>(.*?)</pre>", html, re.S).group(1)
    assert "Dear winner," in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "https://awards.example.org/unsubscribe/x" in html
    assert html.count("<h1") == 1 and ' style="' not in html


def test_a_message_without_html_says_so(sec, secretariat):
    message = make_message(body_html=None)
    db.session.commit()
    html = sec.get(f"/secretariat/outbox/{message.id}").get_data(as_text=True)
    assert "<iframe" not in html and "no HTML version" in html


# --- Retry and cancel ----------------------------------------------------------------------


def test_retrying_a_failed_message_queues_it_now_and_keeps_its_attempts(sec, secretariat, smtp):
    message = make_message(
        OutboxState.FAILED,
        attempts=3,
        last_error="550 5.1.1 no such user",
        next_attempt_at=utcnow() + timedelta(hours=5),
        to_address="kwame@example.org",
    )
    db.session.commit()
    page = f"/secretariat/outbox/{message.id}"
    response = sec.post(f"{page}/retry", page=page, follow_redirects=True)
    assert response.status_code == 200
    assert "queued again" in response.get_data(as_text=True)
    retried = reload(message.id)
    assert retried.state is OutboxState.QUEUED
    assert retried.attempts == 3
    assert retried.next_attempt_at <= utcnow()
    [event] = events("outbox.retried")
    assert event.actor_id == secretariat.id and event.object_id == message.id
    # The worker sends it on its next round.
    assert outbox.deliver_due().sent == 1
    assert len(smtp.to("kwame@example.org")) == 1


def test_cancelling_a_queued_message_means_it_is_never_sent(sec, secretariat, smtp):
    message = make_message(OutboxState.QUEUED, to_address="amina@example.org")
    db.session.commit()
    page = f"/secretariat/outbox/{message.id}"
    response = sec.post(f"{page}/cancel", page=page, follow_redirects=True)
    assert "will not be sent" in response.get_data(as_text=True)
    assert reload(message.id).state is OutboxState.CANCELLED
    [event] = events("outbox.cancelled")
    assert event.actor_id == secretariat.id and event.object_id == message.id
    assert outbox.deliver_due().handled == 0
    assert smtp.to("amina@example.org") == []


@pytest.mark.parametrize(
    ("state", "action", "refusal"),
    [
        (OutboxState.SENT, "retry", "Only a failed email can be retried; this one is sent."),
        (OutboxState.QUEUED, "retry", "Only a failed email can be retried; this one is queued."),
        (OutboxState.FAILED, "cancel", "Only a queued email can be cancelled; this one is failed."),
        (OutboxState.SENDING, "cancel", "this one is being sent."),
        (OutboxState.CANCELLED, "cancel", "this one is cancelled."),
    ],
)
def test_actions_in_the_wrong_state_are_refused_with_a_message(
    sec, secretariat, state, action, refusal
):
    message = make_message(state, attempts=2)
    db.session.commit()
    page = f"/secretariat/outbox/{message.id}"
    response = sec.post(f"{page}/{action}", page=page, follow_redirects=True)
    assert response.status_code == 200
    assert refusal in response.get_data(as_text=True)
    unchanged = reload(message.id)
    assert unchanged.state is state and unchanged.attempts == 2
    assert events("outbox.retried") == [] and events("outbox.cancelled") == []


def test_actions_need_the_csrf_token(sec, failed_and_queued):
    failed, queued = failed_and_queued["failed"], failed_and_queued["queued"]
    for url in (
        f"/secretariat/outbox/{failed}/retry",
        f"/secretariat/outbox/{queued}/cancel",
        "/secretariat/outbox/retry-failed",
    ):
        assert sec.client.post(url, data={}).status_code == 400, url
        assert sec.client.post(url, data={"csrf_token": "forged"}).status_code == 400, url
    assert reload(failed).state is OutboxState.FAILED
    assert reload(queued).state is OutboxState.QUEUED


def test_unknown_messages_are_not_found(sec, secretariat):
    assert sec.post("/secretariat/outbox/999999/retry").status_code == 404
    assert sec.post("/secretariat/outbox/999999/cancel").status_code == 404


def test_retry_all_failed(sec, secretariat):
    failed = [make_message(OutboxState.FAILED, attempts=8).id for _ in range(3)]
    sent = make_message(OutboxState.SENT).id
    db.session.commit()
    html = sec.get("/secretariat/outbox/?state=failed").get_data(as_text=True)
    assert "Retry all 3 failed emails" in html
    response = sec.post(
        "/secretariat/outbox/retry-failed", page="/secretariat/outbox/", follow_redirects=True
    )
    assert "3 failed emails are queued again." in response.get_data(as_text=True)
    assert all(reload(i).state is OutboxState.QUEUED for i in failed)
    assert all(reload(i).attempts == 8 for i in failed)
    assert reload(sent).state is OutboxState.SENT
    [event] = events("outbox.retried_all")
    assert event.actor_id == secretariat.id and event.detail["count"] == 3
    # Nothing left to retry: said so, and nothing audited.
    response = sec.post(
        "/secretariat/outbox/retry-failed", page="/secretariat/outbox/", follow_redirects=True
    )
    assert "no failed email" in response.get_data(as_text=True)
    assert len(events("outbox.retried_all")) == 1
    assert "Retry all" not in sec.get("/secretariat/outbox/").get_data(as_text=True)


def test_the_page_allows_exactly_the_emails_own_inline_styles(sec, secretariat):
    """The frame inherits the page's policy: the email's style attributes are allowed by
    hash, and nothing else (no script, no other inline style)."""
    message = make_message(
        OutboxState.SENT,
        body_html='<body style="background:#f3f5f7"><p style="color:#073763">Hi &amp; bye</p>'
        "</body>",
    )
    db.session.commit()
    policy = sec.get(f"/secretariat/outbox/{message.id}").headers["Content-Security-Policy"]
    style = next(part for part in policy.split("; ") if part.startswith("style-src"))
    assert style.startswith("style-src 'self' 'unsafe-hashes' 'sha256-")
    assert style.count("'sha256-") == 2 and "unsafe-inline" not in policy
    assert "script-src 'self'" in policy
    plain = make_message(OutboxState.SENT, body_html="<p>No styles</p>")
    db.session.commit()
    policy = sec.get(f"/secretariat/outbox/{plain.id}").headers["Content-Security-Policy"]
    assert "style-src 'self';" in policy


def test_chromium_shows_the_email_with_its_styles(tab, secretariat):
    message = make_message(
        OutboxState.SENT,
        body_html='<body style="background:#f3f5f7"><p id="hello" style="color:#073763">Hello'
        '</p><p id="forged">Not styled</p></body>',
    )
    db.session.commit()
    violations = []
    tab.on("console", lambda m: violations.append(m.text) if "Content Security" in m.text else 0)
    tab.goto("/account/login")
    tab.get_by_label("Email address").fill(SECRETARIAT_EMAIL)
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Log in").click()
    tab.get_by_role("heading", level=1).first.wait_for()
    tab.goto(f"/secretariat/outbox/{message.id}")
    frame = tab.frame_locator("iframe")
    colour = frame.locator("#hello").evaluate("e => getComputedStyle(e).color")
    background = frame.locator("body").evaluate("e => getComputedStyle(e).backgroundColor")
    assert colour == "rgb(7, 55, 99)" and background == "rgb(243, 245, 247)"
    assert violations == []
