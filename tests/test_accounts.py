"""Account flows end to end: the emails travel through the outbox to a real SMTP server."""

from __future__ import annotations

import re
from datetime import timedelta
from unittest import mock

import pytest
from sqlalchemy import func, select

from awards import outbox, tokens
from awards.extensions import db
from awards.models import AuditEvent, OutboxMessage, Role, User

from .factories import PASSWORD, grant, make_org, make_user

LINK_RE = re.compile(r"http://localhost(/account/[a-z]+/[A-Za-z0-9._-]+)")


def deliver_and_get_link(smtp, address: str) -> str:
    """Run the outbox once and return the path of the link in the newest email to address."""
    report = outbox.deliver_due()
    assert report.sent >= 1, report.errors
    messages = smtp.to(address)
    assert messages, f"no email reached {address}"
    match = LINK_RE.search(smtp.text_of(messages[-1]))
    assert match, smtp.text_of(messages[-1])
    return match.group(1)


def register(browser, email="Nadia@Example.ORG ", password="a long enough password"):
    return browser.post(
        "/account/register",
        {"name": "Nadia Haddad", "email": email, "password": password, "confirm": password},
        page="/account/register",
    )


# --- Registration and verification ----------------------------------------------------


def test_register_verify_with_real_smtp(browser, smtp):
    """Registering queues a verification email; its link verifies the address once."""
    response = register(browser)
    assert response.status_code == 302
    user = db.session.execute(select(User)).scalar_one()
    assert user.email == "nadia@example.org"  # normalised: trimmed and lower case
    assert user.password_hash.startswith("scrypt:")
    assert user.email_verified_at is None

    link = deliver_and_get_link(smtp, "nadia@example.org")
    message = smtp.to("nadia@example.org")[0]
    assert "Confirm your email address" in message["Subject"]
    assert message.get_body(preferencelist=("html",)) is not None

    response = browser.get(link)
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.email_verified_at is not None

    # The same link a second time does nothing more and says so.
    response = browser.get(link, follow_redirects=True)
    assert "already been used" in response.get_data(as_text=True)


def test_verification_link_expires(app, browser, smtp):
    register(browser)
    link = deliver_and_get_link(smtp, "nadia@example.org")
    with mock.patch("itsdangerous.timed.time.time", return_value=10**10):
        response = browser.get(link, follow_redirects=True)
    assert "expired" in response.get_data(as_text=True)
    assert db.session.execute(select(User)).scalar_one().email_verified_at is None


def test_tampered_verification_link_is_refused(browser, smtp):
    register(browser)
    link = deliver_and_get_link(smtp, "nadia@example.org")
    response = browser.get(link[:-3] + "abc", follow_redirects=True)
    assert response.status_code == 200
    assert "not valid" in response.get_data(as_text=True)
    assert db.session.execute(select(User)).scalar_one().email_verified_at is None


@pytest.mark.parametrize(
    "variant", ["nadia@example.org", "NADIA@EXAMPLE.ORG", "  Nadia@example.org"]
)
def test_email_cannot_be_registered_twice_in_any_case(browser, variant):
    make_user("nadia@example.org")
    db.session.commit()
    response = register(browser, email=variant)
    assert response.status_code == 200
    assert "already exists" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(User.id))) == 1


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("not-an-address", "a long enough password", "not a valid email address"),
        ("nadia@example.org", "short", "at least 10 characters"),
        ("", "a long enough password", "This field is required"),
    ],
)
def test_registration_errors_keep_what_was_typed(browser, email, password, message):
    response = register(browser, email=email, password=password)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in page
    assert 'value="Nadia Haddad"' in page  # the name typed is still there
    assert 'href="#' in page  # the error summary links to the field
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_resend_verification_is_throttled(browser):
    register(browser)
    browser.post("/account/verify/resend")
    browser.post("/account/verify/resend")
    # One message per ten minutes: the outbox key carries the time window.
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 1


# --- Log-in and log-out -----------------------------------------------------------------


def test_login_logout(browser):
    make_user("kwame@example.org")
    db.session.commit()
    response = browser.login("  KWAME@example.org", PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/dashboard/")
    assert browser.get("/dashboard/").status_code == 200
    assert db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "account.logged_in")
    ).scalar_one()
    browser.logout()
    assert browser.get("/dashboard/").status_code == 302


@pytest.mark.parametrize("email", ["kwame@example.org", "nobody@example.org"])
def test_failed_login_does_not_say_which_part_was_wrong(browser, email):
    make_user("kwame@example.org")
    db.session.commit()
    response = browser.login(email, "wrong password!")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "The email address or the password is not correct." in page
    assert 'value="' + email + '"' in page


def test_deactivated_account_cannot_log_in(browser):
    make_user("kwame@example.org", is_active_account=False)
    db.session.commit()
    response = browser.login("kwame@example.org", PASSWORD)
    assert response.status_code == 200
    assert browser.get("/dashboard/").status_code == 302


def test_remember_me_sets_a_persistent_cookie(browser):
    make_user("kwame@example.org")
    db.session.commit()
    response = browser.login("kwame@example.org", PASSWORD, remember=True)
    assert "remember_token=" in " ".join(response.headers.getlist("Set-Cookie"))
    # A new browser session with only the remember cookie is still logged in.
    browser.client.delete_cookie("session")
    assert browser.get("/dashboard/").status_code == 200


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/account/profile", "/account/profile"),
        ("https://evil.example.com/", "/dashboard/"),
        ("//evil.example.com/", "/dashboard/"),
        ("/\\evil.example.com", "/dashboard/"),
        ("javascript:alert(1)", "/dashboard/"),
    ],
)
def test_login_redirects_only_within_the_site(browser, next_url, expected):
    make_user("kwame@example.org")
    db.session.commit()
    response = browser.post(
        "/account/login",
        {"email": "kwame@example.org", "password": PASSWORD, "next": next_url},
        page="/account/login",
    )
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_login_page_carries_safe_next_only(browser):
    page = browser.get("/account/login?next=https://evil.example.com/").get_data(as_text=True)
    assert 'id="next" name="next" type="hidden" value=""' in page
    page = browser.get("/account/login?next=/account/profile").get_data(as_text=True)
    assert 'id="next" name="next" type="hidden" value="/account/profile"' in page


# --- Password reset ------------------------------------------------------------------------


def test_password_reset_with_real_smtp(browser, make_browser, smtp):
    user = make_user("kwame@example.org")
    db.session.commit()
    other_device = make_browser()
    other_device.login("kwame@example.org", PASSWORD)

    response = browser.post(
        "/account/forgot", {"email": "Kwame@example.org"}, page="/account/forgot"
    )
    assert "If kwame@example.org has an account" in response.get_data(as_text=True)
    link = deliver_and_get_link(smtp, "kwame@example.org")

    response = browser.post(
        link, {"password": "a brand new password", "confirm": "a brand new password"}, page=link
    )
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.check_password("a brand new password")
    assert browser.get("/dashboard/").status_code == 200  # logged in here
    assert other_device.get("/dashboard/").status_code == 302  # and out everywhere else

    # The link worked once.
    response = browser.get(link, follow_redirects=True)
    assert "already been used" in response.get_data(as_text=True)


def test_password_reset_does_not_reveal_unknown_addresses(browser, smtp):
    make_user("kwame@example.org")
    db.session.commit()
    known = browser.post("/account/forgot", {"email": "kwame@example.org"}, page="/account/forgot")
    unknown = browser.post(
        "/account/forgot", {"email": "ghost@example.org"}, page="/account/forgot"
    )
    strip = lambda r, e: r.get_data(as_text=True).replace(e, "")  # noqa: E731
    # The pages differ only by the address typed (and the CSRF token of the language form).
    known_text = re.sub(r'value="[^"]{40,}"', "", strip(known, "kwame@example.org"))
    unknown_text = re.sub(r'value="[^"]{40,}"', "", strip(unknown, "ghost@example.org"))
    assert known_text == unknown_text
    outbox.deliver_due()
    assert smtp.to("ghost@example.org") == []
    assert len(smtp.to("kwame@example.org")) == 1


def test_password_reset_rejects_weak_password_and_keeps_link_valid(browser, smtp):
    make_user("kwame@example.org")
    db.session.commit()
    browser.post("/account/forgot", {"email": "kwame@example.org"}, page="/account/forgot")
    link = deliver_and_get_link(smtp, "kwame@example.org")
    response = browser.post(link, {"password": "short", "confirm": "short"}, page=link)
    assert response.status_code == 200
    assert "at least 10 characters" in response.get_data(as_text=True)
    assert browser.get(link).status_code == 200  # still usable


# --- Profile and password change ------------------------------------------------------------


def test_change_password_logs_out_other_sessions(browser, make_browser):
    user = make_user("kwame@example.org")
    db.session.commit()
    browser.login("kwame@example.org", PASSWORD)
    other = make_browser()
    other.login("kwame@example.org", PASSWORD)

    response = browser.post(
        "/account/password",
        {
            "current": "wrong one!",
            "password": "another long password",
            "confirm": "another long password",
        },
        page="/account/password",
    )
    assert "not correct" in response.get_data(as_text=True)

    response = browser.post(
        "/account/password",
        {
            "current": PASSWORD,
            "password": "another long password",
            "confirm": "another long password",
        },
        page="/account/password",
    )
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.check_password("another long password")
    assert browser.get("/dashboard/").status_code == 200
    assert other.get("/dashboard/").status_code == 302


def test_profile_language_and_timezone(browser):
    user = make_user("kwame@example.org")
    db.session.commit()
    browser.login("kwame@example.org", PASSWORD)
    response = browser.post(
        "/account/profile",
        {"name": "Kwame Mensah", "language": "fr", "timezone": "Africa/Accra"},
        page="/account/profile",
    )
    assert response.status_code == 302
    db.session.refresh(user)
    assert (user.name, user.language, user.timezone) == ("Kwame Mensah", "fr", "Africa/Accra")
    page = browser.get("/account/profile").get_data(as_text=True)
    assert '<html lang="fr"' in page


@pytest.mark.parametrize(
    ("field", "value"), [("language", "xx"), ("timezone", "Mars/Olympus"), ("name", "")]
)
def test_profile_refuses_values_not_offered(browser, field, value):
    user = make_user("kwame@example.org")
    db.session.commit()
    browser.login("kwame@example.org", PASSWORD)
    data = {"name": "Kwame", "language": "en", "timezone": "UTC", field: value}
    response = browser.post("/account/profile", data, page="/account/profile")
    assert response.status_code == 200
    assert "is-invalid" in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.language == "en" and user.timezone == "UTC"


# --- Invitations ---------------------------------------------------------------------------


def test_invitation_sets_password_and_lands_on_dashboard(browser, make_browser, smtp):
    secretariat = make_user("sec@example.org")
    grant(secretariat, Role.SECRETARIAT)
    org = make_org("ITU")
    db.session.commit()
    browser.login("sec@example.org", PASSWORD)
    response = browser.post(
        "/manage/invite",
        {
            "email": "focal@example.org",
            "name": "ITU Focal Point",
            "role": "member_admin",
            "organisation_id": str(org.id),
            "category_id": "0",
        },
        page="/manage/invite",
    )
    assert response.status_code == 302
    link = deliver_and_get_link(smtp, "focal@example.org")
    assert "/account/invitation/" in link

    invited = make_browser()
    page = invited.get(link).get_data(as_text=True)
    assert "focal@example.org" in page
    response = invited.post(
        link,
        {"name": "Aiko Tanaka", "password": "my own password", "confirm": "my own password"},
        page=link,
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/dashboard/")
    dashboard = invited.get("/dashboard/").get_data(as_text=True)
    assert "You administer International" in dashboard or "You administer Organisation" in dashboard
    user = db.session.execute(select(User).where(User.email == "focal@example.org")).scalar_one()
    assert user.name == "Aiko Tanaka" and user.is_verified
    # Used once: the link now sends people to log in.
    again = make_browser().get(link, follow_redirects=True).get_data(as_text=True)
    assert "already been accepted" in again


def test_invitation_link_expires_after_its_own_window(app, browser, smtp):
    app.config["INVITATION_MAX_AGE"] = 60
    secretariat = make_user("sec@example.org")
    grant(secretariat, Role.SECRETARIAT)
    db.session.commit()
    browser.login("sec@example.org", PASSWORD)
    browser.post(
        "/manage/invite",
        {
            "email": "new@example.org",
            "name": "New",
            "role": "secretariat",
            "organisation_id": "0",
            "category_id": "0",
        },
        page="/manage/invite",
    )
    link = deliver_and_get_link(smtp, "new@example.org")
    real_time = __import__("time").time
    with mock.patch("itsdangerous.timed.time.time", return_value=real_time() + 120):
        response = browser.get(link, follow_redirects=True)
    assert "expired" in response.get_data(as_text=True)
    app.config["INVITATION_MAX_AGE"] = 14 * 24 * 3600


def test_token_for_another_purpose_is_refused(app):
    user = make_user("kwame@example.org")
    db.session.commit()
    token = tokens.make_token(user, tokens.VERIFY_EMAIL)
    with pytest.raises(tokens.TokenError):
        tokens.user_for_token(token, tokens.RESET_PASSWORD)


def test_email_throttle_window_is_ten_minutes():
    from awards import accounts

    assert timedelta(minutes=10) == accounts.EMAIL_THROTTLE
