"""Log-in is rate limited per account and per address, in memory or in Redis."""

from __future__ import annotations

import uuid

import pytest

from awards import create_app
from awards.extensions import db

from .conftest import TEST_CONFIG
from .factories import PASSWORD, make_user


def test_repeated_failures_slow_the_account_down(browser, make_browser):
    make_user("kwame@example.org")
    db.session.commit()
    for _ in range(10):
        assert browser.login("kwame@example.org", "wrong password!").status_code == 200
    # The eleventh attempt is refused, even from another address and with the right password.
    other = make_browser()
    response = other.client.post(
        "/account/login",
        data={
            "email": "kwame@example.org",
            "password": PASSWORD,
            "csrf_token": other.token("/account/login"),
        },
        environ_base={"REMOTE_ADDR": "10.9.8.7"},
    )
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)
    assert "Retry-After" in response.headers


def test_successful_logins_do_not_count(browser):
    make_user("kwame@example.org")
    db.session.commit()
    for _ in range(12):
        assert browser.login("kwame@example.org", PASSWORD).status_code == 302
        browser.logout()


def test_another_account_is_not_slowed_by_an_attack_on_one(browser):
    make_user("kwame@example.org")
    make_user("amina@example.org")
    db.session.commit()
    for _ in range(11):
        browser.login("kwame@example.org", "wrong password!")
    assert browser.login("amina@example.org", PASSWORD).status_code == 302


def test_one_address_cannot_try_many_accounts(browser):
    for number in range(50):
        assert browser.login(f"guess{number}@example.org", "nope nope nope").status_code == 200
    assert browser.login("guess-last@example.org", "nope nope nope").status_code == 429


def test_limits_are_shared_through_redis():
    """Two application servers with one Redis count the same failures."""
    redis = pytest.importorskip("redis")
    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.fail("Redis is expected on 127.0.0.1:6379 (it runs on this machine and in CI)")
    prefix = f"awards-test-{uuid.uuid4().hex[:8]}"
    config = {
        **TEST_CONFIG,
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
        "RATELIMIT_KEY_PREFIX": prefix,
    }
    first, second = create_app(config), create_app(config)
    with first.app_context():
        make_user("kwame@example.org")
        db.session.commit()
    try:
        clients = [first.test_client(), second.test_client()]
        statuses = []
        for attempt in range(12):
            client = clients[attempt % 2]
            page = client.get("/account/login").get_data(as_text=True)
            from .conftest import csrf_token_from

            response = client.post(
                "/account/login",
                data={
                    "email": "kwame@example.org",
                    "password": "wrong password!",
                    "csrf_token": csrf_token_from(page),
                },
            )
            statuses.append(response.status_code)
        assert statuses[:10] == [200] * 10 and statuses[10:] == [429, 429]
    finally:
        r = redis.Redis(host="127.0.0.1", port=6379)
        for key in r.scan_iter(f"{prefix}*"):
            r.delete(key)
