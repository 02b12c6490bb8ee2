"""Pages every visitor meets: errors, the health check, CSRF failures, language choice."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from awards.extensions import db
from awards.models import User

from .factories import PASSWORD, make_user


def test_unknown_page_is_a_styled_404(browser):
    response = browser.get("/no/such/page")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Page not found" in page and 'class="skip-link"' in page


def test_json_clients_get_json_errors(browser):
    response = browser.get("/no/such/page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.get_json() == {"error": "Not Found", "status": 404}


def test_forbidden_page_is_a_styled_403(browser):
    make_user("kwame@example.org")
    db.session.commit()
    browser.login("kwame@example.org", PASSWORD)
    response = browser.get("/secretariat/")
    assert response.status_code == 403
    assert "You do not have access" in response.get_data(as_text=True)


def test_wrong_method_is_405_not_500(browser):
    assert browser.get("/account/logout").status_code == 405


def test_unexpected_error_shows_calm_500_page(app, browser, monkeypatch):
    app.config["TEST_ERROR_PAGE"] = True

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("awards.views.public.render_template", broken)
    response = browser.get("/")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.get_data(as_text=True)
    assert "boom" not in response.get_data(as_text=True)


def test_csrf_failure_is_friendly_and_keeps_the_form_filled(browser):
    response = browser.client.post(
        "/account/register",
        data={
            "name": "Nadia Haddad",
            "email": "nadia@example.org",
            "password": "x" * 12,
            "confirm": "x" * 12,
            "csrf_token": "forged",
        },
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "This form had expired" in page
    assert 'value="Nadia Haddad"' in page and 'value="nadia@example.org"' in page
    assert 'value="xxxxxxxxxxxx"' not in page  # passwords are never echoed back
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_csrf_failure_on_a_button_changes_nothing(browser):
    make_user("kwame@example.org")
    db.session.commit()
    browser.login("kwame@example.org", PASSWORD)
    response = browser.client.post("/account/logout", data={})
    assert response.status_code == 400
    assert browser.get("/dashboard/").status_code == 200  # still logged in


def test_healthz_ok(browser):
    response = browser.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_reports_database_down(browser, monkeypatch):
    def down(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr("awards.views.public.db.session.execute", down)
    response = browser.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "unavailable"


def test_language_choice_is_kept_in_the_session(browser):
    response = browser.post("/language", {"language": "fr", "return_to": "/about"})
    assert response.status_code == 302 and response.headers["Location"] == "/about"
    assert '<html lang="fr"' in browser.get("/about").get_data(as_text=True)


def test_language_choice_ignores_foreign_return_address(browser):
    response = browser.post("/language", {"language": "ar", "return_to": "https://evil.example"})
    assert response.headers["Location"] == "/"
    assert 'dir="rtl"' in browser.get("/").get_data(as_text=True)


def test_browser_language_is_used_when_nothing_else_says(browser):
    page = browser.get("/", headers={"Accept-Language": "es-ES,es;q=0.9"}).get_data(as_text=True)
    assert '<html lang="es"' in page


def test_signed_in_language_choice_updates_the_profile(browser):
    user = make_user("kwame@example.org")
    db.session.commit()
    browser.login("kwame@example.org", PASSWORD)
    browser.post("/language", {"language": "ru", "return_to": "/"})
    db.session.refresh(user)
    assert user.language == "ru"


def test_every_page_has_one_h1_skip_link_and_main_landmark(browser):
    for url in ("/", "/about", "/account/login", "/account/register", "/account/forgot"):
        page = browser.get(url).get_data(as_text=True)
        assert page.count("<h1") == 1, url
        assert 'href="#main"' in page and '<main id="main"' in page, url
        assert "<nav" in page and "<footer" in page, url


def test_no_asset_is_loaded_from_another_host(browser):
    page = browser.get("/").get_data(as_text=True)
    assert "cdn." not in page and "https://" not in page.split("<body>")[0]
    css = browser.get("/bootstrap/static/css/bootstrap.min.css")
    assert css.status_code == 200 and b"Bootstrap" in css.data[:200]


def test_security_headers_on_every_response(browser):
    for url in ("/", "/no/such/page", "/healthz", "/account/login"):
        headers = browser.get(url).headers
        policy = headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy, url
        assert "frame-ancestors 'none'" in policy
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert "Strict-Transport-Security" not in headers  # only in production, over HTTPS


def test_no_inline_scripts_or_styles_in_pages(browser):
    import re

    for url in ("/", "/about", "/account/login", "/account/register"):
        page = browser.get(url).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", page), url
        assert ' style="' not in page and "<style" not in page, url


def test_url_patterns_build_what_url_for_builds(app):
    """The tables build one URL per page and fill in each row's id (url_for per row cost a
    quarter of a row); the result is url_for's, prefix, id and suffix alike."""
    import pytest
    from flask import url_for

    from awards.templating import url_pattern

    with app.test_request_context("/"):
        nomination_url = url_pattern("screening.nomination", "nomination_id", category_id=7)
        for nomination_id in (1, 42, 918273645, 10**9):
            expected = url_for("screening.nomination", category_id=7, nomination_id=nomination_id)
            assert nomination_url(nomination_id) == expected
        assert url_pattern("review.conflict", "nomination_id")(5) == url_for(
            "review.conflict", nomination_id=5
        )
        with pytest.raises(ValueError):
            nomination_url("5/../../admin")  # only whole numbers go in
        # Where the placeholder's digits stand in the URL already, url_for builds each link.
        odd = url_pattern("screening.nomination", "nomination_id", category_id=918273645)
        assert odd(3) == url_for("screening.nomination", category_id=918273645, nomination_id=3)
        # An argument outside the path goes in the query string, as url_for puts it.
        assert url_pattern("outbox.index", "page")(3) == url_for("outbox.index", page=3)
