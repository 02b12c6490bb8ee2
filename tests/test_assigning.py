"""Assigning reviewers on the database: plan, approve, manual changes and reminders."""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select

from awards import assigning, conflicts, outbox
from awards.extensions import db
from awards.models import (
    Assignment,
    AuditEvent,
    Category,
    CategoryState,
    NominationState,
    OutboxMessage,
    Review,
    ReviewState,
    Role,
    RoleGrant,
    User,
    utcnow,
)

from .factories import (
    PASSWORD,
    assign,
    conflict,
    grant,
    make_category,
    make_edition,
    make_nomination,
    make_org,
    make_user,
)


@dataclass
class Committee:
    category: Category
    admin: User
    reviewers: list[User]
    nominations: list

    @property
    def url(self) -> str:
        return f"/manage/categories/{self.category.id}/assignments"


def setup_committee(reviewer_count: int = 4, nomination_count: int = 6, k: int = 2) -> Committee:
    now = utcnow()
    edition = make_edition(
        opens=now - timedelta(days=60),
        nominations_close_at=now - timedelta(days=5),
        reviews_close_at=now + timedelta(days=30),
    )
    org = make_org("ITU", name="International Telecommunication Union")
    category = make_category(
        org, edition, state=CategoryState.IN_REVIEW, reviewers_per_nomination=k
    )
    admin = make_user("admin.itu@example.org", name="ITU Focal Point")
    grant(admin, Role.MEMBER_ADMIN, organisation=org)
    reviewers = []
    for index in range(reviewer_count):
        reviewer = make_user(f"reviewer{index}@example.org", name=f"Reviewer {index}")
        grant(reviewer, Role.REVIEWER, category=category)
        reviewers.append(reviewer)
    nominations = [
        make_nomination(category, state=NominationState.ELIGIBLE, nominee_name=f"Nominee {i}")
        for i in range(nomination_count)
    ]
    db.session.commit()
    return Committee(category, admin, reviewers, nominations)


def submit_review(assignment: Assignment, state=ReviewState.SUBMITTED) -> Review:
    review = Review(
        assignment=assignment,
        state=state,
        submitted_at=utcnow() if state is ReviewState.SUBMITTED else None,
    )
    db.session.add(review)
    db.session.flush()
    return review


def pairs_in_db(category: Category) -> set[tuple[int, int]]:
    return set(db.session.execute(select(Assignment.nomination_id, Assignment.reviewer_id)).all())


def login(browser, user: User) -> None:
    assert browser.login(user.email, PASSWORD).status_code == 302


# --- plan ----------------------------------------------------------------------------------


def test_plan_respects_declared_and_detected_conflicts_k_and_balance():
    c = setup_committee(reviewer_count=4, nomination_count=6, k=2)
    declared = conflict(c.reviewers[0], c.nominations[0])
    # Detected: the reviewer works for the nominee's organisation.
    partner = make_org("WORKS", name="Circular Works Ltd")
    c.reviewers[1].organisation = partner
    c.nominations[1].nominee_organisation = "Circular Works Ltd"
    db.session.commit()

    proposal = assigning.plan(c.category)
    db.session.commit()

    assert proposal.feasible
    pairs = set(proposal.pairs)
    assert (declared.nomination_id, declared.reviewer_id) not in pairs
    assert (c.nominations[1].id, c.reviewers[1].id) not in pairs
    detected = db.session.execute(
        select(func.count())
        .select_from(conflicts.Conflict)
        .where(conflicts.Conflict.source == conflicts.ConflictSource.DETECTED)
    ).scalar()
    assert detected == 1
    per_nomination = Counter(nid for nid, _rid in pairs)
    assert set(per_nomination.values()) == {2} and len(per_nomination) == 6
    loads = Counter(rid for _nid, rid in pairs)
    assert set(loads.values()) == {3}  # 12 reviews over 4 reviewers
    assert pairs_in_db(c.category) == set()  # planning writes no assignment


def unnotified() -> int:
    return db.session.scalar(
        select(func.count()).select_from(Assignment).where(Assignment.notified_at.is_(None))
    )


def assignment_notices() -> list[OutboxMessage]:
    return list(
        db.session.execute(
            select(OutboxMessage).where(OutboxMessage.template == "assignments")
        ).scalars()
    )


def test_apply_writes_rows_and_the_worker_tells_each_reviewer_once(app):
    c = setup_committee()
    proposal = assigning.plan(c.category)
    change = assigning.apply(c.category, proposal.pairs, c.admin)
    db.session.commit()

    assert len(change.added) == 12
    assert pairs_in_db(c.category) == set(proposal.pairs)
    # Approving writes the rows; the notices wait for the worker's round.
    assert unnotified() == 12 and assignment_notices() == []
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "assignments.saved")
        )
        == 1
    )
    # A second approval of the same proposal doubles nothing.
    again = assigning.apply(c.category, proposal.pairs, c.admin)
    assert again.added == [] and len(again.skipped) == 12
    db.session.commit()

    assert assigning.notify_new_assignments() == len(c.reviewers)
    db.session.commit()
    assert unnotified() == 0
    messages = assignment_notices()
    assert sorted(m.to_address for m in messages) == sorted(r.email for r in c.reviewers)
    for message in messages:
        reviewer = next(r for r in c.reviewers if r.email == message.to_address)
        mine = [n.reference for n in c.nominations if (n.id, reviewer.id) in proposal.pairs]
        assert len(mine) == 3
        assert all(reference in message.body_text for reference in mine)
        others = [n.reference for n in c.nominations if n.reference not in mine]
        assert not any(reference in message.body_text for reference in others)
        assert "3 nominations to review for" in message.subject
        assert "/dashboard" in message.body_text or "/review/" in message.body_text
    # The next round finds nothing to tell.
    assert assigning.notify_new_assignments() == 0
    assert len(assignment_notices()) == len(c.reviewers)


def test_the_worker_tells_of_later_assignments_only_and_skips_what_it_must(app):
    c = setup_committee(reviewer_count=4, nomination_count=4, k=1)
    first, second, third, fourth = c.nominations
    assigning.add_assignments(c.category, [first.id], [c.reviewers[0].id], c.admin)
    db.session.commit()
    assert assigning.notify_new_assignments() == 1
    db.session.commit()

    # Later: two more for the same reviewer, one for a deactivated account, and one withdrawn
    # (a conflict declared) before the worker's round.
    assigning.add_assignments(c.category, [second.id, third.id], [c.reviewers[0].id], c.admin)
    assigning.add_assignments(c.category, [first.id], [c.reviewers[1].id], c.admin)
    assigning.add_assignments(c.category, [fourth.id], [c.reviewers[2].id], c.admin)
    c.reviewers[1].is_active_account = False
    db.session.commit()
    conflicts.declare(c.reviewers[2], fourth, "My former employer")
    db.session.commit()

    assert assigning.notify_new_assignments() == 1
    db.session.commit()
    assert unnotified() == 0
    notices = [m for m in assignment_notices() if m.to_address == c.reviewers[0].email]
    assert len(notices) == 2
    later = max(notices, key=lambda m: m.id)
    assert second.reference in later.body_text and third.reference in later.body_text
    assert first.reference not in later.body_text
    assert "2 nominations to review for" in later.subject
    addresses = {m.to_address for m in assignment_notices()}
    assert c.reviewers[1].email not in addresses and c.reviewers[2].email not in addresses


def test_a_second_worker_skips_the_assignments_the_first_is_announcing(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers: one worker is the rule there")
    c = setup_committee()
    assigning.apply(c.category, assigning.plan(c.category).pairs, c.admin)
    db.session.commit()
    first_read, second_done = threading.Event(), threading.Event()
    queued: dict[str, int] = {}
    waited: dict[str, bool] = {}
    failures: list[BaseException] = []

    def first() -> None:
        try:
            with app.app_context():
                queued["first"] = assigning.notify_new_assignments()
                first_read.set()
                # Keep the rows locked until the second worker has been and gone; without
                # SKIP LOCKED it would wait for these locks, and this wait would time out.
                waited["second finished while the rows were locked"] = second_done.wait(10)
                db.session.commit()
                db.session.remove()
        except BaseException as exc:  # reported below
            failures.append(exc)
            first_read.set()

    def second() -> None:
        try:
            with app.app_context():
                first_read.wait(10)
                queued["second"] = assigning.notify_new_assignments()
                db.session.commit()
                db.session.remove()
        except BaseException as exc:
            failures.append(exc)
        finally:
            second_done.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not failures, failures
    # The second did not wait for the first's locks: it found nothing of its own to send.
    assert waited == {"second finished while the rows were locked": True}
    assert queued == {"first": len(c.reviewers), "second": 0}
    db.session.expire_all()
    assert unnotified() == 0 and len(assignment_notices()) == len(c.reviewers)


def test_outbox_send_queues_the_assignment_notices_before_delivering(app):
    c = setup_committee(reviewer_count=4, nomination_count=4, k=1)
    assigning.add_assignments(c.category, [c.nominations[0].id], [c.reviewers[0].id], c.admin)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["outbox", "send"])
    assert result.exit_code == 0, result.output
    [notice] = assignment_notices()
    assert notice.to_address == c.reviewers[0].email and notice.state.value == "sent"
    assert unnotified() == 0


def test_rerun_keeps_started_reviews_and_only_fills_gaps():
    c = setup_committee(reviewer_count=4, nomination_count=4, k=2)
    submitted = assign(c.reviewers[0], c.nominations[0])
    submit_review(submitted)
    draft = assign(c.reviewers[1], c.nominations[1])
    submit_review(draft, ReviewState.DRAFT)
    db.session.commit()

    proposal = assigning.plan(c.category)
    assert proposal.kept[c.nominations[0].id] == [c.reviewers[0].id]
    assert proposal.kept[c.nominations[1].id] == [c.reviewers[1].id]
    assert len(proposal.pairs) == 8 - 2
    assigning.apply(c.category, proposal.pairs, c.admin)
    db.session.commit()

    pairs = pairs_in_db(c.category)
    assert (c.nominations[0].id, c.reviewers[0].id) in pairs
    assert (c.nominations[1].id, c.reviewers[1].id) in pairs
    assert set(Counter(nid for nid, _ in pairs).values()) == {2}
    assert db.session.get(Review, submitted.review.id).state is ReviewState.SUBMITTED
    # Nothing left to fill.
    assert assigning.plan(c.category).pairs == []


def test_stale_proposal_with_a_new_conflict_is_refused():
    c = setup_committee()
    proposal = assigning.plan(c.category)
    # A pair from the middle of the proposal: the refusal names that nomination, not the first.
    nomination_id, reviewer_id = proposal.pairs[len(proposal.pairs) // 2]
    assert nomination_id != proposal.pairs[0][0]
    declared = next(n for n in c.nominations if n.id == nomination_id)
    conflicts.declare(db.session.get(User, reviewer_id), declared, "My former employer")
    db.session.commit()

    with pytest.raises(assigning.AssigningError) as refused:
        assigning.apply(c.category, proposal.pairs, c.admin)
    assert declared.reference in str(refused.value)
    db.session.rollback()
    assert pairs_in_db(c.category) == set()


def test_stale_proposal_refused_through_the_page(browser):
    c = setup_committee()
    login(browser, c.admin)
    page = browser.post(f"{c.url}/plan", page=c.url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Approve and save" in html
    token = html.split('name="proposal" value="')[1].split('"')[0]
    nomination_id, reviewer_id = assigning.unsign_pairs(c.category, token)[0]
    conflicts.declare(
        db.session.get(User, reviewer_id),
        next(n for n in c.nominations if n.id == nomination_id),
        "Co-author",
    )
    db.session.commit()

    answer = browser.post(f"{c.url}/approve", {"proposal": token}, page=c.url)
    assert answer.status_code == 302
    assert pairs_in_db(c.category) == set()
    assert "situation changed" in browser.get(c.url).get_data(as_text=True)

    # A tampered token is refused too.
    answer = browser.post(f"{c.url}/approve", {"proposal": token + "x"}, page=c.url)
    assert pairs_in_db(c.category) == set()


def test_approve_through_the_page_saves_the_proposal(browser):
    c = setup_committee()
    login(browser, c.admin)
    html = browser.post(f"{c.url}/plan", page=c.url).get_data(as_text=True)
    token = html.split('name="proposal" value="')[1].split('"')[0]
    assert pairs_in_db(c.category) == set()  # shown, not saved
    assert browser.post(f"{c.url}/approve", {"proposal": token}, page=c.url).status_code == 302
    assert len(pairs_in_db(c.category)) == 12


def test_infeasible_plan_is_explained_nomination_by_nomination(browser):
    c = setup_committee(reviewer_count=3, nomination_count=3, k=3)
    conflict(c.reviewers[0], c.nominations[2])
    db.session.commit()
    login(browser, c.admin)
    html = browser.post(f"{c.url}/plan", page=c.url).get_data(as_text=True)
    assert "No assignment can satisfy every rule" in html
    assert c.nominations[2].reference in html
    assert "needs 3 more reviewer(s) but only 2" in html
    assert "1 conflicted" in html
    assert "Approve and save" not in html
    assert pairs_in_db(c.category) == set()


# --- manual changes ------------------------------------------------------------------------


def test_manual_add_in_bulk_refuses_conflicts():
    c = setup_committee()
    conflict(c.reviewers[1], c.nominations[0])
    change = assigning.add_assignments(
        c.category,
        [c.nominations[0].id, c.nominations[1].id],
        [c.reviewers[0].id, c.reviewers[1].id],
        c.admin,
    )
    db.session.commit()
    assert sorted(change.added) == sorted(
        [
            (c.nominations[0].id, c.reviewers[0].id),
            (c.nominations[1].id, c.reviewers[0].id),
            (c.nominations[1].id, c.reviewers[1].id),
        ]
    )
    assert [pair for pair, _why in change.refused] == [(c.nominations[0].id, c.reviewers[1].id)]
    assert (c.nominations[0].id, c.reviewers[1].id) not in pairs_in_db(c.category)
    # An outsider to the committee is refused.
    outsider = make_user()
    change = assigning.add_assignment(c.category, c.nominations[2], outsider, c.admin)
    assert change.added == [] and "not on the committee" in change.refused[0][1]


def test_manual_remove_refuses_submitted_review_unless_forced_with_reason():
    c = setup_committee()
    done = assign(c.reviewers[0], c.nominations[0])
    submit_review(done)
    assign(c.reviewers[1], c.nominations[0])
    db.session.commit()
    change = assigning.remove_assignments(
        c.category,
        [(c.nominations[0].id, c.reviewers[0].id), (c.nominations[0].id, c.reviewers[1].id)],
        c.admin,
    )
    db.session.commit()
    assert change.removed == [(c.nominations[0].id, c.reviewers[1].id)]
    assert change.refused[0][0] == (c.nominations[0].id, c.reviewers[0].id)
    with pytest.raises(assigning.AssigningError):
        assigning.remove_assignment(
            c.category, c.nominations[0], c.reviewers[0], c.admin, force=True
        )
    change = assigning.remove_assignment(
        c.category, c.nominations[0], c.reviewers[0], c.admin, force=True, reason="Left the UN"
    )
    db.session.commit()
    assert change.removed and pairs_in_db(c.category) == set()
    assert db.session.scalar(select(func.count(Review.id))) == 0


def test_manual_changes_through_the_page(browser):
    c = setup_committee()
    conflict(c.reviewers[2], c.nominations[1])
    db.session.commit()
    login(browser, c.admin)
    html = browser.get(c.url).get_data(as_text=True)
    assert c.reviewers[2].name in html  # conflicts listed
    form = {
        "nomination": [str(c.nominations[0].id), str(c.nominations[1].id)],
        "reviewer": [str(c.reviewers[0].id), str(c.reviewers[2].id)],
        "action": "add",
    }
    assert browser.post(f"{c.url}/change", form, page=c.url).status_code == 302
    assert len(pairs_in_db(c.category)) == 3
    assert "1 refused" in browser.get(c.url).get_data(as_text=True)
    form["action"] = "remove"
    browser.post(f"{c.url}/change", form, page=c.url)
    assert pairs_in_db(c.category) == set()


# --- reminders -----------------------------------------------------------------------------


def test_reminders_only_to_outstanding_reviewers_once_per_interval(app, smtp):
    c = setup_committee(reviewer_count=3, nomination_count=2, k=2)
    c.category.reminder_interval_days = 3
    outstanding_one = assign(c.reviewers[0], c.nominations[0])
    finished = assign(c.reviewers[1], c.nominations[0])
    submit_review(finished)
    draft = assign(c.reviewers[2], c.nominations[1])
    submit_review(draft, ReviewState.DRAFT)
    db.session.commit()
    assert outstanding_one.id

    now = utcnow()
    assert assigning.send_reminders(now) == 2
    db.session.commit()
    assert assigning.send_reminders(now + timedelta(hours=1)) == 0  # same interval
    db.session.commit()
    outbox.deliver_due()
    assert len(smtp.to(c.reviewers[0].email)) == 1
    assert len(smtp.to(c.reviewers[2].email)) == 1
    assert smtp.to(c.reviewers[1].email) == []
    assert "1 review" in smtp.text_of(smtp.to(c.reviewers[0].email)[0])

    # The next interval reminds again; closed reviews never do.
    assert assigning.send_reminders(now + timedelta(days=3)) == 2
    db.session.commit()
    assert assigning.send_reminders(now + timedelta(days=40)) == 0


def test_no_reminders_without_interval():
    c = setup_committee()
    assign(c.reviewers[0], c.nominations[0])
    db.session.commit()
    assert assigning.send_reminders() == 0


def test_reminder_command_runs(app):
    c = setup_committee()
    c.category.reminder_interval_days = 7
    assign(c.reviewers[0], c.nominations[0])
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["reviews", "remind"])
    assert result.exit_code == 0, result.output
    assert "1 reminder(s) queued" in result.output
    message = db.session.execute(select(OutboxMessage)).scalar_one()
    assert message.to_address == c.reviewers[0].email
    assert message.template == "review_reminder"


@pytest.mark.parametrize(
    ("nominations", "said"),
    [
        (6, "Every reviewer ends with 3 reviews."),  # 12 assignments, 4 reviewers
        (5, "Every reviewer ends with 2 to 3 reviews."),  # 10 assignments
    ],
)
def test_the_proposal_states_the_loads_plainly(browser, nominations, said):
    c = setup_committee(nomination_count=nominations)
    login(browser, c.admin)
    html = browser.post(f"{c.url}/plan", page=c.url).get_data(as_text=True)
    assert said in html


def test_the_page_offers_the_least_loaded_members_and_finds_the_others(browser, monkeypatch):
    from awards.views import committee

    monkeypatch.setattr(committee, "MEMBER_CHOICES", 2)
    c = setup_committee(reviewer_count=4)
    assign(c.reviewers[0], c.nominations[0])
    assign(c.reviewers[0], c.nominations[1])
    assign(c.reviewers[1], c.nominations[0])
    db.session.commit()
    login(browser, c.admin)

    def offered(url: str) -> tuple[list[int], str]:
        html = browser.get(url).get_data(as_text=True)
        return [int(v) for v in re.findall(r'name="reviewer" value="(\d+)"', html)], html

    ids, html = offered(c.url)
    assert ids == [c.reviewers[2].id, c.reviewers[3].id]  # none assigned yet, then by name
    assert "The 2 least loaded are shown; search by name or email for the others." in html
    # The search is a form of its own (forms cannot nest), kept with the nominations' filter.
    assert 'form="member-search"' in html and 'id="member-search"' in html
    ids, html = offered(f"{c.url}?missing=1&q=REVIEWER0@")
    assert ids == [c.reviewers[0].id] and "1 member matches “REVIEWER0@”." in html
    assert "(2 assigned)" in html and 'name="missing" value="1"' in html
    ids, html = offered(f"{c.url}?q=nobody")
    assert ids == [] and "No committee member matches." in html
    ids, html = offered(f"{c.url}?q={'x' * 300}")
    assert "is-invalid" in html and ids == [c.reviewers[2].id, c.reviewers[3].id]


def test_the_page_names_every_assigned_reviewer_even_one_off_the_committee(browser):
    c = setup_committee(reviewer_count=3)
    assign(c.reviewers[0], c.nominations[0])
    assign(c.reviewers[1], c.nominations[0])
    # Reviewer 1 leaves the committee: the assignment stays, and so does the name on the page.
    db.session.execute(delete(RoleGrant).where(RoleGrant.user_id == c.reviewers[1].id))
    db.session.commit()
    login(browser, c.admin)
    # The names come from the committee's rows where they can, read apart otherwise: without
    # a search, and with one that finds neither of the two.
    for url in (c.url, f"{c.url}?q=Reviewer+2"):
        html = browser.get(url).get_data(as_text=True)
        row = html[html.index("Nominee 0") :]
        row = row[: row.index("</tr>")]
        assert "Reviewer 0" in row and "Reviewer 1" in row


def test_the_page_shows_each_rows_reviews_gaps_and_conflicts_escaped(browser):
    """The table's rows and the member boxes are written in Python: what people typed is
    escaped, each review's state and each nomination's gap and conflicts are shown."""
    c = setup_committee(reviewer_count=3, k=3)
    c.reviewers[0].name = "<i>Ada</i> & Co"
    c.nominations[0].nominee_name = '<script>"x"</script>'
    first = assign(c.reviewers[0], c.nominations[0])
    submit_review(first)
    draft = assign(c.reviewers[1], c.nominations[0])
    submit_review(draft, ReviewState.DRAFT)
    assign(c.reviewers[2], c.nominations[1])
    conflict(c.reviewers[2], c.nominations[0])
    db.session.commit()
    login(browser, c.admin)
    html = browser.get(c.url).get_data(as_text=True)
    assert "<i>Ada</i>" not in html and '<script>"x"</script>' not in html
    row = html[html.index("&lt;script&gt;&#34;x&#34;&lt;/script&gt;") :]
    row = row[: row.index("</tr>")]
    assert "<li>&lt;i&gt;Ada&lt;/i&gt; &amp; Co — submitted</li>" in row
    assert "<li>Reviewer 1 — draft</li>" in row
    assert "1 reviewer missing" in row and "<td>Reviewer 2</td>" in row
    row = html[html.index("Nominee 1") :]
    row = row[: row.index("</tr>")]
    assert "<li>Reviewer 2 — not started</li>" in row and "2 reviewers missing" in row
    assert '<span class="text-body-secondary">none</span>' in row
    boxes = re.findall(r'<label class="form-check-label" for="reviewer-\d+">([^<]*)</label>', html)
    assert sorted(boxes) == [
        "&lt;i&gt;Ada&lt;/i&gt; &amp; Co (1 assigned)",
        "Reviewer 1 (1 assigned)",
        "Reviewer 2 (1 assigned)",
    ]


def test_the_page_counts_and_pages_the_nominations_to_assign(browser, monkeypatch):
    from awards.views import committee

    monkeypatch.setattr(committee, "ASSIGNMENTS_PER_PAGE", 4)
    c = setup_committee(reviewer_count=2, nomination_count=6, k=2)
    for reviewer in c.reviewers:
        assign(reviewer, c.nominations[0])
    db.session.commit()
    login(browser, c.admin)

    def shown(url: str) -> str:
        return browser.get(url).get_data(as_text=True)

    first = shown(c.url)
    assert "6 nominations" in first and "Page 1 of 2" in first and "Nominee 3" in first
    last = shown(f"{c.url}?page=9")  # past the end: the last page
    assert "Page 2 of 2" in last and "Nominee 5" in last and "Nominee 3" not in last
    # Counted in SQL when filtered: the first nomination has its two reviewers.
    missing = shown(f"{c.url}?missing=1")
    assert "5 nominations" in missing and "Nominee 0<" not in missing
    # The kept count follows a nomination that leaves the review.
    c.nominations[5].state = NominationState.WITHDRAWN
    db.session.commit()
    assert "5 nominations" in shown(c.url) and "Page 1 of 2" in shown(c.url)
