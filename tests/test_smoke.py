from awards.models import Role

from .factories import PASSWORD, grant, make_user


def test_home_page(browser):
    response = browser.get("/")
    assert response.status_code == 200
    assert "E-waste Awards" in response.get_data(as_text=True)


def test_secretariat_logs_in_and_sees_dashboard(browser):
    user = make_user("sec@example.org")
    grant(user, Role.SECRETARIAT)
    from awards.extensions import db

    db.session.commit()
    response = browser.login("sec@example.org", PASSWORD)
    assert response.status_code == 302
    page = browser.get("/dashboard/").get_data(as_text=True)
    assert "EMG Secretariat" in page
