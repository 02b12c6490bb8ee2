"""The winners pages, feeds and certificates, before and after the embargo lifts."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime

import pytest
from flask_babel import force_locale, gettext
from pypdf import PdfReader
from sqlalchemy import select

from awards import certificates, publication
from awards.extensions import db
from awards.models import (
    CategoryState,
    DecisionKind,
    Edition,
    NominationState,
    OutboxMessage,
    utcnow,
)

from .factories import PASSWORD, make_nomination, make_user
from .test_publication import WINNER_NAME, World, build_world, decide

ATOM = "{http://www.w3.org/2005/Atom}"
CITATION_WORD = "quetzalcitation"  # appears in the winner's citation and nowhere else
# Everyone who must learn nothing before publication.
OUTSIDERS = ["anonymous", "nominator", "itu_reviewer", "who_admin", "loser", "nominee"]
INSIDERS = ["secretariat", "itu_admin", "itu_chair"]


@pytest.fixture
def world() -> World:
    return build_world()


def publish(world: World) -> None:
    publication.publish_edition(world.edition, world.people["secretariat"])
    db.session.commit()


def as_(make_browser, world: World, who: str):
    browser = make_browser()
    if who != "anonymous":
        person = world.people["winner" if who == "nominator" else who]
        assert browser.login(person.email, PASSWORD).status_code == 302
    return browser


def urls(world: World) -> dict[str, str]:
    year = world.edition.year
    winner = world.nominations["winner"].reference
    return {
        "edition": f"/editions/{year}/winners",
        "winner": f"/editions/{year}/winners/{winner}",
        "certificate": f"/editions/{year}/winners/{winner}/certificate.pdf",
        "edition_json": f"/editions/{year}/winners.json",
    }


def parse_xml(data: bytes) -> ET.Element:
    return ET.fromstring(data)  # noqa: S314 (the application's own feed, not untrusted input)


def html_of(response) -> str:
    return response.get_data(as_text=True)


def assert_well_formed_page(html: str) -> None:
    assert html.count("<h1") == 1
    assert ' style="' not in html and "<script>" not in html


# --- Before publication -------------------------------------------------------------------


@pytest.mark.parametrize("who", OUTSIDERS)
def test_before_publication_outsiders_get_not_found(make_browser, world, who):
    browser = as_(make_browser, world, who)
    for name, url in urls(world).items():
        response = browser.get(url)
        assert response.status_code == 404, (name, who)
        assert WINNER_NAME not in html_of(response)
    # The winner's reference in another case, and a made-up one, answer the same.
    assert browser.get(urls(world)["winner"].lower()).status_code == 404
    assert browser.get(f"/editions/{world.edition.year}/winners/NOPE-0001").status_code == 404


def test_before_publication_the_other_members_administrator_sees_only_their_own(
    make_browser, world
):
    browser = as_(make_browser, world, "unep_admin")
    page = browser.get(urls(world)["edition"])
    assert page.status_code == 200  # their own (decided) category, as a preview
    assert "Policy Lab" in html_of(page) and WINNER_NAME not in html_of(page)
    assert browser.get(urls(world)["winner"]).status_code == 404
    assert browser.get(urls(world)["certificate"]).status_code == 404


@pytest.mark.parametrize("who", INSIDERS)
def test_before_publication_deciders_see_a_marked_preview(make_browser, world, who):
    browser = as_(make_browser, world, who)
    page = browser.get(urls(world)["edition"])
    html = html_of(page)
    assert page.status_code == 200
    assert "Embargoed until" in html and WINNER_NAME in html and CITATION_WORD in html
    assert page.headers["Cache-Control"] == "private, no-store"
    assert "noindex" in page.headers["X-Robots-Tag"]
    assert ("Policy Lab" in html) == (who == "secretariat")  # UNEP is not theirs
    assert "Secret Clinic" not in html  # proposed only, never shown
    assert_well_formed_page(html)
    index = html_of(browser.get("/winners"))
    assert "Previews under embargo" in index and urls(world)["edition"] in index
    assert ("Publish" in index) == (who == "secretariat")
    single = browser.get(urls(world)["winner"])
    assert single.status_code == 200 and "Embargoed until" in html_of(single)
    assert_well_formed_page(html_of(single))
    # The certificate: a preview for the Secretariat only.
    certificate = browser.get(urls(world)["certificate"])
    assert certificate.status_code == (200 if who == "secretariat" else 404)


def test_feeds_carry_nothing_before_publication(make_browser, world):
    for who in ("anonymous", "secretariat"):
        browser = as_(make_browser, world, who)
        feed = browser.get("/winners.json")
        assert feed.status_code == 200 and feed.get_json()["awards"] == []
        atom = browser.get("/winners.atom")
        assert WINNER_NAME not in html_of(atom)
        assert parse_xml(atom.data).findall(f"{ATOM}entry") == []
        assert browser.get(urls(world)["edition_json"]).status_code == 404


def test_no_public_page_leaks_a_result_before_publication(make_browser, world):
    category = world.itu
    pages = [
        "/",
        f"/awards/{world.edition.code}/{category.slug}",
        f"/awards/{world.edition.code}/{world.who.slug}",
        "/about",
        "/winners",
        "/winners.json",
        "/winners.atom",
        "/editions/1999/winners",
        "/editions/99999999999999999999/winners",
    ]
    browser = as_(make_browser, world, "anonymous")
    for url in pages:
        html = html_of(browser.get(url))
        assert WINNER_NAME not in html and CITATION_WORD not in html, url
    assert "No winners have been announced yet" in html_of(browser.get("/winners"))
    # The nominators see their nominations as merely eligible: no outcome before publication.
    for who, nomination in (("winner", "winner"), ("loser", "still_eligible")):
        person = world.people[who]
        nominator = make_browser()
        nominator.login(person.email, PASSWORD)
        target = world.nominations[nomination]
        for url in ("/dashboard/", "/nominations/", f"/nominations/{target.id}"):
            response = nominator.get(url)
            html = html_of(response)
            assert response.status_code == 200, url
            for label in ("Winner", "Shortlisted", "Not selected", "Honourable mention"):
                assert f">{label}<" not in html, (who, url, label)
            assert WINNER_NAME not in html


# --- After publication --------------------------------------------------------------------


def test_after_publication_everyone_sees_the_winners(make_browser, world):
    publish(world)
    browser = as_(make_browser, world, "anonymous")
    page = browser.get(urls(world)["edition"])
    html = html_of(page)
    assert page.status_code == 200 and "Embargoed" not in html
    assert "Cache-Control" not in page.headers or "no-store" not in page.headers["Cache-Control"]
    for text in (
        WINNER_NAME,
        "<strong>repairing 40,000 phones</strong>",
        "Circuit Menders Ltd",
        "Kenya",
        "Nadia Nominee",
        "Honourable mention",
        "Policy Lab",
        "Issued by International Telecommunication Union",
        "WSIS Forum, Geneva, Switzerland",
    ):
        assert text in html, text
    assert "Secret Clinic" not in html and world.who.title not in html
    assert html.index(WINNER_NAME) < html.index("Nadia Nominee")  # winners first
    assert_well_formed_page(html)
    index = html_of(browser.get("/winners"))
    assert f"Winners of {world.edition.name}" in index and "3 awards announced" in index
    # The award's own page links to its winners now.
    category_page = html_of(browser.get(f"/awards/{world.edition.code}/{world.itu.slug}"))
    assert urls(world)["edition"] in category_page


def test_a_winners_page_is_shareable(make_browser, world):
    publish(world)
    browser = as_(make_browser, world, "anonymous")
    page = browser.get(urls(world)["winner"])
    html = html_of(page)
    assert page.status_code == 200
    assert f'<h1 dir="auto">{WINNER_NAME}</h1>' in html
    url = f"http://localhost{urls(world)['winner']}"
    assert f'<meta property="og:url" content="{url}">' in html
    assert f'<link rel="canonical" href="{url}">' in html
    assert '<meta property="og:type" content="article">' in html
    og_title = re.search(r'<meta property="og:title" content="([^"]+)">', html).group(1)
    assert WINNER_NAME in og_title and "Winner of the ITU Award for Circular ICT" in og_title
    description = re.search(r'<meta property="og:description" content="([^"]+)">', html)
    assert "repairing 40,000 phones" in description.group(1)
    assert "**" not in description.group(1)
    assert_well_formed_page(html)
    # A reference typed in lower case leads to the page's one address.
    redirect = browser.get(urls(world)["winner"].lower())
    assert redirect.status_code == 301 and redirect.headers["Location"].endswith(
        urls(world)["winner"]
    )
    # Nominations that won nothing, or not yet, have no page.
    year = world.edition.year
    for key in ("not_selected", "who_proposed", "still_eligible"):
        reference = world.nominations[key].reference
        assert browser.get(f"/editions/{year}/winners/{reference}").status_code == 404


def test_the_json_feed_has_a_stable_schema(make_browser, world):
    publish(world)
    browser = as_(make_browser, world, "anonymous")
    feed = browser.get("/winners.json").get_json()
    assert feed["version"] == 1 and feed["feed_url"] == "http://localhost/winners.json"
    assert datetime.fromisoformat(feed["updated"].replace("Z", "+00:00"))
    names = [award["recipient"]["name"] for award in feed["awards"]]
    assert names == [WINNER_NAME, "Nadia Nominee", "Policy Lab"]
    winner = feed["awards"][0]
    reference = world.nominations["winner"].reference
    assert winner == {
        "id": reference,
        "url": f"http://localhost{urls(world)['winner']}",
        "kind": "winner",
        "rank": 1,
        "recipient": {
            "name": WINNER_NAME,
            "organisation": "Circuit Menders Ltd",
            "country": {"code": "KE", "name": "Kenya"},
        },
        "citation": {
            "text": "For repairing 40,000 phones a year. quetzalcitation",
            "html": "<p>For <strong>repairing 40,000 phones</strong> a year. quetzalcitation</p>\n",
        },
        "category": {
            "title": "ITU Award for Circular ICT",
            "slug": world.itu.slug,
            "theme": None,
            "url": f"http://localhost/awards/{world.edition.code}/{world.itu.slug}",
            "issued_by": {"name": "International Telecommunication Union", "short_name": "ITU"},
        },
        "edition": {
            "year": world.edition.year,
            "name": world.edition.name,
            "code": world.edition.code,
            "event": "WSIS Forum",
            "venue": "Geneva, Switzerland",
            "ceremony_at": world.edition.ceremony_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "published_at": world.edition.published_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "url": f"http://localhost{urls(world)['edition']}",
        },
    }
    assert feed["awards"][1]["kind"] == "honourable_mention"
    edition_feed = browser.get(urls(world)["edition_json"])
    assert edition_feed.status_code == 200
    assert edition_feed.get_json()["awards"] == feed["awards"]
    assert json.loads(edition_feed.data)["feed_url"].endswith(urls(world)["edition_json"])


def test_the_atom_feed_is_valid(make_browser, world):
    # A control character pasted into a citation would make the XML unreadable.
    world.decisions["mention"].citation = "For teaching\x0b repair\x1b in schools."
    db.session.commit()
    publish(world)
    response = as_(make_browser, world, "anonymous").get("/winners.atom")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    feed = parse_xml(response.data)
    assert feed.tag == f"{ATOM}feed"

    def one(element, name):
        found = element.findall(f"{ATOM}{name}")
        assert len(found) == 1, name
        return found[0]

    def timestamp(text):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", text), text
        return text

    assert one(feed, "id").text == "http://localhost/winners.atom"
    assert one(feed, "title").text
    timestamp(one(feed, "updated").text)
    assert one(one(feed, "author"), "name").text
    links = {link.get("rel"): link.get("href") for link in feed.findall(f"{ATOM}link")}
    assert links["self"] == "http://localhost/winners.atom"
    assert links["alternate"] == "http://localhost/winners"
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 3
    ids = set()
    for entry in entries:
        ids.add(one(entry, "id").text)
        assert one(entry, "title").text
        timestamp(one(entry, "updated").text)
        alternate = [
            link for link in entry.findall(f"{ATOM}link") if link.get("rel") == "alternate"
        ]
        assert alternate and alternate[0].get("href") == one(entry, "id").text
    assert len(ids) == 3
    first = entries[0]
    assert WINNER_NAME in one(first, "title").text
    content = one(first, "content")
    assert content.get("type") == "html"
    assert "<strong>repairing 40,000 phones</strong>" in content.text  # escaped HTML, as RFC 4287
    assert "For teaching repair in schools." in one(entries[1], "content").text


# --- Certificates -------------------------------------------------------------------------


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_certificates_are_for_the_secretariat_and_the_winner(make_browser, world):
    url = urls(world)["certificate"]
    assert as_(make_browser, world, "nominator").get(url).status_code == 404  # embargo
    publish(world)
    for who, expected in (
        ("secretariat", 200),
        ("nominator", 200),  # the winner nominated themselves
        ("itu_admin", 404),
        ("itu_chair", 404),
        ("loser", 404),
    ):
        assert as_(make_browser, world, who).get(url).status_code == expected, who
    anonymous = as_(make_browser, world, "anonymous").get(url)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    response = as_(make_browser, world, "nominator").get(url)
    assert response.mimetype == "application/pdf"
    reference = world.nominations["winner"].reference
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="certificate-{reference}.pdf"'
    )
    text = pdf_text(response.data)  # in the winner's language, French
    for expected in (
        WINNER_NAME,
        "ITU Award for Circular ICT",
        "International Telecommunication Union",
        world.edition.name,
        "WSIS Forum, Geneva, Switzerland",
        "repairing 40,000 phones",
        "Kenya",
        reference,
    ):
        assert expected in text, expected
    assert "**" not in text
    with force_locale("fr"):
        assert gettext("Certificate of Award") in text
    secretariat_copy = as_(make_browser, world, "secretariat").get(url)
    assert "Certificate of Award" in pdf_text(secretariat_copy.data)  # the reader's language


def test_the_nominee_signed_in_with_their_verified_address_downloads_theirs(make_browser, world):
    publish(world)
    mention = world.nominations["mention"]
    url = f"/editions/{world.edition.year}/winners/{mention.reference}/certificate.pdf"
    nominee = as_(make_browser, world, "nominee")  # nominee@example.org, verified
    response = nominee.get(url)
    assert response.status_code == 200
    assert "Certificate of Honourable Mention" in pdf_text(response.data)
    assert nominee.get(urls(world)["certificate"]).status_code == 404  # not theirs
    make_user("unverified@example.org", verified=False)
    mention.nominee_email = "unverified@example.org"
    db.session.commit()
    impostor = make_browser()
    impostor.login("unverified@example.org", PASSWORD)
    assert impostor.get(url).status_code == 404


@pytest.mark.parametrize(
    ("name", "organisation"),
    [
        ("مؤسسة الأرض الخضراء", "جمعية إعادة التدوير"),
        ("绿色字节合作社", "北京电子回收中心"),
        ("Зелёные байты", "Кооператив «Ремонт»"),
    ],
)
def test_certificates_render_names_in_every_script(make_browser, world, name, organisation):
    nomination = make_nomination(world.unep, world.people["nominator"], NominationState.SHORTLISTED)
    decide(
        nomination,
        DecisionKind.HONOURABLE_MENTION,
        name=name,
        organisation=organisation,
        citation=f"{name}: a model for the region.",
    )
    db.session.commit()
    url = f"/editions/{world.edition.year}/winners/{nomination.reference}/certificate.pdf"
    response = as_(make_browser, world, "secretariat").get(url)
    assert response.status_code == 200, "certificate fonts missing? run `make fonts`"
    text = pdf_text(response.data)
    assert name in text and organisation in text


def test_without_fonts_a_certificate_is_unavailable_not_an_error(
    app, make_browser, world, monkeypatch, tmp_path
):
    monkeypatch.setattr(certificates, "FONT_DIRS", ())
    monkeypatch.setitem(app.config, "CERTIFICATE_FONT_DIR", str(tmp_path))
    response = as_(make_browser, world, "secretariat").get(urls(world)["certificate"])
    assert response.status_code == 503


def test_a_very_long_citation_stays_on_one_page(make_browser, world):
    world.decisions["winner"].citation = "A remarkable initiative. " * 400
    world.decisions["winner"].public_name = "Menders" * 28  # 196 letters, no space
    db.session.commit()
    response = as_(make_browser, world, "secretariat").get(urls(world)["certificate"])
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert text.count("…") == 2  # the citation and the name, each cut to fit
    assert "MendersMenders" in text


# --- Publishing by hand -------------------------------------------------------------------


def test_the_secretariat_publishes_by_hand_after_a_confirmation(make_browser, world):
    browser = as_(make_browser, world, "secretariat")
    url = f"/secretariat/editions/{world.edition.id}/publish"
    page = browser.get(url)
    html = html_of(page)
    assert page.status_code == 200
    assert "Publish the results now" in html
    assert "2 winners and" in html and "1 honourable mention are announced" in html
    assert "Congratulations to winners: 2" in html
    assert "Thank-you to committee members: 3" in html
    assert "lifts the embargo before the announcement time" in html
    assert world.who.title in html  # left out, and said so
    assert_well_formed_page(html)
    response = browser.post(url, {}, page=url)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(urls(world)["edition"])
    db.session.expire_all()
    assert db.session.get(Edition, world.edition.id).published_at is not None
    queued = len(db.session.execute(select(OutboxMessage.id)).all())
    assert queued == 9
    followed = html_of(browser.get(urls(world)["edition"]))
    assert "2 categories published; 9 emails queued." in followed
    again = browser.post(url, {}, page=url)
    assert again.status_code == 302
    assert "nothing changed and no email was queued" in html_of(browser.get(urls(world)["edition"]))
    assert len(db.session.execute(select(OutboxMessage.id)).all()) == queued


def test_a_refused_publication_says_why_and_changes_nothing(make_browser, world):
    world.decisions["who_proposed"].approved_at = utcnow()
    world.decisions["who_proposed"].state = world.decisions["winner"].state
    db.session.commit()
    browser = as_(make_browser, world, "secretariat")
    url = f"/secretariat/editions/{world.edition.id}/publish"
    page = html_of(browser.get(url))
    assert "cannot be published yet" in page and "Publish the results now" not in page
    response = browser.post(url, {}, page="/about")
    assert response.status_code == 302
    assert "has approved winners but is not decided" in html_of(browser.get(url))
    db.session.expire_all()
    assert db.session.get(Edition, world.edition.id).published_at is None


@pytest.mark.parametrize("who", ["anonymous", "itu_admin", "itu_chair", "nominator"])
def test_only_the_secretariat_may_publish(make_browser, world, who):
    browser = as_(make_browser, world, who)
    url = f"/secretariat/editions/{world.edition.id}/publish"
    expected = 302 if who == "anonymous" else 403
    assert browser.get(url).status_code == expected
    if who != "anonymous":
        assert browser.post(url, {}).status_code == 403
    db.session.expire_all()
    assert db.session.get(Edition, world.edition.id).published_at is None
    assert db.session.get(type(world.itu), world.itu.id).state is CategoryState.DECIDED


def test_publish_page_of_a_missing_edition_is_not_found(make_browser, world):
    browser = as_(make_browser, world, "secretariat")
    assert browser.get("/secretariat/editions/999999/publish").status_code == 404
    assert browser.get("/secretariat/editions/99999999999999999999/publish").status_code == 404


# --- In a real browser --------------------------------------------------------------------


def test_a_visitor_reads_and_prints_the_winners_in_chromium(tab, world):
    publish(world)
    problems: list[str] = []

    def console(message) -> None:
        # The browser asks for /favicon.ico by itself; the site has none.
        if message.type == "error" and "favicon" not in message.location.get("url", ""):
            problems.append(message.text)

    tab.on("console", console)
    tab.goto("/")
    tab.get_by_role("link", name="Winners", exact=True).click()
    tab.get_by_role("link", name=f"Winners of {world.edition.name}").click()
    tab.get_by_role("heading", level=1, name=f"Winners of {world.edition.name}").wait_for()
    assert tab.get_by_role("heading", level=2, name="ITU Award for Circular ICT").is_visible()
    tab.snap("1-winners-page")
    tab.emulate_media(media="print")
    assert not tab.locator(".site-header nav").is_visible()  # print shows the results only
    assert tab.get_by_role("heading", level=3, name=WINNER_NAME).is_visible()
    tab.snap("2-winners-page-printed")
    tab.emulate_media(media="screen")
    tab.get_by_role("link", name=WINNER_NAME).click()
    tab.get_by_role("heading", level=1, name=WINNER_NAME).wait_for()
    assert tab.get_by_label("Link to this page").input_value().endswith(urls(world)["winner"])
    tab.snap("3-winner-page")
    assert problems == []  # no script or style refused by the Content-Security-Policy
