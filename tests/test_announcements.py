"""The announcement list: double opt-in, the news once per reader, one-click unsubscribe."""

from __future__ import annotations

import csv
import functools
import io
import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from awards import announcements, notices, outbox
from awards.extensions import db
from awards.models import (
    AnnouncementSubscriber,
    AuditEvent,
    CategoryState,
    Decision,
    DecisionKind,
    DecisionState,
    Edition,
    NominationState,
    OutboxMessage,
    Role,
    User,
    utcnow,
)

from .conftest import Browser
from .factories import (
    PASSWORD,
    grant,
    make_category,
    make_edition,
    make_nomination,
    make_org,
    make_user,
)

SECRETARIAT_EMAIL = "sec@example.org"
TOKEN_RE = re.compile(r"/announcements/(confirm|unsubscribe)/([A-Za-z0-9_.\-]+)")
CSRF_VALUE = re.compile(r'(name="csrf_token" (?:type="hidden" )?value=")[^"]+')


@functools.cache
def _password_hash() -> str:
    return generate_password_hash(PASSWORD, method="scrypt")


@pytest.fixture
def secretariat() -> User:
    user = make_user(SECRETARIAT_EMAIL, password=None, password_hash=_password_hash())
    grant(user, Role.SECRETARIAT)
    db.session.commit()
    return user


@pytest.fixture
def sec(make_browser, secretariat) -> Browser:
    browser = make_browser()
    assert browser.login(SECRETARIAT_EMAIL, PASSWORD).status_code == 302
    return browser


def subscribe(browser: Browser, email: str, language: str = "en", **kwargs):
    return browser.post(
        "/announcements/", {"email": email, "language": language}, page="/announcements/", **kwargs
    )


def confirmation_path(email: str) -> str:
    messages = db.session.execute(
        select(OutboxMessage)
        .where(OutboxMessage.to_address == email, OutboxMessage.template == "subscription_confirm")
        .order_by(OutboxMessage.id.desc())
    ).scalars()
    message = next(iter(messages))
    match = TOKEN_RE.search(message.body_text)
    assert match and match.group(1) == "confirm"
    return match.group(0)


def subscriber(email: str) -> AnnouncementSubscriber | None:
    db.session.expire_all()
    return db.session.execute(
        select(AnnouncementSubscriber).where(AnnouncementSubscriber.email == email)
    ).scalar_one_or_none()


def reader(email: str, *, confirmed=True, unsubscribed=False, language="en"):
    item = AnnouncementSubscriber(
        email=email,
        language=language,
        confirmed_at=utcnow() if confirmed else None,
        unsubscribed_at=utcnow() if unsubscribed else None,
    )
    db.session.add(item)
    db.session.flush()
    return item


def decide(category, name, kind=DecisionKind.WINNER, rank=1, country="KE"):
    state = (
        NominationState.WINNER
        if kind is DecisionKind.WINNER
        else NominationState.HONOURABLE_MENTION
    )
    nomination = make_nomination(category, state=state, nominee_name=name)
    decision = Decision(
        nomination=nomination,
        kind=kind,
        rank=rank,
        citation=f"For the work of {name}.",
        public_name=name,
        public_organisation=f"{name} Cooperative",
        public_country=country,
        state=DecisionState.APPROVED,
        approved_at=utcnow(),
    )
    db.session.add(decision)
    db.session.flush()
    return decision


@pytest.fixture
def edition() -> Edition:
    """An edition with one published award (a winner, a mention) and one still embargoed."""
    edition = make_edition(2032, name="E-waste Awards 2032", event_name="WSIS Forum")
    itu = make_org("ITU", name="International Telecommunication Union")
    published = make_category(
        itu, edition, title="ITU Award for Digital Circularity", state=CategoryState.PUBLISHED
    )
    decide(published, "Circuit Commons")
    decide(published, "ReMetal Industries", DecisionKind.HONOURABLE_MENTION, country="IN")
    embargoed = make_category(edition=edition, title="WHO Award", state=CategoryState.DECIDED)
    decide(embargoed, "Secret Winner")
    db.session.commit()
    return edition


def news(email: str) -> OutboxMessage | None:
    return db.session.execute(
        select(OutboxMessage).where(
            OutboxMessage.to_address == email, OutboxMessage.template == "announcement"
        )
    ).scalar_one_or_none()


# --- Subscribing ---------------------------------------------------------------------------


def test_subscribing_sends_a_link_to_confirm(browser):
    page = browser.get("/announcements/").get_data(as_text=True)
    assert page.count("<h1>") == 1 and 'for="email"' in page and 'for="language"' in page
    response = subscribe(browser, "  Amina@Example.org ", "fr")
    assert response.status_code == 200
    assert "Check your email" in response.get_data(as_text=True)
    item = subscriber("amina@example.org")
    assert item is not None and item.language == "fr"
    assert item.confirmed_at is None and item.unsubscribed_at is None
    message = db.session.execute(select(OutboxMessage)).scalar_one()
    assert message.to_address == "amina@example.org"
    assert message.template == "subscription_confirm"
    assert confirmation_path("amina@example.org") in message.body_html
    # Not on the list yet: counted as waiting.
    assert announcements.counts() == {"pending": 1, "confirmed": 0, "unsubscribed": 0}


def test_the_answer_is_the_same_whether_or_not_the_address_is_known(browser, make_browser):
    reader("known@example.org")
    reader("waiting@example.org", confirmed=False)
    reader("gone@example.org", unsubscribed=True)
    db.session.commit()

    def answer(email: str) -> str:
        page = subscribe(make_browser(), email).get_data(as_text=True)
        return CSRF_VALUE.sub(r"\1", page.replace(email, "ADDRESS"))

    unknown = answer("new@example.org")
    assert "ADDRESS" in unknown
    for email in ("known@example.org", "waiting@example.org", "gone@example.org"):
        assert answer(email) == unknown, email
    # A confirmed reader gets no new email; the others get a link to confirm.
    sent_to = set(db.session.execute(select(OutboxMessage.to_address)).scalars())
    assert sent_to == {"new@example.org", "waiting@example.org", "gone@example.org"}


def test_asking_again_sends_one_link_per_hour(browser):
    for _ in range(3):
        assert subscribe(browser, "amina@example.org").status_code == 200
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 1
    assert db.session.scalar(select(func.count(AnnouncementSubscriber.id))) == 1


def test_an_invalid_address_is_refused_keeping_it(browser):
    response = subscribe(browser, "not an address")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="email-error"' in page and 'value="not an address"' in page
    assert db.session.scalar(select(func.count(AnnouncementSubscriber.id))) == 0


def test_subscribing_is_rate_limited(browser):
    for number in range(10):
        assert subscribe(browser, f"person{number}@example.org").status_code == 200
    response = subscribe(browser, "one-too-many@example.org")
    assert response.status_code == 429
    assert subscriber("one-too-many@example.org") is None


# --- Confirming ----------------------------------------------------------------------------


def test_confirming_takes_a_click_and_twice_is_harmless(browser):
    subscribe(browser, "amina@example.org")
    path = confirmation_path("amina@example.org")
    page = browser.get(path).get_data(as_text=True)
    assert "amina@example.org" in page and "Yes, subscribe me" in page
    assert subscriber("amina@example.org").confirmed_at is None  # opening is not confirming
    response = browser.post(path, page=path)
    assert response.status_code == 200
    assert "will receive the winners" in response.get_data(as_text=True)
    first = subscriber("amina@example.org").confirmed_at
    assert first is not None
    for again in (browser.get(path), browser.post(path, page=path)):
        assert again.status_code == 200
        assert "already on the list" in again.get_data(as_text=True)
    assert subscriber("amina@example.org").confirmed_at == first
    actions = list(db.session.execute(select(AuditEvent.action)).scalars())
    assert actions.count("announcement.confirmed") == 1
    assert announcements.counts() == {"pending": 0, "confirmed": 1, "unsubscribed": 0}


def test_confirming_needs_the_form_token(browser):
    subscribe(browser, "amina@example.org")
    path = confirmation_path("amina@example.org")
    assert browser.client.post(path).status_code == 400
    assert subscriber("amina@example.org").confirmed_at is None


def test_bad_forged_expired_and_stale_links(app, browser):
    assert browser.get("/announcements/confirm/nonsense").status_code == 404
    assert browser.get("/announcements/unsubscribe/nonsense").status_code == 404
    assert browser.client.post("/announcements/unsubscribe/nonsense").status_code == 404
    subscribe(browser, "amina@example.org")
    path = confirmation_path("amina@example.org")
    token = path.rsplit("/", 1)[1]
    # A confirmation token is no unsubscribe token (another salt), and tampering shows.
    assert browser.get(f"/announcements/unsubscribe/{token}").status_code == 404
    assert browser.get(path[:-2] + ("AA" if not path.endswith("AA") else "BB")).status_code == 404
    app.config["ANNOUNCEMENT_CONFIRM_MAX_AGE"] = -1
    try:
        response = browser.get(path)
        assert response.status_code == 410 and "expired" in response.get_data(as_text=True)
    finally:
        app.config.pop("ANNOUNCEMENT_CONFIRM_MAX_AGE")
    # Confirmed, then unsubscribed: the old confirmation link no longer subscribes again.
    browser.post(path, page=path)
    item = subscriber("amina@example.org")
    announcements.unsubscribe(item)
    db.session.commit()
    response = browser.post(path, page=path)
    assert response.status_code == 410
    assert subscriber("amina@example.org").unsubscribed_at is not None


def test_subscribing_again_after_leaving_needs_a_new_confirmation(browser):
    item = reader("amina@example.org", unsubscribed=True)
    db.session.commit()
    subscribe(browser, "amina@example.org", "es")
    assert subscriber("amina@example.org").unsubscribed_at is not None  # not before confirming
    path = confirmation_path("amina@example.org")
    browser.post(path, page=path)
    item = subscriber("amina@example.org")
    assert announcements.is_listed(item) and item.language == "es"


# --- The news ------------------------------------------------------------------------------


def test_only_confirmed_readers_get_the_news_and_only_once(edition):
    listed = [reader(f"reader{n}@example.org") for n in range(3)]
    reader("waiting@example.org", confirmed=False)
    reader("gone@example.org", unsubscribed=True)
    db.session.commit()
    assert announcements.queue_news(edition) == 3
    db.session.commit()
    assert {m.to_address for m in db.session.execute(select(OutboxMessage)).scalars()} == {
        item.email for item in listed
    }
    message = news("reader1@example.org")
    assert message.key == f"announcement:{edition.id}:{listed[1].id}"
    # A second call queues nothing; a reader who joined since gets it alone.
    assert announcements.queue_news(edition) == 0
    reader("late@example.org")
    db.session.commit()
    assert announcements.queue_news(edition) == 1
    db.session.commit()
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 4
    queued = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "announcement.news_queued")
    ).scalars()
    assert [event.detail["count"] for event in queued] == [3, 1]


def test_the_news_lists_the_published_winners_only(edition):
    reader("amina@example.org")
    reader("claire@example.org", language="fr")
    db.session.commit()
    announcements.queue_news(edition)
    db.session.commit()
    message = news("amina@example.org")
    assert message.subject == "The winners of E-waste Awards 2032"
    for text in (message.body_text, message.body_html):
        assert "ITU Award for Digital Circularity" in text
        assert "Circuit Commons" in text and "For the work of Circuit Commons." in text
        assert "ReMetal Industries" in text
        assert "Secret Winner" not in text and "WHO Award" not in text  # still embargoed
    assert "Kenya" in message.body_text and "India" in message.body_text
    assert "/editions/2032/winners" in message.body_text  # the public winners page
    assert "E-waste Awards 2032 · UN E-waste Coalition" in message.body_html
    french = news("claire@example.org")
    assert french.body_html.startswith('<!doctype html>\n<html lang="fr">')


def test_the_news_is_refused_before_anything_is_published(app):
    edition = make_edition()
    category = make_category(edition=edition, state=CategoryState.DECIDED)
    decide(category, "Secret Winner")
    reader("amina@example.org")
    db.session.commit()
    with pytest.raises(announcements.AnnouncementError, match="published"):
        announcements.queue_news(edition)
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0


def test_each_news_email_carries_one_click_unsubscribe_headers(app, client, edition, smtp):
    first, second = reader("amina@example.org"), reader("kwame@example.org")
    db.session.commit()
    announcements.queue_news(edition)
    db.session.commit()
    assert outbox.deliver_due().sent == 2
    received = smtp.to("amina@example.org")
    assert len(received) == 1
    message = received[0]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    header = message["List-Unsubscribe"]
    match = re.fullmatch(r"<(https?://[^>]+)>", header)
    assert match, header
    url = match.group(1)
    assert url in smtp.text_of(message)  # and a visible link in the body
    assert url != smtp.to("kwame@example.org")[0]["List-Unsubscribe"][1:-1]  # each their own
    # The mail client's one-click POST: no CSRF token, no cookie, just the RFC 8058 body.
    path = urlsplit(url).path
    response = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert not announcements.is_listed(subscriber("amina@example.org"))
    assert announcements.is_listed(subscriber("kwame@example.org"))
    # Twice is harmless.
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert first.id != second.id


def test_opening_the_unsubscribe_link_does_not_unsubscribe(app, browser, edition):
    reader("amina@example.org")
    db.session.commit()
    announcements.queue_news(edition)
    db.session.commit()
    link = news("amina@example.org").headers["List-Unsubscribe"][1:-1]
    path = urlsplit(link).path
    page = browser.get(path).get_data(as_text=True)
    assert "Stop sending the announcements" in page and "amina@example.org" in page
    assert announcements.is_listed(subscriber("amina@example.org"))
    # The page's button unsubscribes.
    response = browser.post(path, page=path)
    assert response.status_code == 200
    assert "receives no more announcements" in response.get_data(as_text=True)
    assert not announcements.is_listed(subscriber("amina@example.org"))
    assert "no longer on the list" in browser.get(path).get_data(as_text=True)


def test_the_secretariats_wording_of_the_news_keeps_each_readers_link(app, secretariat, edition):
    notice = notices.get_notice("announcement")
    notices.save_wording(
        notice,
        "en",
        "News of {{ edition_name }}",
        "{% for award in awards %}{{ award.title }}: "
        "{{ award.winners | map(attribute='name') | join(', ') }}\n{% endfor %}"
        "Leave: {{ unsubscribe_link }}",
        secretariat,
    )
    reader("amina@example.org")
    db.session.commit()
    announcements.queue_news(edition)
    db.session.commit()
    message = news("amina@example.org")
    assert message.subject == "News of E-waste Awards 2032"
    assert "ITU Award for Digital Circularity: Circuit Commons" in message.body_text
    link = message.headers["List-Unsubscribe"][1:-1]
    assert f"Leave: {link}" in message.body_text
    assert f'href="{link}"' in message.body_html


def full_rendering(message: OutboxMessage, edition: Edition, language: str):
    """The message rendered from scratch for its reader, without the bulk shortcut."""
    context = {
        **announcements.news_context(edition, language),
        "email": message.to_address,
        "unsubscribe_link": message.headers["List-Unsubscribe"][1:-1],
    }
    custom = notices._stored_wording("announcement", language, context)
    return custom or outbox.render_shipped("announcement", language, context)


@pytest.mark.parametrize(
    "body",
    [
        None,  # the shipped templates
        "Hello {{ recipient_email }}! {% for a in awards %}{{ a.title }} {% endfor %}"
        "\n{{ unsubscribe_link }}",
        # Transformed values: the shortcut must notice and render each reader in full.
        "{{ recipient_email | upper }} ({{ recipient_email | length }})\n{{ unsubscribe_link }}",
    ],
)
def test_bulk_rendering_equals_rendering_each_reader(app, secretariat, edition, body):
    if body is not None:
        notice = notices.get_notice("announcement")
        for language in ("en", "fr"):
            notices.save_wording(notice, language, "News {{ edition_name }}", body, secretariat)
    for number in range(6):
        reader(f"reader{number}@example.org", language="fr" if number % 2 else "en")
    reader("o'brien+news@example.org")
    db.session.commit()
    assert announcements.queue_news(edition) == 7
    db.session.commit()
    messages = list(db.session.execute(select(OutboxMessage)).scalars())
    for message in messages:
        language = "fr" if message.to_address[6:7] in "135" else "en"
        expected = full_rendering(message, edition, language)
        assert (message.subject, message.body_text, message.body_html) == expected
        assert "sentinel" not in message.body_text + message.body_html
        assert message.to_address in message.body_text or body and "upper" in body
    if body and "upper" in body:
        assert "READER3@EXAMPLE.ORG (19)" in news("reader3@example.org").body_text


# --- The Secretariat's page ----------------------------------------------------------------


def test_the_secretariat_sees_the_counts_and_exports_the_confirmed(sec, edition):
    reader("b@example.org", language="fr")
    reader("a@example.org")
    reader("=cmd@example.org")
    reader("waiting@example.org", confirmed=False)
    reader("gone@example.org", unsubscribed=True)
    db.session.commit()
    page = sec.get("/secretariat/announcements").get_data(as_text=True)
    counts = re.findall(r"<dd class=\"col-sm-8\">(\d+)</dd>", page)
    assert counts == ["3", "1", "1"]
    assert "E-waste Awards 2032" in page  # an edition with news to send
    response = sec.get("/secretariat/announcements/confirmed.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == ["'=cmd@example.org", "a@example.org", "b@example.org"]
    assert rows[1][1:2] == ["en"] and rows[3][1] == "fr"


def test_the_secretariat_queues_the_news_by_hand(sec, edition):
    reader("amina@example.org")
    db.session.commit()
    url = f"/secretariat/announcements/editions/{edition.id}/news"
    response = sec.post(url, page="/secretariat/announcements", follow_redirects=True)
    assert "The news is queued to 1 reader." in response.get_data(as_text=True)
    response = sec.post(url, page="/secretariat/announcements", follow_redirects=True)
    assert "already been sent this news" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 1
    unpublished = make_edition()
    db.session.commit()
    response = sec.post(
        f"/secretariat/announcements/editions/{unpublished.id}/news",
        page="/secretariat/announcements",
        follow_redirects=True,
    )
    assert "is published yet" in response.get_data(as_text=True)
    assert sec.post("/secretariat/announcements/editions/99999/news").status_code == 404


def test_only_the_secretariat_sees_the_list(browser, make_browser, edition):
    reader("amina@example.org")
    make_user("nominator@example.org", password=None, password_hash=_password_hash())
    db.session.commit()
    for url in ("/secretariat/announcements", "/secretariat/announcements/confirmed.csv"):
        response = browser.get(url)
        assert response.status_code == 302 and "/account/login" in response.headers["Location"]
    other = make_browser()
    assert other.login("nominator@example.org", PASSWORD).status_code == 302
    assert other.get("/secretariat/announcements").status_code == 403
    assert other.get("/secretariat/announcements/confirmed.csv").status_code == 403
    response = other.post(f"/secretariat/announcements/editions/{edition.id}/news")
    assert response.status_code == 403
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0


def test_the_footer_links_to_the_list(browser):
    page = browser.get("/about").get_data(as_text=True)
    assert 'href="/announcements/"' in page
