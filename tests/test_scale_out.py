"""Several application servers behind a reverse proxy, as the README's production section has it.

Two app objects stand for two gunicorn hosts: same database, same secret key, same upload
folder (the shared volume). A person signed in on one is signed in on the other, and a file
uploaded through one is served by the other. Behind a proxy the client's address and scheme
come from the X-Forwarded headers, and only when the proxy is declared (PROXY_COUNT).
"""

from __future__ import annotations

from flask import request

from awards import create_app
from awards.extensions import db
from awards.models import Attachment, NominationState

from .conftest import TEST_CONFIG, csrf_token_from
from .factories import PASSWORD, make_category, make_nomination, make_user


def _two_servers():
    first, second = create_app(dict(TEST_CONFIG)), create_app(dict(TEST_CONFIG))
    return first, second


def _echo_app(**config):
    """An app with one extra route (in this test only) that shows what the request says."""
    app = create_app({**TEST_CONFIG, **config})

    @app.get("/_echo")
    def echo():
        return {"address": request.remote_addr, "scheme": request.scheme, "host": request.host}

    return app


def test_forwarded_headers_are_ignored_without_a_declared_proxy():
    """Anyone can send X-Forwarded-For; trusting it by default would let them dodge limits."""
    client = _echo_app().test_client()
    answer = client.get(
        "/_echo",
        headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"},
        environ_base={"REMOTE_ADDR": "10.0.0.2"},
    ).get_json()
    assert answer["address"] == "10.0.0.2" and answer["scheme"] == "http"


def test_declared_proxy_gives_the_clients_address_and_scheme():
    client = _echo_app(PROXY_COUNT=1).test_client()
    answer = client.get(
        "/_echo",
        headers={
            "X-Forwarded-For": "203.0.113.9",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "awards.example.org",
        },
        environ_base={"REMOTE_ADDR": "10.0.0.2"},
    ).get_json()
    assert answer == {"address": "203.0.113.9", "scheme": "https", "host": "awards.example.org"}


def test_one_proxy_trusts_only_the_last_hop():
    """A client that forges its own X-Forwarded-For still shows the address the proxy saw."""
    client = _echo_app(PROXY_COUNT=1).test_client()
    answer = client.get(
        "/_echo",
        headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.9"},
        environ_base={"REMOTE_ADDR": "10.0.0.2"},
    ).get_json()
    assert answer["address"] == "203.0.113.9"


def test_a_session_started_on_one_server_works_on_the_other():
    first, second = _two_servers()
    with first.app_context():
        make_user("amina@example.org", name="Amina Rahman")
        db.session.commit()
    on_first = first.test_client()
    page = on_first.get("/account/login").get_data(as_text=True)
    response = on_first.post(
        "/account/login",
        data={
            "email": "amina@example.org",
            "password": PASSWORD,
            "csrf_token": csrf_token_from(page),
        },
    )
    assert response.status_code == 302
    on_second = second.test_client()
    cookie = on_first.get_cookie("session")
    on_second.set_cookie(cookie.key, cookie.value)
    dashboard = on_second.get("/dashboard/")
    assert dashboard.status_code == 200
    assert "Amina Rahman" in dashboard.get_data(as_text=True)


def test_a_file_uploaded_through_one_server_is_served_by_the_other(tmp_path):
    shared = {"UPLOAD_FOLDER": str(tmp_path / "shared-volume")}
    first = create_app({**TEST_CONFIG, **shared})
    second = create_app({**TEST_CONFIG, **shared})
    content = b"%PDF-1.4\n% evidence\n"
    with first.app_context():
        nominator = make_user("kwame@example.org")
        nomination = make_nomination(make_category(), nominator, state=NominationState.DRAFT)
        from awards.uploads import stored_path

        attachment = Attachment(
            nomination=nomination,
            original_filename="evidence.pdf",
            stored_name="c" * 32,
            content_type="application/pdf",
            size_bytes=len(content),
            sha256="0" * 64,
            uploaded_by_id=nominator.id,
        )
        db.session.add(attachment)
        db.session.commit()
        path = stored_path(attachment)  # written by the first server, on the shared volume
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        url = f"/nominations/{nomination.id}/attachments/{attachment.id}"
        user_id = nominator.get_id()
    client = second.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = user_id
        session["_fresh"] = True
    response = client.get(url)
    assert response.status_code == 200
    assert response.data == content
    assert response.headers["Content-Disposition"].startswith("attachment")
