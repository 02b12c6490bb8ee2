"""Screening: the administrator's table, the eligibility decision, duplicates and exports."""

from __future__ import annotations

import csv
import io
import secrets
import zipfile
from dataclasses import dataclass
from datetime import timedelta

import openpyxl
import pytest
from sqlalchemy import func, insert, select

from awards import outbox, screening
from awards.exports import neutralise, to_csv, to_xlsx
from awards.extensions import db
from awards.models import (
    Answer,
    Attachment,
    AuditEvent,
    Category,
    Nomination,
    NominationState,
    OutboxMessage,
    Question,
    QuestionKind,
    Role,
    User,
    utcnow,
)

from .factories import (
    PASSWORD,
    grant,
    make_category,
    make_edition,
    make_nomination,
    make_org,
    make_user,
)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@dataclass
class Call:
    category: Category
    other: Category
    admin: User
    nominator: User

    def url(self, tail: str = "") -> str:
        return f"/manage/categories/{self.category.id}/nominations{tail}"

    def question(self, kind: QuestionKind) -> Question:
        return next(q for q in self.category.questions if q.kind is kind)


@pytest.fixture
def call() -> Call:
    """ITU's category with a small form, its administrator, a nominator, and UNU's category."""
    now = utcnow()
    edition = make_edition(
        2027,
        code="EWA27",
        opens=now - timedelta(days=10),
        nominations_close_at=now + timedelta(days=30),
    )
    category = make_category(
        make_org("ITU", name="International Telecommunication Union"),
        edition,
        slug="itu-award",
        title="ITU Award for Circular ICT",
    )
    other = make_category(make_org("UNU"), edition, slug="unu-award", title="UNU Award")
    form = [
        (QuestionKind.SHORT_TEXT, "Title of the initiative"),
        (QuestionKind.LONG_TEXT, "Summary"),
        (QuestionKind.COUNTRY, "Country of work"),
        (QuestionKind.FILE, "Evidence"),
    ]
    for position, (kind, label) in enumerate(form):
        options = {"allowed_types": ["pdf"], "max_size_mb": 1} if kind is QuestionKind.FILE else {}
        db.session.add(
            Question(category=category, kind=kind, label=label, position=position, options=options)
        )
    admin = make_user("admin.itu@example.org", name="ITU Focal Point")
    grant(admin, Role.MEMBER_ADMIN, organisation=category.organisation)
    nominator = make_user("kwame@example.org", name="Kwame Mensah", language="fr")
    db.session.commit()
    return Call(category, other, admin, nominator)


def nominate(category: Category, name: str = "Green Bytes", **values) -> Nomination:
    return make_nomination(category, nominee_name=name, **values)


def login(browser, user: User) -> None:
    assert browser.login(user.email, PASSWORD).status_code == 302


def answer(nomination: Nomination, question: Question, value) -> None:
    db.session.add(Answer(nomination=nomination, question_id=question.id, value=value))


def attach(nomination: Nomination, question: Question, filename: str, content: bytes = PDF):
    """An attachment row and its stored file, as an upload leaves them."""
    from awards.uploads import upload_folder

    stored = secrets.token_hex(16)
    (upload_folder() / stored).write_bytes(content)
    attachment = Attachment(
        nomination=nomination,
        question_id=question.id,
        original_filename=filename,
        stored_name=stored,
        content_type="application/pdf",
        size_bytes=len(content),
        sha256="0" * 64,
    )
    db.session.add(attachment)
    return attachment


# --- Formula injection ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "=1+1",
        '=HYPERLINK("http://evil.example","click")',
        "+41 22 000 00 00",
        "-2+3",
        "@SUM(A1)",
        "\tfoo",
        "\rfoo",
        "   =cmd|' /C calc'!A0",
        "\n@x",
    ],
)
def test_neutralise_makes_formulas_inert(value):
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize("value", ["Green Bytes", "", "a=b", "1-2", "e-mail", "'quoted", None, 42])
def test_neutralise_leaves_harmless_values_alone(value):
    assert neutralise(value) == value


def test_csv_has_a_bom_and_neutralised_cells():
    data = to_csv(["Name", "Note"], [["Émile", "=1+1"]])
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [["Name", "Note"], ["Émile", "'=1+1"]]


def test_xlsx_writes_text_never_formulas():
    data = to_xlsx(["Name", "Note"], [["Émile", "=1+1"], ["Control\x01char", "fine"]])
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet["A1"].font.b and sheet.freeze_panes == "A2"
    assert sheet["B2"].value == "'=1+1" and sheet["B2"].data_type == "s"
    assert sheet["A3"].value == "Controlchar"
    assert sheet.column_dimensions["A"].width >= 8


# --- Duplicates ----------------------------------------------------------------------------


def test_duplicates_match_normalised_names_and_emails(call):
    category = call.category
    first = nominate(category, "Green  Bytes ")
    second = nominate(category, " green\tbytes")
    by_email = nominate(category, "Kofi Annan Foundation", nominee_email="team@kaf.example")
    same_email = nominate(category, "KAF", nominee_email=" Team@KAF.example ")
    single = nominate(category, "Repair Café")
    nominate(category, "Circuit", state=NominationState.WITHDRAWN)
    nominate(category, "circuit", state=NominationState.DRAFT)
    nominate(call.other, "Repair Café")
    db.session.commit()
    assert screening.duplicate_ids(category) == {first.id, second.id, by_email.id, same_email.id}
    assert single.id not in screening.duplicate_ids(category)
    assert [n.id for n in screening.duplicates_of(first)] == [second.id]
    assert screening.duplicates_of(single) == []


def test_duplicates_follow_edits_and_can_be_asked_for_a_page(call):
    category = call.category
    first = nominate(category, "Green Bytes")
    other = nominate(category, "Repair Café")
    db.session.commit()
    assert screening.duplicate_ids(category) == set()
    # The folded name is kept by the database: an edit through the ORM updates it.
    other.nominee_name = "  GREEN   bytes"
    db.session.commit()
    assert screening.duplicate_ids(category) == {first.id, other.id}
    table = screening.table_query(category, screening.TableQuery.from_args({}))
    flags = {n.id: n.possible_duplicate for n in db.session.execute(table)}
    assert flags == {first.id: True, other.id: True}
    single = nominate(category, "Circuit")
    db.session.commit()
    flags = {n.id: n.possible_duplicate for n in db.session.execute(table)}
    assert flags == {first.id: True, other.id: True, single.id: False}
    assert [n.id for n in screening.duplicates_of(other)] == [first.id]


def test_withdrawn_and_drafts_never_make_a_duplicate(call):
    lone = nominate(call.category, "Green Bytes")
    nominate(call.category, "Green Bytes", state=NominationState.WITHDRAWN)
    nominate(call.category, "green bytes", state=NominationState.DRAFT)
    db.session.commit()
    assert screening.duplicate_ids(call.category) == set()
    assert screening.duplicates_of(lone) == []


# --- The table's query ---------------------------------------------------------------------


def listed(category, **args) -> list[str]:
    table = screening.TableQuery.from_args(args)
    rows = db.session.execute(screening.table_query(category, table))
    return [n.nominee_name for n in rows]


@pytest.fixture
def table_rows(call):
    now = utcnow()
    rows = [
        ("Bravo", NominationState.SUBMITTED, "KE", "en", "", 3),
        ("alpha", NominationState.ELIGIBLE, "FR", "fr", "Circuit Co", 1),
        ("Charlie", NominationState.INELIGIBLE, "KE", "en", "100% Reuse", 2),
        ("Delta", NominationState.WITHDRAWN, None, "es", "", 4),
    ]
    for name, state, country, language, organisation, hours_ago in rows:
        nomination = nominate(
            call.category,
            name,
            state=state,
            nominee_country=country,
            language=language,
            nominee_organisation=organisation,
        )
        nomination.submitted_at = now - timedelta(hours=hours_ago)
    nominate(call.category, "Draft Echo", state=NominationState.DRAFT)
    never_submitted = nominate(call.category, "Foxtrot", state=NominationState.WITHDRAWN)
    never_submitted.submitted_at = None
    nominate(call.other, "Other category")
    db.session.commit()
    return call.category


def test_table_lists_only_submitted_nominations_in_reference_order(table_rows):
    assert listed(table_rows) == ["Bravo", "alpha", "Charlie", "Delta"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"state": "eligible"}, ["alpha"]),
        ({"state": "withdrawn"}, ["Delta"]),
        ({"state": "draft"}, ["Bravo", "alpha", "Charlie", "Delta"]),  # drafts are never shown
        ({"q": "ALPHA"}, ["alpha"]),
        ({"q": "circuit"}, ["alpha"]),
        ({"q": "EWA27-ITU-0003"}, ["Charlie"]),
        ({"q": "100%"}, ["Charlie"]),
        ({"q": "%"}, ["Charlie"]),  # a literal percent sign, not a wildcard
        ({"q": "echo"}, []),
        ({"country": "ke"}, ["Bravo", "Charlie"]),
        ({"language": "fr"}, ["alpha"]),
        ({"state": "submitted", "country": "KE"}, ["Bravo"]),
    ],
)
def test_table_filters(table_rows, args, expected):
    assert listed(table_rows, **args) == expected


@pytest.mark.parametrize(
    ("sort", "direction", "expected"),
    [
        ("reference", "desc", ["Delta", "Charlie", "alpha", "Bravo"]),
        ("nominee", "asc", ["alpha", "Bravo", "Charlie", "Delta"]),
        ("nominee", "desc", ["Delta", "Charlie", "Bravo", "alpha"]),
        ("submitted", "asc", ["Delta", "Bravo", "Charlie", "alpha"]),
        ("submitted", "desc", ["alpha", "Charlie", "Bravo", "Delta"]),
        ("state", "asc", ["alpha", "Charlie", "Bravo", "Delta"]),
    ],
)
def test_table_sorts(table_rows, sort, direction, expected):
    assert listed(table_rows, sort=sort, dir=direction) == expected


def test_unknown_table_values_are_ignored(table_rows):
    junk = {"state": "nonsense", "country": "XX", "language": "tlh", "sort": "id;drop", "dir": "up"}
    assert screening.TableQuery.from_args(junk) == screening.TableQuery()
    assert listed(table_rows, **junk) == ["Bravo", "alpha", "Charlie", "Delta"]


@pytest.mark.parametrize(
    ("args", "total"),
    [
        ({}, 4),
        ({"state": "eligible"}, 1),
        ({"state": "withdrawn"}, 1),  # the one never submitted is not shown
        ({"state": "shortlisted"}, 0),
        ({"state": "submitted", "country": "KE"}, None),
        ({"q": "alpha"}, None),
        ({"language": "fr"}, None),
        ({"duplicates": "1"}, None),
    ],
)
def test_kept_facets_count_the_table_unless_it_is_filtered(table_rows, args, total):
    table = screening.TableQuery.from_args(args)
    assert screening.table_facets(table_rows).total(table) == total
    if total is not None:
        assert total == len(listed(table_rows, **args))


def test_kept_facets_change_with_a_country_or_a_state(table_rows):
    facets = screening.table_facets(table_rows)
    assert facets.countries == ("FR", "KE")  # not the draft's, the other category's, or None
    assert facets is screening.table_facets(table_rows)  # kept while nothing changes
    bravo = db.session.execute(
        select(Nomination).where(Nomination.nominee_name == "Bravo")
    ).scalar_one()
    bravo.nominee_country = "BR"
    db.session.commit()
    assert screening.table_facets(table_rows).countries == ("BR", "FR", "KE")
    bravo.state = NominationState.ELIGIBLE
    db.session.commit()
    states = screening.table_facets(table_rows).states
    assert states[NominationState.ELIGIBLE] == 2 and NominationState.SUBMITTED not in states


def test_duplicates_only_filter(call):
    nominate(call.category, "Green Bytes")
    nominate(call.category, "Solo")
    nominate(call.category, "GREEN BYTES")
    db.session.commit()
    assert listed(call.category, duplicates="1") == ["Green Bytes", "GREEN BYTES"]


# --- Who may see the pages -----------------------------------------------------------------


def _urls(call: Call, nomination: Nomination) -> list[str]:
    return [
        call.url(),
        call.url(f"/{nomination.id}"),
        call.url(".csv"),
        call.url(".xlsx"),
        f"/manage/categories/{call.category.id}/attachments.zip",
    ]


@pytest.mark.parametrize("who", ["anonymous", "nominator", "reviewer", "other_admin"])
def test_people_without_the_right_are_refused(browser, call, who):
    nomination = nominate(call.category, nominator=call.nominator)
    if who == "reviewer":
        person = make_user()
        grant(person, Role.REVIEWER, category=call.category)
    elif who == "other_admin":
        person = make_user()
        grant(person, Role.MEMBER_ADMIN, organisation=call.other.organisation)
    else:
        person = call.nominator
    db.session.commit()
    if who != "anonymous":
        login(browser, person)
    for url in _urls(call, nomination):
        response = browser.get(url)
        if who == "anonymous":
            assert response.status_code == 302, url
            assert "/account/login" in response.headers["Location"]
        else:
            assert response.status_code == 403, url
    response = browser.post(call.url(f"/{nomination.id}/screen"), {"decision": "eligible"})
    assert response.status_code == (302 if who == "anonymous" else 403)
    assert db.session.get(Nomination, nomination.id).state is NominationState.SUBMITTED


@pytest.mark.parametrize("who", ["admin", "secretariat"])
def test_own_administrator_and_secretariat_may_see(browser, call, who):
    nomination = nominate(call.category)
    person = call.admin
    if who == "secretariat":
        person = make_user()
        grant(person, Role.SECRETARIAT)
    db.session.commit()
    login(browser, person)
    for url in _urls(call, nomination):
        assert browser.get(url).status_code == 200, url


def test_dashboard_links_to_the_nominations_table(browser, call):
    login(browser, call.admin)
    page = browser.get("/dashboard/").get_data(as_text=True)
    assert f'href="{call.url()}"' in page


def test_drafts_and_other_categories_are_not_found(browser, call):
    draft = nominate(call.category, "Secret Draft", state=NominationState.DRAFT)
    withdrawn_draft = nominate(call.category, "Withdrawn Draft", state=NominationState.WITHDRAWN)
    withdrawn_draft.submitted_at = None
    elsewhere = nominate(call.other, "Elsewhere")
    db.session.commit()
    login(browser, call.admin)
    page = browser.get(call.url()).get_data(as_text=True)
    assert "Secret Draft" not in page and "Withdrawn Draft" not in page
    assert "No nomination has been submitted yet." in page
    for nomination in (draft, withdrawn_draft, elsewhere):
        assert browser.get(call.url(f"/{nomination.id}")).status_code == 404
        response = browser.post(call.url(f"/{nomination.id}/screen"), {"decision": "eligible"})
        assert response.status_code == 404
    assert browser.get(call.url("/999999")).status_code == 404
    assert browser.get("/manage/categories/999999/nominations").status_code == 404


# --- The table page ------------------------------------------------------------------------


def test_table_rows_escape_what_people_typed_and_read_in_the_readers_language(browser, call):
    """The rows are written in Python: names and organisations are escaped there; countries,
    languages, dates and states are the reader's."""
    hostile = nominate(
        call.category,
        "<script>alert(1)</script>",
        nominee_organisation='Repair & "Reuse"',
        nominee_country="CI",
        language="fr",
    )
    nominate(call.category, "Plain", nominee_organisation="", nominee_country=None)
    db.session.commit()
    call.admin.language, call.admin.timezone = "fr", "Europe/Paris"
    db.session.commit()
    login(browser, call.admin)
    page = browser.get(call.url()).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    row = page[page.index("&lt;script&gt;alert(1)&lt;/script&gt;") :]
    row = row[: row.index("</tr>")]
    assert "Repair &amp; &#34;Reuse&#34;" in row and "<td>Côte d’Ivoire</td>" in row
    assert "<td>Français</td>" in row and "(Europe/Paris)</td>" in row
    assert f'href="{call.url(f"/{hostile.id}")}"' in page
    assert "Soumise" in row  # the state, in French
    plain = page[page.index(">Plain<") :]
    plain = plain[: plain.index("</tr>")]
    assert plain.count("<td>—</td>") == 1 and '<td dir="auto">—</td>' in plain


def test_table_page_shows_filters_sorting_and_duplicates(browser, call):
    first = nominate(call.category, "Green Bytes", nominee_country="KE")
    nominate(call.category, "green bytes")
    nominate(call.category, "Solo")
    db.session.commit()
    login(browser, call.admin)
    response = browser.get(call.url("?sort=nominee&dir=desc&state=bogus&country=ZZ&page=abc"))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.count("<h1") == 1 and "<caption>" in page and 'scope="col"' in page
    assert 'aria-sort="descending"' in page and page.count("aria-sort=") == 1
    assert page.count("Possible duplicate</span>") == 2
    assert 'for="q"' in page and 'for="state"' in page and 'for="country"' in page
    assert "Kenya" in page  # the country filter offers the countries present
    assert f"{call.url(f'/{first.id}')}" in page
    # The heading of the sorted column turns the order round; the others start ascending.
    assert "sort=nominee&amp;dir=asc" in page and "sort=reference&amp;dir=asc" in page


def test_table_pages_by_fifty(browser, call):
    now = utcnow()
    db.session.execute(
        insert(Nomination),
        [
            {
                "reference": f"EWA27-ITU-{number:04d}",
                "number": number,
                "category_id": call.category.id,
                "nominator_id": call.nominator.id,
                "state": NominationState.SUBMITTED,
                "nominee_name": f"Nominee {number:03d}",
                "submitted_at": now,
                "version": 1,
            }
            for number in range(1, 121)
        ],
    )
    db.session.commit()
    login(browser, call.admin)
    first = browser.get(call.url()).get_data(as_text=True)
    assert "120 nominations" in first and "Page 1 of 3" in first
    assert "Nominee 050" in first and "Nominee 051" not in first
    assert "page=2" in first
    last = browser.get(call.url("?page=3&sort=reference&dir=asc")).get_data(as_text=True)
    assert "Nominee 101" in last and "Nominee 120" in last and "Nominee 100" not in last
    assert "Page 3 of 3" in last
    beyond = browser.get(call.url("?page=99")).get_data(as_text=True)
    assert "Page 3 of 3" in beyond and "Nominee 120" in beyond  # past the end: the last page
    # A filter counts in SQL; the kept counts answer only for the whole table or a state.
    filtered = browser.get(call.url("?q=Nominee+11")).get_data(as_text=True)
    assert "10 nominations" in filtered and "Nominee 119" in filtered  # 110 to 119


def test_table_page_follows_edits_to_the_kept_counts_and_countries(browser, call):
    kenyan = nominate(call.category, "Green Bytes", nominee_country="KE")
    db.session.commit()
    login(browser, call.admin)
    page = browser.get(call.url()).get_data(as_text=True)
    assert "1 nomination<" in page and "Kenya" in page and "Brazil" not in page
    # Edited before the deadline: neither the state nor anything the ranking shows changes.
    kenyan.nominee_country = "BR"
    nominate(call.category, "Solo", nominee_country="KE")
    db.session.commit()
    page = browser.get(call.url()).get_data(as_text=True)
    assert "2 nominations" in page and "Brazil" in page and "Kenya" in page
    kenyan.state = NominationState.ELIGIBLE
    db.session.commit()
    eligible = browser.get(call.url("?state=eligible")).get_data(as_text=True)
    assert "1 nomination<" in eligible and "Green Bytes" in eligible and "Solo" not in eligible


# --- The nomination page and the decision --------------------------------------------------


def test_nomination_page_shows_answers_attachments_and_duplicates(browser, call):
    nomination = nominate(call.category, "Green Bytes", nominator=call.nominator)
    other = nominate(call.category, "GREEN BYTES")
    answer(nomination, call.question(QuestionKind.SHORT_TEXT), "Refurbish to reuse")
    answer(nomination, call.question(QuestionKind.COUNTRY), "KE")
    evidence = attach(nomination, call.question(QuestionKind.FILE), "report.pdf")
    db.session.commit()
    login(browser, call.admin)
    page = browser.get(call.url(f"/{nomination.id}")).get_data(as_text=True)
    assert "Refurbish to reuse" in page and "Kenya" in page and "Kwame Mensah" in page
    link = f"/nominations/{nomination.id}/attachments/{evidence.id}"
    assert link in page and "report.pdf" in page
    assert other.reference in page and "Possible duplicate" in page
    assert 'name="decision"' in page and 'for="reason"' in page
    assert browser.get(link).data == PDF


def screen(browser, call, nomination, decision, reason=""):
    url = call.url(f"/{nomination.id}")
    return browser.post(
        url + "/screen", {"decision": decision, "reason": reason, "submit": "1"}, page=url
    )


def test_marking_eligible(browser, call):
    nomination = nominate(call.category, nominator=call.nominator)
    db.session.commit()
    login(browser, call.admin)
    response = screen(browser, call, nomination, "eligible")
    assert response.status_code == 302
    nomination = db.session.get(Nomination, nomination.id)
    assert nomination.state is NominationState.ELIGIBLE
    event = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "nomination.eligible")
    ).scalar_one()
    assert event.actor_id == call.admin.id and event.object_id == nomination.id
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "is marked eligible" in page


def test_ineligible_needs_a_reason(browser, call):
    nomination = nominate(call.category, nominator=call.nominator)
    db.session.commit()
    login(browser, call.admin)
    response = screen(browser, call, nomination, "ineligible", "   ")
    assert response.status_code == 200
    assert "Give the reason" in response.get_data(as_text=True)
    assert db.session.get(Nomination, nomination.id).state is NominationState.SUBMITTED
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0
    assert (
        db.session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action.startswith("nomination."))
        )
        == 0
    )
    with pytest.raises(screening.ScreeningError):
        screening.screen(nomination, False, "", call.admin)


def test_ineligible_tells_the_nominator_once_by_email(browser, call, smtp):
    nomination = nominate(call.category, nominator=call.nominator)
    db.session.commit()
    login(browser, call.admin)
    reason = "The initiative started after the eligibility date."
    assert screen(browser, call, nomination, "ineligible", reason).status_code == 302
    # Sending the same decision again changes nothing and queues nothing more.
    screen(browser, call, nomination, "ineligible", reason)
    nomination = db.session.get(Nomination, nomination.id)
    assert nomination.state is NominationState.INELIGIBLE
    assert nomination.screening_reason == reason
    messages = list(db.session.execute(select(OutboxMessage)).scalars())
    assert len(messages) == 1
    assert messages[0].key.startswith(f"nomination-ineligible:{nomination.id}:")
    assert messages[0].to_address == "kwame@example.org"
    assert (
        db.session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action == "nomination.ineligible")
        )
        == 1
    )
    assert outbox.deliver_due().sent == 1
    received = smtp.to("kwame@example.org")
    assert len(received) == 1
    assert nomination.reference in received[0]["Subject"]
    assert reason in smtp.text_of(received[0])


def test_decision_can_be_reversed_and_a_second_refusal_is_emailed_again(call):
    nomination = nominate(call.category, nominator=call.nominator)
    db.session.commit()
    screening.screen(nomination, False, "Too late.", call.admin)
    db.session.commit()
    screening.screen(nomination, True, "Checked again: in time.", call.admin)
    db.session.commit()
    screening.screen(nomination, False, "Outside the theme.", call.admin)
    db.session.commit()
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 2
    assert nomination.screening_reason == "Outside the theme."


def test_withdrawn_nominations_cannot_be_screened(browser, call):
    nomination = nominate(call.category, state=NominationState.WITHDRAWN)
    db.session.commit()
    login(browser, call.admin)
    page = browser.get(call.url(f"/{nomination.id}")).get_data(as_text=True)
    assert "can no longer be screened" in page and 'name="decision"' not in page
    response = screen(browser, call, nomination, "eligible")
    assert response.status_code == 302
    assert db.session.get(Nomination, nomination.id).state is NominationState.WITHDRAWN


# --- Exports -------------------------------------------------------------------------------


@pytest.fixture
def exported(call):
    """Two submitted nominations with answers (one hostile), a file, and a hidden draft."""
    hostile = nominate(
        call.category, "Émile Zola SARL", nominator=call.nominator, nominee_email="ez@example.org"
    )
    answer(hostile, call.question(QuestionKind.SHORT_TEXT), '=HYPERLINK("http://evil","x")')
    answer(hostile, call.question(QuestionKind.LONG_TEXT), "Réparer, réutiliser.")
    answer(hostile, call.question(QuestionKind.COUNTRY), "SN")
    attach(hostile, call.question(QuestionKind.FILE), "rapport.pdf")
    plain = nominate(call.category, "Green Bytes", state=NominationState.INELIGIBLE)
    plain.screening_reason = "Outside the theme."
    answer(plain, call.question(QuestionKind.SHORT_TEXT), "Laptops for schools")
    nominate(call.category, "Secret Draft", state=NominationState.DRAFT)
    db.session.commit()
    return call


def test_csv_export(browser, exported):
    login(browser, exported.admin)
    response = browser.get(exported.url(".csv"))
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and "EWA27-itu-award-nominations.csv" in disposition
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert [row["Reference"] for row in rows] == ["EWA27-ITU-0001", "EWA27-ITU-0002"]
    first, second = rows
    assert first["Title of the initiative"] == '\'=HYPERLINK("http://evil","x")'
    assert first["Summary"] == "Réparer, réutiliser."
    assert first["Country of work"] == "Senegal"
    assert first["Evidence"] == "rapport.pdf"
    assert first["Nominator email"] == "kwame@example.org"
    assert first["Nominee name"] == "Émile Zola SARL"
    assert first["Submitted at (UTC)"].endswith("+00:00")
    assert second["State"] == "ineligible" and second["Screening reason"] == "Outside the theme."
    assert "Secret Draft" not in response.data.decode("utf-8-sig")


def test_xlsx_export(browser, exported):
    login(browser, exported.admin)
    response = browser.get(exported.url(".xlsx"))
    assert response.status_code == 200
    assert "EWA27-itu-award-nominations.xlsx" in response.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    header = [cell.value for cell in sheet[1]]
    assert header[0] == "Reference" and sheet["A1"].font.b and sheet.freeze_panes == "A2"
    column = header.index("Title of the initiative") + 1
    cell = sheet.cell(row=2, column=column)
    assert cell.value == '\'=HYPERLINK("http://evil","x")' and cell.data_type == "s"
    assert sheet.cell(row=2, column=header.index("Nominee name") + 1).value == "Émile Zola SARL"
    assert sheet.max_row == 3


def test_zip_export_has_safe_unique_names(browser, exported):
    nomination = db.session.execute(select(Nomination).where(Nomination.number == 1)).scalar_one()
    evidence = exported.question(QuestionKind.FILE)
    attach(nomination, evidence, "rapport.pdf", PDF + b"second")
    attach(nomination, evidence, "../../etc/passwd.pdf")
    attach(nomination, evidence, "..")
    missing = attach(nomination, evidence, "gone.pdf")
    db.session.commit()
    from awards.uploads import stored_path

    stored_path(missing).unlink()
    login(browser, exported.admin)
    response = browser.get(f"/manage/categories/{exported.category.id}/attachments.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert "EWA27-itu-award-attachments.zip" in response.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = archive.namelist()
    assert sorted(names) == sorted(
        [
            "EWA27-ITU-0001/rapport.pdf",
            "EWA27-ITU-0001/rapport (2).pdf",
            "EWA27-ITU-0001/passwd.pdf",
            "EWA27-ITU-0001/file",
            "missing-files.txt",
        ]
    )
    assert all(".." not in name and not name.startswith("/") for name in names)
    assert archive.read("EWA27-ITU-0001/rapport.pdf") == PDF
    assert archive.read("EWA27-ITU-0001/rapport (2).pdf") == PDF + b"second"
    assert "EWA27-ITU-0001/gone.pdf" in archive.read("missing-files.txt").decode()


def test_uploaded_file_reaches_the_zip(browser, call):
    """A file sent through the nominator's own form, end to end."""
    nomination = nominate(call.category, nominator=call.nominator)
    db.session.commit()
    login(browser, call.nominator)
    url = f"/nominations/{nomination.id}/edit"
    data = {
        "self_nomination": "self",
        "nominee_name": "Green Bytes",
        "nominee_country": "KE",
        "language": "en",
        "save": "1",
        f"q-{call.question(QuestionKind.FILE).id}": (io.BytesIO(PDF), "my report.pdf"),
    }
    response = browser.post(url, data, page=url, content_type="multipart/form-data")
    assert response.status_code in (200, 302)
    browser.logout()
    login(browser, call.admin)
    response = browser.get(f"/manage/categories/{call.category.id}/attachments.zip")
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert archive.namelist() == ["EWA27-ITU-0001/my report.pdf"]
    assert archive.read("EWA27-ITU-0001/my report.pdf") == PDF
